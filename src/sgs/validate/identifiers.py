"""Identifier algorithms (GB 32100, GB 11714, GB 11643, GS 15), vectorised for validation and
as scalar functions for the sample generator and the tests.

The vectorised form works column-wise on already normalised values (NFKC, trimmed,
upper-case): well-formed codes are reinterpreted as fixed-width byte arrays, characters become
values by gathering from 256-entry tables, and checks are weighted sums over arrays.  Each
algorithm yields one small status per value (which rule it fails first), so the several rules
of a code column share one evaluation; the ``*_ok`` expressions wrap the same code for callers
that want a Boolean (null where the input is null: "not applicable" never reads as a failure).
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
# Well formed but for the first character, a digit or capital letter that is no registering
# department (0, B, 00000000000000000X): told apart so the message can say so.
USCC_BAD_AUTHORITY = rf"^[0-9A-Z]{_USCC_CHAR}[0-9]{{6}}{_USCC_CHAR}{{10}}$"
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

OK, BAD_FORMAT, BAD_CHECK, BAD_EMBEDDED, BAD_AUTHORITY = 0, 1, 2, 3, 4


def _lookup(alphabet: str, extra: dict[str, int] | None = None, missing: int = 0) -> pl.Series:
    table = [missing] * 256
    for value, char in enumerate(alphabet):
        table[ord(char)] = value
    for char, value in (extra or {}).items():
        table[ord(char)] = value
    return pl.Series(table, dtype=pl.Int32)


_USCC_LUT = _lookup(USCC_ALPHABET)
_ORG_LUT = _lookup(ORG_ALPHABET)
_DIGIT_LUT = _lookup("0123456789")
# A check character as a number: digits as themselves, X as 10, anything else never matches.
_CHECK_LUT = _lookup("0123456789", {"X": 10}, missing=-1)


def _codes(good: pl.Series, width: int) -> pl.Series:
    """Array[UInt8, width] of the bytes of codes known to be ``width`` ASCII characters."""
    return good.cast(pl.Binary).bin.reinterpret(dtype=pl.Array(pl.UInt8, width))


def _values(codes: pl.Series, table: pl.Series) -> pl.Series:
    width = codes.dtype.size  # type: ignore[attr-defined]
    return table.gather(codes.arr.explode()).reshape((-1, width))


def _weighted_sum(values: pl.Series, weights: tuple[int, ...]) -> pl.Series:
    width = len(weights)
    w = pl.lit(pl.Series([list(weights)], dtype=pl.Array(pl.Int32, width))).first()
    return pl.select((pl.lit(values) * w).arr.sum()).to_series()


def _check_value(codes: pl.Series, index: int) -> pl.Series:
    return _CHECK_LUT.gather(codes.arr.get(index))


def _org_expected(values: pl.Series, offset: int) -> pl.Series:
    """GB 11714: 11 - (sum mod 11), with 10 written X and 11 written 0 (mod 11 maps 11 to 0)."""
    width = values.dtype.size  # type: ignore[attr-defined]
    weights = (0,) * offset + ORG_WEIGHTS + (0,) * (width - offset - len(ORG_WEIGHTS))
    return (11 - _weighted_sum(values, weights) % 11) % 11


def _status(
    s: pl.Series, well_formed: pl.Series, failures: list[tuple[int, pl.Series]]
) -> pl.Series:
    """Per value: null for null, BAD_FORMAT unless well formed, else the first failing check.

    ``failures`` are ``(status, ok)`` pairs whose ``ok`` runs over the well-formed values only.
    """
    inner = pl.repeat(OK, int(well_formed.sum()), dtype=pl.Int8, eager=True)
    for status, ok in reversed(failures):
        inner = pl.select(
            pl.when(pl.lit(ok)).then(pl.lit(inner)).otherwise(pl.lit(status, dtype=pl.Int8))
        ).to_series()
    out = pl.repeat(BAD_FORMAT, s.len(), dtype=pl.Int8, eager=True).scatter(
        well_formed.arg_true(), inner
    )
    return out.zip_with(s.is_not_null(), pl.Series([None], dtype=pl.Int8)).alias(s.name)


def _well_formed(s: pl.Series, pattern: str) -> pl.Series:
    return s.str.contains(pattern).fill_null(False)


def _uscc_checks(good: pl.Series) -> tuple[pl.Series, pl.Series]:
    """(check character right, embedded organisation code right) for well-formed USCCs."""
    codes = _codes(good, 18)
    values = _values(codes, _USCC_LUT)
    check = (31 - _weighted_sum(values, (*USCC_WEIGHTS, 0)) % 31) % 31 == values.arr.last()
    embedded = _org_expected(_values(codes, _ORG_LUT), 8) == _check_value(codes, 16)
    return check, embedded


def uscc_status_series(s: pl.Series) -> pl.Series:
    """0 ok, 1 format, 2 check character, 3 embedded organisation code, 4 first character not a
    registering department (otherwise well formed); null for null."""
    well_formed = _well_formed(s, USCC_PATTERN)
    check, embedded = _uscc_checks(s.filter(well_formed))
    status = _status(s, well_formed, [(BAD_CHECK, check), (BAD_EMBEDDED, embedded)])
    authority = (~well_formed & _well_formed(s, USCC_BAD_AUTHORITY)).arg_true()
    if authority.len():
        status = status.scatter(authority, BAD_AUTHORITY)
    return status


def org_code_compact(s: pl.Expr) -> pl.Expr:
    """An organisation code without its optional hyphen (12345678-9 -> 123456789)."""
    return s.str.replace(r"^([0-9A-Z]{8})-([0-9X])$", "${1}${2}")


def org_code_status_series(s: pl.Series) -> pl.Series:
    """0 ok, 1 format, 2 check character; null for null.  A hyphen before the check is allowed."""
    compact = pl.select(org_code_compact(pl.lit(s))).to_series()
    well_formed = _well_formed(compact, ORG_PATTERN)
    codes = _codes(compact.filter(well_formed), 9)
    ok = _org_expected(_values(codes, _ORG_LUT), 0) == _check_value(codes, 8)
    return _status(s, well_formed, [(BAD_CHECK, ok)])


def resident_id_birth_date(s: pl.Expr) -> pl.Expr:
    """The birth date in characters 7–14, or null when it is not a real date."""
    return s.str.slice(6, 8).str.to_date("%Y%m%d", strict=False)


def resident_id_status_series(s: pl.Series) -> pl.Series:
    """0 ok, 1 format or birth date, 2 check character; null for null."""
    born = pl.select(resident_id_birth_date(pl.lit(s))).to_series()
    well_formed = _well_formed(s, ID_PATTERN) & born.is_not_null()
    codes = _codes(s.filter(well_formed), 18)
    remainder = _weighted_sum(_values(codes, _DIGIT_LUT), (*ID_WEIGHTS, 0)) % 11
    # ID_CHECK_CHARS[r] as a number: "10X98765432" is 1, 0, 10, 9, ... i.e. (12 - r) mod 11.
    ok = (12 - remainder) % 11 == _check_value(codes, 17)
    return _status(s, well_formed, [(BAD_CHECK, ok)])


def _gs15_step(p: int, digit: int) -> int:
    r = (p + digit) % 10 or 10
    return (r * 2) % 11


def _gs15_table(width: int) -> pl.Series:
    """ISO 7064 MOD 11,10 state after a chunk of ``width`` digits: index p * 10**width + chunk.

    Folding three digits per lookup keeps the computation to five gathers for 14 digits.
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


