"""Normalisers: names, addresses, phones, pinyin — examples and properties."""

from __future__ import annotations

import opencc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz

from credgraph.resolution.engine import compare_mentions
from credgraph.resolution.mentions import extract_mentions
from credgraph.resolution.normalise import (
    normalise_company_name,
    normalise_person_name,
    normalise_phone,
    normalise_text,
    normalise_texts,
    parse_address,
    parse_company_name,
    parse_company_names,
    pinyin_key,
    region_compatible,
)
from credgraph.resolution.sample import records_frame

_S2T = opencc.OpenCC("s2t")
_T2S = opencc.OpenCC("t2s")


def test_text_folds_width_script_brackets_and_spaces():
    assert normalise_text("华强电子（深圳）有限公司") == "华强电子(深圳)有限公司"
    assert normalise_text("華強電子【深圳】有限責任公司") == "华强电子(深圳)有限责任公司"
    assert normalise_text("ＡＢＣ　１２３") == "ABC123"
    assert normalise_text("  深 圳 市 ") == "深圳市"
    assert normalise_texts(["臺灣", "", None]) == ["台湾", "", ""]


def test_raw_ratio_is_misleading_but_features_are_not():
    """The issue's example: raw fuzz.ratio ranks two different firms above one firm in two scripts."""
    a, b = "深圳市甲乙科技有限公司", "深圳市丙丁科技有限公司"
    simp, trad = "深圳市华强电子有限公司", "深圳市華強電子有限公司"
    assert fuzz.ratio(a, b) > fuzz.ratio(simp, trad)
    m = extract_mentions(records_frame([{"subject_name": n, "subject_type": "legal"} for n in (a, b, simp, trad)]))
    cmp = compare_mentions(m, [0, 2], [1, 3])
    assert cmp["name"].to_list() == ["different", "identical"]
    assert cmp["level_name"][1] > cmp["level_name"][0]


@pytest.mark.parametrize(
    "name, region, core, brand, industry, form, branch",
    [
        ("深圳市华强电子有限公司", "广东/深圳/", "华强电子", "华强", "电子", "有限公司", ""),
        ("華強電子（深圳）有限責任公司", "广东/深圳/", "华强电子", "华强", "电子", "有限公司", ""),
        ("华强电子有限公司", "", "华强电子", "华强", "电子", "有限公司", ""),
        ("广东省深圳市南山区华强实业投资有限公司", "广东/深圳/南山", "华强实业投资", "华强", "实业投资", "有限公司", ""),
        ("深圳市华强电子有限公司南山分公司", "广东/深圳/", "华强电子", "华强", "电子", "有限公司", "南山分公司"),
        ("华强电子有限公司（南山分公司）", "", "华强电子", "华强", "电子", "有限公司", "南山分公司"),
        ("中国工商银行股份有限公司深圳市分行", "", "工商银行", "工商", "银行", "股份有限公司", "深圳分行"),
        ("中国银行深圳分行福田支行", "", "中国银行", "中国", "银行", "", "深圳分行/福田支行"),
        ("深圳市鑫源投资合伙企业（有限合伙）", "广东/深圳/", "鑫源投资", "鑫源", "投资", "有限合伙", ""),
        ("腾讯科技(深圳)有限公司", "广东/深圳/", "腾讯科技", "腾讯", "科技", "有限公司", ""),
        ("深圳市腾讯计算机系统有限公司", "广东/深圳/", "腾讯计算机系统", "腾讯", "计算机系统", "有限公司", ""),
        # A region word that is the brand stays in the core: nothing would be left otherwise.
        ("深圳市南山科技有限公司", "广东/深圳/", "南山科技", "南山", "科技", "有限公司", ""),
    ],
)
def test_company_name_parts(name, region, core, brand, industry, form, branch):
    p = parse_company_name(name)
    assert (p.region, p.core, p.brand, p.industry, p.form, p.branch) == (region, core, brand, industry, form, branch)
    assert p.is_branch == bool(branch)


@pytest.mark.parametrize("marker", ["分公司", "分行", "支行", "营业部", "办事处", "分店"])
def test_branch_markers_make_a_branch(marker):
    parent = parse_company_name("深圳市华强电子有限公司")
    child = parse_company_name(f"深圳市华强电子有限公司福田{marker}")
    assert child.core == parent.core and child.branch == f"福田{marker}" and not parent.is_branch


