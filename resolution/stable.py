"""Stable entity ids across runs, and the merge/split events between runs.

An entity keeps its id when records are added or the model changes:

* it **inherits** the previous run's id of its oldest member (the mention seen first);
  when several new entities claim one old id (a split), the one holding the oldest of
  those members keeps it and the others get new ids;
* a new entity's id is **derived** from its strongest identifier: ``L`` + USCC (or
  ``LO`` + organisation code, ``LR`` + registration number) for legal persons; a person's
  id is ``N`` + a hash of its oldest mention (a surrogate: never a function of the ID number,
  which is personal data), as is a company's without identifiers.

Every mention whose entity id changed produces an event ``old_id -> new_id``: ``split``
when the old entity lives on, ``merge`` when it was absorbed.

>>> stable_person_id("11010519491231002X", "k") == stable_person_id("11010519491231002X", "k")
True
>>> stable_person_id("11010519491231002X", "k").startswith("N") and "1949" not in stable_person_id("11010519491231002X", "k")
True
"""

from __future__ import annotations

import hashlib
import hmac

import polars as pl

__all__ = ["assign_entity_ids", "stable_person_id", "EVENT_SCHEMA"]

EVENT_SCHEMA = {"run": pl.Int64, "at": pl.Utf8, "event": pl.Utf8, "old_id": pl.Utf8, "new_id": pl.Utf8,
                "mentions": pl.Int64, "type": pl.Utf8}


def stable_person_id(id_number: str, key: str) -> str:
    """Entity id of a person with a full ID number: a keyed hash (HMAC-SHA256), not reversible without the key."""
    return "N" + hmac.new(key.encode(), id_number.encode(), hashlib.sha256).hexdigest()[:16].upper()


def _hash_id(prefix: str, mention_id: str) -> str:
    return prefix + hashlib.sha1(mention_id.encode()).hexdigest()[:16].upper()


def assign_entity_ids(m: pl.DataFrame, key: str, run: int, at: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Entity id per cluster and the events of this run.

    ``m`` has one row per mention: ``mention_id, type, cluster (global int), first_seen, seq,
    old_entity`` (previous run's id or null) and the identifiers ``uscc_v, org_v, reg_v, id_full``.
    Returns (cluster -> entity_id frame, events frame).
    """
    ordered = m.sort(["first_seen", "seq"])
    claims = (
        ordered.filter(pl.col("old_entity").is_not_null())
        .group_by("cluster", maintain_order=True)
        .agg(pl.col("old_entity").first())
        .with_row_index("age")  # clusters in order of their oldest previously-assigned member
    )
    winners = claims.sort("age").group_by("old_entity", maintain_order=True).agg(pl.col("cluster").first())
    inherited = {c: e for c, e in zip(winners["cluster"].to_list(), winners["old_entity"].to_list())}

    # Identifiers and oldest mention per cluster, for derived ids.
    firsts = ordered.group_by("cluster", maintain_order=True).agg(
        pl.col("type").first(),
        pl.col("mention_id").first().alias("oldest"),
        *[pl.col(c).filter(pl.col(c) != "").first().alias(c) for c in ("uscc_v", "org_v", "reg_v", "id_full")],
    )
    taken = set(inherited.values()) | set(m["old_entity"].drop_nulls().unique().to_list())
    fresh = firsts.filter(~pl.col("cluster").is_in(pl.Series(list(inherited), dtype=pl.Int64).implode()))
    # Derived ids, vectorised; the hashes (persons' keyed hash, else the oldest mention) per row.
    # a person's id is a surrogate from its oldest mention, never a function of the ID number: with the
    # masked number in view, a hash of the full one (keyed or not) could be brute-forced (issue 13)
    hashed = [_hash_id("L" if t == "legal" else "N", o)
              for t, o in zip(fresh["type"].to_list(), fresh["oldest"].to_list())]
    fresh = fresh.with_columns(pl.Series("_h", hashed, dtype=pl.Utf8)).with_columns(
        pl.when((pl.col("type") == "legal") & pl.col("uscc_v").is_not_null()).then("L" + pl.col("uscc_v"))
        .when((pl.col("type") == "legal") & pl.col("org_v").is_not_null()).then("LO" + pl.col("org_v"))
        .when((pl.col("type") == "legal") & pl.col("reg_v").is_not_null()).then("LR" + pl.col("reg_v"))
        .otherwise(pl.col("_h")).alias("cand")
    )
    ids: dict[int, str] = dict(inherited)
    clash = fresh.filter(pl.col("cand").is_in(pl.Series(list(taken), dtype=pl.Utf8).implode())
                         | pl.col("cand").is_duplicated())
    ok = fresh.filter(~pl.col("cluster").is_in(clash["cluster"].implode()))
    ids.update(zip(ok["cluster"].to_list(), ok["cand"].to_list()))
    taken |= set(ok["cand"].to_list())
    for c, cand, oldest in zip(clash["cluster"].to_list(), clash["cand"].to_list(), clash["oldest"].to_list()):
        if cand in taken:
            cand = _hash_id(cand[0], oldest)
        n, base = 2, cand
        while cand in taken:
            cand, n = f"{base}-{n}", n + 1
        taken.add(cand)
        ids[c] = cand
    id_frame = pl.DataFrame({"cluster": list(ids.keys()), "entity_id": list(ids.values())},
                            schema={"cluster": pl.Int64, "entity_id": pl.Utf8})

    moved = (
        m.select("cluster", "old_entity", "type").filter(pl.col("old_entity").is_not_null())
        .join(id_frame, on="cluster", how="left")
        .filter(pl.col("old_entity") != pl.col("entity_id"))
        .group_by(["old_entity", "entity_id", "type"], maintain_order=True).len()
    )
    alive = set(ids.values())
    events = moved.select(
        pl.lit(run, dtype=pl.Int64).alias("run"),
        pl.lit(at).alias("at"),
        pl.when(pl.col("old_entity").is_in(pl.Series(list(alive), dtype=pl.Utf8).implode()))
        .then(pl.lit("split")).otherwise(pl.lit("merge")).alias("event"),
        pl.col("old_entity").alias("old_id"),
        pl.col("entity_id").alias("new_id"),
        pl.col("len").cast(pl.Int64).alias("mentions"),
        pl.col("type"),
    )
    return id_frame, events.cast(EVENT_SCHEMA)
