"""Small Streamlit helpers shared by the pages: error guard, masked tables, links, formats.

Pages stay thin: they read widgets, call the :class:`~credgraph.dashboard.data.Workbench`
and show what it returns through these helpers, so masking and error handling are the
same everywhere.
"""

from __future__ import annotations

import contextlib
import html
import logging
from urllib.parse import quote
from typing import Iterator

import polars as pl
import streamlit as st

from credgraph.dashboard.data import DashboardError, Workbench, workbench
from credgraph.dashboard.privacy import mask_frame

__all__ = ["PAGES", "STYLE", "bar_html", "html_table", "field_table", "guard", "wb", "table", "page_link", "goto", "query_id", "pct", "num", "entity_label", "entity_box", "describe_entity"]

log = logging.getLogger("credgraph.dashboard")

#: Page key -> (script in pages/, title, url path). Scripts are named relative to the entry
#: script (pages/app.py), as st.switch_page and st.page_link expect.
PAGES = {
    "overview": ("overview.py", "Overview 概览", "overview"),
    "search": ("search.py", "Search 搜索", "search"),
    "profile": ("profile.py", "Entity profile 主体画像", "profile"),
    "explorer": ("explorer.py", "Network explorer 关系网络", "explorer"),
    "ownership": ("ownership.py", "Ownership penetration 股权穿透", "ownership"),
    "inspection": ("inspection.py", "Inspection lists 双随机抽查", "inspection"),
    "shells": ("shells.py", "Shell clusters 疑似空壳", "shells"),
    "review": ("review.py", "Review queue 待审核", "review"),
    "cypher": ("cypher.py", "Cypher console 查询", "cypher"),
}
#: Page-wide CSS for :func:`html_table`: table cells break Chinese names between words only (a
#: browser otherwise breaks CJK text after any character, so a narrow column shows a company
#: name one character a line), and a table wider than its column scrolls.
STYLE = """<style>
div:has(> table.cg-table) { overflow-x: auto; }
div.cg-scroll { overflow: auto; }
div.cg-scroll table.cg-table th { position: sticky; top: 0; background: #fff; }
table.cg-table { border-collapse: collapse; font-size: 0.875rem; width: max-content; min-width: 100%;
  margin-bottom: 0.5rem; }
table.cg-table th, table.cg-table td { border: 1px solid rgba(49, 51, 63, 0.1); padding: 0.25rem 0.5rem;
  text-align: left; vertical-align: top; word-break: keep-all; max-width: 24em; }
table.cg-table th { color: rgba(49, 51, 63, 0.6); font-weight: 400; }
table.cg-fields td:first-child { color: rgba(49, 51, 63, 0.6); }
table.cg-table td.num { text-align: right; font-variant-numeric: tabular-nums; }
div.cg-bars { display: flex; align-items: flex-end; gap: 0.75rem; font-size: 0.8rem; color: rgba(49, 51, 63, 0.7);
  border-bottom: 1px solid rgba(49, 51, 63, 0.2); padding-bottom: 0; margin-bottom: 1.5rem; }
div.cg-col { display: flex; flex-direction: column; align-items: center; justify-content: flex-end; width: 2.5rem;
  height: 100%; position: relative; }
div.cg-col > span:last-child { position: absolute; bottom: -1.3rem; }
div.cg-bar { width: 100%; min-height: 1px; }
table.cg-align tr.cg-diff td { background: #fff3bf; }
table.cg-align tr.cg-one td { background: #f1f3f5; color: rgba(49, 51, 63, 0.75); }
table.cg-align td { min-width: 12em; }
</style>"""
_LABELS = {"LegalPerson": "企业", "NaturalPerson": "自然人", "Address": "地址", "Phone": "电话",
           "CreditRecord": "信用记录"}


def _control_flow(exc: BaseException) -> bool:
    """Streamlit's own control-flow exceptions (rerun, stop, page switch) must pass through."""
    try:
        from streamlit.runtime.scriptrunner_utils.exceptions import ScriptControlException
    except ImportError:  # pragma: no cover - other Streamlit layouts
        return type(exc).__name__ in ("RerunException", "StopException")
    return isinstance(exc, ScriptControlException)


@contextlib.contextmanager
def guard(what: str = "") -> Iterator[None]:
    """Show a clear message instead of a stack trace when something fails inside."""
    try:
        yield
    except DashboardError as exc:
        st.error(str(exc), icon="⚠️")
    except Exception as exc:  # noqa: BLE001 - a page must never show a trace
        if _control_flow(exc):
            raise
        log.exception("page error%s", f" ({what})" if what else "")
        st.error(f"{what + ': ' if what else ''}this could not be done ({type(exc).__name__}: {exc}). "
                 "The details are in the dashboard's log.", icon="⚠️")


