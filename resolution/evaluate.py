"""Evaluation against ground truth: pairwise and B-cubed precision/recall/F1, entity-count error.

Ground truth keys mentions by ``(source_file, source_row, role)`` (``truth/mentions.parquet``);
records carry the same lineage, so predicted and true entities meet on that key. Metrics
are computed from contingency counts (no pair enumeration), per subject type and per
hard-case class (a mention's noise and hard-case tags). For a class, pairwise counts cover
the pairs that involve at least one tagged mention, B-cubed averages over tagged mentions.

>>> pred = pl.DataFrame({"m": [1, 2, 3, 4], "p": ["a", "a", "b", "b"]})
>>> true = pl.DataFrame({"m": [1, 2, 3, 4], "t": ["x", "x", "x", "y"]})
>>> s = scores(pred.join(true, on="m").select(pl.col("p").alias("pred"), pl.col("t").alias("true")))
>>> round(s["pairwise_precision"], 3), round(s["pairwise_recall"], 3), round(s["bcubed_recall"], 3)
(0.5, 0.333, 0.667)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from credgraph.resolution.errors import ResolutionError

__all__ = ["Evaluation", "evaluate", "scores", "blocking_recall", "CLASSES", "load_truth"]

#: Hard-case classes reported separately (noise tags and hard-case tags of truth/mentions.parquet).
CLASSES = ("branch", "traditional", "bracket_region", "missing_region", "masked_id", "legacy_id", "homophone",
           "same_name_person", "same_brand_other_industry", "fullwidth", "form_variant", "missing_id",
           "transposed", "duplicate", "shape_char", "dropped_char", "romanised")


def _c2(n: pl.Expr) -> pl.Expr:
    return (n * (n - 1) / 2).cast(pl.Float64)


def scores(frame: pl.DataFrame, tagged: str | None = None) -> dict:
    """Pairwise and B-cubed scores of ``frame`` (one row per mention: ``pred``, ``true`` cluster labels).

    With ``tagged`` (a boolean column), pairwise counts are over pairs involving a tagged
    mention and B-cubed averages over tagged mentions.
    """
    if frame.height == 0:
        return {"mentions": 0}
    f = frame.with_columns(pl.lit(True).alias("_tag") if tagged is None else pl.col(tagged).alias("_tag"))
    f = f.with_columns(_k=pl.col("_tag").cast(pl.Int64))
    cell = f.group_by(["pred", "true"]).agg(pl.len().alias("n"), pl.col("_k").sum().alias("k"))
    pred = f.group_by("pred").agg(pl.len().alias("n"), pl.col("_k").sum().alias("k"))
    true = f.group_by("true").agg(pl.len().alias("n"), pl.col("_k").sum().alias("k"))

    def pairs(df: pl.DataFrame) -> float:  # pairs with at least one tagged mention
        return float(df.select((_c2(pl.col("n")) - _c2(pl.col("n") - pl.col("k"))).sum()).item() or 0.0)

    tp, pp, tt = pairs(cell), pairs(pred), pairs(true)
    prec = tp / pp if pp else 1.0
    rec = tp / tt if tt else 1.0
    # B-cubed: per tagged mention |P ∩ T| / |P| and / |T|, via the cell sizes.
    b = (
        f.filter(pl.col("_tag"))
        .join(cell.select("pred", "true", pl.col("n").alias("nc")), on=["pred", "true"])
        .join(pred.select("pred", pl.col("n").alias("np")), on="pred")
        .join(true.select("true", pl.col("n").alias("nt")), on="true")
    )
    bp = float((b["nc"] / b["np"]).mean()) if b.height else 1.0
    br = float((b["nc"] / b["nt"]).mean()) if b.height else 1.0
    n_true = f.filter(pl.col("_tag"))["true"].n_unique()
    n_pred = f.filter(pl.col("_tag"))["pred"].n_unique()
    return {
        "mentions": int(f["_tag"].sum()),
        "true_entities": int(n_true),
        "predicted_entities": int(n_pred),
        "entity_count_error": (n_pred - n_true) / n_true if n_true else 0.0,
        "pairwise_precision": prec,
        "pairwise_recall": rec,
        "pairwise_f1": 2 * prec * rec / (prec + rec) if prec + rec else 0.0,
        "true_pairs": tt,
        "predicted_pairs": pp,
        "bcubed_precision": bp,
        "bcubed_recall": br,
        "bcubed_f1": 2 * bp * br / (bp + br) if bp + br else 0.0,
    }


@dataclass
class Evaluation:
    """Scores per subject type and per hard-case class, plus the two structural checks."""

    by_type: dict[str, dict]
    by_class: dict[str, dict]
    branch_parent_merges: int
    multi_uscc_clusters: int
    matched_mentions: int
    unmatched_mentions: int
    blocking: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"by_type": self.by_type, "by_class": self.by_class,
                "branch_parent_merges": self.branch_parent_merges, "multi_uscc_clusters": self.multi_uscc_clusters,
                "matched_mentions": self.matched_mentions, "unmatched_mentions": self.unmatched_mentions,
                "blocking": self.blocking}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=1)

    def format(self) -> str:
        lines = [f"mentions matched to ground truth: {self.matched_mentions:,} "
                 f"(without truth: {self.unmatched_mentions:,})"]
        head = f"{'':28}{'pairs P':>9}{'R':>8}{'F1':>8}{'B3 P':>8}{'R':>8}{'F1':>8}{'entities':>10}{'err':>8}"
        lines.append(head)

        def row(name: str, s: dict) -> str:
            if not s.get("mentions"):
                return f"{name:28}{'(none)':>9}"
            return (f"{name:28}{s['pairwise_precision']:9.4f}{s['pairwise_recall']:8.4f}{s['pairwise_f1']:8.4f}"
                    f"{s['bcubed_precision']:8.4f}{s['bcubed_recall']:8.4f}{s['bcubed_f1']:8.4f}"
                    f"{s['predicted_entities']:10,}{s['entity_count_error']:+8.3f}")

        for t, s in self.by_type.items():
            lines.append(row(t, s))
        lines.append("per hard-case class (pairs involving a tagged mention):")
        for c, s in self.by_class.items():
            lines.append(row(f"  {c} ({s.get('mentions', 0):,})", s))
        lines.append(f"branch → parent merges: {self.branch_parent_merges}")
        lines.append(f"clusters holding two different valid USCCs: {self.multi_uscc_clusters}")
        for t, b in self.blocking.items():
            lines.append(f"blocking {t}: {b['candidate_pairs']:,} candidate pairs; recall direct {b['direct_recall']:.4f}, "
                         f"after closure {b['closure_recall']:.4f}")
        return "\n".join(lines)


def load_truth(truth_dir: str | Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Read ``truth/mentions.parquet`` and ``truth/entities.parquet`` (``truth_dir`` may be the city folder)."""
    d = Path(truth_dir)
    if not (d / "mentions.parquet").is_file() and (d / "truth" / "mentions.parquet").is_file():
        d = d / "truth"
    need = [d / "mentions.parquet", d / "entities.parquet"]
    missing = [str(p) for p in need if not p.is_file()]
    if missing:
        raise ResolutionError(f"ground truth not found: {', '.join(missing)}")
    try:
        mentions, entities = pl.read_parquet(need[0]), pl.read_parquet(need[1])
    except Exception as exc:  # a user's file: say which one and why
        raise ResolutionError(f"ground truth in {d} cannot be read: {exc}") from None
    for frame, path, cols in ((mentions, need[0], ("source_file", "source_row", "role", "entity_id")),
                              (entities, need[1], ("entity_id", "type"))):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise ResolutionError(f"{path}: missing column(s) {', '.join(missing)}")
    mentions = mentions.with_columns(
        pl.col("entity_id").cast(pl.Utf8),
        *[(pl.col(c).cast(pl.Utf8) if c in mentions.columns else pl.lit("").alias(c)) for c in ("noise", "hard_case")],
    )
    entities = entities.with_columns(
        pl.col("entity_id").cast(pl.Utf8),
        (pl.col("parent_id").cast(pl.Utf8) if "parent_id" in entities.columns else pl.lit(None, pl.Utf8).alias("parent_id")),
    )
    return mentions, entities