def _gs15_state(digits: pl.Series) -> pl.Series:
    """The ISO 7064 MOD 11,10 state after the first 14 digits, table lookups a chunk at a time."""
    p = pl.repeat(10, digits.len(), dtype=pl.Int32, eager=True)
    for start, width in _GS15_CHUNKS:
        chunk = digits.str.slice(start, width).cast(pl.Int32)
        p = _GS15_TABLES[width].gather(p * 10**width + chunk)
    return p


def gs15_status_series(s: pl.Series) -> pl.Series:
    """2 for a 15-digit number whose ISO 7064 MOD 11,10 check fails, else 0; null for null.

    Only 15-digit numbers are registration numbers under GS 15-2006, so anything else is
    not applicable here (OK), not malformed.
    """
    fifteen = _well_formed(s, r"^[0-9]{15}$")
    digits = s.filter(fifteen)
    p = _gs15_state(digits)
    ok = (p + digits.str.slice(14, 1).cast(pl.Int32)) % 10 == 1
    inner = pl.select(pl.when(ok).then(OK).otherwise(BAD_CHECK).cast(pl.Int8)).to_series()
    out = pl.repeat(OK, s.len(), dtype=pl.Int8, eager=True).scatter(fifteen.arg_true(), inner)
    return out.zip_with(s.is_not_null(), pl.Series([None], dtype=pl.Int8)).alias(s.name)


