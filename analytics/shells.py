"""Shell companies and fake registrations (虚假登记企业): unusual groups of firms, against the city.

The model has no fixed recipe (no "capital below X, registered within Y days"): every
feature is measured against the city it runs on.

**Candidate groups.** Firms that share one address, one phone, one registration agent
(AGENT_OF) or one person (as legal representative, shareholder or officer) form a candidate
group when there are at least ``shell_min_cluster`` of them.

**Firm features, standardised over the city's firms.** No insured staff; low registered
capital and young age (robust z-scores of log capital and of age: median and MAD); ever on
the abnormal-operations list; revoked or deregistered; the load of its people (robust z of
the log of the most firms any of its representatives, shareholders or officers is linked
to: nominees serve many); multiplex ties (it shares two or more different kinds of hub with
one same other firm). Each is centred and scaled over all firms (binary features by their
city rate), so 0 is the city's average firm and 1 one standard deviation more suspicious.

**Group score.** For each group, the mean of each standardised feature over its members
(how far the group's firms sit from the city's on average; for a person's group not the
people load, which its members share by construction), kept where positive, summed,
plus the group's *co-registration*: ``log(city spread / group spread)`` of registration
dates (standard deviations; a group registered ten times closer together than the city's
firms scores log 10 = 2.3), all times ``(n - 1) / (n + 1)`` so that groups of three count
for less. A group is *unusual* when its score is at least ``shell_flag_z`` robust
deviations (MAD) above the median group's.

**Chance level.** Each group's score is also set against random groups of the same size drawn
from the city's firms (``shell_null_draws`` draws per size, sizes above 20 pooled in steps of
about 10%): ``null_z`` is how many standard deviations above those it scores. A small group
scores high by chance far more often than a large one, so this says how unlikely the group is
for its size; a business centre that hundreds of young firms share is far above chance but not
unusual in its members, which the robust z above says.

**Firms flagged.** A firm is flagged when it belongs to at least ``shell_min_unusual``
unusual groups (default two: one shared attribute may be chance or a family's, two unusual
groups corroborate each other) and its own features put it among the city's more suspicious
firms (own score at least the ``shell_own_quantile`` quantile of all firms'): an ordinary
firm that happens to use the same agent as a ring is not. One group suffices when it is
unusual and far above chance (``null_z`` at least ``shell_single_null_z``, 4.5), of a kind
that can stand alone (``shell_single_kinds``: premises; agents, phones and people also serve
ordinary firms, so their groups mix a ring with its neighbours' ordinary firms) and the firm's
own score is at least the ``shell_single_own_quantile`` quantile: a ring that shares only its
premises has no second tie to corroborate it. Its ``shell_score`` is its best group's robust
z. Flagged firms tied by an unusual address
group (a firm without one: by its best group) are merged into one reported group with the
evidence; a shared person, phone or agent does not merge groups (a nominee, the nominee's
mobile or an agent serves several rings).

Flags feed the directed-check list (定向抽查, :func:`directed_checks`), a list of its own
beside the random one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from credgraph.config import AnalyticsConfig

from .features import company_features
from .network import CreditNetwork, resolve_as_of

__all__ = ["ShellResult", "detect_shells", "evaluate_shells", "directed_checks", "SHARED_KINDS", "FIRM_FEATURES"]

#: How firms are tied into a candidate group: kind -> (edge types, side the firm is on).
SHARED_KINDS = {
    "address": (("LOCATED_AT",), "src"),
    "phone": (("USES_PHONE",), "src"),
    "agent": (("AGENT_OF",), "dst"),
    "person": (("LEGAL_REP_OF", "SHAREHOLDER_OF", "OFFICER_OF"), "dst"),
}
#: Firm features, each standardised over the city (see the module docstring).
FIRM_FEATURES = ("no_staff", "low_capital", "young", "abnormal", "bad_status", "person_load", "multiplex")
_LABELS = {"no_staff": "no insured staff", "low_capital": "low capital for the city", "young": "young for the city",
           "abnormal": "on the abnormal list", "bad_status": "revoked or deregistered",
           "person_load": "people linked to many firms", "multiplex": "tied to another member in two ways"}
_MIN_SPREAD_DAYS = 15.0


@dataclass
class ShellResult:
    #: Candidate groups: cluster_id, kind, key_id, key_name, size, score, robust_z, unusual, coreg,
    #: null_z, mean_<feature>, first_reg, last_reg, members, evidence; ranked by robust_z.
    candidates: pl.DataFrame
    #: Firms in any candidate: node_id, name, shell_score, own_score, flagged, group_id, cluster_id,
    #: kind, key_name and the firm's standardised features.
    firms: pl.DataFrame
    #: Flagged groups (merged clusters): group_id, size, score, members, kinds, evidence; ranked.
    groups: pl.DataFrame


def _memberships(net: CreditNetwork, types: tuple[str, ...], side: str) -> tuple[np.ndarray, np.ndarray]:
    """(hub node, company node) pairs for the edge types, companies being LegalPersons, hubs not."""
    m = net.edges_of(*types)
    comp = net.src[m] if side == "src" else net.dst[m]
    hub = net.dst[m] if side == "src" else net.src[m]
    keep = net.legal_mask[comp] & (hub != comp)
    if not keep.any():
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    # Distinct pairs, sorted by hub then company, through one int64 key (sorting rows is slower).
    key = np.unique(hub[keep].astype(np.int64) * net.n + comp[keep])
    return key // net.n, key % net.n


def _robust_z(x: np.ndarray) -> np.ndarray:
    """(x - median) / (1.4826 MAD), NaN -> 0, clipped to [-4, 4]; 0 everywhere when MAD is 0."""
    ok = ~np.isnan(x)
    out = np.zeros(len(x))
    if ok.sum() < 3:
        return out
    med = np.median(x[ok])
    mad = 1.4826 * np.median(np.abs(x[ok] - med))
    if mad <= 0:
        mad = np.std(x[ok])
    if mad <= 0:
        return out
    out[ok] = np.clip((x[ok] - med) / mad, -4.0, 4.0)
    return out


def _standardise(x: np.ndarray) -> np.ndarray:
    """Centre and scale over the city (0 = average firm, 1 = one standard deviation); clipped at 5."""
    sd = x.std()
    if sd <= 0:
        return np.zeros(len(x))
    return np.clip((x - x.mean()) / sd, -5.0, 5.0)


def _firm_features(net: CreditNetwork, f: pl.DataFrame, row_of: np.ndarray,
                   mem: pl.DataFrame) -> dict[str, np.ndarray]:
    """The raw firm features (rows of ``f``) before standardisation."""
    staff = f["staff"].cast(pl.Float64).to_numpy()
    cap = f["capital"].cast(pl.Float64).to_numpy()
    age = f["age_years"].cast(pl.Float64).to_numpy()
    status = f["reg_status"].fill_null("").to_numpy().astype(str)
    # People load: the most firms any of the firm's people is linked to (over all firms, not only groups).
    hub, comp = _memberships(net, SHARED_KINDS["person"][0], "dst")
    load = np.zeros(f.height)
    if len(hub):
        size = np.bincount(hub, minlength=net.n).astype(float)
        best = np.zeros(net.n)
        np.maximum.at(best, comp, size[hub])
        load = best[f["idx"].to_numpy()]
    multi = np.zeros(f.height)
    multi[_multiplex_firms(mem)] = 1.0
    return {
        "no_staff": (np.isnan(staff) | (staff <= 0)).astype(float),
        "low_capital": _robust_z(-np.log1p(np.where(cap >= 0, cap, np.nan))),
        "young": _robust_z(-age),
        "abnormal": f["abnormal_ever"].cast(pl.Float64).fill_null(0.0).to_numpy(),
        "bad_status": ((np.char.find(status, "吊销") >= 0) | (np.char.find(status, "注销") >= 0)).astype(float),
        "person_load": _robust_z(np.log(np.maximum(load, 1.0))),
        "multiplex": multi,
    }


def _multiplex_firms(mem: pl.DataFrame) -> np.ndarray:
    """Rows of firms that share hubs of two different kinds with one same other firm.

    ``mem`` holds (hub, firm, kind) memberships. A firm f is multiplex when some other firm o
    shares hubs with it through which f is tied in two or more kinds. That happens exactly when
    (a) f is tied to one hub in two kinds (a person who is both its agent and its shareholder)
    and another firm uses that hub too, or (b) f is tied to two hubs in two different kinds and
    at least one other firm uses both. Both are counted per firm and per pair of the firm's own
    hubs, never per pair of firms sharing a hub: an agent or a business centre used by thousands
    of firms would make that quadratic in the hub's size (gigabytes at 100k entities).
    """
    if mem.height == 0:
        return np.zeros(0, dtype=np.int64)
    fh = (mem.group_by("hub", "firm").agg(pl.col("kind").n_unique().alias("nk"), pl.col("kind").first())
          .with_columns(pl.len().over("hub").alias("hub_size"))
          .filter(pl.col("hub_size") >= 2))  # a hub only one firm uses ties it to no other firm
    # (a) one hub, two kinds.
    a = fh.filter(pl.col("nk") >= 2)["firm"].unique()
    # (b) two hubs of the firm, each of one kind, the kinds differing, and another firm on both.
    fh = fh.select("firm", "hub", "kind", "nk")
    pairs = (fh.join(fh, on="firm", suffix="_2").filter(pl.col("hub") < pl.col("hub_2"))
             .with_columns(pl.len().over("hub", "hub_2").alias("both")))
    b = pairs.filter((pl.col("both") >= 2) & (pl.col("nk") == 1) & (pl.col("nk_2") == 1)
                     & (pl.col("kind") != pl.col("kind_2")))["firm"].unique()
    return np.union1d(a.to_numpy(), b.to_numpy()).astype(np.int64)


def _group_score(members: np.ndarray, X: np.ndarray, est: np.ndarray, city_sd: float, min_size: int) -> np.ndarray:
    """The group score of each row of ``members`` (random groups of one size: rows of firm rows)."""
    n = members.shape[1]
    means = X[members].mean(axis=1)  # groups x features
    e = est[members]
    cnt = np.sum(~np.isnan(e), axis=1)
    sd = np.nanstd(e, axis=1) if n >= 2 else np.full(len(members), np.nan)
    coreg = np.where((cnt >= min_size) & (city_sd > 0),
                     np.log(max(city_sd, _MIN_SPREAD_DAYS) / np.maximum(np.nan_to_num(sd, nan=city_sd), _MIN_SPREAD_DAYS)),
                     0.0)
    return (np.clip(means, 0, None).sum(axis=1) + np.clip(coreg, 0, None)) * (n - 1) / (n + 1)


def _null_z(score: np.ndarray, size: np.ndarray, person: np.ndarray, X: np.ndarray, est: np.ndarray,
            city_sd: float, min_size: int, draws: int, seed: int) -> np.ndarray:
    """How far each group's score is above what ``size`` firms drawn at random from the city score:
    ``(score - mean) / sd`` of ``draws`` random groups of the same size (sizes above 20 in steps
    of about 10%), with the people load left out for a person's groups as in their score."""
    out = np.zeros(len(score))
    if draws <= 0 or X.shape[0] < 2:
        return out
    rng = np.random.default_rng(seed)
    bucket = np.where(size <= 20, size, np.round(20 * 1.1 ** np.round(np.log(np.maximum(size, 1) / 20) / np.log(1.1))))
    bucket = np.minimum(bucket, X.shape[0]).astype(np.int64)
    pl_col = FIRM_FEATURES.index("person_load")
    Xp = X.copy()
    Xp[:, pl_col] = 0.0  # a person's group does not count the people load (see detect_shells)
    for b in np.unique(bucket).tolist():
        # With replacement (cheap; b << firms); fewer draws for groups of thousands (at least 20), whose
        # chance level is tight anyway: at most a million firm draws per size.
        members = rng.integers(0, X.shape[0], size=(min(draws, max(20, 1_000_000 // b)), b))
        for is_person, XX in ((False, X), (True, Xp)):
            sel = (bucket == b) & (person == is_person)
            if not sel.any():
                continue
            ns = _group_score(members, XX, est, city_sd, min_size)
            mu, sd = ns.mean(), ns.std()
            out[sel] = (score[sel] - mu) / max(sd, 1e-9)
    return out


def detect_shells(net: CreditNetwork, cfg: AnalyticsConfig, as_of=None, features: pl.DataFrame | None = None) -> ShellResult:
    """Candidate groups, firm scores and flagged groups (see the module docstring)."""
    as_of = resolve_as_of(net, as_of if as_of is not None else cfg.as_of)
    f = features if features is not None else company_features(net, cfg, as_of)
    row_of = np.full(net.n, -1, dtype=np.int64)
    row_of[f["idx"].to_numpy()] = np.arange(f.height)
    min_size = max(int(cfg.shell_min_cluster), 2)

    # Memberships (hub, firm row, kind) over all kinds; a candidate is one hub with enough firms.
    parts = []
    for kind, (types, side) in SHARED_KINDS.items():
        hub, comp = _memberships(net, types, side)
        if len(hub):
            parts.append(pl.DataFrame({"hub": hub, "firm": row_of[comp], "kind": [kind] * len(hub)}))
    mem = pl.concat(parts) if parts else pl.DataFrame(schema={"hub": pl.Int64, "firm": pl.Int64, "kind": pl.Utf8})
    mem = mem.filter(pl.col("firm") >= 0)
    raw = _firm_features(net, f, row_of, mem)
    X = np.stack([_standardise(raw[k]) for k in FIRM_FEATURES], axis=1)  # firm row x feature
    own = np.clip(X, 0, None).sum(axis=1)
    own_cut = float(np.quantile(own, cfg.shell_own_quantile)) if len(own) else 0.0

    mem = mem.with_columns(pl.len().over("hub").alias("size")).filter(pl.col("size") >= min_size)
    if mem.height == 0:
        return _empty()
    hubs, cluster = np.unique(mem["hub"].to_numpy(), return_inverse=True)
    firm = mem["firm"].to_numpy()
    kinds_of = mem.group_by("hub").agg(pl.col("kind").first()).sort("hub")["kind"].to_list()
    k = len(hubs)
    size = np.bincount(cluster, minlength=k).astype(float)
    means = np.stack([np.bincount(cluster, weights=X[firm, j], minlength=k) / size for j in range(X.shape[1])], axis=1)
    # Every member of a person's group has that person's load: it says nothing about the group.
    means[np.array(kinds_of) == "person", FIRM_FEATURES.index("person_load")] = 0.0

    # Co-registration: the group's spread of registration dates against the city's.
    est = f["est_date"].cast(pl.Int32).cast(pl.Float64).fill_null(np.nan).to_numpy()
    city_sd = float(np.nanstd(est)) if np.isfinite(est).sum() > 2 else 0.0
    e = est[firm]
    ok = ~np.isnan(e)
    cnt = np.bincount(cluster[ok], minlength=k).astype(float)
    s1 = np.bincount(cluster[ok], weights=e[ok], minlength=k)
    s2 = np.bincount(cluster[ok], weights=e[ok] ** 2, minlength=k)
    var = np.where(cnt >= 2, s2 / np.maximum(cnt, 1) - (s1 / np.maximum(cnt, 1)) ** 2, np.nan)
    sd = np.sqrt(np.clip(var, 0, None))
    coreg = np.where((cnt >= min_size) & (city_sd > 0),
                     np.log(max(city_sd, _MIN_SPREAD_DAYS) / np.maximum(np.nan_to_num(sd, nan=city_sd), _MIN_SPREAD_DAYS)),
                     0.0)
    coreg = np.clip(coreg, 0, None)
    score = (np.clip(means, 0, None).sum(axis=1) + coreg) * (size - 1) / (size + 1)
    null_z = _null_z(score, size.astype(np.int64), np.array(kinds_of) == "person", X, est, city_sd, min_size,
                     cfg.shell_null_draws, cfg.shell_null_seed)
    med = float(np.median(score))
    mad = 1.4826 * float(np.median(np.abs(score - med)))
    rz = (score - med) / max(mad, 1e-9)
    unusual = rz >= cfg.shell_flag_z

    # A firm's best group; flagged when it is in an unusual group and its own features are suspicious.
    member_z = rz[cluster]
    order = np.lexsort((-member_z, firm))
    first = np.ones(len(order), dtype=bool)
    first[1:] = firm[order][1:] != firm[order][:-1]
    best = order[first]
    frow = firm[best]
    n_unusual = np.bincount(firm[unusual[cluster]], minlength=f.height)[frow]
    single_cut = float(np.quantile(own, cfg.shell_single_own_quantile)) if len(own) else 0.0
    # The one-group path: the firm's strongest group of a kind that may stand alone is far out.
    # A group stands alone when it is of a kind that may, unusual among the city's groups and far
    # above what as many firms drawn at random from the city score (null_z).
    stands = (np.isin(np.array(kinds_of, dtype=object), list(cfg.shell_single_kinds)) & unusual
              & (cfg.shell_single_null_z > 0) & (null_z >= cfg.shell_single_null_z))
    alone = np.bincount(firm[stands[cluster]], minlength=f.height) > 0
    single = alone[frow] & (own[frow] >= single_cut)
    flagged = ((n_unusual >= cfg.shell_min_unusual) & (own[frow] >= own_cut)) | single
    firms = pl.DataFrame({
        "row": frow, "shell_score": np.round(member_z[best], 3), "own_score": np.round(own[frow], 3),
        "best_cluster": cluster[best], "flagged": flagged, "unusual_groups": n_unusual,
        **{k_: np.round(X[frow, j], 3) for j, k_ in enumerate(FIRM_FEATURES)},
    })

    # Flagged firms joined through unusual premises groups (or their best group) form reported groups.
    flagged_rows = np.sort(frow[flagged])
    is_best = np.zeros(len(firm), dtype=bool)
    is_best[best] = True
    premises = (np.array(kinds_of) == "address")[cluster]
    tie = np.isin(firm, flagged_rows) & unusual[cluster] & premises
    tied = np.bincount(firm[tie], minlength=f.height) > 0
    fl = tie | (np.isin(firm, flagged_rows) & is_best & ~tied[firm])  # no shared premises: its best group
    group_of = np.full(f.height, -1, dtype=np.int64)
    if fl.any():
        A = csr_matrix((np.ones(fl.sum()), (firm[fl], cluster[fl] + f.height)), shape=(f.height + k, f.height + k))
        _, lab = connected_components(A, directed=False)
        group_of[flagged_rows] = lab[flagged_rows]
    firms = firms.with_columns(pl.Series("group", group_of[firms["row"].to_numpy()]))

    ids = f["node_id"].to_numpy()
    est_dates = f["est_date"].to_numpy()
    cand = pl.DataFrame({
        "cluster": np.arange(k), "kind": kinds_of, "key_id": net.ids[hubs], "key_name": net.names[hubs],
        "size": size.astype(np.int64), "score": np.round(score, 3), "robust_z": np.round(rz, 3), "unusual": unusual,
        "coreg": np.round(coreg, 3), "null_z": np.round(null_z, 3), **{f"mean_{kk}": np.round(means[:, j], 3) for j, kk in enumerate(FIRM_FEATURES)},
    })
    memf = pl.DataFrame({"cluster": cluster, "member": ids[firm], "est": est_dates[firm]}).group_by("cluster").agg(
        pl.col("member").sort().alias("members"), pl.col("est").min().alias("first_reg"),
        pl.col("est").max().alias("last_reg"))
    cand = cand.join(memf, on="cluster").sort(["robust_z", "size", "key_id"], descending=[True, True, False])
    cand = cand.with_columns(pl.struct(cand.columns).map_elements(_evidence, return_dtype=pl.Utf8).alias("evidence"),
                             pl.format("S{}", pl.col("cluster")).alias("cluster_id"))
    groups = _groups(firms, cand, ids)
    firms = (firms.with_columns(pl.Series("node_id", ids[firms["row"].to_numpy()]),
                                pl.Series("name", f["name"].to_numpy()[firms["row"].to_numpy()]))
             .join(cand.select("cluster", "cluster_id", "kind", "key_name"), left_on="best_cluster", right_on="cluster")
             .join(groups.select("group", "group_id"), on="group", how="left")
             .sort(["flagged", "shell_score", "own_score", "node_id"], descending=[True, True, True, False])
             .select("node_id", "name", "shell_score", "own_score", "flagged", "unusual_groups", "group_id",
                     "cluster_id", "kind", "key_name", *FIRM_FEATURES))
    return ShellResult(candidates=cand.drop("cluster"), firms=firms, groups=groups.drop("group"))


def _evidence(c: dict) -> str:
    n = c["size"]
    what = {"address": "share the address", "phone": "share the phone", "agent": "were registered by the agent",
            "person": "are linked to the person"}[c["kind"]]
    key = c["key_name"] or c["key_id"]
    if c["kind"] == "phone":
        from credgraph.identifiers import mask_phone
        key = mask_phone(key)
    parts = [f"{n} firms {what} {key}"]
    span = (c["last_reg"] - c["first_reg"]).days if c["first_reg"] and c["last_reg"] else None
    if c["coreg"] >= 1.0 and span is not None:
        how = "in one burst" if span <= 31 else "close together"
        parts.append(f"registered {how} ({c['first_reg']}..{c['last_reg']}, {c['coreg']:.1f} log-units tighter than the city)")
    for kk in FIRM_FEATURES:
        x = c[f"mean_{kk}"]
        if x >= 0.5:
            parts.append(f"{_LABELS[kk]} ({x:+.1f} sd)")
    parts.append(f"score {c['score']:.2f}, {c['robust_z']:.1f} MAD above the median group, "
                 f"{c['null_z']:.1f} sd above {n} firms drawn at random")
    return "; ".join(parts)


def _groups(firms: pl.DataFrame, cand: pl.DataFrame, ids: np.ndarray) -> pl.DataFrame:
    fl = firms.filter(pl.col("flagged"))
    if fl.height == 0:
        return pl.DataFrame(schema={"group": pl.Int64, "group_id": pl.Utf8, "size": pl.UInt32, "score": pl.Float64,
                                    "members": pl.List(pl.Utf8), "kinds": pl.List(pl.Utf8), "evidence": pl.Utf8})
    best = (fl.with_columns(pl.Series("member", ids[fl["row"].to_numpy()]))
            .join(cand.select("cluster", "kind", "evidence", "robust_z"), left_on="best_cluster", right_on="cluster"))
    g = best.group_by("group").agg(
        pl.len().alias("size"), pl.col("shell_score").mean().alias("score"),
        pl.col("member").sort().alias("members"), pl.col("kind").unique().sort().alias("kinds"),
        pl.col("evidence").sort_by("robust_z", descending=True).unique(maintain_order=True).head(3)
        .str.join(" | ").alias("evidence"),
    ).sort(["score", "size"], descending=[True, True])
    return g.with_columns(pl.format("G{}", pl.int_range(1, pl.len() + 1)).alias("group_id"))


def _empty() -> ShellResult:
    return ShellResult(
        candidates=pl.DataFrame(schema={"cluster_id": pl.Utf8, "kind": pl.Utf8, "size": pl.Int64, "score": pl.Float64,
                                        "members": pl.List(pl.Utf8), "evidence": pl.Utf8}),
        firms=pl.DataFrame(schema={"node_id": pl.Utf8, "name": pl.Utf8, "shell_score": pl.Float64, "flagged": pl.Boolean,
                                   "group_id": pl.Utf8}),
        groups=pl.DataFrame(schema={"group_id": pl.Utf8, "size": pl.UInt32, "score": pl.Float64,
                                    "members": pl.List(pl.Utf8), "evidence": pl.Utf8}),
    )


def directed_checks(result: ShellResult) -> pl.DataFrame:
    """The directed-check list (定向抽查): every flagged firm, its group and the evidence, strongest first."""
    fl = result.firms.filter(pl.col("flagged"))
    if fl.height == 0 or result.groups.height == 0:
        return pl.DataFrame(schema={"node_id": pl.Utf8, "name": pl.Utf8, "group_id": pl.Utf8, "shell_score": pl.Float64,
                                    "selection": pl.Utf8, "reason": pl.Utf8})
    return (fl.join(result.groups.select("group_id", pl.col("evidence").alias("reason")), on="group_id", how="left")
            .select("node_id", "name", "group_id", "shell_score", pl.lit("directed").alias("selection"), "reason"))


def evaluate_shells(result: ShellResult, truth_members: set[str], k: int = 50) -> dict[str, float]:
    """Precision at ``k`` and recall against the planted shell members (ids in the network's id space).

    ``precision_at_k`` is the share of planted shells among the ``k`` highest-scoring
    *flagged* firms (all flagged firms when fewer than ``k`` are flagged);
    ``strict_precision_at_k`` divides the hits among the ``k`` highest-ranked firms,
    flagged or not, by ``k``. ``recall`` is the share of planted shells flagged and
    ``flagged_precision`` the share of flagged firms that are planted shells.
    """
    ranked = result.firms["node_id"].to_list()
    flagged = set(result.firms.filter(pl.col("flagged"))["node_id"].to_list())
    top = [x for x in ranked if x in flagged][:k]
    hits = sum(1 for x in top if x in truth_members)
    strict = sum(1 for x in ranked[:k] if x in truth_members)
    return {
        f"precision_at_{k}": hits / max(len(top), 1),
        f"strict_precision_at_{k}": strict / k,
        "recall": len(flagged & truth_members) / max(len(truth_members), 1),
        "flagged": len(flagged),
        "planted": len(truth_members),
        "flagged_precision": len(flagged & truth_members) / max(len(flagged), 1),
    }
