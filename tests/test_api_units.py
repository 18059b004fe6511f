"""Small parts of the data interface, without a server: the audit trail's group commit and the
per-key moving-window rate limit."""

from __future__ import annotations

import hashlib
import json
from types import SimpleNamespace

from credgraph.security.audit import read_events, record, record_many, verify


def test_group_commit_chains_each_event_as_single_writes_would(tmp_path):
    """record_many writes the same chain as one record() per event: each line's hash is SHA-256 of
    its canonical JSON (computed here independently) and links to the line before, across a mix of
    single and grouped writes."""
    log = tmp_path / "audit.jsonl"
    record(log, actor="a", action="login")
    out = record_many(log, [dict(actor="k1", action="api_call", target=f"E{i}", status=200, ms=1.5) for i in range(5)])
    record(log, actor="a", action="logout")
    assert record_many(log, []) == []
    ev = list(read_events(log))
    assert [e["seq"] for e in ev] == list(range(1, 8))
    assert [e["target"] for e in ev[1:6]] == [f"E{i}" for i in range(5)] and [e["hash"] for e in ev[1:6]] == [e["hash"] for e in out]
    assert ev[3]["detail"] == {"status": 200, "ms": 1.5} and ev[3]["actor"] == "k1"
    prev = "0" * 64
    for e in ev:
        body = {k: v for k, v in e.items() if k != "hash"}
        text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        assert e["prev"] == prev and e["hash"] == hashlib.sha256(text.encode("utf-8")).hexdigest()
        prev = e["hash"]
    assert verify(log).ok and verify(log).lines == 7
    lines = log.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace('"E2"', '"E9"')
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert not verify(log).ok and verify(log).bad_line == 4


def test_moving_window_refuses_the_call_over_the_rate_until_the_oldest_is_a_minute_old():
    from credgraph.api.app import Limits

    lim = Limits(SimpleNamespace(cfg=None))
    t = 1000.0
    assert [lim.hit("k", 3, t + s) for s in (0, 10, 20)] == [0, 0, 0]
    assert lim.hit("k", 3, t + 30) == 30.0          # the call at t+0 leaves the window at t+60
    assert lim.hit("other", 3, t + 30) == 0          # keys are counted apart
    assert lim.hit("k", 3, t + 60) == 0              # t+0 has left: one place free
    assert lim.hit("k", 3, t + 61) == 9.0            # t+10 leaves at t+70
    assert lim.hit("k", 3, t + 200) == 0 and len(lim.window["k"]) == 1
