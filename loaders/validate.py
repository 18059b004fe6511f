"""From a chunk of source rows to standard records and quarantine rows, column by column.

Each standard field is cleaned and checked over the whole chunk at once (see
:mod:`credgraph.loaders.checks`); a row with any problem goes to quarantine with one
line per problem (field, source column, raw value, reason), all other rows become
records. Every row of the chunk ends up in exactly one of the two.

What each field must hold:

- party codes (``*_uscc``, ``*_org_code``, ``*_reg_no``): normalised (full-width,
  spaces, dashes) and check characters verified;
- ``*_id_number``: 18 characters with a valid birth date and check character;
  15-digit legacy numbers are converted to 18; masked numbers (with ``*``) are
  kept as masked when they have 18 characters and what is visible is plausible;
- ``date``/``end_date``: a real date; ``ratio``: a share in [0, 1]; ``capital``,
  ``amount``: non-negative numbers; ``count``: a whole number;
- ``*_type``: legal or natural; ``relation`` and ``event_type``: known names;
- the spec's ``required`` fields, and per kind: every record names its subject
  (name or an identifier); a relationship also names its object and relation.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import numpy as np
import polars as pl
import polars_hash  # noqa: F401  (registers the .chash namespace used for record ids)

from credgraph import identifiers as ids
from credgraph.records import EVENT_TYPES, RELATIONS, polars_schema

from . import checks
from .readers import ROW, Chunk
from .spec import OBJECT_KEYS, SUBJECT_KEYS, CatalogSpec

__all__ = ["QUARANTINE_SCHEMA", "ROW_FIELD", "validate_chunk", "constant_problems", "row_ids", "field_check"]

#: One line per problem of a quarantined row. ``row_id`` is the id the record would have had.
QUARANTINE_SCHEMA = {
    "row_id": pl.String,
    "catalog": pl.String,
    "source_unit": pl.String,
    "source_file": pl.String,
    "source_row": pl.Int64,
    "field": pl.String,
    "column": pl.String,
    "value": pl.String,
    "reason": pl.String,
    "load_batch": pl.String,
}
#: ``field`` of problems about the row as a whole (empty, cut short, not JSON).
ROW_FIELD = "(row)"
_CONSTANT = "(constant)"
_ID_HEX = 20  # hex digits of SHA-256 kept: 80 bits


def field_check(name: str) -> str:
    """Which check a standard field gets.

    >>> field_check("object_uscc"), field_check("end_date"), field_check("subject_name")
    ('uscc', 'date', 'text')
    """
    base = name.split("_", 1)[1] if name.startswith(("subject_", "object_")) else name
    return {
        "uscc": "uscc",
        "org_code": "org_code",
        "reg_no": "reg_no",
        "id_number": "id_number",
        "type": "party_type",
        "relation": "relation",
        "event_type": "event_type",
        "date": "date",
        "end_date": "date",
        "ratio": "ratio",
        "capital": "money",
        "amount": "money",
        "count": "count",
    }.get(base, "text")


# ------------------------------------------------------------------ ids
def row_ids(spec: CatalogSpec, chunk: Chunk) -> pl.Expr:
    """Stable record ids: a hash of catalog, file name, row number and the row's content.

    The content is the row's raw line where the reader has it (JSON lines), else
    its values in column-name order (empty and missing cells alike), after the
    sorted column names; so reloading the same file gives the same ids, and an id
    does not depend on chunking or on column order.

    An expression over the chunk's frame (plus ``__content`` for JSON lines).
    """
    columns = sorted(c for c in chunk.frame.columns if c != ROW)
    if chunk.content is not None:
        prefix, content = f"{spec.code}\x1f{spec.source_file}\x1f", pl.col("__content")
    else:
        header = "\x1e".join(columns)
        prefix = f"{spec.code}\x1f{spec.source_file}\x1f{header}\x1f"
        content = pl.concat_str([pl.col(c).fill_null("") for c in columns], separator="\x1f") if columns else pl.lit("")
    key = pl.concat_str([pl.lit(prefix), pl.col(ROW).cast(pl.String), pl.lit("\x1f"), content])
    # SHA-256 of the key (polars-hash runs it over the column in Rust), first 20 hex digits:
    # the same as hashlib.sha256(key.encode()).hexdigest()[:20], so ids never depend on a library version.
    return key.chash.sha2_256().str.slice(0, _ID_HEX)


def _broken_id(spec: CatalogSpec, row: int, text: str | None) -> str:
    key = f"{spec.code}\x1f{spec.source_file}\x1f{row}\x1f\x00{text or ''}"
    return hashlib.sha256(key.encode()).hexdigest()[:_ID_HEX]


# ------------------------------------------------------------------ parsing
def _reason(mask: pl.Series, reason: str) -> pl.Series:
    return pl.select(pl.when(pl.lit(mask.fill_null(False))).then(pl.lit(reason))).to_series()


def _first(*reasons: pl.Series) -> pl.Series:
    return pl.select(pl.coalesce([pl.lit(r) for r in reasons])).to_series()


def _parse_values(v: pl.DataFrame, fields: list[str]) -> pl.DataFrame:
    """Parsed value (``f``) and problem (``__p_f``) columns for the non-code fields."""
    new: list[pl.Series] = []
    for f in fields:
        kind = field_check(f)
        text = v[f]
        given = text.is_not_null()
        if kind == "date":
            parsed = checks.parse_dates(text)
            problem = _reason(given & parsed.is_null(), f"not a date (write {checks.DATE_FORMATS_HINT})")
        elif kind == "ratio":
            parsed = checks.parse_ratios(text)
            out_of_range = parsed.is_nan() | (parsed < 0) | (parsed > 1)
            problem = _first(
                _reason(given & parsed.is_null(), "not a share ratio (write 35%, 0.35 or 35)"),
                _reason(given & out_of_range, "share ratio must be between 0 and 1 (0% to 100%)"),
            )
        elif kind == "money":
            parsed = checks.parse_numbers(text, unit_cny=1e4 if f == "capital" else 1.0)
            problem = _first(
                _reason(given & (parsed.is_null() | ~parsed.is_finite()), "not a number"),
                _reason(given & (parsed < 0), "must not be negative"),
            )
        elif kind == "count":
            number = checks.parse_counts(text)
            bad = given & (number.is_null() | ~number.is_finite() | (number < 0) | (number != number.floor())).fill_null(True)
            problem = _reason(bad, "not a whole number of 0 or more")
            nothing = pl.Series([None] * len(number), dtype=pl.Int64)
            parsed = number.cast(pl.Int64, strict=False).zip_with(~bad.fill_null(False), nothing)
        elif kind == "party_type":
            parsed = checks.party_types(text)
            problem = _reason(given & parsed.is_null(), "must be legal or natural (or 法人 / 自然人)")
        elif kind == "relation":
            parsed = checks.relations(text)
            problem = _reason(given & parsed.is_null(), f"unknown relation (expected one of {', '.join(RELATIONS)})")
        elif kind == "event_type":
            parsed = checks.event_types(text)
            problem = _reason(
                given & parsed.is_null(), f"unknown event type (expected one of {', '.join(EVENT_TYPES)})"
            )
        else:
            continue
        new += [parsed.alias(f), problem.cast(pl.String).alias(f"__p_{f}")]
    return v.with_columns(new) if new else v


def _code_messages(kind: str, values: list[str], today: dt.date) -> list[str | None]:
    """Reasons for the (few) values the vectorised check rejected; None where identifiers accepts."""
    out: list[str | None] = []
    for value in values:
        if kind == "uscc":
            out.append(ids.uscc_problem(value))
        elif kind == "org_code":
            if ids.org_code_is_valid(value):
                out.append(None)
            elif len(value) != 9 or not value[:8].isalnum() or not value.isascii():
                out.append(f"organisation code must be 8 digits/letters and a check character, has {len(value)} characters")
            else:
                out.append(f"organisation code check character is {value[8]}, expected {ids.org_code_check_char(value[:8])}")
        elif kind == "reg_no":
            if ids.reg_no_is_valid(value):
                out.append(None)
            elif len(value) != 15 or not value.isdigit():
                out.append(f"registration number must have 15 digits, has {len(value)} characters")
            else:
                out.append("registration number check digit is wrong")
    return out


def _id_messages(norm: list[str], today: dt.date) -> list[str | None]:
    out: list[str | None] = []
    for value in norm:
        if ids.is_masked(value):
            out.append(checks.masked_id_problem(value, today))
        elif len(value) == 15 and value.isdigit():
            try:
                ids.id_from_15(value)
                out.append(None)
            except ValueError as exc:
                out.append(f"15-digit ID cannot be converted to 18: {exc}")
        else:
            out.append(ids.id_problem(value, today))
    return out


def _check_codes(v: pl.DataFrame, fields: list[str], today: dt.date) -> pl.DataFrame:
    """Normalised code columns and their problems (``__p_f``)."""
    new: list[pl.Series] = []
    for f in fields:
        kind = field_check(f)
        norm = checks.normalise_codes(v[f])
        if kind == "id_number":
            value = checks.id15_to_18(norm)
            masked = np.flatnonzero(value.str.contains("*", literal=True).fill_null(False).to_numpy())
            ok = checks.id18_ok(value, today)
            if len(masked):
                ok[masked] = checks.masked_id_ok(value.gather(masked), today)
        else:
            value = norm
            ok = {"uscc": checks.uscc_ok, "org_code": checks.org_code_ok, "reg_no": checks.reg_no_ok}[kind](norm)
        problem = pl.Series(f"__p_{f}", [None] * len(v), dtype=pl.String)
        bad = np.flatnonzero(~ok)
        if len(bad):
            failing = norm.gather(bad).to_list()
            reasons = _id_messages(failing, today) if kind == "id_number" else _code_messages(kind, failing, today)
            problem = problem.scatter(bad, reasons)
            if kind == "id_number":  # identifiers accepted a 15-digit number the fast path did not convert
                accepted = [i for i, r, x in zip(bad, reasons, failing) if r is None and len(x) == 15]
                if accepted:
                    value = value.clone().scatter(accepted, [ids.id_from_15(norm[int(i)]) for i in accepted])
        new += [value.alias(f), problem]
    return v.with_columns(new) if new else v


def constant_problems(spec: CatalogSpec) -> dict[str, str]:
    """Problems of a spec's constants, by field (empty when all are good)."""
    fields = list(spec.constants)
    v = pl.DataFrame({f: [spec.constants[f]] for f in fields}, schema={f: pl.String for f in fields})
    v = v.with_columns(pl.col(f).str.strip_chars().replace("", None) for f in fields)
    today = dt.date.today()
    codes = [f for f in fields if field_check(f) in ("uscc", "org_code", "reg_no", "id_number")]
    v = _check_codes(_parse_values(v, fields), codes, today)
    row = v.row(0, named=True)
    return {f: row[f"__p_{f}"] for f in fields if row.get(f"__p_{f}")}


