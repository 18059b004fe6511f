"""Fixtures of the security battery: a small built city, a private copy per test, both backends."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))

from graph_fixtures import neo4j_cfg  # noqa: E402,F401  (the session's real test Neo4j)
from secutil import ENTITIES, SEED  # noqa: E402


@pytest.fixture(scope="session")
def city(tmp_path_factory) -> Path:
    """A workspace with records, entities and an embedded graph (built once per session)."""
    from credgraph.dashboard.sample import cached_city

    return cached_city(tmp_path_factory.getbasetemp() / "security-city", ENTITIES, SEED)


@pytest.fixture
def ws(city, tmp_path) -> Path:
    """A private copy of the city's workspace, without its secrets (it makes its own key)."""
    dst = tmp_path / "ws"
    shutil.copytree(city, dst, ignore=shutil.ignore_patterns("secrets", "audit", "locks", "security", "review"))
    return dst


@pytest.fixture(params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def backend(request):
    """(name, the test Neo4j's config or None): every test using it runs on both backends."""
    if request.param == "neo4j":
        return "neo4j", request.getfixturevalue("neo4j_cfg")
    return "embedded", None
