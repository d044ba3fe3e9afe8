"""Rows, links and names of what engineers read in the Prefect UI: artifacts and task runs.

Shared by the daily and the monthly flows, so a unit's rates look the same in both.

Decisions:

- **Links a browser opens.**  A page of the Prefect UI may not open ``file://`` links, so every
  link goes to ``sgs serve`` at the ``public_url`` setting (``$SGS_PUBLIC_URL``): the Data Docs
  (``/docs/``, ``/docs/batch/<id>``), the feedback lists (``/download/feedback/<unit>.xlsx``)
  and the bulletin (``/download/bulletin/<month>.xlsx``), behind its login.
- **Units by name and code.**  Tables show the unit's Chinese name beside its code (the
  files table shows it beside the task's name, which holds the code).
- **Tables that fit the UI's panel.**  The Prefect UI draws a table artifact's cells on one
  line each (no wrapping; the table scrolls sideways), so the day's files table keeps to a
  few short columns, the outcome first (结果, 入库, 不合规), then the file's name, the unit
  and the task; a name longer than :data:`TEXT_WIDTH` terminal columns is shortened in the
  middle (its end, with the file type, is kept).  The quarantine reasons, long sentences, are
  a Markdown list of their own (``daily-quarantine``), which the UI wraps.
- **Task run names the timeline can draw.**  The Prefect UI's timeline draws task run names on
  a canvas whose font has no Chinese glyphs — they came out as nothing at all — so a file's
  task is named in ASCII, ``ingest-<unit code>-<received YYYYMMDD>-<NN>`` (NN: the file's place
  in the run); the Chinese file name is in the task's log and in the files table beside the
  task's name.
- **Office time.**  The times we write (descriptions, stamps) are the office's
  (``office_timezone``), whatever the zone of the server or of the browser.
- **Markdown from data is escaped** (file names and unit names are the units' text), and
  ID numbers in it are masked like everywhere else.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from pathlib import Path

import polars as pl

from sgs.clock import office_now, office_zone
from sgs.labels import STATUS_NAMES, kind_name, pct
from sgs.privacy import mask_ids_in_str
from sgs.reference.settings import public_url
from sgs.store.batches import IngestResult

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#|<>~!])")
# The widest text cell of the files table, in terminal columns (a Chinese character takes two).
TEXT_WIDTH = 24
_ASCII_CODE = re.compile(r"[0-9A-Za-z]{1,40}")


def landing_label(path: Path) -> str:
    """``<unit>/<date>/<file>`` for logs and tables."""
    parts = path.parts
    return "/".join(parts[-3:]) if len(parts) >= 3 else path.name


def task_names(paths: list[Path], root: Path | None = None) -> dict[str, str]:
    """Each file's task run name, by its path (the registry read once for the run)."""
    from sgs.reference.units import load_units

    units = load_units()
    return {str(p): task_name(p, i, root, units) for i, p in enumerate(paths, 1)}


def task_name(
    path: Path, index: int, root: Path | None = None, units: pl.DataFrame | None = None
) -> str:
    """``ingest-<unit code>-<YYYYMMDD>-<NN>``: ASCII only (see the module docstring).

    The unit and the received date are the landing zone's (registry code, manifest or folder);
    what cannot be established is ``unknown`` / ``nodate`` — the ingest will say why.
    """
    from sgs.intake.landing import ArrivalProblem, arrival
    from sgs.reference.units import load_units, resolve_unit

    units = load_units() if units is None else units
    unit, received = "unknown", "nodate"
    try:
        arr = arrival(path, root=root)
    except ArrivalProblem as problem:
        sender, when = problem.unit, problem.received
    else:
        sender, when = arr.unit, arr.received
    if when is not None:
        received = when.strftime("%Y%m%d")
    if sender:
        try:
            unit = str(resolve_unit(sender, units)["code"])
        except KeyError:
            unit = sender if _ASCII_CODE.fullmatch(sender) else "unknown"
    return f"ingest-{unit}-{received}-{index:02d}"


def office_stamp() -> str:
    """Now, as the office reads it: ``2026-11-10 06:00（Asia/Shanghai）``."""
    return f"{office_now():%Y-%m-%d %H:%M}（{office_zone().key}）"


def md(text: object) -> str:
    """Text from the data as literal Markdown (one line, punctuation escaped, IDs masked)."""
    one_line = " ".join(str(text).split())
    return _MARKDOWN.sub(r"\\\1", mask_ids_in_str(one_line))