def wb() -> Workbench:
    """The server's Workbench; waits (with a spinner) the first time while analytics warm up."""
    w = workbench()
    if not w.ready:
        with st.spinner("preparing the analytics of this graph (first visit only)…"):
            w.analysis()
    return w


def table(frame: pl.DataFrame, height: int | str = "auto", key: str | None = None, static_rows: int = 60,
          css_class: str = "cg-table", links: dict[str, str] | None = None, **kwargs):
    """A masked, index-free table; lists shown joined. Up to ``static_rows`` rows it is a
    plain HTML table (:func:`html_table`: one element, drawn at once; scrolling within
    ``height`` pixels when a number), else an interactive grid (slower to draw). ``links``:
    column shown -> column of entity ids; those cells link to the entity's profile."""
    if frame is None or frame.width == 0:
        st.caption("nothing to show")
        return None
    shown = mask_frame(frame)
    shown = shown.with_columns([pl.col(c).list.join(" > ") for c, t in shown.schema.items() if t == pl.List(pl.Utf8)])
    if shown.height <= static_rows and not kwargs:
        body = html_table(shown, css_class, links)
        if isinstance(height, int):
            body = f'<div class="cg-scroll" style="max-height: {height}px">{body}</div>'
        return st.html(body)
    return st.dataframe(shown.to_pandas(), hide_index=True, height=height, key=key, **kwargs)


