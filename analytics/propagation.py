"""Risk propagation: risk seeded by active credit records travels along the links.

**Seed.** Each entity's own risk is the sum over its *active* CreditRecords of
``severity(event_type) * 0.5 ** (age_days / half_life_days)``. A record stops counting when
it was repaired or expired (status ``repaired``/``expired``/``removed``), when its publicity
ended (``end_date < as_of``), or when it is dated after ``as_of``.

**Transmission.** A link passes risk both ways with a weight per relationship type:
legal representative strong, shareholding by the share ratio (a controlling holding at the
control weight, the strongest), officers weaker, agents weakest. Shared Address and Phone
nodes take part as nodes: an entity passes ``transmit_address`` to its address and the
address passes it on *divided by how many entities share it*. Between two nodes the
links combine as a noisy-or, ``1 - prod(1 - w)``. A node with more than ``supernode_degree`` links passes on
proportionally less per link (supernode damping). Finally each node's outgoing weights are
scaled down when they sum above 1 (``normalise="cap"``) or always scaled to sum 1
(``normalise="row"``), giving the transmission matrix ``M`` (``M[i, j]``: share of i's risk
that reaches j in one hop).

**Propagation.** With the per-hop decay ``a``,

    risk = sum_h a**h (M^T)**h seed = seed + a M^T risk,

iterated until the hop's addition is below ``tolerance`` or ``max_hops`` hops. With
``normalise="row"`` and no dangling nodes, ``(1 - a) * risk / sum(seed)`` is exactly
networkx's personalized PageRank with ``alpha=a`` and ``personalization=seed``.

**Explanation.** ``risk[j] = sum_i seed[i] * G[i, j]`` with ``G = sum_h a**h M**h``; the
terms are each source's contribution. For the entities explained, ``G``'s columns are
computed by the same series (sparse, path weights below 1e-6 pruned), and the path of each top source is
its strongest path (largest product of ``a * M``, found by Dijkstra on ``-log``).
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

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
    ``severity`` is the configured seed weight of the record's type (0 when inactive).
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
    base = pl.col("event_type").replace_strict(_severity_table(cfg), default=0.0, return_dtype=pl.Float64)
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
    rec = active_records(net, cfg, as_of).filter(pl.col("severity") > 0)
    w = (rec["severity"] * rec["recency"]).to_numpy()
    return np.bincount(rec["owner"].to_numpy(), weights=w, minlength=net.n).astype(np.float64)


#: Largest one-link weight (a weight of 1 would make the noisy-or's log infinite).
_W_MAX = 1.0 - 1e-12


def _link_weights(net: CreditNetwork, cfg: AnalyticsConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Directed (from, to, weight) triples of one hop, before damping and normalisation."""
    code = {t: i for i, t in enumerate(EDGE_TYPES)}
    t, s, d = net.etype, net.src, net.dst
    idx = np.int32 if net.n < 2**31 - 1 else np.int64
    table = np.zeros(len(EDGE_TYPES))
    table[code["LEGAL_REP_OF"]] = cfg.transmit_legal_rep
    table[code["OFFICER_OF"]] = cfg.transmit_officer
    table[code["BRANCH_OF"]] = cfg.transmit_branch
    table[code["AGENT_OF"]] = cfg.transmit_agent
    w = table[t]
    share = np.flatnonzero(t == code["SHAREHOLDER_OF"])
    r = np.nan_to_num(net.ratio[share], nan=0.0)
    w[share] = np.where(r > cfg.control_ratio, cfg.transmit_control, cfg.transmit_shareholding * r)
    pair = np.flatnonzero(w > 0)
    sp_, dp_, wp = s[pair].astype(idx), d[pair].astype(idx), w[pair]
    froms, tos, ws = [sp_, dp_], [dp_, sp_], [wp, wp]
    for name, wt in (("LOCATED_AT", cfg.transmit_address), ("USES_PHONE", cfg.transmit_phone)):
        m = np.flatnonzero(t == code[name])
        if len(m) == 0 or wt <= 0:
            continue
        # One link per (entity, shared node): duplicates would count an entity twice.
        B = sp.csr_matrix((np.ones(len(m), dtype=np.float32), (s[m].astype(idx), d[m].astype(idx))), shape=(net.n, net.n))
        B.sum_duplicates()
        ent = np.repeat(np.arange(net.n, dtype=idx), np.diff(B.indptr))
        hub = B.indices.astype(idx)
        k = np.bincount(hub, minlength=net.n)
        froms += [ent, hub]
        tos += [hub, ent]
        ws += [np.full(len(ent), wt), 1.0 / k[hub]]
    return np.concatenate(froms), np.concatenate(tos), np.concatenate(ws)


