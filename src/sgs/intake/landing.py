"""The landing zone ``<data root>/raw/<unit>/<YYYY-MM-DD>/<file>``: what arrived, from whom, when.

The folder names carry the unit (its USCC or exact name) and the received date.  A folder may
hold a ``manifest.json`` that overrides them per file::

    {"files": {"行政许可_10月.xlsx": {"received": "2026-11-04", "kind": "permit"},
               "台账.xlsx": {"kind": "ledger", "period": "2026-10"}}}

Precedence of the received date (a choice of docs/policy.md, the ``received_date_sources`` setting): the
``--received`` option, then the manifest, then the landing folder's date, then the file's
modification time, as a date of the office's time zone.

A manifest is checked, never guessed around: one that cannot be read at all (not JSON, not an
object with a ``files`` object) makes every file of its folder an :class:`ArrivalProblem`; a
bad entry (not an object, an unknown key, an unknown kind, an impossible date or month, a
received date after the office's today) makes its own file one.  Ingest quarantines such a
file with the Chinese reason, and the daily run tries it again until the manifest is corrected.

Ledgers may land here too: a file is a ledger when the manifest (or ``--kind``) says so, or when
its header is a ledger's — a name containing 台账 only makes ingest look at the header first.
Its month comes from the manifest's ``period`` or from the name (``台账_2026-10.csv``,
``2026年10月台账.xlsx``).

Temporary, hidden and note files (``~$…``, ``.…``, ``*.tmp``, ``*.part``, ``*.crdownload``,
``*.md``) are not uploads: :func:`survey` lists them apart, so a run can say it left them.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sgs.config import data_root
from sgs.errors import LandingError, PeriodError

MANIFEST = "manifest.json"
IGNORED_PREFIXES = (".", "~$", "~")  # hidden files and Office lock files
IGNORED_SUFFIXES = (".md", ".tmp", ".part", ".crdownload")
UNDATED = "undated"  # the quarantine folder of files whose received date is unknown

ENTRY_KEYS = ("received", "kind", "period", "unit")
MANIFEST_KINDS = {"permit": "行政许可", "penalty": "行政处罚", "ledger": "台账"}
LEDGER_MARK = "台账"
PERIOD_IN_NAME = re.compile(r"(20\d{2})\s*[-_.年]\s*(1[0-2]|0?[1-9])(?!\d)")


class ArrivalProblem(LandingError):
    """A file whose sender, date or kind the landing zone cannot establish.

    ``code`` is the quarantine reason (``manifest_unreadable``, ``manifest_entry``, ``no_unit``,
    ``no_received_date``, ``received_future``) — all of them problems of configuration, fixed by
    the office, after which the file goes in.  ``received`` is the received date when it is
    known after all.
    """

    def __init__(
        self, code: str, message: str, *, received: date | None = None, unit: str | None = None,
        kind: str | None = None,
    ) -> None:  # fmt: skip
        super().__init__(message)
        self.code = code
        self.message = message
        self.received = received
        self.unit = unit
        self.kind = kind


@dataclass(frozen=True)
class Arrival:
    path: Path
    unit: str | None  # as written in the folder name or option: a code or an exact name
    received: date
    received_from: str  # option | manifest | folder | file time | today (a future file time)
    kind: str | None = None  # as declared: permit | penalty | ledger | None (from the content)
    period: str | None = None  # ledgers: YYYY-MM, from the manifest or the file name
    note: str | None = None  # said with the file's outcome, e.g. a future file time taken as today

    @property
    def is_ledger(self) -> bool:
        return self.kind == "ledger"

    @property
    def named_ledger(self) -> bool:
        """The name says 台账: ingest reads the header before taking it for a ledger."""
        return self.kind is None and LEDGER_MARK in self.path.name


@dataclass
class Survey:
    """What a set of paths holds: uploads, files left by name, and paths that do not exist."""

    files: list[Path] = field(default_factory=list)
    ignored: list[Path] = field(default_factory=list)
    missing: list[Path] = field(default_factory=list)


def raw_dir(root: Path | None = None) -> Path:
    return (root or data_root()) / "raw"


def is_ignored_name(name: str) -> bool:
    """Hidden files, Office lock files, partial downloads and notes: never uploads."""
    return name.startswith(IGNORED_PREFIXES) or name.lower().endswith(IGNORED_SUFFIXES)


def survey(paths: list[Path]) -> Survey:
    """Files as given, and every file below each folder in a stable order, sorted into uploads
    and files left by name (a file inside a hidden folder too); ``manifest.json`` is neither."""
    out = Survey()
    for p in paths:
        if p.is_dir():
            for f in sorted(f for f in p.rglob("*") if f.is_file()):
                rel = f.relative_to(p).parts
                if f.name == MANIFEST:
                    continue
                if any(is_ignored_name(part) for part in rel):
                    out.ignored.append(f)
                else:
                    out.files.append(f)
        elif p.exists():
            out.files.append(p)  # named explicitly: taken as it is
        else:
            out.missing.append(p)
    return out


def expand(paths: list[Path]) -> list[Path]:
    """The uploads of :func:`survey`; :class:`LandingError` for a path that does not exist."""
    found = survey(paths)
    if found.missing:
        raise LandingError(f"找不到文件或文件夹：{found.missing[0]}")
    return found.files


# ----------------------------------------------------------------------------- manifest


def _entry_problem(path: Path, text: str) -> ArrivalProblem:
    return ArrivalProblem(
        "manifest_entry", f"清单文件 {MANIFEST} 中「{path.name}」的条目有误：{text}。请改正清单。"
    )


def _manifest_entry(path: Path) -> dict:
    """The file's entry of its folder's manifest, checked; {} without a manifest or entry."""
    manifest = path.parent / MANIFEST
    if not manifest.is_file():
        return {}
    where = f"清单文件 {manifest} "
    try:
        data = json.loads(manifest.read_bytes().decode("utf-8-sig"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ArrivalProblem("manifest_unreadable", f"{where}无法读取（应为 UTF-8 编码的 JSON）：{exc}") from exc  # fmt: skip
    except ValueError as exc:
        raise ArrivalProblem("manifest_unreadable", f"{where}不是有效的 JSON：{exc}") from exc
    shape = '应为 {"files": {"文件名": {"received": "YYYY-MM-DD", "kind": …}}}'
    if not isinstance(data, dict):
        raise ArrivalProblem("manifest_unreadable", f"{where}格式不对：{shape}，实际是{_json_type(data)}")  # fmt: skip
    if not isinstance(data.get("files"), dict):
        raise ArrivalProblem("manifest_unreadable", f"{where}缺少 files 对象：{shape}")
    entry = data["files"].get(path.name)
    if entry is None:
        return {}
    return _checked_entry(path, entry)


def _json_type(value: object) -> str:
    names = {list: "数组", str: "字符串", int: "数字", float: "数字", bool: "布尔值", dict: "对象"}
    return "空值" if value is None else names.get(type(value), type(value).__name__)


def _checked_entry(path: Path, entry: object) -> dict:
    """Every key of an entry checked, so that a typo never silently falls back to a guess."""
    if not isinstance(entry, dict):
        raise _entry_problem(path, f"应为对象（如 {{\"received\": \"2026-11-04\"}}），实际是{_json_type(entry)}")  # fmt: skip
    unknown = [k for k in entry if k not in ENTRY_KEYS]
    if unknown:
        raise _entry_problem(path, f"含未知的键 {'、'.join(map(str, unknown))}（可用：{'、'.join(ENTRY_KEYS)}）")  # fmt: skip
    out: dict = {}
    if "received" in entry:
        out["received"] = _manifest_date(path, entry["received"])
    if "kind" in entry:
        kind = entry["kind"]
        if kind not in MANIFEST_KINDS:
            accepted = "、".join(f"{k}（{v}）" for k, v in MANIFEST_KINDS.items())
            raise _entry_problem(path, f"类别 kind「{kind}」无法识别，应为 {accepted}")
        out["kind"] = kind
    if "period" in entry:
        from sgs.periods import parse_period

        try:
            parse_period(entry["period"])
        except PeriodError:
            raise _entry_problem(path, f"台账月份 period「{entry['period']}」无效，应为 YYYY-MM（如 2026-10）") from None  # fmt: skip
        out["period"] = entry["period"]
    if "unit" in entry:
        if not isinstance(entry["unit"], str) or not entry["unit"].strip():
            raise _entry_problem(path, "上报单位 unit 应为统一社会信用代码或单位全称")
        out["unit"] = entry["unit"].strip()
    return out


def _manifest_date(path: Path, value: object) -> date:
    """``YYYY-MM-DD``, or an ISO date-time (taken in the office's zone when it has an offset),
    not after the office's today: a file cannot have been received on a day still to come, and
    a typo a year ahead would put its records in a month nobody measures yet."""
    from sgs.clock import office_date_of, office_today

    if isinstance(value, str):
        try:
            day = (
                date.fromisoformat(value)
                if len(value) == 10
                else office_date_of(datetime.fromisoformat(value))
            )
        except ValueError:
            pass
        else:
            if day > (today := office_today()):
                raise _entry_problem(path, f"接收日期 received「{value}」{future(today)}")
            return day
    raise _entry_problem(path, f"接收日期 received「{value}」不是有效日期，应为 YYYY-MM-DD（如 2026-11-04）")  # fmt: skip


# ----------------------------------------------------------------------------- arrival


def future(today: date) -> str:
    """The Chinese words for a received date after ``today`` (docs/policy.md section 4, "No
    future"), one wording for the option, the manifest and the landing folder."""
    return f"晚于今天（{today.isoformat()}），不能是将来的日期"


def _folder_date(name: str) -> date | None:
    try:
        return date.fromisoformat(name)
    except ValueError:
        return None


def _place(path: Path, root: Path | None) -> tuple[str | None, date | None]:
    """Unit and date folder of a file: by its position below ``raw/`` (``raw/<unit>/<date>/…``,
    subfolders allowed), else by its two parent folders (a copied landing tree)."""
    raw = raw_dir(root).resolve()
    if path.is_relative_to(raw):
        parts = path.relative_to(raw).parts
        unit = parts[0] if len(parts) >= 2 else None
        day = _folder_date(parts[1]) if len(parts) >= 3 else None
        return unit, day
    day = _folder_date(path.parent.name)
    return (path.parent.parent.name if day else None), day


def in_landing_zone(path: Path, root: Path | None = None) -> bool:
    return path.resolve().is_relative_to(raw_dir(root).resolve())


def _received(
    path: Path, option: date | None, entry: dict, day_folder: date | None
) -> tuple[date, str, str | None]:
    """The received date, where it came from and a note for the file's outcome: the option,
    else the sources in the order of the ``received_date_sources`` setting.

    No date after the office's today (docs/policy.md section 4, "No future"): a landing folder
    named for a day still to come is the office's naming mistake (``received_future``, tried
    again daily); a modification time ahead is a wrong clock on some machine on the way, so
    the file was received today at the latest — taken so, and said.  The option and the
    manifest are checked where they are read (the command line, :func:`_manifest_date`).
    """
    from sgs.clock import office_date, office_today
    from sgs.reference.settings import load_settings

    if option is not None:
        return option, "option", None
    for source in load_settings().received_date_sources:
        if source == "manifest" and "received" in entry:
            return entry["received"], "manifest", None
        if source == "folder" and day_folder is not None:
            if day_folder > (today := office_today()):
                raise ArrivalProblem(
                    "received_future",
                    f"落地目录日期「{day_folder.isoformat()}」{future(today)}：请把「{path.name}」"
                    "放到实际接收日期的目录 raw/<单位>/<YYYY-MM-DD>/ 下",
                )  # fmt: skip
            return day_folder, "folder", None
        if source == "file_time":
            modified, today = office_date(path.stat().st_mtime), office_today()
            if modified > today:
                return today, "today", (
                    f"文件修改时间 {modified.isoformat()} 晚于今天，接收日期按今天 {today.isoformat()} 计"
                )  # fmt: skip
            return modified, "file time", None
    raise ArrivalProblem(
        "no_received_date", f"无法确定「{path.name}」的接收日期：请放在 raw/<单位>/<日期>/ 下、在清单中给出 received，或用 --received 指定"
    )  # fmt: skip


def arrival(
    path: Path,
    unit: str | None = None,
    received: date | None = None,
    kind: str | None = None,
    root: Path | None = None,
) -> Arrival:
    """Who sent ``path`` and when, from the options, the manifest and the landing folders;
    :class:`ArrivalProblem` when the manifest is wrong or no unit or date can be found."""
    path = path.resolve()
    folder_unit, day_folder = _place(path, root)
    try:
        entry = _manifest_entry(path)
    except ArrivalProblem as exc:
        exc.received, exc.unit, exc.kind = received, unit or folder_unit, kind
        raise
    sender = unit or entry.get("unit") or folder_unit
    kind = kind or entry.get("kind")
    try:
        when, source, note = _received(path, received, entry, day_folder)
    except ArrivalProblem as exc:
        if exc.code == "received_future":  # whose file it is, so the office sees it
            exc.unit, exc.kind = sender, kind
        raise
    if sender is None:
        raise ArrivalProblem(
            "no_unit", f"无法确定「{path.name}」的上报单位：请放在 raw/<单位代码>/<日期>/ 下，或用 --unit 指定。",
            received=when, kind=kind,
        )  # fmt: skip
    period = entry.get("period")
    if period is None:
        found = PERIOD_IN_NAME.search(path.name)
        period = f"{found.group(1)}-{int(found.group(2)):02d}" if found else None
    return Arrival(
        path=path, unit=sender, received=when, received_from=source, kind=kind, period=period,
        note=note,
    )  # fmt: skip


def sha256_of(path: Path) -> str:
    """The file's identity for deduplication: its bytes, whatever its name."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
