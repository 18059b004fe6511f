"""Explanations: why mentions were put together in one entity, or kept apart.

``explain(resolution, key)`` accepts an entity id, a record id or a mention id and
returns text: the entity, its members (where each came from), every link that joined
them with its score, per-field evidence (the feature's own explanation) and model
version, and the pairs that were kept apart with the rule that kept them apart.
ID numbers and phone numbers are masked.
"""

from __future__ import annotations

import polars as pl

from credgraph.identifiers import mask_id, mask_phone
from credgraph.resolution.errors import ResolutionError
from credgraph.resolution.features import comparisons_for, rules_for

__all__ = ["explain", "find_entity", "IDENTITY_RULES"]

IDENTITY_RULES = {
    "identifier": "the same registration identifier (USCC, or the organisation code / registration number "
                  "linked to it) or the same full ID number",
    "identical": "identical in every compared field after normalisation",
    "previous_run": "already one entity in the previous run (incremental run keeps it)",
    "judgement": "a person judged them a match",
}

_BAND_TEXT = {
    "merge": "merged",
    "merged_by_others": "in one entity through other links",
    "review": "uncertain: in the review queue",
    "kept_apart": "would merge, but a constraint of the entity refused it",
    "related": "possibly related, never merged",
    "constraint": "a hard rule forbids merging",
    "judged_no_match": "a person judged them different",
}


def find_entity(resolution, key: str) -> list[str]:
    """Entity ids that ``key`` (entity id, mention id or record id) refers to."""
    a = resolution.assignments
    if resolution.entities.filter(pl.col("entity_id") == key).height:
        return [key]
    hit = a.filter(pl.col("mention_id") == key)
    if hit.height == 0:
        hit = a.filter(pl.col("record_id") == key)
    if hit.height == 0:
        raise ResolutionError(f"{key!r} is neither an entity id, a mention id nor a record id of this resolution")
    return list(dict.fromkeys(hit.sort("role", descending=True)["entity_id"].to_list()))


def _first_line(doc: str) -> str:
    return " ".join(doc.split("\n\n")[0].split())


#: Identifiers shown when a mention or an entity is described: field, label, how it is shown.
_SHOWN = (("uscc", "USCC", str), ("reg_no", "registration no.", str), ("id_number", "ID", mask_id),
          ("phone", "tel", mask_phone))


def _identifiers(row: dict, fields: tuple[str, ...]) -> list[str]:
    """The row's identifiers among ``fields``, personal ones masked."""
    return [f"{label} {show(row[f])}" for f, label, show in _SHOWN if f in fields and row.get(f)]


def _describe_mention(row: dict) -> str:
    parts = [f"{row['mention_id']}", f"{row.get('source_file') or '?'}:{row.get('source_row') or '?'}",
             f"[{row.get('catalog') or ''}]", row.get("name") or "(no name)",
             *_identifiers(row, ("uscc", "id_number", "phone"))]
    return "  ".join(p for p in parts if p)


def _field_lines(row: dict, type_: str) -> list[str]:
    out = []
    for c in comparisons_for(type_):
        lv = row.get(f"level_{c.name}")
        if lv is None:
            continue
        w = row.get(f"weight_{c.name}") or 0.0
        label = "missing on one side (no evidence)" if lv < 0 else c.levels[lv]
        out.append(f"      {c.name:<11} {label:<24} {w:+6.2f} bits   — {_first_line(c.doc)}")
    return out


def explain(resolution, key: str, limit: int = 25) -> str:
    """Why the records of an entity (or of the entity holding a record or mention) were put together."""
    out: list[str] = []
    for entity_id in find_entity(resolution, key):
        out.extend(_explain_entity(resolution, entity_id, limit))
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _explain_entity(res, entity_id: str, limit: int) -> list[str]:
    ent = res.entities.filter(pl.col("entity_id") == entity_id).row(0, named=True)
    type_ = ent["type"]
    lines = [f"entity {entity_id} ({type_} person): {ent['name'] or '(no name)'}"]
    ids = _identifiers(ent, ("uscc", "reg_no", "id_number", "phone"))
    if ent.get("is_branch"):
        ids.append("a branch (分公司), distinct from its parent")
    if ids:
        lines.append("  " + "; ".join(ids))
    members = res.assignments.filter(pl.col("entity_id") == entity_id)
    ms = res.mentions.join(members.select("mention_id", "confidence"), on="mention_id").sort("seq")
    lines.append(f"  {ms.height} mention(s), model {res.model_version}:")
    for row in ms.head(limit).iter_rows(named=True):
        lines.append(f"    {_describe_mention(row)}  (confidence {row['confidence']:.3f})")
    if ms.height > limit:
        lines.append(f"    ... and {ms.height - limit} more")
    ev = res.evidence
    inside = ev.filter((pl.col("left_entity") == entity_id) & (pl.col("right_entity") == entity_id))
    ident = inside.filter(pl.col("weight").is_null())
    if ident.height:
        lines.append("  joined without scoring:")
        for rule, n in ident.group_by("rule").len().sort("rule").iter_rows():
            lines.append(f"    {n} mention(s): {IDENTITY_RULES.get(rule, rule)}")
    scored = inside.filter(pl.col("weight").is_not_null()).sort("score", descending=True)
    if scored.height:
        lines.append("  scored links (Fellegi-Sunter match probability; weights in bits):")
        for row in scored.head(limit).iter_rows(named=True):
            lines.append(f"    {row['left']} ~ {row['right']}: p={row['score']:.4f} ({row['weight']:+.2f} bits), "
                         f"{_BAND_TEXT.get(row['band'], row['band'])}, model {row['model_version']}")
            lines.extend(_field_lines(row, type_))
    apart = ev.filter(
        ((pl.col("left_entity") == entity_id) | (pl.col("right_entity") == entity_id))
        & (pl.col("left_entity") != pl.col("right_entity"))
    ).sort("score", descending=True)
    if apart.height:
        docs = {r.name: _first_line(r.doc) for r in rules_for(type_)}
        jud = res.judgements
        lines.append("  kept apart from:")
        for row in apart.head(limit).iter_rows(named=True):
            other = row["right_entity"] if row["left_entity"] == entity_id else row["left_entity"]
            name = res.entities.filter(pl.col("entity_id") == other)["name"]
            lines.append(f"    {other} {name[0] if name.len() else ''}: p={row['score']:.4f}, "
                         f"{_BAND_TEXT.get(row['band'], row['band'])}")
            for r in (row["rule"] or "").split(","):
                if r in docs:
                    lines.append(f"      rule {r}: {docs[r]}")
            if row["band"] == "judged_no_match" and jud.height:
                j = jud.filter(((pl.col("left") == row["left"]) & (pl.col("right") == row["right"]))
                               | ((pl.col("left") == row["right"]) & (pl.col("right") == row["left"])))
                for jr in j.iter_rows(named=True):
                    lines.append(f"      judged by {jr['who']} at {jr['when']}: {jr['why']}")
            lines.extend(_field_lines(row, type_))
    judged = res.judgements.filter(pl.col("left_entity").eq(entity_id) | pl.col("right_entity").eq(entity_id)) \
        if res.judgements.height else res.judgements
    if judged.height:
        lines.append("  judgements:")
        for jr in judged.iter_rows(named=True):
            lines.append(f"    {jr['decision']} {jr['left']} / {jr['right']} by {jr['who']} at {jr['when']}: {jr['why']}")
    return lines
