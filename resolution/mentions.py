"""Mentions: every party named in a record, with its normalised features and identifiers.

A record has a *subject* mention and, when it names a second party, an *object*
mention (``mention_id = f"{record_id}:{role}"``). Resolution works on mentions: the
same company is the subject of its registration record and the object of a
shareholder record.

Normalisation runs once per distinct raw value (names repeat across records), and
identifier validation uses :mod:`credgraph.identifiers` over distinct values.
"""

from __future__ import annotations

import json
import re

import polars as pl

from credgraph import identifiers as ids
from credgraph.records import FIELD_NAMES, PARTY_FIELDS
from credgraph.resolution.errors import InputError
from credgraph.resolution.normalise import (
    compared_names,
    company_name_keys,
    english_company_name,
    latin_company_names,
    transliterate,
    looks_like_company,
    normalise_texts,
    parse_addresses,
    parse_normalised_company_names,
    normalise_phone,
    person_name_keys,
    pinyin_keys,
    postcode_of,
)
from credgraph.resolution.generation import split_generation
from credgraph.resolution.latin_address import is_latin_address, parse_latin_address

__all__ = ["extract_mentions", "REQUIRED_COLUMNS", "MENTION_COLUMNS"]

#: Columns a records frame must have; the other standard fields are optional.
REQUIRED_COLUMNS = ("record_id", "subject_name")

#: Fields that name a party: a record whose subject has none of them names no one (the loader
#: quarantines such rows; a phone or an e-mail identifies a subject as an identifier does).
_USABLE = ("name", "uscc", "org_code", "reg_no", "id_number", "identifiers", "phone", "email")

#: Columns of the mention frame, after :func:`extract_mentions`.
MENTION_COLUMNS = (
    "mention_id", "record_id", "role", "type", "seq", "source_file", "source_row", "catalog", "load_batch",
    "relation", "counterpart", "name", "address", "phone", "uscc", "org_code", "reg_no", "id_number",
    "name_text", "norm_name", "region", "core", "brand", "industry", "form", "branch", "name_py", "name_sorted",
    "addr_text", "addr_district", "addr_road", "addr_number", "addr_key", "addr_latin", "phone_n",
    "uscc_v", "org_v", "reg_v", "id_full", "id_masked", "id_unchecked", "id_prefix", "id_suffix", "birth",
    "birth_date", "gender", "email", "identifiers", "user_id",
    "name_tok", "name_phon", "ident", "email_n", "postcode", "name_gen",
)

#: Identifier schemes that fill the PRC code columns when those are empty.
_PRC_SCHEMES = {"cn_resident_id": "id_number", "cn_uscc": "uscc", "cn_org_code": "org_code", "cn_reg_no": "reg_no"}


def _ensure_columns(records: pl.DataFrame) -> pl.DataFrame:
    missing = [c for c in REQUIRED_COLUMNS if c not in records.columns]
    if missing:
        raise InputError(f"records are missing required column(s): {', '.join(missing)}")
    add = []
    for name in FIELD_NAMES:
        if name not in records.columns:
            dtype = pl.Int64 if name == "source_row" else pl.Utf8
            add.append(pl.lit(None, dtype=dtype).alias(name))
    return records.with_columns(add) if add else records


def _party(records: pl.DataFrame, role: str) -> pl.DataFrame:
    other = "object" if role == "subject" else "subject"
    cols = [pl.col(f"{role}_{f}").cast(pl.Utf8).alias(f) for f in PARTY_FIELDS]
    frame = records.select(
        pl.col("record_id").cast(pl.Utf8),
        pl.lit(role).alias("role"),
        (pl.int_range(0, pl.len(), dtype=pl.Int64) * 2 + (0 if role == "subject" else 1)).alias("seq"),
        pl.col("source_file").cast(pl.Utf8),
        pl.col("source_row").cast(pl.Int64),
        pl.col("catalog").cast(pl.Utf8),
        pl.col("load_batch").cast(pl.Utf8),
        pl.col("relation").cast(pl.Utf8),
        pl.col("user_id").cast(pl.Utf8),
        *cols,
        # Whether the record names the other party: its mention is this one's context.
        pl.any_horizontal(
            [pl.col(f"{other}_{f}").cast(pl.Utf8).str.strip_chars().str.len_chars() > 0 for f in _USABLE]
        ).fill_null(False).alias("_other_present"),
    )
    frame = frame.with_columns(
        pl.when(pl.col("_other_present"))
        .then(pl.col("record_id") + f":{other}")
        .otherwise(None)
        .alias("counterpart")
    ).drop("_other_present")
    return frame


