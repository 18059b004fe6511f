"""Resolution of the mentions of one subject type: groups, profiles, blocking, scoring, clustering.

1. **Groups.** Mentions that carry the same strong identifier (a USCC, or the organisation
   code or registration number linked to it; a full ID number), that are identical in every
   compared field, that a previous run put in one entity (incremental runs), or that a person
   judged to match, form a group without scoring.
2. **Profiles.** Distinct combinations of the compared fields; pairs are scored once per
   pair of profiles, not per pair of mentions.
3. **Blocking.** Several keys per profile (core name, its pinyin, its sorted characters, the core
   with one brand character deleted, address + phone, address, phone; for persons the name or its
   pinyin with birth date, visible ID digits, phone, address or company, and the visible ID digits
   alone). Blocks are counted in groups and capped at ``max_block_size``; each group sends at
   most a few profiles into a block; two groups that both hold a strong identifier are never
   paired (their identifiers differ, so they cannot merge).
4. **Scoring** by the Fellegi-Sunter model (:mod:`.model`) and hard rules (:mod:`.features`).
5. **Clustering** of groups from auto-merge links under constraints (:mod:`.cluster`).
6. **Rare names** (persons): a person listed by name only at a firm joins the one known person
   carrying a rare name (:mod:`.rarename`), and the groups are clustered again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from credgraph.resolution.cluster import components, constrained_clusters
from credgraph.resolution.features import Pairs, Profiles, comparisons_for, encode_profiles, rules_for
from credgraph.resolution.model import (IDENTIFIER_U_PRIOR_COLLISIONS, MODEL_PRIOR_PAIRS, TypeModel, estimate_u,
                                        fit_type_model, score, value_collisions)
from credgraph.resolution.rarename import rare_name_links

__all__ = ["TypeResult", "resolve_type", "PROFILE_COLUMNS", "BAND_ORDER"]

PROFILE_COLUMNS = {
    "legal": ["core", "region", "brand", "industry", "form", "branch", "name_py", "name_sorted",
              "addr_text", "addr_key", "addr_district", "addr_road", "addr_number", "addr_latin", "phone_n", "uscc_v",
              "org_v",
              "reg_v"],
    "natural": ["core", "name_py", "name_sorted", "name_tok", "name_phon", "id_full", "id_masked", "id_unchecked",
                "id_prefix",
                "id_suffix", "birth", "ident", "email_n", "addr_text", "addr_key", "addr_district", "addr_road",
                "addr_number", "addr_latin", "postcode", "phone_n", "company", "name_gen"],
}
#: A company named in Latin script also carries its word keys (``name_tok``; empty for a Chinese name).
PROFILE_COLUMNS["legal"].append("name_tok")

#: Pair bands, from the strongest link to the weakest.
BAND_ORDER = ("merge", "review", "kept_apart", "related", "constraint", "judged_no_match", "reject")

#: Profiles a group may send into one block (a big entity must not fill a block by itself).
PER_GROUP_IN_BLOCK = 3
#: Random profile pairs drawn for the u prior, and same-identifier profile pairs drawn as known matches.
RANDOM_PAIRS = 200_000
SILVER_PAIRS = 300_000
#: Look-alike pairs with different identifiers drawn as known non-matches (for u).
LOOKALIKE_PAIRS = 300_000
#: Hard rules that say "two different identifiers": their pairs are known non-matches for the model.
_IDENTIFIER_RULES = ("different_identifier", "id_conflict")
_SEP = "\x1f"


@dataclass
class TypeResult:
    """What resolving one subject type produced (cluster labels are local to the type)."""

    type: str
    mentions: pl.DataFrame  # mention_id, group, cluster, confidence, rule (how the mention joined its group)
    pairs: pl.DataFrame  # scored profile pairs worth keeping as evidence
    identity: pl.DataFrame  # mention_id, root (mention id), rule: joins without scoring
    model: TypeModel
    candidates: pl.DataFrame  # group_l, group_r of every candidate pair (for blocking recall)
    stats: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- groups
def _legal_anchor(m: pl.DataFrame) -> pl.Series:
    """The identifier a legal mention is grouped on: its USCC, else the USCC its org code or reg no links to."""
    both = m.filter((pl.col("reg_v") != "") & (pl.col("org_v") != ""))
    reg_map = (both.group_by("reg_v").agg(pl.col("org_v").n_unique().alias("n"), pl.col("org_v").first())
               .filter(pl.col("n") == 1).drop("n").rename({"org_v": "_reg_org"}))
    org_map = (m.filter(pl.col("uscc_v") != "").group_by("org_v")
               .agg(pl.col("uscc_v").n_unique().alias("n"), pl.col("uscc_v").first())
               .filter(pl.col("n") == 1).drop("n").rename({"org_v": "_org", "uscc_v": "_org_uscc"}))
    x = m.select("uscc_v", "org_v", "reg_v").join(reg_map, on="reg_v", how="left", maintain_order="left")
    x = x.with_columns(
        pl.when(pl.col("org_v") != "").then(pl.col("org_v")).otherwise(pl.col("_reg_org").fill_null("")).alias("_org")
    ).join(org_map, on="_org", how="left", maintain_order="left")
    return x.select(
        pl.when(pl.col("uscc_v") != "").then(pl.col("uscc_v"))
        .when(pl.col("_org_uscc").is_not_null()).then(pl.col("_org_uscc"))
        .when(pl.col("_org") != "").then("O:" + pl.col("_org"))
        .when(pl.col("reg_v") != "").then("R:" + pl.col("reg_v"))
        .otherwise(pl.lit("")).alias("anchor")
    )["anchor"]


def _star(keys: pl.Series, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Edges (i, first index with the same key) for the valid, non-empty keys."""
    frame = pl.DataFrame({"k": keys, "i": np.arange(len(keys))}).filter(
        pl.Series(valid) & (pl.col("k") != "") & pl.col("k").is_not_null()
    )
    frame = frame.with_columns(pl.col("i").first().over("k").alias("root")).filter(pl.col("i") != pl.col("root"))
    return frame["i"].to_numpy(), frame["root"].to_numpy()


