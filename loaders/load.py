"""Loading catalogs: specs in, ``records.parquet`` + ``quarantine.parquet`` + a report out.

Each spec's file is read in chunks, every chunk is validated column-wise, and the
accepted records and quarantine lines are streamed into temporary files beside
the outputs (so memory stays bounded by the chunk size). Only when every file
has loaded are the rows of earlier runs that were not read again copied over and
the three outputs renamed into place together: a run that fails on any file
leaves the previous outputs exactly as they were.

Records are keyed by ``record_id`` (a hash of catalog, file name, row number and
row content), so loading the same file again gives the same ids and replaces its
rows instead of adding them twice; quarantine lines are keyed the same way
(``row_id``), and a row that was quarantined before and is accepted now (or the
other way round) moves over. Loading a catalog's file replaces everything an
earlier run loaded from that catalog and file name: when the file was edited, the
edited rows get new ids and their old versions are gone, the unchanged rows keep
their ids.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import shutil
import tempfile
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

import polars as pl

from credgraph.atomic import atomic_path
from credgraph.config import LoadConfig
from credgraph.records import polars_schema

from .errors import LoadError
from .readers import ROW, Chunk, JsonLinesSource, SlowPathNeeded, open_source
from .spec import PATH_FORMATS, CatalogSpec, find_specs, read_spec, top_key
from .validate import FINDINGS_SCHEMA, QUARANTINE_SCHEMA, validate_chunk_findings

__all__ = [
    "FileReport",
    "LoadReport",
    "Progress",
    "load_specs",
    "read_records",
    "read_quarantine",
    "read_findings",
    "records_path",
    "quarantine_path",
    "findings_path",
    "report_path",
]

#: ``progress(label, rows_done, rows_expected)``: called after each chunk; rows_expected may be None.
Progress = Callable[[str, int, "int | None"], None]


def records_path(workspace: str | Path) -> Path:
    return Path(workspace) / "records" / "records.parquet"


def quarantine_path(workspace: str | Path) -> Path:
    return Path(workspace) / "quarantine" / "quarantine.parquet"


def findings_path(workspace: str | Path) -> Path:
    """Values set aside in accepted records: one line per value (file, row, field, column, value, reason)."""
    return Path(workspace) / "quarantine" / "findings.parquet"


def report_path(workspace: str | Path) -> Path:
    return Path(workspace) / "records" / "load_report.json"


@dataclass
class FileReport:
    """What happened to one catalog file: rows read = rows accepted + rows quarantined."""

    spec: str
    catalog: str
    source_unit: str
    source_file: str
    path: str
    format: str
    encoding: str | None
    read: int = 0
    accepted: int = 0
    quarantined: int = 0
    #: quarantine lines by standard field (``(row)`` for rows that could not be parsed)
    problems: dict[str, int] = field(default_factory=dict)
    #: values set aside (nulled) in accepted rows, in all and by field; each is a line in findings.parquet
    set_aside: int = 0
    findings: dict[str, int] = field(default_factory=dict)
    #: set when the fast reader failed and the file was re-read row by row, with why
    note: str | None = None
    seconds: float = 0.0

    @property
    def balanced(self) -> bool:
        return self.read == self.accepted + self.quarantined


@dataclass
class LoadReport:
    """The result of one ``load_specs`` run (also written to ``records/load_report.json``)."""

    batch: str
    workspace: str
    started: str
    files: list[FileReport] = field(default_factory=list)
    seconds: float = 0.0
    #: rows in records.parquet / quarantine.parquet after the merge
    records_total: int = 0
    quarantine_total: int = 0
    findings_total: int = 0

    @property
    def read(self) -> int:
        return sum(f.read for f in self.files)

    @property
    def accepted(self) -> int:
        return sum(f.accepted for f in self.files)

    @property
    def quarantined(self) -> int:
        return sum(f.quarantined for f in self.files)

    @property
    def set_aside(self) -> int:
        return sum(f.set_aside for f in self.files)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["totals"] = {
            "read": self.read, "accepted": self.accepted, "quarantined": self.quarantined, "set_aside": self.set_aside
        }
        return data


def _new_batch() -> str:
    return f"{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def _specs(items: Iterable[str | Path | CatalogSpec]) -> list[CatalogSpec]:
    items = list(items)
    if not items:
        raise LoadError("no spec files given")
    out: list[CatalogSpec] = []
    paths: list[str | Path] = []
    for item in items:
        if isinstance(item, CatalogSpec):
            out.append(item)
        else:
            paths.append(item)
    if paths:
        out.extend(read_spec(p) for p in find_specs(paths))
    return out


def _check_existing(path: Path, schema: dict, what: str) -> None:
    if not path.exists():
        return
    try:
        found = pl.read_parquet_schema(path)
    except Exception as exc:
        raise LoadError(f"{path}: existing {what} cannot be read ({exc}); move it away to load afresh") from None
    if dict(found) != dict(schema):
        raise LoadError(
            f"{path}: existing {what} have a different schema than this version writes; "
            f"move the file away to load afresh"
        )


_REPEATING = (
    "source_unit", "catalog", "source_file", "load_batch", "kind", "subject_type", "object_type", "relation",
    "role", "event_type", "authority", "status", "grade", "legal_form", "industry", "field", "column", "reason",
)


class _Output:
    """The run's two Parquet outputs, written chunk by chunk into their temporary files."""

    def __init__(self, records_tmp: Path, quarantine_tmp: Path, findings_tmp: Path):
        import pyarrow.parquet as pq

        old = pl.CompatLevel.oldest()
        self.rec_schema = pl.DataFrame(schema=polars_schema()).to_arrow(compat_level=old).schema
        self.qua_schema = pl.DataFrame(schema=QUARANTINE_SCHEMA).to_arrow(compat_level=old).schema
        # dictionary encoding only where values repeat: on ids and names it costs time for nothing
        rec_dict = [c for c in _REPEATING if c in self.rec_schema.names]
        qua_dict = [c for c in _REPEATING if c in self.qua_schema.names]
        self.rec = pq.ParquetWriter(records_tmp, self.rec_schema, compression="zstd", use_dictionary=rec_dict)
        self.qua = pq.ParquetWriter(quarantine_tmp, self.qua_schema, compression="zstd", use_dictionary=qua_dict)
        self.fin = pq.ParquetWriter(findings_tmp, self.qua_schema, compression="zstd", use_dictionary=qua_dict)
        self.ids: list[pl.Series] = []  # every row id handled in this run
        self.by_file: dict[tuple[str, str], list[pl.Series]] = {}
        self.rows = {"records": 0, "quarantine": 0, "findings": 0}
        # Parquet encoding runs in one background thread (pyarrow releases the GIL),
        # overlapping the validation of the next chunk; one thread keeps the order.
        self.pool = ThreadPoolExecutor(max_workers=1)
        self.pending_writes: list[Future] = []

    def _write(self, writer, schema, frame: pl.DataFrame, what: str) -> None:
        if frame.height:
            self.rows[what] += frame.height
            table = frame.to_arrow(compat_level=pl.CompatLevel.oldest()).cast(schema)
            self.pending_writes.append(self.pool.submit(writer.write_table, table))
            if len(self.pending_writes) > 4:  # bound the memory held by queued chunks
                self.pending_writes.pop(0).result()

    def flush(self) -> None:
        """Wait for the queued writes; re-raise the first error."""
        while self.pending_writes:
            self.pending_writes.pop(0).result()

    def add(self, spec: CatalogSpec, records: pl.DataFrame, quarantine: pl.DataFrame, findings: pl.DataFrame) -> None:
        key = (spec.code, spec.source_file)
        earlier = self.by_file.get(key)
        if earlier:  # the same catalog file name loaded again in this run: keep one copy of identical rows
            seen = pl.concat(earlier)
            records = records.filter(~pl.col("record_id").is_in(seen.implode()))
            quarantine = quarantine.filter(~pl.col("row_id").is_in(seen.implode()))
            findings = findings.filter(~pl.col("row_id").is_in(seen.implode()))
        ids = pl.concat([records["record_id"], quarantine["row_id"].unique()]).alias("id")
        self.pending.append(ids)
        self.ids.append(ids)
        self._write(self.rec, self.rec_schema, records, "records")
        self._write(self.qua, self.qua_schema, quarantine, "quarantine")
        self._write(self.fin, self.qua_schema, findings, "findings")

    def start_file(self) -> None:
        self.pending: list[pl.Series] = []

    def end_file(self, spec: CatalogSpec) -> None:
        self.by_file.setdefault((spec.code, spec.source_file), []).extend(self.pending)

    def keep_previous(self, records: Path, quarantine: Path, findings: Path, chunk_rows: int) -> None:
        """Copy over the rows of earlier runs that this run did not read again."""
        self.flush()
        handled = pl.concat(self.ids).unique() if self.ids else pl.Series("id", [], dtype=pl.String)
        reloaded = pl.Series([f"{code}\x1f{name}" for code, name in self.by_file], dtype=pl.String)
        file_key = pl.concat_str([pl.col("catalog"), pl.lit("\x1f"), pl.col("source_file")])
        for path, key, writer, schema, what, cols in (
            (records, "record_id", self.rec, self.rec_schema, "records", polars_schema()),
            (quarantine, "row_id", self.qua, self.qua_schema, "quarantine", QUARANTINE_SCHEMA),
            (findings, "row_id", self.fin, self.qua_schema, "findings", FINDINGS_SCHEMA),
        ):
            if not path.exists():
                continue
            kept = (
                pl.scan_parquet(path)
                .filter(~pl.col(key).is_in(handled.implode()) & ~file_key.is_in(reloaded.implode()))
                .select(list(cols))
            )
            for batch in kept.collect_batches(chunk_size=chunk_rows):
                self._write(writer, schema, batch, what)

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.rec.close()
            self.qua.close()
            self.fin.close()


