"""Graph stage benchmark (run: .venv/bin/python bench/bench_graph.py [--entities N] [--no-neo4j]).

Targets (issue 4), on a city of about 1M entities:

* embedded (LadybugDB) load >= 200k elements/s;
* Neo4j over Bolt >= 20k elements/s;
* 2-hop capped neighbourhood (50 per page, total counted) p95 <= 50 ms embedded, <= 100 ms Neo4j.

**The city.** Running the whole pipeline for a million entities takes too long for a
benchmark, so the graph is a *tiled* city: one generated city (``--base`` entities, default
20,000; :func:`credgraph.synth.generate_city`, loaded by :func:`credgraph.loaders.load_specs`)
is built into graph frames with the generator's *true* assignment (a perfect resolution,
as in the graph tests), and those frames are repeated with an id offset per tile (every
node id, edge id and record id gets a ``~<tile>`` suffix), until there are ``--entities``
entities (default 1,000,000: 50 tiles). Each tile is a copy of a real city network: the
same degrees, hubs (shared addresses, agents), name and record sizes; tiles are not linked
to each other. The generated city has about 5.7 relationships per entity (addresses,
phones and credit records included), so 1M entities give about 5.7M relationships, more
than the 3M the issue names. Everything printed says what was measured.

**Measured.** Load time and elements/s (nodes + relationships, wall clock), CPU seconds of
this process (ladybug's threads included; the Neo4j JVM's CPU is read from the server
process), and peak RSS (this process; for Neo4j also the JVM), then the 2-hop
neighbourhood of ``--queries`` random entities: p50/p95/max ms. The machine may be shared
with other work: CPU seconds show what the load cost whatever the wall clock.

Neo4j runs on a *bench* instance (port 17688, its own data folder under
``graph.neo4j_home``, wiped before each run), started and stopped here, with a heap and page
cache sized for the load (``--neo4j-heap``, ``--neo4j-pagecache``); the working and test
servers are never touched. A new JVM spends much of its first minutes compiling Neo4j's
hot code (on two cores the C2 compiler thread takes about a third of the CPU during a
100k-entity load), so ``--neo4j-warm`` also measures a second new server that first loads
and clears one tile of the city (not timed): the rate a long-running server gives.
"""

from __future__ import annotations

import argparse
import copy
import math
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import polars as pl
import psutil

from credgraph.config import Config
from credgraph.graph.build import GraphFrames, build_frames

BENCH_PORT = 17688


# ------------------------------------------------------------------------------- city
def base_city(root: Path, entities: int, seed: int, hash_key: str) -> GraphFrames:
    """Graph frames of one generated city, resolved with the generator's true assignment."""
    from credgraph.loaders import load_specs, read_records
    from credgraph.synth import generate_city, true_assignments, true_entities

    city, ws = root / "city", root / "ws"
    generate_city(city, entities=entities, seed=seed)
    load_specs([city / "specs"], ws)
    records = read_records(ws)
    return build_frames(records, true_assignments(city, records), true_entities(city), hash_key=hash_key)


def _suffix(col: str, suf: str) -> pl.Expr:
    return (pl.col(col) + suf).alias(col)


def _tile_one(frames: GraphFrames, i: int) -> GraphFrames:
    """Copy ``i`` of the city: every id (node, edge, record) suffixed ``~i``; copy 0 is the city itself."""
    if i == 0:
        return frames
    suf = f"~{i}"
    rec = pl.col("record_ids").list.eval(pl.element() + suf).alias("record_ids")
    nodes = {lab: f.with_columns(_suffix("node_id", suf), rec) for lab, f in frames.nodes.items()}
    edges = {}
    for t, f in frames.edges.items():
        role = f["edge_id"].str.splitn("|", 4).struct.field("field_3")
        f = f.with_columns(_suffix("src", suf), _suffix("dst", suf), rec)
        eid = pl.concat_str([pl.lit(t), pl.col("src"), pl.col("dst")], separator="|")
        edges[t] = f.with_columns(pl.when(role.is_null()).then(eid).otherwise(eid + "|" + role).alias("edge_id"))
    return GraphFrames(nodes, edges)


