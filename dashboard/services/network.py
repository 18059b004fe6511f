"""Network: neighbourhoods for the canvas, paths, shell clusters' elements, ownership, Cypher.

Part of the dashboard's data access (:class:`credgraph.dashboard.data.Workbench`, attribute
``network``): it asks the Workbench's store and analytics, keeps its own answers, and masks
what it returns.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Iterable

import polars as pl

from credgraph.dashboard.data import DashboardError, _mask_cell, _rename_masked
from credgraph.dashboard.privacy import mask_frame

if TYPE_CHECKING:
    from credgraph.dashboard.data import Workbench


class Network:
    """Network: neighbourhoods for the canvas, paths, shell clusters' elements, ownership, Cypher."""

    def __init__(self, w: "Workbench") -> None:
        self.w = w

    def links_among(self, new: Iterable[str], existing: Iterable[str]) -> list[dict]:
        """Every stored link touching a node of ``new`` whose other end is in ``new`` or ``existing``."""
        a = self.w.analysis()
        new = list(set(new))
        every = list(set(new) | set(existing))
        e = self.w.rows_in(a.edges, "src", new, "dst").filter(pl.col("src").is_in(every) & pl.col("dst").is_in(every))
        return e.to_dicts()
    def neighbours(self, node_id: str, hops: int = 1, rel_types: list[str] | None = None) -> tuple[pl.DataFrame, pl.DataFrame, int]:
        """Every neighbour of a node (up to ``dashboard.max_scan_rows`` read), ranked by the store, with
        their risk and grade, the links reaching them, and the total count."""
        if self.w.names([node_id]) == {}:
            raise DashboardError(f"no node with id {node_id!r} in the graph")
        try:
            nb = self.w._call("neighbourhood", node_id, hops, rel_types if rel_types else None,
                            self.w.cfg.dashboard.max_scan_rows, 0)
        except ValueError as exc:
            raise DashboardError(str(exc)) from None
        a = self.w.analysis()
        nodes = nb.nodes.with_columns(
            pl.col("node_id").map_elements(lambda x: a.risk_of.get(x), return_dtype=pl.Float64).alias("risk"),
            pl.col("node_id").map_elements(lambda x: a.grade_of.get(x), return_dtype=pl.Utf8).alias("grade"),
        )
        return mask_frame(nodes), nb.edges, nb.total
    def expand(self, node_id: str, hops: int = 1, rel_types: list[str] | None = None, rank: str = "relationship",
               limit: int = 25, offset: int = 0, existing: Iterable[str] = ()) -> dict:
        """One page of a node's neighbours for the canvas.

        ``rank``: "relationship" (the store's order: control, people, hubs, records) or
        "risk" (riskiest first). Returns nodes, every link joining them to each other, to
        the node and to ``existing`` (the canvas), the middle nodes of 2-hop neighbours,
        the total, and counts per relationship type.
        """
        nodes, edges, total = self.neighbours(node_id, hops, rel_types)
        by_type = dict(nodes.group_by("type").len().iter_rows()) if nodes.height else {}
        if rank == "risk":
            nodes = nodes.sort(["risk", "distance"], descending=[True, False], nulls_last=True)
        page = nodes.slice(offset, limit)
        keep = set(page["node_id"].to_list()) | {node_id}
        # the middle node of a 2-hop neighbour comes along, so its link can be drawn
        mids = set(x for x in page["via"].to_list() if x) - keep
        if mids:
            extra = [{"node_id": k, "label": v[0], "name": v[1]} for k, v in self.w.names(mids).items()]
        else:
            extra = []
        keep |= mids
        links = self.links_among(keep, existing)
        if rel_types:
            links = [e for e in links if e["type"] in rel_types]
        return {"nodes": page.to_dicts() + extra, "edges": links, "total": total, "by_type": by_type}
    def paths(self, a: str, b: str, max_hops: int | None = None) -> pl.DataFrame:
        """Simple paths between two nodes, shortest first (at most ``dashboard.path_limit``)."""
        if not a or not b:
            raise DashboardError("choose two nodes to connect")
        if a == b:
            raise DashboardError("choose two different nodes")
        max_hops = max_hops or self.w.cfg.dashboard.path_max_hops
        missing = [x for x in (a, b) if x not in self.w.names([a, b])]
        if missing:
            raise DashboardError(f"no node with id {missing[0]!r} in the graph")
        try:
            return self.w._call("paths", a, b, max_hops, self.w.cfg.dashboard.path_limit)
        except ValueError as exc:
            raise DashboardError(str(exc)) from None
    def cluster_elements(self, members: list[str]) -> dict:
        """Members of a shell cluster, the hubs (address, phone, agent, legal rep) two or more
        of them share, and the links between them."""
        found = self.w.names(members)
        if not found:
            raise DashboardError("none of the cluster's members is in the graph")
        nodes = [{"node_id": k, "label": v[0], "name": v[1]} for k, v in found.items()]
        hub_count: dict[str, int] = {}
        hub_info: dict[str, dict] = {}
        for m in found:
            nb = self.w._call("neighbourhood", m, 1, ["LOCATED_AT", "USES_PHONE", "AGENT_OF", "LEGAL_REP_OF",
                                                  "SHAREHOLDER_OF"], self.w.cfg.dashboard.max_scan_rows, 0)
            for n in nb.nodes.iter_rows(named=True):
                if n["node_id"] in found:
                    continue
                hub_count[n["node_id"]] = hub_count.get(n["node_id"], 0) + 1
                hub_info[n["node_id"]] = n
        hubs = [hub_info[h] for h, c in hub_count.items() if c >= 2]
        nodes += [{"node_id": h["node_id"], "label": h["label"], "name": h["name"]} for h in hubs]
        edges = self.links_among([n["node_id"] for n in nodes], ())
        return {"nodes": mask_frame(pl.DataFrame(nodes)).to_dicts(), "edges": edges}
    def ownership(self, node_id: str, direction: str, depth: int | None = None) -> pl.DataFrame:
        """Shareholding chains up (who owns it) or down (what it owns), with cumulative ratios,
        and each far end's integrated share (the sum over its chains)."""
        if self.w.names([node_id]) == {}:
            raise DashboardError(f"no entity with id {node_id!r} in the graph")
        depth = depth or self.w.cfg.dashboard.ownership_depth
        try:
            chains = self.w._call("ownership", node_id, direction, depth)
        except ValueError as exc:
            raise DashboardError(str(exc)) from None
        if chains.height == 0:
            return chains
        integ = chains.group_by("node_id").agg(pl.col("ratio").sum().alias("integrated"))
        return mask_frame(chains.join(integ, on="node_id", how="left"))
    def cypher(self, text: str):
        """Run an analyst's query read-only, row- and time-limited; the result's cells masked."""
        from credgraph.graph import QueryError

        text = (text or "").strip()
        if not text:
            raise DashboardError("type a Cypher query, e.g. MATCH (c:LegalPerson) RETURN c.name LIMIT 10")
        d = self.w.cfg.dashboard
        from credgraph.dashboard.auth import current_actor, record_event

        record_event(self.w.cfg, current_actor(), "query", cypher=text[:2000])
        try:
            res = self.w._call("query", text, None, d.cypher_row_limit, d.cypher_timeout_s)
        except QueryError as exc:
            msg = str(exc)
            if any(k in msg.lower() for k in ("parser exception", "syntax", "invalid input")):
                msg = f"not valid Cypher — {msg}"
            raise DashboardError(f"query refused: {msg}") from None
        frame = res.frame
        hidden = [c for c in frame.columns if c.split(".")[-1] in ("id_hash", "phone_hash")]
        if hidden:
            frame = frame.drop(hidden)
        frame = frame.with_columns([pl.col(c).map_elements(_mask_cell, return_dtype=pl.Utf8, skip_nulls=True)
                                    for c, t in frame.schema.items() if t == pl.Utf8])
        return dataclasses.replace(res, frame=mask_frame(_rename_masked(frame)))

    def holding_loops(self, ids: Iterable[str]) -> list["HoldingLoop"]:
        """Circular and cross holdings among ``ids``: every loop of shareholdings between them
        (A holds B holds … holds A), found by networkx over the stored SHAREHOLDER_OF links;
        a loop of two firms is a cross holding (交叉持股), a longer one a circular holding
        (循环持股). Loops of up to 8 firms, at most 50, shortest first."""
        import networkx as nx

        ids = list(set(ids))
        e = self.w.rows_in(self.w.analysis().edges, "src", ids).filter(
            (pl.col("type") == "SHAREHOLDER_OF") & pl.col("dst").is_in(ids))
        ratio = {}
        for src, dst, r in e.select("src", "dst", pl.col("ratio") if "ratio" in e.columns else pl.lit(None)).iter_rows():
            ratio.setdefault((src, dst), r)
        g = nx.DiGraph(list(ratio))
        out = []
        for cyc in nx.simple_cycles(g, length_bound=8):
            k = cyc.index(min(cyc))  # the same loop always starts at the same firm
            cyc = cyc[k:] + cyc[:k]
            out.append(HoldingLoop("cross" if len(cyc) == 2 else "circular", cyc,
                                   [ratio[(x, cyc[(j + 1) % len(cyc)])] for j, x in enumerate(cyc)]))
            if len(out) >= 50:
                break
        return sorted(out, key=lambda c: (len(c.ids), c.ids))

    def ownership_loops(self, node_id: str, depth: int | None = None) -> list["HoldingLoop"]:
        """The loops among a company, its holders (up) and its holdings (down) to ``depth``
        layers: what its ownership page flags."""
        ids = {node_id}
        for direction in ("up", "down"):
            chains = self.ownership(node_id, direction, depth)
            if chains.height:
                ids.update(chains["path"].explode().to_list())
        return self.holding_loops(ids)


@dataclasses.dataclass
class HoldingLoop:
    """A loop of shareholdings: ``ids[k]`` holds ``ratios[k]`` of ``ids[k + 1]``, the last holds the first."""

    kind: str  # "cross" (two firms hold each other) or "circular" (three or more)
    ids: list[str]
    ratios: list[float | None]

    @property
    def label(self) -> str:
        """交叉持股 or 循环持股."""
        return "交叉持股 cross holding" if self.kind == "cross" else "循环持股 circular holding"
