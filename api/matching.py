"""The matcher the API uses: resolution's :class:`~credgraph.resolution.Matcher` (the same model
that resolved the entities), its results as plain JSON-ready dicts.

Until the Matcher is in this branch, a thin stand-in answers from the analytics look-up
(:class:`~credgraph.analytics.lookup.EntityIndex`: exact codes, exact then fuzzy names) in
the same shape. It is a temporary bridge, not a second matcher, and goes once the Matcher lands.
"""

from __future__ import annotations

from typing import Any

__all__ = ["open_matcher", "result_dict", "MatchInputError"]


class MatchInputError(ValueError):
    """An example the matcher refuses (unknown field, bad type or date); the message says which."""


def result_dict(res) -> dict[str, Any]:
    """A MatchResult as JSON-ready data."""
    return {
        "decision": res.decision,
        "reason": getattr(res, "reason", ""),
        "candidates": [{
            "entity_id": c.entity_id, "name": c.name, "score": round(float(c.score), 4),
            "probability": round(float(c.probability), 4),
            "features": [{"field": f.field, "level": f.level, "weight": round(float(f.weight), 3),
                          "explanation": f.explanation} for f in c.features],
        } for c in res.candidates],
    }


def open_matcher(cfg, net=None):
    """Resolution's Matcher over the workspace's last resolution (the stand-in when it is absent)."""
    try:
        from credgraph.resolution import Matcher  # noqa: F401
    except ImportError:
        return _LookupMatcher(cfg, net)
    return _ResolutionMatcher(cfg)


class _ResolutionMatcher:
    def __init__(self, cfg):
        from credgraph.resolution import Matcher, ResolutionError

        self._err = ResolutionError
        try:
            self.m = Matcher.open(cfg)
        except ResolutionError as exc:  # no resolution in the workspace: say so, as a missing input
            raise FileNotFoundError(f"cannot open the matcher: {exc}") from None

    def match_many(self, examples, limit: int = 5, threshold: float | None = None) -> list[dict]:
        try:
            return [result_dict(r) for r in self.m.match_many(examples, limit=limit, threshold=threshold)]
        except self._err as exc:
            raise MatchInputError(str(exc)) from None


_KEYS = ("type", "name", "uscc", "org_code", "reg_no", "id_number", "identifiers", "birth_date", "address",
         "phone", "email", "gender", "nationality", "legal_rep")


class _LookupMatcher:  # pragma: no cover - temporary bridge until the Matcher is merged
    def __init__(self, cfg, net):
        from credgraph.analytics.lookup import EntityIndex

        self.index = EntityIndex(net, hash_key=cfg.graph.hash_key)
        self.net = net
        self.min_score = cfg.analytics.check_min_score

    def match_many(self, examples, limit: int = 5, threshold: float | None = None) -> list[dict]:
        out = []
        for k, ex in enumerate(examples):
            if not isinstance(ex, dict):
                raise MatchInputError(f"example {k + 1}: expected an object with fields")
            bad = sorted(set(ex) - set(_KEYS))
            if bad:
                raise MatchInputError(f"example {k + 1}: unknown field(s) {', '.join(bad)}; known: {', '.join(_KEYS)}")
            code = ex.get("uscc") or ex.get("org_code") or ex.get("reg_no") or ex.get("id_number") or ""
            nid, conf, method, status, note = self.index._one(ex.get("name") or "", code, self.min_score)
            thr = 0.9 if threshold is None else threshold
            if nid is None:
                out.append({"decision": "no_match", "reason": note, "candidates": []})
                continue
            dec = "match" if status == "resolved" and conf >= thr else "ambiguous"
            i = int(self.net.index_of([nid])[0])
            out.append({"decision": dec, "reason": note, "candidates": [{
                "entity_id": nid, "name": self.net.describe(i), "score": conf, "probability": conf,
                "features": [{"field": method, "level": "exact" if conf >= 0.97 else "fuzzy", "weight": conf,
                              "explanation": note or method}]}][:limit]})
        return out
