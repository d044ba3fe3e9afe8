"""What an arrival is, decided once from its bytes: an upload of a kind (read into sheets), a
ledger, or a file that cannot be either (refused, with the reason).

A file is a ledger when it is declared one (``--kind`` or the manifest), when its name says
台账 and its header is a ledger's, or when it cannot be read as an upload for want of an
upload's header (no header, no kind, missing columns) and its header is a ledger's: a name is no
proof either way (a permit file may be called 许可台账.xlsx).  The store then dispatches on the
answer; it never tries one way and, on a refusal, the other.
"""

from __future__ import annotations

from dataclasses import dataclass

from sgs.errors import FileRefused
from sgs.intake.landing import Arrival
from sgs.intake.ledgers import LedgerSheets, ledger_by_header, read_ledger_sheets
from sgs.intake.readers import Upload, read_file

# A refusal that a ledger's header would also get as an upload: worth a look at the header.
NOT_AN_UPLOAD = ("no_header", "unknown_kind", "missing_columns")


@dataclass
class Classified:
    """One of: ``upload`` (read), ``ledger`` (its sheets read, or why they could not be), or
    ``refused``."""

    upload: Upload | None = None
    ledger: bool = False
    refused: FileRefused | None = None
    ledger_sheets: LedgerSheets | None = None
    ledger_refused: FileRefused | None = None


def _ledger(arr: Arrival) -> Classified:
    try:
        return Classified(ledger=True, ledger_sheets=read_ledger_sheets(arr.path))
    except FileRefused as exc:  # said after the ledger's month is known (store.ingest)
        return Classified(ledger=True, ledger_refused=exc)


def classify(arr: Arrival) -> Classified:
    """Read the arrival once as what its declaration, name and header make it."""
    if arr.is_ledger:
        return _ledger(arr)
    if arr.named_ledger:  # 台账 in the name: the header decides
        try:
            if ledger_by_header(arr.path):
                return _ledger(arr)
        except FileRefused as exc:
            return Classified(refused=exc)
    try:
        return Classified(upload=read_file(arr.path, arr.kind))  # type: ignore[arg-type]
    except FileRefused as exc:
        if arr.kind is None and not arr.named_ledger and exc.code in NOT_AN_UPLOAD:
            try:
                if ledger_by_header(arr.path):  # a ledger without 台账 in its name
                    return _ledger(arr)
            except FileRefused:
                pass
        return Classified(refused=exc)
