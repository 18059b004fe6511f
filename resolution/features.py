"""Comparison features and hard rules: how two profiles are compared, field by field.

Each comparison is a small typed function over *arrays of pairs* (vectorised with
numpy and rapidfuzz, never a Python loop per pair) returning one level code per pair:
``-1`` when the field is missing on either side (no evidence either way), ``0`` for the
strongest disagreement, and higher codes for closer agreement. The function's
docstring is the explanation a user sees next to the level in ``credgraph explain``.

Hard rules (different identifiers of one kind, branch vs parent, region conflict,
same brand in another industry, persons without an ID or strong context) are separate
functions returning booleans: they override the score.

Profiles are held as integer codes per column (code 0 is the empty string), so equality
is integer comparison and string similarity is computed once per distinct pair of values.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import polars as pl
from rapidfuzz import fuzz, process

from credgraph.identifiers import masked_id_compatible
from credgraph.resolution.normalise import region_compatible

__all__ = [
    "Profiles",
    "Pairs",
    "Comparison",
    "Rule",
    "LEGAL_COMPARISONS",
    "NATURAL_COMPARISONS",
    "LEGAL_RULES",
    "NATURAL_RULES",
    "comparisons_for",
    "rules_for",
    "encode_profiles",
]


@dataclass
class Profiles:
    """Distinct combinations of a type's normalised fields, as integer codes.

    ``codes[col][i]`` is the code of profile ``i``'s value in ``vocab[col]`` (0 = empty).
    ``group[i]`` is the pre-cluster (same identifier, same previous entity, ...) of profile i.
    """

    type: str
    codes: dict[str, np.ndarray]
    vocab: dict[str, np.ndarray]
    group: np.ndarray
    new: np.ndarray
    representative: np.ndarray  # one mention id per profile, for evidence
    mentions: np.ndarray  # number of mentions per profile
    workers: int = 1
    #: Values computed once per profile set by the comparisons (e.g. which names read as pinyin).
    derived: dict = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.group)

    def value(self, col: str, i: int) -> str:
        return str(self.vocab[col][self.codes[col][i]])


def encode_profiles(frame: pl.DataFrame, columns: list[str]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Integer-code string columns: ``vocab[col][codes[col]]`` gives back the values; code 0 is ``""``."""
    codes, vocab = {}, {}
    for col in columns:
        s = frame[col].cast(pl.Utf8).fill_null("")
        uniq = pl.concat([pl.Series([""], dtype=pl.Utf8), s]).unique().sort()
        codes[col] = uniq.search_sorted(s).to_numpy().astype(np.int32)
        vocab[col] = uniq.to_numpy().astype(object)
    return codes, vocab


class Pairs:
    """Aligned arrays of left and right profile indices, with helpers the comparisons share."""

    def __init__(self, profiles: Profiles, left: np.ndarray, right: np.ndarray):
        self.profiles = profiles
        self.left = np.asarray(left, dtype=np.int64)
        self.right = np.asarray(right, dtype=np.int64)
        self._cache: dict = {}

    def __len__(self) -> int:
        return len(self.left)

    def memo(self, fn: Callable[["Pairs"], np.ndarray]) -> np.ndarray:
        """``fn(self)``, computed once (rules reuse the comparisons' levels)."""
        key = fn.__name__
        if key not in self._cache:
            self._cache[key] = fn(self)
        return self._cache[key]

    def l(self, col: str) -> np.ndarray:
        return self.profiles.codes[col][self.left]

    def r(self, col: str) -> np.ndarray:
        return self.profiles.codes[col][self.right]

    def missing(self, col: str) -> np.ndarray:
        return (self.l(col) == 0) | (self.r(col) == 0)

    def equal(self, col: str) -> np.ndarray:
        a, b = self.l(col), self.r(col)
        return (a == b) & (a != 0)

    def differ(self, col: str) -> np.ndarray:
        a, b = self.l(col), self.r(col)
        return (a != b) & (a != 0) & (b != 0)

    def on_distinct(self, col: str, fn: Callable[[np.ndarray, np.ndarray], np.ndarray], mask: np.ndarray,
                    dtype=np.float64, fill=np.nan) -> np.ndarray:
        """Apply ``fn(values_a, values_b)`` once per distinct pair of codes among the masked pairs."""
        out = np.full(len(self), fill, dtype=dtype)
        idx = np.flatnonzero(mask)
        if not len(idx):
            return out
        a = self.l(col)[idx].astype(np.int64)
        b = self.r(col)[idx].astype(np.int64)
        key = (a << 32) | b
        uniq, inv = np.unique(key, return_inverse=True)
        vocab = self.profiles.vocab[col]
        va, vb = vocab[uniq >> 32], vocab[uniq & 0xFFFFFFFF]
        out[idx] = np.asarray(fn(va, vb), dtype=dtype)[inv]
        return out

    def similarity(self, col: str, mask: np.ndarray) -> np.ndarray:
        """Character edit similarity in [0, 1] (rapidfuzz ``ratio``) for the masked pairs, NaN elsewhere."""
        workers = self.profiles.workers

        def ratio(va, vb):
            return process.cpdist(list(va), list(vb), scorer=fuzz.ratio, workers=workers) / 100.0

        return self.on_distinct(col, ratio, mask)


