"""The landing zone ``<data root>/raw/<unit>/<YYYY-MM-DD>/<file>``: what arrived, from whom, when.

The folder names carry the unit (its USCC or exact name) and the received date.  A folder may
hold a ``manifest.json`` that overrides them per file::

    {"files": {"行政许可_10月.xlsx": {"received": "2026-11-04", "kind": "permit"},
               "台账.xlsx": {"kind": "ledger", "period": "2026-10"}}}

Precedence of the received date (a choice of docs/policy.md, the ``received_date_sources`` setting): the
``--received`` option, then the manifest, then the landing folder's date, then the file's
modification time.

Ledgers may land here too: a file is a ledger when the manifest says ``"kind": "ledger"`` or
its name contains 台账; its month comes from the manifest's ``period`` or from the name
(``台账_2026-10.csv``, ``2026年10月台账.xlsx``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sgs.config import data_root
from sgs.errors import LandingError

MANIFEST = "manifest.json"
IGNORED_PREFIXES = (".", "~$", "~")  # hidden files and Office lock files
IGNORED_SUFFIXES = (".md", ".tmp", ".part", ".crdownload")


LEDGER_MARK = "台账"
PERIOD_IN_NAME = re.compile(r"(20\d{2})\s*[-_.年]\s*(1[0-2]|0?[1-9])(?!\d)")


@dataclass(frozen=True)
class Arrival:
    path: Path
    unit: str | None  # as written in the folder name or option: a code or an exact name
    received: date
    received_from: str  # option | manifest | folder | file time
    kind: str | None = None  # permit | penalty | ledger | None (recognised from the headers)
    period: str | None = None  # ledgers: YYYY-MM

    @property
    def is_ledger(self) -> bool:
        return self.kind == "ledger"


def raw_dir(root: Path | None = None) -> Path:
    return (root or data_root()) / "raw"


def is_upload(path: Path) -> bool:
    name = path.name
    return (
        path.is_file()
        and name != MANIFEST
        and not name.startswith(IGNORED_PREFIXES)
        and not name.lower().endswith(IGNORED_SUFFIXES)
    )


def _folder_date(name: str) -> date | None:
    try:
        return date.fromisoformat(name)
    except ValueError:
        return None


def _manifest_entry(path: Path) -> dict:
    manifest = path.parent / MANIFEST
    if not manifest.is_file():
        return {}
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise LandingError(f"清单文件 {manifest} 无法解析：{exc}") from exc
    return dict(data.get("files", {}).get(path.name, {}))


def _received(
    path: Path, option: date | None, entry: dict, day_folder: date | None
) -> tuple[date, str]:
    """The received date and where it came from: the option, else the sources in the order
    of the ``received_date_sources`` setting."""
    from sgs.reference.settings import load_settings

    if option is not None:
        return option, "option"
    for source in load_settings().received_date_sources:
        if source == "manifest" and "received" in entry:
            return date.fromisoformat(str(entry["received"])[:10]), "manifest"
        if source == "folder" and day_folder is not None:
            return day_folder, "folder"
        if source == "file_time":
            return datetime.fromtimestamp(path.stat().st_mtime).date(), "file time"
    raise LandingError(f"无法确定「{path.name}」的接收日期：请用 --received 指定")


def arrival(
    path: Path,
    unit: str | None = None,
    received: date | None = None,
    kind: str | None = None,
) -> Arrival:
    """Who sent ``path`` and when, from the options, the manifest and the landing folders."""
    path = path.resolve()
    entry = _manifest_entry(path)
    day_folder = _folder_date(path.parent.name)
    folder_unit = path.parent.parent.name if day_folder else None
    when, source = _received(path, received, entry, day_folder)
    kind = kind or entry.get("kind") or ("ledger" if LEDGER_MARK in path.name else None)
    period = entry.get("period")
    if kind == "ledger" and period is None:
        found = PERIOD_IN_NAME.search(path.name)
        period = f"{found.group(1)}-{int(found.group(2)):02d}" if found else None
    return Arrival(
        path=path,
        unit=unit or entry.get("unit") or folder_unit,
        received=when,
        received_from=source,
        kind=kind,
        period=period,
    )


def expand(paths: list[Path]) -> list[Path]:
    """Files as given, and every upload below each folder, in a stable order."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if is_upload(f)))
        elif p.exists():
            out.append(p)
        else:
            raise LandingError(f"找不到文件或文件夹：{p}")
    return out
