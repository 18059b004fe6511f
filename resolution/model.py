"""The Fellegi-Sunter model: m/u probabilities per comparison level, estimated by EM without labels.

For a candidate pair with comparison levels ``γ``, the match weight is

    W = log2(λ / (1 - λ)) + Σ_k log2(m_k[γ_k] / u_k[γ_k])

where ``m_k[l]`` is the probability of level l among true matches and ``u_k[l]`` among
non-matches, and λ the share of matches among candidate pairs; the match probability
is ``2^W / (1 + 2^W)``. A missing field contributes nothing.

Estimation, without human labels. Identifiers decide some pairs for free. m: from
profiles that share a USCC or a full ID number (the same entity, so their levels show
what noise looks like). u: from look-alikes — profiles of entities with different
identifiers that fall in the same blocks as the undecided mentions (so their levels show
what a near miss looks like), with the levels of random pairs as a weak prior. λ:
expectation-maximisation over the undecided candidate pairs, aggregated by their pattern
of levels (so it costs nothing per pair). Human judgements refine all three: a judged
match counts ``judgement_weight`` times towards m, a judged non-match towards u.

Term frequency: at the top level of a name comparison the weight is adjusted by
``log2(tf_ref / tf(value))``, where ``tf(value)`` is the share of pre-clusters carrying
that name and ``tf_ref`` its geometric mean over the candidate pairs at fit time: a
common name (张伟) counts for less than a rare one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

from credgraph.resolution.errors import ModelVersionError
from credgraph.resolution.features import Comparison

__all__ = ["MODEL_FORMAT", "TypeModel", "Model", "estimate_u", "fit_type_model", "score", "load_model", "save_model"]

#: Version of the model file format and of the comparison definitions it refers to.
MODEL_FORMAT = 2

_EPS = 1e-6
#: The prior share of matches is capped at 0.8 (at most +2 bits): the evidence must decide a pair, not the prior
#: (candidate pairs from a name+company block are nearly all matches, from an ID-digits block nearly
#: none; one λ for both must not lift the second kind).
LAMBDA_MAX = 0.8
#: Undecided pairs needed before EM re-estimates m (a tenth as many decided pairs of each kind).
EM_MIN_PAIRS = 10_000
#: Fewer identified matches than this (and at least UNSUPERVISED_MIN_PAIRS undecided pairs): m by plain EM.
UNSUPERVISED_BELOW = 50
UNSUPERVISED_MIN_PAIRS = 200
_TF_CLIP = 6.0  # bits: bounds the term-frequency adjustment either way


@dataclass
class TypeModel:
    """m/u per comparison level and λ (share of matches among candidate pairs), for one subject type."""

    type: str
    lam: float
    m: dict[str, list[float]]
    u: dict[str, list[float]]
    tf_reference: dict[str, float] = field(default_factory=dict)
    info: dict = field(default_factory=dict)

    def weights(self, name: str) -> np.ndarray:
        """log2(m/u) per level of one comparison."""
        return np.log2(np.asarray(self.m[name]) / np.asarray(self.u[name]))

    @property
    def prior_weight(self) -> float:
        return float(np.log2(self.lam / (1.0 - self.lam)))

    def to_dict(self) -> dict:
        return {"type": self.type, "lam": self.lam, "m": self.m, "u": self.u,
                "tf_reference": self.tf_reference, "info": self.info}

    @classmethod
    def from_dict(cls, d: dict) -> "TypeModel":
        return cls(d["type"], float(d["lam"]), d["m"], d["u"], d.get("tf_reference", {}), d.get("info", {}))


@dataclass
class Model:
    """One :class:`TypeModel` per subject type, with a version string recorded on every merge."""

    types: dict[str, TypeModel]
    format: int = MODEL_FORMAT

    @property
    def version(self) -> str:
        body = json.dumps({t: {"lam": round(m.lam, 6), "m": m.m, "u": m.u} for t, m in sorted(self.types.items())},
                          sort_keys=True, default=float)
        return f"fs{self.format}-{hashlib.sha1(body.encode()).hexdigest()[:10]}"

    def to_json(self) -> str:
        return json.dumps({"format": self.format, "version": self.version,
                           "types": {t: m.to_dict() for t, m in self.types.items()}},
                          ensure_ascii=False, indent=1, default=float)

    @classmethod
    def from_json(cls, text: str, source: str = "model") -> "Model":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ModelVersionError(f"{source}: not a credgraph resolution model ({exc})") from None
        fmt = data.get("format") if isinstance(data, dict) else None
        if fmt != MODEL_FORMAT:
            raise ModelVersionError(
                f"{source}: model format {fmt!r} was written by another version of credgraph "
                f"(this one reads format {MODEL_FORMAT}); re-run `credgraph resolve --refit` to estimate a new model"
            )
        try:
            return cls({t: TypeModel.from_dict(d) for t, d in data["types"].items()}, fmt)
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelVersionError(f"{source}: model file is incomplete ({exc})") from None


def save_model(model: Model, path: str | Path) -> Path:
    from credgraph.atomic import write_text

    return write_text(model.to_json(), path)


def load_model(path: str | Path) -> Model:
    """Read a model file; :class:`ModelVersionError` when it has another format version."""
    p = Path(path)
    if not p.is_file():
        raise ModelVersionError(f"{p}: model file not found")
    return Model.from_json(p.read_text(encoding="utf-8"), str(p))


def _default(comparisons: tuple[Comparison, ...]) -> tuple[dict, dict]:
    """Starting values: m rises and u falls with the level (agreement is likelier among matches)."""
    m, u = {}, {}
    for c in comparisons:
        n = len(c.levels)
        mm = np.array([2.0 ** (3 * i) for i in range(n)])
        uu = np.array([2.0 ** (-3 * i) for i in range(n)])
        m[c.name] = list(mm / mm.sum())
        u[c.name] = list(uu / uu.sum())
    return m, u


def _aggregate(gamma: np.ndarray, fixed: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (levels, fixed label) patterns with their total weight."""
    cols = {f"g{k}": gamma[:, k] for k in range(gamma.shape[1])}
    cols["fixed"] = fixed
    cols["w"] = weight
    agg = pl.DataFrame(cols).group_by([c for c in cols if c != "w"]).agg(pl.col("w").sum())
    g = agg.select([f"g{k}" for k in range(gamma.shape[1])]).to_numpy().astype(np.int8)
    return g, agg["fixed"].to_numpy(), agg["w"].to_numpy().astype(np.float64)