@dataclass(frozen=True)
class Comparison:
    """One field comparison of the Fellegi-Sunter model."""

    name: str
    levels: tuple[str, ...]  # label of level code 0, 1, ... (higher = closer agreement)
    compute: Callable[[Pairs], np.ndarray]
    #: Column whose value frequency adjusts the weight of the top level (a common name counts less).
    tf_column: str | None = None
    #: Columns whose values name one holder (an ID number, a phone): u of the top level is estimated
    #: from how often carriers of different names share a value (resolution/model.py, PRIOR_U).
    value_columns: tuple[str, ...] = ()

    @property
    def doc(self) -> str:
        return inspect.getdoc(self.compute) or ""

    def __call__(self, pairs: Pairs) -> np.ndarray:
        return pairs.memo(self.compute)


@dataclass(frozen=True)
class Rule:
    """A hard rule: pairs for which it holds are never merged (or never merged automatically)."""

    name: str
    compute: Callable[[Pairs], np.ndarray]
    #: "cannot_link": never in one entity; "related": possibly related, never merged; "no_auto": review at most.
    effect: str = "cannot_link"

    @property
    def doc(self) -> str:
        return inspect.getdoc(self.compute) or ""

    def __call__(self, pairs: Pairs) -> np.ndarray:
        return self.compute(pairs)


def _levels(n: int) -> np.ndarray:
    return np.zeros(n, dtype=np.int8)


# ------------------------------------------------------------------ shared comparisons
def _name_levels(p: Pairs, similar: float) -> np.ndarray:
    lv = _levels(len(p))
    miss = p.missing("core")
    same = p.equal("core")
    py = p.equal("name_py") & ~same
    srt = p.equal("name_sorted") & ~same & ~py
    rest = ~(miss | same | py | srt)
    sim = p.similarity("core", rest)
    lv[rest & (sim >= similar)] = 1
    lv[srt] = 2
    lv[py] = 3
    lv[same] = 4
    lv[miss] = -1
    return lv


def core_name(p: Pairs) -> np.ndarray:
    """Company name core: brand + industry with region, organisational form and branch taken off,
    after folding traditional to simplified and full-width to half-width characters.
    Levels: different; similar (edit ratio >= 0.75); the same characters in another order
    (a transposition); the same pinyin (a homophone typo such as 华强/华墙); identical
    (weighted by how rare the core is). A name in Latin script is compared by its words: similar also
    at Jaro-Winkler >= 0.9; transposed also when one name's words are the other's with one added
    (Universal Exports / Universal Exports Worldwide); homophone when every word sounds alike (metaphone,
    a plural s left off: Univrsl Export / Universal Exports) or the names are one typo apart
    (Müllenkranz / Mullenkrants: 80 % of the letters in place, Jaro-Winkler >= 0.9)."""
    lv = _name_levels(p, 0.75)
    todo = _latin_pairs(p) & ((lv == 0) | (lv == 1))
    if todo.any():
        extra = p.on_distinct("core", lambda a, b: [_latin_name_level(x, y) for x, y in zip(a, b)], todo,
                              dtype=np.int8, fill=0)
        lv[todo] = np.maximum(lv[todo], extra[todo])
    return lv


def _latin_pairs(p: Pairs) -> np.ndarray:
    """Pairs of two companies named in Latin script: both have word keys (``name_tok``), which only
    :func:`~credgraph.resolution.normalise.latin_company_name` gives a company (a Chinese name has none)."""
    if "name_tok" not in p.profiles.codes:
        return np.zeros(len(p), dtype=bool)
    return (p.l("name_tok") != 0) & (p.r("name_tok") != 0)


def _latin_name_level(a: str, b: str) -> int:
    """The level of two different Latin-script company cores (upper-case words): 3 one typo apart, 2 one's
    words (by sound) the other's with one added, or in another order, 1 similar, 0 different.

    >>> _latin_name_level("MULLENKRANZ", "MULLENKRANTS"), _latin_name_level("UNIVERSAL EXPORTS", "UNIVERSAL EXPORT WORLDWIDE")
    (3, 2)
    >>> _latin_name_level("ACME", "ACNE"), _latin_name_level("ACME", "ACME BANK"), _latin_name_level("BLUE SKY", "RED STAR")
    (1, 2, 0)
    """
    from rapidfuzz.distance import OSA, JaroWinkler

    from credgraph.resolution.normalise import word_sound

    jw = JaroWinkler.normalized_similarity(a, b)
    if OSA.normalized_similarity(a, b) >= 0.8 and jw >= 0.9:
        return 3
    sa, sb = sorted(word_sound(w.lower()) for w in a.split()), sorted(word_sound(w.lower()) for w in b.split())
    short, long_ = (sa, sb) if len(sa) <= len(sb) else (sb, sa)
    rest = list(long_)
    if all(w in rest and not rest.remove(w) for w in short) and len(rest) <= 1:
        return 2
    return 1 if jw >= 0.9 or fuzz.ratio(a, b) >= 75 else 0


