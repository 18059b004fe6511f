"""The dashboard in a real browser (Debian chromium driven by Playwright for Python).

One server for the module, on a copy of a 600-entity city built with the stages' public
APIs. What an investigator does, end to end: search → profile (and its credit report) →
explorer (double-click a node to expand it; click two nodes and find the path between
them) → an inspection list downloaded as CSV and XLSX → a review decision → the Cypher
console refusing a write. Bad input (unknown id, empty search, malformed Cypher) must give
a clear message, never a stack trace. Every request the pages make must stay on
127.0.0.1. Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import io
import re
import shutil
import time
from pathlib import Path

import polars as pl
import pytest

from credgraph.config import Config
from credgraph.dashboard import Workbench
from credgraph.dashboard.browser import (CY, chromium, clean, fit, graph_frame, node_point, see, serve, settle,
                                         wait_nodes)
from credgraph.dashboard.sample import cached_city
from credgraph.graph import REL_TYPES

pytestmark = pytest.mark.browser

ENTITIES = 600
SEED = 7
ARTIFACTS = Path(__file__).parent / "artifacts"
EXPLORER_TYPES = [t for t in REL_TYPES if t != "HAS_RECORD"]  # the explorer's default filter
EXTERNAL: list[str] = []


# ------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The workspace copy, what the pages should show (computed before the server starts),
    and the running server."""
    city = cached_city(tmp_path_factory.getbasetemp() / "dashboard-city", ENTITIES, SEED)
    ws = tmp_path_factory.mktemp("dash-browser") / "ws"
    shutil.copytree(city, ws)
    cfg = Config()
    cfg.workspace.path = str(ws)
    expect = _expectations(cfg)
    ARTIFACTS.mkdir(exist_ok=True)
    with serve(cfg, ws, ARTIFACTS / "server.log", timeout=90) as base:
        yield {"url": base, "ws": ws, "cfg": cfg, **expect}


