"""Vectorised checks and parsers for catalog values: codes, ID numbers, dates, ratios, amounts.

A catalog may have millions of rows, so every check here works on a whole column
at once (polars expressions, or numpy over a matrix of characters). The rules are
those of :mod:`credgraph.identifiers`; that module stays the authority: the fast
checks here only *select* the failing values, and the reason a user reads comes
from ``identifiers`` (``uscc_problem``, ``id_problem``, ``id_from_15``), called on
that small failing subset. Tests check that both agree on arbitrary input.

>>> import polars as pl
>>> uscc_ok(pl.Series(["914403001922038216", "914403001922038217", None])).tolist()
[True, False, True]
>>> parse_ratio("35%"), parse_ratio("0.35"), parse_ratio("35")
(0.35, 0.35, 0.35)
>>> parse_date("2021年3月4日")
datetime.date(2021, 3, 4)
"""

from __future__ import annotations

from collections.abc import Sequence

import datetime as dt

import numpy as np
import polars as pl
import pyarrow as pa

from credgraph import identifiers as ids
from credgraph.records import EVENT_TYPES, RELATIONS

__all__ = [
    "normalise_codes",
    "uscc_ok",
    "org_code_ok",
    "reg_no_ok",
    "id18_ok",
    "id15_to_18",
    "masked_id_ok",
    "masked_id_problem",
    "parse_dates",
    "ambiguous_dates",
    "parse_ratios",
    "parse_numbers",
    "parse_counts",
    "party_types",
    "relations",
    "event_types",
    "parse_date",
    "parse_ratio",
    "parse_number",
    "DATE_FORMATS_HINT",
    "PARTY_TYPE_SYNONYMS",
]

# ------------------------------------------------------------------ weights
# The standards define the weights as powers: GB 32100 uses 3^i mod 31 and
# GB 11643 / GB 11714 use 2^k mod 11; derived here so numpy can use them as vectors.
_USCC_W = np.array([pow(3, i, 31) for i in range(17)], dtype=np.int32)
_ID_W = np.array([pow(2, 17 - i, 11) for i in range(17)], dtype=np.int32)
_ORG_W = np.array([pow(2, 8 - i, 11) for i in range(8)], dtype=np.int32)

_USCC_LUT = np.full(256, -1, dtype=np.int32)
for _i, _c in enumerate(ids.USCC_ALPHABET):
    _USCC_LUT[ord(_c)] = _i
_ORG_LUT = np.full(256, -1, dtype=np.int32)
for _i in range(10):
    _ORG_LUT[48 + _i] = _i
for _i in range(26):
    _ORG_LUT[65 + _i] = 10 + _i
_ID_CHECK_BYTES = np.frombuffer(b"10X98765432", dtype=np.uint8)

_USCC_CHAR = "[0-9A-HJ-NP-RTUWXY]"  # the USCC alphabet as a regex class
_USCC_RE = rf"^{_USCC_CHAR}{{2}}\d{{6}}{_USCC_CHAR}{{10}}$"
_ORG_RE = r"^[0-9A-Z]{8}[0-9X]$"
_REG_RE = r"^\d{15}$"
_ID18_RE = r"^[1-9]\d{16}[0-9X]$"
_MASKED_RE = r"^[0-9*]{17}[0-9X*]$"

_FULLWIDTH_DIGITS = {chr(0xFF10 + i): str(i) for i in range(10)}
_NUMBER_PUNCT = {"．": ".", "，": ",", "－": "-", "＋": "+", "％": "%"}

DATE_FORMATS_HINT = "2021-03-04, 2021/3/4, 20210304, 2021年3月4日 or 4 March 2021; or set date_format in the spec"

#: Values accepted for subject_type / object_type besides ``legal`` and ``natural``.
PARTY_TYPE_SYNONYMS = {
    "legal": "legal",
    "natural": "natural",
    "法人": "legal",
    "企业": "legal",
    "单位": "legal",
    "自然人": "natural",
    "个人": "natural",
}


