"""Normalisation of raw upload cells before any rule runs.

Each field is trimmed and blank-like values become null; fields that carry codes, enumerations,
dates or amounts are also NFKC-normalised (full-width -> half-width) and, for codes,
upper-cased.  Prose fields (names, contents, facts) are only trimmed: NFKC would turn correct
Chinese punctuation into half-width ASCII in text that is published as written.

Real uploads are mostly clean and highly repetitive, so each step first finds the cells it
would change and transforms only their distinct values; a clean column is returned as it came
and keeps sharing memory with the raw frame.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import polars as pl

from sgs.config import cached_on_file, catalogue_path
from sgs.intake.sheets import ROW
from sgs.reference.catalogue import Field, LedgerField, load_catalogue
from sgs.validate.parallel import thread_map

# Unicode White_Space plus the zero-width characters that survive copy-paste from web pages.
WHITESPACE = (
    " \t\n\r\x0b\x0c\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\u200b\u200c\u200d\ufeff"
)
NFKC_TYPES = frozenset({"uscc", "org_code", "enum", "enum_list", "date", "amount"})

DATE_FORMAT_GATE = r"^\d{4}(?:/\d{1,2}/\d{1,2}|-\d{1,2}-\d{1,2}|\d{4}|年\d{1,2}月\d{1,2}日)$"
DATE_FORMATS = ("%Y/%m/%d", "%Y-%m-%d", "%Y%m%d", "%Y年%m月%d日")
MIDNIGHT_SUFFIX = r"\s+0{1,2}:00(?::00(?:\.0+)?)?$"

# The official bracket of a document number is 〔〕 (GB/T 9704); other styles map to it.
DOC_BRACKETS = {
    "[": "〔",
    "]": "〕",
    "【": "〔",
    "】": "〕",
    "〖": "〔",
    "〗": "〕",
    "(": "〔",
    ")": "〕",
}
# Characters that NFKC, blank removal, upper-casing or bracket unification would change.
DOC_NEEDS_FIX = r"[\s\[\]()【】〖〗a-z\u3000\uff01-\uff5e]"

# Upload fields and ledger fields are normalised alike, by their type.
AnyField = Field | LedgerField

# How many non-null values are looked at to judge a column's repetitiveness; the share of
# distinct values in them up to which a column is normalised per distinct value, and above
# which :func:`per_distinct` evaluates per row.
DISTINCT_SAMPLE = 20_000
REPETITIVE = 0.1
MOSTLY_DISTINCT = 0.5


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


# Longer than any configured blank-like value (checked in the tests).
BLANK_MAX_BYTES = 16


@cached_on_file(catalogue_path, size=4)
def blank_variants() -> list[str]:
    """The configured blank-like values in every case and width a clerk may type them."""
    out: set[str] = set()
    for value in load_catalogue().blank_values:
        for v in {value, value.upper(), value.lower(), value.capitalize()}:
            out |= {v, _fullwidth(v)}
    return sorted(out)


def is_nfkc_field(f: AnyField) -> bool:
    return f.type in NFKC_TYPES or f.is_code


def replace_values(s: pl.Series, old: pl.Series, new: pl.Series) -> pl.Series:
    """``s.replace(old, new)``, touching only the rows that can hold one of ``old``.

    Replacing looks every row up by its whole text; a prose column with a few dirty values
    would be hashed in full.  A row can only hold one of ``old`` if its byte length is one of
    theirs, and lengths are free to read: only those rows are looked up.
    """
    lengths = old.str.len_bytes().unique()
    candidates = s.str.len_bytes().is_in(lengths.implode()).fill_null(False)
    rows = candidates.arg_true()
    if rows.len() * 2 > s.len():
        return s.replace(old, new)
    return s.scatter(rows, s.gather(rows).replace(old, new))


def changed_only(s: pl.Series, fix: pl.Expr, needs: pl.Expr) -> pl.Series:
    """Apply ``fix`` to the distinct values flagged by ``needs`` and map back those it changes.

    Both are expressions over ``pl.col("v")``.  Unflagged values are never touched, so each
    value is normalised on its own, whatever else the column holds.
    """
    flags = pl.DataFrame({"v": s}).select(needs.fill_null(False)).to_series()
    flagged = flags.sum()
    if not flagged:
        return s
    # When most rows are flagged (an enumeration written in Chinese), skip the filtered copy.
    candidates = s if flagged * 2 > s.len() else s.filter(flags)
    distinct = candidates.drop_nulls().unique()
    v = pl.col("v")
    fixed = pl.DataFrame({"v": distinct}).select(pl.when(needs).then(fix).otherwise(v)).to_series()
    changed = (distinct != fixed).fill_null(True)
    if not changed.any():
        return s
    return replace_values(s, distinct.filter(changed), fixed.filter(changed))


def _survey(raw: pl.DataFrame, fields: list[AnyField]) -> dict[str, object]:
    """One parallel pass of cheap per-column facts that decide which fixes a column needs.

    Nothing full-size is kept: whether trimming would remove anything is learnt from byte
    totals, so a clean million-row file is never held twice in memory.
    """
    exprs: list[pl.Expr] = []
    for f in fields:
        col = pl.col(f.code)
        exprs.append(col.str.len_bytes().sum().alias(f"{f.code}|bytes"))
        exprs.append(col.str.strip_chars().str.len_bytes().sum().alias(f"{f.code}|trimmed"))
        # Blank-like values are short: hash only the short cells, not every prose text.
        short = col.filter(col.str.len_bytes() <= BLANK_MAX_BYTES)
        exprs.append((short.is_in(blank_variants()) | (short == "")).any().alias(f"{f.code}|blank"))
        if is_nfkc_field(f):
            exprs.append((col.str.len_bytes() != col.str.len_chars()).any().alias(f"{f.code}|nfkc"))
        if f.is_code:
            exprs.append(col.str.contains("[a-z]").any().alias(f"{f.code}|upper"))
    if not exprs:
        return {}
    return raw.lazy().select(exprs).collect().row(0, named=True)


def normalise_column(s: pl.Series, f: AnyField, facts: dict[str, object]) -> pl.Series:
    """Trim; NFKC and upper-case code-like fields; blank-like values become null.

    Each step runs only if the survey says it can change something, and then only on the
    distinct values it changes; an untouched column is returned as the same Series.
    """
    v = pl.col("v")
    trimmed = facts[f"{f.code}|bytes"] != facts[f"{f.code}|trimmed"]
    if trimmed:
        s = s.str.strip_chars()
    nfkc = bool(facts.get(f"{f.code}|nfkc"))
    if nfkc:
        fix = v.str.normalize("NFKC").str.strip_chars(WHITESPACE)
        s = changed_only(s, fix, v.str.len_bytes() != v.str.len_chars())
    # NFKC can produce lower-case letters (full-width ｘ -> x): look again after it.
    if f.is_code and (facts.get(f"{f.code}|upper") or nfkc):
        s = changed_only(s, v.str.to_uppercase(), v.str.contains("[a-z]"))
    if facts[f"{f.code}|blank"] or trimmed or nfkc:
        blank = (s.is_in(blank_variants()) | (s == "")).fill_null(False)
        if blank.any():
            s = s.zip_with(~blank, pl.Series([None], dtype=pl.String))
    return s.alias(f.code)


def distinct_share(s: pl.Series) -> float:
    """The share of distinct values among the column's first non-null values (0 if none).

    Uploads are not sorted by any field, so their head is a fair sample; it costs a few
    milliseconds where counting the whole column would cost a hash pass.
    """
    head = s.head(DISTINCT_SAMPLE) if not s.null_count() else s.drop_nulls().head(DISTINCT_SAMPLE)
    return head.n_unique() / head.len() if head.len() else 0.0


def is_repetitive(s: pl.Series) -> bool:
    """Whether a column holds few distinct values (enumerations, dates, authorities): such a
    column is cheaper to normalise per distinct value than to survey cell by cell."""
    return distinct_share(s) <= REPETITIVE


def normalise_expr(f: AnyField, v: pl.Expr) -> pl.Expr:
    """The steps of :func:`normalise_column` as one expression applied to every value, with
    the same result.  For a handful of values (the distinct values of a repetitive column, the
    odd values of a code column) there is nothing to gain from finding out first which steps
    can change something.
    """
    trimmed = out = v.str.strip_chars()
    if is_nfkc_field(f):
        non_ascii = trimmed.str.len_bytes() != trimmed.str.len_chars()
        nfkc = trimmed.str.normalize("NFKC").str.strip_chars(WHITESPACE)
        out = pl.when(non_ascii).then(nfkc).otherwise(trimmed)
    if f.is_code:
        out = pl.when(out.str.contains("[a-z]")).then(out.str.to_uppercase()).otherwise(out)
    return pl.when(out.is_in(blank_variants()) | (out == "")).then(None).otherwise(out)


def normalise_values(values: pl.Series, f: AnyField) -> pl.Series:
    """:func:`normalise_expr` over a Series."""
    return pl.DataFrame({"v": values}).select(normalise_expr(f, pl.col("v"))).to_series()


# A code (credit code, ID number, registration number) needs no normalisation unless it holds
# something other than digits and capital letters: blanks, lower case, full-width characters,
# a blank-like word.  One scan finds those values.
CODE_NEEDS_FIX = "[^0-9A-Z]"


def normalise_code(s: pl.Series, f: AnyField) -> pl.Series:
    """:func:`normalise_column` for a code field: one scan, then only the odd values."""
    v = pl.col("v")
    return changed_only(s, normalise_expr(f, v), v.str.contains(CODE_NEEDS_FIX) | (v == ""))


def normalise_repetitive(s: pl.Series, f: AnyField) -> pl.Series:
    """:func:`normalise_column` for a column of few distinct values: each is normalised once,
    and the column is only rewritten where a value changes."""
    distinct = s.unique().drop_nulls()
    fixed = normalise_values(distinct, f)
    changed = (distinct != fixed).fill_null(True)
    if not changed.any():
        return s.alias(f.code)
    return replace_values(s, distinct.filter(changed), fixed.filter(changed)).alias(f.code)


def normalise(raw: pl.DataFrame, fields: Sequence[AnyField]) -> pl.DataFrame:
    """``__row`` plus every field (of a kind, or of the ledger), normalised; absent fields are
    null columns.

    ``raw`` holds text columns named by field code and the spreadsheet row number in ``__row``.
    Repetitive columns are normalised per distinct value, code columns by their odd values,
    the others after a survey.
    """
    present = [f for f in fields if f.code in raw.columns]
    repetitive = {f.code for f in present if is_repetitive(raw[f.code])}
    surveyed = [f for f in present if f.code not in repetitive and not f.is_code]
    facts = _survey(raw, surveyed)

    def one(f: AnyField) -> pl.Series:
        if f.code in repetitive:
            return normalise_repetitive(raw[f.code], f)
        if f.is_code:
            return normalise_code(raw[f.code], f)
        return normalise_column(raw[f.code], f, facts)

    done = dict(zip([f.code for f in present], thread_map(one, present), strict=True))
    columns = [raw[ROW]]
    for f in fields:
        if f.code in done:
            columns.append(done[f.code])
        else:
            columns.append(pl.repeat(None, raw.height, dtype=pl.String, eager=True).alias(f.code))
    return pl.DataFrame(columns)


def parse_date(s: pl.Expr) -> pl.Expr:
    """A Date from the accepted notations, null for anything else (including 2022/02/30)."""
    t = s.str.replace(MIDNIGHT_SUFFIX, "")
    parsed = pl.coalesce(*(t.str.to_date(fmt, strict=False) for fmt in DATE_FORMATS))
    return pl.when(t.str.contains(DATE_FORMAT_GATE)).then(parsed)


def document_key(s: pl.Series) -> pl.Series:
    """The 文书号 as matched across uploads and ledgers: width, blanks and bracket style removed.

    长审批〔2022〕12号, 长审批[2022]12号 and 长审批（2022） 12号 are one decision.
    """
    return changed_only(s, document_key_expr(pl.col("v")), pl.col("v").str.contains(DOC_NEEDS_FIX))


def document_key_expr(s: pl.Expr) -> pl.Expr:
    """:func:`document_key` as a plain expression, applied to every value."""
    fix = s.str.normalize("NFKC").str.replace_all(r"\s+", "").str.to_uppercase()
    return fix.str.replace_many(list(DOC_BRACKETS), list(DOC_BRACKETS.values()))


def per_distinct(
    s: pl.Series, fn: pl.Expr | Callable[[pl.Series], pl.Series], dtype: pl.DataType
) -> pl.Series:
    """``fn`` evaluated once per distinct non-null value of ``s``; nulls stay null.

    ``fn`` is an expression over ``pl.col("v")`` or a function of a Series.  Identifier checks
    and date parsing are the costliest rules; on the repetitive columns of real uploads
    (authority codes, dates) this evaluates them a few hundred times instead of a million.
    Finding the distinct values and mapping back costs two hash passes, more than the
    vectorised identifier checks themselves on a column of mostly distinct values (subjects'
    codes): such a column, judged from its first non-null values, is evaluated directly —
    on its non-null values when most are null, else on the whole column.
    """

    def apply(values: pl.Series) -> pl.Series:
        if isinstance(fn, pl.Expr):
            return pl.DataFrame({"v": values}).select(fn.cast(dtype)).to_series()
        return fn(values).cast(dtype)

    nulls = s.null_count()
    if distinct_share(s) > MOSTLY_DISTINCT:
        if nulls * 2 > s.len():
            present = s.is_not_null()
            empty = pl.repeat(None, s.len(), dtype=dtype, eager=True)
            return empty.scatter(present.arg_true(), apply(s.filter(present))).alias(s.name)
        out = apply(s)
        if nulls:  # whatever ``fn`` makes of a null, a missing value stays missing
            out = out.zip_with(s.is_not_null(), pl.Series([None], dtype=dtype))
        return out.alias(s.name)
    distinct = s.unique().drop_nulls()
    return s.replace_strict(distinct, apply(distinct), default=None, return_dtype=dtype)