def _distinct_map(values: pl.Series, fn) -> dict:
    uniq = values.drop_nulls().unique().to_list()
    return {v: fn(v) for v in uniq}


def _uscc_valid(v: str) -> str:
    c = ids.normalise_code(v)
    return c if ids.uscc_is_valid(c) else ""


def _org_valid(v: str) -> str:
    c = ids.normalise_code(v)
    return c if ids.org_code_is_valid(c) else ""


def _reg_valid(v: str) -> str:
    c = ids.normalise_code(v)
    return c if re.fullmatch(r"\d{15}", c) else ""


def _id_parse(v: str) -> tuple[str, str]:
    """(full ID, masked pattern) of a raw ID value; both empty when unusable."""
    c = ids.normalise_code(v)
    if len(c) == 18 and ("*" in c or "X" in c[:17]):
        c = c[:17].replace("X", "*") + c[17]
        return "", c if re.fullmatch(r"[\d*]{17}[\dX*]", c) else ""
    if ids.id_is_valid(c):
        return c, ""
    if re.fullmatch(r"\d{15}", c):
        try:
            return ids.id_from_15(c), ""
        except ValueError:
            return "", ""
    return "", ""


def _with_mapped(frame: pl.DataFrame, src: str, mapping: dict, out: str, dtype=pl.Utf8) -> pl.DataFrame:
    keys = pl.Series("k", list(mapping.keys()), dtype=pl.Utf8)
    vals = pl.Series("v", list(mapping.values()), dtype=dtype)
    return frame.with_columns(pl.col(src).replace_strict(keys, vals, default=None, return_dtype=dtype).alias(out))


def extract_mentions(records: pl.DataFrame) -> pl.DataFrame:
    """All mentions of a records frame with normalised features (see ``MENTION_COLUMNS``).

    Raises :class:`InputError` for an empty frame, missing columns, or a record whose
    subject carries no usable field (no name, identifier, phone or e-mail): such a record names no one.
    """
    if records.height == 0:
        raise InputError("no records to resolve: the records frame is empty")
    records = _ensure_columns(records)
    dup = records.filter(pl.col("record_id").is_duplicated())
    if dup.height:
        raise InputError(f"record_id {dup['record_id'][0]!r} occurs more than once; record ids must be unique")
    subj = _party(records, "subject")
    obj = _party(records, "object")
    usable = pl.any_horizontal([pl.col(f).str.strip_chars().str.len_chars() > 0 for f in _USABLE]).fill_null(False)
    bad = subj.filter(~usable)
    if bad.height:
        rows = ", ".join(
            f"{r['source_file'] or '?'} row {r['source_row'] if r['source_row'] is not None else '?'}"
            f" (record {r['record_id']})"
            for r in bad.head(5).iter_rows(named=True)
        )
        raise InputError(
            f"{bad.height} record(s) have no usable subject field (subject_name, an identifier, a phone or an e-mail): {rows}"
        )
    m = pl.concat([subj, obj.filter(usable)], how="vertical").sort("seq")
    m = m.with_columns((pl.col("record_id") + ":" + pl.col("role")).alias("mention_id"))
    return _features(m)


def _parse_identifiers(text: str) -> tuple[dict, str]:
    """(PRC codes by column, other identifiers as sorted ``scheme:VALUE`` joined by ``|``) of one
    ``identifiers`` JSON text. Unreadable text or entries carry nothing (the loader reports them)."""
    try:
        items = json.loads(text)
    except (TypeError, ValueError):
        return {}, ""
    prc: dict = {}
    other = set()
    for it in items if isinstance(items, list) else []:
        if not isinstance(it, dict) or not it.get("value"):
            continue
        scheme = str(it.get("scheme") or "other").strip().lower()
        value = re.sub(r"[\s\-./]", "", ids.normalise_code(str(it["value"])))
        if not value:
            continue
        if scheme in _PRC_SCHEMES:
            prc.setdefault(_PRC_SCHEMES[scheme], value)
        else:
            other.add(f"{scheme}:{value}")
    return prc, "|".join(sorted(other))