def _name_similarity(va: np.ndarray, vb: np.ndarray, workers: int = 1) -> np.ndarray:
    """Best of Jaro-Winkler over the sorted name tokens and the character edit ratio, in [0, 1]."""
    from rapidfuzz.distance import JaroWinkler

    return process.cpdist(list(va), list(vb), scorer=JaroWinkler.normalized_similarity, workers=workers)


def _syllable_ratio(va: np.ndarray, vb: np.ndarray, cache: dict, workers: int = 1) -> np.ndarray:
    """Edit ratio over syllables (each pinyin syllable one symbol) of space-separated token strings;
    ``cache`` keeps each name's symbols (and the symbol of each syllable) between calls."""
    names = cache.setdefault("names", {})
    table = cache.setdefault("syllables", {})

    def enc(v: str) -> str:
        out = names.get(v)
        if out is None:
            out = names[v] = "".join(table.setdefault(t, chr(0xE000 + len(table))) for t in v.split())
        return out

    return process.cpdist([enc(x) for x in va], [enc(x) for x in vb], scorer=fuzz.ratio, workers=workers) / 100.0


def token_subset(a: str, b: str) -> bool:
    """Whether the shorter of two token strings is the longer with tokens left out: each of its tokens
    is one of the longer's, or a single letter standing for one (an initial), at least two are whole
    words, and the longer has at least one token more or an initial spelled out. A middle name dropped
    or shortened (William Moore / William David Moore, Alexandra C. Evans / Alexandra Catherine Evans).

    >>> token_subset("moore william", "david moore william"), token_subset("c alexandra evans", "alexandra catherine evans")
    (True, True)
    >>> token_subset("david moore", "david moore william"), token_subset("moore william", "moore william")
    (True, False)
    >>> token_subset("john smith", "john paul smithson"), token_subset("anna", "anna maria")
    (False, False)
    """
    ta, tb = a.split(), b.split()
    short, long_ = (ta, tb) if len(ta) <= len(tb) else (tb, ta)
    rest = list(long_)
    whole = 0
    for t in sorted(short, key=len, reverse=True):  # whole words first, then initials
        if t in rest:
            rest.remove(t)
            whole += len(t) > 1
            continue
        hit = next((x for x in rest if len(t) == 1 and x.startswith(t)), None)
        if hit is None:
            return False
        rest.remove(hit)
    spelled_out = sum(len(t) == 1 for t in short) > sum(len(t) == 1 for t in long_)
    return whole >= 2 and (len(rest) > 0 or spelled_out)


def _token_shape(p: Pairs) -> tuple[np.ndarray, np.ndarray]:
    """Per code of ``name_tok``: the number of tokens, and whether one is a single letter (an initial)."""
    key = "token_shape"
    if key not in p.profiles.derived:
        v = pl.Series(p.profiles.vocab["name_tok"].astype(str))
        n = v.str.count_matches(" ").to_numpy() + 1
        init = v.str.contains(r"(?:^| )\w(?: |$)").to_numpy()
        p.profiles.derived[key] = (n, init)
    return p.profiles.derived[key]


def _pinyin_names(p: Pairs) -> np.ndarray:
    """Per code of ``name_tok``: whether the name reads as pinyin (a Chinese name in either script)."""
    from credgraph.resolution.normalise import reads_as_pinyin

    key = "pinyin_names"
    if key not in p.profiles.derived:
        p.profiles.derived[key] = np.array([reads_as_pinyin(str(v)) for v in p.profiles.vocab["name_tok"]], bool)
    return p.profiles.derived[key]