def load_specs(
    specs: list[Path] | list[str | Path | CatalogSpec],
    workspace: Path,
    batch: str | None = None,
    progress: Progress | None = None,
    config: LoadConfig | None = None,
) -> LoadReport:
    """Load catalog files into the workspace's standard records and quarantine.

    ``specs`` are spec files, folders of ``*.toml`` specs, or :class:`CatalogSpec` s.
    All specs are read and checked before any data is. Raises :class:`LoadError`
    (and writes nothing) on a bad spec, a missing or unreadable file, missing
    columns or a wrong encoding; bad *rows* do not fail the run, they are quarantined.
    """
    cfg = config or LoadConfig()
    if cfg.chunk_rows < 1:
        raise LoadError(f"load.chunk_rows must be at least 1, is {cfg.chunk_rows}")
    started = time.perf_counter()
    parsed = _specs(specs)
    workspace = Path(workspace)
    batch = batch or _new_batch()
    rec_target, qua_target, rep_target = records_path(workspace), quarantine_path(workspace), report_path(workspace)
    fin_target = findings_path(workspace)
    _check_existing(rec_target, polars_schema(), "records")
    _check_existing(qua_target, QUARANTINE_SCHEMA, "quarantine")
    _check_existing(fin_target, FINDINGS_SCHEMA, "findings")
    report = LoadReport(
        batch=batch, workspace=str(workspace), started=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    )
    workspace.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".load-", suffix=".tmp", dir=workspace))
    try:
        # the four outputs are renamed into place together, and only if every file loaded
        with (
            atomic_path(rec_target) as rec_tmp,
            atomic_path(qua_target) as qua_tmp,
            atomic_path(fin_target) as fin_tmp,
            atomic_path(rep_target) as rep_tmp,
        ):
            out = _Output(rec_tmp, qua_tmp, fin_tmp)
            try:
                today = dt.date.today()
                for i, spec in enumerate(parsed):
                    folder = scratch / f"{i:04d}"
                    folder.mkdir()
                    out.start_file()
                    report.files.append(_load_file(spec, folder, out, batch, cfg, progress, today))
                    out.end_file(spec)
                out.keep_previous(rec_target, qua_target, fin_target, cfg.chunk_rows)
            finally:
                out.close()
            report.records_total = out.rows["records"]
            report.quarantine_total = out.rows["quarantine"]
            report.findings_total = out.rows["findings"]
            report.seconds = round(time.perf_counter() - started, 3)
            rep_tmp.write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return report