def _groups(m: pl.DataFrame, anchor: pl.Series, pkey: pl.Series, detached: np.ndarray,
            match_pairs: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, pl.DataFrame]:
    n = m.height
    ok = ~detached
    parts, rules = [], []
    for keys, rule, valid in (
        (anchor, "identifier", ok),
        (pkey, "identical", np.ones(n, dtype=bool)),
        (m["prev_entity"].fill_null(""), "previous_run", ok),
    ):
        a, b = _star(keys, valid)
        parts.append((a, b))
        rules.append(np.full(len(a), rule, dtype=object))
    ja, jb = match_pairs
    parts.append((ja, jb))
    rules.append(np.full(len(ja), "judgement", dtype=object))
    ea = np.concatenate([p[0] for p in parts]).astype(np.int64)
    eb = np.concatenate([p[1] for p in parts]).astype(np.int64)
    group = components(n, ea, eb)
    ids = m["mention_id"].to_numpy()
    identity = pl.DataFrame({
        "mention_id": ids[ea] if len(ea) else np.array([], dtype=object),
        "root": ids[eb] if len(eb) else np.array([], dtype=object),
        "rule": np.concatenate(rules) if rules else np.array([], dtype=object),
    }, schema={"mention_id": pl.Utf8, "root": pl.Utf8, "rule": pl.Utf8})
    return group, identity


# ------------------------------------------------------------------------- blocking
def _deletions(max_len: int = 6, min_len: int = 3) -> list[pl.Expr]:
    """The core with one brand character deleted, for brands of ``min_len``+ characters (a typo the
    pinyin and sorted-character keys miss: 鑫源达贸易 / 鑫原达贸易 share 鑫达贸易). A look-up also uses
    two-character brands (海科 / 凯科), with the branch part, since it pairs one query with few firms."""
    brand, industry = pl.col("brand"), pl.col("industry")
    n = brand.str.len_chars()
    if min_len >= 3:
        return [
            pl.when((n >= 3) & (n > i)).then(pl.lit(f"d{_SEP}") + brand.str.slice(0, i) + brand.str.slice(i + 1)
                                             + industry)
            for i in range(max_len)
        ]
    return [
        pl.when((n == 2) & (industry != "")).then(pl.concat_str(
            [pl.lit("d2"), brand.str.slice(1 - i, 1), industry, pl.col("branch")], separator=_SEP))
        for i in range(2)
    ]


def _latin_words() -> pl.Expr:
    """A company named in Latin script: one key per word of its name (the sound of each word of three
    letters or more, ``name_tok``; empty for Chinese names), so Universal Export Corporation meets
    Universal Exports Worldwide and Univrsl Export Inc. A common word's block is capped like any other."""
    # Never a null list (concat_list would drop every key of the row with it): an empty word gives a null key.
    return pl.col("name_tok").fill_null("").str.split(" ").list.eval(
        pl.when(pl.element() != "").then(pl.lit(f"lw{_SEP}") + pl.element()))


def _ident_parts(n: int = 3) -> list[pl.Expr]:
    """Each of the first ``n`` typed identifiers' scheme with the first, and with the last, four
    characters of its value: two keys that still meet when a typo hit the other half. Every
    identifier gets them (not only the first), so a record with a passport and a licence meets a
    record with only the passport."""
    out = []
    for i in range(n):
        one = pl.col("ident").str.split("|").list.get(i, null_on_oob=True)
        scheme = one.str.extract(r"^([^:]+):", 1)
        value = one.str.extract(r":(.+)$", 1)
        ok = (pl.col("ident") != "") & (value.str.len_chars() >= 6)
        out += [pl.when(ok).then(pl.concat_str([pl.lit("i1"), scheme, value.str.slice(0, 4)], separator=_SEP)),
                pl.when(ok).then(pl.concat_str([pl.lit("i2"), scheme, value.str.slice(-4)], separator=_SEP))]
    return out


#: Windows of an 18-character ID number, each blanked in turn by :func:`_id_windows`: every pair of
#: adjacent positions lies inside one window, so one typo (a substitution or two swapped neighbours)
#: leaves at least one key whole.
_ID_WINDOWS = ((0, 6), (5, 11), (10, 16), (12, 18))


def _id_windows() -> list[pl.Expr]:
    """An ID number that failed its check (``id_unchecked``) and every full ID, each with one window of
    digits blanked: a typo'd number meets the valid number it came from in at least one block."""
    idk = pl.when(pl.col("id_full") != "").then(pl.col("id_full")).otherwise(pl.col("id_unchecked"))
    ok = idk.str.len_chars() == 18
    return [pl.when(ok).then(pl.concat_str([pl.lit(f"iw{a}"), idk.str.slice(0, a), idk.str.slice(b)],
                                           separator=_SEP))
            for a, b in _ID_WINDOWS]


def _initials_year() -> pl.Expr:
    """Initials of the name's tokens (sorted) with the birth year: finds a name with typos in every token."""
    init = pl.col("name_tok").str.split(" ").list.eval(pl.element().str.slice(0, 1)).list.join("")
    return pl.when((pl.col("name_tok") != "") & (pl.col("birth") != "")).then(
        pl.concat_str([pl.lit("iy"), init, pl.col("birth").str.slice(0, 4)], separator=_SEP))


def _door_key() -> pl.Expr:
    """The door of a Latin-script address (house number + street name, whatever the street type, unit
    or building: Adventura Apartments 638 Downey St / 638 Downey Street), capped like every key.

    Measured and left out (Febrl3/4, Senzing's truth set): the family name's sound with the first
    initial or with the birth year brought many namesakes of one family name into the candidates, and
    the unsupervised model then learnt a "match" class of same-surname pairs (Febrl4 precision 0.998 ->
    0.984); the postcode with the first initial found no pair the other keys miss and cost time."""
    door = (pl.col("addr_latin") != "") & (pl.col("addr_number") != "") & (pl.col("addr_road") != "")
    return pl.when(door).then(pl.concat_str([pl.lit("ak"), pl.col("addr_key")], separator=_SEP))


