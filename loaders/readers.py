"""Reading catalog files in chunks: CSV/TSV, JSON lines, XLSX, Parquet.

Every reader yields :class:`Chunk` s: a frame of the file's columns as text plus
``__row__`` (the 1-based data row; header not counted), and the rows that could not
be parsed as rows at all (cut short, not JSON, too many fields), each with its row
number and the reason, so they go to quarantine instead of vanishing.

Text files are checked against their encoding first, in one streaming pass that
also counts lines; a file that is not UTF-8 is transcoded to a temporary UTF-8 copy
so the fast readers can scan it. Memory stays bounded by the chunk size.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import polars as pl

from .errors import LoadError
from .spec import CatalogSpec

__all__ = ["ROW", "Chunk", "TextFile", "prepare_text", "open_source", "Source", "SlowPathNeeded", "short_rows"]

#: Name of the row-number column in every chunk (1-based data row).
ROW = "__row__"
_BLOCK = 1 << 22
_VALUE_CHARS = 500  # quarantined raw text is cut to this length
_BROKEN_SCHEMA = {ROW: pl.Int64, "value": pl.String, "reason": pl.String}


@dataclass
class Chunk:
    frame: pl.DataFrame  # text columns of the file + ROW
    broken: pl.DataFrame  # ROW, value (raw text), reason
    #: the rows' raw text, aligned with ``frame``, where the reader has it (JSON lines);
    #: record ids hash it instead of the parsed values
    content: pl.Series | None = None


class SlowPathNeeded(Exception):
    """The fast reader met something it cannot parse: read the rest of the file row by row."""


def _broken(rows: list[tuple[int, str, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        [(r, v[:_VALUE_CHARS] if v else v, why) for r, v, why in rows], schema=_BROKEN_SCHEMA, orient="row"
    )


def _text_frame(columns: list[str], rows: list[list], first_row: list[int]) -> pl.DataFrame:
    data = {c: list(vals) for c, vals in zip(columns, zip(*rows))} if rows else {c: [] for c in columns}
    frame = pl.DataFrame(data, schema={c: pl.String for c in columns})
    # empty cells are null, as polars' CSV reader gives them
    return frame.with_columns(pl.col(columns).replace("", None), pl.Series(ROW, first_row, dtype=pl.Int64))


# ------------------------------------------------------------------ encodings
@dataclass
class TextFile:
    """A text catalog ready to read: a UTF-8 path (the original or a transcoded copy)."""

    path: Path
    encoding: str
    lines: int


def _codec(name: str) -> str:
    """Python codec for a declared encoding; GBK and GB2312 are read as their superset GB18030."""
    canonical = codecs.lookup(name).name
    return "gb18030" if canonical in ("gbk", "gb2312", "cp936") else canonical


def _is_utf8(codec: str) -> bool:
    return codecs.lookup(codec).name in ("utf-8", "utf-8-sig")


def _scan(path: Path, codec: str, out: Path | None) -> tuple[int, str | None]:
    """Decode the whole file as ``codec`` (writing UTF-8 to ``out`` if given).

    Returns the number of lines and None, or where decoding failed as a message.
    """
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    lines = 0
    offset = 0
    last = b""
    sink = open(out, "w", encoding="utf-8", newline="") if out else None
    try:
        with open(path, "rb") as f:
            while True:
                block = f.read(_BLOCK)
                final = not block
                pending = len(decoder.getstate()[0])
                try:
                    text = decoder.decode(block, final=final)
                except UnicodeDecodeError as exc:
                    at = offset - pending + exc.start
                    line = lines + 1 + block[: max(exc.start - pending, 0)].count(b"\n")
                    return lines, f"invalid {codec} bytes at byte offset {at} (line {line})"
                if sink and text:
                    sink.write(text)
                if final:
                    break
                lines += block.count(b"\n")
                offset += len(block)
                last = block[-1:]
    finally:
        if sink:
            sink.close()
    if offset and last != b"\n":
        lines += 1  # a last line without newline
    return lines, None


def prepare_text(path: Path, declared: str | None, detect: tuple[str, ...], tmpdir: Path) -> TextFile:
    """Check a text file's encoding (or detect it) and give a UTF-8 file to read.

    A file that does not decode fails with a :class:`LoadError` naming the file,
    the byte offset and the line of the first bad byte.
    """
    if path.stat().st_size == 0:
        raise LoadError(f"{path}: the file is empty")
    candidates = [declared] if declared else list(detect)
    failures = []
    for name in candidates:
        codec = _codec(name)
        out = None if _is_utf8(codec) else tmpdir / f"{path.name}.{codec}.utf8"
        lines, problem = _scan(path, codec, out)
        if problem is None:
            return TextFile(out or path, name, lines)
        if out and out.exists():
            out.unlink()
        failures.append(problem)
    if declared:
        hint = "GBK/GB18030" if _is_utf8(_codec(declared)) else "UTF-8"
        raise LoadError(
            f"{path}: not readable as {declared}: {failures[0]}; data row {_data_row(failures[0])}. "
            f"Is the file in another encoding (e.g. {hint})? Set encoding in the spec."
        )
    raise LoadError(f"{path}: encoding not recognised (tried {', '.join(candidates)}): " + "; ".join(failures))


def _data_row(problem: str) -> str:
    line = int(problem.rsplit("line ", 1)[1].rstrip(")"))
    return str(line - 1) if line > 1 else "none (in the header)"


# ------------------------------------------------------------------ sources
class Source:
    """A catalog file being read: its columns, an estimate of its rows, its chunks."""

    columns: list[str]
    total_rows: int | None = None
    encoding: str | None = None

    def chunks(self) -> Iterator[Chunk]:
        raise NotImplementedError

    def slow_chunks(self, after: int = 0) -> Iterator[Chunk]:
        """Row-by-row reading of the rows after ``after``, used when the fast reader fails."""
        raise NotImplementedError


def open_source(spec: CatalogSpec, tmpdir: Path, chunk_rows: int, detect: tuple[str, ...]) -> Source:
    """The reader for a spec's file; raises :class:`LoadError` when it cannot be opened."""
    path = spec.file
    if not path.is_file():
        raise LoadError(f"{spec.path}: data file not found: {path}")
    if spec.format in ("csv", "tsv"):
        return CsvSource(spec, prepare_text(path, spec.encoding, detect, tmpdir), chunk_rows)
    if spec.format == "jsonl":
        return JsonLinesSource(spec, prepare_text(path, spec.encoding, detect, tmpdir), chunk_rows)
    if path.stat().st_size == 0:
        raise LoadError(f"{path}: the file is empty")
    if spec.format == "xlsx":
        return XlsxSource(spec, chunk_rows)
    return ParquetSource(spec, chunk_rows)


