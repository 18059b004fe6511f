"""The Workbench's row indexes (binary search instead of a scan per profile) against polars'
own filter: the same rows in the same order, for present, absent and null values."""

from __future__ import annotations

import random

import polars as pl

from credgraph.config import Config
from credgraph.dashboard import Workbench


def test_rows_equal_a_filter_for_every_kind_of_value():
    rng = random.Random(7)
    keys = [f"L9144030{rng.randint(0, 300):010d}" for _ in range(5000)]
    f = pl.DataFrame({"src": [k if rng.random() > 0.05 else None for k in keys],
                      "dst": rng.sample(keys, len(keys)), "owner": [rng.randint(0, 400) for _ in keys],
                      "n": list(range(len(keys)))})
    w = Workbench(Config())  # no store is opened: only the indexes are used
    for v in rng.sample(keys, 50) + ["L914403009999999999", ""]:
        assert w.rows(f, "src", v).equals(f.filter(pl.col("src") == v))
        both = f.filter((pl.col("src") == v) | (pl.col("dst") == v))
        assert w.rows(f, "src", v, "dst").equals(both)
    for v in (0, 17, 399, 1000):
        assert w.rows(f, "owner", v).equals(f.filter(pl.col("owner") == v))
    some = rng.sample(keys, 30)
    assert w.rows_in(f, "src", some, "dst").equals(f.filter(pl.col("src").is_in(some) | pl.col("dst").is_in(some)))
    assert w.rows_in(f, "src", []).height == 0
    # a new frame gets its own index (the old one is not reused for it)
    g = f.with_columns(pl.col("src").reverse())
    v = keys[0]
    assert w.rows(g, "src", v).equals(g.filter(pl.col("src") == v))
