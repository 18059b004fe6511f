"""Explaining one entity's risk from a finished result (no second propagation)."""

from __future__ import annotations

import dataclasses
import math

import networkx as nx
import numpy as np
import pytest

from credgraph.analytics import compute_risk, explain_risk
from credgraph.analytics.frames import make_frames
from credgraph.analytics.network import CreditNetwork
from credgraph.analytics import propagation
from credgraph.config import AnalyticsConfig

AS_OF = "2024-01-01"


def _city(seed: int, n_comp=40, n_people=25, n_addr=5, n_recs=10):
    rng = np.random.default_rng(seed)
    comps = [f"c{i}" for i in range(n_comp)]
    people = [f"p{i}" for i in range(n_people)]
    nodes = [{"node_id": c, "label": "LegalPerson", "name": f"公司{c}"} for c in comps]
    nodes += [{"node_id": p, "label": "NaturalPerson", "name": f"人{p}"} for p in people]
    edges = [{"src": str(rng.choice(people)), "dst": c, "type": "LEGAL_REP_OF"} for c in comps]
    edges += [{"src": p, "dst": str(rng.choice(comps)), "type": "OFFICER_OF"} for p in people]
    for _ in range(40):
        a, b = str(rng.choice(comps + people)), str(rng.choice(comps))
        if a != b:
            edges.append({"src": a, "dst": b, "type": "SHAREHOLDER_OF", "ratio": float(rng.uniform(0.05, 0.9))})
    edges += [{"src": c, "dst": f"addr:{rng.integers(n_addr)}", "type": "LOCATED_AT"} for c in comps]
    for k, c in enumerate(rng.choice(comps, n_recs, replace=False)):
        nodes.append({"node_id": f"rec:{k}", "label": "CreditRecord",
                      "event_type": str(rng.choice(["penalty", "serious_illegal", "dishonest_debtor"])),
                      "date": f"2023-0{rng.integers(1, 9)}-15", "status": "active"})
        edges.append({"src": str(c), "dst": f"rec:{k}", "type": "HAS_RECORD"})
    return CreditNetwork.from_frames(*make_frames(nodes, edges))


@pytest.mark.parametrize("graph_seed", [3, 8])
def test_explain_from_result_equals_full_computation_and_brute_force(graph_seed, monkeypatch):
    net = _city(graph_seed)
    cfg = dataclasses.replace(AnalyticsConfig(), precision="float64")
    res = compute_risk(net, cfg, AS_OF, explain=0)
    received = res.risk - res.seed
    targets = [str(net.ids[i]) for i in np.flatnonzero(net.entity_mask & (received > 1e-3))][:6]
    assert len(targets) >= 3
    # Dense ground truth: G = sum_{h=1..H} (a M)^h; contribution of i to t = seed[i] G[i, t].
    aM = cfg.decay * res.matrix.toarray()
    G, P = np.zeros_like(aM), np.eye(net.n)
    for _ in range(cfg.max_hops):
        P = P @ aM
        G += P
    # Strongest paths by networkx on -log(a M).
    D = nx.DiGraph()
    for i, j in zip(*np.nonzero(aM)):
        D.add_edge(int(i), int(j), weight=-math.log(aM[i, j]))

    calls = []
    monkeypatch.setattr(propagation, "_propagate", lambda *a, **k: calls.append(1))  # must not propagate again
    for t in targets:
        got = explain_risk(res, net, t)
        ti = int(net.index_of([t])[0])
        truth = res.seed * G[:, ti]
        truth[ti] = 0.0
        best = np.argsort(-truth, kind="stable")[: cfg.explain_sources]
        best = best[truth[best] > 0]
        assert got["source_id"].to_list() == [str(net.ids[i]) for i in best], t
        np.testing.assert_allclose(got["contribution"].to_numpy(), truth[best], rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(got["share"].to_numpy(), truth[best] / truth.sum(), rtol=1e-3, atol=1e-4)
        for src, path in zip(got["source_id"].to_list(), got["path"].to_list()):
            s = int(net.index_of([src])[0])
            assert path[0] == src and path[-1] == t
            nodes = net.index_of(path)
            strength = np.prod([aM[u, v] for u, v in zip(nodes[:-1], nodes[1:])])
            assert strength == pytest.approx(math.exp(-nx.dijkstra_path_length(D, s, ti)), rel=1e-9)
    assert calls == []
    monkeypatch.undo()

    # The same rows as the full computation asked to explain these entities.
    full = compute_risk(net, cfg, AS_OF, explain=0, explain_ids=targets).sources
    for t in targets:
        a = explain_risk(res, net, t)
        b = full.filter(full["node_id"] == t)
        assert a.select("source_id", "hops", "path", "path_text").rows() == b.select(
            "source_id", "hops", "path", "path_text").rows()
        np.testing.assert_allclose(a["contribution"].to_numpy(), b["contribution"].to_numpy(), rtol=1e-12)


def test_explain_edge_cases():
    net = _city(5)
    res = compute_risk(net, AnalyticsConfig(), AS_OF, explain=0)
    with pytest.raises(KeyError):
        explain_risk(res, net, "no-such-node")
    # An entity nothing reaches: an isolated company.
    lone = CreditNetwork.from_frames(*make_frames([{"node_id": "z", "label": "LegalPerson", "name": "z"}], []))
    r2 = compute_risk(lone, AnalyticsConfig(), AS_OF, explain=0)
    assert explain_risk(r2, lone, "z").height == 0
    # top= limits the rows; the method form is the same call.
    t = str(res.scores.filter(res.scores["received"] > 0)["node_id"][0])
    assert explain_risk(res, net, t, top=1).height == 1
    assert res.explain(net, t).equals(explain_risk(res, net, t))
    res.matrix = None
    with pytest.raises(ValueError):
        explain_risk(res, net, t)
