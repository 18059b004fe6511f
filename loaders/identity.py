"""Identity fields of a party, column-wise: birth date, gender, nationality, e-mail, typed identifiers.

Each function takes a column of stripped source text and gives the standard value
and, where the value cannot be used, a reason (null where it is fine). The loader
sets such a value aside (nulls it) and keeps the row, with a finding naming the
file, row, field, value and reason.

Typed identifiers (``records.IDENTIFIER_SCHEMES``) are checked by their scheme:
the PRC codes by :mod:`credgraph.identifiers` (vectorised in :mod:`.checks`),
several foreign numbers by python-stdnum, the rest only normalised (upper-case,
half-width, no spaces or dashes) and kept as given.

>>> import polars as pl
>>> genders(pl.Series(["男", "female", "M", "x"]))[0].to_list()
['M', 'F', 'M', None]
>>> nationalities(pl.Series(["中国", "USA", "Deutschland", "香港"]))[0].to_list()
['CN', 'US', 'Deutschland', 'HK']
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib

import numpy as np
import polars as pl

from credgraph import identifiers as ids
from credgraph.records import IDENTIFIER_SCHEMES

from . import checks

__all__ = [
    "GENDER_SYNONYMS",
    "STDNUM_SCHEMES",
    "PRC_SCHEMES",
    "birth_dates",
    "genders",
    "emails",
    "nationalities",
    "names",
    "check_identifier",
    "identifiers_json",
]

#: Values read as gender, lower-cased (GB/T 2261.1 codes 1 and 2 are not guessed: map them with [values]).
GENDER_SYNONYMS = {
    "m": "M", "male": "M", "man": "M", "男": "M", "男性": "M", "先生": "M",
    "f": "F", "female": "F", "woman": "F", "女": "F", "女性": "F", "女士": "F",
}

#: Schemes checked by credgraph's own PRC rules, and the standard column each may fill.
PRC_SCHEMES = {"cn_resident_id": "id_number", "cn_uscc": "uscc", "cn_org_code": "org_code", "cn_reg_no": "reg_no"}

#: Schemes checked by a python-stdnum module.
STDNUM_SCHEMES = {
    "us_ssn": "stdnum.us.ssn",
    "us_ein": "stdnum.us.ein",
    "lei": "stdnum.lei",
    "vat_number": "stdnum.vatin",
}

_EMAIL_RE = r"^[^@\s<>(),;:\"\[\]\\]+@[^@\s<>(),;:\"\[\]\\.]+(\.[^@\s<>(),;:\"\[\]\\.]+)+$"
# A few names ISO 3166 does not list, as people write them.
_COUNTRY_EXTRA = {
    "usa": "US", "u.s.a.": "US", "u.s.": "US", "america": "US", "uk": "GB", "england": "GB", "britain": "GB",
    "great britain": "GB", "scotland": "GB", "wales": "GB", "russia": "RU", "korea": "KR", "south korea": "KR",
    "north korea": "KP", "taiwan": "TW", "vietnam": "VN", "laos": "LA", "iran": "IR", "syria": "SY",
    "bolivia": "BO", "venezuela": "VE", "tanzania": "TZ", "moldova": "MD", "czech republic": "CZ",
    "hong kong": "HK", "macau": "MO", "macao": "MO", "prc": "CN", "p.r.c.": "CN", "mainland china": "CN",
    "中国": "CN", "中华人民共和国": "CN", "中国大陆": "CN", "大陆": "CN", "内地": "CN",
    "香港": "HK", "中国香港": "HK", "香港特别行政区": "HK", "澳门": "MO", "中国澳门": "MO", "澳門": "MO",
    "澳门特别行政区": "MO", "台湾": "TW", "中国台湾": "TW", "台灣": "TW", "美国": "US", "英国": "GB",
    "日本": "JP", "韩国": "KR", "朝鲜": "KP", "俄罗斯": "RU", "德国": "DE", "法国": "FR", "新加坡": "SG",
    "加拿大": "CA", "澳大利亚": "AU", "马来西亚": "MY", "泰国": "TH", "越南": "VN", "印度": "IN",
}


# ------------------------------------------------------------------ person fields
def names(s: pl.Series) -> pl.Series:
    """Names as written, in Unicode NFC (é as one character), spaces at the ends removed.

    >>> names(pl.Series(["Jose\\u0301 Nu\\u0301n\\u0303ez "])).to_list() == ["José Núñez"]
    True
    """
    s = s.str.strip_chars()
    # only text that NFC can change: combining marks, Hangul jamo, CJK compatibility ideographs
    changeable = s.str.contains(_NFC_CANDIDATES).fill_null(False)
    if not changeable.any():
        return s
    idx = changeable.arg_true()
    return s.scatter(idx, s.gather(idx).str.normalize("NFC").str.strip_chars())


_NFC_CANDIDATES = r"[\p{M}\x{1100}-\x{11FF}\x{F900}-\x{FAFF}\x{2F800}-\x{2FA1F}]"


def birth_dates(s: pl.Series, today: dt.date, fmt: str | tuple[str, ...] | None = None) -> tuple[pl.Series, pl.Series]:
    """Birth dates in the common forms (see :func:`.checks.parse_dates`) and why a value is no birth date.

    >>> d, why = birth_dates(pl.Series(["1990-01-02", "03/04/1990", "2190-01-01", "abc"]), dt.date(2026, 1, 1))
    >>> d.to_list()[0], why.to_list()[1][:14], why.to_list()[2], why.to_list()[3][:10]
    (datetime.date(1990, 1, 2), 'ambiguous date', 'birth date 2190-01-01 is after today', 'not a date')
    >>> birth_dates(pl.Series(["8/15/67", "1/2/03", "8/15/2067"]), dt.date(2026, 1, 1), ("%m/%d/%y", "%m/%d/%Y"))[0].to_list()
    [datetime.date(1967, 8, 15), datetime.date(2003, 1, 2), None]
    """
    parsed = checks.parse_dates(s, fmt)
    # A two-digit year that reads as a future birth date (8/15/67 read as 2067) is the century before.
    ahead = (parsed > today).fill_null(False) & ~s.str.contains(parsed.dt.year().cast(pl.String), literal=True).fill_null(True)
    if ahead.any():
        parsed = parsed.zip_with(~ahead, parsed.dt.offset_by("-100y"))
    given = s.is_not_null()
    ambiguous = checks.ambiguous_dates(s) & parsed.is_null() if fmt is None else pl.Series([False] * len(s))
    future = (parsed > today).fill_null(False)
    early = (parsed.dt.year() < 1880).fill_null(False)
    reason = pl.select(
        pl.when(pl.lit(ambiguous))
        .then(pl.lit("ambiguous date: day and month could be either way; set date_format in the spec (e.g. DD/MM/YYYY)"))
        .when(pl.lit(given & parsed.is_null()))
        .then(pl.lit(f"not a date (write {checks.DATE_FORMATS_HINT})"))
        .when(pl.lit(future))
        .then(pl.lit("birth date ") + pl.lit(parsed).cast(pl.String) + pl.lit(" is after today"))
        .when(pl.lit(early))
        .then(pl.lit("birth date ") + pl.lit(parsed).cast(pl.String) + pl.lit(" is before 1880"))
        .otherwise(pl.lit(None, dtype=pl.String))
    ).to_series()
    good = parsed.is_not_null() & ~future & ~early
    return parsed.zip_with(good.fill_null(False), pl.Series([None] * len(s), dtype=pl.Date)), reason


#: Values that say the gender is not known: empty, not a bad value (no finding).
GENDER_UNKNOWN = ("u", "unknown", "unk", "not known", "unspecified", "未知", "不详", "未说明")


def genders(s: pl.Series) -> tuple[pl.Series, pl.Series]:
    """``M`` or ``F`` from 男/女, male/female, m/f (any case), and why a value is none of them
    (a value saying "unknown" is simply empty).

    >>> v, why = genders(pl.Series(["男", "Female", "U", "Unknown", "?"]))
    >>> v.to_list(), why.to_list()[2:]
    (['M', 'F', None, None, None], [None, None, 'not a gender (write M/F, male/female or 男/女)'])
    """
    low = s.str.strip_chars().str.to_lowercase()
    value = low.replace_strict(GENDER_SYNONYMS, default=None, return_dtype=pl.String)
    unknown = low.is_in(list(GENDER_UNKNOWN)).fill_null(False)
    reason = pl.select(
        pl.when(pl.lit(s.is_not_null() & value.is_null() & ~unknown))
        .then(pl.lit("not a gender (write M/F, male/female or 男/女)"))
    ).to_series()
    return value, reason.cast(pl.String)


def emails(s: pl.Series) -> tuple[pl.Series, pl.Series]:
    """E-mail addresses lower-cased, and why a value is not one.

    >>> v, why = emails(pl.Series(["Li.Wei@Example.COM", "li.wei@", "a b@x.cn", "Maria Sentosa<MSentosa@x.com>"]))
    >>> v.to_list(), why.to_list()[1]
    (['li.wei@example.com', None, None, 'msentosa@x.com'], 'not an e-mail address')
    """
    # "Display Name <address>", as mail programs write it: the address
    low = s.str.strip_chars().str.replace(r"^[^<>@]*<([^<>]+)>$", "$1").str.to_lowercase()
    ok = low.str.contains(_EMAIL_RE).fill_null(False)
    reason = pl.select(pl.when(pl.lit(s.is_not_null() & ~ok)).then(pl.lit("not an e-mail address"))).to_series()
    return low.zip_with(ok, pl.Series([None] * len(s), dtype=pl.String)), reason.cast(pl.String)


@functools.lru_cache(maxsize=1)
def _country_table() -> dict[str, str]:
    """Lower-cased country names and codes (ISO 3166, English and Chinese) → alpha-2."""
    import gettext

    import pycountry

    table: dict[str, str] = {}
    try:
        zh = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["zh_CN"]).gettext
    except OSError:
        zh = None
    for c in pycountry.countries:
        for attr in ("alpha_2", "alpha_3", "name", "official_name", "common_name"):
            v = getattr(c, attr, None)
            if v:
                table.setdefault(v.lower(), c.alpha_2)
        if zh:
            table.setdefault(zh(c.name).lower(), c.alpha_2)
    table.update(_COUNTRY_EXTRA)
    return table


def nationalities(s: pl.Series) -> tuple[pl.Series, pl.Series]:
    """ISO 3166 alpha-2 where the value names a country (CN, CHN, China, 中国, 香港, USA, ...).

    A value that names no known country is kept as written (no reason given): the
    field is "alpha-2 where known".
    """
    key = s.str.strip_chars().str.to_lowercase()
    code = key.replace_strict(_country_table(), default=None, return_dtype=pl.String)
    return code.fill_null(s), pl.Series([None] * len(s), dtype=pl.String)


# ------------------------------------------------------------------ identifiers
def check_identifier(scheme: str, s: pl.Series, today: dt.date) -> tuple[pl.Series, pl.Series]:
    """Normalised identifier values of one scheme and why a value is not valid (null where it is).

    >>> v, why = check_identifier("cn_uscc", pl.Series(["91440300 1922038216", "914403001922038217"]), dt.date(2026, 1, 1))
    >>> v.to_list()[0], why.to_list()
    ('914403001922038216', [None, 'USCC check character is 7, expected 6'])
    >>> check_identifier("passport", pl.Series([" e1234-5678 "]), dt.date(2026, 1, 1))[0].to_list()
    ['E12345678']
    """
    if scheme not in IDENTIFIER_SCHEMES:
        raise ValueError(f"unknown identifier scheme {scheme!r}")
    norm = checks.normalise_codes(s)
    if scheme in PRC_SCHEMES:
        return _prc(PRC_SCHEMES[scheme], norm, today)
    if scheme in STDNUM_SCHEMES:
        return _stdnum(scheme, norm)
    return norm, pl.Series([None] * len(s), dtype=pl.String)


def _prc(kind: str, norm: pl.Series, today: dt.date) -> tuple[pl.Series, pl.Series]:
    from .validate import check_code_column  # validate imports this module

    return check_code_column(kind, norm, today)


def _stdnum(scheme: str, norm: pl.Series) -> tuple[pl.Series, pl.Series]:
    module = importlib.import_module(STDNUM_SCHEMES[scheme])
    from stdnum.exceptions import ValidationError

    values = norm.to_list()
    out: list[str | None] = []
    why: list[str | None] = []
    for v in values:
        if v is None:
            out.append(None)
            why.append(None)
            continue
        try:
            out.append(module.compact(module.validate(v)))
            why.append(None)
        except ValidationError as exc:
            out.append(v)
            why.append(f"not a valid {scheme} number: {exc.message.rstrip('.').lower()}")
    return pl.Series(out, dtype=pl.String), pl.Series(why, dtype=pl.String)


def identifiers_json(entries: list[tuple[str, pl.Series]], n: int) -> pl.Series:
    """The ``*_identifiers`` JSON text of each row from (scheme, values) pairs; null values skipped,
    repeated (scheme, value) pairs kept once; null when a row has none. Control characters are
    dropped from values (no identifier has them); quotes and backslashes are escaped.

    >>> identifiers_json([("passport", pl.Series(["E1", None])), ("passport", pl.Series(["E1", None]))], 2).to_list()
    ['[{"scheme":"passport","value":"E1"}]', None]
    """
    if not entries:
        return pl.Series([None] * n, dtype=pl.String)
    frame = pl.DataFrame({f"v{i}": values for i, (_, values) in enumerate(entries)})
    frame = frame.with_columns(
        pl.all()
        .str.replace_all(r"[\x00-\x1f\x7f]", "")
        .str.replace_all("\\", "\\\\", literal=True)
        .str.replace_all('"', '\\"', literal=True)
    )
    parts = []
    for i, (scheme, _) in enumerate(entries):
        value = pl.col(f"v{i}")
        # an earlier entry of the same scheme with the same value: keep that one only
        for j in range(i):
            if entries[j][0] == scheme:
                value = pl.when(value != pl.col(f"v{j}").fill_null("")).then(value)
        parts.append(pl.lit(f'{{"scheme":"{scheme}","value":"') + value + pl.lit('"}'))
    body = pl.concat_str(parts, separator=",", ignore_nulls=True)
    return frame.select(pl.when(body != "").then(pl.lit("[") + body + pl.lit("]")).alias("json"))["json"]


def any_valid(values: list[pl.Series], n: int) -> np.ndarray:
    """True where any of the columns holds a value."""
    out = np.zeros(n, dtype=bool)
    for v in values:
        out |= v.is_not_null().to_numpy()
    return out
