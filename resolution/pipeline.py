"""``resolve``: records in, entities out — the whole resolution stage as one function.

Legal persons are resolved first; persons are then resolved with the companies their
records link them to as context (the same legal representative of the same company).
With a ``previous`` resolution the run is incremental: mentions already assigned keep
their entity (they form a group), and only the blocks that new mentions touch are
scored; ``full=True`` rescores everything (entity ids are still inherited, and every
merge and split is recorded as an event).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from credgraph.config import ResolutionConfig
from credgraph.resolution.engine import TypeResult, resolve_type
from credgraph.resolution.errors import ResolutionError
from credgraph.resolution.judgements import check_judgements, effective_judgements, empty_judgements
from credgraph.resolution.mentions import extract_mentions
from credgraph.resolution.model import Model, load_model
from credgraph.resolution.stable import EVENT_SCHEMA, assign_entity_ids

__all__ = ["Resolution", "resolve", "write_resolution", "load_resolution", "OUTPUT_FILES"]

OUTPUT_FILES = ("assignments.parquet", "entities.parquet", "evidence.parquet", "events.parquet",
                "judgements.parquet", "review.parquet", "mentions.parquet", "model.json", "run.json")


#: Mention columns kept with a run (``mentions.parquet``): lineage and the values explanations show.
STATE_COLUMNS = ("mention_id", "record_id", "role", "type", "seq", "source_file", "source_row", "catalog",
                 "load_batch", "name", "norm_name", "core", "uscc", "org_code", "reg_no", "id_number", "address",
                 "phone", "relation", "uscc_v", "id_full", "birth_date", "gender", "email", "identifiers", "user_id",
                 # The compared features, so that a Matcher opens without normalising every mention again.
                 "region", "brand", "industry", "form", "branch", "name_py", "name_sorted", "name_tok", "name_phon",
                 "addr_text", "addr_key", "addr_district", "addr_road", "addr_number", "addr_latin", "postcode",
                 "phone_n", "name_gen",
                 "org_v", "reg_v", "id_masked", "id_prefix", "id_suffix", "birth", "ident", "email_n",
                 # An ID number that failed its check: personal data like id_full, kept in the workspace only.
                 "id_unchecked")
#: The raw fields of a mention: a re-run whose mentions agree on all of them has nothing new.
_RAW_COLUMNS = ("mention_id", "type", "name", "uscc", "org_code", "reg_no", "id_number", "address", "phone",
                "relation", "birth_date", "gender", "email", "identifiers", "id_unchecked")


@dataclass
class Resolution:
    """The outputs of one run (each frame is written to ``workspace/entities/<name>.parquet``).

    ``mentions`` is the normalised mention table (kept for explanations and incremental
    runs). ``groups`` and ``candidates`` are kept in memory only, for blocking recall.
    """

    assignments: pl.DataFrame
    entities: pl.DataFrame
    evidence: pl.DataFrame
    events: pl.DataFrame
    judgements: pl.DataFrame
    review: pl.DataFrame
    mentions: pl.DataFrame
    model: Model
    run: dict
    groups: pl.DataFrame | None = None
    candidates: dict[str, pl.DataFrame] = field(default_factory=dict)

    @property
    def model_version(self) -> str:
        return self.model.version

    def entity_of(self, mention_id: str) -> str:
        hit = self.assignments.filter(pl.col("mention_id") == mention_id)
        if hit.height == 0:
            raise KeyError(mention_id)
        return hit["entity_id"][0]


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def resolve(
    records: pl.DataFrame,
    previous: Resolution | None = None,
    judgements: pl.DataFrame | None = None,
    config: ResolutionConfig | None = None,
    *,
    model: Model | None = None,
    full: bool = False,
    refit: bool = False,
) -> Resolution:
    """Resolve every mention of ``records`` (standard record frame) into legal and natural entities.

    ``previous``: the last run (ids are inherited; without ``full`` the run is incremental).
    ``judgements``: human decisions (added to those of ``previous``; the latest per pair wins).
    ``model``: a fixed model; by default the previous run's model is reused and a new one is
    estimated by EM when there is none or ``refit`` is set.

    Every mention ends in exactly one entity (singletons included); nothing is dropped.
    """
    cfg = config or ResolutionConfig()
    if not 0 <= cfg.review <= cfg.auto_merge <= 1:
        raise ResolutionError(
            f"resolution thresholds must satisfy 0 <= review ({cfg.review}) <= auto_merge ({cfg.auto_merge}) <= 1")
    if not cfg.em_anchor >= 0:  # also refuses NaN
        raise ResolutionError(f"resolution.em_anchor must be >= 0 (inf keeps m fixed), not {cfg.em_anchor}")
    for key in ("model_prior_pairs", "identifier_u_prior_collisions"):
        if not 0 < getattr(cfg, key) < float("inf"):  # also refuses NaN
            raise ResolutionError(f"resolution.{key} must be a positive number, not {getattr(cfg, key)}")
    t0 = time.perf_counter()
    at = _now()
    run_no = int(previous.run.get("run", 0)) + 1 if previous is not None else 1
    mentions = extract_mentions(records)
    t_mentions = time.perf_counter() - t0

    incremental = previous is not None and not full
    if previous is not None:
        prev = previous.assignments.select(
            "mention_id", pl.col("entity_id").alias("old_entity"),
            pl.col("first_seen").cast(pl.Int64) if "first_seen" in previous.assignments.columns
            else pl.lit(run_no - 1, dtype=pl.Int64).alias("first_seen"),
        )
    else:
        prev = pl.DataFrame(schema={"mention_id": pl.Utf8, "old_entity": pl.Utf8, "first_seen": pl.Int64})
    mentions = mentions.join(prev, on="mention_id", how="left", maintain_order="left").with_columns(
        pl.col("first_seen").fill_null(run_no),
        pl.col("old_entity").is_null().alias("new") if incremental else pl.lit(True).alias("new"),
        (pl.col("old_entity") if incremental else pl.lit(None, dtype=pl.Utf8)).alias("prev_entity"),
    )

    # Judgements given now must name existing mentions of one type (a clear error); stored ones whose
    # mentions are gone (records removed) or changed type stay in the log but are inactive.
    new_j = check_judgements(judgements) if judgements is not None else empty_judgements()
    types = dict(zip(mentions["mention_id"].to_list(), mentions["type"].to_list()))
    for row in new_j.iter_rows(named=True):
        for side in ("left", "right"):
            if row[side] not in types:
                raise ResolutionError(f"judgement names mention {row[side]!r}, which is not in the records")
        if types[row["left"]] != types[row["right"]]:
            raise ResolutionError(
                f"judgement pairs {row['left']} ({types[row['left']]}) with {row['right']} "
                f"({types[row['right']]}): a legal person and a natural person are never one entity")
    jud = empty_judgements()
    if previous is not None:
        jud = pl.concat([jud, check_judgements(previous.judgements)])
    jud = pl.concat([jud, new_j]).unique(maintain_order=True)
    eff = effective_judgements(jud)
    lt = [types.get(x) for x in eff["left"].to_list()]
    rt = [types.get(x) for x in eff["right"].to_list()]
    active = pl.Series([a is not None and a == b for a, b in zip(lt, rt)], dtype=pl.Boolean)
    inactive = int((~active).sum()) if eff.height else 0
    eff = eff.filter(active) if eff.height else eff

    if model is None and previous is not None and not refit:
        model = previous.model
    # Nothing new: no judgement given now or recorded since (``credgraph review`` appends to the log), the
    # same model, the same mentions and settings — the previous outputs stand unchanged.
    applied_before = previous.run.get("judgements", {}).get("total") if previous is not None else None
    if (incremental and new_j.height == 0 and applied_before == jud.height and model is previous.model
            and _nothing_new(previous, mentions, cfg)):
        return _unchanged(previous, run_no, at, t0)
    params = dict(auto_merge=cfg.auto_merge, review=cfg.review, max_block_size=cfg.max_block_size,
                  em_iterations=cfg.em_iterations, em_anchor=cfg.em_anchor, judgement_weight=cfg.judgement_weight,
                  incremental=incremental, workers=cfg.workers, ambiguity_margin=cfg.ambiguity_margin,
                  rare_names=cfg.rare_names, model_prior_pairs=cfg.model_prior_pairs,
                  identifier_u_prior_collisions=cfg.identifier_u_prior_collisions)

    results: dict[str, TypeResult] = {}
    legal = mentions.filter(pl.col("type") == "legal").with_columns(pl.lit("").alias("company"))
    results["legal"] = resolve_type(
        legal, "legal", model=model.types.get("legal") if model else None,
        judgements=_judgements_of(eff, types, "legal"), **params)
    # Persons: the company each record links them to, as resolved just now.
    company = (
        legal.select(pl.col("mention_id").alias("counterpart"))
        .with_columns(pl.Series("company", results["legal"].mentions["cluster"].cast(pl.Utf8)))
    )
    natural = (
        mentions.filter(pl.col("type") == "natural")
        .join(company, on="counterpart", how="left", maintain_order="left")
        .with_columns(pl.col("company").fill_null(""))
    )
    results["natural"] = resolve_type(
        natural, "natural", model=model.types.get("natural") if model else None,
        judgements=_judgements_of(eff, types, "natural"), **params)

    fitted = Model({t: r.model for t, r in results.items()})
    version = fitted.version
    res = _assemble(mentions, results, jud, fitted, version, run_no, at, cfg, t0, t_mentions)
    res.run["judgements"] = {"total": jud.height, "applied": eff.height, "inactive": inactive}
    return res


def _nothing_new(previous: Resolution, mentions: pl.DataFrame, cfg: ResolutionConfig) -> bool:
    """Whether a run would only repeat ``previous``: the same mentions with the same raw fields, and
    the same thresholds and limits (judgements and the model are checked by the caller)."""
    conf = previous.run.get("config", {})
    if any(conf.get(k) != getattr(cfg, k) for k in ("auto_merge", "review", "max_block_size", "em_iterations",
                                                   "rare_names")):
        return False
    old = previous.mentions
    if old.height != mentions.height:
        return False
    cols = [c for c in _RAW_COLUMNS if c in old.columns and c in mentions.columns]
    if "birth_date" not in cols and mentions["birth_date"].drop_nulls().len():
        return False  # a run of an older version: it did not keep birth dates
    if "id_unchecked" not in cols and (mentions["id_unchecked"] != "").any():
        return False  # a run of an older version: it did not keep unchecked ID numbers
    a = old.select(pl.col(cols).cast(pl.Utf8)).sort("mention_id")
    b = mentions.select(pl.col(cols).cast(pl.Utf8)).sort("mention_id")
    return a.equals(b)


def _unchanged(previous: Resolution, run_no: int, at: str, t0: float) -> Resolution:
    """``previous`` as the result of a run that found nothing new: every output identical, only the run
    record says it ran (and that nothing changed)."""
    run = dict(previous.run)
    run.update({"run": run_no, "at": at, "seconds": round(time.perf_counter() - t0, 3), "unchanged": True,
                "events": 0})
    return Resolution(previous.assignments, previous.entities, previous.evidence, previous.events.head(0),
                      previous.judgements, previous.review, previous.mentions, previous.model, run)


def _judgements_of(eff: pl.DataFrame, types: dict, type_: str) -> pl.DataFrame:
    """The active judgements about mentions of one type."""
    if eff.height == 0:
        return eff
    return eff.filter(pl.Series([types.get(x) == type_ for x in eff["left"].to_list()], dtype=pl.Boolean))


def _assemble(mentions, results, jud, model, version, run_no, at, cfg, t0, t_mentions) -> Resolution:
    offset = 0
    parts = []
    for type_ in ("legal", "natural"):
        r = results[type_]
        parts.append(r.mentions.with_columns((pl.col("cluster") + offset).alias("cluster"),
                                             (pl.col("group") + offset).alias("group_g")))
        offset += max(int(r.mentions["cluster"].max() or 0) + 1, int(r.mentions["group"].max() or 0) + 1) \
            if r.mentions.height else 0
    cl = pl.concat(parts)
    m = mentions.join(cl.select("mention_id", "cluster", "confidence", "group_g", "rule"), on="mention_id",
                      how="left", maintain_order="left")
    if m["cluster"].null_count():  # never: every mention is resolved by its type
        raise ResolutionError("internal error: a mention was left without an entity")
    id_frame, events = assign_entity_ids(
        m.select("mention_id", "type", "cluster", "first_seen", "seq", "old_entity",
                 "uscc_v", "org_v", "reg_v", "id_full"),
        cfg.entity_id_key, run_no, at)
    m = m.join(id_frame, on="cluster", how="left", maintain_order="left")

    assignments = m.select(
        "mention_id", "record_id", "role", "entity_id", pl.col("confidence").cast(pl.Float64), "type",
        pl.col("first_seen").cast(pl.Int64),
    )
    entities = _entities(m)
    ent_of = m.select("mention_id", "entity_id")
    evidence = _evidence(results, ent_of, version, run_no)
    review = _review(evidence)
    stats = {t: r.stats for t, r in results.items()}
    run = {
        "run": run_no, "at": at, "model_version": version, "mentions": m.height,
        "entities": entities.height, "legal_entities": int((entities["type"] == "legal").sum()),
        "natural_entities": int((entities["type"] == "natural").sum()),
        "review_pairs": review.height, "events": events.height,
        "seconds": round(time.perf_counter() - t0, 3), "seconds_mentions": round(t_mentions, 3),
        "config": {k: getattr(cfg, k) for k in ("auto_merge", "review", "max_block_size", "em_iterations", "em_anchor",
                                                "rare_names")},
        "stats": stats,
    }
    groups = m.select("mention_id", "record_id", "role", "type", pl.col("group_g").alias("group"))
    candidates = {t: r.candidates.with_columns(
        pl.col("group_l") + (0 if t == "legal" else _offset(results)),
        pl.col("group_r") + (0 if t == "legal" else _offset(results))) for t, r in results.items()}
    keep_cols = list(STATE_COLUMNS)
    return Resolution(assignments, entities, evidence, events.cast(EVENT_SCHEMA), jud, review,
                      m.select(keep_cols), model, run, groups, candidates)


def _offset(results) -> int:
    r = results["legal"].mentions
    return max(int(r["cluster"].max() or 0) + 1, int(r["group"].max() or 0) + 1) if r.height else 0


def _mode(col: str) -> pl.Expr:
    """Most frequent non-empty value (ties: the first seen)."""
    v = pl.col(col).filter(pl.col(col) != "")
    return v.mode(maintain_order=True).first() if hasattr(pl.Expr, "mode") else v.first()


def _entities(m: pl.DataFrame) -> pl.DataFrame:
    cols = ["entity_id", "seq", "type", "name_text", "uscc_v", "org_v", "reg_v", "id_full", "id_masked", "birth",
            "addr_text", "phone_n", "branch"]
    frame = m.select(cols).sort("seq").with_columns(
        pl.when(pl.col("id_full") != "").then(pl.col("id_full")).otherwise(pl.col("id_masked")).alias("_id")
    )
    best_name = (
        frame.filter(pl.col("name_text") != "")
        .group_by(["entity_id", "name_text"]).agg(pl.len().alias("n"), pl.col("seq").min())
        .sort(["entity_id", "n", "seq"], descending=[False, True, False])
        .group_by("entity_id", maintain_order=True).agg(pl.col("name_text").first().alias("name"),
                                                        pl.col("name_text").alias("names"))
    )
    agg = frame.group_by("entity_id", maintain_order=True).agg(
        pl.col("type").first(),
        pl.col("uscc_v").filter(pl.col("uscc_v") != "").first().alias("uscc"),
        pl.col("org_v").filter(pl.col("org_v") != "").first().alias("org_code"),
        pl.col("reg_v").filter(pl.col("reg_v") != "").first().alias("reg_no"),
        pl.col("id_full").filter(pl.col("id_full") != "").first().alias("_full"),
        pl.col("id_masked").filter(pl.col("id_masked") != "").first().alias("_masked"),
        pl.col("birth").filter(pl.col("birth") != "").first().alias("_birth"),
        pl.col("addr_text").filter(pl.col("addr_text") != "").first().alias("address"),
        pl.col("phone_n").filter(pl.col("phone_n") != "").first().alias("phone"),
        ((pl.col("branch") != "") & (pl.col("type") == "legal")).any().alias("is_branch"),
        pl.len().cast(pl.Int64).alias("member_count"),
    )
    out = agg.join(best_name, on="entity_id", how="left", maintain_order="left").with_columns(
        pl.coalesce("_full", "_masked").alias("id_number"),
        pl.col("_birth").str.to_date("%Y%m%d", strict=False).alias("birth_date"),
        pl.col("names").fill_null(pl.lit([], dtype=pl.List(pl.Utf8))),
    )
    return out.select("entity_id", "type", "name", "names", "uscc", "org_code", "reg_no", "id_number",
                      "birth_date", "address", "phone", "is_branch", "member_count").sort("entity_id")


def _evidence(results: dict[str, TypeResult], ent_of: pl.DataFrame, version: str, run_no: int) -> pl.DataFrame:
    frames = []
    for type_, r in results.items():
        ident = r.identity.select(
            pl.col("root").alias("left"), pl.col("mention_id").alias("right"),
            pl.lit(type_).alias("type"), pl.lit(1.0).alias("score"), pl.lit(None, dtype=pl.Float64).alias("weight"),
            pl.lit("merge").alias("band"), pl.col("rule"),
        )
        pairs = r.pairs.select(
            "left", "right", pl.lit(type_).alias("type"), "score", "weight", "band",
            pl.col("rule").fill_null("model"),
            pl.col("^level_.*$"), pl.col("^weight_.*$"),
        )
        frames += [ident, pairs]
    ev = pl.concat(frames, how="diagonal_relaxed")
    ev = (ev.join(ent_of.rename({"mention_id": "left", "entity_id": "left_entity"}), on="left", how="left",
                  maintain_order="left")
          .join(ent_of.rename({"mention_id": "right", "entity_id": "right_entity"}), on="right", how="left",
                maintain_order="left"))
    return ev.with_columns(pl.lit(version).alias("model_version"), pl.lit(run_no, dtype=pl.Int64).alias("run"))


def _review(evidence: pl.DataFrame) -> pl.DataFrame:
    rv = evidence.filter((pl.col("band") == "review") & (pl.col("left_entity") != pl.col("right_entity")))
    return rv.sort("score", descending=True)


# ----------------------------------------------------------------------------- files
def write_resolution(res: Resolution, directory: str | Path) -> Path:
    """Write every output into ``directory`` (normally ``workspace/entities``) as one atomic step."""
    from credgraph.atomic import atomic_dir

    directory = Path(directory)
    with atomic_dir(directory) as tmp:
        for name in ("assignments", "entities", "evidence", "events", "judgements", "review", "mentions"):
            getattr(res, name).write_parquet(tmp / f"{name}.parquet", compression="lz4")
        (tmp / "model.json").write_text(res.model.to_json(), encoding="utf-8")
        (tmp / "run.json").write_text(json.dumps(res.run, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    return directory


def load_resolution(directory: str | Path) -> Resolution:
    """Read a run written by :func:`write_resolution` (the ``previous`` of the next run)."""
    directory = Path(directory)
    missing = [f for f in OUTPUT_FILES if not (directory / f).is_file()]
    if missing:
        raise ResolutionError(f"{directory}: not a complete resolution output (missing {', '.join(missing)})")
    model = load_model(directory / "model.json")
    try:
        run = json.loads((directory / "run.json").read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ResolutionError(f"{directory / 'run.json'}: unreadable ({exc})") from None
    read = {f.split(".")[0]: pl.read_parquet(directory / f) for f in OUTPUT_FILES if f.endswith(".parquet")}
    return Resolution(read["assignments"], read["entities"], read["evidence"], read["events"],
                      check_judgements(read["judgements"]), read["review"], read["mentions"], model, run)
