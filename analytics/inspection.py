"""Double-random inspection lists (双随机、一公开): risk-stratified, random within each stratum, reproducible.

**Who can be drawn.** Every graded enterprise that is still operating (registration status
not 注销/吊销: a deregistered or revoked firm cannot be spot-checked; ``inspect_live_only``),
except those inspected within the last ``exclude_months`` months (optional CSV of past
inspections).
**Who must be on the list.** Enterprises named in the complaints CSV (mandatory inclusions),
whatever their grade or last inspection.
**Strata (分类监管).** With ``inspection_strata = "risk"`` (default) the drawable enterprises are
ranked by score (lowest = riskiest first, ties by id) and cut into risk classes by rank
(``risk_class_shares``: 高风险 the lowest-scoring 4%, 较高风险 the next 6%, 一般风险 40%,
低风险 50%), each with its ratio (``risk_class_ratios``, 100% / 10% / 1% / 0.2%). The score is
the grade's, so re-fitted indicator weights (``credgraph inspect refit --apply``) move firms
between classes and change the next list. With ``"grade"`` the strata are the credit grades
with ``sample_ratios``.
**How many per stratum.** Stratum s of size n_s is sampled at its ratio p_s. With an
``inspection_budget`` (share of enterprises), the ratios are scaled by one common factor so
that mandatory + drawn targets fill the budget; a stratum cannot give more than it has, so
the factor grows until the budget is met (largest remainders round the counts). At a 5%
budget the default classes put about 80% of the list in the top class.
**Which ones.** Uniformly at random within each stratum, from the pool sorted by id, with
``numpy.random.default_rng(seed)``: the same seed and inputs give the same list.

>>> import numpy as np
>>> allocate(np.array([100, 50, 10]), np.array([0.1, 0.2, 1.0]), budget=30).tolist()
[10, 10, 10]
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from credgraph.atomic import atomic_path, write_text
from credgraph.config import AnalyticsConfig

from .grading import GRADES

__all__ = ["InspectionList", "RISK_CLASSES", "allocate", "risk_classes", "draw_inspection", "evaluate_inspection",
           "export_inspection"]

#: Risk classes of the "risk" strata, riskiest first (企业信用风险分类).
RISK_CLASSES = ("高风险", "较高风险", "一般风险", "低风险")


def allocate(sizes: np.ndarray, ratios: np.ndarray, budget: int | None) -> np.ndarray:
    """Targets per grade: ``round(ratio * size)``, or scaled ratios filling ``budget`` exactly."""
    sizes = np.asarray(sizes, dtype=np.int64)
    ratios = np.clip(np.asarray(ratios, dtype=float), 0.0, None)
    if budget is None:
        return np.minimum(sizes, np.floor(ratios * sizes + 0.5).astype(np.int64))
    budget = int(min(max(budget, 0), sizes.sum()))
    want = ratios * sizes
    if budget == 0 or want.sum() == 0:
        return np.zeros_like(sizes)

    def fill(lam: float) -> np.ndarray:
        return np.minimum(sizes, lam * want)

    lo, hi = 0.0, 1.0
    while fill(hi).sum() < budget and hi < 1e12:
        hi *= 2
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if fill(mid).sum() < budget else (lo, mid)
    x = fill(hi)
    take = np.minimum(np.floor(x).astype(np.int64), sizes)
    rest = budget - take.sum()
    # Largest remainders first; ties go to the riskier (later) grade.
    order = np.lexsort((-np.arange(len(x)), -(x - np.floor(x))))
    for g in order:
        if rest <= 0:
            break
        if take[g] < sizes[g] and want[g] > 0:
            take[g] += 1
            rest -= 1
    return take


def risk_classes(score: np.ndarray, ids: np.ndarray, shares) -> np.ndarray:
    """Risk class index (0 = riskiest) of each firm: rank by score (lowest first, ties by id) cut
    at the cumulative ``shares`` (normalised; the last class takes the rest).

    >>> risk_classes(np.array([50.0, 10.0, 90.0, 30.0]), np.array(["a", "b", "c", "d"]), (0.25, 0.25, 0.5)).tolist()
    [2, 0, 2, 1]
    """
    sh = np.asarray([float(x) for x in shares], float)
    if len(sh) == 0 or (sh < 0).any() or sh.sum() <= 0:
        raise ValueError("analytics.risk_class_shares needs shares that are not negative")
    n = len(score)
    order = np.lexsort((np.asarray(ids, dtype=str), np.asarray(score, float)))
    bounds = np.round(np.cumsum(sh / sh.sum()) * n).astype(np.int64)
    bounds[-1] = n
    cls = np.empty(n, dtype=np.int64)
    cls[order] = np.searchsorted(bounds, np.arange(n), side="right")
    return cls


@dataclass
class InspectionList:
    #: node_id, name, uscc, grade, stratum, score, selection ("mandatory" / "random"), reason, indicators.
    targets: pl.DataFrame
    seed: int
    #: stratum, grade (the grades in it), pool, ratio, drawn.
    allocation: pl.DataFrame
    excluded: int = 0
    notes: list[str] = field(default_factory=list)
    #: Ids of every enterprise that could have been drawn or was mandatory (the eligible pool).
    eligible: list[str] = field(default_factory=list)


def draw_inspection(
    grades: pl.DataFrame, cfg: AnalyticsConfig, *, seed: int | None = None, budget: float | None = None,
    past: pl.DataFrame | None = None, complaints: pl.DataFrame | None = None, as_of=None,
    extra: pl.DataFrame | None = None, directed: list[str] | set[str] | None = None,
) -> InspectionList:
    """Draw an inspection list from ``grades`` (node_id, name, grade, score, reasons).

    ``past``: node_id, date (last inspection); ``complaints``: node_id, reason (mandatory);
    ``extra``: optional node_id + display columns (e.g. uscc) joined onto the targets;
    ``directed``: ids on the directed-check list (定向抽查, e.g. flagged shells), checked there
    and so left out of the random draw (counted in ``excluded``, said in ``notes``).
    """
    from .network import parse_as_of

    as_of = parse_as_of(as_of if as_of is not None else cfg.as_of)
    seed = cfg.inspection_seed if seed is None else int(seed)
    budget = cfg.inspection_budget if budget is None else float(budget)
    mode = cfg.inspection_strata
    if mode not in ("risk", "grade"):
        raise ValueError(f"analytics.inspection_strata must be 'risk' or 'grade', not {mode!r}")
    g = grades.select("node_id", "name", "grade", "score", "reasons").sort("node_id")
    dead: list = []
    if cfg.inspect_live_only and "reg_status" in grades.columns:
        dead = grades.filter(pl.col("reg_status").fill_null("").str.contains("注销|吊销"))["node_id"].to_list()
    mandatory = pl.DataFrame(schema={"node_id": pl.Utf8, "reason": pl.Utf8})
    if complaints is not None and complaints.height:
        mandatory = (complaints.select("node_id", pl.col("reason").cast(pl.Utf8).fill_null("complaint"))
                     .group_by("node_id", maintain_order=True).agg(pl.col("reason").str.join("; "))
                     .join(g.select("node_id"), on="node_id", how="semi"))
    excluded_ids: set = set()
    if past is not None and past.height:
        cutoff = _months_before(as_of, cfg.exclude_months)
        recent = past.filter(pl.col("date").is_not_null() & (pl.col("date") >= pl.lit(cutoff)))
        excluded_ids = set(recent["node_id"].to_list()) - set(mandatory["node_id"].to_list())
    n_past = len(excluded_ids)
    if directed:
        excluded_ids |= set(directed) - set(mandatory["node_id"].to_list())
    pool = g.filter(~pl.col("node_id").is_in(list(excluded_ids) + mandatory["node_id"].to_list() + dead))
    if mode == "grade":
        names = list(GRADES)
        ratios = np.array([float(r) for r in cfg.sample_ratios], dtype=float)
        if len(ratios) != len(GRADES):
            raise ValueError("analytics.sample_ratios needs 6 ratios (A+, A, B, C, D, E)")
        pool = pool.with_columns(pl.col("grade").alias("stratum"))
    else:
        names = list(RISK_CLASSES)
        ratios = np.array([float(r) for r in cfg.risk_class_ratios], dtype=float)
        if len(ratios) != len(cfg.risk_class_shares) or len(ratios) != len(RISK_CLASSES):
            raise ValueError(f"analytics.risk_class_shares and risk_class_ratios need {len(RISK_CLASSES)} values each "
                             f"({', '.join(RISK_CLASSES)})")
        cls = risk_classes(pool["score"].fill_null(100.0).to_numpy(), pool["node_id"].to_numpy(), cfg.risk_class_shares)
        pool = pool.with_columns(pl.Series("stratum", np.array(names, dtype=object)[cls].tolist(), dtype=pl.Utf8))
    sizes = np.array([pool.filter(pl.col("stratum") == x).height for x in names])
    total = g.height - len(dead)
    n_budget = None if budget <= 0 else max(int(round(budget * total)) - mandatory.height, 0)
    take = allocate(sizes, ratios, n_budget)
    rng = np.random.default_rng(seed)
    drawn = []
    what = "grade" if mode == "grade" else "risk class"
    for si, name in enumerate(names):
        ids = pool.filter(pl.col("stratum") == name)["node_id"].to_numpy()
        if take[si] > 0:
            pick = np.sort(rng.choice(len(ids), size=int(take[si]), replace=False))
            drawn.append(pl.DataFrame({"node_id": ids[pick], "stratum": name, "selection": "random",
                                       "reason": f"random draw in {what} {name}: {take[si]} of {len(ids)} "
                                                 f"({take[si] / max(len(ids), 1):.0%}, ratio {ratios[si]:.1%})"}))
    parts = [mandatory.with_columns(pl.lit("mandatory").alias("selection"), pl.lit(None, pl.Utf8).alias("stratum"),
                                    pl.format("mandatory: {}", "reason").alias("reason"))
             .select("node_id", "stratum", "selection", "reason")]
    parts += drawn
    sel = pl.concat(parts)
    targets = sel.join(g, on="node_id", how="left").rename({"reasons": "indicators"})
    if extra is not None:
        targets = targets.join(extra, on="node_id", how="left")
    rank = {x: i for i, x in enumerate(GRADES)}
    targets = (targets.with_columns(pl.col("grade").replace_strict(rank, default=99).alias("_r"))
               .sort(["_r", "score", "node_id"], descending=[True, False, False]).drop("_r")
               .with_columns(pl.lit(seed).alias("seed")))
    if mode == "grade":
        in_stratum = list(GRADES)
    else:  # the grades a risk class holds, most common first
        mix = pool.group_by("stratum", "grade").len().sort(["stratum", "len", "grade"], descending=[False, True, False])
        in_stratum = [", ".join(f"{r['grade']} {r['len']}" for r in mix.filter(pl.col("stratum") == x).iter_rows(named=True))
                      for x in names]
    alloc = pl.DataFrame({"stratum": names, "grade": in_stratum, "pool": sizes, "ratio": ratios, "drawn": take})
    notes = []
    if len(excluded_ids) > n_past:
        notes.append(f"{len(excluded_ids) - n_past} enterprise(s) on the directed-check list left out of the random draw")
    if complaints is not None and complaints.height > mandatory.height:
        notes.append(f"{complaints.height - mandatory.height} complaint row(s) name no graded enterprise")
    eligible = pool["node_id"].to_list() + mandatory["node_id"].to_list()
    return InspectionList(targets=targets, seed=seed, allocation=alloc, excluded=len(excluded_ids), notes=notes,
                          eligible=eligible)


def _months_before(d: _dt.date, months: int) -> _dt.date:
    """The same day ``months`` months earlier (clamped to the month's end).

    >>> _months_before(_dt.date(2024, 3, 31), 1)
    datetime.date(2024, 2, 29)
    """
    y, m = divmod(d.year * 12 + d.month - 1 - months, 12)
    import calendar

    return _dt.date(y, m + 1, min(d.day, calendar.monthrange(y, m + 1)[1]))


def evaluate_inspection(listing: InspectionList, violators: set[str], seed: int = 0) -> dict:
    """Problem-discovery rate of the list vs a uniform random list of the same size.

    The uniform list is drawn from the same eligible pool (operating, not recently
    inspected): ``uniform_rate`` is its exact expectation (the violators' share of the pool),
    ``uniform_draw_rate`` one such draw with ``seed``.
    """
    drawn = listing.targets["node_id"].to_list()
    pool = np.array(sorted(listing.eligible), dtype=object)
    base = float(np.isin(pool, list(violators)).mean()) if len(pool) else 0.0
    rate = sum(1 for x in drawn if x in violators) / max(len(drawn), 1)
    rng = np.random.default_rng(seed)
    uni = rng.choice(pool, size=min(len(drawn), len(pool)), replace=False) if len(pool) else []
    urate = sum(1 for x in uni if x in violators) / max(len(uni), 1)
    return {"size": len(drawn), "pool": len(pool), "discovery_rate": rate, "uniform_rate": base,
            "uniform_draw_rate": urate, "lift": rate / base if base else float("inf")}


def export_inspection(listing: InspectionList, folder: str | Path, stem: str = "inspection") -> list[Path]:
    """Write the list as CSV and XLSX (with the seed and allocation) and a summary JSON, atomically."""
    import json

    import xlsxwriter

    folder = Path(folder)
    csv = folder / f"{stem}.csv"
    xlsx = folder / f"{stem}.xlsx"
    with atomic_path(csv) as tmp:
        listing.targets.write_csv(tmp)
    with atomic_path(xlsx) as tmp:
        wb = xlsxwriter.Workbook(str(tmp))
        _sheet(wb, "targets", listing.targets)
        _sheet(wb, "allocation", listing.allocation)
        info = wb.add_worksheet("about")
        info.write_row(0, 0, ["seed", listing.seed])
        info.write_row(1, 0, ["excluded (recently inspected)", listing.excluded])
        for k, note in enumerate(listing.notes):
            info.write_row(2 + k, 0, ["note", note])
        wb.close()
    summary = {"seed": listing.seed, "targets": listing.targets.height, "excluded": listing.excluded,
               "allocation": listing.allocation.to_dicts(), "notes": listing.notes}
    js = write_text(json.dumps(summary, ensure_ascii=False, indent=2), folder / f"{stem}.json")
    return [csv, xlsx, js]


def _sheet(wb, name: str, frame: pl.DataFrame) -> None:
    """One worksheet: header row, then the rows (lists joined, dates as ISO text, NaN blank)."""
    import datetime as _d
    import math

    def cell(v):
        if isinstance(v, list):
            return " > ".join(map(str, v))
        if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
            return None
        if isinstance(v, (_d.date, _d.datetime)):
            return v.isoformat()
        return v

    ws = wb.add_worksheet(name)
    ws.write_row(0, 0, frame.columns)
    for r, row in enumerate(frame.iter_rows(), start=1):
        ws.write_row(r, 0, [cell(v) for v in row])
