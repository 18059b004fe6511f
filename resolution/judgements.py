"""Human decisions on pairs of mentions: match or no-match, with who, when and why.

Judgements are the last word: every later run applies them (a match joins the two
mentions' entities; a no-match keeps them apart, detaching a mention from its group
if need be) and uses them as labels when the model is re-estimated. When the same pair
is judged twice, the latest decision counts.

>>> j = add_judgement(empty_judgements(), "r1:subject", "r2:subject", "match", who="li", why="same USCC on licence")
>>> j.select("left", "right", "decision", "who").row(0)
('r1:subject', 'r2:subject', 'match', 'li')
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
from pathlib import Path

import polars as pl

from credgraph.resolution.errors import JudgementError

__all__ = ["JUDGEMENT_SCHEMA", "DECISIONS", "empty_judgements", "add_judgement", "effective_judgements",
           "check_judgements", "journal_path", "append_journal", "read_journal", "with_journal"]

DECISIONS = ("match", "no_match")

JUDGEMENT_SCHEMA = {
    "left": pl.Utf8, "right": pl.Utf8, "decision": pl.Utf8, "who": pl.Utf8, "when": pl.Utf8, "why": pl.Utf8,
    "left_entity": pl.Utf8, "right_entity": pl.Utf8,
}


def empty_judgements() -> pl.DataFrame:
    return pl.DataFrame(schema=JUDGEMENT_SCHEMA)


def add_judgement(
    judgements: pl.DataFrame,
    left: str,
    right: str,
    decision: str,
    who: str,
    why: str,
    when: str | None = None,
    left_entity: str | None = None,
    right_entity: str | None = None,
) -> pl.DataFrame:
    """Append one decision (``match`` or ``no_match``) about two mentions."""
    if decision not in DECISIONS:
        raise JudgementError(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}")
    if not who or not who.strip():
        raise JudgementError("a judgement needs --who: the person who decided")
    if not why or not why.strip():
        raise JudgementError("a judgement needs --why: the reason for the decision")
    if left == right:
        raise JudgementError(f"a judgement needs two different mentions, got {left!r} twice")
    a, b = sorted((left, right))
    row = pl.DataFrame(
        [{"left": a, "right": b, "decision": decision, "who": who.strip(), "why": why.strip(),
          "when": when or dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
          "left_entity": left_entity if a == left else right_entity,
          "right_entity": right_entity if a == left else left_entity}],
        schema=JUDGEMENT_SCHEMA,
    )
    return pl.concat([judgements.select(list(JUDGEMENT_SCHEMA)).cast(JUDGEMENT_SCHEMA), row])


def effective_judgements(judgements: pl.DataFrame) -> pl.DataFrame:
    """The latest decision per pair (the log keeps every decision; runs apply the latest)."""
    if judgements.height == 0:
        return empty_judgements()
    j = judgements.with_row_index("_n")
    return j.sort("_n").group_by(["left", "right"], maintain_order=True).last().drop("_n").select(list(JUDGEMENT_SCHEMA))


def check_judgements(judgements: pl.DataFrame) -> pl.DataFrame:
    """Validate a judgements frame read from disk; returns it with the standard schema."""
    missing = [c for c in ("left", "right", "decision") if c not in judgements.columns]
    if missing:
        raise JudgementError(f"judgements are missing column(s): {', '.join(missing)}")
    bad = judgements.filter(~pl.col("decision").is_in(list(DECISIONS)))
    if bad.height:
        raise JudgementError(f"judgement on {bad['left'][0]} / {bad['right'][0]} has unknown decision {bad['decision'][0]!r}")
    for c, t in JUDGEMENT_SCHEMA.items():
        if c not in judgements.columns:
            judgements = judgements.with_columns(pl.lit(None, dtype=t).alias(c))
    return judgements.select(list(JUDGEMENT_SCHEMA)).cast(JUDGEMENT_SCHEMA)


# ------------------------------------------------------------------- the journal
# A decision is appended (flock, fsync) to a journal *outside* the resolution folder the moment it
# is made: ``resolve`` replaces that folder as a whole, so a decision written there during a run
# would be lost. Every ``resolve`` reads the journal and applies what its judgements lack; the
# journal is never rewritten.


def journal_path(entities_dir: str | Path) -> Path:
    """``<workspace>/review/<folder name>-judgements.jsonl`` beside a resolution folder."""
    d = Path(entities_dir)
    return d.parent / "review" / f"{d.name}-judgements.jsonl"


def append_journal(entities_dir: str | Path, row: dict) -> Path:
    """Append one judgement row (the columns of :data:`JUDGEMENT_SCHEMA`) durably; return the journal."""
    path = journal_path(entities_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    line = (json.dumps({k: row.get(k) for k in JUDGEMENT_SCHEMA}, ensure_ascii=False) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)
    return path


def read_journal(entities_dir: str | Path) -> pl.DataFrame:
    """Every judgement in the journal, in the order made (a torn last line is skipped)."""
    path = journal_path(entities_dir)
    if not path.is_file():
        return empty_judgements()
    rows = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            try:
                rows.append(json.loads(line))
            except ValueError:
                continue
    return pl.DataFrame(rows, schema=JUDGEMENT_SCHEMA) if rows else empty_judgements()


def with_journal(judgements: pl.DataFrame | None, entities_dir: str | Path) -> pl.DataFrame:
    """``judgements`` plus the journal's rows it lacks (order kept: stored first, then the journal)."""
    base = empty_judgements() if judgements is None else check_judgements(judgements)
    extra = read_journal(entities_dir)
    if extra.height == 0:
        return base
    return pl.concat([base, extra.join(base, on=list(JUDGEMENT_SCHEMA), how="anti", nulls_equal=True)])


def missing_from(judgements: pl.DataFrame | None, entities_dir: str | Path) -> pl.DataFrame:
    """The journal's rows that ``judgements`` lacks."""
    base = empty_judgements() if judgements is None else check_judgements(judgements)
    return read_journal(entities_dir).join(base, on=list(JUDGEMENT_SCHEMA), how="anti", nulls_equal=True)
