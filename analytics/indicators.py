"""The indicator system as data: ``indicators.toml`` (or ``analytics.indicators_file``).

Each indicator names a dimension, a source (records of an event type or catalog, a fact
about the enterprise, or every other adverse record), a formula with its parameter, and a
weight; :func:`indicator_values` turns them into one value in [0, 1] per enterprise and
indicator, vectorised over the records and facts frames. See the TOML file for the formulas.

>>> inds = load_indicators()
>>> len(inds) >= 40, sorted({i.dimension for i in inds})
(True, ['basic', 'operating', 'regulatory', 'related', 'social'])
"""

from __future__ import annotations

import datetime as _dt
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from .network import CreditNetwork

__all__ = ["Indicator", "load_indicators", "indicator_values", "enterprise_facts", "DIMENSIONS",
           "INDICATORS_FILE", "IndicatorError"]

INDICATORS_FILE = Path(__file__).with_name("indicators.toml")
DIMENSIONS = {
    "basic": "基础属性 basic attributes",
    "operating": "经营行为 operating behaviour",
    "regulatory": "监管记录 regulatory records",
    "related": "关联风险 related-party risk",
    "social": "社会评价 social evaluation",
}
_RECORD_FORMULAS = ("active_count", "active_recency", "ever", "repeat", "recent", "amount", "repaired", "status_in",
                    "latest_in", "severity")
_FACT_FORMULAS = ("flag", "below", "above", "ramp_down", "ramp_up", "sat", "in", "quantile_below", "value")
_INACTIVE = ("repaired", "expired", "removed")


class IndicatorError(ValueError):
    """A malformed indicators file (the message names the file, the indicator and the field)."""


@dataclass(frozen=True)
class Indicator:
    """One indicator of the system (see indicators.toml)."""

    name: str
    dimension: str
    source: str
    formula: str
    weight: float
    param: object = None
    bonus: bool = False
    doc: str = ""
    label: str = ""

    @property
    def kind(self) -> str:
        """"event", "catalog", "fact" or "events"."""
        return self.source.split(":", 1)[0]

    @property
    def key(self) -> str:
        return self.source.split(":", 1)[1] if ":" in self.source else ""


