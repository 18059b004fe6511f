"""Credit repair (信用修复): a repaired record stops counting, and only the grades it touched move.

:func:`apply_repair` sets the records' status (``repaired`` by default: one of
:data:`~credgraph.analytics.propagation.INACTIVE_STATUSES`), then updates the analysis instead
of redoing it:

1. the owners' seed risk is recomputed from their records;
2. risk is linear in the seed (``risk = sum_h a**h (M^T)**h seed``), so the change is the
   change of seed propagated through the kept transmission matrix ``M`` over the same number
   of hops the full run took: ``risk' = risk + sum_h a**h (M^T)**h (seed' - seed)`` — the
   same numbers a full propagation of the new seed gives, touching only the nodes the change
   reaches;
3. the echo-free related risk (what reaches a node from others) is recomputed for the nodes
   the change reached;
4. the affected enterprises are the owners and every enterprise whose propagated risk changed;
   their grades are recomputed with the existing grading (:func:`grade_enterprises`, one
   vectorised pass) against the cut points in force, and only their rows replace the old ones —
   no other entity's grade moves, so a repair does not re-calibrate the city's cut points
   (``grade_method = "mix"``) or shares (``"quantiles"``); the next full grading does.

``changed`` lists the affected enterprises whose grade moved or whose score moved by more than
rounding (the change feed's grades).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import polars as pl

from credgraph.config import AnalyticsConfig

from .grading import grade_enterprises
from .network import CreditNetwork
from .propagation import INACTIVE_STATUSES, RiskResult, active_records, propagate, score_table, seed_risk, self_return

__all__ = ["RepairError", "RepairResult", "apply_repair", "approved_repairs", "mark_repaired", "apply_approved"]


class RepairError(ValueError):
    """A repair that cannot be applied (unknown record, not an inactive status)."""


@dataclass
class RepairResult:
    """The network, risk and grades after the repair, and what moved."""

    net: CreditNetwork
    risk: RiskResult
    #: The whole grade frame: affected rows recomputed, the others as they were.
    grades: pl.DataFrame
    #: node_id, name, grade_before, grade, score_before, score: affected enterprises whose score or grade moved.
    changed: pl.DataFrame
    #: Node ids of the repaired records' owners.
    owners: list[str]
    #: Node ids of the enterprises whose grade was recomputed.
    affected: list[str]
    #: The affected enterprises' fresh grade contributions (a GradeResult's ``contributions`` rows).
    contributions: pl.DataFrame | None = None


def _related(risk: RiskResult, cfg: AnalyticsConfig, seed: np.ndarray, risk_new: np.ndarray,
             touched: np.ndarray) -> np.ndarray | None:
    """The echo-free related risk after the change, recomputed for the touched nodes only
    (:func:`~credgraph.analytics.propagation.related_risk`'s formula; the others keep theirs)."""
    if risk.related is None:
        return None
    out = risk.related.copy()
    r = risk_new[touched] - seed[touched]
    if getattr(cfg, "echo_free", True):
        M = risk.matrix
        deg = np.diff(M.indptr)
        echo = (seed[touched] > 0) & (deg[touched] > 0)
        if echo.any():
            nodes = touched[echo]
            g = self_return(M, nodes, cfg.decay, cfg.max_hops, cfg.echo_prune)
            r[echo] = risk_new[nodes] - seed[nodes] * g
    r[np.abs(r) <= 1e-6 * np.maximum(seed[touched], 1e-300)] = 0.0
    out[touched] = np.clip(r, 0.0, None)
    return out


def apply_repair(net: CreditNetwork, risk: RiskResult, grades: pl.DataFrame, cfg: AnalyticsConfig, as_of,
                 record_ids: list[str], status: str = "repaired", cuts=None) -> RepairResult:
    """Mark ``record_ids`` (CreditRecord node ids) with ``status`` and update risk and grades (see above).

    ``risk`` and ``grades`` are the current analysis of ``net`` (``risk.matrix`` kept by
    :func:`~credgraph.analytics.propagation.compute_risk`; ``grades`` a GradeResult's ``grades``);
    ``cuts`` the grade cut points in force (a GradeResult's ``cuts``; None: as ``cfg`` says).
    """
    if status not in INACTIVE_STATUSES:
        raise RepairError(f"status must be one of {', '.join(INACTIVE_STATUSES)}, not {status!r}")
    if risk.matrix is None:
        raise RepairError("the risk result keeps no transmission matrix; compute it with compute_risk")
    hit = net.records.filter(pl.col("record_node").is_in(record_ids))
    missing = sorted(set(record_ids) - set(hit["record_node"].to_list()))
    if missing:
        raise RepairError(f"no credit record {missing[0]!r} in the network")
    owners = np.unique(hit["owner"].to_numpy())
    recs = net.records.with_columns(
        pl.when(pl.col("record_node").is_in(record_ids)).then(pl.lit(status)).otherwise(pl.col("status")).alias("status"))
    net2 = dataclasses.replace(net, records=recs)
    seed2 = seed_risk(net2, cfg, as_of)
    delta = seed2 - risk.seed
    drisk = propagate(risk.matrix, delta, cfg.decay, max_hops=max(risk.hops, 1), tolerance=0.0) if np.any(delta) \
        else np.zeros_like(delta)
    reached = np.flatnonzero(np.abs(drisk) > 1e-12)
    touched = np.union1d(owners, reached)
    risk_new = risk.risk + drisk
    related2 = _related(risk, cfg, seed2, risk_new, touched)
    scores = risk.scores
    if related2 is not None:  # the score table (what pages and lists read) follows the vectors
        scores = score_table(net2, seed2, risk_new, related2)[0]
    risk2 = dataclasses.replace(risk, scores=scores, seed=seed2, risk=risk_new, records=active_records(net2, cfg, as_of),
                                related=related2, sources=risk.sources.clear(), _reverse=None, _cost=None)
    aff = touched[net.legal_mask[touched]]
    affected_ids = net.ids[aff].tolist()
    if not affected_ids:
        return RepairResult(net2, risk2, grades, grades.head(0).select("node_id", "name").with_columns(
            pl.lit(None, pl.Utf8).alias("grade_before"), pl.lit(None, pl.Utf8).alias("grade"),
            pl.lit(None, pl.Float64).alias("score_before"), pl.lit(None, pl.Float64).alias("score")),
            net.ids[owners].tolist(), [])
    # Grade against the cut points in force (``cuts``: those the last full grading calibrated),
    # not cut points re-calibrated on the city after one repair.
    gcfg = dataclasses.replace(cfg, grade_method="cuts", grade_cuts=tuple(cuts)) if cuts is not None else cfg
    fresh_result = grade_enterprises(net2, gcfg, as_of, risk2)
    fresh = fresh_result.grades
    new_rows = fresh.filter(pl.col("node_id").is_in(affected_ids))
    old_rows = grades.filter(pl.col("node_id").is_in(affected_ids))
    merged = pl.concat([grades.filter(~pl.col("node_id").is_in(affected_ids)), new_rows.select(grades.columns)])
    merged = merged.sort("idx") if "idx" in merged.columns else merged
    changed = (old_rows.select("node_id", "name", pl.col("grade").alias("grade_before"), pl.col("score").alias("score_before"))
               .join(new_rows.select("node_id", "grade", "score"), on="node_id")
               # Scores are rounded to 0.01: a move of one hundredth can be float noise of the propagation.
               .filter((pl.col("grade") != pl.col("grade_before")) | ((pl.col("score") - pl.col("score_before")).abs() > 0.011))
               .select("node_id", "name", "grade_before", "grade", "score_before", "score"))
    contrib = fresh_result.contributions.filter(pl.col("node_id").is_in(affected_ids))
    return RepairResult(net2, risk2, merged, changed, net.ids[owners].tolist(), affected_ids, contrib)


def approved_repairs(cfg) -> list[str]:
    """Credit-record node ids whose repair the authority approved in the data interface
    (``<workspace>/api/api.sqlite``, read-only); [] when there is no such database yet."""
    import sqlite3
    from pathlib import Path

    path = Path(cfg.workspace_path) / "api" / "api.sqlite"
    if not path.is_file():
        return []
    con = sqlite3.connect(str(path), timeout=30)  # only reads (a WAL database needs its -shm to be writable)
    try:
        if not con.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'repairs'").fetchone():
            return []
        rows = con.execute("SELECT record_id FROM repairs WHERE status = 'approved'").fetchall()
    except sqlite3.DatabaseError as exc:  # not a database, damaged, locked past the timeout
        raise ValueError(f"{path}: cannot read the approved credit repairs ({exc}); "
                         "repair or restore the data interface's database, then run this again") from None
    finally:
        con.close()
    return sorted({r[0] for r in rows})


def mark_repaired(nodes: pl.DataFrame, record_ids: list[str]) -> pl.DataFrame:
    """The graph's node frame with the given credit records' ``status`` set to ``repaired``.

    >>> nodes = pl.DataFrame({"node_id": ["R1", "R2", "F1"], "status": [None, "active", None]})
    >>> mark_repaired(nodes, ["R2"])["status"].to_list()
    [None, 'repaired', None]
    """
    if not record_ids or "status" not in nodes.columns:
        return nodes
    return nodes.with_columns(pl.when(pl.col("node_id").is_in(record_ids)).then(pl.lit("repaired"))
                              .otherwise(pl.col("status")).alias("status"))


def apply_approved(net: CreditNetwork, risk: RiskResult, grades, cfg: AnalyticsConfig, record_ids: list[str]):
    """(net, risk, grades, applied): the analysis with every approved repair in ``record_ids``
    that ``net`` still counts applied by :func:`apply_repair` (``grades`` a GradeResult; its grade
    rows and the affected enterprises' contributions replaced, its cut points kept). Records
    already inactive in ``net`` (e.g. results computed after the approval) are left as they are."""
    if not record_ids:
        return net, risk, grades, []
    todo = net.records.filter(pl.col("record_node").is_in(record_ids)
                              & ~pl.col("status").fill_null("").is_in(list(INACTIVE_STATUSES)))
    ids = sorted(set(todo["record_node"].to_list()))
    if not ids:
        return net, risk, grades, []
    res = apply_repair(net, risk, grades.grades, cfg, grades.as_of, ids, cuts=grades.cuts or None)
    contrib = grades.contributions
    if res.affected and res.contributions is not None:
        contrib = pl.concat([contrib.filter(~pl.col("node_id").is_in(res.affected)), res.contributions],
                            how="diagonal_relaxed")
    grades2 = dataclasses.replace(grades, grades=res.grades, contributions=contrib, risk=res.risk)
    return res.net, res.risk, grades2, ids
