"""The query API on both backends (embedded LadybugDB and the real Neo4j test server)."""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from graph_fixtures import (  # noqa: E402,F401  (neo4j_cfg is a fixture)
    ID_A, TRICKY, TRICKY2, USCC_HUAQIANG, make_cfg, neo4j_cfg, open_backend, small_frames,
)

from credgraph.graph.build import build_frames  # noqa: E402
from credgraph.graph.model import NODE_LABELS  # noqa: E402
from credgraph.graph.store import GraphStore, QueryError, StoreError  # noqa: E402
from credgraph.records import polars_schema  # noqa: E402

BACKENDS = ["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)]


@pytest.fixture(params=BACKENDS)
def store(request, tmp_path):
    s = open_backend(request.param, tmp_path, request)
    s.load(small_frames())
    yield s
    s.close()


def test_load_round_trip_and_counts(store):
    g = small_frames()
    assert isinstance(store, GraphStore)
    assert store.counts() == g.counts()
    nodes, edges = store.export_frames()
    n0, e0 = g.contract()
    assert nodes.select(n0.columns).equals(n0)
    assert edges.equals(e0)


def test_loading_twice_gives_the_same_graph(store):
    before = store.counts()
    assert store.load(small_frames()) == before
    nodes, edges = store.export_frames()
    assert nodes.height == sum(before[lab] for lab in NODE_LABELS)
    assert edges["edge_id"].is_unique().all()


@pytest.mark.parametrize("text,expected,match", [
    ("华强电子", "C1", "name"),
    ("華強電子", "C1", "name"),                       # traditional
    ("华强电子（深圳）", "C1", "name"),                # a variant in names, full-width brackets
    ("huaqiang", "C1", "pinyin"),
    ("hqdz", "C1", "initials"),
    ("华墙电子", "C1", "pinyin"),                      # homophone typo: same sound
    ("华强电了有限", "C1", "fuzzy"),                   # a wrong character
    (USCC_HUAQIANG, "C1", "uscc"),
    ("192203821", "C1", "org code"),                  # the organisation code inside the USCC
    (ID_A, "P1", "id number"),                        # through the keyed hash, never stored in clear
    (TRICKY, "C4", "exact name"),
    ("DETACH DELETE", "C4", "name"),
    (TRICKY2, "C5", "exact name"),
])
def test_search(store, text, expected, match):
    res = store.search(text)
    assert res.height >= 1
    top = res.row(0, named=True)
    assert (top["node_id"], top["match"]) == (expected, match), res
    assert store.counts()["LegalPerson"] == 5  # nothing in the text was executed


def test_search_finds_nothing_for_unknown_text(store):
    assert store.search("完全不存在的名称").height == 0
    assert store.search("   ").height == 0


def test_neighbourhood_one_and_two_hops(store):
    nb = store.neighbourhood("C1", hops=1, limit=50)
    assert nb.total == nb.nodes.height == 6
    # control first: the larger shareholding, the smaller, the legal representative, the branch
    assert nb.nodes["node_id"].to_list()[:3] == ["P1", "C3", "C2"]
    assert nb.nodes.row(0, named=True)["ratio"] == 0.7
    assert set(nb.nodes["node_id"]) == {"P1", "C3", "C2", "rec:r13", "rec:r14"} | {
        n for n in nb.nodes["node_id"] if n.startswith("addr:")}
    two = store.neighbourhood("C1", hops=2, limit=100)
    far = two.nodes.filter(pl.col("distance") == 2)
    assert set(far["node_id"]) >= {"C4", "C5", "rec:r12"}
    assert far.filter(pl.col("node_id") == "C4")["via"].item().startswith("addr:")
    # every page node has its connecting edge(s), and the edges join the page to the centre
    ends = set(two.edges["src"]) | set(two.edges["dst"])
    assert set(two.nodes["node_id"]) <= ends


def test_neighbourhood_filters_types_and_rejects_unknown_ones(store):
    nb = store.neighbourhood("C1", hops=1, rel_types=["SHAREHOLDER_OF"])
    assert nb.nodes["node_id"].to_list() == ["P1", "C3"]
    with pytest.raises(ValueError, match="unknown relationship type"):
        store.neighbourhood("C1", rel_types=["SHAREHOLDER_OF]-() DETACH DELETE n //"])
    with pytest.raises(KeyError):
        store.neighbourhood("nobody")


def test_paths_between_two_people(store):
    p = store.paths("P2", "P1", max_hops=4)
    got = [(r["length"], r["types"], r["directions"]) for r in p.iter_rows(named=True)]
    assert got == [
        (3, ["AGENT_OF", "USES_PHONE", "USES_PHONE"], [">", ">", "<"]),
        (4, ["AGENT_OF", "LOCATED_AT", "LOCATED_AT", "LEGAL_REP_OF"], [">", ">", "<", "<"]),
        (4, ["AGENT_OF", "LOCATED_AT", "LOCATED_AT", "SHAREHOLDER_OF"], [">", ">", "<", "<"]),
    ]
    assert p.row(0, named=True)["node_ids"][0] == "P2" and p.row(0, named=True)["node_ids"][-1] == "P1"
    assert store.paths("P2", "P1", max_hops=2).height == 0


def test_ownership_chains_with_ratios(store):
    up = store.ownership("C1", "up")
    got = [(r["node_id"], r["depth"], r["ratios"], r["ratio"]) for r in up.iter_rows(named=True)]
    assert got == [("P1", 1, [0.7], 0.7), ("C3", 1, [0.3], 0.3), ("P1", 2, [0.3, 1.0], 0.3)]
    integrated = up.group_by("node_id").agg(pl.col("ratio").sum())
    assert integrated.filter(pl.col("node_id") == "P1")["ratio"].item() == pytest.approx(1.0)
    down = store.ownership("P1", "down")
    assert [(r["node_id"], r["depth"]) for r in down.iter_rows(named=True)] == [("C3", 1), ("C1", 1), ("C1", 2)]


def test_sharing_address_and_phone(store):
    s = store.sharing("C4")
    assert [(r["via_kind"], r["node_id"]) for r in s.iter_rows(named=True)] == [
        ("address", "C1"), ("address", "C5"), ("phone", "P1")]
    assert s.filter(pl.col("via_kind") == "phone")["via_name"].item() == "138****5678"


def test_read_only_query_and_limits(store):
    q = "MATCH (n:LegalPerson) WHERE n.name = $name RETURN n.node_id AS id, n.name AS name"
    count_all = "MATCH (n) RETURN n.node_id AS id"
    res = store.query(q, {"name": TRICKY})
    assert res.frame.to_dicts() == [{"id": "C4", "name": TRICKY}] and not res.truncated
    res = store.query(count_all, row_limit=4)
    assert res.frame.height == 4 and res.truncated
    for write in ("CREATE (n:LegalPerson {node_id: 'zz', name: 'x'})", "MATCH (n:LegalPerson) DETACH DELETE n",
                  "MATCH (n:LegalPerson) SET n.name = 'x'"):
        with pytest.raises(QueryError, match="read-only"):
            store.query(write)
    with pytest.raises(QueryError):
        store.query("MATC (n) RETURN n")
    assert store.counts()["LegalPerson"] == 5


def test_query_nodes_show_their_label(store):
    res = store.query("MATCH (n:NaturalPerson) WHERE n.node_id = 'P1' RETURN n")
    text = res.frame.item()
    assert '"NaturalPerson"' in text and "110105********002X" in text and ID_A not in text


def test_query_relationships_and_paths_carry_edge_ids_and_lists(store):
    """Analysts' relationships come back with the edge id the builder gave them (the embedded
    store computes it) and their provenance as a list, alone or inside a path."""
    import json

    frames = small_frames()
    want = {r["edge_id"]: r["record_ids"] for r in frames.edges["OFFICER_OF"].iter_rows(named=True)}
    res = store.query("MATCH (a)-[r:OFFICER_OF]->(b) RETURN r")
    got = {d["edge_id"]: d["record_ids"] for d in map(json.loads, res.frame["r"].to_list())}
    assert got == want and any(e.count("|") == 3 for e in got)  # officers' ids end with the role
    res = store.query("MATCH p = (a:LegalPerson)<-[:SHAREHOLDER_OF]-(b) RETURN p")
    sh = {r["edge_id"] for r in frames.edges["SHAREHOLDER_OF"].iter_rows(named=True)}
    found = set()
    for cell in res.frame["p"].to_list():
        found |= {x["edge_id"] for x in _walk(json.loads(cell)) if "edge_id" in x}
    assert found == sh


def _walk(v):
    if isinstance(v, dict):
        yield v
        for x in v.values():
            yield from _walk(x)
    elif isinstance(v, list):
        for x in v:
            yield from _walk(x)


@pytest.mark.neo4j
def test_neo4j_killed_load_then_reload_gives_the_same_counts(request, tmp_path):
    from credgraph.graph.neo4j_store import Neo4jStore

    s = open_backend("neo4j", tmp_path, request)
    try:
        g = small_frames()
        s.load(g)
        want = s.counts()
        before = s.export_frames()
        # a load killed midway: some nodes, a relationship to one of them, a relationship the
        # frames lack between two real nodes and a second copy of a real one, never swept
        s._write_batches("UNWIND $id AS id MERGE (n:LegalPerson {node_id: id}) SET n.load_id = $stamp",
                         pl.DataFrame({"id": ["ghost1", "ghost2"]}), "killed")
        s._write_batches("UNWIND range(0, size($a) - 1) AS i MATCH (a:LegalPerson {node_id: $a[i]}), "
                         "(b:LegalPerson {node_id: $b[i]}) CREATE (a)-[r:SHAREHOLDER_OF]->(b)",
                         pl.DataFrame({"a": ["ghost1", "C2", "C3"], "b": ["C1", "C1", "C1"]}), "killed")
        assert s.counts()["LegalPerson"] == 7 and s.counts()["SHAREHOLDER_OF"] == want["SHAREHOLDER_OF"] + 3
        assert s.load(g) == want
        after = s.export_frames()
        assert after[0].equals(before[0]) and after[1].equals(before[1])
        assert isinstance(s, Neo4jStore)
    finally:
        s.close()


@pytest.mark.neo4j
def test_neo4j_fresh_load_builds_every_index_and_a_killed_one_recovers(request, tmp_path):
    """A load into an empty database writes its nodes with no index and builds the indexes
    after; killed before that, the next load still ends with every constraint and index."""
    s = open_backend("neo4j", tmp_path, request)
    try:
        g = small_frames()

        def schema() -> dict[str, str]:
            with s.driver.session() as ses:
                return {r["name"]: r["state"] for r in ses.run("SHOW INDEXES YIELD name, state")}

        s.load(g)
        want, before = s.counts(), s.export_frames()
        expected = set(s._schema())
        assert expected <= set(schema()) and {schema()[n] for n in expected} == {"ONLINE"}
        name = g.nodes["LegalPerson"]["name"][0]
        with s.driver.session() as ses:
            hits = [r["id"] for r in ses.run("CALL db.index.fulltext.queryNodes('entity_names', $q) "
                                             "YIELD node RETURN node.node_id AS id", q=f'"{name}"')]
        assert g.nodes["LegalPerson"]["node_id"][0] in hits

        # killed during the node phase of a fresh load: some nodes in, no index at all
        s.clear()
        s._drop_schema()
        assert not expected & set(schema())
        s._write_batches("UNWIND range(0, size($node_id) - 1) AS i CREATE (n:LegalPerson {node_id: $node_id[i]})",
                         g.nodes["LegalPerson"].select("node_id").head(3), "killed")
        assert s.load(g) == want
        assert expected <= set(schema())
        after = s.export_frames()
        assert after[0].equals(before[0]) and after[1].equals(before[1])
    finally:
        s.close()


def test_embedded_failed_load_keeps_the_previous_graph(tmp_path):
    from credgraph.graph.ladybug_store import LadybugStore

    s = LadybugStore(make_cfg(tmp_path), tmp_path / "graph" / "ladybug")
    g = small_frames()
    want = s.load(g)
    broken = small_frames()
    dup = broken.nodes["LegalPerson"]
    broken.nodes["LegalPerson"] = pl.concat([dup, dup.head(1)])  # a duplicate key: COPY fails midway
    with pytest.raises(RuntimeError):
        s.load(broken)
    assert s.counts() == want
    assert s.search("华强电子").row(0, named=True)["node_id"] == "C1"
    s.close()


def test_embedded_graph_of_an_earlier_format_asks_to_be_rebuilt(tmp_path):
    import ladybug

    from credgraph.graph.ladybug_store import DB_FILE, LadybugStore

    folder = tmp_path / "graph" / "ladybug"
    folder.mkdir(parents=True)
    db = ladybug.Database(str(folder / DB_FILE))
    conn = ladybug.Connection(db)
    conn.execute("CREATE NODE TABLE LegalPerson(node_id STRING, record_ids STRING[], PRIMARY KEY(node_id))")
    conn.close()
    db.close()
    old = LadybugStore(make_cfg(tmp_path), folder, read_only=True)
    for call in (old.export_frames, lambda: old.search("华强"), lambda: old.query("MATCH (n) RETURN n")):
        with pytest.raises(StoreError, match="earlier version of credgraph; rebuild it with `credgraph graph load`"):
            call()
    old.close()
    store = LadybugStore(make_cfg(tmp_path), folder)  # the writer can still rebuild it
    assert store.load(small_frames()) == small_frames().counts()
    assert store.search("华强").height >= 1
    store.close()


def test_embedded_read_only_store_needs_a_graph(tmp_path):
    from credgraph.graph.store import open_store

    cfg = make_cfg(tmp_path / "ws")
    with pytest.raises(StoreError, match="credgraph graph load"):
        open_store(cfg, read_only=True)


@pytest.mark.neo4j
def test_neo4j_wrong_password_or_no_server_says_how_to_fix(neo4j_cfg):
    import copy

    from credgraph.graph.neo4j_store import Neo4jStore

    bad = copy.deepcopy(neo4j_cfg)
    bad.graph.neo4j_password = "not-the-password"
    with pytest.raises(StoreError, match="NEO4J_PASSWORD"):
        Neo4jStore(bad)
    gone = copy.deepcopy(neo4j_cfg)
    gone.graph.neo4j_uri = "bolt://127.0.0.1:9"
    with pytest.raises(StoreError, match="credgraph neo4j start"):
        Neo4jStore(gone)


@pytest.mark.neo4j
def test_supernode_neighbourhood_is_paged_with_a_total(request, tmp_path):
    rows, asg = [], []
    ents = [{"entity_id": "HUB0", "type": "legal", "name": "中心公司"}]
    for i in range(40):
        rid = f"a{i:02d}"
        rows.append({"record_id": rid, "kind": "entity", "catalog": "MR_REG", "subject_name": f"壳公司{i:02d}",
                     "subject_address": "深圳市福田区福华路88号1室"})
        asg.append({"record_id": rid, "role": "subject", "entity_id": f"S{i:02d}"})
        ents.append({"entity_id": f"S{i:02d}", "type": "legal", "name": f"壳公司{i:02d}"})
    rows.append({"record_id": "hub", "kind": "entity", "catalog": "MR_REG", "subject_name": "中心公司",
                 "subject_address": "深圳市福田区福华路88号1室"})
    asg.append({"record_id": "hub", "role": "subject", "entity_id": "HUB0"})
    recs = pl.DataFrame(rows, schema_overrides=polars_schema())
    g = build_frames(recs, pl.DataFrame(asg), pl.DataFrame(ents), hash_key="k")
    for backend in ("embedded", "neo4j"):
        s = open_backend(backend, tmp_path / backend, request)
        try:
            s.load(g)
            full = s.neighbourhood("HUB0", hops=2, limit=100)
            assert full.total == 41 and full.nodes.height == 41
            pages = [s.neighbourhood("HUB0", hops=2, limit=15, offset=o) for o in (0, 15, 30)]
            assert [p.total for p in pages] == [41, 41, 41]
            assert pl.concat([p.nodes for p in pages]).equals(full.nodes)
            assert full.nodes.row(0, named=True)["label"] == "Address"
            assert s.sharing("HUB0").height == 40
        finally:
            s.close()