# ----------------------------------------------------------------------------- corrections
#
# A code with its check character(s) recomputed: the fix suggestion of a check-character rule
# (sgs.validate.suggestions).  Each takes normalised values and gives null where the code is not
# well formed, so that no check character can be determined.


def _chars(alphabet: str, positions: pl.Series) -> pl.Series:
    return pl.Series(list(alphabet), dtype=pl.String).gather(positions)


def _fill(s: pl.Series, where: pl.Series, fixed: pl.Series) -> pl.Series:
    """Null everywhere except at ``where``, which takes ``fixed`` (one value per true)."""
    out = pl.repeat(None, s.len(), dtype=pl.String, eager=True)
    return out.scatter(where.arg_true(), fixed).alias(s.name) if fixed.len() else out


def _concat(*parts: pl.Series | str) -> pl.Series:
    return pl.select(pl.concat_str([pl.lit(p) for p in parts])).to_series()


def uscc_corrected(s: pl.Series) -> pl.Series:
    """The credit code with character 18 recomputed (GB 32100); null unless well formed."""
    well_formed = _well_formed(s, USCC_PATTERN)
    good = s.filter(well_formed)
    values = _values(_codes(good, 18), _USCC_LUT)
    check = (31 - _weighted_sum(values, (*USCC_WEIGHTS, 0)) % 31) % 31
    return _fill(s, well_formed, _concat(good.str.head(17), _chars(USCC_ALPHABET, check)))


def uscc_embedded_corrected(s: pl.Series) -> pl.Series:
    """The credit code with the check of its embedded organisation code (character 17,
    GB 11714) recomputed, then character 18; null unless well formed."""
    well_formed = _well_formed(s, USCC_PATTERN)
    good = s.filter(well_formed)
    org = _org_expected(_values(_codes(good, 18), _ORG_LUT), 8)
    # The placeholder 18th character is replaced by uscc_corrected.
    return uscc_corrected(
        _fill(s, well_formed, _concat(good.str.head(16), _chars("0123456789X", org), "0"))
    )


def org_code_corrected(s: pl.Series) -> pl.Series:
    """The organisation code with its check character recomputed (GB 11714), a hyphen before
    the check kept where there was one; null unless well formed."""
    compact = pl.select(org_code_compact(pl.lit(s))).to_series()
    well_formed = _well_formed(compact, ORG_PATTERN)
    good = compact.filter(well_formed)
    check = _chars("0123456789X", _org_expected(_values(_codes(good, 9), _ORG_LUT), 0))
    hyphen = s.filter(well_formed).str.contains("-")
    sep = pl.select(pl.when(pl.lit(hyphen)).then(pl.lit("-")).otherwise(pl.lit(""))).to_series()
    return _fill(s, well_formed, _concat(good.str.head(8), sep, check))


