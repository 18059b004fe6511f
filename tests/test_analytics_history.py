"""Grade history: runs are kept with the records that moved grades; the CLI shows the diff."""

from __future__ import annotations

import dataclasses
import shutil
from types import SimpleNamespace

from credgraph.analytics import CreditNetwork, grade_enterprises, make_frames
from credgraph.analytics.history import grade_history, latest_changes, record_run
from credgraph.config import AnalyticsConfig

AS_OF = "2024-01-01"


def _city(bad: bool, repaired: bool = False):
    """c0 and c99 share their legal representative p0; with ``bad``, c99 is put on the serious
    illegal list on 2023-11-20 (record rec:88), ``repaired`` later."""
    nodes = [{"node_id": f"c{i}", "label": "LegalPerson", "name": f"深圳市{i}有限公司", "est_date": "2010-01-01",
              "registered_capital": 500.0} for i in (0, 99)]
    edges = [{"src": "p0", "dst": "c0", "type": "LEGAL_REP_OF"}, {"src": "p0", "dst": "c99", "type": "LEGAL_REP_OF"}]
    for i, c in enumerate(("c0", "c99")):
        nodes.append({"node_id": f"rec:s{i}", "label": "CreditRecord", "event_type": "social_insurance",
                      "date": "2023-06-30", "count": 20.0})
        edges.append({"src": c, "dst": f"rec:s{i}", "type": "HAS_RECORD"})
    if bad:
        nodes.append({"node_id": "rec:88", "label": "CreditRecord", "event_type": "serious_illegal", "date": "2023-11-20",
                      "status": "repaired" if repaired else "active"})
        edges.append({"src": "c99", "dst": "rec:88", "type": "HAS_RECORD"})
    return CreditNetwork.from_frames(*make_frames(nodes, edges))


def test_history_says_which_record_at_which_related_firm_moved_a_grade(tmp_path):
    cfg = SimpleNamespace(workspace_path=tmp_path)
    acfg = dataclasses.replace(AnalyticsConfig(), grade_method="cuts")
    for k, (bad, repaired) in enumerate([(False, False), (True, False), (True, True)]):
        net = _city(bad, repaired)
        record_run(cfg, grade_enterprises(net, acfg, AS_OF), net, run_id=f"run{k}")
        if k == 1:
            changes = latest_changes(cfg)
            assert set(changes["node_id"].to_list()) == {"c0", "c99"}
    h = grade_history(cfg, "c0")
    assert [x["grade"] for x in h] == ["A+", "A", "A+"] and h[0]["because"] is None
    assert h[1]["because"].startswith("A+ → A on 2023-11-20 because serious_illegal record rec:88 (2023-11-20) "
                                      "began to count at 深圳市99有限公司 (c99), a related party")
    assert "LEGAL_REP_OF" in h[1]["because"]  # the path it came by
    assert "stopped counting at 深圳市99有限公司 (c99)" in h[2]["because"] and h[2]["because"].startswith("A → A+")
    own = grade_history(cfg, "c99")
    assert own[1]["because"].startswith("A+ → E on 2023-11-20 because serious_illegal record rec:88")
    assert grade_history(cfg, "nobody") == []


def test_grade_diff_cli(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from credgraph.cli import app

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CREDGRAPH_WORKSPACE__PATH", str(tmp_path / "ws"))
    monkeypatch.setenv("CREDGRAPH_ANALYTICS__GRADE_METHOD", "cuts")
    runner = CliRunner()
    for bad in (False, True):
        frames = tmp_path / f"frames{bad}"
        frames.mkdir()
        nodes, edges = make_frames(*_frames(bad))
        nodes.write_parquet(frames / "nodes.parquet")
        edges.write_parquet(frames / "edges.parquet")
        r = runner.invoke(app, ["grade", "--frames", str(frames), "--as-of", AS_OF])
        assert r.exit_code == 0, r.output
        shutil.rmtree(frames)
    r = runner.invoke(app, ["grade", "--diff"])
    assert r.exit_code == 0, r.output
    assert "c0: A+ → A on 2023-11-20 because serious_illegal record rec:88" in " ".join(r.output.split())


def _frames(bad: bool):
    net = _city(bad)
    keep = [c for c in net.nodes.columns]
    nodes = net.nodes.select(keep).to_dicts()
    edges = [{"src": net.ids[s], "dst": net.ids[d], "type": t} for s, d, t in zip(
        net.src.tolist(), net.dst.tolist(),
        [("SHAREHOLDER_OF", "LEGAL_REP_OF", "OFFICER_OF", "BRANCH_OF", "AGENT_OF", "LOCATED_AT", "USES_PHONE",
          "HAS_RECORD")[k] for k in net.etype.tolist()])]
    return [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in n.items() if v is not None} for n in nodes], edges

