"""Propagation without echo: what reaches an entity from related parties excludes its own risk
coming back; hubs are damped by degree; explanations say what they do not cover."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from credgraph.analytics import CreditNetwork, compute_risk, explain_risk, make_frames
from credgraph.config import AnalyticsConfig

AS_OF = "2024-01-01"


def _rec(k, owner, event="serious_illegal"):
    return ({"node_id": f"rec:{k}", "label": "CreditRecord", "event_type": event, "date": AS_OF, "status": "active"},
            {"src": owner, "dst": f"rec:{k}", "type": "HAS_RECORD"})


def _net(edges, recs):
    return CreditNetwork.from_frames(*make_frames([r for r, _ in recs], list(edges) + [e for _, e in recs]))


def _dense_related(res, net) -> np.ndarray:
    """Oracle: G = (I - a M)^-1 by dense inversion; related_j = sum over i != j of seed_i G[i, j]."""
    M = res.matrix.toarray().astype(float)
    G = np.linalg.inv(np.eye(net.n) - res.config.decay * M)
    contrib = res.seed[:, None] * G
    np.fill_diagonal(contrib, 0.0)
    return contrib.sum(axis=0)


def _cfg():
    return AnalyticsConfig(precision="float64", max_hops=200, tolerance=1e-14)


def test_two_cycle_gets_none_of_its_own_back():
    net = _net([{"src": "c1", "dst": "c2", "type": "SHAREHOLDER_OF", "ratio": 0.6}], [_rec(1, "c1")])
    res = compute_risk(net, _cfg(), AS_OF)
    i1, i2 = net.index_of(["c1", "c2"])
    assert res.risk[i1] > res.seed[i1] > 0  # its risk does come back around the 2-cycle ...
    assert res.related[i1] == 0.0  # ... but none of it counts as received from related parties
    assert res.related[i2] == pytest.approx(res.risk[i2], rel=1e-9)  # c2 has no risk of its own
    assert compute_risk(net, AnalyticsConfig(), AS_OF).related[i1] == 0.0  # so with the default settings
    row = res.scores.filter(pl.col("node_id") == "c1").row(0, named=True)
    assert row["echo"] == pytest.approx(res.risk[i1] - res.seed[i1], rel=1e-9) and row["related"] == 0.0


def test_no_related_parties_exactly_zero():
    net = _net([{"src": "p9", "dst": "c9", "type": "LEGAL_REP_OF"}], [_rec(1, "c1"), _rec(2, "c1", "penalty")])
    res = compute_risk(net, AnalyticsConfig(), AS_OF)
    i = net.index_of(["c1"])[0]
    assert res.seed[i] > 0 and res.related[i] == 0.0 and res.risk[i] == res.seed[i]


def test_related_risk_matches_the_dense_inverse_on_a_tangled_graph():
    rng = np.random.default_rng(3)
    edges = []
    for k in range(40):
        a, b = rng.integers(0, 15, 2)
        if a != b:
            edges.append({"src": f"c{a}", "dst": f"c{b}", "type": "SHAREHOLDER_OF", "ratio": float(rng.uniform(0.1, 0.9))})
        edges.append({"src": f"p{rng.integers(0, 6)}", "dst": f"c{rng.integers(0, 15)}", "type": "LEGAL_REP_OF"})
        edges.append({"src": f"c{rng.integers(0, 15)}", "dst": "addr:1", "type": "LOCATED_AT"})
    recs = [_rec(k, f"c{k}", ["serious_illegal", "penalty"][k % 2]) for k in range(0, 15, 2)] + [_rec(99, "p1", "dishonest_debtor")]
    net = _net(edges, recs)
    res = compute_risk(net, _cfg(), AS_OF)
    want = _dense_related(res, net)
    ent = np.flatnonzero(net.entity_mask)
    assert np.allclose(res.related[ent], want[ent], rtol=1e-6, atol=1e-9)
    assert (res.risk - res.seed - res.related)[ent].max() > 1e-3  # there was echo to remove
    # With the default settings (float32, propagation stopped at its tolerance, echo paths below 1e-6
    # not followed) the error stays within the propagation's own tolerance of the total seed.
    d = compute_risk(net, AnalyticsConfig(), AS_OF)
    assert np.abs(d.related[ent] - want[ent]).max() <= 2 * d.config.tolerance * d.seed.sum()


def test_agent_hub_damped_by_degree():
    # One agent registered 60 firms and has a record; c0's legal representative also runs c99, which has one.
    edges = [{"src": "agent", "dst": f"c{k}", "type": "AGENT_OF"} for k in range(60)]
    edges += [{"src": "p0", "dst": "c0", "type": "LEGAL_REP_OF"}, {"src": "p0", "dst": "c99", "type": "LEGAL_REP_OF"}]
    net = _net(edges, [_rec(1, "agent"), _rec(2, "c99", "penalty")])
    cfg = AnalyticsConfig()
    res = compute_risk(net, cfg, AS_OF)
    src = explain_risk(res, net, "c0")
    assert src["source_id"].to_list()[0] == "c99"  # its representative's other firm, not the busy agent
    i = net.index_of(["c5"])[0]
    # What the agent passes to one client is at most its link weight divided by its 60 clients.
    assert res.related[i] <= cfg.decay * cfg.transmit_agent / 60 + 1e-12


def test_explanations_cover_80_percent_or_say_what_the_rest_is():
    # c0 hears from five firms equally (each its legal representative's other firm): three cover 60%.
    edges, recs = [], []
    for k in range(1, 6):
        edges += [{"src": f"p{k}", "dst": "c0", "type": "OFFICER_OF"}, {"src": f"p{k}", "dst": f"c{k}", "type": "LEGAL_REP_OF"}]
        recs.append(_rec(k, f"c{k}"))
    net = _net(edges, recs)
    res = compute_risk(net, _cfg(), AS_OF)
    e = explain_risk(res, net, "c0")
    assert e.height == 3 and e["covered"][0] == pytest.approx(0.6, abs=1e-4)
    assert "the other 40% comes from 2 further source(s) (the largest 20%)" in e["rest"][0]
    # A target with one source is fully covered and says nothing more.
    one = explain_risk(res, net, "p1")
    assert one["covered"][0] >= 0.8 and one["rest"][0] == ""
