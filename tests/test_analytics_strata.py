"""Risk-class inspection strata (分类监管): rank bands by score, most of the budget to the top class,
random within each class, directed-check firms left out, re-weighted scores moving the list."""

from __future__ import annotations

import numpy as np
import polars as pl

from credgraph.analytics import draw_inspection
from credgraph.analytics.inspection import RISK_CLASSES, risk_classes
from credgraph.config import AnalyticsConfig

AS_OF = "2024-01-01"
N = 1000


def _grades(score: np.ndarray) -> pl.DataFrame:
    """1000 operating firms f0000..f0999 with the given scores (all grade B: grades play no part)."""
    return pl.DataFrame({"node_id": [f"f{i:04d}" for i in range(N)], "name": [f"firm {i}" for i in range(N)],
                         "grade": ["B"] * N, "score": score.astype(float), "reasons": [""] * N})


def _perm_scores(seed: int = 3) -> np.ndarray:
    return np.random.default_rng(seed).permutation(N).astype(float)  # distinct scores 0..999


def test_classes_are_rank_bands_and_the_budget_goes_mostly_to_the_top():
    score = _perm_scores()
    g = _grades(score)
    cfg = AnalyticsConfig()  # risk classes 4 / 6 / 40 / 50 %, ratios 100 / 10 / 1 / 0.2 %, budget 5 %
    assert cfg.inspection_strata == "risk"
    lst = draw_inspection(g, cfg, seed=7, as_of=AS_OF)
    # By hand: wanted 40 + 6 + 4 + 1 = 51 for a budget of 50, scaled by 50/51: 39.2, 5.88, 3.92, 0.98;
    # floors 39 + 5 + 3 + 0 = 47, the 3 left go to the largest remainders (0.98, 0.92, 0.88).
    assert lst.allocation["stratum"].to_list() == list(RISK_CLASSES)
    assert lst.allocation["pool"].to_list() == [40, 60, 400, 500]
    assert lst.allocation["drawn"].to_list() == [39, 6, 4, 1]
    by_id = dict(zip(g["node_id"], score))
    bands = {"高风险": (0, 40), "较高风险": (40, 100), "一般风险": (100, 500), "低风险": (500, 1000)}
    for row in lst.targets.iter_rows(named=True):
        lo, hi = bands[row["stratum"]]
        assert lo <= by_id[row["node_id"]] < hi, row  # score s is rank s: the class is its rank band
    assert lst.targets.height == 50 and lst.targets["node_id"].n_unique() == 50
    # Random within the classes: other seeds give other lists, the same seed the same one.
    assert draw_inspection(g, cfg, seed=7, as_of=AS_OF).targets.equals(lst.targets)
    assert draw_inspection(g, cfg, seed=8, as_of=AS_OF).targets["node_id"].to_list() != lst.targets["node_id"].to_list()


def test_risk_classes_match_a_sort_by_hand():
    rng = np.random.default_rng(0)
    score = rng.integers(0, 20, 200).astype(float)  # many ties: broken by id
    ids = np.array([f"x{i:03d}" for i in range(200)])
    cls = risk_classes(score, ids, (0.1, 0.2, 0.7))
    ranked = sorted(range(200), key=lambda i: (score[i], ids[i]))
    expect = np.empty(200, dtype=int)
    for pos, i in enumerate(ranked):
        expect[i] = 0 if pos < 20 else 1 if pos < 60 else 2
    assert cls.tolist() == expect.tolist()


def test_directed_checks_leave_the_draw_and_the_next_firms_move_up():
    score = np.arange(N, dtype=float)  # f0000 riskiest
    g = _grades(score)
    directed = [f"f{i:04d}" for i in range(10)]
    lst = draw_inspection(g, AnalyticsConfig(), seed=1, as_of=AS_OF, directed=directed)
    ids = set(lst.targets["node_id"].to_list())
    assert not ids & set(directed)
    assert lst.excluded == 10 and any("directed-check" in n for n in lst.notes)
    top = set(lst.targets.filter(pl.col("stratum") == "高风险")["node_id"].to_list())
    # 990 drawable: the top class is the 40 lowest of them (rank 10..49), 39 of them drawn.
    assert len(top) == 39 and top <= {f"f{i:04d}" for i in range(10, 50)}
    assert set(lst.eligible) == set(g["node_id"].to_list()) - set(directed)


def test_new_scores_move_the_list():
    # Re-fitted weights change the scores: the firms they make riskiest enter the top class.
    score = np.arange(N, dtype=float)
    before = draw_inspection(_grades(score), AnalyticsConfig(), seed=1, as_of=AS_OF)
    after = draw_inspection(_grades(score[::-1].copy()), AnalyticsConfig(), seed=1, as_of=AS_OF)
    top_after = set(after.targets.filter(pl.col("stratum") == "高风险")["node_id"].to_list())
    assert top_after <= {f"f{i:04d}" for i in range(960, 1000)}
    assert not top_after & set(before.targets["node_id"].to_list())


def test_grade_strata_still_available():
    score = _perm_scores()
    g = _grades(score).with_columns(pl.when(pl.col("score") < 100).then(pl.lit("D")).otherwise(pl.lit("B")).alias("grade"))
    cfg = AnalyticsConfig(inspection_strata="grade", sample_ratios=(0.0, 0.0, 0.0, 0.0, 0.5, 0.0), inspection_budget=0.0)
    lst = draw_inspection(g, cfg, seed=2, as_of=AS_OF)
    assert lst.targets.height == 50 and set(lst.targets["grade"].to_list()) == {"D"}
    assert lst.allocation.filter(pl.col("stratum") == "D")["drawn"].item() == 50
