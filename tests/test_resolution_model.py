"""The Fellegi-Sunter model, blocking, and the evaluation metrics."""

from __future__ import annotations

import numpy as np
import polars as pl

from credgraph.config import ResolutionConfig
from credgraph.resolution import resolve
from credgraph.resolution.evaluate import scores
from credgraph.resolution.features import Comparison, LEGAL_COMPARISONS
from credgraph.resolution.model import estimate_u, fit_type_model, score
from credgraph.resolution.sample import records_frame
from valid_codes import local_uscc, with_check


def make_id(i: int) -> str:
    return with_check(f"440301198{i % 10}0101{i % 900 + 100:03d}")


def _two_level() -> tuple[Comparison, ...]:
    return (Comparison("a", ("no", "yes"), lambda p: p), Comparison("b", ("no", "yes"), lambda p: p))


def test_em_recovers_the_share_of_matches():
    rng = np.random.default_rng(1)
    comps = _two_level()
    m, u = np.array([0.1, 0.9]), np.array([0.8, 0.2])

    def draw(n, probs):
        return np.stack([(rng.random(n) < probs[1]).astype(np.int8) for _ in comps], axis=1)

    known_pos = draw(5000, m)  # pairs identifiers decide: matches
    known_neg = draw(5000, u)  # look-alikes: non-matches
    unknown = np.concatenate([draw(3000, m), draw(7000, u)])  # λ = 0.3
    gamma = np.concatenate([known_pos, known_neg, unknown])
    label = np.concatenate([np.ones(5000), np.zeros(5000), -np.ones(10000)]).astype(np.int64)
    prior = estimate_u(comps, draw(2000, u))
    tm = fit_type_model("legal", comps, gamma, label, prior, iterations=100)
    assert abs(tm.lam - 0.3) < 0.03
    assert abs(tm.m["a"][1] - 0.9) < 0.02 and abs(tm.u["a"][1] - 0.2) < 0.02
    # Judgements refine: non-matches that agree on "a" push u(a=yes) up and its weight down.
    judged = np.ones((100, 2), dtype=np.int8)
    tm2 = fit_type_model("legal", comps, np.concatenate([gamma, judged]),
                         np.concatenate([label, np.zeros(100, np.int64)]), prior,
                         np.concatenate([np.ones(len(gamma)), np.full(100, 50.0)]), iterations=100)
    assert tm2.weights("a")[1] < tm.weights("a")[1] - 0.5


def test_em_moves_m_towards_the_undecided_pairs():
    """Pairs that share an identifier agree more than the matches still to find (a company whose
    records carry its USCC is written the same way more often): anchored EM learns the undecided
    pairs' m from them instead of copying the decided pairs' m; a fixed-m fit cannot. u stays."""
    rng = np.random.default_rng(2)
    comps = tuple(Comparison(x, ("no", "yes"), lambda p: p) for x in "abc")
    m_true, m_silver, u_true = 0.75, 0.98, 0.15

    def draw(n, p_yes):
        return (rng.random((n, len(comps))) < p_yes).astype(np.int8)

    gamma = np.concatenate([draw(4000, m_silver), draw(4000, u_true), draw(6000, m_true), draw(14000, u_true)])
    label = np.concatenate([np.ones(4000), np.zeros(4000), -np.ones(20000)]).astype(np.int64)  # λ = 0.3
    prior = estimate_u(comps, draw(2000, u_true))
    fixed = fit_type_model("legal", comps, gamma, label, prior, iterations=200, anchor=float("inf"))
    em = fit_type_model("legal", comps, gamma, label, prior, iterations=200, anchor=0.5)
    assert abs(fixed.m["a"][1] - m_silver) < 0.02  # m stays where the decided pairs put it
    for c in "abc":  # m moves most of the way from the decided pairs' agreement to the undecided matches'
        assert m_true - 0.02 < em.m[c][1] < fixed.m[c][1] - 0.06, (c, em.m[c][1])
        assert abs(em.u[c][1] - u_true) < 0.05
    assert fixed.lam < em.lam <= 0.3 + 0.03  # a better m finds more of the matches (λ = 0.3)


def test_term_frequency_makes_a_common_name_count_for_less():
    tm = fit_type_model("legal", LEGAL_COMPARISONS, np.zeros((0, 6), np.int8), np.zeros(0, np.int64),
                        estimate_u(LEGAL_COMPARISONS, np.zeros((0, 6), np.int8)))
    gamma = np.array([[4, -1, -1, -1, -1, -1], [4, -1, -1, -1, -1, -1]], dtype=np.int8)
    common, rare = 300 / 100_000, 1 / 100_000
    ref = 3 / 100_000
    adj = {"name": np.log2(ref / np.array([common, rare]))}
    w, p = score(tm, LEGAL_COMPARISONS, gamma, adj)
    assert w[1, 0] > w[0, 0] + 5 and p[1] > p[0]


