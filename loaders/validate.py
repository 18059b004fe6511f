"""From a chunk of source rows to standard records, quarantine lines and findings, column by column.

Each standard field is read from its source (a column, several joined, a JSON path,
with transforms), cleaned and checked over the whole chunk at once (see
:mod:`credgraph.loaders.checks` and :mod:`credgraph.loaders.identity`).

A bad value of an optional field is *set aside*: nulled in the record, which is kept,
with a finding (field, source column, value, reason). A row goes to quarantine, with
one line per problem, only when it is empty or broken, when a ``required`` field (or a
party type, relation or event type) is empty or bad, or when no name, no valid
identifier, no phone and no e-mail is left to name its subject (or, in a relationship, its
object). Every row
of the chunk ends up in exactly one of records and quarantine.

What each field must hold:

- party codes (``*_uscc``, ``*_org_code``, ``*_reg_no``): normalised (full-width,
  spaces, dashes) and check characters verified;
- ``*_id_number``: 18 characters with a valid birth date and check character;
  15-digit legacy numbers are converted to 18; masked numbers (with ``*``) are
  kept as masked when they have 18 characters and what is visible is plausible;
- ``*_birth_date``, ``*_gender``, ``*_email``, ``*_nationality``, typed identifiers
  (``[identifiers]``, checked by scheme) and ``*_identifiers``: see :mod:`.identity`;
- ``date``/``end_date``: a real date; ``ratio``: a share in [0, 1]; ``capital``,
  ``amount``: non-negative numbers; ``count``: a whole number;
- ``*_type``: legal or natural; ``relation`` and ``event_type``: known names;
- ``*_name``: kept as written, in Unicode NFC.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import numpy as np
import polars as pl
import polars_hash  # noqa: F401  (registers the .chash namespace used for record ids)

from credgraph import identifiers as ids
from credgraph.records import EVENT_TYPES, IDENTIFIER_SCHEMES, PERSONAL_SCHEMES, RELATIONS, polars_schema

from . import checks, identity
from .readers import ROW, Chunk
from .spec import OBJECT_KEYS, PATH_FORMATS, SUBJECT_KEYS, CatalogSpec, ColumnSource, json_path, top_key

__all__ = [
    "QUARANTINE_SCHEMA",
    "FINDINGS_SCHEMA",
    "ROW_FIELD",
    "validate_chunk",
    "validate_chunk_findings",
    "masked_value",
    "constant_problems",
    "check_code_column",
    "row_ids",
    "field_check",
]

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
#: One line per value set aside in an accepted record (same columns; ``row_id`` is its ``record_id``).
FINDINGS_SCHEMA = QUARANTINE_SCHEMA
_CODE_KINDS = ("uscc", "org_code", "reg_no", "id_number")
#: ``field`` of problems about the row as a whole (empty, cut short, not JSON).
ROW_FIELD = "(row)"
_CONSTANT = "(constant)"
_ID_HEX = 20  # hex digits of SHA-256 kept: 80 bits


def field_check(name: str) -> str:
    """Which check a standard field gets.

    >>> field_check("object_uscc"), field_check("end_date"), field_check("subject_name"), field_check("reason")
    ('uscc', 'date', 'name', 'text')
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
        "birth_date": "birth_date",
        "gender": "gender",
        "email": "email",
        "nationality": "nationality",
        "name": "name",
        "identifiers": "identifiers",
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


def _parse_values(v: pl.DataFrame, fields: list[str], date_format: tuple[str, ...] | None = None) -> pl.DataFrame:
    """Parsed value (``f``) and problem (``__p_f``) columns for the non-code fields."""
    new: list[pl.Series] = []
    for f in fields:
        kind = field_check(f)
        text = v[f]
        given = text.is_not_null()
        if kind == "date":
            parsed = checks.parse_dates(text, date_format)
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


