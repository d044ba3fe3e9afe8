"""What happened to one file: its outcome, its fingerprint, and the quarantine.

Uploads and ledgers end the same ways — stored, skipped (the same file again) or quarantined
with a Chinese reason — so both ingest paths report through :class:`IngestResult` and put an
unusable file aside with :func:`quarantine`.  Nothing is ever dropped.
"""

from __future__ import annotations

import shutil
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

from sgs.clock import office_now
from sgs.config import data_root
from sgs.files import write_atomically
from sgs.intake.landing import UNDATED, Arrival
from sgs.store import database
from sgs.store.sql import one, run


@dataclass
class IngestResult:
    """What happened to one file; ``message`` is the Chinese line shown to people."""

    path: str
    status: str  # stored | skipped | quarantined | ignored (left by its name, not read)
    message: str
    unit_code: str | None = None
    kind: str | None = None
    received: str | None = None
    batch_id: int | None = None
    rows_read: int = 0
    rows_stored: int = 0
    rows_valid: int = 0
    rows_failing: int = 0
    blank_rows: int = 0
    errors: int = 0
    warnings: int = 0
    reason: str | None = None
    unknown_columns: list[str] = field(default_factory=list)
    sha256: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def skipped(arr: Arrival, unit_code: str, kind: str, batch_id: int) -> IngestResult:
    return IngestResult(
        path=str(arr.path), status="skipped", message=f"该文件此前已入库（批次 {batch_id}），未重复入库",
        unit_code=unit_code, kind=kind, received=arr.received.isoformat(), batch_id=batch_id,
    )  # fmt: skip


# Quarantine reasons the office fixes by configuration: the unit registry, the manifest, the
# landing folders (one dated after today too), a ledger's month.  A file quarantined for one of
# them is tried again by every daily run until it is stored.  Every other reason is the file's
# content (unreadable, refused layout, missing columns, …): the same bytes would get the same
# verdict, so it is not retried.
CONFIGURATION_REASONS = (
    "manifest_unreadable", "manifest_entry", "no_unit", "no_received_date", "unknown_unit",
    "ledger_period", "received_future",
)  # fmt: skip


def is_configuration(reason: str | None) -> bool:
    return reason in CONFIGURATION_REASONS


def quarantine(
    arr: Arrival, sha: str, reason: str, message: str, unit_code: str | None, kind: str | None,
    root: Path | None = None,
) -> IngestResult:  # fmt: skip
    """Keep an unusable file out of the store but never lose it: copy it aside with its reason."""
    return quarantine_file(arr.path, arr.received, sha, reason, message, unit_code, kind, root)


def quarantine_file(
    path: Path, received: date | None, sha: str, reason: str, message: str,
    unit_code: str | None, kind: str | None, root: Path | None = None,
) -> IngestResult:  # fmt: skip
    """Copy the file to ``quarantine/<received date>/`` (``quarantine/undated/`` when its date is
    unknown, e.g. under a broken manifest) and log it once per file, place and reason.

    ``kind`` is the kind the file was declared as (option or manifest), null when it was to be
    recognised from its content: the daily run compares it to decide whether a file
    quarantined for its content is the same case again.
    """
    folder = (root or data_root()) / "quarantine" / (received.isoformat() if received else UNDATED)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{sha[:12]}_{path.name}"
    if not target.exists():  # a copy cut short by a kill must not pass for the file later
        write_atomically(target, lambda scratch: shutil.copy2(path, scratch))
    with database.writer(root) as con:
        seen = one(
            con,
            "SELECT count(*) FROM quarantine WHERE sha256 = ? AND source_path = ? AND reason_code = ?",
            [sha, str(path), reason],
        )[0]  # type: ignore[index]
        if not seen:
            run(con,
                "INSERT INTO quarantine VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [sha, path.name, str(path), str(target), unit_code, kind, received,
                 reason, message, office_now()],
            )  # fmt: skip
    return IngestResult(
        path=str(path), status="quarantined", message=f"已隔离：{message}",
        unit_code=unit_code, kind=kind, received=received.isoformat() if received else None,
        reason=reason, sha256=sha,
    )  # fmt: skip
