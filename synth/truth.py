"""A generated city's ground truth as a perfect resolution would give it (for tests and benchmarks
of the stages after resolution: they can run on exactly the right entities)."""

from __future__ import annotations

from pathlib import Path

import polars as pl


def true_assignments(city: str | Path, records: pl.DataFrame) -> pl.DataFrame:
    """record_id, role, entity_id, confidence (1.0) of every loaded record's parties, from
    ``truth/mentions.parquet`` (joined on source file and row; quarantined rows have no record)."""
    mentions = pl.read_parquet(Path(city) / "truth" / "mentions.parquet")
    return (records.select("record_id", "source_file", "source_row")
            .join(mentions, on=["source_file", "source_row"], how="inner")
            .select("record_id", "role", "entity_id", pl.lit(1.0).alias("confidence")))


def true_entities(city: str | Path) -> pl.DataFrame:
    """``truth/entities.parquet`` with ``is_branch`` (the shape of resolution's entity table)."""
    ents = pl.read_parquet(Path(city) / "truth" / "entities.parquet")
    return ents.with_columns(pl.col("parent_id").is_not_null().alias("is_branch"))
