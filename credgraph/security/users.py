"""Dashboard users: argon2-hashed passwords, four roles, login rate limit, sessions.

Users live in ``<workspace>/security/users.json`` (0600 in a 0700 folder): name, role and the
argon2id hash of the password (never the password). ``credgraph users add|remove|list``
manage them. Roles, and what each may see (:data:`ROLE_PAGES`):

* ``investigator``: find, profiles (natural persons included), explorer, ownership, shells;
* ``supervisor``: find, profiles, inspection lists, the review queue;
* ``analyst``: overview, explorer, ownership, shells and the Cypher console — no person profile;
* ``admin``: every page.

A login that fails :data:`MAX_FAILURES` times for one name within :data:`WINDOW_S` seconds
locks that name for the rest of the window, with a message saying how long. A successful login
gives a session token (random, kept only as its SHA-256 in ``sessions.json``) valid for
:data:`SESSION_S` seconds.

>>> import tempfile
>>> from credgraph.config import Config
>>> cfg = Config(); cfg.workspace.path = tempfile.mkdtemp()
>>> add_user(cfg, "li", "investigator", "a long enough password")
>>> authenticate(cfg, "li", "a long enough password")
'investigator'
>>> [u["name"] for u in list_users(cfg)]
['li']
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import secrets
import time
from pathlib import Path

__all__ = ["ROLES", "ROLE_PAGES", "PERSON_ROLES", "UserError", "LoginRefused", "add_user", "remove_user",
           "list_users", "authenticate", "new_session", "session_user", "end_session", "users_path",
           "MAX_FAILURES", "WINDOW_S", "SESSION_S", "MIN_PASSWORD"]

ROLES = ("investigator", "supervisor", "analyst", "admin")
_ALL_PAGES = ("overview", "search", "profile", "explorer", "ownership", "shells", "inspection", "review", "cypher")
#: Dashboard pages (their keys in credgraph.dashboard.ui.PAGES) each role may open.
ROLE_PAGES = {
    "investigator": ("overview", "search", "profile", "explorer", "ownership", "shells"),
    "supervisor": ("overview", "search", "profile", "inspection", "review"),
    "analyst": ("overview", "explorer", "ownership", "shells", "cypher"),
    "admin": _ALL_PAGES,
}
#: Roles that may see a natural person's profile.
PERSON_ROLES = ("investigator", "supervisor", "admin")
MAX_FAILURES = 5
WINDOW_S = 300
SESSION_S = 8 * 3600
MIN_PASSWORD = 12


class UserError(ValueError):
    """A user cannot be added or removed; the message says why."""


class LoginRefused(PermissionError):
    """Wrong name or password, or too many failures: the message is safe to show."""


def _folder(cfg) -> Path:
    d = cfg.workspace_path / "security"
    d.mkdir(parents=True, exist_ok=True)
    os.chmod(d, 0o700)
    return d


def users_path(cfg) -> Path:
    return cfg.workspace_path / "security" / "users.json"


@contextlib.contextmanager
def _locked(cfg, name: str):
    from credgraph.security.locks import path_lock

    with path_lock(_folder(cfg) / f".{name}.lock", name, wait=10):
        yield


def _read(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise UserError(f"{path}: cannot be read ({exc})") from None


def _write(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()


@functools.lru_cache(maxsize=1)
def _decoy_hash() -> str:
    """A hash of a random password, checked for unknown names so that a wrong name takes as
    long as a wrong password (the time of a refusal does not tell which names exist)."""
    return _hasher().hash(secrets.token_urlsafe(16))


def add_user(cfg, name: str, role: str, password: str) -> None:
    """Add (or replace the password and role of) a user."""
    name = (name or "").strip()
    if not name or any(c.isspace() for c in name) or len(name) > 64:
        raise UserError("a user name is 1-64 characters without spaces")
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if len(password or "") < MIN_PASSWORD:
        raise UserError(f"the password must have at least {MIN_PASSWORD} characters")
    digest = _hasher().hash(password)
    with _locked(cfg, "users"):
        users = _read(users_path(cfg))
        users[name] = {"role": role, "hash": digest, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        _write(users_path(cfg), users)


def remove_user(cfg, name: str) -> None:
    """Remove a user and end their sessions."""
    with _locked(cfg, "users"):
        users = _read(users_path(cfg))
        if name not in users:
            raise UserError(f"no user {name!r}")
        del users[name]
        _write(users_path(cfg), users)
    with _locked(cfg, "sessions"):
        path = _folder(cfg) / "sessions.json"
        sessions = {k: v for k, v in _read(path).items() if v.get("user") != name}
        _write(path, sessions)


def list_users(cfg) -> list[dict]:
    """Name, role and creation time of every user (no hashes)."""
    return [{"name": n, "role": u["role"], "created": u.get("created", "")}
            for n, u in sorted(_read(users_path(cfg)).items())]


def authenticate(cfg, name: str, password: str, now: float | None = None) -> str:
    """The user's role when name and password match; LoginRefused otherwise (rate-limited per name)."""
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    now = time.time() if now is None else now
    name = (name or "").strip()
    with _locked(cfg, "logins"):
        path = _folder(cfg) / "logins.json"
        fails = _read(path)
        recent = [t for t in fails.get(name, []) if now - t < WINDOW_S]
        if len(recent) >= MAX_FAILURES:
            wait = int(WINDOW_S - (now - recent[0])) + 1
            raise LoginRefused(f"too many failed logins for {name!r}: try again in {wait} s")
        user = _read(users_path(cfg)).get(name)
        try:
            ok = _hasher().verify(user["hash"] if user else _decoy_hash(), password or "") and user is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
        if ok:
            fails.pop(name, None)
            _write(path, fails)
            return user["role"]
        fails[name] = recent + [now]
        _write(path, fails)
    raise LoginRefused("wrong user name or password")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_session(cfg, name: str) -> str:
    """A new session token for user ``name`` (only its hash is kept)."""
    users = _read(users_path(cfg))
    if name not in users:
        raise UserError(f"no user {name!r}")
    token = secrets.token_urlsafe(32)
    with _locked(cfg, "sessions"):
        path = _folder(cfg) / "sessions.json"
        now = time.time()
        sessions = {k: v for k, v in _read(path).items() if v.get("expires", 0) > now}
        sessions[_digest(token)] = {"user": name, "expires": now + SESSION_S}
        _write(path, sessions)
    return token


def session_user(cfg, token: str | None) -> tuple[str, str] | None:
    """(name, role) of a valid session token, or None (expired, ended, or the user removed)."""
    if not token:
        return None
    s = _read(cfg.workspace_path / "security" / "sessions.json").get(_digest(token))
    if not s or s.get("expires", 0) <= time.time():
        return None
    user = _read(users_path(cfg)).get(s["user"])
    return (s["user"], user["role"]) if user else None


def end_session(cfg, token: str | None) -> None:
    """Log a session out."""
    if not token:
        return
    with _locked(cfg, "sessions"):
        path = _folder(cfg) / "sessions.json"
        sessions = _read(path)
        sessions.pop(_digest(token), None)
        _write(path, sessions)
