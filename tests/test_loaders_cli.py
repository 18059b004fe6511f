"""`credgraph load`: bad specs and bad files fail with one clear message, exit 2 and no output."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest
import typer
from typer.testing import CliRunner

from credgraph.config import load_config
from credgraph.loaders import cli as loaders_cli
from credgraph.loaders import read_quarantine, read_records

GOOD_CSV = "企业名称,统一社会信用代码,成立日期\n深圳市华强电子有限公司,914403001922038216,2021-03-04\n,914403001922038217,2021-03-04\n"
SPEC = """code = "MR_REG"
name = "企业登记"
source_unit = "市场监管局"
kind = "entity"
file = "{file}"
{extra}
[columns]
subject_name = "企业名称"
subject_uscc = "统一社会信用代码"
date = "成立日期"
[constants]
subject_type = "legal"
event_type = "registration"
"""


@pytest.fixture
def app(monkeypatch):
    # the stage's command on its own app; the configuration without any file or environment
    monkeypatch.setattr(loaders_cli, "_config", lambda: load_config(path=None, env={}))
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """credgraph (test)"""

    loaders_cli.register(app)
    return app


def run(app, *args):
    return CliRunner().invoke(app, ["load", *map(str, args)])


def make(folder: Path, csv: str | bytes = GOOD_CSV, name: str = "mr_reg", extra: str = "", spec: str | None = None) -> Path:
    data = folder / f"{name}.csv"
    data.write_bytes(csv if isinstance(csv, bytes) else csv.encode("utf-8"))
    path = folder / f"{name}.toml"
    path.write_text(spec if spec is not None else SPEC.format(file=data.name, extra=extra), encoding="utf-8")
    return path


def outputs(ws: Path) -> dict[Path, bytes]:
    """Every file a load writes (not its lock: each run stamps that with its own pid and time)."""
    if not ws.exists():
        return {}
    return {p: p.read_bytes() for p in sorted(ws.rglob("*")) if p.is_file() and "locks" not in p.relative_to(ws).parts}


def plain(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_success_prints_the_summary(app, tmp_path):
    spec = make(tmp_path)
    ws = tmp_path / "ws"
    result = run(app, spec, "--workspace", ws, "--batch", "t1")
    assert result.exit_code == 0, result.output
    assert "MR_REG" in result.stdout and "mr_reg.csv" in result.stdout
    assert "1 of 2 rows accepted, 1 quarantined, 0 values set aside" in plain(result.stdout)
    assert read_records(ws)["load_batch"].to_list() == ["t1"]
    q = read_quarantine(ws)
    assert q["source_row"].to_list() == [2, 2]
    assert sorted(q["field"]) == ["subject_name", "subject_uscc"]  # the bad code, and that nothing is left to name the firm


def test_a_folder_of_specs(app, tmp_path):
    make(tmp_path, name="a")
    make(tmp_path, name="b")
    result = run(app, tmp_path, "-w", tmp_path / "ws")
    assert result.exit_code == 0, result.output
    assert read_records(tmp_path / "ws")["source_file"].sort().to_list() == ["a.csv", "b.csv"]


# each case: how to break the input, and the words the one-line message must contain
def _missing_file(t):
    return make(t, extra="").read_text(encoding="utf-8").replace("mr_reg.csv", "nope.csv")


BAD_SPECS = {
    "missing data file": (_missing_file, ["mr_reg.toml", "file = 'nope.csv'", "not found"]),
    "unknown kind": (lambda t: SPEC.format(file="mr_reg.csv", extra="").replace('"entity"', '"entities"'), ["mr_reg.toml", "kind = 'entities'", "unknown kind"]),
    "bad catalog code": (lambda t: SPEC.format(file="mr_reg.csv", extra="").replace('"MR_REG"', '"MR REG!"'), ["mr_reg.toml", "code = 'MR REG!'"]),
    "unknown key": (lambda t: SPEC.format(file="mr_reg.csv", extra='sorce_unit = "x"'), ["mr_reg.toml", "unknown key 'sorce_unit'", "did you mean 'source_unit'"]),
    "unknown field": (lambda t: SPEC.format(file="mr_reg.csv", extra="").replace("subject_uscc =", "subject_usc ="), ["mr_reg.toml", "[columns] subject_usc", "unknown standard field", "subject_uscc"]),
    "bad format": (lambda t: SPEC.format(file="mr_reg.csv", extra='format = "xls"'), ["mr_reg.toml", "format = 'xls'", "unknown format"]),
    "bad constant": (lambda t: SPEC.format(file="mr_reg.csv", extra="").replace('subject_type = "legal"', 'subject_type = "company"'), ["mr_reg.toml", "[constants] subject_type = 'company'", "legal or natural"]),
    "bad TOML": (lambda t: SPEC.format(file="mr_reg.csv", extra='required = ["subject_name"'), ["mr_reg.toml", "not valid TOML", "line"]),
    "missing mandatory key": (lambda t: SPEC.format(file="mr_reg.csv", extra="").replace('kind = "entity"\n', ""), ["mr_reg.toml", "missing key 'kind'"]),
    "required but unmapped": (lambda t: SPEC.format(file="mr_reg.csv", extra='required = ["amount"]'), ["mr_reg.toml", "required: 'amount'", "not mapped"]),
}


@pytest.mark.parametrize("case", list(BAD_SPECS))
def test_bad_specs(app, tmp_path, case):
    breaker, words = BAD_SPECS[case]
    spec = make(tmp_path)
    spec.write_text(breaker(tmp_path), encoding="utf-8")
    ws = tmp_path / "ws"
    result = run(app, spec, "-w", ws)
    assert result.exit_code == 2, result.output
    message = plain(result.stderr)
    for word in words:
        assert word in message, (word, message)
    assert "Traceback" not in result.output
    assert not (ws / "records").exists() and not (ws / "quarantine").exists()


def test_missing_spec_file(app, tmp_path):
    result = run(app, tmp_path / "nope.toml", "-w", tmp_path / "ws")
    assert result.exit_code == 2
    assert "nope.toml: spec file not found" in plain(result.stderr)


def test_renamed_column_names_column_file_and_the_columns_it_has(app, tmp_path):
    spec = make(tmp_path, csv=GOOD_CSV.replace("统一社会信用代码", "信用代码"))
    result = run(app, spec, "-w", tmp_path / "ws")
    assert result.exit_code == 2
    message = plain(result.stderr)
    assert "'统一社会信用代码' (for subject_uscc) not in" in message and "mr_reg.csv" in message
    assert "the file has columns: 企业名称, 信用代码, 成立日期" in message


def test_empty_file(app, tmp_path):
    spec = make(tmp_path, csv=b"")
    result = run(app, spec, "-w", tmp_path / "ws")
    assert result.exit_code == 2
    assert "mr_reg.csv: the file is empty" in plain(result.stderr)


def test_gbk_file_declared_utf8_names_the_byte_offset_and_line(app, tmp_path):
    data = GOOD_CSV.encode("gbk")
    spec = make(tmp_path, csv=data, extra='encoding = "utf-8"')
    result = run(app, spec, "-w", tmp_path / "ws")
    assert result.exit_code == 2
    message = plain(result.stderr)
    assert "mr_reg.csv: not readable as utf-8" in message
    first_bad = next(i for i, b in enumerate(data) if b >= 0x80)
    assert f"byte offset {first_bad} (line 1)" in message
    assert "GBK" in message


def test_bad_bytes_later_in_the_file_name_their_row(app, tmp_path):
    data = GOOD_CSV.encode("utf-8") + "乙公司,914403001922038216,2021-03-04\n".encode("gbk")
    spec = make(tmp_path, csv=data, extra='encoding = "utf-8"')
    result = run(app, spec, "-w", tmp_path / "ws")
    assert result.exit_code == 2
    assert f"byte offset {len(GOOD_CSV.encode())} (line 4); data row 3" in plain(result.stderr)


@pytest.mark.parametrize("fmt, content", [("parquet", b"PAR1 this is not parquet"), ("xlsx", b"PK\x03\x04 not a workbook")])
def test_corrupt_binary_files(app, tmp_path, fmt, content):
    (tmp_path / f"f.{fmt}").write_bytes(content)
    spec = make(tmp_path, spec=SPEC.format(file=f"f.{fmt}", extra=""))
    result = run(app, spec, "-w", tmp_path / "ws")
    assert result.exit_code == 2
    assert f"f.{fmt}: cannot read" in plain(result.stderr)


def test_a_failed_run_changes_nothing(app, tmp_path):
    good = make(tmp_path, name="good")
    ws = tmp_path / "ws"
    assert run(app, good, "-w", ws).exit_code == 0
    before = outputs(ws)
    bad = make(tmp_path, name="bad", csv=GOOD_CSV.encode("gbk"), extra='encoding = "utf-8"')
    result = run(app, good, bad, "-w", ws)
    assert result.exit_code == 2
    assert outputs(ws) == before
    assert "nothing was written" in result.stderr


# ---------------------------------------------------------------- damaged files that still load
def test_csv_cut_mid_row(app, tmp_path):
    spec = make(tmp_path, csv=GOOD_CSV + "腾飞贸易有限公司,91440300")
    ws = tmp_path / "ws"
    result = run(app, spec, "-w", ws)
    assert result.exit_code == 0, result.output
    (line,) = read_quarantine(ws).filter(pl.col("source_row") == 3).to_dicts()
    assert line["field"] == "(row)" and "2 of 3 fields" in line["reason"] and "cut short" in line["reason"]
    assert line["value"] == "腾飞贸易有限公司,91440300"
    assert read_records(ws)["source_row"].to_list() == [1]


def test_csv_cut_inside_a_quoted_field(app, tmp_path):
    spec = make(tmp_path, csv=GOOD_CSV + '腾飞贸易有限公司,914403001922038216,"2021-')
    ws = tmp_path / "ws"
    result = run(app, spec, "-w", ws)
    assert result.exit_code == 0, result.output
    q = read_quarantine(ws)
    cut = q.filter(pl.col("source_row") == 3).to_dicts()
    assert len(cut) == 1 and "cut short" in cut[0]["reason"]
    assert read_records(ws)["source_row"].to_list() == [1]
    assert sorted(set(q["source_row"])) == [2, 3]


def test_csv_row_with_too_many_fields(app, tmp_path):
    spec = make(tmp_path, csv=GOOD_CSV + "多列公司,914403001922038216,2021-03-04,extra\n甲公司,914403001922038216,2021-03-05\n")
    ws = tmp_path / "ws"
    result = run(app, spec, "-w", ws)
    assert result.exit_code == 0, result.output
    (line,) = read_quarantine(ws).filter(pl.col("source_row") == 3).to_dicts()
    assert "4 fields, the header has 3" in line["reason"]
    assert read_records(ws)["source_row"].to_list() == [1, 4]


def test_header_only_file_loads_nothing(app, tmp_path):
    spec = make(tmp_path, csv="企业名称,统一社会信用代码,成立日期\n")
    ws = tmp_path / "ws"
    result = run(app, spec, "-w", ws)
    assert result.exit_code == 0, result.output
    assert "0 of 0 rows accepted" in plain(result.stdout)
    assert read_records(ws).height == 0


def test_the_real_command_uses_the_configured_workspace(tmp_path, monkeypatch):
    from credgraph.cli import app as real_app

    spec = make(tmp_path)
    ws = tmp_path / "configured-ws"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CREDGRAPH_WORKSPACE__PATH", str(ws))
    monkeypatch.setenv("CREDGRAPH_LOAD__CHUNK_ROWS", "1")
    result = CliRunner().invoke(real_app, ["load", str(spec)])
    assert result.exit_code == 0, result.output
    assert read_records(ws)["subject_uscc"].to_list() == ["914403001922038216"]
    monkeypatch.setenv("CREDGRAPH_LOAD__CHUNK_ROWS", "0")
    result = CliRunner().invoke(real_app, ["load", str(spec)])
    assert result.exit_code == 2 and "chunk_rows must be at least 1" in result.stderr
