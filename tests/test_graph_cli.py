"""The graph stage's commands and the local Neo4j server manager, run for real."""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl
import pytest
import typer
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))
from graph_fixtures import HASH_KEY, TRICKY, neo4j_cfg, small_inputs  # noqa: E402,F401  (neo4j_cfg: fixture)

from credgraph.graph import cli as graph_cli  # noqa: E402
from credgraph.graph import neo4j_server as srv  # noqa: E402


@pytest.fixture
def app():
    a = typer.Typer()

    @a.command("noop")
    def noop() -> None:  # a Typer app needs a command of its own to take sub-apps
        pass

    graph_cli.register(a)
    return a


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    recs, asg, ents = small_inputs()
    (tmp_path / "records").mkdir()
    (tmp_path / "entities").mkdir()
    recs.write_parquet(tmp_path / "records" / "records.parquet")
    asg.write_parquet(tmp_path / "entities" / "assignments.parquet")
    ents.write_parquet(tmp_path / "entities" / "entities.parquet")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CREDGRAPH_WORKSPACE__PATH", str(tmp_path))
    monkeypatch.setenv("CREDGRAPH_GRAPH__HASH_KEY", HASH_KEY)
    monkeypatch.setenv("CREDGRAPH_GRAPH__BACKEND", "embedded")
    return tmp_path


def test_graph_load_search_query_on_the_embedded_store(app, workspace):
    r = CliRunner().invoke(app, ["graph", "load"])
    assert r.exit_code == 0, r.output
    assert "LegalPerson\t5" in r.output and "SHAREHOLDER_OF\t3" in r.output
    nodes = pl.read_parquet(workspace / "graph" / "frames" / "nodes.parquet")
    assert nodes.height == 12
    r = CliRunner().invoke(app, ["graph", "search", "华强电子"])
    assert r.exit_code == 0 and "C1" in r.output
    out = workspace / "rows.csv"
    r = CliRunner().invoke(app, ["query", "MATCH (n:LegalPerson) WHERE n.name = $name RETURN n.node_id AS id, "
                                          "n.name AS name", "--param", f"name={TRICKY}", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert pl.read_csv(out).to_dicts() == [{"id": "C4", "name": TRICKY}]
    r = CliRunner().invoke(app, ["query", "MATCH (n:LegalPerson) DETACH DELETE n"])
    assert r.exit_code == 2 and "read-only" in r.output
    r = CliRunner().invoke(app, ["graph", "neighbours", "C1", "--hops", "2", "--limit", "3"])
    assert r.exit_code == 0 and "1-3 of" in r.output
    r = CliRunner().invoke(app, ["graph", "neighbours", "nobody"])
    assert r.exit_code == 2 and "nobody" in r.output


def test_graph_load_without_resolution_names_the_missing_file(app, workspace):
    (workspace / "entities" / "assignments.parquet").unlink()
    r = CliRunner().invoke(app, ["graph", "load"])
    assert r.exit_code == 2
    assert "assignments.parquet" in r.output and "Traceback" not in r.output


def test_query_without_a_graph_says_how_to_build_one(app, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CREDGRAPH_WORKSPACE__PATH", str(tmp_path / "empty"))
    r = CliRunner().invoke(app, ["query", "MATCH (n) RETURN n"])
    assert r.exit_code == 2 and "credgraph graph load" in r.output


@pytest.mark.neo4j
def test_neo4j_cli_against_the_running_test_server(app, neo4j_cfg, workspace, monkeypatch):
    r = CliRunner().invoke(app, ["neo4j", "status", "--test"])
    assert r.exit_code == 0 and "is running" in r.output
    r = CliRunner().invoke(app, ["neo4j", "start", "--test"])  # idempotent
    assert r.exit_code == 0 and "already running" in r.output
    g = neo4j_cfg.graph
    for k, v in {"CREDGRAPH_GRAPH__BACKEND": "neo4j", "NEO4J_URI": g.neo4j_uri, "NEO4J_USER": g.neo4j_user,
                 "NEO4J_PASSWORD": g.neo4j_password}.items():
        monkeypatch.setenv(k, v)
    r = CliRunner().invoke(app, ["graph", "load"])
    assert r.exit_code == 0, r.output
    assert "HAS_RECORD\t4" in r.output
    r = CliRunner().invoke(app, ["query", "MATCH (n:LegalPerson {node_id: 'C1'}) RETURN n.uscc AS uscc"])
    assert r.exit_code == 0 and "914403001922038216" in r.output
    monkeypatch.setenv("NEO4J_PASSWORD", "wrong-password")
    r = CliRunner().invoke(app, ["query", "MATCH (n) RETURN n"])
    assert r.exit_code == 2 and "NEO4J_PASSWORD" in r.output and "Traceback" not in r.output


def test_server_layout_and_configuration_are_local_and_locked_down():
    from credgraph.config import Config

    cfg = Config()
    lay = srv.layout(cfg)
    assert lay.instance == Path(cfg.graph.neo4j_home).expanduser() / "instances" / "7687"
    conf = srv.render_conf(cfg, lay)
    for line in ("server.default_listen_address=127.0.0.1", "server.bolt.listen_address=:7687",
                 "server.http.enabled=false", "server.https.enabled=false", "dbms.security.auth_enabled=true",
                 "dbms.usage_report.enabled=false", "dbms.security.allow_csv_import_from_file_urls=false",
                 f"server.memory.heap.max_size={cfg.graph.neo4j_heap}",
                 f"server.memory.pagecache.size={cfg.graph.neo4j_pagecache}"):
        assert line in conf.splitlines(), line
    test = srv.config_for_tests(cfg)
    assert srv.layout(test).instance.name == "17687" and test.graph.neo4j_password != cfg.graph.neo4j_password


def test_server_refuses_remote_addresses():
    from credgraph.config import Config

    cfg = Config()
    cfg.graph.neo4j_uri = "bolt://db.example.org:7687"
    with pytest.raises(srv.ServerError, match="only a server on this machine"):
        srv.start(cfg, log=lambda m: None)
    cfg.graph.neo4j_uri = "http://127.0.0.1:7474"
    with pytest.raises(srv.ServerError, match="bolt://"):
        srv.layout(cfg)


@pytest.mark.neo4j
def test_server_start_is_idempotent_and_status_answers(neo4j_cfg):
    st = srv.start(neo4j_cfg, log=lambda m: None)
    assert st.answering and "already running" in st.message and st.version.startswith("5.26")
    st = srv.status(neo4j_cfg)
    assert st.running and st.answering and st.pid is not None
    assert srv.layout(neo4j_cfg).pid_file.read_text().strip() == str(st.pid)