def _expectations(cfg: Config) -> dict:
    """Answers computed with the Workbench directly (the pages must show the same)."""
    w = Workbench(cfg)
    try:
        a = w.analysis()
        e = a.edges
        # a company whose legal representative represents another company too; small
        # enough neighbourhoods that one page shows them whole
        # (in a fixed order, and held by shareholders: the ownership and report pages show them; a
        # group_by's order varies between runs, and a law firm without shareholders was picked once)
        reps = (e.filter(pl.col("type") == "LEGAL_REP_OF").sort("src", "dst")
                .group_by("src", maintain_order=True).agg(pl.col("dst")))
        reps = reps.filter(pl.col("dst").list.len() >= 2)
        held = set(e.filter(pl.col("type") == "SHAREHOLDER_OF")["dst"].to_list())
        pick = None
        for person, companies in reps.iter_rows():
            total_p = w.network.expand(person, 1, EXPLORER_TYPES, limit=25)["total"]
            for c in companies:
                if c in held and w.network.expand(c, 1, EXPLORER_TYPES, limit=25)["total"] <= 25 and total_p <= 25:
                    pick = (c, person, [x for x in companies if x != c][0])
                    break
            if pick:
                break
        assert pick, "no suitable company in the test city"
        company, person, other = pick
        first = w.network.expand(company, 1, EXPLORER_TYPES, limit=25)
        canvas1 = {company} | {n["node_id"] for n in first["nodes"]}
        second = w.network.expand(person, 1, EXPLORER_TYPES, limit=25, existing=canvas1)
        canvas2 = canvas1 | {n["node_id"] for n in second["nodes"]}
        paths = w.network.paths(company, other, 4)
        shortest = int(paths["length"][0])
        shortest_edges = {e for ids in paths.filter(pl.col("length") == shortest)["edge_ids"].to_list() for e in ids}
        # the page draws per risk class (the configured strata) with the configured ratios (its default inputs)
        assert cfg.analytics.inspection_strata == "risk"
        listing = w.lists.inspection(cfg.analytics.inspection_seed, cfg.analytics.inspection_budget,
                                     tuple(cfg.analytics.risk_class_ratios))
        up = w.network.ownership(company, "up", 5)
        down = w.network.ownership(company, "down", 5)
        holders = [(r["name"], r["ratios"][0]) for r in up.filter(pl.col("depth") == 1).iter_rows(named=True)]
        ownership_nodes = {company} | {n for ch in up["path"].to_list() + down["path"].to_list() for n in ch}
        queue = w.review.review_queue()
        person_id_masked = a.net.nodes.filter(pl.col("node_id") == person)["id_masked"][0]
        # resolution's entity table keeps the full number (never shown): the page must not show it
        ents = pl.read_parquet(cfg.workspace_path / "entities" / "entities.parquet")
        person_full_id = ents.filter(pl.col("entity_id") == person)["id_number"][0]
        persons = a.net.nodes.filter(pl.col("label") == "NaturalPerson")
        namesakes = (persons.group_by("name").agg(pl.col("node_id").sort(), pl.col("id_masked"))
                     .filter(pl.col("node_id").list.len() >= 2).sort("name").row(0, named=True))
        full_ids = [x for x in ents["id_number"].drop_nulls().to_list() if len(x) == 18]
        group = w.lists.shell_groups().row(0, named=True)
        complaint = [n for n in w.analysis().grades.grades["node_id"].to_list()
                     if n not in set(listing.targets["node_id"].to_list())][0]
        return {"namesakes": namesakes, "full_ids": full_ids, "shell_group": group["group_id"],
                "shell_size": group["size"], "complaint": complaint,
                "complaint_uscc": a.net.nodes.filter(pl.col("node_id") == complaint)["uscc"][0],
                "rep_of_company": w.find.context().filter(pl.col("node_id") == company)["rep_id"][0],
                "company": company, "company_name": a.net.names[a.net.index_of([company])[0]],
                "other_name": a.net.names[a.net.index_of([other])[0]], "person": person, "person_name": a.net.names[a.net.index_of([person])[0]],
                "person_id_masked": person_id_masked, "person_full_id": person_full_id, "other": other, "canvas1": canvas1, "canvas2": canvas2,
                "shortest": shortest, "shortest_edges": shortest_edges, "holders": holders,
                "ownership_nodes": ownership_nodes, "inspection_ids": listing.targets["node_id"].to_list(),
                "review_pair": (queue["left"][0], queue["right"][0]) if queue.height else None}
    finally:
        w.close()


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser, site):
    ctx = browser.new_context(viewport={"width": 1440, "height": 1300}, accept_downloads=True, locale="zh-CN")
    local = site["url"].replace("http://", "")

    def watch(req):
        u = req.url
        if not (u.startswith(("data:", "blob:", "about:")) or local in u.split("/")[2:3]):
            EXTERNAL.append(u)

    ctx.on("request", watch)
    pg = ctx.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    ctx.close()


# ------------------------------------------------------------------------------- helpers
def open_page(page, site, path: str) -> None:
    page.goto(f"{site['url']}/{path}")
    settle(page)


def shot(page, name: str) -> Path:
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# --------------------------------------------------------------------------------- tests
def test_overview_shows_the_pictures(page, site):
    open_page(page, site, "")
    see(page, "Grade distribution")
    page.locator('[data-testid="stVegaLiteChart"]').nth(3).wait_for(state="visible")
    assert page.locator('[data-testid="stVegaLiteChart"]').count() >= 4
    page.wait_for_timeout(1500)
    clean(page)
    shot(page, "01-overview")


def test_search_then_profile_and_report(page, site):
    open_page(page, site, "search")
    name = site["company_name"]
    page.get_by_placeholder("名称 / 代码 / 身份证号 / 拼音").fill(name)
    page.get_by_role("button", name="Search 搜索").click()
    see(page, "best match")
    page.get_by_role("link", name=name, exact=True).first.click()
    page.wait_for_url(f"**/profile?id={site['company']}")
    settle(page)
    see(page, "Grade 信用等级")
    see(page, "Records 信用记录")
    see(page, "Risk scan 风险扫描")
    see(page, "评级依据")
    assert page.get_by_role("heading", name=name).count() >= 1
    # the risk sources come last: once they are there, the page is complete
    page.get_by_text(re.compile("no risk received|占传入风险")).first.wait_for(state="visible")
    page.locator("table.cg-table").last.wait_for(state="visible")
    settle(page)
    clean(page)
    shot(page, "02-profile-company")
    with page.expect_download() as dl:
        page.get_by_role("button", name="enterprise credit report (HTML)").click()
    html = Path(dl.value.path()).read_text(encoding="utf-8")
    assert name in html and "企业信用报告" in html and site["person_name"] in html

    # the legal representative's profile: the ID number only masked
    open_page(page, site, f"profile?id={site['person']}")
    see(page, "Identity")
    see(page, "Companies controlled")
    if site["person_id_masked"]:
        assert "*" in site["person_id_masked"]
        see(page, site["person_id_masked"])
    body = page.inner_text("body")
    assert site["person_full_id"] and site["person_full_id"] not in body
    clean(page)
    shot(page, "03-profile-person")


