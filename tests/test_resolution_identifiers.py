"""Identifier logic: USCC ↔ organisation code ↔ registration number, 15 → 18-digit IDs, masked IDs, conflicts."""

from __future__ import annotations

import polars as pl

from credgraph.identifiers import id_check_char, mask_id
from credgraph.resolution import resolve
from credgraph.resolution.mentions import extract_mentions
from credgraph.resolution.sample import records_frame
from valid_codes import local_uscc, with_check


U1 = local_uscc("19220382")
U2 = local_uscc("55501234")
ID1 = with_check("44030119850101123")
ID2 = with_check("44030119850101125")


def same(res, a: str, b: str) -> bool:
    return res.entity_of(a) == res.entity_of(b)


def test_fixture_codes_are_valid():
    m = extract_mentions(records_frame([
        {"subject_name": "甲", "subject_type": "legal", "subject_uscc": U1},
        {"subject_name": "乙", "subject_id_number": ID1},
        {"subject_name": "丙", "subject_id_number": ID1[:6] + ID1[8:17]},  # 15-digit legacy form
        {"subject_name": "丁", "subject_id_number": mask_id(ID1)},
    ]))
    assert m["uscc_v"][0] == U1 and m["org_v"][0] == U1[8:17]
    assert m["id_full"][1] == ID1 and m["birth"][1] == "19850101"
    assert m["id_full"][2] == ID1, "a 15-digit ID converts to the 18-digit one"
    assert m["id_masked"][3] == "440301********123" + ID1[-1] and m["id_full"][3] == ""


def test_org_code_and_registration_number_link_to_the_uscc():
    reg = "440301103097510"
    res = resolve(records_frame([
        {"subject_name": "深圳市华强电子有限公司", "subject_uscc": U1, "subject_reg_no": reg},  # carries both
        {"subject_name": "华强电子公司", "subject_type": "legal", "subject_org_code": U1[8:17]},
        {"subject_name": "深圳华强", "subject_type": "legal", "subject_reg_no": reg},
        {"subject_name": "深圳市华强电子有限公司", "subject_uscc": U2},  # same name, another USCC
    ]))
    assert same(res, "r000001:subject", "r000002:subject")
    assert same(res, "r000001:subject", "r000003:subject")
    assert not same(res, "r000001:subject", "r000004:subject")
    ent = res.entities.filter(pl.col("uscc") == U1).row(0, named=True)
    assert ent["org_code"] == U1[8:17] and ent["reg_no"] == reg and ent["member_count"] == 3


def test_two_valid_usccs_are_never_one_entity_even_through_a_chain():
    # A (U1) ~ B (no id, identical name) ~ C (U2, identical name): B may join one of them, never both.
    res = resolve(records_frame([
        {"subject_name": "深圳市华强电子有限公司", "subject_uscc": U1, "subject_phone": "0755-83421234"},
        {"subject_name": "深圳市华强电子有限公司", "subject_type": "legal", "subject_phone": "0755-83421234"},
        {"subject_name": "深圳市华强电子有限公司", "subject_uscc": U2},
    ]))
    assert not same(res, "r000001:subject", "r000003:subject")
    assert not (same(res, "r000001:subject", "r000002:subject") and same(res, "r000002:subject", "r000003:subject"))
    multi = res.mentions.join(res.assignments, on="mention_id").filter(pl.col("uscc_v") != "") \
        .group_by("entity_id").agg(pl.col("uscc_v").n_unique().alias("n"))
    assert multi["n"].max() == 1
    # B's links to both sides are on record: one joined or both sent to review, never both merged.
    links = res.evidence.filter((pl.col("left") == "r000002:subject") | (pl.col("right") == "r000002:subject"))
    assert set(links["band"].to_list()) <= {"merge", "review", "kept_apart"} and links.height == 2


