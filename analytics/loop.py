"""The inspection loop (双随机、一公开): random inspectors, recorded outcomes, weights that learn.

* **Inspectors.** A pool file (CSV: ``inspector_id``, ``name``, optional ``unit`` and
  ``node_id`` = the inspector's own entity in the graph). :func:`assign_inspectors` draws two
  inspectors per target at random (seeded), never one linked to the firm: an inspector whose
  entity is within ``inspector_link_hops`` links of the firm over the entity relationships
  (representative, shareholder, officer, branch, agent) is excluded for that firm.
* **Outcomes.** ``credgraph inspect results FILE`` records a CSV of outcomes (``node_id``,
  ``date``, ``found`` yes/no, optional ``problem``, ``inspectors``) into
  ``<workspace>/analytics/inspection_results.parquet`` (appended; the same firm and date
  replaced). :func:`discovery_by_grade` gives the share of inspected firms where a problem
  was found, per grade.
* **Weights that learn.** :func:`refit_weights` fits a logistic regression of the outcomes on
  the indicator values of the inspected firms (scikit-learn), turns the coefficients into
  weights with the same total as now, and shrinks them toward the current weights by
  ``n / (n + refit_prior)`` (``n`` = problems found so far). It returns the old and new weight
  of every indicator, so the change is shown before :func:`write_indicators` applies it.
* :func:`simulate_rounds` (used by bench/bench_eval.py) runs rounds of lists whose outcomes
  come from a known truth in one half of the enterprises, re-fitting after each round, and
  measures each round's weights on the other half, which is never inspected.
"""

from __future__ import annotations

import datetime as _dt
import tomllib
from pathlib import Path

import numpy as np
import polars as pl
import scipy.sparse as sp

from credgraph.atomic import write_parquet, write_text
from credgraph.config import AnalyticsConfig

from .grading import GRADES, GradeResult, grade_enterprises
from .indicators import Indicator
from .network import CreditNetwork

__all__ = ["LoopError", "read_inspectors", "assign_inspectors", "read_results", "record_results",
           "discovery_by_grade", "refit_weights", "write_indicators", "simulate_rounds"]

_LINK_TYPES = ("LEGAL_REP_OF", "SHAREHOLDER_OF", "OFFICER_OF", "BRANCH_OF", "AGENT_OF")
_YES = {"1", "yes", "y", "true", "是", "有", "found", "发现问题"}
_NO = {"0", "no", "n", "false", "否", "无", "none", "未发现问题"}


class LoopError(ValueError):
    """A bad inspector pool or results file (the message names the file, row and field)."""


def _read_csv(path: str | Path, need: tuple[str, ...]) -> pl.DataFrame:
    p = Path(path)
    try:
        df = pl.read_csv(p, infer_schema=False, encoding="utf8-lossy")
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise LoopError(f"{p}: cannot read the CSV: {exc}") from None
    df = df.rename({c: c.strip().lower() for c in df.columns})
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise LoopError(f"{p}: missing column(s) {', '.join(missing)} (has: {', '.join(df.columns)})")
    return df


def read_inspectors(path: str | Path) -> pl.DataFrame:
    """The inspector pool: inspector_id, name, unit, node_id (null when not in the graph)."""
    df = _read_csv(path, ("inspector_id", "name"))
    for c in ("unit", "node_id"):
        if c not in df.columns:
            df = df.with_columns(pl.lit(None, pl.Utf8).alias(c))
    bad = df.with_row_index("r").filter(pl.col("inspector_id").is_null() | (pl.col("inspector_id").str.strip_chars() == ""))
    if bad.height:
        raise LoopError(f"{path}: row {bad['r'][0] + 2}, field inspector_id: empty")
    dup = df.filter(pl.col("inspector_id").is_duplicated())
    if dup.height:
        raise LoopError(f"{path}: field inspector_id: {dup['inspector_id'][0]!r} appears twice")
    return df.select("inspector_id", "name", "unit", pl.col("node_id").replace("", None))


