"""Matching a query (a name, codes, a birth date, an address, ...) against the resolved entities.

The same features, blocking keys, hard rules and fitted Fellegi-Sunter model that
``credgraph resolve`` used, applied to one or many examples at a time: the data
interface's ``POST /v1/match`` and the joint-punishment list ``check`` both call it.

:meth:`Matcher.open` loads the last resolution and its model from the workspace and indexes
every distinct profile of every entity under its blocking keys once; :meth:`Matcher.match_many`
then only joins the queries' keys against that index and scores the few candidates each
query meets. A few examples (up to :attr:`Matcher.fast_max`) take a fast path: their features
and keys are computed in plain Python (:mod:`credgraph.resolution.quickmatch`) and looked up in
dicts built at opening, ~2 ms a query instead of ~50 ms of dataframe steps, with the same answers.
A query ends in one of three decisions:

* ``match``: the best entity scores at least ``threshold`` (the resolution's ``auto_merge``
  by default), no hard rule stands against it, the pair would be merged automatically (a
  person's name alone never is), and no other entity comes within ``ambiguity_margin`` bits;
* ``ambiguous``: some entity scores at least ``review`` but not all of the above hold — the
  candidates are listed, none is chosen;
* ``no_match``: nothing scores ``review`` or more.

Example keys: ``type`` ("legal" | "natural", guessed from the name and codes when absent),
``name``, ``uscc``, ``org_code``, ``reg_no``, ``id_number`` (full or masked), ``identifiers``
(a list of ``{"scheme", "value"}``), ``birth_date`` (``YYYY-MM-DD``), ``address``, ``phone``,
``email``, ``legal_rep`` (accepted; not yet compared).
"""

from __future__ import annotations

import json
import re
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import polars as pl

from credgraph.resolution.errors import ResolutionError
from credgraph.resolution.features import Pairs, Profiles, comparisons_for, encode_profiles, rules_for

__all__ = ["Matcher", "MatchResult", "Candidate", "FeatureScore", "DECISIONS", "EXAMPLE_KEYS"]

#: The decisions a query can end in.
DECISIONS = ("match", "ambiguous", "no_match")
#: Keys an example may carry (others are refused with a clear message).
EXAMPLE_KEYS = ("type", "name", "uscc", "org_code", "reg_no", "id_number", "identifiers", "birth_date",
                "address", "phone", "email", "gender", "nationality", "legal_rep")
_PARTY_KEYS = ("type", "name", "uscc", "org_code", "reg_no", "id_number", "address", "phone", "email",
               "gender", "nationality")
#: Profiles of one blocking key beyond which the key is not used (a common name finds nothing by itself).
_KEY_CAP = 400
_TF_CLIP = 6.0


@dataclass(frozen=True)
class FeatureScore:
    """One compared field of a candidate: its level, its weight in bits and what the level means."""

    field: str
    level: str
    weight: float
    explanation: str


@dataclass(frozen=True)
class Candidate:
    """An entity a query may refer to, with its match weight (bits), probability and per-field evidence."""

    entity_id: str
    name: str | None
    score: float
    probability: float
    features: list[FeatureScore] = field(default_factory=list)
    #: Hard rules that hold for the pair (a rule of effect "no_auto" keeps it from being a match).
    rules: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class MatchResult:
    """The decision for one query and its best candidates (best first)."""

    decision: str
    candidates: list[Candidate]
    reason: str = ""

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    @property
    def entity_id(self) -> str | None:
        """The matched entity (None unless the decision is ``match``)."""
        return self.candidates[0].entity_id if self.decision == "match" and self.candidates else None


def _first_line(doc: str) -> str:
    return " ".join(doc.split("\n\n")[0].split())


def _unchecked_id(value: str | None) -> str:
    """An example's ID number that has a resident ID's shape (17 digits and a check character) but
    fails its check — most often a typo — as the loader keeps it: evidence for the "one typo apart"
    comparison, never an identifier. Empty for a valid, masked or other value.

    >>> _unchecked_id("11010519491231002X"), _unchecked_id("110105194912310021"), _unchecked_id("110105********002X")
    ('', '110105194912310021', '')
    """
    from credgraph.identifiers import id_is_valid, normalise_code

    c = normalise_code(value or "")
    return c if re.fullmatch(r"\d{17}[\dX]", c) and not id_is_valid(c) else ""


