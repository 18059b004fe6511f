"""The embedded store: LadybugDB (the maintained fork of Kùzu), on disk in the workspace.

No server: the graph is one file, ``<workspace>/graph/ladybug/graph.lbug``. Dialect
differences from Neo4j stay in this module:

* LadybugDB declares its schema: one node table per label, one relationship table per
  type with every allowed (source label, target label) pair. Every relationship table
  gets the same property columns (ratio, capital, role, edge_id, record_ids; null where
  the model has none) so that a pattern over several types can read any of them.
* ``label(x)`` gives a node's label and a relationship's type; paths are read with
  ``properties(nodes(p), 'node_id')`` and ``list_transform``; variable-length patterns use
  ``ACYCLIC`` (no node twice; the shared code drops the remaining cycles back to the start).
* Loading is a bulk ``COPY ... FROM`` of each polars frame into a fresh database built
  beside the old one and swapped in whole, so a failed or killed load leaves the previous
  graph as it was, and loading twice gives the same graph.
* Read-only Cypher runs on a second handle opened with ``read_only=True``: the database
  itself refuses writes.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import polars as pl

from credgraph.atomic import atomic_dir
from credgraph.graph.build import GraphFrames, contract_frames
from credgraph.graph.model import NODE_LABELS, REL_TYPES, node_columns
from credgraph.graph.store import CypherStore, QueryError, QueryResult, StoreError, rows_to_frame

__all__ = ["LadybugStore", "DB_FILE"]

DB_FILE = "graph.lbug"
_TYPES = {"str": "STRING", "float": "DOUBLE", "int": "INT64", "bool": "BOOLEAN", "date": "DATE", "list": "STRING[]"}
#: Columns of every relationship table (the union of the model's relationship properties).
REL_COLUMNS = {"edge_id": pl.Utf8, "ratio": pl.Float64, "capital": pl.Float64, "role": pl.Utf8,
               "record_ids": pl.List(pl.Utf8)}
_REL_DDL = {"edge_id": "STRING", "ratio": "DOUBLE", "capital": "DOUBLE", "role": "STRING", "record_ids": "STRING[]"}


def _ladybug():
    import ladybug

    return ladybug


class LadybugStore(CypherStore):
    """The graph in an embedded LadybugDB file (see the module docstring)."""

    backend = "embedded"
    LBL = "label({})"
    TYP = "label({})"

    def __init__(self, cfg, path: str | Path, read_only: bool = False) -> None:
        super().__init__(cfg)
        self.path = Path(path)
        self.read_only = read_only
        self._db = self._conn = None
        self._ro_db = self._ro_conn = None
        self._open()

    # ------------------------------------------------------------------- connection
    @property
    def file(self) -> Path:
        return self.path / DB_FILE

    def _open(self) -> None:
        lb = _ladybug()
        if self.read_only and not self.file.exists():
            raise StoreError(f"{self.file}: no graph yet; build it with `credgraph graph load`")
        self.path.mkdir(parents=True, exist_ok=True)
        try:
            self._db = lb.Database(str(self.file), read_only=self.read_only,
                                   buffer_pool_size=self.cfg.graph.embedded_buffer_mb * 1024 * 1024)
        except RuntimeError as exc:
            raise StoreError(f"{self.file}: cannot open the embedded graph ({exc}); "
                             "is another credgraph process writing it?") from None
        self._conn = lb.Connection(self._db)
        if not self.read_only:
            self._ensure_schema(self._conn)

    def close(self) -> None:
        for attr in ("_ro_conn", "_ro_db", "_conn", "_db"):
            obj = getattr(self, attr)
            if obj is not None:
                obj.close()
                setattr(self, attr, None)

    def _rows(self, cypher: str, params: dict | None = None) -> list[tuple]:
        if self._conn is None:
            raise StoreError("the embedded store is closed")
        res = self._conn.execute(cypher, params or {})
        return [tuple(r) for r in res.get_all()]

    # ------------------------------------------------------------------------ dialect
    def _path_cols(self, p: str) -> str:
        return (f"properties(nodes({p}), 'node_id'), list_transform(nodes({p}), x -> label(x)), "
                f"properties(nodes({p}), 'name'), list_transform(rels({p}), x -> label(x)), "
                f"properties(rels({p}), 'ratio'), properties(rels({p}), 'edge_id')")

    def _var_length(self, types: str, lo: int, hi: int) -> str:
        return f"{types}* ACYCLIC {lo}..{hi}"

    # ------------------------------------------------------------------------- schema
    @staticmethod
    def _ensure_schema(conn) -> None:
        for lab, spec in NODE_LABELS.items():
            cols = ", ".join(f"{p.name} {_TYPES[p.dtype]}" for p in spec.props)
            conn.execute(f"CREATE NODE TABLE IF NOT EXISTS {lab}({cols}, PRIMARY KEY(node_id))")
        for t, spec in REL_TYPES.items():
            pairs = ", ".join(f"FROM {a} TO {b}" for a, b in spec.pairs)
            cols = ", ".join(f"{c} {d}" for c, d in _REL_DDL.items())
            conn.execute(f"CREATE REL TABLE IF NOT EXISTS {t}({pairs}, {cols})")

    # --------------------------------------------------------------------------- load
    def load(self, frames: GraphFrames, progress=None) -> dict[str, int]:
        """Replace the stored graph by ``frames`` (bulk COPY into a fresh file, swapped in whole)."""
        if self.read_only:
            raise StoreError("the embedded store was opened read-only")
        lb = _ladybug()
        self.close()
        step = progress or (lambda what, n: None)
        try:
            with atomic_dir(self.path) as tmp:
                db = lb.Database(str(tmp / DB_FILE), buffer_pool_size=self.cfg.graph.embedded_buffer_mb * 1024 * 1024)
                conn = lb.Connection(db)
                try:
                    self._ensure_schema(conn)
                    for lab in NODE_LABELS:
                        df = frames.nodes[lab].select(list(node_columns(lab)))
                        if df.height:
                            conn.execute(f"COPY {lab} FROM $df", {"df": df})
                        step(lab, df.height)
                    for t in REL_TYPES:
                        f = frames.edges[t]
                        for (sl, dl), g in f.group_by(["src_label", "dst_label"], maintain_order=True):
                            if sl is None or dl is None:
                                continue
                            df = g.select("src", "dst", *[pl.col(c).cast(d) if c in g.columns
                                                          else pl.lit(None, d).alias(c)
                                                          for c, d in REL_COLUMNS.items()])
                            conn.execute(f"COPY {t} FROM $df (from='{sl}', to='{dl}')", {"df": df})
                        step(t, f.height)
                    conn.execute("CHECKPOINT")
                finally:
                    conn.close()
                    db.close()
        finally:
            self._open()
        return self.counts()

    # ------------------------------------------------------------------------- export
    def export_frames(self) -> tuple[pl.DataFrame, pl.DataFrame]:
        """The stored graph as the contract's (nodes, edges) frames."""
        nodes = {}
        for lab in NODE_LABELS:
            cols = node_columns(lab)
            res = self._conn.execute(f"MATCH (n:{lab}) RETURN " + ", ".join(f"n.{c} AS {c}" for c in cols))
            df = res.get_as_pl()
            nodes[lab] = df.select([pl.col(c).cast(d) for c, d in cols.items()]) if df.height else pl.DataFrame(
                schema=cols)
        edges = {}
        for t in REL_TYPES:
            res = self._conn.execute(f"MATCH (a)-[r:{t}]->(b) RETURN a.node_id AS src, b.node_id AS dst, "
                                     + ", ".join(f"r.{c} AS {c}" for c in REL_COLUMNS))
            df = res.get_as_pl()
            schema = {"src": pl.Utf8, "dst": pl.Utf8, **REL_COLUMNS}
            edges[t] = df.select([pl.col(c).cast(d) for c, d in schema.items()]) if df.height else pl.DataFrame(
                schema=schema)
        return contract_frames(nodes, edges)

    # -------------------------------------------------------------------------- query
    def query(self, cypher: str, params: dict | None = None, row_limit: int | None = None,
              timeout: float | None = None) -> QueryResult:
        """Run an analyst's Cypher on a read-only handle: writes are refused by the database."""
        lb = _ladybug()
        row_limit = self.cfg.graph.query_row_limit if row_limit is None else row_limit
        timeout = self.cfg.graph.query_timeout_s if timeout is None else timeout
        if self.read_only:
            conn = self._conn
        else:
            if self._ro_conn is None:
                self._ro_db = lb.Database(str(self.file), read_only=True)
                self._ro_conn = lb.Connection(self._ro_db)
            conn = self._ro_conn
        conn.set_query_timeout(int(timeout * 1000))
        t0 = time.monotonic()
        try:
            res = conn.execute(cypher, params or {})
        except RuntimeError as exc:
            msg = str(exc)
            if "read-only" in msg or "read only" in msg:
                raise QueryError("read-only: queries may not change the graph") from None
            if "interrupted" in msg.lower() or "timeout" in msg.lower():
                raise QueryError(f"the query ran longer than {timeout:g} s and was stopped") from None
            raise QueryError(msg) from None
        if isinstance(res, list):
            raise QueryError("one statement at a time, please")
        columns = res.get_column_names()
        rows, truncated = [], False
        while res.has_next():
            if len(rows) >= row_limit:
                truncated = True
                break
            rows.append([_plain(v) for v in res.get_next()])
        res.close()
        return QueryResult(rows_to_frame(columns, rows), truncated, row_limit, time.monotonic() - t0)


def _plain(value: Any) -> Any:
    """Nodes and relationships as JSON text without LadybugDB's internal ids; other values as they are."""
    if isinstance(value, dict) and ("_ID" in value or "_LABEL" in value):
        clean = {k: v for k, v in value.items() if k not in ("_ID", "_SRC", "_DST") and v is not None}
        return json.dumps(clean, ensure_ascii=False, default=str)
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return json.dumps([json.loads(_plain(v)) if isinstance(v, dict) else v for v in value],
                          ensure_ascii=False, default=str)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return value
