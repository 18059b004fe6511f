"""Issue 13, "Why" 7 in a real browser: nobody who merely reaches the dashboard sees anything.

The dashboard is served on a copy of the small city with no session cookie: the login form is
all there is. Wrong passwords are refused and then rate-limited with a clear message (no stack
trace); an analyst signs in and sees only the analyst's pages (no person profile); an
investigator opening a person's profile is in the audit log, as are the logins.
"""

from __future__ import annotations

import json
import re

import pytest

from credgraph.config import Config
from credgraph.dashboard.browser import chromium, clean, see, serve, settle

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(city, tmp_path_factory):
    import shutil

    from credgraph.security.users import add_user

    ws = tmp_path_factory.mktemp("login") / "ws"
    shutil.copytree(city, ws, ignore=shutil.ignore_patterns("secrets", "audit", "locks", "security"))
    cfg = Config()
    cfg.workspace.path = str(ws)
    add_user(cfg, "wang", "analyst", "analyst password 1")
    add_user(cfg, "li", "investigator", "investigator password 1")
    with serve(cfg, ws, tmp_path_factory.getbasetemp() / "login-server.log", timeout=120, role=None) as base:
        yield {"url": base, "ws": ws, "cfg": cfg}


def _sign_in(page, name: str, password: str) -> None:
    page.get_by_label("user 用户名").fill(name)
    page.get_by_label("password 密码").fill(password)
    page.get_by_role("button", name="Sign in 登录").click()
    settle(page, 300)


def test_login_gate_roles_rate_limit_and_audit(site):
    with chromium() as browser:
        ctx = browser._b.new_context()  # no test cookie: a stranger's browser
        page = ctx.new_page()
        page.set_default_timeout(60_000)
        page.goto(site["url"] + "/overview")
        settle(page)
        see(page, "sign in 登录")
        body = page.inner_text("body")
        assert "Overview" not in body and "Search 搜索" not in body  # no page, no navigation
        for _ in range(5):
            _sign_in(page, "wang", "not the password")
            see(page, "wrong user name or password")
        _sign_in(page, "wang", "analyst password 1")
        see(page, "too many failed logins for 'wang'")
        clean(page)
        # another user signs in: only the pages of the role
        page.goto(site["url"] + "/overview")
        settle(page)
        _sign_in(page, "li", "investigator password 1")
        try:
            see(page, "signed in: li (investigator)", timeout=120_000)
        finally:
            page.screenshot(path=str(site["ws"].parent / "li.png"), full_page=True)
        nav = page.inner_text('[data-testid="stSidebarNav"]')
        assert "Entity profile" in nav and "Cypher console" not in nav
        person = _a_person(site)
        page.goto(f"{site['url']}/profile?id={person}")
        settle(page)
        see(page, "signed in: li (investigator)")  # the session cookie keeps the sign-in across loads
        see(page, "Entity profile 主体画像")
        ctx.close()
        # an analyst: no profile page at all
        ctx = browser._b.new_context()
        page = ctx.new_page()
        page.set_default_timeout(60_000)
        page.goto(site["url"] + "/overview")
        settle(page)
        from credgraph.security.users import authenticate  # noqa: F401  (the rate limit has a window)

        ctx.close()
    events = [json.loads(x) for x in (site["ws"] / "audit" / "audit.jsonl").read_text().splitlines()]
    assert sum(e["action"] == "login_failed" for e in events) >= 6
    assert any(e["action"] == "login" and e["actor"] == "li" for e in events)
    assert any(e["action"] == "view_person" and e["target"] == person and e["actor"] == "li" for e in events)


def _a_person(site) -> str:
    import polars as pl

    ents = pl.read_parquet(site["ws"] / "entities" / "entities.parquet")
    return ents.filter(pl.col("type") == "natural")["entity_id"].sort()[0]


def test_analyst_sees_only_analyst_pages(site):
    from credgraph.dashboard.auth import COOKIE
    from credgraph.security.users import new_session

    token = new_session(site["cfg"], "wang")
    with chromium() as browser:
        ctx = browser._b.new_context()
        ctx.add_cookies([{"name": COOKIE, "value": token, "url": site["url"]}])
        page = ctx.new_page()
        page.set_default_timeout(60_000)
        page.goto(site["url"] + "/overview")
        settle(page)
        see(page, "signed in: wang (analyst)")
        nav = page.inner_text('[data-testid="stSidebarNav"]')
        assert "Cypher console" in nav
        assert not re.search("Entity profile|Review queue|Inspection lists", nav)
        page.goto(site["url"] + "/profile?id=" + _a_person(site))  # not a page of the role
        settle(page)
        assert "Entity profile 主体画像" not in page.inner_text('[data-testid="stMain"]')
        ctx.close()
