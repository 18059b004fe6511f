"""The audit trail detects an edited, deleted or reordered line; the workspace lock refuses a second writer."""

from __future__ import annotations

import json
import multiprocessing as mp

import pytest

from credgraph.config import Config
from credgraph.security import LockBusy, read_events, record, verify, workspace_lock


def _log(tmp_path, n=5):
    path = tmp_path / "audit.jsonl"
    for i in range(n):
        record(path, actor="alice", action="view_person", target=f"P{i}", page="profile")
    return path


def test_chain_of_untouched_log_verifies(tmp_path):
    path = _log(tmp_path)
    result = verify(path)
    assert (result.ok, result.lines) == (True, 5)
    assert [e["target"] for e in read_events(path)] == ["P0", "P1", "P2", "P3", "P4"]
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_edited_line_is_found(tmp_path):
    path = _log(tmp_path)
    lines = path.read_text().splitlines()
    entry = json.loads(lines[2])
    entry["actor"] = "mallory"
    lines[2] = json.dumps(entry, ensure_ascii=False, sort_keys=True)
    path.write_text("\n".join(lines) + "\n")
    result = verify(path)
    assert (result.ok, result.bad_line) == (False, 3)


def test_deleted_line_is_found(tmp_path):
    path = _log(tmp_path)
    lines = path.read_text().splitlines()
    del lines[1]
    path.write_text("\n".join(lines) + "\n")
    result = verify(path)
    assert (result.ok, result.bad_line) == (False, 2)


def test_rehashed_forgery_still_breaks_the_chain(tmp_path):
    """Recomputing an edited line's own hash is not enough: the next line's ``prev`` no longer fits."""
    from credgraph.security.audit import _digest

    path = _log(tmp_path)
    lines = path.read_text().splitlines()
    entry = json.loads(lines[1])
    entry["target"] = "P9"
    entry["hash"] = _digest(entry)
    lines[1] = json.dumps(entry, ensure_ascii=False, sort_keys=True)
    path.write_text("\n".join(lines) + "\n")
    assert verify(path).bad_line == 3


def _append_many(path, who, n):
    for i in range(n):
        record(path, actor=who, action="query", target=str(i))


def test_concurrent_appends_keep_one_chain(tmp_path):
    path = tmp_path / "audit.jsonl"
    procs = [mp.get_context("fork").Process(target=_append_many, args=(path, f"u{k}", 40)) for k in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    result = verify(path)
    assert (result.ok, result.lines) == (True, 120)


def _hold(ws, ready, release):
    cfg = Config()
    cfg.workspace.path = ws
    with workspace_lock(cfg, "resolve", command="credgraph resolve"):
        ready.set()
        release.wait(10)


def test_second_writer_is_refused_with_holder_pid(tmp_path):
    ctx = mp.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold, args=(str(tmp_path), ready, release))
    holder.start()
    try:
        assert ready.wait(10)
        cfg = Config()
        cfg.workspace.path = str(tmp_path)
        with pytest.raises(LockBusy) as exc:
            with workspace_lock(cfg, "resolve"):
                pass
        assert f"pid {holder.pid}" in str(exc.value)
        assert "credgraph resolve" in str(exc.value)
    finally:
        release.set()
        holder.join()
    with workspace_lock(cfg, "resolve"):  # free again once the holder has gone
        pass


def test_lock_of_a_killed_holder_is_free(tmp_path):
    ctx = mp.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold, args=(str(tmp_path), ready, release))
    holder.start()
    assert ready.wait(10)
    holder.kill()
    holder.join()
    cfg = Config()
    cfg.workspace.path = str(tmp_path)
    with workspace_lock(cfg, "resolve"):
        pass