def transmission_matrix(net: CreditNetwork, cfg: AnalyticsConfig) -> sp.csc_matrix:
    """The one-hop transmission matrix ``M`` (``M[i, j]`` = share of i's risk passed to j).

    Built as the CSR matrix of ``M^T`` (what propagation multiplies by) and returned as its
    transpose view, a CSC matrix, so that neither needs a conversion.
    """
    if cfg.normalise not in ("cap", "row"):
        raise ValueError(f"analytics.normalise must be 'cap' or 'row', not {cfg.normalise!r}")
    f, to, w = _link_weights(net, cfg)
    keep = f != to
    if not keep.all():
        f, to, w = f[keep], to[keep], w[keep]
    n = net.n
    # Parallel links combine as a noisy-or, 1 - prod(1 - w): summing log(1 - w) lets the CSR
    # conversion (which adds duplicates in C) do the combining.
    T = sp.csr_matrix((np.log1p(-np.minimum(w, _W_MAX)), (to, f)), shape=(n, n))
    del f, to, w
    T.sum_duplicates()
    np.expm1(T.data, out=T.data)
    np.negative(T.data, out=T.data)
    # Column j of M^T is what node j passes on: its degree, its outgoing total.
    deg = np.bincount(T.indices, minlength=n).astype(np.float64)
    out = np.bincount(T.indices, weights=T.data, minlength=n)
    damp = np.minimum(1.0, cfg.supernode_degree / np.maximum(deg, 1.0))
    out *= damp
    if cfg.normalise == "row":
        scale = np.where(out > 0, damp / np.where(out > 0, out, 1.0), 0.0)
    else:
        scale = damp / np.maximum(out, 1.0)
    T.data *= scale[T.indices]
    return T.T


def propagate(
    M: sp.spmatrix, seed: np.ndarray, decay: float, max_hops: int = 20, tolerance: float = 1e-10,
    MT: sp.spmatrix | None = None,
) -> np.ndarray:
    """``sum_h decay**h (M^T)**h seed`` over at most ``max_hops`` hops.

    >>> M = sp.csr_matrix(np.array([[0.0, 0.8], [0.8, 0.0]]))
    >>> np.round(propagate(M, np.array([1.0, 0.0]), decay=0.5, max_hops=200), 4)
    array([1.1905, 0.4762])
    """
    if not 0 <= decay < 1:
        raise ValueError("decay must be in [0, 1)")
    MT = M.T if MT is None else MT  # CSC view of M's transpose: no conversion
    total = seed.astype(np.float64).copy()
    x = total.copy()
    scale = max(float(np.abs(seed).sum()), 1e-300)
    for _ in range(max_hops):
        x = decay * (MT @ x)
        total += x
        if float(np.abs(x).sum()) <= tolerance * scale:
            break
    return total


def explain_sources(
    net: CreditNetwork, M: sp.csr_matrix, seed: np.ndarray, targets: np.ndarray, decay: float,
    top: int = 3, max_hops: int = 20, prune: float = 1e-6,
) -> pl.DataFrame:
    """Top contributing seed sources of each target, with their contribution and strongest path.

    Returns columns node_id, source_id, source_name, contribution, share (of the target's
    propagated risk received from others), hops, path (node ids), path_text.
    """
    targets = np.asarray(targets, dtype=np.int64)
    empty = pl.DataFrame(schema={"node_id": pl.Utf8, "source_id": pl.Utf8, "source_name": pl.Utf8,
                                 "contribution": pl.Float64, "share": pl.Float64, "hops": pl.Int64,
                                 "path": pl.List(pl.Utf8), "path_text": pl.Utf8})
    if len(targets) == 0 or top <= 0:
        return empty
    n = net.n
    E = sp.csr_matrix((np.ones(len(targets)), (targets, np.arange(len(targets)))), shape=(n, len(targets)))
    X = E.copy()
    G = sp.csr_matrix((n, len(targets)))
    aM = (decay * M).tocsr()
    for _ in range(max_hops):
        X = (aM @ X).tocsr()
        X.data[X.data < prune] = 0
        X.eliminate_zeros()
        if X.nnz == 0:
            break
        G = G + X
    # contribution[i, t] = seed[i] * G[i, t] for sources other than the target itself.
    C = sp.diags(seed) @ G
    C = C.tocoo()
    keep = (C.row != targets[C.col]) & (C.data > 0)
    df = pl.DataFrame({"t": C.col[keep], "i": C.row[keep], "contribution": C.data[keep]})
    if df.height == 0:
        return empty
    totals = df.group_by("t").agg(pl.col("contribution").sum().alias("_total"))
    df = (
        df.sort(["t", "contribution"], descending=[False, True])
        .group_by("t", maintain_order=True).head(top)
        .join(totals, on="t")
        .with_columns((pl.col("contribution") / pl.col("_total")).alias("share"))
    )
    paths, hops = _strongest_paths(net, aM, df["i"].to_numpy(), targets[df["t"].to_numpy()])
    return pl.DataFrame({
        "node_id": net.ids[targets[df["t"].to_numpy()]],
        "source_id": net.ids[df["i"].to_numpy()],
        "source_name": net.names[df["i"].to_numpy()],
        "contribution": df["contribution"].to_numpy(),
        "share": df["share"].to_numpy(),
        "hops": np.asarray(hops, dtype=np.int64),
        "path": [[str(net.ids[k]) for k in p] for p in paths],
        "path_text": path_texts(net, paths),
    }, schema=empty.schema)


