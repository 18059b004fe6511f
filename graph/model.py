"""The graph model as data: node labels, relationship types, their properties and directions.

Both backends (the embedded LadybugDB store and Neo4j) create their schema from these
lists, the builder fills frames with exactly these columns, and ``export_frames`` gives
them back, so the model is written down once.

**What becomes a node, what a property, and why**

* *Legal and natural persons* are nodes (``LegalPerson``, ``NaturalPerson``): they are
  what investigators look for and what risk travels between. One node per resolved
  entity; ``node_id`` is resolution's ``entity_id``.
* *Relationship records* (shareholder, legal representative, officer, branch, agent) are
  relationships, not nodes: each says one thing about two parties. Several records saying
  the same link (from several catalogs or years) become one relationship whose
  ``record_ids`` lists them all; ratio and capital come from the newest record that has them.
* *Registration records* (企业登记) describe the company itself, so they become properties
  of the LegalPerson (legal form, industry, registered capital, date of establishment,
  registration status): a company has one registration, and analytics reads it per company.
* *Every other event* (penalties, dishonesty lists, abnormal operations, tax ratings,
  licences, arrears, red lists, social insurance) is a ``CreditRecord`` node linked by
  ``HAS_RECORD`` from the subject (and from the object when the record names one, e.g. the
  responsible person of a tax violation): records have their own life (status, publicity
  end, credit repair), a subject has many of them, and risk propagation seeds from them.
* *Addresses and phones* are shared nodes (``Address``, ``Phone``) so that "firms sharing
  an address or a phone" — the mark of shell registrations — is a two-hop pattern. An
  address key is its normalised door (road + number + building, from
  :func:`credgraph.resolution.parse_address`); a phone node's id is a surrogate, and
  no phone number is stored in clear.

**Privacy.** The graph is what analysts query, so it holds no clear identifier and no
hash of one, by construction: a NaturalPerson's ID number is stored only as ``id_masked``
(:func:`credgraph.identifiers.mask_id`) and a Phone only as its masked number. Node ids of
persons and phones are surrogates (from the oldest record that names them), not functions of
the number. Exact look-up by ID number or phone goes through the application, which holds the
workspace key and a keyed index beside the graph (``<workspace>/graph/private/keyed.parquet``,
see :mod:`credgraph.graph.keyed`), never through an analyst's query.

**Provenance.** Every node and relationship carries ``record_ids``, the source records
it was built from; entities merged from several mentions carry ``member_count`` and a
short ``evidence`` summary.

>>> sorted(NODE_LABELS)
['Address', 'CreditRecord', 'LegalPerson', 'NaturalPerson', 'Phone']
>>> REL_TYPES["BRANCH_OF"].doc
'the branch (分公司) -> its parent company'
>>> [p.name for p in REL_TYPES["SHAREHOLDER_OF"].props][:3]
['edge_id', 'ratio', 'capital']
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Prop",
    "NodeSpec",
    "RelSpec",
    "NODE_LABELS",
    "REL_TYPES",
    "ENTITY_LABELS",
    "RELATION_TYPES",
    "node_columns",
    "edge_columns",
    "rel_prop_columns",
    "polars_dtype",
    "KEYED",
    "edge_id",
    "edge_id_expr",
]


@dataclass(frozen=True)
class Prop:
    """One property: name, type (str, float, int, bool, date, list) and what it means."""

    name: str
    dtype: str
    doc: str


@dataclass(frozen=True)
class NodeSpec:
    label: str
    doc: str
    props: tuple[Prop, ...]


@dataclass(frozen=True)
class RelSpec:
    type: str
    doc: str
    pairs: tuple[tuple[str, str], ...]  # (source label, target label) pairs allowed
    props: tuple[Prop, ...]
    #: properties that, with the type and the two ends, tell two relationships apart:
    #: ``edge_id`` is ``TYPE|src|dst``, then ``|value`` of each non-empty key property.
    key: tuple[str, ...] = ()


_COMMON = (
    Prop("node_id", "str", "unique id: entity_id, addr:<key>, phone:<hash>, rec:<record_id>"),
    Prop("name", "str", "display name (masked for phones)"),
    Prop("record_ids", "list", "source records this node was built from"),
)
_SEARCH = (
    Prop("name_key", "str", "the normalised name resolution compares (name is the most common name as written)"),
    Prop("names", "list", "every name the entity was written under"),
    Prop("search_text", "str", "normalised names joined by |, for substring search"),
    Prop("search_pinyin", "str", "toneless pinyin of the names joined by |, for pinyin and homophone search"),
    Prop("search_initials", "str", "pinyin initials of the names joined by |"),
    Prop("member_count", "int", "mentions merged into this entity"),
    Prop("evidence", "str", "short summary of the merge: mentions, catalogs, lowest confidence"),
)

NODE_LABELS: dict[str, NodeSpec] = {
    "LegalPerson": NodeSpec("LegalPerson", "a company, branch, individual business or other organisation", (
        *_COMMON, *_SEARCH,
        Prop("uscc", "str", "unified social credit code"),
        Prop("org_code", "str", "9-character organisation code"),
        Prop("reg_no", "str", "15-digit registration number"),
        Prop("is_branch", "bool", "a branch (分公司) of another company"),
        Prop("legal_form", "str", "enterprise type from the registration"),
        Prop("industry", "str", "industry from the registration"),
        Prop("registered_capital", "float", "registered capital, 10k CNY"),
        Prop("est_date", "date", "date of establishment"),
        Prop("status", "str", "registration status (存续, 注销, 吊销)"),
    )),
    "NaturalPerson": NodeSpec("NaturalPerson", "a person; the ID number only masked", (
        *_COMMON, *_SEARCH,
        Prop("id_masked", "str", "ID number, masked (440301********123X)"),
    )),
    "Address": NodeSpec("Address", "an address shared by the entities located there", (
        *_COMMON,
        Prop("district", "str", "district parsed from the address"),
    )),
    "Phone": NodeSpec("Phone", "a phone line; its name is the masked number, its id a surrogate", (
        *_COMMON,
    )),
    "CreditRecord": NodeSpec("CreditRecord", "one event record: penalty, listing, rating, licence, ...", (
        *_COMMON,
        Prop("event_type", "str", "see credgraph.records.EVENT_TYPES"),
        Prop("catalog", "str", "catalog code"),
        Prop("source_unit", "str", "reporting unit"),
        Prop("case_no", "str", "case, decision, licence or list number"),
        Prop("authority", "str", "deciding court or authority"),
        Prop("date", "date", "event date"),
        Prop("end_date", "date", "publicity end or date out"),
        Prop("status", "str", "active, repaired, expired or removed"),
        Prop("amount", "float", "amount in CNY"),
        Prop("grade", "str", "tax grade or honour title"),
        Prop("reason", "str", "reason or scope"),
        Prop("count", "int", "a count (insured staff, months in arrears)"),
        Prop("capital", "float", "capital in 10k CNY when the record gives one"),
        Prop("severity", "int", "0 neutral or good, 1 low, 2 medium, 3 high (from event type and grade)"),
    )),
}

ENTITY_LABELS = ("LegalPerson", "NaturalPerson")
_ENT = tuple((a, b) for a in ENTITY_LABELS for b in ENTITY_LABELS)
_REL_COMMON = (
    Prop("edge_id", "str", "TYPE|src|dst[|key] (see edge_id): in the frames and every answer; "
                           "the stores compute it from the ends rather than store it"),
)
_REL_TAIL = (Prop("record_ids", "list", "source records stating this link"),)

REL_TYPES: dict[str, RelSpec] = {
    "SHAREHOLDER_OF": RelSpec("SHAREHOLDER_OF", "the holder -> the company it holds shares in", _ENT, (
        *_REL_COMMON, Prop("ratio", "float", "share ratio in [0, 1]"),
        Prop("capital", "float", "subscribed capital, 10k CNY"), Prop("role", "str", "shareholder kind"), *_REL_TAIL)),
    "LEGAL_REP_OF": RelSpec("LEGAL_REP_OF", "the legal representative -> the company", _ENT, (
        *_REL_COMMON, *_REL_TAIL)),
    "OFFICER_OF": RelSpec("OFFICER_OF", "a director, supervisor or manager -> the company", _ENT, (
        *_REL_COMMON, Prop("role", "str", "董事, 监事, 经理, ..."), *_REL_TAIL), key=("role",)),
    "BRANCH_OF": RelSpec("BRANCH_OF", "the branch (分公司) -> its parent company", _ENT, (*_REL_COMMON, *_REL_TAIL)),
    "AGENT_OF": RelSpec("AGENT_OF", "the agent (代理机构/经办人) -> the company it registered", _ENT, (
        *_REL_COMMON, *_REL_TAIL)),
    "LOCATED_AT": RelSpec("LOCATED_AT", "an entity -> an address it gave", tuple((a, "Address") for a in ENTITY_LABELS), (
        *_REL_COMMON, *_REL_TAIL)),
    "USES_PHONE": RelSpec("USES_PHONE", "an entity -> a phone it gave", tuple((a, "Phone") for a in ENTITY_LABELS), (
        *_REL_COMMON, *_REL_TAIL)),
    "HAS_RECORD": RelSpec("HAS_RECORD", "an entity -> a credit record about it", tuple(
        (a, "CreditRecord") for a in ENTITY_LABELS), (
        *_REL_COMMON, Prop("role", "str", "subject or object: the entity's part in the record"), *_REL_TAIL)),
}

#: records.RELATIONS -> (relationship type, True when the object is the source).
RELATION_TYPES = {
    "shareholder_of": ("SHAREHOLDER_OF", True),
    "legal_rep_of": ("LEGAL_REP_OF", True),
    "officer_of": ("OFFICER_OF", True),
    "branch_of": ("BRANCH_OF", False),  # the subject is the branch
    "agent_of": ("AGENT_OF", True),
}


#: key property -> the relationship types it is part of the edge id of.
KEYED = {k: [t for t, spec in REL_TYPES.items() if k in spec.key]
         for k in sorted({k for spec in REL_TYPES.values() for k in spec.key})}


def edge_id(rel_type: str, src: str, dst: str, props: dict) -> str:
    """The id of a relationship: ``TYPE|src|dst``, then ``|value`` of each non-empty key property.

    >>> edge_id("OFFICER_OF", "N1", "L2", {"role": "董事"}), edge_id("SHAREHOLDER_OF", "N1", "L2", {"role": "x"})
    ('OFFICER_OF|N1|L2|董事', 'SHAREHOLDER_OF|N1|L2')
    """
    keys = [props.get(k) for k in REL_TYPES[rel_type].key] if rel_type in REL_TYPES else []
    return "|".join([rel_type, src, dst, *[k for k in keys if k]])


def edge_id_expr(rel_type: str):
    """The polars expression of :func:`edge_id` over a frame with columns src, dst and the key properties."""
    import polars as pl

    out = pl.concat_str([pl.lit(rel_type), pl.col("src"), pl.col("dst")], separator="|")
    for k in REL_TYPES[rel_type].key:
        out = pl.when(pl.col(k).is_not_null() & (pl.col(k) != "")).then(out + "|" + pl.col(k)).otherwise(out)
    return out.alias("edge_id")


def rel_prop_columns() -> dict:
    """Property name -> model dtype of the relationship properties a store keeps: the union of
    every type's, but ``edge_id`` (computed from the ends, see :func:`edge_id`).

    >>> rel_prop_columns()
    {'ratio': 'float', 'capital': 'float', 'role': 'str', 'record_ids': 'list'}
    """
    out: dict[str, str] = {}
    for spec in REL_TYPES.values():
        for p in spec.props:
            if p.name != "edge_id":
                out.setdefault(p.name, p.dtype)
    return out


def polars_dtype(dtype: str):
    """The polars type of a model dtype."""
    import polars as pl

    return {"str": pl.Utf8, "float": pl.Float64, "int": pl.Int64, "bool": pl.Boolean, "date": pl.Date,
            "list": pl.List(pl.Utf8)}[dtype]


def node_columns(label: str) -> dict:
    """Column name -> polars dtype of one label's node frame.

    >>> list(node_columns("Phone"))
    ['node_id', 'name', 'record_ids']
    """
    return {p.name: polars_dtype(p.dtype) for p in NODE_LABELS[label].props}


def edge_columns(rel_type: str) -> dict:
    """Column name -> polars dtype of one relationship type's frame (src, dst, then properties).

    >>> list(edge_columns("HAS_RECORD"))
    ['src', 'dst', 'edge_id', 'role', 'record_ids']
    """
    import polars as pl

    return {"src": pl.Utf8, "dst": pl.Utf8, **{p.name: polars_dtype(p.dtype) for p in REL_TYPES[rel_type].props}}
