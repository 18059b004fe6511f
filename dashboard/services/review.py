"""Review: the resolution's uncertain pairs, their mentions, and the decisions taken on them.

Part of the dashboard's data access (:class:`credgraph.dashboard.data.Workbench`, attribute
``review``): it asks the Workbench's store and analytics, keeps its own answers, and masks
what it returns.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from credgraph.dashboard.data import DashboardError
from credgraph.dashboard.privacy import mask_record

if TYPE_CHECKING:
    from credgraph.dashboard.data import Workbench


class Review:
    """Review: the resolution's uncertain pairs, their mentions, and the decisions taken on them."""

    def __init__(self, w: "Workbench") -> None:
        self.w = w
        self._queue_base: tuple[int, pl.DataFrame] | None = None
        self._resolution = None
        self._res_lock = threading.Lock()

    @property
    def entities_dir(self) -> Path:
        return self.w.cfg.workspace_path / "entities"
    def resolution(self):
        """The last resolution run (loaded once; judgements kept up to date)."""
        from credgraph.resolution import ResolutionError, load_resolution

        with self._res_lock:
            if self._resolution is None:
                if not (self.entities_dir / "run.json").is_file():
                    raise DashboardError(f"{self.entities_dir}: no resolution output; run `credgraph resolve` first")
                try:
                    self._resolution = load_resolution(self.entities_dir)
                except ResolutionError as exc:
                    raise DashboardError(str(exc)) from None
            return self._resolution
    def review_queue(self, include_decided: bool = False) -> pl.DataFrame:
        """Uncertain pairs (best first) with the latest decision taken on each, if any."""
        res = self.resolution()
        # one row per pair (the best-scoring evidence), most likely matches first; made once
        # per review table (only judgements change while the server runs)
        base = self._queue_base
        if base is None or base[0] != id(res.review):
            base = (id(res.review), res.review.sort("score", descending=True)
                    .unique(["left", "right"], keep="first", maintain_order=True))
            self._queue_base = base
        rv = base[1]
        if rv.height == 0:
            return rv
        j = res.judgements
        if j.height:
            last = (j.with_row_index("_n").sort("_n").group_by(["left", "right"], maintain_order=True).last()
                    .select("left", "right", "decision", "who", "when"))
            rv = rv.join(last, on=["left", "right"], how="left")
        else:
            rv = rv.with_columns(pl.lit(None, pl.Utf8).alias("decision"), pl.lit(None, pl.Utf8).alias("who"),
                                 pl.lit(None, pl.Utf8).alias("when"))
        if not include_decided:
            rv = rv.filter(pl.col("decision").is_null())
        return rv
    def mention(self, mention_id: str) -> dict:
        """One mention as read from its source (source file and row, name, identifiers masked)."""
        res = self.resolution()
        m = res.mentions.filter(pl.col("mention_id") == mention_id)
        if m.height == 0:
            raise DashboardError(f"no mention {mention_id!r} in the last resolution")
        row = m.row(0, named=True)
        try:
            row["entity_id"] = res.entity_of(mention_id)
        except KeyError:
            row["entity_id"] = None
        keep = ("mention_id", "entity_id", "catalog", "source_file", "source_row", "name", "uscc", "org_code", "reg_no",
                "id_number", "phone", "address", "relation", "type")
        return mask_record({k: row.get(k) for k in keep if k in row})
    def record_decision(self, left: str, right: str, decision: str, who: str, why: str) -> pl.DataFrame:
        """Store a match / no-match decision as a judgement (resolution.add_judgement); the
        next ``credgraph resolve`` applies it."""
        from credgraph.atomic import write_parquet
        from credgraph.resolution import JudgementError, ResolutionError, add_judgement

        res = self.resolution()
        with self._res_lock:
            try:
                j = add_judgement(res.judgements, left, right, decision, who=who or "", why=why or "",
                                  left_entity=res.entity_of(left), right_entity=res.entity_of(right))
            except KeyError as exc:
                raise DashboardError(f"no mention {exc.args[0]!r} in the last resolution") from None
            except (JudgementError, ResolutionError) as exc:
                raise DashboardError(str(exc)) from None
            from credgraph.dashboard.auth import current_actor, record_event
            from credgraph.resolution.judgements import append_journal

            append_journal(self.entities_dir, j.row(-1, named=True))  # kept even if a resolve runs now
            record_event(self.w.cfg, current_actor(), "review", target=f"{left} / {right}", decision=decision, who=who)
            write_parquet(j, self.entities_dir / "judgements.parquet")
            res.judgements = j
            return j