def html_table(frame: pl.DataFrame, css_class: str = "cg-table", links: dict[str, str] | None = None,
               link_page: str = "profile") -> str:
    """A frame as a plain HTML table (cells escaped; numbers right-aligned, floats to 4 decimals).

    Streamlit's ``st.table`` renders every cell as Markdown through React, which takes the
    browser a noticeable time on a page with a few hundred cells; this is one element.

    >>> html_table(pl.DataFrame({"name": ["甲<公司>"], "ratio": [0.123456]}))
    '<table class="cg-table"><thead><tr><th>name</th><th>ratio</th></tr></thead><tbody><tr><td>甲&lt;公司&gt;</td><td class="num">0.1235</td></tr></tbody></table>'
    """
    links = links or {}
    id_cols = set(links.values())
    shown = [c for c in frame.columns if c not in id_cols]
    num = {c: t.is_numeric() for c, t in frame.schema.items()}
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in shown)
    url = PAGES[link_page][2]
    rows = []
    for row in frame.iter_rows(named=True):
        cells = []
        for c in shown:
            v = row[c]
            if v is None or (isinstance(v, float) and v != v):
                text = ""
            elif isinstance(v, float):
                text = f"{v:.4f}"
            else:
                text = str(v)
            body = html.escape(text)
            target = row.get(links[c]) if c in links else None
            if target and text:  # an internal entity id (never an ID number) in the link
                body = f'<a href="./{url}?id={quote(str(target))}" target="_self">{body}</a>'
            cells.append(f'<td class="num">{body}</td>' if num[c] else f"<td>{body}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f'<table class="{css_class}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def bar_html(labels: list, values: list, height: int = 220, colour: str = "#1565c0", title: str = "") -> str:
    """A small bar chart in plain HTML (one element, drawn at once; Streamlit's HTML
    sanitiser keeps no SVG): a bar, its value above and its label below for each
    category. For a handful of categories, where a Vega-Lite chart would first load and
    compile its library in the browser (half a second).

    >>> out = bar_html(["A", "B"], [3, 0], height=100)
    >>> out.count('class="cg-bar"'), 'title="A: 3"' in out, out.startswith('<div class="cg-bars"')
    (2, True, True)
    """
    top = max([float(v) for v in values if v is not None] + [0.0]) or 1.0
    plot = max(height - 40, 10)
    cols = []
    for lab, v in zip(labels, values):
        v = float(v or 0)
        text, tip = f"{v:g}", html.escape(f"{lab}: {v:g}", quote=True)
        cols.append(f'<div class="cg-col" title="{tip}"><span>{text}</span>'
                    f'<div class="cg-bar" style="height: {plot * v / top:.1f}px; background: {colour}"></div>'
                    f"<span>{html.escape(str(lab))}</span></div>")
    return (f'<div class="cg-bars" role="img" aria-label="{html.escape(title, quote=True)}" '
            f'style="height: {height}px">{"".join(cols)}</div>')


def field_table(rows: list[tuple[str, object]]) -> None:
    """Field / value pairs (an identity, a record) as a two-column table; lists joined by " | "."""
    frame = pl.DataFrame({"field": [r[0] for r in rows],
                          "value": [" | ".join(map(str, v)) if isinstance(v, list) else str(v) for _, v in rows]},
                         schema={"field": pl.Utf8, "value": pl.Utf8})
    table(frame, css_class="cg-table cg-fields")


def page_script(key: str) -> str:
    return PAGES[key][0]


def page_link(key: str, label: str, node_id: str | None = None, icon: str | None = None, **params) -> None:
    """A link to another page (same session), optionally with ``?id=``; icons are Material
    names (``:material/hub:``), bundled with Streamlit (emoji need a font the server may lack)."""
    qp = dict(params)
    if node_id:
        qp["id"] = node_id
    st.page_link(page_script(key), label=label, query_params=qp or None, icon=icon)


def goto(key: str, node_id: str | None = None, **params) -> None:
    """Switch to another page now."""
    qp = dict(params)
    if node_id:
        qp["id"] = node_id
    st.switch_page(page_script(key), query_params=qp or None)


def query_id() -> str:
    """The ``?id=`` of the page's URL ("" when absent)."""
    return (st.query_params.get("id") or "").strip()


def pct(x) -> str:
    """A share as a percentage ("" for none)."""
    if x is None or x != x:
        return ""
    return f"{x * 100:.1f}%"


def num(x, digits: int = 4) -> str:
    if x is None or x != x:
        return ""
    return f"{x:.{digits}g}"


def entity_label(label: str) -> str:
    return _LABELS.get(label, label)


def describe_entity(r: dict) -> str:
    """One line telling an entity apart from its namesakes: type, code or masked ID, legal
    representative (or a person's role), district, status, grade, risk."""
    parts = [r.get("type") or entity_label(r.get("label", "")), r.get("code") or ""]
    if r.get("rep_name"):
        parts.append(f"法定代表人 {r['rep_name']}")
    elif r.get("role"):
        parts.append(r["role"])
    parts += [r.get("district") or "", r.get("status") or ""]
    if r.get("grade"):
        parts.append(f"等级 {r['grade']}")
    if r.get("risk") is not None:
        parts.append(f"风险 {num(r['risk'], 3)}")
    return " · ".join(p for p in parts if p)


def entity_box(key: str, placeholder: str = "名称 / 统一社会信用代码 / 身份证号 / entity id") -> str:
    """An entry box that takes a name, a USCC (or other code), an ID number or an entity id, and
    returns the chosen entity's id (the page's ``?id=``, else "").

    What was typed stays in the session (an ID number never enters the URL); one entity found
    opens at once, several (namesakes, look-alikes) are listed to choose from."""
    node_id = query_id()
    with st.form(f"{key}_form", border=False):
        c1, c2 = st.columns([5, 1])
        typed = c1.text_input("entity", key=f"{key}_typed", label_visibility="collapsed", placeholder=placeholder)
        go = c2.form_submit_button("Open 打开", use_container_width=True)
    if go and typed.strip():
        with guard("open"):
            found, cands = wb().find.resolve(typed)
            if found:
                st.session_state.pop(f"{key}_cands", None)
                st.query_params["id"] = found
                return found
            if cands.height == 0:
                st.info("no company or person matches what you typed")
            st.session_state[f"{key}_cands"] = cands
    cands = st.session_state.get(f"{key}_cands")
    if cands is not None and cands.height:
        rows = cands.to_dicts()
        with st.form(f"{key}_choose", border=True):
            st.write(f"{len(rows)} match(es) — choose one 请选择")
            i = st.radio("candidates", range(len(rows)), key=f"{key}_pick", label_visibility="collapsed",
                         format_func=lambda i: f"{rows[i]['name']} — {describe_entity(rows[i])}")
            if st.form_submit_button("Open 打开"):
                st.session_state.pop(f"{key}_cands", None)
                st.query_params["id"] = rows[i]["node_id"]
                st.rerun()
    return node_id


def open_here(label: str, node_id: str, key: str, icon: str | None = None) -> None:
    """A button opening another entity on this same page (``?id=`` replaced, the page run again):
    a page link to the page one is on does not navigate."""
    if st.button(label, key=key, icon=icon, type="tertiary"):
        st.query_params["id"] = node_id
        st.rerun()
