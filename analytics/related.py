"""Related parties among listed entities (e.g. the bidders of one tender).

Two listed entities are related when a chain of at most ``max_hops`` links joins them, the
links being control (a holding above ``control_ratio``), legal representation, office
(director, supervisor, manager), branch, or a shared Address or Phone node (firm -> address
-> firm is two links). Breadth-first search from each listed entity over the undirected
link graph (CSR arrays, one numpy step per hop) finds the shortest such chain. Related
entities are reported in pairs with the path, and grouped (connected components).

>>> from credgraph.analytics.frames import make_frames
>>> from credgraph.analytics.network import CreditNetwork
>>> net = CreditNetwork.from_frames(*make_frames([], [
...     {"src": "p1", "dst": "a", "type": "LEGAL_REP_OF"}, {"src": "p1", "dst": "b", "type": "OFFICER_OF"},
...     {"src": "c", "dst": "addr:1", "type": "LOCATED_AT"}]))
>>> r = related_parties(net, ["a", "b", "c"], max_hops=4)
>>> r.pairs.select("a", "b", "hops", "path").rows()
[('a', 'b', 2, ['a', 'p1', 'b'])]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from .network import CreditNetwork
from .propagation import path_texts

__all__ = ["RelatedResult", "related_parties", "link_graph", "bfs_paths"]


def link_graph(net: CreditNetwork, control_ratio: float = 0.5) -> sp.csr_matrix:
    """Undirected adjacency of the links that make parties related (see the module docstring)."""
    m = net.edges_of("LEGAL_REP_OF", "OFFICER_OF", "BRANCH_OF", "LOCATED_AT", "USES_PHONE")
    m |= net.edges_of("SHAREHOLDER_OF") & (np.nan_to_num(net.ratio, nan=0.0) > control_ratio)
    s, d = net.src[m], net.dst[m]
    A = sp.csr_matrix((np.ones(2 * len(s)), (np.concatenate([s, d]), np.concatenate([d, s]))), shape=(net.n, net.n))
    A.sum_duplicates()
    return A


def bfs_paths(A: sp.csr_matrix, source: int, max_hops: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nodes reached from ``source`` within ``max_hops``: (nodes, hops, parent), parents on shortest paths."""
    n = A.shape[0]
    seen = np.zeros(n, dtype=bool)
    seen[source] = True
    nodes, hops, parent = [np.array([source])], [np.array([0])], [np.array([-1])]
    frontier = np.array([source])
    for h in range(1, max_hops + 1):
        cnt = np.diff(A.indptr)[frontier]
        if cnt.sum() == 0:
            break
        starts = np.repeat(A.indptr[frontier], cnt)
        offs = np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        nb = A.indices[starts + offs]
        par = np.repeat(frontier, cnt)
        new = ~seen[nb]
        nb, par = nb[new], par[new]
        nb, first = np.unique(nb, return_index=True)
        par = par[first]
        if len(nb) == 0:
            break
        seen[nb] = True
        nodes.append(nb)
        hops.append(np.full(len(nb), h))
        parent.append(par)
        frontier = nb
    return np.concatenate(nodes), np.concatenate(hops), np.concatenate(parent)


@dataclass
class RelatedResult:
    #: a, b (node ids, a < b in list order), hops, path (node ids), path_text.
    pairs: pl.DataFrame
    #: group_id, members (node ids), size — groups of two or more related listed entities.
    groups: pl.DataFrame
    #: Listed ids that are not in the graph.
    unknown: list[str]


def related_parties(net: CreditNetwork, ids: list[str], max_hops: int = 4, control_ratio: float = 0.5) -> RelatedResult:
    """Connections within ``max_hops`` among the listed entities."""
    idx = net.index_of(ids)
    unknown = [i for i, k in zip(ids, idx) if k < 0]
    listed = list(dict.fromkeys(int(k) for k in idx if k >= 0))
    A = link_graph(net, control_ratio)
    pos = {k: j for j, k in enumerate(listed)}
    rows, paths = [], []
    for j, s in enumerate(listed):
        nodes, hops, parent = bfs_paths(A, s, max_hops)
        par = dict(zip(nodes.tolist(), parent.tolist()))
        for t, h in zip(nodes.tolist(), hops.tolist()):
            if t in pos and pos[t] > j:
                p, x = [t], t
                while par[x] >= 0:
                    x = par[x]
                    p.append(x)
                rows.append((str(net.ids[s]), str(net.ids[t]), int(h), [str(net.ids[k]) for k in p[::-1]]))
                paths.append(p[::-1])
    pairs = pl.DataFrame(rows, schema={"a": pl.Utf8, "b": pl.Utf8, "hops": pl.Int64, "path": pl.List(pl.Utf8)},
                         orient="row").with_columns(pl.Series("path_text", path_texts(net, paths) if paths else [], dtype=pl.Utf8))
    groups = pl.DataFrame(schema={"group_id": pl.Utf8, "members": pl.List(pl.Utf8), "size": pl.Int64})
    if rows:
        ia = np.array([pos[int(net.index_of([a])[0])] for a, *_ in rows])
        ib = np.array([pos[int(net.index_of([b])[0])] for _, b, *_ in rows])
        G = sp.csr_matrix((np.ones(len(ia)), (ia, ib)), shape=(len(listed), len(listed)))
        _, lab = connected_components(G, directed=False)
        members = pl.DataFrame({"lab": lab, "id": net.ids[listed]}).group_by("lab", maintain_order=True).agg(
            pl.col("id").alias("members"))
        groups = (members.with_columns(pl.col("members").list.len().cast(pl.Int64).alias("size"))
                  .filter(pl.col("size") > 1).sort("size", descending=True)
                  .with_columns(pl.format("R{}", pl.int_range(1, pl.len() + 1)).alias("group_id"))
                  .select("group_id", "members", "size"))
    return RelatedResult(pairs=pairs, groups=groups, unknown=unknown)
