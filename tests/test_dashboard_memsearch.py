"""The dashboard's search from memory answers exactly what the graph store's search answers (the
store, queried through the database, is the oracle): names whole and in part, pinyin, initials,
typos (the fuzzy pass), codes and person names, on a generated city."""

from __future__ import annotations

import random
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from credgraph.config import Config
from credgraph.dashboard import Workbench
from credgraph.dashboard.sample import cached_city
from credgraph.dashboard.services.memsearch import MemorySearch
from credgraph.graph.build import pinyin_forms


@pytest.fixture(scope="module")
def wb(tmp_path_factory):
    city = cached_city(tmp_path_factory.getbasetemp() / "dashboard-city", 600, 7)
    cfg = Config()
    cfg.workspace.path = str(city)
    w = Workbench(cfg)
    yield w
    w.close()


def _queries(w) -> list[str]:
    nodes = w.analysis().net.nodes
    rng = random.Random(3)
    firms = nodes.filter(pl.col("label") == "LegalPerson")
    people = nodes.filter(pl.col("label") == "NaturalPerson")
    out = []
    for name in rng.sample(firms["name"].drop_nulls().to_list(), 12):
        out += [name, name[2:6], name[:-1] + "乙", name[3:5]]  # whole, a piece, a typo, two characters
        py, ini = pinyin_forms(name[2:4])
        out += [py, ini]
    out += rng.sample(people["name"].drop_nulls().to_list(), 8) + ["深圳", "科技", "zhang", "zw"]
    out += [u for u in firms["uscc"].drop_nulls().head(4).to_list()]
    out += [u[8:17] for u in firms["uscc"].drop_nulls().head(2).to_list()]  # organisation codes
    return out


class _Counting:
    """The store, counting the look-ups sent to it."""

    def __init__(self, store) -> None:
        self.store, self.calls = store, []

    def _rows(self, cypher, params=None):
        self.calls.append(cypher)
        return self.store._rows(cypher, params)


def test_memory_search_equals_the_store_search(wb):
    store = wb.store()
    counting = _Counting(store)
    mem = MemorySearch(store.cfg, wb.analysis().net.nodes, counting)
    queries = _queries(wb)
    found = 0
    for q in queries:
        want = store.search(q, limit=20)
        got = mem.search(q, limit=20)
        assert_frame_equal(got, want, check_exact=False, rel_tol=1e-12), q
        found += want.height > 0
    assert counting.calls == []  # every look-up answered from memory
    assert found >= 0.8 * len(queries)  # most queries find something: the comparison means something
    assert {m for q in queries for m in store.search(q, limit=20)["match"].to_list()} >= {
        "exact name", "name", "pinyin", "initials", "fuzzy", "uscc", "org code"}
    # the Workbench's search goes through memory
    assert wb.find.memory_search() is not None
