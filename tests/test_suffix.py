"""Generational suffixes: a father and his namesake son are two people; a missing suffix is no evidence.

Written the way Western filings read: ``Robert Smith Sr`` and ``Robert Smith Jr`` share a house and a
phone; ``Brown Jr, Geoffrey`` is the same man as ``Geoffrey Brown`` with his birth date; ``Morris I
Klein`` and ``Morris II Klein`` are grandfather-and-grandson style namesakes. Expected outcomes are
decided by hand from what the records say.
"""

from __future__ import annotations

import datetime as dt

import pytest

from credgraph.resolution import resolve
from credgraph.resolution.engine import compare_mentions
from credgraph.resolution.generation import split_generation
from credgraph.resolution.mentions import extract_mentions
from credgraph.resolution.sample import records_frame


@pytest.mark.parametrize("name, base, gen", [
    ("Robert E Smith Sr", "Robert E Smith", "1"),
    ("Robert Smith Senior", "Robert Smith", "1"),
    ("Brown Jr, Geoffrey", "Brown, Geoffrey", "2"),
    ("John Smith, Jr.", "John Smith", "2"),
    ("Geoffrey Brown Junior", "Geoffrey Brown", "2"),
    ("Morris II Klein", "Morris Klein", "2"),
    ("Morris I Klein", "Morris Klein", "1"),
    ("Henry Ford III", "Henry Ford", "3"),
    ("Thurston Howell IV", "Thurston Howell", "4"),
    # Not suffixes: an initial with a dot, a given name Junior, a lone V, Chinese names.
    ("Morris I. Klein", "Morris I. Klein", ""),
    ("Junior Santos", "Junior Santos", ""),
    ("John V Smith", "John V Smith", ""),
    ("Iv Petrov", "Iv Petrov", ""),
    ("王杰", "王杰", ""),
])
def test_split_generation(name, base, gen):
    assert split_generation(name) == (base, gen)


def _person(name, **kw):
    row = {"subject_name": name, "subject_type": "natural"}
    row.update({f"subject_{k}": v for k, v in kw.items()})
    return row


def test_suffix_is_not_part_of_the_name_and_different_suffixes_are_a_rule():
    m = extract_mentions(records_frame([
        _person("Geoffrey Brown Jr"), _person("Geoffrey Brown"),
        _person("Robert Smith Sr"), _person("Robert Smith Jr"),
        _person("Morris I Klein"), _person("Morris II Klein"),
    ]))
    out = compare_mentions(m, [0, 2, 4], [1, 3, 5])
    assert out["name"].to_list() == ["identical", "identical", "identical"]
    assert out["generation_differs"].to_list() == [False, True, True]


HOME = "1515 Adela Lane, Las Vegas, NV 89111"


def test_father_and_son_at_one_address_stay_two_people():
    """Robert Smith Sr and Robert Smith Jr share a house and a phone: two people. A filing that names
    'Robert Smith' at that house with that phone may join one of them, but cannot make them one."""
    rows = [
        _person("Robert Smith Sr", address=HOME, phone="702-919-1300", birth_date=dt.date(1954, 3, 31)),
        _person("Robert Smith Jr", address=HOME, phone="702-919-1300"),
        _person("Robert Smith", address="1515 Adela Ln, Las Vegas NV 89111", phone="702-919-1300"),
        _person("Robert Smith Jr.", address=HOME, email="rsmith@example.com"),
        _person("Robert Smith Junior", phone="702-919-1300", email="rsmith@example.com"),
    ]
    res = resolve(records_frame(rows))
    ent = dict(zip(res.assignments["mention_id"].to_list(), res.assignments["entity_id"].to_list()))
    e = [ent[f"r{i:06d}:subject"] for i in range(1, 6)]
    assert e[0] != e[1]  # Sr / Jr
    assert e[2] in (e[0], e[1])  # the suffix-less filing joins one of them
    assert e[3] == e[4] == e[1]  # Jr, Jr. and Junior: one son


def test_a_missing_suffix_still_merges():
    rows = [
        _person("Brown Jr, Geoffrey", birth_date=dt.date(1982, 6, 21), phone="503-555-0142"),
        _person("Geoffrey Brown", birth_date=dt.date(1982, 6, 21), phone="503-555-0142"),
        _person("Morris I Klein", birth_date=dt.date(1982, 4, 12), phone="312-555-0199"),
        _person("Morris II Klein", birth_date=dt.date(1982, 4, 12), phone="312-555-0199"),
    ]
    res = resolve(records_frame(rows))
    ent = dict(zip(res.assignments["mention_id"].to_list(), res.assignments["entity_id"].to_list()))
    assert ent["r000001:subject"] == ent["r000002:subject"]
    assert ent["r000003:subject"] != ent["r000004:subject"]
