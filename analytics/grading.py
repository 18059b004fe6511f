"""Graded supervision (信用分级分类监管): an indicator system in data, a score, six grades.

**Indicators.** ``analytics/indicators.toml`` (or ``analytics.indicators_file``) lists the
indicators: dimension, source (records of an event type or catalog, a fact about the
enterprise, or every other adverse record weighed by its catalog spec's ``severity``), formula
and weight (see :mod:`credgraph.analytics.indicators`). Each gives a value in [0, 1] that
costs up to its weight in points (``bonus`` ones give points back): the score is
``100 - points lost + points given back`` (at least 0), higher is better.

**Grades.** A+, A, B, C, D, E (low to high risk). With ``grade_method = "mix"`` (default) the
cut points are calibrated on the city's scores so that the grades follow ``grade_mix`` (the
seed district's A+ 0.6 / A 6.4 / B 69.6 / C 23.0 / D 0.4 %) among enterprises not vetoed;
``"cuts"`` uses fixed ``grade_cuts``, ``"quantiles"`` shares ``grade_quantiles``. An active
record of a type in ``grade_veto`` means grade E whatever the score (一票否决).

**Who is graded.** Enterprises: legal persons registered by market regulation (USCC starting
with one of ``enterprise_uscc_first``, default ``9``) or without a known USCC. Others (law
firms 31, civil-affairs bodies 5x, public institutions 12, ...) are not graded on the
enterprise scheme: they are listed in ``excluded`` with the reason.

Every grade is explained by its indicators' contributions (``contributions``: one row per
enterprise and indicator with points) and a ``reasons`` text naming what cost most.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from credgraph.config import AnalyticsConfig

from .features import company_features
from .indicators import DIMENSIONS, Indicator, enterprise_facts, indicator_values, load_indicators
from .network import CreditNetwork, resolve_as_of
from .propagation import RiskResult, compute_risk

__all__ = ["GRADES", "DIMENSIONS", "Indicator", "GradeResult", "grade_enterprises", "assign_grades",
           "calibrated_cuts", "enterprise_mask"]

GRADES = ("A+", "A", "B", "C", "D", "E")


def calibrated_cuts(score: np.ndarray, mix) -> np.ndarray:
    """Lowest scores of A+, A, B, C, D such that the grades follow the shares ``mix`` (A+..D).

    >>> calibrated_cuts(np.arange(100.0), (0.1, 0.2, 0.4, 0.2, 0.1)).tolist()
    [90.0, 70.0, 30.0, 10.0, 0.0]
    """
    m = np.asarray([float(x) for x in mix], float)
    if len(m) != 5 or (m < 0).any() or m.sum() <= 0:
        raise ValueError("analytics.grade_mix needs 5 shares (A+, A, B, C, D) that are not negative")
    m = m / m.sum()
    if len(score) == 0:
        return np.zeros(5)
    s = np.sort(np.asarray(score, float))[::-1]  # best first
    pos = np.clip(np.ceil(np.cumsum(m) * len(s) - 1e-9).astype(int) - 1, 0, len(s) - 1)
    cuts = s[pos]
    cuts[-1] = min(cuts[-1], s[-1])
    return cuts


def assign_grades(score: np.ndarray, cfg: AnalyticsConfig, cuts: np.ndarray | None = None) -> np.ndarray:
    """Grades from scores: cut points (lowest score of A+, A, B, C, D), quantile shares, or ``cuts``.

    >>> import dataclasses
    >>> cfg = dataclasses.replace(AnalyticsConfig(), grade_method="cuts")
    >>> assign_grades(np.array([99.0, 90.0, 80.0, 70.0, 55.0, 10.0]), cfg).tolist()
    ['A+', 'A', 'B', 'C', 'D', 'E']
    """
    if cuts is not None or cfg.grade_method in ("cuts", "mix"):
        if cuts is None and cfg.grade_method == "mix":
            cuts = calibrated_cuts(score, cfg.grade_mix)
        cuts = np.array([float(c) for c in (cfg.grade_cuts if cuts is None else cuts)])
        if len(cuts) != 5 or np.any(np.diff(cuts) > 0):
            raise ValueError("analytics.grade_cuts needs 5 decreasing scores (A+, A, B, C, D)")
        k = np.searchsorted(-cuts, -score, side="left")  # number of cuts strictly above the score
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
        raise ValueError(f"analytics.grade_method must be 'mix', 'cuts' or 'quantiles', not {cfg.grade_method!r}")
    return np.array(GRADES, dtype=object)[np.clip(k, 0, 5)].astype(str)


def enterprise_mask(net: CreditNetwork, f: pl.DataFrame, cfg: AnalyticsConfig) -> tuple[np.ndarray, np.ndarray]:
    """Per row of ``f``: graded on the enterprise scheme, and the USCC's first character ("" unknown)."""
    uscc = net.prop("uscc", pl.Utf8)
    if uscc is None:
        first = np.full(f.height, "", dtype=object)
    else:
        u = pl.Series(uscc[f["idx"].to_numpy()].tolist(), dtype=pl.Utf8).fill_null("").str.strip_chars().str.to_uppercase()
        first = u.str.slice(0, 1).to_numpy().astype(object)
    ok = (first == "") | np.isin(first, list(cfg.enterprise_uscc_first))
    return ok, first


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
    #: Legal persons not graded on the enterprise scheme: node_id, name, uscc_first, reason.
    excluded: pl.DataFrame = field(default_factory=pl.DataFrame)
    #: The cut points used (lowest score of A+, A, B, C, D).
    cuts: list = field(default_factory=list)
    #: The indicators used, and their values (enterprises x indicators, rows as ``grades``).
    indicators: list = field(default_factory=list)
    values: np.ndarray | None = None