# ------------------------------------------------------------------ the chunk
def validate_chunk(
    spec: CatalogSpec, chunk: Chunk, batch: str, today: dt.date | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Standard records (schema ``records.polars_schema()``) and quarantine lines for one chunk."""
    today = today or dt.date.today()
    raw = chunk.frame
    columns = [c for c in raw.columns if c != ROW]
    if chunk.content is not None:
        raw = raw.with_columns(chunk.content.alias("__content"))

    # standard fields as stripped text, value maps applied, empty → null
    mapped = list(spec.columns)
    texts = []
    for f, col in spec.columns.items():
        t = pl.col(col).str.strip_chars()
        if f in spec.values:
            t = t.replace(spec.values[f])
        texts.append(pl.when(t != "").then(t).alias(f))
    texts += [pl.lit(value, dtype=pl.String).alias(f) for f, value in spec.constants.items()]
    fields = mapped + list(spec.constants)
    mapped_columns = set(spec.source_columns)
    unmapped = [c for c in columns if c not in mapped_columns]
    extra = pl.struct(unmapped).struct.json_encode() if unmapped else pl.lit(None, dtype=pl.String)
    empty = [pl.col(c).is_null() | (pl.col(c) == "") for c in columns]
    empty_row = pl.all_horizontal(empty) if columns else pl.lit(True)
    # lazily, so polars computes shared sub-expressions once and the columns in parallel
    v = (
        raw.lazy()
        .select(pl.col(ROW), *texts, extra.alias("__extra"), row_ids(spec, chunk).alias("__id"), empty_row.alias("__empty"))
        .collect()
    )

    # presence checks use the values before parsing, so a bad code is reported once, as bad
    present = {f: pl.col(f).is_not_null() for f in fields}

    def any_present(keys) -> pl.Expr:
        given = [present[k] for k in keys if k in present]
        return pl.any_horizontal(given) if given else pl.lit(False)

    required: dict[str, pl.Expr] = {
        "subject_name": pl.when(~any_present(SUBJECT_KEYS)).then(
            pl.lit("the row names no subject: needs subject_name or a subject identifier")
        )
    }
    if spec.kind == "relationship":
        required["object_name"] = pl.when(~any_present(OBJECT_KEYS)).then(
            pl.lit("the row names no object: needs object_name or an object identifier")
        )
        required["relation"] = pl.when(~present["relation"]).then(pl.lit("required field is empty"))
    for f in spec.required:  # the spec's own list; on the same field it says it more plainly
        required[f] = pl.when(~present[f]).then(pl.lit("required field is empty"))
    required_exprs = [e.alias(f"__r_{f}") for f, e in required.items()]
    v = v.with_columns(*required_exprs)

    codes = [f for f in fields if field_check(f) in ("uscc", "org_code", "reg_no", "id_number")]
    v = _check_codes(_parse_values(v, fields), codes, today)

    problem_cols = [c for c in v.columns if c.startswith(("__p_", "__r_"))]
    bad = pl.any_horizontal([pl.col(c).is_not_null() for c in problem_cols]) if problem_cols else pl.lit(False)
    v = v.with_columns((bad | pl.col("__empty")).alias("__bad"))

    records = _records(spec, v.filter(~pl.col("__bad")), batch)
    quarantine = _quarantine(spec, raw, v.filter(pl.col("__bad")), chunk, problem_cols, batch)
    return records, quarantine


def _records(spec: CatalogSpec, v: pl.DataFrame, batch: str) -> pl.DataFrame:
    schema = polars_schema()
    lineage = {
        "record_id": pl.col("__id"),
        "source_unit": pl.lit(spec.source_unit),
        "catalog": pl.lit(spec.code),
        "source_file": pl.lit(spec.source_file),
        "source_row": pl.col(ROW),
        "load_batch": pl.lit(batch),
        "kind": pl.lit(spec.kind),
    }
    out = []
    for name, dtype in schema.items():
        if name in lineage:
            e = lineage[name]
        elif name == "extra":
            e = pl.col("__extra")
        elif name in v.columns:
            e = pl.col(name)
        else:
            e = pl.lit(None)
        out.append(e.cast(dtype).alias(name))
    return v.select(out)


def _quarantine(
    spec: CatalogSpec, raw: pl.DataFrame, bad: pl.DataFrame, chunk: Chunk, problem_cols: list[str], batch: str
) -> pl.DataFrame:
    parts: list[pl.DataFrame] = []
    if bad.height:
        rawbad = raw.join(bad.select(ROW), on=ROW, how="semi")
        joined = bad.join(rawbad, on=ROW, how="left", suffix="__raw")
        empty = joined.filter(pl.col("__empty"))
        if empty.height:
            parts.append(
                empty.select(
                    pl.col("__id").alias("row_id"),
                    pl.col(ROW).alias("source_row"),
                    pl.lit(ROW_FIELD).alias("field"),
                    pl.lit("").alias("column"),
                    pl.lit(None, dtype=pl.String).alias("value"),
                    pl.lit("empty row").alias("reason"),
                )
            )
        rest = joined.filter(~pl.col("__empty"))
        for pc in problem_cols:
            f = pc[4:]
            hits = rest.filter(pl.col(pc).is_not_null())
            if not hits.height:
                continue
            if f == "subject_name" and pc.startswith("__r_") and f not in spec.columns:
                column = "/".join(spec.columns[k] for k in SUBJECT_KEYS if k in spec.columns)
            elif f == "object_name" and pc.startswith("__r_") and f not in spec.columns:
                column = "/".join(spec.columns[k] for k in OBJECT_KEYS if k in spec.columns)
            else:
                column = spec.columns.get(f, _CONSTANT if f in spec.constants else "")
            src = spec.columns.get(f)
            if src is not None:
                value = pl.col(src + "__raw") if src + "__raw" in hits.columns else pl.col(src)
            elif f in spec.constants:
                value = pl.lit(spec.constants[f])
            else:
                value = pl.lit(None, dtype=pl.String)
            parts.append(
                hits.select(
                    pl.col("__id").alias("row_id"),
                    pl.col(ROW).alias("source_row"),
                    pl.lit(f).alias("field"),
                    pl.lit(column).alias("column"),
                    value.cast(pl.String).alias("value"),
                    pl.col(pc).alias("reason"),
                )
            )
    if chunk.broken.height:
        b = chunk.broken
        parts.append(
            b.select(
                pl.Series("row_id", [_broken_id(spec, r, t) for r, t in zip(b[ROW].to_list(), b["value"].to_list())]),
                pl.col(ROW).alias("source_row"),
                pl.lit(ROW_FIELD).alias("field"),
                pl.lit("").alias("column"),
                pl.col("value"),
                pl.col("reason"),
            )
        )
    if not parts:
        return pl.DataFrame(schema=QUARANTINE_SCHEMA)
    q = pl.concat([p.cast({"source_row": pl.Int64, "value": pl.String}) for p in parts], how="vertical")
    q = q.with_columns(
        pl.lit(spec.code).alias("catalog"),
        pl.lit(spec.source_unit).alias("source_unit"),
        pl.lit(spec.source_file).alias("source_file"),
        pl.lit(batch).alias("load_batch"),
    )
    return q.select([pl.col(c).cast(t) for c, t in QUARANTINE_SCHEMA.items()]).sort("source_row", maintain_order=True)