def _key_exprs(type_: str, matching: bool = False) -> list[pl.Expr]:
    """Blocking keys of a type. ``matching``: also the keys a query by name alone needs (the
    resolver never pairs persons on a name alone; a look-up may list them as candidates)."""
    def k(tag: str, *cols: str) -> pl.Expr:
        cond = pl.all_horizontal([pl.col(c) != "" for c in cols])
        return pl.when(cond).then(pl.concat_str([pl.lit(tag), *[pl.col(c) for c in cols]], separator=_SEP))

    if type_ == "legal":
        return [
            k("c", "core"), k("p", "name_py"), k("s", "name_sorted"),
            k("ap", "addr_key", "phone_n"), k("a", "addr_key"), k("t", "phone_n"),
            _latin_words(),
            *_deletions(),
            *(_deletions(min_len=2) if matching else []),
        ]
    return [
        k("nb", "core", "birth"), k("np", "core", "id_prefix"), k("ns", "core", "id_suffix"),
        k("nt", "core", "phone_n"), k("na", "core", "addr_key"), k("nc", "core", "company"),
        k("pc", "name_py", "company"), k("pb", "name_py", "birth"), k("ps", "name_py", "id_suffix"),
        k("sc", "name_sorted", "company"), k("sb", "name_sorted", "birth"),
        k("id", "id_prefix", "id_suffix"), *_id_windows(),
        # Fuzzy persons: keys that do not need identical names.
        k("tb", "name_tok", "birth"), k("fb", "name_phon", "birth"), k("fp", "name_phon", "postcode"),
        k("b", "birth"), _initials_year(), k("ie", "ident"), *_ident_parts(), k("em", "email_n"),
        k("bp", "birth", "postcode"),
        # A nickname or a name in another order with one contact detail (Bob Smith / Robert Smith, one phone).
        k("tt", "name_tok", "phone_n"), k("te", "name_tok", "email_n"), k("ta", "name_tok", "addr_key"),
        # The same sound with one contact detail: a name written in another alphabet (Александр Васильев /
        # Alexander Vasiliev) or spelled another way.
        k("ft", "name_phon", "phone_n"), k("fa", "name_phon", "addr_key"),
        # A name in another order or script at the same company.
        k("tc", "name_tok", "company"), k("fc", "name_phon", "company"),
        _door_key(),
        *([k("c", "core"), k("t", "name_tok"), k("f", "name_phon")] if matching else []),
    ]


def _candidates(prof: pl.DataFrame, type_: str, cap: int, incremental: bool,
                seed: int = 0) -> tuple[pl.DataFrame, pl.DataFrame, dict]:
    """Candidate profile pairs from the blocking keys, and look-alike pairs that are known non-matches.

    A group is *closed* when it holds a strong identifier (a USCC, an organisation code, a full
    ID number): two closed groups always differ in it, so they are never compared; every pair
    has an open side. Blocks are counted in groups and dropped above ``cap``.

    The look-alikes: pairs of closed members drawn uniformly from the blocks that have an open
    member — entities the blocking finds alike and the identifiers tell apart, which is what a
    non-matching candidate looks like (the model's u).
    """
    exprs = _key_exprs(type_)
    # Keys are hashed to 64 bits: grouping on integers is much cheaper than on strings.
    keys = prof.select(
        "profile", "group", "new", "count", "closed", pl.concat_list([e for e in exprs]).alias("key")
    ).explode("key").filter(pl.col("key").is_not_null()).with_columns(pl.col("key").hash(seed=7))
    # A block's size counts groups, which the per-group limit below never changes: the keys of one
    # group only (most of them: a name with a birth date, ...) are dropped before the costlier steps.
    sizes = keys.group_by("key").agg(pl.col("group").n_unique().alias("size"))
    largest = int(sizes["size"].max() or 0)
    keys = keys.join(sizes.filter(pl.col("size") >= 2), on="key")
    # Each group sends at most a few profiles (its most frequent ones) into a block.
    keys = (keys.sort(["count", "profile"], descending=[True, False])
            .group_by(["key", "group"], maintain_order=True).head(PER_GROUP_IN_BLOCK))
    per_key = keys.group_by("key").agg((~pl.col("closed")).sum().alias("n_open"), pl.col("new").any().alias("touched"))
    keys = keys.join(per_key, on="key")
    n_blocks = keys["key"].n_unique()
    over = keys.filter(pl.col("size") > cap)
    stats = {"blocks": int(n_blocks), "blocks_over_cap": int(over["key"].n_unique()),
             "mentions_in_dropped_blocks": int(over.select(pl.col("count").sum()).item() or 0),
             "largest_block": largest}
    keys = keys.filter(pl.col("size") <= cap)
    if incremental:  # score only the blocks a new profile touches
        keys = keys.filter(pl.col("touched"))
    k = keys.select("key", "profile", "group", "new", "closed", "n_open")
    opened = k.filter(~pl.col("closed"))
    pairs = opened.join(k.drop("n_open"), on="key", suffix="_r").filter(pl.col("group") != pl.col("group_r"))
    if incremental:
        pairs = pairs.filter(pl.col("new") | pl.col("new_r"))
    pairs = pairs.select(
        pl.min_horizontal("profile", "profile_r").alias("l"), pl.max_horizontal("profile", "profile_r").alias("r")
    ).unique()
    stats["candidate_pairs"] = pairs.height
    look = _lookalikes(k.filter(pl.col("closed") & (pl.col("n_open") > 0)), LOOKALIKE_PAIRS, seed)
    return pairs.sort(["l", "r"]), look, stats


def _lookalikes(closed: pl.DataFrame, n_pairs: int, seed: int) -> pl.DataFrame:
    """Up to ``n_pairs`` pairs of members of different groups, uniform over all such pairs in the blocks."""
    empty = pl.DataFrame(schema={"l": pl.Int64, "r": pl.Int64})
    if closed.height < 2:
        return empty
    c = closed.sort("key")
    sizes = c.group_by("key", maintain_order=True).len()
    n = sizes["len"].to_numpy().astype(np.int64)
    start = np.concatenate([[0], np.cumsum(n)[:-1]])
    w = n * (n - 1) / 2.0
    if w.sum() == 0:
        return empty
    rng = np.random.default_rng(seed)
    draws = int(min(n_pairs * 1.2 + 10, w.sum() * 2))
    b = rng.choice(len(n), size=draws, p=w / w.sum())
    i = rng.integers(0, n[b])
    j = (i + rng.integers(1, np.maximum(n[b], 2))) % n[b]  # a different member of the same block
    prof, grp = c["profile"].to_numpy(), c["group"].to_numpy()
    a, bb = start[b] + i, start[b] + j
    keep = grp[a] != grp[bb]
    out = pl.DataFrame({"l": prof[a][keep], "r": prof[bb][keep]}).unique().head(n_pairs)
    return out.cast(pl.Int64)


