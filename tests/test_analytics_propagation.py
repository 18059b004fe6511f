"""Risk propagation against closed forms and networkx's personalized PageRank."""

from __future__ import annotations

import dataclasses

import networkx as nx
import numpy as np
import pytest

from credgraph.analytics.frames import make_frames
from credgraph.analytics.network import CreditNetwork
from credgraph.analytics.propagation import compute_risk, seed_risk, transmission_matrix, propagate
from credgraph.config import AnalyticsConfig

AS_OF = "2024-01-01"


def _rec(rid, owner, event_type, date, status="active", end_date=None, grade=None):
    node = {"node_id": rid, "label": "CreditRecord", "name": None, "event_type": event_type,
            "date": date, "end_date": end_date, "status": status, "grade": grade}
    return node, {"src": owner, "dst": rid, "type": "HAS_RECORD"}


def test_seed_counts_only_active_records_with_half_life():
    cfg = AnalyticsConfig(half_life_days=365.0)
    recs = [
        _rec("rec:1", "c1", "serious_illegal", "2024-01-01"),  # new: 1.0
        _rec("rec:2", "c1", "penalty", "2023-01-01"),  # 365 days: half of 0.4
        _rec("rec:3", "c2", "serious_illegal", "2023-06-01", status="repaired"),  # repaired: 0
        _rec("rec:4", "c2", "dishonest_debtor", "2022-01-01", end_date="2023-12-31"),  # publicity over: 0
        _rec("rec:5", "c3", "tax_rating", "2024-01-01", grade="D"),  # D rating
        _rec("rec:6", "c3", "red_list", "2024-01-01"),  # honours seed nothing
        _rec("rec:7", "c3", "penalty", "2024-05-01"),  # after as_of: not yet
    ]
    nodes = [{"node_id": c, "label": "LegalPerson", "name": c} for c in ("c1", "c2", "c3")]
    nodes += [n for n, _ in recs]
    net = CreditNetwork.from_frames(*make_frames(nodes, [e for _, e in recs]))
    s = seed_risk(net, cfg, AS_OF)
    got = dict(zip(net.ids.tolist(), s.tolist()))
    assert got["c1"] == pytest.approx(1.0 + 0.2)
    assert got["c2"] == 0.0
    assert got["c3"] == pytest.approx(cfg.severity_tax_rating_d)


def test_two_node_closed_form_and_repair_stops_spread():
    # c1 --legal rep-- p1 : r_c1 = 1/(1 - (a w)^2), r_p1 = a w r_c1
    cfg = AnalyticsConfig(max_hops=500, tolerance=1e-15)
    a, w = cfg.decay, cfg.transmit_legal_rep
    node, edge = _rec("rec:1", "c1", "serious_illegal", AS_OF)
    frames = make_frames([node, {"node_id": "c1", "label": "LegalPerson", "name": "甲"}],
                         [{"src": "p1", "dst": "c1", "type": "LEGAL_REP_OF"}, edge])
    res = compute_risk(CreditNetwork.from_frames(*frames), cfg, AS_OF)
    r = dict(zip(res.scores["node_id"].to_list(), res.scores["risk"].to_list()))
    assert r["c1"] == pytest.approx(1 / (1 - (a * w) ** 2))
    assert r["p1"] == pytest.approx(a * w / (1 - (a * w) ** 2))
    src = res.sources.row(0, named=True)
    assert (src["node_id"], src["source_id"], src["path"]) == ("p1", "c1", ["c1", "p1"])
    assert "LEGAL_REP_OF" in src["path_text"]
    # Repaired: nothing seeds, nothing spreads.
    node["status"] = "repaired"
    frames = make_frames([node, {"node_id": "c1", "label": "LegalPerson", "name": "甲"}],
                         [{"src": "p1", "dst": "c1", "type": "LEGAL_REP_OF"}, edge])
    res = compute_risk(CreditNetwork.from_frames(*frames), cfg, AS_OF)
    assert res.scores["risk"].max() == 0.0


def _random_graph(seed: int, n_companies=25, n_people=15, n_addr=4):
    rng = np.random.default_rng(seed)
    comps = [f"c{i}" for i in range(n_companies)]
    people = [f"p{i}" for i in range(n_people)]
    nodes = [{"node_id": c, "label": "LegalPerson", "name": c} for c in comps]
    edges, recs = [], []
    for c in comps:  # every company has a rep: no dangling nodes
        edges.append({"src": str(rng.choice(people)), "dst": c, "type": "LEGAL_REP_OF"})
    for p in people:
        edges.append({"src": p, "dst": str(rng.choice(comps)), "type": "OFFICER_OF", "role": "董事"})
    for _ in range(30):
        a, b = rng.choice(comps + people), rng.choice(comps)
        if a != b:
            edges.append({"src": str(a), "dst": str(b), "type": "SHAREHOLDER_OF", "ratio": float(rng.uniform(0.05, 0.9))})
    for c in comps:
        edges.append({"src": c, "dst": f"addr:{rng.integers(n_addr)}", "type": "LOCATED_AT"})
    for k, c in enumerate(rng.choice(comps + people, 8, replace=False)):
        node, e = _rec(f"rec:{k}", str(c), str(rng.choice(["penalty", "serious_illegal", "dishonest_debtor"])),
                       f"202{rng.integers(0, 4)}-0{rng.integers(1, 9)}-15")
        nodes.append(node)
        edges.append(e)
    return make_frames(nodes, edges)


