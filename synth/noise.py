"""How a clean party becomes what a source file actually says about it.

For each catalog row the generator knows the true entity; :func:`render_party` writes its
name and identifiers the way the source would, with the noise real government files
carry, and returns per row a bitmask of what it did (:data:`NOISE_TAGS`), which ends up in
``truth/mentions.parquet``. A tag is set only when the text really changed.

Realistic person-name noise, off unless ``generate --name-noise`` asks for it: a character
mistaken for one of similar shape (``shape_char``: 王 → 玉), a dropped character (``dropped_char``,
names of three or more characters), the name romanised in pinyin in either order (``romanised``:
Zhang Weiming, ZHANG Weiming, Weiming Zhang).

Name noise (legal persons): region dropped (``missing_region``) or moved into brackets
(``bracket_region``: 华强电子(深圳)有限公司), 有限公司 ↔ 有限责任公司 (``form_variant``), a
homophone typo in the brand (``homophone``: 华强 → 化强), full-width brackets and letters
(``fullwidth``), traditional characters (``traditional``, OpenCC s2t). Person names get
homophones and traditional characters. Identifier noise: ``missing_id``, ``legacy_id``
(15-digit ID, or the organisation code / registration number instead of the USCC),
``masked_id`` (public lists), ``transposed`` (two adjacent characters swapped, so the
check character fails and the loader must quarantine the row). ``duplicate`` marks a row
repeated within the catalog.

>>> t = NoiseText("gbk")
>>> t.fullwidth("华强电子(深圳)有限公司")
'华强电子（深圳）有限公司'
>>> t.traditional("深圳市华强电子有限公司")
'深圳市華強電子有限公司'
>>> tags_string(bit("traditional") | bit("duplicate"))
'traditional,duplicate'
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable

import numpy as np
import opencc

from credgraph.identifiers import id_is_valid, mask_id, uscc_is_valid
from credgraph.synth.foreign import ENGLISH_SPEAKING, NATIONALITIES, LATIN_NOISE_KINDS, canonical_latin, latin_names, latin_variant, strip_accents
from credgraph.synth.ids import transpose_code
from credgraph.synth.words import load_words

__all__ = ["NOISE_TAGS", "bit", "tags_string", "tags_strings", "NoiseText", "Party", "render_party", "RateFn"]

NOISE_TAGS = (
    "traditional", "fullwidth", "bracket_region", "missing_region", "form_variant", "homophone",
    "missing_id", "transposed", "legacy_id", "masked_id", "duplicate",
    # Realistic person-name noise (``generate --name-noise``; off by default).
    "shape_char", "dropped_char", "romanised",
    # Latin names of foreign nationals under ``generate --name-noise`` (see synth/foreign.py).
    *LATIN_NOISE_KINDS,
)

#: Noise kinds that are off by default: they draw no random numbers unless asked for.
_OPTIONAL = frozenset({"shape_char", "dropped_char", "romanised", *LATIN_NOISE_KINDS})

#: Characters commonly mistaken for one another by shape (形近字) in person names.
SHAPE_SIMILAR: dict[str, str] = {
    "王": "玉", "玉": "王", "杨": "扬", "扬": "杨", "陈": "阵", "候": "侯", "侯": "候", "己": "已", "已": "己",
    "未": "末", "末": "未", "土": "士", "士": "土", "日": "曰", "天": "夫", "夫": "天", "千": "干", "干": "千",
    "白": "自", "晴": "睛", "睛": "晴", "休": "体", "人": "入", "大": "太", "太": "大", "李": "季", "季": "李",
    "丽": "俪", "明": "朋", "朋": "明", "建": "健", "健": "建", "辉": "晖", "晖": "辉", "斌": "彬", "彬": "斌",
    "峰": "锋", "锋": "峰", "玲": "铃", "铃": "玲", "静": "净", "红": "虹", "洪": "鸿", "军": "车", "林": "材",
    "春": "椿", "海": "梅", "梅": "海", "芳": "方", "方": "芳", "华": "桦", "伟": "玮", "玮": "伟", "敏": "繁",
}
NATIONALITY_NAMES = {k: v[1] for k, v in NATIONALITIES.items()}
_BIT = {t: 1 << i for i, t in enumerate(NOISE_TAGS)}

RateFn = Callable[[str], float]


def bit(tag: str) -> int:
    """The bit of one noise tag."""
    return _BIT[tag]


def tags_string(mask: int, names: tuple[str, ...] = NOISE_TAGS) -> str:
    """Comma-separated tags of a bitmask, in the fixed order of ``names``."""
    return ",".join(t for i, t in enumerate(names) if mask >> i & 1)


def tags_strings(masks: np.ndarray, names: tuple[str, ...] = NOISE_TAGS) -> np.ndarray:
    """Vectorised :func:`tags_string`: few distinct masks, so map through their strings."""
    uniq, inv = np.unique(masks, return_inverse=True)
    table = np.array([tags_string(int(m), names) for m in uniq], dtype=object)
    return table[inv.reshape(-1)] if len(masks) else np.array([], dtype=object)


_FULLWIDTH = str.maketrans(
    {"(": "（", ")": "）"}
    | {chr(0x30 + i): chr(0xFF10 + i) for i in range(10)}
    | {chr(0x41 + i): chr(0xFF21 + i) for i in range(26)}
)


class NoiseText:
    """Text conversions with per-string caches (names repeat across rows and catalogs)."""

    def __init__(self, encoding: str | None):
        self.encoding = encoding or "utf-8"
        self._s2t = _converter("s2t")
        self._t2s = _converter("t2s")
        self._trad: dict[str, str | None] = {}

    def fullwidth(self, s: str) -> str:
        return s.translate(_FULLWIDTH)

    def traditional(self, s: str) -> str | None:
        """Traditional form of ``s``, or None when it would not change, not convert back
        exactly (OpenCC t2s), or not fit the catalog's encoding."""
        if s in self._trad:
            return self._trad[s]
        t = self._s2t.convert(s)
        ok = t != s and self._t2s.convert(t) == s
        if ok:
            try:
                t.encode(self.encoding)
            except UnicodeEncodeError:
                ok = False
        self._trad[s] = t if ok else None
        return self._trad[s]