def grade_enterprises(net: CreditNetwork, cfg: AnalyticsConfig, as_of=None, risk: RiskResult | None = None,
                      indicators: list[Indicator] | None = None) -> GradeResult:
    """Score and grade every enterprise of the network (see the module docstring).

    ``indicators`` replaces the indicators file (e.g. weights re-fitted from inspection outcomes).
    """
    as_of = resolve_as_of(net, as_of if as_of is not None else cfg.as_of)
    risk = risk if risk is not None else compute_risk(net, cfg, as_of)
    inds = indicators if indicators is not None else load_indicators(cfg.indicators_file or None)
    f_all = company_features(net, cfg, as_of)
    ok, first = enterprise_mask(net, f_all, cfg)
    excluded = pl.DataFrame({"node_id": f_all["node_id"].filter(pl.Series(~ok)), "name": f_all["name"].filter(pl.Series(~ok)),
                             "uscc_first": pl.Series(first[~ok], dtype=pl.Utf8)}).with_columns(
        pl.format("USCC registration authority {} is not market regulation: not graded on the enterprise scheme",
                  "uscc_first").alias("reason"))
    f = f_all.filter(pl.Series(ok))
    idx = f["idx"].to_numpy()
    received = getattr(risk, "related", None)
    if received is None:
        received = risk.risk - risk.seed
    records = risk.records if risk.records is not None else pl.DataFrame()
    facts = enterprise_facts(net, f, records, risk.seed, received)
    X = indicator_values(inds, facts, records, as_of, net.n)
    n = len(idx)
    sign = np.array([1.0 if i.bonus else -1.0 for i in inds])
    w = np.array([i.weight for i in inds])
    points = X * (sign * w)[None, :]
    score = np.clip(100.0 + points.sum(axis=1), 0.0, None)
    veto = np.zeros(n, dtype=bool)
    act = records.filter(pl.col("active")) if records.height else records
    for event in cfg.grade_veto:
        owners = act.filter(pl.col("event_type") == event)["owner"].to_numpy() if act.height else np.zeros(0, int)
        veto |= np.isin(idx, owners)
    cuts = None
    if cfg.grade_method == "mix":
        cuts = calibrated_cuts(score[~veto], cfg.grade_mix)
    grade = assign_grades(score, cfg, cuts)
    grade = np.where(veto, "E", grade)
    names = [i.name for i in inds]
    dims = {d: points[:, [k for k, i in enumerate(inds) if i.dimension == d]].sum(axis=1) for d in DIMENSIONS}
    # One row per enterprise and indicator, gathered in polars (numpy repeats of the ids and
    # names made Python strings: seconds and a gigabyte at 300k entities).
    firm_of, ind_of = np.repeat(np.arange(n), len(inds)), np.tile(np.arange(len(inds)), n)
    contrib = pl.DataFrame({
        "node_id": f["node_id"].cast(pl.Utf8).gather(firm_of),
        "dimension": pl.Series([i.dimension for i in inds], dtype=pl.Utf8).gather(ind_of),
        "indicator": pl.Series(names, dtype=pl.Utf8).gather(ind_of),
        "value": X.ravel(),
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
    used = cuts if cuts is not None else (cfg.grade_cuts if cfg.grade_method == "cuts" else [])
    return GradeResult(grades=grades, contributions=contrib, distribution=dist, features=facts, risk=risk, as_of=as_of,
                       excluded=excluded, cuts=[float(c) for c in used], indicators=inds, values=X)


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
