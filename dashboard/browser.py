"""Driving the dashboard in a real browser: Debian chromium through Playwright for Python.

Shared by the browser tests (``tests/test_dashboard_browser.py``) and the browser benchmark
(``bench/bench_dashboard.py``), so both wait for the app and find the graph's nodes the same
way. Playwright is imported only by :func:`chromium` (it is a test/bench dependency, not one
of the dashboard's), and never downloads a browser: ``executable_path`` is Debian's binary.

* :func:`serve` starts the app on a free loopback port for a workspace and stops it after;
* :func:`idle` / :func:`settle` wait until Streamlit has finished the current script run;
* :func:`see` waits for a text, :func:`visible` for any locator (checking every 20 ms:
  timings stay exact); :func:`clean` asserts that no stack trace is shown;
* :func:`graph_frame`, :func:`cy_nodes`, :func:`cy_count`, :func:`wait_nodes`,
  :func:`node_point`, :func:`fit` reach into the st-link-analysis canvas (Cytoscape) to
  read what is drawn and to click or double-click a node where it is on the screen.

>>> 1024 <= free_port() <= 65535
True
"""

from __future__ import annotations

import contextlib
import socket
import time
from pathlib import Path
from typing import Callable, Iterator

from credgraph.config import Config

__all__ = [
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "CY",
    "GRAPH_IFRAME",
    "chromium",
    "clean",
    "cy_count",
    "cy_nodes",
    "fit",
    "free_port",
    "graph_frame",
    "idle",
    "node_point",
    "see",
    "serve",
    "settle",
    "visible",
    "wait_nodes",
]

#: Debian's chromium (never a browser downloaded by Playwright).
CHROMIUM = "/usr/bin/chromium"
#: No sandbox (containers), no GPU, and nothing fetched in the background.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
#: The Cytoscape instance inside the st-link-analysis iframe.
CY = "document.getElementById('cy')._cyreg.cy"
GRAPH_IFRAME = "iframe[title*='st_link_analysis']"
_IDLE_JS = ("() => { const w = document.querySelector('[data-testid=\"stStatusWidget\"]'); "
            "return !w || !/Running|Connecting/.test(w.innerText); }")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(cfg: Config, workspace: str | Path, log_path: str | Path, timeout: float = 120.0,
          role: str | None = "admin") -> Iterator[str]:
    """The dashboard served for ``workspace`` on a free port; yields its base URL and stops
    the server on exit. Raises RuntimeError (naming the log) when it does not come up.

    ``role``: a test user ``browser-test`` with this role and a random password is made in the
    workspace, and every browser from :func:`chromium` carries its session cookie for this
    server, so pages open signed in (None: no user; the login form shows)."""
    import copy

    from credgraph.dashboard.auth import COOKIE, test_session
    from credgraph.dashboard.launcher import launch, url, wait_until_up

    port = free_port()
    if role is not None:
        wcfg = copy.deepcopy(cfg)
        wcfg.workspace.path = str(workspace)
        _COOKIES.append({"name": COOKIE, "value": test_session(wcfg, role=role), "url": url(port)})
    proc = launch(cfg, port, workspace, log_path=log_path)
    try:
        if not wait_until_up(port, timeout, proc):
            raise RuntimeError(f"the dashboard did not start; see {log_path}")
        yield url(port)
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except Exception:  # noqa: BLE001 - a server that ignores SIGTERM is killed
            proc.kill()
            proc.wait(10)


#: Session cookies of the test users of the servers :func:`serve` started (one per server).
_COOKIES: list[dict] = []


class _SignedIn:
    """A Playwright Browser whose new contexts and pages carry the test users' session cookies."""

    def __init__(self, browser) -> None:
        self._b = browser

    def __getattr__(self, name):
        return getattr(self._b, name)

    def new_context(self, **kwargs):
        ctx = self._b.new_context(**kwargs)
        if _COOKIES:
            ctx.add_cookies(list(_COOKIES))
        return ctx

    def new_page(self, **kwargs):
        return self.new_context(**kwargs).new_page()


