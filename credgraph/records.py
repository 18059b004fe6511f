"""The standard record: the one shape every catalog row takes after loading.

This module is the contract between the stages. Loaders write records in this
shape (``records.parquet``), resolution reads the *mentions* in them, the graph
and analytics read the entities and facts built from them.

A record is one source row. It says something about a **subject** (a legal or
natural person), and may name an **object** (a second party: the shareholder, the
officer, the legal representative, the parent of a branch) linked to it by a
**relation**, and may carry an **event** (a penalty, a dishonesty listing, a rating).
Each party is a *mention* that resolution turns into an entity; the mention id is
``f"{record_id}:{role}"`` with role ``subject`` or ``object``.

The schema is data (``FIELDS``) so that specs, validators and docs read one list.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Field",
    "FIELDS",
    "FIELD_NAMES",
    "PARTY_FIELDS",
    "LINEAGE_FIELDS",
    "SUBJECT_TYPES",
    "RECORD_KINDS",
    "RELATIONS",
    "EVENT_TYPES",
    "EVENT_STATUSES",
    "IDENTIFIER_SCHEMES",
    "PERSONAL_SCHEMES",
    "mention_id",
    "polars_schema",
]

SUBJECT_TYPES = ("legal", "natural")
RECORD_KINDS = ("entity", "relationship", "event")

#: Relation of the *object* to the *subject*: the object is shareholder of the subject, ...
RELATIONS = {
    "shareholder_of": "the object holds shares in the subject (ratio, capital)",
    "legal_rep_of": "the object is the subject's legal representative",
    "officer_of": "the object is a director, supervisor or manager of the subject (role)",
    "branch_of": "the subject is a branch (分公司) of the object",
    "agent_of": "the object registered the subject as its agent (代理机构/经办人)",
}

#: Events a record may carry, with their Chinese catalog names.
EVENT_TYPES = {
    "registration": "企业登记",
    "abnormal_operations": "经营异常名录",
    "serious_illegal": "严重违法失信名单",
    "dishonest_debtor": "失信被执行人",
    "tax_rating": "纳税信用等级",
    "tax_violation": "重大税收违法",
    "penalty": "行政处罚",
    "licence": "行政许可",
    "social_insurance_arrears": "社保欠缴",
    "social_insurance": "社保参保",
    "red_list": "守信红名单",
}

#: active: counts now; repaired: removed by credit repair (信用修复); expired: past its publicity end.
EVENT_STATUSES = ("active", "repaired", "expired", "removed")


@dataclass(frozen=True)
class Field:
    name: str
    dtype: str  # "str", "float", "int", "date"
    doc: str


_PARTY = [
    ("type", "str", "legal or natural"),
    ("name", "str", "name as written in the source (not normalised)"),
    ("uscc", "str", "unified social credit code, 18 characters, validated"),
    ("org_code", "str", "9-character organisation code (older records), validated"),
    ("reg_no", "str", "15-digit business registration number (older records)"),
    ("id_number", "str", "resident ID: 18 characters, validated; 15-digit converted; may be masked with *"),
    ("id_number_unchecked", "str", "an 18-character resident ID that failed its check (a typo: a mistyped or "
                                   "two swapped digits), set aside from id_number with a finding; personal data "
                                   "like id_number, used only as evidence by resolution, never shown unmasked"),
    ("address", "str", "address as written"),
    ("phone", "str", "phone as written"),
    ("birth_date", "date", "date of birth (natural persons)"),
    ("gender", "str", "M or F (natural persons)"),
    ("nationality", "str", "country or region, ISO 3166 alpha-2 where known (CN, HK, US, ...)"),
    ("email", "str", "e-mail address, lower-cased"),
    ("identifiers", "str", 'JSON array of typed identifiers, e.g. [{"scheme": "passport", "value": "E12345678"}]; '
                           "see IDENTIFIER_SCHEMES"),
]

#: Identifier schemes a record may carry in ``*_identifiers`` (scheme -> meaning). The
#: PRC codes with their own columns (uscc, org_code, reg_no, id_number) may appear here too.
IDENTIFIER_SCHEMES = {
    "cn_resident_id": "PRC resident ID number (居民身份证), GB 11643",
    "cn_uscc": "unified social credit code (统一社会信用代码), GB 32100",
    "cn_org_code": "organisation code (组织机构代码), GB 11714",
    "cn_reg_no": "15-digit business registration number (注册号)",
    "passport": "passport number (any country; pair with nationality)",
    "hk_macau_permit": "Mainland travel permit for Hong Kong and Macau residents (回乡证)",
    "taiwan_permit": "Mainland travel permit for Taiwan residents (台胞证)",
    "national_id": "another country's national person number (SSN-like), kept as given",
    "company_number": "another country's company register number, kept as given",
    "tax_id": "a tax identification number, kept as given",
    "us_ssn": "United States social security number, checked (python-stdnum)",
    "us_ein": "United States employer identification number, checked (python-stdnum)",
    "lei": "legal entity identifier (ISO 17442), checked (python-stdnum)",
    "vat_number": "a European (or other) VAT number with its country prefix, checked (python-stdnum)",
    "other": "any other identifier, kept as given",
}

#: Identifier schemes that name a natural person: personal data, shown masked wherever a person
#: reads them (quarantine and findings lines included).
PERSONAL_SCHEMES = ("cn_resident_id", "passport", "hk_macau_permit", "taiwan_permit", "national_id", "us_ssn")

PARTY_FIELDS = tuple(n for n, _, _ in _PARTY)

_FIELDS = [
    Field("record_id", "str", "stable id: hash of catalog, file name, row number and row content"),
    Field("source_unit", "str", "the reporting unit (市场监管局, 法院, ...)"),
    Field("catalog", "str", "catalog code from the spec (MR_REG, COURT_DISHONEST, ...)"),
    Field("source_file", "str", "file name the row came from"),
    Field("source_row", "int", "1-based data row number in that file (header not counted)"),
    Field("load_batch", "str", "id of the load run that accepted the row"),
    Field("kind", "str", "entity, relationship or event"),
    *[Field(f"subject_{n}", t, d) for n, t, d in _PARTY],
    *[Field(f"object_{n}", t, d) for n, t, d in _PARTY],
    Field("relation", "str", "see RELATIONS; empty for entity and event records"),
    Field("role", "str", "officer role (董事, 监事, 经理, ...) or shareholder kind"),
    Field("ratio", "float", "share ratio in [0, 1]"),
    Field("capital", "float", "capital in 10k CNY: subscribed (shareholders) or registered (registration)"),
    Field("event_type", "str", "see EVENT_TYPES"),
    Field("case_no", "str", "case, decision, licence or list number"),
    Field("authority", "str", "court or authority that decided"),
    Field("date", "date", "event date (registration: date of establishment)"),
    Field("end_date", "date", "publicity end, date out of a list, or licence expiry"),
    Field("status", "str", "event status (see EVENT_STATUSES) or registration status (存续, 注销, 吊销)"),
    Field("amount", "float", "amount in CNY (penalty, arrears, obligation, tax)"),
    Field("grade", "str", "tax credit grade A/B/M/C/D, or honour title"),
    Field("reason", "str", "reason, cause or scope as written"),
    Field("legal_form", "str", "enterprise type as written (有限责任公司, 个体工商户, ...)"),
    Field("industry", "str", "industry as written"),
    Field("count", "int", "a count: insured staff, months in arrears"),
    Field("extra", "str", "JSON object of source columns the spec did not map"),
    Field("user_id", "str", "the user's own id of the source row (the spec's ``id_column``), carried to the entities"),
]

FIELDS: tuple[Field, ...] = tuple(_FIELDS)
FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in FIELDS)
LINEAGE_FIELDS = ("record_id", "source_unit", "catalog", "source_file", "source_row", "load_batch")


def mention_id(record_id: str, role: str) -> str:
    """Id of one party mention inside a record.

    >>> mention_id("r1a2", "object")
    'r1a2:object'
    """
    return f"{record_id}:{role}"


def polars_schema() -> dict:
    """The schema of records.parquet as polars dtypes."""
    import polars as pl

    dtypes = {"str": pl.Utf8, "float": pl.Float64, "int": pl.Int64, "date": pl.Date}
    return {f.name: dtypes[f.dtype] for f in FIELDS}