def check_code_column(kind: str, norm: pl.Series, today: dt.date) -> tuple[pl.Series, pl.Series]:
    """A normalised column of one PRC code kind (uscc, org_code, reg_no, id_number), checked:
    the value (15-digit IDs converted to 18) and why it is invalid (null where valid)."""
    if kind == "id_number":
        value = checks.id15_to_18(norm)
        masked = np.flatnonzero(value.str.contains("*", literal=True).fill_null(False).to_numpy())
        ok = checks.id18_ok(value, today)
        if len(masked):
            ok[masked] = checks.masked_id_ok(value.gather(masked), today)
    else:
        value = norm
        ok = {"uscc": checks.uscc_ok, "org_code": checks.org_code_ok, "reg_no": checks.reg_no_ok}[kind](norm)
    problem = pl.Series([None] * len(norm), dtype=pl.String)
    bad = np.flatnonzero(~ok)
    if len(bad):
        failing = norm.gather(bad).to_list()
        reasons = _id_messages(failing, today) if kind == "id_number" else _code_messages(kind, failing, today)
        problem = problem.scatter(bad, reasons)
        if kind == "id_number":  # identifiers accepted a 15-digit number the fast path did not convert
            accepted = [i for i, r, x in zip(bad, reasons, failing) if r is None and len(x) == 15]
            if accepted:
                value = value.clone().scatter(accepted, [ids.id_from_15(norm[int(i)]) for i in accepted])
    return value, problem


def _check_codes(v: pl.DataFrame, fields: list[str], today: dt.date) -> pl.DataFrame:
    """Normalised code columns and their problems (``__p_f``)."""
    new: list[pl.Series] = []
    for f in fields:
        value, problem = check_code_column(field_check(f), checks.normalise_codes(v[f]), today)
        new += [value.alias(f), problem.alias(f"__p_{f}")]
    return v.with_columns(new) if new else v


def _identity_values(v: pl.DataFrame, fields: list[str], today: dt.date, date_format: tuple[str, ...] | None) -> pl.DataFrame:
    """Parsed person fields (birth date, gender, e-mail, nationality, names, identifiers JSON) and problems."""
    new: list[pl.Series] = []
    for f in fields:
        kind = field_check(f)
        text = v[f]
        if kind == "birth_date":
            value, problem = identity.birth_dates(text, today, date_format)
        elif kind == "gender":
            value, problem = identity.genders(text)
        elif kind == "email":
            value, problem = identity.emails(text)
        elif kind == "nationality":
            value, problem = identity.nationalities(text)
        elif kind == "name":
            value, problem = identity.names(text), pl.Series([None] * len(text), dtype=pl.String)
        elif kind == "identifiers":
            value, problem = _identifier_json_column(text, today)
        else:
            continue
        new += [value.alias(f), problem.cast(pl.String).alias(f"__p_{f}")]
    return v.with_columns(new) if new else v


def _identifier_json_column(text: pl.Series, today: dt.date) -> tuple[pl.Series, pl.Series]:
    """A mapped ``*_identifiers`` column: JSON arrays of {scheme, value}, each checked by scheme."""
    out: list[str | None] = []
    why: list[str | None] = []
    for raw in text.to_list():
        if raw is None:
            out.append(None)
            why.append(None)
            continue
        try:
            items = json.loads(raw)
        except json.JSONDecodeError:
            items = None
        if not isinstance(items, list) or not all(
            isinstance(i, dict) and isinstance(i.get("scheme"), str) and i.get("value") not in (None, "") for i in items
        ):
            out.append(None)
            why.append('not a JSON array of {"scheme": ..., "value": ...}')
            continue
        unknown = [i["scheme"] for i in items if i["scheme"] not in IDENTIFIER_SCHEMES]
        if unknown:
            out.append(None)
            why.append(f"unknown identifier scheme {unknown[0]!r} (known: {', '.join(IDENTIFIER_SCHEMES)})")
            continue
        entries = []
        problems = []
        for i in items:
            value, problem = identity.check_identifier(i["scheme"], pl.Series([str(i["value"])]), today)
            if problem[0] is None and value[0] is not None:
                entries.append((i["scheme"], value))
            else:
                problems.append(f"{i['scheme']}: {problem[0] or 'empty'}")
        out.append(identity.identifiers_json(entries, 1)[0] if entries else None)
        why.append("; ".join(problems) if problems else None)
    return pl.Series(out, dtype=pl.String), pl.Series(why, dtype=pl.String)