def _identifier_features(m: pl.DataFrame) -> pl.DataFrame:
    """Typed identifiers: PRC codes fill their own columns when empty; the others become ``ident``."""
    parsed = _distinct_map(m["identifiers"], _parse_identifiers)
    m = _with_mapped(m, "identifiers", {k: v[1] for k, v in parsed.items()}, "ident")
    for scheme, col in _PRC_SCHEMES.items():
        mp = {k: v[0].get(col) for k, v in parsed.items() if v[0].get(col)}
        if mp:
            m = _with_mapped(m, "identifiers", mp, "_x").with_columns(
                pl.when(pl.col(col).fill_null("").str.strip_chars() == "").then(pl.col("_x")).otherwise(pl.col(col))
                .alias(col)).drop("_x")
    return m.with_columns(
        pl.col("ident").fill_null(""),
        pl.col("email").fill_null("").str.strip_chars().str.to_lowercase().alias("email_n"),
    )


def _features(m: pl.DataFrame) -> pl.DataFrame:
    m = _identifier_features(m)
    # Identifiers, validated once per distinct value.
    m = _with_mapped(m, "uscc", _distinct_map(m["uscc"], _uscc_valid), "uscc_v")
    m = _with_mapped(m, "org_code", _distinct_map(m["org_code"], _org_valid), "_org")
    m = _with_mapped(m, "reg_no", _distinct_map(m["reg_no"], _reg_valid), "reg_v")
    idmap = _distinct_map(m["id_number"], _id_parse)
    m = _with_mapped(m, "id_number", {k: v[0] for k, v in idmap.items()}, "id_full")
    m = _with_mapped(m, "id_number", {k: v[1] for k, v in idmap.items()}, "id_masked")
    m = m.with_columns(
        pl.col("uscc_v", "_org", "reg_v", "id_full", "id_masked").fill_null(""),
    ).with_columns(
        pl.when(pl.col("uscc_v") != "").then(pl.col("uscc_v").str.slice(8, 9)).otherwise(pl.col("_org")).alias("org_v"),
    ).drop("_org")
    # An ID number the loader set aside for a failed check (a typo): evidence, never an identifier.
    m = m.with_columns(
        pl.when((pl.col("id_full") == "") & pl.col("id_number_unchecked").str.strip_chars().str.to_uppercase()
                .str.contains(r"^\d{17}[\dX]$").fill_null(False))
        .then(pl.col("id_number_unchecked").str.strip_chars().str.to_uppercase())
        .otherwise(pl.lit("")).alias("id_unchecked")
    )
    idv = pl.when(pl.col("id_full") != "").then(pl.col("id_full")).otherwise(pl.col("id_masked"))
    m = m.with_columns(
        idv.str.extract(r"^(\d{6})", 1).fill_null("").alias("id_prefix"),
        idv.str.extract(r"(\d{3}[\dX])$", 1).fill_null("").alias("id_suffix"),
        # Birth date: the record's own, else the one inside a full ID number.
        pl.coalesce(pl.col("birth_date").str.replace_all("-", "").str.extract(r"^(\d{8})", 1),
                    idv.str.extract(r"^\d{6}(\d{8})", 1)).fill_null("").alias("birth"),
    )
    # Type: as given, else from identifiers, else from the shape of the name.
    raw_names = m["name"].drop_nulls().unique().to_list()
    # A company name written in English is read the Chinese way (region + brand pinyin + industry + form).
    # A name in another alphabet (Cyrillic, Arabic, Khmer, ...) is compared in Latin letters.
    name_map = dict(zip(raw_names, compared_names(raw_names)))
    m = _with_mapped(m, "name", name_map, "_nt").with_columns(pl.col("_nt").fill_null(""))
    m = m.with_columns(pl.col("_nt").alias("name_text"))
    given = pl.col("type").str.strip_chars().str.to_lowercase()
    company_like = [t for t in set(name_map.values()) if looks_like_company(t)]
    guessed_company = pl.col("_nt").is_in(pl.Series(company_like, dtype=pl.Utf8).implode())
    m = m.with_columns(
        pl.when(given.is_in(["legal", "natural"]))
        .then(given)
        .when((pl.col("uscc_v") != "") | (pl.col("org_v") != "") | (pl.col("reg_v") != ""))
        .then(pl.lit("legal"))
        .when((pl.col("id_full") != "") | (pl.col("id_masked") != ""))
        .then(pl.lit("natural"))
        .when(guessed_company)
        .then(pl.lit("legal"))
        .otherwise(pl.lit("natural"))
        .alias("type")
    )
    m = _generation_features(m)
    m = _name_features(m)
    m = _address_features(m)
    phones = _distinct_map(m["phone"], normalise_phone)
    m = _with_mapped(m, "phone", phones, "phone_n").with_columns(pl.col("phone_n").fill_null(""))
    return _latin_company_features(m).sort("seq").select(MENTION_COLUMNS)


