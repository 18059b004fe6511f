"""Company names in Latin script: legal forms, region qualifiers, branches, keys, and the Chinese path untouched.

Expected values are written by hand from how such names are written in registers and lists, not
computed with the functions under test.
"""

from __future__ import annotations

import polars as pl
import pytest

from credgraph.resolution import resolve
from credgraph.resolution.explain import explain_pair
from credgraph.resolution.mentions import extract_mentions
from credgraph.resolution.normalise import (company_name_keys, latin_company_name, parse_company_name,
                                            region_compatible)
from credgraph.resolution.sample import records_frame

#: name as written → (core, form type). One firm's name with each of the legal forms that registers write.
FORMS = [
    ("Universal Export Corporation", "UNIVERSAL EXPORT", "CORP"),
    ("Universal Export Corp.", "UNIVERSAL EXPORT", "CORP"),
    ("Universal Export Inc", "UNIVERSAL EXPORT", "CORP"),
    ("Universal Export, Incorporated", "UNIVERSAL EXPORT", "CORP"),
    ("Universal Export Co.", "UNIVERSAL EXPORT", "CO"),
    ("Universal Export Company", "UNIVERSAL EXPORT", "CO"),
    ("Universal Export Ltd", "UNIVERSAL EXPORT", "LTD"),
    ("Universal Export Limited", "UNIVERSAL EXPORT", "LTD"),
    ("Universal Export Co., Ltd.", "UNIVERSAL EXPORT", "LTD"),
    ("Universal Export Pte. Ltd.", "UNIVERSAL EXPORT", "LTD"),
    ("Universal Export Pty Ltd", "UNIVERSAL EXPORT", "LTD"),
    ("Universal Export Sdn. Bhd.", "UNIVERSAL EXPORT", "LTD"),
    ("Universal Export GmbH", "UNIVERSAL EXPORT", "LTD"),
    ("Universal Export B.V.", "UNIVERSAL EXPORT", "LTD"),
    ("Universal Export SARL", "UNIVERSAL EXPORT", "LTD"),
    ("Universal Export Sp. z o.o.", "UNIVERSAL EXPORT", "LTD"),
    ("Universal Export s.r.o.", "UNIVERSAL EXPORT", "LTD"),
    ("Universal Export LLC", "UNIVERSAL EXPORT", "LLC"),
    ("Universal Export L.L.C.", "UNIVERSAL EXPORT", "LLC"),
    ("Universal Export PLC", "UNIVERSAL EXPORT", "PLC"),
    ("Universal Export AG", "UNIVERSAL EXPORT", "PLC"),
    ("Universal Export S.A.", "UNIVERSAL EXPORT", "PLC"),
    ("Universal Export N.V.", "UNIVERSAL EXPORT", "PLC"),
    ("Universal Export S.p.A.", "UNIVERSAL EXPORT", "PLC"),
    ("Universal Export GmbH & Co. KG", "UNIVERSAL EXPORT", "LP"),
    ("Universal Export LLP", "UNIVERSAL EXPORT", "LLP"),
    ("UNIVERSAL EXPORT", "UNIVERSAL EXPORT", ""),
    ("ООО Ромашка", "ROMASHKA", "LTD"),  # a Russian form written before the name, in Cyrillic
    ("Société Générale S.A.", "SOCIETE GENERALE", "PLC"),  # accents folded
    ("Müllenkranz GmbH", "MULLENKRANZ", "LTD"),
    ("The Coca-Cola Company", "COCA COLA", "CO"),
    ("Procter & Gamble Co.", "PROCTER AND GAMBLE", "CO"),
]


@pytest.mark.parametrize("name,core,form", FORMS)
def test_legal_form_words_are_read_as_a_form_type(name, core, form):
    n = latin_company_name(name)
    assert n is not None and n.latin
    assert (n.core, n.form) == (core, form)


