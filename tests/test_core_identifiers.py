"""Identifier rules of DOMAIN.md: USCC (GB 32100), organisation code (GB 11714), ID (GB 11643)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from credgraph import identifiers as ids
from valid_codes import make_id, make_uscc

ALPHABET = ids.USCC_ALPHABET


# ---------------------------------------------------------------- known values
def test_domain_example_uscc_validates():
    assert ids.uscc_is_valid("914403001922038216")
    assert ids.org_code_of_uscc("914403001922038216") == "192203821"
    assert ids.org_code_is_valid("192203821")


@pytest.mark.parametrize(
    "code, reason",
    [
        ("914403001922038217", "check character"),
        ("91440300192203821", "18 characters"),
        ("9144030019220382I6", "alphabet"),  # I is not in the alphabet
        ("91440300192203822X", "check character"),
        ("91AB03001922038216", "division"),
    ],
)
def test_invalid_usccs_say_why(code, reason):
    problem = ids.uscc_problem(code)
    assert problem is not None and reason in problem


def test_letter_first_uscc_validates():
    # Registration authorities other than market regulation may use letters (e.g. Y, N).
    code = make_uscc("N2", "440305", "MA5F3K7Q")
    assert code[0] == "N" and ids.uscc_is_valid(code)
    assert not ids.uscc_is_valid(code[:-1] + ("0" if code[-1] != "0" else "1"))


def test_org_code_check_x_and_zero():
    # Find 8-char bodies whose check is 10 (X) and 11 (0): both special cases of GB 11714.
    checks = {ids.org_code_check_char(f"{n:08d}") for n in range(200)}
    assert {"X", "0"} <= checks


def test_gb11643_example_and_legacy_conversion():
    assert ids.id_is_valid("11010519491231002X")
    assert ids.id_from_15("110105491231002") == "11010519491231002X"
    assert ids.id_birth_date("11010519491231002X") == dt.date(1949, 12, 31)
    assert not ids.id_is_male("11010519491231002X")  # sequence 002: even, female


@pytest.mark.parametrize(
    "value, reason",
    [
        ("11010519491231002Y", "17 digits"),
        ("110105194912310021", "check character"),
        ("110105194902301234", "not a real date"),
        ("1101051949123100", "18 characters"),
    ],
)
def test_invalid_ids_say_why(value, reason):
    assert reason in ids.id_problem(value)


def test_legacy_id_with_impossible_date_is_refused():
    with pytest.raises(ValueError):
        ids.id_from_15("110105490231002")


def test_future_birth_date_is_refused():
    future = make_id("440305", dt.date.today() + dt.timedelta(days=400), 11)
    assert "out of range" in ids.id_problem(future)


def test_fullwidth_codes_are_normalised():
    assert ids.uscc_is_valid("９１４４０３００１９２２０３８２１６")


def test_masking():
    assert ids.mask_id("11010519491231002X") == "110105********002X"
    assert ids.mask_phone("13812345678") == "138****5678"
    assert ids.is_masked("110105********002X") and not ids.is_masked("11010519491231002X")
    assert ids.masked_id_compatible("110105********002X", "11010519491231002X")
    assert not ids.masked_id_compatible("110106********002X", "11010519491231002X")
    assert ids.mask_id("") == "" and ids.mask_phone(None) == ""


# ---------------------------------------------------------------- properties
uscc_bodies = st.tuples(
    st.sampled_from(["91", "92", "93", "51", "52", "12", "N2", "Y1"]),
    st.sampled_from(["440300", "440303", "440304", "440305", "440306", "440307", "440311"]),
    st.text(alphabet="0123456789", min_size=8, max_size=8),
)


@given(uscc_bodies)
def test_generated_usccs_validate(body):
    assert ids.uscc_is_valid(make_uscc(*body))


@given(uscc_bodies, st.integers(0, 17), st.sampled_from(ALPHABET))
def test_any_single_substitution_breaks_a_uscc(body, pos, char):
    code = make_uscc(*body)
    if code[pos] == char:
        return
    changed = code[:pos] + char + code[pos + 1 :]
    # 31 is prime and every weight is non-zero mod 31: one changed character always shows.
    assert not ids.uscc_is_valid(changed)


@given(uscc_bodies, st.integers(0, 16))
def test_adjacent_transposition_breaks_a_uscc(body, pos):
    code = make_uscc(*body)
    if code[pos] == code[pos + 1]:
        return
    swapped = code[:pos] + code[pos + 1] + code[pos] + code[pos + 2 :]
    assert not ids.uscc_is_valid(swapped)


id_parts = st.tuples(
    st.sampled_from(["440303", "440305", "110105", "430102", "510104"]),
    st.dates(dt.date(1930, 1, 1), dt.date(2008, 12, 31)),
    st.integers(0, 999),
)


@given(id_parts)
def test_generated_ids_validate_and_mask_compatibly(parts):
    value = make_id(*parts)
    assert ids.id_is_valid(value)
    assert ids.masked_id_compatible(ids.mask_id(value), value)


@given(id_parts, st.integers(0, 16), st.sampled_from("0123456789"))
def test_any_single_digit_change_breaks_an_id(parts, pos, digit):
    value = make_id(*parts)
    if value[pos] == digit:
        return
    assert not ids.id_is_valid(value[:pos] + digit + value[pos + 1 :])


@given(st.tuples(
    st.sampled_from(["440303", "110105"]),
    st.dates(dt.date(1900, 1, 1), dt.date(1999, 12, 31)),
    st.integers(0, 999),
))
@settings(max_examples=200)
def test_legacy_ids_convert_to_the_18_digit_form(parts):
    region, born, seq = parts
    legacy = f"{region}{born:%y%m%d}{seq:03d}"
    assert ids.id_from_15(legacy) == make_id(region, born, seq)
