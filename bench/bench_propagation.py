"""Risk propagation over a 10M-relationship graph built as arrays (no city, no frames, no strings).

Run: .venv/bin/python bench/bench_propagation.py [--relationships 10000000] [--repeats 3]

Target (issue 15): propagation over 10M relationships in <= 10 s. The graph is random but shaped
like a credit network: companies, persons, shared addresses and phones (hubs), registration
agents; relationship types in the shares of ``REL_SHARE``, shareholdings with a ratio. 2% of
entities carry a seed risk. It is handed to the analytics as integer arrays (``ArrayNetwork``),
so what is timed is the risk step itself:

1. the transmission matrix (link weights, hub division, noisy-or of parallel links, damping,
   normalisation: ``transmission_matrix``),
2. the propagation (``propagate``: one sparse product with ``M^T`` per hop, ``analytics.threads``
   threads),
3. removing the echo (``related_risk``: each seeded entity's own risk coming back around loops),

each with wall and CPU seconds (CPU = all threads of this process) and the 1-minute load average
before and after, over ``--repeats`` runs (min / median / max). On a shared machine the CPU
time says what the work costs, the wall time what this run waited; both are printed.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import time
from dataclasses import dataclass

import numpy as np

from credgraph.analytics.network import EDGE_TYPES
from credgraph.analytics.propagation import _propagate, related_risk, transmission_matrix
from credgraph.config import AnalyticsConfig

#: Relationship types and their shares among the relationships.
REL_TYPES = ("SHAREHOLDER_OF", "LEGAL_REP_OF", "OFFICER_OF", "LOCATED_AT", "USES_PHONE", "AGENT_OF")
REL_SHARE = (0.30, 0.15, 0.25, 0.15, 0.10, 0.05)


@dataclass
class ArrayNetwork:
    """The part of :class:`~credgraph.analytics.network.CreditNetwork` that the transmission matrix
    reads: node count, edge ends as indexes, type codes (``EDGE_TYPES`` order) and share ratios."""

    n: int
    src: np.ndarray
    dst: np.ndarray
    etype: np.ndarray
    ratio: np.ndarray


def random_network(n_rel: int, seed: int = 0) -> tuple[ArrayNetwork, np.ndarray]:
    """A random credit-network-shaped graph of ``n_rel`` relationships and its seed risk.

    Nodes: companies ``[0, C)``, persons ``[C, C+P)``, addresses, phones (C = P = n_rel / 5,
    addresses = phones = n_rel / 20). Shareholders are persons (70%) or companies (30%); a
    representative, officer or agent is a person; addresses and phones are used by companies.
    Seed: 2% of companies and persons, severity 0.3-1.0 each.

    >>> net, seed = random_network(1000)
    >>> len(net.src), net.n, int((seed > 0).sum())
    (1000, 500, 8)
    """
    rng = np.random.default_rng(seed)
    nc = npn = max(n_rel // 5, 10)
    na = nph = max(n_rel // 20, 5)
    n = nc + npn + na + nph
    code = {t: i for i, t in enumerate(EDGE_TYPES)}
    kind = rng.choice(len(REL_TYPES), size=n_rel, p=np.array(REL_SHARE))
    comp = rng.integers(0, nc, n_rel)
    person = nc + rng.integers(0, npn, n_rel)
    src = np.where(kind >= 3, comp, person)
    by_comp = (kind == 0) & (rng.random(n_rel) < 0.3)
    src = np.where(by_comp, rng.integers(0, nc, n_rel), src)
    dst = np.where(kind == 3, nc + npn + rng.integers(0, na, n_rel),
                   np.where(kind == 4, nc + npn + na + rng.integers(0, nph, n_rel), comp))
    # AGENT_OF runs agent -> company.
    agent = kind == 5
    src[agent] = person[agent]
    dst[agent] = comp[agent]
    etype = np.array([code[t] for t in REL_TYPES], dtype=np.int8)[kind]
    ratio = np.where(kind == 0, rng.uniform(0.01, 0.9, n_rel), np.nan)
    seedv = np.zeros(n)
    who = rng.choice(nc + npn, size=(nc + npn) // 50, replace=False)
    seedv[who] = rng.uniform(0.3, 1.0, len(who))
    return ArrayNetwork(n=n, src=src.astype(np.int64), dst=dst.astype(np.int64), etype=etype, ratio=ratio), seedv


class Timer:
    """Wall and CPU seconds of a block, and the load average when it ended."""

    def __enter__(self):
        self.w, self.c = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.w, time.process_time() - self.c
        self.load = os.getloadavg()[0]


def _spread(xs: list[float]) -> str:
    return f"{min(xs):.2f} / {statistics.median(xs):.2f} / {max(xs):.2f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--relationships", type=int, default=10_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None, help="analytics.threads (default: the configured)")
    a = ap.parse_args()
    cfg = AnalyticsConfig()
    threads = cfg.threads if a.threads is None else a.threads
    t = time.perf_counter()
    net, seed = random_network(a.relationships)
    print(f"graph: {len(net.src):,} relationships, {net.n:,} nodes, {int((seed > 0).sum()):,} seeded; "
          f"built in {time.perf_counter() - t:.1f} s; {os.cpu_count()} CPUs, {threads} threads, "
          f"precision {cfg.precision}, decay {cfg.decay}, at most {cfg.max_hops} hops, echo_prune {cfg.echo_prune}")
    rows: dict[str, list[Timer]] = {"matrix": [], "propagation": [], "echo": [], "total": []}
    loads = []
    for k in range(a.repeats):
        gc.collect()
        before = os.getloadavg()[0]
        with Timer() as tot:
            with Timer() as tm:
                M = transmission_matrix(net, cfg)
            with Timer() as tp:
                risk, hops = _propagate(M, seed, cfg.decay, cfg.max_hops, cfg.tolerance, threads)
            with Timer() as te:
                related = related_risk(M, seed, risk, cfg.decay, cfg.max_hops, cfg.echo_prune, threads)
        for name, tm_ in (("matrix", tm), ("propagation", tp), ("echo", te), ("total", tot)):
            rows[name].append(tm_)
        loads.append((before, tot.load))
        print(f"run {k + 1}: matrix ({M.nnz:,} entries) {tm.wall:.2f} s wall / {tm.cpu:.2f} s CPU; "
              f"propagation ({hops} hops) {tp.wall:.2f} / {tp.cpu:.2f}; echo {te.wall:.2f} / {te.cpu:.2f}; "
              f"total {tot.wall:.2f} / {tot.cpu:.2f}; load average {before:.1f} -> {tot.load:.1f}; "
              f"{int((related > 0).sum()):,} nodes with related risk", flush=True)
        del M, risk, related
    print("\n| step | wall s (min / median / max) | CPU s (min / median / max) |\n|---|---|---|")
    for name, ts in rows.items():
        print(f"| {name} | {_spread([x.wall for x in ts])} | {_spread([x.cpu for x in ts])} |")
    print(f"\nload average (1 min) before / after each run: "
          + ", ".join(f"{b:.1f} / {e:.1f}" for b, e in loads) + f" on {os.cpu_count()} CPUs; target: total <= 10 s")


if __name__ == "__main__":
    main()
