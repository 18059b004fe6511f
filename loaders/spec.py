"""Catalog specs: the TOML file that says how one catalog file maps onto standard records.

A spec is the public way to bring your own data. It is checked as a whole before
any row is read, and every mistake is reported with the spec file and the key:

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "firms.csv").write_text("名称,代码\\n深圳市华强电子有限公司,914403001922038216\\n", encoding="utf-8")
>>> _ = (d / "firms.toml").write_text('''
... code = "MY_FIRMS"
... source_unit = "市场监管局"
... kind = "entity"
... file = "firms.csv"
... [columns]
... subject_name = "名称"
... subject_uscc = "代码"
... [constants]
... subject_type = "legal"
... ''', encoding="utf-8")
>>> spec = read_spec(d / "firms.toml")
>>> spec.code, spec.format, spec.columns["subject_uscc"]
('MY_FIRMS', 'csv', '代码')
>>> _ = (d / "bad.toml").write_text('code = "X"\\nsource_unit = "u"\\nkind = "entity"\\nfile = "firms.csv"\\nsubjet_name = "a"\\n')
>>> read_spec(d / "bad.toml")
Traceback (most recent call last):
...
credgraph.loaders.errors.LoadError: .../bad.toml: unknown key 'subjet_name' (allowed: ...)
"""

from __future__ import annotations

import codecs
import datetime as dt
import difflib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from credgraph.records import FIELD_NAMES, IDENTIFIER_SCHEMES, LINEAGE_FIELDS, RECORD_KINDS

from .errors import LoadError

__all__ = [
    "CatalogSpec",
    "ColumnSource",
    "read_spec",
    "find_specs",
    "FORMATS",
    "MAPPABLE_FIELDS",
    "SUBJECT_KEYS",
    "OBJECT_KEYS",
    "TRANSFORMS",
    "PATH_FORMATS",
]

FORMATS = ("csv", "tsv", "xlsx", "jsonl", "parquet")
_FORMAT_ALIASES = {"ndjson": "jsonl", "json": "jsonl", "txt": "csv", "xlsm": "xlsx", "pq": "parquet"}
_TEXT_FORMATS = ("csv", "tsv", "jsonl")
#: Formats whose values may be nested (objects, arrays): a source reference there may be a path.
PATH_FORMATS = ("jsonl", "parquet")

#: Transforms a column mapping may apply, in the order given, after the value is read.
TRANSFORMS = {
    "strip": "remove spaces at both ends (always done)",
    "upper": "upper-case",
    "lower": "lower-case",
    "title": "first letter of each word upper-case",
    "digits": "keep only the digits 0-9",
    "alnum": "keep only letters and digits",
    "nfc": "Unicode NFC (composed accents)",
    "nfkc": "Unicode NFKC (full-width letters and digits to half-width)",
    "collapse_spaces": "runs of spaces to one space",
}

#: Fields the loader sets itself; a spec cannot map them.
_SET_BY_LOADER = (*LINEAGE_FIELDS, "kind", "extra", "subject_id_number_unchecked", "object_id_number_unchecked")
MAPPABLE_FIELDS = tuple(f for f in FIELD_NAMES if f not in _SET_BY_LOADER)
#: A party is named by its name or one of its identifiers.
SUBJECT_KEYS = ("subject_name", "subject_uscc", "subject_org_code", "subject_reg_no", "subject_id_number")
OBJECT_KEYS = tuple(k.replace("subject_", "object_") for k in SUBJECT_KEYS)

