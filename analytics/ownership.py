"""Ownership: integrated holdings, beneficial owners and ultimate controllers, with chains.

**Integrated ownership** (穿透持股) of holder h in company c is the sum, over every chain of
holdings from h to c, of the product of the share ratios along it: with the direct-holding
matrix ``A`` (``A[h, c]`` = h's ratio in c), ``T = A + A^2 + ... + A^L``, capped at
``L = 10`` layers. Cross-holdings (cycles) therefore count each turn around the cycle until
the cap. Computed as a sparse power series from the needed rows only.

**Beneficial owners** (受益所有人) of a company: natural persons whose integrated ownership
exceeds 25%.

**Ultimate controller** (实际控制人): voting control aggregates over controlled firms. A
holder's votes in c are its own ratio plus the ratios of every holder it ultimately
controls; whoever holds more than ``control_ratio`` (default 50%) of c's votes controls c,
and c's ultimate controller is that holder's. Computed as a fixed point (at most 10
layers); a company nobody controls is its own top (no controller), and control that runs
in a circle (A controls B controls A) is reported as circular, with no controller.

Each answer carries its chain: for owners the chain contributing most, for controllers the
chain of controlling holdings.

>>> from credgraph.analytics.frames import make_frames
>>> from credgraph.analytics.network import CreditNetwork
>>> net = CreditNetwork.from_frames(*make_frames([], [
...     {"src": "p1", "dst": "a", "type": "SHAREHOLDER_OF", "ratio": 0.6},
...     {"src": "a", "dst": "b", "type": "SHAREHOLDER_OF", "ratio": 0.7}]))
>>> ctl = controllers(net)
>>> ctl.filter(ctl["company_id"] == "b").select("controller_id", "chain").row(0)
('p1', ['p1', 'a', 'b'])
"""

from __future__ import annotations

import numpy as np
import polars as pl
import scipy.sparse as sp

from .network import CreditNetwork

__all__ = ["share_matrix", "integrated_ownership", "beneficial_owners", "controllers", "MAX_LAYERS"]

#: Chains longer than this are not followed (the regulator's penetration depth).
MAX_LAYERS = 10


def share_matrix(net: CreditNetwork) -> sp.csr_matrix:
    """Direct holdings ``A[h, c]`` (parallel holdings summed, unknown ratios 0, capped at 1)."""
    m = net.edges_of("SHAREHOLDER_OF")
    r = np.nan_to_num(net.ratio[m], nan=0.0)
    A = sp.csr_matrix((r, (net.src[m], net.dst[m])), shape=(net.n, net.n))
    A.sum_duplicates()
    A.data = np.clip(A.data, 0.0, 1.0)
    A.eliminate_zeros()
    return A


def integrated_ownership(A: sp.csr_matrix, rows: np.ndarray | None = None, layers: int = MAX_LAYERS,
                         prune: float = 1e-15) -> sp.csr_matrix:
    """``sum_{k=1..layers} A^k`` restricted to ``rows`` (all rows when None).

    >>> A = sp.csr_matrix(np.array([[0, .5, 0], [0, 0, .5], [0, .2, 0]]))
    >>> float(round(integrated_ownership(A)[0, 2], 6))   # .25 * (1 + .1 + ... + .1**4): walks of 2..10 layers
    0.277775
    """
    X = A if rows is None else A[rows]
    X = X.tocsr()
    T = X.copy()
    for _ in range(layers - 1):
        X = (X @ A).tocsr()
        if prune:
            X.data[X.data < prune] = 0
            X.eliminate_zeros()
        if X.nnz == 0:
            break
        T = T + X
    return T.tocsr()


def _best_holder(A: sp.csr_matrix, pairs_owner: np.ndarray, pairs_cur: np.ndarray, T: sp.csr_matrix,
                 row_of: np.ndarray) -> np.ndarray:
    """For each (owner, current company) pair, the holder of ``cur`` through which most of the
    owner's integrated stake arrives (the owner itself counts with stake 1)."""
    Ac = A.tocsc()
    cnt = np.diff(Ac.indptr)[pairs_cur]
    pair = np.repeat(np.arange(len(pairs_cur)), cnt)
    starts = np.repeat(Ac.indptr[pairs_cur], cnt)
    offs = np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    h = Ac.indices[starts + offs]
    direct = Ac.data[starts + offs]
    owner = pairs_owner[pair]
    via = np.asarray(T[row_of[owner], h]).ravel() if len(h) else np.zeros(0)
    val = direct * np.where(h == owner, 1.0, via)
    best = np.full(len(pairs_cur), -1, dtype=np.int64)
    if len(h):
        order = np.lexsort((-val, pair))
        first = np.ones(len(order), dtype=bool)
        first[1:] = pair[order][1:] != pair[order][:-1]
        sel = order[first]
        ok = val[sel] > 0
        best[pair[sel][ok]] = h[sel][ok]
    return best


