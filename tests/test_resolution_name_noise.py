"""The generator's realistic person-name noise (``generate --name-noise``) and resolution under it."""

from __future__ import annotations

import unicodedata

import polars as pl
import pytest
from pypinyin import lazy_pinyin

from credgraph.loaders import load_specs
from credgraph.resolution import evaluate, resolve
from credgraph.synth import generate_city


@pytest.fixture(scope="module")
def noisy(tmp_path_factory):
    root = tmp_path_factory.mktemp("noisy")
    generate_city(root / "city", entities=600, seed=11, name_noise=0.15)
    load_specs(sorted((root / "city" / "specs").glob("*.toml")), root / "ws")
    records = pl.read_parquet(root / "ws" / "records" / "records.parquet")
    return root, records, resolve(records)


def test_noise_is_written_and_tagged(noisy):
    root, records, _ = noisy
    truth = pl.read_parquet(root / "city" / "truth" / "mentions.parquet")
    for tag in ("shape_char", "dropped_char", "romanised"):
        assert truth["noise"].str.contains(tag).sum() >= 10, tag
    # A romanised name is the true name in pinyin (pypinyin, independent of the resolver), in either order.
    ents = pl.read_parquet(root / "city" / "truth" / "entities.parquet").filter(pl.col("type") == "natural")
    pinyin = {"".join(lazy_pinyin(n)).lower() for n in ents["name"].to_list()}
    names = pl.concat([records["subject_name"], records["object_name"]]).drop_nulls()
    # Foreign nationals' Latin names (synth/foreign.py) are not romanised Chinese: leave them out by family name.
    foreign = {unicodedata.normalize("NFKD", n.split(" ")[-1]).encode("ascii", "ignore").decode().lower() for n in
               pl.read_parquet(root / "city" / "truth" / "entities.parquet").filter(
                   pl.col("nationality").fill_null("CN") != "CN")["name"].to_list()}
    latin = [n for n in names.to_list() if n.isascii() and " " in n
             and not foreign & {t.strip(",").lower() for t in n.split(" ")}]
    assert len(latin) >= 10
    def both_orders(n):
        a, b = n.lower().split(" ", 1)
        return {a + b, b + a}
    assert sum(bool(both_orders(n) & pinyin) for n in latin) / len(latin) >= 0.95


def test_persons_resolve_under_name_noise(noisy):
    root, _, res = noisy
    ev = evaluate(res, root / "city" / "truth")
    nat = ev.by_type["natural"]
    assert nat["pairwise_precision"] >= 0.99 and nat["pairwise_f1"] >= 0.95, nat
    assert ev.by_class["romanised"]["pairwise_recall"] >= 0.85
    assert ev.by_type["legal"]["pairwise_f1"] >= 0.99 and ev.branch_parent_merges == 0
