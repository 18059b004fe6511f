"""Name-only persons at a firm, joined to the one known person who carries a rare name.

Registers list a firm's officers and shareholders by name only (主要人员: 姓名, 职务). Such a
mention has nothing to compare but its name and its firm, and the person often has no other record
at that firm, so no pair rule can ever merge it: a name alone never merges two people. What the data
does say is *how many people could carry the name*. When exactly one known person (a cluster with an
ID number, a birth date, a phone, an address, ... ) in the whole data set carries it, the name-only
mention is either that person or somebody who appears nowhere else with any identifying field. The
odds between the two are

    odds = ρ / (1 − ρ) / E(name)

- ``ρ``: the share of name-only persons at firms who are known persons somewhere else. Estimated
  from the data: the share of such mentions whose name some known person carries, less the share
  expected by chance (``1 − exp(−E)`` per name), rescaled (a method-of-moments estimate).
- ``E(name)``: how many known persons are expected to carry the name — the number of known persons
  times the share carrying its surname times the share carrying its given name (Chinese names: a
  surname of one character or a 复姓, the rest; other scripts: the share of each token), all counted
  among known persons of the name's script (a Latin given name goes with a Latin family name far more
  often than with 王). A name that is rare by both parts (E ≪ 1) is strong evidence; 张伟 (E ≫ 1)
  is none, even when the data hold one 张伟 only. This is the term-frequency adjustment of
  Fellegi-Sunter tools, with the frequency estimated from the name's parts instead of read from
  one count (one carrier of a name says little about how common the name is).

A link is made when the match probability ``odds / (1 + odds)`` reaches ``auto_merge``; between
``review`` and ``auto_merge`` it goes to review. Only mentions that a record ties to a firm count
(an officer, a shareholder, a representative): the known persons come from the same business
registers, and a name listed with no context at all stays alone, as before.

>>> round(expected_carriers(["王", "伟"], {"王": 120, "伟": 40}, 1000), 3), round(expected_carriers(["欧阳", "靖"], {"欧阳": 1, "靖": 2}, 1000), 4)
(4.8, 0.002)
>>> name_parts("欧阳靖"), name_parts("王伟"), name_parts("JOHN SMITH", "JOHN SMITH")
(['欧阳', '靖'], ['王', '伟'], ['JOHN', 'SMITH'])
"""

from __future__ import annotations

import itertools
import math
import re

import numpy as np
import polars as pl

from credgraph.resolution.features import token_subset
from credgraph.resolution.lexicon import COMPOUND_SURNAMES
from credgraph.resolution.normalise import person_name_tokens, reads_as_pinyin

__all__ = ["CONTEXT_COLUMNS", "MIN_CANDIDATES", "name_parts", "name_keys", "expected_carriers", "rare_name_links"]

#: Fields that make a person mention *known* (anything but a name and a firm).
CONTEXT_COLUMNS = ("id_full", "id_masked", "id_unchecked", "phone_n", "addr_text", "birth", "ident", "email_n")
#: Fewer name-only mentions at firms than this: ρ cannot be estimated, and no link is made.
MIN_CANDIDATES = 30
_HAN = re.compile(r"^[\u3400-\u9fff]{2,4}$")


def name_parts(core: str, tokens: str = "") -> list[str]:
    """The parts whose frequencies make a name's: a Chinese name's surname (one character, or a
    复姓 of two) and given name, prefixed by their role; any other name's tokens (``tokens``, the
    name's normalised tokens, else the name split at spaces)."""
    if _HAN.match(core):
        k = 2 if len(core) >= 3 and core[:2] in COMPOUND_SURNAMES else 1
        return [core[:k], core[k:]]
    return (tokens or core).split()


def expected_carriers(parts: list[str], counts: dict[str, int], n_known: int) -> float:
    """Known persons expected to carry a name made of ``parts``, each part's share counted among the
    ``n_known`` known persons (``counts``: known persons per part), the parts taken as independent."""
    if not parts or n_known <= 0:
        return math.inf
    e = float(n_known)
    for p in parts:
        e *= counts.get(p, 0) / n_known
    return e


def _keyed_parts(core: str, tokens: str) -> list[str]:
    """Parts keyed by their role: 王 the surname and 王 the given name are counted apart. A Latin name's
    initials are no parts (their frequency says little)."""
    if _HAN.match(core):
        parts = name_parts(core, tokens)
        return ["s:" + parts[0], "g:" + parts[1]]
    toks = (tokens or core).split()
    return ["t:" + p for p in toks if len(p) > 1 or reads_as_pinyin(p)]


