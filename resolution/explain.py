"""Explanations: why mentions were put together in one entity, or kept apart.

``explain(resolution, key)`` accepts an entity id, a record id or a mention id and
returns text: the entity, its members (where each came from), every link that joined
them with its score, per-field evidence (the feature's own explanation) and model
version, and the pairs that were kept apart with the rule that kept them apart.
ID numbers and phone numbers are masked.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from credgraph.identifiers import mask_id, mask_phone
from credgraph.resolution.errors import ResolutionError
from credgraph.resolution.features import comparisons_for, rules_for

__all__ = ["explain", "explain_pair", "find_entity", "find_mentions", "IDENTITY_RULES", "LINK_RULES"]

IDENTITY_RULES = {
    "identifier": "the same registration identifier (USCC, or the organisation code / registration number "
                  "linked to it) or the same full ID number",
    "identical": "identical in every compared field after normalisation",
    "previous_run": "already one entity in the previous run (incremental run keeps it)",
    "judgement": "a person judged them a match",
}

#: Decisions taken after the pairwise model, named in a pair's rule column.
LINK_RULES = {
    "rare_name": "a person listed by name only at a firm, joined to the one known person in the data who carries "
                 "this name, which is rare by its surname and given name (p = the odds that a name-only "
                 "person is a known one, over the number of known persons expected to carry the name)",
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
            link_rules = [r for r in (row["rule"] or "").split(",") if r in LINK_RULES]
            lines.extend(f"      rule {r}: {LINK_RULES[r]}" for r in link_rules)
            fields = _field_lines(row, type_)
            if link_rules and fields:  # p and the bits above are the rule's, not the sum of these fields
                total = sum(float(row.get(f"weight_{c.name}") or 0.0) for c in comparisons_for(type_))
                lines.append(f"      the pair model's own view, for reference ({total:+.2f} bits before the prior; "
                             "the link stands on the rule above, not on these fields):")
            lines.extend(fields)
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


# ------------------------------------------------------------------------- any pair
def find_mentions(resolution, key: str) -> list[str]:
    """Mention ids that ``key`` names: a mention id, a record id (its subject, else its object), an
    entity id (all its mentions), or ``CATALOG:user-id`` (the record the user knows by that id)."""
    a = resolution.assignments
    if a.filter(pl.col("mention_id") == key).height:
        return [key]
    hit = a.filter(pl.col("record_id") == key).sort("role", descending=True)
    if hit.height:
        return hit["mention_id"].to_list()[:1]
    hit = a.filter(pl.col("entity_id") == key)
    if hit.height:
        return hit["mention_id"].to_list()
    m = resolution.mentions
    if ":" in key and "user_id" in m.columns:
        catalog, uid = key.split(":", 1)
        hit = m.filter((pl.col("catalog") == catalog) & (pl.col("user_id") == uid)).sort("role", descending=True)
        if hit.height:
            return hit["mention_id"].to_list()[:1]
    raise ResolutionError(f"{key!r} is neither a mention id, a record id, an entity id nor CATALOG:user-id "
                          "of this resolution")


def _short(doc: str) -> str:
    """The first sentence of a feature's explanation (the levels are shown beside it)."""
    first = _first_line(doc)
    return first.split(". ")[0].split(" Levels:")[0].rstrip(".")


#: Pairs of mentions compared at most when two entities are explained (the best pair is shown).
_PAIR_CAP = 2_000


