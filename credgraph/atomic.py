"""Atomic outputs: a failed run leaves nothing half-written.

Every stage writes through these helpers: the content goes to a temporary sibling
first and is renamed into place only when complete (rename is atomic on POSIX).

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> with atomic_path(d / "out.txt") as tmp:
...     _ = tmp.write_text("done")
>>> (d / "out.txt").read_text()
'done'
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

__all__ = ["atomic_path", "atomic_dir", "write_parquet", "write_text", "clean_stale_temps", "secure_tree",
           "harden_workspace"]

#: Files and folders written here are the owner's only: outputs hold clear identifiers.
FILE_MODE = 0o600
DIR_MODE = 0o700


def _mkdirs(folder: Path) -> None:
    """Create ``folder`` (and missing parents) owner-only."""
    missing = []
    p = folder
    while not p.exists():
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        try:
            d.mkdir(mode=DIR_MODE)
        except FileExistsError:
            pass


def secure_tree(root: str | Path) -> None:
    """Make every file under ``root`` 0600 and every folder 0700 (the workspace's data at rest)."""
    root = Path(root)
    if not root.exists():
        return
    os.chmod(root, DIR_MODE)
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            os.chmod(os.path.join(dirpath, d), DIR_MODE)
        for f in filenames:
            try:
                os.chmod(os.path.join(dirpath, f), FILE_MODE)
            except FileNotFoundError:
                pass


#: Workspace folders that hold clear identifiers or secrets (owner-only, 0700).
PRIVATE_FOLDERS = ("records", "entities", "quarantine", "graph", "secrets", "security", "audit", "review", "locks",
                   "analytics", "tmp")


def harden_workspace(workspace: str | Path) -> None:
    """Make the workspace and its private folders 0700 (files keep their own modes)."""
    ws = Path(workspace)
    if not ws.is_dir():
        return
    for d in (ws, *(ws / name for name in PRIVATE_FOLDERS)):
        if d.is_dir():
            try:
                os.chmod(d, DIR_MODE)
            except PermissionError:
                pass


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def clean_stale_temps(workspace: str | Path) -> list[Path]:
    """Remove the temporary files and folders that killed runs left in the workspace (their
    names carry the writer's pid; a live writer's are kept). Returns what was removed."""
    import re

    ws = Path(workspace)
    removed: list[Path] = []
    if not ws.is_dir():
        return removed
    pat = re.compile(r"^\..+\.p(\d+)\..*\.tmp$|^\..+\.old\.(\d+)$")
    for dirpath, dirnames, filenames in os.walk(ws):
        for name in list(dirnames) + filenames:
            m = pat.match(name)
            if not m:
                continue
            pid = int(m.group(1) or m.group(2))
            if pid == os.getpid() or _pid_alive(pid):
                continue
            p = Path(dirpath) / name
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
                if name in dirnames:
                    dirnames.remove(name)
            else:
                p.unlink(missing_ok=True)
            removed.append(p)
    return removed


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; move it onto ``target`` on success only."""
    target = Path(target)
    _mkdirs(target.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.p{os.getpid()}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if tmp_path.exists():
            os.chmod(tmp_path, FILE_MODE)
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


@contextlib.contextmanager
def atomic_dir(target: str | Path) -> Iterator[Path]:
    """Yield a temporary directory; on success it replaces ``target`` as a whole."""
    target = Path(target)
    _mkdirs(target.parent)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.p{os.getpid()}.", suffix=".tmp", dir=target.parent))
    try:
        yield tmp
        secure_tree(tmp)
        old = None
        if target.exists():
            old = target.with_name(f".{target.name}.old.{os.getpid()}")
            os.replace(target, old)
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def write_parquet(frame, target: str | Path) -> Path:
    """Write a polars or pandas DataFrame to Parquet atomically."""
    with atomic_path(target) as tmp:
        if hasattr(frame, "write_parquet"):
            frame.write_parquet(tmp)
        else:
            frame.to_parquet(tmp, index=False)
    return Path(target)


def write_text(text: str, target: str | Path) -> Path:
    """Write UTF-8 text atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(target)