def _generation_features(m: pl.DataFrame) -> pl.DataFrame:
    """A person's generational suffix (Jr, Sr, II, ...: :mod:`.generation`) out of the name, into
    ``name_gen``; ``_nb`` is the name without it (what the name keys are computed from) and ``_nt`` its
    normalised text. Companies keep their names whole."""
    natural = pl.col("type") == "natural"
    names = m.filter(natural)["name"].drop_nulls().unique().to_list()
    split = {n: sp for n in names if (sp := split_generation(n))[1]}
    if not split:
        return m.with_columns(pl.lit("").alias("name_gen"), pl.col("name").alias("_nb"))
    keys = list(split)
    base = pl.Series([split[k][0] for k in keys], dtype=pl.Utf8)
    hit = natural & pl.col("name").is_in(pl.Series(keys, dtype=pl.Utf8).implode()).fill_null(False)
    name = pl.col("name")
    return m.with_columns(
        pl.when(hit).then(name.replace_strict(keys, [split[k][1] for k in keys], default="")).otherwise(pl.lit(""))
        .alias("name_gen"),
        pl.when(hit).then(name.replace_strict(keys, base, default=None)).otherwise(name).alias("_nb"),
        pl.when(hit).then(name.replace_strict(keys, normalise_texts(base.to_list()), default=None))
        .otherwise(pl.col("_nt")).alias("_nt"),
    )


def _name_features(m: pl.DataFrame) -> pl.DataFrame:
    """Name parts per distinct normalised name (``_nt``) and type."""
    legal = m.filter(pl.col("type") == "legal")["_nt"].unique().to_list()
    natural = m.filter(pl.col("type") == "natural")["_nt"].unique().to_list()
    parsed = parse_normalised_company_names(legal)
    lf = pl.DataFrame(
        {
            "_nt": legal,
            "type": ["legal"] * len(parsed),
            "norm_name": [p.canonical for p in parsed],
            "region": [p.region for p in parsed],
            "core": [p.core for p in parsed],
            "brand": [p.brand for p in parsed],
            "industry": [p.industry for p in parsed],
            "form": [p.form for p in parsed],
            "branch": [p.branch for p in parsed],
        },
        schema={c: pl.Utf8 for c in ("_nt", "type", "norm_name", "region", "core", "brand", "industry", "form", "branch")},
    )
    pn = [t.replace("·", "").replace("(", "").replace(")", "") for t in natural]
    nf = pl.DataFrame(
        {"_nt": natural, "type": ["natural"] * len(pn), "norm_name": pn, "core": pn},
        schema={c: pl.Utf8 for c in ("_nt", "type", "norm_name", "core")},
    )
    names = pl.concat([lf, nf], how="diagonal").with_columns(
        pl.col("region", "brand", "industry", "form", "branch").fill_null("")
    )
    cores = names["core"].to_list()
    names = names.with_columns(
        pl.Series("name_py", pinyin_keys(cores), dtype=pl.Utf8),
        pl.Series("name_sorted", ["".join(sorted(c)) for c in cores], dtype=pl.Utf8),
    )
    m = m.join(names, on=["_nt", "type"], how="left")
    # Persons: tokens and phonetic codes of the raw name (any script, any order).
    raw = m.filter(pl.col("type") == "natural")["_nb"].drop_nulls().unique().to_list()
    keys = person_name_keys(raw)
    pf = pl.DataFrame({"_nb": raw, "name_tok": [k[0] for k in keys], "name_phon": [k[1] for k in keys],
                       "type": ["natural"] * len(raw)},
                      schema={"_nb": pl.Utf8, "name_tok": pl.Utf8, "name_phon": pl.Utf8, "type": pl.Utf8})
    m = m.join(pf, on=["_nb", "type"], how="left", nulls_equal=False)
    return m.with_columns(
        pl.col("norm_name", "region", "core", "brand", "industry", "form", "branch", "name_py", "name_sorted",
               "name_tok", "name_phon").fill_null("")
    )


