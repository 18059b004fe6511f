"""One query API, two backends: the embedded LadybugDB store and a Neo4j server.

The public API is small (:class:`GraphStore`): load frames, search, neighbourhood, paths,
ownership, sharing, export the frames, and read-only Cypher. The backends differ in
Cypher dialect and in how they load; everything that decides an *answer* (which rows
count, how they are ranked, cut and paged) lives here, in :class:`CypherStore`, so both
backends give the same answers to the same questions — the differential tests check it.

A backend supplies only:

* ``_rows(cypher, params)``: run an internal read query, return tuples;
* the dialect: ``LBL(x)`` (the node's label), ``TYP(r)`` (the relationship's type) and the
  path expressions, substituted into the shared query texts;
* ``load``, ``export_frames``, ``query``, ``counts``, ``close``.

Every value reaches the database as a query parameter; query texts are built only from
the model's own label and type names.

>>> rank_key("SHAREHOLDER_OF", 0.6) < rank_key("SHAREHOLDER_OF", 0.2) < rank_key("LOCATED_AT", None)
True
>>> split_edge_id("OFFICER_OF|N1|L2|董事")
('OFFICER_OF', 'N1', 'L2', '董事')
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Protocol, runtime_checkable

import polars as pl

from credgraph.graph.build import GraphFrames, keyed_hash, normalise_search, pinyin_forms
from credgraph.graph.model import ENTITY_LABELS, KEYED, NODE_LABELS, REL_TYPES
from credgraph.identifiers import id_from_15, id_is_valid, normalise_code, org_code_is_valid, uscc_is_valid

__all__ = [
    "GraphStore",
    "CypherStore",
    "StoreError",
    "QueryError",
    "QueryResult",
    "Neighbourhood",
    "open_store",
    "embedded_path",
    "rank_key",
    "split_edge_id",
    "TYPE_RANK",
    "LIST_PROPS",
    "list_to_json",
    "list_from_json",
    "decode_lists",
]

#: Order in which relationship types are shown: control first, then people, then shared hubs, then records.
TYPE_RANK = {t: i for i, t in enumerate(
    ("SHAREHOLDER_OF", "LEGAL_REP_OF", "BRANCH_OF", "OFFICER_OF", "AGENT_OF", "LOCATED_AT", "USES_PHONE",
     "HAS_RECORD"))}
_LABEL_RANK = {lab: i for i, lab in enumerate(("LegalPerson", "NaturalPerson", "Address", "Phone", "CreditRecord"))}


#: Properties that are lists of strings in the model (``record_ids``, ``names``). Both
#: backends store them as JSON array text (``["r1","r2"]``): writing a string costs both
#: servers far less than a list (a LadybugDB COPY half; Neo4j a fifth of a company node),
#: and analysts' Cypher sees the same text on either backend. The API returns lists.
LIST_PROPS = frozenset(p.name for spec in (*NODE_LABELS.values(), *REL_TYPES.values()) for p in spec.props
                       if p.dtype == "list")


def list_to_json(col: str) -> pl.Expr:
    """A list-of-strings column as JSON array text (null stays null).

    >>> pl.DataFrame({"ids": [["a", "b"], None]}).select(list_to_json("ids"))["ids"].to_list()
    ['["a","b"]', None]
    """
    text = pl.struct(pl.col(col)).struct.json_encode().str.strip_prefix(f'{{"{col}":').str.strip_suffix("}")
    return pl.when(pl.col(col).is_null()).then(None).otherwise(text).alias(col)


def list_from_json(col: str) -> pl.Expr:
    """The inverse of :func:`list_to_json`."""
    return pl.col(col).str.json_decode(pl.List(pl.Utf8)).alias(col)


def decode_lists(values: dict) -> dict:
    """``values`` (a node's or relationship's properties) with its JSON-stored lists as lists."""
    import json

    for k in LIST_PROPS & values.keys():
        if isinstance(values[k], str) and values[k].startswith("["):
            values[k] = json.loads(values[k])
    return values


class StoreError(RuntimeError):
    """The store cannot be opened or reached; the message says how to fix it."""


class QueryError(ValueError):
    """An analyst's query was refused (a write, a syntax error, a timeout)."""


