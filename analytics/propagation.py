"""Risk propagation: risk seeded by active credit records travels along the links.

**Seed.** Each entity's own risk is the sum over its *active* CreditRecords of
``severity(event_type) * 0.5 ** (age_days / half_life_days)``. A record stops counting when
it was repaired or expired (status ``repaired``/``expired``/``removed``), when its publicity
ended (``end_date < as_of``), or when it is dated after ``as_of``.

**Transmission.** A link passes risk both ways with a weight per relationship type:
legal representative strong, shareholding by the share ratio (a controlling holding at the
control weight, the strongest), officers weaker. Hubs are damped by their degree: shared
Address and Phone nodes and registration agents take part as hubs: an entity passes
``transmit_address`` to its address (``transmit_agent`` to its agent) and the hub passes
it on *divided by how many entities share it*, so an agent that 8% of firms use is no
firm's main risk source. Between two nodes the
links combine as a noisy-or, ``1 - prod(1 - w)``. A node with more than ``supernode_degree`` links passes on
proportionally less per link (supernode damping). Finally each node's outgoing weights are
scaled down when they sum above 1 (``normalise="cap"``) or always scaled to sum 1
(``normalise="row"``), giving the transmission matrix ``M`` (``M[i, j]``: share of i's risk
that reaches j in one hop).

**Propagation.** With the per-hop decay ``a``,

    risk = sum_h a**h (M^T)**h seed = seed + a M^T risk,

at most ``max_hops`` hops, stopping earlier once the hops left can add at most ``tolerance``
times the total seed. Each hop is one sparse product with ``M^T`` in ``precision`` (float32 by
default), summed in float64. With ``normalise="row"`` and no dangling nodes,
``(1 - a) * risk / sum(seed)`` is exactly networkx's personalized PageRank with ``alpha=a``
and ``personalization=seed``.

**Without echo.** ``risk[j]`` includes ``seed[j] * (G[j, j] - 1)``: the entity's own risk
coming back around loops (a 2-cycle returns it at every even hop). What reaches an entity from
its related parties is ``related[j] = risk[j] - seed[j] * G[j, j] = sum_{i != j} seed[i] G[i, j]``:
``G[j, j]`` is computed for the seeded entities only, as their own reverse series (paths below
``echo_prune`` pruned, at most ``max_hops``), so an entity with no related parties has exactly
zero related risk and one in a 2-cycle gets none of its own back. Grading uses ``related``.

**Explanation.** ``risk[j] = sum_i seed[i] * G[i, j]`` with ``G = sum_h a**h M**h``; the
terms are each source's contribution. For an explained entity ``t``, ``G``'s column ``t`` is
its own reverse series ``e_t^T (a M^T)^h`` (sparse, path weights below 1e-6 pruned), which
touches only the nodes risk reaches ``t`` from, and the path of each top source is its
strongest path (largest product of ``a * M``), found by one Dijkstra on ``-log`` from ``t``
over the reversed links. The result keeps ``M``, so :func:`explain_risk` explains any
entity later without propagating again.
"""

from __future__ import annotations

import datetime as _dt
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import polars as pl
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from credgraph.config import AnalyticsConfig

from .network import EDGE_TYPES, CreditNetwork, resolve_as_of

__all__ = [
    "RiskResult",
    "active_records",
    "seed_risk",
    "transmission_matrix",
    "propagate",
    "explain_sources",
    "compute_risk",
    "explain_risk",
    "INACTIVE_STATUSES",
]

#: Statuses under which a record no longer counts (credit repair, expiry, removal).
INACTIVE_STATUSES = ("repaired", "expired", "removed")


def _severity_table(cfg: AnalyticsConfig) -> dict[str, float]:
    return {
        "serious_illegal": cfg.severity_serious_illegal,
        "dishonest_debtor": cfg.severity_dishonest_debtor,
        "tax_violation": cfg.severity_tax_violation,
        "penalty": cfg.severity_penalty,
        "abnormal_operations": cfg.severity_abnormal_operations,
        "social_insurance_arrears": cfg.severity_social_insurance_arrears,
    }


