"""Joint reward and punishment measures, credit repair and reports on hand-made networks whose
answers are written out by hand (no server: fast)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import polars as pl
import pytest

from credgraph.analytics.check import credit_check
from credgraph.analytics.frames import make_frames
from credgraph.analytics.grading import grade_enterprises
from credgraph.analytics.measures import CatalogueError, load_catalogue, measures_for, parse_catalogue
from credgraph.analytics.network import CreditNetwork
from credgraph.analytics.propagation import active_records, compute_risk
from credgraph.analytics.repair import RepairError, apply_repair
from credgraph.config import AnalyticsConfig

AS_OF = dt.date(2024, 6, 30)
GOOD = {"id": "M1", "name": "n", "kind": "punishment", "legal_basis": "b", "bodies": ["x"],
        "trigger_types": ["penalty"], "reach": ["entity"]}


def _city():
    """Firm F (dishonest debtor, serious illegal) with legal rep P, officer O, shareholders S 30 %
    and T 10 %; firm G with an old serious-illegal entry (2017, beyond 5 years) and a red-list
    honour; firm H, unrelated and clean; F's repaired penalty; K, P's other firm."""
    nodes = [
        {"node_id": "F", "label": "LegalPerson", "name": "深圳市甲科技有限公司", "uscc": "914403001922038216"},
        {"node_id": "G", "label": "LegalPerson", "name": "深圳市乙贸易有限公司"},
        {"node_id": "H", "label": "LegalPerson", "name": "深圳市丙物流有限公司"},
        {"node_id": "K", "label": "LegalPerson", "name": "深圳市丁餐饮有限公司"},
        {"node_id": "pP", "label": "NaturalPerson", "name": "张三"},
        {"node_id": "pO", "label": "NaturalPerson", "name": "李四"},
        {"node_id": "pS", "label": "NaturalPerson", "name": "王五"},
        {"node_id": "pT", "label": "NaturalPerson", "name": "赵六"},
        {"node_id": "rec:dd", "label": "CreditRecord", "event_type": "dishonest_debtor", "status": "active",
         "date": "2023-05-01", "end_date": "2026-05-01", "case_no": "（2023）粤03执1号"},
        {"node_id": "rec:si", "label": "CreditRecord", "event_type": "serious_illegal", "status": "active",
         "date": "2022-01-10"},
        {"node_id": "rec:pen", "label": "CreditRecord", "event_type": "penalty", "status": "repaired", "date": "2024-01-01"},
        {"node_id": "rec:old", "label": "CreditRecord", "event_type": "serious_illegal", "status": "active",
         "date": "2017-03-01"},
        {"node_id": "rec:red", "label": "CreditRecord", "event_type": "red_list", "status": "active", "date": "2023-03-01"},
    ]
    edges = [
        {"src": "F", "dst": "rec:dd", "type": "HAS_RECORD"}, {"src": "F", "dst": "rec:si", "type": "HAS_RECORD"},
        {"src": "F", "dst": "rec:pen", "type": "HAS_RECORD"}, {"src": "G", "dst": "rec:old", "type": "HAS_RECORD"},
        {"src": "G", "dst": "rec:red", "type": "HAS_RECORD"},
        {"src": "pP", "dst": "F", "type": "LEGAL_REP_OF"}, {"src": "pP", "dst": "K", "type": "LEGAL_REP_OF"},
        {"src": "pO", "dst": "F", "type": "OFFICER_OF", "role": "监事"},
        {"src": "pS", "dst": "F", "type": "SHAREHOLDER_OF", "ratio": 0.3},
        {"src": "pT", "dst": "F", "type": "SHAREHOLDER_OF", "ratio": 0.1},
        {"src": "K", "dst": "G", "type": "SHAREHOLDER_OF", "ratio": 0.6},
    ]
    return CreditNetwork.from_frames(*make_frames(nodes, edges))


def _applied(net, ids):
    cfg = AnalyticsConfig()
    cat = load_catalogue()
    res = measures_for(net, cat, active_records(net, cfg, AS_OF), net.index_of(ids), AS_OF)
    return {i: {m["id"]: m for m in ms} for i, ms in zip(ids, res)}


def test_measures_reach_whom_the_catalogue_says():
    got = _applied(_city(), ["F", "pP", "pO", "pS", "pT", "G", "H", "K"])
    assert set(got["F"]) == {"P-DD-01", "P-DD-02", "P-SI-01", "P-SI-02"}
    assert set(got["pP"]) == {"P-DD-02", "P-DD-03", "P-SI-01", "P-SI-02"}  # legal representative
    assert set(got["pO"]) == {"P-DD-02"}  # officers: only high consumption
    assert set(got["pS"]) == {"P-SI-01"}  # 30 % >= 25 %
    assert got["pT"] == {} and got["H"] == {} and got["K"] == {}
    # G: its serious-illegal entry is from 2017 (P-SI-01 lasts 5 years, P-SI-02 3) -> only the reward.
    assert set(got["G"]) == {"R-RL-01"} and got["G"]["R-RL-01"]["kind"] == "reward"
    rec = got["pP"]["P-DD-02"]["records"]
    assert [(r["record_id"], r["reach"], r["owner_id"], r["case_no"]) for r in rec] == \
        [("rec:dd", ["legal_rep"], "F", "（2023）粤03执1号")]
    assert got["pP"]["P-SI-01"]["records"][0]["until"] == "2027-01-10"


def test_catalogue_errors_name_the_measure_and_the_field(tmp_path):
    assert len(load_catalogue()) >= 8
    cases = [
        ({**GOOD, "colour": "red"}, "measure 1 (M1): unknown field 'colour'"),
        ({**GOOD, "kind": "fine"}, "field 'kind' must be one of punishment, reward"),
        ({**GOOD, "reach": ["spouse"]}, "field 'reach' has 'spouse'"),
        ({k: v for k, v in GOOD.items() if k != "legal_basis"}, "missing field 'legal_basis'"),
        ({**GOOD, "duration_years": "3"}, "field 'duration_years' must be a number"),
        ({**GOOD, "shareholder_min_ratio": 1.5}, "between 0 and 1"),
    ]
    for item, msg in cases:
        with pytest.raises(CatalogueError, match=msg.replace("(", r"\(").replace(")", r"\)")):
            parse_catalogue([item], "x.toml")
    with pytest.raises(CatalogueError, match="id 'M1' is used twice"):
        parse_catalogue([GOOD, GOOD], "x.toml")
    p = tmp_path / "c.toml"
    p.write_text("[[measures]]\nid = 1\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match="unknown table"):
        load_catalogue(p)
    p.write_text("[[measure]\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match="not valid TOML"):
        load_catalogue(p)


def test_repair_changes_exactly_what_a_full_recompute_changes():
    net = _city()
    # Fixed cut points: four firms are too few to calibrate cuts on (the server test covers "mix").
    cfg = AnalyticsConfig(grade_method="cuts")
    risk = compute_risk(net, cfg, AS_OF)
    g0 = grade_enterprises(net, cfg, AS_OF, risk)
    before = g0.grades
    before_seed_f = risk.scores.filter(pl.col("node_id") == "F")["seed"][0]
    res = apply_repair(net, risk, before, cfg, AS_OF, ["rec:si"], cuts=g0.cuts)
    # The oracle: everything recomputed from scratch with the record repaired.
    net2 = dataclasses.replace(net, records=net.records.with_columns(
        pl.when(pl.col("record_node") == "rec:si").then(pl.lit("repaired")).otherwise(pl.col("status")).alias("status")))
    # ... graded against the same cut points (a repair does not re-calibrate the city's cuts).
    fixed = dataclasses.replace(cfg, grade_method="cuts", grade_cuts=tuple(g0.cuts))
    full = grade_enterprises(net2, fixed, AS_OF).grades
    cmp = before.select("node_id", "grade", "score").join(full.select("node_id", "grade", "score"), on="node_id", suffix="_new")
    moved = cmp.filter((pl.col("grade") != pl.col("grade_new")) | (pl.col("score") != pl.col("score_new")))
    assert sorted(res.changed["node_id"].to_list()) == sorted(moved["node_id"].to_list())
    assert "F" in res.changed["node_id"].to_list() and "H" not in res.affected  # H is not linked to F
    assert res.grades.sort("node_id").select("node_id", "grade", "score").equals(full.sort("node_id").select("node_id", "grade", "score"))
    f = res.changed.filter(pl.col("node_id") == "F").row(0, named=True)
    assert f["grade_before"] == "E" and f["grade"] != "E"  # the veto record is gone
    assert _applied(res.net, ["pS"])["pS"] == {}  # and so is the shareholder's measure
    # The score table (what lists and pages read) follows the risk vectors: as a full propagation gives it.
    full_risk = compute_risk(net2, cfg, AS_OF).scores.sort("node_id").select("node_id", "seed", "risk", "rank")
    got = res.risk.scores.sort("node_id").select("node_id", "seed", "risk", "rank")
    assert got["node_id"].to_list() == full_risk["node_id"].to_list()
    assert got["rank"].to_list() == full_risk["rank"].to_list()
    assert np.allclose(got["risk"].to_numpy(), full_risk["risk"].to_numpy(), atol=1e-9)
    assert got.filter(pl.col("node_id") == "F")["seed"][0] < before_seed_f
    with pytest.raises(RepairError, match="no credit record 'rec:nope'"):
        apply_repair(net, risk, before, cfg, AS_OF, ["rec:nope"])


def test_credit_check_lists_measures_for_resolved_rows_only():
    net = _city()
    cfg = AnalyticsConfig(as_of="2024-06-30")
    risk = compute_risk(net, cfg, AS_OF)
    grades = grade_enterprises(net, cfg, AS_OF, risk)
    rows = pl.DataFrame({"row": [1, 2, 3], "name": ["深圳市甲科技有限公司", "", "无此公司"],
                         "code": ["", "914403001922038216", ""]})
    out = credit_check(net, rows, cfg, grades, catalogue=load_catalogue())
    m = out["measures"].to_list()
    assert m[0].startswith("P-DD-01 ") and "（2023）粤03执1号" in m[0] and m[0] == m[1]
    assert m[2] == ""



def test_grading_a_city_whose_first_firms_have_no_uscc():
    """The service grades at start: a city whose first hundred firms carry no USCC must grade
    (polars once inferred such a column as Object and failed)."""
    nodes = [{"node_id": f"c{i}", "label": "LegalPerson", "name": f"深圳市{i}有限公司"} for i in range(150)]
    nodes.append({"node_id": "c150", "label": "LegalPerson", "name": "深圳市甲有限公司", "uscc": "124403002207870014"})
    net = CreditNetwork.from_frames(*make_frames(nodes, []))
    g = grade_enterprises(net, AnalyticsConfig(), AS_OF)
    assert g.grades.height == 150  # the public institution (USCC 1...) is not graded as an enterprise
    assert g.excluded["node_id"].to_list() == ["c150"]