@functools.lru_cache(maxsize=2)
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


@dataclass(frozen=True)
class Party:
    """Where a catalog writes one party (subject or object): its source column names."""

    name: str
    uscc: str | None = None
    org_code: str | None = None
    reg_no: str | None = None
    id_number: str | None = None
    type: str | None = None
    #: type column labels: key "natural" or a legal class 1-4 (see vocab.CATEGORIES)
    labels: tuple[tuple[object, str], ...] = ()
    address: str | None = None
    phone: str | None = None
    #: registration files show an old firm's registration number on every row
    reg_no_always: bool = False
    #: foreign nationals' passport number and nationality (Chinese country name, 中国 for PRC residents)
    passport: str | None = None
    nationality: str | None = None

    def columns(self) -> dict[str, str]:
        """Standard party field -> source column, for the spec."""
        out = {}
        for f in ("name", "uscc", "org_code", "reg_no", "id_number", "type", "address", "phone", "nationality"):
            col = getattr(self, f)
            if col:
                out[f] = col
        return out

    def identifiers(self) -> dict[str, str]:
        """Typed identifier scheme -> source column, for the spec's ``[identifiers]`` table."""
        return {"passport": self.passport} if self.passport else {}


class _Tables:
    """Per-world lookups the noise needs, computed once."""

    def __init__(self, world):
        homo = load_words().homophones
        self.homo = homo
        self.brand_ok = np.array([any(c in homo for c in b) for b in world.brand], bool)
        self.given_ok = np.array([any(c in homo for c in g) for g in world.given], bool)
        self.can_bracket = (world.region == "深圳市") & np.isin(world.form, ("有限公司", "股份有限公司"))
        self.has_region = (world.region != "") | (world.bracket != "")
        self.form_ok = world.form == "有限公司"


def tables(world) -> _Tables:
    t = getattr(world, "_noise_tables", None)
    if t is None:
        t = _Tables(world)
        world._noise_tables = t
    return t


def _swap_char(rng, s: str, homo: dict) -> str:
    pos = [i for i, c in enumerate(s) if c in homo]
    i = pos[rng.integers(0, len(pos))]
    opts = homo[s[i]]
    return s[:i] + opts[rng.integers(0, len(opts))] + s[i + 1 :]


def _romanise(surname: str, given: str, rng: np.random.Generator) -> str:
    """A Chinese name in pinyin as foreign documents write it: Zhang Weiming, ZHANG Weiming or
    Weiming Zhang (given name first)."""
    from pypinyin import lazy_pinyin

    sur = "".join(lazy_pinyin(surname)).capitalize()
    giv = "".join(lazy_pinyin(given)).capitalize()
    form = int(rng.integers(0, 3))
    if form == 0:
        return f"{sur} {giv}"
    if form == 1:
        return f"{sur.upper()} {giv}"
    return f"{giv} {sur}"


