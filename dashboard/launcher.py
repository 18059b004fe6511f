"""Starting the Streamlit server: loopback only, headless, no usage statistics, nothing
fetched from the internet; the configuration handed over as JSON in the environment."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from credgraph.config import Config
from credgraph.dashboard.data import CONFIG_ENV, config_to_json

__all__ = ["APP", "HOST", "launch", "streamlit_args", "wait_until_up", "url", "demo_hint"]

#: What `streamlit run` serves: the pages (pages/app.py) in an ASGI app that adds caching
#: headers for the graph component (server.py).
APP = Path(__file__).parent / "server.py"
#: The dashboard listens on the loopback interface only.
HOST = "127.0.0.1"


def url(port: int) -> str:
    return f"http://{HOST}:{port}"


def streamlit_args(port: int) -> list[str]:
    """Command line of the server (see the module docstring for why each option)."""
    return [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.address", HOST,
        "--server.port", str(port),
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
        "--server.runOnSave", "false",
        "--global.developmentMode", "false",
        "--client.toolbarMode", "minimal",
        # a failing page shows our message, never a stack trace
        "--client.showErrorDetails", "none",
        "--theme.base", "light",
        # Streamlit forces a full garbage collection after every script run by default: with
        # a large city's analytics in memory it holds the GIL for 0.1 s (20k entities) to
        # 0.5 s (100k), so the last messages of each interaction reach the browser that late
        "--runner.postScriptGC", "false",
        # Streamlit drops its cache of compiled page scripts whenever any browser tab
        # disconnects, and "magic" (showing bare expressions) rewrites a page's syntax tree
        # before compiling it again: 70 ms of the explorer's 0.15 s. The pages use no magic.
        "--runner.magicEnabled", "false",
    ]


def launch(cfg: Config, port: int | None = None, workspace: str | Path | None = None,
           log_path: str | Path | None = None) -> subprocess.Popen:
    """Start the dashboard for ``cfg`` (workspace and port overridable) and return the process.

    Does not wait: use :func:`wait_until_up`. The server's output goes to ``log_path`` (or
    is discarded); stop it with ``proc.terminate()``.
    """
    import copy

    cfg = copy.deepcopy(cfg)
    if workspace is not None:
        cfg.workspace.path = str(workspace)
    port = int(port or cfg.dashboard.port)
    cfg.dashboard.port = port
    env = dict(os.environ)
    env[CONFIG_ENV] = config_to_json(cfg)
    env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115 - owned by the child
    try:
        return subprocess.Popen(streamlit_args(port), env=env, stdout=out, stderr=subprocess.STDOUT)
    finally:
        if log_path:
            out.close()


def wait_until_up(port: int, timeout: float = 60.0, proc: subprocess.Popen | None = None) -> bool:
    """Wait until the server answers its health check; False on timeout or if ``proc`` exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"{url(port)}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    return False


def demo_hint(cfg: Config) -> str:
    """How to open the dashboard on what the demo built."""
    return (f"open the dashboard: credgraph users add me --role admin   (once: a user to sign in as), then "
            f"credgraph dashboard   (then browse {url(cfg.dashboard.port)} ; "
            f"workspace {cfg.workspace_path}, {cfg.graph.backend} backend)")