def beneficial_owners(net: CreditNetwork, threshold: float = 0.25, layers: int = MAX_LAYERS) -> pl.DataFrame:
    """Natural persons holding more than ``threshold`` of a company, directly or indirectly.

    Columns: company_id, company_name, owner_id, owner_name, integrated_ratio, chain (node ids of
    the chain contributing most, owner first), chain_ratio (that chain's product).
    """
    A = share_matrix(net)
    persons = np.nonzero(net.labels == "NaturalPerson")[0]
    persons = persons[np.diff(A.indptr)[persons] > 0]
    Tr = integrated_ownership(A, persons, layers)
    T = Tr.tocoo()
    keep = T.data > threshold
    owner, comp, val = persons[T.row[keep]], T.col[keep].astype(np.int64), T.data[keep]
    row_of = np.full(net.n, -1, dtype=np.int64)
    row_of[persons] = np.arange(len(persons))
    paths = _walk_up(comp, owner, lambda o, c: _best_holder(A, o, c, Tr, row_of), layers)
    chains = _reverse_rows(paths)
    return pl.DataFrame({
        "company_id": net.id_series.gather(comp), "company_name": net.name_series.gather(comp),
        "owner_id": net.id_series.gather(owner), "owner_name": net.name_series.gather(owner),
        "integrated_ratio": val, "chain": id_lists(net, chains), "chain_ratio": _chain_products(A, chains),
    }).sort(["company_id", "integrated_ratio"], descending=[False, True])


def _walk_up(comp: np.ndarray, target: np.ndarray, step, layers: int) -> np.ndarray:
    """Paths from each company up towards its target, one ``step(target, current)`` at a time.

    Returns an (m, layers + 1) matrix of node indexes, company first, -1 after the end. A walk
    stops at the target, at a dead end, or where it would revisit a node.
    """
    m = len(comp)
    paths = np.full((m, layers + 1), -1, dtype=np.int64)
    paths[:, 0] = comp
    cur = comp.astype(np.int64).copy()
    live = cur != target
    for k in range(1, layers + 1):
        idx = np.nonzero(live)[0]
        if len(idx) == 0:
            break
        nxt = step(target[idx], cur[idx])
        seen = (paths[idx, :k] == nxt[:, None]).any(axis=1)
        ok = (nxt >= 0) & ~seen
        paths[idx[ok], k] = nxt[ok]
        cur[idx[ok]] = nxt[ok]
        live[idx[~ok]] = False
        live &= cur != target
    return paths


def _reverse_rows(paths: np.ndarray) -> np.ndarray:
    """Each row's valid prefix reversed (the owner first), -1 padding kept at the end."""
    length = (paths >= 0).sum(axis=1)
    j = np.arange(paths.shape[1])[None, :]
    src = np.clip(length[:, None] - 1 - j, 0, None)
    return np.where(j < length[:, None], np.take_along_axis(paths, src, axis=1), -1)


def id_lists(net: CreditNetwork, paths: np.ndarray) -> pl.Series:
    """A list[str] Series of node ids from a matrix of node indexes padded with -1 at the end."""
    import pyarrow as pa

    valid = paths >= 0
    offsets = np.concatenate([[0], np.cumsum(valid.sum(axis=1))]).astype(np.int32)
    values = net.id_series.gather(paths[valid]).to_arrow()
    return pl.Series("chain", pl.from_arrow(pa.ListArray.from_arrays(pa.array(offsets), values)))


def _chain_products(A: sp.csr_matrix, chains: np.ndarray) -> np.ndarray:
    """Product of the holdings along each chain (0 for a chain of one node)."""
    u, v = chains[:, :-1], chains[:, 1:]
    step = (u >= 0) & (v >= 0)
    r = np.ones(u.shape)
    if step.any():
        r[step] = np.asarray(A[u[step], v[step]]).ravel()
    return np.where(step.any(axis=1), r.prod(axis=1), 0.0)