def tiled_city(base: GraphFrames, tiles: int) -> GraphFrames:
    """``tiles`` disjoint copies of ``base`` in one set of frames."""
    parts = [_tile_one(base, i) for i in range(tiles)]
    nodes = {lab: pl.concat([p.nodes[lab] for p in parts]) for lab in base.nodes}
    edges = {t: pl.concat([p.edges[t] for p in parts]) for t in base.edges}
    return GraphFrames(nodes, edges)


# --------------------------------------------------------------------------- measuring
class PeakRss:
    """Peak resident memory of some processes, sampled every 50 ms in a background thread."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.procs = {k: psutil.Process(p) for k, p in pids.items()}
        self.peak = {k: 0 for k in pids}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for k, p in self.procs.items():
                try:
                    self.peak[k] = max(self.peak[k], p.memory_info().rss)
                except psutil.Error:
                    pass
            self._stop.wait(0.05)

    def __enter__(self) -> "PeakRss":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def text(self) -> str:
        return ", ".join(f"{k} {v / 2**30:.2f} GiB" for k, v in self.peak.items())


def latency(store, ids: list[str], hops: int = 2, limit: int = 50) -> dict[str, float]:
    """Milliseconds per ``neighbourhood`` call over ``ids`` (p50, p95, max; p95 of this process's CPU
    milliseconds, which for the embedded store include its query threads) and the neighbour totals."""
    times, cpu, totals = [], [], []
    for x in ids:
        t, c = time.perf_counter(), time.process_time()
        nb = store.neighbourhood(x, hops=hops, limit=limit)
        times.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
        totals.append(nb.total)
    a = np.array(times)
    return {"p50_ms": float(np.percentile(a, 50)), "p95_ms": float(np.percentile(a, 95)),
            "max_ms": float(a.max()), "cpu_p95_ms": float(np.percentile(cpu, 95)),
            "mean_total": float(np.mean(totals)), "max_total": int(max(totals))}


def timed_load(store, frames: GraphFrames, pids: dict[str, int], jvm: psutil.Process | None = None) -> dict:
    """Load ``frames`` into ``store``: wall and CPU seconds, elements/s, peak RSS; checks the counts."""
    n_el = frames.n_nodes + frames.n_edges
    jvm_cpu0 = sum(jvm.cpu_times()[:2]) if jvm is not None else 0.0
    with PeakRss(pids) as rss:
        t, c = time.perf_counter(), time.process_time()
        counts = store.load(frames)
        secs, cpu = time.perf_counter() - t, time.process_time() - c
    if counts != frames.counts():
        raise AssertionError(f"stored counts differ from the frames: {counts} != {frames.counts()}")
    jvm_cpu = sum(jvm.cpu_times()[:2]) - jvm_cpu0 if jvm is not None else None
    return {"secs": secs, "cpu": cpu, "jvm_cpu": jvm_cpu, "rate": n_el / secs, "rss": rss.text()}


def report(name: str, target_rate: int, target_p95: int, load: dict, lat: dict) -> None:
    jvm = f" + JVM {load['jvm_cpu']:.0f} s" if load["jvm_cpu"] is not None else ""
    print(f"{name} load: {load['secs']:.1f} s wall, {load['rate']:,.0f} elements/s (target >= {target_rate:,}); "
          f"CPU {load['cpu']:.0f} s (this process){jvm}; peak RSS {load['rss']}")
    print(f"{name} 2-hop neighbourhood (limit 50, total counted): p50 {lat['p50_ms']:.1f} ms, "
          f"p95 {lat['p95_ms']:.1f} ms (target <= {target_p95}), max {lat['max_ms']:.0f} ms, "
          f"CPU p95 {lat['cpu_p95_ms']:.1f} ms (this process); load average {psutil.getloadavg()[0]:.1f} "
          f"on {psutil.cpu_count()} cores; mean total {lat['mean_total']:.0f}, largest {lat['max_total']:,}", flush=True)


# ----------------------------------------------------------------------------- backends
def bench_embedded(frames: GraphFrames, sample: list[str], cfg: Config) -> None:
    from credgraph.graph.ladybug_store import LadybugStore

    tmp = Path(tempfile.mkdtemp(prefix="bench-graph-"))
    try:
        store = LadybugStore(cfg, tmp / "ladybug")
        load = timed_load(store, frames, {"python": psutil.Process().pid})
        store.close()
        store = LadybugStore(cfg, tmp / "ladybug", read_only=True)  # as analysts and the dashboard open it
        store.neighbourhood(sample[0], hops=2)  # warm up
        report("embedded", 200_000, 50, load, latency(store, sample))
        store.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def bench_config(cfg: Config, heap: str, pagecache: str) -> Config:
    """The bench Neo4j instance: port 17688, its own data, the given memory."""
    from credgraph.graph import neo4j_server as srv

    out = copy.deepcopy(srv.config_for_tests(cfg))
    out.graph.neo4j_uri = f"bolt://127.0.0.1:{BENCH_PORT}"
    out.graph.neo4j_heap, out.graph.neo4j_pagecache = heap, pagecache
    return out


def bench_neo4j(frames: GraphFrames, sample: list[str], cfg: Config, warm_up: GraphFrames | None = None) -> None:
    from credgraph.graph import neo4j_server as srv
    from credgraph.graph.neo4j_store import Neo4jStore

    lay = srv.layout(cfg)
    srv.stop(cfg, log=lambda m: None)
    shutil.rmtree(lay.data, ignore_errors=True)  # the bench instance's own data: start empty
    st = srv.start(cfg, log=lambda m: print(m, file=sys.stderr))
    try:
        jvm = psutil.Process(st.pid)
        store = Neo4jStore(cfg)
        name = "neo4j (cold server)"
        if warm_up is not None:
            # a server that has run for a while has compiled its hot code; a new one spends a
            # core on the JIT compiler during its first minutes
            t = time.perf_counter()
            store.load(warm_up)
            store.clear()
            print(f"  warmed the new server up by loading and clearing {warm_up.n_nodes + warm_up.n_edges:,} "
                  f"elements ({time.perf_counter() - t:.0f} s, not counted)", flush=True)
            name = "neo4j (warm server)"
        load = timed_load(store, frames, {"python": psutil.Process().pid, "neo4j": st.pid}, jvm)
        store.neighbourhood(sample[0], hops=2)
        report(name, 20_000, 100, load, latency(store, sample))
        store.close()
    finally:
        srv.stop(cfg, log=lambda m: None)
        shutil.rmtree(lay.data, ignore_errors=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entities", type=int, default=1_000_000, help="entities of the tiled city (default 1M)")
    ap.add_argument("--base", type=int, default=20_000, help="entities of the generated city that is tiled")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--queries", type=int, default=300, help="neighbourhood queries per backend")
    ap.add_argument("--no-neo4j", action="store_true", help="benchmark only the embedded store")
    ap.add_argument("--no-embedded", action="store_true", help="benchmark only Neo4j")
    ap.add_argument("--neo4j-heap", default="4g")
    ap.add_argument("--neo4j-pagecache", default="4g")
    ap.add_argument("--neo4j-warm", action="store_true",
                    help="also measure Neo4j on a warm server: a new server that first loads and clears one tile")
    args = ap.parse_args(argv)

    cfg = Config()
    t = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-graph-city-") as root:
        base = base_city(Path(root), args.base, args.seed, cfg.graph.hash_key)
    tiles = max(1, math.ceil(args.entities / args.base))
    g = tiled_city(base, tiles)
    n_ent = g.nodes["LegalPerson"].height + g.nodes["NaturalPerson"].height
    print(f"city: {args.base:,}-entity generated city (seed {args.seed}, true assignment) tiled {tiles}x: "
          f"{n_ent:,} entities, {g.n_nodes:,} nodes, {g.n_edges:,} relationships "
          f"({g.n_nodes + g.n_edges:,} elements); made in {time.perf_counter() - t:.0f} s", flush=True)
    print("  " + ", ".join(f"{k} {v:,}" for k, v in g.counts().items()))
    rng = np.random.default_rng(1)
    ents = pl.concat([g.nodes["LegalPerson"]["node_id"], g.nodes["NaturalPerson"]["node_id"]])
    sample = ents.gather(rng.integers(0, len(ents), args.queries)).to_list()

    if not args.no_embedded:
        bench_embedded(g, sample, cfg)
    if not args.no_neo4j:
        ncfg = bench_config(cfg, args.neo4j_heap, args.neo4j_pagecache)
        bench_neo4j(g, sample, ncfg)
        if args.neo4j_warm:
            # the warm-up tile's ids carry another suffix, so they never collide with the city's
            bench_neo4j(g, sample, ncfg, warm_up=_tile_one(base, 10_000))
    return 0


if __name__ == "__main__":
    sys.exit(main())