_KEYS = {
    "code": "catalog code, e.g. MR_REG",
    "name": "catalog name, e.g. 企业登记",
    "source_unit": "reporting unit, e.g. 市场监管局",
    "kind": "entity | relationship | event",
    "file": "data file, relative to the spec's folder or absolute",
    "format": "csv | tsv | xlsx | jsonl | parquet (default: from the file's extension)",
    "encoding": "text encoding of csv/tsv/jsonl (default: detected, utf-8 then gb18030)",
    "sheet": "xlsx sheet name (default: the first sheet)",
    "delimiter": "csv field separator (default: , for csv, tab for tsv)",
    "description": "free text",
    "severity": "risk weight (0-1) of one active record of this catalog, read by analytics",
    "required": "standard fields that must be non-empty in every row",
    "columns": "table: standard field = source column",
    "constants": "table: standard field = value for every row",
    "values": "tables: [values.<field>] source value = standard value",
    "identifiers": "table: identifier scheme = source column(s) of the subject (see records.IDENTIFIER_SCHEMES)",
    "object_identifiers": "table: identifier scheme = source column(s) of the object",
    "id_column": "source column holding your own id of the row; becomes user_id",
    "date_format": "how dates are written when not in a common form, e.g. \"DD/MM/YYYY\" or \"%d.%m.%Y\", "
                   "or a list of such patterns tried in order",
}
_MANDATORY = ("code", "source_unit", "kind", "file")
_CODE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class ColumnSource:
    """How one standard field's text is read from a row: one or more source references,
    joined by ``sep`` (empty parts skipped), then the ``transforms`` in order.

    A reference is a column name; in JSON lines and Parquet files it may also be a
    path into a nested value: ``owner.name``, ``ids[0].value`` (a column of exactly
    that name wins).
    """

    refs: tuple[str, ...]
    sep: str = " "
    transforms: tuple[str, ...] = ()

    @property
    def plain(self) -> str | None:
        """The column name when this is a single reference without transforms, else None."""
        return self.refs[0] if len(self.refs) == 1 and not self.transforms else None

    def describe(self) -> str:
        """A short text naming the source, as findings and quarantine lines show it."""
        text = "+".join(self.refs)
        return f"{text} ({', '.join(self.transforms)})" if self.transforms else text


def top_key(ref: str) -> str:
    """The top-level column of a reference: ``owner`` for ``owner.name``, ``ids`` for ``ids[0].value``.

    >>> top_key("owner.name"), top_key("ids[0].value"), top_key("名称")
    ('owner', 'ids', '名称')
    """
    return re.split(r"[.\[]", ref, maxsplit=1)[0] or ref


def json_path(ref: str) -> str:
    """The JSONPath inside the top-level value: ``$.name`` for ``owner.name``.

    >>> json_path("owner.name"), json_path("ids[0].value")
    ('$.name', '$[0].value')
    """
    rest = ref[len(top_key(ref)) :]
    return "$" + rest


@dataclass(frozen=True)
class CatalogSpec:
    """One catalog: where its file is, how to read it, and which column is which standard field."""

    path: Path
    code: str
    name: str
    source_unit: str
    kind: str
    file: Path
    format: str
    encoding: str | None = None
    sheet: str | None = None
    delimiter: str | None = None
    description: str = ""
    required: tuple[str, ...] = ()
    columns: dict[str, str] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    #: how each field of ``columns`` is read (``columns`` holds a readable description)
    sources: dict[str, ColumnSource] = field(default_factory=dict)
    #: typed identifiers by party (``subject``/``object``): (scheme, source) pairs
    identifiers: dict[str, tuple[tuple[str, ColumnSource], ...]] = field(default_factory=dict)
    date_format: tuple[str, ...] | None = None

    @property
    def source_file(self) -> str:
        """The data file's name, as records carry it in ``source_file``."""
        return self.file.name

    def all_sources(self) -> list[tuple[str, ColumnSource]]:
        """(label, source) of every mapped field and identifier, labels as findings name them."""
        out = [(f, self.source_of(f)) for f in self.columns]
        for party, pairs in self.identifiers.items():
            out += [(f"{party}_identifiers[{scheme}]", src) for scheme, src in pairs]
        return out

    def source_of(self, field_name: str) -> ColumnSource:
        return self.sources.get(field_name) or ColumnSource((self.columns[field_name],))

    @property
    def source_refs(self) -> list[str]:
        """The distinct source references (columns or paths) the spec reads, in mapping order."""
        return list(dict.fromkeys(r for _, src in self.all_sources() for r in src.refs))

    @property
    def source_columns(self) -> list[str]:
        """The distinct top-level source columns the spec reads, in mapping order."""
        if self.format in PATH_FORMATS:
            return list(dict.fromkeys(top_key(r) for r in self.source_refs))
        return self.source_refs


