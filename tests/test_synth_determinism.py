"""The generator is reproducible, refuses foreign folders, and its CLI works."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import polars as pl
import pytest
import typer
from typer.testing import CliRunner

from credgraph.synth import OutputDirError, generate_city
from credgraph.synth import cli as synth_cli


def digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    a = digests(generate_city(tmp_path / "a", entities=300, seed=9, chunk_rows=100).out)
    b = digests(generate_city(tmp_path / "b", entities=300, seed=9, chunk_rows=100).out)
    assert a == b
    # Every format is covered, XLSX and Parquet included.
    assert {Path(k).suffix for k in a} >= {".csv", ".tsv", ".jsonl", ".xlsx", ".parquet", ".toml", ".json"}
    c = digests(generate_city(tmp_path / "c", entities=300, seed=10, chunk_rows=100).out)
    assert set(c) == set(a)
    differ = {k for k in a if a[k] != c[k]}
    assert "mr_reg.csv" in differ and "truth/entities.parquet" in differ


def test_catalogs_do_not_depend_on_chunk_size(tmp_path):
    a = digests(generate_city(tmp_path / "a", entities=300, seed=4, chunk_rows=64).out)
    b = digests(generate_city(tmp_path / "b", entities=300, seed=4, chunk_rows=100_000).out)
    # Row groups of mentions.parquet follow the chunks; every catalog and the other truth files do not.
    assert {k for k in a if a[k] != b[k]} <= {"truth/mentions.parquet"}


def test_refuses_foreign_folder_and_replaces_own_output(tmp_path):
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(OutputDirError, match="not the output of"):
        generate_city(foreign, entities=100, seed=1)
    assert (foreign / "notes.txt").read_text() == "keep me"
    own = tmp_path / "own"
    generate_city(own, entities=100, seed=1)
    (own / "stale.csv").write_text("old")
    summary = generate_city(own, entities=120, seed=2)
    assert not (own / "stale.csv").exists()  # the old output was replaced as a whole
    manifest = json.loads((own / "generator.json").read_text(encoding="utf-8"))
    assert manifest["entities"] == 120 and manifest["records"] == summary.records
    assert not list(tmp_path.glob(".own.*"))  # no temporary folders left behind


def test_cli_generate(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = typer.Typer()
    synth_cli.register(app)

    @app.command("noop")
    def noop() -> None:  # a second command keeps Typer from collapsing the app into one command
        pass

    runner = CliRunner()
    out = tmp_path / "city"
    result = runner.invoke(app, ["generate", "--entities", "150", "--seed", "3", "--out", str(out), "--noise", "0.5"])
    assert result.exit_code == 0, result.output
    assert "MR_REG" in result.output and (out / "specs" / "MR_REG.toml").is_file()
    assert json.loads((out / "generator.json").read_text(encoding="utf-8"))["noise"] == 0.5
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "x.txt").write_text("x")
    result = runner.invoke(app, ["generate", "--entities", "150", "--out", str(tmp_path / "other")])
    assert result.exit_code == 2
    assert "not the output of" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["generate", "--entities", "10", "--out", str(tmp_path / "tiny")])
    assert result.exit_code == 2 and "at least 50" in result.output
    result = runner.invoke(app, ["generate", "--entities", "100", "--out", str(tmp_path / "r"), "--rate", "MR_REG.typo=1"])
    assert result.exit_code == 2 and "unknown noise kind 'typo'" in result.output


def test_per_catalog_rates_override_the_defaults(tmp_path):
    out = tmp_path / "rated"
    generate_city(out, entities=200, seed=2, noise=1.0,
                  rates={"MR_REG": {"duplicate": 0.5}, "MR_PERSONNEL": {"object.missing_id": 0.0}})
    m = pl.read_parquet(out / "truth" / "mentions.parquet")
    reg = m.filter(pl.col("source_file") == "mr_reg.csv", pl.col("role") == "subject")
    assert reg["noise"].str.contains("duplicate").mean() > 0.2  # default is 0.5%
    officers = m.filter(pl.col("source_file") == "mr_personnel.csv", pl.col("role") == "object")
    assert not officers["noise"].str.contains("missing_id").any()  # default is 10%
    with pytest.raises(ValueError, match="unknown catalog"):
        generate_city(tmp_path / "x", entities=100, seed=1, rates={"NOPE": {"duplicate": 0.1}})
