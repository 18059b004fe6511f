"""Clustering: constraints, branches, possibly-related companies, and the no-drop invariant."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credgraph.config import ResolutionConfig
from credgraph.resolution import InputError, ResolutionError, resolve
from credgraph.resolution.cluster import birth_dates_conflict, constrained_clusters
from credgraph.resolution.sample import records_frame
from valid_codes import local_uscc


def test_union_find_refuses_the_link_that_would_join_two_identifiers():
    attrs = pl.DataFrame({"group": [0, 1, 2, 3], "uscc_v": ["A", "", "B", ""]})
    # 0~1 strong, 1~2 weaker, 2~3 strong: {0,1} and {2,3}, the middle link refused.
    labels, refused = constrained_clusters(4, np.array([0, 1, 2]), np.array([1, 2, 3]),
                                           np.array([9.0, 5.0, 8.0]), attrs)
    assert labels[0] == labels[1] and labels[2] == labels[3] and labels[1] != labels[2]
    assert refused.tolist() == [1]


def _smiths(births: list[str], a: list[int], b: list[int], w: list[float]):
    attrs = pl.DataFrame({"group": list(range(len(births))), "id_full": [""] * len(births),
                          "id_masked": [""] * len(births), "birth": births})
    return constrained_clusters(len(births), np.array(a), np.array(b), np.array(w), attrs)


def test_a_record_without_birth_date_cannot_bridge_father_and_son():
    # Senzing truth set: John Smith 1970-10-10 (father) and John Smith 1990-03-15 (son), same
    # address; a watchlist John Smith without a birth date links to both.
    labels, refused = _smiths(["19701010", "", "19900315"], [0, 1], [1, 2], [14.4, 14.3])
    assert labels[0] == labels[1] and labels[2] != labels[0]
    assert refused.tolist() == [1]


@pytest.mark.parametrize("other", ["19670851", "19760815", "19670825", "19671508", "19670815"])
def test_a_birth_date_typo_still_joins_through_a_record_without_one(other):
    labels, refused = _smiths(["19670815", "", other], [0, 1], [1, 2], [14.4, 14.3])
    assert labels[0] == labels[1] == labels[2] and refused.tolist() == []


def test_a_date_typed_wrong_altogether_joins_where_the_pair_model_linked_both_dates():
    # Febrl replaces some dates by another date: the pair model saw 1960-08-28 against 1927-02-04
    # (name, SSN and address agree) and merged them; a third record without a date joins too. A
    # fourth record with a third far date, linked only through the dateless one, is kept apart.
    labels, refused = _smiths(["19600828", "19270204", "", "19851111"], [0, 1, 2], [1, 2, 3], [20.0, 15.0, 14.0])
    assert labels[0] == labels[1] == labels[2] != labels[3]
    assert refused.tolist() == [2]


def test_birth_dates_conflict_beyond_one_typo():
    assert not birth_dates_conflict("19670815", "19670816")  # one digit
    assert not birth_dates_conflict("19670815", "19670851")  # neighbours swapped
    assert not birth_dates_conflict("19670805", "19670508")  # day and month exchanged
    assert birth_dates_conflict("19670815", "19670826")  # two digits
    assert birth_dates_conflict("19701010", "19900315")
    assert not birth_dates_conflict("19701010", "")  # nothing to conflict with
    assert not birth_dates_conflict("1970", "19900315")  # partial date


def test_cannot_link_pairs_and_branch_attributes_are_respected():
    attrs = pl.DataFrame({"group": [0, 1, 2], "branch": ["", None, "南山分公司"]})
    labels, refused = constrained_clusters(3, np.array([0, 1]), np.array([1, 2]), np.array([9.0, 8.0]), attrs)
    assert labels[0] == labels[1] != labels[2] and refused.tolist() == [1]
    attrs = pl.DataFrame({"group": [0, 1, 2], "uscc_v": ["", "", ""]})
    labels, _ = constrained_clusters(3, np.array([0, 1]), np.array([1, 2]), np.array([9.0, 8.0]), attrs,
                                     np.array([0]), np.array([2]))
    assert labels[0] == labels[1] != labels[2]


def test_branch_is_never_merged_with_its_parent():
    res = resolve(records_frame([
        {"subject_name": "深圳市华强电子有限公司", "subject_uscc": local_uscc("19220382"),
         "subject_address": "深圳市福田区华强北路1号"},
        {"subject_name": "深圳市华强电子有限公司南山分公司", "subject_type": "legal",
         "subject_address": "深圳市福田区华强北路1号"},
        {"subject_name": "深圳市华强电子有限公司南山分公司", "subject_type": "legal"},
        {"subject_name": "深圳市华强电子有限公司福田分公司", "subject_type": "legal"},
        {"subject_name": "深圳市華強電子有限公司", "subject_type": "legal", "subject_address": "深圳市福田区华强北路1号"},
    ]))
    e = [res.entity_of(f"r00000{i}:subject") for i in range(1, 6)]
    assert e[0] == e[4] and e[1] == e[2]
    assert len({e[0], e[1], e[3]}) == 3
    branch = res.entities.filter(pl.col("entity_id") == e[1])
    assert branch["is_branch"][0] and not res.entities.filter(pl.col("entity_id") == e[0])["is_branch"][0]


def test_same_brand_in_another_industry_is_possibly_related_never_merged():
    res = resolve(records_frame([
        {"subject_name": "深圳市腾讯计算机系统有限公司", "subject_type": "legal", "subject_phone": "0755-86013388"},
        {"subject_name": "腾讯科技(深圳)有限公司", "subject_type": "legal", "subject_phone": "0755-86013388"},
    ]))
    assert res.entity_of("r000001:subject") != res.entity_of("r000002:subject")
    rel = res.evidence.filter(pl.col("band") == "related")
    assert rel.height == 1 and "same_brand_other_industry" in rel["rule"][0]


def test_region_may_be_missing_but_not_conflict():
    res = resolve(records_frame([
        {"subject_name": "深圳市鑫源贸易有限公司", "subject_uscc": local_uscc("55501234")},
        {"subject_name": "鑫源贸易有限公司", "subject_type": "legal"},
        {"subject_name": "广州市鑫源贸易有限公司", "subject_type": "legal"},
    ]))
    assert res.entity_of("r000001:subject") == res.entity_of("r000002:subject")
    assert res.entity_of("r000001:subject") != res.entity_of("r000003:subject")


def test_empty_and_unusable_input_are_clear_errors():
    with pytest.raises(InputError, match="empty"):
        resolve(records_frame([]))
    with pytest.raises(InputError, match="no usable subject field.*sample.csv row 2"):
        resolve(records_frame([{"subject_name": "张伟"}, {"subject_name": "  ", "subject_address": "深圳市福田区福华路1号"}]))
    # a phone or an e-mail names a subject as an identifier does: the nameless record is resolved
    res = resolve(records_frame([{"subject_name": "张伟"}, {"subject_name": " ", "subject_phone": "13800138000"}]))
    assert res.assignments.filter(pl.col("role") == "subject").height == 2
    with pytest.raises(InputError, match="missing required column"):
        resolve(pl.DataFrame({"record_id": ["a"]}))
    rows = records_frame([{"subject_name": "张伟"}])
    for bad in (-1.0, float("nan")):
        with pytest.raises(ResolutionError, match="em_anchor must be >= 0"):
            resolve(rows, config=ResolutionConfig(em_anchor=bad))


_NAMES = ["深圳市华强电子有限公司", "華強電子（深圳）有限公司", "深圳市华强电子有限公司南山分公司", "深圳市化强电子有限公司",
          "深圳市华强物流有限公司", "广州市华强电子有限公司", "张伟", "張偉", "王芳", "李娜", "华强电子有限公司"]
_IDS = [None, "11010519491231002X", "110105491231002", "110105********002X", "44030119850101123X"]
_USCC = [None, local_uscc("19220382"), local_uscc("55501234")]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.fixed_dictionaries({
    "subject_name": st.sampled_from(_NAMES),
    "subject_uscc": st.sampled_from(_USCC),
    "subject_id_number": st.sampled_from(_IDS),
    "subject_phone": st.sampled_from([None, "0755-83421234", "13812345678"]),
    "object_name": st.sampled_from([None, "张伟", "深圳市华强电子有限公司"]),
}), min_size=1, max_size=14))
def test_every_mention_ends_in_exactly_one_entity(rows):
    records = records_frame(rows)
    res = resolve(records)
    expected = len(rows) + sum(1 for r in rows if r["object_name"])
    a = res.assignments
    assert a.height == expected and a["mention_id"].n_unique() == expected
    assert a["entity_id"].null_count() == 0
    counts = a.group_by("entity_id").len()
    ents = res.entities.join(counts, on="entity_id")
    assert ents.height == res.entities.height == a["entity_id"].n_unique()
    assert (ents["member_count"] == ents["len"]).all()
    # No entity holds two different valid USCCs or two different full ID numbers.
    m = res.mentions.join(a.select("mention_id", "entity_id"), on="mention_id")
    for col in ("uscc_v", "id_full"):
        n = m.filter(pl.col(col) != "").group_by("entity_id").agg(pl.col(col).n_unique().alias("n"))
        assert n.height == 0 or n["n"].max() == 1
    # Each entity holds one subject type only.
    assert m.group_by("entity_id").agg(pl.col("type").n_unique().alias("n"))["n"].max() == 1
