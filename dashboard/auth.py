"""The dashboard's login gate, roles, audit hooks, and the switch to a newer graph.

Called from ``pages/app.py`` before any page runs:

* :func:`login_gate` returns ``(name, role)`` of the signed-in visitor. Signing in happens on the
  server's own form (:mod:`credgraph.dashboard.signin`: argon2-checked password, rate-limited per
  user name), which sets an HttpOnly session cookie (``credgraph_session``: a random token whose
  hash the workspace keeps for 8 hours), so reloading a page does not ask again.
* :func:`allowed_pages` gives the pages of a role; the navigation holds only those.
* :func:`audit_page_view` records every opened profile (``view_person`` for a natural person);
  :func:`audit_downloads` makes every download button record an ``export`` when clicked;
  logins and failed logins are recorded too (:mod:`credgraph.security.audit`).
* :func:`follow_newest_graph` reopens the store when ``graph load`` completed a newer generation.

Tests and benchmarks sign in without the form: :func:`test_session` makes a user with a random
password and returns a session token to put in the browser's cookie (see
:func:`credgraph.dashboard.browser.serve`).
"""

from __future__ import annotations

import functools
import secrets
from typing import Any

__all__ = ["COOKIE", "current_actor", "audit_profile", "login_gate", "allowed_pages", "audit_page_view", "audit_downloads", "follow_newest_graph",
           "test_session", "record_event"]

COOKIE = "credgraph_session"


def record_event(cfg, actor: str, action: str, target: str | None = None, **detail: Any) -> None:
    """Append to the audit log; a log that cannot be written stops the page with the reason."""
    from credgraph.security.audit import AuditError, record

    try:
        record(cfg, actor=actor, action=action, target=target, **detail)
    except AuditError as exc:
        import streamlit as st

        st.error(f"the audit log cannot be written, so nothing is shown: {exc}")
        st.stop()


def allowed_pages(role: str) -> tuple[str, ...]:
    """Page keys (credgraph.dashboard.ui.PAGES) the role may open."""
    from credgraph.security.users import ROLE_PAGES

    return ROLE_PAGES.get(role, ())


def login_gate(cfg) -> tuple[str, str]:
    """(name, role) of the signed-in visitor; otherwise a link to the sign-in form, and the page stops.

    The session cookie is set and cleared by the server (:mod:`credgraph.dashboard.signin`), so no
    page script can read it; this only checks it again for each session (a removed user or an ended
    session is signed out at once)."""
    import streamlit as st

    from credgraph.dashboard.signin import SIGNIN_PATH, SIGNOUT_PATH
    from credgraph.security.users import session_user

    state = st.session_state
    token = state.get("credgraph_token") or st.context.cookies.get(COOKIE)
    user = session_user(cfg, token)
    if user:
        state["credgraph_user"], state["credgraph_token"] = user, token
        with st.sidebar:
            st.caption(f"signed in: {user[0]} ({user[1]})")
            st.markdown(f'<a href="{SIGNOUT_PATH}" target="_self">Sign out 退出</a>', unsafe_allow_html=True)
        return user
    state.pop("credgraph_user", None)
    state.pop("credgraph_token", None)
    st.title("credgraph · sign in 登录")
    st.markdown(f'Signed out. <a href="{SIGNIN_PATH}" target="_self">Sign in 登录</a>', unsafe_allow_html=True)
    st.stop()
    raise AssertionError("unreachable")  # st.stop() ends the run


def current_actor() -> str:
    """The signed-in user of the session running now (``?`` outside a signed-in session)."""
    try:
        import streamlit as st

        user = st.session_state.get("credgraph_user")
    except Exception:  # noqa: BLE001 - not in a Streamlit run (tests, CLI)
        user = None
    return user[0] if user else "?"


def audit_profile(cfg, user: tuple[str, str], node_id: str) -> None:
    """Record the opening of profile ``node_id`` once per session (entity ids of persons start with N)."""
    import streamlit as st

    seen = st.session_state.setdefault("credgraph_viewed", set())
    if node_id and node_id not in seen:
        seen.add(node_id)
        audit_page_view(cfg, user, "profile", node_id, "NaturalPerson" if node_id.startswith("N") else None)