def load_indicators(path: str | Path | None = None) -> list[Indicator]:
    """The indicators of ``path`` (default: the packaged indicators.toml), checked."""
    p = Path(path) if path else INDICATORS_FILE
    try:
        with open(p, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise IndicatorError(f"{p}: cannot read the indicators file: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise IndicatorError(f"{p}: not valid TOML: {exc}") from None
    rows = data.get("indicator")
    if not isinstance(rows, list) or not rows:
        raise IndicatorError(f"{p}: needs [[indicator]] tables")
    out, seen = [], set()
    for k, r in enumerate(rows, start=1):
        where = f"{p}: indicator {k} ({r.get('name', '?')})"
        for field in ("name", "dimension", "source", "formula", "weight"):
            if field not in r:
                raise IndicatorError(f"{where}: missing {field}")
        if r["name"] in seen:
            raise IndicatorError(f"{where}: name used twice")
        seen.add(r["name"])
        if r["dimension"] not in DIMENSIONS:
            raise IndicatorError(f"{where}: dimension {r['dimension']!r} is not one of {', '.join(DIMENSIONS)}")
        kind = str(r["source"]).split(":", 1)[0]
        allowed = _FACT_FORMULAS if kind == "fact" else _RECORD_FORMULAS
        if kind not in ("event", "catalog", "fact", "events"):
            raise IndicatorError(f"{where}: source {r['source']!r} must start with event:, catalog:, fact: or events:")
        if r["formula"] not in allowed:
            raise IndicatorError(f"{where}: formula {r['formula']!r} is not one of {', '.join(allowed)} for {kind}:")
        try:
            weight = float(r["weight"])
        except (TypeError, ValueError):
            raise IndicatorError(f"{where}: weight {r['weight']!r} is not a number") from None
        out.append(Indicator(name=r["name"], dimension=r["dimension"], source=str(r["source"]), formula=r["formula"],
                             weight=weight, param=r.get("param"), bonus=bool(r.get("bonus", False)),
                             doc=str(r.get("doc", "")), label=str(r.get("label", "") or r["name"])))
    return out


def _max_over(net: CreditNetwork, edge_type: str, value: np.ndarray) -> np.ndarray:
    """Per node, the largest ``value`` of the sources of its incoming ``edge_type`` links (0 if none)."""
    m = net.edges_of(edge_type)
    out = np.zeros(net.n)
    if m.any():
        np.maximum.at(out, net.dst[m], value[net.src[m]])
    return out


def enterprise_facts(net: CreditNetwork, f: pl.DataFrame, records: pl.DataFrame, seed: np.ndarray,
                     received: np.ndarray) -> pl.DataFrame:
    """``f`` (company_features) with the facts the indicators name: staff_or_zero, staff_drop,
    tax_ratings, shareholders, corporate_holders, officers, related_risk, rep_seed,
    rep_firms_bad, holder_seed."""
    idx = f["idx"].to_numpy()
    si = (records.filter(pl.col("event_type") == "social_insurance").sort(["owner", "date"])
          .group_by("owner", maintain_order=True).agg(pl.col("count").first().alias("_first"),
                                                      pl.col("count").last().alias("_last")))
    first = np.zeros(net.n)
    last = np.zeros(net.n)
    first[si["owner"].to_numpy()] = si["_first"].fill_null(0).to_numpy()
    last[si["owner"].to_numpy()] = si["_last"].fill_null(0).to_numpy()
    drop = np.where(first > 0, np.clip((first - last) / np.maximum(first, 1e-9), 0, 1), 0.0)
    tax = np.bincount(records.filter(pl.col("event_type") == "tax_rating")["owner"].to_numpy(), minlength=net.n)

    def count_in(edge_type: str, legal_src: bool | None = None) -> np.ndarray:
        m = net.edges_of(edge_type)
        if legal_src is not None:
            m &= net.legal_mask[net.src] == legal_src
        return np.bincount(net.dst[m], minlength=net.n)

    # The legal representative's other firms with own adverse records.
    bad = (seed > 0).astype(float)
    rep = net.edges_of("LEGAL_REP_OF")
    rep_bad = np.bincount(net.src[rep], weights=bad[net.dst[rep]], minlength=net.n)  # per rep: firms with records
    other = np.zeros(net.n)
    if rep.any():
        np.maximum.at(other, net.dst[rep], rep_bad[net.src[rep]] - bad[net.dst[rep]])
    return f.with_columns(
        pl.Series("staff_or_zero", f["staff"].cast(pl.Float64).fill_null(0.0).to_numpy()),
        pl.Series("staff_drop", drop[idx]), pl.Series("tax_ratings", tax[idx].astype(float)),
        pl.Series("shareholders", count_in("SHAREHOLDER_OF")[idx].astype(float)),
        pl.Series("corporate_holders", count_in("SHAREHOLDER_OF", True)[idx].astype(float)),
        pl.Series("officers", count_in("OFFICER_OF")[idx].astype(float)),
        pl.Series("related_risk", np.asarray(received, float)[idx]),
        pl.Series("rep_seed", _max_over(net, "LEGAL_REP_OF", seed)[idx]),
        pl.Series("rep_firms_bad", other[idx]),
        pl.Series("holder_seed", _max_over(net, "SHAREHOLDER_OF", seed)[idx]),
    )


def _sat(x: np.ndarray) -> np.ndarray:
    return 1.0 - np.exp(-np.clip(x, 0, None))


def _fact_value(ind: Indicator, facts: pl.DataFrame) -> np.ndarray:
    if ind.key not in facts.columns:
        raise IndicatorError(f"indicator {ind.name}: unknown fact {ind.key!r} (facts: {', '.join(facts.columns)})")
    col = facts[ind.key]
    p = ind.param
    if ind.formula == "in":
        vals = [str(v) for v in (p if isinstance(p, list) else [p])]
        if col.dtype == pl.Utf8:
            return col.fill_null("").str.contains("|".join(vals) if vals else "^$").to_numpy().astype(float)
        return col.cast(pl.Float64).is_in([float(v) for v in vals]).fill_null(False).to_numpy().astype(float)
    x = col.cast(pl.Float64, strict=False).to_numpy().astype(float)
    known = ~np.isnan(x)
    xv = np.nan_to_num(x)
    if ind.formula == "flag":
        return (known & (xv > 0)).astype(float)
    if ind.formula == "below":
        return (known & (xv < float(p))).astype(float)
    if ind.formula == "above":
        return (known & (xv > float(p))).astype(float)
    if ind.formula in ("ramp_down", "ramp_up"):
        lo, hi = float(p[0]), float(p[1])
        t = np.clip((xv - lo) / max(hi - lo, 1e-12), 0, 1)
        return np.where(known, 1 - t if ind.formula == "ramp_down" else t, 0.0)
    if ind.formula == "sat":
        return np.where(known, _sat(xv), 0.0)
    if ind.formula == "quantile_below":
        cut = np.quantile(x[known], float(p)) if known.any() else -np.inf
        return (known & (xv <= cut)).astype(float)
    return np.where(known, np.clip(xv, 0, 1), 0.0)  # value


def _record_value(ind: Indicator, rec: pl.DataFrame, as_of: _dt.date, n: int) -> np.ndarray:
    """Per node index: the formula over the records selected for ``ind``."""
    out = np.zeros(n)
    if rec.height == 0:
        return out
    p = ind.param
    act = pl.col("active")
    if ind.formula == "active_count":
        agg = act.sum().cast(pl.Float64)
    elif ind.formula in ("active_recency", "severity"):
        w = pl.col("recency") * (pl.col("severity") if ind.formula == "severity" else 1.0)
        agg = (w.filter(act).sum() if ind.formula == "severity" else w.filter(act).max()).fill_null(0.0)
    elif ind.formula == "ever":
        agg = pl.len().cast(pl.Float64)
    elif ind.formula == "repeat":
        agg = (pl.len() >= float(p)).cast(pl.Float64)
    elif ind.formula == "recent":
        agg = (pl.col("date") >= pl.lit(as_of - _dt.timedelta(days=float(p)))).sum().cast(pl.Float64)
    elif ind.formula == "amount":
        agg = pl.col("amount").filter(act).sum().fill_null(0.0)
    elif ind.formula == "repaired":
        agg = pl.col("status").fill_null("").str.to_lowercase().is_in(list(_INACTIVE)).any().cast(pl.Float64)
    elif ind.formula == "status_in":
        vals = [str(v).lower() for v in (p if isinstance(p, list) else [p])]
        agg = pl.col("status").fill_null("").str.to_lowercase().is_in(vals).any().cast(pl.Float64)
    else:  # latest_in
        vals = [str(v).upper() for v in (p if isinstance(p, list) else [p])]
        agg = pl.col("grade").sort_by("date").last().fill_null("").str.to_uppercase().is_in(vals).cast(pl.Float64)
    g = rec.group_by("owner").agg(agg.alias("v"))
    v = g["v"].fill_null(0.0).to_numpy().astype(float)
    if ind.formula in ("active_count", "recent", "severity"):
        v = _sat(v)
    elif ind.formula == "ever":
        v = (v > 0).astype(float)
    elif ind.formula == "amount":
        top = np.log1p(v.max()) if len(v) and v.max() > 0 else 1.0
        v = np.log1p(np.clip(v, 0, None)) / top
    out[g["owner"].to_numpy()] = np.clip(v, 0, 1)
    return out


def indicator_values(indicators: list[Indicator], facts: pl.DataFrame, records: pl.DataFrame, as_of: _dt.date,
                     n: int) -> np.ndarray:
    """An (enterprises x indicators) matrix of values in [0, 1], rows in ``facts`` order.

    ``records`` are :func:`~credgraph.analytics.propagation.active_records` (owner, event_type,
    catalog, date, status, amount, grade, active, recency, severity); ``n`` is the network's size.
    """
    idx = facts["idx"].to_numpy()
    named_types = {i.key for i in indicators if i.kind == "event"}
    named_cats = {i.key for i in indicators if i.kind == "catalog"}
    cat = (records["source_catalog"] if "source_catalog" in records.columns
           else pl.Series([None] * records.height, dtype=pl.Utf8))
    records = records.with_columns(cat.cast(pl.Utf8).alias("catalog"))
    by_type = {t: g for (t,), g in records.partition_by("event_type", as_dict=True).items()} if records.height else {}
    X = np.zeros((len(idx), len(indicators)))
    for k, ind in enumerate(indicators):
        if ind.kind == "fact":
            X[:, k] = _fact_value(ind, facts)
            continue
        if ind.kind == "event":
            rec = by_type.get(ind.key, records.clear())
        elif ind.kind == "catalog":
            rec = records.filter(pl.col("catalog") == ind.key)
        else:  # events:other — adverse records no other indicator names
            rec = records.filter(pl.col("active") & (pl.col("severity") > 0)
                                 & ~pl.col("event_type").is_in(list(named_types))
                                 & ~pl.col("catalog").fill_null("").is_in(list(named_cats)))
        X[:, k] = _record_value(ind, rec, as_of, n)[idx]
    return X