def test_variants_share_a_canonical_name_and_branches_do_not():
    variants = ["深圳市华强电子有限公司", "華強電子（深圳）有限責任公司", "华强电子(深圳)有限公司", "深圳华强电子有限责任公司"]
    assert len({normalise_company_name(v) for v in variants}) == 1
    assert normalise_company_name("深圳市华强电子有限公司南山分公司") != normalise_company_name(variants[0])


def test_region_compatibility_is_hierarchical():
    assert region_compatible("广东/深圳/", "广东/深圳/南山")
    assert region_compatible("广东//", "广东/深圳/")
    assert not region_compatible("广东/深圳/南山", "广东/深圳/福田")
    assert not region_compatible("北京/北京/", "广东/深圳/")
    assert region_compatible("", "北京/北京/")


def test_person_names():
    assert normalise_person_name(" 張 偉 ") == "张伟"
    assert normalise_person_name("买买提·艾力") == normalise_person_name("买买提•艾力") == "买买提艾力"


def test_addresses():
    a = parse_address("广东省深圳市南山区深南大道１００１号华强大厦A座1201")
    assert (a.district, a.road, a.number, a.building) == ("南山", "深南大道", "1001", "华强大厦A座1201")
    b = parse_address("深圳市南山區深南大道一千零一號華強大廈A座1201")
    assert a.key == b.key
    c = parse_address("龙岗区布吉街道吉华路0288号")
    assert (c.district, c.road, c.number) == ("龙岗", "吉华路", "288")


def test_phones():
    assert normalise_phone("+86 138 1234 5678") == normalise_phone("138-1234-5678") == "13812345678"
    assert normalise_phone("0755-83421234") == normalise_phone("(0755) 8342 1234") == "83421234"
    assert normalise_phone("010-12345678") == "12345678"
    assert normalise_phone(None) == ""


def test_pinyin_keys_join_homophones_only():
    assert pinyin_key("华强") == pinyin_key("化强") == pinyin_key("华墙") == "huaqiang"
    assert pinyin_key("华强") != pinyin_key("华联")


# ------------------------------------------------------------------------ properties
_CHARS = "华强电子科技深圳市发展实业贸易张伟王芳李娜刘洋陈静杨磊黄强赵军周敏吴勇徐丽孙杰马超朱红胡斌郭涛何霞高明林峰罗平郑辉梁燕谢东宋涛唐鑫许飞韩雪冯刚邓超曹颖彭浩曾亮萧娟田宇董鹏袁凯潘婷于洁蒋宏蔡龙余琳杜兵叶茂程远苏晴魏丹吕斌丁宁任杰沈阳姚远卢军姜伟崔健钟华谭静陆毅汪洋范冰金晨石磊廖凡贾玲夏雨韦东付蓉方圆白雪邹凯孟鑫熊猫秦岭邱实江涛尹航薛峰闫明段瑞雷鸣侯爽龙腾史诗陶然黎明贺岁顾问毛毯郝帅龚俊邵华万里钱程严正覃思武功戴安莫言孔明向阳汤圆"
_names = st.text(alphabet=_CHARS, min_size=1, max_size=12)


@settings(max_examples=200, deadline=None)
@given(_names)
def test_normalise_text_is_idempotent_and_width_blind(s):
    once = normalise_text(s)
    assert normalise_text(once) == once
    wide = s.replace("(", "（").replace(")", "）")
    assert normalise_text(wide) == once


@settings(max_examples=200, deadline=None)
@given(_names)
def test_traditional_spelling_normalises_to_the_same_text(s):
    t = _S2T.convert(s)
    if _T2S.convert(t) == s:  # the generator uses only round-trip-safe conversions too
        assert normalise_text(t) == normalise_text(s)


