"""Valid identifiers in bulk: USCCs, organisation codes, registration numbers, resident IDs.

The check characters come from :mod:`credgraph.identifiers` (the one implementation of the
standards); this module only draws the other characters, keeps the codes unique, and
makes the deliberately broken variants (adjacent transpositions) the loader must reject.

>>> import numpy as np
>>> from credgraph.identifiers import uscc_is_valid, id_is_valid
>>> rng = np.random.default_rng(1)
>>> org = make_org_codes(rng, np.array([True, False]))
>>> usccs = make_usccs(np.array(["91", "92"]), np.array(["440305", "440300"]), org)
>>> all(uscc_is_valid(u) for u in usccs), usccs[1][8:11]
(True, 'MA5')
>>> id18, id15 = make_person_ids(rng, np.array(["440305"]), np.array(["1985-03-04"], dtype="datetime64[D]"),
...                              np.array([True]))
>>> id_is_valid(id18[0]), id18[0][6:14], id15[0][6:12]
(True, '19850304', '850304')
>>> t = transpose_code(rng, "914403001922038216", uscc_is_valid)
>>> len(t), uscc_is_valid(t)
(18, False)
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from credgraph.identifiers import (
    USCC_ALPHABET,
    id_check_char,
    org_code_check_char,
    reg_no_check_digit,
    uscc_check_char,
)

__all__ = ["make_org_codes", "make_usccs", "make_reg_nos", "make_person_ids", "transpose_code", "unique_ints"]

def unique_ints(rng: np.random.Generator, n: int, low: int, high: int) -> np.ndarray:
    """``n`` distinct integers in [low, high), in random order (rejection of repeats)."""
    out = rng.integers(low, high, size=n)
    for _ in range(100):
        _, first = np.unique(out, return_index=True)
        dup = np.ones(n, bool)
        dup[first] = False
        if not dup.any():
            return out
        out[dup] = rng.integers(low, high, size=int(dup.sum()))
    raise ValueError("cannot draw enough distinct values")


def make_org_codes(rng: np.random.Generator, old: np.ndarray) -> np.ndarray:
    """Distinct 9-character organisation codes (GB 11714).

    Organisations registered before the 2015 reform got 8-digit codes; newer ones get the
    ``MA5`` + 5 characters form seen in Shenzhen's codes since then. The 9th character is
    the check from :func:`credgraph.identifiers.org_code_check_char`.
    """
    n = len(old)
    digits = unique_ints(rng, n, 10_000_000, 100_000_000)
    # New-style bodies: 5 characters from the USCC alphabet, encoded as a base-31 number
    # so that uniqueness can be checked on integers.
    tail = unique_ints(rng, n, 0, 31**5)
    # Build the 8 body characters as code points and view them as fixed-width strings.
    cp = np.empty((n, 8), dtype=np.uint32)
    for k in range(8):
        cp[:, k] = (digits // 10 ** (7 - k)) % 10 + ord("0")
    alphabet = np.frombuffer(USCC_ALPHABET.encode("ascii"), dtype=np.uint8).astype(np.uint32)
    new_cp = np.empty((n, 8), dtype=np.uint32)
    new_cp[:, 0], new_cp[:, 1], new_cp[:, 2] = ord("M"), ord("A"), ord("5")
    for k in range(5):
        new_cp[:, 3 + k] = alphabet[(tail // 31**k) % 31]
    cp[~old] = new_cp[~old]
    bodies = cp.view("<U8").ravel()
    return np.array([b + org_code_check_char(b) for b in bodies], dtype=object)


def make_usccs(prefix: np.ndarray, division: np.ndarray, org: np.ndarray) -> np.ndarray:
    """USCCs from the 2-character authority/category prefix, division code and organisation code."""
    first17 = [p + d + o for p, d, o in zip(prefix, division, org)]
    return np.array([f + uscc_check_char(f) for f in first17], dtype=object)


def make_reg_nos(rng: np.random.Generator, division: np.ndarray, kind_digit: np.ndarray) -> np.ndarray:
    """Distinct 15-digit registration numbers: division, kind digit, 7-digit sequence, check digit."""
    seq = unique_ints(rng, len(division), 0, 10_000_000)
    first14 = [f"{d}{k}{s:07d}" for d, k, s in zip(division, kind_digit, seq)]
    return np.array([f + reg_no_check_digit(f) for f in first14], dtype=object)


def make_person_ids(
    rng: np.random.Generator, region: np.ndarray, birth: np.ndarray, male: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct 18-digit resident IDs and their 15-digit legacy forms ('' when born 2000 or later).

    The 3-digit sequence is odd for men and even for women; the legacy number is the
    18-digit one without the century and the check, so ``id_from_15`` gives it back.
    """
    n = len(region)
    ymd = np.datetime_as_string(birth.astype("datetime64[D]"), unit="D")
    base = np.array([f"{r}{d[:4]}{d[5:7]}{d[8:10]}" for r, d in zip(region, ymd)], dtype=object)
    seq = rng.integers(0, 500, size=n) * 2 + male.astype(int)
    for _ in range(100):
        key = base + np.array([f"{s:03d}" for s in seq], dtype=object)
        _, first = np.unique(key.astype(str), return_index=True)
        dup = np.ones(n, bool)
        dup[first] = False
        if not dup.any():
            break
        seq[dup] = rng.integers(0, 500, size=int(dup.sum())) * 2 + male[dup].astype(int)
    else:  # pragma: no cover - needs ~500 people born on one day in one region
        raise ValueError("cannot draw distinct ID numbers")
    id18 = np.array([k + id_check_char(k) for k in key], dtype=object)
    id15 = np.array([k[:6] + k[8:17] if k[6:8] == "19" else "" for k in key], dtype=object)
    return id18, id15


def transpose_code(rng: np.random.Generator, code: str, is_valid: Callable[[str], bool]) -> str:
    """Swap two adjacent, different characters so that the code no longer validates.

    This is the commonest keying error; check characters are designed to catch it, and
    the loader must quarantine such rows.
    """
    positions = [i for i in range(len(code) - 1) if code[i] != code[i + 1]]
    order = rng.permutation(len(positions))
    for k in order:
        i = positions[k]
        s = code[:i] + code[i + 1] + code[i] + code[i + 2 :]
        if not is_valid(s):
            return s
    return code  # pragma: no cover - every code has a detectable transposition
