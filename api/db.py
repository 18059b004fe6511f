"""The API's own state in one SQLite file (``<workspace>/api/api.sqlite``): institutions' keys,
their usage, credit repair applications, the change feed and the register of issued reports.

**Keys.** A key is ``cgk_<key id>_<secret>`` with a 256-bit random secret
(:func:`secrets.token_urlsafe`). Only a keyed SHA-256 (HMAC under a random server pepper kept
in ``<workspace>/api/key_pepper``, mode 0600) of the whole key is stored; the clear key is
shown once, at creation. Why not argon2/bcrypt: those slow hashes protect *low-entropy*
passwords against guessing; a 256-bit random token cannot be guessed however fast the hash, so
a slow hash would only add tens of milliseconds to every request. The pepper means a stolen
database alone does not even allow offline checks of candidate keys.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["SCOPES", "ApiDB", "ApiKey", "KeyError_", "utc_now"]

#: Scopes a key can hold. ``public``: match, enterprises and their reports' JSON, changes;
#: ``personal``: natural persons (masked); ``checks``: credit checks with measures;
#: ``reports``: PDF reports and report verification; ``repair``: apply for credit repair;
#: ``review``: review, approve or reject repair applications (the publishing authority).
SCOPES = ("public", "personal", "checks", "reports", "repair", "review")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS keys (key_id TEXT PRIMARY KEY, institution TEXT NOT NULL, scopes TEXT NOT NULL,
  digest TEXT NOT NULL, created TEXT NOT NULL, revoked TEXT, rate_per_minute INTEGER, daily_quota INTEGER);
CREATE TABLE IF NOT EXISTS usage (key_id TEXT NOT NULL, day TEXT NOT NULL, endpoint TEXT NOT NULL,
  calls INTEGER NOT NULL, refused INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (key_id, day, endpoint));
CREATE TABLE IF NOT EXISTS repairs (id TEXT PRIMARY KEY, entity_id TEXT NOT NULL, record_id TEXT NOT NULL,
  reason TEXT NOT NULL, evidence TEXT NOT NULL, status TEXT NOT NULL, applicant TEXT NOT NULL,
  created TEXT NOT NULL, updated TEXT NOT NULL, history TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, time TEXT NOT NULL, kind TEXT NOT NULL,
  entity_id TEXT, record_id TEXT, detail TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS reports (number TEXT PRIMARY KEY, entity_id TEXT NOT NULL, key_id TEXT NOT NULL,
  generated TEXT NOT NULL, hash TEXT NOT NULL);
"""