def constant_problems(spec: CatalogSpec) -> dict[str, str]:
    """Problems of a spec's constants, by field (empty when all are good)."""
    fields = list(spec.constants)
    v = pl.DataFrame({f: [spec.constants[f]] for f in fields}, schema={f: pl.String for f in fields})
    v = v.with_columns(pl.col(f).str.strip_chars().replace("", None) for f in fields)
    today = dt.date.today()
    codes = [f for f in fields if field_check(f) in _CODE_KINDS]
    v = _check_codes(_parse_values(v, fields, spec.date_format), codes, today)
    v = _identity_values(v, fields, today, spec.date_format)
    row = v.row(0, named=True)
    return {f: row[f"__p_{f}"] for f in fields if row.get(f"__p_{f}")}


# ------------------------------------------------------------------ sources
def _transform(e: pl.Expr, name: str) -> pl.Expr:
    return {
        "strip": lambda x: x.str.strip_chars(),
        "upper": lambda x: x.str.to_uppercase(),
        "lower": lambda x: x.str.to_lowercase(),
        "title": lambda x: x.str.to_titlecase(),
        "digits": lambda x: x.str.replace_all(r"[^0-9]", ""),
        "alnum": lambda x: x.str.replace_all(r"[^\p{L}\p{N}]", ""),
        "nfc": lambda x: x.str.normalize("NFC"),
        "nfkc": lambda x: x.str.normalize("NFKC"),
        "collapse_spaces": lambda x: x.str.replace_all(r"\s+", " "),
    }[name](e)


def _ref_expr(spec: CatalogSpec, ref: str, columns: set[str]) -> pl.Expr:
    """One source reference as text: a column, or a path into a column's JSON value."""
    if ref in columns or spec.format not in PATH_FORMATS:
        return pl.col(ref).cast(pl.String)
    return pl.col(top_key(ref)).str.json_path_match(json_path(ref))


def _path_missing(spec: CatalogSpec, src: ColumnSource, columns: set[str]) -> pl.Expr | None:
    """True where every path of a source has a top-level value but nothing at the path."""
    paths = [r for r in src.refs if r not in columns and spec.format in PATH_FORMATS and top_key(r) in columns]
    if not paths or len(paths) != len(src.refs):
        return None
    flags = [pl.col(top_key(r)).is_not_null() & _ref_expr(spec, r, columns).is_null() for r in paths]
    return pl.all_horizontal(flags)


def _source_expr(spec: CatalogSpec, src: ColumnSource, columns: set[str], value_map: dict | None) -> pl.Expr:
    parts = [_ref_expr(spec, r, columns).str.strip_chars() for r in src.refs]
    if len(parts) == 1:
        t = parts[0]
    else:
        t = pl.concat_str([pl.when(p != "").then(p) for p in parts], separator=src.sep, ignore_nulls=True)
    for name in src.transforms:
        t = _transform(t, name)
    if src.transforms:
        t = t.str.strip_chars()
    if value_map:
        t = t.replace(value_map)
    return pl.when(t != "").then(t)


def _core(spec: CatalogSpec) -> set[str]:
    """Fields whose bad value sends the row to quarantine; every other bad value is set aside."""
    core = set(spec.required) | {"subject_type", "object_type", "event_type", "relation"}
    return core


#: An ID number that has the shape of a resident ID (17 digits and a check character) but fails its check.
_ID_SHAPE = r"^\d{17}[\dX]$"