@dataclass
class QueryResult:
    """Rows of a read-only query: a frame, and whether the row limit cut it."""

    frame: pl.DataFrame
    truncated: bool
    row_limit: int
    seconds: float
    #: True when the result was cut because its rows reached ``graph.query_max_bytes``.
    bytes_cut: bool = False


@dataclass
class Neighbourhood:
    """One page of the ranked neighbourhood of an entity.

    ``nodes``: node_id, label, name, distance (1 or 2), via (the middle node of a 2-hop
    neighbour), type (of the relationship reaching it), ratio; ranked. ``edges``: the
    relationships connecting the page's nodes to the centre (src, dst, type, ratio, role,
    edge_id). ``total``: how many distinct neighbours there are in all.
    """

    center: str
    nodes: pl.DataFrame
    edges: pl.DataFrame
    total: int
    offset: int
    limit: int
    truncated_scan: bool = False


def rank_key(rel_type: str, ratio: float | None) -> tuple:
    """Sort key of a relationship reaching a neighbour: type order, then larger ratio first."""
    return TYPE_RANK.get(rel_type, 99), -(ratio if ratio is not None else -1.0)


def split_edge_id(edge_id: str) -> tuple[str, str, str, str]:
    """(type, src, dst, role) of an edge id ``TYPE|src|dst[|role]`` (node ids never hold ``|``)."""
    parts = edge_id.split("|", 3)
    return parts[0], parts[1], parts[2], parts[3] if len(parts) > 3 else ""


@runtime_checkable
class GraphStore(Protocol):
    """What every backend offers; see :class:`CypherStore` for the meaning of each call."""

    backend: str

    def load(self, frames: GraphFrames, progress=None) -> dict[str, int]: ...
    def counts(self) -> dict[str, int]: ...
    def label_of(self, node_id: str) -> str | None: ...
    def node(self, node_id: str) -> dict | None: ...
    def search(self, text: str, limit: int = 20) -> pl.DataFrame: ...
    def neighbourhood(self, entity_id: str, hops: int = 1, rel_types: Iterable[str] | None = None,
                      limit: int | None = None, offset: int = 0) -> Neighbourhood: ...
    def paths(self, a: str, b: str, max_hops: int = 3, limit: int | None = None) -> pl.DataFrame: ...
    def ownership(self, entity_id: str, direction: str = "up", max_depth: int = 5) -> pl.DataFrame: ...
    def sharing(self, entity_id: str) -> pl.DataFrame: ...
    def export_frames(self) -> tuple[pl.DataFrame, pl.DataFrame]: ...
    def query(self, cypher: str, params: dict | None = None, row_limit: int | None = None,
              timeout: float | None = None) -> QueryResult: ...
    def close(self) -> None: ...


_CODE = re.compile(r"[0-9A-Z]+")
_CJK = re.compile(r"[\u3400-\u9fff]")
#: A two-character piece found in more names than this (深圳, 公司, 有限, 科技) says nothing about
#: which company was meant, so the fuzzy pass ignores it (checked per label with a LIMIT).
FUZZY_GRAM_MAX_DF = 1000


def edge_id_cypher(r: str, typ: str, ends: str) -> str:
    """Cypher computing :func:`credgraph.graph.model.edge_id` of relationship variable ``r``, given
    the dialect's expression of its type and of ``src|dst``.

    >>> edge_id_cypher("r", "type(r)", "x")[:22]
    "type(r) + '|' + x + CA"
    """
    out = f"{typ} + '|' + {ends}"
    for k, types in KEYED.items():
        out += f" + CASE WHEN {typ} IN {types!r} AND {r}.{k} IS NOT NULL AND {r}.{k} <> '' THEN '|' + {r}.{k} ELSE '' END"
    return out


