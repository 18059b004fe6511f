"""The graph store's search, answered from the nodes in memory.

:meth:`credgraph.graph.store.CypherStore.search` finds names with a few ``CONTAINS`` scans of
every company and person (0.4 s each on a store of a million entities). The dashboard holds the
same nodes (with their ``search_text``, ``search_pinyin`` and ``search_initials``) in memory, so
:class:`MemorySearch` runs that very search — the same code, ranking and fuzzy pass — with each
of its look-ups answered by a polars filter over those columns instead of by the database
(a few hundredths of a second). A look-up it does not know is sent to the store.
"""

from __future__ import annotations

import re

import polars as pl

from credgraph.graph.model import ENTITY_LABELS
from credgraph.graph.store import CypherStore

__all__ = ["MemorySearch"]

_LOOKUP = re.compile(r"^MATCH \(n:(\w+)\) WHERE n\.(\w+) (CONTAINS|=|IN) \$(\w+) RETURN ((?:n\.\w+(?:, )?)+)"
                     r"( ORDER BY n\.node_id)?( LIMIT \$cap)?$")
#: Columns the look-ups read.
COLUMNS = ("node_id", "name", "search_text", "search_pinyin", "search_initials", "uscc", "org_code", "reg_no")


class MemorySearch(CypherStore):
    """``search(text, limit)`` of the graph store over ``nodes`` (the store's exported frame);
    ``fallback`` (the store) answers what is not a plain look-up on one property."""

    backend = "memory"

    def __init__(self, cfg, nodes: pl.DataFrame, fallback) -> None:
        super().__init__(cfg)
        self.fallback = fallback
        cols = [c for c in COLUMNS if c in nodes.columns]
        self.by_label = {lab: nodes.filter(pl.col("label") == lab).select(cols).sort("node_id")
                         for lab in ENTITY_LABELS}
        missing = {"search_text", "search_pinyin", "search_initials"} - set(cols)
        if missing:
            raise ValueError(f"the nodes lack {', '.join(sorted(missing))}")

    def _rows(self, cypher: str, params: dict | None = None) -> list[tuple]:
        m = _LOOKUP.match(cypher.strip())
        frame = self.by_label.get(m.group(1)) if m else None
        params = params or {}
        if frame is None or m.group(2) not in frame.columns:
            return self.fallback._rows(cypher, params)
        col, op, value = pl.col(m.group(2)), m.group(3), params.get(m.group(4))
        cond = (col.str.contains(value, literal=True) if op == "CONTAINS" else col.is_in(list(value)) if op == "IN"
                else col == value)
        out = frame.filter(cond.fill_null(False))  # frames are sorted by node_id (ORDER BY n.node_id)
        if m.group(7):
            out = out.head(int(params["cap"]))
        ret = [c.strip()[2:] for c in m.group(5).split(",")]
        return list(out.select(ret).iter_rows())
