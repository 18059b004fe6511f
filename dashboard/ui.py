"""Small Streamlit helpers shared by the pages: error guard, masked tables, links, formats.

Pages stay thin: they read widgets, call the :class:`~credgraph.dashboard.data.Workbench`
and show what it returns through these helpers, so masking and error handling are the
same everywhere.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Iterator

import polars as pl
import streamlit as st

from credgraph.dashboard.data import DashboardError, Workbench, workbench
from credgraph.dashboard.privacy import mask_frame

__all__ = ["PAGES", "guard", "wb", "table", "page_link", "goto", "query_id", "pct", "num", "entity_label"]

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


def table(frame: pl.DataFrame, height: int | str = "auto", key: str | None = None, static_rows: int = 60, **kwargs):
    """A masked, index-free table; lists shown joined. Up to ``static_rows`` rows it is a
    static HTML table (draws faster than the interactive grid), else an interactive grid."""
    if frame is None or frame.width == 0:
        st.caption("nothing to show")
        return None
    shown = mask_frame(frame)
    shown = shown.with_columns([pl.col(c).list.join(" > ") for c, t in shown.schema.items() if t == pl.List(pl.Utf8)])
    if shown.height <= static_rows and not kwargs:
        floats = [c for c, t in shown.schema.items() if t in (pl.Float64, pl.Float32)]
        shown = shown.with_columns([pl.col(c).round(4) for c in floats])
        return st.table(shown.to_pandas().set_index(shown.columns[0]))
    return st.dataframe(shown.to_pandas(), hide_index=True, height=height, key=key, **kwargs)


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
