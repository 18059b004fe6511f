"""The generator's word lists, read once from ``synth/data/``.

Each file is plain UTF-8 text: ``#`` starts a comment line, columns are tab-separated,
and a weight column (where present) gives relative frequencies.

>>> w = load_words()
>>> w.surnames[:3], "伟" in w.given_male
(('王', '李', '张'), True)
>>> "化" in w.homophones["华"]
True
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["Words", "load_words", "DATA_DIR"]

DATA_DIR = Path(__file__).parent / "data"


def _rows(name: str) -> list[list[str]]:
    text = (DATA_DIR / name).read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines() if line.strip() and not line.startswith("#")]


def _chars(name: str) -> tuple[str, ...]:
    # Space-separated characters over several lines; keep the first occurrence of each.
    seen: dict[str, None] = {}
    for row in _rows(name):
        for c in row[0].split():
            seen.setdefault(c, None)
    return tuple(seen)


def _weights(values) -> np.ndarray:
    w = np.asarray([float(v) for v in values], dtype=float)
    return w / w.sum()


@dataclass(frozen=True)
class Words:
    surnames: tuple[str, ...]
    surname_p: np.ndarray
    given_male: tuple[str, ...]
    given_male_p: np.ndarray
    given_female: tuple[str, ...]
    given_female_p: np.ndarray
    brands: tuple[str, ...]
    brand_p: np.ndarray
    brand_first: tuple[str, ...]
    brand_second: tuple[str, ...]
    industries: tuple[str, ...]
    industry_sector: tuple[str, ...]
    industry_risk: np.ndarray
    industry_p: np.ndarray
    trades: tuple[str, ...]
    trade_ending: tuple[str, ...]
    trade_sector: tuple[str, ...]
    trade_p: np.ndarray
    roads: dict[str, tuple[str, ...]]
    buildings: tuple[str, ...]
    homophones: dict[str, tuple[str, ...]]
    id_regions: tuple[str, ...]
    id_region_p: np.ndarray


@functools.lru_cache(maxsize=1)
def load_words() -> Words:
    """All word lists, parsed and normalised to probabilities."""
    sur = _rows("surnames.tsv")
    gm = _rows("given_male.tsv")
    gf = _rows("given_female.tsv")
    br = _rows("brands.tsv")
    ind = _rows("industries.tsv")
    tr = _rows("shop_trades.tsv")
    roads: dict[str, list[str]] = {}
    for code, road in _rows("roads.tsv"):
        roads.setdefault(code, []).append(road)
    homo = {r[0]: tuple(r[1:]) for r in _rows("homophones.tsv")}
    reg = _rows("id_regions.tsv")
    return Words(
        surnames=tuple(r[0] for r in sur),
        surname_p=_weights(r[1] for r in sur),
        given_male=tuple(r[0] for r in gm),
        given_male_p=_weights(r[1] for r in gm),
        given_female=tuple(r[0] for r in gf),
        given_female_p=_weights(r[1] for r in gf),
        brands=tuple(r[0] for r in br),
        brand_p=_weights(r[1] for r in br),
        brand_first=_chars("brand_first.txt"),
        brand_second=_chars("brand_second.txt"),
        industries=tuple(r[0] for r in ind),
        industry_sector=tuple(r[1] for r in ind),
        industry_risk=np.asarray([float(r[2]) for r in ind]),
        industry_p=_weights(r[3] for r in ind),
        trades=tuple(r[0] for r in tr),
        trade_ending=tuple(r[1] for r in tr),
        trade_sector=tuple(r[2] for r in tr),
        trade_p=_weights(r[3] for r in tr),
        roads={k: tuple(v) for k, v in roads.items()},
        buildings=tuple(r[0] for r in _rows("buildings.txt")),
        homophones=homo,
        id_regions=tuple(r[0] for r in reg),
        id_region_p=_weights(r[1] for r in reg),
    )