def _suggest(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _str(path: Path, key: str, value: Any, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        raise LoadError(f"{path}: {key} must be a non-empty text value, got {value!r}")
    return value.strip()


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def _fields_table(path: Path, key: str, table: Any) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise LoadError(f"{path}: {key} must be a table like [{key}]")
    for name in table:
        if name in _SET_BY_LOADER:
            raise LoadError(f"{path}: [{key}] {name}: this field is set by the loader and cannot be mapped")
        if name not in MAPPABLE_FIELDS:
            raise LoadError(
                f"{path}: [{key}] {name}: unknown standard field{_suggest(name, MAPPABLE_FIELDS)}; "
                f"see credgraph.records.FIELD_NAMES"
            )
    return table


def _source(path: Path, key: str, value: Any) -> ColumnSource:
    """A column mapping's value: ``"col"``, ``["a", "b"]`` or ``{concat = [...], sep, transform}``."""
    if isinstance(value, str):
        if not value.strip():
            raise LoadError(f"{path}: {key} must name a source column, got {value!r}")
        return ColumnSource((value.strip(),))
    if isinstance(value, list):
        value = {"concat": value}
    if not isinstance(value, dict):
        raise LoadError(f"{path}: {key} must name a source column, got {value!r}")
    allowed = ("column", "concat", "sep", "transform")
    for k in value:
        if k not in allowed:
            raise LoadError(f"{path}: {key}: unknown key {k!r}{_suggest(k, allowed)} (allowed: {', '.join(allowed)})")
    if ("column" in value) == ("concat" in value):
        raise LoadError(f"{path}: {key}: give either column = \"...\" or concat = [\"...\", ...]")
    refs = [value["column"]] if "column" in value else value["concat"]
    if not isinstance(refs, list) or not refs or not all(isinstance(r, str) and r.strip() for r in refs):
        raise LoadError(f"{path}: {key}: concat must be a non-empty list of source column names, got {refs!r}")
    sep = value.get("sep", " ")
    if not isinstance(sep, str):
        raise LoadError(f"{path}: {key}: sep must be text, got {sep!r}")
    transforms = value.get("transform", [])
    if isinstance(transforms, str):
        transforms = [transforms]
    if not isinstance(transforms, list):
        raise LoadError(f"{path}: {key}: transform must be a name or a list of names ({', '.join(TRANSFORMS)})")
    for t in transforms:
        if t not in TRANSFORMS:
            raise LoadError(
                f"{path}: {key}: unknown transform {t!r}{_suggest(str(t), TRANSFORMS)} (known: {', '.join(TRANSFORMS)})"
            )
    return ColumnSource(tuple(r.strip() for r in refs), sep, tuple(transforms))


def _identifier_table(path: Path, key: str, table: Any) -> tuple[tuple[str, ColumnSource], ...]:
    if not isinstance(table, dict):
        raise LoadError(f"{path}: {key} must be a table like [{key}] passport = \"Passport No\"")
    pairs: list[tuple[str, ColumnSource]] = []
    for scheme, value in table.items():
        if scheme not in IDENTIFIER_SCHEMES:
            raise LoadError(
                f"{path}: [{key}] {scheme}: unknown identifier scheme{_suggest(scheme, IDENTIFIER_SCHEMES)} "
                f"(known: {', '.join(IDENTIFIER_SCHEMES)})"
            )
        # a list of plain names is several columns of one scheme (not a concat)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            pairs += [(scheme, _source(path, f"[{key}] {scheme}", v)) for v in value]
        else:
            pairs.append((scheme, _source(path, f"[{key}] {scheme}", value)))
    return tuple(pairs)


_DATE_TOKENS = (("YYYY", "%Y"), ("MM", "%m"), ("DD", "%d"), ("Mon", "%b"), ("YY", "%y"))


def _date_formats(path: Path, value: Any) -> tuple[str, ...]:
    """strftime patterns from one ``DD/MM/YYYY``-style or ``%d/%m/%Y``-style text, or a list of them
    (a column written in several ways: ``["MM/DD/YY", "MM/DD/YYYY", "DD-Mon-YY"]``), tried in order."""
    if isinstance(value, list):
        if not value:
            raise LoadError(f"{path}: date_format = []: give a pattern or a list of patterns")
        return tuple(_date_format(path, v) for v in value)
    return (_date_format(path, value),)


def _date_format(path: Path, value: Any) -> str:
    """A strftime pattern from ``DD/MM/YYYY``-style or ``%d/%m/%Y``-style text."""
    text = _str(path, "date_format", value)
    fmt = text
    if "%" not in fmt:
        for token, code in _DATE_TOKENS:
            fmt = fmt.replace(token, code)
    if not all(c in fmt for c in ("%d",)) or not re.search(r"%[Yy]", fmt) or not re.search(r"%[mbB]", fmt):
        raise LoadError(
            f"{path}: date_format = {text!r}: needs a day, a month and a year, e.g. \"DD/MM/YYYY\" or \"%d.%m.%Y\""
        )
    try:
        dt.datetime.strptime(dt.date(2001, 2, 3).strftime(fmt), fmt)
    except ValueError:
        raise LoadError(f"{path}: date_format = {text!r}: not a usable date pattern") from None
    return fmt


def _resolve_file(path: Path, value: str) -> Path:
    """The data file: relative to the spec, absolute, or ``package:NAME/inside/it`` (an installed package's file)."""
    if value.startswith("package:"):
        import importlib.util

        rest = value[len("package:") :].lstrip("/")
        name, _, inside = rest.partition("/")
        try:
            found = importlib.util.find_spec(name) if name else None
        except (ImportError, ValueError):
            found = None
        if found is None or not found.submodule_search_locations:
            raise LoadError(f"{path}: file = {value!r}: Python package {name!r} is not installed")
        return Path(list(found.submodule_search_locations)[0]) / inside
    file = Path(value).expanduser()
    return file if file.is_absolute() else path.parent / file


def read_spec(path: str | Path) -> CatalogSpec:
    """Read and check one catalog spec; raise :class:`LoadError` naming the file and key."""
    path = Path(path)
    if not path.is_file():
        raise LoadError(f"{path}: spec file not found")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LoadError(f"{path}: a spec must be UTF-8; invalid bytes at byte offset {exc.start}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LoadError(f"{path}: not valid TOML: {exc}") from None

    for key in data:
        if key not in _KEYS:
            raise LoadError(
                f"{path}: unknown key '{key}'{_suggest(key, _KEYS)} (allowed: {', '.join(_KEYS)})"
            )
    for key in _MANDATORY:
        if key not in data:
            raise LoadError(f"{path}: missing key '{key}' ({_KEYS[key]})")

    code = _str(path, "code", data["code"])
    if not _CODE_RE.match(code):
        raise LoadError(f"{path}: code = {code!r}: a catalog code is letters, digits and _ (e.g. MR_REG)")
    kind = _str(path, "kind", data["kind"])
    if kind not in RECORD_KINDS:
        raise LoadError(f"{path}: kind = {kind!r}: unknown kind (expected one of {', '.join(RECORD_KINDS)})")

    file_value = _str(path, "file", data["file"])
    file = _resolve_file(path, file_value)
    if not file.is_file():
        raise LoadError(f"{path}: file = {file_value!r}: data file not found ({file})")

    fmt = data.get("format")
    if fmt is None:
        fmt = file.suffix.lower().lstrip(".")
        fmt = _FORMAT_ALIASES.get(fmt, fmt)
        if fmt not in FORMATS:
            raise LoadError(
                f"{path}: no format given and the file's extension {file.suffix!r} does not tell one; "
                f"add format = one of {', '.join(FORMATS)}"
            )
    else:
        fmt = _str(path, "format", fmt).lower()
        fmt = _FORMAT_ALIASES.get(fmt, fmt)
        if fmt not in FORMATS:
            raise LoadError(f"{path}: format = {data['format']!r}: unknown format (expected one of {', '.join(FORMATS)})")

    encoding = data.get("encoding")
    if encoding is not None:
        encoding = _str(path, "encoding", encoding)
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise LoadError(f"{path}: encoding = {encoding!r}: unknown encoding (e.g. utf-8, gbk, gb18030)") from None
        if fmt not in _TEXT_FORMATS:
            raise LoadError(f"{path}: encoding applies to csv, tsv and jsonl files, not {fmt}")
    sheet = data.get("sheet")
    if sheet is not None:
        sheet = _str(path, "sheet", sheet)
        if fmt != "xlsx":
            raise LoadError(f"{path}: sheet applies to xlsx files only, this one is {fmt}")
    delimiter = data.get("delimiter")
    if delimiter is not None:
        if fmt not in ("csv", "tsv") or not isinstance(delimiter, str) or len(delimiter) != 1:
            raise LoadError(f"{path}: delimiter must be one character, for csv or tsv files")

    columns_table = dict(_fields_table(path, "columns", data.get("columns", {})))
    id_column = data.get("id_column")
    if id_column is not None:
        id_column = _str(path, "id_column", id_column)
        if "user_id" in columns_table:
            raise LoadError(f"{path}: id_column and [columns] user_id both given; give one")
        columns_table["user_id"] = id_column
    sources = {name: _source(path, f"[columns] {name}", col) for name, col in columns_table.items()}
    columns = {name: src.describe() for name, src in sources.items()}
    identifiers = {}
    for party, key in (("subject", "identifiers"), ("object", "object_identifiers")):
        if key in data:
            pairs = _identifier_table(path, key, data[key])
            if pairs:
                identifiers[party] = pairs
    if not columns and not identifiers:
        raise LoadError(f"{path}: [columns] maps no source column to a standard field")
    date_format = _date_formats(path, data["date_format"]) if "date_format" in data else None

    constants = _fields_table(path, "constants", data.get("constants", {}))
    for name, value in constants.items():
        if isinstance(value, (dict, list)):
            raise LoadError(f"{path}: [constants] {name} must be a single value, got {value!r}")
        if name in columns:
            raise LoadError(f"{path}: [constants] {name}: also mapped in [columns]; give one or the other")
    constants = {name: _scalar_text(v) for name, v in constants.items()}

    values = data.get("values", {})
    if not isinstance(values, dict):
        raise LoadError(f"{path}: values must be tables like [values.subject_type]")
    value_maps: dict[str, dict[str, str]] = {}
    for name, table in values.items():
        key = f"values.{name}"
        if name not in MAPPABLE_FIELDS:
            raise LoadError(f"{path}: [{key}]: unknown standard field{_suggest(name, MAPPABLE_FIELDS)}")
        if name not in columns:
            raise LoadError(f"{path}: [{key}]: {name} is not mapped in [columns], so there is nothing to translate")
        if not isinstance(table, dict):
            raise LoadError(f"{path}: {key} must be a table like [{key}]")
        for src, dst in table.items():
            if isinstance(dst, (dict, list)):
                raise LoadError(f"{path}: [{key}] {src!r} must map to a single value, got {dst!r}")
        value_maps[name] = {str(src).strip(): _scalar_text(dst) for src, dst in table.items()}

    required = data.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        raise LoadError(f"{path}: required must be a list of standard field names, e.g. [\"subject_name\"]")
    for name in required:
        if name not in MAPPABLE_FIELDS:
            raise LoadError(f"{path}: required: {name!r} is not a standard field{_suggest(name, MAPPABLE_FIELDS)}")
        if name not in columns and name not in constants:
            raise LoadError(f"{path}: required: {name!r} is not mapped in [columns] or [constants]")

    given = set(columns) | set(constants)
    if not given & set(SUBJECT_KEYS) and "subject" not in identifiers:
        raise LoadError(
            f"{path}: maps no subject: map subject_name or an identifier ({', '.join(SUBJECT_KEYS[1:])}, "
            f"or [identifiers])"
        )
    if kind == "event" and "event_type" not in given:
        raise LoadError(f"{path}: an event catalog must give event_type in [columns] or [constants]")
    if kind == "relationship":
        if not given & set(OBJECT_KEYS) and "object" not in identifiers:
            raise LoadError(f"{path}: a relationship catalog must map object_name or an object identifier")
        if "relation" not in given:
            raise LoadError(f"{path}: a relationship catalog must give relation in [columns] or [constants]")

    spec = CatalogSpec(
        path=path,
        code=code,
        name=_str(path, "name", data.get("name", code)),
        source_unit=_str(path, "source_unit", data["source_unit"]),
        kind=kind,
        file=file,
        format=fmt,
        encoding=encoding,
        sheet=sheet,
        delimiter=delimiter,
        description=str(data.get("description", "")),
        required=tuple(dict.fromkeys(required)),
        columns=columns,
        constants=constants,
        values=value_maps,
        sources=sources,
        identifiers=identifiers,
        date_format=date_format,
    )
    _check_constants(spec)
    return spec


def _check_constants(spec: CatalogSpec) -> None:
    """Constants go through the same checks as column values; a bad one would fail every row."""
    if not spec.constants:
        return
    from .validate import constant_problems  # validate imports this module

    for name, reason in constant_problems(spec).items():
        raise LoadError(f"{spec.path}: [constants] {name} = {spec.constants[name]!r}: {reason}")


def find_specs(paths: list[str | Path]) -> list[Path]:
    """Spec files named directly, and the ``*.toml`` files inside named directories (sorted).

    A path that does not exist, or a directory without specs, is a :class:`LoadError`.
    """
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            inside = sorted(p.glob("*.toml"))
            if not inside:
                raise LoadError(f"{p}: directory holds no *.toml spec files")
            found.extend(inside)
        elif p.is_file():
            found.append(p)
        else:
            raise LoadError(f"{p}: spec file not found")
    unique: dict[Path, Path] = {}
    for p in found:
        unique.setdefault(p.resolve(), p)
    return list(unique.values())