@pytest.mark.parametrize("name,core,region", [
    ("Universal Exports Singapore", "UNIVERSAL EXPORTS", "SG//"),
    ("Universal Exports Singapore Pte Ltd", "UNIVERSAL EXPORTS", "SG//"),
    ("Universal Exports, USA", "UNIVERSAL EXPORTS", "US//"),
    ("Universal Exports India", "UNIVERSAL EXPORTS", "IN//"),
    ("Universal Exports Ltd (Germany)", "UNIVERSAL EXPORTS", "DE//"),
    ("Universal Exports (United Kingdom) Limited", "UNIVERSAL EXPORTS", "GB//"),
    ("Hajah Mamunah (Jln Pisang)", "HAJAH MAMUNAH", ""),  # a bracketed street: a qualifier, no region
    ("Acme Holdings (Pty) Ltd", "ACME HOLDINGS", ""),
    ("Bank of China", "BANK OF CHINA", ""),  # a place after "of" is the name
    ("Royal Bank of Scotland", "ROYAL BANK OF SCOTLAND", ""),
    ("Air India", "AIR INDIA", ""),  # a country that would leave one word stays
    ("Huaqiang Trading (Shenzhen) Co", "HUAQIANG TRADING", "广东/深圳/"),  # a Chinese city in pinyin
])
def test_a_trailing_or_bracketed_place_is_a_region_qualifier(name, core, region):
    n = latin_company_name(name)
    assert (n.core, n.region) == (core, region)


def test_a_pinyin_city_agrees_with_the_chinese_region_and_countries_conflict():
    cn = parse_company_name("华强贸易（深圳）有限公司").region
    assert region_compatible(latin_company_name("Huaqiang Trading (Shenzhen) Co").region, cn)
    assert not region_compatible(latin_company_name("Huaqiang Trading (Guangzhou) Co").region, cn)
    assert not region_compatible(latin_company_name("Universal Exports Singapore").region,
                                 latin_company_name("Universal Exports India").region)


def test_a_final_branch_is_the_branch_part():
    assert latin_company_name("Citibank N.A., Singapore Branch").branch == "SG BRANCH"
    assert latin_company_name("Acme Ltd Jurong Branch").branch == "JURONG BRANCH"
    assert latin_company_name("Acme Ltd Jurong Branch").core == "ACME"
    assert latin_company_name("Acme Ltd").branch == ""
    assert latin_company_name("Acme GmbH Shanghai Representative Office").branch == "SHANGHAI REPRESENTATIVE OFFICE"
    assert latin_company_name("Acme GmbH Beijing Rep. Office").branch == "BEIJING REPRESENTATIVE OFFICE"
    assert latin_company_name("Acme GmbH Beijing Rep. Office").core == "ACME"


def test_sound_and_order_free_keys():
    # a vowel dropped and a plural: one sound
    a, b = (company_name_keys(latin_company_name(x)) for x in ("Universal Exports", "Univrsl Export Inc"))
    assert a[0] == b[0] == "UNFRSL EKSPRT"
    assert company_name_keys(latin_company_name("Hajah Maimunah"))[0] == \
        company_name_keys(latin_company_name("Hajah Mamunah (Jln Pisang)"))[0]
    assert company_name_keys(latin_company_name("Exports Universal"))[1] == a[1] == "EXPORTS UNIVERSAL"
    assert company_name_keys(latin_company_name("Zenith Data Systems"))[0] != a[0]


@pytest.mark.parametrize("name,expected", [
    # (region, core, brand, industry, form, branch) as the Chinese parser has always given them
    ("華強電子（深圳）有限責任公司", ("广东/深圳/", "华强电子", "华强", "电子", "有限公司", "")),
    ("深圳市华强电子有限公司南山分公司", ("广东/深圳/", "华强电子", "华强", "电子", "有限公司", "南山分公司")),
    ("腾讯科技(深圳)有限公司", ("广东/深圳/", "腾讯科技", "腾讯", "科技", "有限公司", "")),
])
def test_a_chinese_company_keeps_its_path(name, expected):
    assert latin_company_name(name) is None
    n = parse_company_name(name)
    assert (n.region, n.core, n.brand, n.industry, n.form, n.branch) == expected and not n.latin
    # English written the Chinese way stays on the Chinese reading (region + pinyin brand + industry + form)
    assert latin_company_name("Shenzhen Huaqiang Electronics Co., Ltd.") is None


