"""Clustering: entities grow from auto-merge links under cannot-link constraints.

A chain of individually plausible links must not merge distinct entities (A~B and B~C
while A and C hold different USCCs). Components of the auto-merge graph are computed
at once (scipy); only the components that would break a constraint — two different
identifiers of one kind, a branch with its parent, conflicting regions, incompatible
ID numbers, two clearly different birth dates of a person never compared by the pair model, two
generational suffixes (Sr / Jr),
or a cannot-link pair (a no-match judgement, possibly related companies, a hard rule) — are
rebuilt by a union-find that adds links in order of decreasing match probability and refuses
any link whose two sides conflict.

>>> import numpy as np, polars as pl
>>> attrs = pl.DataFrame({"group": [0, 1, 2], "uscc_v": ["A", "", "B"]})
>>> labels, refused = constrained_clusters(3, np.array([0, 1]), np.array([1, 2]), np.array([0.99, 0.97]), attrs)
>>> labels.tolist(), refused.tolist()
([0, 0, 1], [1])
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from credgraph.identifiers import masked_id_compatible
from credgraph.resolution.normalise import region_compatible

__all__ = ["constrained_clusters", "components", "SINGLE_VALUED", "birth_dates_conflict"]

#: Attributes of which an entity may hold at most one value. ``passport_v`` (a person's passport
#: number) too: two people of one name with different passports are never merged through a third
#: record. The cost: a person whose renewed passport is the only link between two filings stays two
#: entities, which is the safer mistake in a credit system (a sanction never reaches a namesake).
#: ``name_gen`` (a generational suffix, :mod:`.generation`): Robert Smith Sr and Robert Smith Jr are two
#: people, and a record that names neither cannot bridge them.
SINGLE_VALUED = ("uscc_v", "org_v", "reg_v", "id_full", "branch", "passport_v", "name_gen")


def birth_dates_conflict(a: str, b: str) -> bool:
    """Whether two birth dates (``YYYYMMDD``) belong to two different people, not to one person typed twice.

    One person's dates may differ by one wrong digit (1967-08-15 / 1967-08-25), two neighbouring
    digits swapped (1967-08-15 / 1967-08-51, 1967 / 1976) or day and month exchanged
    (1967-08-05 / 1967-05-08): no conflict. Anything further apart (1962-03-04 / 1990-11-30, a
    father and his son) is a conflict. An empty or partial date conflicts with nothing. Two dates that
    conflict may share a cluster only if a direct merge link joins a record with one to a record with
    the other (the pair model saw both dates and still judged one person: a date typed wrong
    altogether, common in Febrl); a record without a birth date can join either person but cannot
    bridge them.

    >>> birth_dates_conflict("19670815", "19670851"), birth_dates_conflict("19670815", "19760815")
    (False, False)
    >>> birth_dates_conflict("19620304", "19901130"), birth_dates_conflict("19670815", "")
    (True, False)
    """
    if len(a) != 8 or len(b) != 8 or a == b:
        return False
    diff = [i for i in range(8) if a[i] != b[i]]
    one_typo = len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    day_month_swapped = a[:4] == b[:4] and a[4:6] == b[6:8] and a[6:8] == b[4:6]
    return not (one_typo or day_month_swapped)


def _births_conflict(births: set[str]) -> bool:
    """Whether any two of a set of birth dates conflict (:func:`birth_dates_conflict`)."""
    xs = sorted(births)
    return any(birth_dates_conflict(x, y) for i, x in enumerate(xs) for y in xs[i + 1:])


def components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected-component label per node of an undirected graph given as edge arrays."""
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    g = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n))
    return connected_components(g, directed=False)[1].astype(np.int64)


def _violating(comp: np.ndarray, attrs: pl.DataFrame, cl_a: np.ndarray, cl_b: np.ndarray) -> np.ndarray:
    """Component labels that hold conflicting attributes or both ends of a cannot-link pair."""
    frame = attrs.with_columns(pl.Series("comp", comp[attrs["group"].to_numpy()]))
    checks = []
    for col in SINGLE_VALUED:
        if col in frame.columns:
            vals = pl.col(col)
            if col == "branch":  # "" is the head office: it counts; null (no name) does not
                checks.append(vals.drop_nulls().n_unique() > 1)
            else:
                checks.append(vals.filter(vals != "").n_unique() > 1)
    if "region" in frame.columns:
        parts = pl.col("region").str.split("/")
        frame = frame.with_columns(
            *[parts.list.get(i, null_on_oob=True).alias(f"_r{i}") for i in range(3)]
        )
        for i in range(3):
            v = pl.col(f"_r{i}")
            checks.append(v.filter(v.is_not_null() & (v != "")).n_unique() > 1)
    if "id_masked" in frame.columns:
        masked = pl.col("id_masked")
        full = pl.col("id_full") if "id_full" in frame.columns else pl.lit("")
        checks.append(
            (masked.filter(masked != "").n_unique() + full.filter(full != "").n_unique() > 1)
            & (masked.filter(masked != "").n_unique() > 0)
        )
    if not checks:
        bad = np.zeros(0, dtype=np.int64)
    else:
        agg = frame.group_by("comp").agg(pl.any_horizontal(checks).alias("bad"))
        bad = agg.filter(pl.col("bad"))["comp"].to_numpy()
    if "birth" in frame.columns:  # components with several dates: only those with two far apart
        births = (frame.filter(pl.col("birth") != "").group_by("comp").agg(pl.col("birth").unique())
                  .filter(pl.col("birth").list.len() > 1))
        far = [c for c, bs in births.iter_rows() if _births_conflict(set(bs))]
        bad = np.union1d(bad, np.array(far, dtype=np.int64))
    if len(cl_a):
        same = comp[cl_a] == comp[cl_b]
        bad = np.union1d(bad, comp[cl_a][same])
    return bad.astype(np.int64)