# ------------------------------------------------------------------ codes
def normalise_codes(s: pl.Series) -> pl.Series:
    """``identifiers.normalise_code`` over a column; empty results become null.

    Values that are already in normal form (upper-case ASCII letters, digits, ``*``)
    are left alone; only the others go through the Python function, so a clean
    column costs one regex pass.

    >>> normalise_codes(pl.Series(["９１４４０３００１９２２０３８２１６", "abc-1", "-", None])).to_list()
    ['914403001922038216', 'ABC1', None, None]
    """
    s = s.cast(pl.String)
    slow = (~s.str.contains(r"^[0-9A-Z*]*$")).fill_null(False)
    if slow.any():
        idx = slow.arg_true()
        fixed = [ids.normalise_code(v) for v in s.gather(idx).to_list()]
        s = s.clone().scatter(idx, fixed)
    return s.replace("", None)


def _matrix(s: pl.Series, width: int) -> np.ndarray:
    """The ASCII bytes of equal-length, non-null strings as a ``(len(s), width)`` uint8 matrix.

    Read straight from the Arrow data buffer: for strings of one length it *is* the matrix.
    """
    if len(s) == 0:
        return np.zeros((0, width), dtype=np.uint8)
    arr = s.to_arrow(compat_level=pl.CompatLevel.oldest())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    offset_type = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    offsets = np.frombuffer(arr.buffers()[1], dtype=offset_type)[arr.offset : arr.offset + len(arr) + 1]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    if data.size != len(s) * width:  # not all of one width: a caller's bug, never silently wrong
        raise ValueError(f"expected {len(s)} strings of {width} bytes")
    return data.reshape(-1, width)


def _shaped(s: pl.Series, pattern: str) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose value matches ``pattern`` and the rest's validity (nulls count as valid)."""
    ok = s.is_null().to_numpy().copy()
    shape = s.str.contains(pattern).fill_null(False).to_numpy()
    return ok, np.flatnonzero(shape)


def _org_matrix_ok(m: np.ndarray) -> np.ndarray:
    """GB 11714 check over a ``(n, 9)`` matrix of organisation codes."""
    vals = _ORG_LUT[m[:, :8]]
    chars_ok = (vals >= 0).all(axis=1)
    r = 11 - (vals @ _ORG_W) % 11
    expected = np.where(r == 10, ord("X"), np.where(r == 11, ord("0"), 48 + r))
    return chars_ok & (m[:, 8] == expected)


def uscc_ok(s: pl.Series) -> np.ndarray:
    """True where a normalised value is a valid USCC (or null), as ``uscc_problem`` decides.

    >>> uscc_ok(pl.Series(["914403001922038216", "91440300192203821", "9144030019220382I6"])).tolist()
    [True, False, False]
    """
    ok, idx = _shaped(s, _USCC_RE)
    if len(idx):
        m = _matrix(s.gather(idx), 18)
        v = _USCC_LUT[m]
        check = (31 - (v[:, :17] @ _USCC_W) % 31) % 31
        ok[idx] = (v[:, 17] == check) & _org_matrix_ok(m[:, 8:17])
    return ok


def org_code_ok(s: pl.Series) -> np.ndarray:
    """True where a normalised value is a valid 9-character organisation code (or null).

    >>> org_code_ok(pl.Series(["192203821", "192203822"])).tolist()
    [True, False]
    """
    ok, idx = _shaped(s, _ORG_RE)
    if len(idx):
        ok[idx] = _org_matrix_ok(_matrix(s.gather(idx), 9))
    return ok


