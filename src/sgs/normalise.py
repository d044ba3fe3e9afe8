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

import unicodedata
from functools import cache

import polars as pl

from sgs.catalogue import Field, KindSpec, load_catalogue

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

ROW = "__row"


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@cache
def blank_variants() -> list[str]:
    """The configured blank-like values in every case and width a clerk may type them."""
    out: set[str] = set()
    for value in load_catalogue().blank_values:
        for v in {value, value.upper(), value.lower(), value.capitalize()}:
            out |= {v, _fullwidth(v)}
    return sorted(out)


def is_nfkc_field(f: Field) -> bool:
    return f.type in NFKC_TYPES or f.is_code


def changed_only(s: pl.Series, fix: pl.Expr, needs: pl.Series) -> pl.Series:
    """Apply ``fix`` (an expression over ``pl.col("v")``) to the distinct flagged values."""
    needs = needs.fill_null(False)
    if not needs.any():
        return s
    distinct = s.filter(needs).unique()
    fixed = pl.DataFrame({"v": distinct}).select(fix).to_series()
    return s.replace(distinct, fixed)


def normalise(raw: pl.DataFrame, spec: KindSpec) -> pl.DataFrame:
    """``__row`` plus every field of the kind, normalised; absent fields are null columns.

    ``raw`` holds text columns named by field code and the spreadsheet row number in ``__row``.
    Trimming runs as one parallel select; NFKC and upper-casing then touch only the distinct
    values that need them.
    """
    present = [f for f in spec.fields if f.code in raw.columns]
    # polars' default strip (Unicode White_Space) is the fast path; zero-width characters are
    # non-ASCII, so code-like fields lose them in the NFKC step below.
    trimmed = (
        raw.lazy()
        .select(pl.col(ROW), *(pl.col(f.code).str.strip_chars() for f in present))
        .collect()
    )
    flags = (
        trimmed.lazy()
        .select(
            *(
                (pl.col(f.code).str.len_bytes() != pl.col(f.code).str.len_chars())
                .any()
                .alias(f"{f.code}|nfkc")
                for f in present
                if is_nfkc_field(f)
            ),
            *(
                pl.col(f.code).str.contains("[a-z]").any().alias(f"{f.code}|upper")
                for f in present
                if f.is_code
            ),
            *(
                (pl.col(f.code).is_in(blank_variants()) | (pl.col(f.code) == ""))
                .any()
                .alias(f"{f.code}|blank")
                for f in present
            ),
        )
        .collect()
        .row(0, named=True)
    )

    v = pl.col("v")
    columns = [trimmed[ROW]]
    for f in spec.fields:
        if f.code not in trimmed.columns:
            columns.append(pl.repeat(None, raw.height, dtype=pl.String, eager=True).alias(f.code))
            continue
        s = trimmed[f.code]
        if flags.get(f"{f.code}|nfkc"):
            fix = v.str.normalize("NFKC").str.strip_chars(WHITESPACE)
            s = changed_only(s, fix, s.str.len_bytes() != s.str.len_chars())
        # NFKC can produce lower-case letters (full-width ｘ -> x): look again after it.
        if f.is_code and (flags.get(f"{f.code}|upper") or flags.get(f"{f.code}|nfkc")):
            s = changed_only(s, v.str.to_uppercase(), s.str.contains("[a-z]"))
        if flags.get(f"{f.code}|blank") or flags.get(f"{f.code}|nfkc"):
            blank = (s.is_in(blank_variants()) | (s == "")).fill_null(False)
            if blank.any():
                s = s.zip_with(~blank, pl.Series([None], dtype=pl.String))
        columns.append(s.alias(f.code))
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
    return changed_only(s, document_key_expr(pl.col("v")), s.str.contains(DOC_NEEDS_FIX))


def document_key_expr(s: pl.Expr) -> pl.Expr:
    """:func:`document_key` as a plain expression, applied to every value."""
    fix = s.str.normalize("NFKC").str.replace_all(r"\s+", "").str.to_uppercase()
    return fix.str.replace_many(list(DOC_BRACKETS), list(DOC_BRACKETS.values()))


def per_distinct(s: pl.Series, fn: pl.Expr, dtype: pl.DataType) -> pl.Series:
    """``fn`` (over ``pl.col("v")``) evaluated once per distinct non-null value of ``s``.

    Identifier checks and date parsing are the costliest rules; on the repetitive columns of
    real uploads (authority codes, dates) this evaluates them a few hundred times instead of a
    million.  Columns of mostly distinct values are evaluated directly.
    """
    distinct = s.drop_nulls().unique()
    if distinct.len() * 4 > s.len():
        return pl.DataFrame({"v": s}).select(fn.cast(dtype)).to_series().alias(s.name)
    values = pl.DataFrame({"v": distinct}).select(fn.cast(dtype)).to_series()
    return s.replace_strict(distinct, values, default=None, return_dtype=dtype)


def nfkc(text: str) -> str:
    """Scalar NFKC + trim, for values outside frames (options, ledger look-ups)."""
    return unicodedata.normalize("NFKC", text).strip(WHITESPACE)