def _linked(net: CreditNetwork, inspector_nodes: np.ndarray, hops: int) -> sp.csr_matrix:
    """Rows: inspectors; columns: nodes within ``hops`` entity links of the inspector's entity."""
    m = net.edges_of(*_LINK_TYPES)
    n = net.n
    A = sp.csr_matrix((np.ones(int(m.sum())), (net.src[m], net.dst[m])), shape=(n, n))
    A = ((A + A.T) > 0).astype(np.float64).tocsr()
    ok = inspector_nodes >= 0
    rows = np.flatnonzero(ok)
    X = sp.csr_matrix((np.ones(len(rows)), (rows, inspector_nodes[ok])), shape=(len(inspector_nodes), n))
    reach = X.copy()
    for _ in range(hops):
        X = (X @ A).tocsr()
        X.data[:] = 1.0
        reach = ((reach + X) > 0).astype(np.float64).tocsr()
    return reach


def assign_inspectors(targets: pl.DataFrame, inspectors: pl.DataFrame, net: CreditNetwork, seed: int,
                      per_target: int = 2, hops: int = 2) -> pl.DataFrame:
    """``targets`` with ``inspectors`` (ids) and ``excluded_inspectors`` (linked ones left out).

    Each target gets ``per_target`` distinct inspectors drawn uniformly (``numpy`` generator of
    ``seed``) from those not linked to it; a target with too few unlinked inspectors gets those
    there are and a note.
    """
    ids = inspectors["inspector_id"].to_numpy()
    nodes = net.index_of([x or "" for x in inspectors["node_id"].to_list()])
    reach = _linked(net, nodes, hops).tocsc()
    tnodes = net.index_of(targets["node_id"].to_list())
    rng = np.random.default_rng(seed)
    chosen, excl, notes = [], [], []
    for t in tnodes.tolist():
        linked = reach[:, t].nonzero()[0] if t >= 0 else np.zeros(0, dtype=np.int64)
        free = np.setdiff1d(np.arange(len(ids)), linked)
        k = min(per_target, len(free))
        pick = np.sort(rng.choice(free, size=k, replace=False)) if k else np.zeros(0, dtype=np.int64)
        chosen.append([str(ids[j]) for j in pick])
        excl.append([str(ids[j]) for j in linked])
        notes.append("" if k == per_target else f"only {k} unlinked inspector(s)")
    return targets.with_columns(pl.Series("inspectors", chosen, dtype=pl.List(pl.Utf8)),
                                pl.Series("excluded_inspectors", excl, dtype=pl.List(pl.Utf8)),
                                pl.Series("assignment_note", notes, dtype=pl.Utf8))


def read_results(path: str | Path, known_ids: set[str] | None = None) -> pl.DataFrame:
    """Outcomes: node_id, date, found (bool), problem, inspectors; bad rows raise naming row and field."""
    df = _read_csv(path, ("node_id", "date", "found"))
    for c in ("problem", "inspectors"):
        if c not in df.columns:
            df = df.with_columns(pl.lit(None, pl.Utf8).alias(c))
    out = []
    for r, row in enumerate(df.iter_rows(named=True), start=2):
        nid = (row["node_id"] or "").strip()
        if not nid:
            raise LoopError(f"{path}: row {r}, field node_id: empty")
        if known_ids is not None and nid not in known_ids:
            raise LoopError(f"{path}: row {r}, field node_id: {nid!r} is not an enterprise of the graph")
        try:
            date = _dt.date.fromisoformat((row["date"] or "").strip())
        except ValueError:
            raise LoopError(f"{path}: row {r}, field date: {row['date']!r} is not a date like 2024-03-01") from None
        f = (row["found"] or "").strip().lower()
        if f not in _YES | _NO:
            raise LoopError(f"{path}: row {r}, field found: {row['found']!r} is not yes/no")
        out.append({"node_id": nid, "date": date, "found": f in _YES, "problem": row["problem"],
                    "inspectors": row["inspectors"]})
    return pl.DataFrame(out, schema={"node_id": pl.Utf8, "date": pl.Date, "found": pl.Boolean, "problem": pl.Utf8,
                                     "inspectors": pl.Utf8})


def record_results(results: pl.DataFrame, folder: str | Path) -> tuple[Path, pl.DataFrame]:
    """Append outcomes to ``folder/inspection_results.parquet`` (same firm and date replaced), atomically."""
    p = Path(folder) / "inspection_results.parquet"
    old = pl.read_parquet(p) if p.is_file() else results.clear()
    allr = pl.concat([old, results], how="vertical_relaxed").unique(["node_id", "date"], keep="last", maintain_order=True)
    return write_parquet(allr, p), allr


