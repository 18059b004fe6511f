"""Chinese identifiers: validation, check characters, conversion and masking.

Every stage uses these functions (the generator to make valid codes, the loaders
to validate rows, resolution to compare identifiers, the graph and dashboard to
mask personal data), so the rules of GB 32100-2015, GB 11714 and GB 11643-1999
live here and nowhere else.

>>> uscc_is_valid("914403001922038216")
True
>>> org_code_of_uscc("914403001922038216")
'192203821'
>>> id_from_15("110105491231002")
'11010519491231002X'
>>> mask_id("11010519491231002X")
'110105********002X'
"""

from __future__ import annotations

import datetime as _dt
import re

__all__ = [
    "USCC_ALPHABET",
    "uscc_check_char",
    "uscc_is_valid",
    "uscc_problem",
    "org_code_check_char",
    "org_code_is_valid",
    "org_code_of_uscc",
    "reg_no_is_valid",
    "id_check_char",
    "id_is_valid",
    "id_problem",
    "id_from_15",
    "id_birth_date",
    "id_is_male",
    "is_masked",
    "mask_id",
    "mask_phone",
    "looks_like_id",
    "mask_text",
    "NUMBER_HINT",
    "masked_id_compatible",
    "normalise_code",
]

#: The 31 characters a USCC may use: digits and capitals without I, O, Z, S, V.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_INDEX = {c: i for i, c in enumerate(USCC_ALPHABET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECKS = "10X98765432"
_MASK_CHARS = "*＊xX×"
_FULLWIDTH = str.maketrans(
    {chr(0xFF10 + i): str(i) for i in range(10)}
    | {chr(0xFF21 + i): chr(0x41 + i) for i in range(26)}
    | {chr(0xFF41 + i): chr(0x41 + i) for i in range(26)}
    | {"＊": "*", "×": "*"}
)


def normalise_code(value: str | None) -> str:
    """Upper-case, half-width, without spaces or dashes: the form codes are compared in.

    >>> normalise_code(" ９１４４-0300 1922038216 ")
    '914403001922038216'
    """
    if value is None:
        return ""
    s = str(value).translate(_FULLWIDTH).upper()
    return re.sub(r"[\s\-—_]", "", s)


# --------------------------------------------------------------------------- USCC
def uscc_check_char(first17: str) -> str:
    """The 18th character of a USCC whose first 17 characters are given.

    >>> uscc_check_char("91440300192203821")
    '6'
    """
    total = sum(_USCC_INDEX[c] * w for c, w in zip(first17, _USCC_WEIGHTS))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def org_code_check_char(first8: str) -> str:
    """The 9th character of an organisation code (GB 11714) whose first 8 are given.

    Digits count as their value and letters as A=10 ... Z=35.

    >>> org_code_check_char("19220382")
    '1'
    """
    total = sum(_org_value(c) * w for c, w in zip(first8, _ORG_WEIGHTS))
    r = 11 - total % 11
    return "X" if r == 10 else "0" if r == 11 else str(r)


def _org_value(c: str) -> int:
    if c.isdigit():
        return int(c)
    if "A" <= c <= "Z":
        return ord(c) - 55
    raise ValueError(c)


def org_code_is_valid(code: str) -> bool:
    """True when a 9-character organisation code has the right check character.

    >>> org_code_is_valid("192203821"), org_code_is_valid("192203822")
    (True, False)
    """
    code = normalise_code(code)
    if len(code) != 9 or not re.fullmatch(r"[0-9A-Z]{8}[0-9X]", code):
        return False
    return org_code_check_char(code[:8]) == code[8]