def utc_now() -> str:
    """The current UTC time, ISO 8601 with milliseconds."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")


class KeyError_(ValueError):
    """A key operation that cannot be done (unknown key, bad scope); the message says why."""


@dataclass(frozen=True)
class ApiKey:
    """A stored key (never the secret)."""

    key_id: str
    institution: str
    scopes: tuple[str, ...]
    created: str
    revoked: str | None
    rate_per_minute: int | None
    daily_quota: int | None


class ApiDB:
    """Thread-safe access to the API's SQLite file (one connection, one lock, WAL journal)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(self.path.parent, 0o700)
        self.lock = threading.RLock()
        self.conn = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None, timeout=30)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(_SCHEMA)
        self.pepper = self._pepper()
        self._rlock = threading.Lock()
        self._rconn = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None, timeout=30)
        self._auth_cache: dict[str, tuple[float, tuple]] = {}

    def _pepper(self) -> bytes:
        p = self.path.parent / "key_pepper"
        if not p.exists():
            fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(secrets.token_bytes(32))
        return p.read_bytes()

    def close(self) -> None:
        with self.lock:
            self.conn.close()
        with self._rlock:
            self._rconn.close()

    def _q(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self.lock:
            return self.conn.execute(sql, args).fetchall()

    # ------------------------------------------------------------------ keys
    def digest(self, token: str) -> str:
        """The stored form of a key: HMAC-SHA256 under the server pepper, hex."""
        return hmac.new(self.pepper, token.encode("utf-8"), hashlib.sha256).hexdigest()

    def create_key(self, institution: str, scopes: list[str], rate_per_minute: int | None = None,
                   daily_quota: int | None = None) -> tuple[ApiKey, str]:
        """A new key for ``institution``; returns it and the clear token (shown once)."""
        bad = [s for s in scopes if s not in SCOPES]
        if bad or not scopes:
            raise KeyError_(f"unknown scope {bad[0]!r}; use {', '.join(SCOPES)}" if bad else
                            f"give at least one scope ({', '.join(SCOPES)})")
        if not institution.strip():
            raise KeyError_("give the institution's name")
        key_id = secrets.token_hex(6)
        token = f"cgk_{key_id}_{secrets.token_urlsafe(32)}"
        now = utc_now()
        self._q("INSERT INTO keys VALUES (?,?,?,?,?,?,?,?)", (key_id, institution.strip(), json.dumps(sorted(set(scopes))),
                                                           self.digest(token), now, None, rate_per_minute, daily_quota))
        return self.get_key(key_id), token

    def get_key(self, key_id: str) -> ApiKey | None:
        rows = self._q("SELECT key_id, institution, scopes, created, revoked, rate_per_minute, daily_quota "
                       "FROM keys WHERE key_id=?", (key_id,))
        if not rows:
            return None
        r = rows[0]
        return ApiKey(r[0], r[1], tuple(json.loads(r[2])), r[3], r[4], r[5], r[6])

    def authenticate(self, token: str, max_age: float = 0.0) -> tuple[ApiKey | None, str]:
        """The key a token belongs to, or None and why not (unknown, wrong secret, revoked).

        With ``max_age`` (the server: ``api.key_cache_seconds``), an answer read from the file at
        most that many seconds ago is reused, so a call does not wait for the file while a write
        (usage, a report, a checkpoint) holds it; a key revoked meanwhile is refused that much later.
        The look-up reads through a connection of its own (WAL: readers never wait for writers)."""
        parts = token.split("_", 2)
        if len(parts) != 3 or parts[0] != "cgk":
            return None, "the API key is not of the form cgk_<id>_<secret>"
        digest = self.digest(token)
        if max_age > 0:
            hit = self._auth_cache.get(digest)
            if hit is not None and time.monotonic() - hit[0] < max_age:
                return hit[1]
        ans = self._authenticate(parts[1], digest)
        if max_age > 0:
            if len(self._auth_cache) > 10_000:  # random wrong keys must not grow it without bound
                self._auth_cache.clear()
            self._auth_cache[digest] = (time.monotonic(), ans)
        return ans

    def _authenticate(self, key_id: str, digest: str) -> tuple[ApiKey | None, str]:
        with self._rlock:
            rows = self._rconn.execute("SELECT digest, institution, scopes, created, revoked, rate_per_minute, "
                                       "daily_quota FROM keys WHERE key_id=?", (key_id,)).fetchall()
        if not rows or not hmac.compare_digest(rows[0][0], digest):
            return None, "unknown API key"
        r = rows[0]
        key = ApiKey(key_id, r[1], tuple(json.loads(r[2])), r[3], r[4], r[5], r[6])
        if key.revoked:
            return None, f"API key {key.key_id} was revoked at {key.revoked}"
        return key, ""

    def revoke_key(self, key_id: str) -> ApiKey:
        key = self.get_key(key_id)
        if key is None:
            raise KeyError_(f"no API key {key_id!r} (see `credgraph api-keys list`)")
        if not key.revoked:
            self._q("UPDATE keys SET revoked=? WHERE key_id=?", (utc_now(), key_id))
        return self.get_key(key_id)

    def list_keys(self) -> list[ApiKey]:
        return [self.get_key(r[0]) for r in self._q("SELECT key_id FROM keys ORDER BY created")]

    # ----------------------------------------------------------------- usage
    def add_usage(self, counts: dict[tuple[str, str, str], tuple[int, int]]) -> None:
        """Add (calls, refused) per (key, day, endpoint)."""
        with self.lock:
            self.conn.execute("BEGIN")
            for (k, d, e), (n, r) in counts.items():
                self.conn.execute("INSERT INTO usage VALUES (?,?,?,?,?) ON CONFLICT(key_id, day, endpoint) DO UPDATE "
                                  "SET calls=calls+excluded.calls, refused=refused+excluded.refused", (k, d, e, n, r))
            self.conn.execute("COMMIT")

    def usage(self, key_id: str | None = None, day: str | None = None) -> list[dict]:
        sql = ("SELECT k.institution, u.key_id, u.day, u.endpoint, u.calls, u.refused FROM usage u "
               "JOIN keys k ON k.key_id=u.key_id WHERE 1=1")
        args: list = []
        if key_id:
            sql += " AND u.key_id=?"
            args.append(key_id)
        if day:
            sql += " AND u.day=?"
            args.append(day)
        rows = self._q(sql + " ORDER BY k.institution, u.day, u.endpoint", tuple(args))
        return [dict(zip(("institution", "key_id", "day", "endpoint", "calls", "refused"), r)) for r in rows]

    def calls_today(self, key_id: str, day: str) -> int:
        return int(self._q("SELECT COALESCE(SUM(calls), 0) FROM usage WHERE key_id=? AND day=?", (key_id, day))[0][0])

    # --------------------------------------------------------------- repairs
    def add_repair(self, entity_id: str, record_id: str, reason: str, evidence: str, applicant: str) -> dict:
        rid = "RP-" + secrets.token_hex(5).upper()
        now = utc_now()
        hist = [{"time": now, "actor": applicant, "action": "applied", "note": reason}]
        self._q("INSERT INTO repairs VALUES (?,?,?,?,?,?,?,?,?,?)",
                (rid, entity_id, record_id, reason, evidence, "pending", applicant, now, now, json.dumps(hist, ensure_ascii=False)))
        return self.get_repair(rid)

    def get_repair(self, rid: str) -> dict | None:
        rows = self._q("SELECT * FROM repairs WHERE id=?", (rid,))
        return _repair(rows[0]) if rows else None

    def repairs(self, entity_id: str | None = None, status: str | None = None) -> list[dict]:
        sql, args = "SELECT * FROM repairs WHERE 1=1", []
        if entity_id:
            sql += " AND entity_id=?"
            args.append(entity_id)
        if status:
            sql += " AND status=?"
            args.append(status)
        return [_repair(r) for r in self._q(sql + " ORDER BY created", tuple(args))]

    def update_repair(self, rid: str, status: str, actor: str, action: str, note: str) -> dict:
        with self.lock:
            rep = self.get_repair(rid)
            hist = rep["history"] + [{"time": utc_now(), "actor": actor, "action": action, "note": note}]
            self._q("UPDATE repairs SET status=?, updated=?, history=? WHERE id=?",
                    (status, hist[-1]["time"], json.dumps(hist, ensure_ascii=False), rid))
            return self.get_repair(rid)

    # --------------------------------------------------------------- changes
    def add_changes(self, items: list[dict]) -> None:
        """Append changes (kind, entity_id, record_id, detail) in one transaction."""
        now = utc_now()
        with self.lock:
            self.conn.execute("BEGIN")
            for it in items:
                self.conn.execute("INSERT INTO changes (time, kind, entity_id, record_id, detail) VALUES (?,?,?,?,?)",
                                  (now, it["kind"], it.get("entity_id"), it.get("record_id"),
                                   json.dumps(it.get("detail", {}), ensure_ascii=False)))
            self.conn.execute("COMMIT")

    def changes(self, since_seq: int = 0, since_time: str | None = None, limit: int = 1000) -> list[dict]:
        if since_time:
            rows = self._q("SELECT * FROM changes WHERE time > ? ORDER BY seq LIMIT ?", (since_time, limit))
        else:
            rows = self._q("SELECT * FROM changes WHERE seq > ? ORDER BY seq LIMIT ?", (since_seq, limit))
        return [{"seq": r[0], "time": r[1], "kind": r[2], "entity_id": r[3], "record_id": r[4], **json.loads(r[5])}
                for r in rows]

    # --------------------------------------------------------------- reports
    def add_report(self, number: str, entity_id: str, key_id: str, generated: str, digest: str) -> None:
        self._q("INSERT INTO reports VALUES (?,?,?,?,?)", (number, entity_id, key_id, generated, digest))

    def get_report(self, number: str) -> dict | None:
        rows = self._q("SELECT number, entity_id, key_id, generated, hash FROM reports WHERE number=?", (number,))
        return dict(zip(("number", "entity_id", "key_id", "generated", "hash"), rows[0])) if rows else None


def _repair(r: tuple) -> dict[str, Any]:
    keys = ("id", "entity_id", "record_id", "reason", "evidence", "status", "applicant", "created", "updated", "history")
    d = dict(zip(keys, r))
    d["history"] = json.loads(d["history"])
    return d