def _expected_weights(cfg, edges):
    """The documented transmission rules, written out independently (before normalisation)."""
    w: dict[tuple[str, str], float] = {}
    hubs: dict[str, set] = {}
    for e in edges.iter_rows(named=True):
        t = e["type"]
        if t in ("LOCATED_AT", "USES_PHONE"):
            hubs.setdefault(e["dst"], set()).add(e["src"])
            continue
        if t == "HAS_RECORD":
            continue
        x = {"LEGAL_REP_OF": cfg.transmit_legal_rep, "OFFICER_OF": cfg.transmit_officer,
             "BRANCH_OF": cfg.transmit_branch, "AGENT_OF": cfg.transmit_agent}.get(t)
        if t == "SHAREHOLDER_OF":
            x = cfg.transmit_control if e["ratio"] > cfg.control_ratio else cfg.transmit_shareholding * e["ratio"]
        for a, b in ((e["src"], e["dst"]), (e["dst"], e["src"])):
            w[(a, b)] = 1 - (1 - w.get((a, b), 0.0)) * (1 - x)  # parallel links: noisy-or
    for hub, members in hubs.items():
        for m in members:
            w[(m, hub)] = cfg.transmit_address
            w[(hub, m)] = 1.0 / len(members)
    return w


@pytest.mark.parametrize("graph_seed", [1, 2, 3])
@pytest.mark.parametrize("alpha", [0.5, 0.85])
@pytest.mark.parametrize("precision", ["float64", "float32"])
def test_row_normalised_propagation_equals_personalized_pagerank(graph_seed, alpha, precision):
    cfg = dataclasses.replace(AnalyticsConfig(), normalise="row", decay=alpha, max_hops=2000, tolerance=1e-14,
                              precision=precision)
    nodes, edges = _random_graph(graph_seed)
    net = CreditNetwork.from_frames(nodes, edges)
    res = compute_risk(net, cfg, AS_OF, explain=0)
    seed = dict(zip(net.ids.tolist(), res.seed.tolist()))
    G = nx.DiGraph()
    for (a, b), x in _expected_weights(cfg, edges).items():
        G.add_edge(a, b, weight=x)
    assert all(G.out_degree(v) > 0 for v in G)  # no dangling nodes: the equality is exact
    pers = {v: seed.get(v, 0.0) for v in G}
    pr = nx.pagerank(G, alpha=alpha, personalization=pers, weight="weight", tol=1e-14, max_iter=10000)
    total = sum(pers.values())
    ours = dict(zip(net.ids.tolist(), ((1 - alpha) * res.risk / total).tolist()))
    for v, p in pr.items():
        if precision == "float64":
            assert ours[v] == pytest.approx(p, abs=1e-9), v
        else:  # float32 hops, float64 sum: about 7 significant digits
            assert ours[v] == pytest.approx(p, rel=2e-6, abs=1e-12), v


def test_supernode_damping_and_shared_address_division():
    cfg = AnalyticsConfig(supernode_degree=2, transmit_legal_rep=0.4)
    # p1 represents 4 companies: each link is damped by 2/4 (sum 0.8: no cap);
    # addr is shared by 3 companies: 1/3 each, damped by 2/3.
    edges = [{"src": "p1", "dst": f"c{i}", "type": "LEGAL_REP_OF"} for i in range(4)]
    edges += [{"src": f"c{i}", "dst": "addr:x", "type": "LOCATED_AT"} for i in range(3)]
    net = CreditNetwork.from_frames(*make_frames([], edges))
    M = transmission_matrix(net, cfg).toarray()
    i = dict(zip(net.ids.tolist(), range(net.n)))
    assert M[i["p1"], i["c0"]] == pytest.approx(cfg.transmit_legal_rep * 2 / 4)
    assert M[i["c3"], i["p1"]] == pytest.approx(cfg.transmit_legal_rep)  # c3 has one link only
    assert M[i["addr:x"], i["c1"]] == pytest.approx((1 / 3) * min(1.0, 2 / 3))
    # Propagation is linear in the seed.
    s1, s2 = np.random.default_rng(0).random((2, net.n))
    MM = transmission_matrix(net, cfg)
    np.testing.assert_allclose(propagate(MM, s1 + s2, 0.5), propagate(MM, s1, 0.5) + propagate(MM, s2, 0.5))


def test_propagation_in_threads_equals_one_thread():
    """Splitting the matrix's rows across threads changes the order of the sums, not the result."""
    import scipy.sparse as sp

    from credgraph.analytics.propagation import _propagate

    rng = np.random.default_rng(3)
    n, nnz = 50_000, 1_200_000
    M = sp.csr_matrix((rng.random(nnz) / 40, (rng.integers(0, n, nnz), rng.integers(0, n, nnz))), shape=(n, n))
    seed = np.where(rng.random(n) < 0.01, rng.random(n), 0.0)
    one, h1 = _propagate(M, seed, 0.5, 10, 0.0, threads=1)
    three, h3 = _propagate(M, seed, 0.5, 10, 0.0, threads=3)
    assert h1 == h3 == 10
    np.testing.assert_allclose(three, one, rtol=1e-12, atol=1e-15)
    assert (one > seed).sum() > n // 2  # the risk did travel
