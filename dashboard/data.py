"""Data access of the dashboard: every page asks a :class:`Workbench`, never a stage directly.

One Workbench serves one workspace for the life of the Streamlit server (cached with
``st.cache_resource``; see :func:`workbench`). It calls only the stages' public APIs:

* the graph store (:func:`credgraph.graph.open_store`, read-only): search, neighbourhood,
  paths, ownership, sharing, counts, read-only Cypher;
* analytics over the store's frames (:mod:`credgraph.analytics`): propagated risk with its
  sources, grades with their explanation, shell clusters, ultimate controllers and
  beneficial owners, inspection lists — computed once, in a background thread started
  with the server, so the first page does not wait for all of it; one entity's risk sources
  are explained on demand from the finished propagation (``explain_risk``);
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
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
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
        self._resolution = None
        self._res_lock = threading.Lock()
        self._counts: dict[str, int] | None = None
        self._warm: threading.Thread | None = None
        #: Set when the warm-up has computed everything (ownership, search index) too.
        self.warm_done = threading.Event()
        # what is computed lazily once is computed by one thread; the others wait for it
        self._lazy_lock = threading.Lock()
        #: Answers kept per question (each page rerun and each visitor asks again).
        self._sources: dict[str, pl.DataFrame] = {}
        self._sources_lock = threading.Lock()
        self._searches: dict[tuple, pl.DataFrame] = {}
        self._listings: dict[tuple, Any] = {}
        self._files: dict[int, dict] = {}
        self._files_lock = threading.Lock()
        self._queue_base: tuple[int, pl.DataFrame] | None = None

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
            self.entity_index()
            self._warm_explain()
            self._warm_search()
            if (self.entities_dir / "run.json").is_file():
                self.review_queue()  # loads the resolution outputs once
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
            with self._sources_lock:
                explain_risk(a.risk, a.net, got["node_id"][0])

    def _warm_search(self) -> None:
        """One search of each kind (a company's name, its pinyin, a near miss) and one
        neighbourhood now: the store's first such questions read from disk (0.7 s and 0.2 s
        at 20k entities), later ones take a few hundredths of a second."""
        a = self.analysis()
        names = a.net.nodes.filter(pl.col("label") == "LegalPerson")["name"].drop_nulls().head(1).to_list()
        for text in (names + [names[0][:-1] + "乙", "shenzhen"] if names else ["shenzhen"]):
            self._call("search", text, limit=self.cfg.dashboard.search_limit)
        if ids := a.net.nodes.filter(pl.col("label") == "LegalPerson")["node_id"].head(1).to_list():
            self.expand(ids[0], 1, limit=self.cfg.dashboard.expand_page)  # the first neighbourhood query: 0.2 s


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
        from credgraph.analytics import CreditNetwork, FrameError, compute_risk, detect_shells, grade_enterprises

        acfg = self.cfg.analytics
        t: dict[str, float] = {}
        t0 = time.perf_counter()
        nodes, edges = self._call("export_frames")
        t["frames"] = time.perf_counter() - t0
        if nodes.height == 0:
            raise DashboardError("the graph is empty: run `credgraph graph load` first")
        try:
            t0 = time.perf_counter()
            net = CreditNetwork.from_frames(nodes, edges)
            t["network"] = time.perf_counter() - t0
            t0 = time.perf_counter()
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
        except (FrameError, ValueError) as exc:
            raise DashboardError(f"analytics: {exc}") from None
        risk_of = dict(zip(risk.scores["node_id"].to_list(), risk.scores["risk"].to_list()))
        grade_of = dict(zip(grades.grades["node_id"].to_list(), grades.grades["grade"].to_list()))
        log.info("analytics ready: %s", {k: round(v, 2) for k, v in t.items()})
        keep = [c for c in ("src", "dst", "type", "ratio", "role", "edge_id") if c in edges.columns]
        return Analysis(net=net, edges=edges.select(keep), risk=risk, grades=grades, shells=shells, as_of=risk.as_of, seconds=t,
                        risk_of=risk_of, grade_of=grade_of)

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

    # ------------------------------------------------------------------------- search
    def search(self, text: str, limit: int | None = None) -> pl.DataFrame:
        """Entities by name, code or pinyin (fuzzy; Chinese, traditional, full-width, initials),
        with their propagated risk and grade."""
        text = (text or "").strip()
        if not text:
            raise DashboardError("type a name, a code (USCC, organisation code, registration number, "
                                 "ID number) or pinyin to search")
        if len(text) > 200:
            raise DashboardError("the search text is too long (at most 200 characters)")
        limit = limit or self.cfg.dashboard.search_limit
        key = (text, limit)
        if key in self._searches:  # a rerun of the page, back and forth, or another visitor
            return self._searches[key]
        hits = self._call("search", text, limit=limit)
        a = self.analysis()
        out = mask_frame(hits.with_columns(
            pl.col("node_id").map_elements(lambda x: a.risk_of.get(x), return_dtype=pl.Float64).alias("risk"),
            pl.col("node_id").map_elements(lambda x: a.grade_of.get(x), return_dtype=pl.Utf8).alias("grade"),
        ))
        _remember(self._searches, key, out)
        return out

    def entity_index(self):
        """analytics.EntityIndex over the network (codes and every name written), built once."""
        a = self.analysis()
        with self._lazy_lock:
            if getattr(self, "_index", None) is None:
                from credgraph.analytics import EntityIndex

                t0 = time.perf_counter()
                self._index = EntityIndex(a.net)
                a.seconds["entity_index"] = time.perf_counter() - t0
        return self._index

    def quick_match(self, text: str) -> pl.DataFrame:
        """The one entity a code (USCC, organisation code, registration number, ID number) or an
        exact company name (in any variant: traditional, full-width, brackets) designates —
        answered from memory at once, before the store's fuzzy search."""
        text = (text or "").strip()
        if not text:
            raise DashboardError("type a name, a code (USCC, organisation code, registration number, "
                                 "ID number) or pinyin to search")
        schema = {"node_id": pl.Utf8, "label": pl.Utf8, "name": pl.Utf8, "match": pl.Utf8, "risk": pl.Float64,
                  "grade": pl.Utf8}
        r = self.entity_index().resolve([text], [text], min_score=100).row(0, named=True)
        a = self.analysis()
        if r["node_id"] is None or r["method"] in ("fuzzy_name", "masked_id+name"):
            return pl.DataFrame(schema=schema)
        label, name = self.names([r["node_id"]]).get(r["node_id"], ("", r["node_id"]))
        if r["method"] == "name" and (label != "LegalPerson" or r["status"] != "resolved"):
            return pl.DataFrame(schema=schema)  # person names and shared names: see the full list
        method = {"name": "exact name", "org_code": "org code", "reg_no": "reg no", "id_number": "id number",
                  "node_id": "entity id"}.get(r["method"], r["method"])
        return mask_frame(pl.DataFrame([{"node_id": r["node_id"], "label": label, "name": name, "match": method,
                                         "risk": a.risk_of.get(r["node_id"]), "grade": a.grade_of.get(r["node_id"])}],
                                       schema=schema))

    # ------------------------------------------------------------------------ profile
    def profile(self, node_id: str, explain: bool = True) -> Profile:
        """Identity, grade with its explanation, propagated risk with top sources, records,
        related parties, controller and beneficial owners of one entity.

        With ``explain=False`` risk sources come only from what is already explained (the
        page shows the rest at once and explains afterwards; ``sources_pending`` says so)."""
        node_id = (node_id or "").strip()
        if not node_id:
            raise DashboardError("no entity chosen: search for one first")
        a = self.analysis()
        ident = self.node(node_id)
        if ident is None:
            raise DashboardError(f"no entity with id {node_id!r} in the graph (search by name or code instead)")
        kind = ident.get("label", "")
        if kind not in ENTITY_KINDS:
            raise DashboardError(f"{node_id!r} is a {kind} node, not a company or person")
        grade, contrib = None, pl.DataFrame()
        g = a.grades.grades.filter(pl.col("node_id") == node_id)
        if g.height:
            grade = g.drop("idx", strict=False).row(0, named=True)
            contrib = (a.grades.contributions.filter((pl.col("node_id") == node_id) & (pl.col("points").abs() > 1e-9))
                       .sort("points").drop("node_id"))
        r = a.risk.scores.filter(pl.col("node_id") == node_id)
        risk = r.row(0, named=True) if r.height else {}
        risk["entities"] = a.risk.scores.height
        sources = self.risk_sources(node_id, risk, compute=explain)
        pending = sources.height == 0 and (risk.get("received") or 0) > 0 and not explain
        timeline = self.timeline(node_id)
        related = self.related(node_id)
        sharing = mask_frame(self._call("sharing", node_id))
        controller, owners, controls = None, pl.DataFrame(), pl.DataFrame()
        if kind == "LegalPerson":
            c = self.controllers().filter(pl.col("company_id") == node_id)
            if c.height:
                controller = c.row(0, named=True)
                controller["chain_names"] = [self.names([x]).get(x, ("", x))[1] for x in controller["chain"] or []]
            owners = self.beneficial_owners().filter(pl.col("company_id") == node_id).sort(
                "integrated_ratio", descending=True)
        else:
            controls = self.controllers().filter(pl.col("controller_id") == node_id).select(
                "company_id", "company_name", "control_votes", "integrated_ratio")
            owners = self.beneficial_owners().filter(pl.col("owner_id") == node_id).sort(
                "integrated_ratio", descending=True)
        shell = None
        sf = a.shells.firms.filter(pl.col("node_id") == node_id)
        if sf.height:
            shell = sf.row(0, named=True)
        return Profile(node_id=node_id, kind=kind, identity=ident, grade=grade, contributions=contrib, risk=risk,
                       sources=sources, timeline=timeline, related=related, sharing=sharing, controller=controller,
                       owners=mask_frame(owners), controls=controls, shell=shell, as_of=a.as_of,
                       sources_pending=pending)

    def stored_sources(self) -> pl.DataFrame | None:
        """The risk sources written by the analytics stage (``analytics/risk_sources.parquet``)
        when they are newer than the graph, else None."""
        if not hasattr(self, "_stored"):
            self._stored = None
            p = self.cfg.workspace_path / "analytics" / "risk_sources.parquet"
            graph_file = self.cfg.workspace_path / "graph"
            if self.backend == "embedded":
                from credgraph.graph import embedded_path

                graph_file = embedded_path(self.cfg) / "graph.lbug"
            try:
                if p.is_file() and (not graph_file.exists() or p.stat().st_mtime >= graph_file.stat().st_mtime):
                    self._stored = pl.read_parquet(p)
            except Exception:  # noqa: BLE001 - an unreadable file: explain on demand instead
                log.exception("cannot read %s", p)
        return self._stored

    def risk_sources(self, node_id: str, risk: dict | None = None, compute: bool = True) -> pl.DataFrame:
        """Top sources of an entity's propagated risk, with the strongest path from each.

        Read from what the analytics explained up front (or ``credgraph risk`` wrote), else
        explained now from the finished result (:func:`credgraph.analytics.explain_risk`: the
        entity's own reverse series, no new propagation) when ``compute``; kept per entity."""
        if node_id in self._sources:
            return self._sources[node_id]
        a = self.analysis()
        src = a.risk.sources.filter(pl.col("node_id") == node_id)
        stored = self.stored_sources()
        if src.height == 0 and stored is not None and {"node_id", "source_id"} <= set(stored.columns):
            src = stored.filter(pl.col("node_id") == node_id)
        if src.height == 0 and risk and (risk.get("received") or 0) > 0:
            if not compute:
                return mask_frame(src.drop("node_id"))  # not kept: explained when asked with compute
            from credgraph.analytics import explain_risk

            with self._sources_lock:  # one explanation at a time (they share the reversed matrix)
                if node_id in self._sources:
                    return self._sources[node_id]
                t0 = time.perf_counter()
                try:
                    src = explain_risk(a.risk, a.net, node_id)
                except KeyError:
                    raise DashboardError(f"no entity with id {node_id!r} in the graph") from None
                log.info("risk sources of %s explained in %.3f s", node_id, time.perf_counter() - t0)
        out = mask_frame(src.drop("node_id"))
        _remember(self._sources, node_id, out)
        return out

    def timeline(self, node_id: str) -> pl.DataFrame:
        """The entity's credit records, newest first, with where each came from."""
        a = self.analysis()
        rec = a.net.records.filter(pl.col("owner_id") == node_id)
        if rec.height == 0:
            return pl.DataFrame(schema={"date": pl.Date, "event_type": pl.Utf8, "status": pl.Utf8})
        extra = [c for c in ("catalog", "source_unit") if c in a.net.nodes.columns]
        if extra:
            idx = self._index_of(rec["record_node"].to_list())
            more = a.net.nodes.select(extra)[idx]
            rec = pl.concat([rec, more], how="horizontal")
        cols = [c for c in ("date", "event_type", "status", "catalog", "source_unit", "authority", "case_no",
                            "amount", "grade", "reason", "count", "end_date", "record_node") if c in rec.columns]
        out = rec.select(cols).sort("date", descending=True, nulls_last=True).head(self.cfg.dashboard.timeline_limit)
        return mask_frame(out.rename({"record_node": "record"}))

    def related(self, node_id: str) -> pl.DataFrame:
        """Related parties: who holds, represents, serves, registered or branches off this
        entity, and what it holds, represents or serves (every link, not one per party)."""
        a = self.analysis()
        e = a.edges.filter(((pl.col("src") == node_id) | (pl.col("dst") == node_id))
                           & pl.col("type").is_in(list(PARTY_TYPES)))
        schema = {"relation": pl.Utf8, "node_id": pl.Utf8, "name": pl.Utf8, "label": pl.Utf8, "ratio": pl.Float64,
                  "risk": pl.Float64, "grade": pl.Utf8}
        if e.height == 0:
            return pl.DataFrame(schema=schema)
        others = [d if s == node_id else s for s, d in zip(e["src"].to_list(), e["dst"].to_list())]
        names = self.names(others)
        rows = []
        for other, r in zip(others, e.iter_rows(named=True)):
            lab, name = names.get(other, ("", other))
            rows.append({"relation": _relation_text(r["type"], r["src"] == node_id, r.get("role")), "node_id": other,
                         "name": name, "label": lab, "ratio": r.get("ratio"), "risk": a.risk_of.get(other),
                         "grade": a.grade_of.get(other)})
        order = {t: i for i, t in enumerate(PARTY_TYPES)}
        out = pl.DataFrame(rows, schema=schema)
        return mask_frame(out.with_columns(pl.Series("_t", [order.get(t, 9) for t in e["type"].to_list()]))
                          .sort(["_t", "ratio", "name"], descending=[False, True, False], nulls_last=True).drop("_t"))

    def links_among(self, new: Iterable[str], existing: Iterable[str]) -> list[dict]:
        """Every stored link touching a node of ``new`` whose other end is in ``new`` or ``existing``."""
        a = self.analysis()
        new = list(set(new))
        every = list(set(new) | set(existing))
        e = a.edges.filter((pl.col("src").is_in(new) & pl.col("dst").is_in(every))
                           | (pl.col("dst").is_in(new) & pl.col("src").is_in(every)))
        return e.to_dicts()

    # --------------------------------------------------------------------- explorer
    def neighbours(self, node_id: str, hops: int = 1, rel_types: list[str] | None = None) -> tuple[pl.DataFrame, pl.DataFrame, int]:
        """Every neighbour of a node (up to ``dashboard.max_scan_rows`` read), ranked by the store, with
        their risk and grade, the links reaching them, and the total count."""
        if self.names([node_id]) == {}:
            raise DashboardError(f"no node with id {node_id!r} in the graph")
        try:
            nb = self._call("neighbourhood", node_id, hops, rel_types if rel_types else None,
                            self.cfg.dashboard.max_scan_rows, 0)
        except ValueError as exc:
            raise DashboardError(str(exc)) from None
        a = self.analysis()
        nodes = nb.nodes.with_columns(
            pl.col("node_id").map_elements(lambda x: a.risk_of.get(x), return_dtype=pl.Float64).alias("risk"),
            pl.col("node_id").map_elements(lambda x: a.grade_of.get(x), return_dtype=pl.Utf8).alias("grade"),
        )
        return mask_frame(nodes), nb.edges, nb.total

    def expand(self, node_id: str, hops: int = 1, rel_types: list[str] | None = None, rank: str = "relationship",
               limit: int = 25, offset: int = 0, existing: Iterable[str] = ()) -> dict:
        """One page of a node's neighbours for the canvas.

        ``rank``: "relationship" (the store's order: control, people, hubs, records) or
        "risk" (riskiest first). Returns nodes, every link joining them to each other, to
        the node and to ``existing`` (the canvas), the middle nodes of 2-hop neighbours,
        the total, and counts per relationship type.
        """
        nodes, edges, total = self.neighbours(node_id, hops, rel_types)
        by_type = dict(nodes.group_by("type").len().iter_rows()) if nodes.height else {}
        if rank == "risk":
            nodes = nodes.sort(["risk", "distance"], descending=[True, False], nulls_last=True)
        page = nodes.slice(offset, limit)
        keep = set(page["node_id"].to_list()) | {node_id}
        # the middle node of a 2-hop neighbour comes along, so its link can be drawn
        mids = set(x for x in page["via"].to_list() if x) - keep
        if mids:
            extra = [{"node_id": k, "label": v[0], "name": v[1]} for k, v in self.names(mids).items()]
        else:
            extra = []
        keep |= mids
        links = self.links_among(keep, existing)
        if rel_types:
            links = [e for e in links if e["type"] in rel_types]
        return {"nodes": page.to_dicts() + extra, "edges": links, "total": total, "by_type": by_type}

    def paths(self, a: str, b: str, max_hops: int | None = None) -> pl.DataFrame:
        """Simple paths between two nodes, shortest first (at most ``dashboard.path_limit``)."""
        if not a or not b:
            raise DashboardError("choose two nodes to connect")
        if a == b:
            raise DashboardError("choose two different nodes")
        max_hops = max_hops or self.cfg.dashboard.path_max_hops
        missing = [x for x in (a, b) if x not in self.names([a, b])]
        if missing:
            raise DashboardError(f"no node with id {missing[0]!r} in the graph")
        try:
            return self._call("paths", a, b, max_hops, self.cfg.dashboard.path_limit)
        except ValueError as exc:
            raise DashboardError(str(exc)) from None

    def cluster_elements(self, members: list[str]) -> dict:
        """Members of a shell cluster, the hubs (address, phone, agent, legal rep) two or more
        of them share, and the links between them."""
        found = self.names(members)
        if not found:
            raise DashboardError("none of the cluster's members is in the graph")
        nodes = [{"node_id": k, "label": v[0], "name": v[1]} for k, v in found.items()]
        hub_count: dict[str, int] = {}
        hub_info: dict[str, dict] = {}
        for m in found:
            nb = self._call("neighbourhood", m, 1, ["LOCATED_AT", "USES_PHONE", "AGENT_OF", "LEGAL_REP_OF",
                                                  "SHAREHOLDER_OF"], self.cfg.dashboard.max_scan_rows, 0)
            for n in nb.nodes.iter_rows(named=True):
                if n["node_id"] in found:
                    continue
                hub_count[n["node_id"]] = hub_count.get(n["node_id"], 0) + 1
                hub_info[n["node_id"]] = n
        hubs = [hub_info[h] for h, c in hub_count.items() if c >= 2]
        nodes += [{"node_id": h["node_id"], "label": h["label"], "name": h["name"]} for h in hubs]
        edges = self.links_among([n["node_id"] for n in nodes], ())
        return {"nodes": mask_frame(pl.DataFrame(nodes)).to_dicts(), "edges": edges}

    # --------------------------------------------------------------------- ownership
    def ownership(self, node_id: str, direction: str, depth: int | None = None) -> pl.DataFrame:
        """Shareholding chains up (who owns it) or down (what it owns), with cumulative ratios,
        and each far end's integrated share (the sum over its chains)."""
        if self.names([node_id]) == {}:
            raise DashboardError(f"no entity with id {node_id!r} in the graph")
        depth = depth or self.cfg.dashboard.ownership_depth
        try:
            chains = self._call("ownership", node_id, direction, depth)
        except ValueError as exc:
            raise DashboardError(str(exc)) from None
        if chains.height == 0:
            return chains
        integ = chains.group_by("node_id").agg(pl.col("ratio").sum().alias("integrated"))
        return mask_frame(chains.join(integ, on="node_id", how="left"))

    # -------------------------------------------------------------------- inspection
    def inspection(self, seed: int, budget: float, ratios: tuple[float, ...] | None = None,
                   live_only: bool | None = None):
        """Draw an inspection list (analytics.draw_inspection) with these parameters."""
        from credgraph.analytics import draw_inspection

        a = self.analysis()
        acfg = dataclasses.replace(self.cfg.analytics)
        if ratios is not None:
            if len(ratios) != 6 or any(not 0 <= r <= 1 for r in ratios):
                raise DashboardError("sampling ratios: six shares between 0 and 1 (A+, A, B, C, D, E)")
            acfg.sample_ratios = tuple(float(r) for r in ratios)
        if live_only is not None:
            acfg.inspect_live_only = bool(live_only)
        if not 0 <= budget <= 1:
            raise DashboardError("the budget is a share of enterprises between 0 and 1")
        extra = None
        if "uscc" in a.net.nodes.columns:
            extra = a.net.nodes.filter(pl.col("label") == "LegalPerson").select("node_id", "uscc")
        key = (int(seed), float(budget), tuple(acfg.sample_ratios), bool(acfg.inspect_live_only))
        if key in self._listings:  # the same parameters draw the same list: drawn once
            return self._listings[key]
        listing = draw_inspection(a.grades.grades, acfg, seed=int(seed), budget=float(budget), as_of=a.as_of,
                                  extra=extra)
        listing = dataclasses.replace(listing, targets=mask_frame(listing.targets))
        _remember(self._listings, key, listing, 32)
        return listing

    def inspection_csv(self, listing) -> bytes:
        """The list's CSV, byte for byte what :func:`credgraph.analytics.export_inspection`
        writes (``targets.write_csv``), made in memory (no XLSX made on the way)."""
        buf = io.BytesIO()
        listing.targets.write_csv(buf)
        return buf.getvalue()

    def inspection_files(self, listing, wait: bool = True) -> dict[str, bytes] | None:
        """The list as the analytics stage exports it (CSV, XLSX, JSON), as bytes for download;
        made once per list. With ``wait=False`` the files are made in a background thread (call
        it when the list is drawn, so the XLSX is ready when asked for) and None returned."""
        with self._files_lock:
            entry = self._files.get(id(listing))
            if entry is None or entry["listing"] is not listing:
                entry = {"listing": listing, "done": threading.Event(), "files": None, "error": None}
                _remember(self._files, id(listing), entry, 8)
                threading.Thread(target=self._make_files, args=(entry,), name="credgraph-inspection-files",
                                 daemon=True).start()
        if not wait:
            return None
        entry["done"].wait()
        if entry["error"]:
            raise DashboardError(f"the inspection files could not be written: {entry['error']}")
        return entry["files"]

    @staticmethod
    def _make_files(entry: dict) -> None:
        from credgraph.analytics import export_inspection

        try:
            with tempfile.TemporaryDirectory(prefix="credgraph-dash-") as d:
                paths = export_inspection(entry["listing"], d)
                entry["files"] = {p.suffix.lstrip("."): p.read_bytes() for p in paths}
        except Exception as exc:  # noqa: BLE001 - reported to whoever downloads
            log.exception("inspection export failed")
            entry["error"] = f"{type(exc).__name__}: {exc}"
        finally:
            entry["done"].set()

    # ------------------------------------------------------------------------ shells
    def shell_groups(self) -> pl.DataFrame:
        """Flagged shell-company groups, ranked, with evidence."""
        return mask_frame(self.analysis().shells.groups)

    def shell_candidates(self) -> pl.DataFrame:
        """Every candidate cluster (shared address, phone, agent or legal rep), ranked."""
        return mask_frame(self.analysis().shells.candidates)

    # ------------------------------------------------------------------------ review
    @property
    def entities_dir(self) -> Path:
        return self.cfg.workspace_path / "entities"

    def resolution(self):
        """The last resolution run (loaded once; judgements kept up to date)."""
        from credgraph.resolution import ResolutionError, load_resolution

        with self._res_lock:
            if self._resolution is None:
                if not (self.entities_dir / "run.json").is_file():
                    raise DashboardError(f"{self.entities_dir}: no resolution output; run `credgraph resolve` first")
                try:
                    self._resolution = load_resolution(self.entities_dir)
                except ResolutionError as exc:
                    raise DashboardError(str(exc)) from None
            return self._resolution

    def review_queue(self, include_decided: bool = False) -> pl.DataFrame:
        """Uncertain pairs (best first) with the latest decision taken on each, if any."""
        res = self.resolution()
        # one row per pair (the best-scoring evidence), most likely matches first; made once
        # per review table (only judgements change while the server runs)
        base = self._queue_base
        if base is None or base[0] != id(res.review):
            base = (id(res.review), res.review.sort("score", descending=True)
                    .unique(["left", "right"], keep="first", maintain_order=True))
            self._queue_base = base
        rv = base[1]
        if rv.height == 0:
            return rv
        j = res.judgements
        if j.height:
            last = (j.with_row_index("_n").sort("_n").group_by(["left", "right"], maintain_order=True).last()
                    .select("left", "right", "decision", "who", "when"))
            rv = rv.join(last, on=["left", "right"], how="left")
        else:
            rv = rv.with_columns(pl.lit(None, pl.Utf8).alias("decision"), pl.lit(None, pl.Utf8).alias("who"),
                                 pl.lit(None, pl.Utf8).alias("when"))
        if not include_decided:
            rv = rv.filter(pl.col("decision").is_null())
        return rv

    def mention(self, mention_id: str) -> dict:
        """One mention as read from its source (source file and row, name, identifiers masked)."""
        res = self.resolution()
        m = res.mentions.filter(pl.col("mention_id") == mention_id)
        if m.height == 0:
            raise DashboardError(f"no mention {mention_id!r} in the last resolution")
        row = m.row(0, named=True)
        try:
            row["entity_id"] = res.entity_of(mention_id)
        except KeyError:
            row["entity_id"] = None
        keep = ("mention_id", "entity_id", "catalog", "source_file", "source_row", "name", "uscc", "org_code", "reg_no",
                "id_number", "phone", "address", "relation", "type")
        return mask_record({k: row.get(k) for k in keep if k in row})

    def record_decision(self, left: str, right: str, decision: str, who: str, why: str) -> pl.DataFrame:
        """Store a match / no-match decision as a judgement (resolution.add_judgement); the
        next ``credgraph resolve`` applies it."""
        from credgraph.atomic import write_parquet
        from credgraph.resolution import JudgementError, ResolutionError, add_judgement

        res = self.resolution()
        with self._res_lock:
            try:
                j = add_judgement(res.judgements, left, right, decision, who=who or "", why=why or "",
                                  left_entity=res.entity_of(left), right_entity=res.entity_of(right))
            except KeyError as exc:
                raise DashboardError(f"no mention {exc.args[0]!r} in the last resolution") from None
            except (JudgementError, ResolutionError) as exc:
                raise DashboardError(str(exc)) from None
            from credgraph.dashboard.auth import current_actor, record_event
            from credgraph.resolution.judgements import append_journal

            append_journal(self.entities_dir, j.row(-1, named=True))  # kept even if a resolve runs now
            record_event(self.cfg, current_actor(), "review", target=f"{left} / {right}", decision=decision, who=who)
            write_parquet(j, self.entities_dir / "judgements.parquet")
            res.judgements = j
            return j

    # ------------------------------------------------------------------------ cypher
    def cypher(self, text: str):
        """Run an analyst's query read-only, row- and time-limited; the result's cells masked."""
        from credgraph.graph import QueryError

        text = (text or "").strip()
        if not text:
            raise DashboardError("type a Cypher query, e.g. MATCH (c:LegalPerson) RETURN c.name LIMIT 10")
        d = self.cfg.dashboard
        from credgraph.dashboard.auth import current_actor, record_event

        record_event(self.cfg, current_actor(), "query", cypher=text[:2000])
        try:
            res = self._call("query", text, None, d.cypher_row_limit, d.cypher_timeout_s)
        except QueryError as exc:
            msg = str(exc)
            if any(k in msg.lower() for k in ("parser exception", "syntax", "invalid input")):
                msg = f"not valid Cypher — {msg}"
            raise DashboardError(f"query refused: {msg}") from None
        frame = res.frame
        hidden = [c for c in frame.columns if c.split(".")[-1] in ("id_hash", "phone_hash")]
        if hidden:
            frame = frame.drop(hidden)
        frame = frame.with_columns([pl.col(c).map_elements(_mask_cell, return_dtype=pl.Utf8, skip_nulls=True)
                                    for c, t in frame.schema.items() if t == pl.Utf8])
        return dataclasses.replace(res, frame=mask_frame(_rename_masked(frame)))

    # ------------------------------------------------------------------------ charts
    def overview(self) -> dict[str, pl.DataFrame]:
        """The pictures of the home page: grade distribution, risk histogram, records per year
        and type, shell-cluster sizes."""
        a = self.analysis()
        dist = a.grades.distribution.select("grade", "enterprises")
        r = a.risk.scores.filter(pl.col("risk") > 0)["risk"].to_numpy()
        if len(r):
            # risk spans orders of magnitude: logarithmic bins
            lo, hi = max(float(r.min()), 1e-4), max(float(r.max()), 2e-4)
            bins = np.geomspace(lo, hi * 1.0001, 13)
            counts, _ = np.histogram(np.clip(r, lo, hi), bins=bins)
            hist = pl.DataFrame({"risk from": [f"≥{b:.2g}" for b in bins[:-1]],
                                 "entities": counts})
        else:
            hist = pl.DataFrame({"risk from": [], "entities": []}, schema={"risk from": pl.Utf8, "entities": pl.Int64})
        rec = a.net.records.filter(pl.col("date").is_not_null())
        per_year = (rec.group_by(pl.col("date").dt.year().alias("year"), "event_type").len()
                    .pivot(on="event_type", index="year", values="len").fill_null(0).sort("year"))
        sizes = a.shells.candidates.group_by("size").len().rename({"len": "clusters"}).sort("size")
        return {"grades": dist, "risk": hist, "records": per_year, "clusters": sizes}


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
