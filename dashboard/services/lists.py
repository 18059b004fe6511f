"""Lists and pictures: inspection lists and their files, shell groups, the city overview.

Part of the dashboard's data access (:class:`credgraph.dashboard.data.Workbench`, attribute
``lists``): it asks the Workbench's store and analytics, keeps its own answers, and masks
what it returns.
"""

from __future__ import annotations

import dataclasses
import io
import tempfile
import threading
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from credgraph.dashboard.data import DashboardError, _remember, log
from credgraph.dashboard.privacy import mask_frame

if TYPE_CHECKING:
    from credgraph.dashboard.data import Workbench


class Lists:
    """Lists and pictures: inspection lists and their files, shell groups, the city overview."""

    def __init__(self, w: "Workbench") -> None:
        self.w = w
        self._listings: dict[tuple, Any] = {}
        self._files: dict[int, dict] = {}
        self._files_lock = threading.Lock()

    def inspection(self, seed: int, budget: float, ratios: tuple[float, ...] | None = None,
                   live_only: bool | None = None):
        """Draw an inspection list (analytics.draw_inspection) with these parameters."""
        from credgraph.analytics import draw_inspection

        a = self.w.analysis()
        acfg = dataclasses.replace(self.w.cfg.analytics)
        if ratios is not None:
            if len(ratios) != 6 or any(not 0 <= r <= 1 for r in ratios):
                raise DashboardError("sampling ratios: six shares between 0 and 1 (A+, A, B, C, D, E)")
            acfg.sample_ratios = tuple(float(r) for r in ratios)
        if live_only is not None:
            acfg.inspect_live_only = bool(live_only)
        if not 0 <= budget <= 1:
            raise DashboardError("the budget is a share of enterprises between 0 and 1")
        extra = None
        if "uscc" in a.net.nodes.columns:
            extra = a.net.nodes.filter(pl.col("label") == "LegalPerson").select("node_id", "uscc")
        key = (int(seed), float(budget), tuple(acfg.sample_ratios), bool(acfg.inspect_live_only))
        if key in self._listings:  # the same parameters draw the same list: drawn once
            return self._listings[key]
        listing = draw_inspection(a.grades.grades, acfg, seed=int(seed), budget=float(budget), as_of=a.as_of,
                                  extra=extra)
        listing = dataclasses.replace(listing, targets=mask_frame(listing.targets))
        _remember(self._listings, key, listing, 32)
        return listing
    def inspection_csv(self, listing) -> bytes:
        """The list's CSV, byte for byte what :func:`credgraph.analytics.export_inspection`
        writes (``targets.write_csv``), made in memory (no XLSX made on the way)."""
        buf = io.BytesIO()
        listing.targets.write_csv(buf)
        return buf.getvalue()
    def inspection_files(self, listing, wait: bool = True) -> dict[str, bytes] | None:
        """The list as the analytics stage exports it (CSV, XLSX, JSON), as bytes for download;
        made once per list. With ``wait=False`` the files are made in a background thread (call
        it when the list is drawn, so the XLSX is ready when asked for) and None returned."""
        with self._files_lock:
            entry = self._files.get(id(listing))
            if entry is None or entry["listing"] is not listing:
                entry = {"listing": listing, "done": threading.Event(), "files": None, "error": None}
                _remember(self._files, id(listing), entry, 8)
                threading.Thread(target=self._make_files, args=(entry,), name="credgraph-inspection-files",
                                 daemon=True).start()
        if not wait:
            return None
        entry["done"].wait()
        if entry["error"]:
            raise DashboardError(f"the inspection files could not be written: {entry['error']}")
        return entry["files"]
    @staticmethod
    def _make_files(entry: dict) -> None:
        from credgraph.analytics import export_inspection

        try:
            with tempfile.TemporaryDirectory(prefix="credgraph-dash-") as d:
                paths = export_inspection(entry["listing"], d)
                entry["files"] = {p.suffix.lstrip("."): p.read_bytes() for p in paths}
        except Exception as exc:  # noqa: BLE001 - reported to whoever downloads
            log.exception("inspection export failed")
            entry["error"] = f"{type(exc).__name__}: {exc}"
        finally:
            entry["done"].set()
    def shell_groups(self) -> pl.DataFrame:
        """Flagged shell-company groups, ranked, with evidence."""
        return mask_frame(self.w.analysis().shells.groups)
    def shell_candidates(self) -> pl.DataFrame:
        """Every candidate cluster (shared address, phone, agent or legal rep), ranked."""
        return mask_frame(self.w.analysis().shells.candidates)
    def overview(self) -> dict[str, pl.DataFrame]:
        """The pictures of the home page: grade distribution, risk histogram, records per year
        and type, shell-cluster sizes."""
        a = self.w.analysis()
        dist = a.grades.distribution.select("grade", "enterprises")
        r = a.risk.scores.filter(pl.col("risk") > 0)["risk"].to_numpy()
        if len(r):
            # risk spans orders of magnitude: logarithmic bins
            lo, hi = max(float(r.min()), 1e-4), max(float(r.max()), 2e-4)
            bins = np.geomspace(lo, hi * 1.0001, 13)
            counts, _ = np.histogram(np.clip(r, lo, hi), bins=bins)
            hist = pl.DataFrame({"risk from": [f"≥{b:.2g}" for b in bins[:-1]],
                                 "entities": counts})
        else:
            hist = pl.DataFrame({"risk from": [], "entities": []}, schema={"risk from": pl.Utf8, "entities": pl.Int64})
        rec = a.net.records.filter(pl.col("date").is_not_null())
        per_year = (rec.group_by(pl.col("date").dt.year().alias("year"), "event_type").len()
                    .pivot(on="event_type", index="year", values="len").fill_null(0).sort("year"))
        sizes = a.shells.candidates.group_by("size").len().rename({"len": "clusters"}).sort("size")
        return {"grades": dist, "risk": hist, "records": per_year, "clusters": sizes}
