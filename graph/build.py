"""Build the graph's node and edge frames from records, assignments and entities.

Inputs are the contracts of the earlier stages: ``records/records.parquet`` (the
standard records, :mod:`credgraph.records`), resolution's ``entities/assignments.parquet``
(which entity each mention is) and ``entities/entities.parquet`` (one row per entity).
The output is one polars frame per node label and per relationship type, with the columns
of :mod:`credgraph.graph.model`; :meth:`GraphFrames.contract` gives the two frames of the
"Graph frames" contract (``nodes``, ``edges``) that analytics reads.

Everything is column-wise (joins, group-bys); Python runs only once per *distinct* name,
address or phone (normalisation, pinyin, hashing).

>>> import polars as pl
>>> from credgraph.records import polars_schema
>>> recs = pl.DataFrame([
...     {"record_id": "r1", "catalog": "MR_SH", "kind": "relationship", "relation": "shareholder_of",
...      "subject_name": "深圳市甲科技有限公司", "object_name": "张三", "ratio": 0.6},
...     {"record_id": "r2", "catalog": "COURT", "kind": "event", "event_type": "dishonest_debtor",
...      "subject_name": "张三", "status": "active"},
... ], schema_overrides=polars_schema())
>>> asg = pl.DataFrame({"record_id": ["r1", "r1", "r2"], "role": ["subject", "object", "subject"],
...                     "entity_id": ["C1", "P1", "P1"], "confidence": [1.0, 0.9, 0.95]})
>>> ents = pl.DataFrame({"entity_id": ["C1", "P1"], "type": ["legal", "natural"],
...                      "name": ["深圳市甲科技有限公司", "张三"], "id_number": [None, "11010519491231002X"]})
>>> g = build_frames(recs, asg, ents, hash_key="k")
>>> g.edges["SHAREHOLDER_OF"].select("src", "dst", "ratio", "record_ids").to_dicts()
[{'src': 'P1', 'dst': 'C1', 'ratio': 0.6, 'record_ids': ['r1']}]
>>> g.nodes["NaturalPerson"]["id_masked"].to_list()
['110105********002X']
>>> g.edges["HAS_RECORD"].select("src", "dst").to_dicts()
[{'src': 'P1', 'dst': 'rec:r2'}]
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from credgraph.identifiers import id_is_valid, is_masked, mask_id, mask_phone, normalise_code
from credgraph.graph.model import (
    KEYED,
    NODE_LABELS,
    REL_TYPES,
    RELATION_TYPES,
    edge_columns,
    edge_id_expr,
    node_columns,
)

__all__ = [
    "GraphFrames",
    "InputError",
    "build_frames",
    "build_from_workspace",
    "read_inputs",
    "keyed_hash",
    "normalise_search",
    "normalise_searches",
    "pinyin_forms",
    "phone_key",
    "SEVERITY",
]


class InputError(ValueError):
    """An input file of the graph build is missing or lacks columns; the message names it."""


#: Severity of an event type (0 neutral or good ... 3 high); tax ratings go by grade.
SEVERITY = {
    "serious_illegal": 3, "dishonest_debtor": 3, "tax_violation": 3,
    "abnormal_operations": 2, "social_insurance_arrears": 2, "penalty": 2,
    "tax_rating": 0, "licence": 0, "red_list": 0, "social_insurance": 0, "registration": 0,
}
_TAX_GRADE_SEVERITY = {"D": 3, "C": 2, "M": 0, "B": 0, "A": 0}

_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)


@functools.lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def normalise_searches(values: list[str | None]) -> list[str]:
    """Search form of many texts: NFKC, traditional -> simplified, lower case, no spaces or punctuation.

    Brackets are dropped too, so 华强电子（深圳） and 华强电子(深圳) both read 华强电子深圳.

    >>> normalise_searches(["華強電子（深圳）有限公司", " ABC 科技 ", None])
    ['华强电子深圳有限公司', 'abc科技', '']
    """
    pre = [unicodedata.normalize("NFKC", v).replace("\n", " ") if v else "" for v in values]
    if not pre:
        return []
    simplified = _t2s().convert("\n".join(pre)).split("\n")
    if len(simplified) != len(pre):  # OpenCC never joins lines; guard anyway
        simplified = [_t2s().convert(p) for p in pre]
    return [_PUNCT.sub("", s).lower() for s in simplified]


def normalise_search(value: str | None) -> str:
    """:func:`normalise_searches` of one text.

    >>> normalise_search("深圳市 華強")
    '深圳市华强'
    """
    return normalise_searches([value])[0]


def pinyin_forms(text: str) -> tuple[str, str]:
    """(toneless pinyin, initials) of a normalised text; other characters are kept as they are.

    >>> pinyin_forms("华强电子")
    ('huaqiangdianzi', 'hqdz')
    >>> pinyin_forms("abc科技")
    ('abckeji', 'abckj')
    >>> pinyin_forms("招商银行")  # phrase-aware: 行 reads hang in 银行
    ('zhaoshangyinhang', 'zsyh')
    >>> pinyin_forms("васильев")[0]  # other alphabets in Latin letters, as resolution reads them
    'vasilev'
    """
    from credgraph.resolution.normalise import pinyin_syllables, transliterate  # one name normalisation everywhere

    syl = pinyin_syllables(transliterate(text))
    return "".join(syl), "".join(s[:1] for s in syl)


def keyed_hash(value: str, key: str) -> str:
    """HMAC-SHA256 of ``value`` under ``key``, hex: equal inputs give equal hashes, nothing is revealed.

    >>> keyed_hash("13812345678", "k")[:12]
    'c365caf352e3'
    """
    return hmac.new(key.encode("utf-8"), value.encode("utf-8"), hashlib.sha256).hexdigest()


def phone_key(value: str | None) -> str:
    """The digits of a phone that ring one line (resolution's normal form), or '' when too short.

    >>> phone_key("+86 138-1234-5678"), phone_key("(0755)8342 1234"), phone_key("12")
    ('13812345678', '83421234', '')
    """
    from credgraph.resolution import normalise_phone

    d = normalise_phone(value)
    return d if len(d) >= 7 else ""


def _mask_phone_key(digits: str) -> str:
    """Display form of a normalised phone: a mobile as 138****5678, a landline only its last 4 digits."""
    if len(digits) == 11 and digits.startswith("1"):
        return mask_phone(digits)
    return "*" * (len(digits) - 4) + digits[-4:]


@dataclass
class GraphFrames:
    """Node frames by label and edge frames by relationship type, plus what the build dropped."""

    nodes: dict[str, pl.DataFrame]
    edges: dict[str, pl.DataFrame]
    report: dict[str, int] = field(default_factory=dict)
    #: The application's keyed index (kind, hash, node_id): never loaded into the graph.
    keyed: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(
        schema={"kind": pl.Utf8, "hash": pl.Utf8, "node_id": pl.Utf8}))

    def counts(self) -> dict[str, int]:
        """Rows per label and per type."""
        return {**{k: v.height for k, v in self.nodes.items()}, **{k: v.height for k, v in self.edges.items()}}

    @property
    def n_nodes(self) -> int:
        return sum(v.height for v in self.nodes.values())

    @property
    def n_edges(self) -> int:
        return sum(v.height for v in self.edges.values())

    def contract(self) -> tuple[pl.DataFrame, pl.DataFrame]:
        """The "Graph frames" contract: (nodes, edges), sorted by node_id and (src, dst, type, edge_id).

        Persons carry ``id_hash`` from the keyed index (the application's analytics match full ID
        numbers on it); the graph stores never hold it.
        """
        nodes, edges = contract_frames(self.nodes, self.edges)
        ids = self.keyed.filter(pl.col("kind") == "id").select("node_id", pl.col("hash").alias("id_hash"))
        return nodes.join(ids.unique("node_id", keep="first"), on="node_id", how="left"), edges


def contract_frames(nodes: dict[str, pl.DataFrame], edges: dict[str, pl.DataFrame]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Join per-label and per-type frames into the contract's two frames."""
    nf = [f.select(list(node_columns(lab))).with_columns(pl.lit(lab).alias("label"))
          for lab, f in nodes.items()]
    nodes_out = pl.concat(nf, how="diagonal_relaxed") if nf else pl.DataFrame(schema={"node_id": pl.Utf8})
    first = ["node_id", "label", "name"]
    nodes_out = nodes_out.select(first + [c for c in nodes_out.columns if c not in first]).sort("node_id")
    if "id_masked" in nodes_out.columns:
        # analytics reads the (masked) ID number as id_number
        nodes_out = nodes_out.with_columns(pl.col("id_masked").alias("id_number"))
    cols = {"src": pl.Utf8, "dst": pl.Utf8, "type": pl.Utf8, "ratio": pl.Float64, "capital": pl.Float64,
            "role": pl.Utf8, "record_ids": pl.List(pl.Utf8), "edge_id": pl.Utf8}
    ef = []
    for t, f in edges.items():
        f = f.with_columns(pl.lit(t).alias("type"))
        ef.append(f.select([pl.col(c).cast(d) if c in f.columns else pl.lit(None, d).alias(c) for c, d in cols.items()]))
    edges_out = pl.concat(ef) if ef else pl.DataFrame(schema=cols)
    return nodes_out, edges_out.sort(["src", "dst", "type", "edge_id"])


# ----------------------------------------------------------------------------- inputs
_REQUIRED = {
    "records": ("record_id", "kind"),
    "assignments": ("record_id", "role", "entity_id"),
    "entities": ("entity_id", "type", "name"),
}


def _check(frame: pl.DataFrame, what: str, where: str) -> None:
    missing = [c for c in _REQUIRED[what] if c not in frame.columns]
    if missing:
        raise InputError(f"{where}: missing column(s) {', '.join(missing)} ({what})")


def read_inputs(workspace: str | Path) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """records, assignments and entities of a workspace, or InputError naming the missing file."""
    ws = Path(workspace)
    paths = {
        "records": ws / "records" / "records.parquet",
        "assignments": ws / "entities" / "assignments.parquet",
        "entities": ws / "entities" / "entities.parquet",
    }
    hints = {"records": "run `credgraph load` first", "assignments": "run `credgraph resolve` first",
             "entities": "run `credgraph resolve` first"}
    out = []
    for what, p in paths.items():
        if not p.is_file():
            raise InputError(f"{p}: not found ({hints[what]})")
        try:
            frame = pl.read_parquet(p)
        except Exception as exc:  # noqa: BLE001 - report the file, not a trace
            raise InputError(f"{p}: not a readable Parquet file ({exc})") from None
        _check(frame, what, str(p))
        out.append(frame)
    return tuple(out)  # type: ignore[return-value]


def build_from_workspace(cfg) -> GraphFrames:
    """:func:`build_frames` over the workspace's records and resolution outputs."""
    from credgraph.security.secrets import hash_key

    recs, asg, ents = read_inputs(cfg.workspace_path)
    return build_frames(recs, asg, ents, hash_key=hash_key(cfg))


# ------------------------------------------------------------------------------ build
def _compared(expr: pl.Expr) -> pl.Expr:
    """Resolution's compared name text of each name (:func:`credgraph.resolution.normalise.compared_names`),
    computed once per distinct name."""
    from credgraph.resolution.normalise import compared_names

    def keys(s: pl.Series) -> pl.Series:
        uniq = s.drop_nulls().unique().to_list()
        table = dict(zip(uniq, compared_names(uniq)))
        return s.replace_strict(table, default=None, return_dtype=pl.Utf8) if uniq else s.cast(pl.Utf8)

    return expr.map_batches(keys, return_dtype=pl.Utf8)


def _col(frame: pl.DataFrame, name: str, dtype=pl.Utf8) -> pl.Expr:
    return pl.col(name).cast(dtype) if name in frame.columns else pl.lit(None, dtype).alias(name)


def _blank_to_null(e: pl.Expr) -> pl.Expr:
    return pl.when(e.str.strip_chars() == "").then(None).otherwise(e)


def _with_schema(frame: pl.DataFrame, columns: dict) -> pl.DataFrame:
    if frame.width == 0 or frame.height == 0:
        return pl.DataFrame(schema=columns)
    return frame.select([pl.col(c).cast(d) if c in frame.columns else pl.lit(None, d).alias(c)
                         for c, d in columns.items()])


def _mentions(records: pl.DataFrame, assignments: pl.DataFrame) -> pl.DataFrame:
    """One row per assigned mention: record_id, role, entity_id, confidence, catalog, address, phone."""
    parts = []
    for role in ("subject", "object"):
        parts.append(records.select(
            pl.col("record_id"), pl.lit(role).alias("role"), _col(records, "catalog"),
            _col(records, f"{role}_address").alias("address"), _col(records, f"{role}_phone").alias("phone"),
            _col(records, "date", pl.Date),
        ))
    per_role = pl.concat(parts)
    asg = assignments.select(
        pl.col("record_id").cast(pl.Utf8), pl.col("role").cast(pl.Utf8), pl.col("entity_id").cast(pl.Utf8),
        _col(assignments, "confidence", pl.Float64),
    ).filter(pl.col("entity_id").is_not_null()).unique(["record_id", "role"], keep="first")
    return asg.join(per_role, on=["record_id", "role"], how="inner")


def build_frames(records: pl.DataFrame, assignments: pl.DataFrame, entities: pl.DataFrame,
                 hash_key: str) -> GraphFrames:
    """The graph's frames from the three inputs (see the module docstring and :mod:`.model`)."""
    _check(records, "records", "records")
    _check(assignments, "assignments", "assignments")
    _check(entities, "entities", "entities")
    report: dict[str, int] = {}
    bad = entities.filter(pl.col("entity_id").is_null() | pl.col("entity_id").cast(pl.Utf8).str.contains("|",
                                                                                                       literal=True))
    if bad.height:
        raise InputError(f"entities: entity_id must be non-empty and free of '|' (row {bad.row(0, named=True)})")
    mentions = _mentions(records, assignments)

    ents = entities.unique("entity_id", keep="first").with_columns(
        pl.when(pl.col("type") == "natural").then(pl.lit("NaturalPerson"))
        .otherwise(pl.lit("LegalPerson")).alias("label"))
    known = set(ents["entity_id"].to_list())
    unknown = mentions.filter(~pl.col("entity_id").is_in(list(known)))
    report["mentions_without_entity"] = unknown.height
    mentions = mentions.filter(pl.col("entity_id").is_in(list(known)))
    label_of = ents.select(pl.col("entity_id").alias("node_id"), "label")

    nodes, id_keyed = _entity_nodes(ents, mentions, records, hash_key)
    edges: dict[str, pl.DataFrame] = {}
    rel_edges, dropped = _relationship_edges(records, mentions, label_of)
    report.update(dropped)
    edges.update(rel_edges)
    addr_nodes, addr_edges = _address_frames(ents, mentions, label_of)
    phone_nodes, phone_edges, phone_keyed = _phone_frames(ents, mentions, label_of, hash_key)
    rec_nodes, rec_edges, rep = _record_frames(records, mentions, label_of)
    report.update(rep)
    nodes["Address"], nodes["Phone"], nodes["CreditRecord"] = addr_nodes, phone_nodes, rec_nodes
    edges["LOCATED_AT"], edges["USES_PHONE"], edges["HAS_RECORD"] = addr_edges, phone_edges, rec_edges
    nodes = {lab: _with_schema(nodes[lab], node_columns(lab)).sort("node_id") for lab in NODE_LABELS}
    out_edges = {}
    for t in REL_TYPES:
        f = edges.get(t)
        cols = {**edge_columns(t), "src_label": pl.Utf8, "dst_label": pl.Utf8}
        f = _with_schema(f if f is not None else pl.DataFrame(), cols)
        out_edges[t] = f.sort("edge_id")
    keyed = pl.concat([id_keyed, phone_keyed]).unique().sort(["kind", "hash", "node_id"])
    return GraphFrames(nodes, out_edges, report, keyed)


def _entity_nodes(ents: pl.DataFrame, mentions: pl.DataFrame, records: pl.DataFrame,
                  hash_key: str) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    prov = (mentions.group_by("entity_id").agg(
        pl.col("record_id").unique().sort().alias("record_ids"),
        pl.col("catalog").drop_nulls().unique().sort().alias("_cats"),
        pl.col("confidence").min().alias("_minconf"),
        pl.len().alias("_mentions"),
    ))
    names_expr = (pl.col("names").cast(pl.List(pl.Utf8)) if "names" in ents.columns
                  else pl.concat_list(pl.col("name")))
    written = _names_as_written(records, mentions)
    base = ents.select(
        pl.col("entity_id").cast(pl.Utf8).alias("node_id"), "label", pl.col("name").cast(pl.Utf8),
        names_expr.alias("names"),
        *[_col(ents, c) for c in ("uscc", "org_code", "reg_no", "id_number")],
        _col(ents, "is_branch", pl.Boolean),
        _col(ents, "member_count", pl.Int64),
    ).with_columns(
        # the canonical name is always among the names searched
        pl.when(pl.col("names").is_null()).then(pl.concat_list("name"))
        .otherwise(pl.concat_list("name", "names").list.unique(maintain_order=True)).alias("names"),
    ).join(prov, left_on="node_id", right_on="entity_id", how="left")
    # names as the records wrote them; name_key: the name text resolution compares (of its name)
    base = base.join(written, left_on="node_id", right_on="entity_id", how="left").with_columns(
        _compared(pl.col("name")).alias("name_key"),
        pl.coalesce("_written", "name").alias("name"),
        pl.when(pl.col("_all").is_null()).then(pl.col("names"))
        .otherwise(pl.concat_list("_all", "names").list.unique(maintain_order=True)).alias("names"),
    ).drop("_written", "_all")
    base = base.with_columns(
        pl.col("record_ids").fill_null(pl.lit([], pl.List(pl.Utf8))),
        pl.coalesce("member_count", "_mentions", pl.lit(0)).cast(pl.Int64).alias("member_count"),
    )
    base = base.with_columns(
        pl.when(pl.col("member_count") > 1).then(pl.format(
            "{} mentions in {} catalog(s) ({}); lowest link confidence {}",
            "member_count", pl.col("_cats").list.len(),
            pl.col("_cats").list.head(4).list.join(", ")
            + pl.when(pl.col("_cats").list.len() > 4).then(pl.lit(", …")).otherwise(pl.lit("")),
            pl.col("_minconf").round(2).cast(pl.Utf8).fill_null("n/a"),
        )).alias("evidence"))
    base = _search_columns(base)

    legal = base.filter(pl.col("label") == "LegalPerson")
    legal = legal.join(_registration(records, mentions), left_on="node_id", right_on="entity_id", how="left")
    legal = legal.with_columns(
        pl.col("is_branch").fill_null(False),
        # the organisation code inside a USCC links older records that carry only that code
        pl.coalesce(pl.col("org_code"), pl.when(pl.col("uscc").str.len_chars() == 18)
                    .then(pl.col("uscc").str.slice(8, 9))).alias("org_code"),
    )

    natural = base.filter(pl.col("label") == "NaturalPerson")
    uniq = natural["id_number"].drop_nulls().unique().to_list()
    masked = {v: mask_id(v) for v in uniq}
    hashed = {v: keyed_hash(normalise_code(v), hash_key) for v in uniq
              if not is_masked(v) and id_is_valid(normalise_code(v))}
    natural = natural.with_columns(
        pl.col("id_number").replace_strict(masked, default=None, return_dtype=pl.Utf8).alias("id_masked"),
        pl.col("id_number").replace_strict(hashed, default=None, return_dtype=pl.Utf8).alias("_hash"),
    ).drop("id_number")
    keyed = natural.filter(pl.col("_hash").is_not_null()).select(
        pl.lit("id").alias("kind"), pl.col("_hash").alias("hash"), "node_id")
    return {"LegalPerson": legal.drop("id_number"), "NaturalPerson": natural.drop("_hash")}, keyed


def _names_as_written(records: pl.DataFrame, mentions: pl.DataFrame) -> pl.DataFrame:
    """Per entity: the name its records give most often, exactly as written (``_written``), and every
    written name (``_all``)."""
    parts = [records.select(pl.col("record_id"), pl.lit(role).alias("role"), _col(records, f"{role}_name").alias("raw"))
             for role in ("subject", "object")]
    raw = pl.concat(parts).filter(pl.col("raw").is_not_null() & (pl.col("raw").str.strip_chars() != ""))
    m = mentions.select("record_id", "role", "entity_id").join(raw, on=["record_id", "role"], how="inner")
    return (m.group_by(["entity_id", "raw"]).agg(pl.len().alias("n"))
            .sort(["entity_id", "n", "raw"], descending=[False, True, False])
            .group_by("entity_id", maintain_order=True)
            .agg(pl.col("raw").first().alias("_written"), pl.col("raw").alias("_all")))


def _search_columns(base: pl.DataFrame) -> pl.DataFrame:
    """search_text / search_pinyin / search_initials from the names (each distinct name once)."""
    exploded = base.select("node_id", pl.col("names").alias("n")).explode("n").drop_nulls("n")
    uniq = exploded["n"].unique().to_list()
    norm = dict(zip(uniq, normalise_searches(uniq)))
    forms = {n: pinyin_forms(t) for n, t in norm.items()}
    exploded = exploded.with_columns(
        pl.col("n").replace_strict(norm, return_dtype=pl.Utf8).alias("t"),
        pl.col("n").replace_strict({k: v[0] for k, v in forms.items()}, return_dtype=pl.Utf8).alias("p"),
        pl.col("n").replace_strict({k: v[1] for k, v in forms.items()}, return_dtype=pl.Utf8).alias("i"),
    ).filter(pl.col("t") != "")
    agg = exploded.group_by("node_id").agg(
        pl.col("t").unique(maintain_order=True).str.join("|").alias("search_text"),
        pl.col("p").unique(maintain_order=True).str.join("|").alias("search_pinyin"),
        pl.col("i").unique(maintain_order=True).str.join("|").alias("search_initials"),
    )
    return base.join(agg, on="node_id", how="left")


def _registration(records: pl.DataFrame, mentions: pl.DataFrame) -> pl.DataFrame:
    """Per company, the newest registration record's legal form, industry, capital, date, status."""
    if "event_type" not in records.columns:
        return pl.DataFrame(schema={"entity_id": pl.Utf8})
    reg = records.filter(pl.col("event_type") == "registration").select(
        "record_id", _col(records, "legal_form"), _col(records, "industry"),
        _col(records, "capital", pl.Float64).alias("registered_capital"),
        _col(records, "date", pl.Date).alias("est_date"), _col(records, "status"),
    )
    subj = mentions.filter(pl.col("role") == "subject").select("record_id", "entity_id")
    return (reg.join(subj, on="record_id", how="inner")
            .sort(["entity_id", "est_date", "record_id"], descending=[False, True, False], nulls_last=True)
            .group_by("entity_id", maintain_order=True)
            .agg(pl.col(c).drop_nulls().first() for c in ("legal_form", "industry", "registered_capital",
                                                          "est_date", "status")))


def _relationship_edges(records: pl.DataFrame, mentions: pl.DataFrame,
                        label_of: pl.DataFrame) -> tuple[dict[str, pl.DataFrame], dict[str, int]]:
    if "relation" not in records.columns:
        return {}, {}
    rel = records.filter(pl.col("relation").is_in(list(RELATION_TYPES))).select(
        "record_id", "relation", _col(records, "ratio", pl.Float64), _col(records, "capital", pl.Float64),
        _blank_to_null(_col(records, "role")).alias("role"), _col(records, "date", pl.Date),
    )
    ent = mentions.select("record_id", "role", "entity_id")
    subj = ent.filter(pl.col("role") == "subject").select("record_id", pl.col("entity_id").alias("s"))
    obj = ent.filter(pl.col("role") == "object").select("record_id", pl.col("entity_id").alias("o"))
    rel = rel.join(subj, on="record_id", how="left").join(obj, on="record_id", how="left")
    unresolved = rel.filter(pl.col("s").is_null() | pl.col("o").is_null()).height
    rel = rel.filter(pl.col("s").is_not_null() & pl.col("o").is_not_null())
    self_loops = rel.filter(pl.col("s") == pl.col("o")).height
    rel = rel.filter(pl.col("s") != pl.col("o"))
    obj_first = pl.col("relation").replace_strict({k: v[1] for k, v in RELATION_TYPES.items()}, return_dtype=pl.Boolean)
    rel = rel.with_columns(
        pl.col("relation").replace_strict({k: v[0] for k, v in RELATION_TYPES.items()}).alias("type"),
        pl.when(obj_first).then(pl.col("o")).otherwise(pl.col("s")).alias("src"),
        pl.when(obj_first).then(pl.col("s")).otherwise(pl.col("o")).alias("dst"),
    )
    # one relationship per (type, src, dst), officers also per role
    rel = rel.with_columns(pl.when(pl.col("type").is_in(KEYED.get("role", []))).then(pl.col("role").fill_null(""))
                           .otherwise(pl.lit("")).alias("_key_role"))
    rel = rel.sort(["date", "record_id"], descending=[True, False], nulls_last=True)
    agg = rel.group_by(["type", "src", "dst", "_key_role"], maintain_order=True).agg(
        pl.col("record_id").unique().sort().alias("record_ids"),
        pl.col("ratio").drop_nulls().first(), pl.col("capital").drop_nulls().first(),
        pl.col("role").drop_nulls().first(),
    )
    out = {t: _with_labels(agg.filter(pl.col("type") == t).with_columns(edge_id_expr(t)).drop("type", "_key_role"),
                           label_of)
           for t in ("SHAREHOLDER_OF", "LEGAL_REP_OF", "OFFICER_OF", "BRANCH_OF", "AGENT_OF")}
    return out, {"relationship_records_unresolved": unresolved, "relationship_self_loops": self_loops}


def _with_labels(frame: pl.DataFrame, label_of: pl.DataFrame) -> pl.DataFrame:
    return (frame.join(label_of.rename({"node_id": "src", "label": "src_label"}), on="src", how="left")
            .join(label_of.rename({"node_id": "dst", "label": "dst_label"}), on="dst", how="left"))


def _hub_edges(links: pl.DataFrame, type_: str, label_of: pl.DataFrame) -> pl.DataFrame:
    """links: entity_id, node_id (the hub), record_id (nullable) -> deduplicated edges."""
    agg = links.group_by(["entity_id", "node_id"]).agg(
        pl.col("record_id").drop_nulls().unique().sort().alias("record_ids"))
    agg = agg.select(pl.col("entity_id").alias("src"), pl.col("node_id").alias("dst"), "record_ids").with_columns(
        edge_id_expr(type_))
    agg = agg.join(label_of.rename({"node_id": "src", "label": "src_label"}), on="src", how="left")
    return agg.with_columns(pl.lit("Address" if type_ == "LOCATED_AT" else "Phone").alias("dst_label"))


def _address_frames(ents: pl.DataFrame, mentions: pl.DataFrame,
                    label_of: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    from credgraph.resolution import parse_address

    links = pl.concat([
        mentions.select("entity_id", "address", "record_id"),
        ents.select("entity_id", _col(ents, "address"), pl.lit(None, pl.Utf8).alias("record_id")),
    ]).with_columns(pl.col("address").str.strip_chars()).filter(pl.col("address").is_not_null() & (pl.col("address") != ""))
    uniq = links["address"].unique().to_list()
    parsed = {a: parse_address(a) for a in uniq}
    keys = {a: (p.key or p.text) for a, p in parsed.items()}
    keys = {a: k for a, k in keys.items() if k}
    ids = {a: "addr:" + hashlib.sha1(k.encode("utf-8")).hexdigest()[:16] for a, k in keys.items()}
    district = {a: parsed[a].district or None for a in keys}
    text = {a: parsed[a].text for a in keys}
    links = links.filter(pl.col("address").is_in(list(keys))).with_columns(
        pl.col("address").replace_strict(ids, return_dtype=pl.Utf8).alias("node_id"),
        pl.col("address").replace_strict(text, return_dtype=pl.Utf8).alias("_text"),
        pl.col("address").replace_strict(district, default=None, return_dtype=pl.Utf8).alias("district"),
    )
    nodes = (links.group_by(["node_id", "_text"]).agg(pl.len().alias("n"), pl.col("district").first())
             .sort(["node_id", "n", "_text"], descending=[False, True, False])
             .group_by("node_id", maintain_order=True).agg(pl.col("_text").first().alias("name"),
                                                           pl.col("district").drop_nulls().first()))
    recs = links.group_by("node_id").agg(pl.col("record_id").drop_nulls().unique().sort().alias("record_ids"))
    nodes = nodes.join(recs, on="node_id", how="left")
    return nodes, _hub_edges(links, "LOCATED_AT", label_of)


def _surrogate(prefix: str, source: pl.Expr) -> pl.Expr:
    """A node id minted from non-personal provenance (a record id or an entity id), never from the value."""
    return prefix + source.map_elements(lambda v: hashlib.sha1(v.encode("utf-8")).hexdigest()[:20],
                                        return_dtype=pl.Utf8)


def _phone_frames(ents: pl.DataFrame, mentions: pl.DataFrame, label_of: pl.DataFrame,
                  hash_key: str) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Phone nodes (masked name, surrogate id), USES_PHONE edges and the phones' keyed index rows."""
    links = pl.concat([
        mentions.select("entity_id", "phone", "record_id"),
        ents.select("entity_id", _col(ents, "phone"), pl.lit(None, pl.Utf8).alias("record_id")),
    ]).filter(pl.col("phone").is_not_null())
    uniq = links["phone"].unique().to_list()
    digits = {p: phone_key(p) for p in uniq}
    digits = {p: d for p, d in digits.items() if d}
    hashes = {d: keyed_hash(d, hash_key) for d in set(digits.values())}
    links = links.filter(pl.col("phone").is_in(list(digits))).with_columns(
        pl.col("phone").replace_strict({p: hashes[d] for p, d in digits.items()}, return_dtype=pl.Utf8).alias("_hash"),
        pl.col("phone").replace_strict({p: _mask_phone_key(d) for p, d in digits.items()},
                                       return_dtype=pl.Utf8).alias("name"),
        pl.coalesce(pl.col("record_id"), "ent:" + pl.col("entity_id")).alias("_src"),
    )
    # one node per number, named after the first source (by text) that gives it
    ids = links.group_by("_hash").agg(pl.col("_src").min()).with_columns(
        _surrogate("phone:", pl.col("_src")).alias("node_id")).drop("_src")
    links = links.join(ids, on="_hash", how="left")
    nodes = links.group_by("node_id").agg(
        pl.col("name").first(), pl.col("record_id").drop_nulls().unique().sort().alias("record_ids"))
    keyed = ids.select(pl.lit("phone").alias("kind"), pl.col("_hash").alias("hash"), "node_id")
    return nodes, _hub_edges(links, "USES_PHONE", label_of), keyed


def _record_frames(records: pl.DataFrame, mentions: pl.DataFrame,
                   label_of: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, int]]:
    if "event_type" not in records.columns:
        return pl.DataFrame(), pl.DataFrame(), {}
    ev = records.filter(pl.col("event_type").is_not_null() & (pl.col("event_type") != "registration"))
    grade = _col(ev, "grade").str.strip_chars().str.to_uppercase()
    sev = pl.col("event_type").replace_strict(SEVERITY, default=1, return_dtype=pl.Int64)
    nodes = ev.select(
        ("rec:" + pl.col("record_id")).alias("node_id"),
        pl.col("record_id"),
        pl.concat_list(pl.col("record_id")).alias("record_ids"),
        pl.col("event_type"),
        *[_col(ev, c) for c in ("catalog", "source_unit", "case_no", "authority", "status", "grade", "reason")],
        *[_col(ev, c, pl.Date) for c in ("date", "end_date")],
        *[_col(ev, c, pl.Float64) for c in ("amount", "capital")],
        _col(ev, "count", pl.Int64),
        pl.when(pl.col("event_type") == "tax_rating")
        .then(grade.replace_strict(_TAX_GRADE_SEVERITY, default=0, return_dtype=pl.Int64))
        .otherwise(sev).alias("severity"),
    ).with_columns(
        # a record is named after its type and number, e.g. "dishonest_debtor (2021)粤0305执123号"
        pl.when(pl.col("case_no").is_not_null()).then(pl.format("{} {}", "event_type", "case_no"))
        .otherwise(pl.col("event_type")).alias("name"))
    links = mentions.select("record_id", "role", pl.col("entity_id").alias("src")).join(
        nodes.select("record_id", "node_id"), on="record_id", how="inner")
    no_subject = nodes.height - links.filter(pl.col("role") == "subject")["record_id"].n_unique()
    edges = links.select(
        "src", pl.col("node_id").alias("dst"), "role", pl.concat_list("record_id").alias("record_ids"),
    ).with_columns(edge_id_expr("HAS_RECORD")).unique("edge_id", keep="first")
    edges = edges.join(label_of.rename({"node_id": "src", "label": "src_label"}), on="src", how="left").with_columns(
        pl.lit("CreditRecord").alias("dst_label"))
    # a record whose parties are all unresolved still exists as a node: it can be searched and repaired
    return nodes.drop("record_id"), edges, {"event_records_without_subject": no_subject}