def render_party(world, ents: np.ndarray, party: Party, rate: RateFn, rng: np.random.Generator,
                 text: NoiseText) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Source columns for one party of each row (``ents`` = entity index or -1), and noise bits.

    ``rate(kind)`` gives the probability of each noise kind for this catalog and role.
    """
    n = len(ents)
    L = world.n_legal
    tb = tables(world)
    present = ents >= 0
    legal = present & (ents < L)
    natural = present & (ents >= L)
    le = np.where(legal, ents, 0)
    pe = np.where(natural, ents - L, 0)
    fo = natural & world.foreign[pe] if world.foreign is not None else np.zeros(n, bool)
    cn = natural & ~fo  # PRC residents: Chinese names and resident IDs
    base = world.base[le]
    bits = np.zeros(n, dtype=np.int64)

    def draw(kind: str, mask: np.ndarray) -> np.ndarray:
        if kind in _OPTIONAL and rate(kind) <= 0:  # off: no random draws, the city stays byte for byte
            return np.zeros(n, dtype=bool)
        hit = mask & (rng.random(n) < rate(kind))
        bits[hit] |= _BIT[kind]
        return hit

    names = np.full(n, None, dtype=object)
    names[present] = world.names[ents[present]]
    # ---- legal names: rebuild from components where a component changes
    mr = draw("missing_region", legal & tb.has_region[base])
    br = draw("bracket_region", legal & tb.can_bracket[base] & ~mr)
    fv = draw("form_variant", legal & tb.form_ok[base])
    ho = draw("homophone", legal & tb.brand_ok[base])
    for i in np.flatnonzero(mr | br | fv | ho):
        b = base[i]
        region, bracket = world.region[b], world.bracket[b]
        brand, form = world.brand[b], world.form[b]
        if mr[i]:
            region, bracket = "", ""
        if br[i]:
            region, bracket = "", "深圳"
        if fv[i]:
            form = "有限责任公司"
        if ho[i]:
            brand = _swap_char(rng, brand, tb.homo)
        names[i] = (f"{region}{brand}{world.mid[b]}{'(' + bracket + ')' if bracket else ''}"
                    f"{form}{world.suffix[le[i]]}")
    # ---- person names: a homophone in the given name (张伟 -> 张玮)
    ph = draw("homophone", cn & tb.given_ok[pe])
    for i in np.flatnonzero(ph):
        names[i] = world.surname[pe[i]] + _swap_char(rng, world.given[pe[i]], tb.homo)
    # ---- realistic person-name noise: a similar-shape character, a dropped character (names of 3+
    # characters), the name romanised in pinyin in either order (Zhang Wei / WEI ZHANG)
    sh = draw("shape_char", cn)
    for i in np.flatnonzero(sh):
        nm = names[i]
        pos = [k for k, c in enumerate(nm) if c in SHAPE_SIMILAR]
        if not pos:
            bits[i] &= ~_BIT["shape_char"]
            continue
        k = pos[rng.integers(0, len(pos))]
        names[i] = nm[:k] + SHAPE_SIMILAR[nm[k]] + nm[k + 1:]
    dc = draw("dropped_char", cn)
    for i in np.flatnonzero(dc):
        nm = names[i]
        if len(nm) < 3:
            bits[i] &= ~_BIT["dropped_char"]
            continue
        k = 1 + int(rng.integers(0, len(nm) - 1))  # never the surname's first character
        names[i] = nm[:k] + nm[k + 1:]
    ro = draw("romanised", cn)
    for i in np.flatnonzero(ro):
        names[i] = _romanise(world.surname[pe[i]], names[i][len(world.surname[pe[i]]):]
                             if names[i].startswith(world.surname[pe[i]]) else world.given[pe[i]], rng)
    # ---- foreign nationals' Latin names as filings vary them (nickname, family name first, capitals,
    # middle name dropped or an initial, accents stripped); a tag only where the text changes
    lat = {k: draw(k, fo) for k in LATIN_NOISE_KINDS}
    any_lat = np.zeros(n, bool)
    for k in LATIN_NOISE_KINDS:
        any_lat |= lat[k]
    nicks = latin_names().nicknames
    for i in np.flatnonzero(any_lat):
        p = pe[i]
        g, m, f = world.lat_given[p], world.lat_middle[p], world.lat_family[p]
        kinds = [k for k in LATIN_NOISE_KINDS if lat[k][i]]
        canon = canonical_latin(g, m, f)
        if "nickname" in kinds and (g not in nicks or world.nationality[p] not in ENGLISH_SPEAKING):
            kinds.remove("nickname")
        if "dropped_middle" in kinds and not m:
            kinds.remove("dropped_middle")
        if "accents_stripped" in kinds and strip_accents(canon) == canon:
            kinds.remove("accents_stripped")
        for k in LATIN_NOISE_KINDS:
            if lat[k][i] and k not in kinds:
                bits[i] &= ~_BIT[k]
        names[i] = latin_variant(g, m, f, kinds, rng)
    # ---- full-width brackets/letters, then traditional characters (only if it changes the text)
    fw = draw("fullwidth", present & ~ro)
    for i in np.flatnonzero(fw):
        s = text.fullwidth(names[i])
        if s == names[i]:
            bits[i] &= ~_BIT["fullwidth"]
        names[i] = s
    tr = draw("traditional", present)
    for i in np.flatnonzero(tr):
        s = text.traditional(names[i])
        if s is None:
            bits[i] &= ~_BIT["traditional"]
        else:
            names[i] = s
    # ---- a catalog whose encoding lacks a letter (GBK has é and ü but not ô, ö, ç, ñ) writes it unaccented
    for i in np.flatnonzero(fo):
        try:
            names[i].encode(text.encoding)
        except UnicodeEncodeError:
            names[i] = strip_accents(names[i])
            bits[i] |= _BIT["accents_stripped"]
    cols: dict[str, np.ndarray] = {party.name: names}

    # ---- legal identifiers
    legal_ids = bool(party.uscc or party.org_code or party.reg_no)
    miss_l = draw("missing_id", legal) if legal_ids else np.zeros(n, bool)
    can_legacy = legal & world.old[le] & ~miss_l
    if party.reg_no and not party.org_code:
        can_legacy &= world.reg_no[le] != ""
    leg_l = draw("legacy_id", can_legacy) if (party.org_code or party.reg_no) and party.uscc else np.zeros(n, bool)
    if party.uscc:
        u = np.full(n, None, dtype=object)
        show = legal & ~miss_l & ~leg_l
        u[show] = world.uscc[le[show]]
        for i in np.flatnonzero(draw("transposed", show)):
            u[i] = transpose_code(rng, u[i], uscc_is_valid)
        cols[party.uscc] = u
    use_reg = np.zeros(n, bool)
    if party.reg_no:
        has = world.reg_no[le] != ""
        use_reg = leg_l & has & (np.ones(n, bool) if not party.org_code else rng.random(n) < 0.5)
        r = np.full(n, None, dtype=object)
        shown = (legal & ~miss_l & has) if party.reg_no_always else use_reg
        r[shown] = world.reg_no[le[shown]]
        cols[party.reg_no] = r
    if party.org_code:
        o = np.full(n, None, dtype=object)
        m = leg_l & ~use_reg
        o[m] = world.org_code[le[m]]
        cols[party.org_code] = o

    # ---- person identifiers
    if party.id_number:
        miss_n = draw("missing_id", natural)
        masked = draw("masked_id", cn & ~miss_n)
        leg_n = draw("legacy_id", natural & ~miss_n & ~masked & (world.id15[pe] != ""))
        full = cn & ~miss_n & ~masked & ~leg_n
        v = np.full(n, None, dtype=object)
        v[full] = world.id18[pe[full]]
        v[leg_n] = world.id15[pe[leg_n]]
        v[masked] = [mask_id(x) for x in world.id18[pe[masked]]]
        for i in np.flatnonzero(draw("transposed", full)):
            v[i] = transpose_code(rng, v[i], id_is_valid)
        cols[party.id_number] = v
    if party.passport:
        # a foreign national's passport number where the row gives the person's identifier
        pp = np.full(n, None, dtype=object)
        show = fo & ~miss_n if party.id_number else fo
        pp[show] = world.passport[pe[show]]
        cols[party.passport] = pp
    if party.nationality:
        nat = np.full(n, None, dtype=object)
        nat[natural] = "中国"
        nat[fo] = [NATIONALITY_NAMES[x] for x in world.nationality[pe[fo]]]
        cols[party.nationality] = nat

    if party.type:
        labels = dict(party.labels)
        t = np.full(n, None, dtype=object)
        t[natural] = labels["natural"]
        for k in (1, 2, 3, 4):
            m = legal & (world.klass[le] == k)
            t[m] = labels[k]
        cols[party.type] = t
    if party.address:
        a = np.full(n, None, dtype=object)
        a[legal] = world.address[le[legal]]
        cols[party.address] = a
    if party.phone:
        p = np.full(n, None, dtype=object)
        p[legal] = world.phone[le[legal]]
        cols[party.phone] = p
    return cols, bits