def active_records(net: CreditNetwork, cfg: AnalyticsConfig, as_of: _dt.date | str | None = None) -> pl.DataFrame:
    """The network's credit records with ``active``, ``recency`` and ``severity`` columns.

    ``recency`` is ``0.5 ** (age_days / half_life_days)`` (1.0 for undated records);
    ``severity`` is the seed weight of the record: its catalog spec's ``severity`` when the spec
    has one (see :mod:`credgraph.analytics.severity`), else the configured weight of its event
    type (0 for types neither lists, and when inactive).
    """
    as_of = resolve_as_of(net, as_of if as_of is not None else cfg.as_of)
    r = net.records
    status = pl.col("status").fill_null("active").str.to_lowercase()
    active = (
        ~status.is_in(list(INACTIVE_STATUSES))
        & (pl.col("end_date").is_null() | (pl.col("end_date") >= pl.lit(as_of)))
        & (pl.col("date").is_null() | (pl.col("date") <= pl.lit(as_of)))
    )
    age = (pl.lit(as_of) - pl.col("date")).dt.total_days().cast(pl.Float64).clip(lower_bound=0)
    recency = (0.5 ** (age / cfg.half_life_days)).fill_null(1.0)
    grade = pl.col("grade").fill_null("").str.to_uppercase()
    # The catalog spec's severity first (a new catalog counts without a code change), else the table.
    base = pl.coalesce(pl.col("severity_spec"),
                       pl.col("event_type").replace_strict(_severity_table(cfg), default=0.0, return_dtype=pl.Float64))
    tax = (
        pl.when(grade == "D").then(pl.lit(cfg.severity_tax_rating_d))
        .when(grade == "C").then(pl.lit(cfg.severity_tax_rating_c))
        .otherwise(0.0)
    )
    sev = pl.when(pl.col("event_type") == "tax_rating").then(tax).otherwise(base)
    return r.with_columns(active.alias("active"), recency.alias("recency")).with_columns(
        pl.when(pl.col("active")).then(sev).otherwise(0.0).alias("severity")
    )


def seed_risk(net: CreditNetwork, cfg: AnalyticsConfig, as_of=None) -> np.ndarray:
    """Each node's own risk: the recency-weighted severities of its active records."""
    as_of = resolve_as_of(net, as_of if as_of is not None else cfg.as_of)
    return _seed_of(active_records(net, cfg, as_of), net.n)


def _seed_of(records: pl.DataFrame, n: int) -> np.ndarray:
    """Per node, the recency-weighted severities of its records (inactive ones weigh 0)."""
    rec = records.filter(pl.col("severity") > 0)
    w = (rec["severity"] * rec["recency"]).to_numpy()
    return np.bincount(rec["owner"].to_numpy(), weights=w, minlength=n).astype(np.float64)


#: Below this many matrix entries a hop is too short to be worth splitting across threads.
_PARALLEL_NNZ = 1_000_000

#: Largest one-link weight (a weight of 1 would make the noisy-or's log infinite).
_W_MAX = 1.0 - 1e-12


