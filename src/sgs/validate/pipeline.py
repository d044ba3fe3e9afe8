"""Validate an upload: read, normalise, run the pandera schema, and build the error table.

The error table is the product's central artefact: one row per (record, field, rule) failure
with the spreadsheet row, the field code, a stable rule code, severity, a Chinese message and the
value exactly as the unit wrote it, and the corrected value where the fix is determined
(:mod:`sgs.validate.suggestions`).  Every later output (CLI, feedback lists, the store) is a
view of it.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path

import polars as pl

from sgs.clock import office_today
from sgs.errors import refusing_the_unexpected
from sgs.intake.readers import SheetInfo, Upload, read_file
from sgs.reference.catalogue import Kind, load_catalogue
from sgs.validate.normalise import ROW, normalise
from sgs.validate.rules import build_rules, prepare
from sgs.validate.suggestions import SUGGESTION, add_suggestions

ERROR_SCHEMA = {
    "sheet": pl.String,  # the workbook sheet of the row; null for a CSV
    "row": pl.Int64,
    "field": pl.String,
    "rule": pl.String,
    "severity": pl.String,
    "message": pl.String,
    "value": pl.String,
    "suggestion": pl.String,  # the whole corrected value where the fix is determined, else null
}


@dataclass
class Validation:
    upload: Upload
    received: date
    frame: pl.DataFrame  # normalised fields plus the helper columns the rules read
    errors: pl.DataFrame

    @property
    def kind(self) -> Kind:
        return self.upload.kind

    @property
    def rows(self) -> int:
        return self.upload.rows

    @property
    def failing_rows(self) -> int:
        """Records with at least one error (warnings do not make a record non-compliant)."""
        failing = self.errors.filter(pl.col("severity") == "error")
        return failing.select(pl.struct("sheet", "row").n_unique()).item() if failing.height else 0

    @property
    def ok(self) -> bool:
        return self.failing_rows == 0

    @cached_property
    def verdicts(self) -> pl.DataFrame:
        """Per record: ``__row``, ``valid`` (no error), and its numbers of errors and warnings
        (worked out once, when the store first asks; ``sgs validate`` never does)."""
        counts = self.errors.group_by("sheet", "row").agg(
            (pl.col("severity") == "error").sum().cast(pl.Int32).alias("errors"),
            (pl.col("severity") == "warning").sum().cast(pl.Int32).alias("warnings"),
        )
        records = pl.DataFrame([self.upload.sheet_column().alias("sheet"), self.frame[ROW]])
        return (
            records.join(
                counts,
                left_on=["sheet", ROW],
                right_on=["sheet", "row"],
                how="left",
                maintain_order="left",
                nulls_equal=True,
            )
            .with_columns(pl.col("errors", "warnings").fill_null(0))
            .with_columns((pl.col("errors") == 0).alias("valid"))
        )


def preload() -> threading.Thread:
    """Import pandera in the background while the file is read (it takes about a second)."""
    loader = threading.Thread(
        target=importlib.import_module, args=("sgs.validate.pandera_schema",), daemon=True
    )
    loader.start()
    return loader


def rule_table(kind: Kind) -> pl.DataFrame:
    """Label, field, rule, severity, message and sort order of every rule of a kind."""
    rules = build_rules(kind)
    spec = load_catalogue().kind(kind)
    position = {code: i for i, code in enumerate(spec.codes)}
    return pl.DataFrame(
        {
            "label": [r.label for r in rules],
            "field": [r.field for r in rules],
            "rule": [r.rule for r in rules],
            "severity": [r.severity for r in rules],
            "message": [r.message for r in rules],
            "_order": [position[r.field] * 100 + i for i, r in enumerate(rules)],
        }
    )


def build_errors(
    raw: pl.DataFrame,
    failures: pl.DataFrame,
    rules: pl.DataFrame,
    sheets: pl.Series | None = None,
) -> pl.DataFrame:
    """Failures ``(index, label)`` -> the error table, with original values and row numbers.

    ``raw`` holds the cells as written with ``__row``; ``index`` is a position in it; ``rules``
    gives each label its field, rule, severity, message and sort order (:func:`rule_table`);
    ``sheets`` the sheet of each row of a workbook.  Uploads and ledgers both report through
    here, so their errors have one shape; they come in the order of the file (sheet by sheet,
    row by row), then of the fields.  ``failures`` may carry a ``suggestion`` column
    (:func:`sgs.validate.suggestions.add_suggestions`); without it suggestions are null.
    """
    if failures.is_empty():
        return pl.DataFrame(schema=ERROR_SCHEMA)
    if SUGGESTION not in failures.columns:
        failures = failures.with_columns(pl.lit(None, dtype=pl.String).alias(SUGGESTION))
    found = failures.join(rules, on="label", how="left")
    parts = []
    for (code,), part in found.group_by("field", maintain_order=True):
        if code in raw.columns:
            values = raw[code]
        else:
            values = pl.repeat(None, raw.height, dtype=pl.String, eager=True)
        parts.append(
            part.with_columns(
                raw[ROW].gather(part["index"]).alias("row"),
                values.gather(part["index"]).alias("value"),
                (
                    sheets.gather(part["index"])
                    if sheets is not None
                    else pl.repeat(None, part.height, dtype=pl.String, eager=True)
                ).alias("sheet"),
            )
        )
    return pl.concat(parts).sort(["index", "_order"]).select(list(ERROR_SCHEMA)).cast(ERROR_SCHEMA)


def validate_upload(upload: Upload, received: date | None = None) -> Validation:
    """Run every rule on an upload that has been read."""
    from sgs.validate.pandera_schema import failure_table

    received = received or office_today()
    spec = load_catalogue().kind(upload.kind)
    frame = prepare(normalise(upload.frame, spec.fields), spec, received)
    failures = add_suggestions(failure_table(upload.kind, frame), frame, spec)
    errors = build_errors(upload.frame, failures, rule_table(upload.kind), upload.row_sheets)
    return Validation(upload, received, frame, errors)


def validate_uploads(uploads: Sequence[tuple[Upload, date]]) -> list[Validation]:
    """Validate several uploads, each with its received date, as one frame per kind.

    What a validation costs is mostly fixed (pandera runs each of some 75 checks as its own
    pass, normalising and preparing run a few dozen polars operations per field), so a 30-row
    file costs about as much as 3,000 rows.  Every rule reads one record (its fields, its
    received date, the helpers derived from them), so the uploads of a kind are stacked,
    checked once, and the failures dealt back to their files: each result equals
    :func:`validate_upload` of that upload alone (tests/test_validate_together.py holds the two
    against each other over the samples and the hostile corpus).
    """
    results: list[Validation | None] = [None] * len(uploads)
    by_kind: dict[Kind, list[int]] = {}
    for i, (upload, _) in enumerate(uploads):
        by_kind.setdefault(upload.kind, []).append(i)
    for kind, members in by_kind.items():
        if len(members) == 1:
            upload, received = uploads[members[0]]
            results[members[0]] = validate_upload(upload, received)
            continue
        for i, validation in zip(members, _validate_stacked(kind, [uploads[i] for i in members]),
                                 strict=True):  # fmt: skip
            results[i] = validation
    return [v for v in results if v is not None]


def _validate_stacked(kind: Kind, uploads: list[tuple[Upload, date]]) -> list[Validation]:
    from sgs.validate.pandera_schema import failure_table

    spec = load_catalogue().kind(kind)
    sizes = [upload.rows for upload, _ in uploads]
    raw = pl.concat([upload.frame for upload, _ in uploads], how="diagonal_relaxed")
    received = pl.concat(
        [pl.repeat(day, n, dtype=pl.Date, eager=True) for (_, day), n in zip(uploads, sizes,
                                                                             strict=True)]
    )  # fmt: skip
    files = pl.concat([pl.repeat(i, n, dtype=pl.UInt32, eager=True) for i, n in enumerate(sizes)])
    frame = prepare(normalise(raw, spec.fields), spec, received, files)
    failures = add_suggestions(failure_table(kind, frame), frame, spec)
    rules = rule_table(kind)
    out, start = [], 0
    for (upload, day), n in zip(uploads, sizes, strict=True):
        mine = failures.filter(pl.col("index").is_between(start, start + n - 1)).with_columns(
            pl.col("index") - start
        )
        errors = build_errors(upload.frame, mine, rules, upload.row_sheets)
        out.append(Validation(upload, day, frame.slice(start, n), errors))
        start += n
    return out


def validate_file(
    path: str | Path,
    kind: Kind | None = None,
    received: date | None = None,
    stage: Callable[[str, int | None], None] | None = None,
) -> Validation:
    """Read and validate one file; :class:`sgs.errors.FileRefused` if it cannot be read.

    Nothing a file holds may end in a traceback: an unexpected failure while reading or
    checking it refuses the file (it is quarantined by ingest) with a reason in Chinese.
    ``stage``, if given, hears when reading (``"read", None``) and checking (``"check"``, the
    number of records) begin, for a progress display.
    """
    loader = preload()
    received = received or office_today()  # a wrong office_timezone is the office's, not the file's
    if stage is not None:
        stage("read", None)
    upload = read_file(path, kind)
    loader.join()
    if stage is not None:
        stage("check", upload.rows)
    with refusing_the_unexpected(path):
        return validate_upload(upload, received)


def validate_records(
    kind: Kind, records: list[dict[str, str | None]], received: date | None = None
) -> Validation:
    """Validate records given as dicts of field code -> text, as if read from a plain CSV.

    Row numbers start at 2, as in a CSV whose first line is the header.  Fields missing from
    every record are absent columns.  This is the entry point for rule tests and for callers
    that already hold records in memory.
    """
    from pathlib import Path as _Path

    codes = load_catalogue().kind(kind).codes
    present = [c for c in codes if any(c in r for r in records)]
    frame = pl.DataFrame(
        {c: pl.Series([r.get(c) for r in records], dtype=pl.String) for c in present}
    ).with_columns(pl.int_range(2, 2 + pl.len(), dtype=pl.Int64).alias(ROW))
    upload = Upload(
        path=_Path("<records>"),
        kind=kind,
        layout="current",
        format="records",
        frame=frame.select(ROW, *present),
        extras=pl.DataFrame(),
        header_row=1,
        sheets=[SheetInfo(None, frame.height, True)],
    )
    loader = preload()
    loader.join()
    return validate_upload(upload, received)
