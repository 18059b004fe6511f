"""Data access of the dashboard: every page asks a :class:`Workbench`, never a stage directly.

One Workbench serves one workspace for the life of the Streamlit server (cached with
``st.cache_resource``; see :func:`workbench`). It holds what every page shares (the store,
the analytics, id and name look-ups, the warm-up); each concern is a small object of
:mod:`credgraph.dashboard.services` on it: ``w.find`` (search, resolving what a user types),
``w.profiles``, ``w.network`` (canvas, paths, ownership, Cypher), ``w.lists`` (inspection,
shells, overview) and ``w.review``. Together they call only the stages' public APIs:

* the graph store (:func:`credgraph.graph.open_store`, read-only): search, neighbourhood,
  paths, ownership, sharing, counts, read-only Cypher;
* analytics over the store's frames (:mod:`credgraph.analytics`): propagated risk with its
  sources, grades with their explanation, shell clusters, ultimate controllers and
  beneficial owners — read from what ``credgraph analyse`` stored for this very graph
  generation (:mod:`credgraph.analytics.results`), else computed here on a small graph
  (``dashboard.compute_limit``), else the page names the command to run; loaded in a
  background thread started with the server, so the first page does not wait for all of
  it; one entity's risk sources are explained on demand from the finished propagation
  (``explain_risk``); inspection lists are drawn here;
* answers asked again (searches, risk sources, inspection lists and their files, the review
  queue's order) are kept, so a page's rerun or another visitor does not recompute them;
* resolution's outputs (:func:`credgraph.resolution.load_resolution`) for the review
  queue, and :func:`credgraph.resolution.add_judgement` to record decisions, which the next
  ``credgraph resolve`` honours.

Everything a page shows goes through :mod:`credgraph.dashboard.privacy` (ID numbers and
phones masked). Store calls are serialised with a lock: the embedded database handle is
shared by every browser session of the server.
"""

from __future__ import annotations

import dataclasses
import gc
import io
import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np
import polars as pl

from credgraph.config import Config
from credgraph.dashboard.graphview import split_edge_id
from credgraph.dashboard.privacy import mask_frame, mask_json_text, mask_record

__all__ = [
    "CONFIG_ENV",
    "Analysis",
    "DashboardError",
    "Profile",
    "Workbench",
    "config_from_env",
    "config_to_json",
    "config_from_json",
    "workbench",
    "graph_from_result",
]

log = logging.getLogger("credgraph.dashboard")

#: Environment variable through which :func:`credgraph.dashboard.launch` hands the effective
#: configuration (as JSON) to the Streamlit process.
CONFIG_ENV = "CREDGRAPH_DASHBOARD_CONFIG"

ENTITY_KINDS = ("LegalPerson", "NaturalPerson")
#: Relationship types that make two entities related parties (not hubs or records).
PARTY_TYPES = ("SHAREHOLDER_OF", "LEGAL_REP_OF", "OFFICER_OF", "BRANCH_OF", "AGENT_OF")


class DashboardError(RuntimeError):
    """Something the user can fix or should know; the page shows the message as it is."""


# ------------------------------------------------------------------------------ config
def config_to_json(cfg: Config) -> str:
    """The whole configuration as JSON (handed to the Streamlit process)."""
    return json.dumps(cfg.as_dict(), ensure_ascii=False, default=str)


def config_from_json(text: str) -> Config:
    """Rebuild a Config from :func:`config_to_json` output (unknown keys are ignored)."""
    cfg = Config()
    for section, table in json.loads(text).items():
        sec = getattr(cfg, section, None)
        if sec is None or not dataclasses.is_dataclass(sec):
            continue
        names = {f.name for f in dataclasses.fields(sec)}
        for k, v in table.items():
            if k in names:
                setattr(sec, k, tuple(v) if isinstance(getattr(sec, k), tuple) else v)
    return cfg


def config_from_env() -> Config:
    """The configuration handed over by ``launch``, else the usual credgraph.toml + environment."""
    text = os.environ.get(CONFIG_ENV)
    if text:
        return config_from_json(text)
    from credgraph.config import load_config

    return load_config()


