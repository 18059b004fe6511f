"""Issue 13, "Why" 1: full ID numbers and phones must not be recoverable from what an analyst sees.

The attack of the issue, made concrete: an analyst takes every node and relationship the query
interface returns and, for each masked ID number (region + sequence + check digit shown), tries
every birth date and hashes each candidate the ways a hash could have been made (HMAC under the
published default keys, plain SHA-256/SHA-1/MD5, the old person-id scheme). On the old design
``n.id_hash`` or the person's ``node_id`` singles the true number out (50 of 50 in the issue);
here nothing visible may match any candidate, so the analyst is left with thousands of equally
possible numbers: no better than guessing. Phones likewise (the 4 hidden digits).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re

import polars as pl
import pytest

from secutil import cli
from credgraph.identifiers import id_is_valid

KNOWN_KEYS = ("change-me-in-production", "credgraph-entity-id-v1", "")


def _analyst_view(ws, backend, neo) -> str:
    """Everything the analysts' query interface returns about the graph, as one text."""
    parts = []
    for q in ("MATCH (n) RETURN n", "MATCH ()-[r]->() RETURN r"):
        r = cli(ws, "query", q, "--limit", "1000000", "--out", str(ws / "view.csv"), backend=backend, neo=neo)
        assert r.exit_code == 0, r.output
        parts.append((ws / "view.csv").read_text(encoding="utf-8"))
    return "\n".join(parts)


def _hashes(value: str) -> set[str]:
    out = {hashlib.sha256(value.encode()).hexdigest(), hashlib.sha1(value.encode()).hexdigest(),
           hashlib.md5(value.encode()).hexdigest()}
    for k in KNOWN_KEYS:
        h = hmac.new(k.encode(), value.encode(), hashlib.sha256).hexdigest()
        out |= {h, h[:32], h[:16].upper(), h[:16]}
    return out


_W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)  # GB 11643 weights and check characters


def _dates() -> list[tuple[str, int]]:
    """Birth dates 1930-2010 as YYYYMMDD with their weighted digit sum at positions 7-14."""
    out, day = [], dt.date(1930, 1, 1)
    while day.year <= 2010:
        d = day.strftime("%Y%m%d")
        out.append((d, sum(int(c) * w for c, w in zip(d, _W[6:14]))))
        day += dt.timedelta(days=1)
    return out


_DATES = _dates()


def _candidates(masked: str) -> list[str]:
    """Every ID number with this masked form and a right check character (birth dates 1930-2010)."""
    head, tail = masked[:6], masked[14:]
    fixed = sum(int(c) * w for c, w in zip(head, _W[:6])) + sum(int(c) * w for c, w in zip(tail[:3], _W[14:]))
    return [head + d + tail for d, sd in _DATES if "10X98765432"[(fixed + sd) % 11] == tail[3]]


def test_masked_ids_and_phones_cannot_be_brute_forced_from_the_analyst_view(ws, backend):
    name, neo = backend
    r = cli(ws, "graph", "load", backend=name, neo=neo)
    assert r.exit_code == 0, r.output
    view = _analyst_view(ws, name, neo)
    tokens = set(view.replace('"', " ").replace(",", " ").replace("|", " ").replace(":", " ").split())
    runs = set(re.findall(r"[0-9Xx]{7,}", view))  # every run of digits an ID number or phone could hide in
    runs |= {r[i:i + n] for r in list(runs) for n in (11, 12, 18) for i in range(len(r) - n + 1)}
    masked = sorted({m for m in pl.read_parquet(ws / "graph" / "frames" / "nodes.parquet")
                     .filter(pl.col("label") == "NaturalPerson")["id_masked"].drop_nulls().to_list()})[:8]
    assert len(masked) == 8
    truth = pl.read_parquet(ws / "entities" / "entities.parquet")["id_number"].drop_nulls().to_list()
    for m in masked:
        cands = _candidates(m)
        assert len(cands) > 1000 and all(id_is_valid(c) for c in cands[:50])  # what is left to guess from
        hits = [c for c in cands if c in runs or c[6:] in runs or _hashes(c) & tokens
                or ("N" + hmac.new(b"credgraph-entity-id-v1", c.encode(), hashlib.sha256).hexdigest()[:16].upper())
                in tokens]
        assert hits == [], f"{m}: the analyst view singles out {hits[:3]}"
    assert not any(t in view for t in truth if len(t) == 18 and "*" not in t)
    # phones: a masked mobile leaves 10,000 numbers, none of which the view confirms
    phones = [p for p in pl.read_parquet(ws / "graph" / "frames" / "nodes.parquet")
              .filter(pl.col("label") == "Phone")["name"].to_list() if p and len(p) == 11 and p[3:7] == "****"][:3]
    assert phones
    for p in phones:
        cands = [p[:3] + f"{i:04d}" + p[7:] for i in range(10_000)]
        assert not [c for c in cands if c in runs or _hashes(c) & tokens]


