"""The explorer's canvas: which nodes and links are drawn, and how they look.

A :class:`Canvas` is plain data kept in the session (no Streamlit here): nodes by id,
links by edge id, where each node is drawn, which nodes were expanded with how many
neighbours in all, and the links of the last path found. Positions are computed here
(:meth:`Canvas.place`: new nodes around the node they came from, relaxed by a few
force-directed steps while the nodes already drawn stay put), so the component draws
each change at once with Cytoscape's ``preset`` layout — no layout animation in the
browser, and an expansion does not move what the investigator has already looked at.
:meth:`Canvas.elements` turns it into the Cytoscape elements that ``st_link_analysis`` draws; :func:`node_styles` / :func:`edge_styles` give
the matching styles. A node's style key (its ``label`` in Cytoscape) combines its kind with
its colour bucket — risk band, grade, or nothing — so colouring needs no custom JavaScript.

>>> c = Canvas()
>>> c.add_nodes([{"node_id": "L1", "label": "LegalPerson", "name": "深圳市甲公司"},
...              {"node_id": "N1", "label": "NaturalPerson", "name": "张三"}])
2
>>> c.add_edges([{"src": "N1", "dst": "L1", "type": "SHAREHOLDER_OF", "ratio": 0.6, "edge_id": "SHAREHOLDER_OF|N1|L1"}])
1
>>> c.place()  # both drawn: the first node at the origin, the other nearby
2
>>> el = c.elements("kind", {}, {})
>>> [n["data"]["label"] for n in el["nodes"]], el["edges"][0]["data"]["caption"], el["nodes"][0]["position"]
(['企业', '自然人'], '持股 60%', {'x': 0.0, 'y': 0.0})
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable, Mapping

__all__ = [
    "Canvas",
    "KIND_TEXT",
    "REL_TEXT",
    "RISK_BANDS",
    "GRADE_COLOURS",
    "risk_band",
    "style_key",
    "node_styles",
    "edge_styles",
    "edge_caption",
    "split_edge_id",
    "legend_html",
]

#: How each kind of node is called on the canvas, its icon and its colour when coloured by kind.
KIND_TEXT = {"LegalPerson": "企业", "NaturalPerson": "自然人", "Address": "地址", "Phone": "电话",
             "CreditRecord": "信用记录"}
KIND_ICON = {"LegalPerson": "business", "NaturalPerson": "person", "Address": "place", "Phone": "phone",
             "CreditRecord": "description"}
KIND_COLOURS = {"LegalPerson": "#1565c0", "NaturalPerson": "#6a1b9a", "Address": "#00897b", "Phone": "#5d4037",
                "CreditRecord": "#757575"}
#: Relationship captions (Chinese, as investigators read them).
REL_TEXT = {"SHAREHOLDER_OF": "持股", "LEGAL_REP_OF": "法定代表人", "OFFICER_OF": "任职", "BRANCH_OF": "分支机构",
            "AGENT_OF": "登记代理", "LOCATED_AT": "地址", "USES_PHONE": "电话", "HAS_RECORD": "记录"}
REL_COLOURS = {"SHAREHOLDER_OF": "#1e88e5", "LEGAL_REP_OF": "#8e24aa", "OFFICER_OF": "#7e57c2",
               "BRANCH_OF": "#3949ab", "AGENT_OF": "#6d4c41", "LOCATED_AT": "#26a69a", "USES_PHONE": "#8d6e63",
               "HAS_RECORD": "#bdbdbd"}
PATH_LABEL = "PATH"
PATH_COLOUR = "#ffab00"  # amber: the component already uses red for the selection
#: Risk bands: (name, lowest propagated risk, colour); the "high" threshold comes from the config.
RISK_BANDS = (("无风险", "#9e9e9e"), ("低风险", "#43a047"), ("中风险", "#fb8c00"), ("高风险", "#c62828"))
GRADE_COLOURS = {"A+": "#1b5e20", "A": "#43a047", "B": "#9ccc65", "C": "#fdd835", "D": "#fb8c00", "E": "#c62828",
                 "": "#9e9e9e"}
COLOUR_MODES = ("risk", "grade", "kind")


def risk_band(risk: float | None, high: float, low: float = 0.05) -> str:
    """Name of the risk band of a propagated risk value.

    >>> risk_band(0.0, 0.3), risk_band(0.01, 0.3), risk_band(0.1, 0.3), risk_band(2.0, 0.3)
    ('无风险', '低风险', '中风险', '高风险')
    """
    if risk is None or risk <= 0:
        return RISK_BANDS[0][0]
    if risk < low:
        return RISK_BANDS[1][0]
    if risk < high:
        return RISK_BANDS[2][0]
    return RISK_BANDS[3][0]


def style_key(kind: str, mode: str, risk: float | None, grade: str | None, high: float = 0.3) -> str:
    """The Cytoscape label of a node: its kind, and its colour bucket in ``mode``.

    >>> style_key("LegalPerson", "grade", 0.5, "E"), style_key("Address", "risk", 0.5, None)
    ('企业 · 等级 E', '地址')
    """
    base = KIND_TEXT.get(kind, kind)
    if kind not in ("LegalPerson", "NaturalPerson") or mode == "kind":
        return base
    if mode == "grade":
        return f"{base} · 等级 {grade}" if grade else f"{base} · 无等级"
    return f"{base} · {risk_band(risk, high)}"


class RawStyle:
    """A Cytoscape style rule as is (the component only calls ``dump()``)."""

    def __init__(self, selector: str, style: dict) -> None:
        self.selector, self.style = selector, style

    def dump(self) -> dict:
        return {"selector": self.selector, "style": self.style}


def node_styles(mode: str):
    """NodeStyle for every style key of ``mode`` (kinds × colour buckets), and larger captions
    than the component's default (Chinese names stay readable)."""
    from st_link_analysis import NodeStyle

    # Captions sized to the drawing (nodes ~80 px apart): readable when the view is fitted to a
    # few dozen nodes; on a light plate so a caption over a line stays legible.
    styles: list = [RawStyle("node", {"font-size": 11, "text-max-width": 110, "text-wrap": "ellipsis",
                                      "text-background-color": "#ffffff", "text-background-opacity": 0.8,
                                      "text-background-padding": 1, "color": "#212121",
                                      "min-zoomed-font-size": 4})]
    for kind, text in KIND_TEXT.items():
        icon = KIND_ICON[kind]
        if kind not in ("LegalPerson", "NaturalPerson") or mode == "kind":
            styles.append(NodeStyle(text, KIND_COLOURS[kind], "name", icon))
            continue
        if mode == "grade":
            for g, colour in GRADE_COLOURS.items():
                styles.append(NodeStyle(style_key(kind, mode, None, g or None), colour, "name", icon))
        else:
            for band, colour in RISK_BANDS:
                styles.append(NodeStyle(f"{text} · {band}", colour, "name", icon))
    # the centre of the investigation: a thick dark ring and a bold caption
    styles.append(RawStyle("node[centre = 1]", {"border-width": 5, "border-color": "#212121", "border-opacity": 1,
                                                "font-weight": "bold", "font-size": 13}))
    return styles


