"""The analytics stage's results, kept in the workspace for the dashboard (and anyone) to read.

``credgraph analyse`` (and the demo's analytics step) computes risk, grades, shell groups,
ultimate controllers and beneficial owners once and writes them to
``<workspace>/analytics/results/`` as one folder, swapped in whole (:func:`credgraph.atomic.atomic_dir`):
one Parquet file per table and ``stamp.json`` saying what they were computed from — the graph
generation (``graph/generation.json``: number, time, backend) and a digest of the analytics
settings that change them.

:func:`load_results` gives them back only when that stamp matches the workspace's current
graph and settings; otherwise it raises :class:`StaleResults` with a sentence naming the
command to run. Tables are read on first use (a profile never reads the shell tables).

>>> sorted(TABLES)[:3]
['beneficial_owners', 'controllers', 'grade_contributions']
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import polars as pl

__all__ = ["StaleResults", "StoredResults", "analyse", "results_dir", "graph_stamp", "settings_digest", "save_results",
           "load_results", "results_status"]

#: Version of the folder's layout; a folder of another version is refused as stale.
FORMAT = 1
#: The command that (re)computes the results.
COMMAND = "credgraph analyse"
#: Table name -> what it holds (one Parquet file each).
TABLES = {
    "risk_scores": "propagated risk per entity (RiskResult.scores)",
    "risk_sources": "top risk sources of the explained entities",
    "risk_vectors": "node_id, seed, risk, related for every node with any risk",
    "grades": "grade per enterprise with its reasons",
    "grade_contributions": "points per enterprise and indicator",
    "grade_distribution": "enterprises per grade",
    "grade_features": "the facts the indicators were computed from",
    "grade_excluded": "legal persons not graded on the enterprise scheme",
    "shell_candidates": "every candidate cluster",
    "shell_firms": "firms in any candidate cluster",
    "shell_groups": "flagged shell groups",
    "controllers": "ultimate controller of every enterprise",
    "beneficial_owners": "beneficial owners of every enterprise",
}
#: The graph frames the results were computed from (optional: kept by ``credgraph analyse``), so a
#: reader builds the very same network without exporting the store again (at 1M entities an
#: export peaks at about 9 GB, reading these about 2 GB).
FRAMES = {"graph_nodes": "the graph's nodes (with each record's severity)",
          "graph_edges": "the graph's relationships: src, dst, type, ratio, capital, role, edge_id"}
#: Relationship columns kept in ``graph_edges``.
EDGE_COLUMNS = ("src", "dst", "type", "ratio", "capital", "role", "edge_id")


class StaleResults(RuntimeError):
    """No stored results for the current graph and settings; the message says which command to run."""


def results_dir(cfg) -> Path:
    """``<workspace>/analytics/results``."""
    return Path(cfg.workspace_path) / "analytics" / "results"


def graph_stamp(cfg) -> dict | None:
    """What identifies the workspace's current graph: its generation number, when it was loaded and
    the backend (from ``graph/generation.json``), or None when no complete graph was loaded."""
    from credgraph.graph.generation import current_generation

    gen = current_generation(cfg)
    if not gen:
        return None
    return {"generation": gen.get("generation"), "at": gen.get("at"), "backend": gen.get("backend")}


def settings_digest(cfg, bo_threshold: float | None = None) -> str:
    """A digest of every analytics setting (and the beneficial-owner threshold): results computed
    under other settings are not these settings' results."""
    acfg = getattr(cfg, "analytics", cfg)
    import dataclasses

    items = dataclasses.asdict(acfg)
    if bo_threshold is None:
        bo_threshold = getattr(getattr(cfg, "dashboard", None), "beneficial_owner_threshold", 0.25)
    items["_beneficial_owner_threshold"] = bo_threshold
    text = json.dumps(items, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def save_results(cfg, net, risk, grades, shells, stamp: dict | None, controllers: pl.DataFrame | None = None,
                 owners: pl.DataFrame | None = None, frames: tuple | None = None) -> Path:
    """Write the results of one analytics run, computed on the graph identified by ``stamp``
    (:func:`graph_stamp`, read *before* the graph was read), as one folder swapped in whole.

    ``controllers`` / ``owners`` are computed here when not given. ``frames``: the (nodes, edges)
    the network was built from, as frames or as Parquet files written by :func:`stage_frames`
    (moved into the folder), kept as ``graph_nodes`` / ``graph_edges``. Returns the folder.
    """
    from credgraph.atomic import atomic_dir

    from .ownership import beneficial_owners
    from .ownership import controllers as _controllers

    bo_t = getattr(getattr(cfg, "dashboard", None), "beneficial_owner_threshold", 0.25)
    if controllers is None:
        controllers = _controllers(net, cfg.analytics.control_ratio)
    if owners is None:
        owners = beneficial_owners(net, bo_t)
    vec = pl.DataFrame({"node_id": net.id_series, "seed": risk.seed, "risk": risk.risk,
                        "related": risk.related if risk.related is not None else np.clip(risk.risk - risk.seed, 0, None)})
    tables = {
        "risk_scores": risk.scores, "risk_sources": risk.sources,
        "risk_vectors": vec.filter((pl.col("seed") != 0) | (pl.col("risk") != 0) | (pl.col("related") != 0)),
        "grades": grades.grades.drop("idx", strict=False),
        "grade_contributions": grades.contributions.sort("node_id", maintain_order=True),
        "grade_distribution": grades.distribution,
        "grade_features": grades.features.drop("idx", strict=False),
        "grade_excluded": grades.excluded,
        "shell_candidates": shells.candidates, "shell_firms": shells.firms, "shell_groups": shells.groups,
        "controllers": controllers, "beneficial_owners": owners,
    }
    meta = {"format": FORMAT, "graph": stamp, "settings": settings_digest(cfg, bo_t),
            "as_of": risk.as_of.isoformat(), "hops": int(risk.hops), "cuts": list(grades.cuts),
            "computed": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "entities": int(net.entity_mask.sum())}
    target = results_dir(cfg)
    graph = dict(zip(FRAMES, frames)) if frames is not None else {}
    with atomic_dir(target) as tmp:
        for name, frame in tables.items():
            frame.write_parquet(tmp / f"{name}.parquet", row_group_size=65_536, statistics=True)
        for name, got in graph.items():
            if isinstance(got, pl.DataFrame):
                if name == "graph_edges":
                    got = got.select([c for c in EDGE_COLUMNS if c in got.columns])
                got.write_parquet(tmp / f"{name}.parquet")
            else:
                os.replace(got, tmp / f"{name}.parquet")
        (tmp / "stamp.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    return target


def _read_stamp(folder: Path) -> dict | None:
    try:
        return json.loads((folder / "stamp.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def results_status(cfg) -> tuple[bool, str]:
    """(usable, why): whether the stored results belong to the current graph and settings, and a
    sentence for the user when they do not (naming the command to run)."""
    folder = results_dir(cfg)
    meta = _read_stamp(folder)
    now = graph_stamp(cfg)
    if now is None:
        return False, "no complete graph in this workspace: run `credgraph graph load` first"
    if meta is None:
        return False, f"no analytics results in {folder}: run `{COMMAND}`"
    if meta.get("format") != FORMAT:
        return False, f"the analytics results in {folder} were written by another version: run `{COMMAND}` again"
    was = meta.get("graph") or {}
    if (was.get("generation"), was.get("at"), was.get("backend")) != (now["generation"], now["at"], now["backend"]):
        return False, (f"the analytics results in {folder} were computed on graph generation {was.get('generation')} "
                       f"({was.get('at')}, {was.get('backend')}); the graph is now generation {now['generation']} "
                       f"({now['at']}, {now['backend']}): run `{COMMAND}` again")
    if meta.get("settings") != settings_digest(cfg):
        return False, (f"the analytics results in {folder} were computed with other analytics settings: "
                       f"run `{COMMAND}` again")
    return True, ""


@dataclass
class StoredResults:
    """The stored results of one run, each table read on first use (thread-safe)."""

    folder: Path
    meta: dict
    _frames: dict[str, pl.DataFrame] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def as_of(self) -> _dt.date:
        return _dt.date.fromisoformat(self.meta["as_of"])

    def table(self, name: str) -> pl.DataFrame:
        """One stored table (read once)."""
        if name not in TABLES:
            raise KeyError(name)
        with self._lock:
            got = self._frames.get(name)
            if got is None:
                got = self._frames[name] = pl.read_parquet(self.folder / f"{name}.parquet")
            return got

    def graph_frames(self) -> tuple[pl.DataFrame, pl.DataFrame] | None:
        """The (nodes, edges) the results were computed from, or None when they were not kept."""
        paths = [self.folder / f"{n}.parquet" for n in FRAMES]
        if not all(p.is_file() for p in paths):
            return None
        return pl.read_parquet(paths[0]), pl.read_parquet(paths[1])

    def risk(self, net, cfg):
        """A :class:`~credgraph.analytics.propagation.RiskResult` over ``net`` from the stored
        scores and vectors: explainable (:func:`~credgraph.analytics.explain_risk`), its
        transmission matrix and active records rebuilt from the network (no propagation)."""
        from .propagation import RiskResult, active_records, transmission_matrix

        acfg = getattr(cfg, "analytics", cfg)
        vec = self.table("risk_vectors")
        idx = net.index_of(vec["node_id"].to_list())
        ok = idx >= 0
        arrays = {}
        for c in ("seed", "risk", "related"):
            a = np.zeros(net.n, dtype=np.float64)
            a[idx[ok]] = vec[c].to_numpy()[ok]
            arrays[c] = a
        return RiskResult(scores=self.table("risk_scores"), sources=self.table("risk_sources"), as_of=self.as_of,
                          seed=arrays["seed"], risk=arrays["risk"], records=active_records(net, acfg, self.as_of),
                          hops=int(self.meta.get("hops", 0)), matrix=transmission_matrix(net, acfg), config=acfg,
                          related=arrays["related"])

    def grades(self, net, risk):
        """A :class:`~credgraph.analytics.grading.GradeResult` from the stored tables (``idx``
        recomputed on ``net``; contributions of no points left out; the indicator matrix is not kept)."""
        from .grading import GradeResult

        def with_idx(frame: pl.DataFrame) -> pl.DataFrame:
            return frame.with_columns(pl.Series("idx", net.index_of(frame["node_id"].to_list())))

        # only the indicators that gave or took points: the rest explain nothing (at 1M entities
        # they are most of the table's 10 million rows)
        contrib = pl.scan_parquet(self.folder / "grade_contributions.parquet").filter(pl.col("points") != 0).collect()
        return GradeResult(grades=with_idx(self.table("grades")), contributions=contrib,
                           distribution=self.table("grade_distribution"), features=with_idx(self.table("grade_features")),
                           risk=risk, as_of=self.as_of, excluded=self.table("grade_excluded"),
                           cuts=list(self.meta.get("cuts", [])))

    def shells(self):
        """A :class:`~credgraph.analytics.shells.ShellResult` from the stored tables."""
        from .shells import ShellResult

        return ShellResult(candidates=self.table("shell_candidates"), firms=self.table("shell_firms"),
                           groups=self.table("shell_groups"))


def load_results(cfg) -> StoredResults:
    """The stored results when they belong to the workspace's current graph and settings; else
    raises :class:`StaleResults` saying why and which command to run."""
    ok, why = results_status(cfg)
    if not ok:
        raise StaleResults(why)
    folder = results_dir(cfg)
    missing = [n for n in TABLES if not (folder / f"{n}.parquet").is_file()]
    if missing:
        raise StaleResults(f"{folder}: {', '.join(missing)} missing: run `{COMMAND}` again")
    return StoredResults(folder=folder, meta=_read_stamp(folder) or {})


def analyse(cfg, progress: Callable[[str], Any] | None = None) -> tuple[Path, dict]:
    """The whole analytics stage on the workspace's current graph: read the graph, compute risk,
    grades, shells, controllers and beneficial owners, write them (:func:`save_results`) and the
    usual outputs (:func:`credgraph.analytics.run_all`). Returns the results folder and run_all's summary.
    Holds the workspace's ``analyse`` lock: a second run at the same time raises
    :class:`credgraph.security.LockBusy` at once."""
    from credgraph.security.locks import workspace_lock

    # One analytics run per workspace: two at once would each compute for minutes and the slower one's
    # older results would replace the newer ones. A second run stops at once with LockBusy naming the first.
    with workspace_lock(cfg, "analyse", command=COMMAND):
        return _analyse_locked(cfg, progress)


def _analyse_locked(cfg, progress: Callable[[str], Any] | None) -> tuple[Path, dict]:
    from . import run_all
    from .frames import load_frames
    from .network import CreditNetwork

    say = progress or (lambda _m: None)
    stamp = graph_stamp(cfg)  # before reading: a load finishing meanwhile makes these results stale, not wrong
    if stamp is None:
        raise FileNotFoundError("no complete graph in this workspace: run `credgraph graph load` first")
    say("reading the graph")
    nodes, edges = load_frames(cfg)
    net = CreditNetwork.from_frames(nodes, edges)
    staged = stage_frames(cfg, nodes, edges)  # on disk, not in memory, while the analytics run
    del nodes, edges
    try:
        say("computing risk, grades, inspection list and shells")
        paths = run_all(net, cfg, Path(cfg.workspace_path) / "analytics", stamp=stamp, frames=staged)
    finally:
        for p in staged:
            p.unlink(missing_ok=True)
    return paths["results"], paths["_summary"]


def stage_frames(cfg, nodes: pl.DataFrame, edges: pl.DataFrame) -> tuple[Path, Path]:
    """Write the graph frames to temporary files beside the results folder (named with this
    process's id, so a killed run's are cleaned up); :func:`save_results` moves them in."""
    folder = Path(cfg.workspace_path) / "analytics"
    folder.mkdir(parents=True, exist_ok=True)
    out = (folder / f".graph_nodes.p{os.getpid()}.tmp", folder / f".graph_edges.p{os.getpid()}.tmp")
    nodes.write_parquet(out[0])
    edges.select([c for c in EDGE_COLUMNS if c in edges.columns]).write_parquet(out[1])
    return out


def register_command(app) -> None:
    """Add ``credgraph analyse`` to the ``credgraph`` app."""
    import typer

    @app.command("analyse")
    def analyse_cmd() -> None:
        """Run the whole analytics stage on the current graph (risk, grades, an inspection list, shell groups,
        controllers, beneficial owners) and keep the results for the dashboard, stamped with the graph generation."""
        from rich.console import Console

        from credgraph.cli import config_or_exit
        from credgraph.console import fail

        from credgraph.security.locks import LockBusy

        from .network import FrameError

        cfg = config_or_exit()
        err = Console(stderr=True, soft_wrap=True, markup=False, highlight=False)
        try:
            with err.status("analytics") as status:
                folder, s = analyse(cfg, progress=lambda m: status.update(m))
        except (FileNotFoundError, FrameError, ValueError, LockBusy) as exc:
            fail(str(exc))
        dist = ", ".join(f"{r['grade']} {r['enterprises']}" for r in s["distribution"].iter_rows(named=True))
        print(f"analytics: {s['entities']:,} entities, {s['at_risk']:,} with active adverse records")
        print(f"  grades: {dist}")
        print(f"  inspection list: {s['inspection'].targets.height} targets; shell groups flagged: {s['shell_groups']}")
        gen = ((_read_stamp(folder) or {}).get("graph") or {}).get("generation")
        print(f"results for the dashboard: {folder} (graph generation {gen})")
