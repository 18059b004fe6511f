"""The matcher the API uses: resolution's :class:`~credgraph.resolution.Matcher` (the blocking keys,
comparisons, hard rules and fitted model of the last ``credgraph resolve``), its results as plain
JSON-ready dicts. There is no second matcher: a workspace without a resolution cannot be served.
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any

__all__ = ["open_matcher", "result_dict", "MatchInputError", "ApiMatcher", "ProcessMatcher", "CoalescingMatcher"]


class MatchInputError(ValueError):
    """An example the matcher refuses (unknown field, bad type or date); the message says which."""


def result_dict(res) -> dict[str, Any]:
    """A :class:`~credgraph.resolution.MatchResult` as JSON-ready data."""
    return {
        "decision": res.decision,
        "reason": res.reason,
        "candidates": [{
            "entity_id": c.entity_id, "name": c.name, "score": round(float(c.score), 4),
            "probability": round(float(c.probability), 4),
            # Fields compared (a field missing on either side is no evidence and is left out);
            # the explanation says what the field is; the level says how it compared.
            "features": [{"field": f.field, "level": f.level, "weight": round(float(f.weight), 3),
                          "explanation": _short(f.explanation)} for f in c.features if f.level != "missing"],
            "rules": list(c.rules),
        } for c in res.candidates],
    }


def _short(text: str) -> str:
    """The field's description without the list of levels (kept short: a batch has many candidates)."""
    return text.split(" Levels:")[0].strip()


class ApiMatcher:
    """The workspace's Matcher, answering with dicts and :class:`MatchInputError` for bad examples."""

    def __init__(self, cfg):
        from credgraph.resolution import Matcher, ResolutionError

        self._err = ResolutionError
        try:
            self.m = Matcher.open(cfg)
        except ResolutionError as exc:  # no resolution in the workspace: a missing input, said plainly
            raise FileNotFoundError(f"cannot open the matcher: {exc}") from None

    def match_many(self, examples, limit: int = 5, threshold: float | None = None) -> list[dict]:
        """Results in the examples' order (a batch may mix persons, companies and empty examples)."""
        for k, ex in enumerate(examples):
            if not isinstance(ex, dict):
                raise MatchInputError(f"example {k + 1}: expected an object with fields, got {type(ex).__name__}")
        try:
            res = self.m.match_many(list(examples), limit=limit, threshold=threshold)
        except self._err as exc:
            raise MatchInputError(str(exc)) from None
        return [result_dict(r) for r in res]

    def match_json(self, examples, limit: int = 5, threshold: float | None = None) -> list[str]:
        """:meth:`match_many` with each result as JSON text."""
        return [json.dumps(r, ensure_ascii=False, separators=(",", ":"))
                for r in self.match_many(examples, limit=limit, threshold=threshold)]


_WORKER: ApiMatcher | None = None


def _worker_open(cfg, threads: int) -> None:
    global _WORKER
    import os

    if threads > 0:  # before polars is imported in this process
        os.environ["POLARS_MAX_THREADS"] = str(threads)
    _WORKER = ApiMatcher(cfg)
    _freeze()


def _freeze() -> None:
    """Move everything built so far out of the garbage collector's sight: the Matcher's indexes are
    long-lived, and a full collection walking them stalls every call for tens of milliseconds."""
    import gc

    gc.collect()
    gc.freeze()


def _worker_match(examples, limit, threshold) -> list[str]:
    # JSON text made here, in the worker: the server only joins strings (no unpickling of nested
    # dicts, no encoding of a 1,000-example answer while it holds its interpreter lock).
    return [json.dumps(r, ensure_ascii=False, separators=(",", ":"))
            for r in _WORKER.match_many(examples, limit=limit, threshold=threshold)]


def _worker_ready() -> bool:
    return _WORKER is not None