def person_name(p: Pairs) -> np.ndarray:
    """Person's name in any script (Chinese simplified, Latin without accents, either order).
    Levels: different; weakly similar (edit ratio >= 0.6; for names that are not Chinese also
    Jaro-Winkler >= 0.8 over the name's tokens); similar (edit ratio >= 0.75: a typo, a dropped
    character; not Chinese: Jaro-Winkler >= 0.92); the same tokens or characters in another order,
    a middle name left out or shortened to its initial (Jie Wang / Wang Jie, William Moore / William
    David Moore); the same sound (a homophone such as 章伟/张伟, a spelling variant with one metaphone
    code, 王杰 / Wang Jie across scripts, or an English nickname read as the given name it stands for:
    Bill Green / William Green, Howie Hughes / Howard Hughes, from the resolver's short table and the
    unambiguous nicknames of the public ``nicknames`` data set); identical (weighted by how rare the name is: 张伟 counts for much less than a rare name).
    Two Chinese names, in characters or pinyin, are compared by character or syllable: zhang / zhao
    are two surnames, however alike their letters."""
    lv = _levels(len(p))
    miss = p.missing("core")
    same = p.equal("core")
    homo = (p.equal("name_py") | p.equal("name_phon")) & ~same
    reord = (p.equal("name_tok") | p.equal("name_sorted")) & ~same & ~homo
    rest = ~(miss | same | homo | reord)
    ratio = p.similarity("core", rest)
    tokens = rest & (p.l("name_tok") != 0) & (p.r("name_tok") != 0)
    cn = _pinyin_names(p)
    chinese = tokens & cn[p.l("name_tok")] & cn[p.r("name_tok")]
    cache = p.profiles.derived.setdefault("syllable_symbols", {})
    syl = p.on_distinct("name_tok", lambda a, b: _syllable_ratio(a, b, cache, p.profiles.workers), chinese, fill=0.0)
    ratio = np.where(chinese, syl, ratio)  # letters of pinyin are not characters: HU Fang / LIN Huang
    tokens &= ~chinese
    jw = p.on_distinct("name_tok", lambda a, b: _name_similarity(a, b, p.profiles.workers), tokens, fill=0.0)
    shape = _token_shape(p)  # (token count, has an initial) per name: a subset needs one or the other to differ
    maybe = tokens & ((shape[0][p.l("name_tok")] != shape[0][p.r("name_tok")])
                      | shape[1][p.l("name_tok")] | shape[1][p.r("name_tok")])
    subset = p.on_distinct("name_tok", lambda a, b: [token_subset(x, y) for x, y in zip(a, b)], maybe,
                           dtype=np.int8, fill=0).astype(bool)
    lv[rest & ((jw >= 0.80) | (ratio >= 0.6))] = 1
    lv[rest & ((jw >= 0.92) | (ratio >= 0.75))] = 2
    lv[reord | subset] = 3
    lv[homo] = 4
    lv[same] = 5
    lv[miss] = -1
    return lv


def _osa_le1(a: str, b: str) -> bool:
    """Strings of one length that differ in one character or one swap of neighbours."""
    if len(a) != len(b):
        return False
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
                              and a[diff[1]] == b[diff[0]])


def _birth_level(a: str, b: str) -> int:
    if a == b:
        return 3
    if _osa_le1(a, b) or (a[:4] == b[:4] and a[4:6] == b[6:8] and a[6:8] == b[4:6]):
        return 2
    agree = (a[:4] == b[:4]) + (a[4:6] == b[4:6]) + (a[6:8] == b[6:8])
    return 1 if agree >= 2 else 0


def birth_date(p: Pairs) -> np.ndarray:
    """Date of birth (the record's own, or the one inside a full ID number).
    Levels: different; partial (two of year, month and day agree); near (one digit wrong, two
    neighbouring digits swapped, or day and month exchanged); identical."""
    lv = np.full(len(p), -1, dtype=np.int8)
    ok = ~p.missing("birth")
    lv[ok] = p.on_distinct("birth", lambda a, b: [_birth_level(x, y) for x, y in zip(a, b)], ok,
                           dtype=np.int8, fill=-1)[ok]
    return lv


def _ident_level(a: str, b: str) -> int:
    la = dict(x.split(":", 1) for x in a.split("|") if ":" in x)
    lb = dict(x.split(":", 1) for x in b.split("|") if ":" in x)
    common = set(la) & set(lb)
    if not common:
        return -1
    if any(la[s] == lb[s] for s in common):
        return 2
    if any(_osa_le1(la[s], lb[s]) for s in common):
        return 1
    return 0


def identifier(p: Pairs) -> np.ndarray:
    """Typed identifiers other than the PRC codes (passport, permits, foreign national or company
    numbers, ...), compared within one scheme. Levels: different; near (one character wrong or two
    neighbours swapped: a typing error); identical. No common scheme is no evidence."""
    lv = np.full(len(p), -1, dtype=np.int8)
    ok = ~p.missing("ident")
    lv[ok] = p.on_distinct("ident", lambda a, b: [_ident_level(x, y) for x, y in zip(a, b)], ok,
                           dtype=np.int8, fill=-1)[ok]
    return lv


def _latin_levels(p: Pairs) -> tuple[np.ndarray, np.ndarray]:
    """Per pair: whether both addresses are Latin-script addresses with parts (``addr_latin``), and then
    :func:`~credgraph.resolution.latin_address.latin_level` of them (person levels, -1..5), computed once
    per distinct pair of addresses."""
    from credgraph.resolution.latin_address import LatinTable

    lv = np.full(len(p), -1, dtype=np.int8)
    if "addr_latin" not in p.profiles.codes:
        return np.zeros(len(p), dtype=bool), lv
    both = ~p.missing("addr_latin")
    idx = np.flatnonzero(both)
    if len(idx):
        if "latin_table" not in p.profiles.derived:
            p.profiles.derived["latin_table"] = LatinTable(p.profiles.vocab["addr_latin"])
        a = p.l("addr_latin")[idx].astype(np.int64)
        b = p.r("addr_latin")[idx].astype(np.int64)
        uniq, inv = np.unique((a << 32) | b, return_inverse=True)
        levels = p.profiles.derived["latin_table"].levels(uniq >> 32, uniq & 0xFFFFFFFF, p.profiles.workers)
        lv[idx] = levels[inv]
    return both, lv