# --------------------------------------------------------------------------- engine
def _ambiguous(gl: np.ndarray, gr: np.ndarray, weight: np.ndarray, merge: np.ndarray, closed: np.ndarray,
               margin: float) -> np.ndarray:
    """Auto-merge links of an open group towards two or more closed groups (which hold different
    identifiers, so at most one can be right) whose weights lie within ``margin`` bits of the best:
    the mention is ambiguous and goes to review."""
    out = np.zeros(len(gl), dtype=bool)
    idx = np.flatnonzero(merge & (closed[gl] != closed[gr]))
    if not len(idx):
        return out
    open_side = np.where(closed[gl[idx]], gr[idx], gl[idx])
    other = np.where(closed[gl[idx]], gl[idx], gr[idx])
    f = pl.DataFrame({"e": idx, "g": open_side, "h": other, "w": weight[idx]})
    f = f.with_columns(pl.col("w").max().over("g").alias("best"))
    near = f.filter(pl.col("w") >= pl.col("best") - margin)
    amb = near.group_by("g").agg(pl.col("h").n_unique().alias("n")).filter(pl.col("n") >= 2)
    hit = near.join(amb.select("g"), on="g")["e"].to_numpy()
    out[hit] = True
    return out


def _gamma(pairs: Pairs, comparisons) -> np.ndarray:
    """Level codes of every comparison for every pair (pairs × comparisons)."""
    if not len(pairs):
        return np.zeros((0, len(comparisons)), np.int8)
    return np.stack([c(pairs) for c in comparisons], axis=1)


def _silver_pairs(profiles: Profiles, profile_of: np.ndarray, anchor: np.ndarray, n_pairs: int, seed: int) -> Pairs:
    """Known matches showing the noise: pairs of *mentions* that share an identifier (USCC, full ID).

    Each mention of an identified group is paired with another mention of the group at random,
    so the pairs are distributed like pairs of mentions (two mentions of one company often
    agree in everything), not like pairs of distinct profiles (which by definition differ).
    """
    frame = pl.DataFrame({"a": anchor, "p": profile_of}, schema={"a": pl.Utf8, "p": pl.Int64})
    frame = frame.filter(pl.col("a") != "").sort("a")
    if frame.height < 2:
        return Pairs(profiles, np.zeros(0, np.int64), np.zeros(0, np.int64))
    sizes = frame.group_by("a", maintain_order=True).len()
    n = sizes["len"].to_numpy().astype(np.int64)
    start = np.repeat(np.concatenate([[0], np.cumsum(n)[:-1]]), n)
    size = np.repeat(n, n)
    keep = size >= 2
    if not keep.any():
        return Pairs(profiles, np.zeros(0, np.int64), np.zeros(0, np.int64))
    rng = np.random.default_rng(seed)
    idx = np.flatnonzero(keep)
    if len(idx) > n_pairs:
        idx = np.sort(rng.choice(idx, n_pairs, replace=False))
    offset = idx - start[idx]
    other = start[idx] + (offset + rng.integers(1, size[idx])) % size[idx]
    prof = frame["p"].to_numpy()
    return Pairs(profiles, prof[idx], prof[other])