def _unchecked_ids(v: pl.DataFrame, fields: list[str]) -> list[pl.Expr]:
    """``{party}_id_number_unchecked``: the set-aside ID numbers that have the shape of a resident ID
    (17 digits and a check character) but fail the check, most often a typo (a mistyped digit, two
    swapped digits). Kept for resolution as evidence, never as an identifier; the finding is still
    written. Masked numbers and numbers of another shape are not kept."""
    out = []
    for f in fields:
        bad = pl.col(f"__p_{f}").is_not_null() & pl.col(f).str.contains(_ID_SHAPE).fill_null(False)
        out.append(pl.when(bad).then(pl.col(f)).otherwise(pl.lit(None, dtype=pl.String)).alias(f"{f}_unchecked"))
    return out


def _identified(v: pl.DataFrame, party: str) -> pl.Series:
    """True where a party has a name, a valid identifier, a phone or an e-mail left: each of them
    identifies a subject that other records can be matched to (a birth date or an address alone does not)."""
    keys = [f"{party}_{k}" for k in ("name", "uscc", "org_code", "reg_no", "id_number", "identifiers", "phone", "email")]
    have = [v[k].is_not_null() for k in keys if k in v.columns]
    if not have:
        return pl.Series([False] * v.height)
    return pl.select(pl.any_horizontal([pl.lit(h) for h in have])).to_series()


