"""The Neo4j backend: the same model and query API over Bolt (official ``neo4j`` driver).

* **Schema.** A uniqueness constraint on ``node_id`` per label, indexes on the codes
  (uscc, org_code, reg_no), and a full-text index ``entity_names``
  over LegalPerson and NaturalPerson names for analysts
  (``CALL db.index.fulltext.queryNodes('entity_names', '华强')``).
* **Edge ids are computed, not stored.** A relationship's ``edge_id`` is its type, its ends
  and its type's key properties (:func:`credgraph.graph.model.edge_id`); queries compute
  it with ``startNode(r)``/``endNode(r)``, and analysts' Cypher gets it on every
  relationship it returns. Storing it cost a quarter of the server's work per relationship.
* **Load.** Batched transactions through ``execute_write`` (the driver retries transient
  errors, deadlocks included), each batch sent as one list per column and walked with
  ``UNWIND range(...)``, from two sessions at once so the server works on one batch while
  the driver packs the next. Into an *empty* database: credgraph's indexes dropped,
  nodes with CREATE, then the ``node_id`` constraints (one pass over the nodes costs far
  less than updating an index per node), relationships with CREATE grouped by type and
  end labels and sorted by source, looking their ends up through those constraints, then
  the other indexes. Into a database that holds a graph (an earlier load, or one killed
  midway): every index first, every relationship deleted, nodes merged on ``node_id`` and
  stamped with the load's id, relationships created again, and then the nodes carrying another
  stamp (or none) deleted. So loading twice, or again after a killed load, gives exactly
  the same nodes and relationships. With the ``neo4j-rust-ext`` package installed the
  driver packs the batches in Rust (about 3x less Python CPU); it is optional.
* **Lists as JSON text.** ``record_ids`` and ``names`` are stored as JSON array text, as
  on the embedded store (:data:`credgraph.graph.store.LIST_PROPS`): a string costs the
  server far less to write than a list, and analysts' Cypher reads the same on both
  backends. The API, and analysts' results, give them as lists.
* **Reads.** Internal queries run in read transactions; analysts' Cypher runs in a
  session opened with READ access, so the server refuses any write, with a per-query
  timeout and a row limit.
* **Errors.** Server down or wrong password → :class:`StoreError` saying how to fix it.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import polars as pl

from credgraph.graph.build import GraphFrames, contract_frames
from credgraph.graph.model import (NODE_LABELS, REL_TYPES, edge_id, edge_id_expr, node_columns, polars_dtype,
                                   rel_prop_columns)
from credgraph.graph.store import (LIST_PROPS, CypherStore, QueryError, QueryResult, StoreError, decode_lists,
                                   list_from_json, list_to_json, row_bytes, rows_to_frame)

__all__ = ["Neo4jStore", "LOAD_STAMP"]

#: Property holding the id of the load that wrote a node or relationship.
LOAD_STAMP = "load_id"
_INDEXED = {"LegalPerson": ("uscc", "org_code", "reg_no")}
#: The generation marker node (see credgraph.graph.generation): ``state`` is loading or complete.
MARKER = "CredgraphGeneration"
_SCHEMES = ("bolt", "neo4j", "bolt+s", "bolt+ssc", "neo4j+s", "neo4j+ssc")
_REL_PROPS = tuple(rel_prop_columns())


class Neo4jStore(CypherStore):
    """The graph in a Neo4j server named by ``graph.neo4j_uri`` (see the module docstring)."""

    backend = "neo4j"

    def __init__(self, cfg, database: str | None = None, read_only: bool = False) -> None:
        super().__init__(cfg)
        import neo4j
        from neo4j.exceptions import AuthError, ServiceUnavailable

        g = cfg.graph
        scheme = g.neo4j_uri.split("://", 1)[0].lower() if "://" in g.neo4j_uri else ""
        if scheme not in _SCHEMES:
            raise StoreError(f"graph.neo4j_uri {g.neo4j_uri!r}: Neo4j is reached over Bolt; write "
                             "bolt://HOST:PORT (or neo4j://, bolt+s://, neo4j+s://), e.g. bolt://127.0.0.1:7687")
        self.read_only = read_only
        self.database = database
        self.batch_size = g.batch_size
        try:
            self.driver = neo4j.GraphDatabase.driver(g.neo4j_uri, auth=(g.neo4j_user, g.neo4j_password),
                                                     connection_timeout=5.0,
                                                     notifications_min_severity="OFF")
            self.driver.verify_connectivity()
        except AuthError:
            raise StoreError(f"Neo4j at {g.neo4j_uri} refused user {g.neo4j_user!r}: set NEO4J_USER and "
                             "NEO4J_PASSWORD to the server's login (the local server's default password is in "
                             "`credgraph config`, graph.neo4j_password)") from None
        except (ServiceUnavailable, OSError, ValueError) as exc:
            raise StoreError(f"cannot reach Neo4j at {g.neo4j_uri} ({type(exc).__name__}): start the local server "
                             "with `credgraph neo4j start`, or point NEO4J_URI at a running one") from None

        if read_only:
            try:
                self.check_complete()
            except StoreError:
                self.driver.close()
                raise

    def close(self) -> None:
        self.driver.close()

    # ------------------------------------------------------------- generation marker
    def generation(self) -> dict | None:
        """The marker of the last load (state loading or complete, generation, started, finished), or None."""
        rows = self._rows(f"MATCH (m:{MARKER} {{id: 'graph'}}) RETURN m.state, m.generation, m.started, "
                          "m.finished, m.pid")
        if not rows:
            return None
        return dict(zip(("state", "generation", "started", "finished", "pid"), rows[0]))

    def check_complete(self) -> None:
        """StoreError when the graph is being replaced or its last load was interrupted."""
        from credgraph.graph.generation import target_lock_path
        from credgraph.security.locks import is_locked

        gen = self.generation()
        if gen is None or gen["state"] == "complete":
            return
        if is_locked(target_lock_path(self.cfg)):
            raise StoreError(f"a `credgraph graph load` is replacing the graph in Neo4j (started {gen['started']}, "
                             f"pid {gen['pid']}); the graph is incomplete until it finishes: try again then")
        raise StoreError(f"the last graph load into Neo4j (started {gen['started']}, pid {gen['pid']}) was "
                         "interrupted: the graph is incomplete. Run `credgraph graph load` again")

    def _mark(self, state: str, stamp: str) -> None:
        import datetime as _dt
        import os

        now = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
        with self.driver.session(database=self.database) as s:
            if state == "loading":
                s.run(f"MERGE (m:{MARKER} {{id: 'graph'}}) SET m.state = 'loading', m.started = $now, "
                      "m.finished = null, m.pid = $pid, m.load_id = $stamp", now=now, pid=os.getpid(),
                      stamp=stamp).consume()
            else:
                s.run(f"MATCH (m:{MARKER} {{id: 'graph'}}) SET m.state = 'complete', m.finished = $now, "
                      "m.generation = coalesce(m.generation, 0) + 1", now=now).consume()

    # ------------------------------------------------------------------------ reading
    def _rows(self, cypher: str, params: dict | None = None) -> list[tuple]:
        def work(tx):
            return [tuple(_native(v) for v in r.values()) for r in tx.run(cypher, params or {})]

        with self.driver.session(database=self.database) as s:
            return s.execute_read(work)

    # ------------------------------------------------------------------------- schema
    def _schema(self, indexes: bool = True) -> dict[str, str]:
        """name -> statement of the uniqueness constraints and (``indexes``) the other indexes."""
        stmts = {f"{lab.lower()}_node_id": f"CREATE CONSTRAINT {lab.lower()}_node_id IF NOT EXISTS "
                 f"FOR (n:{lab}) REQUIRE n.node_id IS UNIQUE" for lab in NODE_LABELS}
        if indexes:
            for lab, props in _INDEXED.items():
                for p in props:
                    stmts[f"{lab.lower()}_{p}"] = f"CREATE INDEX {lab.lower()}_{p} IF NOT EXISTS FOR (n:{lab}) ON (n.{p})"
            stmts["entity_names"] = ("CREATE FULLTEXT INDEX entity_names IF NOT EXISTS FOR (n:LegalPerson|NaturalPerson) "
                                     "ON EACH [n.name, n.search_text]")
        return stmts

    def ensure_schema(self, indexes: bool = True) -> None:
        """Uniqueness constraints, then (``indexes``) the other indexes; idempotent."""
        with self.driver.session(database=self.database) as s:
            for st in self._schema(indexes).values():
                s.run(st).consume()
            s.run("CALL db.awaitIndexes(3600)").consume()

    def _drop_schema(self) -> None:
        """Drop credgraph's constraints and indexes (only done while the model's labels hold no node)."""
        ours = self._schema()
        with self.driver.session(database=self.database) as s:
            constraints = [r["name"] for r in s.run("SHOW CONSTRAINTS YIELD name")]
            # an index a constraint owns goes with its constraint
            indexes = [r["name"] for r in s.run("SHOW INDEXES YIELD name, owningConstraint "
                                                "WHERE owningConstraint IS NULL RETURN name")]
            for kind, names in (("CONSTRAINT", constraints), ("INDEX", indexes)):
                for name in names:
                    if name in ours:
                        s.run(f"DROP {kind} {name} IF EXISTS").consume()

    # --------------------------------------------------------------------------- load
    def _write_batches(self, cypher: str, frame: pl.DataFrame, stamp: str, batch_size: int | None = None) -> None:
        """Run ``cypher`` over ``frame`` in batches, one write transaction each.

        A batch goes as one list per column (``$node_id``, ``$name``, ...) and the query
        walks them with ``UNWIND range(0, size($<first column>) - 1) AS i``: packing and
        unpacking columns costs the driver and the server far less than one map per row.
        ``execute_write`` retries a batch on transient errors (deadlocks, leader changes).
        """
        size = batch_size or self.batch_size

        def work(tx, params):
            tx.run(cypher, params, stamp=stamp).consume()

        with self.driver.session(database=self.database) as s:
            for i in range(0, frame.height, size):
                s.execute_write(work, frame.slice(i, size).to_dict(as_series=False))

    def _write_parallel(self, jobs: list[tuple[str, pl.DataFrame]], stamp: str, workers: int = 2) -> None:
        """Write (cypher, frame) jobs' batches from ``workers`` sessions at once.

        Node batches never touch the same element. Relationship batches may share an end
        node; a deadlock between two of them is a transient error that ``execute_write``
        retries.
        """
        from concurrent.futures import ThreadPoolExecutor

        size = self.batch_size
        batches = [(c, f.slice(i, size)) for c, f in jobs for i in range(0, f.height, size)]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for f in [pool.submit(self._write_batches, c, b, stamp, size) for c, b in batches]:
                f.result()

    def load(self, frames: GraphFrames, progress=None) -> dict[str, int]:
        """Write ``frames`` into the server and delete whatever an earlier load left that they lack.

        Into an empty database: nodes with CREATE and no index to update (credgraph's are
        dropped), then the ``node_id`` constraints built in one pass, relationships with
        CREATE, then the other indexes. Into a database holding a graph (an earlier load,
        or one killed midway): every index first, the relationships deleted, nodes merged on
        ``node_id`` and stamped, relationships created, then the nodes this load did not
        stamp deleted. List properties are written as JSON text (:data:`LIST_PROPS`).
        """
        from credgraph.graph.generation import target_lock_path
        from credgraph.security.locks import path_lock

        with path_lock(target_lock_path(self.cfg), "graph load", command=f"credgraph graph load (Neo4j "
                       f"{self.cfg.graph.neo4j_uri})", wait=0):
            stamp = uuid.uuid4().hex
            self._mark("loading", stamp)
            counts = self._load(frames, progress, stamp)
            self._after_load(frames)
            self._mark("complete", stamp)
            return counts

    def _load(self, frames: GraphFrames, progress, stamp: str) -> dict[str, int]:
        step = progress or (lambda what, n: None)
        # Into an empty database CREATE is safe and several times faster than MERGE, and
        # building an index once the nodes are in costs far less than updating it per node
        # (a third of the node phase); a load killed midway leaves a non-empty database, so
        # the next load merges and sweeps, with every index in place.
        fresh = not any(self._rows(f"MATCH (n:{lab}) RETURN 1 LIMIT 1") for lab in NODE_LABELS)
        if fresh:
            self._drop_schema()
        else:
            self.ensure_schema()
            self._delete_relationships()
        jobs = []
        for lab in NODE_LABELS:
            cols = list(node_columns(lab))
            props = "{" + ", ".join(f"{c}: ${c}[i]" for c in cols) + "}"
            # a reload sets exactly the frame's properties (drops stale ones; nulls are not stored)
            write = (f"CREATE (n:{lab} {props})" if fresh else
                     f"MERGE (n:{lab} {{node_id: $node_id[i]}}) SET n = {props}, n.{LOAD_STAMP} = $stamp")
            jobs.append((f"UNWIND range(0, size($node_id) - 1) AS i {write}",
                         frames.nodes[lab].select(list_to_json(c) if c in LIST_PROPS else c for c in cols)))
        self._write_parallel(jobs, stamp)
        for lab, (_, f) in zip(NODE_LABELS, jobs):
            step(lab, f.height)
        del jobs
        if fresh:  # relationships find their ends through these
            self.ensure_schema(indexes=False)
        for t in REL_TYPES:
            f = frames.edges[t]
            jobs = []
            for (sl, dl), g in f.group_by(["src_label", "dst_label"], maintain_order=True):
                if sl is None or dl is None:
                    continue
                props = [c for c in _REL_PROPS if c in g.columns]
                jobs.append((f"UNWIND range(0, size($src) - 1) AS i MATCH (a:{sl} {{node_id: $src[i]}}) "
                             f"MATCH (b:{dl} {{node_id: $dst[i]}}) "
                             f"CREATE (a)-[r:{t} {{{', '.join(f'{c}: ${c}[i]' for c in props)}}}]->(b)",
                             g.select("src", "dst", *(list_to_json(c) if c in LIST_PROPS else c for c in props))
                             .sort("src", "dst")))
            self._write_parallel(jobs, stamp)
            step(t, sum(g.height for _, g in jobs))
        if fresh:
            self.ensure_schema()
        else:
            self._sweep(stamp)
        return self.counts()

    def _delete_relationships(self) -> None:
        """Delete every relationship of the model's types (a reload writes them all again)."""
        with self.driver.session(database=self.database) as s:
            for t in REL_TYPES:
                s.run(f"MATCH ()-[r:{t}]->() CALL (r) {{ DELETE r }} IN TRANSACTIONS OF 10000 ROWS").consume()

    def _sweep(self, stamp: str) -> None:
        """Delete the nodes (with any relationship left on them) that the load just finished did not write."""
        with self.driver.session(database=self.database) as s:
            for lab in NODE_LABELS:
                s.run(f"MATCH (n:{lab}) WHERE n.{LOAD_STAMP} IS NULL OR n.{LOAD_STAMP} <> $stamp "
                      "CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS", stamp=stamp).consume()

    def clear(self) -> None:
        """Delete every node and relationship of the model's labels (tests and re-initialisation)."""
        with self.driver.session(database=self.database) as s:
            for lab in (*NODE_LABELS, MARKER):
                s.run(f"MATCH (n:{lab}) CALL (n) {{ DETACH DELETE n }} IN TRANSACTIONS OF 10000 ROWS").consume()

    # ------------------------------------------------------------------------- export
    def export_frames(self) -> tuple[pl.DataFrame, pl.DataFrame]:
        """The stored graph as the contract's (nodes, edges) frames."""
        nodes = {}
        for lab in NODE_LABELS:
            cols = node_columns(lab)
            rows = self._rows(f"MATCH (n:{lab}) RETURN " + ", ".join(f"n.{c}" for c in cols))
            stored = {c: pl.Utf8 if c in LIST_PROPS else d for c, d in cols.items()}
            nodes[lab] = pl.DataFrame(rows, schema=stored, orient="row").with_columns(
                list_from_json(c) for c in cols if c in LIST_PROPS)
        edges = {}
        # lists arrive as their stored JSON text
        schema = {"src": pl.Utf8, "dst": pl.Utf8,
                  **{c: pl.Utf8 if c in LIST_PROPS else polars_dtype(d) for c, d in rel_prop_columns().items()}}
        for t in REL_TYPES:
            rows = self._rows(f"MATCH (a)-[r:{t}]->(b) RETURN a.node_id, b.node_id, "
                              + ", ".join(f"r.{c}" for c in _REL_PROPS))
            edges[t] = pl.DataFrame(rows, schema=schema, orient="row").with_columns(
                list_from_json("record_ids"), edge_id_expr(t))
        return self._private(contract_frames(nodes, edges))

    # -------------------------------------------------------------------------- query
    def query(self, cypher: str, params: dict | None = None, row_limit: int | None = None,
              timeout: float | None = None) -> QueryResult:
        """Run an analyst's Cypher in a READ-access session: the server refuses writes."""
        import neo4j
        from neo4j.exceptions import ClientError, Neo4jError

        row_limit, timeout = self.check_analyst_query(cypher, row_limit, timeout)
        self.check_complete()
        t0 = time.monotonic()
        rows, truncated, size, cut = [], False, 0, False
        max_bytes = self.cfg.graph.query_max_bytes
        try:
            with self.driver.session(database=self.database, default_access_mode=neo4j.READ_ACCESS) as s:
                res = s.run(neo4j.Query(cypher, timeout=timeout), params or {})
                columns = list(res.keys())
                for rec in res:
                    if len(rows) >= row_limit:
                        truncated = True
                        break
                    size += row_bytes([_plain(v, {}) for v in rec.values()])
                    if size > max_bytes:
                        truncated = cut = True
                        break
                    rows.append(rec.values())
                ends = _end_ids(s, rows)
                rows = [[_plain(v, ends) for v in row] for row in rows]
        except ClientError as exc:
            code = exc.code or ""
            if "AccessMode" in code or "ForbiddenDueToTransactionType" in code or "Forbidden" in code:
                raise QueryError("read-only: queries may not change the graph") from None
            if "TransactionTimedOut" in code or "Terminated" in code:
                raise QueryError(f"the query ran longer than {timeout:g} s and was stopped") from None
            raise QueryError(exc.message or str(exc)) from None
        except Neo4jError as exc:
            raise QueryError(exc.message or str(exc)) from None
        return QueryResult(rows_to_frame(columns, rows), truncated, row_limit, time.monotonic() - t0, cut)