def _strongest_paths(net: CreditNetwork, aM: sp.csr_matrix, sources: np.ndarray, targets: np.ndarray):
    """For each (source, target) pair, the node path with the largest product of hop weights."""
    cost = aM.copy()
    cost.data = -np.log(np.clip(cost.data, 1e-300, None))
    uniq, inv = np.unique(sources, return_inverse=True)
    chunk = max(1, int(2e7 // max(net.n, 1)))
    paths: list[list[int]] = [[] for _ in range(len(sources))]
    for start in range(0, len(uniq), chunk):
        block = uniq[start:start + chunk]
        _, pred = dijkstra(cost, directed=True, indices=block, return_predecessors=True)
        for k in np.nonzero((inv >= start) & (inv < start + len(block)))[0]:
            row = pred[inv[k] - start]
            node, p = int(targets[k]), [int(targets[k])]
            while node != int(sources[k]) and row[node] >= 0 and len(p) < 64:
                node = int(row[node])
                p.append(node)
            paths[k] = p[::-1]
    return paths, [len(p) - 1 for p in paths]


def path_texts(net: CreditNetwork, paths: list[list[int]]) -> list[str]:
    """``A -[LEGAL_REP_OF]-> B <-[SHAREHOLDER_OF 60%]- C`` with display names, per path."""
    nodes = np.unique(np.fromiter((k for p in paths for k in p), dtype=np.int64))
    sel = np.nonzero(np.isin(net.src, nodes) & np.isin(net.dst, nodes))[0]
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
    out = []
    for p in paths:
        if not p:
            out.append("")
            continue
        parts = [net.describe(p[0])]
        for u, v in zip(p[:-1], p[1:]):
            parts += [link.get((u, v), "--"), net.describe(v)]
        out.append(" ".join(parts))
    return out


@dataclass
class RiskResult:
    """Propagated risk per entity, with explanations for the riskiest."""

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


def compute_risk(
    net: CreditNetwork, cfg: AnalyticsConfig, as_of=None, explain: int | None = None,
    explain_ids: list[str] | None = None,
) -> RiskResult:
    """Seed, propagate and explain: the whole of ``credgraph risk``."""
    as_of = resolve_as_of(net, as_of if as_of is not None else cfg.as_of)
    records = active_records(net, cfg, as_of)
    pos = records.filter(pl.col("severity") > 0)
    seed = np.bincount(pos["owner"].to_numpy(), weights=(pos["severity"] * pos["recency"]).to_numpy(),
                       minlength=net.n).astype(np.float64)
    M = transmission_matrix(net, cfg)
    risk = propagate(M, seed, cfg.decay, cfg.max_hops, cfg.tolerance)
    ent = np.nonzero(net.entity_mask)[0]
    order = ent[np.argsort(-risk[ent], kind="stable")]  # ties: node order
    rank = np.empty(net.n, dtype=np.int64)
    rank[order] = np.arange(1, len(order) + 1)
    scores = pl.DataFrame({
        "node_id": net.id_series.gather(order), "label": net.nodes["label"].cast(pl.Utf8).gather(order),
        "name": net.name_series.gather(order),
        "seed": seed[order], "received": risk[order] - seed[order], "risk": risk[order], "rank": rank[order],
    })
    k = cfg.explain_entities if explain is None else explain
    targets = order[:k][risk[order[:k]] - seed[order[:k]] > 0]
    if explain_ids:
        extra = net.index_of(explain_ids)
        targets = np.unique(np.concatenate([targets, extra[extra >= 0]]))
    sources = explain_sources(net, M, seed, targets, cfg.decay, cfg.explain_sources, cfg.max_hops)
    return RiskResult(scores=scores, sources=sources, as_of=as_of, seed=seed, risk=risk, records=records)