def test_chinese_mentions_keep_their_keys_and_latin_ones_get_words():
    frame = records_frame([
        {"subject_name": "深圳市华强电子有限公司", "subject_type": "legal"},
        {"subject_name": "Universal Exports Singapore Pte. Ltd.", "subject_type": "legal"},
    ])
    m = extract_mentions(frame).sort("seq")
    cn, la = m.row(0, named=True), m.row(1, named=True)
    assert (cn["core"], cn["name_py"], cn["name_sorted"], cn["name_tok"], cn["form"]) == \
        ("华强电子", "huaqiangdianzi", "".join(sorted("华强电子")), "", "有限公司")
    assert (la["core"], la["form"], la["region"], la["name_py"], la["name_tok"]) == \
        ("UNIVERSAL EXPORTS", "LTD", "SG//", "UNFRSL EKSPRT", "EKSPRT UNFRSL")


def test_latin_firm_names_are_compared_and_a_region_alone_decides_nothing():
    """Spellings of one firm meet in a block and get a name level; "X Singapore" and "X India" never
    merge (two countries), while "X" and "X Singapore" are left to the other fields."""
    rows = [
        {"subject_name": "Universal Export Corporation", "subject_type": "legal", "subject_phone": "800-111-1234"},
        {"subject_name": "Univrsl Exports Inc", "subject_type": "legal", "subject_phone": "800-111-1234"},
        {"subject_name": "Universal Exports Singapore", "subject_type": "legal", "subject_phone": "65 6123 4567"},
        {"subject_name": "Universal Exports India", "subject_type": "legal", "subject_phone": "65 6123 4567"},
    ]
    res = resolve(records_frame(rows))
    ids = res.mentions.sort("seq")["record_id"].to_list()
    text = explain_pair(res, ids[0], ids[1])
    assert "never blocked together" not in text and "homophone" in text, text
    text = explain_pair(res, ids[2], ids[3])
    assert "region_conflict" in text, text
    ent = dict(zip(res.assignments["mention_id"].to_list(), res.assignments["entity_id"].to_list()))
    subj = res.mentions.sort("seq").filter(pl.col("role") == "subject")["mention_id"].to_list()
    assert ent[subj[2]] != ent[subj[3]]


def test_chinese_firms_are_still_blocked_and_merged_beside_latin_ones():
    """A Chinese name has no Latin word keys: its own keys must stay (a list key that is null would drop
    every key of the row)."""
    rows = [
        {"subject_name": "深圳市华强电子有限公司", "subject_type": "legal", "subject_phone": "0755-83421234"},
        {"subject_name": "華強電子（深圳）有限責任公司", "subject_type": "legal", "subject_phone": "83421234"},
        {"subject_name": "Universal Exports Ltd", "subject_type": "legal"},
    ]
    res = resolve(records_frame(rows))
    text = explain_pair(res, "r000001", "r000002")
    assert "never blocked together" not in text and "identical" in text, text
    ent = dict(zip(res.assignments["mention_id"].to_list(), res.assignments["entity_id"].to_list()))
    assert ent["r000001:subject"] == ent["r000002:subject"] != ent["r000003:subject"]


