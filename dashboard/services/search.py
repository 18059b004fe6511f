"""Search: entities by name, code, ID number or pinyin, and what a user types resolved into one entity.

Part of the dashboard's data access (:class:`credgraph.dashboard.data.Workbench`, attribute
``find``): it asks the Workbench's store and analytics, keeps its own answers, and masks
what it returns.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

import polars as pl

from credgraph.dashboard.data import ENTITY_KINDS, PARTY_TYPES, DashboardError, _remember, log
from credgraph.dashboard.labels import EVENT_LABELS, LABEL_NAMES, REL_LABELS
from credgraph.dashboard.privacy import mask_frame

if TYPE_CHECKING:
    from credgraph.dashboard.data import Workbench


class Find:
    """Search: entities by name, code, ID number or pinyin, and what a user types resolved into one entity."""

    def __init__(self, w: "Workbench") -> None:
        self.w = w
        self._searches: dict[tuple, pl.DataFrame] = {}
        self._index = None
        self._ctx: pl.DataFrame | None = None
        self._ctx_lock = threading.Lock()

    def search(self, text: str, limit: int | None = None) -> pl.DataFrame:
        """Entities by name, code or pinyin (fuzzy; Chinese, traditional, full-width, initials),
        with their propagated risk and grade."""
        text = (text or "").strip()
        if not text:
            raise DashboardError("type a name, a code (USCC, organisation code, registration number, "
                                 "ID number) or pinyin to search")
        if len(text) > 200:
            raise DashboardError("the search text is too long (at most 200 characters)")
        limit = limit or self.w.cfg.dashboard.search_limit
        key = (text, limit)
        if key in self._searches:  # a rerun of the page, back and forth, or another visitor
            return self._searches[key]
        t0 = time.perf_counter()
        searcher = self.memory_search()
        if searcher is not None:  # the store's own search, its look-ups answered from memory
            with self.w._store_lock:  # a look-up it does not know goes to the store
                hits = searcher.search(text, limit=limit)
        else:
            hits = self.w._call("search", text, limit=limit)
        t1 = time.perf_counter()
        out = self.describe(hits)
        log.info("search: %d hit(s) from the store in %.3f s, described in %.3f s", hits.height, t1 - t0,
                 time.perf_counter() - t1)
        _remember(self._searches, key, out)
        return out

    def memory_search(self):
        """The store's search over the nodes in memory (:mod:`credgraph.dashboard.services.memsearch`),
        made once; None when the nodes lack the search columns (then the store answers)."""
        with self._ctx_lock:
            if getattr(self, "_mem", None) is None:
                from credgraph.dashboard.services.memsearch import MemorySearch

                store = self.w.store()
                try:
                    self._mem = MemorySearch(store.cfg, self.w.analysis().net.nodes, store)
                except ValueError as exc:
                    log.info("search from the store: %s", exc)
                    self._mem = False
            return self._mem or None

    def context(self) -> pl.DataFrame:
        """What tells entities of one name apart, per entity (made once from the network):
        node_id, rep_id / rep_name (a company's legal representative), address, district,
        phone (masked), role (a person's first company role, e.g. ``法定代表人 · 深圳市…公司``),
        firms (how many companies a person is linked to)."""
        with self._ctx_lock:
            if self._ctx is not None:
                return self._ctx
            t0 = time.perf_counter()
            a = self.w.analysis()
            nodes = a.net.nodes.select("node_id", "label", "name", *(c for c in ("district",) if c in a.net.nodes.columns))
            e = a.edges.select("src", "dst", "type")
            names = nodes.select("node_id", "name")
            reps = (e.filter(pl.col("type") == "LEGAL_REP_OF").group_by("dst").agg(pl.col("src").sort().first())
                    .join(names, left_on="src", right_on="node_id", how="left")
                    .select(pl.col("dst").alias("node_id"), pl.col("src").alias("rep_id"), pl.col("name").alias("rep_name")))
            addr_cols = [pl.col("name").alias("address")] + ([pl.col("district")] if "district" in nodes.columns else [])
            addrs = (e.filter(pl.col("type") == "LOCATED_AT").group_by("src").agg(pl.col("dst").sort().first())
                     .join(nodes.select("node_id", *addr_cols), left_on="dst", right_on="node_id", how="left")
                     .drop("dst").rename({"src": "node_id"}))
            phones = (e.filter(pl.col("type") == "USES_PHONE").group_by("src").agg(pl.col("dst").sort().first())
                      .join(names.rename({"name": "phone"}), left_on="dst", right_on="node_id", how="left")
                      .drop("dst").rename({"src": "node_id"}))
            rank = {t: i for i, t in enumerate(PARTY_TYPES)}
            roles = (e.filter(pl.col("type").is_in(["LEGAL_REP_OF", "SHAREHOLDER_OF", "OFFICER_OF"])
                              & pl.col("src").str.starts_with("N"))
                     .with_columns(pl.col("type").replace_strict(rank, default=9).alias("_r"))
                     .sort("src", "_r", "dst")
                     .group_by("src", maintain_order=True)
                     .agg(pl.col("type").first(), pl.col("dst").first(), pl.col("dst").n_unique().alias("firms"))
                     .join(names, left_on="dst", right_on="node_id", how="left")
                     .select(pl.col("src").alias("node_id"),
                             (pl.col("type").replace_strict({t: REL_LABELS[t][1] for t in REL_LABELS}, default="")
                              + " · " + pl.col("name").fill_null("")).alias("role"), "firms"))
            # a person with no company role: the records that name them (失信被执行人, 行政处罚…)
            recs = (a.net.records.filter(pl.col("owner_id").str.starts_with("N"))
                    .group_by("owner_id").agg(pl.col("event_type").unique().sort())
                    .select(pl.col("owner_id").alias("node_id"),
                            ("记录 · " + pl.col("event_type").list.eval(
                                pl.element().replace_strict(EVENT_LABELS, default=pl.element())).list.join("、"))
                            .alias("records")))
            ctx = (nodes.filter(pl.col("label").is_in(list(ENTITY_KINDS))).select("node_id")
                   .join(reps, on="node_id", how="left").join(addrs, on="node_id", how="left")
                   .join(phones, on="node_id", how="left").join(roles, on="node_id", how="left")
                   .join(recs, on="node_id", how="left")
                   .with_columns(pl.coalesce("role", "records").alias("role")).drop("records"))
            if "district" not in ctx.columns:
                ctx = ctx.with_columns(pl.lit(None, pl.Utf8).alias("district"))
            # names, addresses and the phone nodes' names (stored masked) only: no per-cell masking
            # here — a Python function per cell in this warm-up thread, while a page masks its
            # table, can stall both (polars runs both on one pool)
            self._ctx = ctx
            log.info("search context made in %.2f s", time.perf_counter() - t0)
            return self._ctx

    def describe(self, hits: pl.DataFrame) -> pl.DataFrame:
        """Hits (node_id, label, name, match, ...) with what tells them apart: 类型 (type),
        code (USCC, or the masked ID number), legal representative (or a person's role),
        district, status, grade and risk; masked."""
        a = self.w.analysis()
        ids = hits["node_id"].to_list()
        idx = self.w._index_of(ids) if ids else []
        cols = [c for c in ("uscc", "id_masked", "status", "industry") if c in a.net.nodes.columns]
        props = (a.net.nodes.select(cols)[[int(i) for i in idx]] if ids and all(int(i) >= 0 for i in idx)
                 else pl.DataFrame({c: [None] * len(ids) for c in cols}, schema={c: pl.Utf8 for c in cols}))
        props = props.with_columns([pl.col(c).cast(pl.Utf8) for c in cols])
        ctx = self.w.rows_in(self.context(), "node_id", ids)  # the hits' rows only: no join over every entity
        out = pl.concat([hits, props], how="horizontal").join(ctx, on="node_id", how="left")
        return mask_frame(out.with_columns(
            pl.col("label").replace_strict(LABEL_NAMES, default="").alias("type"),
            pl.coalesce("uscc" if "uscc" in cols else pl.lit(None, pl.Utf8),
                        "id_masked" if "id_masked" in cols else pl.lit(None, pl.Utf8)).alias("code"),
            pl.col("node_id").map_elements(lambda x: a.risk_of.get(x), return_dtype=pl.Float64).alias("risk"),
            pl.col("node_id").map_elements(lambda x: a.grade_of.get(x), return_dtype=pl.Utf8).alias("grade"),
        ))

    def resolve(self, text: str) -> tuple[str | None, pl.DataFrame]:
        """What a user typed in an entry box — an entity id, a USCC or other code, an ID number or a
        name — as ``(node_id, candidates)``: the one entity it designates (candidates empty), or
        None and the described candidates to choose from (empty when nothing matches)."""
        text = (text or "").strip()
        if not text:
            raise DashboardError("type a name, a USCC or an ID number")
        if self.w.names([text]):
            return text, pl.DataFrame()
        best = self.quick_match(text)
        if best.height:
            return best["node_id"][0], pl.DataFrame()
        hits = self.search(text, limit=50)
        exact = hits.filter(pl.col("match").is_in(["exact name", "uscc", "org code", "reg no", "id number"]))
        if exact.height == 1:
            return exact["node_id"][0], pl.DataFrame()
        return None, hits  # several, or only look-alikes: the user chooses

    def entity_index(self):
        """analytics.EntityIndex over the network (codes and every name written), built once."""
        a = self.w.analysis()
        with self.w._lazy_lock:
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
        a = self.w.analysis()
        if r["node_id"] is None or r["method"] in ("fuzzy_name", "masked_id+name"):
            return pl.DataFrame(schema=schema)
        label, name = self.w.names([r["node_id"]]).get(r["node_id"], ("", r["node_id"]))
        if r["method"] == "name" and (label != "LegalPerson" or r["status"] != "resolved"):
            return pl.DataFrame(schema=schema)  # person names and shared names: see the full list
        method = {"name": "exact name", "org_code": "org code", "reg_no": "reg no", "id_number": "id number",
                  "node_id": "entity id"}.get(r["method"], r["method"])
        return mask_frame(pl.DataFrame([{"node_id": r["node_id"], "label": label, "name": name, "match": method,
                                         "risk": a.risk_of.get(r["node_id"]), "grade": a.grade_of.get(r["node_id"])}],
                                       schema=schema))