def discovery_by_grade(results: pl.DataFrame, grades: pl.DataFrame) -> pl.DataFrame:
    """grade, inspected, found, discovery_rate (found / inspected) from recorded outcomes."""
    j = results.join(grades.select("node_id", "grade"), on="node_id", how="inner")
    agg = j.group_by("grade").agg(pl.len().alias("inspected"), pl.col("found").sum().alias("found"))
    return (pl.DataFrame({"grade": list(GRADES)}).join(agg, on="grade", how="left").fill_null(0)
            .with_columns(pl.when(pl.col("inspected") > 0).then(pl.col("found") / pl.col("inspected"))
                          .otherwise(None).alias("discovery_rate")))


def refit_weights(g: GradeResult, results: pl.DataFrame, cfg: AnalyticsConfig) -> pl.DataFrame:
    """Old and re-fitted weight of each indicator from the outcomes (see the module docstring).

    Columns: indicator, dimension, bonus, old, fitted, new, change. Raises LoopError when the
    outcomes are all one way (nothing to learn from).
    """
    from sklearn.linear_model import LogisticRegression

    row = dict(zip(g.grades["node_id"].to_list(), range(g.grades.height)))
    r = results.filter(pl.col("node_id").is_in(list(row)))
    y = r["found"].to_numpy().astype(int)
    if len(y) == 0 or y.min() == y.max():
        raise LoopError("the recorded outcomes are all found or all not found: nothing to re-fit from")
    X = g.values[[row[x] for x in r["node_id"].to_list()]]
    model = LogisticRegression(C=cfg.refit_c, max_iter=2000)
    model.fit(X, y)
    beta = model.coef_[0]
    inds = g.indicators
    old = np.array([i.weight for i in inds])
    sign = np.array([-1.0 if i.bonus else 1.0 for i in inds])
    fitted = np.clip(beta * sign, 0, None)
    if fitted.sum() > 0:
        fitted *= old.sum() / fitted.sum()
    lam = y.sum() / (y.sum() + cfg.refit_prior)
    new = (1 - lam) * old + lam * fitted
    return pl.DataFrame({"indicator": [i.name for i in inds], "dimension": [i.dimension for i in inds],
                         "bonus": [i.bonus for i in inds], "old": old, "fitted": np.round(fitted, 3),
                         "new": np.round(new, 3), "change": np.round(new - old, 3)})


def reweighted(indicators: list[Indicator], table: pl.DataFrame) -> list[Indicator]:
    """The indicators with the ``new`` weights of :func:`refit_weights`."""
    import dataclasses

    w = dict(zip(table["indicator"].to_list(), table["new"].to_list()))
    return [dataclasses.replace(i, weight=float(w.get(i.name, i.weight))) for i in indicators]


def write_indicators(indicators: list[Indicator], path: str | Path) -> Path:
    """Write an indicators file (the format of analytics/indicators.toml), atomically."""
    from credgraph.synth.output import toml_string as q

    def val(v):
        if isinstance(v, list):
            return "[" + ", ".join(val(x) for x in v) + "]"
        if isinstance(v, str):
            return q(v)
        return repr(float(v)) if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v).lower()

    lines = ["# Indicators re-fitted from inspection outcomes (credgraph inspect refit --apply)."]
    for i in indicators:
        lines += ["", "[[indicator]]", f"name = {q(i.name)}", f"dimension = {q(i.dimension)}", f"source = {q(i.source)}",
                  f"formula = {q(i.formula)}"]
        if i.param is not None:
            lines.append(f"param = {val(i.param)}")
        lines.append(f"weight = {float(i.weight)!r}")
        if i.bonus:
            lines.append("bonus = true")
        if i.doc:
            lines.append(f"doc = {q(i.doc)}")
    text = "\n".join(lines) + "\n"
    tomllib.loads(text)  # what is written must read back
    return write_text(text, Path(path))


