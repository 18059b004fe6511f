"""The analytics commands end to end on hand-made graph frames (``--frames DIR``)."""

from __future__ import annotations

import polars as pl
import pytest
import typer
from typer.testing import CliRunner

from credgraph.analytics import make_frames
from credgraph.analytics.cli import register


def _frames(tmp_path):
    nodes = [
        {"node_id": "c1", "label": "LegalPerson", "name": "深圳市甲科技有限公司", "uscc": "914403001922038216",
         "est_date": "2015-01-01", "registered_capital": 100.0},
        {"node_id": "c2", "label": "LegalPerson", "name": "深圳市乙贸易有限公司", "est_date": "2012-01-01",
         "registered_capital": 500.0},
        {"node_id": "h1", "label": "LegalPerson", "name": "深圳市丙控股有限公司", "est_date": "2010-01-01",
         "registered_capital": 5000.0},
        {"node_id": "p1", "label": "NaturalPerson", "name": "张三", "id_number": "440301********123X"},
        {"node_id": "rec:1", "label": "CreditRecord", "event_type": "dishonest_debtor", "date": "2023-05-01",
         "status": "active"},
    ]
    edges = [
        {"src": "p1", "dst": "h1", "type": "SHAREHOLDER_OF", "ratio": 0.8},
        {"src": "h1", "dst": "c1", "type": "SHAREHOLDER_OF", "ratio": 0.6},
        {"src": "p1", "dst": "c2", "type": "LEGAL_REP_OF"},
        {"src": "c1", "dst": "addr:1", "type": "LOCATED_AT"}, {"src": "c2", "dst": "addr:1", "type": "LOCATED_AT"},
        {"src": "c2", "dst": "rec:1", "type": "HAS_RECORD"},
    ]
    n, e = make_frames(nodes, edges)
    d = tmp_path / "frames"
    d.mkdir()
    n.write_parquet(d / "nodes.parquet")
    e.write_parquet(d / "edges.parquet")
    return d


@pytest.fixture()
def run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = typer.Typer()
    register(app)
    frames = _frames(tmp_path)
    env = {"CREDGRAPH_WORKSPACE__PATH": str(tmp_path / "ws"), "CREDGRAPH_ANALYTICS__AS_OF": "2024-01-01"}

    def invoke(*args):
        return CliRunner().invoke(app, [*args, "--frames", str(frames)], env=env)

    return invoke, tmp_path / "ws" / "analytics"


def test_risk_grade_inspect_shells_write_outputs(run):
    invoke, out = run
    r = invoke("risk")
    assert r.exit_code == 0, r.output
    risk = pl.read_parquet(out / "risk.parquet")
    assert risk["node_id"][0] == "c2"  # the dishonest debtor is the riskiest
    r = invoke("grade")
    assert r.exit_code == 0 and "grade distribution" in r.output
    assert pl.read_csv(out / "grade_distribution.csv")["enterprises"].sum() == 3
    r = invoke("inspect", "--seed", "7", "--budget", "0.7")
    assert r.exit_code == 0 and "seed 7" in r.output
    first = pl.read_csv(out / "inspection.csv")
    assert first.height == 2 and set(first["seed"].to_list()) == {7}
    assert invoke("inspect", "--seed", "7", "--budget", "0.7").exit_code == 0
    assert pl.read_csv(out / "inspection.csv").equals(first)  # reproducible
    assert (out / "inspection.xlsx").stat().st_size > 0
    assert invoke("shells").exit_code == 0 and (out / "shell_groups.csv").exists()


def test_control_related_check(run, tmp_path):
    invoke, out = run
    r = invoke("control", "914403001922038216")
    assert r.exit_code == 0, r.output
    assert "ultimate controller: 张三 (p1" in r.output and "张三 -> 深圳市丙控股有限公司 -> 深圳市甲科技有限公司" in r.output
    assert "beneficial owner: 张三 (p1) 48.0%" in r.output
    r = invoke("related", "c1", "深圳市乙贸易有限公司")
    assert r.exit_code == 0 and "LOCATED_AT" in r.output
    lst = tmp_path / "list.csv"
    lst.write_text("name,code\n深圳市乙贸易有限公司,\n张三,440301198501011234\n无此公司,\n", encoding="utf-8")
    r = invoke("check", str(lst))
    assert r.exit_code == 0, r.output
    rep = pl.read_csv(out / "check.csv", infer_schema=False)
    assert rep["status"].to_list() == ["resolved", "unresolved", "unresolved"]
    assert "dishonest_debtor×1" in rep["active_records"][0]
    assert rep["input_code"][1] == "440301********1234"  # masked in the report
    assert "440301198501011234" not in (out / "check.csv").read_text(encoding="utf-8")


def test_user_errors_exit_2_with_a_message(run, tmp_path):
    invoke, _ = run
    r = invoke("check", str(tmp_path / "missing.csv"))
    assert r.exit_code == 2 and "file not found" in r.output
    bad = tmp_path / "bad.csv"
    bad.write_text("foo,bar\n1,2\n", encoding="utf-8")
    r = invoke("check", str(bad))
    assert r.exit_code == 2 and "needs a name column" in r.output
    r = invoke("control", "没有这家公司")
    assert r.exit_code == 2 and "no entity matches" in r.output
    r = CliRunner().invoke(_app(), ["risk", "--frames", str(tmp_path / "nowhere")],
                           env={"CREDGRAPH_WORKSPACE__PATH": str(tmp_path / "ws")})
    assert r.exit_code == 2 and "missing nodes.parquet" in r.output
    r = CliRunner().invoke(_app(), ["grade"], env={"CREDGRAPH_WORKSPACE__PATH": str(tmp_path / "empty")})
    assert r.exit_code == 2 and "cannot open the graph store" in r.output  # no graph built yet


def _app():
    app = typer.Typer()
    register(app)
    return app


def test_run_all_writes_every_output(tmp_path):
    from credgraph.analytics import CreditNetwork, run_all
    from credgraph.config import AnalyticsConfig

    d = _frames(tmp_path)
    net = CreditNetwork.from_frames(pl.read_parquet(d / "nodes.parquet"), pl.read_parquet(d / "edges.parquet"))
    paths = run_all(net, AnalyticsConfig(as_of="2024-01-01"), tmp_path / "out")
    summary = paths.pop("_summary")
    assert summary["entities"] == 4 and summary["at_risk"] == 1
    for p in paths.values():
        assert p.exists() and p.stat().st_size > 0
    assert pl.read_parquet(paths["grades"]).height == 3


def test_risk_explains_a_named_entity(run):
    invoke, out = run
    r = invoke("risk", "--explain", "张三")
    assert r.exit_code == 0, r.output
    assert "张三 (p1): top sources:" in r.output
    assert "100% from 深圳市乙贸易有限公司: 深圳市乙贸易有限公司 <-[LEGAL_REP_OF]- 张三" in r.output
