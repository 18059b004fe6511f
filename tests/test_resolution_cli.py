"""The resolution commands: resolve, review, explain, evaluate — outputs, masking, clear errors."""

from __future__ import annotations

import json

import polars as pl
import pytest
import typer
from typer.testing import CliRunner

from credgraph.identifiers import mask_id
from credgraph.resolution import cli
from credgraph.resolution.sample import records_frame
from valid_codes import local_uscc, with_check


ID_A = with_check("44030119800101111")
ID_B = with_check("44030119900202222")
COMPANY = "深圳市华强电子有限公司"

ROWS = [
    {"subject_name": COMPANY, "subject_uscc": local_uscc("19220382"), "subject_phone": "13812345678",
     "object_name": "李丽", "object_type": "natural", "object_id_number": ID_A, "relation": "legal_rep_of"},
    {"subject_name": COMPANY, "object_name": "李丽", "object_type": "natural", "object_id_number": ID_B,
     "relation": "shareholder_of"},
    # A third 李丽 at the same company without an ID: fits both, so it is ambiguous.
    {"subject_name": COMPANY, "object_name": "李丽", "object_type": "natural", "relation": "officer_of"},
    {"subject_name": "華強電子（深圳）有限責任公司", "subject_type": "legal"},
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

    def _run(*args: str):
        return runner.invoke(app, list(args))

    return _run


def test_resolve_writes_every_output(ws, run):
    r = run("resolve")
    assert r.exit_code == 0, r.output
    assert "entities" in r.output and "review queue" in r.output
    out = ws / "entities"
    for name in ("assignments", "entities", "evidence", "events", "judgements", "review"):
        assert (out / f"{name}.parquet").is_file()
    a = pl.read_parquet(out / "assignments.parquet")
    assert a.height == 7 and set(a.columns) >= {"mention_id", "record_id", "role", "entity_id", "confidence"}
    legal = a.filter(pl.col("role") == "subject")["entity_id"].unique()
    assert legal.len() == 1  # the traditional-script variant joined the company


def test_review_lists_masked_pairs_and_records_decisions(ws, run):
    assert run("resolve").exit_code == 0
    r = run("review")
    assert r.exit_code == 0, r.output
    assert ID_A not in r.output and ID_B not in r.output
    assert mask_id(ID_A)[:6] in r.output
    review = pl.read_parquet(ws / "entities" / "review.parquet")
    assert review.height == 2
    pair = ("r000003:object", "r000001:object")
    r = run("review", "--match", *pair, "--who", "analyst li", "--why", "same signature on the filing")
    assert r.exit_code == 0, r.output
    j = pl.read_parquet(ws / "entities" / "judgements.parquet")
    assert j.height == 1 and j["who"][0] == "analyst li" and j["decision"][0] == "match"
    assert run("resolve").exit_code == 0
    a = pl.read_parquet(ws / "entities" / "assignments.parquet")
    ent = dict(zip(a["mention_id"].to_list(), a["entity_id"].to_list()))
    assert ent["r000003:object"] == ent["r000001:object"] != ent["r000002:object"]
    assert pl.read_parquet(ws / "entities" / "judgements.parquet").height == 1  # kept by the run
    r = run("explain", "r000003:object")
    assert r.exit_code == 0 and "a person judged them a match" in r.output and "analyst li" in r.output
    r = run("review", "--match", "r000003:object", "--who", "x", "--why", "y")
    assert r.exit_code != 0
    r = run("review", "--no-match", "r000001:object", "r000002:object", "--who", "", "--why", "y")
    assert r.exit_code == 2 and "--who" in r.output
    r = run("review", "--match", "r000001:subject", "r000001:object", "--who", "x", "--why", "y")
    assert r.exit_code == 2 and "never one entity" in r.output


def test_explain_shows_evidence_and_masks(ws, run):
    assert run("resolve").exit_code == 0
    r = run("explain", "r000004")  # a record id: its company
    assert r.exit_code == 0, r.output
    assert "scored links" in r.output and "name" in r.output and "identical" in r.output
    assert "model fs2-" in r.output
    assert "138****5678" in r.output and "13812345678" not in r.output
    r = run("explain", "r000001:object")
    assert ID_A not in r.output and mask_id(ID_A) in r.output
    r = run("explain", "no-such-thing")
    assert r.exit_code == 2 and "neither an entity id" in r.output


def test_evaluate_against_truth(ws, run, tmp_path):
    assert run("resolve").exit_code == 0
    truth = tmp_path / "city" / "truth"
    truth.mkdir(parents=True)
    pl.DataFrame({
        "source_file": ["sample.csv"] * 8, "source_row": [1, 1, 2, 2, 3, 3, 4, 4],
        "role": ["subject", "object"] * 4,
        "entity_id": ["C", "P1", "C", "P2", "C", "P1", "C", None],
        "noise": ["", "", "", "", "", "missing_id", "traditional", ""], "hard_case": [""] * 8,
    }).filter(pl.col("entity_id").is_not_null()).write_parquet(truth / "mentions.parquet")
    pl.DataFrame({"entity_id": ["C", "P1", "P2"], "type": ["legal", "natural", "natural"],
                  "parent_id": [None, None, None]}).write_parquet(truth / "entities.parquet")
    r = run("evaluate", "--truth", str(tmp_path / "city"), "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["by_type"]["legal"]["pairwise_f1"] == 1.0
    assert data["by_type"]["natural"]["pairwise_precision"] == 1.0
    assert data["by_type"]["natural"]["pairwise_recall"] == 0.0  # the ambiguous 李丽 went to review
    assert data["by_class"]["traditional"]["pairwise_recall"] == 1.0
    assert data["branch_parent_merges"] == 0 and data["multi_uscc_clusters"] == 0
    r = run("evaluate", "--truth", str(tmp_path / "nowhere"))
    assert r.exit_code == 2 and "ground truth not found" in r.output


def test_bad_inputs_give_clear_errors(ws, run, tmp_path):
    r = run("resolve", "--records", str(tmp_path / "missing.parquet"))
    assert r.exit_code == 2 and "missing.parquet" in r.output and "Traceback" not in r.output
    empty = tmp_path / "empty.parquet"
    records_frame([]).write_parquet(empty)
    r = run("resolve", "--records", str(empty))
    assert r.exit_code == 2 and "empty" in r.output
    bad = tmp_path / "model.json"
    bad.write_text(json.dumps({"format": 99, "types": {}}))
    r = run("resolve", "--model", str(bad))
    assert r.exit_code == 2 and "another version" in r.output
    r = run("review")
    assert r.exit_code == 2 and "credgraph resolve" in r.output
