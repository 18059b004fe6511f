"""Paths against networkx on a 20k city, both backends (run: .venv/bin/python bench/bench_graph_paths.py).

Target (issue 16): every path either store returns between 200 random firm pairs, at 1–6
links, equals the paths networkx finds on its own over the frames the stores were loaded
with (``tests/test_graph_paths_oracle.py`` is the same check, small). For each pair and each
bound ``h`` in 1..6 the store's first ``--limit`` paths (shortest first, then by ids) must
equal the oracle's; the oracle lists simple paths one length at a time and stops, like the
store, once ``--limit`` are found (a pair with more than ``--oracle-cap`` paths at one
length is counted as skipped and reported, never as passed).

Neo4j: the test instance (``CREDGRAPH_TEST_NEO4J_URI``, see graph/neo4j_server.config_for_tests),
wiped and loaded here; ``--no-neo4j`` checks the embedded store only.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import networkx as nx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from graph_fixtures import city_inputs, make_cfg  # noqa: E402
from test_graph_paths_oracle import Oracle, _frame_rows  # noqa: E402

from credgraph.graph.build import build_frames  # noqa: E402


def oracle_rows(o: Oracle, a: str, b: str, limit: int, cap: int) -> dict[int, list[tuple]] | None:
    """For each bound 1..6, the oracle's first ``limit`` paths (None: more than ``cap`` paths of one length)."""
    rows: list[tuple] = []
    out = {}
    for k in range(1, 7):
        if len(rows) < limit:
            n = 0
            for path in nx.all_simple_edge_paths(o.near(a, b, k), a, b, cutoff=k):
                if len(path) == k:
                    n += 1
                    if n > cap:
                        return None
                    rows.append(o.row(a, path))
            rows.sort(key=lambda v: (v[0], v[1], v[7]))
        out[k] = rows[:limit]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entities", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--pairs", type=int, default=200)
    ap.add_argument("--limit", type=int, default=100, help="paths compared per pair and bound (graph.path_limit)")
    ap.add_argument("--oracle-cap", type=int, default=20_000)
    ap.add_argument("--no-neo4j", action="store_true")
    args = ap.parse_args()

    root = Path(tempfile.mkdtemp(prefix="bench_paths_"))
    t0 = time.time()
    records, assignments, ents, _ = city_inputs(root, entities=args.entities, seed=args.seed)
    frames = build_frames(records, assignments, ents, hash_key="test-key")
    nodes, edges = frames.contract()
    o = Oracle(nodes, edges)
    print(f"city: {args.entities} entities, {o.g.number_of_nodes()} nodes, {o.g.number_of_edges()} links "
          f"({time.time() - t0:.0f} s)")
    rng = random.Random(args.seed)
    firms = sorted(n for n, lab in o.label.items() if lab == "LegalPerson")
    pairs = list(zip(rng.sample(firms, args.pairs), rng.sample(firms, args.pairs)))

    stores = []
    from credgraph.graph.ladybug_store import LadybugStore

    stores.append(LadybugStore(make_cfg(root), root / "graph" / "ladybug"))
    if not args.no_neo4j:
        from credgraph.graph import neo4j_server as srv
        from credgraph.graph.neo4j_store import Neo4jStore

        neo = Neo4jStore(srv.config_for_tests(make_cfg()))
        neo.clear()
        stores.append(neo)
    for s in stores:
        t = time.time()
        assert s.load(frames) == frames.counts()
        print(f"{s.backend}: loaded in {time.time() - t:.0f} s")

    expected: dict[tuple, list | None] = {}
    t = time.time()
    for a, b in pairs:
        per = oracle_rows(o, a, b, args.limit, args.oracle_cap)
        for h in range(1, 7):
            expected[(a, b, h)] = None if per is None else per[h]
    print(f"oracle: {time.time() - t:.0f} s")
    skipped = sum(v is None for v in expected.values())
    for s in stores:
        wrong, checked, rows, secs = [], 0, 0, []
        for (a, b, h), want in expected.items():
            if want is None:
                continue
            t = time.perf_counter()
            got = _frame_rows(s.paths(a, b, h, limit=args.limit))
            secs.append(time.perf_counter() - t)
            checked += 1
            rows += len(want)
            if got != want:
                wrong.append((a, b, h, len(got), len(want)))
        q = statistics.quantiles(secs, n=20)
        print(f"{s.backend}: {checked} (pair, bound) checks, {rows} expected path rows, {len(wrong)} wrong; "
              f"skipped {skipped} (oracle cap); time per call p50 {q[9] * 1000:.0f} ms, p95 {q[18] * 1000:.0f} ms, "
              f"max {max(secs) * 1000:.0f} ms")
        for w in wrong[:10]:
            print("  wrong:", w)
        s.close()


if __name__ == "__main__":
    main()
