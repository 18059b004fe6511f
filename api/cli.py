"""Commands of the data interface: ``serve``, ``api-keys``, ``report`` and ``measures``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from credgraph.console import fail as _fail, config as _cfg

__all__ = ["register"]

_err = Console(stderr=True, soft_wrap=True, markup=False, highlight=False)  # data in messages is not markup


def _service(cfg, frames: Optional[Path] = None, matcher_process: bool = False):
    from credgraph.analytics.measures import CatalogueError
    from credgraph.analytics.network import FrameError

    from .service import Service

    try:
        return Service(cfg, frames, matcher_process=matcher_process)
    except (FileNotFoundError, FrameError, CatalogueError) as exc:
        _fail(str(exc))


def register(app: typer.Typer) -> None:
    """Add ``serve``, ``api-keys``, ``report`` and ``measures`` to the credgraph app."""

    @app.command("serve")
    def serve(host: Optional[str] = typer.Option(None, help="Address to bind (default api.host, 127.0.0.1)."),
              port: Optional[int] = typer.Option(None, help="Port (default api.port)."),
              frames: Optional[Path] = typer.Option(None, "--frames", help="Serve graph frames from this folder "
                                                    "(nodes.parquet, edges.parquet) instead of the graph store."),
              log_level: str = typer.Option("warning", help="uvicorn log level.")) -> None:
        """Serve the data interface for institutions (HTTP API under /v1, docs at /docs)."""
        import uvicorn

        from .app import create_app

        cfg = _cfg()
        with _err.status("reading the graph and grading (a 100k city takes ~20 s)"):
            svc = _service(cfg, frames, matcher_process=True)
            try:
                svc.matcher.wait()  # the worker's Matcher is open before we listen
            except FileNotFoundError as exc:
                _fail(f"{exc} (the API matches with the resolver's model)")
        h, p = host or cfg.api.host, port or cfg.api.port
        _err.print(f"credgraph API on http://{h}:{p}/v1 (docs: http://{h}:{p}/docs), workspace {cfg.workspace_path}")
        app = create_app(svc)
        import gc

        # The network, grades and indexes live as long as the server: keep the garbage collector
        # from walking them (a full collection of them stalled every request for ~50 ms).
        gc.collect()
        gc.freeze()
        try:
            uvicorn.run(app, host=h, port=p, log_level=log_level, access_log=False,
                        timeout_graceful_shutdown=5)
        finally:
            svc.close()

    keys = typer.Typer(help="Institutions' API keys: create, revoke, list (with usage).", no_args_is_help=True)
    app.add_typer(keys, name="api-keys")

    @keys.command("create")
    def create(institution: str = typer.Argument(..., help="The institution the key is for."),
               scope: list[str] = typer.Option(["public"], "--scope", help="Scope to grant; repeatable: public, "
                                               "personal, checks, reports, repair, review."),
               rate: Optional[int] = typer.Option(None, help="Requests per minute (default api.rate_per_minute)."),
               quota: Optional[int] = typer.Option(None, help="Requests per UTC day (default api.daily_quota).")) -> None:
        """Create a key; the key itself is printed once and stored only as a keyed hash."""
        from .db import ApiDB, KeyError_

        cfg = _cfg()
        db = ApiDB(cfg.workspace_path / "api" / "api.sqlite")
        try:
            k, token = db.create_key(institution, [s for x in scope for s in x.split(",") if s], rate, quota)
        except KeyError_ as exc:
            _fail(str(exc))
        from credgraph.security.audit import record

        record(cfg, actor="cli", action="api_key_create", target=k.key_id, institution=k.institution, scopes=list(k.scopes))
        _err.print(f"key {k.key_id} for {k.institution}, scopes {', '.join(k.scopes)}; store it now, it is not shown again:")
        print(token)

    @keys.command("revoke")
    def revoke(key_id: str = typer.Argument(..., help="The key id (the part after cgk_).")) -> None:
        """Revoke a key: every later call with it is refused (401)."""
        from credgraph.security.audit import record

        from .db import ApiDB, KeyError_

        cfg = _cfg()
        try:
            k = ApiDB(cfg.workspace_path / "api" / "api.sqlite").revoke_key(key_id)
        except KeyError_ as exc:
            _fail(str(exc))
        record(cfg, actor="cli", action="api_key_revoke", target=k.key_id)
        print(f"revoked {k.key_id} ({k.institution}) at {k.revoked}")

    @keys.command("list")
    def list_keys() -> None:
        """Keys with their institution, scopes, limits, state and calls (today and in all)."""
        import datetime as dt

        from .db import ApiDB

        cfg = _cfg()
        db = ApiDB(cfg.workspace_path / "api" / "api.sqlite")
        today = dt.datetime.now(dt.timezone.utc).date().isoformat()
        t = Table(title="API keys")
        for c in ("key id", "institution", "scopes", "rate/min", "quota/day", "state", "calls today", "calls", "refused"):
            t.add_column(c)
        for k in db.list_keys():
            u = db.usage(k.key_id)
            t.add_row(k.key_id, k.institution, ",".join(k.scopes), str(k.rate_per_minute or cfg.api.rate_per_minute),
                      str(k.daily_quota or cfg.api.daily_quota), f"revoked {k.revoked[:19]}" if k.revoked else "active",
                      str(sum(x["calls"] for x in u if x["day"] == today)), str(sum(x["calls"] for x in u)),
                      str(sum(x["refused"] for x in u)))
        import sys

        Console(width=None if sys.stdout.isatty() else 200).print(t)

    @app.command("report")
    def report(entity: str = typer.Argument(..., help="Entity id."),
               out: Optional[Path] = typer.Option(None, "--out", help="PDF file (default <workspace>/reports/<number>.pdf)."),
               json_out: bool = typer.Option(False, "--json", help="Print the report's JSON instead of writing a PDF."),
               personal: bool = typer.Option(False, "--personal", help="Allow a personal (natural person) report; masked."),
               frames: Optional[Path] = typer.Option(None, "--frames", help="Graph frames folder instead of the store.")) -> None:
        """The credit report of an entity as a PDF (the same as GET /v1/entities/{id}/report.pdf)."""
        import json

        from credgraph.analytics.report import ReportError, render_pdf
        from credgraph.atomic import atomic_path
        from credgraph.security.audit import record

        from .service import Forbidden, NotFound

        cfg = _cfg()
        svc = _service(cfg, frames)
        scopes = ("public", "reports") + (("personal",) if personal else ())
        try:
            c = svc.report(entity, scopes, "cli")
            record(cfg, actor="cli", action="report", target=c["entity_id"], number=c["report_number"])
            if json_out:
                print(json.dumps(c, ensure_ascii=False, indent=2))
                return
            pdf = render_pdf(c, cfg.api.report_font)
        except (NotFound, Forbidden, ReportError) as exc:
            _fail(str(exc) + (" (add --personal)" if isinstance(exc, Forbidden) else ""))
        path = out or cfg.workspace_path / "reports" / f"{c['report_number']}.pdf"
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            Path(tmp).write_bytes(pdf)
        print(f"wrote {path} (report {c['report_number']}, hash {c['verification_hash']})")

    measures = typer.Typer(help="Joint reward and punishment measures: show or validate a catalogue.", no_args_is_help=True)
    app.add_typer(measures, name="measures")

    @measures.command("validate")
    def validate(path: Path = typer.Argument(..., help="A TOML catalogue with [[measure]] tables.")) -> None:
        """Check a catalogue; name the measure and field of the first problem."""
        from credgraph.analytics.measures import CatalogueError, load_catalogue

        try:
            cat = load_catalogue(path)
        except CatalogueError as exc:
            _fail(str(exc))
        print(f"{path}: {len(cat)} measures, valid ({sum(m.kind == 'punishment' for m in cat)} punishments, "
              f"{sum(m.kind == 'reward' for m in cat)} rewards)")

    @measures.command("list")
    def list_measures(path: Optional[Path] = typer.Argument(None, help="Catalogue (default api.measures or the sample).")) -> None:
        """The measures of a catalogue."""
        from credgraph.analytics.measures import CatalogueError, load_catalogue

        cfg = _cfg()
        try:
            cat = load_catalogue(path or cfg.api.measures or None)
        except CatalogueError as exc:
            _fail(str(exc))
        t = Table(title="measures")
        for c in ("id", "kind", "name", "triggers", "reach", "years"):
            t.add_column(c, overflow="fold")
        for m in cat:
            t.add_row(m.id, m.kind, m.name, ",".join(m.trigger_types), ",".join(m.reach), f"{m.duration_years:g}")
        Console().print(t)