def _link_weights(net: CreditNetwork, cfg: AnalyticsConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Directed (from, to, weight) triples of one hop, before damping and normalisation.

    Written into arrays allocated once (these are the largest arrays of a run: two entries
    per link), weights as float64.
    """
    code = {t: i for i, t in enumerate(EDGE_TYPES)}
    t, s, d = net.etype, net.src, net.dst
    idx = np.int32 if net.n < 2**31 - 1 else np.int64
    table = np.zeros(len(EDGE_TYPES))
    table[code["LEGAL_REP_OF"]] = cfg.transmit_legal_rep
    table[code["OFFICER_OF"]] = cfg.transmit_officer
    table[code["BRANCH_OF"]] = cfg.transmit_branch
    w = table[t]
    share = np.flatnonzero(t == code["SHAREHOLDER_OF"])
    r = np.nan_to_num(net.ratio[share], nan=0.0)
    w[share] = np.where(r > cfg.control_ratio, cfg.transmit_control, cfg.transmit_shareholding * r)
    pair = np.flatnonzero(w > 0)
    hubs = []
    for name, wt in (("LOCATED_AT", cfg.transmit_address), ("USES_PHONE", cfg.transmit_phone),
                     ("AGENT_OF", cfg.transmit_agent)):
        m = np.flatnonzero(t == code[name])
        if len(m) == 0 or wt <= 0:
            continue
        # Entity -> hub (an agent registers its clients: AGENT_OF runs hub -> entity, so turn it round).
        ent_end, hub_end = (d[m], s[m]) if name == "AGENT_OF" else (s[m], d[m])
        # One link per (entity, shared node): duplicates would count an entity twice.
        B = sp.csr_matrix((np.ones(len(m), dtype=np.float32), (ent_end.astype(idx), hub_end.astype(idx))),
                          shape=(net.n, net.n))
        B.sum_duplicates()
        hubs.append((B.indptr, B.indices.astype(idx, copy=False), wt, name))
    p = len(pair)
    size = 2 * p + sum(2 * len(h) for _, h, _, _ in hubs)
    f = np.empty(size, dtype=idx)
    to = np.empty(size, dtype=idx)
    ws = np.empty(size, dtype=np.float64)
    f[:p] = s[pair]
    to[:p] = d[pair]
    f[p:2 * p] = to[:p]
    to[p:2 * p] = f[:p]
    ws[:p] = w[pair]
    ws[p:2 * p] = ws[:p]
    at = 2 * p
    for indptr, hub, wt, name in hubs:
        k = len(hub)
        ent = f[at:at + k]
        ent[:] = np.repeat(np.arange(net.n, dtype=idx), np.diff(indptr))
        to[at:at + k] = hub
        ws[at:at + k] = wt
        f[at + k:at + 2 * k] = hub
        to[at + k:at + 2 * k] = ent
        # A shared node passes on what it got divided by its degree; an agent is an entity with risk of
        # its own, so it passes on its link weight divided by its number of clients.
        ws[at + k:at + 2 * k] = (wt if name == "AGENT_OF" else 1.0) / np.bincount(hub, minlength=net.n)[hub]
        at += 2 * k
    return f, to, ws


def _dtype(cfg: AnalyticsConfig) -> type:
    if cfg.precision not in ("float32", "float64"):
        raise ValueError(f"analytics.precision must be 'float32' or 'float64', not {cfg.precision!r}")
    return np.float32 if cfg.precision == "float32" else np.float64


def transmission_matrix(net: CreditNetwork, cfg: AnalyticsConfig) -> sp.csr_matrix:
    """The one-hop transmission matrix ``M`` (``M[i, j]`` = share of i's risk passed to j), CSR.

    Rows are the passing nodes, so a node's degree and outgoing total are its row's length and
    sum (read off the CSR arrays in order, no scatter), and propagation multiplies by the
    transpose view ``M.T`` (CSC) without converting. Values are ``analytics.precision``.
    """
    if cfg.normalise not in ("cap", "row"):
        raise ValueError(f"analytics.normalise must be 'cap' or 'row', not {cfg.normalise!r}")
    dtype = _dtype(cfg)
    f, to, w = _link_weights(net, cfg)
    loop = f == to
    if loop.any():
        keep = ~loop
        f, to, w = f[keep], to[keep], w[keep]
    del loop
    n = net.n
    # Parallel links combine as a noisy-or, 1 - prod(1 - w): summing log(1 - w) lets the CSR
    # conversion (which adds duplicates in C) do the combining. In place: these arrays are big.
    np.minimum(w, _W_MAX, out=w)
    np.negative(w, out=w)
    np.log1p(w, out=w)
    M = sp.csr_matrix((w, (f, to)), shape=(n, n))
    del f, to, w
    M.sum_duplicates()  # a no-op when the constructor already did it
    np.expm1(M.data, out=M.data)
    np.negative(M.data, out=M.data)
    deg = np.diff(M.indptr)
    out = np.zeros(n)
    has = np.flatnonzero(deg)
    if len(has):
        out[has] = np.add.reduceat(M.data, M.indptr[has])
    damp = np.minimum(1.0, cfg.supernode_degree / np.maximum(deg, 1.0))
    out *= damp
    if cfg.normalise == "row":
        scale = np.where(out > 0, damp / np.where(out > 0, out, 1.0), 0.0)
    else:
        scale = damp / np.maximum(out, 1.0)
    data = M.data.astype(dtype, copy=False)
    data *= np.repeat(scale.astype(dtype), deg)
    return sp.csr_matrix((data, M.indices, M.indptr), shape=(n, n))


def _row_blocks(M: sp.csr_matrix, parts: int) -> list[tuple[slice, sp.csc_matrix]]:
    """``M`` cut into ``parts`` blocks of rows (views, no copy), each with the transpose of its block.

    ``M.T @ x`` is then the sum over blocks of ``block.T @ x[rows]``: the blocks' products run in
    threads (scipy's sparse kernels release the GIL), each into its own output vector.
    """
    n = M.shape[0]
    cuts = np.linspace(0, n, parts + 1).astype(np.int64)
    out = []
    for lo, hi in zip(cuts[:-1], cuts[1:]):
        a, b = M.indptr[lo], M.indptr[hi]
        block = sp.csr_matrix((M.data[a:b], M.indices[a:b], M.indptr[lo:hi + 1] - a), shape=(hi - lo, M.shape[1]))
        out.append((slice(lo, hi), block.T))
    return out


def _propagate(M: sp.spmatrix, seed: np.ndarray, decay: float, max_hops: int, tolerance: float,
               threads: int = 1) -> tuple[np.ndarray, int]:
    """:func:`propagate`, also returning the number of hops taken."""
    if not 0 <= decay < 1:
        raise ValueError("decay must be in [0, 1)")
    total = np.array(seed, dtype=np.float64)
    x = total.astype(M.dtype)
    scale = max(float(np.abs(total).sum()), 1e-300)
    parallel = threads > 1 and sp.isspmatrix_csr(M) and M.nnz >= _PARALLEL_NNZ
    if parallel:
        blocks = _row_blocks(M, threads)
        pool = ThreadPoolExecutor(threads)

        def step(v: np.ndarray) -> np.ndarray:
            parts = list(pool.map(lambda blk: blk[1] @ v[blk[0]], blocks))
            for p in parts[1:]:
                parts[0] += p
            return parts[0]
    else:
        MT = M.T  # CSC view of the CSR M (or CSR view of a CSC one): no conversion

        def step(v: np.ndarray) -> np.ndarray:
            return MT @ v
    hops = 0
    try:
        for hops in range(1, max_hops + 1):
            x = step(x)
            x *= decay
            total += x
            # Rows of M sum to at most 1 (cap or row normalisation), so every later hop adds at most
            # decay times this one: what is left is below this hop's total times decay / (1 - decay).
            if float(np.abs(x).sum()) * decay / (1.0 - decay) <= tolerance * scale:
                break
    finally:
        if parallel:
            pool.shutdown()
    return total, hops


def propagate(
    M: sp.spmatrix, seed: np.ndarray, decay: float, max_hops: int = 20, tolerance: float = 1e-10,
    threads: int = 1,
) -> np.ndarray:
    """``sum_h decay**h (M^T)**h seed`` over at most ``max_hops`` hops, computed in ``M``'s dtype
    and summed in float64. Stops early once the hops left can add at most ``tolerance`` times
    the total seed (in sum over all nodes).

    >>> M = sp.csr_matrix(np.array([[0.0, 0.8], [0.8, 0.0]]))
    >>> np.round(propagate(M, np.array([1.0, 0.0]), decay=0.5, max_hops=200), 4)
    array([1.1905, 0.4762])
    """
    return _propagate(M, seed, decay, max_hops, tolerance, threads)[0]


#: Entries per followed node above which the echo series is pruned.
_ECHO_SPREAD = 64


def self_return(M: sp.csr_matrix, nodes: np.ndarray, decay: float, max_hops: int = 20, prune: float = 1e-6,
                chunk: int = 50_000, threads: int = 1) -> np.ndarray:
    """``G[j, j] = sum_h decay**h (M**h)[j, j]`` for each ``j`` in ``nodes``: 1 plus the share of
    j's own risk that comes back to it around loops.

    Each node's own series ``e_j^T (decay M)^h`` is followed (``chunk`` nodes at a time, the chunks
    in ``threads`` threads), for at most ``max_hops`` hops; once it spreads (more than 64 entries
    per node on average) path weights below ``prune`` are dropped and the series stops when what
    is left could return less than ``prune``, which bounds the cost on big graphs.

    >>> M = sp.csr_matrix(np.array([[0.0, 0.8], [0.8, 0.0]]))
    >>> round(float(self_return(M, np.array([0]), decay=0.5, max_hops=200)[0]), 6)  # 1 / (1 - 0.16)
    1.190476
    """
    nodes = np.asarray(nodes, dtype=np.int64)
    out = np.ones(len(nodes))
    if len(nodes) == 0 or M.nnz == 0:
        return out
    M = M.tocsr()
    n = M.shape[0]

    def one(lo: int) -> None:
        c = nodes[lo:lo + chunk]
        k = len(c)
        rows = np.arange(k)
        X = sp.csr_matrix((np.ones(k, dtype=M.dtype), (rows, c)), shape=(k, n))  # in M's precision
        E = sp.csr_matrix((np.ones(k, dtype=M.dtype), (rows, c)), shape=(k, n))
        acc = np.zeros(k)
        spread = False
        for _ in range(max_hops):
            X = (X @ M).tocsr()
            X.data *= decay
            # Prune only a series that spreads (more than ``_ECHO_SPREAD`` entries per node): on
            # small neighbourhoods the echo is exact.
            spread = spread or X.nnz > _ECHO_SPREAD * k
            floor = prune if spread else 1e-15
            X.data[X.data < floor] = 0
            X.eliminate_zeros()
            if X.nnz == 0:
                break
            acc += np.asarray(X.multiply(E).sum(axis=1), dtype=np.float64).ravel()
            # Rows of M sum to at most 1: what is left can return at most mass * decay / (1 - decay).
            if np.asarray(X.sum(axis=1)).max() * decay / (1 - decay) < floor:
                break
        out[lo:lo + k] += acc

    starts = list(range(0, len(nodes), chunk))
    if threads > 1 and len(starts) > 1:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(one, starts))
    else:
        for lo in starts:
            one(lo)
    return out


def related_risk(M: sp.csr_matrix, seed: np.ndarray, risk: np.ndarray, decay: float, max_hops: int,
                 prune: float, threads: int = 1) -> np.ndarray:
    """What reaches each node from others: ``risk - seed * G[j, j]`` (its own risk coming back removed).

    Only seeded nodes with links have an echo; the rest's related risk is ``risk - seed`` exactly.
    """
    related = risk - seed
    deg = np.diff(M.indptr)
    echo_nodes = np.flatnonzero((seed > 0) & (deg > 0))
    if len(echo_nodes):
        chunk = max(1_000, min(50_000, -(-len(echo_nodes) // max(threads, 1))))
        g = self_return(M, echo_nodes, decay, max_hops, prune, chunk=chunk, threads=threads)
        related[echo_nodes] = risk[echo_nodes] - seed[echo_nodes] * g
    # Float noise of the float32 propagation against the float64 series: not risk.
    related[np.abs(related) <= 1e-6 * np.maximum(seed, 1e-300)] = 0.0
    return np.clip(related, 0.0, None)


_EXPLAIN_SCHEMA = {"node_id": pl.Utf8, "source_id": pl.Utf8, "source_name": pl.Utf8, "contribution": pl.Float64,
                   "share": pl.Float64, "hops": pl.Int64, "path": pl.List(pl.Utf8), "path_text": pl.Utf8,
                   "covered": pl.Float64, "rest": pl.Utf8}

#: Extra reach of the path search beyond the series' pruning threshold (a factor of e**5 ~ 150):
#: a source whose summed contribution survives pruning may come by paths each weaker than it.
_PATH_SLACK = 5.0
#: Targets whose series are followed together in :func:`explain_sources` (bounds its memory).
_EXPLAIN_CHUNK = 25


def explain_sources(
    net: CreditNetwork, M: sp.spmatrix, seed: np.ndarray, targets: np.ndarray, decay: float,
    top: int = 3, max_hops: int = 20, prune: float = 1e-6, reverse: sp.csr_matrix | None = None,
    cost: sp.csr_matrix | None = None, related: np.ndarray | None = None,
) -> pl.DataFrame:
    """Top contributing seed sources of each target, with their contribution and strongest path.

    ``M`` is the transmission matrix; ``reverse`` (CSR of ``M^T`` in float64) and ``cost`` (its
    path costs) may be passed in when already made (see :func:`explain_risk`). Each target's
    column of ``G`` is its own sparse series ``e_t^T (a M^T)^h``, which only touches the nodes
    risk can reach the target from; path weights below ``prune`` are dropped per hop.

    Returns columns node_id, source_id, source_name, contribution, share (of the target's
    risk received from the sources found), hops, path (node ids), path_text, covered (share of
    the received risk, ``related`` when given, that its listed sources explain) and rest (what
    the rest is, when the listed sources explain less than 80%).
    """
    targets = np.asarray(targets, dtype=np.int64)
    empty = pl.DataFrame(schema=_EXPLAIN_SCHEMA)
    if len(targets) == 0 or top <= 0:
        return empty
    k = len(targets)
    R = _reverse_matrix(M) if reverse is None else reverse
    # Each target's series is its own row: targets go _EXPLAIN_CHUNK at a time, so memory holds
    # one chunk's series (through a hub they reach much of the city) instead of all of them.
    parts = [_source_contributions(R, seed, targets, lo, min(lo + _EXPLAIN_CHUNK, k), decay, max_hops, prune)
             for lo in range(0, k, _EXPLAIN_CHUNK)]
    df = pl.concat(parts)
    if df.height == 0:
        return empty
    nxt = (df.sort(["t", "contribution", "i"], descending=[False, True, False])
           .with_columns(pl.int_range(pl.len()).over("t").alias("_r"))
           .filter(pl.col("_r") == top).select("t", pl.col("contribution").alias("_next")))
    totals = (df.group_by("t").agg(pl.col("contribution").sum().alias("_total"), pl.len().alias("_n"))
              .join(nxt, on="t", how="left").with_columns(pl.col("_next").fill_null(0.0)))
    # Coverage is measured against the echo-free received risk when known (it also holds the paths
    # too weak to follow); shares are of the sources found.
    totals = totals.with_columns(pl.col("_total").alias("_found"))
    if related is not None:
        totals = totals.with_columns(pl.max_horizontal(
            pl.Series(related[targets[totals["t"].to_numpy()]]), pl.col("_total")).alias("_total"))
    df = (
        df.sort(["t", "contribution", "i"], descending=[False, True, False])
        .group_by("t", maintain_order=True).head(top)
        .join(totals, on="t", maintain_order="left")
        .with_columns((pl.col("contribution") / pl.col("_found")).alias("share"))
    )
    df = df.with_columns((pl.col("contribution").sum().over("t") / pl.col("_total")).alias("covered"))
    shown = df.group_by("t").agg(pl.len().alias("_k"), pl.col("contribution").sum().alias("_shown"))
    df = df.join(shown, on="t", maintain_order="left").with_columns(_rest_text().alias("rest"))
    if cost is None:
        cost = _cost_matrix(R, decay)
    # A path is at most as strong as the whole series G[i, t] it is part of: the weakest top
    # source of a target bounds how far its path search must go.
    # (seed gathered in numpy: a whole-network literal inside the group-by is copied per group.)
    reach = (pl.DataFrame({"t": df["t"], "g": df["contribution"].to_numpy() / seed[df["i"].to_numpy()]})
             .group_by("t", maintain_order=True).agg(pl.col("g").min()))
    limit = np.full(k, -np.log(prune))
    limit[reach["t"].to_numpy()] = -np.log(np.maximum(reach["g"].to_numpy(), prune))
    paths, hops = _strongest_paths(net, cost, df["i"].to_numpy(), targets, df["t"].to_numpy(), limit)
    # Ids and names gathered for the few nodes shown (not the network's whole object arrays).
    on = np.unique(np.fromiter((j for p in paths for j in p), dtype=np.int64))
    ids = dict(zip(on.tolist(), net.id_series.gather(on).to_list()))
    return pl.DataFrame({
        "node_id": net.id_series.gather(targets[df["t"].to_numpy()]),
        "source_id": net.id_series.gather(df["i"]),
        "source_name": net.name_series.gather(df["i"]),
        "contribution": df["contribution"].to_numpy(),
        "share": df["share"].to_numpy(),
        "hops": np.asarray(hops, dtype=np.int64),
        "path": [[ids[j] for j in p] for p in paths],
        "path_text": path_texts(net, paths),
        "covered": df["covered"].to_numpy(),
        "rest": df["rest"],
    }, schema=_EXPLAIN_SCHEMA)


def _series_one(R: sp.csr_matrix, t: int, decay: float, max_hops: int, prune: float):
    """One target's row of ``G`` as :func:`explain_sources` computes it for many (``sum_h`` of
    ``e_t (decay R)^h``, weights below ``prune`` dropped after each hop), as (columns, values),
    or None when nothing reaches it. Only the nodes the series reaches are touched: scipy's
    product of a 1 x n row costs O(n) per hop (0.1 s a hop on a 4M-node graph)."""
    idx, val = np.array([t], dtype=np.int64), np.array([1.0])
    hops_i, hops_v = [], []
    for _ in range(max_hops):
        starts = R.indptr[idx]
        lens = R.indptr[idx + 1] - starts
        total = int(lens.sum())
        if total == 0:
            break
        pos = np.repeat(starts - np.concatenate(([0], np.cumsum(lens)[:-1])), lens) + np.arange(total)
        cols, inv = np.unique(R.indices[pos], return_inverse=True)
        s = np.bincount(inv, weights=R.data[pos] * np.repeat(val, lens), minlength=len(cols)) * decay
        keep = s >= prune
        idx, val = cols[keep].astype(np.int64), s[keep]
        if len(idx) == 0:
            break
        hops_i.append(idx)
        hops_v.append(val)
    if not hops_i:
        return None
    cols, inv = np.unique(np.concatenate(hops_i), return_inverse=True)
    return cols, np.bincount(inv, weights=np.concatenate(hops_v), minlength=len(cols))


def _source_contributions(R: sp.csr_matrix, seed: np.ndarray, targets: np.ndarray, lo: int, hi: int, decay: float,
                          max_hops: int, prune: float) -> pl.DataFrame:
    """(t, i, contribution) for targets[lo:hi]: ``seed[i] * G[i, t]`` over sources i other than the target,
    ``G``'s column t summed hop by hop over the reversed links, weights below ``prune`` dropped per hop."""
    t = targets[lo:hi]
    k = len(t)
    G = None
    if k == 1:  # one entity (a profile): only the nodes its series reaches are touched
        got = _series_one(R, int(t[0]), decay, max_hops, prune)
        if got is not None:
            G = sp.csr_matrix((got[1], (np.zeros(len(got[0]), dtype=np.int64), got[0])), shape=(1, R.shape[0]))
        max_hops = 0
    X = sp.csr_matrix((np.ones(k), (np.arange(k), t)), shape=(k, R.shape[0]))
    for _ in range(max_hops):
        X = X @ R
        X.data *= decay
        X.data[X.data < prune] = 0
        X.eliminate_zeros()
        if X.nnz == 0:
            break
        G = X if G is None else G + X
    if G is None:
        return pl.DataFrame(schema={"t": pl.Int64, "i": pl.Int64, "contribution": pl.Float64})
    C = G.tocoo()
    contrib = C.data * seed[C.col]
    keep = (C.col != t[C.row]) & (contrib > 0)
    return pl.DataFrame({"t": C.row[keep].astype(np.int64) + lo, "i": C.col[keep].astype(np.int64),
                         "contribution": contrib[keep]})


def _rest_text() -> pl.Expr:
    """What the sources not listed are, when the listed ones explain less than 80%."""
    others = pl.col("_n") - pl.col("_k")
    rest = 100 * (pl.col("_total") - pl.col("_shown")).clip(lower_bound=0) / pl.col("_total")
    largest = pl.when(others > 0).then(100 * pl.col("_next") / pl.col("_total")).otherwise(0.0)
    return (pl.when(pl.col("covered") >= 0.8).then(pl.lit(""))
            .otherwise(pl.format("the other {}% comes from {} further source(s) (the largest {}%) and from paths "
                                 "too weak to follow", rest.round(0).cast(pl.Int64), others, largest.round(0).cast(pl.Int64))))


def _reverse_matrix(M: sp.spmatrix) -> sp.csr_matrix:
    """CSR of ``M^T`` in float64: row j lists the nodes that pass risk to j."""
    R = M.T.tocsr()
    return R.astype(np.float64) if R.dtype != np.float64 else R


def _cost_matrix(R: sp.csr_matrix, decay: float) -> sp.csr_matrix:
    """Path costs ``-log(decay * M[i, j])`` on the reversed links (R's layout)."""
    cost = R.copy()
    cost.data = -np.log(np.clip(decay * cost.data, 1e-300, None))
    return cost


def _strongest_paths(net: CreditNetwork, cost: sp.csr_matrix, sources: np.ndarray, targets: np.ndarray,
                     which: np.ndarray, limit: np.ndarray):
    """For each (source, targets[which]) pair, the node path with the largest product of hop weights.

    One Dijkstra per target over the reversed links (``cost`` is laid out like ``M^T``): the
    shortest reversed path target -> source is the strongest path source -> target, and the
    predecessor of a node there is its next step towards the target. The search stops at cost
    ``limit[target] + _PATH_SLACK`` and is repeated without a limit for the rare source left
    beyond it (one whose contribution is spread over very many weaker paths).
    """
    paths: list[list[int]] = [[] for _ in range(len(sources))]
    for u in np.unique(which).tolist():
        t = int(targets[u])
        sel = np.flatnonzero(which == u)
        _, pred = dijkstra(cost, directed=True, indices=t, return_predecessors=True,
                           limit=float(limit[u]) + _PATH_SLACK)
        if (pred[sources[sel]] < 0).any():
            _, pred = dijkstra(cost, directed=True, indices=t, return_predecessors=True)
        for kk in sel.tolist():
            node, p = int(sources[kk]), [int(sources[kk])]
            while node != t and pred[node] >= 0 and len(p) < 64:
                node = int(pred[node])
                p.append(node)
            paths[kk] = p
    return paths, [len(p) - 1 for p in paths]


def path_texts(net: CreditNetwork, paths: list[list[int]]) -> list[str]:
    """``A -[LEGAL_REP_OF]-> B <-[SHAREHOLDER_OF 60%]- C`` with display names, per path."""
    on_path = np.zeros(net.n, dtype=bool)
    on_path[np.fromiter((k for p in paths for k in p), dtype=np.int64)] = True
    sel = np.flatnonzero(on_path[net.src] & on_path[net.dst])
    link: dict[tuple[int, int], str] = {}
    for e in sel.tolist():  # only the edges among path nodes: a handful
        name = EDGE_TYPES[net.etype[e]]
        if name == "HAS_RECORD":
            continue
        if name == "SHAREHOLDER_OF" and not np.isnan(net.ratio[e]):
            name += f" {net.ratio[e]:.0%}"
        u, v = int(net.src[e]), int(net.dst[e])
        link.setdefault((u, v), f"-[{name}]->")
        link.setdefault((v, u), f"<-[{name}]-")
    on = np.flatnonzero(on_path)
    desc = {i: (nm or ident) for i, nm, ident in
            zip(on.tolist(), net.name_series.gather(on).to_list(), net.id_series.gather(on).to_list())}
    out = []
    for p in paths:
        if not p:
            out.append("")
            continue
        parts = [desc[p[0]]]
        for u, v in zip(p[:-1], p[1:]):
            parts += [link.get((u, v), "--"), desc[v]]
        out.append(" ".join(parts))
    return out


@dataclass
class RiskResult:
    """Propagated risk per entity, with explanations for the riskiest.

    It keeps the transmission matrix it was propagated with, so any entity can be explained
    afterwards without propagating again (:func:`explain_risk`).
    """

    #: node_id, label, name, seed, received, risk, rank (1 = riskiest), for all entities.
    scores: pl.DataFrame
    #: Top contributing sources per explained entity (see :func:`explain_sources`).
    sources: pl.DataFrame
    as_of: _dt.date
    #: Full-length vectors aligned with the network's node index.
    seed: np.ndarray
    risk: np.ndarray
    #: The records with their ``active``, ``recency`` and ``severity`` as of ``as_of``.
    records: pl.DataFrame | None = None
    #: Hops the propagation took (at most ``max_hops``; fewer once converged).
    hops: int = 0
    #: The transmission matrix ``M`` (CSR) and the settings used: what :func:`explain_risk` needs.
    matrix: sp.csr_matrix | None = None
    config: AnalyticsConfig | None = None
    #: What reached each node from others, its own risk coming back removed (``risk - seed`` when
    #: ``echo_free`` is off).
    related: np.ndarray | None = None
    _reverse: sp.csr_matrix | None = field(default=None, repr=False)
    _cost: sp.csr_matrix | None = field(default=None, repr=False)

    def explain(self, net: CreditNetwork, node_id: str, top: int | None = None) -> pl.DataFrame:
        """Same as :func:`explain_risk` (``explain_risk(self, net, node_id, top)``)."""
        return explain_risk(self, net, node_id, top)

    def _explainer(self, decay: float) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """The reversed matrix and its path costs, made on first use and kept."""
        if self._reverse is None:
            self._reverse = _reverse_matrix(self.matrix)
        if self._cost is None:
            self._cost = _cost_matrix(self._reverse, decay)
        return self._reverse, self._cost


def explain_risk(result: RiskResult, net: CreditNetwork, node_id: str, top: int | None = None) -> pl.DataFrame:
    """The top contributing sources of one entity's risk and the paths they came by, from a
    finished :func:`compute_risk` result, without propagating again.

    Only the entity's own reverse series is computed (the nodes risk can reach it from), on the
    matrix kept in ``result``; the reversed matrix and path costs are made on the first call and
    kept for later ones. Same columns and values as ``result.sources`` and
    ``compute_risk(..., explain_ids=[node_id]).sources`` for that entity: node_id, source_id,
    source_name, contribution, share, hops, path, path_text. Empty when the entity received no
    risk; ``top`` defaults to ``analytics.explain_sources``. Raises KeyError for an unknown
    node id and ValueError when ``result`` has no matrix (not made by :func:`compute_risk`).

    >>> from credgraph.analytics.frames import make_frames
    >>> nodes, edges = make_frames(
    ...     [{"node_id": "rec:1", "label": "CreditRecord", "event_type": "serious_illegal", "date": "2024-01-01"}],
    ...     [{"src": "p1", "dst": "c1", "type": "LEGAL_REP_OF"}, {"src": "p1", "dst": "c2", "type": "LEGAL_REP_OF"},
    ...      {"src": "c1", "dst": "rec:1", "type": "HAS_RECORD"}])
    >>> net = CreditNetwork.from_frames(nodes, edges)
    >>> res = compute_risk(net, AnalyticsConfig(), "2024-01-01", explain=0)
    >>> explain_risk(res, net, "c2").select("source_id", "hops", "path").rows()
    [('c1', 2, ['c1', 'p1', 'c2'])]
    """
    if result.matrix is None:
        raise ValueError("this risk result keeps no transmission matrix: make it with compute_risk")
    if net._index is not None:
        i = int(net.index_of([node_id])[0])
    else:  # one vectorised comparison rather than building the whole id -> index dict
        hit = (net.id_series == node_id).arg_true()
        i = int(hit[0]) if len(hit) else -1
    if i < 0:
        raise KeyError(f"unknown node id {node_id!r}")
    cfg = result.config or AnalyticsConfig()
    reverse, cost = result._explainer(cfg.decay)
    return explain_sources(net, result.matrix, result.seed, np.array([i]), cfg.decay,
                           cfg.explain_sources if top is None else top, cfg.max_hops, reverse=reverse, cost=cost,
                           related=result.related)



def score_table(net: CreditNetwork, seed: np.ndarray, risk: np.ndarray, related: np.ndarray) -> tuple[pl.DataFrame, np.ndarray]:
    """(scores, order): every entity's seed, received, related, echo, risk and rank, riskiest
    first (ties in node order), and the entities' node indices in that order."""
    ent = np.flatnonzero(net.entity_mask)
    # Riskiest first, ties in node order (a stable sort; polars' is parallel and faster than numpy's).
    order = pl.DataFrame({"i": ent, "r": -risk[ent]}).sort("r", maintain_order=True)["i"].to_numpy()
    rank = np.empty(net.n, dtype=np.int64)
    rank[order] = np.arange(1, len(order) + 1)
    scores = pl.DataFrame({
        "node_id": net.id_series.gather(order), "label": net.nodes["label"].gather(order).cast(pl.Utf8),
        "name": net.name_series.gather(order),
        "seed": seed[order], "received": risk[order] - seed[order], "related": related[order],
        "echo": np.clip(risk[order] - seed[order] - related[order], 0.0, None), "risk": risk[order], "rank": rank[order],
    })
    return scores, order


def compute_risk(
    net: CreditNetwork, cfg: AnalyticsConfig, as_of=None, explain: int | None = None,
    explain_ids: list[str] | None = None,
) -> RiskResult:
    """Seed, propagate and explain: the whole of ``credgraph risk``."""
    as_of = resolve_as_of(net, as_of if as_of is not None else cfg.as_of)
    records = active_records(net, cfg, as_of)
    seed = _seed_of(records, net.n)
    M = transmission_matrix(net, cfg)
    risk, hops = _propagate(M, seed, cfg.decay, cfg.max_hops, cfg.tolerance, cfg.threads)
    related = (related_risk(M, seed, risk, cfg.decay, cfg.max_hops, cfg.echo_prune, cfg.threads) if cfg.echo_free
               else np.clip(risk - seed, 0.0, None))
    scores, order = score_table(net, seed, risk, related)
    k = cfg.explain_entities if explain is None else explain
    targets = order[:k][related[order[:k]] > 0]
    if explain_ids:
        extra = net.index_of(explain_ids)
        targets = np.unique(np.concatenate([targets, extra[extra >= 0]]))
    result = RiskResult(scores=scores, sources=pl.DataFrame(schema=_EXPLAIN_SCHEMA), as_of=as_of, seed=seed,
                        risk=risk, records=records, hops=hops, matrix=M, config=cfg, related=related)
    if len(targets):
        reverse, cost = result._explainer(cfg.decay)
        # (explain_sources follows the targets' series a few dozen at a time: memory stays bounded)
        result.sources = explain_sources(net, M, seed, targets, cfg.decay, cfg.explain_sources, cfg.max_hops,
                                         reverse=reverse, cost=cost, related=related)
    return result
