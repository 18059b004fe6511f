"""Profiles: one entity's identity, grade, risk and its sources, records and related parties.

Part of the dashboard's data access (:class:`credgraph.dashboard.data.Workbench`, attribute
``profiles``): it asks the Workbench's store and analytics, keeps its own answers, and masks
what it returns.
"""

from __future__ import annotations

import functools
import threading
import time
from typing import TYPE_CHECKING

import polars as pl

from credgraph.dashboard.data import (ENTITY_KINDS, PARTY_TYPES, DashboardError, Profile, _remember, log)
from credgraph.dashboard.labels import (DIMENSION_LABELS, EVENT_LABELS, INDICATOR_LABELS, LABEL_NAMES, RISK_EVENTS,
                                        fmt_amount, fmt_capital, relation_text, status_label)
from credgraph.dashboard.privacy import mask_frame, mask_record

if TYPE_CHECKING:
    from credgraph.dashboard.data import Workbench


@functools.lru_cache(maxsize=1)
def _indicator_events() -> dict[str, str]:
    """Indicator name -> the event type whose records it counts (the indicator file's ``event:`` sources)."""
    from credgraph.analytics.indicators import IndicatorError, load_indicators

    try:
        return {i.name: i.key for i in load_indicators() if i.kind == "event"}
    except IndicatorError:
        return {}