@contextlib.contextmanager
def chromium() -> Iterator[object]:
    """A headless Debian chromium (Playwright Browser), closed on exit; signed in to the servers
    :func:`serve` started."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield _SignedIn(b)
        finally:
            b.close()


def idle(page, quiet_ms: int = 100, timeout_ms: float = 120_000, poll_ms: int = 50) -> None:
    """Wait ``quiet_ms``, then until no script run is in progress (Streamlit's status widget
    no longer says Running or Connecting)."""
    if quiet_ms:
        page.wait_for_timeout(quiet_ms)
    page.wait_for_function(_IDLE_JS, timeout=timeout_ms, polling=poll_ms)


def settle(page, quiet_ms: int = 600) -> None:
    """Wait until the app has connected, its run is over, and ``quiet_ms`` more."""
    page.wait_for_selector('[data-testid="stMain"]')
    idle(page, quiet_ms)
    page.wait_for_timeout(quiet_ms)


def visible(locator, timeout: float = 60_000, poll_s: float = 0.02) -> None:
    """Wait until ``locator`` is visible, checking every ``poll_s`` seconds.

    Playwright's own ``wait_for`` checks ever less often (after 0, 20, 50, 100, 100 ms,
    then every 500 ms), so what appears after 0.9 s is seen at 1.3 s: timings taken with
    it are off by up to half a second. Same test (``is_visible``), asked every 20 ms."""
    deadline = time.monotonic() + timeout / 1000
    while not locator.is_visible():
        if time.monotonic() > deadline:
            locator.wait_for(state="visible", timeout=1)  # raises Playwright's own timeout error
        time.sleep(poll_s)


def see(page, text: str, timeout: float = 60_000) -> None:
    """Wait until ``text`` (a substring) is visible somewhere on the page: any element showing it,
    not only the first in the page's order (a hidden copy earlier in the page must not hide it)."""
    visible(page.get_by_text(text, exact=False).filter(visible=True).first, timeout)


def clean(page) -> None:
    """No stack trace and no Streamlit exception box anywhere on the page."""
    body = page.inner_text("body")
    assert "Traceback" not in body, "a stack trace is shown"
    assert page.locator('[data-testid="stException"]').count() == 0, "an exception box is shown"


def graph_frame(page, index: int = 0, timeout: float = 60_000):
    """The Frame of the ``index``-th graph component on the page (waits until it is shown)."""
    visible(page.locator(GRAPH_IFRAME).nth(index), timeout)
    frames = [f for f in page.frames if "st_link_analysis" in f.url]
    assert frames, "the graph component did not load"
    return frames[min(index, len(frames) - 1)]


def cy_nodes(frame) -> set[str]:
    """Ids of the nodes drawn on the canvas."""
    return set(frame.evaluate(f"() => {CY}.nodes().map(n => n.id())"))


def cy_count(frame) -> int:
    """How many nodes are drawn (-1 while the component is still mounting)."""
    try:
        return int(frame.evaluate(f"() => {CY}.nodes().length"))
    except Exception:  # noqa: BLE001 - still mounting
        return -1


def wait_nodes(frame, want: set[str] | Callable[[set[str]], bool], timeout_s: float = 30,
               poll_s: float = 0.02) -> set[str]:
    """Poll the drawn node ids until they equal ``want`` (or satisfy it, when a predicate);
    returns the last ids seen (compare them to see whether it happened in time)."""
    ok = want if callable(want) else (lambda got: got == want)
    deadline = time.monotonic() + timeout_s
    got: set[str] = set()
    while True:
        try:
            got = cy_nodes(frame)
        except Exception:  # noqa: BLE001 - the component is still mounting
            got = set()
        if ok(got) or time.monotonic() > deadline:
            return got
        time.sleep(poll_s)


def fit(frame) -> None:
    """Press the graph's "fit to screen" button (nodes an expansion placed off-screen come into view)."""
    frame.click("#viewbarFit")
    time.sleep(0.6)


def node_point(page, frame, node_id: str, index: int = 0, centre: bool = False) -> tuple[float, float]:
    """Page coordinates of a node's centre, once the layout has stopped moving it. With
    ``centre`` the view is first panned to put the node in the middle of the canvas (a node
    near the left edge may lie under the component's panel of the selected node's details)."""
    iframe = page.locator(GRAPH_IFRAME).nth(index)
    iframe.scroll_into_view_if_needed()
    if not frame.evaluate(f"(id) => {CY}.$id(id).length", node_id):
        raise AssertionError(f"node {node_id} is not drawn on the canvas")
    if centre:  # panned by hand: Cytoscape's cy.center(node) here blocks the page for 20 s, then crashes it
        frame.evaluate(f"(id) => {{ const cy = {CY}; const p = cy.$id(id).position(); const z = cy.zoom(); "
                       "cy.pan({x: cy.width() / 2 - p.x * z, y: cy.height() / 2 - p.y * z}); }", node_id)
    last = None
    for _ in range(60):
        p = frame.evaluate(f"(id) => {{ const n = {CY}.$id(id); const r = document.getElementById('cy')"
                           ".getBoundingClientRect(); const q = n.renderedPosition(); "
                           "return [q.x + r.left, q.y + r.top]; }", node_id)
        if last and abs(p[0] - last[0]) < 0.5 and abs(p[1] - last[1]) < 0.5:
            break
        last = p
        time.sleep(0.1)
    box = iframe.bounding_box()
    return box["x"] + p[0], box["y"] + p[1]