def _native(v: Any) -> Any:
    """neo4j temporal values as Python ones."""
    to_native = getattr(v, "to_native", None)
    if to_native is not None:
        return to_native()
    if isinstance(v, list):
        return [_native(x) for x in v]
    return v


def _end_ids(session, rows: list) -> dict[str, str]:
    """node_id of the ends of every relationship in ``rows`` (element id -> node_id): the
    driver gives a relationship's ends without their properties unless the query returned them."""
    from neo4j.graph import Path, Relationship

    want = set()
    for row in rows:
        for v in row:
            rels = v.relationships if isinstance(v, Path) else [v] if isinstance(v, Relationship) else [
                x for x in v if isinstance(x, Relationship)] if isinstance(v, list) else []
            for r in rels:
                want |= {r.start_node.element_id, r.end_node.element_id}
    if not want:
        return {}
    res = session.run("MATCH (n) WHERE elementId(n) IN $ids RETURN elementId(n) AS e, n.node_id AS id",
                      ids=sorted(want))
    return {rec["e"]: rec["id"] for rec in res}


def _plain(v: Any, ends: dict[str, str]) -> Any:
    """Nodes, relationships (with their edge id) and paths as JSON text (with their label or
    type); others as Python values."""
    import json

    from neo4j.graph import Node, Path, Relationship

    if isinstance(v, (Node, Relationship, Path)):
        return json.dumps(_as_dict(v, ends), ensure_ascii=False, default=str)
    if isinstance(v, list) and any(isinstance(x, (Node, Relationship, Path)) for x in v):
        return json.dumps([_as_dict(x, ends) for x in v], ensure_ascii=False, default=str)
    if isinstance(v, (list, dict)):
        return _native(v) if isinstance(v, list) else json.dumps(v, ensure_ascii=False, default=str)
    return _native(v)


def _as_dict(v: Any, ends: dict[str, str]) -> Any:
    from neo4j.graph import Node, Path, Relationship

    if isinstance(v, Node):
        return decode_lists({"_LABEL": next(iter(v.labels), None),
                             **{k: _native(x) for k, x in v.items() if k != LOAD_STAMP}})
    if isinstance(v, Relationship):
        out = decode_lists({"_LABEL": v.type, **{k: _native(x) for k, x in v.items() if k != LOAD_STAMP}})
        a, b = ends.get(v.start_node.element_id), ends.get(v.end_node.element_id)
        if a is not None and b is not None:
            out["edge_id"] = edge_id(v.type, a, b, out)
        return out
    if isinstance(v, Path):  # as the embedded store gives paths: nodes and relationships
        return {"_NODES": [_as_dict(n, ends) for n in v.nodes], "_RELS": [_as_dict(r, ends) for r in v.relationships]}
    return _native(v)
