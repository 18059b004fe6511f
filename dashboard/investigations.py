"""Saved investigations: a named explorer canvas kept in the workspace, reopened later, and
drawn as a PNG to attach to a case file.

An investigation is the canvas as plain JSON (``workspace/investigations/<name>.json``,
written atomically): its nodes, links, positions, centre, expansions and the path found.
Names and ids on the canvas are already what a person may see (masked phones, no ID
numbers); nothing else is stored. The PNG is drawn here with Pillow from the saved positions
(WenQuanYi Micro Hei for the Chinese captions when the system has it), so the picture is the
same whoever asks for it, without a browser.

>>> from credgraph.dashboard.graphview import Canvas
>>> c = Canvas()
>>> c.add_nodes([{"node_id": "L1", "label": "LegalPerson", "name": "深圳市甲公司"},
...              {"node_id": "N1", "label": "NaturalPerson", "name": "张三"}])
2
>>> c.add_edges([{"src": "N1", "dst": "L1", "type": "LEGAL_REP_OF", "edge_id": "LEGAL_REP_OF|N1|L1"}])
1
>>> c.centre = "L1"; _ = c.place()
>>> back = canvas_from_json(canvas_to_json(c))
>>> back.nodes == c.nodes and back.edges == c.edges and back.pos == c.pos and back.centre == "L1"
True
>>> canvas_png(back, {}, {})[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
True
>>> safe_name("  华强 案/../件 1 ")
'华强_案_件_1'
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
import re
from pathlib import Path
from typing import Mapping

from credgraph.atomic import write_text
from credgraph.dashboard.graphview import (GRADE_COLOURS, KIND_COLOURS, PATH_COLOUR, REL_COLOURS, RISK_BANDS, Canvas,
                                          risk_band)

__all__ = ["InvestigationError", "safe_name", "canvas_to_json", "canvas_from_json", "save", "load", "listing",
           "canvas_png", "FONT"]

#: The font of the PNG's captions (Debian's fonts-wqy-microhei); Pillow's default when absent.
FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"


class InvestigationError(ValueError):
    """A name that cannot be used, or a saved file that cannot be read; the message says which."""


def safe_name(name: str) -> str:
    """The file stem of an investigation's name: letters, digits, CJK, '-' and '_' kept, the rest '_'."""
    stem = re.sub(r"[^\w\u3400-\u9fff-]+", "_", (name or "").strip()).strip("_")
    return stem[:80]


def canvas_to_json(c: Canvas, name: str = "", note: str = "") -> str:
    """The canvas as JSON text (sets and tuples as lists)."""
    return json.dumps({"name": name, "note": note, "saved": dt.datetime.now().isoformat(timespec="seconds"),
                       "nodes": c.nodes, "edges": c.edges, "pos": {k: list(v) for k, v in c.pos.items()},
                       "centre": c.centre, "expanded": c.expanded, "path_edges": sorted(c.path_edges)},
                      ensure_ascii=False, indent=1, default=str)


def canvas_from_json(text: str) -> Canvas:
    """A Canvas from :func:`canvas_to_json` text."""
    try:
        d = json.loads(text)
        c = Canvas(nodes=d["nodes"], edges=d["edges"], pos={k: tuple(v) for k, v in d.get("pos", {}).items()},
                   centre=d.get("centre"), expanded=d.get("expanded", {}), path_edges=set(d.get("path_edges", [])))
    except (ValueError, KeyError, TypeError) as exc:
        raise InvestigationError(f"not a saved investigation ({exc})") from None
    c.version += 1
    return c


def folder(workspace: str | Path) -> Path:
    return Path(workspace) / "investigations"


def save(workspace: str | Path, name: str, c: Canvas, note: str = "") -> Path:
    """Keep the canvas under ``name`` in the workspace (replacing one of that name); returns the file."""
    stem = safe_name(name)
    if not stem:
        raise InvestigationError("give the investigation a name (letters, digits or Chinese)")
    if not c.nodes:
        raise InvestigationError("the canvas is empty: nothing to save")
    return write_text(canvas_to_json(c, name.strip(), note), folder(workspace) / f"{stem}.json")


def load(workspace: str | Path, stem: str) -> Canvas:
    """The saved investigation ``stem`` (a name from :func:`listing`)."""
    p = folder(workspace) / f"{safe_name(stem)}.json"
    if not p.is_file():
        raise InvestigationError(f"no saved investigation {stem!r} in {folder(workspace)}")
    return canvas_from_json(p.read_text(encoding="utf-8"))