def audit_page_view(cfg, user: tuple[str, str], page_key: str, node_id: str, label: str | None) -> None:
    """Record that ``user`` opened ``node_id`` on ``page_key`` (``view_person`` for a natural person)."""
    if not node_id:
        return
    action = "view_person" if label == "NaturalPerson" else "view_entity"
    record_event(cfg, user[0], action, target=node_id, page=page_key, role=user[1])


def _wrap_data(cfg, label, data, file_name):
    """``data`` as a callable that records an ``export`` by the signed-in user when the file is made
    (Streamlit calls it when the button is clicked)."""
    import streamlit as st

    user = st.session_state.get("credgraph_user") or ("?", "?")  # the session rendering the button

    def produce():
        record_event(cfg, user[0], "export", target=file_name, label=str(label), role=user[1])
        return data() if callable(data) else data

    return produce


def audit_downloads(cfg) -> None:
    """Make every ``download_button`` (``st.`` or a column's) record an ``export`` (who, which file)
    each time a file is downloaded. Installed once per server process."""
    import streamlit as st
    from streamlit.delta_generator import DeltaGenerator

    if getattr(DeltaGenerator.download_button, "_credgraph_audited", False):
        return
    original = DeltaGenerator.download_button

    @functools.wraps(original)
    def audited(self, label, data, file_name=None, *args, **kwargs):
        return original(self, label, _wrap_data(cfg, label, data, file_name), file_name, *args, **kwargs)

    audited._credgraph_audited = True
    DeltaGenerator.download_button = audited
    main = st.download_button.__self__  # st.download_button is bound to the main delta generator
    st.download_button = audited.__get__(main, DeltaGenerator)


_temp_done: set[str] = set()


def private_temp_files(cfg) -> None:
    """Once per server process: owner-only files, stale temp files removed, temporary files in the workspace."""
    import os

    from credgraph.atomic import clean_stale_temps, use_private_tempdir

    key = str(cfg.workspace_path)
    if key in _temp_done:
        return
    _temp_done.add(key)
    os.umask(0o077)
    clean_stale_temps(cfg.workspace_path)
    use_private_tempdir(cfg.workspace_path)


def keep_identifiers_out_of_the_url() -> None:
    """Drop ``?q=`` from the page address when it holds an ID number or a phone (the search box keeps it
    for the session): addresses end up in browser history, proxies and screenshots."""
    import re

    import streamlit as st

    from credgraph.dashboard.privacy import looks_like_id

    q = (st.query_params.get("q") or "").strip()
    digits = re.sub(r"[\s-]", "", q)
    if q and (looks_like_id(digits) or re.fullmatch(r"(\+?86)?1[3-9]\d{9}", digits)):
        st.query_params.pop("q", None)


_seen: dict[str, Any] = {}


def follow_newest_graph(cfg, workbench_factory) -> Any:
    """The workbench, reopened on the newest complete graph when ``graph load`` made a new generation."""
    import streamlit as st

    from credgraph.graph.generation import current_generation

    gen = (current_generation(cfg) or {}).get("generation")
    key = str(cfg.workspace_path)
    wb = workbench_factory()
    if key not in _seen:
        _seen[key] = gen
    elif _seen[key] != gen:
        _seen[key] = gen
        try:
            wb.close()
        finally:
            st.cache_resource.clear()
        wb = workbench_factory()
        st.toast(f"a newer graph was loaded: now showing generation {gen}")
    return wb


def test_session(cfg, name: str = "browser-test", role: str = "admin") -> str:
    """Make (or reset) user ``name`` with a random password and return a session token for it:
    what test and benchmark launchers put in the browser's ``credgraph_session`` cookie."""
    from credgraph.security.users import add_user, new_session

    add_user(cfg, name, role, secrets.token_urlsafe(24))
    return new_session(cfg, name)