class ProcessMatcher:
    """The Matcher in its own worker process.

    A Matcher call is a few ms on its fast path and ~50-70 ms of CPU through its pipeline at 100k
    entities, much of it Python holding the interpreter lock; in the server's process every other
    request (an entity look-up needs under a millisecond) would wait behind it. In a worker
    process the two run side by side on the machine's cores. The worker opens the Matcher while
    the server builds its analysis, and answers with JSON text (see :func:`_worker_match`).
    """

    def __init__(self, cfg):
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        self._cfg_for_error = cfg
        self.pool = ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn"),
                                        initializer=_worker_open, initargs=(cfg, cfg.api.matcher_threads))
        self.ready = self.pool.submit(_worker_ready)  # the worker starts opening the Matcher now

    def wait(self) -> None:
        """Block until the worker's Matcher is open (raises what opening it raised)."""
        from concurrent.futures.process import BrokenProcessPool

        try:
            self.ready.result()
        except BrokenProcessPool:
            # The initializer failed: open here to get its message (e.g. no resolution).
            ApiMatcher(self._cfg_for_error)
            raise

    def match_json(self, examples, limit: int = 5, threshold: float | None = None) -> list[str]:
        return self.pool.submit(_worker_match, examples, limit, threshold).result()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def open_matcher(cfg, process: bool = False) -> "CoalescingMatcher":
    """Resolution's Matcher over the workspace's last resolution (FileNotFoundError when there is
    none), with concurrent small requests matched together (:class:`CoalescingMatcher`).

    With ``process`` (the server), the Matcher runs in worker processes: one for big batches (and
    for small requests made from threads), :class:`ProcessMatcher`; with ``api.match_lanes`` = 2
    a second one for the small requests of the event loop, :class:`PipeMatcher`, so a single
    match never waits behind a batch. Both open the same resolution with the same Matcher class:
    one matcher, two copies of its indexes."""
    from credgraph.resolution import Matcher

    chunk = max(int(cfg.api.match_chunk), 4)
    if process:
        inner = ProcessMatcher(cfg)
        fast = PipeMatcher(cfg, Matcher.fast_max) if int(cfg.api.match_lanes) >= 2 else None
    else:
        inner, fast = ApiMatcher(cfg), None
    return CoalescingMatcher(inner, small=chunk // 4, chunk=chunk, pack=Matcher.fast_max, fast=fast,
                             timings=bool(cfg.api.timings))


def _pipe_worker(conn, cfg, threads: int) -> None:
    """The small-request worker: opens the Matcher, says so, then answers ``(examples, limit,
    threshold)`` with ``(True, [JSON text])`` or ``(False, exception)`` until told ``None``."""
    try:
        _worker_open(cfg, threads)
        conn.send((True, None))
    except BaseException as exc:  # noqa: BLE001 - the server raises it
        conn.send((False, _sendable(exc)))
        return
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        try:
            conn.send((True, _worker_match(*msg)))
        except Exception as exc:  # noqa: BLE001 - a bad example: the request that sent it gets it
            conn.send((False, _sendable(exc)))


def _sendable(exc: BaseException) -> BaseException:
    import pickle

    try:
        pickle.dumps(exc)
        return exc
    except Exception:  # noqa: BLE001
        return RuntimeError(f"{type(exc).__name__}: {exc}")


class PipeMatcher:
    """A Matcher worker process for small requests, driven from the server's event loop.

    Requests go down a pipe and answers come back on it; the event loop watches the pipe itself
    (``add_reader``), so a single match wakes only the worker and then the loop — no thread or
    executor in between, each of which waits for a turn on the CPU when the machine is busy.
    Small requests arriving while the worker is busy are packed (same limit and threshold, at
    most ``pack`` examples: the Matcher's fast path) into its next call; if a packed call fails
    on one request's bad example, each request is retried alone.
    """

    def __init__(self, cfg, pack: int = 32):
        import collections
        import multiprocessing as mp

        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_pipe_worker, args=(child, cfg, cfg.api.matcher_threads), daemon=True,
                                name="credgraph-matcher-small")
        self.proc.start()
        child.close()
        self.pack = pack
        self.pending: "collections.deque" = collections.deque()
        self.inflight = None
        self.loop = None
        self.broken: Exception | None = None
        self.timings: list | None = None
        self._opened = False

    def wait(self) -> None:
        """Block until the worker's Matcher is open (raises what opening it raised)."""
        if not self._opened:
            ok, exc = self.conn.recv()
            if not ok:
                raise exc
            self._opened = True

    async def call(self, examples: list, limit: int, threshold: float | None) -> list[str]:
        """Each example's result as JSON text (awaited on the running event loop)."""
        import asyncio

        loop = asyncio.get_running_loop()
        if self.loop is None:
            self.loop = loop
            loop.add_reader(self.conn.fileno(), self._answered)
            # uvloop makes a watched descriptor non-blocking; an answer bigger than the pipe's buffer
            # must then be read whole once it starts arriving, so put it back to blocking.
            os.set_blocking(self.conn.fileno(), True)
        if self.broken is not None:
            raise self.broken
        fut = loop.create_future()
        self.pending.append((examples, limit, threshold, fut, time.perf_counter(), False))
        self._send()
        return await fut

    def _send(self) -> None:
        while self.inflight is None and self.pending:
            first = self.pending.popleft()
            if first[3].done():  # its client went away
                continue
            pack, n = [first], len(first[0])
            while (not first[5] and self.pending and not self.pending[0][5] and self.pending[0][1:3] == first[1:3]
                   and n + len(self.pending[0][0]) <= self.pack):
                it = self.pending.popleft()
                if not it[3].done():
                    pack.append(it)
                    n += len(it[0])
            t = time.perf_counter()
            self.inflight = (pack, t)
            if self.timings is not None:
                self.timings.append((t - min(it[4] for it in pack), None))
            self.conn.send(([e for it in pack for e in it[0]], first[1], first[2]))

    def _answered(self) -> None:
        pack, t0 = self.inflight if self.inflight is not None else ([], 0.0)
        try:
            ok, payload = self.conn.recv()
        except (EOFError, OSError):
            self.broken = RuntimeError("the matcher's worker process stopped; restart the server")
            self.loop.remove_reader(self.conn.fileno())
            for it in list(pack) + list(self.pending):
                if not it[3].done():
                    it[3].set_exception(self.broken)
            self.inflight, self.pending = None, type(self.pending)()
            return
        self.inflight = None
        if self.timings is not None and self.timings and self.timings[-1][1] is None:
            self.timings[-1] = (self.timings[-1][0], time.perf_counter() - t0)
        if ok:
            at = 0
            for it in pack:
                if not it[3].done():
                    it[3].set_result(payload[at:at + len(it[0])])
                at += len(it[0])
        elif len(pack) == 1:
            if not pack[0][3].done():
                pack[0][3].set_exception(payload)
        else:
            for it in reversed(pack):  # serve each alone: only the bad one gets the error
                self.pending.appendleft(it[:5] + (True,))
        self._send()

    def close(self) -> None:
        try:
            if self.loop is not None and not self.loop.is_closed():
                self.loop.remove_reader(self.conn.fileno())
            self.conn.send(None)
        except (OSError, ValueError):
            pass
        self.proc.join(5)
        if self.proc.is_alive():
            self.proc.terminate()
        self.conn.close()


