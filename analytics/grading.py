"""Graded supervision (信用分级分类监管): indicators in five dimensions, a score, six grades.

Each indicator turns one fact about an enterprise into a value in [0, 1] (1 = the worst
case) and costs up to its configured weight in points (``weight_*`` in AnalyticsConfig);
the two social-evaluation honours give points back. The score is
``100 - points lost + points given back``, clipped to 0-100, higher is better. Grades
A+, A, B, C, D, E (low to high risk) come from score cut points (``grade_cuts``) or from
shares of enterprises (``grade_quantiles``); an active record of a type in ``grade_veto``
(default: the serious illegal and dishonest list) means grade E whatever the score (一票否决).

Every enterprise's grade is explained by its indicators' contributions (``contributions``
frame: one row per enterprise and indicator with points) and a short ``reasons`` text
naming the indicators that cost most.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from credgraph.config import AnalyticsConfig

from .features import company_features
from .network import CreditNetwork, resolve_as_of
from .propagation import RiskResult, compute_risk

__all__ = ["GRADES", "DIMENSIONS", "INDICATORS", "Indicator", "GradeResult", "grade_enterprises", "assign_grades"]

GRADES = ("A+", "A", "B", "C", "D", "E")
DIMENSIONS = {
    "basic": "基础属性 basic attributes",
    "operating": "经营行为 operating behaviour",
    "regulatory": "监管记录 regulatory records",
    "related": "关联风险 related-party risk",
    "social": "社会评价 social evaluation",
}

_TAX = {"D": 1.0, "C": 0.6, "M": 0.3, "B": 0.1, "A": 0.0}


@dataclass(frozen=True)
class Indicator:
    """One indicator: its dimension, the config weight it uses, what it measures, and
    ``bonus`` when it gives points back instead of costing them."""

    name: str
    dimension: str
    weight: str
    doc: str
    bonus: bool = False


INDICATORS: tuple[Indicator, ...] = (
    Indicator("young", "basic", "weight_young", "established less than young_years ago"),
    Indicator("tiny_capital", "basic", "weight_tiny_capital", "registered capital zero or below tiny_capital"),
    Indicator("bad_status", "basic", "weight_bad_status", "deregistered or revoked (注销/吊销)"),
    Indicator("no_staff", "operating", "weight_no_staff", "no insured staff"),
    Indicator("arrears", "operating", "weight_arrears", "social insurance arrears"),
    Indicator("abnormal", "operating", "weight_abnormal", "on the abnormal operations list"),
    Indicator("tax_rating", "operating", "weight_tax_rating", "low tax credit rating"),
    Indicator("penalties", "regulatory", "weight_penalties", "administrative penalties"),
    Indicator("serious_illegal", "regulatory", "weight_serious_illegal", "serious illegal and dishonest list"),
    Indicator("dishonest_debtor", "regulatory", "weight_dishonest_debtor", "dishonest judgment debtor"),
    Indicator("tax_violation", "regulatory", "weight_tax_violation", "major tax violation"),
    Indicator("related_risk", "related", "weight_related_risk", "risk received from related parties"),
    Indicator("rep_many_firms", "related", "weight_rep_many_firms", "legal representative of many firms"),
    Indicator("shared_address", "related", "weight_shared_address", "address shared by many firms"),
    Indicator("red_list", "social", "weight_red_list", "honours / red list", bonus=True),
    Indicator("licences", "social", "weight_licences", "valid administrative licences", bonus=True),
)


def _indicator_values(f: pl.DataFrame, received: np.ndarray, cfg: AnalyticsConfig) -> dict[str, np.ndarray]:
    """Each indicator's value in [0, 1] per enterprise (rows of ``f``)."""
    def col(name, fill=0.0):
        return f[name].cast(pl.Float64).fill_null(fill).to_numpy()

    age = f["age_years"].fill_null(cfg.young_years).to_numpy()
    cap = f["capital"].to_numpy()
    status = f["reg_status"].fill_null("").to_numpy().astype(str)
    staff = f["staff"].cast(pl.Float64).to_numpy()
    tax = f["tax_grade"].fill_null("").to_numpy().astype(str)
    sat = lambda x: 1.0 - np.exp(-x)  # noqa: E731 - saturating count: 1 -> .63, 2 -> .86
    return {
        "young": np.clip(1.0 - age / max(cfg.young_years, 1e-9), 0.0, 1.0),
        "tiny_capital": (~np.isnan(cap) & (cap < cfg.tiny_capital)).astype(float),
        "bad_status": ((np.char.find(status, "注销") >= 0) | (np.char.find(status, "吊销") >= 0)).astype(float),
        "no_staff": (np.isnan(staff) | (staff <= 0)).astype(float),
        "arrears": col("arrears"),
        "abnormal": col("abnormal"),
        "tax_rating": np.array([_TAX.get(g, 0.0) for g in tax]),
        "penalties": sat(col("penalties")),
        "serious_illegal": col("serious_illegal"),
        "dishonest_debtor": col("dishonest_debtor"),
        "tax_violation": col("tax_violation"),
        "related_risk": sat(received),
        "rep_many_firms": np.clip((col("rep_firms") - 1) / max(cfg.rep_many_firms - 1, 1), 0.0, 1.0),
        "shared_address": np.clip((col("addr_firms") - 1) / max(cfg.address_many_firms - 1, 1), 0.0, 1.0),
        "red_list": (col("red_list") > 0).astype(float),
        "licences": np.clip(col("licences") / 3.0, 0.0, 1.0),
    }