def simulate_rounds(net: CreditNetwork, cfg: AnalyticsConfig, grades: GradeResult, risk, violators: set[str],
                    shells: set[str], rounds: int = 3, budget: float = 0.05, seed: int = 0,
                    directed: set[str] | None = None) -> list[dict]:
    """Rounds of inspection lists whose outcomes come from ``violators``; weights re-fitted after each.

    The enterprises are split at random (``seed``) into two halves. Rounds inspect the first
    half: each round draws the list of ``cfg`` (risk classes by default) from the current grades,
    firms inspected in earlier rounds are not drawn again (the truth does not change between
    rounds), ``directed`` firms (flagged shells) are left to the directed checks, and the
    outcomes of all rounds so far re-fit the indicator weights (from the round-0 weights)
    before the next round. The second half is never inspected: lists drawn there with each
    round's weights show what the re-fit does on firms it did not learn from, without the
    depletion of the first half (whose riskiest firms are used up by earlier rounds).

    Per round, lift = violator rate of a list / that of the pool it was drawn from, on
    non-shell violators (shells are left to the directed checks):

    * ``lift_ns``: the round's list in the inspected half (what the platform would find);
    * ``held_ns``: the same design with this round's weights in the held-out half;
    * ``held_static_ns``: the held-out half with the round-0 weights (same seed): what the re-fit adds;
    * ``held_ranked_ns``: the held-out half, the same number of firms ranked by score (no randomness);
    * ``held_grade_ns``: the held-out half, random within credit grade (``inspection_strata = "grade"``);
    * ``moved``: share of the held-out list that the re-fitted weights changed.
    """
    import dataclasses
    import hashlib

    from .inspection import draw_inspection

    gcfg = dataclasses.replace(cfg, inspection_strata="grade")
    directed = set(directed or ())
    ids_all = grades.grades["node_id"].to_list()
    half = [int(hashlib.blake2b(f"{seed}:{x}".encode(), digest_size=4).hexdigest(), 16) % 2 for x in ids_all]
    train = {x for x, h in zip(ids_all, half) if h == 0}
    out, results = [], pl.DataFrame(schema={"node_id": pl.Utf8, "found": pl.Boolean})
    g0 = g = grades
    past = pl.DataFrame(schema={"node_id": pl.Utf8, "date": pl.Date})

    def part(frame: pl.DataFrame, inside: bool) -> pl.DataFrame:
        return frame.filter(pl.col("node_id").is_in(list(train)) == inside)

    def lift(lst) -> float:
        pool = [x for x in lst.eligible if x not in shells]
        base = float(np.mean([x in violators for x in pool])) if pool else float("nan")
        kept = [x for x in lst.targets["node_id"].to_list() if x not in shells]
        return (float(np.mean([x in violators for x in kept])) if kept else 0.0) / base

    for r in range(rounds + 1):
        kw = dict(seed=seed * 1000 + r, budget=budget, as_of=g.as_of, directed=directed)
        lst = draw_inspection(part(g.grades, True), cfg, past=past, **kw)
        held = draw_inspection(part(g.grades, False), cfg, **kw)
        static = draw_inspection(part(g0.grades, False), cfg, **kw)
        by_grade = draw_inspection(part(g.grades, False), gcfg, **kw)
        hpool = [x for x in held.eligible if x not in shells]
        hkept = [x for x in held.targets["node_id"].to_list() if x not in shells]
        ranked = (g.grades.filter(pl.col("node_id").is_in(hpool)).sort(["score", "node_id"])
                  .head(max(len(hkept), 1))["node_id"].to_list())
        hbase = float(np.mean([x in violators for x in hpool]))
        hids = held.targets["node_id"].to_list()
        out.append({"round": r, "targets": lst.targets.height, "found": int(sum(x in violators for x in lst.targets["node_id"])),
                    "lift_ns": lift(lst), "held_ns": lift(held), "held_static_ns": lift(static),
                    "held_ranked_ns": float(np.mean([x in violators for x in ranked])) / hbase,
                    "held_grade_ns": lift(by_grade),
                    "moved": 1.0 - len(set(hids) & set(static.targets["node_id"].to_list())) / max(len(hids), 1)})
        if r == rounds:
            break
        found = lst.targets.select("node_id", pl.col("node_id").is_in(list(violators)).alias("found"))
        results = pl.concat([results, found])
        past = pl.concat([past, lst.targets.select("node_id", pl.lit(g.as_of).cast(pl.Date).alias("date"))])
        try:
            table = refit_weights(g0, results, cfg)
        except LoopError:
            continue
        g = grade_enterprises(net, cfg, g0.as_of, risk, indicators=reweighted(g0.indicators, table))
    return out
