"""Writers: catalog files in their native formats, loader specs, ground truth.

Every writer is deterministic: no timestamps (XLSX carries a fixed creation date), rows in
generation order, Parquet without wall-clock metadata. Catalogs are appended chunk by
chunk so memory does not grow with the file.

>>> print(toml_string('a "b"'))
"a \\"b\\""
>>> format_dates(np.array(["2021-03-04", "NaT"], dtype="datetime64[D]"), "cn").tolist()
['2021年3月4日', None]
"""

from __future__ import annotations

import codecs
import datetime as _dt
import json
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["open_sink", "format_dates", "to_series", "spec_toml", "toml_string", "MentionWriter", "XLSX_MAX_ROWS"]

#: Excel's row limit (minus the header row).
XLSX_MAX_ROWS = 1_048_575
#: XLSX files carry this creation date, so the same seed gives the same bytes.
XLSX_CREATED = _dt.datetime(2021, 12, 31, 0, 0, 0)


def format_dates(d: np.ndarray, style: str) -> np.ndarray:
    """Dates as the source writes them: iso 2021-03-04, slash 2021/3/4, compact 20210304, cn 2021年3月4日."""
    iso = np.datetime_as_string(d.astype("datetime64[D]"), unit="D")
    if style == "iso":
        out = iso.astype(object)
    elif style == "compact":
        out = np.array([s.replace("-", "") for s in iso], dtype=object)
    elif style == "slash":
        out = np.array([f"{s[:4]}/{int(s[5:7])}/{int(s[8:10])}" if s != "NaT" else s for s in iso], dtype=object)
    elif style == "cn":
        out = np.array([f"{s[:4]}年{int(s[5:7])}月{int(s[8:10])}日" if s != "NaT" else s for s in iso], dtype=object)
    else:
        raise ValueError(f"unknown date style {style!r}")
    out[np.isnat(d)] = None
    return out


def to_series(name: str, values: np.ndarray, date_style: str) -> pl.Series:
    """A polars column from a numpy column: dates formatted, NaN as null, text as Utf8."""
    values = np.asarray(values)
    if np.issubdtype(values.dtype, np.datetime64):
        return pl.Series(name, format_dates(values, date_style).tolist(), dtype=pl.Utf8)
    if np.issubdtype(values.dtype, np.floating):
        return pl.Series(name, values, dtype=pl.Float64).fill_nan(None)
    if np.issubdtype(values.dtype, np.integer):
        return pl.Series(name, values, dtype=pl.Int64)
    # Object columns hold str or None only (builders make sure), so no per-value conversion.
    return pl.Series(name, values.tolist(), dtype=pl.Utf8)


def _unaccented(exc: UnicodeError) -> tuple[str, int]:
    """What a legacy export does with a letter its encoding lacks (GBK has é and ü, not ç, ô, ñ):
    writes it without its accent (François → Francois), or ``?`` when no plain letter is left."""
    from credgraph.synth.foreign import strip_accents

    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    out = []
    for ch in exc.object[exc.start:exc.end]:
        base = strip_accents(ch)
        try:
            base.encode(exc.encoding)
        except UnicodeEncodeError:
            base = "?"
        out.append(base)
    return "".join(out), exc.end


codecs.register_error("credgraph_unaccented", _unaccented)


class _CsvSink:
    def __init__(self, path: Path, separator: str, encoding: str):
        self.f = open(path, "wb")
        self.sep = separator
        self.encoding = encoding
        self.first = True

    def write(self, frame: pl.DataFrame) -> None:
        text = frame.write_csv(separator=self.sep, include_header=self.first, null_value="", quote_style="necessary")
        if self.first and self.encoding == "utf-8-sig":
            data = "\ufeff".encode("utf-8") + text.encode("utf-8")
        else:
            # every text column, not only the party names the noise step already unaccents
            data = text.encode("utf-8" if self.encoding == "utf-8-sig" else self.encoding, errors="credgraph_unaccented")
        self.f.write(data)
        self.first = False

    def close(self) -> None:
        self.f.close()


class _JsonlSink:
    def __init__(self, path: Path):
        self.f = open(path, "wb")

    def write(self, frame: pl.DataFrame) -> None:
        self.f.write(frame.write_ndjson().encode("utf-8"))

    def close(self) -> None:
        self.f.close()


