"""An ID number that fails its check (a typo) is set aside by the loader but kept, protected, as
``id_number_unchecked``; resolution uses it as evidence (one typo from the other's valid ID), never
as an identifier. Valid IDs come from python-stdnum (``stdnum.cn.ric``), an independent oracle."""

from __future__ import annotations

import polars as pl
from stdnum.cn import ric

from credgraph.graph.build import build_frames
from credgraph.loaders import load_specs, read_findings, read_records
from credgraph.resolution import resolve
from credgraph.resolution.features import typo_place
from credgraph.resolution.sample import records_frame


def valid(first17: str) -> str:
    """A resident ID with its check digit from python-stdnum."""
    out = first17 + ric.calc_check_digit(first17 + "0")  # stdnum reads the first 17 of 18
    assert ric.is_valid(out)
    return out


X = valid("44030519850312123")  # 440305 19850312 123 + check
Y = valid("44030519850312125")  # the same region and birth date, another sequence number
TRANSPOSED = X[:14] + X[15] + X[14] + X[16:]  # two neighbours of the sequence number swapped
MISTYPED_BIRTH = X[:10] + X[11] + X[10] + X[12:]  # 19850312 -> 19853012: two birth-date digits swapped
#: one digit from X (the sequence number of Y) and one (the check) from Y: near both
BETWEEN = X[:16] + Y[16] + X[17]


def test_the_fixture_ids_are_typos_as_stdnum_sees_them():
    assert X != Y and ric.is_valid(X) and ric.is_valid(Y)
    for typo in (TRANSPOSED, MISTYPED_BIRTH, BETWEEN):
        assert not ric.is_valid(typo) and len(typo) == 18
    assert (typo_place(TRANSPOSED, X), typo_place(MISTYPED_BIRTH, X), typo_place(BETWEEN, X),
            typo_place(BETWEEN, Y), typo_place(TRANSPOSED, Y)) == (2, 1, 2, 2, 0)


def _load(tmp_path, rows: list[tuple[str, str, str]]):
    (tmp_path / "people.csv").write_text("姓名,身份证号,电话\n" + "".join(f"{a},{b},{c}\n" for a, b, c in rows),
                                         encoding="utf-8")
    (tmp_path / "people.toml").write_text(
        """
code = "PEOPLE"
name = "people"
source_unit = "test"
kind = "entity"
file = "people.csv"
format = "csv"

[columns]
subject_name = "姓名"
subject_id_number = "身份证号"
subject_phone = "电话"

[constants]
subject_type = "natural"
""", encoding="utf-8")
    report = load_specs([tmp_path / "people.toml"], tmp_path / "ws", batch="b")
    return report, read_records(tmp_path / "ws").sort("source_row"), read_findings(tmp_path / "ws")


def test_loader_sets_a_typo_aside_with_a_finding_and_keeps_it_unchecked(tmp_path):
    report, rec, found = _load(tmp_path, [("张伟", X, ""), ("张伟", TRANSPOSED, ""), ("李娜", "4403051985", "")])
    assert (report.read, report.accepted, report.quarantined) == (3, 3, 0)
    assert rec["subject_id_number"].to_list() == [X, None, None]
    # only a value with the shape of a resident ID is kept; a cut-off number is not
    assert rec["subject_id_number_unchecked"].to_list() == [None, TRANSPOSED, None]
    assert found.sort("source_row").select("source_row", "field", "value").rows() == [
        (2, "subject_id_number", TRANSPOSED[:6] + "********" + TRANSPOSED[14:]), (3, "subject_id_number", "*" * 10)]


def test_a_spec_cannot_map_the_unchecked_column(tmp_path):
    from credgraph.loaders.spec import MAPPABLE_FIELDS

    assert "subject_id_number_unchecked" not in MAPPABLE_FIELDS
    assert "object_id_number_unchecked" not in MAPPABLE_FIELDS


SURNAMES = "王李张刘陈杨黄赵吴周"
GIVEN = ("伟", "芳", "娜", "敏", "静", "磊", "洋", "勇", "艳", "杰", "军", "涛")


def population(extra: list[dict]) -> pl.DataFrame:
    """A small town for the model to learn from: 240 people (common names repeat), each with a valid
    ID (python-stdnum) on two or three records, one of them with a phone; then the ``extra`` rows,
    numbered from r900001."""
    rows = []
    for i in range(240):
        born = f"{1984 + i % 20}{1 + i % 12:02d}{1 + i % 28:02d}"  # Nanshan (440305) exists from 1983
        pid = valid(f"440305{born}{100 + 2 * i:03d}"[:17])
        name = SURNAMES[i % 10] + GIVEN[(i * 7) % 12]
        for k in range(2 + i % 2):
            row = {"subject_name": name, "subject_type": "natural", "subject_id_number": pid}
            if k == 0:
                row["subject_phone"] = f"138{i:08d}"
            rows.append(row)
    frame = records_frame(rows)
    tail = records_frame(extra).with_columns(
        pl.format("r9{}", pl.col("record_id").str.slice(2)).alias("record_id"))
    return pl.concat([frame, tail])


def same(res, a: int, b: int) -> bool:
    return res.entity_of(f"r9{a:05d}:subject") == res.entity_of(f"r9{b:05d}:subject")


