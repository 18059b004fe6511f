"""Issue 13, "Why" 2, 3 and 8 (result size): the analysts' console may read the graph and nothing else.

Each hostile query of the issue is tried through the command line and the dashboard's console
on both backends: it must be refused before it runs (no file read, written or changed, nothing
downloaded, no transaction listed or killed), with a clear message. A property test then throws
generated hostile queries at the gate and runs whatever the gate lets through against the real
embedded store, checking that no file changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secutil import cli
from credgraph.security.gate import FORBIDDEN, GateError, check_query


def _files(root: Path) -> dict[str, str]:
    out = {}
    for dirpath, _, names in os.walk(root):
        for n in names:
            p = Path(dirpath) / n
            if "audit" in p.parts or "locks" in p.parts or p.suffix in (".wal", ".lock"):
                continue
            out[str(p)] = hashlib.sha1(p.read_bytes()).hexdigest()
    return out


def hostile(ws: Path) -> list[str]:
    rec = ws / "records" / "records.parquet"
    target = ws / "analytics" / "grades.parquet"
    return [
        "LOAD FROM '/etc/passwd' RETURN *",
        f"LOAD FROM '{rec}' RETURN *",
        f"COPY (MATCH (n:LegalPerson) RETURN n.name) TO '{target}'",
        "INSTALL httpfs",
        "LOAD httpfs",
        f"ATTACH '{ws}/x.lbug' AS other (dbtype lbug)",
        f"RETURN 1; COPY (MATCH (n) RETURN n.name) TO '{ws}/leak.csv'",
        "LOAD CSV FROM 'file:///etc/passwd' AS line RETURN line",
        "SHOW TRANSACTIONS",
        "TERMINATE TRANSACTIONS 'neo4j-transaction-1'",
        "CALL dbms.listConfig() YIELD name RETURN name",
        "RETURN dbms.components()",
        "CALL { MATCH (n) RETURN count(n) AS c } RETURN c",
        "MATCH (n) DETACH DELETE n",
        "MATCH (n:LegalPerson) SET n.name = 'x'",
        "CALL show_tables() RETURN *",
        "MATCH (n) RETURN n /* LOAD FROM '/etc/passwd' */ ; LOAD FROM '/etc/passwd' RETURN *",
        "USE system SHOW USERS",
        "EXPLAIN MATCH (n) RETURN n",
    ]


def test_hostile_queries_are_refused_before_running_on_both_backends(ws, backend):
    name, neo = backend
    assert cli(ws, "graph", "load", backend=name, neo=neo).exit_code == 0
    before = _files(ws)
    for q in hostile(ws):
        r = cli(ws, "query", q, backend=name, neo=neo)
        assert r.exit_code == 2 and "refused" in r.output and "Traceback" not in r.output, (q, r.output)
        assert "root:" not in r.output  # /etc/passwd never shown
    assert _files(ws) == before  # nothing written, overwritten or downloaded
    assert not (ws / "leak.csv").exists()
    # the graph is whole: nothing deleted or changed by the refused writes
    r = cli(ws, "query", "MATCH (n:LegalPerson) RETURN count(n) AS c", backend=name, neo=neo)
    assert r.exit_code == 0 and "0" != r.output.split()[-2]


def test_dashboard_console_refuses_the_same(ws, backend):
    from credgraph.config import Config
    from credgraph.dashboard import Workbench
    from credgraph.dashboard.data import DashboardError

    name, neo = backend
    assert cli(ws, "graph", "load", backend=name, neo=neo).exit_code == 0
    cfg = Config() if neo is None else __import__("copy").deepcopy(neo)
    cfg.workspace.path = str(ws)
    cfg.graph.backend = name
    w = Workbench(cfg)
    try:
        before = _files(ws)
        for q in hostile(ws):
            with pytest.raises(DashboardError, match="refused"):
                w.network.cypher(q)
        assert _files(ws) == before
    finally:
        w.close()


def test_results_are_bounded_in_bytes_not_only_rows(ws, backend):
    name, neo = backend
    assert cli(ws, "graph", "load", backend=name, neo=neo).exit_code == 0
    r = cli(ws, "query", "MATCH (n) RETURN collect(n.name) AS all_names", backend=name, neo=neo,
            CREDGRAPH_GRAPH__QUERY_MAX_BYTES="2000")
    assert r.exit_code == 0 and "size limit of 2,000 bytes" in r.output, r.output
    r = cli(ws, "query", "MATCH (n) RETURN n.name", backend=name, neo=neo, CREDGRAPH_GRAPH__QUERY_MAX_BYTES="2000")
    assert r.exit_code == 0 and "size limit" in r.output
    shown = [line.strip("│").strip() for line in r.output.splitlines() if line.startswith("│")][1:]  # after the header
    # what was shown fits the limit, counted as the rows' JSON text in UTF-8 (a Chinese name: 3 bytes a character)
    assert 0 < sum(len(json.dumps([v], ensure_ascii=False).encode("utf-8")) for v in shown) <= 2000
    total = cli(ws, "query", "MATCH (n) RETURN count(n) AS n", backend=name, neo=neo)
    assert len(shown) < int(re.search(r"│\s*(\d+)\s*│", total.output).group(1)) / 2  # cut well before all rows


def test_bad_limits_give_a_clear_message(ws):
    for args, text in ((["--timeout", "-5"], "--timeout -5"), (["--timeout", "0"], "--timeout 0"),
                       (["--limit", "0"], "--limit 0")):
        r = cli(ws, "query", "MATCH (n) RETURN n LIMIT 1", *args)
        assert r.exit_code == 2 and text in r.output and "Traceback" not in r.output
    r = cli(ws, "query", "MATCH (n) RETURN n", CREDGRAPH_GRAPH__BACKEND="neo4j", NEO4J_URI="http://127.0.0.1:7474")
    assert r.exit_code == 2 and "bolt://" in r.output and "Traceback" not in r.output


# ------------------------------------------------------------------ property test
_ALLOWED_PARTS = ["MATCH (n)", "MATCH (n:LegalPerson)", "RETURN n.name", "WITH n", "WHERE n.name CONTAINS 'a'",
                  "RETURN count(n)", "LIMIT 3", "UNWIND [1, 2] AS x", "OPTIONAL MATCH (n)-[r]->(m)", "RETURN 1"]
_HOSTILE_PARTS = (["LOAD FROM '/etc/passwd'", "COPY (MATCH (n) RETURN n) TO '{out}'", "INSTALL httpfs",
                   "ATTACH '{out}' AS db", "CALL show_tables()", "CALL dbms.listConfig()", "SHOW TRANSACTIONS",
                   "TERMINATE TRANSACTIONS 'x'", "RETURN read_csv('/etc/passwd')", "RETURN dbms.x()",
                   "CALL { RETURN 1 }", "; COPY (RETURN 1) TO '{out}'", "CREATE (:X)", "DETACH DELETE n",
                   "SET n.x = 1", "LOAD CSV FROM 'file:///etc/passwd' AS l", "RETURN range(1, 100000000)",
                   "FOREACH (x IN [1] | CREATE (:Y))", "RETURN apoc.meta.data()"]
                  + [f"{w} 1" for w in sorted(FORBIDDEN)])
_SEPARATORS = [" ", "\n", "\t", " /* c */ ", " // c\n", "  "]


def _case(word: str, flip: list[bool]) -> str:
    return "".join(c.upper() if f else c.lower() for c, f in zip(word, flip + [False] * len(word)))


@st.composite
def hostile_queries(draw):
    parts = draw(st.lists(st.sampled_from(_ALLOWED_PARTS), max_size=3))
    bad = draw(st.sampled_from(_HOSTILE_PARTS))
    flips = draw(st.lists(st.booleans(), max_size=12))
    words = bad.split(" ")
    bad = " ".join([_case(words[0], flips)] + words[1:])
    pos = draw(st.integers(0, len(parts)))
    parts.insert(pos, bad)
    seps = [draw(st.sampled_from(_SEPARATORS)) for _ in parts]
    return "".join(s + p for s, p in zip(seps, parts)).strip()


@pytest.fixture(scope="module")
def gate_store(tmp_path_factory):
    """A real embedded store over the small test graph, and the folder to watch."""
    from graph_fixtures import make_cfg, small_frames
    from credgraph.graph.ladybug_store import LadybugStore

    root = tmp_path_factory.mktemp("gate")
    cfg = make_cfg(root)
    store = LadybugStore(cfg, root / "graph" / "ladybug")
    store.load(small_frames())
    yield store, root
    store.close()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=hostile_queries())
def test_generated_hostile_queries_never_touch_files(gate_store, q):
    from credgraph.graph.store import QueryError

    store, root = gate_store
    out = root / "leak.csv"
    q = q.replace("{out}", str(out))
    with pytest.raises(GateError):
        check_query(q)
    before = _files(root)
    with pytest.raises(QueryError):
        store.query(q, row_limit=5, timeout=5)
    assert not out.exists() and _files(root) == before


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.characters(codec="utf-8"), max_size=80))
def test_any_text_is_either_refused_or_a_single_read_statement(text):
    """Fuzz: the gate never crashes, and what it lets through holds no ``;`` outside strings and
    no forbidden keyword as a word outside strings, comments and names."""
    from credgraph.security.gate import tokenize

    try:
        check_query(text)
    except GateError:
        return
    toks = tokenize(text)
    assert not any(t.kind == "sym" and t.text == ";" for t in toks[:-1])
    assert toks[0].text.upper() in ("MATCH", "OPTIONAL", "WITH", "UNWIND", "RETURN", "CALL")
