"""What the API answers, in-process: the credit network read once, its risk and grades, the
matcher, the measure catalogue, and the API's own state (:class:`~credgraph.api.db.ApiDB`).

A :class:`Service` is built once per server (a 100k-entity city: about 10-20 s) and then answers
from memory. A credit repair, once approved, changes the record's status and updates the state
in one step: the owner's seed risk changes, the change is propagated through the kept
transmission matrix (risk is linear in the seed), and the grades of the enterprises whose
risk or records changed are recomputed and replaced — no other entity's grade is touched.
Each changed record, repair and grade goes to the change feed (``GET /v1/changes``).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from credgraph.analytics.frames import load_frames
from credgraph.analytics.grading import grade_enterprises
from credgraph.analytics.measures import CatalogueError, Measure, PartyLinks, load_catalogue, measures_for
from credgraph.analytics.network import CreditNetwork, resolve_as_of
from credgraph.analytics.propagation import active_records, compute_risk
from credgraph.analytics.repair import RepairError, apply_repair
from credgraph.analytics.report import CATEGORIES, build_report, render_pdf, report_hash
from credgraph.identifiers import mask_id

from .db import ApiDB, utc_now
from .matching import open_matcher

__all__ = ["Service", "NotFound", "Forbidden", "Conflict", "shared_service"]

PARTY_TYPES = ("SHAREHOLDER_OF", "LEGAL_REP_OF", "OFFICER_OF", "BRANCH_OF", "AGENT_OF")
_REL_TEXT = {("SHAREHOLDER_OF", True): "shareholder of", ("SHAREHOLDER_OF", False): "has shareholder",
             ("LEGAL_REP_OF", True): "legal representative of", ("LEGAL_REP_OF", False): "has legal representative",
             ("OFFICER_OF", True): "officer of", ("OFFICER_OF", False): "has officer",
             ("BRANCH_OF", True): "branch of", ("BRANCH_OF", False): "has branch",
             ("AGENT_OF", True): "registration agent of", ("AGENT_OF", False): "registered by agent"}
_CAT_OF = {e: k for k, _, es in CATEGORIES for e in es}


class NotFound(LookupError):
    """No such entity, record, report or repair application."""


class Forbidden(PermissionError):
    """The caller's key lacks the scope this needs."""


class Conflict(ValueError):
    """The request does not fit the current state (e.g. repairing an inactive record)."""


@dataclass
class _State:
    """One consistent snapshot of the analysed network (replaced whole on a repair)."""

    net: CreditNetwork
    risk: Any
    records: pl.DataFrame          # active_records, sorted by owner
    rec_owner: np.ndarray
    grades: dict[str, dict]        # node_id -> grade, score, reasons
    grade_frame: pl.DataFrame
    cuts: list | None              # grade cut points in force (from the last full grading)


