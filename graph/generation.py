"""Complete graphs only: a generation marker per workspace, and the load lock.

Every ``graph load`` (either backend) runs under two locks: the workspace's ``graph-load``
lock and one per target (the embedded folder, or the Neo4j server's Bolt address, in
``~/.cache/credgraph/locks/`` so that two workspaces loading one server also wait for each other).
It writes ``<workspace>/graph/loading.json`` (pid, start, backend) first and, only once the load
is complete, ``<workspace>/graph/generation.json`` (generation number, time, backend, counts)
and removes ``loading.json``.

* Embedded store: the new graph is built in a fresh folder and swapped in whole, so readers
  only ever see a complete generation; a killed load leaves the previous graph and is reported
  (``loading.json`` whose process is gone).
* Neo4j: the server (Community edition) has one database and no snapshot of a whole load, so a
  marker node ``(:CredgraphGeneration {id: 'graph'})`` says ``loading`` while a load writes and
  ``complete`` after it; read-only stores refuse to answer from a graph that is being replaced or
  whose load was interrupted, with a message saying which.

The dashboard compares :func:`current_generation` on each page run and reopens the store
when it changed.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
from pathlib import Path

__all__ = ["current_generation", "interrupted_load", "begin_load", "finish_load", "target_lock_path", "load_graph",
           "loading_path", "generation_path", "pid_alive"]


def generation_path(cfg) -> Path:
    return cfg.workspace_path / "graph" / "generation.json"


def loading_path(cfg) -> Path:
    return cfg.workspace_path / "graph" / "loading.json"


def pid_alive(pid: int) -> bool:
    """True when process ``pid`` exists."""
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError, TypeError, OverflowError):
        return True
    return True


def _read(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def current_generation(cfg) -> dict | None:
    """The last complete load of this workspace (generation, at, backend, counts), or None."""
    return _read(generation_path(cfg))


def interrupted_load(cfg) -> str | None:
    """A sentence about a load that started and neither finished nor is still running, or None."""
    started = _read(loading_path(cfg))
    if not started or pid_alive(started.get("pid", -1)):
        return None
    gen = current_generation(cfg)
    served = (f"the graph served is generation {gen['generation']} of {gen['at']}" if gen
              else "there is no complete graph")
    return (f"the graph load started {started.get('at', '?')} (pid {started.get('pid', '?')}, "
            f"{started.get('backend', '?')}) was interrupted; {served}. Run `credgraph graph load` again")


def target_lock_path(cfg) -> Path:
    """The lock of the load's target: the embedded folder, or one file per Neo4j address on this machine."""
    if cfg.graph.backend == "neo4j":
        uri = cfg.graph.neo4j_uri.strip().lower()
        digest = hashlib.sha1(uri.encode()).hexdigest()[:16]
        return Path("~/.cache/credgraph/locks").expanduser() / f"neo4j-{digest}.lock"
    return cfg.workspace_path / "locks" / "graph-embedded.lock"


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def begin_load(cfg) -> None:
    """Mark a load as started (``loading.json``)."""
    from credgraph.atomic import write_text

    write_text(json.dumps({"pid": os.getpid(), "at": _now(), "backend": cfg.graph.backend}),
               loading_path(cfg))


def finish_load(cfg, counts: dict[str, int]) -> dict:
    """Mark the load complete: the next generation number, and ``loading.json`` removed."""
    from credgraph.atomic import write_text

    prev = current_generation(cfg) or {}
    gen = {"generation": int(prev.get("generation", 0)) + 1, "at": _now(), "backend": cfg.graph.backend,
           "counts": counts}
    write_text(json.dumps(gen), generation_path(cfg))
    try:
        loading_path(cfg).unlink()
    except FileNotFoundError:
        pass
    return gen


def load_graph(cfg, store, frames, progress=None, wait: float = 0.0, workspace_locked: bool = False) -> dict[str, int]:
    """Load ``frames`` into ``store`` as one generation: under the workspace's ``graph-load`` lock and
    the target's lock, marked loading first and complete (a new generation) only at the end.

    Raises :class:`credgraph.security.locks.LockBusy` naming the other load when one runs.
    ``workspace_locked``: the caller already holds the workspace's ``graph-load`` lock.
    """
    import contextlib

    from credgraph.security.locks import path_lock, workspace_lock

    with contextlib.ExitStack() as stack:
        if not workspace_locked:
            stack.enter_context(workspace_lock(cfg, "graph-load", command="credgraph graph load", wait=wait))
        if cfg.graph.backend != "neo4j":  # the Neo4j store takes the server's lock itself
            stack.enter_context(path_lock(target_lock_path(cfg), "graph load", command="credgraph graph load",
                                          wait=wait))
        begin_load(cfg)
        counts = store.load(frames, progress=progress)
        finish_load(cfg, counts)
    return counts