def estimate_u(comparisons: tuple[Comparison, ...], gamma: np.ndarray, prior_pairs: float = 20.0) -> dict[str, list[float]]:
    """u probabilities from the levels of *random* pairs (almost all non-matches).

    A few pseudo-pairs drawn from the default u keep unseen levels finite on small data.
    """
    _, u0 = _default(comparisons)
    u = {}
    for k, c in enumerate(comparisons):
        n = len(c.levels)
        lv = gamma[:, k] if len(gamma) else np.zeros(0, np.int8)
        counts = np.bincount(lv[lv >= 0], minlength=n).astype(float)
        est = (counts + prior_pairs * np.asarray(u0[c.name])) / (counts.sum() + prior_pairs)
        u[c.name] = [float(x) for x in np.clip(est, _EPS, 1)]
    return u


def fit_type_model(
    type_: str,
    comparisons: tuple[Comparison, ...],
    gamma: np.ndarray,
    label: np.ndarray,
    u_prior: dict[str, list[float]],
    weight: np.ndarray | None = None,
    iterations: int = 25,
    prior_pairs: float = 50.0,
    anchor: float = float("inf"),
) -> TypeModel:
    """Estimate u from the decided non-matches, m and λ by EM over the undecided pairs.

    ``gamma``: (pairs × comparisons) level codes (-1 missing). ``label``: -1 for a pair whose
    status is unknown (the pairs EM is about), 1 or 0 for a pair whose identifiers or a person's
    judgement decide it. ``weight``: how much each pair counts (judged pairs count more).
    ``u_prior``: level frequencies among random pairs. The default m and ``u_prior`` enter as
    ``prior_pairs`` pseudo-pairs, so levels nobody reached keep a finite weight.

    u comes from the look-alikes that identifiers tell apart (what a near miss looks like), as
    Splink takes u from random pairs: EM does not move it. m starts from the pairs that share an
    identifier and EM re-estimates it, with λ, from the undecided candidate pairs — where the
    kinds of evidence that identified pairs rarely show (a masked ID number that fits a full one)
    are common — keeping the identified pairs in every M-step as pseudo-counts worth ``anchor``
    times the expected number of matches among the undecided pairs. Unanchored EM (``anchor=0``)
    on blocked pairs is not identifiable (a look-alike with an identical name explains the data as
    well as a match does). At 1M records, letting EM move u too turned a fitting masked ID into
    evidence *against* a match, and moving m alone (``anchor=1``) over-trusted it (pairs with a
    masked ID: F1 0.55 against 0.98 with m fixed), so the default ``anchor=inf`` keeps m where
    the identified pairs put it and fits λ alone — as also happens when there are fewer than
    ``EM_MIN_PAIRS`` undecided pairs. λ is capped at ``LAMBDA_MAX``.
    """
    n_pairs = len(gamma)
    weight = np.ones(n_pairs) if weight is None else np.asarray(weight, float)
    m0, _ = _default(comparisons)
    lam = 0.5
    g, fx, w = _aggregate(gamma, label.astype(np.int8), weight) if n_pairs else (
        np.zeros((0, len(comparisons)), np.int8), np.zeros(0, np.int8), np.zeros(0))
    m_lab, u = {}, {}
    for k, c in enumerate(comparisons):
        n = len(c.levels)
        lv = g[:, k]
        pos = (lv >= 0) & (fx == 1)
        neg = (lv >= 0) & (fx == 0)
        cm = np.bincount(lv[pos], weights=w[pos], minlength=n) + prior_pairs * np.asarray(m0[c.name])
        cu = np.bincount(lv[neg], weights=w[neg], minlength=n) + prior_pairs * np.asarray(u_prior[c.name])
        m_lab[c.name] = np.clip(cm / cm.sum(), _EPS, 1)
        u[c.name] = np.clip(cu / cu.sum(), _EPS, 1)
    m = dict(m_lab)
    free = fx < 0
    gf, wf = g[free], w[free]
    w_free = float(wf.sum())
    # EM needs data to move m: on a few hundred pairs (a small batch, a test) they stay put.
    decided = np.bincount(np.clip(fx, 0, 1), weights=w, minlength=2) if len(fx) else np.zeros(2)
    free_mu = bool(np.isfinite(anchor) and w_free >= EM_MIN_PAIRS and decided.min() >= EM_MIN_PAIRS / 10)
    # No identified matches at all (data without identifiers shared by duplicates): m is learnt by EM
    # from the candidate pairs alone, with u from random pairs held fixed, as Splink does.
    unsupervised = bool(decided[1] < UNSUPERVISED_BELOW and w_free >= UNSUPERVISED_MIN_PAIRS)
    if unsupervised:
        free_mu, anchor = True, 0.0

    def llr_of() -> np.ndarray:
        out = np.zeros(len(gf))
        for k, c in enumerate(comparisons):
            lv = gf[:, k]
            ok = lv >= 0
            out[ok] += np.log(m[c.name][lv[ok]]) - np.log(u[c.name][lv[ok]])
        return out

    it = 0
    llr = llr_of()
    if free.any():
        for it in range(1, iterations + 1):
            p = 1.0 / (1.0 + np.exp(-np.clip(llr + np.log(lam / (1 - lam)), -50, 50)))
            new_lam = float(np.clip((p * wf).sum() / w_free, 1e-4, LAMBDA_MAX))
            shift = abs(new_lam - lam)
            lam = new_lam
            if free_mu:
                pm = p * wf
                a_m = anchor * pm.sum()
                for k, c in enumerate(comparisons):
                    n = len(c.levels)
                    lv = gf[:, k]
                    ok = lv >= 0
                    prior = prior_pairs * np.asarray(m0[c.name]) if unsupervised else a_m * m_lab[c.name]
                    cm = prior + np.bincount(lv[ok], weights=pm[ok], minlength=n)
                    new_m = np.clip(cm / cm.sum(), _EPS, 1)
                    shift = max(shift, float(np.abs(new_m - m[c.name]).max()))
                    m[c.name] = new_m
                llr = llr_of()
            if shift < 1e-7:
                break
    info = {"pairs": int(n_pairs), "patterns": int(len(g)), "iterations": it,
            "unknown_pairs": int((label < 0).sum()), "known_matches": int((label == 1).sum()),
            "known_non_matches": int((label == 0).sum()),
            "anchor": "unsupervised" if unsupervised else (anchor if free_mu else "fixed")}
    return TypeModel(type_, lam, {k: [float(x) for x in v] for k, v in m.items()},
                     {k: [float(x) for x in v] for k, v in u.items()}, info=info)


def score(model: TypeModel, comparisons: tuple[Comparison, ...], gamma: np.ndarray,
          tf_adjust: dict[str, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Match weight (bits) per comparison and the total match probability, per pair.

    Returns (weights: pairs × comparisons float32, probability: float64).
    """
    n = len(gamma)
    wk = np.zeros((n, len(comparisons)), dtype=np.float32)
    for k, c in enumerate(comparisons):
        table = model.weights(c.name)
        lv = gamma[:, k]
        ok = lv >= 0
        wk[ok, k] = table[lv[ok]]
        if tf_adjust and c.name in tf_adjust:
            top = ok & (lv == len(c.levels) - 1)
            wk[top, k] += np.clip(tf_adjust[c.name][top], -_TF_CLIP, _TF_CLIP)
    total = model.prior_weight + wk.sum(axis=1, dtype=np.float64)
    prob = 1.0 / (1.0 + np.exp2(-np.clip(total, -60, 60)))
    return wk, prob
