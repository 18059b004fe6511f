"""The credit network as a graph: model, build, and two backends behind one query API.

* :mod:`.model` — node labels, relationship types and their properties, as data;
* :func:`build_frames` / :func:`build_from_workspace` — records + resolution outputs →
  node and edge frames (IDs and phones only masked and keyed-hashed);
* :func:`open_store` — the embedded LadybugDB store (default) or Neo4j
  (``graph.backend = "neo4j"``), both with the same :class:`GraphStore` API: search,
  neighbourhood, paths, ownership, sharing, export_frames, read-only Cypher;
* :mod:`.neo4j_server` — a local Neo4j 5.26 server from Maven Central
  (``credgraph neo4j start|stop|status``).

>>> sorted(REL_TYPES)[:3]
['AGENT_OF', 'BRANCH_OF', 'HAS_RECORD']
"""

from credgraph.graph.build import GraphFrames, InputError, build_frames, build_from_workspace, keyed_hash, read_inputs
from credgraph.graph.model import ENTITY_LABELS, NODE_LABELS, REL_TYPES
from credgraph.graph.store import (
    GraphStore,
    Neighbourhood,
    QueryError,
    QueryResult,
    StoreError,
    embedded_path,
    open_store,
)

__all__ = [
    "ENTITY_LABELS",
    "NODE_LABELS",
    "REL_TYPES",
    "GraphFrames",
    "GraphStore",
    "InputError",
    "Neighbourhood",
    "QueryError",
    "QueryResult",
    "StoreError",
    "build_frames",
    "build_from_workspace",
    "embedded_path",
    "keyed_hash",
    "open_store",
    "read_inputs",
]