def test_no_usable_default_key_and_a_random_workspace_key(tmp_path):
    from credgraph.config import ConfigError, GraphConfig, load_config
    from credgraph.security.secrets import hash_key, secrets_path

    assert GraphConfig().hash_key not in ("change-me-in-production",) and not GraphConfig().hash_key
    for bad in ("change-me-in-production", "credgraph-entity-id-v1", "short"):
        with pytest.raises(ConfigError, match="placeholder|shorter"):
            load_config(path=None, env={"CREDGRAPH_GRAPH__HASH_KEY": bad})
    keys = []
    for i in range(2):
        cfg = load_config(path=None, env={"CREDGRAPH_WORKSPACE__PATH": str(tmp_path / f"ws{i}")})
        keys.append(hash_key(cfg))
        assert secrets_path(cfg).stat().st_mode & 0o777 == 0o600
        assert secrets_path(cfg).parent.stat().st_mode & 0o777 == 0o700
        assert hash_key(cfg) == keys[-1]  # stable for the workspace
    assert keys[0] != keys[1] and len(keys[0]) == 64


def test_a_placeholder_key_refuses_to_start_with_a_clear_message(ws):
    r = cli(ws, "graph", "load", CREDGRAPH_GRAPH__HASH_KEY="change-me-in-production")
    assert r.exit_code == 2 and "placeholder" in r.output and "Traceback" not in r.output


def test_keys_are_never_printed_or_logged(ws):
    from credgraph.config import Config
    from credgraph.security.secrets import hash_key

    cfg = Config()
    cfg.workspace.path = str(ws)
    key = hash_key(cfg)
    outs = [cli(ws, *a).output for a in (["config"], ["keys", "status"], ["graph", "load"],
                                         ["query", "MATCH (n) RETURN n LIMIT 3"], ["audit", "show"])]
    assert "the key is set" in outs[1]
    assert all(key not in o for o in outs)
    assert key not in (ws / "audit" / "audit.jsonl").read_text()


def test_keys_rotate_rekeys_every_hash_and_exact_lookup_still_works(ws):
    from credgraph.config import Config
    from credgraph.graph.keyed import read_keyed

    cfg = Config()
    cfg.workspace.path = str(ws)
    assert cli(ws, "graph", "load").exit_code == 0
    before = read_keyed(cfg)
    ent = pl.read_parquet(ws / "entities" / "entities.parquet").filter(
        (pl.col("type") == "natural") & pl.col("id_number").str.contains(r"^\d{17}[\dX]$")).row(0, named=True)
    r = cli(ws, "keys", "rotate")
    assert r.exit_code == 0, r.output
    after = read_keyed(cfg)
    assert before.height == after.height > 0
    assert set(before["hash"]).isdisjoint(set(after["hash"]))  # every hash re-keyed
    r = cli(ws, "graph", "search", ent["id_number"])
    assert r.exit_code == 0 and ent["entity_id"] in r.output
    assert ent["id_number"] not in r.output  # the typed number is shown masked


def test_person_ids_are_surrogates_not_a_function_of_the_id_number():
    from credgraph.resolution.stable import assign_entity_ids

    m = pl.DataFrame({"mention_id": ["r1:subject", "r2:subject"], "type": ["natural", "natural"], "cluster": [0, 1],
                      "first_seen": [1, 1], "seq": [0, 1], "old_entity": [None, None], "uscc_v": ["", ""],
                      "org_v": ["", ""], "reg_v": ["", ""], "id_full": ["11010519491231002X", "11010519491231002X"]},
                     schema_overrides={"old_entity": pl.Utf8})
    ids, _ = assign_entity_ids(m, "", 1, "now")
    a, b = ids.sort("cluster")["entity_id"].to_list()
    # the same ID number in two clusters does not give the same id: the id is not derived from it
    assert a != b and not any(a[1:] in h or a[1:].lower() in h for h in _hashes("11010519491231002X"))


def test_exact_lookup_by_id_number_goes_through_the_application(ws, backend):
    name, neo = backend
    assert cli(ws, "graph", "load", backend=name, neo=neo).exit_code == 0
    ent = pl.read_parquet(ws / "entities" / "entities.parquet").filter(
        (pl.col("type") == "natural") & pl.col("id_number").str.contains(r"^\d{17}[\dX]$")).row(0, named=True)
    r = cli(ws, "graph", "search", ent["id_number"], backend=name, neo=neo)
    assert r.exit_code == 0 and ent["entity_id"] in r.output, r.output
    # ... and not through an analyst's query: the graph has no property an ID number can be matched on
    r = cli(ws, "query", "MATCH (n:NaturalPerson) RETURN keys(n) AS k LIMIT 1", backend=name, neo=neo)
    assert r.exit_code == 0 and "hash" not in r.output and "id_masked" in r.output
    events = [json.loads(x) for x in (ws / "audit" / "audit.jsonl").read_text().splitlines()]
    assert any(e["action"] == "search" and ent["entity_id"] in e["detail"]["persons"] for e in events)
