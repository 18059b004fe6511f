"""Normalisation of names, addresses and phones: the forms that records are compared in.

Everything here is a pure function of its input. Text first goes through
:func:`normalise_text` (NFKC folds full-width to half-width, OpenCC ``t2s`` turns
traditional characters into simplified ones, brackets and punctuation are unified,
whitespace is removed); then names are split into their parts, because comparing raw
strings is wrong in both directions:

>>> from rapidfuzz import fuzz
>>> fuzz.ratio("深圳市甲乙科技有限公司", "深圳市丙丁科技有限公司") > fuzz.ratio("深圳市華強電子有限公司", "深圳市华强电子有限公司")
True
>>> parse_company_name("深圳市華強電子有限公司").core == parse_company_name("深圳市华强电子有限公司").core
True
>>> parse_company_name("深圳市甲乙科技有限公司").brand, parse_company_name("深圳市丙丁科技有限公司").brand
('甲乙', '丙丁')

The ``*_many`` variants do the same over a sequence, converting only the distinct values
(OpenCC runs once over all of them), which is how the pipeline calls them.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable, Sequence

from credgraph.resolution.lexicon import BRANCH_MARKERS, FORMS, INDUSTRIES, REGION_SUFFIXES, REGIONS

__all__ = [
    "normalise_text",
    "normalise_texts",
    "compared_names",
    "to_simplified",
    "CompanyName",
    "parse_company_name",
    "parse_company_names",
    "parse_normalised_company_names",
    "normalise_company_name",
    "region_compatible",
    "normalise_person_name",
    "normalise_person_names",
    "Address",
    "parse_address",
    "parse_addresses",
    "normalise_phone",
    "pinyin_key",
    "pinyin_keys",
    "pinyin_syllables",
    "person_name_tokens",
    "person_name_keys",
    "reads_as_pinyin",
    "postcode_of",
    "looks_like_company",
    "latin_company_name",
    "latin_company_names",
    "company_name_keys",
    "transliterate",
    "word_sound",
]

# ----------------------------------------------------------------------------- text
_BRACKETS = str.maketrans({c: "(" for c in "[{【〔〖「『《<（［｛"} | {c: ")" for c in "]}】〕〗」』》>）］｝"})
_DOTS = str.maketrans({c: "·" for c in "・•‧∙⋅･.．"})
# Punctuation that carries no identity in a name or address (brackets and · are kept).
_PUNCT = re.compile(r"[\s,，、;；:：'\"‘’“”!！?？`~^_=+|/\\#@$%…—–\-]+")


@functools.lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional → simplified Chinese with OpenCC's ``t2s`` phrase dictionaries.

    >>> to_simplified("華強電子有限責任公司")
    '华强电子有限责任公司'
    """
    return _t2s().convert(text) if text else ""


def _pre(value: object) -> str:
    if value is None:
        return ""
    s = unicodedata.normalize("NFKC", str(value))
    return re.sub(r"\s+", "", s)


def _post(s: str) -> str:
    s = s.translate(_BRACKETS).translate(_DOTS)
    s = _PUNCT.sub("", s)
    s = s.replace("()", "")
    return s.upper()


def normalise_text(value: object) -> str:
    """NFKC (full-width → half-width), traditional → simplified, unified brackets, no whitespace or punctuation.

    >>> normalise_text("  華強電子（深圳）有限公司 ")
    '华强电子(深圳)有限公司'
    >>> normalise_text("ＡＢＣ　科技，有限公司")
    'ABC科技有限公司'
    >>> normalise_text(None)
    ''
    """
    return _post(to_simplified(_pre(value)))


def normalise_texts(values: Iterable[object]) -> list[str]:
    """:func:`normalise_text` over many values; OpenCC runs once over all of them.

    >>> normalise_texts(["華強", None, "ａｂ"])
    ['华强', '', 'AB']
    """
    pre = [_pre(v).replace("\n", "") for v in values]
    if not pre:
        return []
    # One OpenCC call over the joined text: its phrases never span a newline.
    simplified = _t2s().convert("\n".join(pre)).split("\n")
    if len(simplified) != len(pre):  # defensive: fall back to one call per value
        simplified = [to_simplified(p) for p in pre]
    return [_post(s) for s in simplified]


# -------------------------------------------------------------------------- regions
_REGION_NAMES = sorted(REGIONS, key=len, reverse=True)
_SUFFIX_ALT = "|".join(sorted(map(re.escape, REGION_SUFFIXES), key=len, reverse=True))
_REGION_LENS = sorted({len(n) for n in REGIONS}, reverse=True)
_SUFFIXES_LONGEST_FIRST = sorted(REGION_SUFFIXES, key=len, reverse=True)


def _match_region(text: str, pos: int = 0) -> tuple[str, int] | None:
    """The longest region name at ``pos`` (with its optional suffix): (name, end), or None."""
    for n in _REGION_LENS:
        name = text[pos:pos + n]
        if len(name) == n and name in REGIONS:
            end = pos + n
            for suf in _SUFFIXES_LONGEST_FIRST:
                if text.startswith(suf, end):
                    end += len(suf)
                    break
            return name, end
    return None
_REGION_TAIL = re.compile(rf"(?:(?:{'|'.join(map(re.escape, _REGION_NAMES))})(?:{_SUFFIX_ALT})?)+$")


def _region_merge(acc: tuple[str, str, str], new: tuple[str, str, str]) -> tuple[str, str, str] | None:
    """Combine two region levels, or None when they conflict."""
    out = []
    for a, b in zip(acc, new):
        if a and b and a != b:
            return None
        out.append(a or b)
    return (out[0], out[1], out[2])


def _region_str(r: tuple[str, str, str]) -> str:
    return "" if not any(r) else "/".join(r)


def _region_only(text: str) -> tuple[str, str, str] | None:
    """The region of a text made only of region names (``广东省深圳市``), else None."""
    acc = ("", "", "")
    pos = 0
    while pos < len(text):
        m = _match_region(text, pos)
        if not m:
            return None
        merged = _region_merge(acc, REGIONS[m[0]])
        if merged is None:
            return None
        acc, pos = merged, m[1]
    return acc if pos else None


def region_compatible(a: str, b: str) -> bool:
    """Two regions (``province/city/district``) agree unless some level is present in both and differs.

    A region missing on one side is compatible with anything.

    >>> region_compatible("广东/深圳/", "广东/深圳/南山"), region_compatible("广东/深圳/", "广东/广州/")
    (True, False)
    >>> region_compatible("", "北京/北京/")
    True
    """
    if not a or not b:
        return True
    return all(not x or not y or x == y for x, y in zip(a.split("/"), b.split("/")))


