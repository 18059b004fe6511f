"""The same query suite on both backends over the same generated city: the answers must be identical."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import polars as pl
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from graph_fixtures import city_inputs, make_cfg, neo4j_cfg  # noqa: E402,F401  (neo4j_cfg is a fixture)

from credgraph.graph.build import build_frames  # noqa: E402
from credgraph.graph.ladybug_store import LadybugStore  # noqa: E402

pytestmark = pytest.mark.neo4j


@pytest.fixture(scope="module")
def both(tmp_path_factory, neo4j_cfg):
    from credgraph.graph.neo4j_store import Neo4jStore

    root = tmp_path_factory.mktemp("diffcity")
    records, assignments, ents, _ = city_inputs(root, entities=300, seed=21)
    frames = build_frames(records, assignments, ents, hash_key=neo4j_cfg.graph.hash_key)
    emb = LadybugStore(make_cfg(root), root / "graph" / "ladybug")
    neo = Neo4jStore(neo4j_cfg)
    neo.clear()
    assert emb.load(frames) == frames.counts()
    assert neo.load(frames) == frames.counts()
    yield emb, neo, frames
    emb.close()
    neo.close()


def _same(a, b, what):
    assert a.equals(b), f"{what}:\nembedded\n{a}\nneo4j\n{b}"


def test_exports_are_identical_and_equal_the_built_frames(both):
    emb, neo, frames = both
    n_e, e_e = emb.export_frames()
    n_n, e_n = neo.export_frames()
    _same(n_e, n_n, "nodes")
    _same(e_e, e_n, "edges")
    n0, e0 = frames.contract()
    assert n_e.select(n0.columns).equals(n0) and e_e.equals(e0)


def test_query_suite_gives_identical_answers(both):
    emb, neo, frames = both
    rng = random.Random(5)
    legal = frames.nodes["LegalPerson"]["node_id"].to_list()
    natural = frames.nodes["NaturalPerson"]["node_id"].to_list()
    hubs = frames.nodes["Address"]["node_id"].to_list()[:5]
    sample = rng.sample(legal, 25) + rng.sample(natural, 15) + hubs
    checked = 0
    for x in sample:
        for hops in (1, 2):
            for kw in ({}, {"limit": 7, "offset": 3}, {"rel_types": ["SHAREHOLDER_OF", "LEGAL_REP_OF", "OFFICER_OF"]}):
                a, b = emb.neighbourhood(x, hops=hops, **kw), neo.neighbourhood(x, hops=hops, **kw)
                assert a.total == b.total, (x, hops, kw)
                _same(a.nodes, b.nodes, f"neighbourhood {x} {hops} {kw}")
                _same(a.edges, b.edges, f"neighbourhood edges {x} {hops} {kw}")
                checked += 1
        for d in ("up", "down"):
            _same(emb.ownership(x, d), neo.ownership(x, d), f"ownership {x} {d}")
        _same(emb.sharing(x), neo.sharing(x), f"sharing {x}")
    for a_id, b_id in zip(rng.sample(legal, 12), rng.sample(legal + natural, 12)):
        _same(emb.paths(a_id, b_id, 3), neo.paths(a_id, b_id, 3), f"paths {a_id} {b_id}")
    names = frames.nodes["LegalPerson"].select("name", "uscc", "search_pinyin").sample(8, seed=3)
    for r in names.iter_rows(named=True):
        for text in (r["name"], r["name"][3:7], r["uscc"], r["search_pinyin"].split("|")[0][:8],
                     r["name"][:2] + "X" + r["name"][3:8]):
            if text:
                _same(emb.search(text), neo.search(text), f"search {text}")
    for cypher in (
        "MATCH (n:LegalPerson) RETURN n.node_id AS id, n.name AS name ORDER BY id LIMIT 25",
        "MATCH (p:NaturalPerson)-[r:SHAREHOLDER_OF]->(c:LegalPerson) RETURN p.node_id AS pid, c.node_id AS cid, "
        "r.ratio AS ratio ORDER BY pid, cid LIMIT 50",
        "MATCH (c:LegalPerson)-[:HAS_RECORD]->(r:CreditRecord) WHERE r.severity >= 2 "
        "RETURN c.node_id AS cid, count(r) AS n ORDER BY n DESC, cid LIMIT 20",
    ):
        _same(emb.query(cypher).frame, neo.query(cypher).frame, cypher)
    assert checked == len(sample) * 6
    # the suite is not vacuous: some answers are long
    assert max(emb.neighbourhood(x, hops=2).total for x in sample) > 10
    assert any(emb.ownership(x, "up").filter(pl.col("depth") >= 2).height for x in legal[:200])


def test_long_queries_are_stopped_on_both(both):
    from credgraph.graph.store import QueryError

    emb, neo, _ = both
    for store in (emb, neo):
        with pytest.raises(QueryError, match="longer than"):
            store.query("MATCH (a)-[*1..9]-(b) RETURN count(*) AS n", timeout=0.5)
