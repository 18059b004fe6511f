"""The matcher the API uses: resolution's :class:`~credgraph.resolution.Matcher` (the blocking keys,
comparisons, hard rules and fitted model of the last ``credgraph resolve``), its results as plain
JSON-ready dicts. There is no second matcher: a workspace without a resolution cannot be served.
"""

from __future__ import annotations

from typing import Any

__all__ = ["open_matcher", "result_dict", "MatchInputError", "ApiMatcher"]


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
        """Results in the examples' order.

        Examples go to the Matcher in groups of one declared type with something to match on
        (the others one by one): ``Matcher.match_many`` currently indexes each type's queries by
        their position in the whole batch, which fails (OutOfBoundsError) on a batch that mixes
        persons and companies or holds an empty example. Remove the grouping once that is fixed.
        """
        groups: dict[str, list[int]] = {}
        for k, ex in enumerate(examples):
            if not isinstance(ex, dict):
                raise MatchInputError(f"example {k + 1}: expected an object with fields, got {type(ex).__name__}")
            t = ex.get("type")
            solid = t in ("legal", "natural") and any(ex.get(c) for c in _KEYS_TO_MATCH)
            groups.setdefault(t if solid else f"single:{k}", []).append(k)
        out: list[dict | None] = [None] * len(examples)
        for ks in groups.values():
            try:
                res = self.m.match_many([examples[k] for k in ks], limit=limit, threshold=threshold)
            except self._err as exc:
                msg = str(exc)
                if len(ks) == 1 and msg.startswith("example 1:"):  # name the caller's example, not ours
                    msg = f"example {ks[0] + 1}:" + msg[len("example 1:"):]
                raise MatchInputError(msg) from None
            for k, r in zip(ks, res):
                out[k] = result_dict(r)
        return out  # type: ignore[return-value]


_KEYS_TO_MATCH = ("name", "uscc", "org_code", "reg_no", "id_number", "identifiers")


def open_matcher(cfg) -> ApiMatcher:
    """Resolution's Matcher over the workspace's last resolution (FileNotFoundError when there is none)."""
    return ApiMatcher(cfg)