def edge_styles():
    """EdgeStyle per relationship type (directed, captioned), and the red style of path links."""
    from st_link_analysis import EdgeStyle

    # labeled=None: the component warns on any other value
    out: list = [EdgeStyle(t, colour, caption="caption", directed=True, labeled=None) for t, colour in REL_COLOURS.items()]
    out.append(EdgeStyle(PATH_LABEL, PATH_COLOUR, caption="caption", directed=True, labeled=None))
    out.append(RawStyle(f"edge[label='{PATH_LABEL}']", {"width": 4}))
    # after the types' styles (which set a caption plate in the line's colour): captions dark on
    # a white plate, along the line
    out.append(RawStyle("edge", {"font-size": 9, "color": "#212121", "text-background-color": "#ffffff",
                                 "text-background-opacity": 0.85, "text-background-padding": 1,
                                 "text-rotation": "autorotate", "min-zoomed-font-size": 4}))
    return out


def edge_caption(rel_type: str, ratio: float | None = None, role: str | None = None) -> str:
    """Short caption of a link: ``持股 60%``, ``任职 董事``.

    >>> edge_caption("SHAREHOLDER_OF", 0.355), edge_caption("OFFICER_OF", None, "董事")
    ('持股 35.5%', '任职 董事')
    """
    text = REL_TEXT.get(rel_type, rel_type)
    if rel_type == "SHAREHOLDER_OF" and ratio is not None and ratio == ratio:
        pct = f"{ratio * 100:.1f}".rstrip("0").rstrip(".")
        return f"{text} {pct}%"
    if rel_type == "OFFICER_OF" and role:
        return f"{text} {role}"
    return text