def person_address(p: Pairs) -> np.ndarray:
    """Address, split into parts and compared by the deepest part both agree on. Chinese: district,
    road, number and building (a 街道 or 社区 one side leaves out counts neither way). Latin script:
    house number, street (Street / St / Strasse one type, the number before or after it), unit,
    city, state, postcode (one typo allowed) and country; a building name or unit one side adds counts
    neither way, a place that differs (postcodes, states or countries, with neither city nor postcode
    agreeing) makes the addresses different; a town's name alone that differs leaves the same door at
    "same road". Levels: different; same postcode or district (only the place agrees); similar text
    (edit ratio >= 0.8; Latin: two addresses that give only a town, the same one); same road; same road
    and number (Latin: also a street one typo apart, or two flats of one house); identical (Latin: same
    house number and street)."""
    lv = _levels(len(p))
    miss = p.missing("addr_text")
    area = p.equal("postcode") | p.equal("addr_district")
    same = p.equal("addr_key") | p.equal("addr_text")
    road = p.equal("addr_road")
    num = road & p.equal("addr_number")
    rest = ~(miss | same | num)
    sim = p.similarity("addr_text", rest) >= 0.8
    lv[area] = 1
    lv[sim] = 2
    lv[road] = 3
    lv[num] = 4
    lv[same] = 5
    lv[p.differ("addr_district") & ~p.equal("addr_text")] = np.minimum(lv[p.differ("addr_district") & ~p.equal("addr_text")], 0)
    latin, llv = _latin_levels(p)
    lv[latin] = llv[latin]
    lv[miss] = -1
    return lv


def email(p: Pairs) -> np.ndarray:
    """E-mail address, lower-cased. Levels: different; identical."""
    lv = _levels(len(p))
    lv[p.equal("email_n")] = 1
    lv[p.missing("email_n")] = -1
    return lv


def region(p: Pairs) -> np.ndarray:
    """Region of the company name (province / city / district, from the prefix or the brackets).
    Levels: conflicting (深圳 vs 广州); compatible at different precision (深圳 vs 南山, a district
    of 深圳); identical. A region missing on one side is no evidence."""
    lv = _levels(len(p))
    miss = p.missing("region")
    same = p.equal("region")
    diff = ~miss & ~same
    compat = p.on_distinct("region", lambda a, b: [region_compatible(x, y) for x, y in zip(a, b)], diff,
                           dtype=np.int8, fill=0).astype(bool)
    lv[diff & compat] = 1
    lv[same] = 2
    lv[miss] = -1
    return lv


#: Forms that say only "a company" (公司; Co, Company in Latin script): compatible with any specific form.
_GENERIC_FORMS = {"公司", "CO"}


def form(p: Pairs) -> np.ndarray:
    """Organisational form after canonicalisation (有限责任公司 = 有限公司).
    Levels: different (有限公司 vs 股份有限公司); compatible (a bare 公司 vs a specific form); identical."""
    lv = _levels(len(p))
    miss = p.missing("form")
    same = p.equal("form")
    diff = ~miss & ~same
    generic = p.on_distinct("form", lambda a, b: [x in _GENERIC_FORMS or y in _GENERIC_FORMS for x, y in zip(a, b)],
                            diff, dtype=np.int8, fill=0).astype(bool)
    lv[diff & generic] = 1
    lv[same] = 2
    lv[miss] = -1
    return lv


def legal_identifier(p: Pairs) -> np.ndarray:
    """Registration identifiers: USCC, the organisation code inside it, the 15-digit registration number.
    Levels: different (two valid identifiers of one kind that differ: a hard non-match); the same
    organisation code or registration number."""
    lv = np.full(len(p), -1, dtype=np.int8)
    for col in ("reg_v", "org_v", "uscc_v"):
        lv[p.equal(col)] = 1
    for col in ("reg_v", "org_v", "uscc_v"):
        lv[p.differ(col)] = 0
    return lv


def address(p: Pairs) -> np.ndarray:
    """Address, parsed into division (province / city / district, from the official list), street (街道),
    community (社区), road, number and building, and compared by the deepest level on which both agree;
    a level one side leaves out (a 街道 or 社区 segment, the district) counts neither way, two districts
    that differ mean different places. A Latin-script address is compared by its parts as for persons
    (number, street, unit, city, postcode). Levels: different; same road; same road and number; identical
    (building included; Latin: same house number and street)."""
    lv = _levels(len(p))
    miss = p.missing("addr_text")
    road = p.equal("addr_road")
    num = road & p.equal("addr_number")
    same = p.equal("addr_key") | p.equal("addr_text")
    lv[road] = 1
    lv[num] = 2
    lv[same] = 3
    lv[p.differ("addr_district") & ~p.equal("addr_text")] = 0
    # Latin script: the person levels of the parts, folded onto these (a place alone is no evidence here).
    latin, llv = _latin_levels(p)
    lv[latin] = np.array([0, 0, 0, 0, 1, 2, 3], dtype=np.int8)[llv[latin] + 1]
    lv[latin & (llv == -1)] = -1
    lv[miss] = -1
    return lv


def phone(p: Pairs) -> np.ndarray:
    """Phone number without country and area code. Levels: different; identical."""
    lv = _levels(len(p))
    lv[p.equal("phone_n")] = 1
    lv[p.missing("phone_n")] = -1
    return lv


