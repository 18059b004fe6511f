"""The embedded store: LadybugDB (the maintained fork of Kùzu), on disk in the workspace.

No server: the graph is one file, ``<workspace>/graph/ladybug/graph.lbug``. Dialect
differences from Neo4j stay in this module:

* LadybugDB declares its schema: one node table per label, one relationship table per
  type with every allowed (source label, target label) pair. A relationship table holds
  its type's properties, plus ``ratio`` and ``role`` (null where the model has none) on
  every table, because the shared queries read them on any relationship: a pattern over
  several tables reads a missing property as null, but over tables that all lack it the
  query is refused.
* List properties (``record_ids``, ``names``) are stored as JSON array text
  (``["r1","r2"]``): LadybugDB's bulk load of ``STRING[]`` columns costs about twice a
  string's, and nothing queries inside them. The API returns them as lists.
* ``edge_id`` is not stored: it is a function of the type, the two ends and the type's key
  properties (:attr:`credgraph.graph.model.RelSpec.key`), and storing that string on
  millions of relationships was a third of their load time. Queries compute it from the
  relationship's source (``struct_extract(r, '_SRC')``; ``start_node(r)`` is the
  pattern's left node in an undirected pattern, not the source); analysts' Cypher gets it
  on every relationship it returns.
* ``label(x)`` gives a node's label and a relationship's type; paths are read with
  ``properties(nodes(p), key)`` only (``list_transform`` over a path mixes up the rows of a
  result in 0.22); variable-length patterns use ``ACYCLIC`` and ``is_acyclic(p)`` (the keyword
  alone lets repeated nodes through).
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
from credgraph.graph.model import (KEYED, NODE_LABELS, REL_TYPES, edge_id, edge_id_expr, node_columns,
                                   polars_dtype, rel_prop_columns)
from credgraph.graph.store import (LIST_PROPS, CypherStore, QueryError, QueryResult, StoreError, decode_lists,
                                   edge_id_cypher, list_from_json, list_to_json, row_bytes, rows_to_frame)

__all__ = ["LadybugStore", "DB_FILE"]

DB_FILE = "graph.lbug"
# lists are stored as JSON array text (see the module docstring)
_TYPES = {"str": "STRING", "float": "DOUBLE", "int": "INT64", "bool": "BOOLEAN", "date": "DATE", "list": "STRING"}
#: Columns of the relationship frames the store keeps (the model's relationship properties but edge_id).
REL_COLUMNS = {c: polars_dtype(d) for c, d in rel_prop_columns().items()}
_REL_DDL = {c: _TYPES[d] for c, d in rel_prop_columns().items()}
#: Read by the shared queries on any relationship, so every table has them (null where the model has none).
_REL_EVERYWHERE = ("ratio", "role")


#: Stored columns of each relationship table: its model properties (an unused null column
#: costs load time), plus the ones shared queries read on any relationship.
_REL_TABLE_COLUMNS = {t: [c for c in REL_COLUMNS if c in {p.name for p in spec.props} or c in _REL_EVERYWHERE]
                      for t, spec in REL_TYPES.items()}


def _eid_cypher(r: str, a: str, b: str) -> str:
    """Cypher computing the edge id of relationship ``r`` joining nodes ``a`` and ``b`` either way
    round. (``start_node(r)`` gives the pattern's left node in an undirected pattern, so the
    source is found by comparing internal ids.)"""
    return edge_id_cypher(r, f"label({r})", f"CASE WHEN struct_extract({r}, '_SRC') = id({a}) THEN {a}.node_id + "
                                            f"'|' + {b}.node_id ELSE {b}.node_id + '|' + {a}.node_id END")


def _ladybug():
    import ladybug

    return ladybug


class LadybugStore(CypherStore):
    """The graph in an embedded LadybugDB file (see the module docstring)."""

    backend = "embedded"
    LBL = "label({})"
    TYP = "label({})"
    EID = _eid_cypher("{0}", "{1}", "{2}")
    SIMPLE = "is_acyclic({0})"  # the pattern's ACYCLIC keyword alone lets repeated nodes through (0.22)

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
        size = self.cfg.graph.embedded_buffer_mb * 1024 * 1024
        try:
            self._db = lb.Database(str(self.file), read_only=self.read_only, buffer_pool_size=size)
        except RuntimeError as exc:
            if not (self.read_only and "recovery is pending" in str(exc) and self._recover(size)):
                raise StoreError(f"{self.file}: cannot open the embedded graph ({exc}); "
                                 "is another credgraph process writing it?") from None
            self._db = lb.Database(str(self.file), read_only=True, buffer_pool_size=size)
        self._conn = lb.Connection(self._db)
        self._stale = self._stale_format(self._conn)
        if not self.read_only and not self._stale:
            self._ensure_schema(self._conn)

    def _recover(self, size: int) -> bool:
        """Finish the recovery a killed writer left pending (open read-write once, then close), unless a
        graph load holds the store now; True when done."""
        from credgraph.graph.generation import target_lock_path
        from credgraph.security.locks import LockBusy, path_lock

        try:
            with path_lock(target_lock_path(self.cfg), "graph load", command="credgraph graph load"):
                db = _ladybug().Database(str(self.file), buffer_pool_size=size)
                db.close()
            return True
        except (LockBusy, RuntimeError):
            return False

    @staticmethod
    def _stale_format(conn) -> str | None:
        """Why a graph file written by an earlier credgraph cannot be read, or None (lists were
        ``STRING[]`` and relationships stored ``edge_id`` before)."""
        def columns(table: str) -> dict[str, str]:
            try:
                return {r[1]: r[2] for r in conn.execute(f"CALL table_info('{table}') RETURN *").get_all()}
            except RuntimeError:
                return {}  # no such table (no graph yet)

        lists = columns("LegalPerson").get("record_ids", _TYPES["list"])
        if lists != _TYPES["list"] or "edge_id" in columns("HAS_RECORD"):
            return "it was built by an earlier version of credgraph; rebuild it with `credgraph graph load`"
        return None

    def _need_current(self) -> None:
        if self._stale:
            raise StoreError(f"{self.file}: {self._stale}")

    def close(self) -> None:
        for attr in ("_ro_conn", "_ro_db", "_conn", "_db"):
            obj = getattr(self, attr)
            if obj is not None:
                obj.close()
                setattr(self, attr, None)

    def _rows(self, cypher: str, params: dict | None = None) -> list[tuple]:
        if self._conn is None:
            raise StoreError("the embedded store is closed")
        self._need_current()
        res = self._conn.execute(cypher, params or {})
        return [tuple(r) for r in res.get_all()]

    # ------------------------------------------------------------------------ dialect
    def _path_cols(self, p: str) -> str:
        # edge ids are made in _path_rows from each link's source (an internal id) and key.
        # Only properties(list, key) here: LadybugDB 0.22's list_transform over nodes(p)/rels(p)
        # mixes up the rows of a result (labels and sources of another path), which drew links
        # that do not exist; tests/test_graph_paths_oracle.py holds this to networkx.
        return (f"properties(nodes({p}), 'node_id'), properties(nodes({p}), '_LABEL'), "
                f"properties(nodes({p}), 'name'), properties(rels({p}), '_LABEL'), "
                f"properties(rels({p}), 'ratio'), properties(nodes({p}), '_ID'), "
                f"properties(rels({p}), '_SRC'), "
                + ", ".join(f"properties(rels({p}), '{k}')" for k in KEYED))

    def _path_rows(self, rows: list[tuple]) -> list[tuple]:
        out = []
        for ids, labels, names, types, ratios, internal, srcs, *keys in rows:
            eids = []
            for i, (t, src) in enumerate(zip(types, srcs)):
                a, b = (ids[i], ids[i + 1]) if internal[i] == src else (ids[i + 1], ids[i])
                eids.append(edge_id(t, a, b, {k: v[i] for k, v in zip(KEYED, keys)}))
            out.append((ids, labels, names, types, ratios, eids))
        return out

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
            cols = ", ".join(f"{c} {_REL_DDL[c]}" for c in _REL_TABLE_COLUMNS[t])
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
                        cols = node_columns(lab)
                        df = frames.nodes[lab].select([list_to_json(c) if c in LIST_PROPS else pl.col(c) for c in cols])
                        if df.height:
                            conn.execute(f"COPY {lab} FROM $df", {"df": df})
                        step(lab, df.height)
                    for t in REL_TYPES:
                        f = frames.edges[t]
                        for (sl, dl), g in f.group_by(["src_label", "dst_label"], maintain_order=True):
                            if sl is None or dl is None:
                                continue
                            df = g.select("src", "dst", *[pl.col(c).cast(REL_COLUMNS[c]) if c in g.columns
                                                          else pl.lit(None, REL_COLUMNS[c]).alias(c)
                                                          for c in _REL_TABLE_COLUMNS[t]]
                                          ).with_columns(list_to_json("record_ids"))
                            conn.execute(f"COPY {t} FROM $df (from='{sl}', to='{dl}')", {"df": df})
                        step(t, f.height)
                    conn.execute("CHECKPOINT")
                finally:
                    conn.close()
                    db.close()
        finally:
            self._open()
        self._after_load(frames)
        return self.counts()

    # ------------------------------------------------------------------------- export
    def export_frames(self) -> tuple[pl.DataFrame, pl.DataFrame]:
        """The stored graph as the contract's (nodes, edges) frames."""
        self._need_current()
        nodes = {}
        for lab in NODE_LABELS:
            cols = node_columns(lab)
            res = self._conn.execute(f"MATCH (n:{lab}) RETURN " + ", ".join(f"n.{c} AS {c}" for c in cols))
            df = res.get_as_pl()
            nodes[lab] = df.select([list_from_json(c) if c in LIST_PROPS else pl.col(c).cast(d)
                                    for c, d in cols.items()]) if df.height else pl.DataFrame(schema=cols)
        edges = {}
        for t in REL_TYPES:
            res = self._conn.execute(f"MATCH (a)-[r:{t}]->(b) RETURN a.node_id AS src, b.node_id AS dst, "
                                     + ", ".join(f"r.{c} AS {c}" if c in _REL_TABLE_COLUMNS[t] else
                                                 f"CAST(NULL AS {_REL_DDL[c]}) AS {c}" for c in REL_COLUMNS))
            df = res.get_as_pl()
            schema = {"src": pl.Utf8, "dst": pl.Utf8, "edge_id": pl.Utf8, **REL_COLUMNS}
            edges[t] = df.select([list_from_json(c) if c in LIST_PROPS else pl.col(c).cast(d)
                                  for c, d in schema.items() if c != "edge_id"]).with_columns(
                edge_id_expr(t)).select(list(schema)) if df.height else pl.DataFrame(schema=schema)
        return self._private(contract_frames(nodes, edges))

    # -------------------------------------------------------------------------- query
    def query(self, cypher: str, params: dict | None = None, row_limit: int | None = None,
              timeout: float | None = None) -> QueryResult:
        """Run an analyst's Cypher on a read-only handle: writes are refused by the database."""
        self._need_current()
        lb = _ladybug()
        row_limit, timeout = self.check_analyst_query(cypher, row_limit, timeout)
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
        rows, truncated, size, cut = [], False, 0, False
        max_bytes = self.cfg.graph.query_max_bytes
        while res.has_next():
            if len(rows) >= row_limit:
                truncated = True
                break
            row = res.get_next()
            size += row_bytes(row)
            if size > max_bytes:
                truncated = cut = True
                break
            rows.append(row)
        res.close()
        ends = self._end_ids(conn, rows)
        rows = [[_plain(v, ends) for v in row] for row in rows]
        return QueryResult(rows_to_frame(columns, rows), truncated, row_limit, time.monotonic() - t0, cut)

    @staticmethod
    def _end_ids(conn, rows: list) -> dict[tuple, str]:
        """node_id of every relationship end in ``rows`` (internal id -> node_id), to give them edge ids."""
        want: set[tuple] = set()

        def walk(v):
            if isinstance(v, dict):
                for k in ("_SRC", "_DST"):
                    if isinstance(v.get(k), dict):
                        want.add((v[k]["table"], v[k]["offset"]))
                for x in v.values():
                    walk(x)
            elif isinstance(v, list):
                for x in v:
                    walk(x)

        walk(rows)
        if not want:
            return {}
        ids = ", ".join(f"internal_id({int(t)}, {int(o)})" for t, o in sorted(want))  # ints only
        res = conn.execute(f"MATCH (n) WHERE id(n) IN [{ids}] RETURN id(n), n.node_id")
        return {(i["table"], i["offset"]): nid for i, nid in res.get_all()}