# ------------------------------------------------------------------ the chunk
def validate_chunk(
    spec: CatalogSpec, chunk: Chunk, batch: str, today: dt.date | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Standard records (schema ``records.polars_schema()``) and quarantine lines for one chunk."""
    records, quarantine, _ = validate_chunk_findings(spec, chunk, batch, today)
    return records, quarantine


def validate_chunk_findings(
    spec: CatalogSpec, chunk: Chunk, batch: str, today: dt.date | None = None
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Standard records, quarantine lines, and findings (values set aside in accepted records) for one chunk."""
    today = today or dt.date.today()
    raw = chunk.frame
    columns = [c for c in raw.columns if c != ROW]
    colset = set(columns)
    if chunk.content is not None:
        raw = raw.with_columns(chunk.content.alias("__content"))

    # standard fields as stripped text, value maps applied, empty → null
    mapped = list(spec.columns)
    texts = []
    missing_paths = []
    for f in mapped:
        src = spec.source_of(f)
        texts.append(_source_expr(spec, src, colset, spec.values.get(f)).alias(f))
        flag = _path_missing(spec, src, colset)
        if flag is not None:
            missing_paths.append(flag.alias(f"__m_{f}"))
    # typed identifiers: one text column per (party, mapping)
    id_cols: list[tuple[str, str, str, ColumnSource]] = []  # (column, party, scheme, source)
    for party, pairs in spec.identifiers.items():
        for i, (scheme, src) in enumerate(pairs):
            col = f"__idv_{party}_{i}"
            id_cols.append((col, party, scheme, src))
            texts.append(_source_expr(spec, src, colset, None).alias(col))
            flag = _path_missing(spec, src, colset)
            if flag is not None:
                missing_paths.append(flag.alias(f"__m_{col}"))
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
        .select(
            pl.col(ROW), *texts, *missing_paths, extra.alias("__extra"), row_ids(spec, chunk).alias("__id"),
            empty_row.alias("__empty"),
        )
        .collect()
    )
    # the text before parsing, shown as the value of a finding
    v = v.with_columns([pl.col(f).alias(f"__t_{f}") for f in fields] + [pl.col(c).alias(f"__t_{c}") for c, *_ in id_cols])

    codes = [f for f in fields if field_check(f) in _CODE_KINDS]
    v = _check_codes(_parse_values(v, fields, spec.date_format), codes, today)
    v = _identity_values(v, fields, today, spec.date_format)
    new = []
    for col, _party, scheme, _src in id_cols:
        value, problem = identity.check_identifier(scheme, v[col], today)
        new += [value.alias(col), problem.alias(f"__p_{col}")]
    if new:
        v = v.with_columns(new)
    path_targets = [(f, spec.source_of(f)) for f in mapped] + [(c, src) for c, _, _, src in id_cols]
    for f, src in path_targets:  # a path with nothing at it: say so, unless another problem was found
        if f"__m_{f}" in v.columns:
            reason = pl.when(pl.col(f"__m_{f}")).then(pl.lit(f"nothing at path {' / '.join(src.refs)} in this row"))
            p = f"__p_{f}"
            v = v.with_columns(pl.coalesce(pl.col(p), reason).alias(p) if p in v.columns else reason.alias(p))

    # set aside the bad values of optional fields; bad core fields quarantine the row
    core = _core(spec)
    problem_cols = [c for c in v.columns if c.startswith("__p_")]
    fatal_cols = [c for c in problem_cols if c[4:] in core]
    aside_cols = [c for c in problem_cols if c[4:] not in core]
    v = v.with_columns(_unchecked_ids(v, [c[4:] for c in aside_cols if field_check(c[4:]) == "id_number"]))
    v = v.with_columns(
        pl.when(pl.col(c).is_null()).then(pl.col(c[4:])).alias(c[4:]) for c in aside_cols
    )

    # identifiers JSON per party, and the PRC columns it may fill
    for party in ("subject", "object"):
        entries = [(scheme, v[col]) for col, p, scheme, _ in id_cols if p == party]
        if not entries:
            continue
        field_name = f"{party}_identifiers"
        if field_name in v.columns:  # a mapped JSON column as well: keep its entries first
            entries = _entries_of_json(v[field_name]) + entries
        new = [identity.identifiers_json(entries, v.height).alias(field_name)]
        for scheme, kind in identity.PRC_SCHEMES.items():
            target = f"{party}_{kind}"
            if target in fields:
                continue
            given = [vals for s_, vals in entries if s_ == scheme]
            if given:
                new.append(pl.select(pl.coalesce([pl.lit(g) for g in given])).to_series().alias(target))
        v = v.with_columns(new)

    # what still names the parties, once bad values are set aside
    required: dict[str, pl.Series | pl.Expr] = {}
    for party, keys in (("subject", SUBJECT_KEYS), ("object", OBJECT_KEYS)):
        if party == "object" and spec.kind != "relationship":
            continue
        named = _identified(v, party)
        required[f"{party}_name"] = pl.when(~pl.lit(named)).then(
            pl.lit(f"the row names no {party}: needs {party}_name, a valid {party} identifier, phone or e-mail")
        )
    if spec.kind == "relationship":
        required["relation"] = pl.when(pl.col("relation").is_null()).then(pl.lit("required field is empty"))
    for f in spec.required:  # the spec's own list; on the same field it says it more plainly
        required[f] = pl.when(pl.col(f"__t_{f}").is_null()).then(pl.lit("required field is empty"))
    v = v.with_columns(e.alias(f"__r_{f}") for f, e in required.items())
    req_cols = [f"__r_{f}" for f in required]

    fatal = req_cols + fatal_cols
    bad = pl.any_horizontal([pl.col(c).is_not_null() for c in fatal]) if fatal else pl.lit(False)
    v = v.with_columns((bad | pl.col("__empty")).alias("__bad"))

    labels = _labels(spec, id_cols)
    schema = polars_schema()
    record_cols = [c for c in v.columns if c in schema or c in (ROW, "__id", "__extra")]
    records = _records(spec, v.filter(~pl.col("__bad")).select(record_cols), batch)
    quarantine = _lines(spec, raw, v.filter(pl.col("__bad")), chunk, req_cols + problem_cols, labels, batch)
    if aside_cols:  # the accepted rows with a value set aside
        aside = v.filter(~pl.col("__bad") & pl.any_horizontal([pl.col(c).is_not_null() for c in aside_cols]))
    else:
        aside = v.clear()
    findings = _lines(spec, raw, aside, None, aside_cols, labels, batch)
    return records, quarantine, findings


