"""Shell companies and fake registrations (虚假登记企业).

**Candidates.** Firms that share an address, a phone, an agent (AGENT_OF) or a legal
representative form a candidate cluster when there are at least ``shell_min_cluster`` of them.

**Features.** For each firm: it belongs to the cluster's *registration burst* (the most
firms registered within ``shell_burst_days`` of each other, at least ``shell_min_cluster``
of them), it has *no insured staff*
(social insurance count 0 or no record), *zero or tiny capital* (at most ``tiny_capital``),
its legal representative *serves many firms* (at least ``shell_rep_many``), it has been on
the *abnormal operations list*. A cluster's score is the weighted share of its firms with each
feature (weights ``shell_weight_*``, normalised to sum 1); a firm's score mixes its best
cluster's score with its own features (``shell_cluster_share``). Firms whose score and best
cluster's score both reach ``shell_flag_score`` are flagged (a suspicious-looking firm in an
unsuspicious cluster is not); flagged firms sharing premises (a flagged address, phone or
agent cluster) are merged into one reported group, with the evidence that makes it
suspicious. A shared legal representative does not merge groups: nominees serve several rings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from credgraph.config import AnalyticsConfig

from .features import company_features, group_members
from .network import CreditNetwork, resolve_as_of

__all__ = ["ShellResult", "detect_shells", "evaluate_shells", "SHARED_KINDS"]

#: How firms can be tied into a candidate cluster: kind -> (edge type, side the firm is on).
SHARED_KINDS = {
    "address": ("LOCATED_AT", "src"),
    "phone": ("USES_PHONE", "src"),
    "agent": ("AGENT_OF", "dst"),
    "legal_rep": ("LEGAL_REP_OF", "dst"),
}
_FEATURES = ("burst", "no_staff", "tiny_capital", "rep_many", "abnormal")


@dataclass
class ShellResult:
    #: Candidate clusters: cluster_id, kind, key_id, key_name, size, score, one share per feature,
    #: members (node ids), evidence; ranked by score.
    candidates: pl.DataFrame
    #: Firms in any candidate: node_id, name, shell_score, flagged, group_id, best cluster, own features.
    firms: pl.DataFrame
    #: Flagged groups (merged clusters): group_id, size, score, kinds, members, evidence; ranked.
    groups: pl.DataFrame


def _weights(cfg: AnalyticsConfig) -> np.ndarray:
    w = np.array([cfg.shell_weight_burst, cfg.shell_weight_no_staff, cfg.shell_weight_tiny_capital,
                  cfg.shell_weight_rep_many, cfg.shell_weight_abnormal], dtype=float)
    return w / max(w.sum(), 1e-12)


def _burst(cluster: np.ndarray, days: np.ndarray, window: int, min_size: int) -> np.ndarray:
    """Per membership row: is the firm inside its cluster's densest registration window
    (``window`` days holding at least ``min_size`` firms)?"""
    n = len(cluster)
    out = np.zeros(n, dtype=bool)
    known = ~np.isnan(days)
    if not known.any():
        return out
    rows = np.nonzero(known)[0]
    c, d = cluster[rows], days[rows]
    order = np.lexsort((d, c))
    c, d, rows = c[order], d[order], rows[order]
    key = c * 1e6 + d  # days since 1970 stay far below 1e6
    end = np.searchsorted(key, key + window, side="right")
    count = end - np.arange(len(key))  # firms registered within `window` days from this one on
    best = np.zeros(cluster.max() + 1, dtype=np.int64)
    np.maximum.at(best, c, count)
    # The densest window starts at the first row reaching the best count; its members are inside it.
    start = np.full(cluster.max() + 1, -1, dtype=np.int64)
    is_best = (count == best[c]) & (count >= max(min_size, 2))
    first = np.nonzero(is_best)[0]
    first = first[np.unique(c[first], return_index=True)[1]]
    start[c[first]] = first
    pos = np.arange(len(key))
    s = start[c]
    inside = (s >= 0) & (pos >= s) & (pos < s + best[c])
    out[rows[inside]] = True
    return out


def detect_shells(net: CreditNetwork, cfg: AnalyticsConfig, as_of=None, features: pl.DataFrame | None = None) -> ShellResult:
    """Candidate clusters, firm scores and flagged groups (see the module docstring)."""
    as_of = resolve_as_of(net, as_of if as_of is not None else cfg.as_of)
    f = features if features is not None else company_features(net, cfg, as_of)
    row_of = np.full(net.n, -1, dtype=np.int64)
    row_of[f["idx"].to_numpy()] = np.arange(f.height)
    staff = f["staff"].cast(pl.Float64).to_numpy()
    cap = f["capital"].cast(pl.Float64).to_numpy()
    own = {
        "no_staff": np.isnan(staff) | (staff <= 0),
        "tiny_capital": ~np.isnan(cap) & (cap <= cfg.tiny_capital),
        "rep_many": f["rep_firms"].to_numpy() >= cfg.shell_rep_many,
        "abnormal": f["abnormal_ever"].to_numpy().astype(bool),
    }
    est = f["est_date"].cast(pl.Int32).cast(pl.Float64).fill_null(np.nan).to_numpy()

    # Membership rows (cluster, firm) over all kinds; a cluster is one shared node of one kind.
    cl_kind, cl_key, mem_cluster, mem_firm = [], [], [], []
    next_id = 0
    for kind, (etype, side) in SHARED_KINDS.items():
        hub, comp = group_members(net, etype, side)
        if len(hub) == 0:
            continue
        size = np.bincount(hub, minlength=net.n)
        keep = size[hub] >= cfg.shell_min_cluster
        hub, comp = hub[keep], comp[keep]
        hubs, inv = np.unique(hub, return_inverse=True)
        cl_kind += [kind] * len(hubs)
        cl_key.append(hubs)
        mem_cluster.append(inv + next_id)
        mem_firm.append(row_of[comp])
        next_id += len(hubs)
    if next_id == 0:
        return _empty()
    cl_key = np.concatenate(cl_key)
    cluster = np.concatenate(mem_cluster)
    firm = np.concatenate(mem_firm)
    feats = {"burst": _burst(cluster, est[firm], cfg.shell_burst_days, cfg.shell_min_cluster)}
    feats.update({k: v[firm] for k, v in own.items()})
    w = _weights(cfg)
    F = np.stack([feats[k] for k in _FEATURES], axis=1).astype(float)  # membership x feature
    size = np.bincount(cluster, minlength=next_id)
    share = np.stack([np.bincount(cluster, weights=F[:, k], minlength=next_id) for k in range(len(_FEATURES))], axis=1)
    share /= np.maximum(size, 1)[:, None]
    cscore = share @ w
    member_score = cfg.shell_cluster_share * cscore[cluster] + (1 - cfg.shell_cluster_share) * (F @ w)

    # A firm's score: its best membership.
    order = np.lexsort((-member_score, firm))
    first = np.ones(len(order), dtype=bool)
    first[1:] = firm[order][1:] != firm[order][:-1]
    best = order[first]
    firms = pl.DataFrame({
        "row": firm[best], "shell_score": member_score[best], "best_cluster": cluster[best],
        **{k: F[best, j].astype(bool) for j, k in enumerate(_FEATURES)},
    })
    firms = firms.with_columns(
        pl.Series("node_id", f["node_id"].to_numpy()[firms["row"].to_numpy()]),
        pl.Series("name", f["name"].to_numpy()[firms["row"].to_numpy()]),
        ((pl.col("shell_score") >= cfg.shell_flag_score)
         & (pl.Series(cscore[cluster[best]]) >= cfg.shell_flag_score)).alias("flagged"),
    )
    # Flagged firms joined through flagged memberships form groups.
    flagged_rows = set(firms.filter("flagged")["row"].to_list())
    # A nominee legal representative often serves several rings: shared reps are evidence but
    # merge nothing; shared premises (address, phone, agent) merge, and so does a firm's best cluster.
    is_best = np.zeros(len(firm), dtype=bool)
    is_best[best] = True
    premises = np.array([k != "legal_rep" for k in cl_kind])[cluster]
    fl = np.isin(firm, list(flagged_rows)) & (((cscore[cluster] >= cfg.shell_flag_score) & premises) | is_best)
    group_of = np.full(f.height, -1, dtype=np.int64)
    if fl.any():
        A = csr_matrix((np.ones(fl.sum()), (firm[fl], cluster[fl] + f.height)),
                       shape=(f.height + next_id, f.height + next_id))
        _, lab = connected_components(A, directed=False)
        rows_fl = np.array(sorted(flagged_rows), dtype=np.int64)
        group_of[rows_fl] = lab[rows_fl]
    firms = firms.with_columns(pl.Series("group", group_of[firms["row"].to_numpy()]))

    ids = f["node_id"].to_numpy()
    names = f["name"].to_numpy()
    est_dates = f["est_date"].to_numpy()
    cand = pl.DataFrame({
        "cluster": np.arange(next_id), "kind": cl_kind, "key_id": net.ids[cl_key], "key_name": net.names[cl_key],
        "size": size, "score": cscore, **{f"share_{k}": share[:, j] for j, k in enumerate(_FEATURES)},
    })
    mem = pl.DataFrame({"cluster": cluster, "member": ids[firm], "est": est_dates[firm], "burst": feats["burst"]}).group_by("cluster").agg(
        pl.col("member").sort().alias("members"), pl.col("est").filter("burst").min().alias("first_reg"),
        pl.col("est").filter("burst").max().alias("last_reg"))
    cand = cand.join(mem, on="cluster").sort(["score", "size", "key_id"], descending=[True, True, False])
    cand = cand.with_columns(pl.struct(cand.columns).map_elements(_evidence, return_dtype=pl.Utf8).alias("evidence"))
    cand = cand.with_columns(pl.format("S{}", pl.col("cluster")).alias("cluster_id"))

    groups = _groups(firms, cand, cfg)
    firms = (firms.join(cand.select("cluster", "cluster_id", "kind", "key_name"), left_on="best_cluster", right_on="cluster")
             .join(groups.select("group", "group_id"), on="group", how="left")
             .sort(["shell_score", "node_id"], descending=[True, False])
             .select("node_id", "name", "shell_score", "flagged", "group_id", "cluster_id", "kind", "key_name", *_FEATURES))
    return ShellResult(candidates=cand.drop("cluster"), firms=firms, groups=groups.drop("group"))


def _evidence(c: dict) -> str:
    n = c["size"]
    what = {"address": "share the address", "phone": "share the phone", "agent": "were registered by the agent",
            "legal_rep": "have the legal representative"}[c["kind"]]
    key = c["key_name"] or c["key_id"]
    if c["kind"] == "phone":
        from credgraph.identifiers import mask_phone
        key = mask_phone(key)
    parts = [f"{n} firms {what} {key}"]
    labels = {"burst": f"registered in one burst ({c['first_reg']}..{c['last_reg']})", "no_staff": "no insured staff",
              "tiny_capital": "zero or tiny capital", "rep_many": "legal rep serving many firms",
              "abnormal": "on the abnormal list"}
    for k in _FEATURES:
        x = c[f"share_{k}"]
        if x > 0:
            parts.append(f"{round(x * n)}/{n} {labels[k]}")
    return "; ".join(parts)


def _groups(firms: pl.DataFrame, cand: pl.DataFrame, cfg: AnalyticsConfig) -> pl.DataFrame:
    fl = firms.filter(pl.col("flagged"))
    if fl.height == 0:
        return pl.DataFrame(schema={"group": pl.Int64, "group_id": pl.Utf8, "size": pl.UInt32, "score": pl.Float64,
                                    "members": pl.List(pl.Utf8), "kinds": pl.List(pl.Utf8), "evidence": pl.Utf8})
    best = fl.join(cand.select("cluster", "kind", "evidence", (pl.col("score") * pl.col("size")).alias("cscore")),
                   left_on="best_cluster", right_on="cluster")
    g = best.group_by("group").agg(
        pl.len().alias("size"), pl.col("shell_score").mean().alias("score"),
        pl.col("node_id").sort().alias("members"), pl.col("kind").unique().sort().alias("kinds"),
        pl.col("evidence").sort_by("cscore", descending=True).unique(maintain_order=True).head(3)
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


def evaluate_shells(result: ShellResult, truth_members: set[str], k: int = 50) -> dict[str, float]:
    """Precision at ``k`` and recall against the planted shell members (ids in the network's id space).

    ``precision_at_k`` is the share of planted shells among the ``k`` highest-scoring
    *flagged* firms (all flagged firms when fewer than ``k`` are flagged: a list shorter
    than ``k`` is not padded with firms the detector does not suspect);
    ``strict_precision_at_k`` divides the hits among the ``k`` highest-scoring firms,
    flagged or not, by ``k``. ``recall`` is the share of planted shells flagged.
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
