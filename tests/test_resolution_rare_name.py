"""A person listed by name only at a firm joins the one known person carrying a rare name — and only then.

The records read like a register: each registration names its legal representative with an ID number;
the key-personnel filings of other firms list officers by name only. Names are built so that their
commonness is known by hand: 30 representatives carry every combination of five common surnames and
six common given names (王伟, 李芳, ...: each surname held by 6 known persons, each given name by 5), a few
carry names rare in both parts (欧阳靖), and two different people carry 司马琰. Expected outcomes follow
from the records, not from the code.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json

import polars as pl
import pytest

from credgraph.resolution import explain, resolve
from credgraph.resolution.rarename import expected_carriers, name_parts
from credgraph.resolution.sample import records_frame
from tests.valid_codes import local_uscc, make_id

SURNAMES = ("王", "李", "张", "刘", "陈")
GIVEN = ("伟", "芳", "娜", "敏", "静", "强")
RARE = ("欧阳靖", "诸葛翊", "闵璐瑶")
# Foreign nationals with passports: enough of them that one given name and one family name say little.
LATIN_KNOWN = ("Alexandra Catherine Evans", "Thomas Edward Clarke", "Sophie Anne Laurent", "Jürgen Weber",
               "Isabel Ruiz", "Henry Walker", "Olivia Grant", "Lucas Moreau", "Emma Schneider", "Noah Bennett",
               "Camille Roux", "Pablo Navarro", "Grace Hughes", "Felix Braun", "Chloe Martin", "Samuel Price")
UNKNOWN = ("赵磊", "孙杰", "周婷", "吴涛", "郑洁", "冯军", "何斌", "罗燕", "梁勇", "宋丹")


def _firm(k: int) -> tuple[str, str]:
    return f"深圳市第{k:03d}号贸易有限公司", local_uscc(f"{k:08d}")


def _rep(firm, name, id_number):
    return {"catalog": "MR_REG", "kind": "relationship", "subject_name": firm[0], "subject_uscc": firm[1],
            "subject_type": "legal", "object_name": name, "object_id_number": id_number, "object_type": "natural",
            "relation": "legal_rep_of"}


def _officer(firm, name):
    return {"catalog": "MR_PERSONNEL", "kind": "relationship", "subject_name": firm[0], "subject_uscc": firm[1],
            "subject_type": "legal", "object_name": name, "object_type": "natural", "relation": "officer_of",
            "role": "监事"}


@pytest.fixture(scope="module")
def case():
    rows, firm_no = [], itertools.count(1)
    known = [s + g for s, g in itertools.product(SURNAMES, GIVEN)] + list(RARE) + ["司马琰", "司马琰"]
    for i, name in enumerate(known):  # every known person: representative of a firm, with an ID number
        rows.append(_rep(_firm(next(firm_no)), name, make_id("440305", dt.date(1970, 1, 1) + dt.timedelta(days=97 * i),
                                                             101 + 2 * i)))
    # Name-only officers of other firms: each common combination once, the rare names, 司马琰, names nobody
    # known carries.
    for name in [s + g for s, g in itertools.product(SURNAMES, GIVEN)] + list(RARE) + ["司马琰"] + list(UNKNOWN):
        rows.append(_officer(_firm(next(firm_no)), name))
    # Foreign nationals: known by their passports; an officer list writes one with a middle initial.
    for k, name in enumerate(LATIN_KNOWN):
        rows.append({**_rep(_firm(next(firm_no)), name, None), "object_nationality": "GB",
                     "object_identifiers": json.dumps([{"scheme": "passport", "value": f"5{k:08d}"}])})
    rows.append(_officer(_firm(next(firm_no)), "Alexandra C. Evans"))
    # William David Moore represents a firm; its shareholder list names WILLIAM MOORE, without passport.
    moore = _firm(next(firm_no))
    rows.append({**_rep(moore, "William David Moore", None), "object_nationality": "US",
                 "object_identifiers": json.dumps([{"scheme": "passport", "value": "488120375"}])})
    rows.append({**_officer(moore, "WILLIAM MOORE"), "catalog": "MR_SHAREHOLDER", "relation": "shareholder_of"})
    # The rare name on a penalty list with no firm and no identifier: nothing but a name.
    rows.append({"catalog": "ADMIN_PENALTY", "subject_name": "诸葛翊", "subject_type": "natural"})
    records = records_frame(rows)
    res = resolve(records)
    ent = res.assignments.join(res.mentions.select("mention_id", "name", "catalog"), on="mention_id") \
        .filter(pl.col("type") == "natural")
    return res, ent, records


def _entities(ent: pl.DataFrame, name: str) -> dict[str, set[str]]:
    """Catalogs of the mentions named ``name``, per entity."""
    out: dict[str, set[str]] = {}
    for e, c in ent.filter(pl.col("name") == name).select("entity_id", "catalog").iter_rows():
        out.setdefault(e, set()).add(c)
    return out


def test_parts_and_expected_counts_by_hand():
    assert name_parts("欧阳靖") == ["欧阳", "靖"] and name_parts("王伟") == ["王", "伟"]
    assert name_parts("ANNA MARIA SCHMIDT", "ANNA MARIA SCHMIDT") == ["ANNA", "MARIA", "SCHMIDT"]
    # 35 known persons: 王 held by 6, 伟 by 5 → 35 · 6/35 · 5/35 = 30/35.
    assert expected_carriers(["王", "伟"], {"王": 6, "伟": 5}, 35) == pytest.approx(30 / 35)
    assert expected_carriers(["欧阳", "靖"], {"欧阳": 1, "靖": 1}, 35) == pytest.approx(1 / 35)
    assert expected_carriers(["赵", "磊"], {}, 35) == 0.0


def test_rare_name_officer_joins_its_one_known_carrier(case):
    res, ent, _ = case
    for name in RARE:
        firms = {e: c for e, c in _entities(ent, name).items() if c != {"ADMIN_PENALTY"}}
        assert list(firms.values()) == [{"MR_REG", "MR_PERSONNEL"}], name


def test_common_name_officer_stays_apart(case):
    # 王伟 is carried by one known person, but 王 and 伟 are both common: another 王伟 is as likely.
    res, ent, _ = case
    for s, g in itertools.product(SURNAMES, GIVEN):
        assert len(_entities(ent, s + g)) == 2, s + g


def test_two_known_carriers_and_unknown_names_stay_apart(case):
    res, ent, _ = case
    assert len(_entities(ent, "司马琰")) == 3  # two known persons, and the officer joins neither
    for name in UNKNOWN:
        assert len(_entities(ent, name)) == 1


def test_name_without_any_context_stays_alone(case):
    res, ent, _ = case
    penalty = ent.filter((pl.col("name") == "诸葛翊") & (pl.col("catalog") == "ADMIN_PENALTY"))["entity_id"][0]
    assert ent.filter(pl.col("entity_id") == penalty).height == 1


def test_rare_name_link_is_explained(case):
    res, ent, _ = case
    ev = res.evidence.filter(pl.col("rule").fill_null("").str.contains("rare_name") & (pl.col("band") == "merge"))
    assert ev.height == len(RARE) + 2  # and Alexandra C. Evans, WILLIAM MOORE (no blocking key meets his firm)
    assert (ev["left_entity"] == ev["right_entity"]).all()
    entity = ent.filter((pl.col("name") == "欧阳靖") & (pl.col("catalog") == "MR_REG"))["entity_id"][0]
    text = explain(res, entity)
    assert "rule rare_name" in text and "name only" in text
    # The link's p is the rarity odds, not the pair model's sum: the field weights are labelled as
    # the model's own view, with their own total, so a reader does not add them up to p.
    link = text[text.index("rule rare_name"):]
    head = link.splitlines()[1]
    assert "the pair model's own view" in head
    shown = float(head.split("(")[1].split(" bits")[0])
    from credgraph.resolution.features import comparisons_for

    n = len(comparisons_for("natural"))
    fields = [ln for ln in link.splitlines()[2:2 + n]]
    assert all(" bits   — " in ln for ln in fields)
    total = sum(float(ln.split(" bits")[0].split()[-1]) for ln in fields)
    assert abs(shown - total) < 0.05
    stats = res.run["stats"]["natural"]["rare_name"]
    assert 0.0 < stats["rho"] < 1.0


def test_latin_name_with_a_middle_initial_joins_its_carrier(case):
    # Alexandra C. Evans: the whole words of one known person (Catherine is C.), listed at another firm.
    res, ent, _ = case
    known = ent.filter(pl.col("name") == "Alexandra Catherine Evans")["entity_id"][0]
    assert ent.filter(pl.col("name") == "Alexandra C. Evans")["entity_id"][0] == known


def test_dropped_middle_name_at_the_same_firm_is_one_person(case):
    res, ent, _ = case
    assert ent.filter(pl.col("name") == "WILLIAM MOORE")["entity_id"][0] == \
        ent.filter(pl.col("name") == "William David Moore")["entity_id"][0]



def test_switched_off_a_name_alone_never_merges(case):
    from credgraph.config import ResolutionConfig

    _, _, records = case
    res = resolve(records, config=ResolutionConfig(rare_names=False))
    assert not res.evidence["rule"].fill_null("").str.contains("rare_name").any()
    ent = res.assignments.join(res.mentions.select("mention_id", "name"), on="mention_id")
    assert ent.filter(pl.col("name") == "欧阳靖")["entity_id"].n_unique() == 2
    assert res.run["config"]["rare_names"] is False


@pytest.mark.parametrize("a, b, expected", [
    ("moore william", "david moore william", True),          # a middle name left out
    ("c alexandra evans", "alexandra catherine evans", True),  # shortened to its initial
    ("moore william", "moore william", False),               # the same name is not a subset
    ("john smith", "john paul smithson", False),             # another surname
    ("anna", "anna maria", False),                           # one word is too little
    ("d moore william", "david moore william", True),
    ("j moore william", "david moore william", False),       # the initial fits no word left
])
def test_token_subset_by_hand(a, b, expected):
    from credgraph.resolution.features import token_subset

    assert token_subset(a, b) is expected


def test_name_keys_by_hand():
    from credgraph.resolution.rarename import name_keys

    assert name_keys("邹杰", "jie zou", False) == ["p:jie zou"]  # a Chinese name meets its homophones
    assert name_keys("WANG XIAOMING", "ming wang xiao", False) == []  # romanised: never a rare name itself
    assert name_keys("WANG XIAOMING", "ming wang xiao", True) == ["p:ming wang xiao"]  # but it is a carrier
    assert name_keys("ALEXANDRA C. EVANS", "alexandra c evans", False) == ["l:alexandra evans"]
    assert set(name_keys("ALEXANDRA CATHERINE EVANS", "alexandra catherine evans", True)) == {
        "l:alexandra catherine", "l:alexandra evans", "l:catherine evans", "l:alexandra catherine evans"}


def test_explaining_a_pair_compares_their_firms(case):
    # WILLIAM MOORE (shareholder) and William David Moore (representative) are named by one firm's filings.
    from credgraph.resolution.explain import explain_pair

    res, _, _ = case
    ids = dict(res.mentions.filter(pl.col("name").is_in(["WILLIAM MOORE", "William David Moore"]))
               .select("name", "mention_id").iter_rows())
    text = explain_pair(res, ids["WILLIAM MOORE"], ids["William David Moore"])
    assert "company      same company" in text, text
    assert "name         reordered" in text  # a middle name left out