@pytest.mark.parametrize("a,b,level", [
    ("Müllenkranz", "Mullenkrants", "homophone"),  # one typo apart (z / ts)
    ("Universal Exports", "Univrsl Export Inc", "homophone"),  # every word sounds alike
    ("Universal Exports", "Universal Exports Worldwide", "transposed"),  # one word added
    ("Zenith Data Systems", "Universal Exports", "different"),
])
def test_latin_name_levels(a, b, level):
    rows = [{"subject_name": a, "subject_type": "legal", "subject_phone": "800-111-1234"},
            {"subject_name": b, "subject_type": "legal", "subject_phone": "800-111-1234"}]
    text = explain_pair(resolve(records_frame(rows)), "r000001", "r000002")
    line = next(x for x in text.splitlines() if x.strip().startswith("name "))
    assert line.split()[1] == level, text


def test_a_latin_name_alone_is_never_an_automatic_merge():
    """One Latin firm name is carried by unrelated firms: without an address, phone or identifier in
    common the pair goes to a reviewer at most (rule latin_name_alone), even when the names sound alike.
    (Two mentions identical in every compared field are one profile, grouped before any scoring.)"""
    rows = [{"subject_name": "Universal Exports Ltd", "subject_type": "legal"},
            {"subject_name": "Universal Export Corp.", "subject_type": "legal"}]
    res = resolve(records_frame(rows))
    text = explain_pair(res, "r000001", "r000002")
    assert "latin_name_alone" in text, text
    ent = dict(zip(res.assignments["mention_id"].to_list(), res.assignments["entity_id"].to_list()))
    assert ent["r000001:subject"] != ent["r000002:subject"]


def test_identical_latin_names_alone_stay_apart_and_chinese_ones_still_merge():
    """Two mentions with nothing but one Latin name are not grouped before scoring (as a person's bare
    name is not); two with one Chinese name are, as before (unique within the registration region)."""
    rows = [{"subject_name": "Universal Exports Ltd", "subject_type": "legal"},
            {"subject_name": "Universal Exports Limited", "subject_type": "legal"},
            {"subject_name": "深圳市华强电子有限公司", "subject_type": "legal"},
            {"subject_name": "深圳市华强电子有限责任公司", "subject_type": "legal"}]
    res = resolve(records_frame(rows))
    ent = dict(zip(res.assignments["mention_id"].to_list(), res.assignments["entity_id"].to_list()))
    assert ent["r000001:subject"] != ent["r000002:subject"]
    assert ent["r000003:subject"] == ent["r000004:subject"]
    # with a phone in common the Latin pair is one firm
    rows[0]["subject_phone"] = rows[1]["subject_phone"] = "+65 6123 4567"
    res = resolve(records_frame(rows))
    ent = dict(zip(res.assignments["mention_id"].to_list(), res.assignments["entity_id"].to_list()))
    assert ent["r000001:subject"] == ent["r000002:subject"]


def test_check_never_reports_a_latin_firm_on_its_name_alone():
    """`credgraph check` / the Matcher: a Latin firm name alone is at most a candidate; with the firm's
    phone it is the firm."""
    from credgraph.resolution import Matcher

    rows = [{"subject_name": "Universal Exports Pte. Ltd.", "subject_type": "legal", "subject_phone": "+65 6123 4567",
             "subject_address": "4 Hillview Rise, Singapore 667979"},
            {"subject_name": "Zenith Data Systems Inc", "subject_type": "legal", "subject_phone": "+1 800 111 1234"}]
    res = resolve(records_frame(rows))
    m = Matcher.from_resolution(res)
    ent = dict(zip(res.assignments["mention_id"].to_list(), res.assignments["entity_id"].to_list()))
    alone = m.match({"name": "Universal Exports", "type": "legal"})
    assert alone.decision != "match" and ent["r000001:subject"] in [c.entity_id for c in alone.candidates]
    backed = m.match({"name": "Universal Export Limited", "type": "legal", "phone": "+65 6123 4567"})
    assert backed.decision == "match" and backed.entity_id == ent["r000001:subject"]
    assert backed.candidates[0].name == "Universal Exports Pte. Ltd."  # shown as written


