"""Building and reading graph frames (nodes, edges) outside the graph stage.

``make_frames`` turns small lists of dicts into contract-shaped frames (for tests, examples
and hand-made what-if graphs); ``load_frames`` gets the frames the CLI works on: from the
graph stage's store when there is one, or from a folder holding nodes.parquet and edges.parquet.

>>> nodes, edges = make_frames(
...     [{"node_id": "c1", "label": "LegalPerson", "name": "甲公司"}],
...     [{"src": "p1", "dst": "c1", "type": "LEGAL_REP_OF"}])
>>> edges.columns
['src', 'dst', 'type', 'ratio', 'capital', 'role', 'record_ids']
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import polars as pl

__all__ = ["make_frames", "load_frames", "EDGE_SCHEMA"]

EDGE_SCHEMA = {
    "src": pl.Utf8, "dst": pl.Utf8, "type": pl.Utf8, "ratio": pl.Float64,
    "capital": pl.Float64, "role": pl.Utf8, "record_ids": pl.List(pl.Utf8),
}
_NODE_TYPES = {
    "node_id": pl.Utf8, "label": pl.Utf8, "name": pl.Utf8, "event_type": pl.Utf8, "status": pl.Utf8,
    "date": pl.Date, "end_date": pl.Date, "est_date": pl.Date, "registered_capital": pl.Float64,
    "amount": pl.Float64, "count": pl.Float64, "capital": pl.Float64, "grade": pl.Utf8,
}


def make_frames(nodes: list[dict], edges: list[dict]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Contract-shaped frames from lists of dicts.

    Persons and companies that edges name but ``nodes`` lacks are added (a ``p``-prefixed
    id becomes a NaturalPerson, anything else a LegalPerson, ``addr:``/``phone:`` ids their
    kinds); ISO date strings become dates.
    """
    known = {n["node_id"] for n in nodes}
    extra = []
    for e in edges:
        for k in (e["src"], e["dst"]):
            if k in known:
                continue
            known.add(k)
            label = ("Address" if k.startswith("addr:") else "Phone" if k.startswith("phone:")
                     else "CreditRecord" if k.startswith("rec:")
                     else "NaturalPerson" if k.startswith("p") else "LegalPerson")
            extra.append({"node_id": k, "label": label, "name": k})
    rows = list(nodes) + extra
    cols: dict[str, list] = {}
    for r in rows:
        for k in r:
            cols.setdefault(k, [])
    for c in ("node_id", "label", "name"):
        cols.setdefault(c, [])
    data = {c: [r.get(c) for r in rows] for c in cols}
    for c, vals in data.items():
        if _NODE_TYPES.get(c) == pl.Date:
            data[c] = [_dt.date.fromisoformat(v) if isinstance(v, str) else v for v in vals]
    schema = {c: _NODE_TYPES.get(c) for c in data if c in _NODE_TYPES}
    nf = pl.DataFrame(data, schema_overrides=schema, strict=False)
    erows = [{**{k: None for k in EDGE_SCHEMA}, **e} for e in edges]
    ef = pl.DataFrame(erows, schema=EDGE_SCHEMA) if erows else pl.DataFrame(schema=EDGE_SCHEMA)
    return nf, ef


def load_frames(cfg, frames_dir: str | Path | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The graph frames: from ``frames_dir`` (nodes.parquet + edges.parquet) when given,
    else from the graph stage (``credgraph.graph.open_store(cfg).export_frames()``), with the
    credit repairs approved in the data interface applied (the records' status ``repaired``).

    Raises FileNotFoundError with a message naming what is missing.
    """
    if frames_dir is not None:
        d = Path(frames_dir)
        missing = [f for f in ("nodes.parquet", "edges.parquet") if not (d / f).is_file()]
        if missing:
            raise FileNotFoundError(f"{d}: missing {', '.join(missing)} (graph frames)")
        return pl.read_parquet(d / "nodes.parquet"), pl.read_parquet(d / "edges.parquet")
    try:
        from credgraph.graph import StoreError, open_store  # the graph stage's public API
    except ImportError:
        raise FileNotFoundError("no graph stage available: build the graph first or pass --frames DIR") from None
    try:
        store = open_store(cfg, read_only=True)
    except StoreError as exc:
        raise FileNotFoundError(f"cannot open the graph store: {exc}") from None
    try:
        nodes, edges = store.export_frames()
    except StoreError as exc:
        raise FileNotFoundError(f"cannot read the graph store: {exc}") from None
    finally:
        store.close()
    from .repair import approved_repairs, mark_repaired
    from .severity import attach_severity, spec_severities, workspace_spec_paths

    # a record whose credit repair was approved stops counting in every analysis of the workspace
    nodes = mark_repaired(nodes, approved_repairs(cfg))
    return attach_severity(nodes, spec_severities(workspace_spec_paths(cfg.workspace_path))), edges