def uscc_problem(code: str) -> str | None:
    """Why a USCC is invalid, or None when it is valid.

    The whole code must use the USCC alphabet, carry a valid 6-digit division code,
    and both check characters (its own, position 18, and that of the organisation
    code in positions 9-17) must agree.

    >>> uscc_problem("914403001922038216") is None
    True
    >>> uscc_problem("914403001922038217")
    'USCC check character is 7, expected 6'
    """
    code = normalise_code(code)
    if len(code) != 18:
        return f"USCC must have 18 characters, has {len(code)}"
    bad = [c for c in code if c not in _USCC_INDEX]
    if bad:
        return f"USCC contains characters outside its alphabet: {''.join(bad)!r}"
    if not code[2:8].isdigit():
        return "USCC positions 3-8 must be a 6-digit administrative division code"
    expected = uscc_check_char(code[:17])
    if code[17] != expected:
        return f"USCC check character is {code[17]}, expected {expected}"
    if not org_code_is_valid(code[8:17]):
        return f"organisation code {code[8:17]} inside the USCC has a wrong check character"
    return None


def uscc_is_valid(code: str | None) -> bool:
    """True when ``code`` is a valid unified social credit code.

    >>> uscc_is_valid("914403001922038216"), uscc_is_valid("914403001922038217")
    (True, False)
    """
    return bool(code) and uscc_problem(code) is None


def org_code_of_uscc(uscc: str) -> str:
    """The 9-character organisation code embedded in a USCC (positions 9-17)."""
    return normalise_code(uscc)[8:17]


def reg_no_is_valid(reg_no: str | None) -> bool:
    """True for a 15-digit business registration number (注册号) with a valid check digit.

    The last digit is an ISO 7064 MOD 11,10 check over the first 14.

    >>> reg_no_is_valid("440301103097510")
    True
    """
    s = normalise_code(reg_no)
    if not re.fullmatch(r"\d{15}", s):
        return False
    return reg_no_check_digit(s[:14]) == s[14]


def reg_no_check_digit(first14: str) -> str:
    """Check digit of a 15-digit registration number (ISO 7064 MOD 11,10)."""
    p = 10
    for c in first14:
        s = (p + int(c)) % 10 or 10
        p = (2 * s) % 11
    return str((11 - p) % 10)


# --------------------------------------------------------------------- ID numbers
def id_check_char(first17: str) -> str:
    """The check character of an 18-digit resident ID (ISO 7064 MOD 11-2).

    >>> id_check_char("11010519491231002")
    'X'
    """
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS))
    return _ID_CHECKS[total % 11]


def id_birth_date(id18: str) -> _dt.date | None:
    """Birth date encoded in positions 7-14 of an 18-digit ID, or None."""
    try:
        return _dt.date(int(id18[6:10]), int(id18[10:12]), int(id18[12:14]))
    except ValueError:
        return None


def id_is_male(id18: str) -> bool:
    """The 17th digit is the sequence's last digit: odd for men, even for women."""
    return int(id18[16]) % 2 == 1


def id_problem(value: str, today: _dt.date | None = None) -> str | None:
    """Why an 18-digit resident ID number is invalid, or None when it is valid.

    >>> id_problem("11010519491231002X") is None
    True
    >>> id_problem("440301198502301234")
    'ID birth date 19850230 is not a real date'
    """
    s = normalise_code(value)
    if len(s) != 18:
        return f"ID number must have 18 characters, has {len(s)}"
    if not re.fullmatch(r"\d{17}[\dX]", s):
        return "ID number must be 17 digits and a digit or X"
    if s[0] == "0" or s[:2] == "00":
        return f"ID region code {s[:6]} is not a division code"
    born = id_birth_date(s)
    if born is None:
        return f"ID birth date {s[6:14]} is not a real date"
    today = today or _dt.date.today()
    if born.year < 1880 or born > today:
        return f"ID birth date {s[6:14]} is out of range"
    expected = id_check_char(s[:17])
    if s[17] != expected:
        return f"ID check character is {s[17]}, expected {expected}"
    return None


def id_is_valid(value: str | None) -> bool:
    """True for a valid 18-digit resident ID number.

    >>> id_is_valid("11010519491231002X"), id_is_valid("110105194912310021")
    (True, False)
    """
    return bool(value) and id_problem(value) is None


