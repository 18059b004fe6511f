"""Hand-written person cases, written the way real filings read (not by the generator).

A registration names the legal representative with an ID number; the shareholder list gives ID
numbers; older key-personnel filings list officers by name and role only, and English-language or
passport-based filings romanise a Chinese name with the surname first or last and the given name as
one word (DONG Zhiwei, Zhiwei Dong). Expected outcomes are decided by hand from what the records say.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from credgraph.resolution import resolve
from credgraph.resolution.normalise import person_name_keys
from credgraph.resolution.sample import records_frame
from tests.valid_codes import local_uscc, make_id

FIRM_A = ("深圳市恒通达贸易有限公司", local_uscc("7A3C5E21"))
FIRM_B = ("深圳市新锐思科技有限公司", local_uscc("5B8D2F47"))
FIRM_C = ("深圳市金禾园餐饮管理有限公司", local_uscc("3C6E9A15"))


def _reg(firm, rep, rep_id):
    return {"catalog": "MR_REG", "subject_name": firm[0], "subject_uscc": firm[1], "subject_type": "legal",
            "object_name": rep, "object_id_number": rep_id, "object_type": "natural", "relation": "legal_rep_of"}


def _person(catalog, firm, name, relation, id_number=None, role=None):
    return {"catalog": catalog, "kind": "relationship", "subject_name": firm[0], "subject_uscc": firm[1],
            "subject_type": "legal", "object_name": name, "object_id_number": id_number, "object_type": "natural",
            "relation": relation, "role": role}


ZHOU = make_id("440305", dt.date(1971, 3, 17), 503)
ZHAO = make_id("440303", dt.date(1984, 6, 13), 536)
DONG = make_id("510104", dt.date(1976, 11, 19), 377)
WANG = make_id("440304", dt.date(1969, 11, 8), 510)
ZHANG = make_id("440306", dt.date(1990, 2, 2), 21)


@pytest.fixture(scope="module")
def cases():
    rows = [
        # Firm A: 周勇 represents it and holds shares; the old personnel filing lists 周勇 and 赵颖 by name.
        # 赵颖 (zhao ying) is another person: her name shares no character with 周勇 (zhou yong), only
        # letters of its pinyin.
        _reg(FIRM_A, "周勇", ZHOU),
        _person("MR_SHAREHOLDER", FIRM_A, "周勇", "shareholder_of", ZHOU),
        _person("MR_PERSONNEL", FIRM_A, "周勇", "officer_of", role="执行董事"),
        _person("MR_PERSONNEL", FIRM_A, "赵颖", "officer_of", role="监事"),
        _person("MR_SHAREHOLDER", FIRM_A, "赵颖", "shareholder_of", ZHAO),
        # Firm B: 董志伟 represents it; an English filing writes him DONG Zhiwei, another Zhiwei Dong.
        _reg(FIRM_B, "董志伟", DONG),
        _person("MR_PERSONNEL", FIRM_B, "DONG Zhiwei", "officer_of", role="董事长"),
        _person("MR_PERSONNEL", FIRM_B, "Zhiwei Dong", "officer_of", role="经理"),
        # Firm C: 王晓燕 represents it; 王燕 is listed by name only as supervisor. One character apart at
        # one small firm: a sister as likely as a dropped character — never merged on the firm alone.
        # ZHANG Wei (an officer by name only) is not 赵伟 (zhao wei), the shareholder.
        _reg(FIRM_C, "王晓燕", WANG),
        _person("MR_PERSONNEL", FIRM_C, "王燕", "officer_of", role="监事"),
        _person("MR_SHAREHOLDER", FIRM_C, "赵伟", "shareholder_of", ZHANG),
        _person("MR_PERSONNEL", FIRM_C, "ZHANG Wei", "officer_of", role="经理"),
    ]
    frame = records_frame(rows)
    res = resolve(frame)
    ent = dict(zip(res.assignments["mention_id"].to_list(), res.assignments["entity_id"].to_list()))
    return lambda i: ent[f"r{i:06d}:object"]


def test_a_name_only_officer_joins_the_same_name_at_the_same_firm(cases):
    e = cases
    assert e(1) == e(2) == e(3)  # 周勇 with ID (registration, shares) and 周勇 listed by name


def test_names_that_share_only_pinyin_letters_stay_apart(cases):
    e = cases
    assert e(4) != e(1)  # 赵颖 is not 周勇
    assert e(4) == e(5)  # 赵颖 by name and 赵颖 with her ID, at one firm


def test_romanised_name_with_the_given_name_as_one_word(cases):
    e = cases
    assert e(7) == e(6) and e(8) == e(6)  # DONG Zhiwei, Zhiwei Dong = 董志伟


def test_similar_names_at_one_firm_are_not_merged_on_the_firm_alone(cases):
    e = cases
    assert e(10) != e(9)  # 王燕 / 王晓燕
    assert e(12) != e(11)  # ZHANG Wei / 赵伟


def test_name_keys_read_pinyin_as_pinyin():
    (t1, p1), (t2, p2) = person_name_keys(["周勇", "赵颖"])
    assert p1 != p2 and t1 == "yong zhou" and t2 == "ying zhao"
    keys = person_name_keys(["董志伟", "DONG Zhiwei", "Zhiwei  Dong", "吕磊", "Lei LV"])
    assert keys[0] == keys[1] == keys[2] == ("dong wei zhi", "dong wei zhi")
    assert keys[3] == keys[4] == ("lei lv", "lei lv")
    # A Western name keeps its metaphone codes (Mitchell / Michell alike).
    assert person_name_keys(["Mitchell Green"])[0][1] == person_name_keys(["Michell Green"])[0][1]


def _foreign(catalog, firm, relation, name="Anja Schröder", passport=None, phone=None, role=None):
    import json

    return {"catalog": catalog, "kind": "relationship", "subject_name": firm[0], "subject_uscc": firm[1],
            "subject_type": "legal", "object_name": name, "object_type": "natural", "relation": relation,
            "role": role, "object_phone": phone, "object_nationality": "DE" if passport else None,
            "object_identifiers": json.dumps([{"scheme": "passport", "value": passport}]) if passport else None}


def test_two_passports_are_two_people_even_through_a_shared_third_filing():
    """Two German women named Anja Schröder, each with her own passport, represent two firms. A
    shareholder filing at the second firm names 'Anja Schröder' with the first one's phone and no
    passport: it may join either, but never both into one person (a sanction on one must not reach
    the other). The first woman's filings under another spelling (Schroeder, no umlaut) with her
    passport stay one person."""
    firm_d = ("深圳市柏林精密机械有限公司", local_uscc("4D7E1A93"))
    firm_e = ("深圳市汉堡贸易有限公司", local_uscc("6E2B8C14"))
    rows = [
        _foreign("MR_REG", firm_d, "legal_rep_of", passport="C01X00T47", phone="13812345678"),
        _foreign("MR_SHAREHOLDER", firm_e, "shareholder_of", phone="13812345678"),
        _foreign("MR_REG", firm_e, "legal_rep_of", passport="C4RJ8K2LM"),
        _foreign("MR_PERSONNEL", firm_e, "officer_of", role="董事"),
        _foreign("MR_SHAREHOLDER", firm_d, "shareholder_of", name="ANJA SCHROEDER", passport="C01X00T47"),
    ]
    res = resolve(records_frame(rows))
    ent = dict(zip(res.assignments["mention_id"].to_list(), res.assignments["entity_id"].to_list()))
    first, second = ent["r000001:object"], ent["r000003:object"]
    assert first != second
    assert ent["r000005:object"] == first  # the same passport, another spelling
    assert ent["r000002:object"] in (first, second)


def test_a_household_is_not_one_person():
    """A household files from one address with one phone and one e-mail, and twins share their
    birth date and address: 张伟 and 李娜 (one home, phone and e-mail), and John and Patrick Smith (one
    home, one birth date), are two people each. Their own records (the same name with the same fields) still join, and a different name
    with the same passport (a renamed person) still joins."""
    addr, phone, mail = "深圳市福田区福华路88号3栋1201", "13912345678", "family.home@example.com"
    us = "3212 W. 32nd St, Palm Harbor, FL 34683"
    rows = [
        {"subject_name": "张伟", "subject_type": "natural", "subject_address": addr, "subject_phone": phone,
         "subject_email": mail, "subject_birth_date": dt.date(1985, 4, 12)},
        {"subject_name": "李娜", "subject_type": "natural", "subject_address": addr, "subject_phone": phone,
         "subject_email": mail, "subject_birth_date": dt.date(1987, 9, 30)},
        {"subject_name": "张伟", "subject_type": "natural", "subject_address": addr, "subject_phone": phone},
        {"subject_name": "John Smith", "subject_type": "natural", "subject_address": us,
         "subject_birth_date": dt.date(1970, 10, 10)},
        {"subject_name": "Patrick Smith", "subject_type": "natural", "subject_address": us,
         "subject_birth_date": dt.date(1970, 10, 10)},
        {"subject_name": "Patricia Jones", "subject_type": "natural", "subject_birth_date": dt.date(1990, 3, 15),
         "subject_identifiers": '[{"scheme":"passport","value":"X10252222"}]'},
        {"subject_name": "Patricia Smith", "subject_type": "natural", "subject_address": us,
         "subject_identifiers": '[{"scheme":"passport","value":"X10252222"}]'},
    ]
    res = resolve(records_frame(rows))
    ent = dict(zip(res.assignments["mention_id"].to_list(), res.assignments["entity_id"].to_list()))
    assert ent["r000001:subject"] != ent["r000002:subject"]  # 张伟 / 李娜
    assert ent["r000001:subject"] == ent["r000003:subject"]  # 张伟's own records
    assert ent["r000004:subject"] != ent["r000005:subject"]  # John / Patrick
    assert ent["r000006:subject"] == ent["r000007:subject"]  # one passport, a married name


def test_a_shared_family_name_with_unlike_given_names_is_a_household():
    """Magdalena Smith and Beau Smith at one door, with one phone, are two people (the family name
    is all their names share); Sarah and Sahra Thompson with one e-mail and birth date are one
    woman (a misspelt given name); the same full birth date at the same house lets a given name
    miskeyed into another join (Holly / Matthew Green: the risk taken is twins)."""
    door = "6371 E Foothill Dr, Oroville, CA 95965"
    rows = [
        {"subject_name": "Magdalena Smith", "subject_type": "natural", "subject_address": door,
         "subject_phone": "530-555-0142", "subject_birth_date": dt.date(2011, 5, 24)},
        {"subject_name": "Beau Smith", "subject_type": "natural", "subject_address": door,
         "subject_phone": "530-555-0142"},
        {"subject_name": "Sarah Thompson", "subject_type": "natural", "subject_email": "sthomp45@example.com",
         "subject_birth_date": dt.date(1984, 2, 9)},
        {"subject_name": "Sahra Thompson", "subject_type": "natural", "subject_email": "sthomp45@example.com",
         "subject_birth_date": dt.date(1984, 2, 9)},
        {"subject_name": "Holly Green", "subject_type": "natural", "subject_address": "14 Mirrabooka Cres, Tamworth NSW 2340",
         "subject_birth_date": dt.date(1975, 8, 2)},
        {"subject_name": "Matthew Green", "subject_type": "natural", "subject_address": "14 Mirrabooka Cres, Tamworth NSW 2340",
         "subject_birth_date": dt.date(1975, 8, 2)},
    ]
    res = resolve(records_frame(rows))
    ent = dict(zip(res.assignments["mention_id"].to_list(), res.assignments["entity_id"].to_list()))
    assert ent["r000001:subject"] != ent["r000002:subject"]
    assert ent["r000003:subject"] == ent["r000004:subject"]
    assert ent["r000005:subject"] == ent["r000006:subject"]
