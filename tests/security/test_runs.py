"""Issue 13, "Why" 4 and 6: concurrent runs must not corrupt or lose data, partial graphs are never
served silently, and an open dashboard follows a newer graph.

Every pair among ``load``, ``resolve``, ``review``, ``graph load`` and the dashboard is tried:
the pairs that write the same thing exclude each other (the second run refuses, naming the
first and its pid), the others run side by side and leave complete, consistent outputs. The
holder is a real process holding the lock the way credgraph does, so the pid in the message
is checked; where timing allows a real race (two graph loads, a review during a resolve, a
killed load) it is run for real.
"""

from __future__ import annotations

import json
import os
import signal
import time

import polars as pl
import pytest

from secutil import cli, hold_lock, spawn, wait_for


def _specs(ws):
    return sorted((ws / "raw" / "specs").glob("*.toml"))


def _rel_total(ws, name, neo) -> int:
    r = cli(ws, "query", "MATCH ()-[r]->() RETURN count(r) AS c", backend=name, neo=neo)
    assert r.exit_code == 0, r.output
    return int([x for x in r.output.replace("│", " ").split() if x.isdigit()][-1])


# ------------------------------------------------------------------ pairs that exclude each other
@pytest.mark.parametrize("lock, args, what", [
    ("load", ["load", "RAW"], "credgraph load"),
    ("resolve", ["resolve"], "credgraph resolve"),
    ("graph-load", ["graph", "load"], "credgraph graph load"),
])
def test_the_second_writer_refuses_naming_the_first(ws, lock, args, what):
    args = [str(ws / "raw" / "specs") if a == "RAW" else a for a in args]
    before = {p.name: p.stat().st_mtime_ns for d in ("records", "entities") for p in (ws / d).iterdir()}
    holder = hold_lock(ws / "locks" / f"{lock}.lock")
    try:
        r = cli(ws, *args)
    finally:
        holder.kill()
        holder.wait()
    assert r.exit_code == 2, r.output
    assert f"pid {holder.pid}" in r.output and "another `credgraph test-holder` is running" in r.output
    assert "Traceback" not in r.output
    after = {p.name: p.stat().st_mtime_ns for d in ("records", "entities") for p in (ws / d).iterdir()}
    assert after == before  # the refused run wrote nothing
    assert cli(ws, *args).exit_code == 0  # and runs once the other is gone


def test_two_loads_of_different_catalogs_lose_neither(ws):
    """Race two real loads, each of one catalog: each either finishes with its catalog in the records or
    refuses clearly; run again what refused, and both catalogs are there."""
    specs = _specs(ws)[:2]
    codes = [s.stem for s in specs]
    procs = [spawn(ws, "load", str(s)) for s in specs]
    outs = [(p.wait(120), p.stdout.read()) for p in procs]
    for (code, out), spec in zip(outs, specs):
        assert code in (0, 2), out
        if code == 2:
            assert "another `credgraph load` is running" in out and "Traceback" not in out
            assert cli(ws, "load", str(spec)).exit_code == 0
    cats = set(pl.read_parquet(ws / "records" / "records.parquet")["catalog"].unique().to_list())
    assert set(codes) <= cats, (codes, cats)


def test_two_graph_loads_at_once_leave_one_whole_graph(ws, backend):
    name, neo = backend
    assert cli(ws, "graph", "load", backend=name, neo=neo).exit_code == 0
    want = _rel_total(ws, name, neo)
    procs = [spawn(ws, "graph", "load", backend=name, neo=neo) for _ in range(2)]
    outs = [(p.wait(300), p.stdout.read()) for p in procs]
    assert all(code in (0, 2) for code, _ in outs), outs
    assert any(code == 0 for code, _ in outs)
    for code, out in outs:
        if code == 2:
            assert "another `credgraph graph load" in out and "pid" in out and "Traceback" not in out
    assert _rel_total(ws, name, neo) == want  # no duplicated or missing relationship


def test_neo4j_loads_from_two_workspaces_exclude_each_other(ws, tmp_path, neo4j_cfg):
    """The Neo4j lock is per server, not per workspace: a load of another workspace waits its turn."""
    from credgraph.graph.generation import target_lock_path

    holder = hold_lock(target_lock_path(neo4j_cfg))
    try:
        r = cli(ws, "graph", "load", backend="neo4j", neo=neo4j_cfg)
    finally:
        holder.kill()
        holder.wait()
    assert r.exit_code == 2 and f"pid {holder.pid}" in r.output, r.output


# ------------------------------------------------------------------ pairs that run side by side
@pytest.mark.parametrize("lock, args", [
    ("load", ["resolve"]),             # resolve reads the last complete records
    ("load", ["graph", "load"]),
    ("resolve", ["graph", "load"]),    # graph load reads the last complete resolution
    ("graph-load", ["resolve"]),
    ("graph-load", ["review"]),
    ("load", ["review"]),
])
def test_independent_runs_go_side_by_side(ws, lock, args):
    holder = hold_lock(ws / "locks" / f"{lock}.lock")
    try:
        r = cli(ws, *args)
    finally:
        holder.kill()
        holder.wait()
    assert r.exit_code == 0, r.output