def _plain(value: Any, ends: dict[tuple, str]) -> Any:
    """Nodes, relationships and paths as JSON text without LadybugDB's internal ids
    (relationships with their edge id, list properties as lists); other values as they are."""
    if isinstance(value, dict) or (isinstance(value, list) and value and isinstance(value[0], dict)):
        return json.dumps(_clean(value, ends), ensure_ascii=False, default=str)
    return value


def _clean(value: Any, ends: dict[tuple, str]) -> Any:
    if isinstance(value, list):
        return [_clean(v, ends) for v in value]
    if not isinstance(value, dict):
        return value
    if "_LABEL" not in value and "_ID" not in value:  # a path (_NODES, _RELS) or a map
        return {k: _clean(v, ends) for k, v in value.items()}
    out = {k: v for k, v in value.items() if k not in ("_ID", "_SRC", "_DST") and v is not None}
    decode_lists(out)
    src, dst = value.get("_SRC"), value.get("_DST")
    if isinstance(src, dict) and isinstance(dst, dict) and value.get("_LABEL") in REL_TYPES:
        a, b = ends.get((src["table"], src["offset"])), ends.get((dst["table"], dst["offset"]))
        if a is not None and b is not None:
            out["edge_id"] = edge_id(value["_LABEL"], a, b, out)
    return out
