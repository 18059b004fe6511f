"""One entity's risk sources (``explain_risk``, what a profile asks) follow only the nodes its
series reaches; they equal what ``compute_risk`` explains for many entities at once (scipy's
sparse products, the independent computation), row for row, on a generated city."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from credgraph.analytics import CreditNetwork, compute_risk, explain_risk
from credgraph.analytics.frames import load_frames
from credgraph.config import Config
from credgraph.dashboard.sample import cached_city


@pytest.fixture(scope="session")
def city(tmp_path_factory) -> Path:
    return cached_city(tmp_path_factory.getbasetemp() / "dashboard-city", 600, 7)


def test_one_entity_explained_alone_equals_the_batch(city):
    cfg = Config()
    cfg.workspace.path = str(city)
    net = CreditNetwork.from_frames(*load_frames(cfg))
    res = compute_risk(net, cfg.analytics, explain=300)
    batch = res.sources
    ids = batch["node_id"].unique(maintain_order=True).to_list()
    assert len(ids) > 100 and batch["hops"].max() >= 3  # entities with risk from afar, not only neighbours
    alone = pl.concat([explain_risk(res, net, x) for x in ids])
    assert_frame_equal(alone, batch, check_exact=False, rel_tol=1e-12, abs_tol=1e-15)
    # an entity that received nothing has no sources
    none = res.scores.filter((pl.col("received") == 0) & (pl.col("label") == "LegalPerson"))["node_id"][0]
    assert explain_risk(res, net, none).height == 0
