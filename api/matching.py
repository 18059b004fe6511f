"""The matcher the API uses: resolution's :class:`~credgraph.resolution.Matcher` (the blocking keys,
comparisons, hard rules and fitted model of the last ``credgraph resolve``), its results as plain
JSON-ready dicts. There is no second matcher: a workspace without a resolution cannot be served.
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["open_matcher", "result_dict", "MatchInputError", "ApiMatcher", "CoalescingMatcher"]


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


_WORKER: ApiMatcher | None = None


def _worker_open(cfg, threads: int) -> None:
    global _WORKER
    import os

    if threads > 0:  # before polars is imported in this process
        os.environ["POLARS_MAX_THREADS"] = str(threads)
    _WORKER = ApiMatcher(cfg)


def _worker_match(examples, limit, threshold) -> list[dict]:
    return _WORKER.match_many(examples, limit=limit, threshold=threshold)


def _worker_ready() -> bool:
    return _WORKER is not None


class ProcessMatcher:
    """The Matcher in its own worker process.

    A Matcher call is a few ms on its fast path and ~50-70 ms of CPU through its pipeline at 100k
    entities, much of it Python holding the interpreter lock; in the server's process every other request (an entity look-up needs
    under a millisecond) would wait behind it. In a worker process the two run side by side on
    the machine's cores. The worker opens the Matcher while the server builds its analysis.
    """

    def __init__(self, cfg):
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

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

    def match_many(self, examples, limit: int = 5, threshold: float | None = None) -> list[dict]:
        return self.pool.submit(_worker_match, examples, limit, threshold).result()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def open_matcher(cfg, process: bool = False) -> "CoalescingMatcher":
    """Resolution's Matcher over the workspace's last resolution (FileNotFoundError when there is
    none), with concurrent small requests matched together (:class:`CoalescingMatcher`); with
    ``process``, in a worker process (:class:`ProcessMatcher`, for the server)."""
    if process:
        pm = ProcessMatcher(cfg)
        pm._cfg_for_error = cfg
        inner = pm
    else:
        inner = ApiMatcher(cfg)
    from credgraph.resolution import Matcher

    chunk = max(int(cfg.api.match_chunk), 4)
    return CoalescingMatcher(inner, small=chunk // 4, chunk=chunk, pack=Matcher.fast_max)


class CoalescingMatcher:
    """Serves many small match requests and keeps big batches from holding them up (fair turns).

    The Matcher answers up to ``Matcher.fast_max`` examples on a fast path (a few ms at 100k
    entities) and bigger batches through its dataframe pipeline (~50 ms plus about a millisecond
    per example). One worker thread makes the calls: each turn serves every small request
    waiting, packed into calls of at most ``pack`` examples so that they stay on the fast path
    and never ride along with a big chunk, then at most one chunk of ``chunk`` examples of a big
    batch; so a single match waits for at most one chunk, not a whole 1,000-name batch. Each
    request gets its own results, in order. If a combined call fails on one request's bad
    example, each request of that call is retried alone, so only the bad one gets the error.
    """

    def __init__(self, inner, small: int = 50, chunk: int = 200, pack: int = 32):
        import queue

        self.inner = inner
        self.pack = pack
        self.small = small
        self.chunk = chunk
        self.q: "queue.Queue" = queue.Queue()
        self.thread = threading.Thread(target=self._run, daemon=True, name="match-batcher")
        self.thread.start()

    def match_many(self, examples, limit: int = 5, threshold: float | None = None) -> list[dict]:
        from concurrent.futures import Future

        examples = list(examples)
        if len(examples) <= self.small:
            fut: Future = Future()
            self.q.put(("small", examples, limit, threshold, fut))
            return fut.result()
        if not examples:
            return []
        futs = []
        for lo in range(0, len(examples), self.chunk):
            f: Future = Future()
            futs.append(f)
            self.q.put(("big", examples[lo:lo + self.chunk], limit, threshold, f))
        out: list[dict] = []
        for k, f in enumerate(futs):
            try:
                out += f.result()
            except MatchInputError as exc:  # number the example within the caller's batch
                import re

                m = re.match(r"example (\d+):(.*)", str(exc), re.S)
                if m is None:
                    raise
                raise MatchInputError(f"example {int(m.group(1)) + k * self.chunk}:{m.group(2)}") from None
        return out

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
        try:
            res = self.inner.match_many([e for it in its for e in it[1]], limit=limit, threshold=threshold)
        except Exception as exc:  # noqa: BLE001 - one request's bad example: serve each alone
            if len(its) == 1:
                its[0][4].set_exception(exc)
                return
            for it in its:
                self._serve([it], limit, threshold)
            return
        at = 0
        for it in its:
            it[4].set_result(res[at:at + len(it[1])])
            at += len(it[1])

    def wait(self) -> None:
        """Block until the matcher can answer (a worker process may still be opening it)."""
        if hasattr(self.inner, "wait"):
            self.inner.wait()

    def close(self) -> None:
        self.q.put(None)
        if hasattr(self.inner, "close"):
            self.inner.close()
