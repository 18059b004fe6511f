"""Grade history: each grading run is kept with the records that moved grades.

``<workspace>/analytics/history/`` holds one folder per run (``run_id`` = UTC time of the run):
``grades.parquet`` (node_id, grade, score, prev_grade, moved_on, because) and
``records.parquet`` (the active adverse records then: record_node, owner_id, event_type, date).
When a run is recorded, every enterprise whose grade differs from the previous run's gets a
``because``: the records that started or stopped counting since then, its own first, else at
the related party that sends it most risk (with the path), e.g.
``A → B on 2024-03-01 because serious_illegal record rec:88 (2024-03-01) at 深圳市某某有限公司 (L0000123)``.

:func:`grade_history` is what the dashboard's profile calls.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import numpy as np
import polars as pl

from credgraph.atomic import write_parquet

from .grading import GradeResult
from .network import CreditNetwork
from .propagation import explain_sources

__all__ = ["record_run", "grade_history", "latest_changes", "history_dir"]

_GRADE_SCHEMA = {"node_id": pl.Utf8, "grade": pl.Utf8, "score": pl.Float64, "prev_grade": pl.Utf8,
                 "moved_on": pl.Date, "because": pl.Utf8}


def history_dir(cfg) -> Path:
    """The history folder of the workspace."""
    return Path(cfg.workspace_path) / "analytics" / "history"


def _runs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*") if (p / "grades.parquet").is_file()) if folder.is_dir() else []


def _active_records(g: GradeResult, net: CreditNetwork) -> pl.DataFrame:
    r = g.risk.records
    a = r.filter(pl.col("active") & (pl.col("severity") > 0))
    return a.select("record_node", "owner_id", "event_type", "date")


def _describe(rec: dict, net_names: dict, verb: str) -> str:
    when = f" ({rec['date']})" if rec.get("date") else ""
    who = net_names.get(rec["owner_id"], rec["owner_id"])
    return f"{rec['event_type']} record {rec['record_node']}{when} {verb} at {who} ({rec['owner_id']})"


def _reasons(g: GradeResult, net: CreditNetwork, changed: pl.DataFrame, now: pl.DataFrame,
             before: pl.DataFrame, as_of: _dt.date) -> pl.DataFrame:
    """moved_on and because for the firms in ``changed`` (node_id, prev_grade, grade)."""
    started = now.join(before.select("record_node"), on="record_node", how="anti").with_columns(pl.lit("started").alias("how"))
    stopped = before.join(now.select("record_node"), on="record_node", how="anti").with_columns(pl.lit("stopped").alias("how"))
    moved = pl.concat([started, stopped], how="vertical_relaxed").sort("date", descending=True, nulls_last=True)
    by_owner: dict[str, list[dict]] = {}
    for r in moved.iter_rows(named=True):
        by_owner.setdefault(r["owner_id"], []).append(r)
    ids = changed["node_id"].to_list()
    names = dict(zip(ids, net.name_series.gather(net.index_of(ids)).to_list()))
    # Related parties whose records moved, ranked by how strongly they reach each changed firm
    # (a unit seed at each of them: a record that stopped counting sends nothing any more).
    need = [i for i in ids if i not in by_owner]
    src = pl.DataFrame()
    if need and by_owner and g.risk.matrix is not None:
        cfg = g.risk.config
        unit = np.zeros(net.n)
        owners_idx = net.index_of(list(by_owner))
        unit[owners_idx[owners_idx >= 0]] = 1.0
        src = explain_sources(net, g.risk.matrix, unit, net.index_of(need), cfg.decay, top=20, max_hops=cfg.max_hops)
        owners = set(src["source_id"].to_list())
        names.update(dict(zip(list(owners), net.name_series.gather(net.index_of(list(owners))).to_list())))
    out_on, out_why = [], []
    for row in changed.iter_rows(named=True):
        nid, head = row["node_id"], f"{row['prev_grade']} → {row['grade']}"
        recs = by_owner.get(nid)
        if recs:
            r = recs[0]
            verb = "began to count" if r["how"] == "started" else "stopped counting"
            out_on.append(r["date"] or as_of)
            out_why.append(f"{head} on {r['date'] or as_of} because {_describe(r, names, verb)}")
            continue
        why = None
        if src.height:
            for s in src.filter(pl.col("node_id") == nid).sort("contribution", descending=True).iter_rows(named=True):
                if s["source_id"] in by_owner:
                    r = by_owner[s["source_id"]][0]
                    verb = "began to count" if r["how"] == "started" else "stopped counting"
                    out_on.append(r["date"] or as_of)
                    why = (f"{head} on {r['date'] or as_of} because {_describe(r, names, verb)}, "
                           f"a related party ({s['path_text']})")
                    break
        if why is None:
            out_on.append(as_of)
            why = (f"{head} on {as_of}: no record of its own or of its main related parties changed "
                   "(the weights, the calibrated cut-offs or weaker links moved it)")
        out_why.append(why)
    return changed.with_columns(pl.Series("moved_on", out_on, dtype=pl.Date), pl.Series("because", out_why, dtype=pl.Utf8))


def record_run(cfg, g: GradeResult, net: CreditNetwork, run_id: str | None = None) -> Path:
    """Keep this grading run (grades + active records) with why grades moved since the last run."""
    folder = history_dir(cfg)
    runs = _runs(folder)
    run_id = run_id or _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    now_recs = _active_records(g, net)
    grades = g.grades.select("node_id", "grade", "score")
    if runs:
        prev = pl.read_parquet(runs[-1] / "grades.parquet").select("node_id", pl.col("grade").alias("prev_grade"))
        before = pl.read_parquet(runs[-1] / "records.parquet")
        grades = grades.join(prev, on="node_id", how="left")
        changed = grades.filter(pl.col("prev_grade").is_not_null() & (pl.col("prev_grade") != pl.col("grade")))
        why = _reasons(g, net, changed.select("node_id", "prev_grade", "grade"), now_recs, before, g.as_of)
        grades = grades.join(why.select("node_id", "moved_on", "because"), on="node_id", how="left")
    else:
        grades = grades.with_columns(pl.lit(None, pl.Utf8).alias("prev_grade"), pl.lit(None, pl.Date).alias("moved_on"),
                                     pl.lit(None, pl.Utf8).alias("because"))
    out = folder / run_id
    write_parquet(now_recs, out / "records.parquet")
    write_parquet(grades.with_columns(pl.lit(g.as_of).cast(pl.Date).alias("as_of")), out / "grades.parquet")
    return out


def latest_changes(cfg) -> pl.DataFrame:
    """The grade changes of the latest run against the one before (node_id, prev_grade, grade, because)."""
    runs = _runs(history_dir(cfg))
    if not runs:
        return pl.DataFrame(schema=_GRADE_SCHEMA)
    return pl.read_parquet(runs[-1] / "grades.parquet").filter(pl.col("because").is_not_null())


def grade_history(cfg, entity_id: str) -> list[dict]:
    """One dict per recorded run: run, as_of, grade, score, prev_grade, moved_on, because (None when unchanged)."""
    out = []
    for run in _runs(history_dir(cfg)):
        g = pl.read_parquet(run / "grades.parquet").filter(pl.col("node_id") == entity_id)
        for r in g.iter_rows(named=True):
            out.append({"run": run.name, "as_of": r.get("as_of"), "grade": r["grade"], "score": r["score"],
                        "prev_grade": r["prev_grade"], "moved_on": r["moved_on"], "because": r["because"]})
    return out


