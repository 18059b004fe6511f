"""Graph stage benchmark (run: .venv/bin/python bench/bench_graph.py [--entities N] [--neo4j]).

Targets at ~1M entities / 3M relationships (``--entities 1000000``):

* embedded (LadybugDB) load >= 200k elements/s;
* Neo4j over Bolt >= 20k elements/s;
* 2-hop capped neighbourhood (50 per page, total counted) p95 <= 50 ms embedded, <= 100 ms Neo4j.

The graph is random but shaped like the city's: companies and persons, shareholdings,
legal representatives and officers, addresses and phones shared by a few firms (and a few
hubs shared by hundreds), credit records on some entities. Sizes scale with ``--entities``
(default 100k: a quick run). ``--neo4j`` also loads into the *test* Neo4j instance (port
17687, started when needed; its data is replaced), never the working one.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from credgraph.config import Config
from credgraph.graph.build import GraphFrames
from credgraph.graph.model import NODE_LABELS, REL_TYPES, edge_columns, node_columns


def _fill(frame: pl.DataFrame, columns: dict) -> pl.DataFrame:
    return frame.select([pl.col(c).cast(d) if c in frame.columns else pl.lit(None, d).alias(c)
                         for c, d in columns.items()])


def random_graph(n_entities: int, seed: int = 0) -> GraphFrames:
    """About n entities, 3n relationships (of which ~0.45n to shared hubs and ~0.3n to records)."""
    rng = np.random.default_rng(seed)
    n_l = int(n_entities * 0.45)
    n_n = n_entities - n_l
    n_addr, n_phone, n_rec = n_l // 3, n_entities // 4, int(n_entities * 0.3)
    lid = pl.Series([f"L{i:08d}" for i in range(n_l)])
    nid = pl.Series([f"N{i:08d}" for i in range(n_n)])
    nodes = {
        "LegalPerson": pl.DataFrame({"node_id": lid, "name": "深圳市企业" + lid + "有限公司", "record_ids": [[]] * n_l}),
        "NaturalPerson": pl.DataFrame({"node_id": nid, "name": "人" + nid, "record_ids": [[]] * n_n}),
        "Address": pl.DataFrame({"node_id": [f"addr:{i:012x}" for i in range(n_addr)],
                                 "name": [f"深圳市南山区科技路{i}号" for i in range(n_addr)], "record_ids": [[]] * n_addr}),
        "Phone": pl.DataFrame({"node_id": [f"phone:{i:032x}" for i in range(n_phone)],
                               "name": ["****" + str(i % 10000).zfill(4) for i in range(n_phone)],
                               "record_ids": [[]] * n_phone}),
        "CreditRecord": pl.DataFrame({"node_id": [f"rec:{i:016x}" for i in range(n_rec)],
                                      "name": ["penalty"] * n_rec, "event_type": ["penalty"] * n_rec,
                                      "severity": rng.integers(0, 4, n_rec), "record_ids": [[f"{i:016x}"]
                                                                                            for i in range(n_rec)]}),
    }
    nodes = {lab: _fill(f, node_columns(lab)) for lab, f in nodes.items()}

    def pick(ids: pl.Series, n: int, skew: float = 0.0) -> pl.Series:
        if skew:  # a few hubs hold many links
            idx = np.minimum((rng.pareto(skew, n) * len(ids) / 50).astype(np.int64), len(ids) - 1)
        else:
            idx = rng.integers(0, len(ids), n)
        return ids.gather(idx)

    def rel(t, src, dst, sl, dl, **props):
        f = pl.DataFrame({"src": src, "dst": dst, **props}).filter(pl.col("src") != pl.col("dst"))
        f = f.unique(["src", "dst"], keep="first")
        f = f.with_columns(pl.format(t + "|{}|{}", "src", "dst").alias("edge_id"),
                           pl.lit(["r"], dtype=pl.List(pl.Utf8)).alias("record_ids"),
                           pl.lit(sl).alias("src_label"), pl.lit(dl).alias("dst_label"))
        return f

    m = n_entities
    parts: dict[str, list[pl.DataFrame]] = {t: [] for t in REL_TYPES}
    parts["SHAREHOLDER_OF"] += [
        rel("SHAREHOLDER_OF", pick(nid, int(m * 0.45)), pick(lid, int(m * 0.45)), "NaturalPerson", "LegalPerson",
            ratio=rng.random(int(m * 0.45))),
        rel("SHAREHOLDER_OF", pick(lid, int(m * 0.2)), pick(lid, int(m * 0.2)), "LegalPerson", "LegalPerson",
            ratio=rng.random(int(m * 0.2)))]
    parts["LEGAL_REP_OF"] += [rel("LEGAL_REP_OF", pick(nid, n_l), lid, "NaturalPerson", "LegalPerson")]
    parts["OFFICER_OF"] += [rel("OFFICER_OF", pick(nid, int(m * 0.6)), pick(lid, int(m * 0.6)), "NaturalPerson",
                                "LegalPerson", role=rng.choice(["董事", "监事", "经理"], int(m * 0.6)))]
    parts["BRANCH_OF"] += [rel("BRANCH_OF", pick(lid, int(m * 0.02)), pick(lid, int(m * 0.02)), "LegalPerson",
                               "LegalPerson")]
    parts["AGENT_OF"] += [rel("AGENT_OF", pick(lid, int(m * 0.05), skew=1.2), pick(lid, int(m * 0.05)),
                              "LegalPerson", "LegalPerson")]
    addr_ids, phone_ids, rec_ids = nodes["Address"]["node_id"], nodes["Phone"]["node_id"], nodes["CreditRecord"]["node_id"]
    parts["LOCATED_AT"] += [rel("LOCATED_AT", lid, pick(addr_ids, n_l, skew=1.5), "LegalPerson", "Address")]
    parts["USES_PHONE"] += [rel("USES_PHONE", pick(lid, n_phone), pick(phone_ids, n_phone, skew=2.0), "LegalPerson",
                                "Phone"),
                            rel("USES_PHONE", pick(nid, n_phone), pick(phone_ids, n_phone), "NaturalPerson", "Phone")]
    owners = pl.concat([pick(lid, n_rec // 2), pick(nid, n_rec - n_rec // 2)])
    parts["HAS_RECORD"] += [rel("HAS_RECORD", owners.head(n_rec // 2), rec_ids.head(n_rec // 2), "LegalPerson",
                                "CreditRecord", role=["subject"] * (n_rec // 2)),
                            rel("HAS_RECORD", owners.tail(n_rec - n_rec // 2), rec_ids.tail(n_rec - n_rec // 2),
                                "NaturalPerson", "CreditRecord", role=["subject"] * (n_rec - n_rec // 2))]
    cols = {t: {**edge_columns(t), "src_label": pl.Utf8, "dst_label": pl.Utf8} for t in REL_TYPES}
    edges = {t: _fill(pl.concat([_fill(p, cols[t]) for p in ps]), cols[t]) for t, ps in parts.items()}
    return GraphFrames(nodes, edges)


def latency(store, ids: list[str], hops: int = 2, limit: int = 50) -> dict[str, float]:
    times = []
    totals = []
    for x in ids:
        t = time.perf_counter()
        nb = store.neighbourhood(x, hops=hops, limit=limit)
        times.append((time.perf_counter() - t) * 1000)
        totals.append(nb.total)
    a = np.array(times)
    return {"p50_ms": float(np.percentile(a, 50)), "p95_ms": float(np.percentile(a, 95)),
            "max_ms": float(a.max()), "mean_total": float(np.mean(totals)), "max_total": int(max(totals))}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entities", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--neo4j", action="store_true", help="also benchmark the test Neo4j instance")
    args = ap.parse_args(argv)

    t = time.perf_counter()
    g = random_graph(args.entities)
    n_el = g.n_nodes + g.n_edges
    print(f"graph: {g.n_nodes:,} nodes, {g.n_edges:,} relationships ({n_el:,} elements), "
          f"made in {time.perf_counter() - t:.1f} s")
    rng = np.random.default_rng(1)
    ents = pl.concat([g.nodes["LegalPerson"]["node_id"], g.nodes["NaturalPerson"]["node_id"]])
    sample = ents.gather(rng.integers(0, len(ents), args.queries)).to_list()

    from credgraph.graph.ladybug_store import LadybugStore

    tmp = Path(tempfile.mkdtemp(prefix="bench-graph-"))
    try:
        cfg = Config()
        store = LadybugStore(cfg, tmp / "ladybug")
        t = time.perf_counter()
        counts = store.load(g)
        secs = time.perf_counter() - t
        assert sum(counts.values()) == n_el, counts
        print(f"embedded load: {secs:.1f} s, {n_el / secs:,.0f} elements/s (target >= 200,000)")
        store.neighbourhood(sample[0], hops=2)  # warm up
        lat = latency(store, sample)
        print(f"embedded 2-hop neighbourhood (limit 50): p50 {lat['p50_ms']:.1f} ms, p95 {lat['p95_ms']:.1f} ms "
              f"(target <= 50), max {lat['max_ms']:.0f} ms; mean total {lat['mean_total']:.0f}, "
              f"largest {lat['max_total']:,}")
        store.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    if args.neo4j:
        from credgraph.graph import neo4j_server as srv
        from credgraph.graph.neo4j_store import Neo4jStore

        ncfg = srv.config_for_tests(Config())
        if not srv.status(ncfg).answering:
            srv.start(ncfg, log=lambda m: print(m, file=sys.stderr))
        store = Neo4jStore(ncfg)
        store.clear()
        t = time.perf_counter()
        counts = store.load(g)
        secs = time.perf_counter() - t
        assert sum(counts.values()) == n_el, counts
        print(f"neo4j load over Bolt: {secs:.1f} s, {n_el / secs:,.0f} elements/s (target >= 20,000)")
        store.neighbourhood(sample[0], hops=2)
        lat = latency(store, sample)
        print(f"neo4j 2-hop neighbourhood (limit 50): p50 {lat['p50_ms']:.1f} ms, p95 {lat['p95_ms']:.1f} ms "
              f"(target <= 100), max {lat['max_ms']:.0f} ms")
        store.clear()
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
