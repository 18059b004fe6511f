"""Issue 13, "Why" 7 in a real browser: nobody who merely reaches the dashboard sees anything.

The dashboard is served on a copy of the small city with no session cookie: the login form is
all there is. Wrong passwords are refused and then rate-limited with a clear message (no stack
trace); an analyst signs in and sees only the analyst's pages (no person profile); an
investigator opening a person's profile is in the audit log, as are the logins.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import pytest

from credgraph.config import Config
from credgraph.dashboard.auth import COOKIE
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
    """Fill the server's sign-in form (a plain HTML page) and submit it."""
    page.get_by_label("user 用户名").fill(name)
    page.get_by_label("password 密码").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in 登录").click()


def test_login_gate_roles_rate_limit_and_audit(site):
    with chromium() as browser:
        ctx = browser._b.new_context()  # no test cookie: a stranger's browser
        page = ctx.new_page()
        page.set_default_timeout(60_000)
        page.goto(site["url"] + "/overview")
        assert urlsplit(page.url).path == "/signin"  # sent to the form by the server, before any page runs
        see(page, "sign in 登录")
        body = page.inner_text("body")
        assert "Overview" not in body and "Search 搜索" not in body  # no page, no navigation
        for _ in range(5):
            _sign_in(page, "wang", "not the password")
            see(page, "wrong user name or password")
        _sign_in(page, "wang", "analyst password 1")
        see(page, "too many failed logins for 'wang'")
        assert "Traceback" not in page.inner_text("body")
        assert not [c for c in ctx.cookies() if c["name"] == COOKIE]  # refused: no session
        # another user signs in and lands on the page first asked for, with the pages of the role only
        page.goto(site["url"] + "/overview")
        _sign_in(page, "li", "investigator password 1")
        assert urlsplit(page.url).path == "/overview"
        settle(page)
        try:  # the first signed-in run builds the analytics: slow on a busy machine
            _body_has(page, "signed in: li (investigator)")
        finally:
            page.screenshot(path=str(site["ws"].parent / "li.png"), full_page=True)
        clean(page)
        nav = page.inner_text('[data-testid="stSidebarNav"]')
        assert "Entity profile" in nav and "Cypher console" not in nav
        # the session cookie is the server's: no script on the page can read it, no other site send it
        (cookie,) = [c for c in ctx.cookies() if c["name"] == COOKIE]
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert COOKIE not in page.evaluate("document.cookie")
        person = _a_person(site)
        page.goto(f"{site['url']}/profile?id={person}")
        settle(page)
        _body_has(page, "signed in: li (investigator)")  # the session cookie keeps the sign-in across loads
        see(page, "Entity profile 主体画像")
        # a searched ID number does not stay in the page address
        full = _a_full_id(site)
        page.goto(f"{site['url']}/search?q={full}")
        settle(page)
        page.wait_for_function("() => !location.search.includes('q=')", timeout=30_000)
        assert full not in page.url
        # signing out ends the session on the server: the old cookie no longer opens a page
        with page.expect_navigation():
            page.get_by_text("Sign out 退出").click()
        assert urlsplit(page.url).path == "/signin"
        ctx.add_cookies([cookie])  # the old cookie, put back by hand
        page.goto(f"{site['url']}/profile?id={person}")
        assert urlsplit(page.url).path == "/signin"
        ctx.close()
    events = [json.loads(x) for x in (site["ws"] / "audit" / "audit.jsonl").read_text().splitlines()]
    assert sum(e["action"] == "login_failed" for e in events) >= 6
    assert any(e["action"] == "login" and e["actor"] == "li" for e in events)
    assert any(e["action"] == "view_person" and e["target"] == person and e["actor"] == "li" for e in events)
    assert any(e["action"] == "logout" and e["actor"] == "li" for e in events)


def test_signin_form_refuses_a_post_from_elsewhere_and_an_offsite_next(site):
    """Through the real server, without a browser: a form post without the form's own token (what
    another site would send) signs nobody in; ``next`` never leads off the dashboard."""
    import requests

    s = requests.Session()
    r = s.post(site["url"] + "/signin", data={"user": "li", "password": "investigator password 1"},
               allow_redirects=False)
    assert r.status_code == 400 and "expired" in r.text and COOKIE not in s.cookies
    form = s.get(site["url"] + "/signin?next=//evil.example/x")
    token = re.search(r'name="form_token" value="([^"]+)"', form.text).group(1)
    r = s.post(site["url"] + "/signin?next=//evil.example/x",
               data={"user": "li", "password": "investigator password 1", "form_token": token}, allow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert "HttpOnly" in r.headers["set-cookie"] and "SameSite=Strict" in r.headers["set-cookie"]


def _body_has(page, text: str, timeout: float = 180_000) -> None:
    page.wait_for_function("t => document.body.innerText.includes(t)", arg=text, timeout=timeout, polling=100)


def _a_full_id(site) -> str:
    import polars as pl

    ents = pl.read_parquet(site["ws"] / "entities" / "entities.parquet")
    return ents.filter(pl.col("id_number").str.contains(r"^\d{17}[\dX]$"))["id_number"].sort()[0]


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
        _body_has(page, "signed in: wang (analyst)")
        nav = page.inner_text('[data-testid="stSidebarNav"]')
        assert "Cypher console" in nav
        assert not re.search("Entity profile|Review queue|Inspection lists", nav)
        page.goto(site["url"] + "/profile?id=" + _a_person(site))  # not a page of the role
        settle(page)
        assert "Entity profile 主体画像" not in page.inner_text('[data-testid="stMain"]')
        ctx.close()
