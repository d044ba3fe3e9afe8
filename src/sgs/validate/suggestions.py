"""Fix suggestions: the whole corrected value of a failing cell, where the fix is determined.

A suggestion is offered only when one value follows from the failing one and the standard,
and that value passes the rule it failed (the tests re-validate each kind):

- ``uscc_check``, ``org_code_check``, ``id_check``, ``reg_no_check``: the code with its check
  character recomputed (the code as normalised: trimmed, half-width, upper case).
  ``uscc_org_check``: the check of the embedded organisation code (character 17) recomputed,
  then character 18.  The algorithm cannot tell which other character is wrong, so the
  suggestion assumes the check character is; the message says to compare with the licence.
- ``date_format``: a date whose year comes first and whose month and day are a real date,
  written in a refused notation (dots, 2024.6.30; a missing 日; a time of day; the ISO ``T``),
  rewritten ``YYYY/MM/DD``.  ``01/02/2024`` or ``24/1/2`` is ambiguous: no suggestion.
- ``allowed_values`` of a set with a synonyms table in the catalogue (``[synonyms.*]``): the
  one allowed value the synonym means; for 处罚类别, each item of the list, and only when
  every item is allowed or a synonym.
- ``amount_unit``: a whole number written in 元 in a 万元 field, divided by 10,000, when the
  quotient is below the threshold itself (otherwise it would fail the rule again).

Everything else — a missing value, a date out of range, a duplicate — has no value to derive;
its message says what to do.  Suggestions are computed on the failing cells only, one
vectorised pass per (field, rule).
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from sgs.reference.catalogue import Catalogue, Field, KindSpec, load_catalogue
from sgs.validate import identifiers as ids
from sgs.validate.normalise import parse_date

SUGGESTION = "suggestion"

# Year first, then month and day with any usual separator, an optional 日/号, an optional time.
_DATE_PARTS = (
    r"^(?<y>\d{4})\s*[./\-_\\年\s]\s*(?<m>\d{1,2})\s*[./\-_\\月\s]\s*(?<d>\d{1,2})\s*[日号]?"
    r"(?:(?:\s+|T)\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)

Maker = Callable[[Catalogue, Field, pl.Series], pl.Series]


def standard_date(s: pl.Series) -> pl.Series:
    """``YYYY/MM/DD`` of a year-first date in any notation; null when not a real date."""
    parts = s.str.extract_groups(_DATE_PARTS).struct.unnest()
    text = pl.concat_str(
        [pl.col("y"), pl.col("m").str.zfill(2), pl.col("d").str.zfill(2)], separator="/"
    )
    out = parts.select(text.alias("t")).with_columns(
        pl.when(parse_date(pl.col("t")).is_not_null()).then(pl.col("t"))
    )
    return out.to_series().alias(s.name)


def _date(cat: Catalogue, f: Field, s: pl.Series) -> pl.Series:
    return standard_date(s)


def _synonym(cat: Catalogue, f: Field, s: pl.Series) -> pl.Series:
    table = cat.synonyms.get(f.values or "")
    if not table:
        return pl.repeat(None, s.len(), dtype=pl.String, eager=True).alias(s.name)

    def resolve(x: pl.Expr) -> pl.Expr:
        # An item already allowed stays (a qualified 其他-…, not a bare 其他); others map.
        good = x.is_in(list(cat.values[f.values or ""]))
        if f.other_prefix:
            good = good | x.str.contains(r"^其他-.+")
        return pl.when(good).then(x).otherwise(x.replace_strict(table, default=None))

    if f.type != "enum_list":
        return pl.DataFrame({"v": s}).select(resolve(pl.col("v"))).to_series().alias(s.name)
    item = pl.element()
    items = s.str.split(";").list.eval(item.str.strip_chars().filter(item.str.strip_chars() != ""))
    fixed = items.list.eval(resolve(item))
    complete = fixed.list.eval(item.is_not_null()).list.all()
    joined = pl.select(pl.when(pl.lit(complete)).then(pl.lit(fixed).list.join(";"))).to_series()
    return joined.alias(s.name)


def _amount(cat: Catalogue, f: Field, s: pl.Series) -> pl.Series:
    """A whole number of 元 as 万元: the decimal point moved four places, exactly."""
    whole = s.str.extract(r"^0*([0-9]+)(?:\.0*)?$").str.zfill(5)
    head = whole.str.head(-4).str.strip_chars_start("0")
    tail = whole.str.tail(4).str.strip_chars_end("0")
    frame = pl.DataFrame({"h": head, "t": tail})
    text = frame.select(
        pl.when(pl.col("h") == "").then(pl.lit("0")).otherwise(pl.col("h")).alias("h"), "t"
    ).select(
        pl.when(pl.col("t") == "")
        .then(pl.col("h"))
        .otherwise(pl.concat_str([pl.col("h"), pl.col("t")], separator="."))
    )
    out = text.to_series()
    small = out.cast(pl.Float64, strict=False) < cat.amount_looks_like_yuan
    return out.zip_with(small.fill_null(False), pl.Series([None], dtype=pl.String)).alias(s.name)


def _code(fix: Callable[[pl.Series], pl.Series]) -> Maker:
    return lambda cat, f, s: fix(s)


MAKERS: dict[str, Maker] = {
    "uscc_check": _code(ids.uscc_corrected),
    "uscc_org_check": _code(ids.uscc_embedded_corrected),
    "org_code_check": _code(ids.org_code_corrected),
    "id_check": _code(ids.resident_id_corrected),
    "reg_no_check": _code(ids.gs15_corrected),
    "date_format": _date,
    "allowed_values": _synonym,
    "amount_unit": _amount,
}


def add_suggestions(failures: pl.DataFrame, frame: pl.DataFrame, spec: KindSpec) -> pl.DataFrame:
    """Failures ``(index, label)`` plus ``suggestion``, read from the normalised ``frame``.

    ``index`` is a position in ``frame`` and ``label`` is ``FIELD|rule``; the suggestion is
    null where the rule has no determined fix.
    """
    if failures.is_empty():
        return failures.with_columns(pl.lit(None, dtype=pl.String).alias(SUGGESTION))
    cat = load_catalogue()
    parts = []
    for (label,), part in failures.group_by("label", maintain_order=True):
        code, rule = str(label).split("|", 1)
        maker = MAKERS.get(rule)
        if maker is None or code not in frame.columns:
            parts.append(part.with_columns(pl.lit(None, dtype=pl.String).alias(SUGGESTION)))
            continue
        values = frame[code].gather(part["index"])
        fixed = maker(cat, spec.field(code), values).cast(pl.String)
        parts.append(part.with_columns(fixed.alias(SUGGESTION)))
    return pl.concat(parts)