def _clean_header(names: list[str], path: Path) -> list[str]:
    cleaned = [str(n).strip().lstrip("\ufeff") for n in names]
    seen = set()
    for i, name in enumerate(cleaned):
        if not name:
            cleaned[i] = name = f"column_{i + 1}"
        if name in seen:
            raise LoadError(f"{path}: column {name!r} appears twice in the header")
        seen.add(name)
    return cleaned


def short_rows(path: Path, sep: str, quote: str | None, n: int) -> dict[int, int]:
    """Data rows of a CSV file with fewer than ``n`` fields: {row number: fields}.

    One vectorised pass over the bytes: separators and line ends inside quotes
    (quote parity, so doubled quotes ``""`` cancel out) do not count. Blank lines
    are left out (they are quarantined as empty rows). polars pads a short row with
    nulls without a word, so these rows are found here and quarantined instead.
    A file whose quotes do not balance returns {} (its reading fails on its own).
    """
    sep_b = ord(sep)
    quote_b = ord(quote) if quote else None
    found: dict[int, int] = {}
    parity = 0
    record = 0  # 0 = the header
    seps = 0  # separators so far in the current record
    length = 0  # bytes so far in the current record
    with open(path, "rb") as f:
        while True:
            block = f.read(_BLOCK)
            if not block:
                break
            a = np.frombuffer(block, dtype=np.uint8)
            ends = np.flatnonzero(a == 10)
            sep_at = np.flatnonzero(a == sep_b)
            if quote_b is not None:
                quotes = np.flatnonzero(a == quote_b)
                if len(quotes):  # a byte is inside quotes when an odd number of quotes precede it
                    ends = ends[(np.searchsorted(quotes, ends) + parity) % 2 == 0]
                    sep_at = sep_at[(np.searchsorted(quotes, sep_at) + parity) % 2 == 0]
                    parity = (parity + len(quotes)) % 2
                elif parity:
                    ends = sep_at = np.zeros(0, dtype=np.int64)
            if len(ends):
                # separators before each line end: per record, and what is left for the block's tail
                before = np.searchsorted(sep_at, ends)
                per = np.diff(np.concatenate(([0], before)))
                starts = np.concatenate(([0], ends[:-1] + 1))
                lengths = ends - starts
                per[0] += seps
                lengths[0] += length
                cr = (a[np.maximum(ends - 1, 0)] == 13) & (ends > 0)
                lengths = lengths - cr
                numbers = record + np.arange(len(ends))
                fields = per + 1
                for i in np.flatnonzero((fields < n) & (numbers > 0) & (lengths > 0)):
                    found[int(numbers[i])] = int(fields[i])
                record += len(ends)
                seps = len(sep_at) - int(before[-1])
                length = len(a) - int(ends[-1]) - 1
            else:
                seps += len(sep_at)
                length += len(a)
    if parity:
        return {}
    if length > 0 and record > 0 and seps + 1 < n:  # a last line without newline
        found[record] = seps + 1
    return found


