"""Profiles: one entity's identity, grade, risk and its sources, records and related parties.

Part of the dashboard's data access (:class:`credgraph.dashboard.data.Workbench`, attribute
``profiles``): it asks the Workbench's store and analytics, keeps its own answers, and masks
what it returns.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

import polars as pl

from credgraph.dashboard.data import (ENTITY_KINDS, PARTY_TYPES, DashboardError, Profile, _relation_text, _remember, log)
from credgraph.dashboard.privacy import mask_frame

if TYPE_CHECKING:
    from credgraph.dashboard.data import Workbench


class Profiles:
    """Profiles: one entity's identity, grade, risk and its sources, records and related parties."""

    def __init__(self, w: "Workbench") -> None:
        self.w = w
        self._sources: dict[str, pl.DataFrame] = {}
        self._sources_lock = threading.Lock()

    def profile(self, node_id: str, explain: bool = True) -> Profile:
        """Identity, grade with its explanation, propagated risk with top sources, records,
        related parties, controller and beneficial owners of one entity.

        With ``explain=False`` risk sources come only from what is already explained (the
        page shows the rest at once and explains afterwards; ``sources_pending`` says so)."""
        node_id = (node_id or "").strip()
        if not node_id:
            raise DashboardError("no entity chosen: search for one first")
        a = self.w.analysis()
        ident = self.w.node(node_id)
        if ident is None:
            raise DashboardError(f"no entity with id {node_id!r} in the graph (search by name or code instead)")
        kind = ident.get("label", "")
        if kind not in ENTITY_KINDS:
            raise DashboardError(f"{node_id!r} is a {kind} node, not a company or person")
        grade, contrib = None, pl.DataFrame()
        g = a.grades.grades.filter(pl.col("node_id") == node_id)
        if g.height:
            grade = g.drop("idx", strict=False).row(0, named=True)
            contrib = (a.grades.contributions.filter((pl.col("node_id") == node_id) & (pl.col("points").abs() > 1e-9))
                       .sort("points").drop("node_id"))
        r = a.risk.scores.filter(pl.col("node_id") == node_id)
        risk = r.row(0, named=True) if r.height else {}
        risk["entities"] = a.risk.scores.height
        sources = self.risk_sources(node_id, risk, compute=explain)
        pending = sources.height == 0 and (risk.get("received") or 0) > 0 and not explain
        timeline = self.timeline(node_id)
        related = self.related(node_id)
        sharing = mask_frame(self.w._call("sharing", node_id))
        controller, owners, controls = None, pl.DataFrame(), pl.DataFrame()
        if kind == "LegalPerson":
            c = self.w.controllers().filter(pl.col("company_id") == node_id)
            if c.height:
                controller = c.row(0, named=True)
                controller["chain_names"] = [self.w.names([x]).get(x, ("", x))[1] for x in controller["chain"] or []]
            owners = self.w.beneficial_owners().filter(pl.col("company_id") == node_id).sort(
                "integrated_ratio", descending=True)
        else:
            controls = self.w.controllers().filter(pl.col("controller_id") == node_id).select(
                "company_id", "company_name", "control_votes", "integrated_ratio")
            owners = self.w.beneficial_owners().filter(pl.col("owner_id") == node_id).sort(
                "integrated_ratio", descending=True)
        shell = None
        sf = a.shells.firms.filter(pl.col("node_id") == node_id)
        if sf.height:
            shell = sf.row(0, named=True)
        return Profile(node_id=node_id, kind=kind, identity=ident, grade=grade, contributions=contrib, risk=risk,
                       sources=sources, timeline=timeline, related=related, sharing=sharing, controller=controller,
                       owners=mask_frame(owners), controls=controls, shell=shell, as_of=a.as_of,
                       sources_pending=pending)
    def stored_sources(self) -> pl.DataFrame | None:
        """The risk sources written by the analytics stage (``analytics/risk_sources.parquet``)
        when they are newer than the graph, else None."""
        if not hasattr(self, "_stored"):
            self._stored = None
            p = self.w.cfg.workspace_path / "analytics" / "risk_sources.parquet"
            graph_file = self.w.cfg.workspace_path / "graph"
            if self.w.backend == "embedded":
                from credgraph.graph import embedded_path

                graph_file = embedded_path(self.w.cfg) / "graph.lbug"
            try:
                if p.is_file() and (not graph_file.exists() or p.stat().st_mtime >= graph_file.stat().st_mtime):
                    self._stored = pl.read_parquet(p)
            except Exception:  # noqa: BLE001 - an unreadable file: explain on demand instead
                log.exception("cannot read %s", p)
        return self._stored
    def risk_sources(self, node_id: str, risk: dict | None = None, compute: bool = True) -> pl.DataFrame:
        """Top sources of an entity's propagated risk, with the strongest path from each.

        Read from what the analytics explained up front (or ``credgraph risk`` wrote), else
        explained now from the finished result (:func:`credgraph.analytics.explain_risk`: the
        entity's own reverse series, no new propagation) when ``compute``; kept per entity."""
        if node_id in self._sources:
            return self._sources[node_id]
        a = self.w.analysis()
        src = a.risk.sources.filter(pl.col("node_id") == node_id)
        stored = self.stored_sources()
        if src.height == 0 and stored is not None and {"node_id", "source_id"} <= set(stored.columns):
            src = stored.filter(pl.col("node_id") == node_id)
        if src.height == 0 and risk and (risk.get("received") or 0) > 0:
            if not compute:
                return mask_frame(src.drop("node_id"))  # not kept: explained when asked with compute
            from credgraph.analytics import explain_risk

            with self._sources_lock:  # one explanation at a time (they share the reversed matrix)
                if node_id in self._sources:
                    return self._sources[node_id]
                t0 = time.perf_counter()
                try:
                    src = explain_risk(a.risk, a.net, node_id)
                except KeyError:
                    raise DashboardError(f"no entity with id {node_id!r} in the graph") from None
                log.info("risk sources of %s explained in %.3f s", node_id, time.perf_counter() - t0)
        out = mask_frame(src.drop("node_id"))
        _remember(self._sources, node_id, out)
        return out
    def timeline(self, node_id: str) -> pl.DataFrame:
        """The entity's credit records, newest first, with where each came from."""
        a = self.w.analysis()
        rec = a.net.records.filter(pl.col("owner_id") == node_id)
        if rec.height == 0:
            return pl.DataFrame(schema={"date": pl.Date, "event_type": pl.Utf8, "status": pl.Utf8})
        extra = [c for c in ("catalog", "source_unit") if c in a.net.nodes.columns]
        if extra:
            idx = self.w._index_of(rec["record_node"].to_list())
            more = a.net.nodes.select(extra)[idx]
            rec = pl.concat([rec, more], how="horizontal")
        cols = [c for c in ("date", "event_type", "status", "catalog", "source_unit", "authority", "case_no",
                            "amount", "grade", "reason", "count", "end_date", "record_node") if c in rec.columns]
        out = rec.select(cols).sort("date", descending=True, nulls_last=True).head(self.w.cfg.dashboard.timeline_limit)
        return mask_frame(out.rename({"record_node": "record"}))
    def related(self, node_id: str) -> pl.DataFrame:
        """Related parties: who holds, represents, serves, registered or branches off this
        entity, and what it holds, represents or serves (every link, not one per party)."""
        a = self.w.analysis()
        e = a.edges.filter(((pl.col("src") == node_id) | (pl.col("dst") == node_id))
                           & pl.col("type").is_in(list(PARTY_TYPES)))
        schema = {"relation": pl.Utf8, "node_id": pl.Utf8, "name": pl.Utf8, "label": pl.Utf8, "ratio": pl.Float64,
                  "risk": pl.Float64, "grade": pl.Utf8}
        if e.height == 0:
            return pl.DataFrame(schema=schema)
        others = [d if s == node_id else s for s, d in zip(e["src"].to_list(), e["dst"].to_list())]
        names = self.w.names(others)
        rows = []
        for other, r in zip(others, e.iter_rows(named=True)):
            lab, name = names.get(other, ("", other))
            rows.append({"relation": _relation_text(r["type"], r["src"] == node_id, r.get("role")), "node_id": other,
                         "name": name, "label": lab, "ratio": r.get("ratio"), "risk": a.risk_of.get(other),
                         "grade": a.grade_of.get(other)})
        order = {t: i for i, t in enumerate(PARTY_TYPES)}
        out = pl.DataFrame(rows, schema=schema)
        return mask_frame(out.with_columns(pl.Series("_t", [order.get(t, 9) for t in e["type"].to_list()]))
                          .sort(["_t", "ratio", "name"], descending=[False, True, False], nulls_last=True).drop("_t"))