def _control_fixed_point(A: sp.csr_matrix, control_ratio: float, layers: int):
    """Top controller index per node (itself when uncontrolled) and a circular-control mask.

    Each round: group every company's votes by its holders' current tops; the group above
    ``control_ratio`` is the direct controller ``d``; tops are then found by following ``d``
    up to ``layers`` steps. Where that does not end at a fixed point, control is circular.
    """
    n = A.shape[0]
    coo = A.tocoo()
    h, c, r = coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data
    ident = np.arange(n)
    top = ident.copy()
    circular = np.zeros(n, dtype=bool)
    for _ in range(layers + 2):
        t = top[h]
        keep = t != c  # a firm's holdings in itself through firms it controls are no outside votes
        V = sp.csr_matrix((r[keep], (c[keep], t[keep])), shape=(n, n))  # row c: votes per group
        V.sum_duplicates()
        vc = V.tocoo()
        order = np.lexsort((-vc.data, vc.row))
        first = np.ones(len(order), dtype=bool)
        first[1:] = vc.row[order][1:] != vc.row[order][:-1]
        sel = order[first]
        won = vc.data[sel] > control_ratio
        d = ident.copy()
        d[vc.row[sel][won]] = vc.col[sel][won]
        p = d.copy()
        for _ in range(layers):
            p = d[p]
        fixed = d[p] == p
        circular = ~fixed
        new = np.where(fixed, p, ident)
        if np.array_equal(new, top):
            break
        top = new
    return top, circular


def controllers(net: CreditNetwork, control_ratio: float = 0.5, layers: int = MAX_LAYERS,
                companies: np.ndarray | None = None) -> pl.DataFrame:
    """Ultimate controller of each enterprise (LegalPerson) with its chain.

    Columns: company_id, company_name, controller_id (null: nobody holds control),
    controller_name, controller_label, control_votes (the controlling group's share of the
    company's votes at the last link), integrated_ratio (the controller's integrated
    ownership), chain (node ids from the controller down to the company), status
    ("controlled", "no controller" or "circular").
    """
    A = share_matrix(net)
    top, circular = _control_fixed_point(A, control_ratio, layers)
    comp = np.nonzero(net.legal_mask)[0] if companies is None else np.asarray(companies, dtype=np.int64)
    ctl = top[comp]
    controlled = (ctl != comp) & ~circular[comp]
    # The chain: from the company, step to the holder in the controller's group holding most.
    coo = A.tocoo()
    h, c, r = coo.row, coo.col, coo.data
    same = (top[h] == top[c]) | (h == top[c])
    order = np.lexsort((-r[same], c[same]))
    hh, cc = h[same][order], c[same][order]
    first = np.ones(len(cc), dtype=bool)
    first[1:] = cc[1:] != cc[:-1]
    up = np.full(net.n, -1, dtype=np.int64)
    up[cc[first]] = hh[first]
    ci = np.nonzero(controlled)[0]
    paths = _walk_up(comp[ci], ctl[ci], lambda t, c: up[c], layers)
    chain_idx = np.full((len(comp), layers + 1), -1, dtype=np.int64)
    chain_idx[ci] = _reverse_rows(paths)
    # Integrated ownership of each controller in its company (one sparse series over the controllers).
    integ = np.zeros(len(comp))
    if len(ci):
        cs, inv = np.unique(ctl[ci], return_inverse=True)
        T = integrated_ownership(A, cs, layers)
        integ[ci] = np.asarray(T[inv, comp[ci]]).ravel()
    status = np.where(controlled, "controlled", np.where(circular[comp], "circular", "no controller"))
    mask = pl.Series(controlled)
    labels = net.nodes["label"].cast(pl.Utf8)
    return pl.DataFrame({
        "company_id": net.id_series.gather(comp), "company_name": net.name_series.gather(comp),
        "controller_id": net.id_series.gather(ctl), "controller_name": net.name_series.gather(ctl),
        "controller_label": labels.gather(ctl),
        "control_votes": np.where(controlled, _last_votes(A, top, comp), np.nan),
        "integrated_ratio": np.where(controlled, integ, np.nan),
        "chain": id_lists(net, chain_idx), "status": status,
    }).with_columns([pl.when(mask).then(pl.col(c)).otherwise(None).alias(c)
                     for c in ("controller_id", "controller_name", "controller_label")])


def _last_votes(A, top, comp) -> np.ndarray:
    """Share of each company's votes held by its controller and the firms it controls."""
    coo = A.tocoo()
    h, c = coo.row, coo.col
    mine = top[h] == top[c]
    votes = np.bincount(c[mine], weights=coo.data[mine], minlength=A.shape[0])
    return votes[comp]
