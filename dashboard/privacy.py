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

import json
import re
from typing import Any

import polars as pl

from credgraph.identifiers import NUMBER_HINT, looks_like_id, mask_id, mask_phone, mask_text

__all__ = ["ID_COLUMNS", "PHONE_COLUMNS", "HIDDEN_COLUMNS", "mask_text", "mask_value", "mask_frame", "mask_record",
           "mask_json_text", "looks_like_id", "mask_id_expr", "mask_phone_expr"]

#: Column names holding ID numbers (masked whatever their content).
ID_COLUMNS = ("id_number", "id_masked", "id_full", "subject_id_number", "object_id_number", "left_id", "right_id",
              "id_unchecked", "subject_id_number_unchecked", "object_id_number_unchecked")
#: Column names holding phone numbers.
PHONE_COLUMNS = ("phone", "phone_n", "subject_phone", "object_phone", "left_phone", "right_phone")
#: Columns that are keyed hashes or internal forms of personal data: never shown at all.
HIDDEN_COLUMNS = ("id_hash", "phone_hash", "id_prefix", "id_suffix", "birth")

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


# --------------------------------------------------------------- whole columns at once
#: Full-width digits and letters (and the full-width star, ×) to their half-width forms, as
#: :func:`credgraph.identifiers.normalise_code` translates them.
_WIDE = {chr(0xFF10 + i): str(i) for i in range(10)} | {chr(0xFF21 + i): chr(0x41 + i) for i in range(26)} \
    | {chr(0xFF41 + i): chr(0x41 + i) for i in range(26)} | {"＊": "*", "×": "*"}
#: What Python's ``\s`` matches in text (Unicode white space and the separators \x1c-\x1f).
_SPACE = r"[\s\x1c-\x1f]"


def _stars(n: pl.Expr, most: int) -> pl.Expr:
    """``n`` stars (``n`` at most ``most``; never negative)."""
    return pl.lit("*" * max(most, 1)).str.slice(0, n.clip(lower_bound=0))


def mask_id_expr(col: str | pl.Expr, most: int = 64) -> pl.Expr:
    """:func:`credgraph.identifiers.mask_id` over a whole column, in polars (nulls stay null);
    ``most``: the longest value's length (longer values would show too few stars).

    >>> pl.DataFrame({"id": ["44030119850101123X", "４４０３０１１９８５０１０１１２３ｘ", "12345", "", None]}).select(
    ...     mask_id_expr("id"))["id"].to_list()
    ['440301********123X', '440301********123X', '*****', '', None]
    """
    e = pl.col(col) if isinstance(col, str) else col
    s = e.str.replace_many(list(_WIDE), list(_WIDE.values())).str.to_uppercase().str.replace_all(
        _SPACE[:-1] + r"\-—_]", "")
    n = s.str.len_chars()
    out = (pl.when(n <= 10).then(_stars(n, most))
           .otherwise(pl.concat_str([s.str.slice(0, 6), _stars(n - 10, most), s.str.slice(-4)])))
    return out.alias(col) if isinstance(col, str) else out


def mask_phone_expr(col: str | pl.Expr, most: int = 64) -> pl.Expr:
    """:func:`credgraph.identifiers.mask_phone` over a whole column, in polars (nulls stay null);
    ``most``: the longest value's length.

    >>> pl.DataFrame({"p": ["13812345678", "0755-83421234", "138 1234 5678", "12345", None]}).select(
    ...     mask_phone_expr("p"))["p"].to_list()
    ['138****5678', '0755-****1234', '138****5678', '*****', None]
    """
    e = pl.col(col) if isinstance(col, str) else col
    s = e.str.replace_all(_SPACE, "")
    n = s.str.len_chars()
    parts = s.str.splitn("-", 2)
    area, rest = parts.struct.field("field_0"), parts.struct.field("field_1")
    dashed = pl.concat_str([area, pl.lit("-"), _stars(rest.str.len_chars() - 4, most), rest.str.slice(-4)])
    plain = pl.concat_str([s.str.slice(0, 3), _stars(n - 7, most), s.str.slice(-4)])
    out = (pl.when(s.str.count_matches(r"\d") < 7).then(_stars(n, most))
           .when(s.str.contains("-", literal=True)).then(dashed)
           .otherwise(plain))
    return out.alias(col) if isinstance(col, str) else out


def _mask_distinct(values: pl.Series, make) -> tuple[pl.Series, pl.Series]:
    """The column's distinct values and each masked by the expression ``make(column, most)``:
    a column repeats its numbers (one per record of an entity), so each is masked once."""
    u = values.drop_nulls().unique()
    most = int(u.str.len_chars().max() or 0)
    out = u.to_frame("v").lazy().select(make("v", most)).collect().to_series()
    return u, out


def _mask_suspects(values: pl.Series) -> tuple[list[str], list[str]]:
    """The distinct values that could hold a number, and each as :func:`mask_text` writes it
    (only the cells that changed). Distinct values only: a large frame has few of them."""
    sus = values.filter(values.str.contains(NUMBER_HINT)).unique()
    old, new = [], []
    for v in sus.to_list():
        m = mask_text(v)
        if m != v:
            old.append(v)
            new.append(m)
    return old, new


def mask_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame as a person may see it: ID and phone columns masked, hashes dropped,
    and ID or mobile numbers inside any other text column masked.

    ID and phone columns are masked by polars expressions over their distinct values (no
    Python per cell), then mapped back; in other text columns only the distinct cells that look like they hold a
    number (11+ digits) are passed to :func:`mask_text`, then replaced all at once.
    """
    if frame.width == 0:
        return frame
    drop = [c for c in frame.columns if c in HIDDEN_COLUMNS]
    if drop:
        frame = frame.drop(drop)
    exprs = []
    for c, dtype in frame.schema.items():
        if dtype == pl.Utf8:
            if c in ID_COLUMNS or c in PHONE_COLUMNS:
                old, new = _mask_distinct(frame[c], mask_id_expr if c in ID_COLUMNS else mask_phone_expr)
                exprs.append(pl.col(c).replace_strict(old, new, default=None, return_dtype=pl.Utf8).alias(c))
            else:
                old, new = _mask_suspects(frame[c])
                if old:
                    exprs.append(pl.col(c).replace(old, new).alias(c))
        elif dtype == pl.List(pl.Utf8):
            old, new = _mask_suspects(frame[c].explode().drop_nulls())
            if old:
                exprs.append(pl.col(c).list.eval(pl.element().replace(old, new)).alias(c))
    return frame.with_columns(exprs) if exprs else frame


def mask_json_text(text: str) -> str:
    """A JSON document (a node or relationship from the Cypher console) with personal fields masked."""
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return mask_text(text)
    return json.dumps(mask_value(value), ensure_ascii=False, default=str)