def explain_pair(resolution, key_a: str, key_b: str) -> str:
    """Why two mentions (or entities, records, ``CATALOG:user-id``) are or are not one entity: each
    compared field with its level and weight in bits as a running total (a waterfall), the hard rules
    that hold, whether the resolver ever compared them (a shared blocking key), and what it decided.
    Entities are represented by their closest pair of mentions. Works also for pairs never blocked
    together: they are compared here with the run's model."""
    from credgraph.resolution.engine import _key_exprs
    from credgraph.resolution.matching import _TypeIndex, _entity_mentions

    ma, mb = find_mentions(resolution, key_a), find_mentions(resolution, key_b)
    a = resolution.assignments
    types = dict(a.filter(pl.col("mention_id").is_in(ma + mb)).select("mention_id", "type").iter_rows())
    ta, tb = {types[x] for x in ma}, {types[x] for x in mb}
    if ta != tb or len(ta) != 1:
        raise ResolutionError(f"{key_a} is a {'/'.join(sorted(ta))} person and {key_b} a {'/'.join(sorted(tb))} "
                              "person: a legal and a natural person are never one entity")
    type_ = ta.pop()
    model = resolution.model.types.get(type_)
    if model is None:
        raise ResolutionError(f"the resolution has no model for {type_} persons")
    feats = _entity_mentions(resolution, mention_ids=ma + mb)
    fa = feats.filter(pl.col("mention_id").is_in(ma)).head(50)
    fb = feats.filter(pl.col("mention_id").is_in(mb)).head(_PAIR_CAP // 50)
    ix = _TypeIndex(type_, fb.with_columns(pl.col("mention_id").alias("entity_id")), model, 1)
    q = fa.with_row_index("qidx").with_columns(pl.col("qidx").cast(pl.Int64))
    pairs = pl.DataFrame({"qidx": np.repeat(np.arange(fa.height), ix.profiles.height),
                          "pidx": np.tile(np.arange(ix.profiles.height), fa.height)})
    # Profiles of an entity whose mentions are identical collapse: map each profile back to one mention.
    scored = ix.score(q, pairs).with_columns(pl.Series("_l", fa["mention_id"].to_numpy()[pairs["qidx"].to_numpy()]))
    if scored.filter(pl.col("_l") != pl.col("entity_id")).height:  # a mention is not compared with itself
        scored = scored.filter(pl.col("_l") != pl.col("entity_id"))
    scored = scored.sort("weight", descending=True)
    best = scored.row(0, named=True)
    left = fa["mention_id"][best["qidx"]]
    right = best["entity_id"]
    ent = dict(a.filter(pl.col("mention_id").is_in([left, right])).select("mention_id", "entity_id").iter_rows())
    lines = [f"{key_a} ~ {key_b} ({type_} persons)"]
    if len(ma) * len(mb) > 1:
        lines.append(f"  closest of {fa.height} × {fb.height} mention pairs: {left} ~ {right}")
    if left == right:
        lines.append("  the same mention on both sides")
    lines.append(f"  now: {'one entity ' + ent[left] if ent[left] == ent[right] else 'two entities ' + ent[left] + ' and ' + ent[right]}")
    total = model.prior_weight
    lines.append(f"  {'prior (share of matches among candidates)':<46} {total:+7.2f} bits   running {total:+7.2f}")
    for k, c in enumerate(ix.comparisons):
        lv = int(best[f"lv_{k}"])
        w = float(best[f"w_{k}"])
        total += w
        label = "missing on one side (no evidence)" if lv < 0 else c.levels[lv]
        lines.append(f"  {c.name:<12} {label:<33} {w:+7.2f} bits   running {total:+7.2f}   — {_short(c.doc)}")
    prob = 1.0 / (1.0 + 2.0 ** (-max(min(total, 60.0), -60.0)))
    lines.append(f"  total {total:+.2f} bits: match probability {prob:.4f}")
    docs = {r.name: (r.effect, _first_line(r.doc)) for r in rules_for(type_)}
    for r in (best["rules"] or "").split(","):
        if r in docs:
            lines.append(f"  rule {r} ({docs[r][0]}): {docs[r][1]}")
    # Were they ever compared? Blocking keys of the resolver (not a look-up's extra keys).
    keys = pl.concat([fa.filter(pl.col("mention_id") == left), fb.filter(pl.col("mention_id") == right)]).select(
        pl.col("mention_id"), pl.concat_list(_key_exprs(type_)).alias("k")).explode("k").drop_nulls()
    shared = keys.group_by("k").agg(pl.col("mention_id").n_unique().alias("n")).filter(pl.col("n") == 2)
    ev = resolution.evidence.filter(((pl.col("left") == left) & (pl.col("right") == right))
                                    | ((pl.col("left") == right) & (pl.col("right") == left)))
    if left == right:
        pass
    elif shared.height == 0:
        lines.append("  never blocked together: they share no blocking key, so the resolver did not compare them")
    else:
        tags = sorted({k.split("\x1f")[0] for k in shared["k"].to_list()})
        lines.append(f"  blocked together on key(s) {', '.join(tags)} (unless the block was over the size cap)")
    ident = resolution.evidence.filter(pl.col("weight").is_null() & pl.col("right").is_in([left, right])
                                       & pl.col("left").is_in([left, right]))
    for row in ident.iter_rows(named=True):
        lines.append(f"  joined without scoring: {IDENTITY_RULES.get(row['rule'], row['rule'])}")
    ev = ev.filter(pl.col("weight").is_not_null())
    for row in ev.iter_rows(named=True):
        lines.append(f"  the resolver's decision: {_BAND_TEXT.get(row['band'], row['band'])} "
                     f"(p={row['score']:.4f}, rule {row['rule']}, run {row['run']})")
        lines.extend(f"    rule {r}: {LINK_RULES[r]}" for r in (row["rule"] or "").split(",") if r in LINK_RULES)
    return "\n".join(lines) + "\n"