def test_explorer_double_click_expands_and_path_joins_two_nodes(page, site):
    open_page(page, site, f"explorer?id={site['company']}")
    see(page, "on the canvas")
    frame = graph_frame(page)
    got = wait_nodes(frame, site["canvas1"])
    assert got == site["canvas1"]
    page.wait_for_timeout(800)
    x, y = node_point(page, frame, site["person"])
    page.mouse.dblclick(x, y)
    got = wait_nodes(frame, site["canvas2"])
    assert got == site["canvas2"], "double-click did not add the legal representative's neighbours"
    settle(page)
    see(page, f"{site['person_name']}: showing neighbours")
    page.wait_for_timeout(1200)
    clean(page)
    shot(page, "04-explorer-expanded")

    # click the two companies: they become the ends of the path
    fit(graph_frame(page))
    for nid in (site["company"], site["other"]):
        frame = graph_frame(page)
        x, y = node_point(page, frame, nid, centre=True)
        page.mouse.click(x, y)
        page.wait_for_timeout(700)
        settle(page, 300)
    try:
        for k, name in enumerate((site["company_name"], site["other_name"])):
            box = page.locator('[data-testid="stSelectbox"]').nth(k)
            shown = ("el => el.innerText + ' ' + [...el.querySelectorAll('input')].map(i => i.value).join(' ') + "
                     "' ' + el.textContent")
            deadline = time.monotonic() + 20
            while name not in box.evaluate(shown) and time.monotonic() < deadline:
                time.sleep(0.25)
            assert name in box.evaluate(shown), "clicking a node did not make it an end of the path"
    finally:
        shot(page, "05a-explorer-selected")
    page.get_by_role("button", name="find paths 查找路径").click()
    settle(page)
    see(page, "Paths 路径")
    see(page, f"{site['shortest']} link(s):")
    frame = graph_frame(page)
    deadline = time.monotonic() + 20
    red: set[frozenset] = set()
    while time.monotonic() < deadline and not red:
        red = {frozenset(p) for p in frame.evaluate(
            f"() => {CY}.edges('[label = \"PATH\"]').map(e => [e.source().id(), e.target().id()])")}
        time.sleep(0.25)
    # parallel links are one line: the lines drawn as the path join exactly the shortest paths' pairs
    want = {frozenset(e.split("|")[1:3]) for e in site["shortest_edges"]}
    assert red == want, "the shortest path(s) are not the links drawn as the path"
    pairs = frame.evaluate(f"() => {CY}.edges().map(e => [e.source().id(), e.target().id()].sort().join('|'))")
    assert len(pairs) == len(set(pairs)), "parallel links drawn as separate lines"
    page.wait_for_timeout(1000)
    clean(page)
    shot(page, "05-explorer-path")