def _load_file(
    spec: CatalogSpec, folder: Path, out: _Output, batch: str, cfg: LoadConfig, progress: Progress | None, today: dt.date
) -> FileReport:
    t0 = time.perf_counter()
    source = open_source(spec, folder, cfg.chunk_rows, tuple(cfg.detect_encodings))
    if not isinstance(source, JsonLinesSource):
        _check_columns(spec, source.columns)
    rep = FileReport(
        spec=str(spec.path),
        catalog=spec.code,
        source_unit=spec.source_unit,
        source_file=spec.source_file,
        path=str(spec.file),
        format=spec.format,
        encoding=source.encoding,
    )
    label = f"{spec.code} {spec.source_file}"
    state = {"last_row": 0}
    try:
        _consume(spec, source.chunks(), out, batch, rep, progress, label, source.total_rows, today, state)
    except SlowPathNeeded as exc:
        # the rows handled so far were parsed right; read the rest with the row-by-row reader
        rep.note = f"read row by row after data row {state['last_row']}: {exc}"
        chunks = source.slow_chunks(after=state["last_row"])
        _consume(spec, chunks, out, batch, rep, progress, label, source.total_rows, today, state)
    if isinstance(source, JsonLinesSource) and rep.read:
        missing = source.missing_keys()
        if missing:
            _check_columns(spec, [c for c in source.columns if c not in missing])
    if not rep.balanced:  # a bug, not a user error: never report numbers that do not add up
        raise RuntimeError(f"{spec.file}: read {rep.read} != accepted {rep.accepted} + quarantined {rep.quarantined}")
    rep.seconds = round(time.perf_counter() - t0, 3)
    return rep