class CsvSource(Source):
    """CSV or TSV: polars' batched scan, or Python's csv module when a row breaks the format."""

    def __init__(self, spec: CatalogSpec, text: TextFile, chunk_rows: int):
        self.spec, self.text, self.chunk_rows = spec, text, chunk_rows
        self.encoding = text.encoding
        self.sep = spec.delimiter or ("\t" if spec.format == "tsv" else ",")
        self.quote = None if spec.format == "tsv" else '"'  # TSV has no quoting
        with open(text.path, encoding="utf-8-sig", newline="") as f:
            header = next(self._reader(f), None)
        if not header or all(not h.strip() for h in header):
            raise LoadError(f"{spec.file}: no header row (the file is empty)")
        self.raw_header = header
        self.columns = _clean_header(header, spec.file)
        self.total_rows = max(text.lines - 1, 0)

    def _reader(self, f):
        if self.quote is None:
            return csv.reader(f, delimiter=self.sep, quoting=csv.QUOTE_NONE, strict=True)
        return csv.reader(f, delimiter=self.sep, quotechar=self.quote, strict=True)

    def _last_line_fields(self) -> int | None:
        """Fields of the file's last line when the file does not end with a newline, else None.

        A file cut while being written ends mid-row; polars would pad such a row
        with empty fields, so it is found here and quarantined instead.
        """
        with open(self.text.path, "rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(size - (1 << 16), 0))
            tail = f.read()
        if tail.endswith(b"\n"):
            return None
        last = tail.rsplit(b"\n", 1)[-1].decode("utf-8", "replace")
        try:
            row = next(self._reader(io.StringIO(last)), [])
        except csv.Error:
            return 0  # inside an open quote: certainly cut short
        return len(row)

    def chunks(self) -> Iterator[Chunk]:
        lf = pl.scan_csv(
            self.text.path,
            separator=self.sep,
            quote_char=self.quote,
            infer_schema=False,
            new_columns=self.columns,
            row_index_name=ROW,
            row_index_offset=1,
            raise_if_empty=False,
        )
        n = len(self.columns)
        self._short: dict[int, int] | None = None if n > 1 else {}  # counted on first need
        last_fields = self._last_line_fields()
        cut = last_fields is not None and last_fields < n
        held: pl.DataFrame | None = None  # one chunk of look-ahead, to know which row is the file's last
        try:
            for df in lf.collect_batches(chunk_size=self.chunk_rows):
                if held is not None and held.height:
                    yield self._split_short(held, None)
                held = df.with_columns(pl.col(ROW).cast(pl.Int64))
        except pl.exceptions.PolarsError as exc:
            raise SlowPathNeeded(str(exc).splitlines()[0]) from None
        if held is None:
            return
        last_row = int(held[ROW].max()) if cut and held.height else None
        yield self._split_short(held, (last_row, last_fields) if last_row is not None else None)

    def _short_rows(self, frame: pl.DataFrame) -> dict[int, int]:
        """The file's short rows, counted once, when a frame first has rows that may be short
        (polars pads a short row with nulls, so its last column is null)."""
        if self._short is None and frame[self.columns[-1]].null_count():
            self._short = short_rows(self.text.path, self.sep, self.quote, len(self.columns))
        return self._short or {}

    def _split_short(self, frame: pl.DataFrame, cut: tuple[int, int] | None) -> Chunk:
        """Rows with too few fields (and a file's cut last row) out of the frame, into broken rows."""
        n = len(self.columns)
        drop: list[int] = []
        short = {r: k for r, k in self._short_rows(frame).items() if cut is None or r != cut[0]}
        if short and frame.height:
            lo, hi = int(frame[ROW].min()), int(frame[ROW].max())
            rows = [r for r in short if lo <= r <= hi]
            if rows:  # a short row has nulls where its missing fields would be; else the count was fooled
                cand = frame.filter(pl.col(ROW).is_in(rows)).select(ROW, *self.columns)
                drop = [r for r, *vals in cand.iter_rows() if all(v is None for v in vals[short[r] :])]
        if cut is not None:
            drop.append(cut[0])
        if not drop:
            return Chunk(frame, _broken([]))
        broken: list[tuple[int, str, str]] = []
        gone = frame.filter(pl.col(ROW).is_in(drop))
        texts = gone.select(ROW, pl.concat_str(self.columns, separator=self.sep, ignore_nulls=True).alias("t"))
        for r, text in texts.iter_rows():
            if cut is not None and r == cut[0]:
                why = f"last row has {cut[1]} of {n} fields: the file is cut short"
            else:
                why = f"row has {short[r]} of {n} fields: cut short or malformed"
            broken.append((int(r), text, why))
        return Chunk(frame.filter(~pl.col(ROW).is_in(drop)), _broken(sorted(broken)))

    def slow_chunks(self, after: int = 0) -> Iterator[Chunk]:
        """Python's csv module, row by row; rows up to ``after`` were read already and are skipped."""
        n = len(self.columns)
        with open(self.text.path, encoding="utf-8-sig", newline="") as f:
            lines = _Tracking(f)
            reader = self._reader(lines)
            next(reader)
            lines.take()
            row_no = 0
            rows: list[list[str]] = []
            numbers: list[int] = []
            broken: list[tuple[int, str, str]] = []
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    row_no += 1
                    raw_text = lines.take()
                    if row_no <= after:
                        continue
                    if "end of data" in str(exc) or "EOF" in str(exc):
                        why = "file ends inside a quoted field: the last row is cut short"
                    else:
                        why = f"malformed CSV row (line {reader.line_num}): {exc}"
                    broken.append((row_no, raw_text, why))
                    continue
                raw_text = lines.take()
                row_no += 1
                if row_no <= after:
                    continue
                if not row:
                    row = [""] * n  # a blank line: an empty row, quarantined as such
                if len(row) == n:
                    rows.append(row)
                    numbers.append(row_no)
                else:
                    text = raw_text
                    why = (
                        f"row has {len(row)} of {n} fields: cut short or malformed"
                        if len(row) < n
                        else f"row has {len(row)} fields, the header has {n}"
                    )
                    broken.append((row_no, text, why))
                if len(rows) >= self.chunk_rows:
                    yield Chunk(_text_frame(self.columns, rows, numbers), _broken(broken))
                    rows, numbers, broken = [], [], []
            yield Chunk(_text_frame(self.columns, rows, numbers), _broken(broken))


class _Tracking:
    """A line iterator that remembers the raw text of the lines read since the last ``take``."""

    def __init__(self, f):
        self.f = f
        self.lines: list[str] = []

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = next(self.f)
        self.lines.append(line)
        return line

    def take(self) -> str:
        text = "".join(self.lines).rstrip("\r\n")
        self.lines.clear()
        return text


class JsonLinesSource(Source):
    """JSON lines: one object per line; the row number is the line number.

    The file is read in blocks of whole lines, each parsed by polars with every
    value read as text. A block with a broken line (e.g. a file cut mid-line) or
    a blank line is parsed line by line, so that only those lines go to
    quarantine. Keys not mapped by the spec are found from a sample of each block
    and kept in ``extra``.
    """

    _SAMPLE = 1000

    def __init__(self, spec: CatalogSpec, text: TextFile, chunk_rows: int):
        self.spec, self.text, self.chunk_rows = spec, text, chunk_rows
        self.encoding = text.encoding
        self.total_rows = text.lines
        self.keys: dict[str, None] = dict.fromkeys(spec.source_columns)
        self.seen: set[str] = set()

    @property
    def columns(self) -> list[str]:
        return list(self.keys)

    def _blocks(self) -> Iterator[tuple[int, bytes]]:
        """(first line number, bytes of whole lines), about ``chunk_rows`` lines each."""
        with open(self.text.path, "rb") as f:
            head = f.read(1 << 16)
            per_line = max(len(head) // max(head.count(b"\n"), 1), 1)
            size = max(per_line * self.chunk_rows, 1)
            buf = head[len(codecs.BOM_UTF8):] if head.startswith(codecs.BOM_UTF8) else head
            eof = len(head) < (1 << 16)
            line = 1
            while buf or not eof:
                while not eof and len(buf) < size:
                    more = f.read(size - len(buf))
                    eof = not more
                    buf += more
                if eof and len(buf) <= size:
                    if buf:
                        yield line, buf
                    return
                cut = buf.rfind(b"\n", 0, size)
                if cut < 0:
                    cut = buf.find(b"\n", size)
                if cut < 0:  # a line longer than the block: read on
                    more = f.read(size)
                    eof = not more
                    buf += more
                    if eof:
                        yield line, buf
                        return
                    continue
                block, buf = buf[: cut + 1], buf[cut + 1 :]
                yield line, block
                line += block.count(b"\n")

    def _learn_keys(self, lines: list[bytes]) -> None:
        try:
            keys = pl.read_ndjson(io.BytesIO(b"".join(lines)), infer_schema_length=None).columns
        except (pl.exceptions.PolarsError, ValueError):
            # mixed value types defeat polars' inference; the keys are all we need
            keys = [k for ln in lines if isinstance(d := _json_object(ln), dict) for k in d]
        for key in keys:
            self.keys.setdefault(key)
            self.seen.add(key)

    def _parse(self, body: bytes) -> pl.DataFrame:
        return pl.read_ndjson(io.BytesIO(body), schema={k: pl.String for k in self.keys})

    def _fast(self, first: int, block: bytes) -> Chunk | None:
        """The whole block through polars; None when a line is blank or broken."""
        if not block.endswith(b"\n"):
            block += b"\n"
        try:
            lines = pl.read_csv(
                block, has_header=False, separator="\x00", quote_char=None, new_columns=["line"], infer_schema=False
            )["line"].str.strip_chars()
        except (pl.exceptions.PolarsError, ValueError):
            return None
        n = block.count(b"\n")
        if lines.len() != n or lines.is_null().any() or (lines == "").any():
            return None
        sample_end = 0
        for _ in range(min(self._SAMPLE, n)):
            sample_end = block.index(b"\n", sample_end) + 1
        self._learn_keys([block[:sample_end]])
        try:
            frame = self._parse(block)
        except (pl.exceptions.PolarsError, ValueError):
            return None
        if frame.height != n:
            return None
        rows = pl.int_range(first, first + n, dtype=pl.Int64, eager=True).alias(ROW)
        return Chunk(frame.with_columns(rows), _broken([]), lines)

    def _slow(self, first: int, block: bytes) -> Chunk:
        """Line by line: blank and broken lines to quarantine, the rest through polars."""
        broken: list[tuple[int, str, str]] = []
        good: list[tuple[int, bytes]] = []
        for no, ln in enumerate(block.splitlines(keepends=True), start=first):
            if not ln.strip():
                broken.append((no, "", "empty line"))
                continue
            why = _json_problem(ln)
            if why:
                broken.append((no, ln.decode("utf-8", "replace").rstrip("\r\n"), why))
            else:
                good.append((no, ln if ln.endswith(b"\n") else ln + b"\n"))
        if good:
            self._learn_keys([ln for _, ln in good[: self._SAMPLE]])
            frame = self._parse(b"".join(ln for _, ln in good))
        else:
            frame = pl.DataFrame(schema={k: pl.String for k in self.keys})
        frame = frame.with_columns(pl.Series(ROW, [no for no, _ in good], dtype=pl.Int64))
        content = pl.Series([ln.strip().decode("utf-8", "replace") for _, ln in good], dtype=pl.String)
        return Chunk(frame, _broken(broken), content)

    def chunks(self) -> Iterator[Chunk]:
        for first, block in self._blocks():
            yield self._fast(first, block) or self._slow(first, block)

    def missing_keys(self) -> list[str]:
        """Mapped keys that no object of the file carried (checked after reading)."""
        return [c for c in self.spec.source_columns if c not in self.seen]


def _json_object(line: bytes):
    try:
        return json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def _json_problem(line: bytes) -> str | None:
    try:
        value = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = f" at column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        msg = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        return f"line is not valid JSON{where}: {msg} (cut short?)"
    if not isinstance(value, dict):
        return f"line is JSON but not an object: {type(value).__name__}"
    return None


class XlsxSource(Source):
    """Excel workbooks, read with calamine (fastexcel), every cell as text.

    A sheet is read whole (Excel caps it at 1,048,576 rows) and validated in chunks.
    Dates come as ``2021-03-04 00:00:00``; numbers as written (an 18-digit number
    stored as a number has lost digits in Excel and fails its check).
    """

    def __init__(self, spec: CatalogSpec, chunk_rows: int):
        import fastexcel

        self.spec, self.chunk_rows = spec, chunk_rows
        try:
            book = fastexcel.read_excel(str(spec.file))
        except Exception as exc:  # calamine's errors all mean "not a readable workbook"
            raise LoadError(f"{spec.file}: cannot read as an xlsx workbook: {str(exc).splitlines()[0]}") from None
        if spec.sheet is not None and spec.sheet not in book.sheet_names:
            raise LoadError(
                f"{spec.path}: sheet = {spec.sheet!r}: no such sheet in {spec.file} "
                f"(it has: {', '.join(book.sheet_names)})"
            )
        sheet = spec.sheet if spec.sheet is not None else 0
        try:
            frame = book.load_sheet(sheet, header_row=0, dtypes="string").to_polars()
        except Exception as exc:
            raise LoadError(f"{spec.file}: cannot read sheet {sheet!r}: {str(exc).splitlines()[0]}") from None
        if frame.width == 0:
            raise LoadError(f"{spec.file}: no header row (the sheet is empty)")
        names = ["" if c.startswith("__UNNAMED__") else c for c in frame.columns]
        self.columns = _clean_header(names, spec.file)
        frame.columns = self.columns
        self.frame = frame.with_columns(pl.col(self.columns).replace("", None))
        self.total_rows = frame.height

    def chunks(self) -> Iterator[Chunk]:
        for start in range(0, max(self.frame.height, 1), self.chunk_rows):
            part = self.frame.slice(start, self.chunk_rows)
            rows = pl.int_range(start + 1, start + 1 + part.height, dtype=pl.Int64, eager=True).alias(ROW)
            yield Chunk(part.with_columns(rows), _broken([]))


class ParquetSource(Source):
    """Parquet, read one row group batch at a time; every value is turned into text."""

    def __init__(self, spec: CatalogSpec, chunk_rows: int):
        import pyarrow.parquet as pq

        self.spec, self.chunk_rows = spec, chunk_rows
        try:
            self.file = pq.ParquetFile(spec.file)
        except Exception as exc:
            raise LoadError(f"{spec.file}: cannot read as Parquet: {exc}") from None
        self.raw_columns = self.file.schema_arrow.names
        self.columns = _clean_header(self.raw_columns, spec.file)
        self.total_rows = self.file.metadata.num_rows

    def chunks(self) -> Iterator[Chunk]:
        start = 1
        try:
            for batch in self.file.iter_batches(batch_size=self.chunk_rows):
                frame = pl.from_arrow(batch)
                frame.columns = self.columns
                frame = frame.select([_as_text(frame[c]) for c in self.columns])
                frame = frame.with_columns(
                    pl.int_range(start, start + frame.height, dtype=pl.Int64, eager=True).alias(ROW)
                )
                start += frame.height
                yield Chunk(frame, _broken([]))
        except LoadError:
            raise
        except Exception as exc:
            raise LoadError(f"{self.spec.file}: cannot read Parquet data after row {start - 1}: {exc}") from None


def _as_text(s: pl.Series) -> pl.Series:
    if s.dtype == pl.String:
        return s
    if s.dtype.is_numeric() or s.dtype.is_temporal() or s.dtype in (pl.Boolean, pl.Categorical, pl.Enum, pl.Null):
        return s.cast(pl.String)
    if s.dtype == pl.Binary:
        return s.map_elements(lambda b: b.decode("utf-8", "replace"), return_dtype=pl.String)
    if isinstance(s.dtype, (pl.List, pl.Array, pl.Struct)):  # nested values as JSON text, for paths
        wrapped = pl.select(pl.struct(s.alias("v")).struct.json_encode().alias(s.name)).to_series()
        text = wrapped.str.slice(5).str.strip_suffix("}")  # {"v":...} → ...
        return text.zip_with(s.is_not_null(), pl.Series([None] * len(s), dtype=pl.String))
    return s.map_elements(lambda v: json.dumps(v, ensure_ascii=False, default=str), return_dtype=pl.String)