#: Firms as a register writes them, with a phone each; then variants as other lists write them (hand-written).
_FIRMS = [
    ("Universal Exports Pte. Ltd.", "+65 6123 4567", "4 Hillview Rise, Singapore 667979"),
    ("Müllenkranz GmbH", "+49 6381 12345", "Hardenbergstraße 87, 66879 Kollweiler"),
    ("Société Générale S.A.", "+33 1 42 14 20 00", "29 Boulevard Haussmann, 75009 Paris"),
    ("Zenith Data Systems Inc", "+1 800 555 0199", "100 Main Street, Springfield IL 62701"),
    ("Acme Trading LLC", "+1 212 555 0100", "405 Lexington Avenue, New York NY 10174"),
    ("Acme Holdings Ltd", "+44 20 7946 0000", "18 Danver Place, Loughborough LE11 1UU"),
]
_VARIANTS = [
    ("Universal Export Limited", 0), ("UNIVERSAL EXPORTS", 0), ("Universal Exports (Singapore) Pte Ltd", 0),
    ("Universal Exports Singapore", 0), ("Mullenkranz", 1), ("MUELLENKRANZ GMBH", 1), ("Societe Generale SA", 2),
    ("Société Générale", 2), ("Zenith Data Systems Incorporated", 3), ("Zenith Data Systems, Inc.", 3),
    ("ACME TRADING L.L.C.", 4), ("Acme Trading", 4), ("Acme Holdings Limited", 5), ("The Acme Holdings Ltd", 5),
]


def test_check_battery_of_latin_firm_variants():
    """Each variant with the firm's phone is the firm; by name alone it is never reported as another
    firm (nor as this one: a Latin name alone is no match)."""
    from credgraph.resolution import Matcher

    rows = [{"subject_name": n, "subject_type": "legal", "subject_phone": p, "subject_address": a}
            for n, p, a in _FIRMS]
    # a second list writes each firm another way, with its phone (no address)
    first = {i: v for v, i in reversed(_VARIANTS)}
    rows += [{"subject_name": first[i], "subject_type": "legal", "subject_phone": p}
             for i, (_, p, _) in enumerate(_FIRMS)]
    res = resolve(records_frame(rows))
    ent = dict(zip(res.assignments["mention_id"].to_list(), res.assignments["entity_id"].to_list()))
    right = [ent[f"r{i + 1:06d}:subject"] for i in range(len(_FIRMS))]
    assert len(set(right)) == len(_FIRMS)  # Acme Trading and Acme Holdings stay two firms
    second = [ent[f"r{i + 1 + len(_FIRMS):06d}:subject"] for i in range(len(_FIRMS))]
    assert second == right  # each second listing joined its firm
    m = Matcher.from_resolution(res)
    with_phone = m.match_many([{"name": v, "type": "legal", "phone": _FIRMS[i][1]} for v, i in _VARIANTS])
    wrong = [(v, r.decision, r.entity_id) for (v, i), r in zip(_VARIANTS, with_phone)
             if r.decision != "match" or r.entity_id != right[i]]
    assert not wrong, wrong
    alone = m.match_many([{"name": v, "type": "legal"} for v, _ in _VARIANTS])
    assert all(r.decision != "match" for r in alone), [(v, r.entity_id) for (v, _), r in zip(_VARIANTS, alone)]


def test_a_latin_branch_is_never_merged_into_its_parent():
    rows = [{"subject_name": "Citibank N.A.", "subject_type": "legal", "subject_phone": "+65 6225 5225",
             "subject_address": "8 Marina View, Singapore 018960"},
            {"subject_name": "Citibank N.A., Singapore Branch", "subject_type": "legal", "subject_phone": "+65 6225 5225",
             "subject_address": "8 Marina View, Singapore 018960"}]
    res = resolve(records_frame(rows))
    assert "branch_differs" in explain_pair(res, "r000001", "r000002")
    ent = dict(zip(res.assignments["mention_id"].to_list(), res.assignments["entity_id"].to_list()))
    assert ent["r000001:subject"] != ent["r000002:subject"]
