"""`credgraph demo`, the main job, end to end through the real CLI on a small city."""

from __future__ import annotations

import json

import polars as pl
from typer.testing import CliRunner

from credgraph.cli import app


def test_demo_runs_the_pipeline_and_loses_no_row(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CREDGRAPH_CONFIG", raising=False)
    result = CliRunner().invoke(app, ["demo", "--entities", "300", "--seed", "5"])
    assert result.exit_code == 0, result.output
    ws = tmp_path / "workspace"

    records = pl.read_parquet(ws / "records" / "records.parquet")
    quarantine = pl.read_parquet(ws / "quarantine" / "quarantine.parquet")
    report = json.loads((ws / "records" / "load_report.json").read_text(encoding="utf-8"))
    rows_in_files = sum(
        pl.read_parquet(ws / "raw" / "truth" / "mentions.parquet")
        .filter(pl.col("role") == "subject")
        .group_by("source_file").len()["len"]
    )
    # Every data row of every catalog is accounted for: accepted or quarantined, never lost.
    assert records.height + quarantine.select("source_file", "source_row").unique().height == rows_in_files
    assert sum(f["read"] for f in report["files"]) == rows_in_files

    # The identifiers the generator broke on purpose (transposed digits) are exactly the values set
    # aside; their rows are kept (a bad optional value never drops a row that still names its party).
    truth = pl.read_parquet(ws / "raw" / "truth" / "mentions.parquet")
    broken = truth.filter(pl.col("noise").str.contains("transposed")).select("source_file", "source_row").unique()
    set_aside = pl.read_parquet(ws / "quarantine" / "findings.parquet").select("source_file", "source_row").unique()
    assert broken.height > 0 and broken.sort(pl.all()).equals(set_aside.sort(pl.all()))
    assert quarantine.height == 0

    # Resolution: every mention of every accepted record ends in exactly one entity.
    assignments = pl.read_parquet(ws / "entities" / "assignments.parquet")
    assert assignments["mention_id"].is_unique().all()
    assert set(assignments["record_id"]) == set(records["record_id"])
    # Analytics: an inspection list drawn from graded enterprises, each with its grade and the seed.
    grades = pl.read_parquet(ws / "analytics" / "grades.parquet")
    drawn = pl.read_csv(ws / "analytics" / "inspection.csv", infer_schema=False)
    assert drawn.height > 0
    assert set(drawn["seed"]) == {"2026"}
    joined = drawn.join(grades.select("node_id", pl.col("grade").alias("g")), on="node_id")
    assert joined.height == drawn.height and (joined["grade"] == joined["g"]).all()