_LATIN_COLS = ("norm_name", "region", "core", "brand", "industry", "form", "branch", "name_py", "name_sorted",
               "name_tok")


def _latin_company_features(m: pl.DataFrame) -> pl.DataFrame:
    """Companies named in Latin (or another alphabetic) script: their parts from the raw name
    (:func:`latin_company_name`: words kept apart, legal form as a type, a country as the region), their
    sound and order-free keys, and the word keys for blocking (``name_tok``). Chinese names keep theirs."""
    raw = m.filter(pl.col("type") == "legal")["name"].drop_nulls().unique().to_list()
    parsed = [(r, p) for r, p in zip(raw, latin_company_names(raw)) if p is not None]
    if not parsed:
        return m
    keys = [company_name_keys(p) for _, p in parsed]
    lat = pl.DataFrame(
        {"name": [r for r, _ in parsed], "type": ["legal"] * len(parsed),
         "_l_norm_name": [p.canonical for _, p in parsed], "_l_region": [p.region for _, p in parsed],
         "_l_core": [p.core for _, p in parsed], "_l_brand": [p.brand for _, p in parsed],
         "_l_industry": [p.industry for _, p in parsed], "_l_form": [p.form for _, p in parsed],
         "_l_branch": [p.branch for _, p in parsed], "_l_name_py": [k[0] for k in keys],
         "_l_name_sorted": [k[1] for k in keys], "_l_name_tok": [k[2] for k in keys]},
        schema={"name": pl.Utf8, "type": pl.Utf8, **{f"_l_{c}": pl.Utf8 for c in _LATIN_COLS}},
    )
    m = m.join(lat, on=["name", "type"], how="left", nulls_equal=False)
    hit = pl.col("_l_core").is_not_null()
    # The entity's name as shown: the firm's name as written (spaces kept), not the run-together key.
    written = pl.col("name").str.replace_all(r"\s+", " ").str.strip_chars()
    return m.with_columns(
        [pl.when(hit).then(pl.col(f"_l_{c}")).otherwise(pl.col(c)).alias(c) for c in _LATIN_COLS]
        + [pl.when(hit).then(written).otherwise(pl.col("name_text")).alias("name_text")]
    ).drop([f"_l_{c}" for c in _LATIN_COLS])


def _address_features(m: pl.DataFrame) -> pl.DataFrame:
    """Address parts per distinct address. A Chinese address: district, road, number, building. A
    Latin-script one (:mod:`.latin_address`): its parts serialised in ``addr_latin``, the street name as
    the road, the house number, the door (number + street name) as the key, its first postcode; no
    district (a city written two ways must not read as two districts)."""
    uniq = m["address"].drop_nulls().unique()
    values = uniq.to_list()
    parsed = parse_addresses(values)
    latin = [parse_latin_address(v) if is_latin_address(v) else None for v in values]
    latin = [x if x is not None and not x.empty else None for x in latin]
    af = pl.DataFrame(
        {
            "address": uniq,
            "addr_text": [a.text for a in parsed],
            "addr_district": [a.district if la is None else "" for a, la in zip(parsed, latin)],
            "addr_road": [a.road if la is None else la.street_name for a, la in zip(parsed, latin)],
            "addr_number": [a.number if la is None else la.number for a, la in zip(parsed, latin)],
            "addr_key": [a.key if la is None else (la.key or a.text) for a, la in zip(parsed, latin)],
            "addr_latin": ["" if la is None else la.serialise() for la in latin],
            "postcode": [postcode_of(v) if la is None else (la.postcodes[0] if la.postcodes else "")
                         for v, la in zip(values, latin)],
        },
        schema_overrides={"address": pl.Utf8},
    )
    m = m.join(af, on="address", how="left")
    return m.with_columns(pl.col("addr_text", "addr_district", "addr_road", "addr_number", "addr_key", "addr_latin",
                                 "postcode").fill_null(""))