def split_edge_id(edge_id: str) -> tuple[str, str, str]:
    """(type, src, dst) of a graph edge id ``TYPE|src|dst[|role]`` (node ids never hold ``|``).

    >>> split_edge_id("OFFICER_OF|N1|L2|董事")
    ('OFFICER_OF', 'N1', 'L2')
    """
    parts = edge_id.split("|")
    if len(parts) < 3:
        raise ValueError(f"not an edge id: {edge_id!r}")
    return parts[0], parts[1], parts[2]


@dataclass
class Canvas:
    """What the explorer shows; kept in the session between reruns."""

    nodes: dict[str, dict] = field(default_factory=dict)
    edges: dict[str, dict] = field(default_factory=dict)
    #: node id -> {"total": neighbours in all, "shown": ids added by its expansion, "offset": page start}
    expanded: dict[str, dict] = field(default_factory=dict)
    path_edges: set[str] = field(default_factory=set)
    centre: str | None = None
    #: node id -> (x, y) where it is drawn (Cytoscape model coordinates, pixels at zoom 1).
    pos: dict[str, tuple[float, float]] = field(default_factory=dict)
    #: Bumped whenever the canvas changes (the view is fitted to the drawing again).
    version: int = 0

    def clear(self) -> None:
        self.nodes.clear()
        self.edges.clear()
        self.pos.clear()
        self.expanded.clear()
        self.path_edges.clear()
        self.centre = None
        self.version += 1

    def add_nodes(self, rows: Iterable[Mapping]) -> int:
        """Add nodes (node_id, label, name); returns how many were new."""
        new = 0
        for r in rows:
            nid = r["node_id"]
            if nid not in self.nodes:
                self.nodes[nid] = {"kind": r.get("label") or "", "name": r.get("name") or nid}
                new += 1
        return new

    def add_edges(self, rows: Iterable[Mapping]) -> int:
        """Add links (src, dst, type, ratio, role, edge_id) whose both ends are on the canvas."""
        new = 0
        for r in rows:
            eid = r.get("edge_id") or f"{r['type']}|{r['src']}|{r['dst']}"
            if eid in self.edges or r["src"] not in self.nodes or r["dst"] not in self.nodes:
                continue
            self.edges[eid] = {"source": r["src"], "target": r["dst"], "type": r["type"],
                               "caption": edge_caption(r["type"], r.get("ratio"), r.get("role"))}
            new += 1
        return new

    def remove_nodes(self, ids: Iterable[str]) -> None:
        """Remove nodes and every link touching them."""
        ids = set(ids)
        for nid in ids:
            self.nodes.pop(nid, None)
            self.expanded.pop(nid, None)
            self.pos.pop(nid, None)
        for eid in [e for e, d in self.edges.items() if d["source"] in ids or d["target"] in ids]:
            del self.edges[eid]
            self.path_edges.discard(eid)
        if self.centre in ids:
            self.centre = None

    def collapse(self, node_id: str) -> None:
        """Take back the neighbours an expansion of ``node_id`` added (those not pinned by
        another expansion, the centre, or a path)."""
        info = self.expanded.pop(node_id, None)
        if not info:
            return
        keep = {self.centre} | {self.edges[e]["source"] for e in self.path_edges if e in self.edges} \
            | {self.edges[e]["target"] for e in self.path_edges if e in self.edges} | set(self.expanded)
        for other in self.expanded.values():
            keep |= set(other.get("shown", ()))
        self.remove_nodes([n for n in info.get("shown", ()) if n not in keep and n != node_id])

    def place(self, anchor: str | None = None, spacing: float = 80.0, iterations: int = 40) -> int:
        """Give a position to every node that has none; returns how many were placed.

        New nodes start on a ring around ``anchor`` (the node expanded; else a drawn
        neighbour, else the middle of the drawing), on the side facing away from the rest
        of the drawing, and are then spread by Fruchterman–Reingold steps (``spacing``
        pixels between linked nodes) in which every node drawn before stays where it is. On an empty canvas the centre (or the first
        node) goes to the origin and stays there.

        >>> c = Canvas()
        >>> c.add_nodes([{"node_id": k, "label": "LegalPerson", "name": k} for k in "ABC"])
        3
        >>> c.centre = "A"
        >>> c.place(), c.pos["A"]
        (3, (0.0, 0.0))
        >>> min(math.dist(c.pos["A"], c.pos[k]) for k in "BC") > 20  # apart, not piled up
        True
        >>> c.add_nodes([{"node_id": "D", "label": "Phone", "name": "D"}])
        1
        >>> before = dict(c.pos); c.place(anchor="B"); all(c.pos[k] == before[k] for k in "ABC")
        1
        True
        """
        new = [n for n in self.nodes if n not in self.pos]
        count = len(new)
        if not new:
            return 0
        if not self.pos:  # an empty drawing: the centre is its origin
            first = self.centre if self.centre in self.nodes else new[0]
            self.pos[first] = (0.0, 0.0)
            new.remove(first)
        fixed = list(self.pos)
        cx = sum(p[0] for p in self.pos.values()) / len(self.pos)
        cy = sum(p[1] for p in self.pos.values()) / len(self.pos)
        linked: dict[str, str] = {}  # a new node -> a drawn node it is linked to
        for d in self.edges.values():
            for a, b in ((d["source"], d["target"]), (d["target"], d["source"])):
                if a not in self.pos and b in self.pos:
                    linked.setdefault(a, b)
        groups: dict[str, list[str]] = {}
        for n in new:
            ref = anchor if anchor in self.pos else linked.get(n)
            groups.setdefault(ref or "", []).append(n)
        for ref, members in groups.items():
            ox, oy = self.pos[ref] if ref else (cx, cy)
            # away from the middle of what is drawn (any direction when at the middle)
            away = math.atan2(oy - cy, ox - cx) if (ox, oy) != (cx, cy) else 0.0
            spread = 2 * math.pi if (ox, oy) == (cx, cy) or len(members) > 8 else math.pi
            radius = max(spacing, len(members) * 0.6 * spacing / spread)  # ~0.6 spacing between neighbours
            for i, n in enumerate(members):
                t = away + spread * ((i + 0.5) / len(members) - 0.5)
                self.pos[n] = (ox + radius * math.cos(t), oy + radius * math.sin(t))
        if iterations:
            self._relax([n for n in self.pos if n not in fixed], fixed, spacing, iterations)
        self.version += 1
        return count

    def _relax(self, moving: list[str], fixed: list[str], spacing: float, iterations: int) -> None:
        """Spread ``moving`` nodes by Fruchterman–Reingold steps (repelled by every node,
        pulled along their links; the step shrinking each round) while ``fixed`` ones stay.
        Only the moving rows are computed: an expansion of 25 nodes on a canvas of 400 costs
        a few milliseconds."""
        import numpy as np

        if not moving:
            return
        ids = moving + fixed
        at = {n: i for i, n in enumerate(ids)}
        p = np.array([self.pos[n] for n in ids], dtype=float)
        m = len(moving)
        links = np.zeros((m, len(ids)))
        for d in self.edges.values():
            a, b = at.get(d["source"]), at.get(d["target"])
            if a is None or b is None or a == b:
                continue
            if a < m:
                links[a, b] = 1.0
            if b < m:
                links[b, a] = 1.0
        iterations = iterations if m <= 100 else max(10, iterations * 100 // m)  # a big hand-over: coarser
        k, step = spacing, spacing
        for _ in range(iterations):
            delta = p[:m, None, :] - p[None, :, :]
            dist = np.maximum(np.sqrt((delta ** 2).sum(axis=2)), 0.01)
            force = k * k / dist ** 2 - links * dist / k
            force[np.arange(m), np.arange(m)] = 0.0
            disp = np.einsum("ijk,ij->ik", delta, force)
            length = np.maximum(np.sqrt((disp ** 2).sum(axis=1)), 0.01)
            p[:m] += disp * (np.minimum(length, step) / length)[:, None]
            step -= spacing / (iterations + 1)
        for i, n in enumerate(moving):
            self.pos[n] = (round(float(p[i, 0]), 1), round(float(p[i, 1]), 1))

    def elements(self, mode: str, risk: Mapping[str, float], grade: Mapping[str, str], high: float = 0.3) -> dict:
        """Cytoscape elements: node data (id, label = style key, name, kind, risk, grade) and
        position (when placed), and link data (id, label = type or PATH, source, target,
        caption)."""
        nodes = []
        for nid, d in self.nodes.items():
            r, g = risk.get(nid), grade.get(nid)
            data = {"id": nid, "label": style_key(d["kind"], mode, r, g, high), "name": d["name"],
                    "kind": d["kind"]}
            if nid == self.centre:
                data["centre"] = 1
            if r is not None:
                data["risk"] = round(float(r), 4)
            if g:
                data["grade"] = g
            el = {"data": data}
            if nid in self.pos:
                x, y = self.pos[nid]
                el["position"] = {"x": float(x), "y": float(y)}
            nodes.append(el)
        return {"nodes": nodes, "edges": self.merged_edges()}

    def merged_edges(self) -> list[dict]:
        """One Cytoscape edge per pair of linked nodes: parallel links (a legal representative
        who is also a shareholder and director) are merged into one line whose caption lists
        every role (``法定代表人 · 持股 60% · 任职 董事``); it takes the style of the strongest
        type (control first), or the path's when any of its links is on the path found. ``id``
        is the first link's edge id, ``members`` all of them.

        >>> c = Canvas()
        >>> c.add_nodes([{"node_id": "N1", "label": "NaturalPerson", "name": "张三"},
        ...              {"node_id": "L1", "label": "LegalPerson", "name": "甲公司"}])
        2
        >>> c.add_edges([{"src": "N1", "dst": "L1", "type": t, "ratio": r, "edge_id": f"{t}|N1|L1"}
        ...              for t, r in (("LEGAL_REP_OF", None), ("SHAREHOLDER_OF", 0.6))])
        2
        >>> [(e["data"]["label"], e["data"]["caption"]) for e in c.merged_edges()]
        [('SHAREHOLDER_OF', '持股 60% · 法定代表人')]
        """
        groups: dict[tuple, list[str]] = {}
        for eid, d in self.edges.items():
            groups.setdefault(tuple(sorted((d["source"], d["target"]))), []).append(eid)
        rank = {t: i for i, t in enumerate(REL_TEXT)}
        out = []
        for members in groups.values():
            members.sort(key=lambda e: (rank.get(self.edges[e]["type"], 99), e))
            first = self.edges[members[0]]
            on_path = any(e in self.path_edges for e in members)
            captions = list(dict.fromkeys(self.edges[e]["caption"] for e in members))
            out.append({"data": {"id": members[0], "label": PATH_LABEL if on_path else first["type"],
                                 "source": first["source"], "target": first["target"],
                                 "caption": " · ".join(captions), "members": members}})
        return out


def legend_html(mode: str, high: float = 0.3) -> str:
    """The canvas's legend in plain HTML: node colours of ``mode`` (risk bands, grades or
    kinds), the kinds' names, the relationship colours, the centre's ring and the path colour.

    >>> "高风险" in legend_html("risk") and "持股" in legend_html("risk") and "等级 E" in legend_html("grade")
    True
    """
    import html as _h

    def dot(colour: str, text: str, ring: str = "") -> str:
        style = f"background:{colour};{ring}"
        return (f'<span style="display:inline-flex;align-items:center;margin-right:.9em">'
                f'<span style="display:inline-block;width:.8em;height:.8em;border-radius:50%;{style}"></span>'
                f'&nbsp;{_h.escape(text)}</span>')

    def line(colour: str, text: str, width: int = 3) -> str:
        return (f'<span style="display:inline-flex;align-items:center;margin-right:.9em">'
                f'<span style="display:inline-block;width:1.4em;height:{width}px;background:{colour}"></span>'
                f'&nbsp;{_h.escape(text)}</span>')

    if mode == "grade":
        colours = [dot(c, f"等级 {g}" if g else "无等级") for g, c in GRADE_COLOURS.items()]
    elif mode == "risk":
        colours = [dot(c, b) for b, c in RISK_BANDS]
    else:
        colours = [dot(KIND_COLOURS[k], t) for k, t in KIND_TEXT.items() if k in ("LegalPerson", "NaturalPerson")]
    kinds = [dot(KIND_COLOURS[k], t) for k, t in KIND_TEXT.items() if k not in ("LegalPerson", "NaturalPerson")]
    rels = [line(REL_COLOURS[t], REL_TEXT[t]) for t in REL_TEXT if t != "HAS_RECORD"]
    return ('<div style="font-size:.8rem;line-height:1.8;color:rgba(49,51,63,.8)">'
            f'<b>企业/自然人</b> {"".join(colours)} · <b>其他</b> {"".join(kinds)}'
            f'{dot("#ffffff", "中心 centre", "border:3px solid #212121;box-sizing:border-box")}<br>'
            f'<b>关系</b> {"".join(rels)}{line(PATH_COLOUR, "路径 path", 5)}</div>')