def unit_names() -> dict[str, str]:
    from sgs.reference.units import load_units

    return dict(load_units().select("code", "name").iter_rows())


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal (and, near enough, in the UI's font): a wide or
    full-width character two, the ellipsis two (it is drawn full-width in Chinese fonts)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" or c == "…" else 1 for c in str(text))


def shorten_middle(text: str, width: int = TEXT_WIDTH) -> str:
    """``text`` in at most ``width`` columns: its start and its end joined by 「…」, the end
    given the larger share (a file's type and the last words of its name tell most)."""
    if display_width(text) <= width:
        return text
    budget = width - display_width("…")
    head, tail = "", ""
    for c in reversed(text):
        if display_width(c + tail) > budget - budget // 3:
            break
        tail = c + tail
    for c in text:
        if display_width(head + c) > budget - display_width(tail):
            break
        head += c
    return f"{head}…{tail}"


def files_table(
    results: list[IngestResult],
    ignored: list[Path] | None = None,
    tasks: dict[str, str] | None = None,
) -> list[dict]:
    """The day's files as rows for a Prefect table artifact (Chinese column names, narrow: see
    the module docstring): the outcome, the file's name, its unit and its task (whose name
    holds the unit's code and the received date); files left by their name come last, so the
    office sees that they were there.  Why a file was quarantined: :func:`quarantine_markdown`."""
    names, tasks = unit_names(), tasks or {}
    rows = [
        {
            "结果": STATUS_NAMES[r.status],
            "入库": r.rows_stored,
            "不合规": r.rows_failing,
            "文件": shorten_middle(Path(r.path).name),
            "单位": shorten_middle(names.get(r.unit_code or "", r.unit_code or "")),
            "任务": tasks.get(r.path, ""),
        }
        for r in results
    ]
    for path in ignored or []:
        rows.append(
            {"结果": STATUS_NAMES["ignored"], "入库": 0, "不合规": 0,
             "文件": shorten_middle(path.name), "单位": "", "任务": ""}
        )  # fmt: skip
    return rows


def quarantine_markdown(results: list[IngestResult], tasks: dict[str, str] | None = None) -> str:
    """The files quarantined today with their whole reason, as a Markdown list (which the UI
    wraps, unlike a table's cells); empty when none was."""
    tasks = tasks or {}
    lines = []
    for r in results:
        if r.status != "quarantined":
            continue
        task = f"（任务 {md(tasks[r.path])}）" if tasks.get(r.path) else ""
        reason = r.message.removeprefix("已隔离：")
        lines.append(f"- **{md(landing_label(Path(r.path)))}**{task}：{md(reason)}")
    return "\n".join(lines)


def rates_rows(table: pl.DataFrame) -> list[dict]:
    """Rates of units with something to show, as artifact rows (rates as percentages)."""
    busy = table.filter((pl.col("uploaded") > 0) | (pl.col("ledger_entries") > 0))

    return [
        {
            "月份": r["period"],
            "单位": r["unit_name"],
            "单位代码": r["unit_code"],
            "类别": kind_name(r["kind"]),
            "上报": r["uploaded"],
            "及时率": pct(r["timeliness_rate"]),
            "合规率": pct(r["compliance_rate"]),
            "完整率": pct(r["completeness_rate"]),
            "日历缺口": "是" if r["calendar_gap"] else "",
        }
        for r in busy.iter_rows(named=True)
    ]


def data_docs_url(batch_id: int | None = None) -> str:
    """The Data Docs as ``sgs serve`` sends them: the index, or one batch's page."""
    return public_url("/docs/" if batch_id is None else f"/docs/batch/{batch_id}")


def feedback_url(unit_code: str) -> str:
    return public_url(f"/download/feedback/{unit_code}.xlsx")


def bulletin_url(period: str) -> str:
    return public_url(f"/download/bulletin/{period}.xlsx")


def expectations_markdown(checks: list) -> str:
    """The batches checked today, each linked to its Data Docs page (``checks``: the
    :class:`sgs.jobs.daily.BatchCheck` of each batch)."""
    if not checks:
        return f"没有新入库的批次。\n\n[全部批次的数据质量检查报告]({data_docs_url()})"
    names = unit_names()
    lines = [
        "| 批次 | 文件 | 单位 | 单位代码 | 通过 | 未通过 | 未通过项 |",
        "|---:|---|---|---|---:|---:|---|",
    ]
    for c in checks:
        lines.append(
            f"| [{c.batch_id}]({data_docs_url(c.batch_id)}) | {md(c.file_name)} "
            f"| {md(names.get(c.unit_code, ''))} | {md(c.unit_code)} | {c.passed} | {c.failed} "
            f"| {md('；'.join(c.failures)) if c.failures else '—'} |"
        )
    lines += ["", f"[全部批次的数据质量检查报告（Data Docs）]({data_docs_url()})"]
    return "\n".join(lines)


def feedback_markdown(files: list[str]) -> str:
    """Each affected unit's feedback list: a link to its download, the file kept on disk."""
    names = unit_names()
    lines = []
    for f in files:
        code = Path(f).parent.name
        lines.append(
            f"- [{md(names.get(code, code))}（{md(code)}）]({feedback_url(code)})"
            f"：{md(Path(f).name)}"
        )
    return "\n".join(lines)


def horizon_markdown(today: date) -> str:
    """A warning to head the daily run's markdown when next year's holidays file is missing
    (:mod:`sgs.reference.horizon`): the run is what the office reads every morning.  Empty when
    the calendar reaches far enough; a malformed holidays file is shown in its place."""
    from sgs.errors import HolidayFileError
    from sgs.reference.horizon import horizon_warning

    try:
        found = horizon_warning(today)
    except HolidayFileError as exc:
        return f"> **节假日文件有误**：{md(exc)}\n\n"
    return f"> **工作日历提醒**：{md(found.message)}\n\n" if found else ""