def example_row(k: int, ex: Any) -> dict[str, Any]:
    """The standard ``subject_*`` record of example ``k`` (0-based), checked: an unknown field, a
    type other than legal/natural or a birth date that is not a date is refused with a clear message."""
    if not isinstance(ex, Mapping):
        raise ResolutionError(f"example {k + 1}: expected an object with fields, got {type(ex).__name__}")
    unknown = sorted(set(ex) - set(EXAMPLE_KEYS))
    if unknown:
        raise ResolutionError(f"example {k + 1}: unknown field(s) {', '.join(unknown)}; "
                              f"known: {', '.join(EXAMPLE_KEYS)}")
    row: dict[str, Any] = {"record_id": f"q{k:07d}"}
    for key in _PARTY_KEYS:
        v = ex.get(key)
        if v not in (None, ""):
            row[f"subject_{key}"] = str(v)
    unchecked = _unchecked_id(row.get("subject_id_number"))
    if unchecked:
        row["subject_id_number_unchecked"] = unchecked
    if row.get("subject_type") not in (None, "legal", "natural"):
        raise ResolutionError(f"example {k + 1}: type must be 'legal' or 'natural', not {ex.get('type')!r}")
    bd = ex.get("birth_date")
    if bd not in (None, ""):
        import datetime as dt

        try:
            row["subject_birth_date"] = bd if isinstance(bd, dt.date) else dt.date.fromisoformat(str(bd)[:10])
        except ValueError:
            raise ResolutionError(f"example {k + 1}: birth_date {bd!r} is not a date (YYYY-MM-DD)") from None
    idents = ex.get("identifiers")
    if idents:
        if not isinstance(idents, list) or not all(isinstance(i, Mapping) and "scheme" in i and "value" in i
                                                   for i in idents):
            raise ResolutionError(f"example {k + 1}: identifiers must be a list of {{scheme, value}} objects")
        row["subject_identifiers"] = json.dumps([{"scheme": str(i["scheme"]), "value": str(i["value"])}
                                                 for i in idents], ensure_ascii=False)
    if not any(row.get(f"subject_{c}") for c in ("name", "uscc", "org_code", "reg_no", "id_number")) \
            and not row.get("subject_identifiers"):
        row["subject_name"] = ""  # nothing to look for: answered no_match
    return row


def examples_frame(examples: Sequence[Mapping[str, Any]]) -> pl.DataFrame:
    """A standard records frame with one record per example (its subject is the query)."""
    from credgraph.resolution.sample import records_frame

    return records_frame([example_row(k, ex) for k, ex in enumerate(examples)], source_file="query")


_EMPTY_REASON = "nothing to match on: no name and no identifier"
_NONE_REASON = "no entity shares a blocking key or code"