def _commonest(parts: list[str], counts: dict[str, int]) -> list[str]:
    """A Latin name's two commonest words: a middle name is often left out or shortened, so it is no
    evidence that the name is rare (Jennifer Katherine Campbell counts as Jennifer Campbell)."""
    if not parts or not parts[0].startswith("t:"):
        return parts
    return sorted(parts, key=lambda p: -counts.get(p, 0))[:2]


def name_keys(core: str, tokens: str, known: bool) -> list[str]:
    """The keys a name-only mention and its carriers meet on. A Chinese name: its sound (the pinyin
    syllables, any order), so that a homophone (邹捷 / 邹杰) or a romanised form (Wang Xiaoming) of another
    known person counts as a second carrier — the name-only mention may be a miswritten one of theirs;
    the one carrier must still have the name character for character. A romanised Chinese name is a
    carrier only: it stands for many names in characters, and is never rare enough to go by. A Latin
    name: its whole words (initials left out), and for a known person also every two or more of them, so
    that William Moore and Alexandra C. Evans meet William David Moore and Alexandra Catherine Evans
    (checked by :func:`token_subset`).

    >>> name_keys("邹杰", "jie zou", False), name_keys("WANG XIAOMING", "ming wang xiao", False)
    (['p:jie zou'], [])
    >>> name_keys("WILLIAM DAVID MOORE", "david moore william", True)
    ['l:david moore', 'l:david moore william', 'l:david william', 'l:moore william']
    """
    if _HAN.match(core):
        return ["p:" + tokens] if tokens else ["h:" + core]
    if not tokens:
        return []
    if reads_as_pinyin(tokens):
        return ["p:" + tokens] if known else []
    whole = sorted(t for t in tokens.split() if len(t) > 1)
    if len(whole) < 2:
        return []
    if not known:
        return ["l:" + " ".join(whole)]
    sizes = range(2, len(whole) + 1) if len(whole) <= 5 else [len(whole)]
    return sorted({"l:" + " ".join(c) for k in sizes for c in itertools.combinations(whole, k)})