# ---------------------------------------------------------------------------- results
@dataclass
class Analysis:
    """Analytics results over the whole graph, computed once per server."""

    net: Any  # credgraph.analytics.CreditNetwork
    edges: pl.DataFrame  # the store's edge frame (src, dst, type, ratio, role, edge_id, ...)
    risk: Any  # RiskResult
    grades: Any  # GradeResult
    shells: Any  # ShellResult
    as_of: Any
    seconds: dict[str, float] = field(default_factory=dict)
    _controllers: pl.DataFrame | None = None
    _owners: pl.DataFrame | None = None
    risk_of: dict[str, float] = field(default_factory=dict)
    grade_of: dict[str, str] = field(default_factory=dict)
    #: Where the results come from (the analytics stage's stored results, or computed here).
    origin: str = ""


@dataclass
class Profile:
    """Everything the entity profile shows (all personal data already masked)."""

    node_id: str
    kind: str
    identity: dict
    grade: dict | None
    contributions: pl.DataFrame
    risk: dict
    sources: pl.DataFrame
    timeline: pl.DataFrame
    related: pl.DataFrame
    sharing: pl.DataFrame
    controller: dict | None
    owners: pl.DataFrame
    controls: pl.DataFrame
    shell: dict | None
    as_of: Any = None
    #: True when the risk sources still need explaining (:meth:`Workbench.risk_sources`).
    sources_pending: bool = False
    #: The credit report's header: legal representative, address, masked phone, status, capital, …
    header: dict = field(default_factory=dict)
    #: 风险扫描: category (自身风险 / 关联风险 / 历史风险), event label, count.
    risk_scan: pl.DataFrame = field(default_factory=pl.DataFrame)
    #: The grade's reasons in Chinese: indicator, points, and the records behind it.
    reasons: list = field(default_factory=list)


class RowIndex:
    """Row numbers of a frame sorted by one column's values: the rows holding a value are one
    binary search away (nulls left out)."""

    def __init__(self, frame: pl.DataFrame, column: str) -> None:
        self.frame = frame  # kept: the index is valid for this very frame
        s = frame.select(pl.col(column).alias("k"), pl.int_range(pl.len(), dtype=pl.UInt32).alias("i")) \
            .drop_nulls("k").sort("k", "i")
        self.keys: pl.Series = s["k"]
        self.order: pl.Series = s["i"]

    def rows(self, value) -> pl.Series:
        """Row numbers (ascending) where the column equals ``value``."""
        lo = int(self.keys.search_sorted(value, side="left"))
        hi = int(self.keys.search_sorted(value, side="right"))
        return self.order.slice(lo, hi - lo)


