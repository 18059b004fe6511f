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
  the indicator values of the inspected firms whose coefficients are pulled toward the current
  weights (the prior), not toward zero, with a strength chosen by cross-validation on the
  outcomes: a few outcomes adjust the weights, many can overturn them. It returns the old and
  new weight of every indicator, so the change is shown before :func:`write_indicators`
  applies it.
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


def _prior_fit(Z: np.ndarray, y: np.ndarray, beta0: np.ndarray, c: float) -> tuple[float, np.ndarray]:
    """Intercept and coefficients of a logistic regression of ``y`` on ``Z`` whose coefficients are
    penalised by their distance from ``beta0``: log-loss + ``|beta - beta0|^2 / (2 c)``."""
    from scipy.optimize import minimize
    from scipy.special import expit

    k = Z.shape[1]
    p0 = float(np.clip(y.mean(), 1e-3, 1 - 1e-3))

    def f(v: np.ndarray) -> tuple[float, np.ndarray]:
        a, d = v[0], v[1:]
        z = a + Z @ (beta0 + d)
        # log(1 + e^z) - y z, stably; its gradient (sigmoid(z) - y).
        loss = np.logaddexp(0.0, z) - y * z
        r = expit(z) - y
        return (float(loss.sum() + d @ d / (2 * c)),
                np.concatenate([[r.sum()], Z.T @ r + d / c]))

    v0 = np.concatenate([[np.log(p0 / (1 - p0)) - float((Z @ beta0).mean())], np.zeros(k)])
    res = minimize(f, v0, jac=True, method="L-BFGS-B", options={"maxiter": 500})
    return float(res.x[0]), beta0 + res.x[1:]


def _cv_strength(Z: np.ndarray, y: np.ndarray, beta0: np.ndarray, grid, seed: int = 0, folds: int = 5) -> float:
    """The penalty strength of ``grid`` with the best held-out log-likelihood over ``folds`` folds
    (stratified by outcome, seeded)."""
    rng = np.random.default_rng(seed)
    fold = np.empty(len(y), dtype=np.int64)
    for v in (0, 1):
        idx = np.flatnonzero(y == v)
        fold[rng.permutation(idx)] = np.arange(len(idx)) % folds
    best, best_ll = float(grid[0]), -np.inf
    for c in grid:
        ll = 0.0
        for k in range(folds):
            tr, te = fold != k, fold == k
            if y[tr].min() == y[tr].max() or not te.any():
                continue
            a, b = _prior_fit(Z[tr], y[tr], beta0, float(c))
            z = a + Z[te] @ b
            ll -= float((np.logaddexp(0.0, z) - y[te] * z).sum())
        if ll > best_ll:
            best, best_ll = float(c), ll
    return best


def refit_weights(g: GradeResult, results: pl.DataFrame, cfg: AnalyticsConfig) -> pl.DataFrame:
    """Old and re-fitted weight of each indicator from the outcomes (see the module docstring).

    The current weights are the prior: a one-variable logistic regression of the outcomes on
    the current risk points (the score's deductions minus its bonuses) puts them on the log-odds
    scale; then every indicator's coefficient is fitted, penalised by its distance from that
    prior (indicators standardised over the graded firms), the penalty's strength chosen from
    ``refit_c_grid`` by 5-fold cross-validation on the outcomes. Few outcomes move the weights
    little; many, as far as they say. Coefficients are turned back into points (a penalty never
    becomes a bonus: below zero is zero) with the same total as now.

    Columns: indicator, dimension, bonus, old, fitted, new, change (``fitted`` = ``new``).
    Raises LoopError when the outcomes are all one way (nothing to learn from).
    """
    row = dict(zip(g.grades["node_id"].to_list(), range(g.grades.height)))
    r = results.filter(pl.col("node_id").is_in(list(row)))
    y = r["found"].to_numpy().astype(float)
    if len(y) == 0 or y.min() == y.max():
        raise LoopError("the recorded outcomes are all found or all not found: nothing to re-fit from")
    X = g.values[[row[x] for x in r["node_id"].to_list()]]
    inds = g.indicators
    old = np.array([i.weight for i in inds])
    risk_sign = np.array([-1.0 if i.bonus else 1.0 for i in inds])  # +: the indicator adds risk
    # Indicators that do not vary over the graded firms say nothing: they keep their weight.
    sd = g.values.std(axis=0)
    vary = sd > 1e-9 * np.maximum(1.0, np.abs(g.values).max(axis=0))
    Z = (X[:, vary] - g.values[:, vary].mean(axis=0)) / sd[vary]
    # The prior on the log-odds scale: the outcomes' slope on the current risk points.
    u = X @ (risk_sign * old)
    su = max(float(u.std()), 1e-9)
    _, b = _prior_fit(((u - u.mean()) / su)[:, None], y, np.zeros(1), 1e6)
    slope = max(float(b[0]) / su, 1e-6)
    beta0 = slope * risk_sign[vary] * old[vary] * sd[vary]
    c = _cv_strength(Z, y, beta0, cfg.refit_c_grid)
    _, beta = _prior_fit(Z, y, beta0, c)
    fitted = old.copy()
    w = np.clip(beta / sd[vary] * risk_sign[vary] / slope, 0, None)
    fitted[vary] = w * (old[vary].sum() / w.sum()) if w.sum() > 0 else old[vary]
    return pl.DataFrame({"indicator": [i.name for i in inds], "dimension": [i.dimension for i in inds],
                         "bonus": [i.bonus for i in inds], "old": old, "fitted": np.round(fitted, 3),
                         "new": np.round(fitted, 3), "change": np.round(fitted - old, 3)})


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