def _entries_of_json(col: pl.Series) -> list[tuple[str, pl.Series]]:
    """A checked identifiers JSON column as (scheme, values) pairs, for merging with mapped columns."""
    rows = [json.loads(x) if x else [] for x in col.to_list()]
    schemes = list(dict.fromkeys(i["scheme"] for r in rows for i in r))
    out = []
    for scheme in schemes:
        depth = max(sum(1 for i in r if i["scheme"] == scheme) for r in rows)
        for k in range(depth):
            vals = []
            for r in rows:
                mine = [i["value"] for i in r if i["scheme"] == scheme]
                vals.append(mine[k] if k < len(mine) else None)
            out.append((scheme, pl.Series(vals, dtype=pl.String)))
    return out


def _labels(spec: CatalogSpec, id_cols) -> dict[str, tuple[str, str, str | None]]:
    """Problem target → (field as findings name it, source description, plain source column or None)."""
    out: dict[str, tuple[str, str, str | None]] = {}
    for f in spec.columns:
        src = spec.source_of(f)
        out[f] = (f, src.describe(), src.plain)
    for f in spec.constants:
        out[f] = (f, _CONSTANT, None)
    for col, party, scheme, src in id_cols:
        out[col] = (f"{party}_identifiers[{scheme}]", src.describe(), src.plain)
    for party, keys in (("subject", SUBJECT_KEYS), ("object", OBJECT_KEYS)):
        # "names no party": every column that could have named it
        f = f"{party}_name"
        described = [spec.columns[k] for k in keys if k in spec.columns]
        described += [src.describe() for _, p, _, src in id_cols if p == party]
        described += [spec.columns[k] for k in (f"{party}_phone", f"{party}_email") if k in spec.columns]
        out[f"r:{f}"] = (f, "/".join(described), out[f][2] if f in out else None)
    return out


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


def _lines(
    spec: CatalogSpec,
    raw: pl.DataFrame,
    rows: pl.DataFrame,
    chunk: Chunk | None,
    problem_cols: list[str],
    labels: dict[str, tuple[str, str, str | None]],
    batch: str,
) -> pl.DataFrame:
    """One line per problem of the given rows (and, with ``chunk``, per broken row), schema QUARANTINE_SCHEMA."""
    parts: list[pl.DataFrame] = []
    if rows.height and problem_cols:
        rawbad = raw.join(rows.select(ROW), on=ROW, how="semi")
        joined = rows.join(rawbad, on=ROW, how="left", suffix="__raw")
        empty = joined.filter(pl.col("__empty"))
        if chunk is not None and empty.height:
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
            target = pc[4:]
            hits = rest.filter(pl.col(pc).is_not_null())
            if not hits.height:
                continue
            key = f"r:{target}" if pc.startswith("__r_") and f"r:{target}" in labels else target
            field_name, column, plain = labels.get(key, (target, "", None))
            if target in spec.constants:
                value = pl.lit(spec.constants[target])
            elif plain is not None and (plain + "__raw" in hits.columns or plain in raw.columns):
                value = pl.col(plain + "__raw") if plain + "__raw" in hits.columns else pl.col(plain)
            elif f"__t_{target}" in hits.columns:
                value = pl.col(f"__t_{target}")
                tops = [t for t in dict.fromkeys(top_key(r) for r in column.split("+")) if t in raw.columns]
                if spec.format in PATH_FORMATS and tops:  # nothing at a path: show the value it looked into
                    top = tops[0] + "__raw" if tops[0] + "__raw" in hits.columns else tops[0]
                    value = pl.coalesce(value, pl.col(top))
            else:
                value = pl.lit(None, dtype=pl.String)
            parts.append(
                hits.select(
                    pl.col("__id").alias("row_id"),
                    pl.col(ROW).alias("source_row"),
                    pl.lit(field_name).alias("field"),
                    pl.lit(column).alias("column"),
                    value.cast(pl.String).alias("value"),
                    pl.col(pc).alias("reason"),
                )
            )
    elif chunk is not None and rows.height:
        parts.append(
            rows.filter(pl.col("__empty")).select(
                pl.col("__id").alias("row_id"),
                pl.col(ROW).alias("source_row"),
                pl.lit(ROW_FIELD).alias("field"),
                pl.lit("").alias("column"),
                pl.lit(None, dtype=pl.String).alias("value"),
                pl.lit("empty row").alias("reason"),
            )
        )
    if chunk is not None and chunk.broken.height:
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
    q = q.with_columns(pl.Series("value", [masked_value(f, v) for f, v in zip(q["field"], q["value"])], dtype=pl.String))
    return q.select([pl.col(c).cast(t) for c, t in QUARANTINE_SCHEMA.items()]).sort("source_row", maintain_order=True)