def _random_gamma(profiles: Profiles, comparisons, n_pairs: int, seed: int) -> np.ndarray:
    """Comparison levels of random pairs of profiles from different groups (for u)."""
    n = profiles.size
    if n < 2:
        return np.zeros((0, len(comparisons)), np.int8)
    rng = np.random.default_rng(seed)
    k = min(n_pairs, n * (n - 1) // 2)
    a = rng.integers(0, n, k)
    b = rng.integers(0, n, k)
    keep = profiles.group[a] != profiles.group[b]
    pairs = Pairs(profiles, a[keep], b[keep])
    if not len(pairs):
        return np.zeros((0, len(comparisons)), np.int8)
    return np.stack([c(pairs) for c in comparisons], axis=1)


@dataclass
class _Setup:
    """What one run of :func:`resolve_type` fixes first: the mentions' pre-groups and profiles."""

    type: str
    ids: pl.Series
    anchor: pl.Series
    detached: np.ndarray
    group: np.ndarray  # pre-group per mention
    identity: pl.DataFrame  # joins without scoring
    n_groups: int
    profiles: Profiles
    pframe: pl.DataFrame
    profile_of: np.ndarray  # profile per mention
    closed_g: np.ndarray  # per pre-group: holds a strong identifier


def _judged(m: pl.DataFrame, judgements: pl.DataFrame, decision: str) -> tuple[np.ndarray, np.ndarray]:
    """Row positions of the mention pairs judged ``decision`` (pairs naming absent mentions are skipped)."""
    if not judgements.height:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    pos = {mid: i for i, mid in enumerate(m["mention_id"].to_list())}
    j = judgements.filter(pl.col("decision") == decision)
    pa = [pos.get(x) for x in j["left"].to_list()]
    pb = [pos.get(x) for x in j["right"].to_list()]
    keep = [i for i, (x, y) in enumerate(zip(pa, pb)) if x is not None and y is not None]
    return np.array([pa[i] for i in keep], dtype=np.int64), np.array([pb[i] for i in keep], dtype=np.int64)


def _pre_groups(m: pl.DataFrame, type_: str, anchor: pl.Series, cols: list[str], match_pairs, nomatch_pairs):
    """Step 1. Pre-groups (same identifier, identical fields, previous run, judged match); a no-match
    judgement inside a group detaches its later mention. Returns (group, identity, pkey, detached)."""
    n = m.height
    ids = m["mention_id"]
    if type_ == "natural":
        # A person's name alone is not enough: without an ID or context the mention stays alone.
        context = pl.any_horizontal([pl.col(c) != "" for c in ("id_full", "id_masked", "id_unchecked", "phone_n",
                                                                 "addr_text",
                                                                 "company", "birth", "ident", "email_n")])
        solo = ~m.select(context.alias("x"))["x"].to_numpy()
    else:
        # A firm named in Latin script with nothing but its name stays alone too: one Latin name is carried
        # by unrelated firms in many countries (rule latin_name_alone); a Chinese name is unique in its region.
        latin = pl.col("name_tok") != ""  # the word keys only a Latin-script company name has
        context = pl.any_horizontal([pl.col(c) != "" for c in ("uscc_v", "org_v", "reg_v", "phone_n", "addr_text")])
        solo = m.select((latin & ~context).fill_null(False).alias("x"))["x"].to_numpy()
    detached = np.zeros(n, dtype=bool)
    base = m.select(pl.concat_str([*[pl.col(c) for c in cols], anchor], separator=_SEP).alias("k"))["k"]
    for _ in range(4):
        own = pl.Series(solo | detached)
        pkey = pl.select(pl.when(own).then(ids).otherwise(base).alias("pkey"))["pkey"]
        group, identity = _groups(m, anchor, pkey, detached, match_pairs)
        na, nb = nomatch_pairs
        clash = group[na] == group[nb] if len(na) else np.zeros(0, dtype=bool)
        if not clash.any():
            break
        later = np.maximum(na[clash], nb[clash])
        if detached[later].all():
            break
        detached[later] = True
    return group, identity, pkey, detached


def _make_profiles(m: pl.DataFrame, type_: str, cols: list[str], pkey: pl.Series, group: np.ndarray,
                   anchor: pl.Series, detached: np.ndarray, n_groups: int, workers: int):
    """Step 2. Profiles: the first mention of each distinct key, integer-coded; which pre-groups are
    closed (hold a strong identifier). Returns (profiles, pframe, profile_of, closed_g)."""
    n = m.height
    mp = pl.DataFrame({"pkey": pkey, "i": np.arange(n), "group": group, "new": m["new"].to_numpy()})
    pk = mp.group_by("pkey", maintain_order=True).agg(
        pl.col("i").first(), pl.col("group").first(), pl.col("new").any(), pl.len().alias("count")
    ).with_row_index("profile")
    profile_of = mp.join(pk.select("pkey", "profile"), on="pkey", how="left", maintain_order="left")["profile"].to_numpy()
    first = pk["i"].to_numpy()
    pframe = m[first].select(cols).with_columns(
        pl.Series("profile", np.arange(len(first))), pl.Series("group", pk["group"].to_numpy()),
        pl.Series("new", pk["new"].to_numpy()), pl.Series("count", pk["count"].to_numpy()),
    )
    anchor_of_profile = anchor.to_numpy()[first] if n else np.zeros(0, dtype=object)
    anchor_of_profile = np.where(detached[first], "", anchor_of_profile) if n else anchor_of_profile
    # A group is closed when it holds a strong identifier (not a bare registration number).
    strong = pl.Series(anchor_of_profile, dtype=pl.Utf8)
    strong = ((strong != "") & ~strong.str.starts_with("R:")).to_numpy()
    closed_g = np.zeros(max(n_groups, 1), dtype=bool)
    np.logical_or.at(closed_g, pk["group"].to_numpy(), strong)
    pframe = pframe.with_columns(pl.Series("closed", closed_g[pk["group"].to_numpy()]))
    codes, vocab = encode_profiles(pframe, cols)
    profiles = Profiles(type_, codes, vocab, pk["group"].to_numpy(), pk["new"].to_numpy(),
                        m["mention_id"].to_numpy()[first], pk["count"].to_numpy(), workers)
    return profiles, pframe, profile_of, closed_g


def _with_judged(cand: pl.DataFrame, profile_of: np.ndarray, match_pairs, nomatch_pairs):
    """Step 3b. The candidate pairs plus the judged ones (always compared: labels for the model and
    decisions for clustering). Returns (left, right, label) with label -1 unknown, 1 match, 0 no-match."""
    fixed_extra = []
    for (ja, jb), label in ((match_pairs, 1), (nomatch_pairs, 0)):
        if len(ja):
            pa, pb = profile_of[ja], profile_of[jb]
            lo, hi = np.minimum(pa, pb), np.maximum(pa, pb)
            keep = lo != hi
            fixed_extra.append(pl.DataFrame({"l": lo[keep], "r": hi[keep], "label": np.full(keep.sum(), label)}))
    labelled = (pl.concat(fixed_extra) if fixed_extra
                else pl.DataFrame(schema={"l": pl.Int64, "r": pl.Int64, "label": pl.Int64}))
    labelled = labelled.group_by(["l", "r"]).agg(pl.col("label").min())  # a no-match wins over a match
    allp = pl.concat([cand.select(pl.col("l", "r").cast(pl.Int64)),
                      labelled.select(pl.col("l", "r").cast(pl.Int64))]).unique(maintain_order=True)
    allp = allp.join(labelled.with_columns(pl.col("l", "r").cast(pl.Int64)), on=["l", "r"], how="left",
                     maintain_order="left")
    return allp["l"].to_numpy(), allp["r"].to_numpy(), allp["label"].fill_null(-1).to_numpy()


def _compare(pairs: Pairs, comparisons, rules):
    """Step 4. Comparison levels and hard-rule flags per pair. Returns (gamma, flags, cannot, related, no_auto)."""
    gamma = _gamma(pairs, comparisons)
    flags = {rule.name: (rule(pairs) if len(pairs) else np.zeros(0, bool)) for rule in rules}
    cannot = np.zeros(len(pairs), dtype=bool)
    related = np.zeros(len(pairs), dtype=bool)
    no_auto = np.zeros(len(pairs), dtype=bool)
    for rule in rules:
        if rule.effect == "cannot_link":
            cannot |= flags[rule.name]
        elif rule.effect == "related":
            related |= flags[rule.name]
        else:
            no_auto |= flags[rule.name]
    return gamma, flags, cannot, related, no_auto


def _name_frequency(profiles: Profiles, type_: str, comparisons, closed_g: np.ndarray):
    """Step 5. Term frequency of the name: share of groups carrying it. A company's name is its core with
    its branch part (a parent and its branches share a core, but the branch rule tells them apart).
    Counted over closed groups (registered companies, persons with an ID number): open groups may be
    the same entity not yet linked (a legacy registration number), which must not make a name common.
    Without any closed group (no identifiers at all, as in most data sets not from a registry), all
    count. Returns (tf per code, code per profile, number of groups counted)."""
    tf_col = comparisons[0].tf_column
    tf_codes = profiles.codes[tf_col].astype(np.int64)
    if type_ == "legal":
        tf_codes = tf_codes * (len(profiles.vocab["branch"]) + 1) + profiles.codes["branch"]
    tf_codes = np.unique(tf_codes, return_inverse=True)[1].reshape(-1)
    counted = closed_g if closed_g.any() else np.ones_like(closed_g)
    g_by_code = pl.DataFrame({"c": tf_codes, "g": profiles.group}).filter(
        pl.Series(counted[profiles.group])).unique()
    counts = np.bincount(g_by_code["c"].to_numpy(),
                         minlength=int(tf_codes.max()) + 1 if len(tf_codes) else 1).astype(np.float64)
    n_groups = max(int(counted.sum()), 1)
    return np.maximum(counts, 1.0) / n_groups, tf_codes, n_groups


def _fit(s: _Setup, comparisons, rules, gamma, label, ruled, look, tf, tf_codes, tf_pair, n_groups,
         judgement_weight: float, em_iterations: int, em_anchor: float,
         model_prior_pairs: float = MODEL_PRIOR_PAIRS,
         identifier_u_prior_collisions: float = IDENTIFIER_U_PRIOR_COLLISIONS) -> TypeModel:
    """Step 6. Estimate the model: u from random pairs and look-alikes that identifiers tell apart,
    m from profiles sharing an identifier (or by EM when there are none), λ by EM over the candidates."""
    profiles, n = s.profiles, len(s.ids)
    top = (gamma[:, 0] == len(comparisons[0].levels) - 1) if len(gamma) else np.zeros(0, bool)
    u_prior = estimate_u(comparisons, _random_gamma(profiles, comparisons, RANDOM_PAIRS, seed=n), type_=s.type,
                         collisions=value_collisions(profiles, comparisons),
                         identifier_prior_collisions=identifier_u_prior_collisions)
    # Labels for free: profiles that share an identifier are matches (they show what noise looks
    # like); look-alikes with different identifiers are non-matches (what a near miss looks like).
    use = ~ruled | (label >= 0)
    pos = _silver_pairs(profiles, s.profile_of, np.where(s.detached, "", s.anchor.to_numpy()), SILVER_PAIRS, seed=n)
    gpos = _gamma(pos, comparisons)
    negs = Pairs(profiles, look["l"].to_numpy(), look["r"].to_numpy())
    gneg = _gamma(negs, comparisons)
    keep = np.zeros(len(negs), bool)
    if len(negs):
        nflags = {rule.name: rule(negs) for rule in rules}
        keep = np.logical_or.reduce([nflags[x] for x in _IDENTIFIER_RULES if x in nflags])
        for rule in rules:  # pairs another rule separates say nothing about u of the undecided
            if rule.name not in _IDENTIFIER_RULES and rule.effect != "no_auto":
                keep &= ~nflags[rule.name]
    tm = fit_type_model(
        s.type, comparisons,
        np.concatenate([gamma[use], gpos, gneg[keep]]),
        np.concatenate([label[use], np.ones(len(gpos), np.int64), np.zeros(int(keep.sum()), np.int64)]),
        u_prior,
        np.concatenate([np.where(label >= 0, judgement_weight, 1.0)[use], np.ones(len(gpos) + int(keep.sum()))]),
        em_iterations,
        prior_pairs=model_prior_pairs,
        anchor=em_anchor,
    )
    tm.info["silver_non_matches"] = int(keep.sum())
    tm.info["silver_matches"] = int(len(gpos))
    # u of the top name level was measured on look-alikes: the term-frequency adjustment is
    # relative to their average name frequency (a name rarer than that counts for more).
    top_neg = keep & (gneg[:, 0] == len(comparisons[0].levels) - 1) if len(negs) else np.zeros(0, bool)
    if top_neg.any():
        ref = float(tf[tf_codes[negs.left[top_neg]]].mean())
    elif top.any():
        ref = float(np.exp(np.log(tf_pair[top]).mean()))
    else:
        ref = 1.0 / n_groups
    tm.tf_reference = {comparisons[0].name: ref}
    return tm


def _bands(prob, no_auto, related, cannot, label, review: float, auto_merge: float) -> np.ndarray:
    """Step 7. The band of each pair: merge, review or reject by probability; hard rules and judgements win."""
    band = np.full(len(prob), "reject", dtype=object)
    band[prob >= review] = "review"
    band[(prob >= auto_merge) & ~no_auto] = "merge"
    band[related] = "related"
    band[cannot] = "constraint"
    band[label == 0] = "judged_no_match"
    band[label == 1] = "merge"
    return band


def _cluster(m: pl.DataFrame, s: _Setup, l, r, band, label, match_weight, nomatch_pairs, ambiguity_margin: float,
             stats: dict) -> np.ndarray:
    """Step 8. Ambiguous links go to review; the pre-groups are clustered from the merge links under the
    entities' constraints (refused links become ``kept_apart``). Updates ``band``; returns the cluster
    label per pre-group."""
    type_, group = s.type, s.group
    gl, gr = s.profiles.group[l], s.profiles.group[r]
    ambiguous = _ambiguous(gl, gr, match_weight, (band == "merge") & (label != 1), s.closed_g, ambiguity_margin)
    band[ambiguous] = "review"
    stats["pairs_ambiguous"] = int(ambiguous.sum())
    link_idx = np.flatnonzero(band == "merge")
    stop = np.isin(band, ["constraint", "related", "judged_no_match"])
    attr_cols = ["uscc_v", "org_v", "reg_v", "region"] if type_ == "legal" else ["id_full", "id_masked"]
    attrs = m.select(attr_cols).with_columns(pl.Series("group", group))
    if type_ == "natural":  # a passport number is one person's: two of them are two people; so are a birth date
        # and a generation (Sr / Jr)
        attrs = attrs.with_columns(
            m["ident"].str.extract(r"(?:^|\|)passport:([^|]+)", 1).fill_null("").alias("passport_v"),
            m["birth"].fill_null(""), m["name_gen"].fill_null(""))
    if type_ == "legal":  # a mention without a name says nothing about branches
        attrs = attrs.with_columns(
            pl.when(m["core"] != "").then(m["branch"]).otherwise(None).alias("branch")
        )
    attrs = attrs.unique()
    na, nb = nomatch_pairs
    cla = np.concatenate([gl[stop], group[na]]) if len(na) else gl[stop]
    clb = np.concatenate([gr[stop], group[nb]]) if len(nb) else gr[stop]
    order_key = match_weight[link_idx] + 1e6 * (label[link_idx] == 1)  # judged matches first
    labels_g, refused = constrained_clusters(s.n_groups, gl[link_idx], gr[link_idx], order_key, attrs, cla, clb)
    band[link_idx[refused]] = "kept_apart"
    return labels_g


def _with_rare_names(s: _Setup, comparisons, rules, tm: TypeModel, tf, tf_codes, ref: float, links: pl.DataFrame,
                     auto_merge: float, l, r, label, gamma, flags, band, prob, match_weight, wk):
    """Step 8b. The links of :func:`~credgraph.resolution.rarename.rare_name_links` as scored pairs: a
    pair already compared takes the rare-name decision (unless a person judged it), a new one is
    appended with its field levels. Their probability is the rare-name odds, their band merge (or review
    below ``auto_merge``), their rule ``rare_name``. Returns the extended arrays."""
    pl_ = s.profile_of[links["left"].to_numpy()]
    pr_ = s.profile_of[links["right"].to_numpy()]
    lo, hi = np.minimum(pl_, pr_), np.maximum(pl_, pr_)
    p_new = links["prob"].to_numpy()
    flags = dict(flags)
    flags["rare_name"] = np.zeros(len(l), bool)
    # Which links are among the compared pairs already, and where.
    size = np.int64(max(s.profiles.size, 1))
    have = l.astype(np.int64) * size + r.astype(np.int64)
    want = lo.astype(np.int64) * size + hi.astype(np.int64)
    found, idx = np.zeros(len(want), bool), np.zeros(len(want), np.int64)
    if len(have):
        order = np.argsort(have, kind="stable")
        pos = np.minimum(np.searchsorted(have[order], want), len(have) - 1)
        found, idx = have[order][pos] == want, order[pos]
    for k in np.flatnonzero(found):
        i = idx[k]
        if label[i] < 0 and band[i] not in ("constraint", "related"):
            prob[i] = p_new[k]
            match_weight[i] = np.log2(p_new[k] / max(1.0 - p_new[k], 1e-12))
            band[i] = "merge" if p_new[k] >= auto_merge else "review"
            flags["rare_name"][i] = True
            if "no_strong_context" in flags:
                flags["no_strong_context"][i] = False
    add = np.flatnonzero(~found)
    if not len(add):
        return l, r, label, gamma, flags, band, prob, match_weight, wk
    nl, nr, pn = lo[add], hi[add], p_new[add]
    pairs = Pairs(s.profiles, nl, nr)
    g_new = _gamma(pairs, comparisons)
    tf_adj = {comparisons[0].name: np.log2(ref / np.maximum(tf[tf_codes[nl]], 1e-12))}
    w_new, _ = score(tm, comparisons, g_new, tf_adj)
    for rule in rules:
        flags[rule.name] = np.concatenate([flags[rule.name], rule(pairs) if rule.name != "no_strong_context"
                                           else np.zeros(len(add), bool)])
    flags["rare_name"] = np.concatenate([flags["rare_name"], np.ones(len(add), bool)])
    return (np.concatenate([l, nl]), np.concatenate([r, nr]), np.concatenate([label, np.full(len(add), -1)]),
            np.concatenate([gamma, g_new]), flags,
            np.concatenate([band, np.where(pn >= auto_merge, "merge", "review").astype(object)]),
            np.concatenate([prob, pn]), np.concatenate([match_weight, np.log2(pn / np.maximum(1.0 - pn, 1e-12))]),
            np.concatenate([wk, w_new.astype(wk.dtype)]))


def _confidence(n_groups: int, gl, gr, band, prob, is_review) -> np.ndarray:
    """Step 9. Confidence of a pre-group: its best accepted link (1 for a group alone), lowered by the
    strongest doubt towards another entity."""
    conf_g = np.ones(n_groups)
    accepted = band == "merge"
    if accepted.any():
        best = np.zeros(n_groups)
        np.maximum.at(best, gl[accepted], prob[accepted])
        np.maximum.at(best, gr[accepted], prob[accepted])
        conf_g = np.where(best > 0, best, 1.0)
    doubt = np.zeros(n_groups)
    if is_review.any():
        np.maximum.at(doubt, gl[is_review], prob[is_review])
        np.maximum.at(doubt, gr[is_review], prob[is_review])
    return np.minimum(conf_g, 1.0 - doubt * 0.5)


def _evidence_pairs(profiles: Profiles, comparisons, l, r, gl, gr, cl_l, cl_r, prob, match_weight, band, gamma,
                    wk, flags) -> pl.DataFrame:
    """Step 10. The scored pairs worth keeping as evidence, with their levels and weights per field."""
    keep = np.isin(band, ["merge", "review", "kept_apart", "related", "judged_no_match"]) | (
        (band == "constraint") & (gamma[:, 0] >= 3 if len(l) else np.zeros(0, bool))
    )
    ev = {
        "left": profiles.representative[l[keep]], "right": profiles.representative[r[keep]],
        "left_group": gl[keep], "right_group": gr[keep],
        "left_cluster": cl_l[keep], "right_cluster": cl_r[keep],
        "score": prob[keep], "weight": match_weight[keep],
        "band": band[keep].astype(str),
    }
    pf = pl.DataFrame(ev, schema_overrides={"left": pl.Utf8, "right": pl.Utf8, "band": pl.Utf8})
    pf = pf.with_columns(_rule_text(flags, keep))
    for k, c in enumerate(comparisons):
        pf = pf.with_columns(pl.Series(f"level_{c.name}", gamma[keep, k]), pl.Series(f"weight_{c.name}", wk[keep, k]))
    return pf


def resolve_type(
    m: pl.DataFrame,
    type_: str,
    *,
    auto_merge: float,
    review: float,
    max_block_size: int,
    em_iterations: int,
    em_anchor: float = float("inf"),
    judgement_weight: float,
    model: TypeModel | None,
    judgements: pl.DataFrame,
    incremental: bool,
    workers: int = 1,
    ambiguity_margin: float = 3.0,
    rare_names: bool = True,
    model_prior_pairs: float = MODEL_PRIOR_PAIRS,
    identifier_u_prior_collisions: float = IDENTIFIER_U_PRIOR_COLLISIONS,
) -> TypeResult:
    """Resolve the mentions ``m`` (all of one type) into clusters, in named steps: pre-groups, profiles,
    candidate pairs, comparisons, name frequencies, the model, bands, clusters, confidences, evidence.

    ``m`` needs the mention columns plus ``prev_entity`` (previous run's entity or null),
    ``new`` (not in the previous run) and, for persons, ``company``. ``judgements`` holds
    ``left, right, decision`` with mention ids of this type.
    """
    t0 = time.perf_counter()
    stats: dict = {"mentions": m.height}
    comparisons, rules = comparisons_for(type_), rules_for(type_)
    n = m.height
    match_pairs, nomatch_pairs = _judged(m, judgements, "match"), _judged(m, judgements, "no_match")
    anchor = _legal_anchor(m) if type_ == "legal" else m["id_full"]
    cols = PROFILE_COLUMNS[type_]

    group, identity, pkey, detached = _pre_groups(m, type_, anchor, cols, match_pairs, nomatch_pairs)
    stats["groups"] = n_groups = int(group.max() + 1) if n else 0
    profiles, pframe, profile_of, closed_g = _make_profiles(m, type_, cols, pkey, group, anchor, detached,
                                                            n_groups, workers)
    stats["profiles"] = profiles.size
    s = _Setup(type_, m["mention_id"], anchor, detached, group, identity, n_groups, profiles, pframe, profile_of,
               closed_g)

    cand, look, bstats = _candidates(pframe, type_, max_block_size, incremental, seed=n)
    stats.update(bstats)
    l, r, label = _with_judged(cand, profile_of, match_pairs, nomatch_pairs)
    pairs = Pairs(profiles, l, r)
    stats["time_prepare_s"] = round(time.perf_counter() - t0, 3)

    t1 = time.perf_counter()
    gamma, flags, cannot, related, no_auto = _compare(pairs, comparisons, rules)
    stats["time_compare_s"] = round(time.perf_counter() - t1, 3)

    tf, tf_codes, n_counted = _name_frequency(profiles, type_, comparisons, closed_g)
    tf_pair = tf[tf_codes[l]] if len(l) else np.zeros(0)

    t2 = time.perf_counter()
    # A model saved by an older version may lack a comparison added since: estimate anew, and say so.
    lacking = [c.name for c in comparisons if model is not None and (c.name not in model.m or c.name not in model.u)]
    if lacking:
        stats["model_refit_reason"] = f"the given model lacks comparison(s) {', '.join(lacking)}: estimated anew"
        model = None
    fitted = model is None
    tm = (_fit(s, comparisons, rules, gamma, label, cannot | related, look, tf, tf_codes, tf_pair, n_counted,
               judgement_weight, em_iterations, em_anchor, model_prior_pairs, identifier_u_prior_collisions)
          if fitted else model)
    ref = tm.tf_reference.get(comparisons[0].name, 1.0 / n_counted)
    tf_adj = {comparisons[0].name: np.log2(ref / np.maximum(tf_pair, 1e-12))}
    wk, prob = score(tm, comparisons, gamma, tf_adj) if len(l) else (
        np.zeros((0, len(comparisons)), np.float32), np.zeros(0))
    match_weight = (tm.prior_weight + wk.sum(axis=1, dtype=np.float64)) if len(l) else np.zeros(0)
    stats["time_model_s"] = round(time.perf_counter() - t2, 3)

    band = _bands(prob, no_auto, related, cannot, label, review, auto_merge)
    t3 = time.perf_counter()
    labels_g = _cluster(m, s, l, r, band, label, match_weight, nomatch_pairs, ambiguity_margin, stats)
    if type_ == "natural" and rare_names:  # Step 8b: name-only persons at firms and the one known carrier of a rare name
        links, stats["rare_name"] = rare_name_links(m, labels_g[group] if n else np.zeros(0, np.int64), review)
        if links.height:
            l, r, label, gamma, flags, band, prob, match_weight, wk = _with_rare_names(
                s, comparisons, rules, tm, tf, tf_codes, ref, links, auto_merge,
                l, r, label, gamma, flags, band, prob, match_weight, wk)
            labels_g = _cluster(m, s, l, r, band, label, match_weight, nomatch_pairs, ambiguity_margin, stats)
    cluster = labels_g[group] if n else np.zeros(0, np.int64)
    stats["clusters"] = int(cluster.max() + 1) if n else 0
    stats["time_cluster_s"] = round(time.perf_counter() - t3, 3)
    for b in BAND_ORDER:
        stats[f"pairs_{b}"] = int((band == b).sum())

    # Review: uncertain pairs between different entities.
    gl, gr = profiles.group[l], profiles.group[r]
    cl_l, cl_r = labels_g[gl], labels_g[gr]
    is_review = (band == "review") & (cl_l != cl_r)
    band[(band == "review") & (cl_l == cl_r)] = "merged_by_others"
    conf_g = _confidence(n_groups, gl, gr, band, prob, is_review)

    rule_of = identity.group_by("mention_id").agg(pl.col("rule").first())
    mentions = pl.DataFrame({
        "mention_id": m["mention_id"], "group": group, "cluster": cluster, "confidence": conf_g[group],
        "profile": profile_of,
    }).join(rule_of, on="mention_id", how="left", maintain_order="left")
    pf = _evidence_pairs(profiles, comparisons, l, r, gl, gr, cl_l, cl_r, prob, match_weight, band, gamma, wk, flags)
    cands = pl.DataFrame({"group_l": gl, "group_r": gr}).unique()
    stats["model_fitted"] = fitted
    stats["time_total_s"] = round(time.perf_counter() - t0, 3)
    return TypeResult(type_, mentions, pf, identity, tm, cands, stats)


def _rule_text(flags: dict[str, np.ndarray], keep: np.ndarray) -> pl.Series:
    """Comma-separated names of the hard rules that hold for each kept pair (null when none)."""
    frame = pl.DataFrame({name: f[keep] for name, f in flags.items()})
    if not flags:
        return pl.Series("rule", [None] * int(keep.sum()), dtype=pl.Utf8)
    parts = [pl.when(pl.col(name)).then(pl.lit(name)) for name in flags]
    out = frame.select(pl.concat_str(parts, separator=",", ignore_nulls=True).alias("rule"))["rule"]
    return out.replace("", None)


def compare_mentions(mentions: pl.DataFrame, left: list[int], right: list[int]) -> pl.DataFrame:
    """Compare mention rows pairwise (all of one type): comparison levels and hard rules per pair.

    For explanations and tests: ``mentions`` comes from
    :func:`~credgraph.resolution.mentions.extract_mentions` (persons need a ``company``
    column; it defaults to empty).
    """
    types = mentions["type"].unique().to_list()
    if len(types) != 1:
        raise ValueError(f"compare mentions of one type at a time, got {types}")
    type_ = types[0]
    if "company" not in mentions.columns:
        mentions = mentions.with_columns(pl.lit("").alias("company"))
    cols = PROFILE_COLUMNS[type_]
    codes, vocab = encode_profiles(mentions, cols)
    n = mentions.height
    prof = Profiles(type_, codes, vocab, np.arange(n), np.ones(n, bool), mentions["mention_id"].to_numpy(),
                    np.ones(n, np.int64))
    pairs = Pairs(prof, np.asarray(left), np.asarray(right))
    out = {"left": mentions["mention_id"].to_numpy()[pairs.left], "right": mentions["mention_id"].to_numpy()[pairs.right]}
    for c in comparisons_for(type_):
        lv = c(pairs)
        out[f"level_{c.name}"] = lv
        out[c.name] = np.array(["missing" if x < 0 else c.levels[x] for x in lv], dtype=object)
    for r in rules_for(type_):
        out[r.name] = r(pairs)
    return pl.DataFrame(out)