def reg_no_ok(s: pl.Series) -> np.ndarray:
    """True where a normalised value is a 15-digit registration number with a good check digit.

    >>> reg_no_ok(pl.Series(["440301103097510", "440301103097511"])).tolist()
    [True, False]
    """
    ok, idx = _shaped(s, _REG_RE)
    if len(idx):
        d = _matrix(s.gather(idx), 15).astype(np.int64) - 48
        p = np.full(len(idx), 10, dtype=np.int64)
        for k in range(14):  # ISO 7064 MOD 11,10, one position at a time over all rows
            t = (p + d[:, k]) % 10
            t[t == 0] = 10
            p = (2 * t) % 11
        ok[idx] = (11 - p) % 10 == d[:, 14]
    return ok


def _birth_ok(s: pl.Series, today: dt.date) -> np.ndarray:
    born = s.str.slice(6, 8).str.strptime(pl.Date, "%Y%m%d", strict=False)
    good = born.is_not_null() & (born.dt.year() >= 1880) & (born <= today)
    return good.fill_null(False).to_numpy()


def id18_ok(s: pl.Series, today: dt.date | None = None) -> np.ndarray:
    """True where a normalised value is a valid 18-character resident ID (or null).

    Checks what ``identifiers.id_problem`` checks: shape, region, birth date, check character.

    >>> id18_ok(pl.Series(["11010519491231002X", "110105194912310021", "440301198502301234"])).tolist()
    [True, False, False]
    """
    today = today or dt.date.today()
    ok, idx = _shaped(s, _ID18_RE)
    if len(idx):
        sub = s.gather(idx)
        m = _matrix(sub, 18)
        total = (m[:, :17].astype(np.int32) - 48) @ _ID_W
        ok[idx] = (m[:, 17] == _ID_CHECK_BYTES[total % 11]) & _birth_ok(sub, today)
    return ok


def id15_to_18(s: pl.Series) -> pl.Series:
    """15-digit legacy IDs converted to 18 (``19`` inserted, check appended); other values unchanged.

    The result may still be invalid (a bad birth date): validate it as an 18-digit ID.

    >>> id15_to_18(pl.Series(["110105491231002", "11010519491231002X", None])).to_list()
    ['11010519491231002X', '11010519491231002X', None]
    """
    is15 = s.str.contains(_REG_RE).fill_null(False)
    if not is15.any():
        return s
    idx = is15.arg_true()
    sub = s.gather(idx)
    first17 = sub.str.slice(0, 6) + "19" + sub.str.slice(6)
    m = _matrix(first17, 17)
    total = (m.astype(np.int32) - 48) @ _ID_W
    checks = pl.Series(_ID_CHECK_BYTES[total % 11].view("S1").astype(str), dtype=pl.String)
    return s.clone().scatter(idx, first17 + checks)


def masked_id_ok(s: pl.Series, today: dt.date | None = None) -> np.ndarray:
    """True where a masked ID (with ``*``) is plausible: 18 characters, visible parts possible.

    Visible parts must fit: a region not starting with 0, a birth year 1880..today,
    a month 01-12, a day 01-31 (a fully visible birth date must be a real one).

    >>> masked_id_ok(pl.Series(["110105********002X", "110105*******002X", "110105****13**002X"])).tolist()
    [True, False, False]
    """
    today = today or dt.date.today()
    ok, idx = _shaped(s, _MASKED_RE)
    if len(idx):
        m = _matrix(s.gather(idx), 18)
        ok[idx] = _masked_matrix_ok(m, today)
    return ok