def test_common_person_name_weighs_less_in_a_real_run():
    rows = []
    # 60 people called 张伟, each with an ID and two company roles; one 欧阳修远 likewise.
    for i in range(61):
        name = "欧阳修远" if i == 60 else "张伟"
        company = f"深圳市第{i}号贸易有限公司"
        rows.append({"subject_name": company, "subject_type": "legal", "object_name": name,
                     "object_type": "natural", "object_id_number": make_id(i), "relation": "legal_rep_of"})
        rows.append({"subject_name": company, "subject_type": "legal", "object_name": name,
                     "object_type": "natural", "relation": "officer_of"})
    res = resolve(records_frame(rows))
    ev = res.evidence.filter((pl.col("type") == "natural") & pl.col("level_name").eq(5))
    names = res.mentions.select("mention_id", "core")
    ev = ev.join(names.rename({"mention_id": "left"}), on="left")
    w_common = ev.filter(pl.col("core") == "张伟")["weight_name"].mean()
    w_rare = ev.filter(pl.col("core") == "欧阳修远")["weight_name"].max()
    assert w_rare > w_common + 2
    # And each officer mention joined its own legal representative (same company), not another 张伟.
    for i in range(61):
        assert res.entity_of(f"r{2 * i + 1:06d}:object") == res.entity_of(f"r{2 * i + 2:06d}:object")
    assert res.entities.filter(pl.col("type") == "natural").height == 61


def test_block_cap_keeps_mass_addresses_from_exploding():
    address = "深圳市前海深港合作区前湾一路1号A栋201室"
    rows = [{"subject_name": f"深圳市{chr(0x4E00 + 7 * i)}{chr(0x4E00 + 11 * i + 3)}商务咨询有限公司",
             "subject_type": "legal", "subject_address": address} for i in range(60)]
    small = resolve(records_frame(rows), config=ResolutionConfig(max_block_size=20))
    big = resolve(records_frame(rows), config=ResolutionConfig(max_block_size=200))
    s_small, s_big = small.run["stats"]["legal"], big.run["stats"]["legal"]
    assert s_small["blocks_over_cap"] >= 1 and s_small["largest_block"] == 60
    assert s_small["candidate_pairs"] < s_big["candidate_pairs"]
    assert s_big["candidate_pairs"] >= 60 * 59 // 2
    # Sharing an address does not make 60 firms one: names differ.
    assert big.entities.height == 60


def test_homophone_and_transposition_are_found_by_blocking_and_scored_close():
    rows = [{"subject_name": "深圳市华强电子有限公司", "subject_uscc": local_uscc("19220382")},
            {"subject_name": "深圳市化强电子有限公司", "subject_type": "legal"},
            {"subject_name": "深圳市强华电子有限公司", "subject_type": "legal"}]
    res = resolve(records_frame(rows))
    ev = res.evidence.filter(pl.col("type") == "legal").filter(pl.col("level_name").is_not_null())
    levels = {(r["left"], r["right"]): r["level_name"] for r in ev.iter_rows(named=True)}
    assert levels.get(("r000001:subject", "r000002:subject")) == 3
    assert levels.get(("r000001:subject", "r000003:subject")) == 2


def test_pairwise_and_bcubed_scores_by_hand():
    f = pl.DataFrame({"pred": ["a", "a", "a", "b"], "true": ["x", "x", "y", "y"],
                      "tag": [False, False, True, False]})
    s = scores(f)
    # predicted pairs: 3 (a); true pairs: 1 (x) + 1 (y); correct: 1.
    assert s["predicted_pairs"] == 3 and s["true_pairs"] == 2
    assert abs(s["pairwise_precision"] - 1 / 3) < 1e-9 and abs(s["pairwise_recall"] - 1 / 2) < 1e-9
    # B-cubed precision: (2/3 + 2/3 + 1/3 + 1) / 4; recall: (1 + 1 + 1/2 + 1/2) / 4.
    assert abs(s["bcubed_precision"] - (2 / 3 + 2 / 3 + 1 / 3 + 1) / 4) < 1e-9
    assert abs(s["bcubed_recall"] - 0.75) < 1e-9
    assert s["entity_count_error"] == 0.0
    t = scores(f, tagged="tag")
    # Pairs involving the tagged mention: predicted 2 (with both x's), true 1 (with b), correct 0.
    assert t["predicted_pairs"] == 2 and t["true_pairs"] == 1 and t["pairwise_precision"] == 0.0
