"""The HTTP API (FastAPI): ``/v1`` for institutions, keys and scopes, limits, problem+json errors.

Every call is authenticated by an institution's API key (``Authorization: Bearer cgk_...`` or
``X-API-Key: cgk_...``), checked against the scope it needs, counted against the key's rate
limit (per minute, moving window) and daily quota (``429`` with ``Retry-After`` beyond them),
and written to the audit trail (actor = the key id; entity ids only, never personal data).
Errors are ``application/problem+json`` (RFC 9457) with a ``detail`` a person can act on.
The OpenAPI page at ``/docs`` is served from the bundled swagger-ui assets (no CDN).
"""

from __future__ import annotations

import asyncio
import collections
import datetime as _dt
import json
import threading
import time
from contextlib import contextmanager
from typing import Any, Optional

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from credgraph.analytics.measures import CatalogueError, parse_catalogue
from credgraph.security.audit import record_many

from .db import SCOPES, ApiKey
from .matching import MatchInputError
from .service import Conflict, Forbidden, NotFound, Service

__all__ = ["create_app", "ApiProblem"]

PROBLEM = "application/problem+json"


class ApiProblem(Exception):
    """An error answered as problem+json."""

    def __init__(self, status: int, title: str, detail: str, headers: dict | None = None, **extra: Any):
        self.status, self.title, self.detail, self.headers, self.extra = status, title, detail, headers or {}, extra


