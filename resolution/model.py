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
what a near miss looks like), with the levels of random pairs as a weak prior. Priors, as
data a user can read: :data:`PRIOR_M` (the share of one person's or firm's record pairs at each
level, e.g. a quarter of a person's pairs give another address) counts as ``prior_pairs`` pairs
of matches, so on a few hundred records it decides m and on a city the identified pairs do;
:data:`PRIOR_U` (e.g. two people share a passport number with chance 1e-6) sets u of
identifier-like levels together with the data's own value frequencies. λ:
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
from credgraph.resolution.features import Comparison, Profiles

__all__ = ["MODEL_FORMAT", "PRIOR_M", "PRIOR_U", "TypeModel", "Model", "estimate_u", "fit_type_model", "prior_m", "prior_u",
           "score", "load_model", "save_model", "value_collisions"]

#: Version of the model file format and of the comparison definitions it refers to.
MODEL_FORMAT = 2

_EPS = 1e-6
#: The prior share of matches is capped at 0.8 (at most +2 bits): the evidence must decide a pair, not the prior
#: (candidate pairs from a name+company block are nearly all matches, from an ID-digits block nearly
#: none; one λ for both must not lift the second kind).
LAMBDA_MAX = 0.8
#: Undecided pairs needed before EM re-estimates m (a tenth as many decided pairs of each kind).
EM_MIN_PAIRS = 10_000
#: Fewer identified matches than this (and at least UNSUPERVISED_MIN_PAIRS undecided pairs): m by plain EM,
#: with the prior m (PRIOR_M) as a Dirichlet prior worth ``prior_pairs`` pairs.
UNSUPERVISED_BELOW = 50
#: Below this many undecided pairs m stays at the prior (plus any identified pairs): on blocked pairs EM
#: cannot tell a look-alike from a match — on 550 pairs of firms named 深圳市第1号贸易 … 第60号贸易 it
#: learnt that a similar name is a match and merged them — while on Febrl3 and Febrl4 samples of ~150
#: records (bench/bench_small_data.py, seeds 1-5) letting EM move m from 100 pairs changed no F1 (0.998,
#: 0.954 without the SSN, Febrl4 0.997). From 2,000 pairs the data outweigh the prior's 200.
UNSUPERVISED_MIN_PAIRS = 2000
_TF_CLIP = 6.0  # bits: bounds the term-frequency adjustment either way
#: Default strengths of the priors (``resolution.model_prior_pairs`` / ``identifier_u_prior_collisions``).
MODEL_PRIOR_PAIRS = 200.0
IDENTIFIER_U_PRIOR_COLLISIONS = 1.0
#: A value shared by more carriers than this is counted as shared without comparing their names.
_MAX_CARRIERS_COMPARED = 30

# ------------------------------------------------------------------ priors, as data
#: Prior m: for each comparison, the share of a true match's record pairs at each level, written from
#: how real records of one person or firm differ (registers, court lists, customer files collected by
#: different bodies in different years) — never from a particular data set's pairs. Each row is
#: (level, share, why). They are EM's starting point and a Dirichlet prior worth ``prior_pairs``
#: pseudo-pairs of matches (``resolution.model_prior_pairs``): on a few hundred pairs they decide m,
#: on a city the identified pairs and EM do. Shares of one comparison sum to 1.
PRIOR_M: dict[str, dict[str, tuple[tuple[str, float, str], ...]]] = {
    "natural": {
        "name": (
            ("different", 0.03, "a changed (married) name, an alias, or a script the comparison cannot read"),
            ("weakly similar", 0.03, "a badly garbled or truncated name"),
            ("similar", 0.08, "one typo, a dropped or doubled letter or character: the commonest name error"),
            ("reordered", 0.05, "surname first in one source and last in another; a middle name dropped or shortened"),
            ("same sound", 0.06, "homophone characters, spelling variants, romanisation, nicknames (Bob / Robert)"),
            ("identical", 0.75, "most of one person's records spell the name alike"),
        ),
        "id_number": (
            ("incompatible", 0.01, "a mistyped number that still passes its check digit (about 1 typo in 11)"),
            ("compatible", 0.19, "one side shows only a masked number, as public lists do"),
            ("identical", 0.80, "both sides carry the full number"),
        ),
        "birth_date": (
            ("different", 0.02, "two errors, or a wrong date (another person's, a registration date) entered"),
            ("partial", 0.03, "one of year, month or day wrong by more than one digit"),
            ("near", 0.05, "one mistyped digit, two swapped digits, day and month exchanged (US vs European order)"),
            ("identical", 0.90, "a birth date is copied from a document and rarely changes"),
        ),
        "unchecked_id": (
            ("different", 0.10, "more than one error, or a relative's number entered"),
            ("one typo in the birth date", 0.30, "a number failing its check holds a typo; 8 of its 18 digits are the birth date"),
            ("one typo apart", 0.40, "the typo fell in one of the other 10 digits"),
            ("identical", 0.20, "the same mistyped number copied from one record to another"),
        ),
        "identifier": (
            ("different", 0.10, "a renewed or replaced passport or permit carries a new number"),
            ("near", 0.03, "a mistyped character or two swapped neighbours"),
            ("identical", 0.87, "the same document read twice"),
        ),
        "company": (
            ("different", 0.40, "a person often holds roles at several firms (officer at one, shareholder at another)"),
            ("same company", 0.60, "most of a person's records come from the firm they are registered with"),
        ),
        "address": (
            ("different", 0.25, "people move, and sources give home, work or registered addresses: about a quarter of pairs"),
            ("same postcode or district", 0.07, "a move within the neighbourhood, or one address written too differently"),
            ("similar", 0.08, "abbreviations, typos, a unit written differently"),
            ("same road", 0.03, "a move along the street, or a house number left out or mistyped"),
            ("same road and number", 0.07, "the flat or building written differently or left out"),
            ("identical", 0.50, "half of the pairs give one address alike"),
        ),
        "phone": (
            ("different", 0.30, "people carry a mobile plus a home or work number, and change numbers"),
            ("identical", 0.70, "the mobile number follows a person for years"),
        ),
        "email": (
            ("different", 0.30, "a work and a personal address, or a new provider"),
            ("identical", 0.70, "most records give the same personal address"),
        ),
    },
    "legal": {
        "name": (
            ("different", 0.04, "a renamed firm, or an English name beside the Chinese one"),
            ("similar", 0.12, "a word dropped or abbreviated (科技 or 有限 left out), a typo"),
            ("transposed", 0.02, "two characters swapped"),
            ("homophone", 0.04, "a character replaced by one of the same sound"),
            ("identical", 0.78, "a registered name is copied from the licence"),
        ),
        "region": (
            ("conflict", 0.01, "a firm that moved its registration to another city: rare"),
            ("compatible", 0.20, "the city in one source, the district in another"),
            ("identical", 0.79, "the region written alike"),
        ),
        "form": (
            ("different", 0.03, "a firm converted to a joint-stock company"),
            ("compatible", 0.12, "a bare 公司 where the other source writes the full form"),
            ("identical", 0.85, "the form copied from the licence"),
        ),
        "identifier": (
            ("different", 0.01, "two valid codes of one kind are two firms; a hard rule separates them anyway"),
            ("identical", 0.99, "a registration code is copied from the licence"),
        ),
        "address": (
            ("different", 0.25, "registered and business addresses differ, and firms move"),
            ("same road", 0.05, "a move along the road, or the number left out"),
            ("same road and number", 0.15, "the building, floor or room written differently"),
            ("identical", 0.55, "the registered address copied alike"),
        ),
        "phone": (
            ("different", 0.35, "a switchboard in one source, a contact person's mobile in another"),
            ("identical", 0.65, "the registered contact number"),
        ),
    },
}

#: Prior u for identifier-like comparisons (numbers and addresses that name one holder): the chance
#: that two *different* people or firms fall at each level, from the value space and from how such
#: values are shared (rows (level, u, why); the lowest level takes the rest). The top level's u is
#: then estimated from the data's own values — pairs of carriers with clearly different names sharing
#: a value, over all pairs of carriers, :func:`value_collisions` — with this row as a Beta prior worth
#: ``k`` collisions in ``k / u`` pairs (k = ``resolution.identifier_u_prior_collisions``, 1): a few
#: hundred records that show no sharing cannot lift an identical passport's u above one in a million,
#: but a few shared mailboxes among a few hundred carriers do lift the mailbox's u, as they should.
PRIOR_U: dict[str, dict[str, tuple[tuple[str, float, str], ...]]] = {
    "natural": {
        "id_number": (
            ("compatible", 1e-3, "a masked number shows its region and last digits: about one number in a thousand fits"),
            ("identical", 1e-6, "one number per person; a coincidence is a copying error or a placeholder value"),
        ),
        "birth_date": (
            ("partial", 4e-3, "two of year, month and day agree: same month and day 1/365, same year and month ~1/800"),
            ("near", 1.5e-3, "one of ~30 dates a digit or a swap away, out of ~25,000 birth dates in use"),
            ("identical", 4e-5, "one birth date in ~25,000 (70 years of days); twins and placeholders (1 January) show in the data"),
        ),
        "unchecked_id": (
            ("one typo in the birth date", 1e-5, "people born days apart in one district get numbers one digit apart"),
            ("one typo apart", 1e-5, "sequence numbers are issued in order: neighbours one digit apart exist"),
            ("identical", 1e-6, "the same mistyped number on two people: a copying error"),
        ),
        "identifier": (
            ("near", 1e-5, "passports and permits are numbered in sequence: neighbours one character apart exist"),
            ("identical", 1e-6, "one document per holder; a coincidence is a copying error or a placeholder value"),
        ),
        "phone": (
            ("identical", 1e-3, "a household or an office shares one number, and candidate pairs are often relatives"),
        ),
        "email": (
            ("identical", 1e-4, "family and office mailboxes are shared, more rarely than phones"),
        ),
    },
    "legal": {
        "identifier": (
            ("identical", 1e-6, "one code per registered entity; a coincidence is a copying error"),
        ),
        "phone": (
            ("identical", 1e-3, "an agent's or a group's number is shared by several firms"),
        ),
    },
}

#: Name levels at which two carriers of one identifier value are taken for two people (or firms)
#: when value frequencies are counted: a shared phone between 王伟 and 李娜 is a shared phone, one
#: between George and Georg Smith is one person's.
DISTINCT_NAME_LEVELS = {"natural": ("different", "weakly similar"), "legal": ("different",)}



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


def prior_m(type_: str, comparisons: tuple[Comparison, ...]) -> dict[str, np.ndarray]:
    """The prior m of :data:`PRIOR_M` per comparison of a subject type. A comparison the table does not
    know (a user's or a test's own) gets 0.8 at its top level and the rest spread evenly below."""
    out = {}
    table = PRIOR_M.get(type_, {})
    for c in comparisons:
        rows = table.get(c.name)
        if rows is not None and tuple(r[0] for r in rows) == tuple(c.levels):
            out[c.name] = np.array([r[1] for r in rows], dtype=np.float64)
        else:
            n = len(c.levels)
            out[c.name] = np.full(n, 0.2 / max(n - 1, 1)) if n > 1 else np.ones(1)
            out[c.name][-1] = 0.8 if n > 1 else 1.0
        out[c.name] = out[c.name] / out[c.name].sum()
    return out


def prior_u(type_: str, comparison: Comparison) -> np.ndarray | None:
    """The prior u of :data:`PRIOR_U` for an identifier-like comparison (the lowest level takes the
    rest), or None for a comparison whose u comes from random pairs alone."""
    rows = PRIOR_U.get(type_, {}).get(comparison.name)
    if rows is None:
        return None
    u = np.zeros(len(comparison.levels))
    for level, share, _ in rows:
        u[comparison.levels.index(level)] = share
    u[0] = 1.0 - u[1:].sum()
    return u


def _vague_u(comparisons: tuple[Comparison, ...]) -> dict[str, np.ndarray]:
    """A weak guess for u where random pairs are few: each level 8 times rarer than the one below
    (a random pair of different people mostly disagrees). Worth ``prior_pairs`` (20) random pairs in
    :func:`estimate_u`; not used for identifier-like comparisons, which have :data:`PRIOR_U`."""
    out = {}
    for c in comparisons:
        uu = np.array([2.0 ** (-3 * i) for i in range(len(c.levels))])
        out[c.name] = uu / uu.sum()
    return out


def _aggregate(gamma: np.ndarray, fixed: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (levels, fixed label) patterns with their total weight."""
    cols = {f"g{k}": gamma[:, k] for k in range(gamma.shape[1])}
    cols["fixed"] = fixed
    cols["w"] = weight
    agg = pl.DataFrame(cols).group_by([c for c in cols if c != "w"]).agg(pl.col("w").sum())
    g = agg.select([f"g{k}" for k in range(gamma.shape[1])]).to_numpy().astype(np.int8)
    return g, agg["fixed"].to_numpy(), agg["w"].to_numpy().astype(np.float64)


def value_collisions(profiles: Profiles, comparisons: tuple[Comparison, ...]) -> dict[str, tuple[float, float]]:
    """How often different carriers share a value, for each comparison with ``value_columns``.

    Returns ``{comparison: (collisions, pairs)}``: ``pairs`` is the number of pairs of pre-groups
    (known entities, or single records) that both carry a value of one kind (one identifier scheme),
    ``collisions`` those pairs that share a value while their names are clearly different
    (:data:`DISTINCT_NAME_LEVELS`; the name is ``comparisons[0]``): a shared switchboard or a
    placeholder number, not one person's records under name variants. A value carried by more than
    ``_MAX_CARRIERS_COMPARED`` groups counts all its pairs. Their ratio is the unbiased estimate of
    Σ_v p_v² over carriers of different names, the chance two such carriers agree by sharing.
    Multi-valued columns hold ``scheme:value`` items joined by ``|``; a scheme is its own value space.
    """
    from credgraph.resolution.features import Pairs

    out: dict[str, tuple[float, float]] = {}
    if profiles.size < 2 or not comparisons:
        return out
    name_c = comparisons[0]
    distinct = [name_c.levels.index(x) for x in DISTINCT_NAME_LEVELS.get(profiles.type, ("different",))
                if x in name_c.levels]
    for c in comparisons:
        cols = [col for col in getattr(c, "value_columns", ()) if col in profiles.codes]
        if not cols:
            continue
        parts = []
        for col in cols:
            codes = profiles.codes[col]
            idx = np.flatnonzero(codes != 0)
            parts.append(pl.DataFrame({"p": idx.astype(np.int64), "g": profiles.group[idx].astype(np.int64),
                                       "v": profiles.vocab[col][codes[idx]].astype(str)}))
        frame = (pl.concat(parts).with_columns(pl.col("v").str.split("|")).explode("v")
                 .filter(pl.col("v") != "")
                 .with_columns(pl.col("v").str.extract(r"^([^:]*):", 1).fill_null("").alias("space"))
                 .unique(["g", "v"], keep="first", maintain_order=True))
        n_space = frame.group_by("space").agg(pl.col("g").n_unique().alias("n"))["n"].to_numpy().astype(np.float64)
        pairs = float((n_space * (n_space - 1) / 2).sum())
        shared = frame.group_by("v").agg(pl.col("p"), pl.len().alias("c")).filter(pl.col("c") >= 2)
        many = shared.filter(pl.col("c") > _MAX_CARRIERS_COMPARED)["c"].to_numpy().astype(np.float64)
        collisions = float((many * (many - 1) / 2).sum())
        few = shared.filter(pl.col("c") <= _MAX_CARRIERS_COMPARED)
        if few.height:
            items = (few.select("v", "p").explode("p")
                     .with_columns(pl.int_range(pl.len()).over("v").alias("i")))
            both = items.join(items, on="v", suffix="_r").filter(pl.col("i") < pl.col("i_r"))
            lv = name_c(Pairs(profiles, both["p"].to_numpy(), both["p_r"].to_numpy()))
            collisions += float(np.isin(lv, distinct).sum())
        out[c.name] = (collisions, pairs)
    return out


def estimate_u(comparisons: tuple[Comparison, ...], gamma: np.ndarray, prior_pairs: float = 20.0, *,
               type_: str = "", collisions: dict[str, tuple[float, float]] | None = None,
               identifier_prior_collisions: float = IDENTIFIER_U_PRIOR_COLLISIONS) -> dict[str, list[float]]:
    """u probabilities from the levels of *random* pairs (almost all non-matches).

    Ordinary comparisons: the random pairs' level shares, with ``prior_pairs`` pseudo-pairs of a
    vague guess (:func:`_vague_u`) so unseen levels keep a finite weight. Identifier-like comparisons
    (:data:`PRIOR_U`): the top level from value frequencies (``collisions``, see
    :func:`value_collisions`; the random pairs when not given), the other levels from the random
    pairs, each with its :data:`PRIOR_U` row as a prior worth ``k / u_top`` pairs, that is ``k``
    (``identifier_prior_collisions``) collisions at the top level.
    """
    u0 = _vague_u(comparisons)
    u = {}
    for k, c in enumerate(comparisons):
        n = len(c.levels)
        lv = gamma[:, k] if len(gamma) else np.zeros(0, np.int8)
        counts = np.bincount(lv[lv >= 0], minlength=n).astype(float)
        pu = prior_u(type_, c)
        if pu is None:
            est = (counts + prior_pairs * u0[c.name]) / (counts.sum() + prior_pairs)
        else:
            top = n - 1
            a = identifier_prior_collisions / pu[top]
            hit, pairs = (collisions or {}).get(c.name, (counts[top], counts.sum()))
            u_top = (hit + a * pu[top]) / (pairs + a)
            low = counts[:top] + a * pu[:top]
            est = np.append(low / low.sum() * (1.0 - u_top), u_top)
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
    prior_pairs: float = MODEL_PRIOR_PAIRS,
    anchor: float = float("inf"),
    u_prior_pairs: float = 50.0,
) -> TypeModel:
    """Estimate u from the decided non-matches, m and λ by EM over the undecided pairs.

    ``gamma``: (pairs × comparisons) level codes (-1 missing). ``label``: -1 for a pair whose
    status is unknown (the pairs EM is about), 1 or 0 for a pair whose identifiers or a person's
    judgement decide it. ``weight``: how much each pair counts (judged pairs count more).
    ``u_prior``: level frequencies among random pairs (:func:`estimate_u`). The prior m
    (:data:`PRIOR_M`) enters as ``prior_pairs`` pseudo-pairs of matches and ``u_prior`` as
    ``u_prior_pairs`` pseudo-pairs of non-matches, so levels nobody reached keep a finite weight;
    with no identified pairs and fewer than ``UNSUPERVISED_MIN_PAIRS`` undecided ones, m is the prior.

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
    m0 = prior_m(type_, comparisons)
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
        cu = np.bincount(lv[neg], weights=w[neg], minlength=n) + u_prior_pairs * np.asarray(u_prior[c.name])
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
