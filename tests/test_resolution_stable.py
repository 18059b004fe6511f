"""Stable ids, incremental runs, merge/split events, judgements, saved models and outputs."""

from __future__ import annotations

import json

import polars as pl
import pytest

from credgraph.resolution import (
    JudgementError,
    ModelVersionError,
    ResolutionError,
    add_judgement,
    empty_judgements,
    load_model,
    load_resolution,
    resolve,
    save_model,
    write_resolution,
)
from credgraph.resolution.pipeline import OUTPUT_FILES
from credgraph.resolution.sample import records_frame
from valid_codes import local_uscc, with_check


U1, U2 = local_uscc("19220382"), local_uscc("55501234")
ID1 = with_check("44030119850101123")

BASE = [
    {"subject_name": "深圳市华强电子有限公司", "subject_uscc": U1, "object_name": "张伟", "object_type": "natural",
     "object_id_number": ID1, "relation": "legal_rep_of"},
    {"subject_name": "深圳市鑫源贸易有限公司", "subject_uscc": U2},
    {"subject_name": "华强电子（深圳）有限公司", "subject_type": "legal"},
]


def rows_with(*extra: dict) -> list[dict]:
    return BASE + list(extra)


def test_ids_derive_from_identifiers_and_hide_id_numbers():
    res = resolve(records_frame(BASE))
    assert res.entity_of("r000001:subject") == "L" + U1
    person = res.entity_of("r000001:object")
    assert person.startswith("N") and ID1[6:14] not in person and ID1 not in person
    assert res.entity_of("r000003:subject") == "L" + U1  # joined by name


def test_incremental_run_keeps_ids_and_scores_only_new_blocks():
    first = resolve(records_frame(BASE))
    more = records_frame(rows_with(
        {"subject_name": "深圳市華強電子有限公司", "subject_type": "legal"},
        {"subject_name": "深圳市丙丁科技有限公司", "subject_type": "legal"},
    ))
    second = resolve(more, previous=first)
    for m in first.assignments["mention_id"].to_list():
        assert second.entity_of(m) == first.entity_of(m)
    assert second.entity_of("r000004:subject") == "L" + U1
    assert second.run["run"] == 2
    new_first_seen = second.assignments.filter(pl.col("mention_id") == "r000004:subject")["first_seen"][0]
    assert new_first_seen == 2
    assert second.run["stats"]["legal"]["model_fitted"] is False  # the previous model is reused


def test_bridging_record_merges_two_old_entities_and_records_the_event():
    reg = "440301103097510"
    first = resolve(records_frame([
        {"subject_name": "深圳市华强电子有限公司", "subject_uscc": U1},
        {"subject_name": "华强电子深圳公司", "subject_type": "legal", "subject_reg_no": reg},
    ]))
    assert first.entity_of("r000001:subject") != first.entity_of("r000002:subject")
    old_reg_entity = first.entity_of("r000002:subject")
    second = resolve(records_frame([
        {"subject_name": "深圳市华强电子有限公司", "subject_uscc": U1},
        {"subject_name": "华强电子深圳公司", "subject_type": "legal", "subject_reg_no": reg},
        {"subject_name": "深圳市华强电子有限公司", "subject_uscc": U1, "subject_reg_no": reg},  # carries both
    ]), previous=first)
    assert second.entity_of("r000002:subject") == second.entity_of("r000001:subject") == "L" + U1
    ev = second.events.row(0, named=True)
    assert (ev["event"], ev["old_id"], ev["new_id"], ev["run"]) == ("merge", old_reg_entity, "L" + U1, 2)


def test_judgements_win_over_the_model_in_every_later_run():
    rows = [
        {"subject_name": "深圳市华强电子有限公司", "subject_uscc": U1},
        {"subject_name": "深圳市华强电子有限公司", "subject_type": "legal"},
        {"subject_name": "深圳市鑫源贸易有限公司", "subject_type": "legal"},
    ]
    first = resolve(records_frame(rows))
    assert first.entity_of("r000002:subject") == first.entity_of("r000001:subject")
    j = add_judgement(empty_judgements(), "r000001:subject", "r000002:subject", "no_match",
                      who="analyst li", why="different legal representative on the licence")
    j = add_judgement(j, "r000003:subject", "r000001:subject", "match", who="analyst li", why="renamed in 2019")
    second = resolve(records_frame(rows), previous=first, judgements=j, full=True)
    assert second.entity_of("r000002:subject") != second.entity_of("r000001:subject")
    assert second.entity_of("r000003:subject") == second.entity_of("r000001:subject")
    assert {"split", "merge"} <= set(second.events["event"].to_list())
    # The judgements are kept and applied again, also in incremental runs.
    third = resolve(records_frame(rows + [{"subject_name": "深圳市華強電子有限公司", "subject_type": "legal"}]),
                    previous=second)
    assert third.judgements.height == 2
    assert third.entity_of("r000002:subject") != third.entity_of("r000001:subject")
    assert third.entity_of("r000003:subject") == third.entity_of("r000001:subject")
    kept = third.evidence.filter(pl.col("band") == "judged_no_match")
    assert kept.height >= 1 or second.evidence.filter(pl.col("band") == "judged_no_match").height >= 1