class CypherStore:
    """The query API over any Cypher backend; subclasses give ``_rows`` and the dialect."""

    backend = "abstract"
    #: dialect (standard Cypher here): label of a node variable, type of a relationship variable
    #: (``{}`` is the variable), edge id of relationship ``{0}`` joining nodes ``{1}`` and ``{2}``
    #: (either way round; no store keeps it, see :func:`edge_id_cypher`).
    LBL = "labels({})[0]"
    TYP = "type({})"
    EID = edge_id_cypher("{0}", "type({0})", "startNode({0}).node_id + '|' + endNode({0}).node_id")
    #: predicate: path ``{0}`` visits no node twice (variable-length patterns only keep links
    #: distinct; counting the other rows against ``max_scan_rows`` lost real paths at 6 links)
    SIMPLE = "all(n IN nodes({0}) WHERE single(m IN nodes({0}) WHERE m = n))"

    def __init__(self, cfg) -> None:
        self.cfg = cfg
        self.max_rows = cfg.graph.max_scan_rows

    @property
    def hash_key(self) -> str:
        """The workspace key of the application's keyed index (never sent to the database)."""
        from credgraph.security.secrets import hash_key

        return hash_key(self.cfg)

    # ------------------------------------------------------------- application side
    def _after_load(self, frames: GraphFrames) -> None:
        """Write the application's keyed index (exact look-up by ID number or phone) beside the graph."""
        from credgraph.graph.keyed import write_keyed

        write_keyed(self.cfg, frames.keyed)

    def _private(self, frames: tuple[pl.DataFrame, pl.DataFrame]) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Exported frames with persons' ``id_hash`` from the keyed index (for the application's analytics)."""
        from credgraph.graph.keyed import with_id_hash

        nodes, edges = frames
        return with_id_hash(self.cfg, nodes), edges

    def check_analyst_query(self, cypher: str, row_limit: int | None, timeout: float | None) -> tuple[int, float]:
        """The gate (:mod:`credgraph.security.gate`) and the limits of an analyst's query; QueryError when refused."""
        from credgraph.security.gate import GateError, check_query

        try:
            check_query(cypher)
        except GateError as exc:
            raise QueryError(str(exc)) from None
        row_limit = self.cfg.graph.query_row_limit if row_limit is None else row_limit
        timeout = self.cfg.graph.query_timeout_s if timeout is None else timeout
        if not isinstance(row_limit, int) or row_limit < 1:
            raise QueryError(f"the row limit must be a whole number of at least 1, not {row_limit!r}")
        if not (isinstance(timeout, (int, float)) and 0 < timeout <= 3600):
            raise QueryError(f"the timeout must be a number of seconds above 0 (at most 3600), not {timeout!r}")
        return row_limit, float(timeout)

    # --------------------------------------------------------------- backend primitives
    def _rows(self, cypher: str, params: dict | None = None) -> list[tuple]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _q(self, text: str) -> str:
        """Substitute the dialect into a shared query text: LBL(x), TYP(r), EID(r, a, b) (r joins a and b)."""
        text = re.sub(r"LBL\((\w+)\)", lambda m: self.LBL.format(m.group(1)), text)
        text = re.sub(r"EID\((\w+), (\w+), (\w+)\)", lambda m: self.EID.format(*m.groups()), text)
        return re.sub(r"TYP\((\w+)\)", lambda m: self.TYP.format(m.group(1)), text)

    def _path_cols(self, p: str) -> str:
        """Return expressions: node ids, node labels, node names, rel types, rel ratios, edge ids of path ``p``."""
        return (f"[n IN nodes({p}) | n.node_id], [n IN nodes({p}) | labels(n)[0]], [n IN nodes({p}) | n.name], "
                f"[r IN relationships({p}) | type(r)], [r IN relationships({p}) | r.ratio], "
                f"[r IN relationships({p}) | {self.EID.format('r', '', '')}]")

    def _path_rows(self, rows: list[tuple]) -> list[tuple]:
        """The rows of ``_path_cols`` as (node ids, labels, names, types, ratios, edge ids)."""
        return rows

    def _var_length(self, types: str, lo: int, hi: int) -> str:
        """A variable-length relationship pattern body, e.g. ``:SHAREHOLDER_OF*1..3``."""
        return f"{types}*{lo}..{hi}"

    def _node_values(self, label: str, values: dict) -> dict:
        """A node's properties as the model types them (lists are stored as JSON text)."""
        return decode_lists(values)

    # ----------------------------------------------------------------------- lookups
    def label_of(self, node_id: str) -> str | None:
        """The label of a node, or None when there is no such node."""
        prefixes = {"addr:": "Address", "phone:": "Phone", "rec:": "CreditRecord"}
        for p, lab in prefixes.items():
            if node_id.startswith(p):
                candidates: tuple[str, ...] = (lab,)
                break
        else:
            candidates = ENTITY_LABELS
        for lab in candidates:
            if self._rows(f"MATCH (n:{lab} {{node_id: $id}}) RETURN n.node_id", {"id": node_id}):
                return lab
        return None

    def _need(self, node_id: str) -> str:
        lab = self.label_of(node_id)
        if lab is None:
            raise KeyError(f"no node with id {node_id!r} in the graph")
        return lab

    def node(self, node_id: str) -> dict | None:
        """All model properties of one node, or None."""
        lab = self.label_of(node_id)
        if lab is None:
            return None
        props = [p.name for p in NODE_LABELS[lab].props]
        rows = self._rows(f"MATCH (n:{lab} {{node_id: $id}}) RETURN " + ", ".join(f"n.{p}" for p in props),
                          {"id": node_id})
        out = self._node_values(lab, dict(zip(props, rows[0])))
        out["label"] = lab
        return out

    # ------------------------------------------------------------------------ search
    def search(self, text: str, limit: int = 20) -> pl.DataFrame:
        """Entities by name (substring, variants, traditional/simplified, full/half width), code or pinyin.

        * a USCC, organisation code or registration number finds the company holding it;
          a full resident ID number finds the person (through its keyed hash);
        * Chinese text finds names containing it, and names that sound the same (same pinyin);
        * Latin letters find names by pinyin (``huaqiang``) or pinyin initials (``hqdz``);
        * when that finds fewer than ``limit`` and neither a code nor the exact name, names
          sharing two-character pieces with the text are scored by similarity (a typo still
          finds the company); pieces common to many names (深圳, 公司) are ignored.

        Ranked: exact code, exact name, name containing the text, same sound, initials,
        fuzzy; then by similarity to the name. Columns: node_id, label, name, match, score.
        """
        from rapidfuzz import fuzz

        empty = pl.DataFrame(schema={"node_id": pl.Utf8, "label": pl.Utf8, "name": pl.Utf8, "match": pl.Utf8,
                                     "score": pl.Float64})
        if not text or not text.strip():
            return empty
        found: dict[str, tuple] = {}  # node_id -> (priority, label, name, match, score)
        q = normalise_search(text)
        qp, qi = pinyin_forms(q) if q else ("", "")

        def score(match: str, row) -> float:
            _, _, stext, spy, sini = row
            segs, probe = {"pinyin": (spy, qp if _CJK.search(q) else q), "initials": (sini, q)}.get(
                match, (stext, q))
            return max((float(fuzz.ratio(probe, s)) for s in (segs or "").split("|")), default=0.0)

        def add(rows, label, prio, match):
            for row in rows:
                nid, name = row[0], row[1]
                if prio == 2 and q in (row[2] or "").split("|"):
                    prio_, match_ = 1, "exact name"
                else:
                    prio_, match_ = prio, match
                sc = 100.0 if prio_ <= 1 else round(score(match_, row), 1)
                if nid not in found or found[nid][:2] > (prio_, -sc):
                    found[nid] = (prio_, -sc, label, name, match_)

        code = normalise_code(text)
        if _CODE.fullmatch(code) and len(code) in (9, 15, 18):
            self._search_codes(code, add)
        cap = self.max_rows
        ret = "RETURN n.node_id, n.name, n.search_text, n.search_pinyin, n.search_initials ORDER BY n.node_id LIMIT $cap"
        if q:
            for lab in ENTITY_LABELS:
                add(self._rows(f"MATCH (n:{lab}) WHERE n.search_text CONTAINS $q {ret}", {"q": q, "cap": cap}),
                    lab, 2, "name")
                if _CJK.search(q):
                    add(self._rows(f"MATCH (n:{lab}) WHERE n.search_pinyin CONTAINS $p {ret}", {"p": qp, "cap": cap}),
                        lab, 3, "pinyin")
                elif q.isascii() and q.isalpha():
                    add(self._rows(f"MATCH (n:{lab}) WHERE n.search_pinyin CONTAINS $q {ret}",
                                   {"q": q, "cap": cap}), lab, 3, "pinyin")
                    if len(q) >= 2:
                        add(self._rows(f"MATCH (n:{lab}) WHERE n.search_initials CONTAINS $q {ret}",
                                       {"q": q, "cap": cap}), lab, 4, "initials")
            exact = any(v[0] <= 1 for v in found.values())  # a code or the very name: no guessing
            if len(found) < limit and not exact and _CJK.search(q) and len(q) >= 3:
                self._search_fuzzy(q, found)
        if not found:
            return empty
        rows = sorted((v[0], v[1], nid, v[2], v[3], v[4]) for nid, v in found.items())[:limit]
        return pl.DataFrame([(r[2], r[3], r[4], r[5], -r[1]) for r in rows], schema=empty.schema, orient="row")

    def _search_fuzzy(self, q: str, found: dict) -> None:
        """Names sharing a two-character piece with ``q``, scored by partial similarity (>= 70).

        Pieces found in more than :data:`FUZZY_GRAM_MAX_DF` names of a label are skipped for
        that label: they would bring back most of the city and cannot tell names apart.
        Below that limit a piece's query returns every name holding it, so the result does
        not depend on the order the backend scans in.
        """
        from rapidfuzz import fuzz

        grams = sorted({q[i:i + 2] for i in range(len(q) - 1)})[:8]
        ret = "RETURN n.node_id, n.name, n.search_text LIMIT $cap"
        for lab in ENTITY_LABELS:
            for g in grams:
                rows = self._rows(f"MATCH (n:{lab}) WHERE n.search_text CONTAINS $g {ret}",
                                  {"g": g, "cap": FUZZY_GRAM_MAX_DF + 1})
                if len(rows) > FUZZY_GRAM_MAX_DF:
                    continue
                for nid, name, stext in rows:
                    if nid in found:
                        continue
                    # partial: the typed text against its best-aligned piece of the name
                    sc = round(max((float(fuzz.partial_ratio(q, x)) for x in (stext or "").split("|")),
                                   default=0.0), 1)
                    if sc >= 70:
                        found[nid] = (5, -sc, lab, name, "fuzzy")

    def _search_codes(self, code: str, add) -> None:
        ret = "RETURN n.node_id, n.name, n.search_text, n.search_pinyin, n.search_initials"
        if len(code) == 18 and uscc_is_valid(code):
            add(self._rows(f"MATCH (n:LegalPerson) WHERE n.uscc = $c {ret}", {"c": code}), "LegalPerson", 0, "uscc")
            add(self._rows(f"MATCH (n:LegalPerson) WHERE n.org_code = $c {ret}", {"c": code[8:17]}),
                "LegalPerson", 0, "org code")
        if len(code) == 9 and org_code_is_valid(code):
            add(self._rows(f"MATCH (n:LegalPerson) WHERE n.org_code = $c {ret}", {"c": code}),
                "LegalPerson", 0, "org code")
        if len(code) == 15:
            add(self._rows(f"MATCH (n:LegalPerson) WHERE n.reg_no = $c {ret}", {"c": code}), "LegalPerson", 0,
                "reg no")
        full = code
        if len(code) == 15:
            try:
                full = id_from_15(code)
            except ValueError:
                full = ""
        if len(full) == 18 and id_is_valid(full):
            from credgraph.graph.keyed import lookup

            ids = lookup(self.cfg, "id", keyed_hash(full, self.hash_key))
            if ids:
                add(self._rows(f"MATCH (n:NaturalPerson) WHERE n.node_id IN $ids {ret}", {"ids": ids}),
                    "NaturalPerson", 0, "id number")

    # ----------------------------------------------------------------- neighbourhood
    def _type_pattern(self, rel_types: Iterable[str] | None) -> str:
        if rel_types is None:
            return ""
        types = list(dict.fromkeys(rel_types))
        bad = [t for t in types if t not in REL_TYPES]
        if bad:
            raise ValueError(f"unknown relationship type(s) {', '.join(bad)}; known: {', '.join(REL_TYPES)}")
        return ":" + "|".join(types) if types else ""

    def neighbourhood(self, entity_id: str, hops: int = 1, rel_types: Iterable[str] | None = None,
                      limit: int | None = None, offset: int = 0) -> Neighbourhood:
        """The nodes within ``hops`` (1 or 2) links of a node, ranked, one page at a time.

        Ranking: nearer first; then by the relationship reaching the node (shareholding with
        the larger ratio first, legal representative, branch, officer, agent, shared address,
        shared phone, record); then by label and id. ``total`` counts every neighbour, so a
        supernode (an address shared by thousands of firms) shows "50 of 4,812".
        """
        if hops not in (1, 2):
            raise ValueError("hops must be 1 or 2")
        limit = self.cfg.graph.neighbourhood_limit if limit is None else limit
        lab = self._need(entity_id)
        tp = self._type_pattern(rel_types)
        cap = self.max_rows
        ret = "b.node_id, LBL(b), b.name, TYP(r), r.ratio, r.role, EID(r, a, b)"
        one = self._rows(self._q(
            f"MATCH (a:{lab} {{node_id: $id}})-[r{tp}]-(b) RETURN {ret} LIMIT $cap"), {"id": entity_id, "cap": cap})
        truncated = len(one) >= cap
        best: dict[str, tuple] = {}  # node -> (key, distance, via, label, name, type, ratio)
        edges: dict[str, tuple] = {}
        for nid, blab, name, typ, ratio, role, eid in one:
            key = (1, *rank_key(typ, ratio), _LABEL_RANK.get(blab, 9), nid, eid)
            if nid not in best or key < best[nid][0]:
                best[nid] = (key, 1, None, blab, name, typ, ratio, eid)
            edges[eid] = (typ, ratio, role)
        two_edges: dict[str, list] = {}
        if hops == 2:
            ret2 = "m.node_id, b.node_id, LBL(b), b.name, TYP(r), r.ratio, r.role, EID(r, m, b)"
            rows = self._rows(self._q(
                f"MATCH (a:{lab} {{node_id: $id}})-[r1{tp}]-(m)-[r{tp}]-(b) WHERE b.node_id <> $id "
                f"RETURN {ret2} LIMIT $cap"), {"id": entity_id, "cap": cap})
            truncated = truncated or len(rows) >= cap
            for mid, nid, blab, name, typ, ratio, role, eid in rows:
                key = (2, *rank_key(typ, ratio), _LABEL_RANK.get(blab, 9), nid, mid, eid)
                if nid not in best or key < best[nid][0]:
                    best[nid] = (key, 2, mid, blab, name, typ, ratio, eid)
                edges[eid] = (typ, ratio, role)
                two_edges.setdefault(nid, []).append(eid)
        total = len(best)
        if truncated:
            total = self._count_neighbours(lab, entity_id, tp, hops)
        ranked = sorted(best.items(), key=lambda kv: kv[1][0])
        page = ranked[offset: offset + limit]
        nodes = pl.DataFrame(
            [(nid, v[3], v[4], v[1], v[2], v[5], v[6]) for nid, v in page],
            schema={"node_id": pl.Utf8, "label": pl.Utf8, "name": pl.Utf8, "distance": pl.Int64, "via": pl.Utf8,
                    "type": pl.Utf8, "ratio": pl.Float64}, orient="row")
        keep = set()
        for nid, v in page:
            keep.add(v[7])
            if v[1] == 2:  # the link from the centre to the middle node too
                mid = v[2]
                keep.add(best[mid][7] if mid in best and best[mid][1] == 1 else v[7])
        erows = []
        for eid in sorted(keep):
            typ, src, dst, _ = split_edge_id(eid)
            t, ratio, role = edges[eid]
            erows.append((src, dst, t, ratio, role, eid))
        edge_frame = pl.DataFrame(erows, schema={"src": pl.Utf8, "dst": pl.Utf8, "type": pl.Utf8,
                                                 "ratio": pl.Float64, "role": pl.Utf8, "edge_id": pl.Utf8},
                                  orient="row")
        return Neighbourhood(entity_id, nodes, edge_frame, total, offset, limit, truncated)

    def _count_neighbours(self, lab: str, entity_id: str, tp: str, hops: int) -> int:
        q = (f"MATCH (a:{lab} {{node_id: $id}})-[{self._var_length(tp, 1, hops)}]-(b) WHERE b.node_id <> $id "
             "RETURN count(DISTINCT b.node_id)")
        return int(self._rows(q, {"id": entity_id})[0][0])

    # ------------------------------------------------------------------------- paths
    def paths(self, a: str, b: str, max_hops: int = 3, limit: int | None = None) -> pl.DataFrame:
        """Every simple path (no node twice) between two nodes with at most ``max_hops`` links, any direction.

        Shortest first, then by the ids along the path. Columns: length, node_ids, labels,
        names, types (of the links), directions ('>' when the link points along the path,
        '<' against it), ratios, edge_ids. Lengths are asked one at a time, shortest first,
        and the longer ones only while fewer than ``limit`` paths are found, so the first
        ``limit`` paths are the shortest ones even when longer ones are countless.
        """
        if not 1 <= max_hops <= 6:
            raise ValueError("max_hops must be between 1 and 6")
        limit = self.cfg.graph.path_limit if limit is None else limit
        la, lb = self._need(a), self._need(b)
        found: dict[tuple, tuple] = {}
        for k in range(1, max_hops + 1):
            rows = self._rows(
                f"MATCH p = (a:{la} {{node_id: $a}})-[{self._var_length('', k, k)}]-(b:{lb} {{node_id: $b}}) "
                f"WHERE {self.SIMPLE.format('p')} RETURN {self._path_cols('p')} LIMIT $cap",
                {"a": a, "b": b, "cap": self.max_rows})
            self._add_paths(self._path_rows(rows), found)
            if (limit is not None and len(found) >= limit) or len(rows) >= self.max_rows:
                break  # enough shortest paths, or this length alone fills the scan
        return self._path_frame(found, limit)

    @staticmethod
    def _add_paths(rows, found: dict) -> None:
        """Add the simple paths among ``rows`` (node ids, labels, names, types, ratios, edge ids) to ``found``."""
        for ids, labels, names, types, ratios, eids in rows:
            if len(set(ids)) != len(ids):
                continue  # not a simple path
            dirs = [">" if split_edge_id(eid)[1] == ids[i] else "<" for i, eid in enumerate(eids)]
            found[tuple(eids)] = (len(eids), list(ids), list(labels), list(names), list(types), dirs,
                                  [None if r is None else float(r) for r in ratios], list(eids))

    @staticmethod
    def _path_frame(found: dict, limit: int | None) -> pl.DataFrame:
        """The paths of ``found`` ranked (shortest, then by node and edge ids) and cut to ``limit``."""
        ranked = sorted(found.values(), key=lambda v: (v[0], v[1], v[7]))
        if limit is not None:
            ranked = ranked[:limit]
        schema = {"length": pl.Int64, "node_ids": pl.List(pl.Utf8), "labels": pl.List(pl.Utf8),
                  "names": pl.List(pl.Utf8), "types": pl.List(pl.Utf8), "directions": pl.List(pl.Utf8),
                  "ratios": pl.List(pl.Float64), "edge_ids": pl.List(pl.Utf8)}
        return pl.DataFrame(ranked, schema=schema, orient="row")

    # --------------------------------------------------------------------- ownership
    def ownership(self, entity_id: str, direction: str = "up", max_depth: int = 5) -> pl.DataFrame:
        """Shareholding chains from an entity: ``up`` to who owns it, ``down`` to what it owns.

        One row per chain (no entity twice): the far end (node_id, name, label), depth, the
        ratios along the chain (from the entity outward) and their product ``ratio`` (null
        when a link has no ratio). Shallow first, then larger ratio. The sum of ``ratio``
        over the chains reaching one holder is its integrated (indirect) share.
        """
        if direction not in ("up", "down"):
            raise ValueError("direction must be 'up' or 'down'")
        if not 1 <= max_depth <= 10:
            raise ValueError("max_depth must be between 1 and 10")
        lab = self._need(entity_id)
        arrow = ("<-[{}]-" if direction == "up" else "-[{}]->").format(
            self._var_length(":SHAREHOLDER_OF", 1, max_depth))
        rows = self._rows(f"MATCH p = (a:{lab} {{node_id: $id}}){arrow}(b) RETURN {self._path_cols('p')} LIMIT $cap",
                          {"id": entity_id, "cap": self.max_rows})
        out = []
        for ids, labels, names, _types, ratios, _eids in self._path_rows(rows):
            if len(set(ids)) != len(ids):
                continue
            rs = [None if r is None else float(r) for r in ratios]
            prod = None
            if all(r is not None for r in rs):
                prod = 1.0
                for r in rs:
                    prod *= r
            out.append((ids[-1], names[-1], labels[-1], len(rs), rs, prod, list(ids)))
        out.sort(key=lambda v: (v[3], -(v[5] if v[5] is not None else -1.0), v[6]))
        return pl.DataFrame(out, schema={"node_id": pl.Utf8, "name": pl.Utf8, "label": pl.Utf8, "depth": pl.Int64,
                                         "ratios": pl.List(pl.Float64), "ratio": pl.Float64,
                                         "path": pl.List(pl.Utf8)}, orient="row")

    # ----------------------------------------------------------------------- sharing
    def sharing(self, entity_id: str) -> pl.DataFrame:
        """Entities sharing an address or a phone with this one (the shell-company pattern).

        Columns: node_id, label, name, via (the Address or Phone node), via_kind
        (address/phone), via_name (the address, or the masked phone); by kind, hub, id.
        """
        lab = self._need(entity_id)
        rows = self._rows(self._q(
            f"MATCH (a:{lab} {{node_id: $id}})-[:LOCATED_AT|USES_PHONE]->(h)<-[:LOCATED_AT|USES_PHONE]-(b) "
            "WHERE b.node_id <> $id RETURN DISTINCT b.node_id, LBL(b), b.name, h.node_id, LBL(h), h.name LIMIT $cap"),
            {"id": entity_id, "cap": self.max_rows})
        out = sorted({(("address" if hl == "Address" else "phone"), h, nid, bl, name, hn)
                      for nid, bl, name, h, hl, hn in rows})
        return pl.DataFrame([(nid, bl, name, h, kind, hn) for kind, h, nid, bl, name, hn in out],
                            schema={"node_id": pl.Utf8, "label": pl.Utf8, "name": pl.Utf8, "via": pl.Utf8,
                                    "via_kind": pl.Utf8, "via_name": pl.Utf8}, orient="row")

    # --------------------------------------------------------------------- counting
    def counts(self) -> dict[str, int]:
        """Nodes per label and relationships per type."""
        out = {}
        for lab in NODE_LABELS:
            out[lab] = int(self._rows(f"MATCH (n:{lab}) RETURN count(n)")[0][0])
        for t in REL_TYPES:
            out[t] = int(self._rows(f"MATCH ()-[r:{t}]->() RETURN count(r)")[0][0])
        return out

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:  # pragma: no cover - overridden
        pass