def _basename(col: str) -> pl.Expr:
    return pl.col(col).cast(pl.Utf8).str.replace(r"^.*[/\\]", "")


def _joined(mentions: pl.DataFrame, assignments: pl.DataFrame, truth_mentions: pl.DataFrame) -> pl.DataFrame:
    pred = mentions.select("mention_id", "type", "source_file", "source_row", "role", "uscc_v").join(
        assignments.select("mention_id", pl.col("entity_id").alias("pred")), on="mention_id")
    pred = pred.with_columns(_basename("source_file").alias("source_file"), pl.col("source_row").cast(pl.Int64))
    tm = truth_mentions.select(
        _basename("source_file").alias("source_file"), pl.col("source_row").cast(pl.Int64), "role",
        pl.col("entity_id").alias("true"),
        pl.concat_str([pl.col("noise").fill_null(""), pl.col("hard_case").fill_null("")], separator=",").alias("tags"),
    )
    return pred.join(tm, on=["source_file", "source_row", "role"], how="left")


def evaluate(resolution, truth_dir: str | Path) -> Evaluation:
    """Compare a :class:`~credgraph.resolution.pipeline.Resolution` with the generator's ground truth."""
    truth_m, truth_e = load_truth(truth_dir)
    j = _joined(resolution.mentions, resolution.assignments, truth_m)
    unmatched = int(j["true"].null_count())
    j = j.filter(pl.col("true").is_not_null())
    types = truth_e.select(pl.col("entity_id").alias("true"), pl.col("type").alias("true_type"))
    j = j.join(types, on="true", how="left").with_columns(pl.col("true_type").fill_null(pl.col("type")))
    by_type = {t: scores(j.filter(pl.col("true_type") == t)) for t in ("legal", "natural")}
    by_type["all"] = scores(j)
    by_class = {}
    tags = j.with_columns(pl.col("tags").str.split(","))
    for c in CLASSES:
        flag = tags.with_columns(pl.col("tags").list.contains(c).alias("_c"))
        # A class is scored within the subject type(s) it occurs in.
        ts = flag.filter(pl.col("_c"))["true_type"].unique().to_list()
        if not ts:
            by_class[c] = {"mentions": 0}
            continue
        by_class[c] = scores(flag.filter(pl.col("true_type").is_in(ts)), tagged="_c")
    # Branch -> parent merges: a predicted entity holding mentions of a branch and of its parent.
    parent = truth_e.filter(pl.col("parent_id").is_not_null() & (pl.col("parent_id") != "")).select(
        pl.col("entity_id").alias("true"), "parent_id")
    ents = j.select("pred", "true").unique()
    bp = ents.join(parent, on="true").join(
        ents.rename({"true": "parent_id", "pred": "pred_parent"}), on="parent_id")
    merges = int(bp.filter(pl.col("pred") == pl.col("pred_parent")).select("pred", "true").unique().height)
    multi = resolution.mentions.select("mention_id", "uscc_v").join(
        resolution.assignments.select("mention_id", "entity_id"), on="mention_id"
    ).filter(pl.col("uscc_v") != "").group_by("entity_id").agg(pl.col("uscc_v").n_unique().alias("n"))
    ev = Evaluation(by_type, by_class, merges, int((multi["n"] > 1).sum()), j.height, unmatched)
    if resolution.groups is not None and resolution.candidates:
        ev.blocking = blocking_recall(resolution, j)
    return ev