def problem(status: int, title: str, detail: str, headers: dict | None = None, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


# ------------------------------------------------------------------------------ request bodies
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MatchRequest(_Strict):
    """yente-style: named query-by-example entities."""

    queries: dict[str, dict[str, Any]] = Field(..., description="name -> example {type, name, uscc, org_code, id_number, "
                                               "identifiers, birth_date, address, phone, legal_rep}")
    limit: Optional[int] = Field(None, ge=1, le=50)
    threshold: Optional[float] = Field(None, ge=0.0, le=1.0)


class CheckRequest(_Strict):
    subjects: list[dict[str, Any]] = Field(..., description="examples as in /v1/match")
    measures: Optional[list[dict[str, Any]]] = Field(None, description="your own catalogue (default: the server's)")
    threshold: Optional[float] = Field(None, ge=0.0, le=1.0)


class RepairRequest(_Strict):
    entity_id: str
    record_id: str
    reason: str = Field(..., min_length=2, max_length=2000)
    evidence: str = Field(..., min_length=2, max_length=4000, description="a note on the evidence supplied")


class RepairAction(_Strict):
    note: str = Field("", max_length=2000)


# ------------------------------------------------------------------------------ limits and usage
class Limits:
    """Per-key rate limit (a moving window of the last 60 s) and daily quota (UTC day).

    The window is a queue of the key's accepted calls in the last minute (at most its rate): a
    call is refused when the queue is full, until its oldest call is a minute old. (The ``limits``
    package's in-memory storage did the same but started a timer thread every 10 ms under load.)"""

    WINDOW = 60.0

    def __init__(self, svc: Service):
        self.svc = svc
        self.lock = threading.Lock()
        self.window: dict[str, "collections.deque[float]"] = {}
        self.daily: dict[tuple[str, str], int] = {}
        self.pending: dict[tuple[str, str, str], list[int]] = {}

    def hit(self, key_id: str, rate: int, now: float | None = None) -> float:
        """Count a call of ``key_id`` against ``rate`` calls a minute: 0 if accepted, else the
        seconds until one is accepted again."""
        now = time.monotonic() if now is None else now
        with self.lock:
            q = self.window.setdefault(key_id, collections.deque())
            while q and q[0] <= now - self.WINDOW:
                q.popleft()
            if len(q) >= rate:
                return q[0] + self.WINDOW - now
            q.append(now)
            return 0.0

    def check(self, key: ApiKey) -> None:
        api = self.svc.cfg.api
        rate = key.rate_per_minute or api.rate_per_minute
        left = self.hit(key.key_id, rate)
        if left > 0:
            wait = max(1, int(left) + 1)
            raise ApiProblem(429, "Too Many Requests", f"rate limit of {rate} requests per minute reached for "
                             f"key {key.key_id}; retry in {wait} s", {"Retry-After": str(wait)})
        day = _dt.datetime.now(_dt.timezone.utc).date().isoformat()
        quota = key.daily_quota or api.daily_quota
        with self.lock:
            k = (key.key_id, day)
            if k not in self.daily:
                self.daily[k] = self.svc.db.calls_today(key.key_id, day)
            if self.daily[k] >= quota:
                now = _dt.datetime.now(_dt.timezone.utc)
                wait = int((_dt.datetime.combine(now.date() + _dt.timedelta(days=1), _dt.time(),
                                                 _dt.timezone.utc) - now).total_seconds()) + 1
                raise ApiProblem(429, "Too Many Requests", f"daily quota of {quota} requests used up for key "
                                 f"{key.key_id}; it resets at 00:00 UTC", {"Retry-After": str(wait)})
            self.daily[k] += 1

    def count(self, key_id: str, endpoint: str, refused: bool) -> None:
        day = _dt.datetime.now(_dt.timezone.utc).date().isoformat()
        with self.lock:
            c = self.pending.setdefault((key_id, day, endpoint), [0, 0])
            c[0] += 0 if refused else 1
            c[1] += 1 if refused else 0

    def flush(self) -> None:
        with self.lock:
            pending, self.pending = self.pending, {}
        if pending:
            self.svc.db.add_usage({k: (v[0], v[1]) for k, v in pending.items()})


class AuditWriter:
    """Writes the API's audit events from a queue in one background thread, in arrival order.

    The audit log is fsynced on every write (about 10 ms on this disk, more when it is busy);
    writing on the request's path would add that to every call and serialise concurrent calls on
    the log's lock. The answer goes out once its event is queued; the writer then appends every
    event waiting in the queue in one go (one lock, one fsync: group commit), chained line by line
    exactly as one write per event would. Trade-off: a crash loses the events still queued, as
    before; under load that is the calls of the last fsync or two (tens of ms), not more, and
    ``close`` drains the queue on a normal stop. One fsync per event would fall behind at a few
    hundred calls a second and let the queue, and what a crash loses, grow without bound.
    """

    MAX_GROUP = 2000

    def __init__(self, cfg):
        import queue

        self.cfg = cfg
        self.q: "queue.Queue[dict | None]" = queue.Queue()
        self.thread = threading.Thread(target=self._run, daemon=True, name="audit-writer")
        self.thread.start()

    def put(self, event: dict) -> None:
        self.q.put(event)

    def _run(self) -> None:
        import queue

        while True:
            group = [self.q.get()]
            while group[-1] is not None and len(group) < self.MAX_GROUP:
                try:
                    group.append(self.q.get_nowait())
                except queue.Empty:
                    break
            events = [ev for ev in group if ev is not None]
            try:
                record_many(self.cfg, events)
            except Exception as exc:  # noqa: BLE001 - an unwritable log must be seen, not stop the API
                import logging

                logging.getLogger("credgraph.api").error("audit log: %s", exc)
            if group[-1] is None:
                return

    def close(self) -> None:
        self.q.put(None)
        self.thread.join(30)


class PdfRenderer:
    """Renders PDF reports in one worker process, so drawing a report (~50 ms of pure Python)
    does not hold the server's interpreter lock while other requests wait. Falls back to
    rendering in-process if the worker cannot be used."""

    def __init__(self, font: str):
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        self.font = font
        try:
            from credgraph.analytics.report import ReportError, warm_font

            self.pool = ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn"))
            self.pool.submit(warm_font, font).result(timeout=120)  # the worker loads the CJK font before we serve
        except ReportError:
            pass  # no font: each PDF request says so
        except Exception:  # pragma: no cover - no worker process here: draw in-process
            self.pool = None

    async def arender(self, content: dict) -> bytes:
        """:meth:`render` awaited on the event loop: the worker draws, no server thread waits."""
        from concurrent.futures.process import BrokenProcessPool

        from credgraph.analytics.report import render_pdf

        if self.pool is not None:
            try:
                return await asyncio.wait_for(asyncio.wrap_future(self.pool.submit(render_pdf, content, self.font)), 60)
            except BrokenProcessPool:  # pragma: no cover - the worker died; draw in a thread from now on
                self.pool = None
        import anyio

        return await anyio.to_thread.run_sync(render_pdf, content, self.font)

    def render(self, content: dict) -> bytes:
        from concurrent.futures.process import BrokenProcessPool

        from credgraph.analytics.report import render_pdf

        if self.pool is not None:
            try:
                return self.pool.submit(render_pdf, content, self.font).result(timeout=60)
            except BrokenProcessPool:  # pragma: no cover - the worker died; draw here from now on
                self.pool = None
        return render_pdf(content, self.font)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


class Guard:
    """ASGI middleware: refuses bodies over ``max_body`` bytes (413) and writes every ``/v1`` call
    to the audit trail (actor, endpoint, status, ms) and the key's usage counts.

    Plain ASGI rather than Starlette's ``@app.middleware("http")``, which runs each request in an
    extra task with memory streams between the two: measurable on every call under load."""

    def __init__(self, app, max_body: int, limits: "Limits", audit: "AuditWriter"):
        self.app, self.max_body, self.limits, self.audit = app, max_body, limits, audit

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        t0 = time.perf_counter()
        state = scope.setdefault("state", {})
        state["key_id"] = None
        state["target"] = None
        status = [500]

        async def send_status(msg) -> None:
            if msg["type"] == "http.response.start":
                status[0] = msg["status"]
            await send(msg)

        try:
            cl = next((v for k, v in scope["headers"] if k == b"content-length"), None)
            if cl is not None and cl.isdigit() and int(cl) > self.max_body:
                await problem(413, "Payload Too Large", f"the request body has {int(cl)} bytes; at most "
                              f"{self.max_body} are accepted")(scope, receive, send_status)
            elif cl is None and scope["method"] in ("POST", "PUT", "PATCH"):
                body, more = b"", True
                while more and len(body) <= self.max_body:
                    msg = await receive()
                    if msg["type"] != "http.request":
                        return
                    body += msg.get("body", b"")
                    more = msg.get("more_body", False)
                if len(body) > self.max_body:
                    await problem(413, "Payload Too Large", f"the request body exceeds {self.max_body} bytes")(
                        scope, receive, send_status)
                else:
                    sent = [False]

                    async def replay():
                        if not sent[0]:
                            sent[0] = True
                            return {"type": "http.request", "body": body, "more_body": False}
                        return await receive()

                    await self.app(scope, replay, send_status)
            else:
                await self.app(scope, receive, send_status)
        finally:
            path = scope["path"]
            if path.startswith("/v1/") and path != "/v1/health":
                endpoint = getattr(scope.get("route"), "path", path)
                key_id = state.get("key_id")
                if key_id:
                    self.limits.count(key_id, f"{scope['method']} {endpoint}", status[0] == 429)
                ms = round((time.perf_counter() - t0) * 1000, 1)
                self.audit.put(dict(actor=key_id or "anonymous", action="api_call", target=state.get("target"),
                                    method=scope["method"], endpoint=endpoint, status=status[0], ms=ms))


# ------------------------------------------------------------------------------ the app
def create_app(svc: Service) -> FastAPI:
    """The FastAPI application over a built :class:`Service`."""
    from fastapi_offline import FastAPIOffline

    app = FastAPIOffline(title="credgraph data interface", version="1",
                         description="Match, entities, credit reports, joint reward and punishment checks, "
                                     "credit repair and changes for institutions. Authenticate with "
                                     "`Authorization: Bearer <key>`.",
                         openapi_url="/openapi.json")
    limits = Limits(svc)
    app.state.svc, app.state.limits = svc, limits
    max_body = svc.cfg.api.max_body_bytes
    max_batch = svc.cfg.api.max_batch
    stop = threading.Event()

    def flusher():
        while not stop.wait(2.0):
            try:
                limits.flush()
            except Exception:  # noqa: BLE001 - usage is retried on the next flush
                pass

    threading.Thread(target=flusher, daemon=True, name="usage-flush").start()
    audit = AuditWriter(svc.cfg)
    pdfs = PdfRenderer(svc.cfg.api.report_font)

    lag: list[float] = []

    if svc.cfg.api.timings:
        @app.on_event("startup")
        async def _loop_lag() -> None:
            """How late a 10 ms sleep wakes: the time the event loop (or the process) was busy."""
            async def probe() -> None:
                while True:
                    t = time.perf_counter()
                    await asyncio.sleep(0.01)
                    lag.append(time.perf_counter() - t - 0.01)

            app.state.lag_probe = asyncio.get_running_loop().create_task(probe())

    @app.on_event("shutdown")
    def _shutdown() -> None:
        if svc.cfg.api.timings:
            _print_timings(svc, lag)
        stop.set()
        limits.flush()
        audit.close()
        pdfs.close()
        svc.close_workers()  # uvicorn re-raises SIGTERM after this: nothing after run() would run

    # ---------------------------------------------------------------- errors
    @app.exception_handler(ApiProblem)
    async def _api_problem(request: Request, exc: ApiProblem):
        return problem(exc.status, exc.title, exc.detail, exc.headers, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        errs = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errs):
            e = next(e for e in errs if e.get("type") == "json_invalid")
            return problem(400, "Malformed JSON", f"the request body is not valid JSON: {e.get('ctx', {}).get('error', e.get('msg'))}")
        items = [{"field": ".".join(str(x) for x in e.get("loc", ()) if x != "body"), "message": e.get("msg")} for e in errs]
        detail = "; ".join(f"{i['field'] or 'body'}: {i['message']}" for i in items[:5])
        return problem(422, "Invalid request", detail, errors=items)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no such endpoint {request.method} {request.url.path}; see /docs"
        return problem(exc.status_code, _title(exc.status_code), detail)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception):  # pragma: no cover - a bug
        import logging

        logging.getLogger("credgraph.api").error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return problem(500, "Internal Server Error", f"the server failed on this request ({type(exc).__name__}); "
                       "it has been logged")

    # ---------------------------------------------------------------- body size and audit
    app.add_middleware(Guard, max_body=max_body, limits=limits, audit=audit)

    # ---------------------------------------------------------------- authentication
    def caller(scope: str):
        async def dep(request: Request) -> ApiKey:  # on the event loop: a keyed hash and one indexed read
            auth = request.headers.get("authorization", "")
            token = auth[7:].strip() if auth.lower().startswith("bearer ") else request.headers.get("x-api-key", "").strip()
            if not token:
                raise ApiProblem(401, "Unauthorized", "an API key is required: send `Authorization: Bearer <key>` "
                                 "(ask the platform operator for one: `credgraph api-keys create`)",
                                 {"WWW-Authenticate": "Bearer"})
            key, why = svc.db.authenticate(token, svc.cfg.api.key_cache_seconds)
            if key is None:
                raise ApiProblem(401, "Unauthorized", why, {"WWW-Authenticate": "Bearer"})
            request.state.key_id = key.key_id
            if scope not in key.scopes:
                raise ApiProblem(403, "Forbidden", f"key {key.key_id} ({key.institution}) lacks the {scope!r} scope "
                                 f"this call needs; it holds {', '.join(key.scopes)}")
            limits.check(key)
            return key
        return dep

    def run(fn, *a, **kw):
        with errors():
            return fn(*a, **kw)

    @contextmanager
    def errors():
        """The service's exceptions as problem answers."""
        try:
            yield
        except NotFound as exc:
            raise ApiProblem(404, "Not Found", str(exc)) from None
        except Forbidden as exc:
            raise ApiProblem(403, "Forbidden", str(exc)) from None
        except Conflict as exc:
            raise ApiProblem(409, "Conflict", str(exc)) from None
        except (MatchInputError, CatalogueError) as exc:
            raise ApiProblem(422, "Invalid request", str(exc)) from None
        except ValueError as exc:
            raise ApiProblem(400, "Bad Request", str(exc)) from None

    def batch(n: int, what: str) -> None:
        if n > max_batch:
            raise ApiProblem(413, "Payload Too Large", f"{n} {what} in one request; at most {max_batch} are accepted "
                             "(split the batch)")
        if n == 0:
            raise ApiProblem(422, "Invalid request", f"no {what} given")

    # ---------------------------------------------------------------- endpoints
    @app.get("/v1/health", tags=["meta"])
    def health() -> dict:
        """Liveness; no key needed."""
        st = svc.state
        return {"status": "ok", "entities": int(st.net.entity_mask.sum()), "as_of": svc.as_of.isoformat()}

    @app.post("/v1/match", tags=["match"])
    async def match(body: MatchRequest, request: Request, key: ApiKey = Depends(caller("public"))) -> dict:
        """Match named examples (companies or persons) to entities: ranked candidates with scores, a
        match / ambiguous / no_match decision and per-field explanations."""
        batch(len(body.queries), "queries")
        names = list(body.queries)
        with errors():  # the matcher's workers answer with JSON text; it is joined here, not re-encoded
            res = await svc.amatch_json([body.queries[n] for n in names], body.limit, body.threshold)
        request.state.target = f"{len(names)} queries"
        parts = [_dumps(n) + ':{"query":' + _dumps(_masked_query(body.queries[n])) + "," + r[1:]
                 for n, r in zip(names, res)]
        text = ('{"responses":{' + ",".join(parts) + '},"limit":' + _dumps(body.limit or svc.cfg.api.match_limit)
                + ',"threshold":' + _dumps(body.threshold) + "}")
        return Response(text.encode("utf-8"), media_type="application/json")

    @app.get("/v1/entities/{entity_id}", tags=["entities"])
    async def entity(entity_id: str, request: Request, key: ApiKey = Depends(caller("public"))) -> dict:
        """Identity (ID numbers masked), status, grade with reasons, active records by category, related parties."""
        # On the event loop: the look-up is under a millisecond of work, less than a hop to a
        # thread and back costs when other threads compete for the interpreter lock.
        request.state.target = entity_id
        return JSONResponse(run(svc.entity, entity_id, key.scopes))

    @app.get("/v1/entities/{entity_id}/report", tags=["reports"])
    def report_json(entity_id: str, request: Request, key: ApiKey = Depends(caller("reports"))) -> dict:
        """The credit report as JSON, with its number and verification hash."""
        request.state.target = entity_id
        return run(svc.report, entity_id, key.scopes, key.key_id)

    @app.get("/v1/entities/{entity_id}/report.pdf", tags=["reports"], response_class=Response,
             responses={200: {"content": {"application/pdf": {}}}})
    async def report_pdf(entity_id: str, request: Request, key: ApiKey = Depends(caller("reports"))):
        """The credit report as a PDF (CJK font embedded)."""
        from credgraph.analytics.report import ReportError

        request.state.target = entity_id
        import anyio

        # In a thread: it registers the report's number (a write to the API's file, which may wait
        # for another write); the drawing is in the PDF worker.
        c = await anyio.to_thread.run_sync(lambda: run(svc.report, entity_id, key.scopes, key.key_id))
        try:
            pdf = await pdfs.arender(c)
        except ReportError as exc:
            raise ApiProblem(503, "Service Unavailable", str(exc)) from None
        return Response(pdf, media_type="application/pdf", headers={
            "Content-Disposition": f'attachment; filename="{c["report_number"]}.pdf"',
            "X-Report-Number": c["report_number"], "X-Report-Hash": c["verification_hash"]})

    @app.get("/v1/reports/{number}/verify", tags=["reports"])
    def verify(number: str, request: Request, hash: Optional[str] = Query(None, description="the hash printed on the report"),
               key: ApiKey = Depends(caller("public"))) -> dict:
        """Was this report number issued here, for whom and when; does the hash match."""
        request.state.target = number
        return run(svc.verify_report, number, hash)

    @app.get("/v1/measures", tags=["checks"])
    def measures(key: ApiKey = Depends(caller("public"))) -> dict:
        """The joint reward and punishment measures the server applies."""
        return {"measures": [m.as_dict() for m in svc.catalogue]}

    @app.post("/v1/checks", tags=["checks"])
    def checks(body: CheckRequest, request: Request, key: ApiKey = Depends(caller("checks"))) -> dict:
        """Credit check (信用核查): per subject the match decision and the measures that apply now,
        each with the records that trigger it. ``measures`` replaces the catalogue for this call."""
        batch(len(body.subjects), "subjects")
        cat = run(parse_catalogue, body.measures, "measures") if body.measures is not None else None
        res = run(svc.check, body.subjects, cat, None, body.threshold)
        request.state.target = f"{len(res)} subjects"
        return {"results": res, "as_of": svc.as_of.isoformat()}

    @app.post("/v1/repairs", tags=["repair"], status_code=201)
    def repair_apply(body: RepairRequest, request: Request, key: ApiKey = Depends(caller("repair"))) -> dict:
        """Apply for credit repair of one active adverse record."""
        request.state.target = body.entity_id
        return run(svc.apply_repair, body.entity_id, body.record_id, body.reason, body.evidence, key.key_id)

    @app.get("/v1/repairs", tags=["repair"])
    def repair_list(entity_id: Optional[str] = None, status: Optional[str] = None,
                    key: ApiKey = Depends(caller("repair"))) -> dict:
        """Repair applications, optionally of one entity or status."""
        return {"repairs": svc.db.repairs(entity_id, status)}

    @app.get("/v1/repairs/{repair_id}", tags=["repair"])
    def repair_get(repair_id: str, key: ApiKey = Depends(caller("repair"))) -> dict:
        """One application with its history."""
        rep = svc.db.get_repair(repair_id)
        if rep is None:
            raise ApiProblem(404, "Not Found", f"no repair application {repair_id!r}")
        return rep

    for action in ("review", "approve", "reject"):
        def _act(repair_id: str, request: Request, body: RepairAction = RepairAction(),
                 key: ApiKey = Depends(caller("review")), action: str = action) -> dict:
            request.state.target = repair_id
            return run(svc.act_on_repair, repair_id, action, key.key_id, body.note)
        _act.__doc__ = {"review": "Take an application into review.",
                        "approve": "Approve: the record becomes 'repaired' and the affected grades are recomputed.",
                        "reject": "Reject an application."}[action]
        app.post(f"/v1/repairs/{{repair_id}}/{action}", tags=["repair"], name=f"repair_{action}")(_act)

    @app.get("/v1/changes", tags=["changes"])
    def changes(since: Optional[str] = Query(None, description="a change number (exclusive) or an ISO time"),
                limit: int = Query(1000, ge=1, le=10000), key: ApiKey = Depends(caller("public"))) -> dict:
        """What changed (records, repairs, grades) since a point, oldest first; pass ``next`` back as ``since``."""
        items = run(svc.changes, since, limit)
        return {"changes": items, "next": str(items[-1]["seq"]) if items else since}

    @app.get("/v1/usage", tags=["meta"])
    def usage(key: ApiKey = Depends(caller("public"))) -> dict:
        """This key's calls per day and endpoint."""
        limits.flush()
        return {"key_id": key.key_id, "institution": key.institution, "usage": svc.db.usage(key.key_id)}

    app.openapi_tags = [{"name": t} for t in ("match", "entities", "reports", "checks", "repair", "changes", "meta")]
    app.state.scopes = SCOPES
    return app


def _print_timings(svc: Service, lag: list[float]) -> None:
    """With ``api.timings``, at shutdown: event-loop lag and the matcher lanes' waits and calls (stderr)."""
    import sys

    from .matching import _percentiles

    lines = [_percentiles("event loop lag", lag)] if lag else []
    if svc._matcher is not None:
        lines += svc._matcher.timing_lines()
    for line in lines:
        print(line, file=sys.stderr, flush=True)


def _dumps(v) -> str:
    return json.dumps(v, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _masked_query(q: dict) -> dict:
    from credgraph.identifiers import mask_id, mask_phone

    out = dict(q)
    if out.get("id_number"):
        out["id_number"] = mask_id(str(out["id_number"]))
    if out.get("phone"):
        out["phone"] = mask_phone(str(out["phone"]))
    return out


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
