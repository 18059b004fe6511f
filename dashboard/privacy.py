"""Masking for everything the dashboard shows or exports.

Two layers, because personal data can reach a page by two routes:

* **by column**: a column named like an ID number (``id_number``, ``id_masked``,
  ``subject_id_number``, ...) or a phone (``phone``, ``phone_n``, ...) is masked with
  :func:`credgraph.identifiers.mask_id` / :func:`~credgraph.identifiers.mask_phone`;
* **in free text**: any string cell (a Cypher console result, an evidence text, a JSON
  property dump) is scanned for what looks like a resident ID number or a mobile number.
  A candidate is masked only when it validates as an ID number (check character and birth
  date) and is *not* a valid USCC or registration number, so company codes stay readable.

>>> mask_text("张三 44030119850101123X 电话 13812345678; USCC 914403001922038216")
'张三 440301********123X 电话 138****5678; USCC 914403001922038216'
>>> import polars as pl
>>> mask_frame(pl.DataFrame({"name": ["张三"], "id_number": ["44030119850101123X"], "phone": ["0755-83421234"]})).row(0)
('张三', '440301********123X', '0755-****1234')
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from typing import Any

import polars as pl

from credgraph.identifiers import (
    id_is_valid,
    mask_id,
    mask_phone,
    reg_no_is_valid,
    uscc_is_valid,
)

__all__ = ["ID_COLUMNS", "PHONE_COLUMNS", "HIDDEN_COLUMNS", "mask_text", "mask_value", "mask_frame", "mask_record",
           "mask_json_text", "looks_like_id"]

#: Column names holding ID numbers (masked whatever their content).
ID_COLUMNS = ("id_number", "id_masked", "id_full", "subject_id_number", "object_id_number", "left_id", "right_id")
#: Column names holding phone numbers.
PHONE_COLUMNS = ("phone", "phone_n", "subject_phone", "object_phone", "left_phone", "right_phone")
#: Columns that are keyed hashes or internal forms of personal data: never shown at all.
HIDDEN_COLUMNS = ("id_hash", "phone_hash", "id_prefix", "id_suffix", "birth")

_ID18 = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_ID15 = re.compile(r"(?<![0-9A-Za-z])\d{15}(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)")
_SUSPECT = r"\d{11}|\d{3}[- ]\d{4}[- ]\d{4}|\d{15}"


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
    if not text or not re.search(_SUSPECT, text):
        return text
    text = _ID18.sub(_mask_id_match, text)
    text = _ID15.sub(_mask_id_match, text)
    return _MOBILE.sub(lambda m: mask_phone(re.sub(r"[- ]", "", m.group(0))[-11:]), text)


def mask_value(value: Any) -> Any:
    """Mask one cell of any type: text is scanned, lists and dicts recursively."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, list):
        return [mask_value(v) for v in value]
    if isinstance(value, dict):
        return mask_record(value)
    return value


def mask_record(row: dict) -> dict:
    """A dict (node properties, a mention) with its personal fields masked and hashes dropped."""
    out = {}
    for k, v in row.items():
        if k in HIDDEN_COLUMNS:
            continue
        if k in ID_COLUMNS and isinstance(v, str):
            out[k] = mask_id(v)
        elif k in PHONE_COLUMNS and isinstance(v, str):
            out[k] = mask_phone(v)
        else:
            out[k] = mask_value(v)
    return out


def mask_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame as a person may see it: ID and phone columns masked, hashes dropped,
    and ID or mobile numbers inside any other text column masked."""
    if frame.width == 0:
        return frame
    drop = [c for c in frame.columns if c in HIDDEN_COLUMNS]
    if drop:
        frame = frame.drop(drop)
    exprs = []
    for c, dtype in frame.schema.items():
        if dtype == pl.Utf8:
            if c in ID_COLUMNS:
                exprs.append(pl.col(c).map_elements(mask_id, return_dtype=pl.Utf8, skip_nulls=True))
            elif c in PHONE_COLUMNS:
                exprs.append(pl.col(c).map_elements(mask_phone, return_dtype=pl.Utf8, skip_nulls=True))
            else:
                # only the cells that could hold a number are looked at (fast on large frames)
                exprs.append(pl.when(pl.col(c).str.contains(_SUSPECT))
                             .then(pl.col(c).map_elements(mask_text, return_dtype=pl.Utf8, skip_nulls=True))
                             .otherwise(pl.col(c)).alias(c))
        elif dtype == pl.List(pl.Utf8):
            exprs.append(pl.col(c).list.eval(
                pl.when(pl.element().str.contains(_SUSPECT))
                .then(pl.element().map_elements(mask_text, return_dtype=pl.Utf8, skip_nulls=True))
                .otherwise(pl.element())).alias(c))
    return frame.with_columns(exprs) if exprs else frame


def mask_json_text(text: str) -> str:
    """A JSON document (a node or relationship from the Cypher console) with personal fields masked."""
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return mask_text(text)
    return json.dumps(mask_value(value), ensure_ascii=False, default=str)