# ---------------------------------------------------------------------- company names
@dataclass(frozen=True)
class CompanyName:
    """A company name split into its parts (all normalised).

    ``region`` is ``province/city/district`` (empty when the name has none), ``core`` is
    brand + industry, ``form`` the canonical organisational form (有限责任公司 → 有限公司),
    ``branch`` the branch part (``南山分公司``) or empty for a head office.
    """

    text: str
    region: str
    core: str
    brand: str
    industry: str
    form: str
    branch: str
    #: A name in Latin (or another alphabetic) script, parsed by :func:`latin_company_name`: ``core`` is
    #: its words in capitals, ``form`` a legal-form type (LTD, LLC, CORP, ...), ``region`` a country.
    latin: bool = False

    @property
    def is_branch(self) -> bool:
        return bool(self.branch)

    @property
    def canonical(self) -> str:
        """City (or province) + core + form + branch: one spelling for all variants of a name.
        A Latin-script name: core, form, branch and (country) — ``UNIVERSAL EXPORTS LTD (SG)``."""
        if self.latin:
            parts = self.region.split("/") if self.region else ["", "", ""]
            country = parts[1] or parts[0]
            return " ".join(x for x in (self.core, self.form, self.branch, f"({country})" if country else "") if x)
        prov, city, _ = self.region.split("/") if self.region else ("", "", "")
        return f"{city or prov}{self.core}{self.form}{self.branch}"


_FORM_WORDS = sorted(FORMS, key=len, reverse=True)
_FORM_RE = re.compile("|".join(map(re.escape, _FORM_WORDS)))
_MARKER_ALT = "|".join(sorted(map(re.escape, BRANCH_MARKERS), key=len, reverse=True))
_BRANCH_END = re.compile(rf"\(?({_MARKER_ALT})\)?$")
_BRACKET = re.compile(r"\(([^()]*)\)")
_COMPANY_HINT = re.compile(
    rf"(公司|企业|合作社|合伙|工商户|集团|中心|厂|店|行|所|部|处|院|社|馆|会|站|场|室|{_MARKER_ALT})\)?$"
)


def _split_branch(t: str) -> tuple[str, str]:
    """Split a trailing branch segment off: ('深圳市华强电子有限公司', '南山分公司')."""
    parts: list[str] = []
    while True:
        m = _BRANCH_END.search(t)
        if not m or m.start() == 0:
            break
        head = t[: m.start()]
        marker = BRANCH_MARKERS[m.group(1)]
        if head.endswith("("):
            head = head[:-1]
        forms = [f for f in _FORM_RE.finditer(head)]
        if forms:
            cut = forms[-1].end()
            seg, head = head[cut:], head[:cut]
        else:
            tail = _REGION_TAIL.search(head)
            seg = tail.group(0) if tail and tail.start() > 0 else ""
            head = head[: len(head) - len(seg)]
        seg = seg.strip("()")
        region = _region_only(seg) if seg else None
        if region is not None:
            seg = next((p for p in reversed(region) if p), "")
        parts.append(seg + marker)
        t = head.rstrip("(")
        if not t:
            break
    return t, "/".join(reversed(parts))


_INDUSTRY_BY_LEN: dict[int, frozenset[str]] = {}
for _w in set(INDUSTRIES):
    _INDUSTRY_BY_LEN.setdefault(len(_w), set()).add(_w)  # type: ignore[union-attr]
_INDUSTRY_BY_LEN = {k: frozenset(v) for k, v in sorted(_INDUSTRY_BY_LEN.items(), reverse=True)}


def _industry_without_brand(text: str) -> bool:
    """True when ``text`` ends with an industry word but leaves less than a 2-character brand
    (中电子): the region name before it was part of the brand (金华中电子)."""
    return any(len(text) - n < 2 and text[-n:] in words for n, words in _INDUSTRY_BY_LEN.items()
               if len(text) >= n)


def _peel_industry(core: str) -> tuple[str, str]:
    """Split industry words off the end of a core, longest first, leaving a brand of 2+ characters."""
    brand, industry = core, ""
    while True:
        for n, words in _INDUSTRY_BY_LEN.items():
            if len(brand) - n >= 2 and brand[-n:] in words:
                brand, industry = brand[:-n], brand[-n:] + industry
                break
        else:
            return brand, industry


def _parse_normalised_company(t: str) -> CompanyName:
    text = t
    parent, branch = _split_branch(t)
    region = ("", "", "")
    # Bracketed parts: a region (华强电子(深圳)有限公司) becomes an attribute; forms stay for the form step.
    def _bracket(m: re.Match) -> str:
        nonlocal region
        inner = m.group(1)
        r = _region_only(inner)
        if r is not None:
            merged = _region_merge(region, r)
            if merged is not None:
                region = merged
                return ""
        return m.group(0) if f"({inner})" in FORMS else inner

    if "(" in parent:
        parent = _BRACKET.sub(_bracket, parent)
    form = ""
    for w in _FORM_WORDS:
        if parent.endswith(w) and len(parent) > len(w):
            form, parent = FORMS[w], parent[: -len(w)]
            break
    parent = parent.replace("(", "").replace(")", "")
    # Leading regions (广东省深圳市南山区...): strip while consistent and a brand remains.
    pos = 0
    while True:
        m = _match_region(parent, pos)
        if not m:
            break
        merged = _region_merge(region, REGIONS[m[0]])
        if merged is None:
            break
        rest = parent[m[1]:]
        if len(rest) < 2 or rest in _INDUSTRY_SET or _industry_without_brand(rest):
            break
        region, pos = merged, m[1]
    core = parent[pos:]
    brand, industry = _peel_industry(core)
    return CompanyName(text, _region_str(region), core, brand, industry, form, branch)


_INDUSTRY_SET = frozenset(INDUSTRIES)


def parse_company_name(name: object) -> CompanyName:
    """Split a company name into region, core (brand + industry), form and branch.

    >>> n = parse_company_name("華強電子（深圳）有限責任公司")
    >>> (n.region, n.core, n.brand, n.industry, n.form, n.branch)
    ('广东/深圳/', '华强电子', '华强', '电子', '有限公司', '')
    >>> parse_company_name("深圳市华强电子有限公司南山分公司").branch
    '南山分公司'
    >>> parse_company_name("中国工商银行股份有限公司深圳市分行").branch
    '深圳分行'
    >>> parse_company_name("腾讯科技(深圳)有限公司").brand
    '腾讯'
    """
    return _parse_normalised_company(normalise_text(name))