def test_person_ids_full_legacy_and_masked():
    res = resolve(records_frame([
        {"subject_name": "张伟", "subject_type": "natural", "subject_id_number": ID1},
        {"subject_name": "張偉", "subject_type": "natural", "subject_id_number": ID1[:6] + ID1[8:17]},
        {"subject_name": "张伟", "subject_type": "natural", "subject_id_number": mask_id(ID1)},
        {"subject_name": "张伟", "subject_type": "natural", "subject_id_number": ID2},
        {"subject_name": "张伟", "subject_type": "natural", "subject_id_number": "440301********9999"},
    ]))
    assert same(res, "r000001:subject", "r000002:subject"), "legacy 15-digit ID = its 18-digit form"
    assert same(res, "r000001:subject", "r000003:subject"), "masked ID compatible with the full one, same name"
    assert not same(res, "r000001:subject", "r000004:subject"), "two different full IDs: two people"
    assert not same(res, "r000001:subject", "r000005:subject"), "visible digits disagree"
    assert not same(res, "r000004:subject", "r000005:subject")


def test_masked_id_that_fits_two_people_merges_with_neither():
    # Both full IDs fit the mask 440301********123X pattern? Construct two with the same visible parts.
    a = with_check("44030119800101123")
    b_first = "44030119900101" + a[14:17]
    b = b_first + id_check_char(b_first)
    masked = a[:6] + "*" * 8 + a[14:]
    res = resolve(records_frame([
        {"subject_name": "王芳", "subject_type": "natural", "subject_id_number": a},
        {"subject_name": "王芳", "subject_type": "natural", "subject_id_number": b},
        {"subject_name": "王芳", "subject_type": "natural", "subject_id_number": masked},
    ]))
    assert not same(res, "r000001:subject", "r000002:subject")
    ents = {res.entity_of(f"r00000{i}:subject") for i in (1, 2, 3)}
    if a[-1] == b[-1]:  # the mask fits both: the masked mention may join one, never both
        assert len(ents) >= 2
    else:
        assert same(res, "r000001:subject", "r000003:subject") != same(res, "r000002:subject", "r000003:subject")


def test_person_name_alone_is_not_enough_but_name_and_company_is():
    res = resolve(records_frame([
        {"subject_name": "深圳市华强电子有限公司", "subject_uscc": U1, "object_name": "李娜", "object_type": "natural",
         "object_id_number": ID1, "relation": "legal_rep_of"},
        {"subject_name": "深圳市华强电子有限公司", "object_name": "李娜", "object_type": "natural",
         "relation": "officer_of", "role": "监事"},
        {"subject_name": "深圳市丙丁科技有限公司", "subject_uscc": U2, "object_name": "李娜", "object_type": "natural",
         "relation": "officer_of"},
        {"subject_name": "李娜", "subject_type": "natural"},
    ]))
    assert same(res, "r000001:object", "r000002:object"), "same name, same company"
    assert not same(res, "r000001:object", "r000003:object"), "same name, another company, no ID"
    assert not same(res, "r000001:object", "r000004:subject"), "a bare name"
    assert not same(res, "r000003:object", "r000004:subject")


def test_a_shared_second_identifier_still_blocks_two_records_together():
    # Senzing truth set, records 1064/1065 (Mooney): one passport; the second record also has a
    # driver's licence, which sorts first. Blocking used only the first identifier, so they were
    # never compared. Here the names share no blocking key; only the passport can bring them together.
    res = resolve(records_frame([
        {"subject_name": "Amanda Anderson", "subject_type": "natural",
         "subject_identifiers": '[{"scheme": "passport", "value": "1231345345"}]'},
        {"subject_name": "Mandy Jones", "subject_type": "natural",
         "subject_identifiers": '[{"scheme": "other", "value": "8923322"}, {"scheme": "passport", "value": "1231345345"}]'},
    ]))
    g = dict(zip(res.groups["mention_id"].to_list(), res.groups["group"].to_list()))
    a, b = g["r000001:subject"], g["r000002:subject"]
    c = res.candidates["natural"]
    pairs = set(zip(c["group_l"].to_list(), c["group_r"].to_list()))
    assert (a, b) in pairs or (b, a) in pairs