def row_bytes(row) -> int:
    """Approximate size of one result row as text (what the byte limit of analysts' results counts)."""
    import json

    return len(json.dumps(list(row), ensure_ascii=False, default=str).encode("utf-8"))


def rows_to_frame(columns: list[str], rows: list[list[Any]]) -> pl.DataFrame:
    """A frame from query rows whose values may be of mixed types (mixed columns become text)."""
    import json

    data = {}
    for i, c in enumerate(columns):
        vals = [r[i] for r in rows]
        name = c
        k = 1
        while name in data:
            k += 1
            name = f"{c}_{k}"
        try:
            data[name] = pl.Series(name, vals, strict=True)
        except Exception:  # noqa: BLE001 - mixed types: show them as text
            data[name] = pl.Series(name, [None if v is None else v if isinstance(v, str)
                                          else json.dumps(v, ensure_ascii=False, default=str) for v in vals],
                                   dtype=pl.Utf8)
    return pl.DataFrame(data) if data else pl.DataFrame()


def embedded_path(cfg):
    """Folder of the embedded store: ``<workspace>/graph/ladybug``."""
    return cfg.workspace_path / "graph" / "ladybug"


def open_store(cfg, read_only: bool = False) -> CypherStore:
    """The configured backend: the embedded store unless ``graph.backend = "neo4j"``.

    ``read_only`` opens the embedded store without write access (analysts, dashboard);
    Neo4j stores always read analysts' queries through read-only sessions.
    """
    backend = cfg.graph.backend
    if backend == "neo4j":
        from credgraph.graph.neo4j_store import Neo4jStore

        return Neo4jStore(cfg, read_only=read_only)
    if backend == "embedded":
        from credgraph.graph.ladybug_store import LadybugStore

        return LadybugStore(cfg, embedded_path(cfg), read_only=read_only)
    raise StoreError(f"graph.backend is {backend!r}; use \"embedded\" or \"neo4j\"")