class _Lane:
    """One thread making Matcher calls on one inner matcher, in turns (see :class:`CoalescingMatcher`)."""

    def __init__(self, inner, pack: int, name: str, timings: list | None = None):
        import queue

        self.inner = inner
        self.pack = pack
        self.name = name
        #: With ``api.timings``: (seconds queued, seconds of the Matcher call) per call.
        self.timings = timings
        self.q: "queue.Queue" = queue.Queue()
        self.thread = threading.Thread(target=self._run, daemon=True, name=name)
        self.thread.start()

    def _run(self) -> None:
        import queue

        small, big = [], []
        while True:
            if not small and not big:
                it = self.q.get()
                if it is None:
                    return
                (small if it[0] == "small" else big).append(it)
            while True:  # everything that arrived meanwhile
                try:
                    it = self.q.get_nowait()
                except queue.Empty:
                    break
                if it is None:
                    return
                (small if it[0] == "small" else big).append(it)
            take, small = small, []
            groups: dict = {}
            for it in take:
                groups.setdefault((it[2], it[3]), []).append(it)
            for (limit, threshold), its in groups.items():
                for call in self._packed(its):
                    self._serve(call, limit, threshold)
            if big:
                it = big.pop(0)
                self._serve([it], it[2], it[3])

    def _packed(self, its: list) -> list[list]:
        """Small requests in calls of at most ``pack`` examples (a request larger than that alone)."""
        calls, cur, n = [], [], 0
        for it in its:
            if cur and n + len(it[1]) > self.pack:
                calls.append(cur)
                cur, n = [], 0
            cur.append(it)
            n += len(it[1])
        if cur:
            calls.append(cur)
        return calls

    def _serve(self, its, limit, threshold) -> None:
        futs = [it[4] for it in its if it[4].set_running_or_notify_cancel()]
        its = [it for it in its if it[4] in futs]
        if not its:
            return
        t0 = time.perf_counter()
        try:
            res = self.inner.match_json([e for it in its for e in it[1]], limit=limit, threshold=threshold)
            if self.timings is not None:
                self.timings.append((t0 - min(it[5] for it in its), time.perf_counter() - t0))
        except Exception as exc:  # noqa: BLE001 - one request's bad example: serve each alone
            if len(its) == 1:
                its[0][4].set_exception(exc)
                return
            for it in its:
                self._serve_again(it, limit, threshold)
            return
        at = 0
        for it in its:
            it[4].set_result(res[at:at + len(it[1])])
            at += len(it[1])

    def _serve_again(self, it, limit, threshold) -> None:
        try:
            it[4].set_result(self.inner.match_json(it[1], limit=limit, threshold=threshold))
        except Exception as exc:  # noqa: BLE001
            it[4].set_exception(exc)

    def close(self) -> None:
        self.q.put(None)


