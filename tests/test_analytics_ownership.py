"""Integrated ownership, beneficial owners and controllers on hand-built structures with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from credgraph.analytics.frames import make_frames
from credgraph.analytics.network import CreditNetwork
from credgraph.analytics.ownership import beneficial_owners, controllers, integrated_ownership, share_matrix


def _net(holdings, people=()):
    edges = [{"src": h, "dst": c, "type": "SHAREHOLDER_OF", "ratio": r} for h, c, r in holdings]
    nodes = [{"node_id": p, "label": "NaturalPerson", "name": p.upper()} for p in people]
    return CreditNetwork.from_frames(*make_frames(nodes, edges))


def _by(frame, key, value):
    rows = frame.filter(frame[key] == value).to_dicts()
    return rows


def _walk_sum(holdings, src, dst, layers=10):
    """Independent brute force: enumerate every walk of at most ``layers`` holdings."""
    out: dict[str, list] = {}
    for h, c, r in holdings:
        out.setdefault(h, []).append((c, r))
    total = 0.0
    frontier = [(src, 1.0)]
    for _ in range(layers):
        nxt = []
        for node, w in frontier:
            for c, r in out.get(node, []):
                if c == dst:
                    total += w * r
                nxt.append((c, w * r))
        frontier = nxt
    return total


def test_chain_products_and_controller_chain():
    h = [("p1", "a", 0.6), ("a", "b", 0.7), ("b", "c", 0.8), ("p2", "a", 0.4)]
    net = _net(h, ["p1", "p2"])
    ctl = controllers(net)
    row = _by(ctl, "company_id", "c")[0]
    assert row["controller_id"] == "p1" and row["chain"] == ["p1", "a", "b", "c"]
    assert row["integrated_ratio"] == pytest.approx(0.6 * 0.7 * 0.8)
    assert row["status"] == "controlled"
    bo = beneficial_owners(net)
    c_owners = {r["owner_id"]: r for r in _by(bo, "company_id", "c")}
    assert set(c_owners) == {"p1"}  # p2: 0.4*0.7*0.8 = 0.224 < 25%
    assert c_owners["p1"]["integrated_ratio"] == pytest.approx(0.336)
    assert c_owners["p1"]["chain"] == ["p1", "a", "b", "c"]
    assert {r["owner_id"] for r in _by(bo, "company_id", "a")} == {"p1", "p2"}


def test_control_aggregates_over_controlled_firms():
    # p1 holds 40% of c directly and controls x (100%), which holds 20%: 60% of c's votes.
    h = [("p1", "c", 0.4), ("p1", "x", 1.0), ("x", "c", 0.2), ("p2", "c", 0.4)]
    net = _net(h, ["p1", "p2"])
    row = _by(controllers(net), "company_id", "c")[0]
    assert row["controller_id"] == "p1"
    assert row["control_votes"] == pytest.approx(0.6)
    assert row["integrated_ratio"] == pytest.approx(0.6)
    assert row["chain"] == ["p1", "c"]  # the largest controlling holding is p1's own 40%


def test_cross_holding_series_is_capped_at_ten_layers():
    h = [("p1", "a", 0.8), ("a", "b", 0.5), ("b", "a", 0.1), ("p2", "b", 0.5)]
    net = _net(h, ["p1", "p2"])
    i = dict(zip(net.ids.tolist(), range(net.n)))
    T = integrated_ownership(share_matrix(net))
    # Walks p1-a-b, p1-a-b-a-b, ... up to 10 holdings: 0.4 * sum_{j<=4} 0.05**j.
    assert T[i["p1"], i["b"]] == pytest.approx(0.4 * sum(0.05 ** j for j in range(5)), rel=1e-12)
    for src, dst in (("p1", "a"), ("p2", "a"), ("a", "a"), ("p2", "b")):
        assert T[i[src], i[dst]] == pytest.approx(_walk_sum(h, src, dst), rel=1e-12, abs=1e-15)
    bo = beneficial_owners(net)
    b_owners = {r["owner_id"]: r["integrated_ratio"] for r in _by(bo, "company_id", "b")}
    assert b_owners == pytest.approx({"p1": _walk_sum(h, "p1", "b"), "p2": _walk_sum(h, "p2", "b")})


def test_random_structures_match_brute_force():
    rng = np.random.default_rng(7)
    comps = [f"c{k}" for k in range(12)]
    h = []
    for c in comps:
        for holder in rng.choice(comps + ["p1", "p2", "p3"], 2, replace=False):
            if holder != c:
                h.append((str(holder), c, float(rng.uniform(0.1, 0.5))))
    net = _net(h, ["p1", "p2", "p3"])
    T = integrated_ownership(share_matrix(net)).toarray()
    i = dict(zip(net.ids.tolist(), range(net.n)))
    for a in ["p1", "p2", "p3"] + comps[:4]:
        for b in comps:
            assert T[i[a], i[b]] == pytest.approx(_walk_sum(h, a, b), rel=1e-9, abs=1e-12)


def test_no_majority_and_circular_control():
    h = [("p1", "w", 0.3), ("p2", "w", 0.3), ("p3", "w", 0.4),
         ("a", "b", 0.6), ("b", "a", 0.6), ("b", "d", 0.9)]
    net = _net(h, ["p1", "p2", "p3"])
    ctl = controllers(net)
    status = dict(zip(ctl["company_id"].to_list(), ctl["status"].to_list()))
    assert status["w"] == "no controller"
    assert status["a"] == status["b"] == status["d"] == "circular"
    assert _by(ctl, "company_id", "w")[0]["controller_id"] is None
    bo = beneficial_owners(net)
    assert sorted(_by(bo, "company_id", "w"), key=lambda r: r["owner_id"])[0]["integrated_ratio"] == pytest.approx(0.3)
    assert {r["owner_id"] for r in _by(bo, "company_id", "w")} == {"p1", "p2", "p3"}


def test_company_at_the_top_controls():
    h = [("hold", "a", 0.51), ("a", "b", 0.51), ("p1", "b", 0.49)]
    net = _net(h, ["p1"])
    row = _by(controllers(net), "company_id", "b")[0]
    assert (row["controller_id"], row["controller_label"], row["chain"]) == ("hold", "LegalPerson", ["hold", "a", "b"])
    assert row["integrated_ratio"] == pytest.approx(0.51 * 0.51)