def blocking_recall(resolution, joined: pl.DataFrame) -> dict:
    """Share of true pairs the blocking made comparable: directly (same group or a candidate
    pair of groups) and after closure (connected through candidate pairs: the ceiling of recall)."""
    from credgraph.resolution.cluster import components

    out = {}
    g = resolution.groups.select("mention_id", "group").join(joined.select("mention_id", "true", "true_type"),
                                                              on="mention_id")
    n_groups = int(resolution.groups["group"].max() or 0) + 1
    for t, cand in resolution.candidates.items():
        sub = g.filter(pl.col("true_type") == t)
        if sub.height == 0:
            continue
        # Group-level true pairs: groups of one true entity, each pair once.
        gt = sub.select("group", "true").unique()
        pairs = gt.join(gt, on="true", suffix="_r").filter(pl.col("group") < pl.col("group_r"))
        c = cand.select(pl.min_horizontal("group_l", "group_r").alias("group"),
                        pl.max_horizontal("group_l", "group_r").alias("group_r")).unique()
        found = pairs.join(c, on=["group", "group_r"], how="semi").height
        # Mention-level pairs covered: same group, or groups linked by a candidate pair.
        within = scores(sub.select(pl.col("group").alias("pred"), "true"))
        comp = components(n_groups, cand["group_l"].to_numpy(), cand["group_r"].to_numpy())
        closure = scores(sub.select(pl.Series("pred", comp[sub["group"].to_numpy()]), "true"))
        out[t] = {
            "candidate_pairs": cand.height,
            "group_pairs_true": pairs.height,
            "direct_recall": found / pairs.height if pairs.height else 1.0,
            "within_group_recall": within.get("pairwise_recall", 1.0),
            "closure_recall": closure.get("pairwise_recall", 1.0),
        }
    return out
