"""English nicknames from the public ``nicknames`` data set (not the generator's table): expected
pairs written by hand from how the names are used."""

from __future__ import annotations

import pytest

from credgraph.resolution import resolve
from credgraph.resolution.normalise import given_name_of, person_name_keys
from credgraph.resolution.sample import records_frame


@pytest.mark.parametrize("nick, formal", [("howie", "howard"), ("norm", "norman"), ("paddy", "patrick")])
def test_unambiguous_nickname_reads_as_the_formal_name(nick, formal):
    assert given_name_of(nick) == formal


@pytest.mark.parametrize("token", ["ed", "marie", "mary", "roberta", "smith"])
def test_ambiguous_nicknames_and_formal_names_stay(token):
    # ed: edward, edgar, edmund...; marie and mary are names of their own; roberta is formal.
    assert given_name_of(token) == token


def test_name_keys_read_the_nickname_in_given_position_only():
    howie, howard, comma = person_name_keys(["Howie Hughes", "Howard Hughes", "Hughes, Howie"])
    assert howie[0] == howard[0] == comma[0] == "howard hughes"
    # A surname is not a nickname: Webb is not Webster, also written surname first.
    assert person_name_keys(["John Webb", "Webb, John"]) == [("john webb", "JN WB")] * 2
    assert person_name_keys(["GREEN Michell"])[0][0] == "green michell"  # not greenberry
    # Bob stands for Robert, not Roberta.
    bob, robert, roberta = person_name_keys(["Bob Smith", "Robert Smith", "Roberta Smith"])
    assert bob[0] == robert[0] == "robert smith" and roberta[0] == "roberta smith"


def test_nickname_with_a_shared_phone_is_one_person_and_a_stranger_is_not():
    rows = [
        {"subject_name": "Howard Hughes", "subject_type": "natural", "subject_phone": "7029191300"},
        {"subject_name": "Howie Hughes", "subject_type": "natural", "subject_phone": "7029191300"},
        {"subject_name": "Roberta Hughes", "subject_type": "natural", "subject_phone": "7025550188"},
        {"subject_name": "Bob Hughes", "subject_type": "natural", "subject_phone": "7024441234"},
    ]
    res = resolve(records_frame(rows))
    ent = dict(res.assignments.filter(res.assignments["role"] == "subject")
               .select("record_id", "entity_id").iter_rows())
    assert ent["r000001"] == ent["r000002"]
    assert len({ent["r000001"], ent["r000003"], ent["r000004"]}) == 3


def test_a_nickname_pair_reads_as_the_same_sound_and_an_ambiguous_one_does_not():
    # hal stands for harold, henry, howard...: not read as any one of them.
    from credgraph.resolution.engine import compare_mentions
    from credgraph.resolution.mentions import extract_mentions

    m = extract_mentions(records_frame([{"subject_name": n, "subject_type": "natural"}
                                        for n in ("Howie Hughes", "Howard Hughes", "Hal Hughes", "Howard Hughes")]))
    out = compare_mentions(m, [0, 2], [1, 3])
    assert out["name"].to_list()[0] == "same sound"
    assert out["name"].to_list()[1] not in ("same sound", "identical")
