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
3. the affected enterprises are the owners and every enterprise whose propagated risk changed;
   their grades are recomputed with the existing grading (:func:`grade_enterprises`, one
   vectorised pass) and only their rows replace the old ones — no other entity's grade moves,
   so a repair cannot reshuffle the city when grades come from shares (``grade_method =
   "quantiles"``).

``changed`` lists the affected enterprises whose score or grade moved (the change feed's grades).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import polars as pl

from credgraph.config import AnalyticsConfig

from .grading import grade_enterprises
from .network import CreditNetwork
from .propagation import INACTIVE_STATUSES, RiskResult, active_records, propagate, seed_risk

__all__ = ["RepairError", "RepairResult", "apply_repair"]


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


def apply_repair(net: CreditNetwork, risk: RiskResult, grades: pl.DataFrame, cfg: AnalyticsConfig, as_of,
                 record_ids: list[str], status: str = "repaired") -> RepairResult:
    """Mark ``record_ids`` (CreditRecord node ids) with ``status`` and update risk and grades (see above).

    ``risk`` and ``grades`` are the current analysis of ``net`` (``risk.matrix`` kept by
    :func:`~credgraph.analytics.propagation.compute_risk`; ``grades`` a GradeResult's ``grades``).
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
    risk2 = dataclasses.replace(risk, seed=seed2, risk=risk.risk + drisk, records=active_records(net2, cfg, as_of),
                                sources=risk.sources.clear(), _reverse=None, _cost=None)
    reached = np.flatnonzero(np.abs(drisk) > 1e-12)
    aff = np.union1d(owners, reached)
    aff = aff[net.legal_mask[aff]]
    affected_ids = net.ids[aff].tolist()
    if not affected_ids:
        return RepairResult(net2, risk2, grades, grades.head(0).select("node_id", "name").with_columns(
            pl.lit(None, pl.Utf8).alias("grade_before"), pl.lit(None, pl.Utf8).alias("grade"),
            pl.lit(None, pl.Float64).alias("score_before"), pl.lit(None, pl.Float64).alias("score")),
            net.ids[owners].tolist(), [])
    fresh = grade_enterprises(net2, cfg, as_of, risk2).grades
    new_rows = fresh.filter(pl.col("node_id").is_in(affected_ids))
    old_rows = grades.filter(pl.col("node_id").is_in(affected_ids))
    merged = pl.concat([grades.filter(~pl.col("node_id").is_in(affected_ids)), new_rows.select(grades.columns)])
    merged = merged.sort("idx") if "idx" in merged.columns else merged
    changed = (old_rows.select("node_id", "name", pl.col("grade").alias("grade_before"), pl.col("score").alias("score_before"))
               .join(new_rows.select("node_id", "grade", "score"), on="node_id")
               .filter((pl.col("grade") != pl.col("grade_before")) | (pl.col("score") != pl.col("score_before")))
               .select("node_id", "name", "grade_before", "grade", "score_before", "score"))
    return RepairResult(net2, risk2, merged, changed, net.ids[owners].tolist(), affected_ids)