def id_number(p: Pairs) -> np.ndarray:
    """Resident ID number (legacy 15-digit numbers converted to 18 digits; masked numbers such as
    440301********123X compared on their visible digits). Levels: incompatible (a hard non-match);
    compatible (every visible digit agrees); identical."""
    lv = np.full(len(p), -1, dtype=np.int8)
    lf, rf = p.l("id_full"), p.r("id_full")
    lm, rm = p.l("id_masked"), p.r("id_masked")
    both_full = (lf != 0) & (rf != 0)
    lv[both_full & (lf == rf)] = 2
    lv[both_full & (lf != rf)] = 0
    # Masked on at least one side: compare on the visible digits, once per distinct pair of values.
    lval = np.where(lf != 0, 0, 1)  # 0: left uses its full id, 1: its masked one
    rval = np.where(rf != 0, 0, 1)
    has_l = (lf != 0) | (lm != 0)
    has_r = (rf != 0) | (rm != 0)
    masked = has_l & has_r & ~both_full
    if masked.any():
        vf, vm = p.profiles.vocab["id_full"], p.profiles.vocab["id_masked"]
        idx = np.flatnonzero(masked)
        a = np.where(lval[idx] == 0, vf[lf[idx]], vm[lm[idx]])
        b = np.where(rval[idx] == 0, vf[rf[idx]], vm[rm[idx]])
        lv[idx] = np.where(_masked_compatible(a, b), 1, 0)
    return lv


def one_typo_apart(a: str, b: str) -> bool:
    """Whether two ID numbers of one length differ by one substituted character or by two swapped
    neighbours, with the birth-date digits (positions 7-14 of a resident ID) the same on both.

    >>> one_typo_apart("440305198503121234", "440305198503122134"), one_typo_apart("440305198503121234", "440305198503121284")
    (True, True)
    >>> one_typo_apart("440305198503121234", "440305198503121234"), one_typo_apart("440305198503121234", "440305198603121234")
    (False, False)
    """
    return typo_place(a, b) == 2


def typo_place(a: str, b: str) -> int:
    """Where two ID numbers of one length are one typo (a substituted character, or two swapped
    neighbours) apart: 2 outside the birth-date digits (positions 7-14), 1 inside them, 0 when they
    are equal or further apart.

    >>> typo_place("440305198503121234", "440305198503122134"), typo_place("440305198503121234", "440305198603121234")
    (2, 1)
    >>> typo_place("440305198503121234", "440305198530121234"), typo_place("440305198503121234", "440305198603121233")
    (1, 0)
    """
    if len(a) != len(b) or a == b:
        return 0
    diff = [i for i, (x, y) in enumerate(zip(a, b)) if x != y]
    one = len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
                             and a[diff[1]] == b[diff[0]])
    if not one:
        return 0
    return 1 if a[6:14] != b[6:14] else 2


def unchecked_id(p: Pairs) -> np.ndarray:
    """An ID number that failed its check (set aside by the loader as a likely typo) against the other
    record's ID number, full or unchecked: strong evidence, never an identifier (it merges nothing by
    itself and is no conflict). Levels: different; one typo apart in the birth date; one typo apart
    elsewhere (one mistyped digit or two swapped neighbours, the birth date the same); identical."""
    lv = np.full(len(p), -1, dtype=np.int8)
    lu, ru = p.l("id_unchecked"), p.r("id_unchecked")
    lf, rf = p.l("id_full"), p.r("id_full")
    # Compare on one column: a side's unchecked number, else its full one.
    idx = np.flatnonzero(((lu != 0) | (ru != 0)) & ((lu != 0) | (lf != 0)) & ((ru != 0) | (rf != 0)))
    if not len(idx):
        return lv
    vu, vf = p.profiles.vocab["id_unchecked"], p.profiles.vocab["id_full"]
    a = np.where(lu[idx] != 0, vu[lu[idx]], vf[lf[idx]]).astype(str)
    b = np.where(ru[idx] != 0, vu[ru[idx]], vf[rf[idx]]).astype(str)
    key = np.char.add(a, np.char.add("|", b))
    uniq, inv = np.unique(key, return_inverse=True)
    codes = np.array([3 if x == y else typo_place(x, y) for x, y in (u.split("|") for u in uniq)], dtype=np.int8)
    lv[idx] = codes[inv]
    return lv


