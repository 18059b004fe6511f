"""The workspace's secret key: random on first use, never a known default, never printed.

The key turns ID numbers and phones into keyed hashes (HMAC-SHA256) for exact look-up by the
application. Where it comes from, first match wins:

1. ``graph.hash_key`` set in ``credgraph.toml`` or ``CREDGRAPH_GRAPH__HASH_KEY``;
2. a secrets file named by ``CREDGRAPH_SECRETS_FILE`` (JSON ``{"hash_key": "..."}``);
3. the workspace's own ``<workspace>/secrets/keys.json`` (mode 0600 in a 0700 folder), written
   with 32 random bytes the first time a command needs the key.

A known placeholder (``change-me-in-production`` and the like) or a key shorter than 16
characters is refused with a clear message. ``credgraph keys rotate`` writes a new workspace key
and re-keys every hash (it rebuilds the graph and its look-up index).

>>> import tempfile
>>> from credgraph.config import Config
>>> cfg = Config(); cfg.workspace.path = tempfile.mkdtemp()
>>> k = hash_key(cfg)
>>> len(k), k == hash_key(cfg), oct(secrets_path(cfg).stat().st_mode & 0o777)
(64, True, '0o600')
>>> cfg.graph.hash_key = "change-me-in-production"
>>> hash_key(cfg)
Traceback (most recent call last):
...
credgraph.security.secrets.SecretError: graph.hash_key is the known placeholder 'change-me-in-production': anyone could recompute its hashes. Remove it to let credgraph make a random key for the workspace, or set a random one of at least 16 characters (e.g. python -c "import secrets; print(secrets.token_hex(32))")
"""

from __future__ import annotations

import json
import os
import secrets as _secrets
from pathlib import Path

__all__ = ["SecretError", "PLACEHOLDERS", "MIN_KEY_CHARS", "SECRETS_FILE_ENV", "hash_key", "secrets_path",
           "check_key", "new_workspace_key", "key_source"]

#: Keys published in earlier versions, documentation and examples: never accepted.
PLACEHOLDERS = frozenset({
    "change-me-in-production", "credgraph-entity-id-v1", "change-me", "changeme", "secret", "password",
    "default", "test", "key", "credgraph", "credgraph-local",
})
#: Shortest key accepted from the configuration or a secrets file.
MIN_KEY_CHARS = 16
#: Environment variable naming a JSON secrets file (``{"hash_key": "..."}``).
SECRETS_FILE_ENV = "CREDGRAPH_SECRETS_FILE"


class SecretError(ValueError):
    """The key is missing, a known placeholder, too short, or its file cannot be read."""


def secrets_path(cfg) -> Path:
    """The workspace's key file: ``<workspace>/secrets/keys.json``."""
    return cfg.workspace_path / "secrets" / "keys.json"


def check_key(key: str, where: str, min_chars: int = MIN_KEY_CHARS) -> str:
    """``key`` when usable; SecretError naming ``where`` when it is a placeholder or too short."""
    if key.strip().lower() in PLACEHOLDERS:
        raise SecretError(
            f"{where} is the known placeholder {key!r}: anyone could recompute its hashes. Remove it to let "
            "credgraph make a random key for the workspace, or set a random one of at least "
            f"{MIN_KEY_CHARS} characters (e.g. python -c \"import secrets; print(secrets.token_hex(32))\")")
    if len(key) < min_chars:
        raise SecretError(f"{where} is shorter than {min_chars} characters; use a random key "
                          "(python -c \"import secrets; print(secrets.token_hex(32))\")")
    return key


def _read_file(path: Path) -> str:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        key = data["hash_key"]
    except FileNotFoundError:
        raise SecretError(f"{path}: secrets file not found") from None
    except (OSError, ValueError, KeyError, TypeError):
        raise SecretError(f"{path}: not a secrets file (want JSON {{\"hash_key\": \"...\"}})") from None
    if not isinstance(key, str):
        raise SecretError(f"{path}: hash_key must be text")
    return key


def _write_new(path: Path, key: str, exclusive: bool) -> None:
    """Write ``{"hash_key": key}`` to ``path`` with mode 0600 (``exclusive``: only if absent)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    body = json.dumps({"hash_key": key}).encode()
    if exclusive:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())
        return
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(body)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def key_source(cfg, env=None) -> str:
    """Where :func:`hash_key` takes the key from: ``config``, ``secrets-file`` or ``workspace``."""
    env = os.environ if env is None else env
    if cfg.graph.hash_key:
        return "config"
    if env.get(SECRETS_FILE_ENV):
        return "secrets-file"
    return "workspace"


def hash_key(cfg, env=None) -> str:
    """The key of the workspace's keyed hashes (see the module docstring); made on first use."""
    env = os.environ if env is None else env
    if cfg.graph.hash_key:
        return check_key(cfg.graph.hash_key, "graph.hash_key", min_chars=1)
    named = env.get(SECRETS_FILE_ENV)
    if named:
        return check_key(_read_file(Path(named)), f"{named} (hash_key)")
    path = secrets_path(cfg)
    if not path.exists():
        try:
            _write_new(path, _secrets.token_hex(32), exclusive=True)
        except FileExistsError:  # another process made it first: use theirs
            pass
        except OSError as exc:
            raise SecretError(f"{path}: cannot create the workspace key ({exc.strerror})") from None
    return check_key(_read_file(path), str(path))


def new_workspace_key(cfg) -> None:
    """Replace the workspace key file with a new random key (``credgraph keys rotate``)."""
    _write_new(secrets_path(cfg), _secrets.token_hex(32), exclusive=False)