def test_a_transposed_id_links_to_the_valid_one():
    res = resolve(population([
        {"subject_name": "欧阳伟", "subject_type": "natural", "subject_id_number": X},
        {"subject_name": "欧阳伟", "subject_type": "natural", "subject_id_number_unchecked": TRANSPOSED},
        {"subject_name": "欧阳伟", "subject_type": "natural", "subject_id_number_unchecked": MISTYPED_BIRTH},
        # the same name and nothing else: a name alone never merges
        {"subject_name": "欧阳伟", "subject_type": "natural", "subject_phone": "13912345678"},
        # the same typo'd number under an altogether different name: not enough on its own
        {"subject_name": "司马娜娜", "subject_type": "natural", "subject_id_number_unchecked": TRANSPOSED},
    ]))
    assert same(res, 1, 2) and same(res, 1, 3)
    assert not same(res, 1, 4) and not same(res, 1, 5)
    ent = res.entities.filter(pl.col("id_number") == X).row(0, named=True)
    assert ent["member_count"] == 3  # the entity carries the valid number, never the typo


def test_an_unchecked_id_never_joins_two_people_with_conflicting_valid_ids():
    res = resolve(population([
        {"subject_name": "欧阳伟", "subject_type": "natural", "subject_id_number": X},
        {"subject_name": "欧阳伟", "subject_type": "natural", "subject_id_number": Y},
        {"subject_name": "欧阳伟", "subject_type": "natural", "subject_id_number_unchecked": BETWEEN},
        {"subject_name": "欧阳伟", "subject_type": "natural", "subject_id_number_unchecked": TRANSPOSED},
    ]))
    assert not same(res, 1, 2)  # two valid numbers: two people
    assert not (same(res, 3, 1) and same(res, 3, 2))  # near both: joins at most one
    assert same(res, 4, 1) and not same(res, 4, 2)  # one typo from X only: X's person


def test_the_unchecked_id_never_reaches_the_graph_unmasked(tmp_path):
    _, rec, _ = _load(tmp_path, [("张伟", X, "13812345678"), ("张伟", TRANSPOSED, "13812345678"),
                                 ("王芳", MISTYPED_BIRTH, "")])
    res = resolve(rec)
    assert res.entity_of(f"{rec['record_id'][0]}:subject") == res.entity_of(f"{rec['record_id'][1]}:subject")
    g = build_frames(rec, res.assignments, res.entities, hash_key="k")
    nodes, edges = g.contract()
    graph = [nodes, edges, *g.nodes.values(), *g.edges.values()]
    text = " ".join(str(v) for f in graph for col in f.columns for v in f[col].to_list())
    for secret in (X, TRANSPOSED, MISTYPED_BIRTH):
        assert secret not in text and secret[6:14] + secret[14:17] not in text
    # resolution's entities hold the valid number (as before) but never the typo; only the workspace's
    # mention state keeps it, in its own column, like the valid number in id_full
    outputs = [res.entities, res.assignments, res.evidence, res.review]
    text = " ".join(str(v) for f in outputs for col in f.columns for v in f[col].to_list())
    assert TRANSPOSED not in text and MISTYPED_BIRTH not in text
    # evidence has the comparison's level and weight (level_unchecked_id), never the value's column
    assert not any(c.endswith(("id_unchecked", "id_number_unchecked")) for f in graph + outputs for c in f.columns)
    assert "level_unchecked_id" in res.evidence.columns
    assert sorted(res.mentions.filter(pl.col("id_unchecked") != "")["id_unchecked"].to_list()) == sorted(
        [TRANSPOSED, MISTYPED_BIRTH])


def test_a_model_saved_before_the_comparison_existed_is_estimated_anew():
    import json

    from credgraph.resolution.model import Model

    rows = population([
        {"subject_name": "欧阳伟", "subject_type": "natural", "subject_id_number": X},
        {"subject_name": "欧阳伟", "subject_type": "natural", "subject_id_number_unchecked": TRANSPOSED},
    ])
    data = json.loads(resolve(rows).model.to_json())
    for table in ("m", "u"):
        del data["types"]["natural"][table]["unchecked_id"]  # as an older version wrote it
    res = resolve(rows, model=Model.from_json(json.dumps(data)))
    nat = res.run["stats"]["natural"]
    assert nat["model_fitted"] and "unchecked_id" in nat["model_refit_reason"]
    assert not res.run["stats"]["legal"]["model_fitted"]  # the legal model was complete: used as given
    assert same(res, 1, 2)


def test_a_query_with_a_typod_id_finds_the_person_both_ways():
    """A credit check's ID with a failed check (two digits swapped) is the same evidence for the
    matcher as for the resolver: one typo from a known person's number, with that person's name,
    finds that person — by the single-query fast path and the batch path alike; a namesake's number
    does not make it match anyone else."""
    from credgraph.resolution import Matcher

    res = resolve(population([
        {"subject_name": "欧阳伟", "subject_type": "natural", "subject_id_number": X},
        {"subject_name": "欧阳伟", "subject_type": "natural", "subject_id_number": X, "subject_phone": "13900000001"},
        {"subject_name": "欧阳伟", "subject_type": "natural", "subject_id_number": Y},
        {"subject_name": "欧阳伟", "subject_type": "natural", "subject_id_number": Y, "subject_phone": "13900000002"},
    ]))
    person_x = res.entity_of("r900001:subject")
    assert person_x != res.entity_of("r900003:subject")
    m = Matcher.from_resolution(res)
    query = {"name": "欧阳伟", "id_number": TRANSPOSED}
    fast = m.match(query)
    batch = m.match_many([query] + [{"name": "张伟"}] * (m.fast_max + 1))[0]
    for r in (fast, batch):
        assert (r.decision, r.entity_id) == ("match", person_x)
        assert any(f.field == "unchecked_id" and f.weight > 0 for f in r.best.features)
    # the name alone is two people: never decided
    assert m.match({"name": "欧阳伟"}).decision != "match"
