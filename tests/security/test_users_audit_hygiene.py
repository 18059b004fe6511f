"""Issue 13, "Why" 7 and 8: users and roles, the audit trail, data at rest, and input hygiene.

* users: argon2 hashes (never the password), four roles with their own pages, a person's profile
  only for the roles that need it, a rate-limited login with a clear message;
* audit: queries, exports, searches, review decisions and logins are logged; an edited or deleted
  line is found by ``credgraph audit verify``;
* files with clear identifiers are 0600 in 0700 folders; a killed run's temp files are removed
  at the next start;
* names are kept as written beside their normalised key; control characters never reach the
  terminal; bad options give a message, not a traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import polars as pl
import pytest

from secutil import cli


def _cfg(ws):
    from credgraph.config import Config

    cfg = Config()
    cfg.workspace.path = str(ws)
    return cfg


# ------------------------------------------------------------------------------ users
def test_users_are_stored_hashed_with_roles_and_managed_from_the_cli(ws):
    r = cli(ws, "users", "add", "li", "--role", "investigator", "--password-stdin", input="correct horse battery\n")
    assert r.exit_code == 0, r.output
    r = cli(ws, "users", "add", "wang", "--role", "analyst", "--password-stdin", input="another long secret\n")
    assert r.exit_code == 0
    r = cli(ws, "users", "add", "bad", "--role", "boss", "--password-stdin", input="another long secret\n")
    assert r.exit_code == 2 and "role must be one of" in r.output
    r = cli(ws, "users", "add", "short", "--role", "admin", "--password-stdin", input="abc\n")
    assert r.exit_code == 2 and "at least 12 characters" in r.output
    path = ws / "security" / "users.json"
    text = path.read_text()
    assert "correct horse" not in text and text.count("$argon2id$") == 2
    assert path.stat().st_mode & 0o777 == 0o600 and path.parent.stat().st_mode & 0o777 == 0o700
    r = cli(ws, "users", "list")
    assert "li\tinvestigator" in r.output and "wang\tanalyst" in r.output and "argon2" not in r.output
    assert cli(ws, "users", "remove", "wang").exit_code == 0
    assert "wang" not in cli(ws, "users", "list").output
    from credgraph.security.users import authenticate

    assert authenticate(_cfg(ws), "li", "correct horse battery") == "investigator"


def test_login_is_rate_limited_with_a_clear_message(ws):
    from credgraph.security.users import MAX_FAILURES, LoginRefused, add_user, authenticate

    cfg = _cfg(ws)
    add_user(cfg, "li", "supervisor", "correct horse battery")
    for _ in range(MAX_FAILURES):
        with pytest.raises(LoginRefused, match="wrong user name or password"):
            authenticate(cfg, "li", "guess")
    with pytest.raises(LoginRefused, match=r"too many failed logins for 'li': try again in \d+ s"):
        authenticate(cfg, "li", "correct horse battery")  # even the right password waits
    assert authenticate(cfg, "li", "correct horse battery", now=__import__("time").time() + 301) == "supervisor"


def test_roles_see_only_their_pages_and_persons_only_where_needed():
    from credgraph.dashboard.ui import PAGES
    from credgraph.security.users import PERSON_ROLES, ROLE_PAGES, ROLES

    assert set(ROLE_PAGES) == set(ROLES) == {"investigator", "supervisor", "analyst", "admin"}
    assert set(ROLE_PAGES["admin"]) == set(PAGES)
    assert "profile" not in ROLE_PAGES["analyst"] and "analyst" not in PERSON_ROLES
    assert "cypher" not in ROLE_PAGES["investigator"] and "cypher" not in ROLE_PAGES["supervisor"]
    assert "review" in ROLE_PAGES["supervisor"] and "review" not in ROLE_PAGES["analyst"]
    for role in PERSON_ROLES:
        assert "profile" in ROLE_PAGES[role]


# ------------------------------------------------------------------------------ audit
def test_queries_exports_searches_and_decisions_are_audited_and_tampering_is_found(ws):
    from credgraph.resolution.pipeline import load_resolution

    assert cli(ws, "graph", "load").exit_code == 0
    assert cli(ws, "query", "MATCH (n:NaturalPerson) RETURN n.name LIMIT 2").exit_code == 0
    assert cli(ws, "query", "MATCH (n) RETURN n.name LIMIT 2", "--out", str(ws / "q.csv")).exit_code == 0
    assert cli(ws, "graph", "export", str(ws / "exp")).exit_code == 0
    assert cli(ws, "graph", "search", "科技").exit_code == 0
    rv = load_resolution(ws / "entities").review.row(0, named=True)
    assert cli(ws, "review", "--match", rv["left"], rv["right"], "--who", "li", "--why", "same").exit_code == 0
    events = [json.loads(x) for x in (ws / "audit" / "audit.jsonl").read_text().splitlines()]
    actions = [e["action"] for e in events]
    for a in ("query", "export", "search", "review"):
        assert a in actions, actions
    assert sum(a == "export" for a in actions) == 2
    assert all(e["actor"].startswith("cli:") for e in events)
    r = cli(ws, "audit", "verify")
    assert r.exit_code == 0 and f"{len(events)} events" in r.output
    r = cli(ws, "audit", "show", "--action", "review")
    assert r.exit_code == 0 and rv["left"] in r.output
    # edit one line, then delete one: both found, with the line number
    lines = (ws / "audit" / "audit.jsonl").read_text().splitlines()
    edited = lines.copy()
    edited[1] = edited[1].replace('"query"', '"login"')
    (ws / "audit" / "audit.jsonl").write_text("\n".join(edited) + "\n")
    r = cli(ws, "audit", "verify")
    assert r.exit_code == 1 and "line 2" in r.output and "changed" in r.output
    (ws / "audit" / "audit.jsonl").write_text("\n".join(lines[:1] + lines[2:]) + "\n")
    r = cli(ws, "audit", "verify")
    assert r.exit_code == 1 and "line 2" in r.output and "removed" in r.output


# ------------------------------------------------------------------------ data at rest
def test_files_with_clear_identifiers_are_owner_only(tmp_path):
    from credgraph.synth import generate_city

    city = tmp_path / "city"
    generate_city(city, entities=120, seed=3)
    ws = tmp_path / "ws"
    assert cli(ws, "load", str(city / "specs")).exit_code == 0
    assert cli(ws, "resolve").exit_code == 0
    assert cli(ws, "graph", "load").exit_code == 0
    for folder in ("records", "entities", "quarantine", "graph", "secrets", "audit"):
        d = ws / folder
        if not d.exists():
            continue
        assert d.stat().st_mode & 0o777 == 0o700, d
        for dirpath, dirnames, names in os.walk(d):
            for n in names:
                p = os.path.join(dirpath, n)
                assert os.stat(p).st_mode & 0o077 == 0, p  # nobody but the owner


def test_a_killed_runs_temp_files_are_removed_at_the_next_start(ws):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    leftovers = [ws / "records" / f".records.parquet.p{dead.pid}.abc123.tmp",
                 ws / "entities" / f".entities.p{dead.pid}.xyz.tmp"]
    leftovers[0].write_bytes(b"11010519491231002X")
    leftovers[1].mkdir()
    (leftovers[1] / "assignments.parquet").write_bytes(b"x")
    mine = ws / "records" / f".records.parquet.p{os.getpid()}.live.tmp"  # a running writer's: kept
    mine.write_bytes(b"x")
    assert cli(ws, "config").exit_code == 0
    assert not any(p.exists() for p in leftovers) and mine.exists()


# ------------------------------------------------------------------------ input hygiene
def test_names_are_kept_as_written_beside_their_normalised_key_and_printed_clean(tmp_path):
    from credgraph.graph.build import build_frames
    from credgraph.records import polars_schema
    from credgraph.resolution import resolve

    hostile = "x'}) DETACH DELETE n //"
    shifty = "深圳市\u202e甲\x1b[31m科技\x00有限公司"
    recs = pl.DataFrame([
        {"record_id": "r1", "catalog": "MR_REG", "kind": "entity", "event_type": "registration",
         "subject_type": "legal", "subject_name": hostile},
        {"record_id": "r2", "catalog": "MR_REG", "kind": "entity", "event_type": "registration",
         "subject_type": "legal", "subject_name": shifty},
    ], schema_overrides=polars_schema())
    res = resolve(recs)
    g = build_frames(recs, res.assignments, res.entities, hash_key="k" * 20)
    legal = g.nodes["LegalPerson"]
    assert set(legal["name"].to_list()) == {hostile, shifty}  # as written
    keys = dict(zip(legal["name"].to_list(), legal["name_key"].to_list()))
    assert keys[hostile] != hostile  # the normalised key sits beside it
    # the command line shows it without the control and direction-override characters
    from credgraph.graph.ladybug_store import LadybugStore

    cfg = _cfg(tmp_path / "ws")
    cfg.graph.hash_key = "k" * 20
    store = LadybugStore(cfg, tmp_path / "ws" / "graph" / "ladybug")
    store.load(g)
    store.close()
    r = cli(tmp_path / "ws", "query", "MATCH (n:LegalPerson) RETURN n.name AS name", CREDGRAPH_GRAPH__HASH_KEY="k" * 20)
    assert r.exit_code == 0 and hostile in r.output
    assert "\x1b" not in r.output and "\u202e" not in r.output and "\x00" not in r.output
    assert "深圳市甲[31m科技有限公司" in r.output
    from credgraph.security.display import html_text

    assert html_text(shifty + "<script>") == "深圳市甲[31m科技有限公司&lt;script&gt;"
