"""Helpers of the security battery: the product's command line run in-process (CliRunner) or as a
separate process (to hold locks or be killed)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from typer.testing import CliRunner

ENTITIES = 300
SEED = 5


def env_for(ws: Path, backend: str = "embedded", neo=None, **extra) -> dict[str, str]:
    """Environment of a run on ``ws`` with ``backend`` (``neo``: the test Neo4j's config)."""
    env = {"CREDGRAPH_WORKSPACE__PATH": str(ws), "CREDGRAPH_GRAPH__BACKEND": backend, "CREDGRAPH_CONFIG": "/nonexistent"}
    if backend == "neo4j":
        g = neo.graph
        env.update({"NEO4J_URI": g.neo4j_uri, "NEO4J_USER": g.neo4j_user, "NEO4J_PASSWORD": g.neo4j_password})
    env.update(extra)
    return env


def cli(ws: Path, *args: str, backend: str = "embedded", neo=None, input: str | None = None, **extra):
    """``credgraph ARGS`` in this process; returns the CliRunner result (exit_code, output)."""
    from credgraph.cli import app

    return CliRunner().invoke(app, list(args), env=env_for(ws, backend, neo, **extra), input=input)


def spawn(ws: Path, *args: str, backend: str = "embedded", neo=None, **extra) -> subprocess.Popen:
    """``credgraph ARGS`` as its own process (stdout+stderr captured as text)."""
    env = dict(os.environ, **env_for(ws, backend, neo, **extra))
    return subprocess.Popen([sys.executable, "-m", "credgraph.cli", *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def hold_lock(path: Path, seconds: float = 60) -> subprocess.Popen:
    """Another process holding the lock file ``path`` the way credgraph does (flock + pid), until killed."""
    code = ("import sys, time; from pathlib import Path; from credgraph.security.locks import path_lock\n"
            "with path_lock(Path(sys.argv[1]), 'x', command=sys.argv[2]):\n"
            "    print('held', flush=True); time.sleep(float(sys.argv[3]))\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(path), "credgraph test-holder", str(seconds)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def wait_for(cond, timeout: float = 60, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(step)
    return False
