"""Streamlit entry point of the credgraph dashboard (started by ``credgraph dashboard``).

Run as a script by Streamlit: it sets up the page, registers the pages (its siblings in
``pages/``) and runs the one the URL names. It lives *inside* ``pages/`` on purpose: a
folder named ``pages`` next to the entry script would switch Streamlit to its old
directory-based navigation for a session's first page, bypassing ``st.navigation``. The configuration comes from the launcher
(:data:`credgraph.dashboard.data.CONFIG_ENV`) or, run by hand, from credgraph.toml.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import streamlit as st

from credgraph.dashboard.ui import PAGES, STYLE

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")

st.set_page_config(page_title="credgraph · 信用关系网络", layout="wide")  # no page_icon: a Material one is fetched from Google
# The explorer's graph component, imported on the first page (its first import takes a
# second) and in a script run: there it registers its files with the server (imported in
# another thread, they would not be served).
try:
    import st_link_analysis  # noqa: F401,E402
except ImportError:  # pragma: no cover - the explorer page says so
    pass
st.html(STYLE)  # style only: Streamlit puts it out of the page flow

# Sign-in, roles, audit and the newest graph (credgraph.dashboard.auth): before any page runs.
from credgraph.dashboard import auth as _auth  # noqa: E402
from credgraph.dashboard.data import config_from_env as _config_from_env, workbench as _workbench  # noqa: E402

_cfg = _config_from_env()
_user = _auth.login_gate(_cfg)
_auth.audit_downloads(_cfg)
_auth.follow_newest_graph(_cfg, _workbench)
_allowed = set(_auth.allowed_pages(_user[1]))

_HERE = Path(__file__).parent
_SECTIONS = {
    "Find 查找": ("overview", "search", "profile"),
    "Investigate 调查": ("explorer", "ownership", "shells"),
    "Supervise 监管": ("inspection", "review", "cypher"),
}
_first = next(k for keys in _SECTIONS.values() for k in keys if k in _allowed)
pages = {
    section: [st.Page(str(_HERE / PAGES[k][0]), title=PAGES[k][1], url_path=PAGES[k][2], default=(k == _first))
              for k in keys if k in _allowed]
    for section, keys in _SECTIONS.items()
}
page = st.navigation({s: p for s, p in pages.items() if p})
if page.url_path == "profile":  # recorded before the person is shown
    _auth.audit_profile(_cfg, _user, (st.query_params.get("id") or "").strip())
_t0 = time.perf_counter()
_log = logging.getLogger("credgraph.dashboard")
_log.info("page %s started", page.url_path or "overview")
try:
    page.run()
finally:  # the server-side part of each interaction, for the benchmark and the curious
    if page.url_path == "profile":  # every profile opened is in the audit log (once per session and id)
        _auth.audit_profile(_cfg, _user, (st.query_params.get("id") or "").strip())
    _log.info("page %s ran in %.3f s", page.url_path or "overview", time.perf_counter() - _t0)