def parse_company_names(names: Sequence[object]) -> list[CompanyName]:
    """:func:`parse_company_name` over many names (each distinct name parsed once)."""
    uniq = list(dict.fromkeys(names))
    texts = normalise_texts(uniq)
    by_text = {t: _parse_normalised_company(t) for t in dict.fromkeys(texts)}
    parsed = {u: by_text[t] for u, t in zip(uniq, texts)}
    return [parsed[n] for n in names]


def parse_normalised_company_names(texts: Sequence[str]) -> list[CompanyName]:
    """:func:`parse_company_name` over texts already passed through :func:`normalise_text`."""
    by_text = {t: _parse_normalised_company(t) for t in dict.fromkeys(texts)}
    return [by_text[t] for t in texts]


def normalise_company_name(name: object) -> str:
    """The canonical form of a company name: region name, core, canonical form, branch.

    Variants of one name (traditional characters, full-width brackets, region in
    brackets, 有限责任公司 for 有限公司) give the same result.

    >>> normalise_company_name("華強電子（深圳）有限責任公司")
    '深圳华强电子有限公司'
    >>> normalise_company_name("深圳市华强电子有限公司")
    '深圳华强电子有限公司'
    """
    return parse_company_name(name).canonical


def looks_like_company(name: str) -> bool:
    """True when a (normalised) name reads as an organisation rather than a person.

    >>> looks_like_company("华强电子有限公司"), looks_like_company("张伟")
    (True, False)
    """
    return bool(_COMPANY_HINT.search(name)) or len(name) > 6


# ---------------------------------------------------------------------- person names
def normalise_person_name(name: object) -> str:
    """A person's name as compared: simplified, half-width, no spaces, no separator dots, upper-case Latin.

    >>> normalise_person_name(" 張　偉 ")
    '张伟'
    >>> normalise_person_name("阿不都・热合曼")
    '阿不都热合曼'
    """
    return normalise_text(name).replace("·", "").replace("(", "").replace(")", "")


def normalise_person_names(names: Sequence[object]) -> list[str]:
    """:func:`normalise_person_name` over many names."""
    return [t.replace("·", "").replace("(", "").replace(")", "") for t in normalise_texts(names)]


# ------------------------------------------------------------------------- addresses
@dataclass(frozen=True)
class Address:
    """An address split into district, road, number and the rest (building, floor, room)."""

    text: str
    district: str
    road: str
    number: str
    building: str
    #: The sub-district (街道, 镇, 乡) and community (社区, 村): levels between district and road that
    #: one source writes and another leaves out; they never decide a comparison by their absence.
    street: str = ""
    community: str = ""
    #: ``province/city/district`` from the official division list ("" where unknown).
    region: str = ""

    @property
    def key(self) -> str:
        """Road + number (+ building): the part that places a door, for blocking and exact comparison."""
        if not self.road:
            return self.text
        return f"{self.road}{self.number}号{self.building}" if self.number else f"{self.road}{self.building}"


_CN_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"两": 2, "〇": 0}
_CN_NUMBER = re.compile(r"[零〇一二两三四五六七八九十百千]+(?=[号栋幢楼层座室单元期])")
_ROAD = re.compile(r"(.{1,12}?(?:大道|公路|大街|路|街|巷|道))(?!办|路)")
_NUMBER = re.compile(r"^(\d+)(?:号|之\d+)")
_DISTRICT = re.compile(r"^(.{1,4}?)(?:区|县)")
_SUBDISTRICT = re.compile(r"^.{1,5}?(?:街道办事处|街道办|街道|镇|乡)(?![路街])")
_COMMUNITY = re.compile(r"^.{1,6}?(?:社区居委会|社区|村委会|村)(?![路街道巷])")


def _cn_to_int(s: str) -> str:
    """一千二百零五 → 1205 (numbers below 10 000 as written in addresses)."""
    total, cur = 0, 0
    for ch in s:
        if ch in _CN_DIGITS:
            cur = _CN_DIGITS[ch]
        else:
            unit = {"十": 10, "百": 100, "千": 1000}[ch]
            total += (cur or 1) * unit
            cur = 0
    return str(total + cur)


def _parse_normalised_address(t: str) -> Address:
    text = _CN_NUMBER.sub(lambda m: _cn_to_int(m.group(0)), t.replace("(", "").replace(")", ""))
    rest = text
    district = ""
    region = ("", "", "")
    while True:  # 广东省深圳市南山区...
        m = _match_region(rest)
        if not m:
            break
        merged = _region_merge(region, REGIONS[m[0]])
        if merged is None:
            break
        region, rest = merged, rest[m[1]:]
    district = region[2]
    if not district:
        m = _DISTRICT.match(rest)
        if m and "路" not in m.group(1) and "街" not in m.group(1):
            district, rest = m.group(1), rest[m.end():]
    street = community = ""
    m = _SUBDISTRICT.match(rest)
    if m:
        street, rest = m.group(0), rest[m.end():]
    m = _COMMUNITY.match(rest)
    if m:
        community, rest = m.group(0), rest[m.end():]
    road = number = ""
    m = _ROAD.search(rest)
    if m:
        road, rest = m.group(1), rest[m.end():]
        n = _NUMBER.match(rest)
        if n:
            number, rest = n.group(1).lstrip("0") or "0", rest[n.end():]
    return Address(text, district, road, number, rest, street, community, _region_str(region))


def parse_address(value: object) -> Address:
    """Split an address into district, road, number and building.

    >>> a = parse_address("廣東省深圳市南山區深南大道１００１號華強大廈A座")
    >>> (a.district, a.road, a.number, a.building)
    ('南山', '深南大道', '1001', '华强大厦A座')
    >>> parse_address("深圳市南山区深南大道一千零一号华强大厦A座").key == a.key
    True
    >>> b = parse_address("广东省深圳市南山区粤海街道科技园社区深南大道1001号华强大厦A座")
    >>> (b.street, b.community, b.key == a.key, b.region)
    ('粤海街道', '科技园社区', True, '广东/深圳/南山')
    """
    return _parse_normalised_address(normalise_text(value))


