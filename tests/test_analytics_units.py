"""Grading, inspection lists, shells, related parties and credit checks on hand-built graphs."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import openpyxl
import polars as pl
import pytest

from credgraph.analytics import (
    CreditNetwork, EntityIndex, credit_check, detect_shells, draw_inspection, export_inspection,
    grade_enterprises, make_frames, read_check_list, related_parties,
)
from credgraph.analytics.inspection import allocate
from credgraph.config import AnalyticsConfig

AS_OF = "2024-01-01"


def _firm(i, est="2010-01-01", capital=500.0, **kw):
    return {"node_id": f"c{i}", "label": "LegalPerson", "name": f"深圳市测试{i}科技有限公司", "est_date": est,
            "registered_capital": capital, "uscc": None, **kw}


def _rec(k, owner, event_type, date="2023-06-01", **kw):
    node = {"node_id": f"rec:{k}", "label": "CreditRecord", "event_type": event_type, "date": date,
            "status": "active", **kw}
    return node, {"src": owner, "dst": f"rec:{k}", "type": "HAS_RECORD"}


def _city():
    """Clean c0 (staff, A tax rating, honours), bad c1 (serious illegal, penalties, abnormal),
    middling c2; a 5-firm shell cluster s0..s4 at one address; an office building of 5 genuine
    firms b0..b4 at another."""
    nodes = [_firm(0), _firm(1), _firm(2)]
    edges = [{"src": "p0", "dst": "c0", "type": "LEGAL_REP_OF"}, {"src": "p1", "dst": "c1", "type": "LEGAL_REP_OF"},
             {"src": "p1", "dst": "c2", "type": "LEGAL_REP_OF"}]
    recs = [
        _rec(0, "c0", "social_insurance", count=40.0), _rec(1, "c0", "tax_rating", grade="A"),
        _rec(2, "c0", "red_list"),
        _rec(3, "c1", "serious_illegal"), _rec(4, "c1", "penalty"), _rec(5, "c1", "penalty", "2022-01-01"),
        _rec(6, "c1", "abnormal_operations"), _rec(7, "c1", "social_insurance", count=3.0),
        _rec(8, "c2", "social_insurance", count=12.0), _rec(9, "c2", "tax_rating", grade="B"),
    ]
    for i in range(5):
        nodes.append({**_firm(f"s{i}", est=f"2023-03-0{i + 1}", capital=1.0), "node_id": f"s{i}"})
        edges += [{"src": f"s{i}", "dst": "addr:shell", "type": "LOCATED_AT"},
                  {"src": "pn", "dst": f"s{i}", "type": "LEGAL_REP_OF"}]
        nodes.append({**_firm(f"b{i}", est=f"20{10 + i}-05-01", capital=300.0), "node_id": f"b{i}"})
        edges += [{"src": f"b{i}", "dst": "addr:tower", "type": "LOCATED_AT"},
                  {"src": f"pb{i}", "dst": f"b{i}", "type": "LEGAL_REP_OF"}]
        recs.append(_rec(20 + i, f"b{i}", "social_insurance", count=15.0 + i))
    recs.append(_rec(30, "s0", "abnormal_operations"))
    nodes += [{"node_id": "addr:shell", "label": "Address", "name": "福田区某大厦1001"},
              {"node_id": "addr:tower", "label": "Address", "name": "南山区科技园大厦"},
              {"node_id": "pn", "label": "NaturalPerson", "name": "王某", "id_number": "110105********002X"}]
    nodes += [n for n, _ in recs]
    edges += [e for _, e in recs]
    return CreditNetwork.from_frames(*make_frames(nodes, edges))


@pytest.fixture(scope="module")
def graded():
    net = _city()
    return net, grade_enterprises(net, AnalyticsConfig(), AS_OF)


def test_grades_order_and_explanations(graded):
    net, g = graded
    grade = dict(zip(g.grades["node_id"].to_list(), g.grades["grade"].to_list()))
    score = dict(zip(g.grades["node_id"].to_list(), g.grades["score"].to_list()))
    assert grade["c0"] == "A+" and grade["c1"] == "E"
    assert score["c0"] > score["c2"] > score["c1"]
    assert min(score[f"b{i}"] for i in range(5)) > max(score[f"s{i}"] for i in range(5))
    # Contributions explain the score exactly (no clipping here) and name the causes.
    c1 = g.contributions.filter(pl.col("node_id") == "c1")
    assert 100 + c1["points"].sum() == pytest.approx(score["c1"], abs=0.01)
    reasons = g.grades.filter(pl.col("node_id") == "c1")["reasons"].item()
    assert "serious_illegal" in reasons and "abnormal" in reasons
    assert set(g.contributions["dimension"].unique()) == {"basic", "operating", "regulatory", "related", "social"}
    assert g.distribution["enterprises"].sum() == 13


def test_quantile_grades_give_configured_shares():
    cfg = dataclasses.replace(AnalyticsConfig(), grade_method="quantiles", grade_quantiles=(0.1, 0.3, 0.6, 0.8, 0.9))
    from credgraph.analytics.grading import assign_grades

    grades = assign_grades(np.random.default_rng(0).random(1000) * 100, cfg)
    counts = {x: int((grades == x).sum()) for x in ("A+", "A", "B", "C", "D", "E")}
    assert counts == {"A+": 100, "A": 200, "B": 300, "C": 200, "D": 100, "E": 100}


def test_allocation_fills_budget_riskiest_first():
    sizes = np.array([500, 300, 100, 60, 30, 10])
    ratios = np.array([0.01, 0.02, 0.03, 0.08, 0.25, 0.6])
    # ratio * size = 5, 6, 3, 4.8, 7.5, 6 (32.3) scaled by 50/32.3, largest remainders rounded up
    assert allocate(sizes, ratios, budget=50).tolist() == [8, 9, 5, 7, 12, 9]
    take = allocate(sizes, ratios, budget=200)
    assert take.sum() == 200 and take[5] == 10 and take[4] == 30  # D and E taken whole, the rest scaled further
    assert allocate(sizes, np.full(6, 0.1), None).tolist() == [50, 30, 10, 6, 3, 1]


def test_inspection_is_reproducible_excludes_and_includes(graded, tmp_path):
    net, g = graded
    cfg = dataclasses.replace(AnalyticsConfig(), sample_ratios=(0.2, 0.2, 0.3, 0.5, 0.8, 1.0), inspection_budget=0.0,
                              inspection_strata="grade")
    past = pl.DataFrame({"node_id": ["c1", "b0"], "date": [dt.date(2023, 10, 1), dt.date(2020, 1, 1)]})
    complaints = pl.DataFrame({"node_id": ["c0"], "reason": ["投诉: 虚假宣传"]})
    a = draw_inspection(g.grades, cfg, seed=11, past=past, complaints=complaints, as_of=AS_OF)
    b = draw_inspection(g.grades, cfg, seed=11, past=past, complaints=complaints, as_of=AS_OF)
    assert a.targets.equals(b.targets)
    ids = a.targets["node_id"].to_list()
    assert "c1" not in ids  # inspected 3 months ago
    assert "c0" in ids and a.targets.filter(pl.col("node_id") == "c0")["selection"].item() == "mandatory"
    assert a.excluded == 1 and len(ids) == len(set(ids))
    seeds = {tuple(draw_inspection(g.grades, cfg, seed=s).targets["node_id"].to_list()) for s in range(8)}
    assert len(seeds) > 1  # the seed matters
    paths = export_inspection(a, tmp_path, "list")
    csv = pl.read_csv(paths[0])
    assert csv["node_id"].to_list() == ids and set(csv["seed"].to_list()) == {11}
    wb = openpyxl.load_workbook(paths[1])
    rows = list(wb["targets"].values)
    assert rows[0][0] == "node_id" and [r[0] for r in rows[1:]] == ids
    assert list(wb["about"].values)[0] == ("seed", 11)


# The shell model measures groups against the city: its tests (a city with a hand-planted ring) are in
# tests/test_analytics_shells.py.


def test_related_parties_within_k_hops():
    edges = [
        {"src": "p1", "dst": "a", "type": "LEGAL_REP_OF"}, {"src": "p1", "dst": "h", "type": "OFFICER_OF"},
        {"src": "h", "dst": "b", "type": "SHAREHOLDER_OF", "ratio": 0.7},  # a - p1 - h - b: 3 links
        {"src": "c", "dst": "phone:1", "type": "USES_PHONE"}, {"src": "d", "dst": "phone:1", "type": "USES_PHONE"},
        {"src": "h2", "dst": "e", "type": "SHAREHOLDER_OF", "ratio": 0.2}, {"src": "h2", "dst": "d", "type": "SHAREHOLDER_OF", "ratio": 0.2},
    ]
    net = CreditNetwork.from_frames(*make_frames([], edges))
    r = related_parties(net, ["a", "b", "c", "d", "e", "zz"], max_hops=3)
    pairs = {(x["a"], x["b"]): x for x in r.pairs.to_dicts()}
    assert set(pairs) == {("a", "b"), ("c", "d")}  # e: minority holdings are not control
    assert pairs[("a", "b")]["path"] == ["a", "p1", "h", "b"] and pairs[("a", "b")]["hops"] == 3
    assert "USES_PHONE" in pairs[("c", "d")]["path_text"]
    assert sorted(map(sorted, r.groups["members"].to_list())) == [["a", "b"], ["c", "d"]]
    assert r.unknown == ["zz"]
    assert related_parties(net, ["a", "b"], max_hops=2).pairs.height == 0


def test_credit_check_resolves_reports_and_keeps_unresolved(graded, tmp_path):
    net, g = graded
    f = tmp_path / "list.csv"
    f.write_text("企业名称,统一社会信用代码\n深圳市測試1科技有限公司,\n,c2\n深圳市测试0科枝有限公司,\n不存在的公司,\n"
                 "王某,110105194912310021\n", encoding="gb18030")
    rows = read_check_list(f)
    rep = credit_check(net, rows, AnalyticsConfig(), g)
    assert rep.height == 5
    r = {x["row"]: x for x in rep.to_dicts()}
    assert (r[1]["node_id"], r[1]["method"], r[1]["confidence"]) == ("c1", "name", 0.97)  # traditional characters
    assert "serious_illegal×1" in r[1]["active_records"] and r[1]["grade"] == "E"
    assert (r[2]["node_id"], r[2]["confidence"]) == ("c2", 1.0)
    assert "深圳市测试1" in r[2]["risky_related"]  # c2 shares legal rep p1 with the listed-dishonest c1
    assert r[3]["node_id"] == "c0" and r[3]["method"] == "fuzzy_name" and 0.7 < r[3]["confidence"] < 0.9
    assert r[4]["status"] == "unresolved" and r[4]["node_id"] is None
    assert r[5]["input_code"] == "110105********0021"  # never shown in full
    assert r[5]["status"] == "unresolved"  # masked ID 002X does not fit ...0021


def test_entity_index_codes():
    nodes, edges = make_frames([{"node_id": "e1", "label": "LegalPerson", "name": "甲", "uscc": "914403001922038216"},
                                {"node_id": "n1", "label": "NaturalPerson", "name": "李四", "id_number": "11010519491231002X"}], [])
    idx = EntityIndex(CreditNetwork.from_frames(nodes, edges))
    res = idx.resolve(["", "", "李四"], ["９１４４０３００１９２２０３８２１６", "11010519491231002X", "110105********002X"])
    assert res["node_id"].to_list() == ["e1", "n1", "n1"]
    assert res["confidence"].to_list() == [1.0, 1.0, 0.9]


def test_settings_from_the_environment_reach_the_draw(graded):
    from credgraph.config import load_config

    net, g = graded
    cfg = load_config(None, env={"CREDGRAPH_ANALYTICS__SAMPLE_RATIOS": "0,0,0,0,0,1",
                                 "CREDGRAPH_ANALYTICS__INSPECTION_BUDGET": "0",
                                 "CREDGRAPH_ANALYTICS__GRADE_METHOD": "cuts",  # the default calibrates to a mix
                                 "CREDGRAPH_ANALYTICS__GRADE_CUTS": "99,98,97,96,95"}).analytics
    listing = draw_inspection(g.grades, cfg, as_of=AS_OF)
    assert set(listing.targets["grade"].to_list()) == {"E"}
    assert listing.targets.height == g.grades.filter(pl.col("grade") == "E").height  # ratio 1: every E drawn
    from credgraph.analytics.grading import assign_grades

    assert assign_grades(np.array([99.5, 94.0]), cfg).tolist() == ["A+", "E"]