class CoalescingMatcher:
    """Serves many small match requests and keeps big batches from holding them up.

    The Matcher answers up to ``Matcher.fast_max`` examples on a fast path (a few ms at 100k
    entities) and bigger batches through its dataframe pipeline (~50 ms plus about a millisecond
    per example). A request of at most ``small`` examples is *small*: small requests waiting
    together are packed into calls of at most ``pack`` examples, so they stay on the fast path;
    a big batch goes in chunks of ``chunk`` examples.

    One thread makes the calls of ``inner`` in turns: every small request waiting, then at most
    one chunk, so a small request waits for at most one chunk. With ``fast`` (the server's
    :class:`PipeMatcher`), small requests awaited on the event loop go to that worker instead and
    never wait for a batch. Each request gets its own results, in order. If a combined call fails
    on one request's bad example, each request of that call is retried alone, so only the bad one
    gets the error.
    """

    def __init__(self, inner, small: int = 50, chunk: int = 200, pack: int = 32, fast: "PipeMatcher | None" = None,
                 timings: bool = False):
        self.inner = inner
        self.fast = fast
        self.small = small
        self.chunk = chunk
        self.lanes = [_Lane(inner, pack, "match-turns", [] if timings else None)]
        if fast is not None and timings:
            fast.timings = []

    def _submit(self, examples, limit, threshold) -> list:
        """Queue a request; the futures of its parts (one for a small request, one per chunk)."""
        from concurrent.futures import Future

        if len(examples) <= self.small:
            fut: Future = Future()
            self.lanes[0].q.put(("small", examples, limit, threshold, fut, time.perf_counter()))
            return [fut]
        futs = []
        for lo in range(0, len(examples), self.chunk):
            f: Future = Future()
            futs.append(f)
            self.lanes[0].q.put(("big", examples[lo:lo + self.chunk], limit, threshold, f, time.perf_counter()))
        return futs

    def _numbered(self, exc: MatchInputError, k: int) -> MatchInputError:
        """The error of chunk ``k`` with its example numbered within the caller's batch."""
        import re

        m = re.match(r"example (\d+):(.*)", str(exc), re.S)
        if m is None or k == 0:
            return exc
        return MatchInputError(f"example {int(m.group(1)) + k * self.chunk}:{m.group(2)}")

    def match_json(self, examples, limit: int = 5, threshold: float | None = None) -> list[str]:
        """Each example's result as JSON text, in order (blocks until answered)."""
        examples = list(examples)
        if not examples:
            return []
        out: list[str] = []
        for k, f in enumerate(self._submit(examples, limit, threshold)):
            try:
                out += f.result()
            except MatchInputError as exc:
                raise self._numbered(exc, k) from None
        return out

    async def amatch_json(self, examples, limit: int = 5, threshold: float | None = None) -> list[str]:
        """:meth:`match_json` for an event loop: waits without holding a thread."""
        import asyncio

        examples = list(examples)
        if not examples:
            return []
        if self.fast is not None and len(examples) <= self.small:
            return await self.fast.call(examples, limit, threshold)
        out: list[str] = []
        futs = self._submit(examples, limit, threshold)
        try:
            for k, f in enumerate(futs):
                try:
                    out += await asyncio.wrap_future(f)
                except MatchInputError as exc:
                    raise self._numbered(exc, k) from None
        finally:
            for f in futs:  # a client gone or an error: the rest of its chunks need not run
                f.cancel()
        return out

    def match_many(self, examples, limit: int = 5, threshold: float | None = None) -> list[dict]:
        """Results as dicts, in the examples' order."""
        return [json.loads(x) for x in self.match_json(examples, limit=limit, threshold=threshold)]

    def timing_lines(self) -> list[str]:
        """With ``api.timings``: per lane, percentiles of the time calls waited and took."""
        out = []
        lanes = [(lane.name, lane.timings) for lane in self.lanes]
        if self.fast is not None:
            lanes.insert(0, ("match-small (pipe)", [t for t in (self.fast.timings or []) if t[1] is not None]))
        for name, timings in lanes:
            if timings:
                out.append(_percentiles(f"{name} queued", [w for w, _ in timings]))
                out.append(_percentiles(f"{name} call", [c for _, c in timings]))
        return out

    def wait(self) -> None:
        """Block until the matcher can answer (worker processes may still be opening it)."""
        for inner in (self.inner, self.fast):
            if inner is not None and hasattr(inner, "wait"):
                inner.wait()

    def close(self) -> None:
        for lane in self.lanes:
            lane.close()
        for inner in (self.inner, self.fast):
            if inner is not None and hasattr(inner, "close"):
                inner.close()


def _percentiles(what: str, seconds: list[float]) -> str:
    """``TIMING what: n=.. p50=.. p95=.. p99=.. max=.. ms`` (the line ``bench/bench_api.py`` reads)."""
    import numpy as np

    x = np.asarray(seconds, dtype=float) * 1000
    p50, p95, p99 = np.percentile(x, [50, 95, 99])
    return f"TIMING {what}: n={len(x)} p50={p50:.1f} p95={p95:.1f} p99={p99:.1f} max={x.max():.1f} ms"