def test_inspection_list_preview_and_downloads(page, site):
    open_page(page, site, "inspection")
    page.get_by_role("button", name="Draw 生成名单").click()
    see(page, "enterprises drawn")
    see(page, "Preview 预览")
    chart = page.locator("div.cg-bars")
    chart.wait_for(state="visible")
    page.locator('[data-testid="stDataFrame"], table.cg-table').last.wait_for(state="visible")
    # one bar per risk class (the configured strata), titled with the number drawn: together the whole list
    bars = [chart.locator("div.cg-col").nth(i).get_attribute("title") for i in range(chart.locator("div.cg-col").count())]
    assert [b.split(": ")[0] for b in bars] == ["高风险", "较高风险", "一般风险", "低风险"]
    assert len(bars) == 4 and sum(float(b.split(": ")[1]) for b in bars) == len(site["inspection_ids"])
    page.wait_for_timeout(1500)
    clean(page)
    shot(page, "06-inspection")
    with page.expect_download() as dl:
        page.get_by_role("button", name="CSV", exact=True).click()
    raw = Path(dl.value.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "the CSV has no byte-order mark: Excel shows the Chinese as garbage"
    back = pl.read_csv(io.BytesIO(raw[3:]))
    assert back["node_id"].to_list() == site["inspection_ids"]
    assert back["seed"].unique().to_list() == [site["cfg"].analytics.inspection_seed]
    with page.expect_download() as dl:
        page.get_by_role("button", name="XLSX", exact=True).click()
    import openpyxl

    target = site["ws"].parent / "inspection.xlsx"
    dl.value.save_as(target)
    wbk = openpyxl.load_workbook(target, read_only=True)
    rows = list(wbk["targets"].iter_rows(values_only=True))
    assert len(rows) - 1 == len(site["inspection_ids"])


def test_review_decision_is_stored_as_a_judgement(page, site):
    assert site["review_pair"], "the test city has no uncertain pair to review"
    open_page(page, site, "review")
    see(page, "match probability")
    # both records of the pair in the page's text, waited for (the page renders them in turn)
    page.wait_for_function("ids => ids.every(t => document.body.innerText.includes(t))",
                           arg=list(site["review_pair"]), timeout=60_000, polling=100)
    page.get_by_label("who 审核人").fill("王调查员")
    page.get_by_label("why 理由").fill("营业执照上同一注册号")
    shot(page, "07-review")
    page.get_by_role("button", name="match 同一主体").click()
    see(page, "recorded match")
    clean(page)
    j = pl.read_parquet(site["ws"] / "entities" / "judgements.parquet")
    assert j.height == 1
    row = j.row(0, named=True)
    assert (row["left"], row["right"]) == tuple(sorted(site["review_pair"]))
    assert row["decision"] == "match" and row["who"] == "王调查员" and row["why"] == "营业执照上同一注册号"


def test_cypher_console_refuses_writes_and_draws_results(page, site):
    open_page(page, site, "cypher")
    box = page.locator("textarea").first
    box.fill("MATCH (n:LegalPerson) DETACH DELETE n")
    page.get_by_role("button", name="Run 运行").click()
    see(page, "query refused: read-only")
    clean(page)
    shot(page, "08-cypher-write-refused")
    box.fill("MATCH (n:LegalPerson RETURN n")
    page.get_by_role("button", name="Run 运行").click()
    see(page, "not valid Cypher")
    clean(page)
    box.fill("MATCH (p:NaturalPerson)-[r:LEGAL_REP_OF]->(c:LegalPerson) RETURN p, r, c LIMIT 10")
    page.get_by_role("button", name="Run 运行").click()
    try:
        see(page, "10 row(s)", timeout=20_000)
    finally:
        shot(page, "09-cypher-graph")
    frame = graph_frame(page)
    deadline = time.monotonic() + 20
    n = 0
    while time.monotonic() < deadline and n == 0:
        try:
            n = frame.evaluate(f"() => {CY}.edges().length")
        except Exception:  # noqa: BLE001 - still mounting
            n = 0
        time.sleep(0.25)
    assert n == 10
    page.wait_for_timeout(1000)
    clean(page)
    shot(page, "09-cypher-graph")
    assert site["cfg"].graph.backend == "embedded"
    # the graph is unchanged: the write above was refused by the database
    w = Workbench(site["cfg"])
    try:
        assert w.find.search(site["company_name"])["node_id"].to_list()[0] == site["company"]
    finally:
        w.close()


@pytest.mark.parametrize("path,message", [
    ("profile?id=NO-SUCH-ENTITY", "no entity with id"),
    ("explorer?id=NO-SUCH-ENTITY", "no node with id"),
    ("ownership?id=NO-SUCH-ENTITY", "no entity with id"),
])
def test_unknown_ids_give_a_clear_message(page, site, path, message):
    open_page(page, site, path)
    see(page, message)
    clean(page)


def test_empty_search_gives_a_clear_message(page, site):
    open_page(page, site, "search")
    page.get_by_role("button", name="Search 搜索").click()
    see(page, "type a name")
    clean(page)
    shot(page, "10-empty-search")


def test_ownership_tree(page, site):
    open_page(page, site, f"ownership?id={site['company']}")
    see(page, "Shareholders (up)")
    see(page, "integrated share")
    assert site["holders"], "the chosen company has no shareholders on record"
    for name, share in site["holders"]:  # every holder with its direct share, as the store computes it
        see(page, f"{name} — holds {share * 100:.1f}%")
    frame = graph_frame(page)
    got = wait_nodes(frame, site["ownership_nodes"])
    assert got == site["ownership_nodes"]
    page.wait_for_timeout(1000)
    clean(page)
    shot(page, "11-ownership")


def test_nothing_loaded_from_the_internet(page, site):
    """Every page, opened afresh, fetches only from the dashboard's own address (this test
    also sees what the tests above fetched)."""
    for path in ("", "search?q=深圳", f"profile?id={site['company']}", f"explorer?id={site['company']}",
                 f"ownership?id={site['company']}", "inspection", "shells", "review", "cypher"):
        open_page(page, site, path)
        clean(page)
    page.wait_for_timeout(1000)
    assert EXTERNAL == [], f"requests left 127.0.0.1: {EXTERNAL[:5]}"


def test_graph_component_files_are_cached_by_the_browser(page, site):
    """The component's hashed scripts and font are served to be kept (Streamlit alone sends
    no lifetime), so the explorer opened a second time loads none of them again."""
    import urllib.request

    def component_files(frame) -> dict[str, int]:
        """URL -> bytes transferred, for the frame's scripts and fonts."""
        entries = frame.evaluate("() => performance.getEntriesByType('resource')"
                                 ".map(e => [e.name, e.transferSize])")
        return {u: n for u, n in entries if u.endswith((".js", ".ttf"))}

    open_page(page, site, f"explorer?id={site['company']}")
    first = component_files(graph_frame(page))
    assert any("bundle.js" in u for u in first) and any(u.endswith(".ttf") for u in first)
    for u in first:
        with urllib.request.urlopen(u) as r:
            assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable", u
    frame_url = graph_frame(page).url.split("?")[0]
    with urllib.request.urlopen(frame_url) as r:  # the component's page itself is checked each time
        assert r.headers["Cache-Control"] == "no-cache"

    open_page(page, site, f"profile?id={site['company']}")
    open_page(page, site, f"explorer?id={site['company']}")
    again = component_files(graph_frame(page))
    assert set(again) == set(first)
    assert all(n == 0 for n in again.values()), f"fetched again: {[u for u, n in again.items() if n]}"



# ------------------------------------------------------------------ second edition (issue 16)
ID_LIKE = re.compile(r"(?<![0-9A-Z])\d{17}[\dX](?![0-9A-Z])")


def no_full_ids(page, site) -> None:
    """No resident ID number in clear on the page (its text and its links), nor in its URL."""
    from credgraph.dashboard.privacy import looks_like_id

    text = page.inner_text("body") + " " + " ".join(page.eval_on_selector_all("a", "els => els.map(e => e.href)"))
    found = [m for m in ID_LIKE.findall(text + " " + page.url) if looks_like_id(m)]
    assert not found, f"ID numbers in clear: {found[:3]}"
    assert not any(x in text or x in page.url for x in site["full_ids"][:200])


def test_search_tells_namesakes_apart_and_pages(page, site):
    ns = site["namesakes"]
    open_page(page, site, "search")
    page.get_by_placeholder("名称 / 代码 / 身份证号 / 拼音").fill(ns["name"])
    page.get_by_role("button", name="Search 搜索").click()
    see(page, "result(s)")
    table = page.locator("table.cg-table").first
    table.wait_for(state="visible")
    rows = table.inner_text()
    for masked in ns["id_masked"]:
        if masked:
            assert masked in rows  # each namesake shows its own masked ID number
    assert "类型" in rows and "法定代表人 / 角色" in rows and "等级" in rows
    clean(page)
    shot(page, "12-search-namesakes")
    no_full_ids(page, site)
    # paging: a broad search, twenty at a time
    page.get_by_placeholder("名称 / 代码 / 身份证号 / 拼音").fill("深圳")
    page.get_by_role("button", name="Search 搜索").click()
    page.get_by_role("button", name="next 下一页 ›").wait_for(state="visible")  # more than one page now
    settle(page)
    see(page, "page 1 of")
    assert page.locator("table.cg-table").first.locator("tbody tr").count() == 20
    page.get_by_role("button", name="next 下一页 ›").click()
    see(page, "page 2 of")
    clean(page)
    shot(page, "13-search-page-2")


def test_an_id_number_never_enters_the_url(page, site):
    pid = site["person_full_id"]
    open_page(page, site, "search")
    page.get_by_placeholder("名称 / 代码 / 身份证号 / 拼音").fill(pid)
    page.get_by_role("button", name="Search 搜索").click()
    see(page, site["person_id_masked"])  # found, shown masked
    assert pid not in page.url and "q=" not in page.url
    no_full_ids(page, site)
    # an entry box: the ID number opens the person's profile by its internal id
    open_page(page, site, "profile")
    page.get_by_placeholder("名称 / 统一社会信用代码 / 身份证号 / entity id").fill(pid)
    page.get_by_role("button", name="Open 打开").click()
    page.wait_for_url(re.compile(r".*/profile\?id=" + re.escape(site["person"]) + "$"))
    settle(page)
    see(page, "Identity 基本信息")
    assert pid not in page.url
    no_full_ids(page, site)
    history = page.evaluate("() => window.location.href + ' ' + document.referrer")
    assert pid not in history
    clean(page)
    shot(page, "14-id-number-entry")


def test_entry_box_lets_the_user_choose_among_namesakes(page, site):
    ns = site["namesakes"]
    open_page(page, site, "ownership")
    page.get_by_placeholder("名称 / 统一社会信用代码 / 身份证号 / entity id").fill(ns["name"])
    page.get_by_role("button", name="Open 打开").click()
    see(page, "choose one")
    settle(page)
    shot(page, "15-entry-choose")
    radios = page.locator('[role="radiogroup"] label')
    assert radios.count() >= len(ns["node_id"])
    pick = radios.filter(has_text=ns["id_masked"][1]).first if ns["id_masked"][1] else radios.nth(1)
    pick.click()
    page.get_by_role("button", name="Open 打开").last.click()
    page.wait_for_url(re.compile(r".*\?id=N.*"))
    settle(page)
    assert page.url.endswith(f"id={ns['node_id'][1]}") or ns["id_masked"][1] is None
    clean(page)


def test_profile_is_a_credit_report_with_links(page, site):
    open_page(page, site, f"profile?id={site['company']}")
    see(page, "Risk scan 风险扫描")
    for text in ("法定代表人", "注册地址", "登记状态", "注册资本", "自身风险", "关联风险", "历史风险"):
        see(page, text)
    body = page.inner_text("body")
    assert "e+0" not in body and "dishonest_debtor" not in body and "no_staff" not in body
    no_full_ids(page, site)
    see(page, "Joint reward and punishment 联合奖惩措施")
    see(page, "Grade history 等级变化")
    with page.expect_download(timeout=120_000) as dl:
        page.get_by_role("button", name="PDF").first.click()
    pdf = Path(dl.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF") and b"FontFile2" in pdf  # a PDF with an embedded TrueType (CJK) font
    shot(page, "16-profile-report")
    # the legal representative's name is a link to their profile
    settle(page)
    want = f"profile?id={site['rep_of_company']}"
    page.get_by_role("button", name=re.compile("法定代表人 ")).first.click()
    deadline = time.monotonic() + 20  # opened within the page (no load event): read the address bar itself

    def here() -> str:
        return page.evaluate("() => window.location.href")

    while not here().endswith(want) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert here().endswith(want)
    assert page.url.endswith(f"profile?id={site['rep_of_company']}")
    settle(page)
    see(page, "Identity 基本信息")
    clean(page)


def test_inspection_uploads_complaints_and_past_inspections(page, site, tmp_path):
    open_page(page, site, "inspection")
    page.get_by_text("past inspections and complaints").click()
    comp = tmp_path / "complaints.csv"
    comp.write_bytes(f"统一社会信用代码,原因\n{site['complaint_uscc']},群众举报\n91440300XXXXXXXXXX,坏行\n".encode("utf-8-sig"))
    page.locator('[data-testid="stFileUploader"]').nth(1).locator("input[type=file]").set_input_files(str(comp))
    see(page, "1 firm(s) read")
    see(page, "complaints.csv row 3")
    shot(page, "17-inspection-upload")
    page.get_by_role("button", name="Draw 生成名单").click()
    see(page, "enterprises drawn")
    with page.expect_download() as dl:
        page.get_by_role("button", name="CSV", exact=True).click()
    raw = Path(dl.value.path()).read_bytes()
    back = pl.read_csv(io.BytesIO(raw[3:]))
    assert site["complaint"] in back["node_id"].to_list()
    assert {"legal_rep", "address", "district"} <= set(back.columns)
    see(page, "法定代表人")
    clean(page)
    shot(page, "18-inspection-field-ready")


def test_shell_group_table_links_and_export(page, site):
    open_page(page, site, "shells")
    see(page, "空壳评分")
    groups, table = page.locator("table.cg-table").nth(0), page.locator("table.cg-table").nth(1)
    assert groups.locator("tbody tr").first.locator("td").first.inner_text() == site["shell_group"]
    see(page, f"{site['shell_group']} · {site['shell_size']} firms")  # the strongest group is shown first
    assert table.locator("tbody tr").count() == site["shell_size"]
    assert table.locator("tbody a").count() == site["shell_size"]  # every firm links to its profile
    clean(page)
    shot(page, "19-shells")
    with page.expect_download() as dl:
        page.get_by_role("button", name="CSV").nth(1).click()
    raw = Path(dl.value.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert pl.read_csv(io.BytesIO(raw[3:])).height == site["shell_size"]


def test_review_aligns_the_two_records(page, site):
    open_page(page, site, "review")
    page.get_by_text("show decided pairs too").click()  # the other test may have decided the only pair
    see(page, "The two records")
    assert page.locator("table.cg-align tr.cg-diff, table.cg-align tr.cg-one").count() >= 1
    see(page, "Their entities now")
    no_full_ids(page, site)
    clean(page)
    shot(page, "20-review-aligned")


def test_explorer_legend_centre_and_saved_investigation(page, site):
    open_page(page, site, f"explorer?id={site['company']}")
    see(page, "on the canvas")
    frame = graph_frame(page)
    wait_nodes(frame, site["canvas1"])
    centre = frame.evaluate(f"() => {CY}.nodes('[centre = 1]').map(n => n.id())")
    assert centre == [site["company"]]
    see(page, "中心 centre")
    page.get_by_placeholder("e.g. 太宁路231号 空壳群").fill("测试调查 一")
    page.get_by_role("button", name="save 保存").click()
    see(page, "saved as")
    assert (site["ws"] / "investigations" / "测试调查_一.json").is_file()
    with page.expect_download() as dl:
        page.get_by_role("button", name="PNG").click()
    png = Path(dl.value.path()).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    (ARTIFACTS / "21-investigation.png").write_bytes(png)
    page.get_by_role("button", name="clear canvas 清空").click()
    see(page, "load an entity")
    open_page(page, site, "explorer")
    see(page, "investigation 调查")
    shot(page, "22a-explorer-empty")
    page.locator('[data-testid="stSelectbox"]').last.click()
    page.get_by_text("测试调查 一").first.click()
    settle(page)
    page.get_by_role("button", name="open saved 打开").click()
    see(page, "opened")
    frame = graph_frame(page)
    assert wait_nodes(frame, site["canvas1"]) == site["canvas1"]
    clean(page)
    shot(page, "22-explorer-reopened")


def test_overview_by_district_industry_and_sources(page, site):
    deadline = time.monotonic() + 120
    while True:  # the tables come once the server's warm-up is done
        open_page(page, site, "")
        see(page, "Grade distribution")
        if page.get_by_text("Companies by district").count() or time.monotonic() > deadline:
            break
        time.sleep(1)
    see(page, "Companies by district")
    see(page, "Companies by industry")
    see(page, "Sources: coverage and freshness")
    see(page, "隔离率")
    clean(page)
    shot(page, "23-overview-city")


def test_masking_holds_on_every_page(page, site):
    for path in ("", "search?q=深圳", f"profile?id={site['company']}", f"profile?id={site['person']}",
                 f"explorer?id={site['person']}", f"ownership?id={site['company']}", "inspection", "shells", "review"):
        open_page(page, site, path)
        page.wait_for_timeout(500)
        no_full_ids(page, site)