def _masked_compatible(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """:func:`credgraph.identifiers.masked_id_compatible` over aligned arrays, once per distinct pair."""
    key = np.char.add(a.astype(str), np.char.add("|", b.astype(str)))
    uniq, inv = np.unique(key, return_inverse=True)
    ok = np.array([masked_id_compatible(*u.split("|")) for u in uniq], dtype=bool)
    return ok[inv]
    return lv


def company(p: Pairs) -> np.ndarray:
    """The company the record links the person to (as legal representative, shareholder, officer),
    after companies were resolved. Levels: different companies; the same company."""
    lv = _levels(len(p))
    lv[p.equal("company")] = 1
    lv[p.missing("company")] = -1
    return lv


# ------------------------------------------------------------------------ hard rules
def different_identifier(p: Pairs) -> np.ndarray:
    """Two different valid identifiers of the same kind (USCC, organisation code, registration number):
    two registered entities, never merged."""
    return p.differ("uscc_v") | p.differ("org_v") | p.differ("reg_v")


def branch_differs(p: Pairs) -> np.ndarray:
    """A branch (分公司, 分行, 支行, ...) is a registered entity distinct from its parent and from
    other branches: names whose branch part differs are never merged."""
    a, b = p.l("branch"), p.r("branch")
    named = (p.l("core") != 0) & (p.r("core") != 0)
    return named & (a != b)


def region_conflict(p: Pairs) -> np.ndarray:
    """Regions that cannot both be right (深圳 vs 广州): company names are unique only within a
    registration region, so the same core in two regions names two companies."""
    return p.memo(region) == 0


def latin_name_alone(p: Pairs) -> np.ndarray:
    """Two firms named in Latin script are never merged on their names alone: unlike a Chinese firm
    name, unique within its registration region, one Latin name is carried by unrelated firms in
    many countries (and "X Singapore" may be X's own subsidiary). They merge automatically only with
    an address (the same road at least), a phone or a registration identifier in common; else a reviewer decides."""
    both = _latin_pairs(p)
    backed = (p.memo(address) >= 1) | (p.memo(phone) == 1) | (p.memo(legal_identifier) == 1)
    return both & ~backed


def same_brand_other_industry(p: Pairs) -> np.ndarray:
    """Same brand (字号) in a different industry (腾讯计算机系统 vs 腾讯科技): possibly related companies
    of one group, never the same entity."""
    return p.equal("brand") & p.differ("industry") & p.differ("core")


def firm_name_differs(p: Pairs) -> np.ndarray:
    """Two firms whose names are altogether different (not similar, transposed or a homophone) are
    merged automatically only on a shared registration code: many firms share an address, a phone or
    an agent (shell companies cluster at one address), so such fields alone send the pair to review."""
    return (p.memo(core_name) == 0) & (p.memo(legal_identifier) != 1)


def id_conflict(p: Pairs) -> np.ndarray:
    """Two different full ID numbers, or a masked number whose visible digits disagree: two people."""
    return p.memo(id_number) == 0


def generation_differs(p: Pairs) -> np.ndarray:
    """Two different generational suffixes (Sr / Jr, I / II, II / III: :mod:`.generation`): a father and
    his son, never one person. A suffix on one side only is no evidence; the suffix is not part of the
    name (Geoffrey Brown Jr / Geoffrey Brown compare as one name)."""
    if "name_gen" not in p.profiles.codes:
        return np.zeros(len(p), dtype=bool)
    return p.differ("name_gen")


def given_names_conflict(a: str, b: str) -> bool:
    """Two Latin names (normalised tokens) that share a word while every other word of one is unlike
    every other word of the other: Magdalena Smith / Beau Smith is a family, not a typo. An initial
    fits a word it begins (B Smith / Bob Smith); words alike by Jaro-Winkler >= 0.85 are one word
    misspelt (Sahra / Sarah).

    >>> given_names_conflict("magdalena smith", "beau smith"), given_names_conflict("b smith", "bob smith")
    (True, False)
    >>> given_names_conflict("sahra thompson", "sarah thompson"), given_names_conflict("anna smith", "anna jones")
    (False, True)
    """
    from rapidfuzz.distance import JaroWinkler

    ta, tb = set(a.split()), set(b.split())
    common = ta & tb
    ra, rb = ta - common, tb - common
    if not common or not ra or not rb:
        return False
    for x in ra:
        for y in rb:
            if x[0] == y[0] and min(len(x), len(y)) == 1:
                return False
            if JaroWinkler.similarity(x, y) >= 0.85:
                return False
    return True


def given_conflict(p: Pairs) -> np.ndarray:
    """Latin-script names no more than similar that share a word, every other word differing
    (:func:`given_names_conflict`): a household's names, for :func:`no_strong_context`.
    Chinese names are not judged this way (a one-character given name mistyped by shape is still one
    person)."""
    lv = p.memo(person_name)
    mask = (lv >= 0) & (lv <= 2) & (p.l("name_tok") != 0) & (p.r("name_tok") != 0)
    cn = _pinyin_names(p)
    mask &= ~cn[p.l("name_tok")] & ~cn[p.r("name_tok")]
    return p.on_distinct("name_tok", lambda a, b: [given_names_conflict(str(x), str(y)) for x, y in zip(a, b)],
                         mask, dtype=np.int8, fill=0).astype(bool)


def _renamed_person(p: Pairs) -> np.ndarray:
    """What lets two altogether different names be one person (see :func:`no_strong_context`)."""
    ident, born = p.memo(identifier), p.memo(birth_date) == 3
    own = (ident >= 1) | born
    fields = (ident >= 1).astype(np.int8) + born + (p.memo(phone) == 1) + (p.memo(email) == 1)
    return (ident == 2) | (own & (fields >= 2))


def no_strong_context(p: Pairs) -> np.ndarray:
    """A name alone never merges two people. A person is merged automatically only on an ID number
    (full or legacy; a compatible masked one with a name not altogether different), or on a name that
    is at least weakly similar plus one corroborating field (phone, e-mail, a similar street address, a
    birth date or another identifier at most one typo apart, an ID number that failed its check one typo
    from the other's), or on two corroborating fields. The same
    company corroborates only the same name (in any order, script or homophone): a firm's few people
    often share a surname or a character (王燕 and 王晓燕 at one firm may be sisters), so a name merely
    similar there needs one more field, or a reviewer. Two names altogether different (张伟 / 李娜, John /
    Patrick Smith) merge only on an ID number, an identical passport or other identifier, or two of
    {the same full birth date, an identifier at most one typo apart, the same phone, the same e-mail}
    of which one is the birth date or the identifier: one household shares its address, phone and
    e-mail, and twins their birth date and address, so these fields never outweigh the name on their
    own (a renamed or badly keyed person keeps his identifiers, or his birth date with his own
    identifier, phone or e-mail; without them, a reviewer decides). Latin names that share the family
    name while the given names are unlike (Magdalena / Beau Smith) are a household too: they merge as
    different names do, or, when the names are still weakly similar as wholes, on the same full birth
    date at the same house (a given name miskeyed; twins are the risk taken)."""
    household = given_conflict(p)  # one shared family name, the given names unlike
    name = np.where(household, 0, p.memo(person_name))
    household &= p.memo(person_name) >= 1  # names the comparison still finds alike
    idl = p.memo(id_number)
    # A masked number fits many people (only region and last digits show): it needs a name that is not
    # altogether different (罗波 / 何斌 with 430124********8076 are two people).
    ids = (idl == 2) | ((idl == 1) & (name != 0))
    firm = p.memo(company) == 1
    ctx = ((p.memo(phone) == 1).astype(np.int8) + (p.memo(email) == 1)
           + (p.memo(person_address) >= 2) + (p.memo(birth_date) >= 2) + (p.memo(identifier) >= 1)
           + (p.memo(unchecked_id) >= 1))
    # name -1: one side has no name (a record named by its phone or e-mail only)
    ok = (ids | ((name >= 1) & (ctx >= 1)) | ((name >= 3) & firm) | ((name != 0) & (ctx + firm >= 2))
          | ((name == 0) & _renamed_person(p))
          | (household & (p.memo(birth_date) == 3) & (p.memo(person_address) >= 4)))
    return ~ok


LEGAL_COMPARISONS: tuple[Comparison, ...] = (
    Comparison("name", ("different", "similar", "transposed", "homophone", "identical"), core_name, "core"),
    Comparison("region", ("conflict", "compatible", "identical"), region),
    Comparison("form", ("different", "compatible", "identical"), form),
    Comparison("identifier", ("different", "identical"), legal_identifier, value_columns=("org_v", "reg_v")),
    Comparison("address", ("different", "same road", "same road and number", "identical"), address),
    Comparison("phone", ("different", "identical"), phone, value_columns=("phone_n",)),
)

NATURAL_COMPARISONS: tuple[Comparison, ...] = (
    Comparison("name", ("different", "weakly similar", "similar", "reordered", "same sound", "identical"),
               person_name, "core"),
    Comparison("id_number", ("incompatible", "compatible", "identical"), id_number, value_columns=("id_full",)),
    Comparison("birth_date", ("different", "partial", "near", "identical"), birth_date, value_columns=("birth",)),
    Comparison("unchecked_id", ("different", "one typo in the birth date", "one typo apart", "identical"),
               unchecked_id, value_columns=("id_unchecked", "id_full")),
    Comparison("identifier", ("different", "near", "identical"), identifier, value_columns=("ident",)),
    Comparison("company", ("different", "same company"), company),
    Comparison("address", ("different", "same postcode or district", "similar", "same road",
                           "same road and number", "identical"), person_address),
    Comparison("phone", ("different", "identical"), phone, value_columns=("phone_n",)),
    Comparison("email", ("different", "identical"), email, value_columns=("email_n",)),
)

LEGAL_RULES: tuple[Rule, ...] = (
    Rule("different_identifier", different_identifier),
    Rule("branch_differs", branch_differs),
    Rule("region_conflict", region_conflict),
    Rule("same_brand_other_industry", same_brand_other_industry, "related"),
    Rule("firm_name_differs", firm_name_differs, "no_auto"),
    Rule("latin_name_alone", latin_name_alone, "no_auto"),
)

NATURAL_RULES: tuple[Rule, ...] = (
    Rule("id_conflict", id_conflict),
    Rule("generation_differs", generation_differs),
    Rule("no_strong_context", no_strong_context, "no_auto"),
)


def comparisons_for(type_: str) -> tuple[Comparison, ...]:
    return LEGAL_COMPARISONS if type_ == "legal" else NATURAL_COMPARISONS


def rules_for(type_: str) -> tuple[Rule, ...]:
    return LEGAL_RULES if type_ == "legal" else NATURAL_RULES
