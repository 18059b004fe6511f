"""Analytics benchmark on synthetic random graphs (run: .venv/bin/python bench/bench_analytics.py).

1. Risk propagation over 10M relationships (target <= 10 s): frames -> CreditNetwork (index
   build) and seed + transmission matrix + propagation, timed separately.
2. At 1M relationships: our propagation vs networkx pagerank (personalized, same weights),
   with the time ratio and the largest difference of the two results.
3. Ultimate controllers for 1M enterprises (target <= 60 s).

Options: --scale 0.1 shrinks every size (a quick run); --skip-nx skips networkx.

``--memory FRAMES_DIR`` instead runs the whole analytics pass (risk, grades, shells, inspection
list) stage by stage on a city's frames (nodes.parquet, edges.parquet, e.g. written from a
generated city with ``credgraph.analytics.frames_from_truth``) and prints each stage's time and
peak resident memory (sampled every 20 ms).
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import os
import time

import numpy as np
import polars as pl

from credgraph.analytics.network import CreditNetwork
from credgraph.analytics.ownership import controllers
from credgraph.analytics.propagation import compute_risk, explain_risk, propagate, seed_risk, transmission_matrix
from credgraph.config import AnalyticsConfig

REL_TYPES = np.array(["SHAREHOLDER_OF", "LEGAL_REP_OF", "OFFICER_OF", "LOCATED_AT", "USES_PHONE", "AGENT_OF"])
REL_SHARE = np.array([0.30, 0.15, 0.25, 0.15, 0.10, 0.05])


def random_frames(n_rel: int, seed: int = 0) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A random city: companies, persons, addresses, phones; 2% of entities have a credit record."""
    rng = np.random.default_rng(seed)
    n_comp, n_pers = max(n_rel // 5, 10), max(n_rel // 5, 10)
    n_addr, n_phone = max(n_rel // 20, 5), max(n_rel // 20, 5)
    kind = rng.choice(len(REL_TYPES), size=n_rel, p=REL_SHARE)
    raw = pl.DataFrame({
        "kind": kind, "comp": rng.integers(0, n_comp, n_rel), "other": rng.integers(0, n_pers, n_rel),
        "holder_comp": rng.integers(0, n_comp, n_rel), "by_comp": rng.random(n_rel) < 0.3,
        "addr": rng.integers(0, n_addr, n_rel), "phone": rng.integers(0, n_phone, n_rel),
        "ratio": rng.uniform(0.01, 0.9, n_rel),
    })
    edges = raw.select(
        pl.when(pl.col("kind") >= 3).then(pl.format("c{}", "comp"))
        .when((pl.col("kind") == 0) & pl.col("by_comp")).then(pl.format("c{}", "holder_comp"))
        .otherwise(pl.format("p{}", "other")).alias("src"),
        pl.when(pl.col("kind") == 3).then(pl.format("addr:{}", "addr"))
        .when(pl.col("kind") == 4).then(pl.format("phone:{}", "phone"))
        .otherwise(pl.format("c{}", "comp")).alias("dst"),
        pl.col("kind").replace_strict(dict(enumerate(REL_TYPES.tolist())), return_dtype=pl.Utf8).alias("type"),
        pl.when(pl.col("kind") == 0).then(pl.col("ratio")).otherwise(None).alias("ratio"),
    )
    # AGENT_OF runs agent -> company: make the agents persons.
    edges = edges.with_columns(pl.when(pl.col("type") == "AGENT_OF").then(pl.col("src").str.replace("^c", "p"))
                               .otherwise(pl.col("src")).alias("src"))
    n_rec = max((n_comp + n_pers) // 50, 1)
    owners = rng.integers(0, n_comp, n_rec)
    days = rng.integers(0, 1500, n_rec)
    rec_nodes = pl.DataFrame({
        "node_id": np.char.add("rec:", np.arange(n_rec).astype(str)), "label": "CreditRecord",
        "event_type": rng.choice(["penalty", "serious_illegal", "dishonest_debtor", "abnormal_operations"], n_rec),
        "date": (np.datetime64("2020-01-01") + days.astype("timedelta64[D]")), "status": "active",
    }).with_columns(pl.col("date").cast(pl.Date))

    def ids(prefix, k, label):
        return pl.DataFrame({"node_id": np.char.add(prefix, np.arange(k).astype(str)), "label": label})

    nodes = pl.concat([ids("c", n_comp, "LegalPerson"), ids("p", n_pers, "NaturalPerson"),
                       ids("addr:", n_addr, "Address"), ids("phone:", n_phone, "Phone"), rec_nodes], how="diagonal")
    has = pl.DataFrame({"src": np.char.add("c", owners.astype(str)), "dst": rec_nodes["node_id"], "type": "HAS_RECORD"})
    return nodes, pl.concat([edges, has], how="diagonal_relaxed")


def ownership_network(n_comp: int, seed: int = 1) -> CreditNetwork:
    """Companies held by 1-3 persons; 20% also held (often with control) by an older company; a few cross-holdings."""
    rng = np.random.default_rng(seed)
    n_pers = n_comp // 2
    k = rng.integers(1, 4, n_comp)
    comp = np.repeat(np.arange(n_comp), k)
    holder = rng.integers(0, n_pers, len(comp))
    ratio = rng.dirichlet(np.ones(3), n_comp)[np.repeat(np.arange(n_comp), k), np.concatenate([np.arange(x) for x in k])]
    sub = np.nonzero(rng.random(n_comp) < 0.2)[0]
    sub = sub[sub > 0]
    parent = (rng.random(len(sub)) * sub).astype(np.int64)
    cross = rng.integers(0, n_comp, n_comp // 1000)
    src = np.concatenate([np.char.add("p", holder.astype(str)), np.char.add("c", parent.astype(str)),
                          np.char.add("c", cross.astype(str))])
    dst = np.concatenate([np.char.add("c", comp.astype(str)), np.char.add("c", sub.astype(str)),
                          np.char.add("c", ((cross * 13 + 7) % n_comp).astype(str))])
    r = np.concatenate([ratio * 0.4, rng.uniform(0.3, 0.9, len(sub)), rng.uniform(0.05, 0.6, len(cross))])
    nodes = pl.DataFrame({"node_id": np.concatenate([np.char.add("c", np.arange(n_comp).astype(str)),
                                                     np.char.add("p", np.arange(n_pers).astype(str))]),
                          "label": ["LegalPerson"] * n_comp + ["NaturalPerson"] * n_pers})
    edges = pl.DataFrame({"src": src, "dst": dst, "type": "SHAREHOLDER_OF", "ratio": r})
    return CreditNetwork.from_frames(nodes, edges)


class Timer:
    """Wall-clock and CPU time (all threads) of a block: on a shared machine the CPU time
    says what the work costs, the wall time what this run waited."""

    def __enter__(self):
        self.w, self.c = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.w, time.process_time() - self.c

    def __str__(self) -> str:
        return f"{self.wall:.2f} s wall / {self.cpu:.2f} s CPU"


def memory_stages(frames: str) -> None:
    """Time and peak resident memory of each stage of the analytics pass on the frames in ``frames``."""
    import threading
    from pathlib import Path

    import psutil

    from credgraph.analytics import detect_shells, directed_checks, draw_inspection, grade_enterprises

    proc = psutil.Process()
    peak = [proc.memory_info().rss]

    def watch() -> None:
        while True:
            peak[0] = max(peak[0], proc.memory_info().rss)
            time.sleep(0.02)

    threading.Thread(target=watch, daemon=True).start()
    cfg = AnalyticsConfig()
    t = [time.perf_counter()]

    def stage(name: str) -> None:
        rss = proc.memory_info().rss
        print(f"{name:<12} {time.perf_counter() - t[0]:7.1f} s   peak {peak[0] / 2**30:5.2f} GB   "
              f"after {rss / 2**30:5.2f} GB", flush=True)
        t[0], peak[0] = time.perf_counter(), rss

    d = Path(frames)
    nodes, edges = pl.read_parquet(d / "nodes.parquet"), pl.read_parquet(d / "edges.parquet")
    stage("read frames")
    net = CreditNetwork.from_frames(nodes, edges)
    n_nodes, n_edges = nodes.height, edges.height
    del nodes, edges
    gc.collect()
    stage("network")
    risk = compute_risk(net, cfg)
    stage("risk")
    grades = grade_enterprises(net, cfg, risk.as_of, risk)
    stage("grades")
    shells = detect_shells(net, cfg, grades.as_of, features=grades.features)
    stage("shells")
    draw_inspection(grades.grades, cfg, as_of=grades.as_of, directed=directed_checks(shells)["node_id"].to_list())
    stage("inspection")
    print(f"{n_nodes:,} nodes, {n_edges:,} relationships, {int(net.entity_mask.sum()):,} entities, "
          f"{grades.grades.height:,} graded enterprises, {int(shells.firms['flagged'].sum()):,} flagged shells; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--skip-nx", action="store_true")
    ap.add_argument("--memory", metavar="FRAMES_DIR", help="time and peak memory per stage of the analytics pass")
    args = ap.parse_args()
    if args.memory:
        memory_stages(args.memory)
        return
    cfg = AnalyticsConfig(as_of="2024-06-30", explain_entities=0)

    n_big = int(10_000_000 * args.scale)
    t = time.perf_counter()
    nodes, edges = random_frames(n_big)
    print(f"[1] generated {edges.height:,} relationships, {nodes.height:,} nodes in {time.perf_counter() - t:.1f} s")
    with Timer() as tb:
        net = CreditNetwork.from_frames(nodes, edges)
    del nodes, edges
    gc.collect()
    with Timer() as tr:
        res = compute_risk(net, cfg, explain=0)
    print(f"[1] index build (frames -> arrays): {tb}")
    print(f"[1] risk (seed + transmission matrix ({cfg.precision}, {res.matrix.nnz:,} entries) + {res.hops} hops "
          f"+ ranking): {tr} (target <= 10 s); "
          f"{int((res.risk > 0).sum()):,} entities with risk; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    # The same steps one by one, so that the sparse product itself can be read apart from the build.
    with Timer() as ts:
        seed = seed_risk(net, cfg)
    with Timer() as tm:
        M = transmission_matrix(net, cfg)
    with Timer() as tp:
        propagate(M, seed, cfg.decay, cfg.max_hops, cfg.tolerance, threads=cfg.threads)
    with Timer() as tp1:
        propagate(M, seed, cfg.decay, cfg.max_hops, cfg.tolerance, threads=1)
    del M
    print(f"[1] of which: seed {ts}; transmission matrix {tm}; propagation alone ({res.hops} hops) {tp} "
          f"in {cfg.threads} threads, {tp1} in one")
    who = res.scores["node_id"][100]
    with Timer() as te1:
        explain_risk(res, net, who)
    with Timer() as te2:
        ex = explain_risk(res, net, res.scores["node_id"][1000])
    print(f"[1] explain one entity from the result: first call {te1} (makes the reversed matrix), "
          f"next {te2}; {ex.height} sources, paths of {ex['hops'].to_list()} links")
    del net, res
    gc.collect()

    n_small = int(1_000_000 * args.scale)
    nodes, edges = random_frames(n_small, seed=5)
    net = CreditNetwork.from_frames(nodes, edges)
    rcfg = dataclasses.replace(cfg, normalise="row", decay=0.85, max_hops=1000, tolerance=1e-12)
    with Timer() as t_all:
        seed = seed_risk(net, rcfg)
        M = transmission_matrix(net, rcfg)
        ours = propagate(M, seed, rcfg.decay, rcfg.max_hops, rcfg.tolerance)
    print(f"[2] {n_small:,} relationships: our seed + matrix + propagation with PageRank settings "
          f"(alpha 0.85, row-normalised, tol 1e-12, {rcfg.precision}): {t_all}")
    if not args.skip_nx:
        import networkx as nx

        # Only linked nodes take part (CreditRecord nodes have no links); seeds there, so neither side has
        # dangling nodes and the two must agree.
        linked = M.getnnz(axis=1) > 0
        seed = np.where(linked, seed, 0.0)
        with Timer() as t_ours:
            ours = propagate(M, seed, rcfg.decay, rcfg.max_hops, rcfg.tolerance)
        coo = M.tocoo()
        with Timer() as t_graph:
            G = nx.DiGraph()
            G.add_nodes_from(np.nonzero(linked)[0].tolist())
            G.add_weighted_edges_from(zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist()))
        pers = {int(i): float(seed[i]) for i in np.nonzero(seed)[0]}
        with Timer() as t_nx:
            pr = nx.pagerank(G, alpha=rcfg.decay, personalization=pers, weight="weight", tol=1e-12, max_iter=1000)
        idx = np.fromiter(pr.keys(), dtype=np.int64)
        nxv = np.fromiter(pr.values(), dtype=np.float64)
        diff = np.abs((1 - rcfg.decay) * ours[idx] / seed.sum() - nxv).max() / nxv.max()
        # The same in float64 (analytics.precision), for the agreement to more digits.
        M64 = M.astype(np.float64)
        with Timer() as t_64:
            ours64 = propagate(M64, seed, rcfg.decay, rcfg.max_hops, rcfg.tolerance)
        diff64 = np.abs((1 - rcfg.decay) * ours64[idx] / seed.sum() - nxv).max() / nxv.max()
        print(f"[2] same graph and seeds: our propagation {t_ours}; networkx pagerank {t_nx} "
              f"(+ {t_graph} building its graph)")
        print(f"[2] time ratio networkx/ours: {t_nx.wall / t_ours.wall:.1f}x wall, {t_nx.cpu / t_ours.cpu:.1f}x CPU "
              f"({(t_nx.cpu + t_graph.cpu) / t_ours.cpu:.1f}x CPU with the graph build); "
              f"max difference {diff:.1e} of the largest rank ({rcfg.precision})")
        print(f"[2] in float64: our propagation {t_64}, {t_nx.cpu / t_64.cpu:.1f}x CPU faster than networkx; "
              f"max difference {diff64:.1e} of the largest rank")
    del net
    gc.collect()

    n_ent = int(1_000_000 * args.scale)
    net = ownership_network(n_ent)
    with Timer() as tc:
        ctl = controllers(net)
    counts = dict(ctl.group_by("status").len().iter_rows())
    print(f"[3] ultimate controllers of {n_ent:,} enterprises with chains and integrated ratios: {tc} "
          f"(target <= 60 s); {counts}; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
