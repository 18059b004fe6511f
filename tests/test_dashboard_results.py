"""The dashboard reads the analytics stage's stored results (``credgraph analyse``) and shows
exactly what it shows when it computes them itself; results of another graph generation or
other settings are refused (computed again on a small graph, else the command is named).

The city (600 entities) is built once per session with the stages' public APIs, its results
stored by ``credgraph.analytics.results.analyse``; tests that change it copy it first.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from credgraph.analytics.results import StaleResults, load_results, results_dir
from credgraph.config import Config
from credgraph.dashboard import DashboardError, Workbench
from credgraph.dashboard.sample import cached_city

ENTITIES = 600
SEED = 7


@pytest.fixture(scope="session")
def city(tmp_path_factory) -> Path:
    return cached_city(tmp_path_factory.getbasetemp() / "dashboard-city", ENTITIES, SEED)


def _cfg(ws: Path) -> Config:
    cfg = Config()
    cfg.workspace.path = str(ws)
    return cfg


def _copy(city: Path, to: Path) -> Path:
    shutil.copytree(city, to, symlinks=True)
    return to


@pytest.fixture(scope="module")
def pair(city, tmp_path_factory):
    """(stored, computed): a Workbench reading the stored results and one on a copy of the same
    workspace without them, which computes the analytics in memory."""
    assert (results_dir(_cfg(city)) / "stamp.json").is_file(), "the sample workspace keeps no results"
    bare = _copy(city, tmp_path_factory.mktemp("bare") / "ws")
    shutil.rmtree(results_dir(_cfg(bare)))
    stored, computed = Workbench(_cfg(city)), Workbench(_cfg(bare))
    stored.warm_up(background=False)
    computed.warm_up(background=False)
    yield stored, computed
    stored.close()
    computed.close()


def _same(a: pl.DataFrame, b: pl.DataFrame, what: str) -> None:
    assert a.height == b.height, f"{what}: {a.height} rows stored vs {b.height} computed"
    assert_frame_equal(a, b, check_exact=False, rel_tol=1e-9, abs_tol=1e-12, check_dtypes=False), what


def _same_dict(a: dict | None, b: dict | None, what: str) -> None:
    assert (a is None) == (b is None), what
    if a is None:
        return
    assert a.keys() == b.keys(), what
    for k in a:
        if isinstance(a[k], float):
            assert a[k] == pytest.approx(b[k], rel=1e-9, abs=1e-12, nan_ok=True), f"{what}.{k}"
        else:
            assert a[k] == b[k], f"{what}.{k}"


def test_the_workbench_says_where_its_results_come_from(pair):
    stored, computed = pair
    assert stored.analysis().origin.startswith("stored results")
    assert "risk" not in stored.analysis().seconds  # nothing propagated: read
    assert (results_dir(stored.cfg) / "graph_nodes.parquet").is_file()  # the network read from the kept frames
    assert computed.analysis().origin.startswith("computed by the dashboard")
    # both are the same graph: the same entities in the same network
    assert stored.analysis().net.n == computed.analysis().net.n


def test_profiles_from_stored_results_equal_profiles_computed_in_memory(pair):
    stored, computed = pair
    a = computed.analysis()
    scores = a.risk.scores
    # the riskiest companies, some that only received risk, graded firms, shell firms and persons
    picks = (scores.filter(pl.col("label") == "LegalPerson").head(6)["node_id"].to_list()
             + scores.filter((pl.col("seed") == 0) & (pl.col("received") > 0)).head(6)["node_id"].to_list()
             + a.grades.grades.sort("score").head(4)["node_id"].to_list()
             + a.shells.firms.filter(pl.col("group_id").is_not_null()).head(4)["node_id"].to_list()
             + scores.filter(pl.col("label") == "NaturalPerson").head(4)["node_id"].to_list())
    picks = list(dict.fromkeys(picks))
    assert len(picks) >= 15
    for nid in picks:
        p, q = stored.profiles.profile(nid), computed.profiles.profile(nid)
        _same_dict(p.grade, q.grade, f"{nid} grade")
        _same_dict(p.risk, q.risk, f"{nid} risk")
        _same_dict(p.shell, q.shell, f"{nid} shell")
        _same_dict(p.controller, q.controller, f"{nid} controller")
        for field in ("contributions", "sources", "timeline", "related", "owners", "controls", "risk_scan"):
            _same(getattr(p, field), getattr(q, field), f"{nid} {field}")
        assert p.reasons == q.reasons, nid
        assert p.header == q.header and p.as_of == q.as_of, nid


def test_lists_from_stored_results_equal_lists_computed_in_memory(pair):
    stored, computed = pair
    _same(stored.lists.shell_groups(), computed.lists.shell_groups(), "shell groups")
    _same(stored.lists.shell_firms(), computed.lists.shell_firms(), "shell firms")
    _same(stored.lists.shell_candidates(), computed.lists.shell_candidates(), "shell candidates")
    for k, v in stored.lists.overview().items():
        _same(v, computed.lists.overview()[k], f"overview {k}")
    _same(stored.lists.city_by("district"), computed.lists.city_by("district"), "city by district")
    s, c = stored.lists.inspection(11, 0.1), computed.lists.inspection(11, 0.1)
    _same(s.targets, c.targets, "inspection targets")
    assert s.targets.height > 0
    _same(stored.controllers().sort("company_id"), computed.controllers().sort("company_id"), "controllers")


def _next_generation(ws: Path) -> None:
    """What a new ``credgraph graph load`` leaves: the next generation in the marker."""
    p = ws / "graph" / "generation.json"
    gen = json.loads(p.read_text())
    gen["generation"] += 1
    gen["at"] = "2031-01-01T00:00:00+00:00"
    p.write_text(json.dumps(gen))


def test_results_of_another_graph_generation_are_refused(city, tmp_path):
    ws = _copy(city, tmp_path / "ws")
    cfg = _cfg(ws)
    assert load_results(cfg).meta["graph"]["generation"] == 1
    _next_generation(ws)
    with pytest.raises(StaleResults, match=r"generation 1 .* now generation 2 .*credgraph analyse"):
        load_results(cfg)
    # a big graph (here: a limit below this one's size): the page names the command, shows nothing stale
    cfg.dashboard.compute_limit = 100
    w = Workbench(cfg)
    try:
        with pytest.raises(DashboardError, match=r"run `credgraph analyse` again.*compute_limit"):
            w.analysis()
    finally:
        w.close()
    # a small graph: computed here
    w = Workbench(_cfg(ws))
    try:
        assert w.analysis().origin.startswith("computed by the dashboard")
    finally:
        w.close()


def test_results_of_other_settings_are_refused(city):
    cfg = _cfg(city)
    cfg.analytics.decay = cfg.analytics.decay / 2
    with pytest.raises(StaleResults, match="other analytics settings"):
        load_results(cfg)


def test_credgraph_analyse_stores_results_for_the_current_generation(city, tmp_path):
    from typer.testing import CliRunner

    from credgraph.cli import app

    ws = _copy(city, tmp_path / "ws")
    _next_generation(ws)
    with pytest.raises(StaleResults):
        load_results(_cfg(ws))
    r = CliRunner().invoke(app, ["analyse"], env={"CREDGRAPH_WORKSPACE__PATH": str(ws)})
    assert r.exit_code == 0, r.output
    assert "graph generation 2" in r.output
    got = load_results(_cfg(ws))
    assert got.meta["graph"]["generation"] == 2
    # the results are the graph's: every graded enterprise is a company of the graph
    before = pl.read_parquet(results_dir(_cfg(city)) / "grades.parquet")
    _same(got.table("grades").sort("node_id"), before.sort("node_id"), "grades of the same graph")


def test_analyse_without_a_graph_says_so(tmp_path):
    from typer.testing import CliRunner

    from credgraph.cli import app

    r = CliRunner().invoke(app, ["analyse"], env={"CREDGRAPH_WORKSPACE__PATH": str(tmp_path / "empty")})
    assert r.exit_code == 2
    assert "credgraph graph load" in r.output and "Traceback" not in r.output


def test_a_second_analyse_at_the_same_time_is_refused(city, tmp_path):
    """Two analytics runs on one workspace would race to replace the results (the slower, older
    one last): while one holds the workspace, a second stops at once, naming the first."""
    from typer.testing import CliRunner

    from credgraph.cli import app
    from credgraph.security.locks import workspace_lock

    ws = _copy(city, tmp_path / "ws")
    _next_generation(ws)
    with workspace_lock(_cfg(ws), "analyse", command="credgraph analyse"):
        r = CliRunner().invoke(app, ["analyse"], env={"CREDGRAPH_WORKSPACE__PATH": str(ws)})
    assert r.exit_code == 2, r.output
    assert "another `credgraph analyse` is running" in r.output and "Traceback" not in r.output
    with pytest.raises(StaleResults):  # the refused run wrote nothing
        load_results(_cfg(ws))
    r = CliRunner().invoke(app, ["analyse"], env={"CREDGRAPH_WORKSPACE__PATH": str(ws)})
    assert r.exit_code == 0, r.output  # the lock is gone with its holder


def _approve_repair_of_riskiest_firm(ws: Path) -> tuple[str, str]:
    """Approve, in the data interface's database, the repair of one active adverse record of the
    firm with the highest own risk; returns (firm node id, record node id)."""
    from credgraph.analytics.frames import load_frames
    from credgraph.analytics.network import CreditNetwork
    from credgraph.api.db import ApiDB

    net = CreditNetwork.from_frames(*load_frames(_cfg(ws)))
    scores = pl.read_parquet(results_dir(_cfg(ws)) / "risk_scores.parquet")
    firms = scores.filter((pl.col("label") == "LegalPerson") & (pl.col("seed") > 0)).sort("seed", descending=True)
    for firm in firms["node_id"].to_list():
        recs = net.records.filter((pl.col("owner_id") == firm) & pl.col("status").fill_null("active").eq("active")
                                  & pl.col("event_type").is_in(["dishonest_debtor", "serious_illegal", "penalty",
                                                                "abnormal_operations"]))
        if recs.height:
            record = recs["record_node"][0]
            break
    db = ApiDB(ws / "api" / "api.sqlite")
    rep = db.add_repair(firm, record, "rectified", "evidence", "applicant")
    db.update_repair(rep["id"], "approved", "authority", "approve", "ok")
    db.close()
    return firm, record


def _oracle(ws: Path, record: str, cuts: list | None):
    """Risk and grades recomputed from scratch on the graph with the record repaired (graded
    against ``cuts`` when given: a repair does not re-calibrate the city's cut points)."""
    import dataclasses

    from credgraph.analytics import compute_risk, grade_enterprises
    from credgraph.analytics.frames import load_frames
    from credgraph.analytics.network import CreditNetwork

    cfg = _cfg(ws)
    nodes, edges = load_frames(cfg)
    nodes = nodes.with_columns(pl.when(pl.col("node_id") == record).then(pl.lit("repaired"))
                               .otherwise(pl.col("status")).alias("status"))
    net = CreditNetwork.from_frames(nodes, edges)
    acfg = cfg.analytics
    if cuts is not None:
        acfg = dataclasses.replace(acfg, grade_method="cuts", grade_cuts=tuple(cuts))
    risk = compute_risk(net, cfg.analytics, load_results(_cfg(ws)).as_of if cuts is not None else None)
    return risk, grade_enterprises(net, acfg, risk.as_of, risk)


def test_an_approved_credit_repair_stops_counting_on_every_page(city, tmp_path):
    """DOMAIN: on approval the record stops counting. The dashboard applies repairs approved after
    the stored results (incrementally, against the cut points in force), computes with them when it
    computes itself, and `credgraph analyse` includes them: each equals a recomputation from scratch."""
    from typer.testing import CliRunner

    from credgraph.cli import app

    ws = _copy(city, tmp_path / "ws")
    cuts = list(load_results(_cfg(ws)).meta["cuts"])
    before = pl.read_parquet(results_dir(_cfg(ws)) / "grades.parquet")
    firm, record = _approve_repair_of_riskiest_firm(ws)
    # The oracle: the record marked repaired by hand, everything recomputed from scratch.
    risk_fixed, grades_fixed = _oracle(ws, record, cuts)

    stored = Workbench(_cfg(ws))
    try:
        a = stored.analysis()
        assert a.origin.startswith("stored results") and "repairs" in a.seconds
        tl = stored.profiles.profile(firm, explain=False).timeline
        assert tl.filter(pl.col("record") == record)["status"].to_list() == ["repaired"]
        want = grades_fixed.grades.filter(pl.col("node_id") == firm).row(0, named=True)
        got = a.grades.grades.filter(pl.col("node_id") == firm).row(0, named=True)
        assert (got["grade"], got["score"]) == (want["grade"], pytest.approx(want["score"], abs=0.011))
        old = before.filter(pl.col("node_id") == firm).row(0, named=True)
        assert got["score"] > old["score"]  # the repaired record no longer costs points
        want_risk = risk_fixed.scores.filter(pl.col("node_id") == firm)["risk"][0]
        assert a.risk_of[firm] == pytest.approx(want_risk, rel=1e-6)  # the full run stops at its tolerance
    finally:
        stored.close()

    # `credgraph analyse` after the approval: the results include it (a full grading).
    r = CliRunner().invoke(app, ["analyse"], env={"CREDGRAPH_WORKSPACE__PATH": str(ws)})
    assert r.exit_code == 0, r.output
    _, grades_full = _oracle(ws, record, None)
    got = load_results(_cfg(ws)).table("grades").filter(pl.col("node_id") == firm).row(0, named=True)
    want = grades_full.grades.filter(pl.col("node_id") == firm).row(0, named=True)
    assert (got["grade"], got["score"]) == (want["grade"], pytest.approx(want["score"], abs=1e-9))

    # The dashboard computing itself (no stored results) marks the record before computing.
    shutil.rmtree(results_dir(_cfg(ws)))
    computed = Workbench(_cfg(ws))
    try:
        g = computed.analysis().grades.grades.filter(pl.col("node_id") == firm).row(0, named=True)
        assert (g["grade"], g["score"]) == (want["grade"], pytest.approx(want["score"], abs=1e-9))
        tl = computed.profiles.profile(firm, explain=False).timeline
        assert tl.filter(pl.col("record") == record)["status"].to_list() == ["repaired"]
    finally:
        computed.close()


def test_a_damaged_repairs_database_is_a_clear_refusal(city, tmp_path):
    """The approved repairs are read from the data interface's database: when it is not a database,
    `credgraph analyse` says which file and stops (no traceback, no results computed without them)."""
    from typer.testing import CliRunner

    from credgraph.cli import app

    ws = _copy(city, tmp_path / "ws")
    _next_generation(ws)
    (ws / "api").mkdir(exist_ok=True)
    for side in ("api.sqlite-wal", "api.sqlite-shm"):  # a write-ahead log would supply the pages
        (ws / "api" / side).unlink(missing_ok=True)
    (ws / "api" / "api.sqlite").write_bytes(b"this is not a database\x00" * 64)
    r = CliRunner().invoke(app, ["analyse"], env={"CREDGRAPH_WORKSPACE__PATH": str(ws)})
    assert r.exit_code == 2, r.output
    assert "api.sqlite" in r.output and "approved credit repairs" in r.output and "Traceback" not in r.output
    with pytest.raises(StaleResults):
        load_results(_cfg(ws))