def listing(workspace: str | Path) -> list[dict]:
    """Saved investigations, newest first: stem, name, saved, nodes."""
    out = []
    for p in sorted(folder(workspace).glob("*.json")):
        try:
            d = json.loads(p.read_text(encoding="utf-8"))
            out.append({"stem": p.stem, "name": d.get("name") or p.stem, "saved": d.get("saved", ""),
                        "nodes": len(d.get("nodes", {}))})
        except (OSError, ValueError):
            continue
    return sorted(out, key=lambda r: r["saved"], reverse=True)


def _colour(kind: str, nid: str, mode: str, risk: Mapping, grade: Mapping, high: float) -> str:
    if kind in ("LegalPerson", "NaturalPerson") and mode == "risk":
        return dict(RISK_BANDS)[risk_band(risk.get(nid), high)]
    if kind in ("LegalPerson", "NaturalPerson") and mode == "grade":
        return GRADE_COLOURS.get(grade.get(nid) or "", GRADE_COLOURS[""])
    return KIND_COLOURS.get(kind, "#757575")


def canvas_png(c: Canvas, risk: Mapping[str, float], grade: Mapping[str, str], mode: str = "risk",
               high: float = 0.3, width: int = 1600, title: str = "") -> bytes:
    """The canvas drawn as a PNG: links in their type's colour (the path's in amber) with their
    captions, nodes coloured as on screen, the centre ringed, names below; a title line."""
    from PIL import Image, ImageDraw, ImageFont

    c.place()
    pos = {k: v for k, v in c.pos.items() if k in c.nodes}
    xs, ys = [p[0] for p in pos.values()] or [0.0], [p[1] for p in pos.values()] or [0.0]
    span_x, span_y = max(max(xs) - min(xs), 1.0), max(max(ys) - min(ys), 1.0)
    margin, top = 120, 60
    scale = min((width - 2 * margin) / span_x, 2.0)
    height = int(span_y * scale + 2 * margin + top)
    height = max(400, min(height, 4 * width))
    scale = min(scale, (height - 2 * margin - top) / span_y)

    left = (width - span_x * scale) / 2  # the drawing centred across the picture

    def at(nid: str) -> tuple[float, float]:
        x, y = pos[nid]
        return left + (x - min(xs)) * scale, top + margin + (y - min(ys)) * scale

    try:
        font, small, big = (ImageFont.truetype(FONT, s) for s in (16, 13, 22))
    except OSError:  # pragma: no cover - no CJK font on this system
        font = small = big = ImageFont.load_default()
    img = Image.new("RGB", (width, height), "white")
    d = ImageDraw.Draw(img)
    if title:
        d.text((margin // 2, 20), title, fill="#212121", font=big)
    r = 14
    for e in c.merged_edges():
        ed = e["data"]
        if ed["source"] not in pos or ed["target"] not in pos:
            continue
        (x1, y1), (x2, y2) = at(ed["source"]), at(ed["target"])
        colour = PATH_COLOUR if ed["label"] == "PATH" else REL_COLOURS.get(ed["label"], "#9e9e9e")
        d.line([(x1, y1), (x2, y2)], fill=colour, width=5 if ed["label"] == "PATH" else 2)
        ang = math.atan2(y2 - y1, x2 - x1)  # an arrow head at the target
        tip = (x2 - r * math.cos(ang), y2 - r * math.sin(ang))
        d.polygon([tip, (tip[0] - 10 * math.cos(ang - 0.4), tip[1] - 10 * math.sin(ang - 0.4)),
                   (tip[0] - 10 * math.cos(ang + 0.4), tip[1] - 10 * math.sin(ang + 0.4))], fill=colour)
        mx, my = (x1 + x2) / 2, (y1 + y2) / 2
        box = d.textbbox((mx, my), ed["caption"], font=small, anchor="mm")
        d.rectangle(box, fill="white")
        d.text((mx, my), ed["caption"], fill="#424242", font=small, anchor="mm")
    for nid, nd in c.nodes.items():
        if nid not in pos:
            continue
        x, y = at(nid)
        fill = _colour(nd["kind"], nid, mode, risk, grade, high)
        if nid == c.centre:
            d.ellipse([x - r - 6, y - r - 6, x + r + 6, y + r + 6], fill="#212121")
        d.ellipse([x - r, y - r, x + r, y + r], fill=fill, outline="white", width=2)
        name = nd["name"] if len(nd["name"]) <= 16 else nd["name"][:15] + "…"
        box = d.textbbox((x, y + r + 12), name, font=font, anchor="mm")
        d.rectangle(box, fill="white")
        d.text((x, y + r + 12), name, fill="#212121", font=font, anchor="mm")
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()