def rare_name_links(m: pl.DataFrame, cluster: np.ndarray, min_prob: float) -> tuple[pl.DataFrame, dict]:
    """Links from name-only persons at firms to the one known person carrying their (rare) name.

    ``m``: the person mentions (``core``, ``name_tok``, ``company`` and :data:`CONTEXT_COLUMNS`);
    ``cluster``: each mention's cluster after the pairwise step. Returns one row per link —
    ``left`` / ``right`` (row positions of a mention of the name-only cluster and of the known one with
    the same name), ``expected`` (E), ``prob`` — with ``prob >= min_prob``, and the run's figures
    (ρ and the counts it came from).
    """
    empty = pl.DataFrame(schema={"left": pl.Int64, "right": pl.Int64, "expected": pl.Float64, "prob": pl.Float64})
    n = m.height
    if n == 0:
        return empty, {}
    bare = m.select(pl.all_horizontal([pl.col(c).fill_null("") == "" for c in CONTEXT_COLUMNS]).alias("b"))["b"]
    f = pl.DataFrame({"i": np.arange(n, dtype=np.int64), "c": cluster, "core": m["core"].fill_null(""),
                      "tok": m["name_tok"].fill_null(""), "bare": bare,
                      "firm": m["company"].fill_null("") != ""})
    per = f.group_by("c").agg(pl.col("bare").all().alias("all_bare"), pl.col("firm").any().alias("firm"),
                              pl.col("core").filter(pl.col("core") != "").n_unique().alias("names"))
    f = f.join(per, on="c", how="left")
    # Name-only clusters at a firm, with one name.
    cand = f.filter(pl.col("all_bare") & pl.col("firm") & (pl.col("names") == 1) & (pl.col("core") != "")) \
        .unique("c", keep="first").select("c", "core", "tok", "i")
    if cand.height < MIN_CANDIDATES:  # too few to estimate ρ: no link (and no work)
        return empty, {"name_only_at_firms": cand.height, "rho": None}
    known = f.filter(~pl.col("all_bare") & (pl.col("core") != "")).unique(["c", "core"], keep="first")
    # Frequencies of the name parts among known persons (each person counted once per part).
    names = known.select("core", "tok").unique()
    parts_of = {core: _keyed_parts(core, tok) for core, tok in names.iter_rows()}
    kp = known.select("c", "core").with_columns(
        pl.col("core").replace_strict(parts_of, default=[], return_dtype=pl.List(pl.Utf8)).alias("p")
    ).explode("p").drop_nulls("p").select("c", "p").unique()
    counts = dict(kp.group_by("p").len().iter_rows())
    n_known = int(known["c"].n_unique())
    # Parts are counted within their script: a Latin given name goes with a Latin family name far more
    # often than with 王, so a Latin name's expected carriers are counted among persons with Latin names.
    n_script = dict(kp.group_by(pl.col("p").str.slice(0, 1) == "t").agg(pl.col("c").n_unique()).iter_rows())
    nk = names.with_columns(pl.Series("key", [name_keys(c, t, True) for c, t in names.iter_rows()],
                                      dtype=pl.List(pl.Utf8))).explode("key").drop_nulls("key")
    carriers = known.join(nk, on=["core", "tok"]).group_by("key").agg(
        pl.col("c").n_unique().alias("carriers"), pl.col("c").first().alias("k"), pl.col("i").first().alias("right"),
        pl.col("tok").first().alias("carrier_tok"))
    cn = cand.select("core", "tok").unique()
    cn = cn.with_columns(pl.Series("key", [(name_keys(c, t, False) or [None])[0] for c, t in cn.iter_rows()],
                                   dtype=pl.Utf8))
    cand = cand.join(cn, on=["core", "tok"], how="left").filter(pl.col("key").is_not_null())  # linkable ones
    stats = {"name_only_at_firms": cand.height, "known_persons": n_known}
    if cand.height < MIN_CANDIDATES or n_known == 0:
        stats["rho"] = None
        return empty, stats
    cand = cand.join(carriers, on="key", how="left")
    # A Chinese name needs a carrier with these very characters (not only their sound).
    exact = known.select(pl.col("c").alias("k"), "core", pl.lit(True).alias("exact")).unique(["k", "core"])
    han = pl.col("core").str.contains(_HAN.pattern)
    cand = cand.join(exact, on=["k", "core"], how="left").with_columns(
        pl.when(han).then(pl.col("core").is_in(known["core"].unique().implode()))
        .otherwise(pl.col("carriers").is_not_null()).alias("named"),
        pl.col("exact").fill_null(False) | ~han)
    exp_of = {core: expected_carriers(_commonest(parts := _keyed_parts(core, tok), counts), counts,
                                      n_script.get(bool(parts) and parts[0].startswith("t"), 0))
              for core, tok in cand.select("core", "tok").unique().iter_rows()}
    cand = cand.with_columns(pl.col("core").replace_strict(exp_of, return_dtype=pl.Float64).alias("expected"))
    e = cand["expected"].to_numpy()
    hit = float(cand["named"].mean())
    chance = float(np.mean(1.0 - np.exp(-np.minimum(e, 50.0))))
    rho = (hit - chance) / (1.0 - chance) if chance < 1.0 else 0.0
    rho = min(max(rho, 0.0), 0.999)
    stats.update({"rho": round(rho, 4), "share_named_as_known": round(hit, 4), "share_by_chance": round(chance, 4)})
    if rho <= 0.0:
        return empty, stats
    one = cand.filter((pl.col("carriers") == 1) & pl.col("exact"))
    # A Latin name meets its carrier on its whole words; its initials must fit the carrier's name too.
    # Initials are read from the names as written (a nickname table may respell Catherine as katherine).
    raw = m["name"].fill_null("").to_numpy()

    def written(i: int) -> str:
        return " ".join(sorted(person_name_tokens(raw[i])))

    fits = [not k.startswith("l:") or a == b or token_subset(a, b) or token_subset(written(i), written(j))
            for k, a, b, i, j in one.select("key", "tok", "carrier_tok", "i", "right").iter_rows()]
    one = one.filter(pl.Series(fits, dtype=pl.Boolean))
    odds = rho / (1.0 - rho) / np.maximum(one["expected"].to_numpy(), 1e-12)
    links = one.select(pl.col("i").alias("left"), "right", "expected").with_columns(
        pl.Series("prob", odds / (1.0 + odds), dtype=pl.Float64)).filter(pl.col("prob") >= min_prob)
    stats["links"] = links.height
    return links.select("left", "right", "expected", "prob"), stats
