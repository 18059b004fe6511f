"""Foreign nationals among the city's natural persons: Latin names, passports, and how filings vary them.

Shenzhen's registrations name foreign nationals as shareholders, legal representatives and
officers of foreign-invested firms. A share of natural persons (:data:`FOREIGN_SHARE`, 2 % by
default; ``generate --foreign-share``) are such people: a nationality (US, GB, CA, AU, DE, FR,
ES, weighted), a Latin name drawn from ``synth/data/latin_names.tsv`` (given, an optional middle
name, family name; accents kept: José García, Jürgen Müller) and a passport number in the
issuing country's format (:data:`PASSPORT_PATTERNS`). They carry no resident ID number.

Under ``generate --name-noise`` their names vary the way real filings write them
(:func:`latin_variant`): a nickname for the given name (William → Bill, from
``synth/data/nicknames.tsv``), the family name first with or without a comma (``SMITH, William``
is written ``Smith, William`` or ``Smith William``), the whole name in capitals, the middle name
dropped or cut to its initial, accents stripped (José → Jose).

>>> latin_variant("William", "James", "Smith", ("nickname", "family_first"), _FixedRng([0, 1]))
'Smith Bill James'
>>> latin_variant("José", "", "García", ("accents_stripped", "upper_case"), _FixedRng([]))
'JOSE GARCIA'
>>> latin_variant("Robert", "Allen", "Jones", ("dropped_middle",), _FixedRng([1]))
'Robert A. Jones'
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

import numpy as np

from credgraph.synth.words import DATA_DIR

__all__ = ["FOREIGN_SHARE", "ENGLISH_SPEAKING", "NATIONALITIES", "PASSPORT_PATTERNS", "LATIN_NOISE_KINDS", "LatinNames",
           "latin_names", "draw_foreigners", "make_passports", "latin_variant", "strip_accents"]

#: Default share of natural persons who are foreign nationals (registrations of foreign-invested firms
#: in Shenzhen name a few per hundred natural persons; 0 turns them off).
FOREIGN_SHARE = 0.02

#: Nationality (ISO 3166 alpha-2) -> (weight, the name Chinese registration files write).
NATIONALITIES: dict[str, tuple[float, str]] = {
    "US": (0.30, "美国"), "GB": (0.15, "英国"), "CA": (0.15, "加拿大"), "AU": (0.10, "澳大利亚"),
    "DE": (0.12, "德国"), "FR": (0.10, "法国"), "ES": (0.08, "西班牙"),
}

#: Nationalities whose given names take English nicknames (Catherine of France stays Catherine).
ENGLISH_SPEAKING = frozenset({"US", "GB", "CA", "AU"})

#: What a passport number of each issuing country looks like (documented national formats).
PASSPORT_PATTERNS: dict[str, str] = {
    "US": r"[0-9]{9}|[A-Z][0-9]{8}",            # 9 digits; next-generation books a letter + 8 digits
    "GB": r"[0-9]{9}",                          # 9 digits
    "CA": r"[A-Z]{2}[0-9]{6}",                  # 2 letters + 6 digits
    "AU": r"[A-Z]{1,2}[0-9]{7}",                # 1-2 letters + 7 digits
    "DE": r"[CFGHJK][0-9CFGHJKLMNPRTVWXYZ]{8}",  # 9 characters, no vowels, first from CFGHJK
    "FR": r"[0-9]{2}[A-Z]{2}[0-9]{5}",          # 2 digits, 2 letters, 5 digits
    "ES": r"[A-Z]{3}[0-9]{6}",                  # 3 letters + 6 digits
}

#: Kinds of Latin-name noise (on under ``generate --name-noise``).
LATIN_NOISE_KINDS = ("nickname", "family_first", "upper_case", "dropped_middle", "accents_stripped")

_DE_CHARS = "0123456789CFGHJKLMNPRTVWXYZ"
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class LatinNames:
    """Name lists by nationality and kind (``male``, ``female``, ``family``) with weights, and nicknames."""

    lists: dict[tuple[str, str], tuple[tuple[str, ...], np.ndarray]]
    nicknames: dict[str, tuple[str, ...]]


def _rows(name: str) -> list[list[str]]:
    text = (DATA_DIR / name).read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines() if line.strip() and not line.startswith("#")]


@functools.lru_cache(maxsize=1)
def latin_names() -> LatinNames:
    """The Latin name lists and nicknames of ``synth/data/``, read once."""
    acc: dict[tuple[str, str], list[tuple[str, float]]] = {}
    for nat, kind, name, w in _rows("latin_names.tsv"):
        acc.setdefault((nat, kind), []).append((name, float(w)))
    lists = {k: (tuple(n for n, _ in v), np.array([w for _, w in v]) / sum(w for _, w in v))
             for k, v in acc.items()}
    nicks = {formal: tuple(s.split(",")) for formal, s in _rows("nicknames.tsv")}
    return LatinNames(lists, nicks)


def make_passports(rng: np.random.Generator, nationality: np.ndarray) -> np.ndarray:
    """One passport number per person, in the format of the issuing country (unique within the city)."""
    out = np.empty(len(nationality), dtype=object)
    seen: set[str] = set()
    for i, nat in enumerate(nationality):
        while True:
            d = lambda k: "".join(str(x) for x in rng.integers(0, 10, k))  # noqa: E731
            L = lambda k: "".join(_LETTERS[x] for x in rng.integers(0, 26, k))  # noqa: E731
            if nat == "US":
                v = d(9) if rng.random() < 0.5 else "A" + d(8)
            elif nat == "GB":
                v = str(rng.integers(1, 6)) + d(8)
            elif nat == "CA":
                v = L(2) + d(6)
            elif nat == "AU":
                v = ("P" if rng.random() < 0.5 else "PA") + d(7)
            elif nat == "DE":
                v = "CFGHJK"[rng.integers(0, 6)] + "".join(_DE_CHARS[x] for x in rng.integers(0, len(_DE_CHARS), 8))
            elif nat == "FR":
                v = d(2) + L(2) + d(5)
            else:  # ES
                v = L(3) + d(6)
            if v not in seen:
                seen.add(v)
                out[i] = v
                break
    return out


def draw_foreigners(rng: np.random.Generator, male: np.ndarray, share: float) -> dict[str, np.ndarray]:
    """Which natural persons are foreign nationals, and their nationality, Latin name parts and passport.

    Arrays have one entry per natural person; non-foreigners get ``""`` everywhere.
    """
    p = len(male)
    foreign = rng.random(p) < share
    idx = np.flatnonzero(foreign)
    nats = list(NATIONALITIES)
    nw = np.array([NATIONALITIES[k][0] for k in nats])
    nat = np.asarray(nats, dtype=object)[rng.choice(len(nats), size=len(idx), p=nw / nw.sum())]
    ln = latin_names()
    given = np.empty(len(idx), dtype=object)
    middle = np.empty(len(idx), dtype=object)
    family = np.empty(len(idx), dtype=object)
    has_middle = rng.random(len(idx)) < 0.45
    for j, (n, m) in enumerate(zip(nat, male[idx])):
        names, w = ln.lists[(n, "male" if m else "female")]
        given[j] = names[rng.choice(len(names), p=w)]
        middle[j] = names[rng.choice(len(names), p=w)] if has_middle[j] and n in ENGLISH_SPEAKING else ""
        if middle[j] == given[j]:
            middle[j] = ""
        fam, fw = ln.lists[(n, "family")]
        family[j] = fam[rng.choice(len(fam), p=fw)]
    passport = make_passports(rng, nat)

    def full(values) -> np.ndarray:
        a = np.full(p, "", dtype=object)
        a[idx] = values
        return a

    return dict(foreign=foreign, nationality=full(nat), lat_given=full(given), lat_middle=full(middle),
                lat_family=full(family), passport=full(passport))


def canonical_latin(given: str, middle: str, family: str) -> str:
    """The name as the passport gives it: ``Given Middle Family``."""
    return " ".join(x for x in (given, middle, family) if x)


def strip_accents(s: str) -> str:
    """Accents removed the way ASCII-only systems write names (José → Jose, Müller → Muller).

    >>> strip_accents("Jérôme Lefèvre")
    'Jerome Lefevre'
    """
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def latin_variant(given: str, middle: str, family: str, kinds, rng) -> str:
    """The name as one filing writes it, with the noise ``kinds`` applied (see module docstring).

    Draws from ``rng`` only for a nickname (which one), the middle name (dropped or initial) and
    the order (with or without a comma).
    """
    kinds = set(kinds)
    if "nickname" in kinds:
        opts = latin_names().nicknames.get(given)
        if opts:
            given = opts[int(rng.integers(0, len(opts)))]
    if "dropped_middle" in kinds and middle:
        middle = "" if int(rng.integers(0, 2)) == 0 else middle[0] + "."
    if "family_first" in kinds:
        rest = " ".join(x for x in (given, middle) if x)
        sep = ", " if int(rng.integers(0, 2)) == 0 else " "
        name = f"{family}{sep}{rest}"
    else:
        name = canonical_latin(given, middle, family)
    if "accents_stripped" in kinds:
        name = strip_accents(name)
    if "upper_case" in kinds:
        name = name.upper()
    return name


def passport_is_wellformed(nationality: str, value: str) -> bool:
    """Whether ``value`` has the format of a passport of ``nationality``."""
    pat = PASSPORT_PATTERNS.get(nationality)
    return bool(pat and re.fullmatch(pat, value))


class _FixedRng:
    """A stand-in for ``numpy.random.Generator.integers`` returning given values (doctests only)."""

    def __init__(self, values):
        self.values = list(values)

    def integers(self, lo, hi=None):
        return self.values.pop(0)
