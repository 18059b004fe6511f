"""The inspection loop: unlinked random inspectors, recorded outcomes, weights re-fitted from them."""

from __future__ import annotations

import dataclasses

import numpy as np
import polars as pl
import pytest

from credgraph.analytics import CreditNetwork, compute_risk, grade_enterprises, make_frames
from credgraph.analytics.loop import (
    LoopError, assign_inspectors, discovery_by_grade, read_inspectors, read_results, record_results, refit_weights,
    reweighted, write_indicators,
)
from credgraph.analytics.indicators import load_indicators
from credgraph.config import AnalyticsConfig

AS_OF = "2024-01-01"


def _net():
    """Firm c0 is represented by p0, whose other firm c1 employs inspector i_near's person (p7) as an
    officer; c2 is unrelated."""
    edges = [{"src": "p0", "dst": "c0", "type": "LEGAL_REP_OF"}, {"src": "p0", "dst": "c1", "type": "LEGAL_REP_OF"},
             {"src": "p7", "dst": "c1", "type": "OFFICER_OF"}, {"src": "p2", "dst": "c2", "type": "LEGAL_REP_OF"}]
    return CreditNetwork.from_frames(*make_frames([], edges))


def test_two_random_inspectors_never_linked_ones(tmp_path):
    pool = tmp_path / "pool.csv"
    rows = ["inspector_id,name,unit,node_id", "i_near,王近,福田所,p7", "i_self,李自,福田所,p0"]
    rows += [f"i{k},检查员{k},南山所," for k in range(6)]
    pool.write_text("\n".join(rows) + "\n", encoding="utf-8")
    insp = read_inspectors(pool)
    net = _net()
    targets = pl.DataFrame({"node_id": ["c0", "c2"]})
    draws = [assign_inspectors(targets, insp, net, seed=s) for s in range(30)]
    for a in draws:
        c0 = a.filter(pl.col("node_id") == "c0").row(0, named=True)
        # p0 represents c0 (1 link); p7 is an officer of p0's other firm c1 (3 links: c0-p0-c1-p7) is > 2.
        assert "i_self" not in c0["inspectors"] and c0["excluded_inspectors"] == ["i_self"]
        assert all(len(x) == 2 and len(set(x)) == 2 for x in a["inspectors"].to_list())
    seen = {x for a in draws for x in a.filter(pl.col("node_id") == "c2")["inspectors"].item()}
    assert {"i_near", "i_self"} <= seen  # unrelated to c2, both may be drawn for it
    assert len({tuple(a["inspectors"][0]) for a in draws}) > 1  # random
    assert assign_inspectors(targets, insp, net, seed=3).equals(assign_inspectors(targets, insp, net, seed=3))
    near = assign_inspectors(targets, insp, net, seed=1, hops=3).filter(pl.col("node_id") == "c0")
    assert set(near["excluded_inspectors"].item()) == {"i_self", "i_near"}


def test_bad_pool_and_results_files_name_row_and_field(tmp_path):
    p = tmp_path / "pool.csv"
    p.write_text("inspector_id,name\ni1,甲\ni1,乙\n", encoding="utf-8")
    with pytest.raises(LoopError, match="inspector_id: 'i1' appears twice"):
        read_inspectors(p)
    r = tmp_path / "res.csv"
    r.write_text("node_id,date,found\nc0,2024-02-01,yes\nc2,2024-13-01,no\n", encoding="utf-8")
    with pytest.raises(LoopError, match=r"res.csv: row 3, field date: '2024-13-01' is not a date"):
        read_results(r)
    r.write_text("node_id,date,found\nc0,2024-02-01,maybe\n", encoding="utf-8")
    with pytest.raises(LoopError, match="row 2, field found: 'maybe' is not yes/no"):
        read_results(r)