class _TypeIndex:
    """The distinct profiles of one subject type's entities, their blocking keys and name frequencies."""

    def __init__(self, type_: str, mentions: pl.DataFrame, model, workers: int):
        from credgraph.resolution.engine import PROFILE_COLUMNS

        self.type = type_
        self.cols = PROFILE_COLUMNS[type_]
        self.comparisons = comparisons_for(type_)
        self.rules = rules_for(type_)
        self.model = model
        self.workers = workers
        prof = mentions.select("entity_id", *self.cols).unique(maintain_order=True)
        self.profiles = prof.with_row_index("pidx").with_columns(pl.col("pidx").cast(pl.Int64))
        keys = _keys(self.profiles, type_)
        sizes = keys.group_by("key").agg(pl.col("pidx").n_unique().alias("size"))
        self.keys = keys.join(sizes.filter(pl.col("size") <= _KEY_CAP), on="key").select("key", "pidx")
        # Name frequency: the share of entities carrying a name (the model's term-frequency adjustment).
        self.n_entities = max(int(prof["entity_id"].n_unique()), 1)
        tfcol = self.comparisons[0].tf_column
        self.tf = (prof.select("entity_id", tfcol).unique().group_by(tfcol).len()
                   .rename({tfcol: "tfv", "len": "tf_n"}))
        self.tf_ref = model.tf_reference.get(self.comparisons[0].name, 1.0 / self.n_entities) if model else None
        self.code_cols = [c for c in ("uscc_v", "org_v", "reg_v", "id_full") if c in self.cols]
        self.entity_of = self.profiles["entity_id"].to_numpy()
        self.tf_of = (self.profiles.select(tfcol).rename({tfcol: "tfv"})
                      .join(self.tf, on="tfv", how="left", maintain_order="left")["tf_n"]
                      .fill_null(1).to_numpy().astype(np.float64))
        self._build_fast()

    def candidates(self, q: pl.DataFrame) -> pl.DataFrame:
        """(qidx, pidx) pairs: the query's blocking keys and exact identifiers against the index."""
        qk = _keys(q, self.type)
        parts = [qk.join(self.keys, on="key").select("qidx", "pidx")]
        for c in self.code_cols:
            hit = (q.filter(pl.col(c) != "").select("qidx", c)
                   .join(self.profiles.select("pidx", c), on=c).select("qidx", "pidx"))
            parts.append(hit)
        return pl.concat(parts).unique()

    def score(self, q: pl.DataFrame, pairs: pl.DataFrame) -> pl.DataFrame:
        """Levels, weights, probability and rule flags per (query, index profile) pair."""
        # Rows of ``q`` by their query index (qidx numbers all queries; q holds those of this type).
        pos = pairs.select("qidx").join(q.select("qidx").with_row_index("_row"), on="qidx", how="left",
                                        maintain_order="left")["_row"].to_numpy()
        qi, pi = pos, pairs["pidx"].to_numpy()
        n = len(qi)
        if not n:
            return pairs.with_columns(pl.lit(0.0).alias("weight"))
        both = pl.concat([self.profiles[pi].select(self.cols), q[qi].select(self.cols)])
        codes, vocab = encode_profiles(both, self.cols)
        profs = Profiles(self.type, codes, vocab, np.arange(2 * n), np.ones(2 * n, bool),
                         np.arange(2 * n).astype(object), np.ones(2 * n, np.int64), self.workers)
        p = Pairs(profs, np.arange(n, 2 * n), np.arange(n))  # left: the query, right: the entity's profile
        gamma, wk, total, cannot, no_auto, rule_names = self.weigh(p, pi)
        out = pairs.with_columns(
            pl.Series("weight", total), pl.Series("cannot", cannot), pl.Series("no_auto", no_auto),
            pl.Series("rules", rule_names, dtype=pl.Utf8),
            pl.Series("entity_id", self.entity_of[pi], dtype=pl.Utf8),
        )
        for k, c in enumerate(self.comparisons):
            out = out.with_columns(pl.Series(f"lv_{k}", gamma[:, k]), pl.Series(f"w_{k}", wk[:, k]))
        return out

    def weigh(self, p: Pairs, pi: np.ndarray):
        """Levels and weights (pairs x comparisons), total weight, ``cannot`` and ``no_auto`` flags and the
        names of the rules that hold, for pairs (query, index profile ``pi``) — both paths share this."""
        n = len(p)
        gamma = np.column_stack([c(p) for c in self.comparisons]).astype(np.int8)
        flags = {r.name: r(p) for r in self.rules}
        cannot = np.zeros(n, bool)
        no_auto = np.zeros(n, bool)
        for r in self.rules:
            if r.effect in ("cannot_link", "related"):
                cannot |= flags[r.name]
            else:
                no_auto |= flags[r.name]
        wk = np.zeros((n, len(self.comparisons)), np.float64)
        for k, c in enumerate(self.comparisons):
            table = self.model.weights(c.name)
            lv = gamma[:, k]
            ok = lv >= 0
            wk[ok, k] = table[lv[ok]]
        # Term frequency of the name at its top level (a common name counts for less).
        tfn = self.tf_of[pi]
        top = gamma[:, 0] == len(self.comparisons[0].levels) - 1
        adj = np.log2(self.tf_ref / (np.maximum(tfn, 1.0) / self.n_entities))
        wk[top, 0] += np.clip(adj[top], -_TF_CLIP, _TF_CLIP)
        total = self.model.prior_weight + wk.sum(axis=1)
        rule_names = [",".join(r.name for r in self.rules if flags[r.name][i]) for i in range(n)]
        return gamma, wk, total, cannot, no_auto, rule_names

    # ------------------------------------------------------------ fast path (a few queries)
    def _build_fast(self) -> None:
        """Per-profile integer codes, value -> code dicts, blocking key -> profiles and code -> profiles
        dicts, built once: a single query then needs no dataframe step (see :meth:`fast_pairs`)."""
        from credgraph.resolution.engine import _key_exprs

        self.codes, self.vocab = encode_profiles(self.profiles, self.cols)
        self.code_of = {c: {v: i for i, v in enumerate(self.vocab[c].tolist())} for c in self.cols}
        raw = (self.profiles.select("pidx", pl.concat_list(_key_exprs(self.type, matching=True)).alias("key"))
               .explode("key").filter(pl.col("key").is_not_null()).unique())
        grouped = (raw.group_by("key").agg(pl.col("pidx").sort())
                   .filter(pl.col("pidx").list.len() <= _KEY_CAP))
        self.key_index = _Postings(grouped, "key")
        self.code_index = {c: _Postings(self.profiles.filter(pl.col(c) != "").group_by(c).agg(pl.col("pidx").sort()),
                                        c) for c in self.code_cols}

    def fast_candidates(self, f: Mapping[str, str]) -> np.ndarray:
        """Index profiles (sorted) that share a blocking key or an exact code with the query features ``f``."""
        from credgraph.resolution.quickmatch import blocking_keys

        hits = [self.key_index.get(k) for k in blocking_keys(f, self.type)]
        hits += [self.code_index[c].get(f[c]) for c in self.code_cols if f[c] != ""]
        hits = [h for h in hits if h is not None]
        if not hits:
            return np.zeros(0, np.int64)
        return np.unique(np.concatenate(hits))

    def fast_pairs(self, f: Mapping[str, str], pi: np.ndarray) -> Pairs:
        """Pairs (the query, each index profile ``pi``) over a small Profiles holding only those rows,
        coded from the codes built in :meth:`_build_fast` (a value the index lacks gets a code of its own)."""
        n = len(pi)
        codes, vocab = {}, {}
        for c in self.cols:
            v = f[c]
            size = len(self.vocab[c])
            qc = self.code_of[c].get(v, size)
            col = np.empty(n + 1, np.int64)
            col[0] = qc
            col[1:] = self.codes[c][pi]
            u = np.unique(np.concatenate(([0], col)))
            voc = np.empty(len(u), dtype=object)
            inside = u < size
            voc[inside] = self.vocab[c][u[inside]]
            voc[~inside] = v
            codes[c] = np.searchsorted(u, col).astype(np.int32)
            vocab[c] = voc
        m = n + 1
        profs = Profiles(self.type, codes, vocab, np.arange(m), np.ones(m, bool), np.arange(m).astype(object),
                         np.ones(m, np.int64), self.workers)
        return Pairs(profs, np.zeros(n, np.int64), np.arange(1, m))