def resident_id_corrected(s: pl.Series) -> pl.Series:
    """The resident ID number with character 18 recomputed (GB 11643); null unless 17 digits
    with a real birth date and a check character."""
    born = pl.select(resident_id_birth_date(pl.lit(s))).to_series()
    well_formed = _well_formed(s, ID_PATTERN) & born.is_not_null()
    good = s.filter(well_formed)
    remainder = _weighted_sum(_values(_codes(good, 18), _DIGIT_LUT), (*ID_WEIGHTS, 0)) % 11
    return _fill(s, well_formed, _concat(good.str.head(17), _chars(ID_CHECK_CHARS, remainder)))


def gs15_corrected(s: pl.Series) -> pl.Series:
    """The 15-digit registration number with digit 15 recomputed (ISO 7064 MOD 11,10); null
    for anything but 15 digits."""
    fifteen = _well_formed(s, r"^[0-9]{15}$")
    digits = s.filter(fifteen)
    p = _gs15_state(digits)
    return _fill(s, fifteen, _concat(digits.str.head(14), ((11 - p) % 10).cast(pl.String)))


# ----------------------------------------------------------------------------- expressions
#
# Boolean views of the same computations, for callers that work with expressions.  Each is
# null where it does not apply (null input, or a malformed code for a check-character rule).


def _status_expr(s: pl.Expr, fn, wanted: int) -> pl.Expr:
    status = s.map_batches(fn, return_dtype=pl.Int8)
    malformed = status.is_null() | status.is_in([BAD_FORMAT, BAD_AUTHORITY])
    return pl.when(malformed).then(None).otherwise(status != wanted)


def uscc_format_ok(s: pl.Expr) -> pl.Expr:
    """18 characters of the USCC alphabet, a known department, a numeric region."""
    return s.str.contains(USCC_PATTERN)


def uscc_check_ok(s: pl.Expr) -> pl.Expr:
    """The 18th character matches GB 32100's check; null when the format is wrong."""
    return _status_expr(s, uscc_status_series, BAD_CHECK)


def uscc_embedded_org_ok(s: pl.Expr) -> pl.Expr:
    """Characters 9–17 of a well-formed USCC are an organisation code with its own check."""

    def embedded(values: pl.Series) -> pl.Series:
        well_formed = _well_formed(values, USCC_PATTERN)
        _, ok = _uscc_checks(values.filter(well_formed))
        return _status(values, well_formed, [(BAD_EMBEDDED, ok)])

    return _status_expr(s, embedded, BAD_EMBEDDED)


def org_code_format_ok(s: pl.Expr) -> pl.Expr:
    return org_code_compact(s).str.contains(ORG_PATTERN)


def org_code_check_ok(s: pl.Expr) -> pl.Expr:
    """GB 11714 check character; null when the format is wrong."""
    return _status_expr(s, org_code_status_series, BAD_CHECK)


def resident_id_format_ok(s: pl.Expr) -> pl.Expr:
    """17 digits plus a digit or X, with a real birth date; null for null."""
    return s.str.contains(ID_PATTERN) & resident_id_birth_date(s).is_not_null()


def resident_id_check_ok(s: pl.Expr) -> pl.Expr:
    """GB 11643 check character; null when the format is wrong."""
    return _status_expr(s, resident_id_status_series, BAD_CHECK)


def gs15_check_ok(s: pl.Expr) -> pl.Expr:
    """ISO 7064 MOD 11,10 over a 15-digit registration number; null unless 15 digits."""
    status = s.map_batches(gs15_status_series, return_dtype=pl.Int8)
    fifteen = s.str.contains(r"^[0-9]{15}$")
    return pl.when(fifteen).then(status == OK)


def uscc_status(s: pl.Expr) -> pl.Expr:
    return s.map_batches(uscc_status_series, return_dtype=pl.Int8)


def org_code_status(s: pl.Expr) -> pl.Expr:
    return s.map_batches(org_code_status_series, return_dtype=pl.Int8)


def resident_id_status(s: pl.Expr) -> pl.Expr:
    return s.map_batches(resident_id_status_series, return_dtype=pl.Int8)


def gs15_status(s: pl.Expr) -> pl.Expr:
    return s.map_batches(gs15_status_series, return_dtype=pl.Int8)
