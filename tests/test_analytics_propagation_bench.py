"""The 10M-relationship propagation bench (bench/bench_propagation.py) times the real computation:
its array graph gives the same transmission matrix as the same graph read from frames, and the
propagation and echo removal on it match a dense computation (matrix inverse) on a small copy."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
import polars as pl

from credgraph.analytics import CreditNetwork
from credgraph.analytics.network import EDGE_TYPES
from credgraph.analytics.propagation import _propagate, related_risk, transmission_matrix
from credgraph.config import AnalyticsConfig

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from bench_propagation import random_network  # noqa: E402


def test_array_graph_gives_the_frames_matrix():
    net, _ = random_network(4000, seed=2)
    ids = np.array([f"n{i}" for i in range(net.n)])
    nc = npn = 800
    labels = ["LegalPerson"] * nc + ["NaturalPerson"] * npn + ["Address"] * 200 + ["Phone"] * 200
    nodes = pl.DataFrame({"node_id": ids, "label": labels})
    edges = pl.DataFrame({"src": ids[net.src], "dst": ids[net.dst],
                          "type": np.array(EDGE_TYPES)[net.etype], "ratio": net.ratio})
    cn = CreditNetwork.from_frames(nodes, edges)
    cfg = AnalyticsConfig(precision="float64")
    A = transmission_matrix(net, cfg)
    B = transmission_matrix(cn, cfg)  # node i of the frames is n{i}: the same indexes
    assert A.shape == B.shape and A.nnz == B.nnz > 0
    assert abs(A - B).max() < 1e-12


def test_propagation_and_echo_match_the_dense_inverse():
    net, seed = random_network(3000, seed=5)
    cfg = dataclasses.replace(AnalyticsConfig(), precision="float64", max_hops=300, tolerance=1e-14)
    M = transmission_matrix(net, cfg)
    risk, _ = _propagate(M, seed, cfg.decay, cfg.max_hops, cfg.tolerance, threads=2)
    related = related_risk(M, seed, risk, cfg.decay, cfg.max_hops, 1e-15, threads=2)
    # Oracle: G = (I - a M)^-1; risk = G^T seed; related_j = sum over i != j of seed_i G[i, j].
    G = np.linalg.inv(np.eye(net.n) - cfg.decay * M.toarray())
    assert np.allclose(risk, G.T @ seed, rtol=1e-9, atol=1e-12)
    contrib = seed[:, None] * G
    np.fill_diagonal(contrib, 0.0)
    want = contrib.sum(axis=0)
    assert np.allclose(related, want, rtol=1e-6, atol=1e-9)
    assert (risk - seed - related).max() > 1e-4  # there was echo to remove
