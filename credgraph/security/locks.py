"""One writer per workspace resource: an advisory ``flock`` lock file with the holder's pid.

``with workspace_lock(cfg, "resolve"):`` takes ``<workspace>/locks/<name>.lock``; a second run
that wants the same lock waits up to ``wait`` seconds, then raises :class:`LockBusy` whose message
names the command and pid holding it. The kernel drops the lock when the holder dies, so a killed
run never leaves a stale lock behind.

>>> import tempfile
>>> from credgraph.config import Config
>>> cfg = Config(); cfg.workspace.path = tempfile.mkdtemp()
>>> with workspace_lock(cfg, "resolve", command="credgraph resolve"):
...     try:
...         with workspace_lock(cfg, "resolve", command="credgraph resolve"):
...             pass
...     except LockBusy as exc:
...         print(str(exc).split(" (pid")[0])
another `credgraph resolve` is running
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from pathlib import Path
from typing import Iterator

__all__ = ["LockBusy", "workspace_lock", "path_lock", "lock_holder", "is_locked"]


class LockBusy(RuntimeError):
    """Another run holds the lock; the message names it and its pid."""


def _holder(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}


def lock_holder(path: Path) -> dict:
    """What the lock file says about its last holder (pid, command, since); {} when unknown."""
    return _holder(Path(path))


def is_locked(path: Path) -> bool:
    """True when some process holds the lock at ``path`` now (tried without waiting)."""
    path = Path(path)
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


@contextlib.contextmanager
def workspace_lock(cfg, name: str, *, command: str | None = None, wait: float = 0.0) -> Iterator[Path]:
    """Hold ``<workspace>/locks/<name>.lock`` for the ``with`` block (see the module docstring)."""
    folder = cfg.workspace_path / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    with path_lock(folder / f"{name}.lock", name, command=command, wait=wait) as p:
        yield p


@contextlib.contextmanager
def path_lock(path: Path, name: str, *, command: str | None = None, wait: float = 0.0) -> Iterator[Path]:
    """Hold the lock file ``path`` (any folder: e.g. one per Neo4j server) like :func:`workspace_lock`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + max(0.0, wait)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    who = _holder(path)
                    for _ in range(20):  # the holder may have the lock but not yet have written its name
                        if who.get("pid"):
                            break
                        time.sleep(0.05)
                        who = _holder(path)
                    what = who.get("command") or f"credgraph {name}"
                    raise LockBusy(
                        f"another `{what}` is running (pid {who.get('pid', '?')}, since {who.get('since', '?')}); "
                        f"wait for it to finish, then run this again"
                    ) from None
                time.sleep(0.1)
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "command": command or f"credgraph {name}",
                                  "since": time.strftime("%Y-%m-%dT%H:%M:%S%z")}).encode(), 0)
        yield path
    finally:
        os.close(fd)