def id_from_15(old: str) -> str:
    """Convert a 15-digit legacy ID to 18 digits: insert ``19`` before the year, append the check.

    Raises ValueError when the result is not a valid ID (bad date, non-digits).

    >>> id_from_15("110105491231002")
    '11010519491231002X'
    """
    s = normalise_code(old)
    if not re.fullmatch(r"\d{15}", s):
        raise ValueError("a legacy ID number has exactly 15 digits")
    first17 = s[:6] + "19" + s[6:]
    full = first17 + id_check_char(first17)
    problem = id_problem(full)
    if problem:
        raise ValueError(problem)
    return full


# ----------------------------------------------------------------------- masking
def is_masked(value: str | None) -> bool:
    """True when an ID number has hidden characters (``*`` or full-width ``＊``)."""
    return bool(value) and any(c in _MASK_CHARS[:2] for c in str(value))


def mask_id(value: str | None) -> str:
    """The display form of an ID number: first 6 and last 4 characters, the rest ``*``.

    Already-masked values are returned in normal form. Empty stays empty.

    >>> mask_id("44030119850101123X")
    '440301********123X'
    """
    s = normalise_code(value)
    if not s:
        return ""
    if len(s) <= 10:
        return "*" * len(s)
    return s[:6] + "*" * (len(s) - 10) + s[-4:]


def mask_phone(value: str | None) -> str:
    """The display form of a phone number: a mobile keeps 3 leading and 4 trailing digits.

    >>> mask_phone("13812345678"), mask_phone("0755-83421234")
    ('138****5678', '0755-****1234')
    """
    if not value:
        return ""
    s = re.sub(r"\s", "", str(value))
    digits = re.sub(r"\D", "", s)
    if len(digits) < 7:
        return "*" * len(s)
    if "-" in s:
        area, _, rest = s.partition("-")
        return f"{area}-{'*' * max(len(rest) - 4, 0)}{rest[-4:]}"
    return s[:3] + "*" * (len(s) - 7) + s[-4:]


def masked_id_compatible(a: str | None, b: str | None) -> bool:
    """True when two ID numbers, either possibly masked, can be the same number.

    Both must have 18 characters and agree at every position visible in both.

    >>> masked_id_compatible("110105********002X", "11010519491231002X")
    True
    >>> masked_id_compatible("110105********003X", "11010519491231002X")
    False
    """
    x, y = normalise_code(a), normalise_code(b)
    if len(x) != 18 or len(y) != 18:
        return False
    return all(p == q or p == "*" or q == "*" for p, q in zip(x, y))


# ------------------------------------------------------------ numbers inside free text
_ID18 = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_ID15 = re.compile(r"(?<![0-9A-Za-z])\d{15}(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)")
#: A quick test for text that may hold an ID or phone number (11+ digits, or a spaced mobile).
NUMBER_HINT = r"\d{11}|\d{3}[- ]\d{4}[- ]\d{4}|\d{15}"


def _plausible_birth(yyyymmdd: str) -> bool:
    try:
        d = _dt.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return False
    return 1900 <= d.year <= _dt.date.today().year


def looks_like_id(s: str) -> bool:
    """True for an 18- or 15-character resident ID number, valid or mistyped (a plausible
    birth date is enough: a typo in the check character is still someone's number), that is
    not a valid USCC or registration number.

    >>> looks_like_id("44030119850101123X"), looks_like_id("914403001922038216")
    (True, False)
    """
    s = s.upper()
    if len(s) == 18:
        return id_is_valid(s) or (not uscc_is_valid(s) and _plausible_birth(s[6:14]))
    if len(s) == 15 and s.isdigit():
        return not reg_no_is_valid(s) and _plausible_birth("19" + s[6:12])
    return False


def _mask_id_match(m: re.Match) -> str:
    s = m.group(0)
    return mask_id(s) if looks_like_id(s) else s


def mask_text(text: str) -> str:
    """Mask ID numbers and mobile numbers inside free text (see the module docstring)."""
    if not text or not re.search(NUMBER_HINT, text):
        return text
    text = _ID18.sub(_mask_id_match, text)
    text = _ID15.sub(_mask_id_match, text)
    return _MOBILE.sub(lambda m: mask_phone(re.sub(r"[- ]", "", m.group(0))[-11:]), text)
