"""Valid identifiers in bulk, for the sample generator: USCC, organisation code, resident ID, GS15.

The scalar functions of :mod:`sgs.validate.identifiers` are the reference algorithms; here the same
checks run over whole numpy arrays of ASCII bytes (one row per code, one column per character),
because a benchmark file of a million rows needs a million codes and a Python call per code
would dominate the generator's run time.  Tests compare both implementations.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from sgs.validate.identifiers import (
    ID_CHECK_CHARS,
    ID_WEIGHTS,
    ORG_ALPHABET,
    ORG_WEIGHTS,
    USCC_ALPHABET,
    USCC_WEIGHTS,
)

Matrix = np.ndarray  # (rows, width) uint8 ASCII codes

DIGITS = np.frombuffer(b"0123456789", dtype=np.uint8)
USCC_CHARS = np.frombuffer(USCC_ALPHABET.encode("ascii"), dtype=np.uint8)
ID_CHECKS = np.frombuffer(ID_CHECK_CHARS.encode("ascii"), dtype=np.uint8)
ORG_CHECKS = np.frombuffer(b"0123456789X", dtype=np.uint8)  # value 10 is written X


def _value_table(alphabet: str) -> np.ndarray:
    table = np.zeros(256, dtype=np.int64)
    for value, char in enumerate(alphabet):
        table[ord(char)] = value
    return table


_USCC_VALUE = _value_table(USCC_ALPHABET)
_ORG_VALUE = _value_table(ORG_ALPHABET)
_DIGIT_VALUE = _value_table("0123456789")


# ----------------------------------------------------------------------------- conversions


def to_matrix(values: Sequence[str] | pl.Series | np.ndarray, width: int) -> Matrix:
    """Equal-width ASCII strings as a (rows, width) byte matrix."""
    if isinstance(values, pl.Series):
        values = values.to_numpy()
    arr = np.asarray(values).astype(f"S{width}")
    return arr.view(np.uint8).reshape(-1, width).copy()


def to_series(matrix: Matrix, name: str = "") -> pl.Series:
    """A (rows, width) byte matrix as a polars String column."""
    width = matrix.shape[1]
    raw = np.ascontiguousarray(matrix).view(f"S{width}").ravel()
    return pl.Series(name, raw, dtype=pl.Binary).cast(pl.String)


def constant(text: str, rows: int) -> Matrix:
    """``text`` repeated on every row, as a byte matrix."""
    return np.tile(np.frombuffer(text.encode("ascii"), dtype=np.uint8), (rows, 1))


def pick(rng: np.random.Generator, choices: Sequence[str], rows: int) -> Matrix:
    """One of ``choices`` (equal-width ASCII) per row."""
    table = to_matrix(list(choices), len(choices[0]))
    return table[rng.integers(0, len(choices), rows)]


def random_chars(rng: np.random.Generator, alphabet: np.ndarray, rows: int, width: int) -> Matrix:
    return alphabet[rng.integers(0, len(alphabet), (rows, width))]


def dates_yyyymmdd(days: np.ndarray) -> Matrix:
    """Days since 1970-01-01 as YYYYMMDD bytes."""
    iso = np.datetime_as_string(days.astype("datetime64[D]"), unit="D").astype("S10")
    return iso.view(np.uint8).reshape(-1, 10)[:, [0, 1, 2, 3, 5, 6, 8, 9]]


# ----------------------------------------------------------------------------- check characters


def uscc_check(first17: Matrix) -> np.ndarray:
    """GB 32100 check character of each row."""
    total = (_USCC_VALUE[first17] * np.array(USCC_WEIGHTS)).sum(axis=1)
    return USCC_CHARS[(31 - total % 31) % 31]


def org_check(first8: Matrix) -> np.ndarray:
    """GB 11714 check character of each row (11 -> 0, 10 -> X)."""
    total = (_ORG_VALUE[first8] * np.array(ORG_WEIGHTS)).sum(axis=1)
    return ORG_CHECKS[(11 - total % 11) % 11]


def id_check(first17: Matrix) -> np.ndarray:
    """GB 11643 check character of each row."""
    total = (_DIGIT_VALUE[first17] * np.array(ID_WEIGHTS)).sum(axis=1)
    return ID_CHECKS[total % 11]


def gs15_check(first14: Matrix) -> np.ndarray:
    """ISO 7064 MOD 11,10 check digit of each row."""
    p = np.full(first14.shape[0], 10, dtype=np.int64)
    for j in range(first14.shape[1]):
        r = (p + _DIGIT_VALUE[first14[:, j]]) % 10
        p = (np.where(r == 0, 10, r) * 2) % 11
    return DIGITS[(11 - p) % 10]


def with_check(body: Matrix, check: np.ndarray) -> Matrix:
    return np.concatenate([body, check[:, None]], axis=1)


# ----------------------------------------------------------------------------- whole codes


def org_codes(rng: np.random.Generator, rows: int) -> Matrix:
    """9-character organisation codes: newer ``MA…`` codes and older all-digit ones.

    Body characters come from the USCC alphabet so the code can sit inside a USCC.
    """
    body = random_chars(rng, DIGITS, rows, 8)
    newer = rng.random(rows) < 0.6
    body[newer, 0:2] = np.frombuffer(b"MA", dtype=np.uint8)
    body[newer, 2:] = random_chars(rng, USCC_CHARS, int(newer.sum()), 6)
    return with_check(body, org_check(body))


def usccs(head: Matrix, region: Matrix, org: Matrix) -> Matrix:
    """18-character credit codes from department+type (2), region (6) and organisation code (9)."""
    first17 = np.concatenate([head, region, org], axis=1)
    return with_check(first17, uscc_check(first17))


def resident_ids(rng: np.random.Generator, region: Matrix, birth_days: np.ndarray) -> Matrix:
    """18-digit resident IDs born on ``birth_days`` (days since 1970-01-01)."""
    seq = random_chars(rng, DIGITS, region.shape[0], 3)
    first17 = np.concatenate([region, dates_yyyymmdd(birth_days), seq], axis=1)
    return with_check(first17, id_check(first17))


def registration_numbers(rng: np.random.Generator, region: Matrix) -> Matrix:
    """15-digit business registration numbers (GS 15-2006) with a valid check digit."""
    first14 = np.concatenate([region, random_chars(rng, DIGITS, region.shape[0], 8)], axis=1)
    return with_check(first14, gs15_check(first14))
