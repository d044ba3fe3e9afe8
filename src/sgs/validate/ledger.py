"""Checking a unit's monthly ledger (台账) — validation like an upload's.

A ledger lists every permit and penalty decision a unit made in a month; completeness compares
it with what reached the platform.  Its columns are defined in ``schemas/standard.toml``
(``[ledger]``) and may come in any order, below title rows, as CSV or XLSX.  Cells go through
the same normaliser as uploads (so a name keeps its full-width punctuation: prose is only
trimmed) and problems come out in the same error table, with the same messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from sgs.intake.ledgers import SHEET, LedgerSheets, read_ledger_sheets
from sgs.intake.readers import SheetInfo, sheets_note
from sgs.labels import kind_of_name
from sgs.periods import period_bounds
from sgs.reference.catalogue import load_catalogue
from sgs.validate.normalise import document_key, normalise, parse_date
from sgs.validate.pipeline import build_errors

# Helper columns the checks and the store read (never shown): the 文书号 as the unit wrote it
# (trimmed), the parsed decision date, the matching key of the 文书号 and the record kind.
DOC_NUMBER, DATE, DOC_KEY, KIND = "__doc_number", "__date", "__doc_key", "__kind"


@dataclass
class LedgerRead:
    frame: pl.DataFrame  # __row, __sheet + ledger field codes, normalised, + the helper columns
    raw: pl.DataFrame  # __row, __sheet + ledger field codes, as written
    errors: pl.DataFrame  # the error table: sheet, row, field, rule, severity, message, value
    blank_rows: int
    sheets: list[SheetInfo]

    @property
    def note(self) -> str | None:
        """The sheets read and skipped, as for an upload (:func:`sgs.intake.readers.sheets_note`)."""
        return sheets_note(self.sheets)


def read_ledger(path: Path, period: str) -> LedgerRead:
    """Read and check a ledger file; :class:`FileRefused` when it cannot be a ledger.

    Every visible sheet whose header is a ledger's is read, as for uploads.
    """
    period_bounds(period)  # a malformed period fails before the file is read
    sheets = read_ledger_sheets(path)
    return check_ledger_sheets(sheets, period)


def check_ledger_sheets(sheets: LedgerSheets, period: str) -> LedgerRead:
    """Normalise and check a ledger's rows as read by the intake stage."""
    fields = load_catalogue().ledger_fields
    raw = sheets.raw
    norm = normalise(raw.drop(SHEET), fields).with_columns(
        raw[SHEET],
        pl.col("WSH").alias(DOC_NUMBER),  # shown as the unit wrote it, trimmed
        parse_date(pl.col("JDRQ")).alias(DATE),
        pl.col("LB").replace_strict(kind_of_name(), default=None).alias(KIND),
    )
    norm = norm.with_columns(document_key(norm["WSH"]).alias(DOC_KEY))
    errors = check_ledger(norm, raw, period)
    return LedgerRead(norm, raw, errors, sheets.blank_rows, sheets.sheets)


def first_entry() -> pl.Expr:
    """False on an entry that repeats an earlier one of the same ledger (counted once).

    One 文书号 may cover several subjects (joint decisions): an entry repeats an earlier one only
    when the kind, the 文书号 and the subject are the same too, by name or by code.
    """
    by_name = pl.struct(KIND, DOC_KEY, "XDR_MC").is_first_distinct()
    by_code = pl.struct(KIND, DOC_KEY, "XDR_DM").is_first_distinct()
    return pl.col(DOC_KEY).is_null() | (by_name & (by_code | pl.col("XDR_DM").is_null()))


def check_ledger(norm: pl.DataFrame, raw: pl.DataFrame, period: str) -> pl.DataFrame:
    """Every problem of every ledger row, as vectorised rules, in the upload error table."""
    cat = load_catalogue()
    start, end = period_bounds(period)
    checks: list[tuple[str, str, pl.Expr, dict]] = []
    for f in cat.ledger_fields:
        col = pl.col(f.code)
        if f.required == "always":
            checks.append((f.code, "required", col.is_not_null(), {}))
        if f.values:
            checks.append((f.code, "allowed_values", col.is_null() | col.is_in(f.values),
                           {"allowed": "、".join(f.values)}))  # fmt: skip
        if f.max_length:
            checks.append((f.code, "max_length", col.is_null() | (col.str.len_chars() <= f.max_length),
                           {"max": f.max_length}))  # fmt: skip
    d = pl.col(DATE)
    checks.append(("JDRQ", "date_format", pl.col("JDRQ").is_null() | d.is_not_null(), {}))
    checks.append(("JDRQ", "ledger_period", d.is_null() | ((d >= start) & (d < end)), {}))
    checks.append(("WSH", "ledger_duplicate", first_entry(), {}))

    names = {f.code: f.name for f in cat.ledger_fields}
    position = {f.code: i for i, f in enumerate(cat.ledger_fields)}
    labels = [f"{code}|{rule}" for code, rule, _, _ in checks]
    rules = pl.DataFrame(
        {
            "label": labels,
            "field": [code for code, _, _, _ in checks],
            "rule": [rule for _, rule, _, _ in checks],
            "severity": [cat.rule(rule).severity for _, rule, _, _ in checks],
            "message": [
                cat.rule(rule).message.format(name=names[code], **fmt)
                for code, rule, _, fmt in checks
            ],
            "_order": [position[code] * 100 + i for i, (code, _, _, _) in enumerate(checks)],
        }
    )
    flags = norm.select(
        ok.alias(label) for label, (_, _, ok, _) in zip(labels, checks, strict=True)
    )
    failures = (
        flags.with_row_index("index")
        .unpivot(index="index", variable_name="label", value_name="ok")
        .filter(~pl.col("ok"))
        .select(pl.col("index").cast(pl.Int64), "label")
    )
    sheets = raw[SHEET] if SHEET in raw.columns else None
    return build_errors(raw, failures, rules, sheets)
