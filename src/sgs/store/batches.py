"""What happened to one file: its outcome, its fingerprint, and the quarantine.

Uploads and ledgers end the same ways — stored, skipped (the same file again) or quarantined
with a Chinese reason — so both ingest paths report through :class:`IngestResult` and put an
unusable file aside with :func:`quarantine`.  Nothing is ever dropped.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from sgs.config import data_root
from sgs.store import database
from sgs.store.database import one, run
from sgs.store.landing import Arrival


@dataclass
class IngestResult:
    """What happened to one file; ``message`` is the Chinese line shown to people."""

    path: str
    status: str  # stored | skipped | quarantined
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


def sha256_of(path: Path) -> str:
    """The file's identity for deduplication: its bytes, whatever its name."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def skipped(arr: Arrival, unit_code: str, kind: str, batch_id: int) -> IngestResult:
    return IngestResult(
        path=str(arr.path), status="skipped", message=f"该文件此前已入库（批次 {batch_id}），未重复入库",
        unit_code=unit_code, kind=kind, received=arr.received.isoformat(), batch_id=batch_id,
    )  # fmt: skip


def quarantine(
    arr: Arrival, sha: str, reason: str, message: str, unit_code: str | None, kind: str | None,
    root: Path | None = None,
) -> IngestResult:  # fmt: skip
    """Keep an unusable file out of the store but never lose it: copy it aside with its reason."""
    folder = (root or data_root()) / "quarantine" / arr.received.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{sha[:12]}_{arr.path.name}"
    if not target.exists():
        shutil.copy2(arr.path, target)
    with database.writer(root) as con:
        seen = one(
            con,
            "SELECT count(*) FROM quarantine WHERE sha256 = ? AND reason_code = ?",
            [sha, reason],
        )[0]  # type: ignore[index]
        if not seen:
            run(con,
                "INSERT INTO quarantine VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [sha, arr.path.name, str(arr.path), str(target), unit_code, kind, arr.received,
                 reason, message, datetime.now()],
            )  # fmt: skip
    return IngestResult(
        path=str(arr.path), status="quarantined", message=f"已隔离：{message}",
        unit_code=unit_code, kind=kind, received=arr.received.isoformat(), reason=reason,
    )  # fmt: skip
