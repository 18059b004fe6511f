"""`credgraph explain A B` for any pair (also never compared ones) and `credgraph export assignments`."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
import typer
from typer.testing import CliRunner

from credgraph.resolution import cli
from credgraph.resolution.sample import records_frame

ROWS = [
    {"subject_name": "Mitchell Green", "subject_type": "natural", "subject_birth_date": dt.date(1956, 4, 9),
     "subject_address": "7 wallaby place, cleveland sa 2119", "catalog": "HR", "user_id": "p-1"},
    {"subject_name": "GREEN Michell", "subject_type": "natural", "subject_birth_date": dt.date(1956, 4, 9),
     "subject_address": "7 wallaby pl, cleveland sa 2119", "catalog": "HR", "user_id": "p-2"},
    # Nothing in common with the first two: never blocked with them.
    {"subject_name": "Amber Neumann", "subject_type": "natural", "subject_birth_date": dt.date(1988, 11, 19),
     "subject_address": "6 mockridge crescent, hendra nsw 2630", "catalog": "TAX", "user_id": "x-9"},
]


@pytest.fixture()
def ws(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CREDGRAPH_WORKSPACE__PATH", str(tmp_path / "ws"))
    (tmp_path / "ws" / "records").mkdir(parents=True)
    records_frame(ROWS).write_parquet(tmp_path / "ws" / "records" / "records.parquet")
    return tmp_path / "ws"


@pytest.fixture()
def run():
    app = typer.Typer()
    cli.register(app)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def test_explain_a_merged_pair_by_user_ids(ws, run):
    assert run("resolve").exit_code == 0
    r = run("explain", "HR:p-1", "HR:p-2")
    assert r.exit_code == 0, r.output
    assert "now: one entity" in r.output
    assert "name" in r.output and "same sound" in r.output  # Green/GREEN, Mitchell/Michell: one metaphone
    assert "birth_date   identical" in r.output and "running" in r.output and "match probability" in r.output
    assert "blocked together on key(s)" in r.output
    one = run("explain", "HR:p-2")  # one key given by the user's id: the entity holding that row
    assert one.exit_code == 0 and "entity N" in one.output and "2 mention(s)" in one.output, one.output


def test_explain_a_pair_never_compared(ws, run):
    assert run("resolve").exit_code == 0
    r = run("explain", "HR:p-1", "TAX:x-9")
    assert r.exit_code == 0, r.output
    assert "now: two entities" in r.output and "never blocked together" in r.output
    assert "name         different" in r.output
    r = run("explain", "HR:p-1", "NOPE:1")
    assert r.exit_code == 2 and "CATALOG:user-id" in r.output


def test_export_assignments_maps_user_ids_to_entities(ws, run):
    assert run("resolve").exit_code == 0
    r = run("export", "assignments")
    assert r.exit_code == 0, r.output
    t = pl.read_csv(ws / "entities" / "assignments.csv")
    ent = dict(zip(t["user_id"].to_list(), t["entity_id"].to_list()))
    assert ent["p-1"] == ent["p-2"] != ent["x-9"]
    assert set(t.columns) >= {"catalog", "user_id", "record_id", "entity_id", "entity_name", "confidence"}
    assert run("export", "everything").exit_code == 2