def _visible_number(m: np.ndarray, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    part = m[:, lo:hi]
    visible = (part != ord("*")).all(axis=1)
    digits = part.astype(np.int64) - 48
    value = (digits * (10 ** np.arange(hi - lo - 1, -1, -1))).sum(axis=1)
    return visible, value


def _masked_matrix_ok(m: np.ndarray, today: dt.date) -> np.ndarray:
    star = m == ord("*")
    good = star.any(axis=1) & (~star).any(axis=1)
    good &= star[:, 0] | (m[:, 0] != ord("0"))
    yv, year = _visible_number(m, 6, 10)
    mv, month = _visible_number(m, 10, 12)
    dv, day = _visible_number(m, 12, 14)
    good &= ~yv | ((year >= 1880) & (year <= today.year))
    good &= ~mv | ((month >= 1) & (month <= 12))
    good &= ~dv | ((day >= 1) & (day <= 31))
    full = yv & mv & dv
    if full.any():
        born = [
            _real_date(int(y), int(mo), int(d), today)
            for y, mo, d in zip(year[full], month[full], day[full])
        ]
        good[full] &= np.array(born, dtype=bool)
    return good


def _real_date(y: int, m: int, d: int, today: dt.date) -> bool:
    try:
        return 1880 <= y and dt.date(y, m, d) <= today
    except ValueError:
        return False


def masked_id_problem(value: str, today: dt.date | None = None) -> str | None:
    """Why a masked ID number is not plausible, or None when it is.

    >>> masked_id_problem("110105********002X") is None
    True
    >>> masked_id_problem("110105****13**002X")
    'masked ID shows birth month 13'
    """
    today = today or dt.date.today()
    s = ids.normalise_code(value)
    if not ids.is_masked(s):
        return "ID number is not masked"
    if len(s) != 18:
        return f"masked ID must have 18 characters, has {len(s)}"
    if any(c not in "0123456789*" for c in s[:17]) or s[17] not in "0123456789X*":
        return "masked ID must be digits (last may be X) and * for hidden characters"
    if all(c == "*" for c in s):
        return "masked ID shows no characters"
    if s[0] == "0":
        return f"masked ID region starts with 0 ({s[:6]})"
    year, month, day = s[6:10], s[10:12], s[12:14]
    if "*" not in year and not 1880 <= int(year) <= today.year:
        return f"masked ID shows birth year {year}"
    if "*" not in month and not 1 <= int(month) <= 12:
        return f"masked ID shows birth month {month}"
    if "*" not in day and not 1 <= int(day) <= 31:
        return f"masked ID shows birth day {day}"
    if "*" not in s[6:14] and not _real_date(int(year), int(month), int(day), today):
        return f"masked ID shows birth date {s[6:14]}, not a real date"
    return None


# ------------------------------------------------------------------ values
# These take and return Series, one materialised step at a time: nesting the
# same sub-expression in several branches of a polars expression repeats its
# work in each branch, which made a date column cost seconds.
def _choose(mask: pl.Series, yes: pl.Series, no: pl.Series) -> pl.Series:
    return yes.zip_with(mask.fill_null(False), no)


def _clean_number_text(s: pl.Series) -> pl.Series:
    return (
        s.str.strip_chars()
        .str.replace_many(_FULLWIDTH_DIGITS | _NUMBER_PUNCT)
        .str.replace_all(r"[,\s]", "")
    )


def parse_dates(s: pl.Series, fmt: str | Sequence[str] | None = None) -> pl.Series:
    """Dates written 2021-03-04, 2021/3/4, 20210304, 2021年3月4日, 4/3/2021 when unambiguous
    (a part above 12 is the day), 4 March 2021 or March 4, 2021 (or with a time after) → Date.

    ``fmt`` is a spec's declared ``date_format`` (a strftime pattern, or several tried in order),
    tried first.
    Unparseable, ambiguous (3/4/2021 without a declared format) or impossible dates
    (2021-02-30) and years outside 1800-2200 become null.

    >>> parse_dates(pl.Series(["2021/3/4", "2021年3月4日", "20210304", "2021-03-04 00:00:00", "2021-02-30"])).to_list()
    [datetime.date(2021, 3, 4), datetime.date(2021, 3, 4), datetime.date(2021, 3, 4), datetime.date(2021, 3, 4), None]
    >>> parse_dates(pl.Series(["25/12/1990", "12/25/1990", "03/04/1990", "2 Jan 1990"])).to_list()
    [datetime.date(1990, 12, 25), datetime.date(1990, 12, 25), None, datetime.date(1990, 1, 2)]
    >>> parse_dates(pl.Series(["03/04/1990"]), "%d/%m/%Y").to_list()
    [datetime.date(1990, 4, 3)]
    >>> parse_dates(pl.Series(["8/15/67", "12/11/1978", "24-May-11"]), ("%m/%d/%y", "%m/%d/%Y", "%d-%b-%y")).to_list()
    [datetime.date(2067, 8, 15), datetime.date(1978, 12, 11), datetime.date(2011, 5, 24)]
    """
    s = s.cast(pl.String)
    if len(s) > 1000 and 2 * s.n_unique() < len(s):  # dates repeat: parse each distinct text once
        return _by_unique(s, lambda x: _parse_dates(x, fmt))
    return _parse_dates(s, fmt)


def ambiguous_dates(s: pl.Series) -> pl.Series:
    """True where a value reads as a date both day-first and month-first (03/04/1990).

    >>> ambiguous_dates(pl.Series(["03/04/1990", "25/12/1990", "04/04/1990", None])).to_list()
    [True, False, False, False]
    """
    parts = s.cast(pl.String).str.strip_chars().str.extract_groups(_DMY_RE)
    a = parts.struct.field("a").cast(pl.Int32, strict=False)
    b = parts.struct.field("b").cast(pl.Int32, strict=False)
    return ((a <= 12) & (b <= 12) & (a != b)).fill_null(False)


_DMY_RE = r"^(?<a>\d{1,2})[/.\-](?<b>\d{1,2})[/.\-](?<y>\d{4})$"
_NAMED_MONTH_FORMATS = ("%d %B %Y", "%d %b %Y", "%B %d %Y", "%b %d %Y", "%d-%b-%Y", "%d-%B-%Y")


def _by_unique(s: pl.Series, fn) -> pl.Series:
    distinct = s.unique()
    table = pl.DataFrame({"k": distinct, "v": fn(distinct)})
    return s.to_frame("k").join(table, on="k", how="left", maintain_order="left", nulls_equal=True)["v"].alias(s.name)


def _in_range(d: pl.Series) -> pl.Series:
    return _choose(d.dt.year().is_between(1800, 2200).fill_null(False), d, pl.Series([None] * len(d), dtype=pl.Date))


def _parse_dates(s: pl.Series, fmt: str | Sequence[str] | None = None) -> pl.Series:
    if fmt is not None:
        stripped = s.str.strip_chars()
        declared = None
        for f in (fmt,) if isinstance(fmt, str) else fmt:  # each declared pattern in turn, then the common forms
            d = _in_range(stripped.str.strptime(pl.Date, f, strict=False))
            declared = d if declared is None else declared.fill_null(d)
        rest = (declared.is_null() & s.is_not_null()).arg_true()
        if len(rest):
            declared = declared.scatter(rest, _parse_dates(s.gather(rest)))
        return _in_range(declared)
    iso = s.str.contains(r"^\d{4}-\d{2}-\d{2}$").fill_null(False)
    if iso.all():  # the common case: one pass, no rewriting
        return _in_range(s.str.strptime(pl.Date, "%Y-%m-%d", strict=False))
    if iso.any():  # parse the rest on its own
        out = s.str.strptime(pl.Date, "%Y-%m-%d", strict=False)
        rest = (~iso & s.is_not_null()).arg_true()
        if len(rest):
            out = out.scatter(rest, _parse_dates(s.gather(rest)))
        return _in_range(out)
    t = (
        s.str.strip_chars()
        .str.replace_many(_FULLWIDTH_DIGITS)
        .str.replace(r"[T\s]+\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$", "")
        .str.replace(r"日$", "")
        .str.replace_all(r"[年月/.]", "-")
    )
    compact = t.str.contains(r"^\d{8}$")
    if compact.any():
        t = _choose(compact, t.str.slice(0, 4) + "-" + t.str.slice(4, 2) + "-" + t.str.slice(6, 2), t)
    shaped = t.str.contains(r"^\d{4}-\d{1,2}-\d{1,2}$").fill_null(False)
    d = t.str.strptime(pl.Date, "%Y-%m-%d", strict=False)
    d = _choose(shaped, d, pl.Series([None] * len(d), dtype=pl.Date))
    rest = (d.is_null() & s.is_not_null()).arg_true()
    if len(rest):
        d = d.scatter(rest, _day_month_year(s.gather(rest)))
    return _in_range(d)


def _day_month_year(s: pl.Series) -> pl.Series:
    """D/M/YYYY or M/D/YYYY when one reading is impossible; month names (2 Jan 1990, Jan 2, 1990)."""
    t = s.str.strip_chars()
    parts = t.str.extract_groups(_DMY_RE)
    a = parts.struct.field("a").cast(pl.Int32, strict=False)
    b = parts.struct.field("b").cast(pl.Int32, strict=False)
    y = parts.struct.field("y")
    day_first = ((a > 12) & (b <= 12)) | (a == b)
    month_first = (b > 12) & (a <= 12)
    dmy = (y + "-" + b.cast(pl.String) + "-" + a.cast(pl.String)).str.strptime(pl.Date, "%Y-%m-%d", strict=False)
    mdy = (y + "-" + a.cast(pl.String) + "-" + b.cast(pl.String)).str.strptime(pl.Date, "%Y-%m-%d", strict=False)
    none = pl.Series([None] * len(t), dtype=pl.Date)
    out = _choose(day_first, dmy, _choose(month_first, mdy, none))
    if out.is_null().any():
        words = t.str.replace_all(r",", " ").str.replace_all(r"\s+", " ").str.to_titlecase()
        for f in _NAMED_MONTH_FORMATS:
            missing = out.is_null()
            if not missing.any():
                break
            out = _choose(missing, words.str.strptime(pl.Date, f, strict=False), out)
    return out


def parse_ratios(s: pl.Series) -> pl.Series:
    """Share ratios: ``35%``, ``35.0%``, ``0.35``; a bare number above 1 is a percent. → Float64.

    Out-of-range results are kept (the caller reports them); text that is no number becomes null.

    >>> parse_ratios(pl.Series(["35%", "0.35", "35", "1", "x"])).to_list()
    [0.35, 0.35, 0.35, 1.0, None]
    """
    return _plain_first(s.cast(pl.String), _ratio_from_number, _ratio_from_text)


def _ratio_from_number(num: pl.Series) -> pl.Series:
    # rounded: polars divides by multiplying with 1/100, which leaves 0.35000000000000003
    return _choose((num > 1).fill_null(False), (num / 100).round(12), num)


def _ratio_from_text(s: pl.Series) -> pl.Series:
    t = _clean_number_text(s)
    pct = t.str.ends_with("%").fill_null(False)
    num = t.str.strip_suffix("%").cast(pl.Float64, strict=False)
    return _choose(pct, (num / 100).round(12), _ratio_from_number(num))


def _plain_first(s: pl.Series, from_number, from_text) -> pl.Series:
    """Cast plain numbers directly (most values); only the rest goes through the text rules."""
    num = s.cast(pl.Float64, strict=False)
    out = from_number(num)
    rest = (num.is_null() & s.is_not_null()).arg_true()
    if len(rest):
        out = out.scatter(rest, from_text(s.gather(rest)))
    return out


#: Unit words after an amount, and what they multiply in CNY.
_UNIT_CNY = {"亿元": 1e8, "亿": 1e8, "万元": 1e4, "万": 1e4, "元": 1.0}
_UNIT_RE = r"(亿元|亿|万元|万|元)$"


def parse_numbers(s: pl.Series, unit_cny: float = 1.0) -> pl.Series:
    """Amounts: ``1,234.5``, ``¥500``, ``100万元`` → Float64 in units of ``unit_cny`` CNY.

    A unit word (元, 万元, 亿元) converts to the field's unit: capital is kept in
    10k CNY (``unit_cny=1e4``), amounts in CNY. Text that is no number becomes null.

    >>> parse_numbers(pl.Series(["1,234.5", "¥500", "12万元", "x"])).to_list()
    [1234.5, 500.0, 120000.0, None]
    """
    # bare numbers are in the field's own unit
    return _plain_first(s.cast(pl.String), lambda num: num, lambda t: _number_from_text(t, unit_cny))


def _number_from_text(s: pl.Series, unit_cny: float) -> pl.Series:
    t = _clean_number_text(s).str.replace(r"^(人民币|RMB|CNY|¥|￥)", "")
    unit = t.str.extract(_UNIT_RE, 1)
    num = t.str.replace(_UNIT_RE, "").cast(pl.Float64, strict=False)
    if unit.is_null().all():
        return num
    factor = unit.replace_strict(_UNIT_CNY, default=None, return_dtype=pl.Float64) / unit_cny
    return _choose(unit.is_not_null(), num * factor, num)


def parse_counts(s: pl.Series) -> pl.Series:
    """Counts such as ``12``, ``12人``, ``12个月`` → Float64 (the caller checks it is whole).

    >>> parse_counts(pl.Series(["12", "12个月", "x"])).to_list()
    [12.0, 12.0, None]
    """
    return _clean_number_text(s.cast(pl.String)).str.replace(r"[\u4e00-\u9fff]+$", "").cast(pl.Float64, strict=False)


def party_types(s: pl.Series) -> pl.Series:
    """legal / natural (also 法人, 企业, 单位 / 自然人, 个人); anything else → null.

    >>> party_types(pl.Series(["Legal", "自然人", "company"])).to_list()
    ['legal', 'natural', None]
    """
    return s.cast(pl.String).str.strip_chars().str.to_lowercase().replace_strict(
        PARTY_TYPE_SYNONYMS, default=None, return_dtype=pl.String
    )


def relations(s: pl.Series) -> pl.Series:
    """A relation name of ``records.RELATIONS``; anything else → null."""
    t = s.cast(pl.String).str.strip_chars().str.to_lowercase()
    return _choose(t.is_in(list(RELATIONS)), t, pl.Series([None] * len(t), dtype=pl.String))


_EVENT_NAMES = {k: k for k in EVENT_TYPES} | {v: k for k, v in EVENT_TYPES.items()}


def event_types(s: pl.Series) -> pl.Series:
    """An event type of ``records.EVENT_TYPES`` (its key or its Chinese name); anything else → null.

    >>> event_types(pl.Series(["penalty", "行政处罚", "fine"])).to_list()
    ['penalty', 'penalty', None]
    """
    return s.cast(pl.String).str.strip_chars().replace_strict(_EVENT_NAMES, default=None, return_dtype=pl.String)


# ------------------------------------------------------------------ scalar helpers
def _one(fn, text: str | None, **kw):
    return fn(pl.Series([text], dtype=pl.String), **kw)[0]


def parse_date(text: str | None, fmt: str | Sequence[str] | None = None) -> dt.date | None:
    """One date, as the loaders read it; None when it is not a date.

    >>> parse_date("2021/3/4"), parse_date("20210304"), parse_date("2021-02-30")
    (datetime.date(2021, 3, 4), datetime.date(2021, 3, 4), None)
    """
    return _one(parse_dates, text, fmt=fmt)


def parse_ratio(text: str | None) -> float | None:
    """One share ratio, as the loaders read it (not range-checked); None when it is no number.

    >>> parse_ratio("35.0%"), parse_ratio("100"), parse_ratio("abc")
    (0.35, 1.0, None)
    """
    return _one(parse_ratios, text)


def parse_number(text: str | None, unit_cny: float = 1.0) -> float | None:
    """One amount in units of ``unit_cny`` CNY; None when it is no number.

    >>> parse_number("1,234.5"), parse_number("12万元"), parse_number("500万元", unit_cny=1e4)
    (1234.5, 120000.0, 500.0)
    """
    return _one(parse_numbers, text, unit_cny=unit_cny)