def assign_grades(score: np.ndarray, cfg: AnalyticsConfig) -> np.ndarray:
    """Grades from scores: cut points (lowest score of A+, A, B, C, D) or quantile shares.

    >>> assign_grades(np.array([99.0, 90.0, 80.0, 70.0, 55.0, 10.0]), AnalyticsConfig()).tolist()
    ['A+', 'A', 'B', 'C', 'D', 'E']
    """
    if cfg.grade_method == "cuts":
        cuts = np.array([float(c) for c in cfg.grade_cuts])
        if len(cuts) != 5 or np.any(np.diff(cuts) > 0):
            raise ValueError("analytics.grade_cuts needs 5 decreasing scores (A+, A, B, C, D)")
        k = np.searchsorted(-cuts, -score, side="right")  # number of cuts above the score
    elif cfg.grade_method == "quantiles":
        q = np.array([float(c) for c in cfg.grade_quantiles])
        if len(q) != 5 or np.any(np.diff(q) < 0) or q.max() > 1:
            raise ValueError("analytics.grade_quantiles needs 5 increasing shares in [0, 1]")
        # Rank from the best score down; ties broken by order (stable) for exact shares.
        order = np.argsort(-score, kind="stable")
        pos = np.empty(len(score), dtype=np.float64)
        pos[order] = (np.arange(len(score)) + 0.5) / max(len(score), 1)
        k = np.searchsorted(q, pos, side="right")
    else:
        raise ValueError(f"analytics.grade_method must be 'cuts' or 'quantiles', not {cfg.grade_method!r}")
    return np.array(GRADES, dtype=object)[np.clip(k, 0, 5)].astype(str)


@dataclass
class GradeResult:
    """Scores, grades and their explanation."""

    #: node_id, name, score, grade, dim_<dimension> (points per dimension), reg_status, idx, reasons.
    grades: pl.DataFrame
    #: node_id, dimension, indicator, value (0-1), points (negative: lost, positive: given back).
    contributions: pl.DataFrame
    #: grade, enterprises, share.
    distribution: pl.DataFrame
    #: The facts the indicators were computed from.
    features: pl.DataFrame
    risk: RiskResult
    as_of: "object" = None


