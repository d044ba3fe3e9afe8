"""Identifier algorithms against python-stdnum as an independent oracle, plus fixed examples.

stdnum is trusted only where it is right: ``cn.uscc`` for digit-led codes whose first eight
characters are digits (it wrongly rejects letter-led departments A/N/Y), ``cn.ric`` for region
codes it knows, ``iso7064.mod_11_10`` for the GS 15 registration number.  Letter-led codes and
the organisation code (which stdnum does not cover) get fixed, hand-checked examples.
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric, uscc
from stdnum.iso7064 import mod_11_10

from sgs.validate import identifiers as ids

DIGITS = "0123456789"
UPPER_ALNUM = DIGITS + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def check(fn, values: list[str | None]) -> list[bool | None]:
    """Apply a vectorised check to plain values."""
    frame = pl.DataFrame({"s": values}, schema={"s": pl.String})
    return frame.select(ok=fn(pl.col("s")))["ok"].to_list()


# ----------------------------------------------------------------------------- USCC

digit_led_first17 = st.builds(
    lambda head, digits, org: head + digits + org,
    st.sampled_from("123456789"),
    st.text(DIGITS, min_size=7, max_size=7),
    st.text(ids.USCC_ALPHABET, min_size=9, max_size=9),
)


# Each example is a column of codes: the vectorised checks run once per column, not per code
# (a polars frame per code cost most of this module's time).
def columns(*parts: st.SearchStrategy) -> st.SearchStrategy:
    return st.lists(st.tuples(*parts), min_size=1, max_size=40)


@settings(max_examples=40, deadline=None)
@given(columns(digit_led_first17))
def test_uscc_valid_codes_agree_with_stdnum(column: list[tuple[str]]) -> None:
    codes = [first17 + ids.uscc_check_char(first17) for (first17,) in column]
    for (first17,), code in zip(column, codes, strict=True):
        assert uscc.is_valid(code)
        assert uscc.calc_check_digit(first17) == ids.uscc_check_char(first17)
        assert ids.is_valid_uscc(code)
    assert check(ids.uscc_check_ok, codes) == [True] * len(codes)


@settings(max_examples=40, deadline=None)
@given(columns(digit_led_first17, st.sampled_from(ids.USCC_ALPHABET)))
def test_uscc_any_check_char_agrees_with_stdnum(column: list[tuple[str, str]]) -> None:
    codes = [first17 + last for first17, last in column]
    assert check(ids.uscc_check_ok, codes) == [uscc.is_valid(code) for code in codes]


@settings(max_examples=40, deadline=None)
@given(
    columns(
        st.sampled_from("123456789"),
        st.text(DIGITS, min_size=7, max_size=7),
        st.text(UPPER_ALNUM, min_size=10, max_size=10),
    )
)
def test_uscc_foreign_characters_never_pass(column: list[tuple[str, str, str]]) -> None:
    """I, O, S, V, Z are outside the alphabet: format error (null check), as stdnum says."""
    codes = [head + digits + rest for head, digits, rest in column]
    ours = check(ids.uscc_check_ok, codes)
    formats = check(ids.uscc_format_ok, codes)
    for code, verdict, format_ok in zip(codes, ours, formats, strict=True):
        assert (verdict is True) == uscc.is_valid(code), code
        if any(c in "IOSVZ" for c in code[8:]):
            assert format_ok is False and verdict is None, code


# Letter-led departments (A 中央军委改革和编制办公室, N 农业, Y 其他) — stdnum rejects them wrongly.
# Each has a valid embedded organisation code, so every part of the code is right.
LETTER_LED = ["A1110000MB0125356H", "N2110105MD0141185T", "Y1140400MF3721342X"]


def _independent_uscc_check(first17: str) -> str:
    """GB 32100 written out once more, not via sgs.validate.identifiers."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = [pow(3, i, 31) for i in range(17)]  # 1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28
    total = sum(alphabet.index(c) * w for c, w in zip(first17, weights, strict=True))
    return alphabet[(31 - total % 31) % 31]


@pytest.mark.parametrize("code", LETTER_LED)
def test_letter_led_uscc_is_accepted(code: str) -> None:
    assert _independent_uscc_check(code[:17]) == code[17]
    assert not uscc.is_valid(code)  # the stdnum limitation this project works around
    assert check(ids.uscc_format_ok, [code]) == [True]
    assert check(ids.uscc_check_ok, [code]) == [True]
    assert check(ids.uscc_embedded_org_ok, [code]) == [True]
    assert check(ids.uscc_status, [code]) == [ids.OK]


@pytest.mark.parametrize("code", LETTER_LED)
def test_letter_led_uscc_wrong_check_is_caught(code: str) -> None:
    wrong = code[:17] + ("0" if code[17] != "0" else "1")
    assert check(ids.uscc_check_ok, [wrong]) == [False]
    assert check(ids.uscc_status, [wrong]) == [ids.BAD_CHECK]


def test_uscc_statuses() -> None:
    first17 = "91140400MA0GRL7K" + ids.org_check_char("MA0GRL7K")
    good = first17 + ids.uscc_check_char(first17)
    bad_embedded = good[:16] + ("1" if good[16] != "1" else "2")
    bad_embedded = bad_embedded + ids.uscc_check_char(bad_embedded)
    values = [good, good[:17], good[:17] + "Z", bad_embedded, "01140400MA0GRL7K5J", None]
    assert check(ids.uscc_status, values) == [
        ids.OK,
        ids.BAD_FORMAT,
        ids.BAD_FORMAT,
        ids.BAD_EMBEDDED,
        ids.BAD_AUTHORITY,  # department 0 does not exist
        None,
    ]


