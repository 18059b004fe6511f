"""The shell model on a hand-built city: rings are unusual against the city, ordinary shared premises are not."""

from __future__ import annotations

import numpy as np
import polars as pl

from credgraph.analytics import CreditNetwork, detect_shells, make_frames
from credgraph.analytics.shells import directed_checks
from credgraph.config import AnalyticsConfig

AS_OF = "2024-01-01"


def _city(ring_days: int = 8, ring_capital: float = 5.0, nominee: bool = True):
    """300 ordinary firms (founded 1995-2022, capital 50-5000, 3-80 staff) of which 20 office
    towers hold 5 firms each and 25 families of 3 share a representative and a phone; plus a
    hand-planted ring r0..r5: one address, one nominee representative, founded within
    ``ring_days`` days of 2022-03-01, no insured staff, capital ``ring_capital``. ``nominee=False``:
    each ring firm has its own representative, used nowhere else (the ring shares only the address)."""
    rng = np.random.default_rng(5)
    nodes, edges, k = [], [], 0

    def rec(owner, event, **kw):
        nonlocal k
        k += 1
        nodes.append({"node_id": f"rec:{k}", "label": "CreditRecord", "event_type": event, "date": "2023-06-30",
                      "status": "active", **kw})
        edges.append({"src": owner, "dst": f"rec:{k}", "type": "HAS_RECORD"})

    for i in range(300):
        est = np.datetime64("1995-01-01") + np.timedelta64(int(rng.integers(0, 27 * 365)), "D")
        nodes.append({"node_id": f"c{i}", "label": "LegalPerson", "name": f"深圳市普通{i}有限公司", "est_date": str(est),
                      "registered_capital": float(rng.choice([50, 100, 300, 500, 1000, 5000]))})
        edges.append({"src": f"c{i}", "dst": f"addr:{i // 5 if i < 100 else 1000 + i}", "type": "LOCATED_AT"})
        rep = f"p{i // 3}" if 100 <= i < 175 else f"p{1000 + i}"
        edges.append({"src": rep, "dst": f"c{i}", "type": "LEGAL_REP_OF"})
        edges.append({"src": f"c{i}", "dst": f"phone:{i // 3 if 100 <= i < 175 else 1000 + i}", "type": "USES_PHONE"})
        rec(f"c{i}", "social_insurance", count=float(rng.integers(3, 80)))
    for j in range(6):
        nodes.append({"node_id": f"r{j}", "label": "LegalPerson", "name": f"深圳市壳{j}贸易有限公司",
                      "est_date": str(np.datetime64("2022-03-01") + np.timedelta64(j * ring_days // 5, "D")),
                      "registered_capital": ring_capital})
        edges += [{"src": f"r{j}", "dst": "addr:ring", "type": "LOCATED_AT"},
                  {"src": "pn" if nominee else f"pr{j}", "dst": f"r{j}", "type": "LEGAL_REP_OF"}]
        rec(f"r{j}", "social_insurance", count=0.0)
    return CreditNetwork.from_frames(*make_frames(nodes, edges))


def test_ring_flagged_towers_and_families_not():
    net = _city()
    res = detect_shells(net, AnalyticsConfig(), AS_OF)
    flagged = set(res.firms.filter("flagged")["node_id"].to_list())
    ring = {f"r{j}" for j in range(6)}
    assert flagged == ring  # every ring member, and no ordinary firm (towers share an address, families a person)
    top = res.groups.row(0, named=True)
    assert sorted(top["members"]) == sorted(ring)
    assert "registered in one burst" in top["evidence"] and "no insured staff" in top["evidence"]
    # The ring's two groups (its address, its representative) are the unusual ones, nothing else.
    unusual = res.candidates.filter("unusual")
    assert set(unusual["key_id"].to_list()) == {"addr:ring", "pn"}
    # The directed-check list holds exactly the flagged firms, with the evidence as the reason.
    dc = directed_checks(res)
    assert set(dc["node_id"].to_list()) == ring and dc["reason"].str.contains("share the address").all()


def test_a_spread_ring_with_ordinary_capital_is_still_unusual():
    # Registered over a year with the city's ordinary capital: the co-registration and the missing
    # staff still set the ring apart from towers and families.
    net = _city(ring_days=365, ring_capital=300.0)
    res = detect_shells(net, AnalyticsConfig(), AS_OF)
    assert set(res.firms.filter("flagged")["node_id"].to_list()) == {f"r{j}" for j in range(6)}
    ev = res.groups.row(0, named=True)["evidence"]
    assert "close together" in ev and "low capital" not in ev


def test_no_groups_no_flags():
    nodes, edges = make_frames([{"node_id": "c1", "label": "LegalPerson", "name": "甲"}],
                               [{"src": "p1", "dst": "c1", "type": "LEGAL_REP_OF"}])
    res = detect_shells(CreditNetwork.from_frames(nodes, edges), AnalyticsConfig(), AS_OF)
    assert res.firms.height == 0 and res.groups.height == 0 and directed_checks(res).height == 0
    assert isinstance(res.candidates, pl.DataFrame)


def test_a_ring_sharing_only_an_address_is_flagged_by_one_far_out_group():
    # No nominee: the ring's one tie is its address. One unusual group is not enough by default
    # corroboration (two groups), but an address group this far above random groups of its size
    # (shell_single_null_z) is flagged on its own; towers (5 ordinary firms at one address) are not.
    net = _city(nominee=False)
    res = detect_shells(net, AnalyticsConfig(), AS_OF)
    ring = {f"r{j}" for j in range(6)}
    assert set(res.firms.filter("flagged")["node_id"].to_list()) == ring
    cand = res.candidates
    assert cand.filter(pl.col("key_id") == "addr:ring")["null_z"].item() >= AnalyticsConfig().shell_single_null_z
    # Towers are random draws of the city's ordinary firms: chance-level against random groups.
    towers = cand.filter(pl.col("key_id").is_in([f"addr:{i}" for i in range(20)]))["null_z"]
    assert towers.len() == 20 and towers.abs().max() < 3.0
    assert (res.firms.filter(pl.col("node_id").is_in(list(ring)))["unusual_groups"] == 1).all()
    off = detect_shells(net, AnalyticsConfig(shell_single_null_z=0.0), AS_OF)
    assert off.firms.filter("flagged").height == 0  # without the one-group path nothing is flagged


def _multiplex_by_definition(rows: list[tuple[int, int, str]]) -> set[int]:
    """The definition, pair by pair of firms: f is multiplex when, over the hubs it shares with some
    one other firm o, f is tied to those hubs in two or more kinds."""
    firms_of: dict[int, set[int]] = {}
    for hub, firm, _ in rows:
        firms_of.setdefault(hub, set()).add(firm)
    out = set()
    for f in {r[1] for r in rows}:
        others = {o for hub, firm, _ in rows if firm == f for o in firms_of[hub]} - {f}
        for o in others:
            kinds = {kind for hub, firm, kind in rows if firm == f and o in firms_of[hub]}
            if len(kinds) >= 2:
                out.add(f)
    return out


def test_multiplex_firms_match_the_pairwise_definition():
    from credgraph.analytics.shells import _multiplex_firms
    # Hand-made cases: 0 and 1 share an address (10) and a phone (20): both multiplex. 2 shares only
    # the address: not. 3 has person 30 as agent and as shareholder, 4 uses 30 as shareholder: 3 is
    # (two kinds through one hub), 4 is not (one kind). 5 and 6 share two persons (31, 32): one kind, not.
    # 7 and 8 share person 33 (7 as agent, 8 as person) and nothing else: 7 not, 8 not.
    rows = [(10, 0, "address"), (20, 0, "phone"), (10, 1, "address"), (20, 1, "phone"), (10, 2, "address"),
            (30, 3, "agent"), (30, 3, "person"), (30, 4, "person"), (31, 5, "person"), (32, 5, "person"),
            (31, 6, "person"), (32, 6, "person"), (33, 7, "agent"), (33, 8, "person")]
    mem = pl.DataFrame(rows, schema=["hub", "firm", "kind"], orient="row")
    assert set(_multiplex_firms(mem).tolist()) == {0, 1, 3} == _multiplex_by_definition(rows)
    # Random memberships with a few big hubs, against the definition.
    rng = np.random.default_rng(3)
    kinds = ["address", "phone", "agent", "person"]
    for _ in range(5):
        rows = sorted({(int(h), int(f), kinds[min(int(h) // 10, 3)] if rng.random() < 0.9 else "agent")
                       for h, f in zip(rng.integers(0, 40, 150), rng.integers(0, 60, 150))})
        mem = pl.DataFrame(rows, schema=["hub", "firm", "kind"], orient="row")
        assert set(_multiplex_firms(mem).tolist()) == _multiplex_by_definition(rows)