def _mask_identifier(value: str) -> str:
    """A person's typed identifier shown with its first two and last two characters.

    >>> _mask_identifier("E12345678"), _mask_identifier("123-45-6789"), _mask_identifier("AB1")
    ('E1*****78', '12*******89', '***')
    """
    return value[:2] + "*" * (len(value) - 4) + value[-2:] if len(value) > 6 else "*" * len(value)


def _mask_identifiers_json(text: str) -> str:
    """A JSON array of typed identifiers with every personal scheme's value masked (other text
    scanned for ID and phone numbers)."""
    try:
        items = json.loads(text)
    except ValueError:
        return ids.mask_text(text)
    if not isinstance(items, list):
        return ids.mask_text(text)
    out = []
    for i in items:
        if isinstance(i, dict) and i.get("scheme") in PERSONAL_SCHEMES and i.get("value") not in (None, ""):
            v = str(i["value"])
            i = {**i, "value": ids.mask_id(v) if i["scheme"] == "cn_resident_id" else _mask_identifier(v)}
        out.append(i)
    return ids.mask_text(json.dumps(out, ensure_ascii=False))


def masked_value(field_name: str, value: str | None) -> str | None:
    """The value a quarantine or findings line shows: personal data masked as everywhere else.

    A resident ID keeps its first 6 and last 4 characters, a phone its first 3 and last 4
    digits, a person's passport or other personal identifier its first and last 2; any other
    value (a whole broken line, an address, a reason) has the ID and mobile numbers inside it
    masked. The file and row the line names lead to the full value in the source.

    >>> masked_value("subject_id_number", "44030119850101123Y")
    '440301********123Y'
    >>> masked_value("object_phone", "13812345678")
    '138****5678'
    >>> masked_value("subject_identifiers[passport]", "E12345678")
    'E1*****78'
    >>> masked_value("(row)", "张三,44030119850101123X,13812345678")
    '张三,440301********123X,138****5678'
    >>> masked_value("subject_id_number", '{"name": "张三", "sfz": "44030119850101123X"}')
    '{"name": "张三", "sfz": "440301********123X"}'
    >>> masked_value("subject_uscc", "914403001922038217")
    '914403001922038217'
    """
    if value is None or value == "":
        return value
    code_like = len(value) <= 40 and not any(c in value for c in "{}[]\",:")
    if field_name.endswith("id_number") and code_like:
        return ids.mask_id(value)
    if (field_name.endswith("_phone") or field_name == "phone") and code_like:
        return ids.mask_phone(value)
    if field_name.endswith("]") and "_identifiers[" in field_name and code_like:
        scheme = field_name.rsplit("[", 1)[1][:-1]
        if scheme == "cn_resident_id":
            return ids.mask_id(value)
        return _mask_identifier(value) if scheme in PERSONAL_SCHEMES else ids.mask_text(value)
    if field_name.endswith("_identifiers"):
        return _mask_identifiers_json(value)
    return ids.mask_text(value)
