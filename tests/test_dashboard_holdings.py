"""Circular and cross holdings on the ownership page, on a hand-made workspace that has them
(tests/holdings_fixture.py: A → B → C → A and D ⇄ E, both above A; F and G in no loop).

Checked against the loops written by hand in the fixture and against networkx run over the
shareholder catalog file itself (its rows, not the graph the dashboard reads)."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import networkx as nx
import pytest

from credgraph.config import Config
from credgraph.dashboard import Workbench

sys.path.insert(0, str(Path(__file__).parent))
import holdings_fixture as hf  # noqa: E402


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Path:
    return hf.holdings_workspace(tmp_path_factory.getbasetemp() / "holdings-ws")


@pytest.fixture(scope="module")
def wb(ws):
    cfg = Config()
    cfg.workspace.path = str(ws)
    w = Workbench(cfg)
    yield w
    w.close()


def _entity(wb, key: str) -> str:
    """The entity id of a firm, found by its USCC with the dashboard's own entry-box lookup."""
    got = wb.find.quick_match(hf.code_of(key))
    assert got.height == 1, key
    return got["node_id"][0]


def _named(loop, wb) -> tuple[str, ...]:
    names = wb.names(loop.ids)
    return tuple(names[x][1] for x in loop.ids)


def _rotations(keys: tuple[str, ...]) -> set[tuple[str, ...]]:
    names = tuple(hf.name_of(k) for k in keys)
    return {names[k:] + names[:k] for k in range(len(names))}


def test_loops_above_a_company_are_flagged_with_their_kinds_and_ratios(wb):
    a = _entity(wb, "A")
    loops = wb.network.ownership_loops(a, 5)
    assert len(loops) == len(hf.LOOPS)
    for keys, kind in hf.LOOPS.items():
        match = [lp for lp in loops if _named(lp, wb) in _rotations(keys)]
        assert len(match) == 1, (keys, [_named(lp, wb) for lp in loops])
        lp = match[0]
        assert lp.kind == kind
        assert lp.label.startswith("交叉持股" if kind == "cross" else "循环持股")
        # each firm holds the next at the ratio the catalog gives
        want = {(hf.name_of(h), hf.name_of(f)): r for h, f, r in hf.HOLDINGS if not isinstance(h, tuple)}
        names = _named(lp, wb)
        for k, r in enumerate(lp.ratios):
            assert r == pytest.approx(want[(names[k], names[(k + 1) % len(names)])])


def test_loops_agree_with_networkx_over_the_catalog_rows(wb, ws):
    with open(ws / "raw" / "mr_shareholder.csv", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    g = nx.DiGraph([(r["股东名称"], r["企业名称"]) for r in rows])
    expected = {frozenset(c) for c in nx.simple_cycles(g)}
    assert expected == {frozenset(hf.name_of(k) for k in keys) for keys in hf.LOOPS}  # the fixture is what it says
    every = [_entity(wb, k) for k in hf.FIRMS]
    got = {frozenset(_named(lp, wb)) for lp in wb.network.holding_loops(every)}
    assert got == expected


@pytest.mark.parametrize("key", sorted(hf.FIRMS))
def test_each_company_sees_the_loops_in_its_ownership_tree(wb, ws, key):
    # expected, from the catalog rows: the loops all of whose firms are among the company's
    # holders (up) or holdings (down), every loop here being within the page's 5 layers
    with open(ws / "raw" / "mr_shareholder.csv", encoding="utf-8-sig") as fh:
        g = nx.DiGraph([(r["股东名称"], r["企业名称"]) for r in csv.DictReader(fh)])
    me = hf.name_of(key)
    tree = nx.ancestors(g, me) | nx.descendants(g, me) | {me}
    expected = {frozenset(c) for c in nx.simple_cycles(g) if set(c) <= tree}
    got = {frozenset(_named(lp, wb)) for lp in wb.network.ownership_loops(_entity(wb, key), 5)}
    assert got == expected
    if key == "G":
        assert not got  # a firm held by one person: nothing to flag


# ------------------------------------------------------------------------------ in a browser
@pytest.mark.browser
def test_ownership_page_flags_both_loops_in_chromium(ws, wb, tmp_path):
    from credgraph.dashboard.browser import chromium, clean, graph_frame, see, serve, settle, wait_nodes

    a = _entity(wb, "A")
    cfg = Config()
    cfg.workspace.path = str(ws)
    artifacts = Path(__file__).parent / "artifacts"
    artifacts.mkdir(exist_ok=True)
    with serve(cfg, ws, tmp_path / "server.log", timeout=90) as base, chromium() as browser:
        page = browser.new_page(viewport={"width": 1440, "height": 1300})
        page.set_default_timeout(60_000)
        page.goto(f"{base}/ownership?id={a}")
        settle(page)
        see(page, "2 circular or cross holding(s) 循环/交叉持股")
        see(page, "循环持股 circular holding:")  # the loops are listed below the heading, a moment later
        see(page, "交叉持股 cross holding:")
        body = page.inner_text("body")
        # each loop written out with the ratio each firm holds of the next, as the catalog has it
        circle = f"{hf.name_of('A')} (40.0%) → {hf.name_of('B')} (50.0%) → {hf.name_of('C')} (25.0%) → {hf.name_of('A')}"
        cross = f"{hf.name_of('D')} (30.0%) → {hf.name_of('E')} (20.0%) → {hf.name_of('D')}"
        assert f"循环持股 circular holding: {circle}" in body
        assert f"交叉持股 cross holding: {cross}" in body
        # the tree draws every firm and person above and below A
        want = {a} | {x for d in ("up", "down") for p in wb.network.ownership(a, d, 5)["path"].to_list() for x in p}
        assert wait_nodes(graph_frame(page), want) == want
        page.wait_for_timeout(800)
        clean(page)
        page.screenshot(path=str(artifacts / "12-ownership-loops.png"), full_page=True)
        page.locator('iframe[title*="st_link_analysis"]').first.scroll_into_view_if_needed()
        page.wait_for_timeout(500)
        page.screenshot(path=str(artifacts / "12b-ownership-loops-graph.png"))