def test_a_review_decision_during_a_resolve_is_kept(ws):
    from credgraph.resolution.pipeline import load_resolution

    res = load_resolution(ws / "entities")
    pair = res.review.row(0, named=True)
    a, b = pair["left"], pair["right"]
    proc = spawn(ws, "resolve", "--full")
    assert wait_for(lambda: (ws / "locks" / "resolve.lock").exists() and
                    _locked(ws / "locks" / "resolve.lock"), timeout=60), "the resolve never took its lock"
    r = cli(ws, "review", "--match", a, b, "--who", "li", "--why", "same phone and address")
    running = proc.poll() is None
    assert r.exit_code == 0 and "recorded match" in r.output, r.output
    if running:
        assert "kept in the journal" in r.output
    assert proc.wait(300) == 0, proc.stdout.read()
    assert cli(ws, "resolve").exit_code == 0
    j = pl.read_parquet(ws / "entities" / "judgements.parquet")
    assert j.filter((pl.col("left") == min(a, b)) & (pl.col("right") == max(a, b)) &
                    (pl.col("decision") == "match")).height == 1
    after = load_resolution(ws / "entities")
    assert after.entity_of(a) == after.entity_of(b)  # and it was applied


def _locked(path) -> bool:
    from credgraph.security.locks import is_locked

    return is_locked(path)


def test_two_review_decisions_at_once_are_both_kept(ws):
    from credgraph.resolution.pipeline import load_resolution

    rv = load_resolution(ws / "entities").review
    pairs = [rv.row(i, named=True) for i in range(2)]
    procs = [spawn(ws, "review", "--no-match", p["left"], p["right"], "--who", "li", "--why", f"case {i}")
             for i, p in enumerate(pairs)]
    assert all(p.wait(120) == 0 for p in procs)
    assert cli(ws, "resolve").exit_code == 0
    j = pl.read_parquet(ws / "entities" / "judgements.parquet")
    assert set(j["why"].to_list()) >= {"case 0", "case 1"}


# ------------------------------------------------------------------ complete graphs only
def test_a_killed_embedded_load_leaves_the_previous_graph_and_is_reported(ws):
    from credgraph.graph.generation import current_generation, loading_path

    assert cli(ws, "graph", "load").exit_code == 0
    cfg = _cfg(ws)
    gen = current_generation(cfg)["generation"]
    want = _rel_total(ws, "embedded", None)
    proc = spawn(ws, "graph", "load")
    assert wait_for(lambda: loading_path(cfg).exists(), timeout=120, step=0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    r = cli(ws, "graph", "search", "公司")  # any command: readers get the previous, complete graph
    assert r.exit_code == 0, r.output
    assert _rel_total(ws, "embedded", None) == want and current_generation(cfg)["generation"] == gen
    r = cli(ws, "graph", "load")
    assert r.exit_code == 0 and "was interrupted" in r.output, r.output
    assert current_generation(cfg)["generation"] == gen + 1
    assert not [p for p in (ws / "graph").iterdir() if p.name.endswith(".tmp")]  # its temp folder is gone


@pytest.mark.neo4j
def test_a_killed_neo4j_load_is_reported_not_served(ws, neo4j_cfg):
    from credgraph.graph.neo4j_store import Neo4jStore
    from credgraph.graph.store import StoreError

    assert cli(ws, "graph", "load", backend="neo4j", neo=neo4j_cfg).exit_code == 0
    want = _rel_total(ws, "neo4j", neo4j_cfg)
    probe = Neo4jStore(neo4j_cfg)
    proc = spawn(ws, "graph", "load", backend="neo4j", neo=neo4j_cfg)
    try:
        assert wait_for(lambda: (probe.generation() or {}).get("state") == "loading", timeout=120, step=0.02)
        time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        probe.close()
    with pytest.raises(StoreError, match="was interrupted"):
        Neo4jStore(neo4j_cfg, read_only=True)
    r = cli(ws, "query", "MATCH (n) RETURN count(n)", backend="neo4j", neo=neo4j_cfg)
    assert r.exit_code == 2 and "was interrupted" in r.output and "graph load" in r.output
    assert cli(ws, "graph", "load", backend="neo4j", neo=neo4j_cfg).exit_code == 0
    assert _rel_total(ws, "neo4j", neo4j_cfg) == want


def test_the_dashboard_switches_to_a_newer_graph(ws):
    from credgraph.dashboard import Workbench
    from credgraph.dashboard.auth import follow_newest_graph

    assert cli(ws, "graph", "load").exit_code == 0
    cfg = _cfg(ws)
    made: list[Workbench] = []

    def factory():
        if not made or made[-1]._closed:
            w = Workbench(cfg)
            w._closed = False
            orig = w.close

            def close():
                w._closed = True
                orig()
            w.close = close
            made.append(w)
        return made[-1]

    first = follow_newest_graph(cfg, factory)
    n1 = first.counts()["HAS_RECORD"]
    assert follow_newest_graph(cfg, factory) is first  # same generation: same workbench
    # a newer graph: one catalog fewer
    recs = pl.read_parquet(ws / "records" / "records.parquet")
    drop = recs.filter(pl.col("kind") == "event")["catalog"].unique().sort().to_list()[0]
    recs.filter(pl.col("catalog") != drop).write_parquet(ws / "records" / "records.parquet")
    assert cli(ws, "graph", "load").exit_code == 0
    second = follow_newest_graph(cfg, factory)
    assert second is not first and first._closed
    assert second.counts()["HAS_RECORD"] < n1
    second.close()


def _cfg(ws):
    from credgraph.config import Config

    cfg = Config()
    cfg.workspace.path = str(ws)
    return cfg
