"""Latin-script addresses compared by their parts, and the blocking keys Western records need.

Expected values are written by hand from how the addresses read (which door, which street, which
town), not from the parser: a German address with the number after the street and the postcode before
the city is the same door as its English rendering; two flats of one house are the same road and
number; 12 High Street in Oxford and in Cambridge are two places.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from credgraph.resolution import resolve
from credgraph.resolution.engine import _key_exprs, compare_mentions
from credgraph.resolution.explain import explain_pair
from credgraph.resolution.latin_address import LatinTable, latin_level, parse_latin_address
from credgraph.resolution.mentions import extract_mentions
from credgraph.resolution.sample import records_frame
from tests.valid_codes import make_id

# (address A, address B, person address level by name) - one row per kind of real-world variation.
PAIRS = [
    # German: number after the street, Strasse / Street, postcode before or after the city, typed twice.
    ("Ansbacher Strasse 23, 56422 Dusseldorf", "23 Ansbacher Street, Dusseldorf 56244 Germany", "identical"),
    ("Hauptstraße 5, 80331 München", "Hauptstr. 5, D-80331 Muenchen", "identical"),
    # US: a building name one filing adds; Lane / Ln; a city written as its initials.
    ("Adventura Apartments 638 Downey St, Salem, OR", "638 Downey Street, Salem, OR", "identical"),
    ("1515 Adela Lane, Las Vegas, NV 89111", "1515 Adela Ln, LV, NV 89111", "identical"),
    # A postcode one digit off (a typo), the same street and number.
    ("1304 Poppy Hills Dr, Blacklick, OH 43004", "1304 Poppy Hills Drive, Blacklick OH 43040", "identical"),
    ("1304 Poppy Hills Dr 43004", "1304 Poppy Hills Drive 43005", "identical"),
    # ... but not against two different towns: neighbouring codes, not one code mistyped.
    ("10 Oak Street, Springfield 60000", "200 Lake Road, Shelbyville 70000", "different"),
    # PO boxes: P.O. Box and PO BOX are one box; another box in the same town is only the same place.
    ("P.O. Box 12987, Chicago, IL 60611", "PO BOX 12987 Chicago IL 60611", "identical"),
    ("PO Box 12987, Chicago, IL 60611", "PO Box 4410, Chicago, IL 60611", "same postcode or district"),
    # Apartments: two flats of one house; a unit one side leaves out counts neither way.
    ("Apt 4, 200 Park Ave, New York, NY 10166", "Apt 9, 200 Park Avenue, New York, NY 10166", "same road and number"),
    ("Flat 2, 10 Downing Street, London SW1A 2AA", "10 Downing St, London SW1A 2AA", "identical"),
    # UK: the same street, another house; another street in the same postcode district.
    ("15 Elm Road, Leeds LS6 2AB", "48 Elm Road, Leeds LS6 2AB", "same road"),
    ("9 Oak Lane, Leeds LS6 2AB", "15 Elm Road, Leeds LS6 2AB", "same postcode or district"),
    # A street name one typo off with the same number.
    ("4 Tenison-Woods Circuit, Corrimal VIC 2099", "4 Tenison-Woosd Circuit, Corrimal VIC 2099",
     "same road and number"),
    # East and West Main Street are two streets; a direction one side leaves out counts neither way.
    ("123 E Main St, Springfield, IL 62704", "123 W Main St, Springfield, IL 62704", "same postcode or district"),
    ("123 E Main St, Springfield, IL 62704", "123 Main Street, Springfield, IL 62704", "identical"),
    ("80 Delaware Ave SE, Washington DC 20003", "80 Delaware Avenue, Washington, DC 20003", "identical"),
    # Only a town on both sides (a town column): all they both say agrees, a typo allowed; another town differs.
    ("Stoke-on-Trent", "Stoke-on-Trent", "similar"),
    ("Newcastle-upon-Tyne", "Newcastle upon Tyne", "similar"),
    ("Leicester", "Plymouth", "different"),
    # A town on one side, a street address in that town on the other: only the place agrees.
    ("Leeds", "15 Elm Road, Leeds LS6 2AB", "same postcode or district"),
    # Only the town's name differs, no postcode on one side: a suburb or the metro's name; the same door
    # is then only the same road, another street is another place.
    ("123 E Main St, Henderson, NV 89132", "123 Main St, Las Vegas", "same road"),
    ("405 Lexington Avenue, Manhattan, NY", "9 Park Avenue, New York, NY", "different"),
    # The same street and number in two towns: 123 Main St is in a thousand towns.
    ("12 High Street, Oxford OX1 4AB", "12 High Street, Cambridge CB2 1TN", "different"),
    ("123 Main St, Springfield, IL 62704", "123 Main St, Portland, OR 97201", "different"),
]


def _person_levels(pairs: list[tuple[str, str]]) -> list[str]:
    rows = []
    for a, b in pairs:
        rows += [{"subject_name": "Ann Example", "subject_type": "natural", "subject_address": a},
                 {"subject_name": "Ann Example", "subject_type": "natural", "subject_address": b}]
    m = extract_mentions(records_frame(rows))
    n = len(pairs)
    out = compare_mentions(m, list(range(0, 2 * n, 2)), list(range(1, 2 * n, 2)))
    return out["address"].to_list()


def test_person_address_levels_by_parts():
    got = _person_levels([(a, b) for a, b, _ in PAIRS])
    expected = [lv for _, _, lv in PAIRS]
    wrong = [(a, b, e, g) for (a, b, e), g in zip(PAIRS, got) if e != g]
    assert not wrong, wrong


def test_company_address_uses_the_same_parts():
    rows = [{"subject_name": "Universal Exports Ltd", "subject_type": "legal", "subject_address": a}
            for a in ("Ansbacher Strasse 23, 56422 Dusseldorf", "23 Ansbacher Street, Dusseldorf 56244",
                      "12 High Street, Oxford OX1 4AB", "12 High Street, Cambridge CB2 1TN")]
    m = extract_mentions(records_frame(rows))
    out = compare_mentions(m, [0, 2], [1, 3])
    assert out["address"].to_list() == ["identical", "different"]


def test_parts_of_addresses_in_several_national_forms():
    a = parse_latin_address("Ansbacher Strasse 23, 56422 Dusseldorf")
    assert (a.number, a.street, a.city, a.postcodes) == ("23", "ansbacher st", "dusseldorf", ("56422",))
    a = parse_latin_address("Adventura Aparments 638 Downey St, Salem, OR")
    assert (a.number, a.street, a.building, a.city, a.state) == ("638", "downey st", "adventura aparments",
                                                                  "salem", "or")
    a = parse_latin_address("Flat 2, 10 Downing Street, London SW1A 2AA, United Kingdom")
    assert (a.unit, a.number, a.street, a.city, a.postcodes, a.country) == (
        "unit 2", "10", "downing st", "london", ("sw1a2aa",), "gb")
    a = parse_latin_address("P.O. Box 1234, Springfield, IL 62704-1234")
    assert (a.number, a.street, a.city, a.state, a.postcodes) == ("1234", "po box", "springfield", "il", ("62704",))
    a = parse_latin_address("12 rue de la Paix, 75002 Paris, France")
    assert (a.number, a.street, a.city, a.postcodes, a.country) == ("12", "de la paix st", "paris", ("75002",), "fr")
    a = parse_latin_address("3212 W. 32nd St Palm Harbor, FL 60527")  # FL is Florida here, not a floor
    assert (a.number, a.street, a.unit, a.city, a.state) == ("3212", "32 st", "", "palm harbor", "fl")


def test_vectorised_levels_equal_the_readable_rule():
    """The arrays version (used on every candidate pair) against the one-pair rule, on all pairs of a
    set of addresses written in many forms."""
    addrs = sorted({x for a, b, _ in PAIRS for x in (a, b)})
    table = LatinTable([parse_latin_address(a).serialise() for a in addrs])
    ia, ib = np.triu_indices(len(addrs), 1)
    got = table.levels(ia, ib)
    ref = [latin_level(parse_latin_address(addrs[i]), parse_latin_address(addrs[j])) for i, j in zip(ia, ib)]
    assert got.tolist() == ref
    assert {0, 1, 2, 3, 4, 5} <= set(ref)  # the set exercises every level the rule gives


def _keys(rows: list[dict]) -> list[set[str]]:
    m = extract_mentions(records_frame(rows)).with_columns(pl.lit("").alias("company"))
    k = m.select(pl.concat_list(_key_exprs("natural")).alias("k"))["k"].to_list()
    return [{x for x in ks if x is not None} for ks in k]


def test_typo_surnames_at_one_address_share_a_block():
    """Susan Moony and Susan Mooney share no name token, and no birth date or phone: the door of the
    address, written two ways, brings them together."""
    a, b = _keys([
        {"subject_name": "Susan Moony", "subject_type": "natural",
         "subject_address": "Adventura Apartments 638 Downey St, Salem, OR"},
        {"subject_name": "Susan Mooney", "subject_type": "natural", "subject_address": "638 Downey Street, Salem, OR"},
    ])
    shared = {x.split("\x1f")[0] for x in a & b}
    assert "ak" in shared


def test_resolver_compares_and_merges_a_typo_surname_at_one_door():
    """End to end: the resolver compares the two Susans (a shared key) and, with the same door
    corroborating a similar name, puts them in one entity; a third person at that door with another
    name stays apart."""
    rows = [
        {"subject_name": "Susan Moony", "subject_type": "natural",
         "subject_address": "Adventura Apartments 638 Downey St, Salem, OR"},
        {"subject_name": "Susan Mooney", "subject_type": "natural", "subject_address": "638 Downey Street, Salem, OR"},
        {"subject_name": "Maria Sentosa", "subject_type": "natural", "subject_address": "638 Downey St, Salem, OR"},
    ]
    res = resolve(records_frame(rows))
    ent = dict(zip(res.assignments["mention_id"].to_list(), res.assignments["entity_id"].to_list()))
    text = explain_pair(res, "r000001:subject", "r000002:subject")
    assert "blocked together on key(s)" in text and "ak" in text.split("blocked together on key(s)")[1]
    assert "address      identical" in text
    assert ent["r000001:subject"] == ent["r000002:subject"]
    assert ent["r000003:subject"] != ent["r000001:subject"]


@pytest.mark.parametrize("addr", ["深圳市南山区深南大道1001号",
                                  "广东省深圳市南山区粤海街道科技园社区深南大道1001号"])
def test_chinese_addresses_have_no_latin_parts(addr):
    row = {"subject_name": "张伟", "subject_type": "natural", "subject_address": addr}
    m = extract_mentions(records_frame([row]))
    assert m["addr_latin"].to_list() == [""]
    assert m["addr_road"].to_list() == ["深南大道"]


WESTERN = [
    {"type": "natural", "name": "Susan Moony", "address": "Adventura Apartments 638 Downey St, Salem, OR"},
    {"type": "natural", "name": "Robert E Smith Sr", "address": "123 E Main St, Henderson, NV 89132",
     "birth_date": "1954-03-31"},
    {"type": "natural", "name": "Brown Jr, Geoffrey", "address": "Ansbacher Strasse 23, 56422 Dusseldorf"},
    {"type": "natural", "name": "Salenger, Kristin", "address": "Flat 2, 10 Downing Street, London SW1A 2AA"},
    {"type": "natural", "name": "K Salinger", "address": "P.O. Box 1234, Springfield, IL 62704-1234"},
    {"type": "legal", "name": "Universal Exports Ltd", "address": "405 Lexington Avenue, New York, NY 10174"},
    {"type": "natural", "name": "王杰", "address": "深圳市南山区深南大道1001号", "phone": "13812345678",
     "id_number": make_id("440305", dt.date(1971, 3, 17), 503)},
]


def test_the_matchers_fast_path_computes_the_same_features_and_keys():
    """The Matcher answers a few examples without the dataframe pipeline: its features and blocking
    keys of Western records (Latin addresses, suffixes, the door and postcode keys) are the pipeline's."""
    from credgraph.resolution.engine import PROFILE_COLUMNS, _SEP
    from credgraph.resolution.matching import example_row
    from credgraph.resolution.quickmatch import blocking_keys, query_features

    rows = [example_row(k, ex) for k, ex in enumerate(WESTERN)]
    piped = extract_mentions(records_frame(rows)).with_columns(pl.lit("").alias("company"))
    for row, mrow in zip(rows, piped.iter_rows(named=True)):
        fast = query_features(row)
        type_ = fast["type"]
        cols = [c for c in PROFILE_COLUMNS[type_] if c != "company"]
        assert {c: fast[c] for c in cols} == {c: mrow[c] for c in cols}, row
        keys = piped.filter(pl.col("record_id") == row["record_id"]).select(
            pl.concat_list(_key_exprs(type_, matching=True)).alias("k"))["k"][0].to_list()
        assert blocking_keys(fast, type_) == {k for k in keys if k is not None}, row
    assert piped["name_gen"].to_list()[:3] == ["", "1", "2"]
    assert _SEP.join(("ak", "638 downey")) in blocking_keys(query_features(rows[0]), "natural")
