"""Generational suffixes of Latin-script person names: Jr, Sr, II, III, IV (and I).

A father and the son named after him share a name, often an address and a phone; what tells them
apart in a filing is the suffix: ``Robert Smith Sr`` / ``Robert Smith Jr``, ``Morris I Klein`` /
``Morris II Klein``. The suffix is taken out of the name (it is not a name token: ``Geoffrey Brown
Jr`` and ``Geoffrey Brown`` are one name) and kept as a generation number; two records whose
generations differ are never one person, a record without a suffix fits either.

Generations: Sr, Senior, Snr and I are 1; Jr, Junior, Jnr, II and 2nd are 2 (a "Jr" and a "II" are
written for the same son, so they do not conflict); III / 3rd 3; IV / 4th 4. A lone ``V`` is read as
an initial, not as the fifth. Roman numerals count only in capitals (``Ii`` is no numeral) unless the
whole name is in lower case, and ``I`` only in capitals, without a dot, inside a name of three or more
words (``Morris I Klein``; ``Morris I. Klein`` is an initial). The first word of a name is never a
suffix (``Junior Santos`` is a given name).

>>> split_generation("Robert E Smith Sr"), split_generation("Brown Jr, Geoffrey")
(('Robert E Smith', '1'), ('Brown, Geoffrey', '2'))
>>> split_generation("Morris II Klein"), split_generation("Morris I Klein"), split_generation("Morris I. Klein")
(('Morris Klein', '2'), ('Morris Klein', '1'), ('Morris I. Klein', ''))
>>> split_generation("John Smith, Jr."), split_generation("Junior Santos"), split_generation("王杰")
(('John Smith', '2'), ('Junior Santos', ''), ('王杰', ''))
"""

from __future__ import annotations

import functools
import re

__all__ = ["split_generation"]

_WORDS = {"sr": "1", "snr": "1", "senior": "1", "jr": "2", "jnr": "2", "junior": "2", "2nd": "2", "3rd": "3",
          "4th": "4"}
_ROMAN = {"II": "2", "III": "3", "IV": "4"}
_TOKEN = re.compile(r"[^\s,]+")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


def _generation_of(token: str, raw: str, n_words: int) -> str:
    """The generation a word of a name stands for, or ""."""
    bare = token.rstrip(".")
    low = bare.lower()
    if low in _WORDS:
        return _WORDS[low]
    if bare in _ROMAN or (raw.islower() and bare.upper() in _ROMAN):
        return _ROMAN[bare.upper()]
    if token == "I" and n_words >= 3:
        return "1"
    return ""


@functools.lru_cache(maxsize=200_000)
def split_generation(name: str) -> tuple[str, str]:
    """(the name without its generational suffix, the generation ``"1"``..``"4"`` or ``""``)."""
    if not name or _CJK.search(name):
        return name, ""
    tokens = list(_TOKEN.finditer(name))
    for m in tokens[1:]:
        gen = _generation_of(m.group(0), name, len(tokens))
        if gen:
            base = name[:m.start()] + name[m.end():]
            base = re.sub(r"\s+,", ",", re.sub(r"\s{2,}", " ", base)).strip(" ,")
            base = re.sub(r",\s*,", ",", base)
            return base, gen
    return name, ""