def test_latest_judgement_on_a_pair_counts():
    rows = [{"subject_name": "深圳市华强电子有限公司", "subject_type": "legal"},
            {"subject_name": "深圳市华强电子有限公司", "subject_type": "legal", "subject_phone": "0755-83421234"}]
    j = add_judgement(empty_judgements(), "r000001:subject", "r000002:subject", "no_match", who="a", why="x")
    j = add_judgement(j, "r000002:subject", "r000001:subject", "match", who="b", why="checked again")
    res = resolve(records_frame(rows), judgements=j)
    assert res.entity_of("r000001:subject") == res.entity_of("r000002:subject")


def test_bad_judgements_are_clear_errors():
    rows = records_frame(BASE)
    with pytest.raises(JudgementError, match="--who"):
        add_judgement(empty_judgements(), "a", "b", "match", who="", why="x")
    with pytest.raises(JudgementError, match="decision"):
        add_judgement(empty_judgements(), "a", "b", "maybe", who="x", why="x")
    j = add_judgement(empty_judgements(), "r000001:subject", "nope:subject", "match", who="x", why="y")
    with pytest.raises(ResolutionError, match="nope:subject"):
        resolve(rows, judgements=j)
    j = add_judgement(empty_judgements(), "r000001:subject", "r000001:object", "match", who="x", why="y")
    with pytest.raises(ResolutionError, match="legal person and a natural person"):
        resolve(rows, judgements=j)


def test_outputs_round_trip_and_model_versions(tmp_path):
    res = resolve(records_frame(BASE))
    out = write_resolution(res, tmp_path / "entities")
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUT_FILES)
    back = load_resolution(out)
    assert back.assignments.equals(res.assignments) and back.model.version == res.model.version
    ent = pl.read_parquet(out / "entities.parquet")
    assert {"entity_id", "type", "name", "names", "uscc", "org_code", "reg_no", "id_number", "birth_date",
            "address", "phone", "is_branch", "member_count"} <= set(ent.columns)
    assert set(res.evidence["model_version"].to_list()) == {res.model.version}
    path = save_model(res.model, tmp_path / "model.json")
    assert load_model(path).version == res.model.version
    data = json.loads(path.read_text())
    data["format"] = 0
    path.write_text(json.dumps(data))
    with pytest.raises(ModelVersionError, match="another version"):
        load_model(path)
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(ModelVersionError, match="not a credgraph resolution model"):
        load_model(tmp_path / "broken.json")


def test_a_fixed_model_gives_the_same_answer():
    rows = records_frame(rows_with({"subject_name": "深圳市華強電子有限公司", "subject_type": "legal"}))
    a = resolve(rows)
    b = resolve(rows, model=a.model)
    assert a.assignments.equals(b.assignments)


def test_stored_judgements_on_removed_records_become_inactive():
    rows = [{"subject_name": "深圳市华强电子有限公司", "subject_type": "legal"},
            {"subject_name": "深圳市华强电子有限公司", "subject_type": "legal"},
            {"subject_name": "深圳市鑫源贸易有限公司", "subject_type": "legal"}]
    j = add_judgement(empty_judgements(), "r000001:subject", "r000003:subject", "match", who="a", why="b")
    first = resolve(records_frame(rows), judgements=j)
    assert first.entity_of("r000001:subject") == first.entity_of("r000003:subject")
    # r000003 is no longer loaded: its judgement stays in the log but cannot apply.
    second = resolve(records_frame(rows[:2]), previous=first, full=True)
    assert second.judgements.height == 1
    assert second.run["judgements"] == {"total": 1, "applied": 0, "inactive": 1}