# ------------------------------------------------------------------------------ workbench
class Workbench:
    """The dashboard's access to one workspace (see the module docstring)."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self._store = None
        self._store_lock = threading.RLock()
        self._analysis: Analysis | None = None
        self._analysis_error: str | None = None
        self._analysis_lock = threading.Lock()
        self._counts: dict[str, int] | None = None
        self._warm: threading.Thread | None = None
        #: Set when the warm-up has computed everything (ownership, search index) too.
        self.warm_done = threading.Event()
        # what is computed lazily once is computed by one thread; the others wait for it
        self._lazy_lock = threading.Lock()
        self._row_indexes: dict[tuple[int, str], RowIndex] = {}
        from credgraph.dashboard.services import Find, Lists, Network, Profiles, Review

        #: The concerns, one small object each (each keeps its own answers).
        self.find = Find(self)
        self.profiles = Profiles(self)
        self.network = Network(self)
        self.lists = Lists(self)
        self.review = Review(self)

    # ------------------------------------------------------------------ store access
    @property
    def backend(self) -> str:
        return self.cfg.graph.backend

    def store(self):
        """The read-only graph store (opened on first use)."""
        from credgraph.graph import StoreError, open_store

        with self._store_lock:
            if self._store is None:
                # the dashboard reads fewer rows per question than batch jobs: answers within a second
                cfg = dataclasses.replace(self.cfg, graph=dataclasses.replace(
                    self.cfg.graph, max_scan_rows=self.cfg.dashboard.max_scan_rows))
                try:
                    self._store = open_store(cfg, read_only=True)
                except StoreError as exc:
                    raise DashboardError(str(exc)) from None
            return self._store

    def _call(self, method: str, *args, **kwargs):
        store = self.store()
        with self._store_lock:
            return getattr(store, method)(*args, **kwargs)

    def close(self) -> None:
        with self._store_lock:
            if self._store is not None:
                self._store.close()
                self._store = None

    def counts(self) -> dict[str, int]:
        """Nodes per label and relationships per type (cached)."""
        if self._counts is None:
            self._counts = self._call("counts")
        return self._counts

    # --------------------------------------------------------------------- analytics
    def warm_up(self, background: bool = True) -> None:
        """Start computing the analytics (risk, grades, shells, ownership) now."""
        if self._warm is not None or self._analysis is not None:
            return
        if not background:
            self._warm_all()
            self.analysis()  # raises what the warm-up met
            return
        self._warm = threading.Thread(target=self._warm_all, name="credgraph-warm-up", daemon=True)
        self._warm.start()

    def _warm_all(self) -> None:
        t0 = time.perf_counter()
        try:
            self.analysis()
            self.controllers()
            self.beneficial_owners()
            self._index_of([""])  # builds the id index once
            self.counts()
            self.find.entity_index()
            self.find.context()  # what tells namesakes apart: search results, headers, lists
            self.lists.field_columns()
            self._warm_report()
            self._warm_rows()
            self._warm_lists()
            self._warm_explain()
            self._warm_search()
            if (self.review.entities_dir / "run.json").is_file():
                self.review.review_queue()  # loads the resolution outputs once
            # What is in memory now stays for the server's life: keep it out of the
            # collector's full passes, which otherwise walk every object of the analytics
            # (0.1 s at 20k entities, 0.5 s at 100k, holding the GIL: pages stall meanwhile).
            gc.collect()
            gc.freeze()
            log.info("warm-up complete in %.1f s", time.perf_counter() - t0)
        except Exception:  # noqa: BLE001 - reported by analysis() to whoever asks next
            log.exception("warm-up failed")
        finally:
            self.warm_done.set()

    def _warm_explain(self) -> None:
        """Explain one entity now: the reversed links and path costs every later explanation
        reuses are made once, here, rather than on the first profile opened."""
        from credgraph.analytics import explain_risk

        a = self.analysis()
        got = a.risk.scores.filter(pl.col("received") > 0).head(1)
        if got.height:
            with self.profiles._sources_lock:
                explain_risk(a.risk, a.net, got["node_id"][0])

    def _warm_rows(self) -> None:
        """The row indexes a profile reads through (:meth:`rows`), built now: about 0.5 s per
        million rows, once."""
        a = self.analysis()
        for frame, cols in ((a.grades.grades, ("node_id",)), (a.grades.contributions, ("node_id",)),
                            (a.grades.features, ("node_id",)), (a.risk.scores, ("node_id",)),
                            (a.risk.sources, ("node_id",)), (a.risk.records, ("owner",)),
                            (a.shells.firms, ("node_id",)), (a.net.records, ("owner_id",)), (a.edges, ("src", "dst")),
                            (self.controllers(), ("company_id", "controller_id")),
                            (self.beneficial_owners(), ("company_id", "owner_id")),
                            (self.find.context(), ("node_id",))):
            for c in cols:
                if frame is not None and c in frame.columns:
                    self._row_index(frame, c)
        try:
            self._row_index(self.profiles.measure_inputs()[2], "owner")
        except DashboardError:
            pass  # a bad measure catalogue: the profile says so
        stored = self.profiles.stored_sources()
        if stored is not None and "node_id" in stored.columns:
            self._row_index(stored, "node_id")

    def _warm_lists(self) -> None:
        """The overview's pictures and tables and the shell groups' tables, made now: each reads
        every entity or record (seconds at a million entities), once per server."""
        self.lists.overview()
        for by in ("district", "industry"):
            try:
                self.lists.city_by(by)
            except DashboardError:
                pass  # the page says so
        try:
            self.lists.coverage()
        except DashboardError:
            pass
        self.lists.shell_groups()
        self.lists.shell_candidates()
        self.lists.shell_firms()

    def _warm_report(self) -> None:
        """The PDF report's CJK font (about 1 s) and the data interface's database, now
        rather than on the first download."""
        from credgraph.analytics.report import ReportError, warm_font

        try:
            warm_font(self.cfg.api.report_font)
            self.profiles._api_db()
        except (ReportError, OSError) as exc:  # said again when a PDF is asked for
            log.warning("credit report not warmed: %s", exc)

    def _warm_search(self) -> None:
        """The search's in-memory look-ups, one search of each kind (a company's name, its pinyin,
        a near miss) and one neighbourhood now: the store's first neighbourhood question reads
        from disk (0.2 s at 20k entities), later ones take a few hundredths of a second."""
        a = self.analysis()
        names = a.net.nodes.filter(pl.col("label") == "LegalPerson")["name"].drop_nulls().head(1).to_list()
        self.find.memory_search()  # the search's look-ups over the nodes in memory, made once
        for text in (names + [names[0][:-1] + "乙", "shenzhen"] if names else ["shenzhen"]):
            self.find.search(text, limit=self.cfg.dashboard.search_limit)
        if ids := a.net.nodes.filter(pl.col("label") == "LegalPerson")["node_id"].head(1).to_list():
            self.network.expand(ids[0], 1, limit=self.cfg.dashboard.expand_page)  # the first neighbourhood query: 0.2 s


    @property
    def ready(self) -> bool:
        return self._analysis is not None

    def analysis(self) -> Analysis:
        """Risk, grades and shell clusters over the stored graph (computed once)."""
        if self._analysis is not None:
            return self._analysis
        with self._analysis_lock:
            if self._analysis is not None:
                return self._analysis
            if self._analysis_error:
                raise DashboardError(self._analysis_error)
            try:
                self._analysis = self._compute()
            except DashboardError as exc:
                self._analysis_error = str(exc)
                raise
            except Exception as exc:  # noqa: BLE001 - keep the server up, say what failed
                log.exception("analytics failed")
                self._analysis_error = f"the analytics could not be computed on this graph: {exc}"
                raise DashboardError(self._analysis_error) from None
            return self._analysis

    def _compute(self) -> Analysis:
        """The analytics of the stored graph: the analytics stage's stored results when they were
        computed from this very graph generation and settings (:mod:`credgraph.analytics.results`),
        else computed here when the graph is small enough (``dashboard.compute_limit`` entities),
        else an error naming the command to run. Never results of another graph."""
        from credgraph.analytics import CreditNetwork, FrameError, compute_risk, detect_shells, grade_enterprises
        from credgraph.analytics.repair import apply_approved, approved_repairs, mark_repaired
        from credgraph.analytics.results import load_results, StaleResults

        acfg = self.cfg.analytics
        t: dict[str, float] = {}
        stored, why = None, ""
        try:
            stored = load_results(self.cfg)
        except StaleResults as exc:
            why = str(exc)
            n = self._graph_entities()
            if n is not None and n > self.cfg.dashboard.compute_limit:
                raise DashboardError(f"{why}. This graph has {n:,} entities, more than the dashboard computes "
                                     f"itself (dashboard.compute_limit = {self.cfg.dashboard.compute_limit:,})") from None
        t0 = time.perf_counter()
        kept = stored.graph_frames() if stored is not None else None
        if kept is not None:  # the very frames the results were computed from (no export of the store)
            nodes, edges = kept
        else:
            nodes, edges = self._call("export_frames")
            from credgraph.analytics.severity import attach_severity, spec_severities, workspace_spec_paths

            # each record weighs what its catalog's spec says, as in every other stage's analytics
            # (credgraph.analytics.frames.load_frames): the profile and the data interface agree
            nodes = attach_severity(nodes, spec_severities(workspace_spec_paths(self.cfg.workspace_path)))
        approved = approved_repairs(self.cfg)
        if kept is None:  # approved credit repairs stop counting (the stored results' frames have theirs)
            nodes = mark_repaired(nodes, approved)
        t["frames"] = time.perf_counter() - t0
        if nodes.height == 0:
            raise DashboardError("the graph is empty: run `credgraph graph load` first")
        try:
            t0 = time.perf_counter()
            net = CreditNetwork.from_frames(nodes, edges)
            del nodes
            t["network"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            if stored is not None:
                risk = stored.risk(net, acfg)
                grades = stored.grades(net, risk)
                shells = stored.shells()
                t["stored results"] = time.perf_counter() - t0
                origin = f"stored results of the analytics stage ({stored.meta.get('computed', '?')})"
            else:
                log.info("computing the analytics here: %s", why)
                # sources are explained per entity when a profile asks (explaining hundreds up
                # front takes minutes on a large city), or read from `credgraph risk`'s output
                risk = compute_risk(net, acfg, explain=0)
                t["risk"] = time.perf_counter() - t0
                t0 = time.perf_counter()
                grades = grade_enterprises(net, acfg, risk.as_of, risk)
                t["grades"] = time.perf_counter() - t0
                t0 = time.perf_counter()
                shells = detect_shells(net, acfg, grades.as_of, features=grades.features)
                t["shells"] = time.perf_counter() - t0
                origin = "computed by the dashboard (no stored results for this graph: run `credgraph analyse`)"
            # repairs approved since the stored results were computed: applied to them incrementally
            # (the data interface's own update), so no page shows a repaired record as counting
            t0 = time.perf_counter()
            net, risk, grades, applied = apply_approved(net, risk, grades, acfg, approved)
            if applied:
                t["repairs"] = time.perf_counter() - t0
                log.info("applied %d approved credit repair(s) not in the results", len(applied))
        except (FrameError, ValueError) as exc:
            raise DashboardError(f"analytics: {exc}") from None
        risk_of = dict(zip(risk.scores["node_id"].to_list(), risk.scores["risk"].to_list()))
        grade_of = dict(zip(grades.grades["node_id"].to_list(), grades.grades["grade"].to_list()))
        log.info("analytics ready (%s): %s", origin, {k: round(v, 2) for k, v in t.items()})
        keep = [c for c in ("src", "dst", "type", "ratio", "capital", "role", "edge_id") if c in edges.columns]
        a = Analysis(net=net, edges=edges.select(keep), risk=risk, grades=grades, shells=shells, as_of=risk.as_of,
                     seconds=t, risk_of=risk_of, grade_of=grade_of, origin=origin)
        if stored is not None:
            a._controllers = stored.table("controllers")
            a._owners = stored.table("beneficial_owners")
        return a

    def _graph_entities(self) -> int | None:
        """Persons and companies of the current graph, from its generation marker (None when unknown)."""
        from credgraph.graph.generation import current_generation

        counts = (current_generation(self.cfg) or {}).get("counts") or {}
        got = [counts.get(k) for k in ENTITY_KINDS]
        return int(sum(got)) if all(isinstance(x, int) for x in got) else None

    def controllers(self) -> pl.DataFrame:
        """Ultimate controller of every enterprise (analytics.controllers), computed once."""
        a = self.analysis()
        with self._lazy_lock:
            if a._controllers is None:
                from credgraph.analytics import controllers

                t0 = time.perf_counter()
                a._controllers = controllers(a.net, self.cfg.analytics.control_ratio)
                a.seconds["controllers"] = time.perf_counter() - t0
        return a._controllers

    def beneficial_owners(self) -> pl.DataFrame:
        """Beneficial owners of every enterprise (analytics.beneficial_owners), computed once."""
        a = self.analysis()
        with self._lazy_lock:
            if a._owners is None:
                from credgraph.analytics import beneficial_owners

                t0 = time.perf_counter()
                a._owners = beneficial_owners(a.net, self.cfg.dashboard.beneficial_owner_threshold)
                a.seconds["owners"] = time.perf_counter() - t0
        return a._owners

    # ------------------------------------------------------------------------ lookups
    def _index_of(self, ids: list[str]) -> np.ndarray:
        a = self.analysis()
        if not getattr(self, "_ids_indexed", False):  # the network builds its id index on first use:
            with self._lazy_lock:                      # once, not by two threads at a time
                a.net.index_of([""])
                self._ids_indexed = True
        return a.net.index_of(ids)

    def rows(self, frame: pl.DataFrame, column: str, value, *more: str) -> pl.DataFrame:
        """The rows of ``frame`` whose ``column`` (or any of ``more`` columns too) equals
        ``value``, found by binary search in an index built once per frame and column (the
        analysis' frames live as long as the server): a profile reads a few rows of frames of
        millions without scanning them. Row order follows ``frame``. Only for frames that live as
        long as the server (the index keeps the frame): a passing frame is filtered instead."""
        parts = [self._row_index(frame, c).rows(value) for c in (column, *more)]
        idx = parts[0] if len(parts) == 1 else pl.concat(parts).unique().sort()
        return frame[idx]

    def rows_in(self, frame: pl.DataFrame, column: str, values: Iterable, *more: str) -> pl.DataFrame:
        """The rows of ``frame`` whose ``column`` (or any of ``more``) is one of ``values``
        (each found as in :meth:`rows`); row order follows ``frame``."""
        values = list(dict.fromkeys(values))
        parts = [self._row_index(frame, c).rows(v) for c in (column, *more) for v in values]
        if not parts:
            return frame.clear()
        return frame[pl.concat(parts).unique().sort()]

    def _row_index(self, frame: pl.DataFrame, column: str) -> "RowIndex":
        key = (id(frame), column)
        got = self._row_indexes.get(key)
        if got is None or got.frame is not frame:
            with self._lazy_lock:
                got = self._row_indexes.get(key)
                if got is None or got.frame is not frame:
                    got = self._row_indexes[key] = RowIndex(frame, column)
        return got

    def node(self, node_id: str) -> dict | None:
        """The stored properties of a node (personal data masked), or None when unknown."""
        a = self.analysis()
        i = int(self._index_of([node_id])[0])
        if i < 0:
            return None
        row = a.net.nodes.row(i, named=True)
        return mask_record({k: v for k, v in row.items() if v is not None})

    def names(self, ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        """node id -> (label, name) for the ids that exist."""
        a = self.analysis()
        ids = list(ids)
        idx = self._index_of(ids)
        return {nid: (str(a.net.labels[i]), str(a.net.names[i] or nid)) for nid, i in zip(ids, idx.tolist())
                if i >= 0}

    def risk_of(self, node_id: str) -> float | None:
        return self.analysis().risk_of.get(node_id)

    def grade_of(self, node_id: str) -> str | None:
        return self.analysis().grade_of.get(node_id)


# ----------------------------------------------------------------------------- helpers
_REL_OUT = {"SHAREHOLDER_OF": "holds shares of", "LEGAL_REP_OF": "is legal representative of",
            "OFFICER_OF": "is officer of", "BRANCH_OF": "is a branch of", "AGENT_OF": "registered (agent)"}
_REL_IN = {"SHAREHOLDER_OF": "shareholder", "LEGAL_REP_OF": "legal representative", "OFFICER_OF": "officer",
           "BRANCH_OF": "branch", "AGENT_OF": "registration agent"}


def _relation_text(rel_type: str, outgoing: bool, role: str | None) -> str:
    text = _REL_OUT.get(rel_type, rel_type) if outgoing else _REL_IN.get(rel_type, rel_type)
    return f"{text} ({role})" if role else text


def _remember(cache: dict, key, value, size: int = 256) -> None:
    """Keep ``value`` under ``key``, forgetting the oldest entries beyond ``size``."""
    cache[key] = value
    while len(cache) > size:
        cache.pop(next(iter(cache)))


def _mask_cell(value: str) -> str:
    """A Cypher result cell: JSON nodes/relationships masked field by field, other text scanned."""
    v = value.lstrip()
    if v.startswith("{") or v.startswith("["):
        return mask_json_text(value)
    return value


def _rename_masked(frame: pl.DataFrame) -> pl.DataFrame:
    """Columns returning a property like ``n.id_masked`` or ``n.phone`` are masked by name too."""
    from credgraph.identifiers import mask_id, mask_phone

    exprs = []
    for c, t in frame.schema.items():
        prop = c.split(".")[-1]
        if t == pl.Utf8 and prop in ("id_number", "id_masked"):
            exprs.append(pl.col(c).map_elements(mask_id, return_dtype=pl.Utf8, skip_nulls=True))
        elif t == pl.Utf8 and prop == "phone":
            exprs.append(pl.col(c).map_elements(mask_phone, return_dtype=pl.Utf8, skip_nulls=True))
    return frame.with_columns(exprs) if exprs else frame


def graph_from_result(frame: pl.DataFrame) -> dict:
    """Nodes and relationships found in a Cypher result (JSON cells with ``_LABEL``), as
    rows for the canvas: ``{"nodes": [...], "edges": [...]}``. Relationships whose ends are
    not returned get their ends as bare nodes (id only)."""
    nodes: dict[str, dict] = {}
    edges: dict[str, dict] = {}

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            lab = v.get("_LABEL")
            if lab and v.get("node_id"):
                nodes.setdefault(v["node_id"], {"node_id": v["node_id"], "label": lab,
                                                "name": v.get("name") or v["node_id"]})
            elif lab and v.get("edge_id"):
                try:
                    t, s, d = split_edge_id(v["edge_id"])
                except ValueError:
                    return
                edges.setdefault(v["edge_id"], {"src": s, "dst": d, "type": t, "ratio": v.get("ratio"),
                                                "role": v.get("role"), "edge_id": v["edge_id"]})
            for x in v.values():
                if isinstance(x, (dict, list)):
                    walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    for c, t in frame.schema.items():
        if t != pl.Utf8:
            continue
        for cell in frame[c].to_list():
            if cell and cell[:1] in "{[":
                try:
                    walk(json.loads(cell))
                except ValueError:
                    continue
    for e in edges.values():
        for end in (e["src"], e["dst"]):
            nodes.setdefault(end, {"node_id": end, "label": _label_from_id(end), "name": end})
    return {"nodes": list(nodes.values()), "edges": list(edges.values())}


def _label_from_id(node_id: str) -> str:
    for p, lab in (("addr:", "Address"), ("phone:", "Phone"), ("rec:", "CreditRecord")):
        if node_id.startswith(p):
            return lab
    return "NaturalPerson" if node_id.startswith("N") else "LegalPerson"


# --------------------------------------------------------------------- streamlit glue
def _make_workbench(config_json: str) -> Workbench:
    wb = Workbench(config_from_json(config_json))
    wb.warm_up(background=True)
    return wb


_cached_make = None


def workbench() -> Workbench:
    """The server's Workbench for the configured workspace (one per process, shared by every
    session via ``st.cache_resource``; it starts warming up the analytics at once)."""
    global _cached_make
    if _cached_make is None:
        import streamlit as st

        _cached_make = st.cache_resource(show_spinner=False)(_make_workbench)
    return _cached_make(config_to_json(config_from_env()))


def frame_bytes_csv(frame: pl.DataFrame) -> bytes:
    """CSV bytes (UTF-8 with BOM, so Excel shows Chinese) of a masked frame, lists joined."""
    flat = mask_frame(frame).with_columns([pl.col(c).list.join(" > ") for c, t in frame.schema.items()
                                           if t == pl.List(pl.Utf8)])
    buf = io.BytesIO()
    buf.write("\ufeff".encode())
    flat.write_csv(buf)
    return buf.getvalue()


def frame_bytes_xlsx(frame: pl.DataFrame, sheet: str = "list") -> bytes:
    """XLSX bytes of a masked frame (lists joined; dates as text), one sheet, header frozen."""
    import xlsxwriter

    flat = mask_frame(frame).with_columns([pl.col(c).list.join(" > ") for c, t in frame.schema.items()
                                           if t == pl.List(pl.Utf8)])
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = book.add_worksheet(sheet[:31])
    bold = book.add_format({"bold": True})
    ws.write_row(0, 0, flat.columns, bold)
    for i, row in enumerate(flat.iter_rows(), start=1):
        ws.write_row(i, 0, [v if isinstance(v, (int, float, str)) or v is None else str(v) for v in row])
    ws.freeze_panes(1, 0)
    book.close()
    return buf.getvalue()
