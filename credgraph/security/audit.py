"""A tamper-evident audit trail: one JSON line per event, each line chained to the previous one.

Every line holds ``seq``, ``time`` (UTC, ISO 8601), ``actor`` (user, API key id or ``cli:<os user>``),
``action`` (e.g. ``view_person``, ``export``, ``query``, ``review``, ``login``, ``api_call``),
``target`` and free ``detail``, plus ``prev`` (the hash of the previous line) and ``hash`` (SHA-256
over the line's canonical JSON without ``hash``). Editing, deleting or reordering a line breaks the
chain, and :func:`verify` names the first line that does not fit. Appends from several processes
are serialised by an exclusive ``flock`` on the log file.

Never put clear personal data in ``target`` or ``detail``: pass entity ids, masked forms or
keyed hashes.

>>> import tempfile, pathlib
>>> log = pathlib.Path(tempfile.mkdtemp()) / "audit.jsonl"
>>> _ = record(log, actor="alice", action="login")
>>> _ = record(log, actor="alice", action="view_person", target="P-1")
>>> verify(log).ok, verify(log).lines
(True, 2)
"""

from __future__ import annotations

import datetime as _dt
import fcntl
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

__all__ = ["AuditError", "VerifyResult", "audit_path", "record", "record_many", "verify", "read_events"]

GENESIS = "0" * 64


class AuditError(RuntimeError):
    """The audit log cannot be written or read; the message says which file and why."""


@dataclass(frozen=True)
class VerifyResult:
    """What :func:`verify` found: ``ok``, the number of lines checked, and the first bad line."""

    ok: bool
    lines: int
    bad_line: int | None = None
    reason: str = ""


def audit_path(target) -> Path:
    """The log file for a configuration (``<workspace>/audit/audit.jsonl``) or an explicit path."""
    if isinstance(target, (str, os.PathLike)):
        return Path(target)
    return target.workspace_path / "audit" / "audit.jsonl"


def _digest(entry: dict[str, Any]) -> str:
    body = {k: v for k, v in entry.items() if k != "hash"}
    text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _last_entry(fh) -> dict[str, Any] | None:
    """The last complete line of an open log (read backwards from the end)."""
    fh.seek(0, os.SEEK_END)
    end = fh.tell()
    if end == 0:
        return None
    block, data = 4096, b""
    pos = end
    while pos > 0:
        step = min(block, pos)
        pos -= step
        fh.seek(pos)
        data = fh.read(step) + data
        lines = data.rstrip(b"\n").split(b"\n")
        if len(lines) > 1 or pos == 0:
            return json.loads(lines[-1])
    return None


def record(where, *, actor: str, action: str, target: str | None = None, **detail: Any) -> dict[str, Any]:
    """Append one event to the audit log of ``where`` (a config or a path); return it with ``seq`` and ``hash``."""
    return _append(audit_path(where), actor=actor, action=action, subject=target, detail=detail)


def record_many(where, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Append several events (each a dict of :func:`record`'s arguments: ``actor``, ``action``,
    optional ``target`` and detail fields) under one lock and one ``fsync``, chained in order; the
    chain is the same as from one :func:`record` call per event. Return them with ``seq`` and ``hash``."""
    items = []
    for ev in events:
        ev = dict(ev)
        items.append((ev.pop("actor"), ev.pop("action"), ev.pop("target", None), ev))
    return _append_many(audit_path(where), items) if items else []


def _append(path: Path, *, actor: str, action: str, subject: str | None, detail: dict) -> dict[str, Any]:
    return _append_many(path, [(actor, action, subject, detail)])[0]


def _append_many(path: Path, items: list[tuple]) -> list[dict[str, Any]]:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    except OSError as exc:
        raise AuditError(f"audit log {path}: cannot open for writing ({exc.strerror})") from None
    out = []
    with os.fdopen(fd, "r+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            last = _last_entry(fh)
            lines = []
            for actor, action, subject, detail in items:
                entry = {
                    "seq": (last["seq"] + 1) if last else 1,
                    "time": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds"),
                    "actor": str(actor),
                    "action": str(action),
                    "target": subject,
                    "detail": detail,
                    "prev": last["hash"] if last else GENESIS,
                }
                entry["hash"] = _digest(entry)
                lines.append(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")
                out.append(entry)
                last = entry
            fh.seek(0, os.SEEK_END)
            fh.write("".join(lines).encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
    return out


def read_events(target) -> Iterator[dict[str, Any]]:
    """The log's events in order (nothing when there is no log yet)."""
    path = audit_path(target)
    if not path.exists():
        return
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def verify(target) -> VerifyResult:
    """Check the whole chain: each line's hash, its link to the previous line, and the sequence.

    An edited line fails its own hash; a deleted or reordered line breaks ``prev`` or ``seq``.
    """
    path = audit_path(target)
    if not path.exists():
        return VerifyResult(True, 0)
    prev, n = GENESIS, 0
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                return VerifyResult(False, n - 1, n, "not a JSON line")
            if entry.get("hash") != _digest(entry):
                return VerifyResult(False, n - 1, n, "the line was changed (its hash does not match)")
            if entry.get("prev") != prev or entry.get("seq") != n:
                return VerifyResult(False, n - 1, n, "a line before it was removed, added or reordered")
            prev = entry["hash"]
    return VerifyResult(True, n)