class _XlsxSink:
    def __init__(self, path: Path, columns: tuple[str, ...]):
        import xlsxwriter

        self.wb = xlsxwriter.Workbook(
            str(path), {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
        )
        self.wb.set_properties({"created": XLSX_CREATED, "author": "credgraph.synth"})
        self.ws = self.wb.add_worksheet("Sheet1")
        self.ws.write_row(0, 0, list(columns))
        self.row = 1

    def write(self, frame: pl.DataFrame) -> None:
        if self.row + frame.height > XLSX_MAX_ROWS + 1:
            raise ValueError("catalog exceeds the XLSX row limit")
        ws = self.ws
        for r, values in enumerate(frame.iter_rows(), start=self.row):
            for c, v in enumerate(values):
                if v is None:
                    continue
                if isinstance(v, str):
                    ws.write_string(r, c, v)
                else:
                    ws.write_number(r, c, v)
        self.row += frame.height

    def close(self) -> None:
        self.wb.close()


def open_sink(path: Path, fmt: str, encoding: str | None, columns: tuple[str, ...]):
    """A chunk writer for one catalog file."""
    if fmt in ("csv", "tsv"):
        return _CsvSink(path, "\t" if fmt == "tsv" else ",", encoding or "utf-8")
    if fmt == "jsonl":
        return _JsonlSink(path)
    if fmt == "xlsx":
        return _XlsxSink(path, columns)
    raise ValueError(f"unknown format {fmt!r}")


# ----------------------------------------------------------------------------- specs
def toml_string(s: str) -> str:
    """A TOML basic string (JSON string escapes are valid TOML escapes)."""
    return json.dumps(s, ensure_ascii=False)


def spec_toml(cat, file: str, fmt: str, encoding: str | None) -> str:
    """The loader spec of one catalog (the briefing's format)."""
    q = toml_string
    lines = [
        "# Loader spec written by `credgraph generate` (synthetic city).",
        f"code = {q(cat.code)}",
        f"name = {q(cat.name)}",
        f"source_unit = {q(cat.source_unit)}",
        f"kind = {q(cat.kind)}",
        f"file = {q(file)}",
        f"format = {q(fmt)}",
    ]
    if encoding:
        lines.append(f"encoding = {q(encoding)}")
    if fmt == "xlsx":
        lines.append('sheet = "Sheet1"')
    lines.append(f"required = [{', '.join(q(r) for r in cat.required)}]")
    if getattr(cat, "severity", None) is not None:
        lines.append(f"severity = {float(cat.severity)!r}  # risk weight of one active record (analytics)")
    lines += ["", "[columns]"]
    lines += [f"{k} = {q(v)}" for k, v in cat.spec_columns().items()]
    if cat.constants:
        lines += ["", "[constants]"]
        lines += [f"{k} = {q(v)}" for k, v in cat.constants.items()]
    for table, mapping in cat.spec_identifiers().items():
        lines += ["", f"[{table}]"]
        lines += [f"{k} = {q(v)}" for k, v in mapping.items()]
    for field_name, mapping in cat.values.items():
        lines += ["", f"[values.{field_name}]"]
        lines += [f"{q(k)} = {q(v)}" for k, v in mapping.items()]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- mentions
MENTION_SCHEMA = pa.schema([
    ("source_file", pa.string()),
    ("source_row", pa.int64()),
    ("role", pa.string()),
    ("entity_id", pa.string()),
    ("noise", pa.string()),
    ("hard_case", pa.string()),
])


class MentionWriter:
    """Appends mention rows to truth/mentions.parquet, one row group per flush."""

    def __init__(self, path: Path):
        self.writer = pq.ParquetWriter(str(path), MENTION_SCHEMA, compression="zstd")
        self.rows = 0

    def write(self, parts: list[dict]) -> None:
        if not parts:
            return
        cols = {k: np.concatenate([p[k] for p in parts]) for k in MENTION_SCHEMA.names}
        table = pa.Table.from_pydict(
            {k: pa.array(cols[k], type=MENTION_SCHEMA.field(k).type) for k in MENTION_SCHEMA.names},
            schema=MENTION_SCHEMA,
        )
        self.writer.write_table(table)
        self.rows += table.num_rows

    def close(self) -> None:
        self.writer.close()
