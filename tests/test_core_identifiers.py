"""Identifier rules of DOMAIN.md: USCC (GB 32100), organisation code (GB 11714), ID (GB 11643)."""

from __future__ import annotations

import datetime as dt

import polars as pl
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


# ---------------------------------------------------------------- python-stdnum as the oracle
# credgraph's validators (the scalar ones in identifiers, the vectorised ones the loader uses)
# must agree with python-stdnum, an implementation nobody here wrote, on valid codes and on
# codes corrupted in the ways keying corrupts them. stdnum has no organisation-code module:
# GB 11714 as written out in valid_codes is the oracle there (and inside the USCC).
from stdnum.cn import ric as stdnum_ric  # noqa: E402
from stdnum.cn import uscc as stdnum_uscc  # noqa: E402

from credgraph.loaders import checks  # noqa: E402
from valid_codes import org_code_valid  # noqa: E402

TODAY = dt.date.today()


def _corrupt(code: str, how: tuple[int, int, str], alphabet: str) -> str:
    """0: unchanged; 1: one character replaced; 2: two neighbours swapped; 3: one dropped."""
    kind, pos, char = how
    pos %= len(code)
    if kind == 1:
        return code[:pos] + char + code[pos + 1 :]
    if kind == 2 and pos < len(code) - 1:
        return code[:pos] + code[pos + 1] + code[pos] + code[pos + 2 :]
    if kind == 3:
        return code[:pos] + code[pos + 1 :]
    return code


def _corruptions(alphabet: str):
    return st.tuples(st.integers(0, 3), st.integers(0, 17), st.sampled_from(alphabet))


def _stdnum_uscc(code: str) -> bool:
    # stdnum checks length, alphabet and the 18th character; credgraph also requires the
    # organisation code in positions 9-17 to carry its own valid check character.
    return stdnum_uscc.is_valid(code) and org_code_valid(code[8:17])


@given(
    st.text(alphabet="0123456789", min_size=2, max_size=2),
    st.sampled_from(["440300", "440305", "110105", "310115", "510104"]),
    st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=8, max_size=8),
    _corruptions(ALPHABET),
)
@settings(max_examples=400, deadline=None)
def test_uscc_validators_agree_with_stdnum(prefix, division, org8, how):
    code = _corrupt(make_uscc(prefix, division, org8), how, ALPHABET)
    expected = _stdnum_uscc(code)
    assert ids.uscc_is_valid(code) == expected, code
    assert bool(checks.uscc_ok(pl.Series([code]))[0]) == expected, code
    if how[0] == 0:
        assert expected  # the strategy really builds valid codes too


@given(st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=18, max_size=18))
@settings(max_examples=300, deadline=None)
def test_uscc_validators_agree_with_stdnum_on_arbitrary_text(code):
    if not code[:2].isdigit():  # stdnum wants digits in positions 1-2; credgraph allows letters there
        code = "91" + code[2:]
    assert ids.uscc_is_valid(code) == _stdnum_uscc(code), code


@given(
    st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=8, max_size=8),
    _corruptions("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
)
@settings(max_examples=400, deadline=None)
def test_org_code_validators_agree_with_gb11714(body, how):
    from valid_codes import org_check

    code = _corrupt(body + org_check(body), how, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    expected = org_code_valid(code)
    assert ids.org_code_is_valid(code) == expected, code
    assert bool(checks.org_code_ok(pl.Series([code]))[0]) == expected, code


def _stdnum_id(value: str) -> bool:
    # stdnum's check digit (a base-13 formulation of ISO 7064 MOD 11-2) and birth date; credgraph
    # does not look the region up in a table (regions change), only refuses a leading 0, and
    # refuses birth dates before 1880 or after today.
    if len(value) != 18 or not value[:17].isdigit() or value[0] == "0":
        return False
    if value[17] != stdnum_ric.calc_check_digit(value):
        return False
    try:
        born = stdnum_ric.get_birth_date(value)
    except Exception:
        return False
    return 1880 <= born.year and born <= TODAY


@given(
    st.sampled_from(["440303", "440305", "110105", "430102", "510104", "654321"]),
    st.dates(dt.date(1875, 1, 1), dt.date(2030, 12, 31)),
    st.integers(0, 999),
    _corruptions("0123456789X"),
)
@settings(max_examples=400, deadline=None)
def test_resident_id_validators_agree_with_stdnum(region, born, seq, how):
    value = _corrupt(make_id(region, born, seq), how, "0123456789X")
    expected = _stdnum_id(value)
    assert ids.id_is_valid(value) == expected, value
    assert bool(checks.id18_ok(pl.Series([value]), TODAY)[0]) == expected, value
    if how[0] == 0 and 1880 <= born.year and born <= TODAY:
        assert expected


@given(st.text(alphabet="0123456789", min_size=17, max_size=17), st.sampled_from("0123456789X"))
@settings(max_examples=300, deadline=None)
def test_resident_id_validators_agree_with_stdnum_on_arbitrary_digits(first17, last):
    value = first17 + last
    assert ids.id_is_valid(value) == _stdnum_id(value), value
