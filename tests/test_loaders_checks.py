"""The vectorised checks of credgraph.loaders.checks agree with credgraph.identifiers, value for value."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from credgraph import identifiers as ids
from credgraph.loaders import checks
from valid_codes import make_id, make_uscc

ALPHABET = ids.USCC_ALPHABET
TODAY = dt.date(2026, 1, 1)


def one(fn, value, **kw):
    return bool(fn(pl.Series([value], dtype=pl.String), **kw)[0])


usccs = st.builds(
    make_uscc,
    st.text(ALPHABET, min_size=2, max_size=2),
    st.sampled_from(["440300", "440304", "440305", "110105", "310115"]),
    st.text(ALPHABET, min_size=8, max_size=8),
)
id_numbers = st.builds(
    make_id,
    st.sampled_from(["440301", "440304", "110105", "430102", "510107"]),
    st.dates(dt.date(1900, 1, 1), dt.date(2020, 12, 31)),
    st.integers(0, 999),
)


# ---------------------------------------------------------------- known values
def test_domain_example_and_letter_first_uscc():
    letter_first = make_uscc("Y1", "440300", "MA5DXK3Q")
    assert letter_first[0] == "Y" and ids.uscc_is_valid(letter_first)
    s = pl.Series(["914403001922038216", letter_first, "914403001922038217", "9144030019220382I6", None])
    assert checks.uscc_ok(s).tolist() == [True, True, False, False, True]


def test_known_id_numbers():
    s = pl.Series(["11010519491231002X", "110105194912310021", "440301198502301234", "01010519491231002X"])
    assert checks.id18_ok(s, TODAY).tolist() == [True, False, False, False]


def test_fifteen_digit_ids_become_eighteen():
    out = checks.id15_to_18(pl.Series(["110105491231002", "440301850230123", "11010519491231002X"]))
    assert out[0] == "11010519491231002X" == ids.id_from_15("110105491231002")
    assert out[1] == "44030119850230123" + ids.id_check_char("44030119850230123")  # converted...
    assert not checks.id18_ok(out, TODAY)[1]  # ...but 30 February stays invalid
    assert out[2] == "11010519491231002X"


def test_full_width_codes_are_normalised():
    out = checks.normalise_codes(pl.Series(["９１４４０３００１９２２０３８２１６", " 9144-0300 1922038216 ", "1101051949123100２x"]))
    assert out.to_list() == ["914403001922038216", "914403001922038216", "11010519491231002X"]


@pytest.mark.parametrize(
    "value, ok, reason",
    [
        ("110105********002X", True, None),
        ("4403**********123X", True, None),
        ("1101051949****002X", True, None),
        ("110105*******002X", False, "18 characters"),
        ("110105****13**002X", False, "month"),
        ("1101051776****002X", False, "year"),
        ("11010519490230*02X", False, "not a real date"),
        ("******************", False, "no characters"),
        ("010105********002X", False, "region"),
        ("11010A********002X", False, "digits"),
    ],
)
def test_masked_ids(value, ok, reason):
    assert one(checks.masked_id_ok, value, today=TODAY) is ok
    problem = checks.masked_id_problem(value, TODAY)
    assert (problem is None) is ok
    if reason:
        assert reason in problem


def test_org_codes_and_registration_numbers():
    assert checks.org_code_ok(pl.Series(["192203821", "192203822", "19220382X", "MA5DXK3Q" + ids.org_code_check_char("MA5DXK3Q")])).tolist() == [True, False, False, True]
    assert checks.reg_no_ok(pl.Series(["440301103097510", "440301103097511", "44030110309751"])).tolist() == [True, False, False]


# ---------------------------------------------------------------- properties
@settings(max_examples=150, deadline=None)
@given(usccs)
def test_any_valid_uscc_passes(code):
    assert ids.uscc_problem(code) is None
    assert one(checks.uscc_ok, code)


@settings(max_examples=150, deadline=None)
@given(usccs, st.integers(0, 17), st.sampled_from(ALPHABET))
def test_any_single_character_change_of_a_uscc_fails(code, pos, char):
    assume(code[pos] != char)
    changed = code[:pos] + char + code[pos + 1 :]
    assert ids.uscc_problem(changed) is not None
    assert not one(checks.uscc_ok, changed)


@settings(max_examples=150, deadline=None)
@given(id_numbers)
def test_any_valid_id_passes(number):
    assert ids.id_problem(number, TODAY) is None
    assert one(checks.id18_ok, number, today=TODAY)


@settings(max_examples=150, deadline=None)
@given(id_numbers, st.integers(0, 17), st.sampled_from("0123456789X"))
def test_any_single_character_change_of_an_id_fails(number, pos, char):
    assume(number[pos] != char)
    changed = number[:pos] + char + number[pos + 1 :]
    assert ids.id_problem(changed, TODAY) is not None
    assert not one(checks.id18_ok, changed, today=TODAY)


@settings(max_examples=200, deadline=None)
@given(id_numbers)
def test_legacy_conversion_matches_identifiers(number):
    assume(number[6:8] == "19")
    legacy = number[:6] + number[8:17]
    assert checks.id15_to_18(pl.Series([legacy]))[0] == ids.id_from_15(legacy) == number


# arbitrary near-codes: the fast checks decide exactly as identifiers does
near = st.one_of(
    st.text(ALPHABET + "IOSZVabx*-", min_size=0, max_size=20),
    st.text("0123456789X", min_size=8, max_size=19),  # right shapes, mostly wrong checks
    usccs.map(lambda c: c[:17] + "0"),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(near, min_size=1, max_size=30))
def test_fast_checks_agree_with_identifiers(values):
    s = checks.normalise_codes(pl.Series(values, dtype=pl.String))
    norm = s.to_list()
    assert norm == [ids.normalise_code(v) or None for v in values]
    uscc = checks.uscc_ok(s)
    org = checks.org_code_ok(s)
    reg = checks.reg_no_ok(s)
    id18 = checks.id18_ok(s, TODAY)
    for i, v in enumerate(norm):
        if v is None:
            continue
        assert uscc[i] == (ids.uscc_problem(v) is None), v
        assert org[i] == ids.org_code_is_valid(v), v
        assert reg[i] == ids.reg_no_is_valid(v), v
        assert id18[i] == (ids.id_problem(v, TODAY) is None), v


@settings(max_examples=150, deadline=None)
@given(st.text("0123456789*X", min_size=16, max_size=19))
def test_masked_fast_check_agrees_with_its_reason(value):
    assume("*" in value)
    assert one(checks.masked_id_ok, value, today=TODAY) == (checks.masked_id_problem(value, TODAY) is None)


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 10000))
def test_ratio_spellings_round_trip(k):
    r = k / 10000
    assert checks.parse_ratio(f"{k / 100:g}%") == pytest.approx(r, abs=1e-12)
    assert checks.parse_ratio(f"{k / 100:.2f}％") == pytest.approx(r, abs=1e-12)  # full-width percent sign
    assert checks.parse_ratio(f"{r}") == pytest.approx(r, abs=1e-12)
    if k / 100 > 1:
        assert checks.parse_ratio(f"{k / 100:g}") == pytest.approx(r, abs=1e-12)  # a bare number above 1 is a percent


@settings(max_examples=150, deadline=None)
@given(st.dates(dt.date(1800, 1, 1), dt.date(2200, 12, 31)))
def test_date_spellings_round_trip(d):
    for text in (
        d.isoformat(),
        f"{d.year}/{d.month}/{d.day}",
        f"{d:%Y%m%d}",
        f"{d.year}年{d.month}月{d.day}日",
        f"{d.isoformat()} 00:00:00",
    ):
        assert checks.parse_date(text) == d, text


def test_bad_dates_and_numbers_are_null():
    assert checks.parse_date("2021-02-30") is None
    assert checks.parse_date("2021-13-01") is None
    assert checks.parse_date("0021-03-04") is None
    assert checks.parse_date("March 4") is None
    assert checks.parse_date("202103041") is None
    assert checks.parse_ratio("thirty") is None
    assert checks.parse_number("1.2.3") is None
    assert checks.parse_number("１，２３４．５") == 1234.5
    assert checks.parse_number("3亿元", unit_cny=1e4) == 30000.0
    assert checks.parse_number("5000元", unit_cny=1e4) == 0.5
