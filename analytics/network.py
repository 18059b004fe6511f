"""The graph frames read once into integer-indexed arrays and scipy sparse matrices.

Every analytic works on a :class:`CreditNetwork`: the ``nodes`` and ``edges`` frames of the
graph stage (see the briefing, "Graph frames") turned into

* ``ids`` / ``labels`` / ``names``: one entry per node, the node's position is its index;
* ``src`` / ``dst`` / ``etype`` / ``ratio``: one entry per edge, as node indexes and a type code;
* ``records``: the CreditRecord nodes joined to the entity that has them (``owner`` index).

Building it costs two joins; afterwards nothing loops over nodes in Python.

>>> import polars as pl
>>> nodes = pl.DataFrame({"node_id": ["p1", "c1", "rec:r1"],
...                       "label": ["NaturalPerson", "LegalPerson", "CreditRecord"],
...                       "name": ["张三", "深圳市甲有限公司", None],
...                       "event_type": [None, None, "penalty"]})
>>> edges = pl.DataFrame({"src": ["p1", "c1"], "dst": ["c1", "rec:r1"],
...                       "type": ["LEGAL_REP_OF", "HAS_RECORD"]})
>>> net = CreditNetwork.from_frames(nodes, edges)
>>> net.n, int(net.entity_mask.sum()), net.records["owner_id"].to_list()
(3, 2, ['c1'])
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field

import numpy as np
import polars as pl

__all__ = ["CreditNetwork", "EDGE_TYPES", "ENTITY_LABELS", "parse_as_of", "resolve_as_of", "FrameError"]

#: Edge types of the graph model, in the order of their integer codes.
EDGE_TYPES = (
    "SHAREHOLDER_OF",
    "LEGAL_REP_OF",
    "OFFICER_OF",
    "BRANCH_OF",
    "AGENT_OF",
    "LOCATED_AT",
    "USES_PHONE",
    "HAS_RECORD",
)
ENTITY_LABELS = ("LegalPerson", "NaturalPerson")
_TYPE_CODE = {t: i for i, t in enumerate(EDGE_TYPES)}
_HASH_SEED = 20260101

#: Record properties analytics reads when present (others are kept as they are).
_RECORD_COLS = ("event_type", "date", "end_date", "status", "amount", "grade", "count", "capital",
                "reason", "authority", "case_no", "catalog", "severity")


class FrameError(ValueError):
    """Graph frames that do not follow the contract (missing columns, unknown node ids)."""


def parse_as_of(value: str | _dt.date | None) -> _dt.date:
    """The analysis date: a date, an ISO string, or today when empty.

    >>> parse_as_of("2024-06-30")
    datetime.date(2024, 6, 30)
    """
    if isinstance(value, _dt.date):
        return value
    if not value:
        return _dt.date.today()
    try:
        return _dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise FrameError(f"as_of must be a date like 2024-06-30, got {value!r}") from None


def resolve_as_of(net: "CreditNetwork", value: str | _dt.date | None) -> _dt.date:
    """The analysis date: ``value`` when given, else the newest record's date (never after today).

    Data observed at one moment (a snapshot, a synthetic city) is judged as of that moment.
    """
    if value:
        return parse_as_of(value)
    today = _dt.date.today()
    newest = net.records["date"].max() if net.records.height else None
    return min(newest, today) if isinstance(newest, _dt.date) else today


def _label_array(labels: pl.Series) -> np.ndarray:
    """Labels as a fixed-width numpy string array, converted once per distinct label."""
    labels = labels.cast(pl.Utf8).fill_null("")
    cats = sorted(labels.unique().to_list())
    if not cats:
        return np.zeros(0, dtype="<U1")
    codes = labels.replace_strict({c: i for i, c in enumerate(cats)}, return_dtype=pl.Int32).to_numpy()
    return np.array(cats)[codes]


def _as_date(col: pl.Series) -> pl.Series:
    if col.dtype == pl.Date:
        return col
    if col.dtype == pl.Datetime:
        return col.dt.date()
    if col.dtype == pl.Null:
        return col.cast(pl.Date)
    return col.cast(pl.Utf8).str.to_date(strict=False)


@dataclass
class CreditNetwork:
    """Integer-indexed view of the graph frames (see the module docstring)."""

    nodes: pl.DataFrame
    #: Node ids and display names as polars Series (numpy views: ``ids``, ``names``).
    id_series: pl.Series
    name_series: pl.Series
    #: Node labels as a fixed-width string array (vectorised comparisons).
    labels: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    etype: np.ndarray
    ratio: np.ndarray
    records: pl.DataFrame
    dropped_edges: int = 0
    _index: dict | None = field(default=None, repr=False)
    _ids: np.ndarray | None = field(default=None, repr=False)
    _names: np.ndarray | None = field(default=None, repr=False)
    _entity: np.ndarray | None = field(default=None, repr=False)
    _legal: np.ndarray | None = field(default=None, repr=False)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_frames(cls, nodes: pl.DataFrame, edges: pl.DataFrame) -> "CreditNetwork":
        """Index the frames; edges naming unknown nodes are dropped and counted."""
        for frame, cols, what in ((nodes, ("node_id", "label"), "nodes"), (edges, ("src", "dst", "type"), "edges")):
            missing = [c for c in cols if c not in frame.columns]
            if missing:
                raise FrameError(f"graph {what} frame lacks column(s) {', '.join(missing)}")
        if "name" not in nodes.columns:
            nodes = nodes.with_columns(pl.lit(None, pl.Utf8).alias("name"))
        # Ends are matched to nodes by a 64-bit hash of the id (several times faster than
        # joining on strings); when two distinct node ids share a hash, fall back to strings.
        h = nodes["node_id"].hash(seed=_HASH_SEED)
        if h.is_duplicated().any():
            nodes = nodes.unique("node_id", keep="first", maintain_order=True)
            h = nodes["node_id"].hash(seed=_HASH_SEED)
            exact = h.is_duplicated().any()
        else:
            exact = False
        nodes = nodes.with_row_index("_idx")
        n_idx = nodes["_idx"].cast(pl.Int64)
        ratio = edges["ratio"].cast(pl.Float64) if "ratio" in edges.columns else pl.Series([None] * edges.height, dtype=pl.Float64)
        t = edges["type"].replace_strict(_TYPE_CODE, default=-1, return_dtype=pl.Int8)
        if exact:  # pragma: no cover - needs a 64-bit hash collision
            key = nodes.lazy().select(pl.col("node_id"), pl.col("_idx").cast(pl.Int64))
            ends = (edges.lazy().select("src", "dst").with_row_index("_r")
                    .join(key.rename({"node_id": "src", "_idx": "s"}), on="src", how="left", maintain_order="none")
                    .join(key.rename({"node_id": "dst", "_idx": "d"}), on="dst", how="left", maintain_order="none"))
        else:
            key = pl.LazyFrame({"h": h, "i": n_idx})
            ends = (edges.lazy().select(pl.col("src").hash(seed=_HASH_SEED).alias("_hs"),
                                        pl.col("dst").hash(seed=_HASH_SEED).alias("_hd")).with_row_index("_r")
                    .join(key.rename({"h": "_hs", "i": "s"}), on="_hs", how="left", maintain_order="none")
                    .join(key.rename({"h": "_hd", "i": "d"}), on="_hd", how="left", maintain_order="none"))
        # Back in the frame's edge order: results must not depend on the join's thread timing.
        ends = ends.select("_r", "s", "d").sort("_r").collect()
        okm = (ends["s"].is_not_null() & ends["d"].is_not_null() & (t >= 0)).to_numpy()
        src = ends["s"].to_numpy()[okm].astype(np.int64)
        dst = ends["d"].to_numpy()[okm].astype(np.int64)
        etype = t.to_numpy()[okm].astype(np.int8)
        ok = pl.DataFrame({"s": src, "d": dst, "t": etype})
        dropped = int(edges.height - okm.sum())
        recs = cls._record_frame(nodes, ok)
        return cls(
            nodes=nodes.drop("_idx"),
            id_series=nodes["node_id"].cast(pl.Utf8),
            labels=_label_array(nodes["label"]),
            name_series=nodes["name"].cast(pl.Utf8).fill_null(""),
            src=src, dst=dst, etype=etype,
            ratio=ratio.fill_null(np.nan).to_numpy()[okm].astype(np.float64),
            records=recs,
            dropped_edges=dropped,
        )

    @staticmethod
    def _record_frame(nodes: pl.DataFrame, e: pl.DataFrame) -> pl.DataFrame:
        """CreditRecord properties with the index and id of the entity that has them."""
        has = e.filter(pl.col("t") == _TYPE_CODE["HAS_RECORD"]).select(pl.col("s").alias("owner"), pl.col("d").alias("_idx"))
        has = has.with_columns(nodes["node_id"].gather(has["owner"]).alias("owner_id"))
        recnodes = nodes.filter(pl.col("label") == "CreditRecord")
        cols = [pl.col("_idx").cast(pl.Int64), pl.col("node_id").alias("record_node")]
        for c in _RECORD_COLS:
            if c in recnodes.columns:
                cols.append(pl.col(c))
            else:
                cols.append(pl.lit(None).alias(c))
        r = recnodes.select(cols)
        r = r.with_columns(
            _as_date(r["date"]).alias("date"),
            _as_date(r["end_date"]).alias("end_date"),
            pl.col("event_type").cast(pl.Utf8),
            pl.col("status").cast(pl.Utf8),
            pl.col("grade").cast(pl.Utf8),
            pl.col("amount").cast(pl.Float64, strict=False),
            pl.col("capital").cast(pl.Float64, strict=False),
            pl.col("count").cast(pl.Float64, strict=False),
            pl.col("reason").cast(pl.Utf8),
            pl.col("authority").cast(pl.Utf8),
            pl.col("case_no").cast(pl.Utf8),
            # Named apart from the node property "catalog", which readers join onto records themselves.
            pl.col("catalog").cast(pl.Utf8).alias("source_catalog"),
            pl.col("severity").cast(pl.Float64, strict=False).alias("severity_spec"),
        ).drop("severity", "catalog")
        return has.join(r, on="_idx", how="inner").rename({"_idx": "record"})

    # ------------------------------------------------------------------ look-ups
    @property
    def n(self) -> int:
        return len(self.labels)

    @property
    def ids(self) -> np.ndarray:
        """Node ids as a numpy object array (made on first use)."""
        if self._ids is None:
            self._ids = self.id_series.to_numpy()
        return self._ids

    @property
    def names(self) -> np.ndarray:
        """Display names as a numpy object array ("" when unnamed; made on first use)."""
        if self._names is None:
            self._names = self.name_series.to_numpy()
        return self._names

    @property
    def entity_mask(self) -> np.ndarray:
        """True for LegalPerson and NaturalPerson nodes (computed once)."""
        if self._entity is None:
            self._entity = np.isin(self.labels, ENTITY_LABELS)
        return self._entity

    @property
    def legal_mask(self) -> np.ndarray:
        """True for LegalPerson nodes (computed once)."""
        if self._legal is None:
            self._legal = self.labels == "LegalPerson"
        return self._legal

    def index_of(self, node_ids) -> np.ndarray:
        """Node indexes of ``node_ids`` (-1 where unknown)."""
        if self._index is None:
            self._index = {v: i for i, v in enumerate(self.ids.tolist())}
        return np.array([self._index.get(v, -1) for v in node_ids], dtype=np.int64)

    def edges_of(self, *types: str) -> np.ndarray:
        """Boolean mask of the edges of the given types."""
        return np.isin(self.etype, [_TYPE_CODE[t] for t in types])

    def prop(self, name: str, dtype=pl.Float64) -> np.ndarray | None:
        """A node property as an array aligned with the node index, or None when absent."""
        if name not in self.nodes.columns:
            return None
        col = self.nodes[name]
        if dtype == pl.Date:
            return _as_date(col).to_numpy()
        return col.cast(dtype, strict=False).to_numpy()

    def describe(self, i: int) -> str:
        """Display name of node ``i``: its name, else its id."""
        return str(self.names[i] or self.ids[i])
