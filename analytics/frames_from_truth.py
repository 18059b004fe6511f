"""Graph frames built from a generated city's truth (for tests, benchmarks and evaluation).

The graph stage builds the frames from *resolved* entities; this adapter builds the same
shape from the generator's truth instead, so analytics can be checked against planted
answers without depending on resolution quality:

* nodes: truth/entities.parquet (LegalPerson / NaturalPerson, ID numbers only masked in
  ``id_masked`` and keyed-hashed in ``id_hash`` under ``graph.hash_key``, as the graph stores
  them; a company's registration status from its
  registration record), one Address node per distinct address, one Phone node per distinct
  phone (keyed by a hash, named by the masked number), one CreditRecord node per event
  record other than registrations;
* edges: truth/relationships.parquet (relation -> edge type), LOCATED_AT, USES_PHONE, and
  HAS_RECORD from each record's true subject.

Event records are the catalogs loaded with :func:`credgraph.loaders.load_specs` (into a
scratch workspace unless ``records`` are given), joined to their true subject through
truth/mentions.parquet (source_file, source_row).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import polars as pl

from credgraph.config import GraphConfig
from credgraph.identifiers import mask_id, mask_phone

from .lookup import id_hash

__all__ = ["frames_from_truth", "load_city_records", "truth_id_map"]

_EDGE_TYPE = {"shareholder_of": "SHAREHOLDER_OF", "legal_rep_of": "LEGAL_REP_OF", "officer_of": "OFFICER_OF",
              "branch_of": "BRANCH_OF", "agent_of": "AGENT_OF"}
_RECORD_PROPS = ("event_type", "date", "end_date", "status", "amount", "grade", "count", "capital", "reason",
                 "authority", "case_no", "catalog")


def load_city_records(city: str | Path, cfg=None) -> pl.DataFrame:
    """The city's catalogs as standard records (loaded into a scratch workspace)."""
    from credgraph.loaders import load_specs, read_records

    scratch = Path(tempfile.mkdtemp(prefix="credgraph-truth-"))
    try:
        load_specs([Path(city) / "specs"], scratch, config=getattr(cfg, "load", None))
        return read_records(scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def frames_from_truth(city: str | Path, cfg=None, records: pl.DataFrame | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Nodes and edges frames of the true city in ``city`` (a ``credgraph generate`` folder)."""
    city = Path(city)
    truth = city / "truth"
    for name in ("entities", "relationships", "mentions"):
        if not (truth / f"{name}.parquet").is_file():
            raise FileNotFoundError(f"{city}: missing truth/{name}.parquet (not a generated city?)")
    ent = pl.read_parquet(truth / "entities.parquet")
    rel = pl.read_parquet(truth / "relationships.parquet")
    mentions = pl.read_parquet(truth / "mentions.parquet")
    if records is None:
        records = load_city_records(city, cfg)

    people = pl.col("type") == "natural"
    key = getattr(getattr(cfg, "graph", None), "hash_key", None) or GraphConfig().hash_key
    nodes = ent.select(
        pl.col("entity_id").alias("node_id"),
        pl.when(people).then(pl.lit("NaturalPerson")).otherwise(pl.lit("LegalPerson")).alias("label"),
        "name", "uscc", "org_code", "reg_no",
        pl.col("id_number").map_elements(mask_id, return_dtype=pl.Utf8).alias("id_masked"),
        pl.col("id_number").map_elements(lambda v: id_hash(v, key), return_dtype=pl.Utf8).alias("id_hash"),
        "district", "legal_form", "industry", pl.col("registered_capital").cast(pl.Float64),
        pl.col("est_date").cast(pl.Date), "birth_date", "sex", "parent_id",
    )
    edges = rel.select(
        pl.col("src_id").alias("src"), pl.col("dst_id").alias("dst"),
        pl.col("relation").replace_strict(_EDGE_TYPE).alias("type"), pl.col("ratio").cast(pl.Float64),
        pl.lit(None, pl.Float64).alias("capital"), pl.col("role").cast(pl.Utf8),
    )
    addr = ent.filter(pl.col("address").is_not_null() & (pl.col("address") != "")).select(
        pl.col("entity_id").alias("src"), pl.format("addr:{}", "address").alias("dst"), pl.col("address").alias("name"))
    phone = ent.filter(pl.col("phone").is_not_null() & (pl.col("phone") != "")).select(
        pl.col("entity_id").alias("src"), pl.format("phone:{}", pl.col("phone").hash(seed=7).cast(pl.Utf8)).alias("dst"),
        pl.col("phone").map_elements(mask_phone, return_dtype=pl.Utf8).alias("name"))
    hubs = pl.concat([
        addr.select(pl.col("dst").alias("node_id"), pl.lit("Address").alias("label"), "name"),
        phone.select(pl.col("dst").alias("node_id"), pl.lit("Phone").alias("label"), "name"),
    ]).unique("node_id", keep="first", maintain_order=True)
    links = pl.concat([addr.select("src", "dst", pl.lit("LOCATED_AT").alias("type")),
                       phone.select("src", "dst", pl.lit("USES_PHONE").alias("type"))])

    subj = mentions.filter(pl.col("role") == "subject").select("source_file", "source_row", "entity_id")
    ev = (records.filter(pl.col("event_type").is_not_null())
          .join(subj, on=["source_file", "source_row"], how="inner"))
    # As in the graph: the registration is the company's properties, not a record.
    reg = (ev.filter(pl.col("event_type") == "registration").sort("date")
           .group_by("entity_id").last().select(pl.col("entity_id").alias("node_id"), pl.col("status").alias("status")))
    nodes = nodes.join(reg, on="node_id", how="left")
    ev = ev.filter(pl.col("event_type") != "registration")
    rec_nodes = ev.select(
        pl.format("rec:{}", "record_id").alias("node_id"), pl.lit("CreditRecord").alias("label"),
        pl.col("event_type").alias("name"), *[pl.col(c) for c in _RECORD_PROPS if c in ev.columns])
    has = ev.select(pl.col("entity_id").alias("src"), pl.format("rec:{}", "record_id").alias("dst"),
                    pl.lit("HAS_RECORD").alias("type"), pl.concat_list(pl.col("record_id")).alias("record_ids"))
    nodes = pl.concat([nodes, hubs, rec_nodes], how="diagonal_relaxed")
    edges = pl.concat([edges, links, has], how="diagonal_relaxed")
    from .severity import attach_severity, spec_severities

    return attach_severity(nodes, spec_severities(sorted((city / "specs").glob("*.toml")))), edges


def truth_id_map(workspace: str | Path, truth_dir: str | Path) -> pl.DataFrame:
    """Resolved entity id -> true entity id, by majority over the entity's mentions.

    Joins the workspace's records (record_id -> source_file, source_row), resolution's
    assignments (mention -> resolved entity) and the generator's truth/mentions (source row
    and role -> true entity). Columns: node_id, entity_id (true), share (of the resolved
    entity's mentions that are that true entity).
    """
    workspace, truth_dir = Path(workspace), Path(truth_dir)
    rec = pl.read_parquet(workspace / "records" / "records.parquet", columns=["record_id", "source_file", "source_row"])
    asg = pl.read_parquet(workspace / "entities" / "assignments.parquet", columns=["record_id", "role", "entity_id"])
    men = pl.read_parquet(truth_dir / "mentions.parquet", columns=["source_file", "source_row", "role", "entity_id"])
    votes = (asg.rename({"entity_id": "node_id"}).join(rec, on="record_id")
             .join(men, on=["source_file", "source_row", "role"])
             .group_by("node_id", "entity_id").len())
    return (votes.with_columns((pl.col("len") / pl.col("len").sum().over("node_id")).alias("share"))
            .sort(["node_id", "len", "entity_id"], descending=[False, True, False])
            .group_by("node_id", maintain_order=True).first().drop("len"))