def grade_enterprises(net: CreditNetwork, cfg: AnalyticsConfig, as_of=None, risk: RiskResult | None = None) -> GradeResult:
    """Score and grade every enterprise (LegalPerson) of the network."""
    as_of = resolve_as_of(net, as_of if as_of is not None else cfg.as_of)
    risk = risk if risk is not None else compute_risk(net, cfg, as_of)
    f = company_features(net, cfg, as_of)
    idx = f["idx"].to_numpy()
    received = (risk.risk - risk.seed)[idx]
    values = _indicator_values(f, received, cfg)
    n = len(idx)
    points = np.zeros((n, len(INDICATORS)))
    for k, ind in enumerate(INDICATORS):
        w = float(getattr(cfg, ind.weight))
        points[:, k] = (1 if ind.bonus else -1) * w * np.asarray(values[ind.name], dtype=float)
    score = np.clip(100.0 + points.sum(axis=1), 0.0, 100.0)
    grade = assign_grades(score, cfg)
    veto = np.zeros(n, dtype=bool)
    for event in cfg.grade_veto:
        if event in f.columns:
            veto |= f[event].fill_null(0).to_numpy() > 0
        else:
            veto |= np.isin(idx, _owners_with_active(risk, event))
    grade = np.where(veto, "E", grade)
    names = [i.name for i in INDICATORS]
    dims = {d: points[:, [k for k, i in enumerate(INDICATORS) if i.dimension == d]].sum(axis=1) for d in DIMENSIONS}
    contrib = pl.DataFrame({
        "node_id": np.repeat(f["node_id"].to_numpy(), len(INDICATORS)),
        "dimension": np.tile([i.dimension for i in INDICATORS], n),
        "indicator": np.tile(names, n),
        "value": np.stack([np.asarray(values[k], dtype=float) for k in names], axis=1).ravel(),
        "points": points.ravel(),
    })
    reasons = _reasons(contrib)
    grades = pl.DataFrame({
        "node_id": f["node_id"], "name": f["name"], "score": np.round(score, 2), "grade": grade,
        **{f"dim_{d}": np.round(v, 2) for d, v in dims.items()}, "reg_status": f["reg_status"], "idx": idx,
    }).join(reasons, on="node_id", how="left").with_columns(pl.col("reasons").fill_null("no adverse indicator"))
    if veto.any():
        grades = grades.with_columns(
            pl.when(pl.Series(veto)).then(pl.format("grade E by veto ({}); ", pl.lit(", ".join(cfg.grade_veto))) + pl.col("reasons"))
            .otherwise(pl.col("reasons")).alias("reasons"))
    counts = grades.group_by("grade").len()
    dist = (pl.DataFrame({"grade": list(GRADES)}).join(counts, on="grade", how="left")
            .with_columns(pl.col("len").fill_null(0).alias("enterprises")).drop("len")
            .with_columns((pl.col("enterprises") / max(n, 1)).alias("share")))
    return GradeResult(grades=grades, contributions=contrib, distribution=dist, features=f, risk=risk, as_of=as_of)


def _owners_with_active(risk: RiskResult, event: str) -> np.ndarray:
    """Node indexes owning an active record of ``event`` (for vetoes on events without a feature)."""
    rec = risk.records
    return rec.filter(pl.col("active") & (pl.col("event_type") == event))["owner"].to_numpy()


def _reasons(contrib: pl.DataFrame) -> pl.DataFrame:
    """Per enterprise: the three indicators that cost most, then the honours, as text."""
    lost = (contrib.filter(pl.col("points") < -0.05)
            .sort(["node_id", "points"]).group_by("node_id", maintain_order=True).head(3)
            .with_columns(pl.format("{} {}", "indicator", pl.col("points").round(1)).alias("t")))
    gain = (contrib.filter(pl.col("points") > 0.05)
            .with_columns(pl.format("{} +{}", "indicator", pl.col("points").round(1)).alias("t")))
    return (pl.concat([lost.select("node_id", "t"), gain.select("node_id", "t")])
            .group_by("node_id", maintain_order=True).agg(pl.col("t").str.join("; ").alias("reasons")))
