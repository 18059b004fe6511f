"""Every path either backend returns, at 1–6 links, against paths networkx finds on its own.

The oracle is independent of the stores: it reads the graph the stores were loaded with
(:meth:`GraphFrames.contract`), builds a networkx multigraph (one edge per relationship,
keyed by its edge id) and lists every simple path with ``nx.all_simple_edge_paths``. The
expected rows (node ids, labels, names, link types, directions, ratios, edge ids) come from
the frames, never from a store, so a row whose labels or links contradict its names — the
bug LadybugDB's ``list_transform`` caused at 4+ links — fails here.

The 200-pair check on a 20k city is ``bench/bench_graph_paths.py``.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import networkx as nx
import polars as pl
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from graph_fixtures import city_inputs, make_cfg, neo4j_cfg  # noqa: E402,F401  (neo4j_cfg is a fixture)

from credgraph.graph.build import build_frames  # noqa: E402

#: random firm/person pairs checked in full at 6 links (every path), and with a cut at 1..5 links
PAIRS = 10
SHORT_LIMIT = 10


class Oracle:
    """Simple paths between two nodes computed by networkx from the loaded frames."""

    def __init__(self, nodes: pl.DataFrame, edges: pl.DataFrame) -> None:
        self.label = dict(zip(nodes["node_id"], nodes["label"]))
        self.name = dict(zip(nodes["node_id"], nodes["name"]))
        self.edge = {r["edge_id"]: r for r in edges.select("edge_id", "src", "dst", "type", "ratio").iter_rows(named=True)}
        self.g = nx.MultiGraph()
        self.g.add_nodes_from(nodes["node_id"])
        for e in self.edge.values():
            self.g.add_edge(e["src"], e["dst"], key=e["edge_id"])

    def rows(self, a: str, b: str, cutoff: int, length: int | None = None) -> list[tuple]:
        """Every simple path from ``a`` to ``b`` of at most ``cutoff`` links (or exactly ``length``) as rows of ``paths``."""
        out = [self.row(a, path) for path in nx.all_simple_edge_paths(self.near(a, b, cutoff), a, b, cutoff=cutoff)
               if length is None or len(path) == length]
        return sorted(out, key=lambda v: (v[0], v[1], v[7]))

    def near(self, a: str, b: str, cutoff: int) -> nx.MultiGraph:
        """The part of the graph a path of at most ``cutoff`` links from ``a`` to ``b`` can visit.

        A node ``v`` on such a path has ``d(a, v) + d(v, b) <= cutoff``; the rest cannot matter.
        """
        da = nx.single_source_shortest_path_length(self.g, a, cutoff=cutoff)
        db = nx.single_source_shortest_path_length(self.g, b, cutoff=cutoff)
        return self.g.subgraph({a, b} | {v for v, d in da.items() if v in db and d + db[v] <= cutoff})

    def row(self, a: str, path: list[tuple]) -> tuple:
        """One networkx edge path starting at ``a`` as a row of ``paths``, read from the frames."""
        ids, types, dirs, ratios, eids = [a], [], [], [], []
        for _, _, key in path:
            e = self.edge[key]
            forward = e["src"] == ids[-1]
            ids.append(e["dst"] if forward else e["src"])
            types.append(e["type"])
            dirs.append(">" if forward else "<")
            ratios.append(e["ratio"])
            eids.append(key)
        return (len(eids), ids, [self.label[i] for i in ids], [self.name[i] for i in ids], types, dirs, ratios, eids)


def _frame_rows(df: pl.DataFrame) -> list[tuple]:
    return [tuple(r) for r in df.select("length", "node_ids", "labels", "names", "types", "directions", "ratios",
                                         "edge_ids").iter_rows()]


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    root = tmp_path_factory.mktemp("pathcity")
    records, assignments, ents, _ = city_inputs(root, entities=300, seed=21)
    frames = build_frames(records, assignments, ents, hash_key="test-key")
    nodes, edges = frames.contract()
    oracle = Oracle(nodes, edges)
    rng = random.Random(16)
    firms = sorted(n for n, lab in oracle.label.items() if lab == "LegalPerson")
    people = sorted(n for n, lab in oracle.label.items() if lab == "NaturalPerson")
    pairs = list(zip(rng.sample(firms, PAIRS - 3), rng.sample(firms, PAIRS - 3)))
    pairs += list(zip(rng.sample(people, 3), rng.sample(firms, 3)))
    # neighbours two and three links apart, so the short cuts have something to find
    for src in rng.sample(firms, 3):
        far = [n for n, d in nx.single_source_shortest_path_length(oracle.g, src, cutoff=3).items()
               if d >= 2 and oracle.label[n] == "LegalPerson"]
        pairs.append((src, sorted(far)[len(far) // 2] if far else firms[0]))
    expected = {(a, b): oracle.rows(a, b, 6) for a, b in pairs if a != b}
    assert sum(len(v) for v in expected.values()) > 500, "the city gives the paths test too little to check"
    return root, frames, expected


@pytest.fixture(scope="module", params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def store(request, city):
    root, frames, _ = city
    if request.param == "neo4j":
        from credgraph.graph.neo4j_store import Neo4jStore

        s = Neo4jStore(request.getfixturevalue("neo4j_cfg"))
        s.clear()
    else:
        from credgraph.graph.ladybug_store import LadybugStore

        s = LadybugStore(make_cfg(root), root / "graph" / "ladybug")
    assert s.load(frames) == frames.counts()
    yield s
    s.close()


def test_every_path_at_six_links_is_a_real_path_and_none_is_missing(store, city):
    """All simple paths of up to 6 links, row for row, equal the oracle's (a limit no pair reaches)."""
    _, _, expected = city
    lengths = set()
    for (a, b), want in expected.items():
        got = _frame_rows(store.paths(a, b, 6, limit=1_000_000))
        assert got == want, f"{store.backend} paths {a}->{b}: {len(got)} rows vs {len(want)} expected"
        lengths |= {r[0] for r in want}
    assert {2, 3, 4, 5, 6} <= lengths


@pytest.mark.parametrize("hops", [1, 2, 3, 4, 5])
def test_the_shortest_paths_come_first_at_every_cut(store, city, hops):
    """At ``hops`` links with a limit, the rows are the oracle's first ``SHORT_LIMIT`` paths of that length bound."""
    _, _, expected = city
    for (a, b), want in expected.items():
        want_h = [r for r in want if r[0] <= hops][:SHORT_LIMIT]
        got = _frame_rows(store.paths(a, b, hops, limit=SHORT_LIMIT))
        assert got == want_h, f"{store.backend} paths {a}->{b} at {hops}"
