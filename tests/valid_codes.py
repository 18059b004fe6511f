"""Valid identifiers for tests, built independently of :mod:`credgraph.identifiers`.

The check characters come from python-stdnum (``stdnum.cn.uscc``, ``stdnum.cn.ric``) and,
for the organisation code, which stdnum does not cover, from GB 11714 written out here;
so a test that validates these codes with credgraph checks credgraph against an oracle,
not against itself.
"""

from __future__ import annotations

import datetime as dt

from stdnum.cn import ric, uscc

#: GB 11714-1997: weights of the 8 body characters; digits count as their value, A=10 ... Z=35.
GB11714_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def org_check(first8: str) -> str:
    """The GB 11714 check character of an organisation code's 8-character body."""
    total = sum(int(c, 36) * w for c, w in zip(first8, GB11714_WEIGHTS))
    c9 = 11 - total % 11
    return {10: "X", 11: "0"}.get(c9, str(c9))


def org_code_valid(code: str) -> bool:
    """GB 11714 as the standard states it: 8 digits/capitals and the check character."""
    return (
        len(code) == 9
        and code.isascii()
        and all(c.isdigit() or "A" <= c <= "Z" for c in code[:8])
        and code[8] == org_check(code[:8])
    )


def make_uscc(prefix2: str, division: str, org8: str) -> str:
    """A USCC from its registration-authority prefix, division code and the organisation code's first 8 characters."""
    first17 = prefix2 + division + org8 + org_check(org8)
    return first17 + uscc.calc_check_digit(first17)


def local_uscc(org8: str, division: str = "440300") -> str:
    """A company's USCC registered in Shenzhen (prefix 91)."""
    return make_uscc("91", division, org8)


def with_check(first17: str) -> str:
    """An 18-character ID number: the first 17 characters and their check character (ISO 7064 MOD 11-2)."""
    return first17 + ric.calc_check_digit(first17 + "0")


def make_id(region: str, born: dt.date, seq: int) -> str:
    """An ID number from region, birth date and sequence (odd = male)."""
    return with_check(f"{region}{born:%Y%m%d}{seq:03d}")
