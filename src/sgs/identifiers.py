"""Identifier algorithms (GB 32100, GB 11714, GB 11643, GS 15), twice: as polars expressions
for validation and as scalar functions for the sample generator and the tests.

The expressions take an already normalised column (NFKC, trimmed, upper-case) and return a
Boolean that is null where the input is null, so "not applicable" never reads as a failure.
Python-stdnum is deliberately not used here: its ``cn.uscc`` rejects valid letter-led codes.
"""

from __future__ import annotations

import polars as pl

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
USCC_DEPARTMENTS = "123456789ANY"
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"

_USCC_CHAR = "[0-9A-HJ-NPQRTUWXY]"
USCC_PATTERN = rf"^[{USCC_DEPARTMENTS}]{_USCC_CHAR}[0-9]{{6}}{_USCC_CHAR}{{10}}$"
ORG_PATTERN = r"^[0-9A-Z]{8}[0-9X]$"
ID_PATTERN = r"^[0-9]{17}[0-9X]$"

_USCC_VALUE = {c: i for i, c in enumerate(USCC_ALPHABET)}
_ORG_VALUE = {c: i for i, c in enumerate(ORG_ALPHABET)}


# ----------------------------------------------------------------------------- scalar


def uscc_check_char(first17: str) -> str:
    """The 18th character of a unified social credit code."""
    total = sum(_USCC_VALUE[c] * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def org_check_char(first8: str) -> str:
    """The 9th character of an organisation code (GB 11714)."""
    total = sum(_ORG_VALUE[c] * w for c, w in zip(first8, ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def id_check_char(first17: str) -> str:
    """The 18th character of a resident ID number (GB 11643)."""
    total = sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


def gs15_check_digit(first14: str) -> str:
    """The 15th digit of a registration number: ISO 7064 MOD 11,10."""
    p = 10
    for c in first14:
        p = _gs15_step(p, int(c))
    return str((11 - p) % 10)


def is_valid_uscc(code: str) -> bool:
    """Scalar counterpart of :func:`uscc_format_ok` & :func:`uscc_check_ok`."""
    import re

    return bool(re.match(USCC_PATTERN, code)) and uscc_check_char(code[:17]) == code[17]


# ----------------------------------------------------------------------------- vectorised
#
# A code column is reinterpreted as fixed-width byte arrays (values of the wrong byte length
# become null), characters are mapped to their values by gathering from a 256-entry table, and
# checks are weighted sums over arrays: a handful of columnar passes, no per-character strings.


def _lookup(alphabet: str) -> pl.Series:
    table = [0] * 256
    for value, char in enumerate(alphabet):
        table[ord(char)] = value
    return pl.Series(table, dtype=pl.Int32)


_USCC_LUT = _lookup(USCC_ALPHABET)
_ORG_LUT = _lookup(ORG_ALPHABET)
_DIGIT_LUT = _lookup("0123456789")


def _char_values(s: pl.Expr, width: int, table: pl.Series) -> pl.Expr:
    """Array[Int32, width] of character values; rows of another byte length become zeros.

    Callers gate the result with a format regex, so the zeros of malformed rows never decide
    a verdict.
    """
    codes = s.cast(pl.Binary).bin.reinterpret(dtype=pl.Array(pl.UInt8, width))
    filler = pl.lit(pl.Series([[48] * width], dtype=pl.Array(pl.UInt8, width))).first()
    codes = pl.when(codes.is_null()).then(filler).otherwise(codes)
    return pl.lit(table).gather(codes.arr.explode()).reshape((-1, width))


def _weighted(values: pl.Expr, weights: tuple[int, ...]) -> pl.Expr:
    width = len(weights)
    w = pl.lit(pl.Series([list(weights)], dtype=pl.Array(pl.Int32, width))).first()
    return (values * w).arr.sum()


def uscc_format_ok(s: pl.Expr) -> pl.Expr:
    """18 characters of the USCC alphabet, a known department, a numeric region."""
    return s.str.contains(USCC_PATTERN)


def uscc_check_ok(s: pl.Expr) -> pl.Expr:
    """The 18th character matches GB 32100's check; null when the format is wrong."""
    values = _char_values(s, 18, _USCC_LUT)
    total = _weighted(values, (*USCC_WEIGHTS, 0))
    return pl.when(uscc_format_ok(s)).then((31 - total % 31) % 31 == values.arr.last())


def _org_check_value(values: pl.Expr, offset: int, width: int) -> pl.Expr:
    """Value GB 11714 expects for the check character (X as 10, 0 for 11)."""
    weights = (0,) * offset + ORG_WEIGHTS + (0,) * (width - offset - len(ORG_WEIGHTS))
    return (11 - _weighted(values, weights) % 11) % 11


def org_code_compact(s: pl.Expr) -> pl.Expr:
    """An organisation code without its optional hyphen (12345678-9 -> 123456789)."""
    return s.str.replace(r"^([0-9A-Z]{8})-([0-9X])$", "${1}${2}")


def org_code_format_ok(s: pl.Expr) -> pl.Expr:
    return org_code_compact(s).str.contains(ORG_PATTERN)


def org_code_check_ok(s: pl.Expr) -> pl.Expr:
    """GB 11714 check character; null when the format is wrong."""
    code = org_code_compact(s)
    values = _char_values(code, 9, _ORG_LUT)
    raw_last = code.str.slice(8, 1)
    last = pl.when(raw_last == "X").then(10).otherwise(raw_last.cast(pl.Int32, strict=False))
    return pl.when(code.str.contains(ORG_PATTERN)).then(_org_check_value(values, 0, 9) == last)


def uscc_embedded_org_ok(s: pl.Expr) -> pl.Expr:
    """Characters 9–17 of a well-formed USCC are an organisation code with its own check."""
    values = _char_values(s, 18, _ORG_LUT)
    raw_last = s.str.slice(16, 1)
    last = pl.when(raw_last == "X").then(10).otherwise(raw_last.cast(pl.Int32, strict=False))
    return pl.when(uscc_format_ok(s)).then(_org_check_value(values, 8, 18) == last)


def resident_id_birth_date(s: pl.Expr) -> pl.Expr:
    """The birth date in characters 7–14, or null when it is not a real date."""
    return s.str.slice(6, 8).str.to_date("%Y%m%d", strict=False)


def resident_id_format_ok(s: pl.Expr) -> pl.Expr:
    """17 digits plus a digit or X, with a real birth date."""
    return s.str.contains(ID_PATTERN) & resident_id_birth_date(s).is_not_null()


def resident_id_check_ok(s: pl.Expr) -> pl.Expr:
    """GB 11643 check character; null when the format is wrong."""
    values = _char_values(s, 18, _DIGIT_LUT)
    remainder = _weighted(values, (*ID_WEIGHTS, 0)) % 11
    # ID_CHECK_CHARS[r] as a value: "10X98765432" -> 1, 0, 10, 9, ... i.e. (12 - r) % 11
    expected = (12 - remainder) % 11
    raw_last = s.str.slice(17, 1)
    last = pl.when(raw_last == "X").then(10).otherwise(raw_last.cast(pl.Int32, strict=False))
    return pl.when(resident_id_format_ok(s)).then(expected == last)


def _gs15_step(p: int, digit: int) -> int:
    r = (p + digit) % 10 or 10
    return (r * 2) % 11


def _gs15_table(width: int) -> pl.Series:
    """ISO 7064 MOD 11,10 state after a chunk of ``width`` digits: index p * 10**width + chunk.

    Folding three digits per lookup keeps the expression linear (five gathers for 14 digits);
    a digit-by-digit arithmetic formulation would reuse each step twice and grow exponentially.
    """
    table = []
    for p in range(11):
        for chunk in range(10**width):
            q = p
            for c in f"{chunk:0{width}d}":
                q = _gs15_step(q, int(c))
            table.append(q)
    return pl.Series(table, dtype=pl.Int32)


_GS15_CHUNKS = ((0, 3), (3, 3), (6, 3), (9, 3), (12, 2))
_GS15_TABLES = {width: _gs15_table(width) for width in {w for _, w in _GS15_CHUNKS}}


def gs15_check_ok(s: pl.Expr) -> pl.Expr:
    """ISO 7064 MOD 11,10 over a 15-digit registration number; null unless 15 digits."""
    digits = pl.when(s.str.contains(r"^[0-9]{15}$")).then(s)
    p: pl.Expr = pl.lit(10, dtype=pl.Int32)
    for start, width in _GS15_CHUNKS:
        chunk = digits.str.slice(start, width).cast(pl.Int32)
        p = pl.lit(_GS15_TABLES[width]).gather(p * 10**width + chunk)
    return (p + digits.str.slice(14, 1).cast(pl.Int32)) % 10 == 1


# ----------------------------------------------------------------------------- statuses
#
# One small integer per value says which identifier rule it fails first, so the several rules
# of a code column share a single evaluation of the algorithm.

OK, BAD_FORMAT, BAD_CHECK, BAD_EMBEDDED = 0, 1, 2, 3


def uscc_status(s: pl.Expr) -> pl.Expr:
    """0 ok, 1 format, 2 check character, 3 embedded organisation code; null for null."""
    return (
        pl.when(s.is_null())
        .then(None)
        .when(~uscc_format_ok(s))
        .then(BAD_FORMAT)
        .when(~uscc_check_ok(s))
        .then(BAD_CHECK)
        .when(~uscc_embedded_org_ok(s))
        .then(BAD_EMBEDDED)
        .otherwise(OK)
    )


def org_code_status(s: pl.Expr) -> pl.Expr:
    """0 ok, 1 format, 2 check character; null for null."""
    return (
        pl.when(s.is_null())
        .then(None)
        .when(~org_code_format_ok(s))
        .then(BAD_FORMAT)
        .when(~org_code_check_ok(s))
        .then(BAD_CHECK)
        .otherwise(OK)
    )


def resident_id_status(s: pl.Expr) -> pl.Expr:
    """0 ok, 1 format or birth date, 2 check character; null for null."""
    return (
        pl.when(s.is_null())
        .then(None)
        .when(~resident_id_format_ok(s))
        .then(BAD_FORMAT)
        .when(~resident_id_check_ok(s))
        .then(BAD_CHECK)
        .otherwise(OK)
    )


def gs15_status(s: pl.Expr) -> pl.Expr:
    """2 for a 15-digit number with a wrong check digit, else 0; null for null."""
    return pl.when(s.is_null()).then(None).when(~gs15_check_ok(s)).then(BAD_CHECK).otherwise(OK)
