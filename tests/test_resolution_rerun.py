"""Re-running ``resolve`` with nothing new changes nothing (issue 13, item 5): the same review queue,
confidences and evidence, read back from disk as the CLI does."""

from __future__ import annotations

import polars as pl

from credgraph.resolution import load_resolution, resolve, write_resolution
from credgraph.resolution.sample import records_frame

ROWS = [
    {"subject_name": "深圳市华强电子有限公司", "subject_uscc": "914403001922038216", "subject_phone": "13812345678"},
    {"subject_name": "華強電子（深圳）有限責任公司", "subject_phone": "13812345678"},
    {"subject_name": "深圳市华强电子有限公司南山分公司"},
    {"subject_name": "深圳市华墙电子有限公司"},
    {"subject_name": "张伟", "subject_type": "natural", "object_name": "深圳市华强电子有限公司",
     "relation": "legal_rep_of"},
    {"subject_name": "张伟", "subject_type": "natural", "object_name": "華強電子（深圳）有限責任公司",
     "relation": "officer_of"},
]


def test_a_second_run_over_the_same_records_changes_nothing(tmp_path):
    records = records_frame(ROWS)
    write_resolution(resolve(records), tmp_path / "e")
    first = load_resolution(tmp_path / "e")
    assert first.evidence.filter(pl.col("rule") == "model").height > 0  # scored links, not only identities
    second = resolve(records, previous=first)
    for name in ("assignments", "entities", "evidence", "review"):
        assert getattr(second, name).equals(getattr(first, name)), name
    assert second.events.height == 0 and second.run["run"] == first.run["run"] + 1
    # One new record: a real incremental run, which still keeps every old mention where it was.
    third = resolve(pl.concat([records, records_frame([{"subject_name": "深圳市新来科技有限公司"}]).with_columns(
        pl.lit("r999999").alias("record_id"))]), previous=first)
    kept = first.assignments.join(third.assignments, on="mention_id", suffix="_3")
    assert kept.filter(pl.col("entity_id") != pl.col("entity_id_3")).height == 0