class Service:
    """The API's answers over one workspace (see the module docstring)."""

    def __init__(self, cfg, frames_dir: str | Path | None = None, as_of: str | None = None,
                 matcher_process: bool = False):
        self.cfg = cfg
        self.acfg = cfg.analytics
        self.db = ApiDB(cfg.workspace_path / "api" / "api.sqlite")
        self.lock = threading.RLock()
        self._matcher = None
        if matcher_process:  # the worker opens the Matcher while this process analyses
            from .matching import open_matcher as _open

            self._matcher = _open(cfg, process=True)
        nodes, edges = load_frames(cfg, frames_dir)
        net = CreditNetwork.from_frames(nodes, edges)
        self.as_of = resolve_as_of(net, as_of or self.acfg.as_of)
        approved = [r["record_id"] for r in self.db.repairs(status="approved")]
        if approved:  # repairs approved in earlier runs stay applied
            net = dataclasses.replace(net, records=net.records.with_columns(
                pl.when(pl.col("record_node").is_in(approved)).then(pl.lit("repaired")).otherwise(pl.col("status"))
                .alias("status")))
        self._party(edges, net)
        self.links = PartyLinks(net)
        self.catalogue = load_catalogue(cfg.api.measures or None)
        self.state = self._analyse(net)
        self._warm_pdf()

    @property
    def matcher(self):
        """Resolution's Matcher, opened on first use (reports and the dashboard never need it)."""
        with self.lock:
            if self._matcher is None:
                self._matcher = open_matcher(self.cfg)
            return self._matcher

    def _warm_pdf(self) -> None:
        """Load the CJK font once now (about 1 s), not on the first report request."""
        from credgraph.analytics.report import ReportError, warm_font

        try:
            warm_font(self.cfg.api.report_font)
        except ReportError:
            pass  # reported when a PDF is asked for

    # ------------------------------------------------------------------ building
    def _analyse(self, net: CreditNetwork) -> _State:
        risk = compute_risk(net, self.acfg, self.as_of, explain=0)
        grades = grade_enterprises(net, self.acfg, self.as_of, risk)
        return self._state(net, risk, grades.grades, list(grades.cuts) or None)

    def _state(self, net, risk, grade_frame: pl.DataFrame, cuts: list | None) -> _State:
        recs = risk.records.sort("owner", maintain_order=True)
        g = grade_frame.select("node_id", "grade", "score", "reasons")
        grades = {r[0]: {"grade": r[1], "score": r[2], "reasons": r[3], "as_of": self.as_of.isoformat()} for r in g.iter_rows()}
        return _State(net=net, risk=risk, records=recs, rec_owner=recs["owner"].to_numpy(), grades=grades,
                      grade_frame=grade_frame, cuts=cuts)

    def _party(self, edges: pl.DataFrame, net: CreditNetwork) -> None:
        """Party links with their properties (ratio, capital, role), looked up by either end."""
        e = edges.filter(pl.col("type").is_in(PARTY_TYPES))
        cols = [c for c in ("ratio", "capital", "role") if c in e.columns]
        e = e.select("src", "dst", "type", *cols)
        s = net.index_of(e["src"].to_list())
        d = net.index_of(e["dst"].to_list())
        e = e.with_columns(pl.Series("s", s), pl.Series("d", d)).filter((pl.col("s") >= 0) & (pl.col("d") >= 0))
        self._by_src = e.sort("s")
        self._by_dst = e.sort("d")
        self._src_arr = self._by_src["s"].to_numpy()
        self._dst_arr = self._by_dst["d"].to_numpy()

    # ------------------------------------------------------------------ look-ups
    def index(self, entity_id: str) -> int:
        """The node index of an entity (NotFound when it is not a person or company)."""
        net = self.state.net
        i = int(net.index_of([entity_id])[0])
        if i < 0 or not net.entity_mask[i]:
            raise NotFound(f"no entity {entity_id!r}")
        return i

    def _records_of(self, st: _State, i: int) -> pl.DataFrame:
        lo, hi = np.searchsorted(st.rec_owner, i), np.searchsorted(st.rec_owner, i, side="right")
        return st.records.slice(int(lo), int(hi - lo))

    def _links(self, i: int) -> list[dict]:
        net = self.state.net
        out = []
        for frame, arr, outgoing in ((self._by_src, self._src_arr, True), (self._by_dst, self._dst_arr, False)):
            lo, hi = np.searchsorted(arr, i), np.searchsorted(arr, i, side="right")
            for r in frame.slice(int(lo), int(hi - lo)).iter_rows(named=True):
                j = r["d"] if outgoing else r["s"]
                out.append({"id": str(net.ids[j]), "name": net.describe(j), "type": _kind(net.labels[j]),
                            "relation": _REL_TEXT[(r["type"], outgoing)], "rel_type": r["type"],
                            "outgoing": outgoing, "ratio": _f(r.get("ratio")), "capital": _f(r.get("capital")),
                            "role": r.get("role")})
        return out

    def entity(self, entity_id: str, scopes: tuple[str, ...] = ("public",)) -> dict:
        """Identity, status, grade with reasons, risk, active records by category, related parties."""
        st = self.state
        i = self.index(entity_id)
        net = st.net
        row = net.nodes.row(i, named=True)
        person = net.labels[i] == "NaturalPerson"
        if person and "personal" not in scopes:
            raise Forbidden("this entity is a natural person: personal information needs the 'personal' scope")
        recs = self._records_of(st, i)
        active: dict[str, list] = {}
        for r in recs.filter(pl.col("active")).sort("date", descending=True, nulls_last=True).iter_rows(named=True):
            k = _CAT_OF.get(r["event_type"] or "")
            if k is None or (k == "tax" and r["event_type"] == "tax_rating" and r["severity"] == 0
                             and (r["grade"] or "").upper() not in ("C", "D")):
                continue
            active.setdefault(k, []).append(_rec(r))
        if person:
            identity = {"id_number": mask_id(row.get("id_masked") or row.get("id_number") or "") or None}
        else:
            identity = {k: row.get(k) for k in ("uscc", "org_code", "reg_no")}
        reg = {} if person else {k: _f(row.get(k)) if k == "registered_capital" else _iso(row.get(k))
                                 for k in ("legal_form", "industry", "registered_capital", "est_date", "district")}
        return {
            "id": str(net.ids[i]), "type": _kind(net.labels[i]), "name": net.describe(i),
            "names": list(row.get("names") or []) or [net.describe(i)],
            "identity": identity, "status": row.get("status"), "registration": reg,
            "grade": st.grades.get(str(net.ids[i])),
            "risk": {"own": round(float(st.risk.seed[i]), 6), "propagated": round(float(st.risk.risk[i]), 6),
                     "as_of": self.as_of.isoformat()},
            "active_records": active,
            "related": self._links(i),
        }

    # ------------------------------------------------------------------ match
    def match(self, examples: list[dict], limit: int | None = None, threshold: float | None = None) -> list[dict]:
        """Ranked candidates and a decision per example (see :mod:`credgraph.api.matching`)."""
        return self.matcher.match_many(examples, limit=limit or self.cfg.api.match_limit, threshold=threshold)

    async def amatch_json(self, examples: list[dict], limit: int | None = None,
                          threshold: float | None = None) -> list[str]:
        """:meth:`match`'s results as JSON text, awaited on the server's event loop (no thread held)."""
        return await self.matcher.amatch_json(examples, limit=limit or self.cfg.api.match_limit, threshold=threshold)

    # ------------------------------------------------------------------ checks
    def check(self, subjects: list[dict], catalogue: list[Measure] | None = None, limit: int | None = None,
              threshold: float | None = None) -> list[dict]:
        """Per subject: the match decision, the entity, and the measures that apply now with their records."""
        st = self.state
        res = self.match(subjects, limit=limit, threshold=threshold)
        cat = catalogue or self.catalogue
        matched = [(k, self.index(r["candidates"][0]["entity_id"])) for k, r in enumerate(res)
                   if r["decision"] == "match" and r["candidates"] and _known(st.net, r["candidates"][0]["entity_id"])]
        found = measures_for(st.net, cat, st.records, [i for _, i in matched], self.as_of, self.links)
        by_k = {k: (i, m) for (k, i), m in zip(matched, found)}
        out = []
        for k, r in enumerate(res):
            item: dict[str, Any] = {"index": k, "decision": r["decision"], "reason": r.get("reason", "")}
            if k in by_k:
                i, ms = by_k[k]
                nid = str(st.net.ids[i])
                item["entity"] = {"id": nid, "name": st.net.describe(i), "type": _kind(st.net.labels[i]),
                                  "score": r["candidates"][0]["score"]}
                item["grade"] = st.grades.get(nid)
                item["measures"] = ms
                item["punishments"] = sum(m["kind"] == "punishment" for m in ms)
                item["rewards"] = sum(m["kind"] == "reward" for m in ms)
            else:
                item["candidates"] = r["candidates"]
                item["measures"] = []
            out.append(item)
        return out

    # ------------------------------------------------------------------ reports
    def report(self, entity_id: str, scopes: tuple[str, ...], key_id: str) -> dict:
        """The credit report's content, numbered, hashed and registered."""
        st = self.state
        i = self.index(entity_id)
        if st.net.labels[i] == "NaturalPerson" and "personal" not in scopes:
            raise Forbidden("a personal credit report needs the 'personal' scope")
        links = self._links(i)
        parties = {
            "shareholders": [{"id": l["id"], "name": l["name"], "label": l["type"], "ratio": l["ratio"],
                              "capital": l["capital"]} for l in links if l["rel_type"] == "SHAREHOLDER_OF" and not l["outgoing"]],
            "officers": [{"id": l["id"], "name": l["name"], "role": l["role"]} for l in links
                         if l["rel_type"] == "OFFICER_OF" and not l["outgoing"]],
            "legal_rep": [{"id": l["id"], "name": l["name"]} for l in links if l["rel_type"] == "LEGAL_REP_OF" and not l["outgoing"]],
        }
        generated = utc_now()
        number = "CGR-" + generated[:10].replace("-", "") + "-" + secrets.token_hex(4).upper()
        repairs = [{"id": r["id"], "record_id": r["record_id"], "status": r["status"], "updated": r["updated"]}
                   for r in self.db.repairs(entity_id=str(st.net.ids[i]))]
        content = build_report(st.net, i, grade=st.grades.get(str(st.net.ids[i])), records=self._records_of(st, i),
                               repairs=repairs, number=number, generated=generated, parties=parties)
        content["verification_hash"] = report_hash(content)
        self.db.add_report(number, content["entity_id"], key_id, generated, content["verification_hash"])
        return content

    def report_pdf(self, entity_id: str, scopes: tuple[str, ...] = ("public", "reports"), actor: str = "cli") -> tuple[bytes, str]:
        """The PDF report and its number."""
        c = self.report(entity_id, scopes, actor)
        return render_pdf(c, self.cfg.api.report_font), c["report_number"]

    def verify_report(self, number: str, digest: str | None) -> dict:
        """Whether report ``number`` was issued here, for which entity and when, and whether ``digest`` is its hash."""
        r = self.db.get_report(number)
        if r is None:
            raise NotFound(f"no report number {number!r} was issued here")
        out = {"number": number, "issued": True, "entity_id": r["entity_id"], "generated": r["generated"]}
        if digest is not None:
            out["hash_matches"] = secrets.compare_digest(digest.strip().lower(), r["hash"])
        return out

    # ------------------------------------------------------------------ repair
    def apply_repair(self, entity_id: str, record_id: str, reason: str, evidence: str, applicant: str) -> dict:
        """A new repair application (pending) for an active adverse record of the entity."""
        st = self.state
        i = self.index(entity_id)
        recs = self._records_of(st, i).filter(pl.col("record_node") == record_id)
        if recs.height == 0:
            raise NotFound(f"entity {entity_id} has no record {record_id!r}")
        r = recs.row(0, named=True)
        if not r["active"]:
            raise Conflict(f"record {record_id} is not active (status {r['status'] or 'active'}); nothing to repair")
        if r["severity"] <= 0:
            raise Conflict(f"record {record_id} ({r['event_type']}) is not an adverse record; nothing to repair")
        if any(x["record_id"] == record_id for x in self.db.repairs(entity_id=entity_id) if x["status"] in ("pending", "under_review")):
            raise Conflict(f"record {record_id} already has an open repair application")
        rep = self.db.add_repair(entity_id, record_id, reason, evidence, applicant)
        self.db.add_changes([{"kind": "repair", "entity_id": entity_id, "record_id": record_id,
                              "detail": {"repair_id": rep["id"], "status": "pending"}}])
        return rep

    def act_on_repair(self, repair_id: str, action: str, actor: str, note: str) -> dict:
        """``review`` (pending → under_review), ``approve`` or ``reject`` an application."""
        with self.lock:
            rep = self.db.get_repair(repair_id)
            if rep is None:
                raise NotFound(f"no repair application {repair_id!r}")
            allowed = {"review": ("pending",), "approve": ("pending", "under_review"), "reject": ("pending", "under_review")}
            if action not in allowed:
                raise Conflict(f"unknown action {action!r}; use review, approve or reject")
            if rep["status"] not in allowed[action]:
                raise Conflict(f"application {repair_id} is {rep['status']}; cannot {action} it")
            status = {"review": "under_review", "approve": "approved", "reject": "rejected"}[action]
            changes = [{"kind": "repair", "entity_id": rep["entity_id"], "record_id": rep["record_id"],
                        "detail": {"repair_id": repair_id, "status": status}}]
            if action == "approve":
                changes += self._repair_record(rep["record_id"], repair_id)
            rep = self.db.update_repair(repair_id, status, actor, action, note)
            self.db.add_changes(changes)
            return rep

    def _repair_record(self, record_id: str, repair_id: str) -> list[dict]:
        st = self.state
        try:
            res = apply_repair(st.net, st.risk, st.grade_frame, self.acfg, self.as_of, [record_id], cuts=st.cuts)
        except RepairError as exc:
            raise Conflict(str(exc)) from None
        self.state = self._state(res.net, res.risk, res.grades, st.cuts)
        owner = res.owners[0]
        out = [{"kind": "record", "entity_id": owner, "record_id": record_id,
                "detail": {"status": "repaired", "repair_id": repair_id}}]
        for g in res.changed.iter_rows(named=True):
            out.append({"kind": "grade", "entity_id": g["node_id"], "detail": {
                "grade_before": g["grade_before"], "grade": g["grade"], "score_before": g["score_before"],
                "score": g["score"], "repair_id": repair_id}})
        return out

    def changes(self, since: str | None, limit: int = 1000) -> list[dict]:
        """Changes after ``since``: a sequence number (exclusive) or an ISO time."""
        if since is None or since == "":
            return self.db.changes(0, limit=limit)
        if since.isdigit():
            return self.db.changes(int(since), limit=limit)
        try:
            t = _dt.datetime.fromisoformat(since.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"since must be a change number or an ISO time like 2026-01-01T00:00:00Z, not {since!r}") from None
        if t.tzinfo is None:
            t = t.replace(tzinfo=_dt.timezone.utc)
        return self.db.changes(since_time=t.astimezone(_dt.timezone.utc).isoformat(timespec="milliseconds"), limit=limit)

    def close_workers(self) -> None:
        """Stop the matcher's worker thread and process (if any)."""
        with self.lock:
            if self._matcher is not None:
                self._matcher.close()
                self._matcher = None

    def close(self) -> None:
        self.close_workers()
        self.db.close()


def _known(net: CreditNetwork, nid: str) -> bool:
    i = int(net.index_of([nid])[0])
    return i >= 0 and bool(net.entity_mask[i])


def _kind(label: str) -> str:
    return "legal" if label == "LegalPerson" else "natural"


def _f(v):
    if v is None:
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return None if np.isnan(x) else x


def _iso(v):
    return v.isoformat() if isinstance(v, (_dt.date, _dt.datetime)) else v


def _rec(r: dict) -> dict:
    return {"record_id": r["record_node"], "event_type": r["event_type"], "date": _iso(r["date"]),
            "end_date": _iso(r["end_date"]), "status": r["status"] or "active", "authority": r["authority"],
            "case_no": r["case_no"], "reason": r["reason"], "amount": _f(r["amount"]), "grade": r["grade"]}


_SHARED: dict[str, Service] = {}
_SHARED_LOCK = threading.Lock()


def shared_service(cfg) -> Service:
    """One Service per workspace in this process (for the CLI's report and the dashboard)."""
    key = str(Path(cfg.workspace_path).resolve())
    with _SHARED_LOCK:
        if key not in _SHARED:
            _SHARED[key] = Service(cfg)
        return _SHARED[key]


__all__ += ["CatalogueError"]
