"""Commands of the security layer: ``credgraph keys``, ``credgraph users``, ``credgraph audit``."""

from __future__ import annotations

import json
import sys
from typing import Optional

import typer
from rich.console import Console
from rich.markup import escape

from credgraph.console import fail as _fail, config as _config

__all__ = ["register"]

_err = Console(stderr=True, soft_wrap=True)


def _audit(cfg, action: str, target: str | None = None, **detail) -> None:
    from credgraph.security.audit import AuditError, record
    from credgraph.security.display import actor_cli

    try:
        record(cfg, actor=actor_cli(), action=action, target=target, **detail)
    except AuditError as exc:
        _fail(str(exc))


def register(app: typer.Typer) -> None:
    """Add ``keys``, ``users`` and ``audit`` to the credgraph app."""
    keys_app = typer.Typer(help="The workspace's secret key (never printed).", no_args_is_help=True)
    users_app = typer.Typer(help="Dashboard users and their roles.", no_args_is_help=True)
    audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
    app.add_typer(keys_app, name="keys")
    app.add_typer(users_app, name="users")
    app.add_typer(audit_app, name="audit")

    # ------------------------------------------------------------------------ keys
    @keys_app.command("status")
    def keys_status() -> None:
        """Say where the key comes from (configuration, secrets file or the workspace), never the key."""
        from credgraph.security.secrets import SecretError, hash_key, key_source, secrets_path

        cfg = _config()
        try:
            hash_key(cfg)
        except SecretError as exc:
            _fail(str(exc))
        src = key_source(cfg)
        where = {"config": "graph.hash_key (credgraph.toml or CREDGRAPH_GRAPH__HASH_KEY)",
                 "secrets-file": "the file named by CREDGRAPH_SECRETS_FILE",
                 "workspace": str(secrets_path(cfg))}[src]
        print(f"the key is set and usable; it comes from {where}")

    @keys_app.command("rotate")
    def keys_rotate() -> None:
        """Write a new random workspace key and re-key every hash (the graph's look-up index is rebuilt)."""
        from credgraph.graph.build import InputError, build_from_workspace
        from credgraph.graph.generation import load_graph
        from credgraph.graph.store import StoreError, open_store
        from credgraph.security.locks import LockBusy, workspace_lock
        from credgraph.security.secrets import key_source, new_workspace_key

        cfg = _config()
        if key_source(cfg) != "workspace":
            _fail("the key comes from the configuration or CREDGRAPH_SECRETS_FILE: change it there, then run "
                  "`credgraph graph load` to re-key the graph")
        try:
            with workspace_lock(cfg, "keys", command="credgraph keys rotate"):
                new_workspace_key(cfg)
                _audit(cfg, "keys_rotate")
                try:
                    frames = build_from_workspace(cfg)
                except InputError:
                    print("new key written; no graph inputs yet, so nothing to re-key")
                    return
                store = open_store(cfg)
                try:
                    load_graph(cfg, store, frames, wait=600)
                finally:
                    store.close()
        except (LockBusy, StoreError) as exc:
            _fail(str(exc))
        print("new key written; the graph and its look-up index were re-keyed")

    # ----------------------------------------------------------------------- users
    @users_app.command("add")
    def users_add(
        name: str = typer.Argument(..., help="User name (no spaces)."),
        role: str = typer.Option(..., help="investigator, supervisor, analyst or admin."),
        password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input."),
    ) -> None:
        """Add a user (or set a user's role and password). The password is asked for, never an argument."""
        from credgraph.security.users import UserError, add_user

        cfg = _config()
        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
        try:
            add_user(cfg, name, role, password)
        except UserError as exc:
            _fail(str(exc))
        _audit(cfg, "user_add", target=name, role=role)
        print(f"user {name} ({role}) saved")

    @users_app.command("remove")
    def users_remove(name: str = typer.Argument(..., help="User name.")) -> None:
        """Remove a user; their open sessions end."""
        from credgraph.security.users import UserError, remove_user

        cfg = _config()
        try:
            remove_user(cfg, name)
        except UserError as exc:
            _fail(str(exc))
        _audit(cfg, "user_remove", target=name)
        print(f"user {name} removed")

    @users_app.command("list")
    def users_list() -> None:
        """List users and their roles."""
        from credgraph.security.users import UserError, list_users

        cfg = _config()
        try:
            users = list_users(cfg)
        except UserError as exc:
            _fail(str(exc))
        if not users:
            print("no users yet: add one with `credgraph users add NAME --role admin`")
        for u in users:
            print(f"{u['name']}\t{u['role']}\t{u['created']}")

    # ----------------------------------------------------------------------- audit
    @audit_app.command("show")
    def audit_show(
        limit: int = typer.Option(50, help="The last N events."),
        action: Optional[str] = typer.Option(None, help="Only this action (login, view_person, query, ...)."),
        actor: Optional[str] = typer.Option(None, help="Only this actor."),
        as_json: bool = typer.Option(False, "--json", help="One JSON event per line."),
    ) -> None:
        """Show the last events of the audit log."""
        from credgraph.security.audit import read_events
        from credgraph.security.display import clean_text

        cfg = _config()
        try:
            events = [e for e in read_events(cfg) if (action is None or e.get("action") == action)
                      and (actor is None or e.get("actor") == actor)]
        except (ValueError, OSError) as exc:
            _fail(f"the audit log cannot be read ({exc}); run `credgraph audit verify`")
        for e in events[-limit:] if limit > 0 else events:
            if as_json:
                print(json.dumps(e, ensure_ascii=False))
            else:
                detail = json.dumps(e.get("detail") or {}, ensure_ascii=False)
                print(clean_text(f"{e['seq']}\t{e['time']}\t{e['actor']}\t{e['action']}\t{e.get('target') or ''}\t"
                                 f"{detail}"))

    @audit_app.command("verify")
    def audit_verify() -> None:
        """Check the whole hash chain; exit 1 naming the first edited, removed or reordered line."""
        from credgraph.security.audit import audit_path, verify

        cfg = _config()
        res = verify(cfg)
        if res.ok:
            print(f"audit log intact: {res.lines} events ({audit_path(cfg)})")
            return
        _err.print(f"[red]audit log broken[/red] at line {res.bad_line}: {escape(res.reason)} "
                   f"({res.lines} lines before it are intact)", highlight=False)
        raise typer.Exit(1)
