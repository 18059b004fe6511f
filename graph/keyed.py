"""The application's keyed index: exact look-up by ID number or phone, outside the analysts' graph.

The graph (both backends) holds masked forms only. This index, written by every graph load
to ``<workspace>/graph/private/keyed.parquet`` (0600 in a 0700 folder), maps the keyed hash
(HMAC-SHA256 under the workspace key, :func:`credgraph.security.secrets.hash_key`) of a full
ID number or a normalised phone to the node that carries it. Only the application reads it:
the search box and ``credgraph graph search`` hash what was typed and look the hash up here.
Analysts' Cypher cannot reach it, and an analyst sees no keyed hash anywhere.

Columns: ``kind`` (``id`` or ``phone``), ``hash``, ``node_id``.
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

__all__ = ["KEYED_SCHEMA", "keyed_path", "write_keyed", "read_keyed", "lookup", "with_id_hash"]

KEYED_SCHEMA = {"kind": pl.Utf8, "hash": pl.Utf8, "node_id": pl.Utf8}


def keyed_path(cfg) -> Path:
    """``<workspace>/graph/private/keyed.parquet``."""
    return cfg.workspace_path / "graph" / "private" / "keyed.parquet"


def write_keyed(cfg, frame: pl.DataFrame) -> Path:
    """Write the index atomically, owner-only."""
    from credgraph.atomic import write_parquet

    path = keyed_path(cfg)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    return write_parquet(frame.select(list(KEYED_SCHEMA)).cast(KEYED_SCHEMA), path)


def read_keyed(cfg) -> pl.DataFrame:
    """The index (empty when no graph was loaded from this workspace)."""
    path = keyed_path(cfg)
    if not path.is_file():
        return pl.DataFrame(schema=KEYED_SCHEMA)
    return pl.read_parquet(path)


def lookup(cfg, kind: str, digest: str) -> list[str]:
    """Node ids whose ``kind`` value has keyed hash ``digest``."""
    f = read_keyed(cfg)
    return f.filter((pl.col("kind") == kind) & (pl.col("hash") == digest))["node_id"].unique().sort().to_list()


def with_id_hash(cfg, nodes: pl.DataFrame) -> pl.DataFrame:
    """The contract's nodes frame with ``id_hash`` from the index (for the application's analytics,
    e.g. credit checks by full ID number); never loaded into the graph."""
    ids = read_keyed(cfg).filter(pl.col("kind") == "id").select("node_id", pl.col("hash").alias("id_hash"))
    ids = ids.unique("node_id", keep="first")
    if "id_hash" in nodes.columns:
        nodes = nodes.drop("id_hash")
    return nodes.join(ids, on="node_id", how="left")