class Profiles:
    """Profiles: one entity's identity, grade, risk and its sources, records and related parties."""

    def __init__(self, w: "Workbench") -> None:
        self.w = w
        self._sources: dict[str, pl.DataFrame] = {}
        self._sources_lock = threading.Lock()

    def profile(self, node_id: str, explain: bool = True) -> Profile:
        """Identity, grade with its explanation, propagated risk with top sources, records,
        related parties, controller and beneficial owners of one entity.

        With ``explain=False`` risk sources come only from what is already explained (the
        page shows the rest at once and explains afterwards; ``sources_pending`` says so)."""
        node_id = (node_id or "").strip()
        if not node_id:
            raise DashboardError("no entity chosen: search for one first")
        a = self.w.analysis()
        ident = self.w.node(node_id)
        if ident is None:
            raise DashboardError(f"no entity with id {node_id!r} in the graph (search by name or code instead)")
        kind = ident.get("label", "")
        if kind not in ENTITY_KINDS:
            raise DashboardError(f"{node_id!r} is a {kind} node, not a company or person")
        grade, contrib = None, pl.DataFrame()
        g = self.w.rows(a.grades.grades, "node_id", node_id)
        if g.height:
            grade = g.drop("idx", strict=False).row(0, named=True)
            contrib = (self.w.rows(a.grades.contributions, "node_id", node_id).filter(pl.col("points").abs() > 1e-9)
                       .sort("points").drop("node_id"))
        r = self.w.rows(a.risk.scores, "node_id", node_id)
        risk = r.row(0, named=True) if r.height else {}
        risk["entities"] = a.risk.scores.height
        sources = self.risk_sources(node_id, risk, compute=explain)
        pending = sources.height == 0 and (risk.get("received") or 0) > 0 and not explain
        timeline = self.timeline(node_id)
        related = self.related(node_id)
        sharing = mask_frame(self.w._call("sharing", node_id))
        controller, owners, controls = None, pl.DataFrame(), pl.DataFrame()
        if kind == "LegalPerson":
            c = self.w.rows(self.w.controllers(), "company_id", node_id)
            if c.height:
                controller = c.row(0, named=True)
                controller["chain_names"] = [self.w.names([x]).get(x, ("", x))[1] for x in controller["chain"] or []]
            owners = self.w.rows(self.w.beneficial_owners(), "company_id", node_id).sort(
                "integrated_ratio", descending=True)
        else:
            controls = self.w.rows(self.w.controllers(), "controller_id", node_id).select(
                "company_id", "company_name", "control_votes", "integrated_ratio")
            owners = self.w.rows(self.w.beneficial_owners(), "owner_id", node_id).sort(
                "integrated_ratio", descending=True)
        shell = None
        sf = self.w.rows(a.shells.firms, "node_id", node_id)
        if sf.height:
            shell = sf.row(0, named=True)
        return Profile(node_id=node_id, kind=kind, identity=ident, grade=grade, contributions=contrib, risk=risk,
                       sources=sources, timeline=timeline, related=related, sharing=sharing, controller=controller,
                       owners=mask_frame(owners), controls=controls, shell=shell, as_of=a.as_of,
                       sources_pending=pending, header=self.header(node_id, ident),
                       risk_scan=self.risk_scan(node_id), reasons=self.grade_reasons(node_id, sources))

    def header(self, node_id: str, ident: dict | None = None) -> dict:
        """The report's header (masked): type, code, legal representative (id, name), registered
        address, district, phone, status, capital, industry, legal form, established."""
        ident = ident or self.w.node(node_id) or {}
        ctx = self.w.rows(self.w.find.context(), "node_id", node_id)
        c = ctx.row(0, named=True) if ctx.height else {}
        out = {"类型": LABEL_NAMES.get(ident.get("label", ""), ""),
               "统一社会信用代码": ident.get("uscc"), "身份证号": ident.get("id_masked"),
               "法定代表人": c.get("rep_name"), "_rep_id": c.get("rep_id"),
               "角色": None if c.get("rep_name") else c.get("role"),
               "注册地址": c.get("address"), "所在区": c.get("district"), "联系电话": c.get("phone"),
               "登记状态": ident.get("status"), "注册资本": fmt_capital(ident.get("registered_capital")) or None,
               "行业": ident.get("industry"), "企业类型": ident.get("legal_form"),
               "成立日期": str(ident["est_date"]) if ident.get("est_date") else None}
        return mask_record({k: v for k, v in out.items() if v not in (None, "")})

    def risk_scan(self, node_id: str) -> pl.DataFrame:
        """风险扫描 as credit sites show it: counts of risk records by category — 自身风险 (the
        entity's current records), 关联风险 (current records of its shareholders, legal
        representative, officers, branches, agents and the firms it holds or serves),
        历史风险 (its expired, repaired or removed records) — and event type (Chinese)."""
        a = self.w.analysis()
        risky = pl.col("event_type").is_in(list(RISK_EVENTS))
        current = pl.col("status").is_null() | (pl.col("status") == "active")
        e = self.w.rows(a.edges, "src", node_id, "dst").filter(pl.col("type").is_in(list(PARTY_TYPES)))
        others = sorted((set(e["src"].to_list()) | set(e["dst"].to_list())) - {node_id})
        own = self.w.rows(a.net.records, "owner_id", node_id).filter(risky)
        theirs = pl.concat([self.w.rows(a.net.records, "owner_id", x) for x in others]) if others else own.clear()
        parts = [own.filter(current).with_columns(pl.lit("自身风险").alias("category")),
                 theirs.filter(risky & current).with_columns(pl.lit("关联风险").alias("category")),
                 own.filter(~current).with_columns(pl.lit("历史风险").alias("category"))]
        rows = pl.concat([x.select("category", "event_type", "owner_id") for x in parts])
        schema = {"category": pl.Utf8, "event": pl.Utf8, "count": pl.UInt32, "subjects": pl.UInt32}
        if rows.height == 0:
            return pl.DataFrame(schema=schema)
        order = {"自身风险": 0, "关联风险": 1, "历史风险": 2}
        out = (rows.group_by("category", "event_type").agg(pl.len().alias("count"),
                                                           pl.col("owner_id").n_unique().alias("subjects"))
               .with_columns(pl.col("category").replace_strict(order).alias("_o"),
                             pl.col("event_type").replace_strict(EVENT_LABELS, default=pl.col("event_type")).alias("event"))
               .sort("_o", "count", "event", descending=[False, True, False]).select("category", "event", "count", "subjects"))
        return out.cast({"count": pl.UInt32, "subjects": pl.UInt32})

    def grade_reasons(self, node_id: str, sources: pl.DataFrame | None = None) -> list[dict]:
        """Why the grade: each indicator that cost (or gave) points, in Chinese, with the
        records or facts behind it (case numbers, authorities, dates, amounts; the legal
        representative and how many firms; the shared address; the riskiest related party)."""
        a = self.w.analysis()
        c = self.w.rows(a.grades.contributions, "node_id", node_id).filter(pl.col("points").abs() > 0.05)
        if c.height == 0:
            return []
        f = self.w.rows(a.grades.features, "node_id", node_id)
        feat = f.row(0, named=True) if f.height else {}
        recs = self.w.rows(a.net.records, "owner_id", node_id)
        ctx = self.w.rows(self.w.find.context(), "node_id", node_id)
        cx = ctx.row(0, named=True) if ctx.height else {}
        by_event = _indicator_events()
        out = []
        for r in c.sort("points").iter_rows(named=True):
            ind = r["indicator"]
            detail = ""
            if ind in by_event:
                rs = recs.filter(pl.col("event_type") == by_event[ind]).sort("date", descending=True, nulls_last=True)
                items = []
                for x in rs.head(3).iter_rows(named=True):
                    bits = [str(x["date"] or ""), x.get("authority") or "", x.get("case_no") or "",
                            fmt_amount(x.get("amount")) if x.get("amount") else "",
                            f"等级 {x['grade']}" if x.get("grade") else "", status_label(x.get("status"))]
                    items.append(" ".join(b for b in bits if b))
                detail = f"{rs.height} 条{EVENT_LABELS.get(by_event[ind], ind)}记录: " + "; ".join(items) + (
                    " …" if rs.height > 3 else "") if rs.height else ""
            elif ind == "rep_many_firms":
                detail = f"法定代表人 {cx.get('rep_name') or ''} 担任 {int(feat.get('rep_firms') or 0)} 家企业的法定代表人"
            elif ind == "shared_address":
                detail = f"注册地址 {cx.get('address') or ''} 登记了 {int(feat.get('addr_firms') or 0)} 家企业"
            elif ind == "no_staff":
                detail = "社保记录中无参保人员"
            elif ind == "young":
                detail = f"成立于 {feat.get('est_date') or ''}"
            elif ind == "tiny_capital":
                detail = f"注册资本 {fmt_capital(feat.get('capital')) or '未登记'}"
            elif ind == "bad_status":
                detail = f"登记状态 {feat.get('reg_status') or ''}"
            elif ind == "related_risk" and sources is not None and sources.height:
                top = sources.row(0, named=True)
                detail = f"主要来源 {top.get('source_name')}（{top.get('hops')} 层关系）"
            out.append({"indicator": INDICATOR_LABELS.get(ind, ind), "dimension": DIMENSION_LABELS.get(r["dimension"], r["dimension"]),
                        "points": f"{float(r['points']):+.1f}", "detail": detail})
        return [mask_record(x) for x in out]
    def stored_sources(self) -> pl.DataFrame | None:
        """The risk sources written by the analytics stage (``analytics/risk_sources.parquet``)
        when they are newer than the graph, else None."""
        if not hasattr(self, "_stored"):
            self._stored = None
            p = self.w.cfg.workspace_path / "analytics" / "risk_sources.parquet"
            graph_file = self.w.cfg.workspace_path / "graph"
            if self.w.backend == "embedded":
                from credgraph.graph import embedded_path

                graph_file = embedded_path(self.w.cfg) / "graph.lbug"
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
        a = self.w.analysis()
        src = self.w.rows(a.risk.sources, "node_id", node_id)
        stored = self.stored_sources()
        if src.height == 0 and stored is not None and {"node_id", "source_id"} <= set(stored.columns):
            src = self.w.rows(stored, "node_id", node_id)
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
        a = self.w.analysis()
        rec = self.w.rows(a.net.records, "owner_id", node_id)
        if rec.height == 0:
            return pl.DataFrame(schema={"date": pl.Date, "event_type": pl.Utf8, "status": pl.Utf8})
        extra = [c for c in ("catalog", "source_unit") if c in a.net.nodes.columns]
        if extra:
            idx = self.w._index_of(rec["record_node"].to_list())
            more = a.net.nodes.select(extra)[idx]
            rec = pl.concat([rec, more], how="horizontal")
        cols = [c for c in ("date", "event_type", "status", "catalog", "source_unit", "authority", "case_no",
                            "amount", "grade", "reason", "count", "end_date", "record_node") if c in rec.columns]
        out = rec.select(cols).sort("date", descending=True, nulls_last=True).head(self.w.cfg.dashboard.timeline_limit)
        return mask_frame(out.rename({"record_node": "record"}))
    def related(self, node_id: str) -> pl.DataFrame:
        """Related parties: who holds, represents, serves, registered or branches off this
        entity, and what it holds, represents or serves (every link, not one per party)."""
        a = self.w.analysis()
        e = self.w.rows(a.edges, "src", node_id, "dst").filter(pl.col("type").is_in(list(PARTY_TYPES)))
        schema = {"relation": pl.Utf8, "node_id": pl.Utf8, "name": pl.Utf8, "label": pl.Utf8, "ratio": pl.Float64,
                  "risk": pl.Float64, "grade": pl.Utf8}
        if e.height == 0:
            return pl.DataFrame(schema=schema)
        others = [d if s == node_id else s for s, d in zip(e["src"].to_list(), e["dst"].to_list())]
        names = self.w.names(others)
        rows = []
        for other, r in zip(others, e.iter_rows(named=True)):
            lab, name = names.get(other, ("", other))
            rows.append({"relation": relation_text(r["type"], r["src"] == node_id, r.get("role")), "node_id": other,
                         "name": name, "label": lab, "ratio": r.get("ratio"), "risk": a.risk_of.get(other),
                         "grade": a.grade_of.get(other)})
        order = {t: i for i, t in enumerate(PARTY_TYPES)}
        out = pl.DataFrame(rows, schema=schema)
        return mask_frame(out.with_columns(pl.Series("_t", [order.get(t, 9) for t in e["type"].to_list()]))
                          .sort(["_t", "ratio", "name"], descending=[False, True, False], nulls_last=True).drop("_t"))

    def measures(self, node_id: str) -> pl.DataFrame:
        """The joint reward and punishment measures that apply now to ``node_id`` (the configured
        catalogue, else the sample one), one row per measure and triggering record."""
        from credgraph.analytics.measures import measures_for

        a = self.w.analysis()
        i = int(a.net.index_of([node_id])[0])
        if i < 0:
            raise DashboardError(f"no entity with id {node_id!r} in the graph")
        catalogue, links, recs = self.measure_inputs()
        # only the records of the entities a measure can reach this one from (itself, its legal
        # representative, shareholders, officers, ...): measures_for then splits a few rows,
        # not every record of the city
        owners = {i} | {src for m in catalogue for reach in m.reach
                        for src in links.sources(i, reach, m.shareholder_min_ratio)}
        recs = self.w.rows_in(recs, "owner", sorted(owners))
        rows = []
        for m in measures_for(a.net, catalogue, recs, [i], a.as_of, links=links)[0]:
            for r in m["records"]:
                rows.append({"措施 measure": f"{m['id']} {m['name']}", "类别 kind": "惩戒" if m["kind"] == "punishment" else "激励",
                             "依据 basis": m["legal_basis"], "经由 via": "; ".join(r["relation"]),
                             "触发记录 record": f"{EVENT_LABELS.get(r['event_type'], r['event_type'])} {r['case_no'] or ''} "
                                               f"{r['date'] or ''}".strip(),
                             "至 until": r["until"] or ""})
        return pl.DataFrame(rows, schema={k: pl.Utf8 for k in ("措施 measure", "类别 kind", "依据 basis", "经由 via",
                                                                 "触发记录 record", "至 until")})

    def measure_inputs(self):
        """The measure catalogue (the configured one, else the sample), the party links and the
        active records, made once per server."""
        from credgraph.analytics.measures import CatalogueError, PartyLinks, load_catalogue
        from credgraph.analytics.propagation import active_records

        a = self.w.analysis()
        with self._sources_lock:
            got = getattr(self, "_measure_inputs", None)
            if got is None or got[0] is not a:
                try:
                    catalogue = load_catalogue(self.w.cfg.api.measures or None)
                except CatalogueError as exc:
                    raise DashboardError(str(exc)) from None
                # the risk result's records are these very ones (compute_risk reads active_records
                # with the same settings and date): not made twice (a million rows at 1M entities)
                recs = a.risk.records if a.risk.records is not None else active_records(
                    a.net, self.w.cfg.analytics, a.as_of)
                got = self._measure_inputs = (a, catalogue, PartyLinks(a.net), recs)
        return got[1:]

    def grade_history(self, node_id: str) -> pl.DataFrame:
        """The entity's grade in each recorded analytics run, with what moved it (``credgraph grade --diff``)."""
        from credgraph.analytics.history import grade_history

        rows = [{"运行 run": h["run"], "日期 as of": str(h["as_of"] or ""), "等级 grade": h["grade"],
                 "上次 before": h["prev_grade"] or "", "原因 because": h["because"] or ""}
                for h in grade_history(self.w.cfg, node_id)]
        return pl.DataFrame(rows, schema={k: pl.Utf8 for k in ("运行 run", "日期 as of", "等级 grade", "上次 before",
                                                                 "原因 because")})

    def _api_db(self):
        """The data interface's own database (reports are registered there), opened once."""
        with self._sources_lock:
            if getattr(self, "_db", None) is None:
                from credgraph.api.db import ApiDB

                self._db = ApiDB(self.w.cfg.workspace_path / "api" / "api.sqlite")
            return self._db

    def report_content(self, node_id: str, actor: str = "dashboard") -> dict:
        """The credit report's content, numbered, hashed and registered in the data interface's
        database (so ``GET /v1/reports/{number}/verify`` knows it), built from the dashboard's
        own analysis: the same content the data interface's service builds (the same network,
        risk, grades, records and parties), without loading that service (1–3 minutes at
        100k entities). When a credit repair has been approved, the service's state differs
        from the stored graph's (repairs change risk and grades), so the service builds it."""
        import secrets

        from credgraph.analytics.report import build_report, report_hash
        from credgraph.api.db import utc_now

        a = self.w.analysis()
        db = self._api_db()
        if db.repairs(status="approved"):
            from credgraph.api.service import shared_service

            scopes = ("public", "reports", "personal")
            return shared_service(self.w.cfg).report(node_id, scopes, actor)
        net = a.net
        i = int(net.index_of([node_id])[0])
        if i < 0 or not net.entity_mask[i]:
            raise DashboardError(f"no entity {node_id!r}")
        g = self.w.rows(a.grades.grades, "node_id", node_id).select("grade", "score", "reasons")
        grade = None
        if g.height:
            grade = g.row(0, named=True) | {"as_of": a.as_of.isoformat()}
        records = self.w.rows(a.risk.records, "owner", i)
        e = self.w.rows(a.edges, "dst", node_id).filter(pl.col("type").is_in(["SHAREHOLDER_OF", "OFFICER_OF",
                                                                                "LEGAL_REP_OF"]))
        parties: dict[str, list[dict]] = {"shareholders": [], "officers": [], "legal_rep": []}
        idx = net.index_of(e["src"].to_list())
        for r, j in zip(e.iter_rows(named=True), idx):
            if j < 0:
                continue
            who = {"id": str(net.ids[j]), "name": net.describe(int(j))}
            if r["type"] == "SHAREHOLDER_OF":
                parties["shareholders"].append(who | {"label": "legal" if net.labels[j] == "LegalPerson" else "natural",
                                                      "ratio": _float(r.get("ratio")), "capital": _float(r.get("capital"))})
            elif r["type"] == "OFFICER_OF":
                parties["officers"].append(who | {"role": r.get("role")})
            else:
                parties["legal_rep"].append(who)
        repairs = [{"id": r["id"], "record_id": r["record_id"], "status": r["status"], "updated": r["updated"]}
                   for r in db.repairs(entity_id=str(net.ids[i]))]
        generated = utc_now()
        number = "CGR-" + generated[:10].replace("-", "") + "-" + secrets.token_hex(4).upper()
        content = build_report(net, i, grade=grade, records=records, repairs=repairs, number=number,
                               generated=generated, parties=parties)
        content["verification_hash"] = report_hash(content)
        db.add_report(number, content["entity_id"], actor, generated, content["verification_hash"])
        return content

    def report_pdf(self, node_id: str) -> bytes:
        """The numbered, verifiable PDF credit report (the data interface's renderer, from the
        dashboard's own analysis: :meth:`report_content`); logged as a download."""
        from credgraph.analytics.report import ReportError, render_pdf
        from credgraph.dashboard.auth import current_actor, record_event

        actor = current_actor()
        if self.w.node(node_id) is None:
            raise DashboardError(f"no entity with id {node_id!r} in the graph")
        try:
            pdf = render_pdf(self.report_content(node_id, actor=f"dashboard:{actor}"), self.w.cfg.api.report_font)
        except (ReportError, LookupError, PermissionError) as exc:
            raise DashboardError(str(exc)) from None
        record_event(self.w.cfg, actor, "download", target=node_id, what="credit report PDF")
        return pdf


def _float(v) -> float | None:
    """A number as the data interface writes it (None for missing or NaN)."""
    try:
        v = float(v)
    except (TypeError, ValueError):
        return None
    return None if v != v else v
