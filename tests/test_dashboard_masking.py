"""The dashboard's whole-frame masking (polars expressions) against the per-value masking
functions, on resident ID numbers that python-stdnum validates and phone numbers written the
ways catalogs write them: the same output cell for cell, and no full number left anywhere."""

from __future__ import annotations

import random
import re

import polars as pl
import pytest
from stdnum.cn import ric

from credgraph.dashboard.privacy import mask_frame, mask_text
from credgraph.identifiers import mask_id, mask_phone

_WIDE = str.maketrans({str(i): chr(0xFF10 + i) for i in range(10)} | {"X": "Ｘ"})
_REGIONS = ("440301", "440303", "440304", "440305", "110105", "310104", "420106", "511002", "330102")


def _id_numbers(n: int, rng: random.Random) -> list[str]:
    """Valid 18-character resident ID numbers, each checked by python-stdnum (an independent check;
    it also wants the region to exist at the birth date, hence births from 1985)."""
    out = []
    while len(out) < n:
        first17 = (rng.choice(_REGIONS) + f"{rng.randint(1985, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
                   + f"{rng.randint(0, 999):03d}")
        # the check character by ISO 7064 MOD 11-2, written out here rather than taken from credgraph
        total = sum(int(c) * (2 ** (17 - k) % 11) for k, c in enumerate(first17))
        full = first17 + "10X98765432"[total % 11]
        assert ric.is_valid(full), full
        out.append(full)
    return out


def _phones(n: int, rng: random.Random) -> list[str]:
    out = []
    for _ in range(n):
        mobile = f"1{rng.choice('3456789')}{rng.randint(0, 9)}{rng.randint(0, 10**8 - 1):08d}"
        out.append(rng.choice([mobile, f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}", f"0755-{rng.randint(10**7, 10**8 - 1)}",
                               f"020-{rng.randint(10**7, 10**8 - 1)}", f"0755 {rng.randint(10**7, 10**8 - 1)}"]))
    return out


def _written(ids: list[str], rng: random.Random) -> list[str | None]:
    """The ID numbers as records write them: plain, lower-case x, full-width, with spaces or
    dashes, 15-digit old numbers, already masked, junk, empty and missing."""
    out: list[str | None] = []
    for s in ids:
        out.append(rng.choice([s, s.lower(), s.translate(_WIDE), f"{s[:6]} {s[6:14]} {s[14:]}", f"{s[:6]}-{s[6:]}",
                               s[:6] + s[8:17], mask_id(s), s[:5], "", None]))
    return out


@pytest.fixture(scope="module")
def numbers():
    rng = random.Random(16)
    ids = _id_numbers(4000, rng)
    return ids, _written(ids, rng), _phones(4000, rng)


def test_id_and_phone_columns_equal_the_per_value_functions(numbers):
    ids, written, phones = numbers
    f = pl.DataFrame({"id_number": written, "subject_phone": phones + [None] * (len(written) - len(phones)),
                      "name": ["张三"] * len(written)})
    out = mask_frame(f)
    assert out["id_number"].to_list() == [None if v is None else mask_id(v) for v in written]
    assert out["subject_phone"].to_list() == [None if v is None else mask_phone(v) for v in f["subject_phone"].to_list()]
    assert out["name"].to_list() == f["name"].to_list()
    # no full number survives in any form: compare digits only
    shown = {re.sub(r"\D", "", v) for v in out["id_number"].drop_nulls().to_list()}
    assert not shown & {i[:17] for i in ids} and not any(i[:17] in v for v in shown for i in ids[:50])
    phone_digits = {re.sub(r"\D", "", p)[-8:] for p in phones}
    assert not any(re.sub(r"\D", "", v)[-8:] in phone_digits for v in out["subject_phone"].drop_nulls().to_list()
                   if len(re.sub(r"\D", "", v)) >= 8)


def test_text_and_list_columns_equal_mask_text(numbers):
    ids, _, phones = numbers
    rng = random.Random(61)
    notes = [rng.choice([f"失信被执行人 {i}，电话 {p}", f"身份证号码：{i.lower()}", f"注册号 440301000012345 {i}",
                         "USCC 914403001922038216 地址 深南大道1001号", "无"]) for i, p in zip(ids, phones)]
    lists = [[n, "其他"] for n in notes[:500]]
    f = pl.DataFrame({"reason": notes, "names": lists + [[]] * (len(notes) - len(lists))})
    out = mask_frame(f)
    assert out["reason"].to_list() == [mask_text(n) for n in notes]
    assert out["names"].to_list() == [[mask_text(x) for x in xs] for xs in f["names"].to_list()]
    text = "\n".join(out["reason"].to_list())
    assert not any(i in text.upper() for i in ids)
    assert "914403001922038216" in text  # a company's code is not personal data