def parse_addresses(values: Sequence[object]) -> list[Address]:
    """:func:`parse_address` over many values (each distinct value parsed once)."""
    uniq = list(dict.fromkeys(values))
    parsed = {u: _parse_normalised_address(t) for u, t in zip(uniq, normalise_texts(uniq))}
    return [parsed[v] for v in values]


# ---------------------------------------------------------------------------- phones
def normalise_phone(value: object) -> str:
    """Digits only, without +86 and without the area code of a landline: the part that rings one line.

    >>> normalise_phone("+86 138-1234-5678"), normalise_phone("(0755)8342 1234"), normalise_phone("83421234")
    ('13812345678', '83421234', '83421234')
    >>> normalise_phone("１３８１２３４５６７８")
    '13812345678'
    """
    if value is None:
        return ""
    s = unicodedata.normalize("NFKC", str(value))
    s = re.split(r"(?:转|ext|EXT|分机|#)", s)[0]
    d = re.sub(r"\D", "", s)
    if d.startswith("0086"):
        d = d[4:]
    elif d.startswith("86") and len(d) == 13:
        d = d[2:]
    if len(d) == 11 and d[0] == "1":
        return d
    if d.startswith("0") and len(d) >= 10:
        # 010 and 02x are three-digit area codes, the others four.
        return d[3:] if d[1] in "12" else d[4:]
    return d


# ---------------------------------------------------------------------------- pinyin
@functools.lru_cache(maxsize=None)
def _char_pinyin(ch: str) -> str:
    if "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf":
        from pypinyin import Style, lazy_pinyin

        return lazy_pinyin(ch, style=Style.NORMAL)[0]
    return ch.lower()


@functools.lru_cache(maxsize=1)
def _phrase_tables() -> tuple[dict, re.Pattern]:
    """pypinyin's phrase readings, and the characters some phrase reads other than by their default
    reading (only those need a phrase look-up: 行 in 银行, 重 in 重庆)."""
    from pypinyin.phrases_dict import phrases_dict
    from pypinyin.pinyin_dict import pinyin_dict

    default = {chr(k): _toneless(v.split(",")[0]) for k, v in pinyin_dict.items() if "," in v}
    differs = set()
    for phrase, readings in phrases_dict.items():
        for ch, r in zip(phrase, readings):
            d = default.get(ch)
            if d is not None and ch not in differs and _toneless(r[0]) != d:
                differs.add(ch)
    return phrases_dict, re.compile("[" + "".join(sorted(differs)) + "]")


@functools.lru_cache(maxsize=4096)
def _toneless(syllable: str) -> str:
    s = syllable.replace("ü", "v")
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def pinyin_syllables(text: str) -> list[str]:
    """Toneless pinyin per character, phrase-aware: a character with several readings takes the one
    of the longest dictionary phrase (pypinyin's) around it, others their one reading. Characters
    that are not Chinese are kept, lower-cased.

    >>> pinyin_syllables("招商银行"), pinyin_syllables("重庆"), pinyin_syllables("长沙银行")
    (['zhao', 'shang', 'yin', 'hang'], ['chong', 'qing'], ['chang', 'sha', 'yin', 'hang'])
    """
    syl = [_char_pinyin(c) for c in text]
    phrases, poly = _phrase_tables()
    n = len(text)
    for m in poly.finditer(text):
        i = m.start()
        for size in (4, 3, 2):
            hit = None
            for start in range(max(0, i - size + 1), min(i, n - size) + 1):
                reading = phrases.get(text[start:start + size])
                if reading:
                    hit = reading[i - start][0]
                    break
            if hit:
                syl[i] = _toneless(hit)
                break
    return syl


def pinyin_key(text: str) -> str:
    """Toneless pinyin, phrase-aware (:func:`pinyin_syllables`): homophones (华强, 华墙) share a key,
    and 招商银行 reads …yinhang, 重庆 chongqing.

    >>> pinyin_key("华强"), pinyin_key("华墙"), pinyin_key("张伟"), pinyin_key("招商银行"), pinyin_key("重庆")
    ('huaqiang', 'huaqiang', 'zhangwei', 'zhaoshangyinhang', 'chongqing')
    """
    return "".join(pinyin_syllables(text))


def pinyin_keys(texts: Sequence[str]) -> list[str]:
    """:func:`pinyin_key` over many texts (each distinct text once)."""
    cache = {t: pinyin_key(t) for t in dict.fromkeys(texts)}
    return [cache[t] for t in texts]


# ------------------------------------------------------------- person name keys (any script)
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_NAME_PART = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]|[^\W\d_]+")


