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

from credgraph.records import FIELD_NAMES, LINEAGE_FIELDS, RECORD_KINDS

from .errors import LoadError

__all__ = ["CatalogSpec", "read_spec", "find_specs", "FORMATS", "MAPPABLE_FIELDS", "SUBJECT_KEYS"]

FORMATS = ("csv", "tsv", "xlsx", "jsonl", "parquet")
_FORMAT_ALIASES = {"ndjson": "jsonl", "json": "jsonl", "txt": "csv", "xlsm": "xlsx", "pq": "parquet"}
_TEXT_FORMATS = ("csv", "tsv", "jsonl")

#: Fields the loader sets itself; a spec cannot map them.
_SET_BY_LOADER = (*LINEAGE_FIELDS, "kind", "extra")
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
}
_MANDATORY = ("code", "source_unit", "kind", "file")
_CODE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


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

    @property
    def source_file(self) -> str:
        """The data file's name, as records carry it in ``source_file``."""
        return self.file.name

    @property
    def source_columns(self) -> list[str]:
        """The distinct source columns the spec maps, in mapping order."""
        return list(dict.fromkeys(self.columns.values()))


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
    file = Path(file_value).expanduser()
    if not file.is_absolute():
        file = path.parent / file
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

    columns = _fields_table(path, "columns", data.get("columns", {}))
    for name, col in columns.items():
        if not isinstance(col, str) or not col.strip():
            raise LoadError(f"{path}: [columns] {name} must name a source column, got {col!r}")
    columns = {name: col.strip() for name, col in columns.items()}
    if not columns:
        raise LoadError(f"{path}: [columns] maps no source column to a standard field")

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
    if not given & set(SUBJECT_KEYS):
        raise LoadError(
            f"{path}: maps no subject: map subject_name or an identifier ({', '.join(SUBJECT_KEYS[1:])})"
        )
    if kind == "event" and "event_type" not in given:
        raise LoadError(f"{path}: an event catalog must give event_type in [columns] or [constants]")
    if kind == "relationship":
        if not given & set(OBJECT_KEYS):
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