def _check_columns(spec: CatalogSpec, have: list[str]) -> None:
    """Every source reference must be a column of the file (or, in JSON lines and Parquet, a path into one)."""
    present = set(have)

    def found(ref: str) -> bool:
        return ref in present or (spec.format in PATH_FORMATS and top_key(ref) in present)

    missing = [(label, r) for label, src in spec.all_sources() for r in src.refs if not found(r)]
    if missing:
        named = ", ".join(f"{c!r} (for {f})" for f, c in missing)
        raise LoadError(
            f"{spec.path}: column {named} not in {spec.file}; the file has columns: {', '.join(have) or '(none)'}"
        )


def _consume(
    spec: CatalogSpec,
    chunks: Iterator[Chunk],
    out: _Output,
    batch: str,
    rep: FileReport,
    progress: Progress | None,
    label: str,
    total: int | None,
    today: dt.date,
    state: dict,
) -> None:
    for chunk in chunks:
        records, quarantine, findings = validate_chunk_findings(spec, chunk, batch, today)
        out.add(spec, records, quarantine, findings)
        if quarantine.height:
            for fld, count in quarantine.group_by("field").len().iter_rows():
                rep.problems[fld] = rep.problems.get(fld, 0) + count
        if findings.height:
            rep.set_aside += findings.height
            for fld, count in findings.group_by("field").len().iter_rows():
                rep.findings[fld] = rep.findings.get(fld, 0) + count
        rep.read += chunk.frame.height + chunk.broken.height
        rep.accepted += records.height
        rep.quarantined += quarantine["source_row"].n_unique()
        rows = [chunk.frame[ROW].max(), chunk.broken[ROW].max(), state["last_row"]]
        state["last_row"] = max(r for r in rows if r is not None)
        if progress:
            progress(label, rep.read, total)


def read_records(workspace: str | Path) -> pl.DataFrame:
    """The workspace's standard records (schema ``credgraph.records.polars_schema()``)."""
    path = records_path(workspace)
    if not path.exists():
        raise LoadError(f"{path}: no records yet; run `credgraph load SPEC...` first")
    return pl.read_parquet(path)


def read_findings(workspace: str | Path) -> pl.DataFrame:
    """Values set aside in accepted records, one line each (empty when there were none)."""
    path = findings_path(workspace)
    if not path.exists():
        return pl.DataFrame(schema=FINDINGS_SCHEMA)
    return pl.read_parquet(path)


def read_quarantine(workspace: str | Path) -> pl.DataFrame:
    """The workspace's quarantined rows, one line per problem (empty when nothing was quarantined)."""
    path = quarantine_path(workspace)
    if not path.exists():
        return pl.DataFrame(schema=QUARANTINE_SCHEMA)
    return pl.read_parquet(path)