def _strip_accents(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


@functools.lru_cache(maxsize=200_000)
def _metaphone(token: str) -> str:
    import jellyfish

    return jellyfish.metaphone(token) or token


@functools.lru_cache(maxsize=1)
def _pinyin_syllables() -> frozenset[str]:
    """Every toneless pinyin syllable with a vowel (pypinyin's readings; the bare interjections
    n, ng, m, hm are left out so that no consonant is read as a syllable)."""
    from pypinyin.pinyin_dict import pinyin_dict

    out = set()
    for readings in pinyin_dict.values():
        for r in readings.split(","):
            # ü with a tone mark is one character (ǚ): spell it v, as the readings of names do (lv, nv).
            t = _toneless(unicodedata.normalize("NFD", r).replace("u\u0308", "v"))
            if t.isascii() and t.isalpha() and re.search("[aeiouv]", t):
                out.add(t)
    return frozenset(out)


@functools.lru_cache(maxsize=200_000)
def _segment_pinyin(token: str) -> tuple[str, ...] | None:
    """A Latin token read as pinyin syllables, fewest syllables first (the way a romanised given name is
    written: zhiwei → zhi wei, siqi → si qi), or None when it does not read as pinyin (smith)."""
    syl = _pinyin_syllables()
    n = len(token)
    best: list[tuple[str, ...] | None] = [()] + [None] * n
    for end in range(1, n + 1):
        for start in range(max(0, end - 6), end):
            head = best[start]
            if head is not None and token[start:end] in syl:
                cand = head + (token[start:end],)
                if best[end] is None or len(cand) < len(best[end]):
                    best[end] = cand
    return best[n]


def reads_as_pinyin(tokens: str) -> bool:
    """Whether a name's tokens (space-separated, as :func:`person_name_keys` gives them) are all pinyin
    syllables: a Chinese name, in characters or romanised. Such names are compared by syllable,
    not by letters (zhang / zhao are two surnames, not a typo).

    >>> reads_as_pinyin("jie wang"), reads_as_pinyin("green mitchell"), reads_as_pinyin("")
    (True, False, False)
    """
    syl = _pinyin_syllables()
    parts = tokens.split()
    return bool(parts) and all(t in syl for t in parts)


def person_name_tokens(value: object) -> list[str]:
    """A person's name as lower-case Latin tokens, whatever its script.

    Latin names lose their accents and split on spaces, hyphens and dots; Chinese characters
    (traditional folded to simplified) become one toneless pinyin syllable each, so a name and
    its romanisation share tokens. A Latin name whose every word reads as pinyin is a romanised
    Chinese name, with the given name written as one word (Zhiwei Dong, GB/T 28039): its words
    are split into syllables, like the characters they stand for.

    >>> person_name_tokens("José  María-Núñez"), person_name_tokens("王杰"), person_name_tokens("JIE WANG")
    (['jose', 'maria', 'nunez'], ['wang', 'jie'], ['jie', 'wang'])
    >>> person_name_tokens("Zhiwei DONG"), person_name_tokens("董志伟"), person_name_tokens("Mitchell Li")
    (['zhi', 'wei', 'dong'], ['dong', 'zhi', 'wei'], ['mitchell', 'li'])

    A name in another alphabet (Cyrillic, Arabic, Khmer, Hangul, kana, ...) is transliterated
    (:func:`transliterate`) and is never read as pinyin:

    >>> person_name_tokens("ВАСИЛЬЕВ, Александр"), person_name_tokens("តារា គឹម")
    (['vasilev', 'aleksandr'], ['tara', 'koem'])
    """
    if value is None:
        return []
    s = to_simplified(unicodedata.normalize("NFKC", str(value)))
    other = has_other_script(s)
    s = transliterate(s)
    out = []
    latin = []
    for part in _NAME_PART.findall(s):
        if _CJK.match(part):
            out.append(_char_pinyin(part))
        else:
            t = _strip_accents(part).lower()
            out.append(t)
            latin.append(t)
    out = [t for t in out if t]
    if latin and not other:
        segs = [_segment_pinyin(t) for t in out]
        if all(x is not None for x in segs):
            out = [x for seg in segs for x in seg]
    return out


@functools.lru_cache(maxsize=1)
def _one_formal_name() -> dict[str, str]:
    """Nickname → formal given name, for the nicknames of the public ``nicknames`` data set
    (Carlton Northern's hand-curated English names, shipped in its wheel) that stand for exactly
    one formal name and are not formal names themselves: howie → howard, but not ed (edward, edgar,
    edmund, ...) nor marie (a name of its own)."""
    from nicknames import NickNamer

    canon = NickNamer().canonical_lookup  # nickname -> formal names
    formal = {f for fs in canon.values() for f in fs}
    return {n: next(iter(fs)) for n, fs in canon.items()
            if len(fs) == 1 and n not in formal and n.isalpha()}


def _family_positions(value: object, tokens: list[str]) -> set[int]:
    """Positions of ``tokens`` (of a Latin-script name) that may be the family name, by how the name
    is written: the first before a comma (Hughes, Howie), words in capitals in a mixed-case name
    (GREEN Michell), else the last (Howie Hughes).

    >>> _family_positions("Hughes, Howie", ["hughes", "howie"]), _family_positions("GREEN Michell", ["green", "michell"])
    ({0}, {0})
    >>> _family_positions("Howie Hughes", ["howie", "hughes"])
    {1}
    """
    raw = str(value or "")
    if "," in raw:
        return {0}
    words = re.findall(r"[^\W\d_]+", raw)
    caps = {w.lower() for w in words if len(w) > 1 and w.isupper()}
    if caps and any(not w.isupper() for w in words):
        return {i for i, t in enumerate(tokens) if t in caps}
    return {len(tokens) - 1}


def given_name_of(token: str) -> str:
    """The formal given name a lower-case name token stands for when it is an unambiguous English
    nickname (``howie`` → ``howard``), else the token itself.

    >>> given_name_of("howie"), given_name_of("ed"), given_name_of("smith")
    ('howard', 'ed', 'smith')
    """
    return _one_formal_name().get(token, token)


def person_name_keys(values: Sequence[object]) -> list[tuple[str, str]]:
    """(sorted tokens, sorted phonetic codes) per name: the keys that find a name written in another
    order (Jie Wang / Wang Jie), in another script (王杰 / Wang Jie), spelled alike (Mitchell /
    Michell share the metaphone MXL) or by a nickname (Bill / William). Each distinct value is computed once.

    A name that reads as pinyin (a Chinese name in characters or romanised) is its own phonetic code:
    pinyin already spells the sound, and the English rules of metaphone would make 周勇 (zhou yong) and
    赵颖 (zhao ying) one name.

    >>> person_name_keys(["王杰", "Jie  Wang", "Mitchell Green"])
    [('jie wang', 'jie wang'), ('jie wang', 'jie wang'), ('green mitchell', 'KRN MXL')]
    >>> person_name_keys(["Bill GREEN"]) == person_name_keys(["William Green"])  # a nickname
    True
    >>> person_name_keys(["周勇"])[0][1] == person_name_keys(["赵颖"])[0][1]
    False

    Names in other alphabets share the sound of their Latin spelling:

    >>> person_name_keys(["ВАСИЛЬЕВ, Александр Павлович"])[0][1] == person_name_keys(["Alexander Pavlovich Vasiliev"])[0][1]
    True
    >>> person_name_keys(["فيصل صديقي", "Faisal Siddiqui"])
    [('fysl sdyqy', 'FSL STK'), ('faisal siddiqui', 'FSL STK')]
    """
    from credgraph.resolution.lexicon import NICKNAMES

    cache: dict = {}
    out = []
    for v in values:
        if v not in cache:
            toks = person_name_tokens(v)
            tok = " ".join(sorted(toks))
            if reads_as_pinyin(tok):
                cache[v] = (tok, tok)
            else:
                if not _CJK.search(str(v or "")):  # Bill Green is William Green
                    # The data set's nicknames only off the family name (Webb is not Webster, GREEN not
                    # Greenberry); the resolver's own short table everywhere, as before.
                    family = _family_positions(transliterate(v), toks)
                    toks = [NICKNAMES.get(t) or (t if i in family else given_name_of(t)) for i, t in enumerate(toks)]
                cache[v] = (" ".join(sorted(toks)), " ".join(sorted(_metaphone(t) for t in toks)))
        out.append(cache[v])
    return out


def postcode_of(address: object) -> str:
    """The postcode of a Latin-script address: a group of 4-6 digits that ends it
    ("7 wallaby place, cleveland sa 2119" → "2119"); empty for Chinese addresses.

    >>> postcode_of("7 wallaby place, delmar, cleveland sa 2119"), postcode_of("深圳市南山区深南大道1001号")
    ('2119', '')
    """
    if address is None:
        return ""
    s = unicodedata.normalize("NFKC", str(address)).strip()
    if not s or _CJK.search(s):
        return ""
    m = re.search(r"(?<![\dA-Za-z-])(\d{4,6})\W*$", s)
    return m.group(1) if m else ""


# ------------------------------------------------------------------ company names in English
@functools.lru_cache(maxsize=1)
def _region_by_pinyin() -> dict[str, str]:
    """Toneless pinyin of province, prefecture and Shenzhen district names → the name (unambiguous ones)."""
    seen: dict[str, set] = {}
    for name, (prov, city, district) in REGIONS.items():
        if len(name) >= 2 and all(_CJK.match(c) for c in name) and (not district or city == "深圳"):
            seen.setdefault(pinyin_key(name), set()).add(name)
    return {k: next(iter(v)) for k, v in seen.items() if len(v) == 1}


def english_company_name(name: object) -> str | None:
    """A company name written in English, rewritten the Chinese way (region + brand in pinyin + industry +
    form) so that it compares with the Chinese name, or None when it does not read as one.

    >>> english_company_name("Shenzhen Huaqiang Electronics Co., Ltd.")
    '深圳HUAQIANG电子有限公司'
    >>> english_company_name("Huaqiang Technology (Zhoukou) Company Limited")
    '周口HUAQIANG科技有限公司'
    >>> english_company_name("Mitchell Green") is None, english_company_name("华强电子有限公司") is None
    (True, True)
    >>> english_company_name("Acme Trading LLC") is None  # a brand that is no pinyin: a foreign firm
    True
    """
    from credgraph.resolution.lexicon import ENGLISH_FORMS, ENGLISH_INDUSTRIES

    if name is None:
        return None
    s = unicodedata.normalize("NFKC", str(name)).strip().lower()
    if not s or _CJK.search(s):
        return None
    s = re.sub(r"\s+", " ", s)
    form = next((ENGLISH_FORMS[f] for f in sorted(ENGLISH_FORMS, key=len, reverse=True) if s.endswith(f)), None)
    if form is None:
        return None
    s = s[: -len(next(f for f in sorted(ENGLISH_FORMS, key=len, reverse=True) if s.endswith(f)))].strip(" ,.")
    regions = _region_by_pinyin()
    region = ""
    m = re.search(r"\(([a-z ]+)\)", s)
    if m and m.group(1).replace(" ", "") in regions:
        region, s = regions[m.group(1).replace(" ", "")], (s[: m.start()] + s[m.end():]).strip()
    words = s.split()
    if not region and len(words) > 1 and words[0] in regions:
        region, words = regions[words[0]], words[1:]
    s = " ".join(words)
    industry = next((ENGLISH_INDUSTRIES[w] for w in sorted(ENGLISH_INDUSTRIES, key=len, reverse=True)
                     if s == w or s.endswith(" " + w)), None)
    if industry is None:
        return None
    key = next(w for w in sorted(ENGLISH_INDUSTRIES, key=len, reverse=True) if s == w or s.endswith(" " + w))
    brand = re.sub(r"[^a-z]", "", s[: -len(key)]).upper()
    # A Chinese firm's English name writes its brand (字号) in pinyin, or names a Chinese place: a brand
    # that reads as no pinyin (Acme Trading LLC) is a foreign firm's own name (:func:`latin_company_name`).
    if not brand or (not region and _segment_pinyin(brand.lower()) is None):
        return None
    return f"{region}{brand}{industry}{form}"


# ------------------------------------------------------------ names in other scripts
# Letters outside Latin (with its accents and extensions) and Chinese: Cyrillic, Greek, Arabic, Hebrew,
# Devanagari, Thai, Khmer, Hangul, kana, ... and stray combining marks.
_OTHER_SCRIPT = re.compile(
    r"[^\x00-\u024f\u1e00-\u1eff\u2000-\u206f\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
    r"\uff00-\uffef\s]+")
_HANGUL = re.compile(r"^[\uac00-\ud7a3]{2,}$")


def _romanise_run(run: str) -> str:
    """One run of letters of another script in Latin letters (see :func:`transliterate`)."""
    from anyascii import anyascii

    from credgraph.resolution.lexicon import HANGUL_SURNAMES

    if _HANGUL.match(run):  # a Korean name: family name (one syllable, as passports spell it), then the given name
        return f"{HANGUL_SURNAMES.get(run[0]) or anyascii(run[0])} {anyascii(run[1:])}".lower()
    # Greek ου is one vowel, written ou (ELOT 743), not letter by letter (oy).
    run = run.replace("ου", "ou").replace("Ου", "Ou").replace("ΟΥ", "OU").replace("ού", "ou").replace("Ού", "Ou")
    return anyascii(run).replace("'", "").replace('"', "")


def transliterate(text: object) -> str:
    """A name in another alphabet written in Latin letters (``anyascii``: Cyrillic, Greek, Arabic,
    Hebrew, Devanagari, Thai, Khmer, Hangul, kana, ...), so that it compares with the way Latin-script
    records spell it. Chinese characters and Latin letters are kept as they are (Chinese is read as
    pinyin elsewhere, phrase-aware), and so are digits and punctuation. A Korean name becomes its
    family name as passports spell it + given name (김민준 → kim minjun); the soft and hard signs of Cyrillic leave no mark.

    >>> transliterate("ВАСИЛЬЕВ, Александр Павлович")
    'VASILEV, Aleksandr Pavlovich'
    >>> transliterate("فيصل صديقي"), transliterate("តារា គឹម"), transliterate("김민준")
    ('fysl sdyqy', 'tara koem', 'kim minjun')
    >>> transliterate("张伟 José")
    '张伟 José'
    """
    if text is None:
        return ""
    s = unicodedata.normalize("NFKC", str(text))
    return _OTHER_SCRIPT.sub(lambda m: _romanise_run(m.group(0)), s)


def compared_names(names: Sequence[object]) -> list[str]:
    """The name text resolution compares, per raw name: a company name written in English read the
    Chinese way (:func:`english_company_name`), a name in another alphabet in Latin letters
    (:func:`transliterate`), then :func:`normalise_texts`. The graph keeps it beside the name as written.

    >>> compared_names(["深圳市甲科技有限公司", "ВАСИЛЬЕВ"]) == normalise_texts(["深圳市甲科技有限公司", "VASILEV"])
    True
    """
    return normalise_texts([english_company_name(x) or transliterate(x) for x in names])


def has_other_script(text: object) -> bool:
    """Whether a text holds letters of a script other than Latin and Chinese (see :func:`transliterate`)."""
    return bool(text) and bool(_OTHER_SCRIPT.search(unicodedata.normalize("NFKC", str(text))))


# ------------------------------------------------------------------ company names in Latin script
_LATIN_BRACKET = re.compile(r"[(\[{]([^()\[\]{}]*)[)\]}]")
_OF_WORDS = frozenset({"of", "de", "du", "des", "del", "della", "di", "da", "van", "von", "for", "in"})
_NOT_CORE = frozenset({"the", "and"})
#: Words that end a branch's name (a registered entity distinct from its parent, as 分公司, 代表处):
#: (number of words, canonical marker) → the ways of writing it.
_BRANCH_WORDS = {
    (2, "BRANCH"): {("branch", "office")},
    (1, "BRANCH"): {("branch",)},
    (2, "REPRESENTATIVE OFFICE"): {("representative", "office"), ("rep", "office"), ("representation", "office")},
    (2, "LIAISON OFFICE"): {("liaison", "office")},
}
#: Legal forms written before the name (Russian ООО / ЗАО / ПАО, Indonesian PT).
_PREFIX_FORMS = {"ooo": "LTD", "zao": "PLC", "oao": "PLC", "pao": "PLC", "pjsc": "PLC", "ojsc": "PLC", "jsc": "PLC",
                 "pt": "LTD"}


def _latin_words(text: str) -> list[str]:
    """Lower-case ASCII words of a text (any script transliterated, accents folded, ß → ss, & → and);
    runs of single letters are joined, so dotted abbreviations read as words (L.L.C. → llc, U.S.A. → usa)."""
    from anyascii import anyascii

    s = anyascii(unicodedata.normalize("NFKC", text)).lower().replace("&", " and ")
    s = re.sub(r"['`\u2019]", "", s)
    words = re.findall(r"[a-z0-9]+", s)
    out: list[str] = []
    run: list[str] = []
    for w in words + [""]:
        if len(w) == 1 and w.isalpha():
            run.append(w)
            continue
        if run:
            out += ["".join(run)] if len(run) > 1 else run
            run = []
        if w:
            out.append(w)
    return out


@functools.lru_cache(maxsize=1)
def _latin_form_terms() -> list[tuple[tuple[str, ...], str]]:
    """(words, form type) of every legal-form term, most words first: the hand table, then ``cleanco``'s
    terms of many countries (only those of three letters or more, or written with dots, so that a short
    word ending a name — da, og, et — is not taken for a form)."""
    from cleanco.termdata import terms_by_type

    from credgraph.resolution.lexicon import LATIN_FORM_TYPES, LATIN_FORMS

    table: dict[tuple[str, ...], str] = {}
    for term, kind in LATIN_FORMS.items():
        table[tuple(_latin_words(term))] = kind
    kinds: dict[tuple[str, ...], set] = {}
    for kind, terms in terms_by_type.items():
        for term in terms:
            if not term.isascii() or (len(term.strip(" .")) < 3 and "." not in term.strip(" .")):
                continue
            words = tuple(_latin_words(term))
            if words:
                kinds.setdefault(words, set()).add(LATIN_FORM_TYPES.get(kind, "CO"))
    for words, ks in kinds.items():
        table.setdefault(words, next(iter(ks)) if len(ks) == 1 else "CO")
    return sorted(table.items(), key=lambda kv: (-len(kv[0]), kv[0]))


@functools.lru_cache(maxsize=1)
def _places() -> dict[tuple[str, ...], str]:
    """Words of a place → its region: countries (ISO 3166 names, common and official names, with
    a few usual short forms: USA, UK, UAE) as ``XX//`` (alpha-2); Chinese provinces, prefectures and
    Shenzhen's districts in pinyin (Shenzhen, Guangzhou) as the Chinese parser writes them
    (``广东/深圳/``), so that ``Huaqiang (Shenzhen)`` and 华强（深圳） agree. China itself is no
    qualifier on a Chinese platform (empty region); Hong Kong, Macao and Taiwan are their Chinese regions."""
    import pycountry

    from credgraph.resolution.lexicon import COUNTRY_EXTRA

    own = {"HK": "香港", "MO": "澳门", "TW": "台湾"}

    def region_of(code: str) -> str:
        if code == "CN":
            return ""
        if code in own and own[code] in REGIONS:
            return _region_str(REGIONS[own[code]])
        return f"{code}//"

    out: dict[tuple[str, ...], str] = {}
    for c in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            v = getattr(c, attr, None)
            if v and "," not in v:
                out.setdefault(tuple(_latin_words(v)), region_of(c.alpha_2))
    for k, code in COUNTRY_EXTRA.items():
        out.setdefault(tuple(_latin_words(k)), region_of(code))
    for py, name in _region_by_pinyin().items():
        out.setdefault((py,), _region_str(REGIONS[name]))
    return out


def _trailing(words: list[str], table) -> tuple[int, str] | None:
    """The longest entry of ``table`` (word tuples, longest first when a list) that ends ``words``:
    (its number of words, its value)."""
    if isinstance(table, dict):
        for n in range(min(5, len(words)), 0, -1):
            hit = table.get(tuple(words[-n:]))
            if hit is not None:
                return n, hit
        return None
    for term, kind in table:
        n = len(term)
        if n <= len(words) and tuple(words[-n:]) == term:
            return n, kind
    return None


def _is_latin_company(name: object) -> bool:
    """A company name without Chinese characters, with letters, that the English-as-Chinese reading
    (:func:`english_company_name`) does not take."""
    if name is None:
        return False
    s = str(name)
    return not _CJK.search(s) and bool(re.search(r"[^\W\d_]", s)) and english_company_name(s) is None


def latin_company_name(name: object) -> CompanyName | None:
    """A company name in Latin (or another alphabetic) script split like a Chinese one, or None for a
    name with Chinese characters or one that :func:`english_company_name` reads the Chinese way.

    - accents folded and other scripts transliterated (Müllenkranz → MULLENKRANZ);
    - the legal form at the end read as a type (Inc / Incorporated / Corp / Corporation → CORP; Ltd /
      Limited / Co Ltd / Pte Ltd / GmbH / BV / SARL → LTD; LLC; plc / AG / SA / NV → PLC; LP; LLP; a bare
      Co / Company → CO, compatible with any), as 有限责任公司 reads 有限公司;
    - a bracketed part, and a country (or a Chinese city in pinyin) ending the name, as a region
      qualifier like 华强电子（周口）: ``Universal Exports Singapore`` has the core ``UNIVERSAL EXPORTS``
      and the region ``SG//``; a bracketed part that names no place (a street, a trading name) is left
      out. A place after "of" stays in the name (Bank of China); so does a country that would leave a
      one-word core (Air India);
    - a final "Branch" (with the place between the form and it) as the branch part: a branch is its
      own registered entity, never merged into its parent.

    Whether "X Singapore" is the same firm as "X" is not decided here: the region is missing on one
    side (no evidence), and the address, phone or an identifier decide.

    >>> n = latin_company_name("Universal Exports Singapore Pte. Ltd.")
    >>> (n.core, n.form, n.region, n.canonical)
    ('UNIVERSAL EXPORTS', 'LTD', 'SG//', 'UNIVERSAL EXPORTS LTD (SG)')
    >>> latin_company_name("Hajah Mamunah (Jln Pisang)").core, latin_company_name("Müllenkranz GmbH").core
    ('HAJAH MAMUNAH', 'MULLENKRANZ')
    >>> latin_company_name("Bank of China").core, latin_company_name("Citibank N.A., Singapore Branch").branch
    ('BANK OF CHINA', 'SG BRANCH')
    >>> latin_company_name("华强电子有限公司") is None, latin_company_name("Shenzhen Huaqiang Electronics Co., Ltd.") is None
    (True, True)
    """
    if not _is_latin_company(name):
        return None
    text = unicodedata.normalize("NFKC", str(name))
    region = ""
    branch = ""
    places = _places()
    # Bracketed parts: a place is the region, "... Branch" the branch, anything else a qualifier left out.
    for inner in _LATIN_BRACKET.findall(text):
        w = _latin_words(inner)
        if w and w[-1] == "branch":
            place = _trailing(w[:-1], places)
            branch = " ".join(([place[1].split("/")[0] if place[1].endswith("//") else " ".join(w[-1 - place[0]:-1]).upper()]
                               if place else [x.upper() for x in w[:-1]]) + ["BRANCH"])
        elif w and tuple(w) in places and not region:
            region = places[tuple(w)]
    words = _latin_words(_LATIN_BRACKET.sub(" ", text))
    if not words:
        return None
    terms = _latin_form_terms()
    # A final Branch (or representative office): the words between the legal form (or a known place)
    # and it name the branch.
    marker = next(((n, label) for n, label in _BRANCH_WORDS if len(words) > n and tuple(words[-n:]) in _BRANCH_WORDS[
        (n, label)]), None)
    if marker:
        words = words[: -marker[0]]
        cut = None
        for i in range(len(words) - 1, 0, -1):
            if _trailing(words[: i], terms) is not None:
                cut = i
                break
        place = _trailing(words, places)
        if place and place[0] < len(words):
            label = place[1].split("/")[0] if place[1].endswith("//") else " ".join(words[-place[0]:]).upper()
            words = words[: -place[0]]
        elif cut is not None and cut < len(words):
            label, words = " ".join(words[cut:]).upper(), words[:cut]
        else:
            label = ""
        branch = f"{label} {marker[1]}".strip()
    form = ""
    for _ in range(4):  # forms and places in either order: "X Singapore Pte Ltd", "X Ltd (Singapore)", "X Ltd, USA"
        changed = False
        hit = _trailing(words, terms)
        if hit and hit[0] < len(words):
            form = form or hit[1]
            words, changed = words[: -hit[0]], True
        place = _trailing(words, places)
        if (place and len(words) - place[0] >= 2 and words[-place[0] - 1] not in _OF_WORDS
                and (not region or region_compatible(region, place[1]))):
            region = region or place[1]
            words, changed = words[: -place[0]], True
        if not changed:
            break
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    if len(words) > 1 and words[0] in _PREFIX_FORMS:  # ООО Ромашка, PT Bank Central Asia
        form, words = form or _PREFIX_FORMS[words[0]], words[1:]
    core = " ".join(words).upper()
    return CompanyName(text, region, core, core, "", form, branch, latin=True)


def latin_company_names(names: Sequence[object]) -> list[CompanyName | None]:
    """:func:`latin_company_name` over many names (each distinct name once)."""
    cache = {n: latin_company_name(n) for n in dict.fromkeys(names)}
    return [cache[n] for n in names]


def word_sound(word: str) -> str:
    """Metaphone of a (lower-case) word, a plural or possessive s left off (exports / export, macys / macy).

    >>> word_sound("exports"), word_sound("export"), word_sound("univrsl"), word_sound("universal")
    ('EKSPRT', 'EKSPRT', 'UNFRSL', 'UNFRSL')
    """
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    return _metaphone(word)


def company_name_keys(name: CompanyName) -> tuple[str, str, str]:
    """(sound key, order-free key, word keys) of a parsed company name: for a Chinese core its pinyin
    (phrase-aware), its characters sorted, and no word keys; for a Latin-script core the metaphone of
    each word (a plural s left off: UNIVERSAL EXPORTS / Univrsl Export sound alike), the words sorted,
    and the metaphone codes of its words of two letters or more (blocking keys: a firm whose name
    lost or gained a word still meets the other spelling; never empty for a Latin name, which is how
    the resolver tells a Latin-script company from a Chinese one).

    >>> company_name_keys(parse_company_name("华强电子有限公司"))
    ('huaqiangdianzi', '华子强电', '')
    >>> company_name_keys(latin_company_name("Universal Exports"))
    ('UNFRSL EKSPRT', 'EXPORTS UNIVERSAL', 'EKSPRT UNFRSL')
    >>> company_name_keys(latin_company_name("Univrsl Export Inc"))[0]
    'UNFRSL EKSPRT'
    """
    if not name.latin:
        return pinyin_key(name.core), "".join(sorted(name.core)), ""
    words = name.core.lower().split()
    sound = " ".join(word_sound(w) for w in words)
    block = " ".join(sorted({word_sound(w) for w in words if len(w) >= 2 and w not in _NOT_CORE})) or name.core
    return sound, " ".join(sorted(name.core.split())), block
