"""The landing zone ``<data root>/raw/<unit>/<YYYY-MM-DD>/<file>``: what arrived, from whom, when.

The folder names carry the unit (its USCC or exact name) and the received date.  A folder may
hold a ``manifest.json`` that overrides them per file::

    {"files": {"行政许可_10月.xlsx": {"received": "2026-11-04", "kind": "permit"}}}

Precedence of the received date (POLICY.md): the ``--received`` option, then the manifest, then
the landing folder's date, then the file's modification time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sgs.paths import data_root

MANIFEST = "manifest.json"
IGNORED_PREFIXES = (".", "~$", "~")  # hidden files and Office lock files
IGNORED_SUFFIXES = (".md", ".tmp", ".part", ".crdownload")


class LandingError(ValueError):
    """An upload whose unit or date cannot be determined; the message is Chinese."""


@dataclass(frozen=True)
class Arrival:
    path: Path
    unit: str | None  # as written in the folder name or option: a code or an exact name
    received: date
    received_from: str  # option | manifest | folder | file time
    kind: str | None = None


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
    if received is not None:
        when, source = received, "option"
    elif "received" in entry:
        when, source = date.fromisoformat(str(entry["received"])[:10]), "manifest"
    elif day_folder is not None:
        when, source = day_folder, "folder"
    else:
        when, source = datetime.fromtimestamp(path.stat().st_mtime).date(), "file time"
    return Arrival(
        path=path,
        unit=unit or entry.get("unit") or folder_unit,
        received=when,
        received_from=source,
        kind=kind or entry.get("kind"),
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
