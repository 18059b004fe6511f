"""Valid identifiers for tests, built with the check characters of :mod:`credgraph.identifiers`."""

from __future__ import annotations

import datetime as dt

from credgraph import identifiers as ids


def make_uscc(prefix2: str, division: str, org8: str) -> str:
    """A USCC from its registration-authority prefix, division code and the organisation code's first 8 characters."""
    org = org8 + ids.org_code_check_char(org8)
    first17 = prefix2 + division + org
    return first17 + ids.uscc_check_char(first17)


def local_uscc(org8: str, division: str = "440300") -> str:
    """A company's USCC registered in Shenzhen (prefix 91)."""
    return make_uscc("91", division, org8)


def with_check(first17: str) -> str:
    """An 18-character ID number: the first 17 characters and their check character."""
    return first17 + ids.id_check_char(first17)


def make_id(region: str, born: dt.date, seq: int) -> str:
    """An ID number from region, birth date and sequence (odd = male)."""
    return with_check(f"{region}{born:%Y%m%d}{seq:03d}")