class _Postings:
    """Sorted profile indexes per value (a blocking key or a code): one flat array and offsets."""

    def __init__(self, grouped: pl.DataFrame, col: str):
        self.at = dict(zip(grouped[col].to_list(), range(grouped.height)))
        lens = grouped["pidx"].list.len().to_numpy()
        self.offsets = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
        self.flat = grouped["pidx"].explode().to_numpy().astype(np.int64) if grouped.height else np.zeros(0, np.int64)

    def get(self, value: str) -> np.ndarray | None:
        j = self.at.get(value)
        return None if j is None else self.flat[self.offsets[j]:self.offsets[j + 1]]


def _keys(frame: pl.DataFrame, type_: str) -> pl.DataFrame:
    """Hashed blocking keys of each row (``qidx`` or ``pidx``): the same keys the resolver blocks on."""
    from credgraph.resolution.engine import _key_exprs

    idx = "pidx" if "pidx" in frame.columns else "qidx"
    exprs = _key_exprs(type_, matching=True)
    return (frame.select(idx, pl.concat_list(exprs).alias("key")).explode("key")
            .filter(pl.col("key").is_not_null()).with_columns(pl.col("key").hash(seed=7)).unique())


class Matcher:
    """Finds the entities an example refers to, with the resolver's own model (see the module docstring)."""

    def __init__(self, mentions: pl.DataFrame, entities: pl.DataFrame, model, *, auto_merge: float = 0.9,
                 review: float = 0.6, ambiguity_margin: float = 3.0, workers: int = 1):
        self.auto_merge = auto_merge
        self.review = review
        self.ambiguity_margin = ambiguity_margin
        self.names = dict(zip(entities["entity_id"].to_list(), entities["name"].to_list()))
        self.index: dict[str, _TypeIndex] = {}
        from credgraph.resolution.normalise import pinyin_key

        pinyin_key("银行")  # load the phrase dictionary now, not in the first query
        for t in ("legal", "natural"):
            tm = model.types.get(t) if model is not None else None
            part = mentions.filter(pl.col("type") == t)
            if tm is not None and part.height:
                self.index[t] = _TypeIndex(t, part, tm, workers)

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, cfg, directory: str | Path | None = None) -> "Matcher":
        """Load the last resolution (``<workspace>/entities``) and its model, and index its entities."""
        from types import SimpleNamespace

        from credgraph.resolution.model import load_model

        directory = Path(directory) if directory else cfg.workspace_path / "entities"
        if not (directory / "run.json").is_file():
            raise ResolutionError(f"{directory}: no resolution output; run `credgraph resolve` first")
        try:  # only what matching needs (not the evidence, events or review queue)
            res = SimpleNamespace(
                mentions=pl.read_parquet(directory / "mentions.parquet"),
                assignments=pl.read_parquet(directory / "assignments.parquet", columns=["mention_id", "entity_id"]),
                entities=pl.read_parquet(directory / "entities.parquet", columns=["entity_id", "name"]),
                model=load_model(directory / "model.json"))
        except (OSError, pl.exceptions.PolarsError) as exc:
            raise ResolutionError(f"{directory}: not a complete resolution output ({exc})") from None
        return cls.from_resolution(res, cfg.resolution)

    @classmethod
    def from_resolution(cls, res, rcfg=None) -> "Matcher":
        """A matcher over an in-memory :class:`~credgraph.resolution.pipeline.Resolution`."""
        from credgraph.config import ResolutionConfig

        rcfg = rcfg or ResolutionConfig()
        mentions = _entity_mentions(res)
        return cls(mentions, res.entities, res.model, auto_merge=rcfg.auto_merge, review=rcfg.review,
                   ambiguity_margin=rcfg.ambiguity_margin, workers=rcfg.workers)

    # ----------------------------------------------------------------- matching
    def match(self, example: Mapping[str, Any], *, limit: int = 5, threshold: float | None = None) -> MatchResult:
        """The decision and best candidates for one example."""
        return self.match_many([example], limit=limit, threshold=threshold)[0]

    def match_many(self, examples: Sequence[Mapping[str, Any]], *, limit: int = 5,
                   threshold: float | None = None) -> list[MatchResult]:
        """:meth:`match` for many examples at once, in their order (a batch may mix persons, companies
        and empty examples). Up to :attr:`fast_max` examples are answered one by one over indexes built
        when the matcher opened (a few milliseconds each); larger batches by one join and one scoring
        pass per subject type. Both give the same answers."""
        if not examples:
            return []
        thr = self._threshold(threshold)
        if len(examples) <= self.fast_max:
            out = self._match_fast(examples, limit, thr)
            if out is not None:
                return out
        return self._match_batch(examples, limit, thr)

    #: Batches up to this size take the fast path (~2 ms an example; the pipeline costs ~45 ms plus
    #: ~0.6 ms an example at 20k entities: they cross near 40).
    fast_max = 32

    def _threshold(self, threshold: float | None) -> float:
        thr = self.auto_merge if threshold is None else float(threshold)
        if not 0.0 <= thr <= 1.0:
            raise ResolutionError(f"threshold must lie in [0, 1], not {threshold}")
        return thr

    def _match_fast(self, examples: Sequence[Mapping[str, Any]], limit: int, thr: float) -> list[MatchResult] | None:
        """Each example alone, with plain Python and numpy over the indexes of :meth:`_TypeIndex._build_fast`;
        ``None`` when an example needs the batch path (unusual text, see :mod:`~credgraph.resolution.quickmatch`)."""
        from credgraph.resolution.quickmatch import query_features

        rows = [example_row(k, ex) for k, ex in enumerate(examples)]  # every example checked first
        feats = []
        for row in rows:
            if (row.get("subject_name") or "") == "" and not any(
                    row.get(f"subject_{c}") is not None for c in ("uscc", "org_code", "reg_no", "id_number",
                                                                  "identifiers")):
                feats.append(None)
                continue
            f = query_features(row)
            if f is None:
                return None
            feats.append(f)
        out = []
        for f in feats:
            if f is None:
                out.append(MatchResult("no_match", [], _EMPTY_REASON))
                continue
            ix = self.index.get(f["type"])
            pi = ix.fast_candidates(f) if ix is not None else np.zeros(0, np.int64)
            if not len(pi):
                out.append(MatchResult("no_match", [], _NONE_REASON))
                continue
            gamma, wk, total, cannot, no_auto, rule_names = ix.weigh(ix.fast_pairs(f, pi), pi)
            ent = ix.entity_of[pi]
            # Best profile per entity (ties: the lower profile index), then entities by weight and id.
            order = sorted(np.flatnonzero(~cannot).tolist(), key=lambda i: (-total[i], pi[i]))
            best: dict[str, int] = {}
            for i in order:
                best.setdefault(ent[i], i)
            if not best:
                out.append(MatchResult("no_match", [], _NONE_REASON))
                continue
            top = sorted(best.values(), key=lambda i: (-total[i], ent[i]))[:max(limit, 2)]
            recs = []
            for i in top:
                r = {"weight": float(total[i]), "no_auto": bool(no_auto[i]), "rules": rule_names[i],
                     "entity_id": ent[i]}
                for k in range(len(ix.comparisons)):
                    r[f"lv_{k}"] = int(gamma[i, k])
                    r[f"w_{k}"] = float(wk[i, k])
                recs.append(r)
            out.append(self._decide_one(ix, recs, thr, limit))
        return out

    def _match_batch(self, examples: Sequence[Mapping[str, Any]], limit: int, thr: float) -> list[MatchResult]:
        """All examples through the mention pipeline, one candidate join and scoring pass per subject type."""
        from credgraph.resolution.mentions import extract_mentions

        frame = examples_frame(examples)
        empty = frame["subject_name"].fill_null("") == ""
        empty &= frame.select(pl.any_horizontal(
            [pl.col(f"subject_{c}").is_not_null() for c in ("uscc", "org_code", "reg_no", "id_number",
                                                            "identifiers")]).alias("x"))["x"].not_()
        results: list[MatchResult | None] = [None] * len(examples)
        for k in np.flatnonzero(empty.to_numpy()):
            results[k] = MatchResult("no_match", [], _EMPTY_REASON)
        frame = frame.filter(~empty)
        if frame.height:
            q = extract_mentions(frame).filter(pl.col("role") == "subject")
            q = q.with_columns(pl.col("record_id").str.slice(1).cast(pl.Int64).alias("qidx"),
                               pl.lit("").alias("company"))
            for t, ix in self.index.items():
                qt = q.filter(pl.col("type") == t)
                if not qt.height:
                    continue
                scored = ix.score(qt, self._cands(ix, qt))
                self._decide(ix, qt, scored, thr, limit, results)
        return [r if r is not None else MatchResult("no_match", [], _NONE_REASON) for r in results]

    def _cands(self, ix: _TypeIndex, qt: pl.DataFrame) -> pl.DataFrame:
        return ix.candidates(qt).sort(["qidx", "pidx"])

    def _decide(self, ix: _TypeIndex, qt: pl.DataFrame, scored: pl.DataFrame, thr: float, limit: int,
                results: list) -> None:
        if not scored.height or "cannot" not in scored.columns:
            return
        # One row per (query, entity): its best profile (ties: the lower profile index).
        best = (scored.filter(~pl.col("cannot")).sort(["qidx", "weight", "pidx"], descending=[False, True, False],
                                                      maintain_order=True)
                .group_by(["qidx", "entity_id"], maintain_order=True).first()
                .sort(["qidx", "weight", "entity_id"], descending=[False, True, False], maintain_order=True))
        for qidx, grp in best.group_by("qidx", maintain_order=True):
            results[int(qidx[0])] = self._decide_one(ix, grp.head(max(limit, 2)).to_dicts(), thr, limit)

    def _decide_one(self, ix: _TypeIndex, rows: list[dict], thr: float, limit: int) -> MatchResult:
        """The decision for one query from its best entities (best first; at least two when there are)."""
        cands = [self._candidate(ix, r) for r in rows]
        top = cands[0]
        # A rival is a candidate that could itself be merged automatically: an entity known by a
        # name alone (a rule keeps it from auto-merging) does not make an identified match ambiguous.
        rivals = [c for c, r in zip(cands[1:], rows[1:]) if not r["no_auto"]]
        second = rivals[0] if rivals else None
        if top.probability >= thr and not rows[0]["no_auto"]:
            if second is not None and (second.score >= top.score - self.ambiguity_margin
                                       or second.probability >= thr):
                dec, why = "ambiguous", (f"{second.entity_id} scores within {self.ambiguity_margin:g} bits "
                                         f"of {top.entity_id}")
            else:
                dec, why = "match", f"probability {top.probability:.3f} >= {thr:g}"
        elif top.probability >= self.review:
            dec = "ambiguous"
            why = ("the evidence is not enough to merge automatically ("
                   + (rows[0]["rules"] or f"probability {top.probability:.3f} < {thr:g}") + ")")
        else:
            dec, why = "no_match", f"best probability {top.probability:.3f} < review {self.review:g}"
        return MatchResult(dec, cands[:limit], why)

    def _candidate(self, ix: _TypeIndex, r: dict) -> Candidate:
        feats = []
        for k, c in enumerate(ix.comparisons):
            lv = int(r[f"lv_{k}"])
            feats.append(FeatureScore(c.name, "missing" if lv < 0 else c.levels[lv], round(float(r[f"w_{k}"]), 3),
                                      _first_line(c.doc)))
        w = float(r["weight"])
        prob = 1.0 / (1.0 + math.pow(2.0, -max(min(w, 60.0), -60.0)))
        rules = [x for x in (r["rules"] or "").split(",") if x]
        return Candidate(r["entity_id"], self.names.get(r["entity_id"]), round(w, 3), prob, feats, rules)


