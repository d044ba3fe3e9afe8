"""Masking of natural persons' ID numbers in everything people read.

The raw number stays in the store; reports, feedback lists, summaries and web pages show
the first 6 and last 4 characters (region and check part), which is enough for a unit to find
its record and not enough to identify a person.
"""

from __future__ import annotations

import polars as pl

from sgs.config import cached_on_file, catalogue_path
from sgs.privacy import ID_IN_TEXT
from sgs.reference.catalogue import KINDS, load_catalogue
from sgs.validate.identifiers import (
    BAD_CHECK,
    BAD_EMBEDDED,
    ID_PATTERN,
    OK,
    resident_id_birth_date,
    uscc_status_series,
)

_STARS = "*" * 64


@cached_on_file(catalogue_path, size=4)
def personal_id_fields() -> frozenset[str]:
    """Field codes holding a person's ID number: those the catalogue gives an ID type."""
    cat = load_catalogue()
    return frozenset(f.code for k in KINDS for f in cat.kind(k).fields if f.id_type_field)


def mask_id(s: pl.Expr) -> pl.Expr:
    """Keep the first 6 and last 4 characters; short values keep only their first and last."""
    n = s.str.len_chars()
    long = pl.concat_str([s.str.head(6), pl.lit(_STARS).str.slice(0, n - 10), s.str.tail(4)])
    short = pl.concat_str([s.str.head(1), pl.lit(_STARS).str.slice(0, n - 2), s.str.tail(1)])
    return (
        pl.when(s.is_null())
        .then(pl.lit(None, dtype=pl.String))
        .when(n > 10)
        .then(long)
        .when(n > 2)
        .then(short)
        .otherwise(pl.lit(_STARS).str.slice(0, n))
    )


def mask_error_values(errors: pl.DataFrame, field_col: str = "field") -> pl.DataFrame:
    """Mask the ``value`` column of an error table — and the ``suggestion``, the corrected
    value, where there is one — where the field is a personal ID."""
    personal = pl.col(field_col).is_in(sorted(personal_id_fields()))
    columns = [c for c in ("value", "suggestion") if c in errors.columns]
    return errors.with_columns(
        pl.when(personal).then(mask_id(pl.col(c))).otherwise(pl.col(c)).alias(c) for c in columns
    )


def neutralise_formula(s: pl.Expr) -> pl.Expr:
    """Prefix text that a spreadsheet would run as a formula (=, +, -, @) with an apostrophe."""
    return pl.when(s.str.contains(r"^[=+\-@]")).then(pl.concat_str([pl.lit("'"), s])).otherwise(s)


def mask_ids_in_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Every text column swept for resident ID numbers typed into it (names, notes, facts).

    Swept twice: two IDs one character apart share the separator the pattern consumes.  The
    mask is :func:`mask_id`'s for an 18-character number: first 6 and last 4 kept.
    """
    text = [c for c, t in frame.schema.items() if t == pl.String]
    masked = r"${1}${2}********${4}${5}"
    return frame.with_columns(
        pl.col(c).str.replace_all(ID_IN_TEXT, masked).str.replace_all(ID_IN_TEXT, masked)
        for c in text
    )


def mask_subject_codes(frame: pl.DataFrame, column: str = "subject_code") -> pl.DataFrame:
    """A subject code of unknown type (a ledger does not say whose it is): shown as written when
    it is shaped like a unified social credit code — valid, or wrong only in its check or
    embedded characters, which the unit must see to correct — and does not read as an ID
    number; anything else (an ID number, a passport, a 15-digit old ID) is masked like an ID."""
    code = frame[column]
    looks_like_id = pl.select(
        code.str.contains(ID_PATTERN) & resident_id_birth_date(pl.lit(code)).is_not_null()
    ).to_series()
    credit_code_shape = uscc_status_series(code).is_in([OK, BAD_CHECK, BAD_EMBEDDED])
    public = (credit_code_shape & ~looks_like_id).fill_null(False)
    return frame.with_columns(
        pl.when(pl.lit(public)).then(pl.col(column)).otherwise(mask_id(pl.col(column)))
    )