def _graded_city(n=300, seed=0, abnormal=False):
    """n firms; a hidden 'violator' flag that follows penalties (with noise). ``abnormal``: 30% of
    firms (at random, unrelated to the flag) are also on the abnormal-operations list."""
    rng = np.random.default_rng(seed)
    nodes, edges, truth = [], [], {}
    for i in range(n):
        nodes.append({"node_id": f"c{i}", "label": "LegalPerson", "name": f"深圳市{i}有限公司", "est_date": "2012-01-01",
                      "registered_capital": 300.0})
        pen = rng.random() < 0.2
        if pen:
            nodes.append({"node_id": f"rec:p{i}", "label": "CreditRecord", "event_type": "penalty", "date": "2023-09-01",
                          "status": "active", "amount": 10000.0})
            edges.append({"src": f"c{i}", "dst": f"rec:p{i}", "type": "HAS_RECORD"})
        truth[f"c{i}"] = rng.random() < (0.6 if pen else 0.05)
        if abnormal and rng.random() < 0.3:
            nodes.append({"node_id": f"rec:a{i}", "label": "CreditRecord", "event_type": "abnormal_operations",
                          "date": "2023-09-01", "status": "active"})
            edges.append({"src": f"c{i}", "dst": f"rec:a{i}", "type": "HAS_RECORD"})
    net = CreditNetwork.from_frames(*make_frames(nodes, edges))
    cfg = dataclasses.replace(AnalyticsConfig(), grade_method="cuts")
    return net, cfg, grade_enterprises(net, cfg, AS_OF, compute_risk(net, cfg, AS_OF)), truth


def test_outcomes_recorded_discovery_per_grade_and_refit(tmp_path):
    net, cfg, g, truth = _graded_city(abnormal=True)
    ids = g.grades["node_id"].to_list()[:200]
    csv = tmp_path / "res.csv"
    pl.DataFrame({"node_id": ids, "date": ["2024-02-01"] * len(ids),
                  "found": ["是" if truth[x] else "否" for x in ids]}).write_csv(csv)
    res = read_results(csv, set(ids))
    path, allr = record_results(res, tmp_path)
    _, again = record_results(res, tmp_path)  # recording the same file twice changes nothing
    assert again.height == allr.height == 200 and path.is_file()
    d = discovery_by_grade(allr, g.grades)
    assert d["inspected"].sum() == 200
    grade_of = dict(zip(g.grades["node_id"].to_list(), g.grades["grade"].to_list()))
    for r in d.filter(pl.col("inspected") > 0).iter_rows(named=True):
        assert r["discovery_rate"] == pytest.approx(np.mean([truth[x] for x in ids if grade_of[x] == r["grade"]]))
    table = refit_weights(g, allr, cfg)
    pen = table.filter(pl.col("indicator") == "penalties_active").row(0, named=True)
    abn = table.filter(pl.col("indicator") == "abnormal_active").row(0, named=True)
    # Outcomes follow penalties, not the abnormal list: penalties weigh more, the abnormal list less;
    # indicators that do not vary over the firms (all founded 2012, capital 300) keep their weight.
    assert pen["new"] > pen["old"] and abn["new"] < abn["old"]
    assert table.filter(pl.col("indicator") == "young")["change"].item() == 0.0
    assert table["new"].sum() == pytest.approx(table["old"].sum(), abs=0.05)  # same total weight (rounded to 0.001)
    assert table["change"].abs().max() > 0
    p = write_indicators(reweighted(g.indicators, table), tmp_path / "refit.toml")
    back = {i.name: i.weight for i in load_indicators(p)}
    assert back["penalties_active"] == pytest.approx(pen["new"])
    with pytest.raises(LoopError, match="all found or all not found"):
        refit_weights(g, allr.with_columns(pl.lit(True).alias("found")), cfg)


def test_simulated_rounds_find_violators_that_records_predict():
    # Violators follow penalties (60% of penalised firms, 5% of the rest; 20% penalised): a list
    # stratified by score should find them at several times the pool's rate in both halves, in
    # every round, and the re-fit must change the held-out list once outcomes come in.
    from credgraph.analytics.loop import simulate_rounds

    net, cfg, g, truth = _graded_city(n=1200, seed=4)
    violators = {x for x, v in truth.items() if v}
    risk = compute_risk(net, cfg, AS_OF)
    rounds = simulate_rounds(net, cfg, g, risk, violators, set(), rounds=2, budget=0.05, seed=3)
    assert [r["round"] for r in rounds] == [0, 1, 2]
    assert rounds[0]["moved"] == 0.0 and rounds[0]["held_static_ns"] == rounds[0]["held_ns"]
    for r in rounds:
        # ~30 targets a round from the top class (all penalised firms): rate near 0.6 against a base near 0.16.
        assert r["held_ns"] >= 2.5 and r["held_ranked_ns"] >= 2.5, r
        assert r["found"] >= 5  # the inspected half's lists find violators too
    assert rounds[0]["targets"] == pytest.approx(0.05 * 600, abs=6)
