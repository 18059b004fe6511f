"""``credgraph dashboard``: serve the investigator dashboard on the loopback interface."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from credgraph.console import fail as _fail

__all__ = ["register"]

_err = Console(stderr=True, soft_wrap=True, markup=False, highlight=False)  # data in messages is not markup


def check_ready(cfg) -> str | None:
    """Why the dashboard cannot serve this workspace yet (None when it can)."""
    if cfg.graph.backend == "embedded":
        from credgraph.graph import embedded_path

        if not (embedded_path(cfg) / "graph.lbug").exists():
            return (f"{embedded_path(cfg)}: no graph yet; build it with `credgraph graph load` "
                    "(or run `credgraph demo`)")
    elif cfg.graph.backend != "neo4j":
        return f"graph.backend is {cfg.graph.backend!r}; use \"embedded\" or \"neo4j\""
    return None


def register(app: typer.Typer) -> None:
    @app.command("dashboard")
    def dashboard(
        port: Optional[int] = typer.Option(None, help="Port on 127.0.0.1 (default: dashboard.port)."),
        backend: Optional[str] = typer.Option(None, help="embedded or neo4j (default: graph.backend)."),
        workspace: Optional[Path] = typer.Option(None, help="Workspace directory (default: workspace.path)."),
    ) -> None:
        """Serve the investigator dashboard (Streamlit) on 127.0.0.1: search, profiles, network explorer,
        ownership, inspection lists, shell clusters, review queue, Cypher console.

        Headless, no usage statistics, nothing loaded from the internet. Stop it with Ctrl-C.
        """
        from credgraph.cli import config_or_exit
        from credgraph.dashboard.launcher import launch, url, wait_until_up

        cfg = config_or_exit()
        if backend is not None:
            if backend not in ("embedded", "neo4j"):
                _fail(f"--backend {backend!r}: use embedded or neo4j")
            cfg.graph.backend = backend
        if workspace is not None:
            cfg.workspace.path = str(workspace)
        if port is not None and not 1 <= port <= 65535:
            _fail(f"--port {port}: not a port number")
        problem = check_ready(cfg)
        if problem:
            _fail(problem)
        port = port or cfg.dashboard.port
        proc = launch(cfg, port)

        def _stop(signum, frame):  # SIGTERM (a service manager, kill): stop the server too
            raise SystemExit(0)

        import signal

        signal.signal(signal.SIGTERM, _stop)
        try:
            if not wait_until_up(port, cfg.dashboard.start_timeout_s, proc):
                code = proc.poll()
                proc.terminate()
                _fail(f"the dashboard did not come up on {url(port)}"
                      + (f" (exit code {code}; is the port in use?)" if code is not None else ""))
            _err.print(f"dashboard: {url(port)}  ({cfg.graph.backend} backend, workspace {cfg.workspace_path}); "
                       "Ctrl-C stops it")
            proc.wait()
        except KeyboardInterrupt:
            pass
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except Exception:  # noqa: BLE001
                    proc.kill()