class _State:
    __slots__ = ("single", "regions", "ids", "births", "members")

    def __init__(self, rows: list[dict]):
        self.single = {c: set() for c in SINGLE_VALUED}
        self.regions: set[str] = set()
        self.ids: set[str] = set()  # full and masked ID numbers
        self.births: set[str] = set()
        self.members: set[int] = set()
        for r in rows:
            for c in SINGLE_VALUED:
                v = r.get(c)
                if v is None or (v == "" and c != "branch"):
                    continue
                self.single[c].add(v)
            if r.get("region"):
                self.regions.add(r["region"])
            for c in ("id_full", "id_masked"):
                if r.get(c):
                    self.ids.add(r[c])
            if r.get("birth"):
                self.births.add(r["birth"])

    def conflicts(self, other: "_State", linked: set[tuple[str, str]] = frozenset()) -> str | None:
        """The constraint the union with ``other`` would break, or None. ``linked``: the (sorted) pairs
        of birth dates that a direct merge link joins."""
        for c in SINGLE_VALUED:
            if len(self.single[c] | other.single[c]) > 1:
                return c
        for x in self.regions:
            for y in other.regions:
                if not region_compatible(x, y):
                    return "region"
        for x in self.ids:
            for y in other.ids:
                if x != y and not masked_id_compatible(x, y):
                    return "id_number"
        for x in self.births:
            for y in other.births:
                if birth_dates_conflict(x, y) and (min(x, y), max(x, y)) not in linked:
                    return "birth"
        return None

    def absorb(self, other: "_State") -> None:
        for c in SINGLE_VALUED:
            self.single[c] |= other.single[c]
        self.regions |= other.regions
        self.ids |= other.ids
        self.births |= other.births
        self.members |= other.members


def constrained_clusters(
    n_groups: int,
    a: np.ndarray,
    b: np.ndarray,
    prob: np.ndarray,
    attrs: pl.DataFrame,
    cannot_a: np.ndarray | None = None,
    cannot_b: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Cluster label per group, and the indices of the links refused by a constraint.

    ``a, b, prob``: auto-merge links between groups. ``attrs``: one row per (group, value
    combination) with a ``group`` column and any of ``uscc_v, org_v, reg_v, id_full,
    id_masked, branch, region, passport_v, name_gen, birth`` (``YYYYMMDD``, persons; see
    :func:`birth_dates_conflict`). ``cannot_a/b``: group pairs never to be joined.
    """
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    prob = np.asarray(prob, dtype=np.float64)
    cannot_a = np.zeros(0, np.int64) if cannot_a is None else np.asarray(cannot_a, np.int64)
    cannot_b = np.zeros(0, np.int64) if cannot_b is None else np.asarray(cannot_b, np.int64)
    comp = components(n_groups, a, b)
    bad = _violating(comp, attrs, cannot_a, cannot_b)
    labels = comp.copy()
    refused: list[int] = []
    if len(bad) == 0:
        return _relabel(labels), np.zeros(0, dtype=np.int64)
    bad_set = np.isin(comp, bad)
    # Each violating component is rebuilt from its own groups by constrained union-find.
    edge_bad = bad_set[a]
    e_idx = np.flatnonzero(edge_bad)
    order = e_idx[np.lexsort((e_idx, -prob[e_idx]))]
    groups = np.flatnonzero(bad_set)
    sub = attrs.filter(pl.col("group").is_in(pl.Series(groups).implode()))
    rows_by_group: dict[int, list[dict]] = {}
    for r in sub.iter_rows(named=True):
        rows_by_group.setdefault(r["group"], []).append(r)
    parent = {int(g): int(g) for g in groups}
    state = {}
    for g in groups:
        st = _State(rows_by_group.get(int(g), []))
        st.members.add(int(g))
        state[int(g)] = st
    cannot: dict[int, set[int]] = {}
    for x, y in zip(cannot_a.tolist(), cannot_b.tolist()):
        if x in parent and y in parent:
            cannot.setdefault(x, set()).add(y)
            cannot.setdefault(y, set()).add(x)

    linked = set()  # pairs of birth dates joined by a direct merge link
    for e in order.tolist():
        for x in state[int(a[e])].births:
            for y in state[int(b[e])].births:
                linked.add((min(x, y), max(x, y)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for e in order.tolist():
        ra, rb = find(int(a[e])), find(int(b[e]))
        if ra == rb:
            continue
        sa, sb = state[ra], state[rb]
        small, large = (sa, sb) if len(sa.members) <= len(sb.members) else (sb, sa)
        blocked = sa.conflicts(sb, linked) is not None or any(
            cannot.get(m) and not cannot[m].isdisjoint(large.members) for m in small.members
        )
        if blocked:
            refused.append(e)
            continue
        parent[rb] = ra
        sa.absorb(sb)
        del state[rb]
    offset = n_groups  # fresh labels for rebuilt clusters, disjoint from component labels
    for g in groups.tolist():
        labels[g] = offset + find(g)
    return _relabel(labels), np.array(sorted(refused), dtype=np.int64)


def _relabel(labels: np.ndarray) -> np.ndarray:
    """Dense labels 0..k-1 in order of first appearance."""
    _, first, inv = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[inv]
