"""Search: entities by name, code, ID number or pinyin, and what a user types resolved into one entity.

Part of the dashboard's data access (:class:`credgraph.dashboard.data.Workbench`, attribute
``find``): it asks the Workbench's store and analytics, keeps its own answers, and masks
what it returns.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import polars as pl

from credgraph.dashboard.data import DashboardError, _remember
from credgraph.dashboard.privacy import mask_frame

if TYPE_CHECKING:
    from credgraph.dashboard.data import Workbench


class Find:
    """Search: entities by name, code, ID number or pinyin, and what a user types resolved into one entity."""

    def __init__(self, w: "Workbench") -> None:
        self.w = w
        self._searches: dict[tuple, pl.DataFrame] = {}
        self._index = None

    def search(self, text: str, limit: int | None = None) -> pl.DataFrame:
        """Entities by name, code or pinyin (fuzzy; Chinese, traditional, full-width, initials),
        with their propagated risk and grade."""
        text = (text or "").strip()
        if not text:
            raise DashboardError("type a name, a code (USCC, organisation code, registration number, "
                                 "ID number) or pinyin to search")
        if len(text) > 200:
            raise DashboardError("the search text is too long (at most 200 characters)")
        limit = limit or self.w.cfg.dashboard.search_limit
        key = (text, limit)
        if key in self._searches:  # a rerun of the page, back and forth, or another visitor
            return self._searches[key]
        hits = self.w._call("search", text, limit=limit)
        a = self.w.analysis()
        out = mask_frame(hits.with_columns(
            pl.col("node_id").map_elements(lambda x: a.risk_of.get(x), return_dtype=pl.Float64).alias("risk"),
            pl.col("node_id").map_elements(lambda x: a.grade_of.get(x), return_dtype=pl.Utf8).alias("grade"),
        ))
        _remember(self._searches, key, out)
        return out
    def entity_index(self):
        """analytics.EntityIndex over the network (codes and every name written), built once."""
        a = self.w.analysis()
        with self.w._lazy_lock:
            if getattr(self, "_index", None) is None:
                from credgraph.analytics import EntityIndex

                t0 = time.perf_counter()
                self._index = EntityIndex(a.net)
                a.seconds["entity_index"] = time.perf_counter() - t0
        return self._index
    def quick_match(self, text: str) -> pl.DataFrame:
        """The one entity a code (USCC, organisation code, registration number, ID number) or an
        exact company name (in any variant: traditional, full-width, brackets) designates —
        answered from memory at once, before the store's fuzzy search."""
        text = (text or "").strip()
        if not text:
            raise DashboardError("type a name, a code (USCC, organisation code, registration number, "
                                 "ID number) or pinyin to search")
        schema = {"node_id": pl.Utf8, "label": pl.Utf8, "name": pl.Utf8, "match": pl.Utf8, "risk": pl.Float64,
                  "grade": pl.Utf8}
        r = self.entity_index().resolve([text], [text], min_score=100).row(0, named=True)
        a = self.w.analysis()
        if r["node_id"] is None or r["method"] in ("fuzzy_name", "masked_id+name"):
            return pl.DataFrame(schema=schema)
        label, name = self.w.names([r["node_id"]]).get(r["node_id"], ("", r["node_id"]))
        if r["method"] == "name" and (label != "LegalPerson" or r["status"] != "resolved"):
            return pl.DataFrame(schema=schema)  # person names and shared names: see the full list
        method = {"name": "exact name", "org_code": "org code", "reg_no": "reg no", "id_number": "id number",
                  "node_id": "entity id"}.get(r["method"], r["method"])
        return mask_frame(pl.DataFrame([{"node_id": r["node_id"], "label": label, "name": name, "match": method,
                                         "risk": a.risk_of.get(r["node_id"]), "grade": a.grade_of.get(r["node_id"])}],
                                       schema=schema))