def _entity_mentions(res, mention_ids: list[str] | None = None) -> pl.DataFrame:
    """The resolution's mentions with their features and entity ids, one row per distinct raw party
    (with ``mention_ids``: those mentions, one row each, with a ``mention_id`` column)."""
    from credgraph.resolution.mentions import extract_mentions
    from credgraph.resolution.pipeline import STATE_COLUMNS

    from credgraph.resolution.engine import PROFILE_COLUMNS

    m = res.mentions.join(res.assignments.select("mention_id", "entity_id"), on="mention_id", how="left")
    if mention_ids is not None:
        m = m.filter(pl.col("mention_id").is_in(mention_ids))
    features = sorted({c for cols in PROFILE_COLUMNS.values() for c in cols} - {"company"})
    if all(c in m.columns for c in features):  # kept by the run: no need to normalise again
        keep = ["entity_id", "type", *features] + (["mention_id"] if mention_ids is not None else [])
        out = m.select(keep)
        out = out.unique(maintain_order=True) if mention_ids is None else out
        return out.with_columns(pl.col(features).fill_null(""), pl.lit("").alias("company"))
    raw = [c for c in ("type", "name", "uscc", "org_code", "reg_no", "id_number", "address", "phone",
                       "birth_date", "identifiers", "email", "gender") if c in m.columns and c in
           set(STATE_COLUMNS) | {"birth_date", "identifiers", "email", "gender"}]
    distinct = (m.select("entity_id", *raw).unique(maintain_order=True) if mention_ids is None
                else m.select("entity_id", *raw, "mention_id"))
    rec = distinct.select(
        pl.format("e{}", pl.int_range(0, pl.len())).alias("record_id"),
        *[pl.col(c).alias(f"subject_{c}") for c in raw],
    )
    if "subject_birth_date" in rec.columns:
        rec = rec.with_columns(pl.col("subject_birth_date").cast(pl.Utf8).str.to_date("%Y-%m-%d", strict=False))
    feats = extract_mentions(rec).filter(pl.col("role") == "subject")
    pos = feats["record_id"].str.slice(1).cast(pl.Int64).to_numpy()
    feats = feats.with_columns(pl.Series("entity_id", distinct["entity_id"].to_numpy()[pos], dtype=pl.Utf8),
                               pl.lit("").alias("company"))
    if mention_ids is not None:
        feats = feats.with_columns(pl.Series("mention_id", distinct["mention_id"].to_numpy()[pos], dtype=pl.Utf8))
    return feats
