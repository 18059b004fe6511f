"""End to end on a small generated city: ground truth, hard cases, incremental runs."""

from __future__ import annotations

import polars as pl
import pytest

from credgraph.loaders import load_specs
from credgraph.resolution import evaluate, resolve
from credgraph.synth import generate_city


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    root = tmp_path_factory.mktemp("city")
    generate_city(root / "city", entities=600, seed=11)
    load_specs(sorted((root / "city" / "specs").glob("*.toml")), root / "ws")
    records = pl.read_parquet(root / "ws" / "records" / "records.parquet")
    return root, records, resolve(records)


def test_targets_on_the_generated_city(city):
    root, records, res = city
    ev = evaluate(res, root / "city" / "truth")
    assert ev.unmatched_mentions == 0 and ev.matched_mentions == res.assignments.height
    legal, natural = ev.by_type["legal"], ev.by_type["natural"]
    assert legal["pairwise_f1"] >= 0.99 and legal["bcubed_f1"] >= 0.99
    assert natural["pairwise_precision"] >= 0.99  # persons: precision first
    assert natural["pairwise_f1"] >= 0.95  # the benchmark's target (0.97) is measured on the default city
    assert ev.branch_parent_merges == 0 and ev.multi_uscc_clusters == 0
    for c in ("traditional", "bracket_region", "missing_region", "form_variant", "fullwidth"):
        if ev.by_class[c].get("mentions"):
            assert ev.by_class[c]["pairwise_recall"] >= 0.95, c
    assert ev.blocking["legal"]["closure_recall"] >= 0.99


def test_every_record_lands_in_entities(city):
    _, records, res = city
    subjects = res.assignments.filter(pl.col("role") == "subject")
    assert subjects["record_id"].n_unique() == records.height
    assert res.assignments["mention_id"].n_unique() == res.assignments.height
    assert res.entities["member_count"].sum() == res.assignments.height


def test_incremental_run_matches_a_full_run(city):
    root, records, full = city
    first = resolve(records.head(records.height * 2 // 3))
    second = resolve(records, previous=first)
    moved = first.assignments.select("mention_id", pl.col("entity_id").alias("before")).join(
        second.assignments.select("mention_id", "entity_id"), on="mention_id")
    changed = moved.filter(pl.col("before") != pl.col("entity_id"))
    merged_away = set(second.events.filter(pl.col("event") == "merge")["old_id"].to_list())
    assert set(changed["before"].to_list()) <= merged_away  # ids change only by a recorded merge
    ev_incr = evaluate(second, root / "city" / "truth")
    ev_full = evaluate(full, root / "city" / "truth")
    assert ev_incr.by_type["legal"]["pairwise_f1"] >= ev_full.by_type["legal"]["pairwise_f1"] - 0.01
    assert ev_incr.multi_uscc_clusters == 0 and ev_incr.branch_parent_merges == 0