@settings(max_examples=150, deadline=None)
@given(
    brand=st.text(alphabet="华强鑫源腾讯中兴嘉盛宏达金辉海天", min_size=2, max_size=3),
    industry=st.sampled_from(["电子", "科技", "信息技术", "贸易", "实业", "投资管理", "物流", "建筑工程", "餐饮管理"]),
    style=st.sampled_from(["prefix", "bracket", "none"]),
    form=st.sampled_from(["有限公司", "有限责任公司"]),
    trad=st.booleans(),
    wide=st.booleans(),
)
def test_company_name_variants_share_core_and_form(brand, industry, style, form, trad, wide):
    clean = parse_company_name(f"深圳市{brand}{industry}有限公司")
    name = {"prefix": f"深圳市{brand}{industry}{form}", "bracket": f"{brand}{industry}(深圳){form}",
            "none": f"{brand}{industry}{form}"}[style]
    if wide:
        name = name.replace("(", "（").replace(")", "）")
    if trad:
        name = _S2T.convert(name)
    p = parse_company_name(name)
    assert p.core == clean.core
    assert p.form == "有限公司"
    assert region_compatible(p.region, clean.region)
    assert (p.region == "") == (style == "none")
    assert not p.is_branch
    assert parse_company_names([name, name]) == [p, p]


@settings(max_examples=150, deadline=None)
@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True), st.sampled_from(["", "+86 ", "86", "0086-"]),
       st.sampled_from(["", " ", "-"]))
def test_mobile_formatting_does_not_matter(number, prefix, sep):
    written = prefix + sep.join([number[:3], number[3:7], number[7:]])
    assert normalise_phone(written) == number


@settings(max_examples=100, deadline=None)
@given(st.from_regex(r"[2-8][0-9]{7}", fullmatch=True), st.sampled_from(["0755-", "(0755)", "0755 ", ""]))
def test_landline_area_code_does_not_matter(local, area):
    assert normalise_phone(area + local) == local


def test_pinyin_is_phrase_aware():
    # Readings as a dictionary gives them (行 in 银行 is hang, 重 in 重庆 is chong, 长 in 长沙 is chang).
    assert pinyin_key("招商银行").endswith("yinhang")
    assert pinyin_key("重庆") == "chongqing" and pinyin_key("长沙") == "changsha"
    assert pinyin_key("行业") == "hangye" and pinyin_key("自行车") == "zixingche"


def test_person_name_keys_meet_across_order_script_and_spelling():
    from credgraph.resolution.normalise import person_name_keys, postcode_of

    (t1, p1), (t2, p2), (t3, p3), (t4, p4) = person_name_keys(["王杰", "Jie WANG", "Wang  Jié", "王洁"])
    assert t1 == t2 == t3 == "jie wang"  # 王杰 / Jie WANG / Wang Jié: one key
    assert p1 == p4  # 杰 and 洁 sound alike
    assert person_name_keys(["Mitchell Green"])[0][1] == person_name_keys(["Michell Grene"])[0][1]
    assert postcode_of("12 Main Street, Springfield 2000") == "2000" and postcode_of("1234 Main Street") == ""


def test_region_list_is_the_official_one():
    # 周口 (a prefecture the hand list lacked) in prefix and in brackets; a county with its suffix.
    assert normalise_company_name("周口市华强电子有限公司") == normalise_company_name("华强电子（周口）有限公司")
    assert parse_company_name("商水县华强电子有限公司").region == "河南/周口/商水"
    assert parse_company_name("华容电子有限公司").core == "华容电子"  # a county name without 县 stays a brand
    from credgraph.resolution.lexicon import divisions

    codes = dict(divisions())
    assert codes["411600000000"] == "周口市" and codes["440309000000"] == "龙华区"  # Shenzhen's 2016 district
    assert sum(1 for c in codes if c[4:] == "00000000" and c[2:4] != "00") >= 333  # every prefecture


def test_address_levels_missing_street_or_community_is_neutral():
    rows = [("深圳市南山区粤海街道科技园社区深南大道1001号华强大厦A座", "深圳市南山区深南大道1001号华强大厦A座"),
            ("深圳市福田区建设路1号", "广州市越秀区建设路1号")]
    recs = [{"subject_name": "深圳市华强电子有限公司", "subject_type": "legal", "subject_address": a}
            for pair in rows for a in pair]
    cmp = compare_mentions(extract_mentions(records_frame(recs)), [0, 2], [1, 3])
    assert cmp["address"].to_list() == ["identical", "different"]  # 街道/社区 left out; two districts