# ----------------------------------------------------------------------------- organisation code

ORG_CODES = [
    ("12345678", "8"),  # 201 mod 11 = 3 -> 8
    ("D2143569", "X"),  # 199 mod 11 = 1 -> 10 -> X
    ("00100007", "X"),  # 23 mod 11 = 1 -> X
    ("00100001", "0"),  # 11 mod 11 = 0 -> 11 -> 0
    ("MA0GXXXX", "1"),
]


@pytest.mark.parametrize(("body", "expected"), ORG_CODES)
def test_org_check_char(body: str, expected: str) -> None:
    assert ids.org_check_char(body) == expected
    assert check(ids.org_code_check_ok, [body + expected, f"{body}-{expected}"]) == [True, True]
    assert check(ids.org_code_status, [f"{body}-{expected}"]) == [ids.OK]


@pytest.mark.parametrize(("body", "expected"), ORG_CODES)
def test_org_wrong_check_char(body: str, expected: str) -> None:
    for wrong in "0123456789X":
        if wrong != expected:
            assert check(ids.org_code_check_ok, [body + wrong]) == [False]


def test_org_code_format() -> None:
    values = ["12345678-8", "123456788", "12345678", "1234567-88", "12345678-88", "1234567A8", None]
    assert check(ids.org_code_format_ok, values) == [True, True, False, False, False, True, None]
    assert check(ids.org_code_check_ok, ["12345678"]) == [None]


# ----------------------------------------------------------------------------- resident ID

birth_dates = st.dates(min_value=date(1950, 1, 1), max_value=date(2004, 12, 31))


@settings(max_examples=40, deadline=None)
@given(
    columns(
        st.sampled_from(["110101", "110102", "110105", "310101", "120101"]),
        birth_dates,
        st.text(DIGITS, min_size=3, max_size=3),
        st.sampled_from("0123456789X"),
    )
)
def test_resident_id_agrees_with_stdnum(column: list[tuple[str, date, str, str]]) -> None:
    heads = [f"{region}{born:%Y%m%d}{seq}" for region, born, seq, _ in column]
    valid = [first17 + ids.id_check_char(first17) for first17 in heads]
    for first17, code in zip(heads, valid, strict=True):
        # stdnum's calc_check_digit expects the number with a check character in place
        assert ric.calc_check_digit(first17 + "?") == ids.id_check_char(first17)
        assert ric.is_valid(code)
    assert check(ids.resident_id_check_ok, valid) == [True] * len(valid)
    any_codes = [first17 + last for first17, (*_, last) in zip(heads, column, strict=True)]
    assert check(ids.resident_id_check_ok, any_codes) == [ric.is_valid(c) for c in any_codes]


def test_resident_id_format_and_birth_date() -> None:
    first17 = "14040219900230123"  # 30 February
    values = [first17 + "X", "1404021990030712", "14040219900307123a"]
    assert check(ids.resident_id_format_ok, values) == [False, False, False]
    assert check(ids.resident_id_status, [*values, None]) == [ids.BAD_FORMAT] * 3 + [None]
    good = "11010119900307123"
    good += ids.id_check_char(good)
    frame = pl.DataFrame({"s": [good]})
    born = frame.select(ids.resident_id_birth_date(pl.col("s"))).item()
    assert str(born) == "1990-03-07"


def test_resident_id_lower_case_x_after_normalisation() -> None:
    # Normalisation upper-cases before the check runs; the raw check expects upper case.
    first17 = next(
        f"110101199003070{i:02d}"
        for i in range(100)
        if ids.id_check_char(f"110101199003070{i:02d}") == "X"
    )
    assert check(ids.resident_id_check_ok, [first17 + "X"]) == [True]
    assert check(ids.resident_id_check_ok, [first17 + "x"]) != [True]


# ----------------------------------------------------------------------------- GS 15


@settings(max_examples=40, deadline=None)
@given(columns(st.text(DIGITS, min_size=14, max_size=14), st.sampled_from(DIGITS)))
def test_gs15_agrees_with_stdnum(column: list[tuple[str, str]]) -> None:
    for first14, _ in column:
        assert ids.gs15_check_digit(first14) == mod_11_10.calc_check_digit(first14)
    numbers = [first14 + last for first14, last in column]
    assert check(ids.gs15_check_ok, numbers) == [mod_11_10.is_valid(n) for n in numbers]


def test_gs15_only_applies_to_15_digits() -> None:
    assert check(ids.gs15_check_ok, ["12345678901234", "1234567890123456", "14040000000001A"]) == [
        None,
        None,
        None,
    ]


def test_vectorised_checks_on_many_rows() -> None:
    """The checks are columnar: a mixed column gives per-row verdicts, not one broadcast value."""
    first = ["91140400MA0GRL7K5", "92140402MA0H12345", "12140400012345678"]
    codes = [f + ids.uscc_check_char(f) for f in first]
    codes.append(codes[0][:17] + ("0" if codes[0][17] != "0" else "1"))
    assert check(ids.uscc_check_ok, codes) == [True, True, True, False]
