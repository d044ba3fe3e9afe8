"""The monthly bulletin (月通报): what the credit office circulates about a month — each unit's
rates, points and rank, the records behind the bad numbers, and the city's trend.

``write_bulletin(period, out=None, root=None, as_of=None)`` writes it: by default to
``<data root>/curated/bulletins/月通报_<period>.xlsx``; an ``out`` ending in ``.csv`` gets the
summary sheet alone, as UTF-8 with a BOM (so Excel opens the Chinese correctly), and one ending
in ``.pdf`` the whole bulletin as a print-ready A4 document (:mod:`sgs.report.pdf`).  One
content model, two renderers: :func:`contents` builds the cover and the sheets once, and the
workbook and the PDF show the same cover, tables, notes and charts in the same order.

The order is the order the office circulates a bulletin in — what a reader needs first comes
first, figures before the lists of records behind them:

- **封面** the title, the month, when it was generated, the date the points are counted to, the
  month's city-wide figures, what each sheet holds and how to read it ("—", ranking by group,
  masked ID numbers).  The workbook opens on it; it prints on one A4 page.
- **汇总** one row per unit, sorted by group then rank: uploads, the three rates (both kinds
  together, as the points count them), points items 1–10, total and rank.  Counties, districts
  and zones (县区) and city departments (市直部门) are ranked separately, as the notice treats
  them; the rank is :func:`sgs.measure.points.monthly_points`'s.  One sheet with the group shown (not two
  blocks) keeps one header to freeze and one autofilter to sort with.  A column chart of the
  three rates by unit sits under the table.
- **行政许可 / 行政处罚** the rates of each kind per unit, with their numerators and denominators.
  These and 汇总 name a county department's county (所属县区): the department's row is a
  drill-down, its figures already counted in the county's row.
- **趋势** the city's totals and rates for every month the store has data for, up to the period
  (uploads by received month, ledgers by their month), with a line chart.  It closes the
  figures, before the lists, so a reader of the PDF does not page past every record to find it.
- **迟报明细 / 不合规明细 / 应报未报 / 台账未列** the drill-downs of :func:`sgs.measure.rates.details`:
  the appendices, longest and read by the units that have to act on them.  The workbook lists
  every record; the PDF at most :data:`PDF_ROWS_PER_UNIT` per unit and list, with the number
  left out, so one unit with thousands of late records cannot turn the circulated document into
  a book (the workbook and the unit's feedback list have them all).
- **修订** last, only once the month has been published (:mod:`sgs.report.publication`) and
  figures have changed since: every figure that differs from the latest revision, published →
  now, with the files behind the change (:mod:`sgs.report.revisions`), so a bulletin sent
  after a publication says what it corrects.

Rules every sheet follows:

- A rate with an empty denominator, and a point item not applicable or not yet due, shows "—"
  (text, centred), never 0 or 0%.  Charts draw from a data block beside the table where such a
  value is an empty cell, because Excel plots text as 0 (see :mod:`sgs.report.xlsx`).
- Natural persons' ID numbers are masked (first 6 and last 4 characters kept); legal persons'
  credit codes are public and shown as written.  A feedback list knows whose a code is from its
  field; a ledger does not say, so its subject code is shown only when it is shaped like a
  credit code (valid, or wrong only in its check characters — the 应报未报 list is where the
  unit finds that entry to correct it) and does not read as an ID number; anything else, which
  may be a person's, is masked.  Every text cell is also swept for ID numbers written where
  they do not belong (a name column, say), with the one definition of :mod:`sgs.privacy`.
- Formula-like text (``=``, ``+``, ``-``, ``@`` first) never runs: in XLSX it is a string cell
  with Excel's quote prefix and its value unchanged; in CSV it gets a leading apostrophe.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl

from sgs.clock import office_now
from sgs.errors import BulletinError
from sgs.files import write_atomically
from sgs.labels import (
    NOT_APPLICABLE,
    RATE_NAMES,
    kind_name,
    kind_names,
    num,
    pct,
    problem_names,
    problem_rules,
)
from sgs.measure.rates import unit_rates
from sgs.periods import knowledge_day, period_title
from sgs.reference.catalogue import KINDS
from sgs.report.masking import mask_ids_in_text, mask_subject_codes
from sgs.report.revisions import REVISION_SHEET, Revisions, revision_facts, revision_sheet
from sgs.report.xlsx import Chart, Column, Cover, Sheet, neutralised, write_workbook
from sgs.store import database
from sgs.store.database import curated_dir

COVER = "封面"
SHEET_NAMES = (
    "汇总",
    "行政许可",
    "行政处罚",
    "趋势",
    "迟报明细",
    "不合规明细",
    "应报未报",
    "台账未列",
)
SUFFIXES = (".xlsx", ".csv", ".pdf")
PDF_ROWS_PER_UNIT = 20  # records per unit and drill-down list in the PDF


@dataclass
class Bulletin:
    """Everything one month's bulletin shows, masked and ready to write."""

    period: str
    as_of: date
    summary: pl.DataFrame  # one row per unit, by group then rank
    rates: pl.DataFrame  # per unit and kind, in the summary's unit order
    late: pl.DataFrame
    failing: pl.DataFrame
    missing: pl.DataFrame
    unlisted: pl.DataFrame  # records decided in the month that the unit's ledger does not list
    trend: pl.DataFrame  # the city's totals per month
    # The rates and points exactly as `sgs rates|points --json` print them (what publication
    # keeps), and the figures changed since the month's latest publication (the 修订 sheet).
    figures: dict[str, pl.DataFrame] = field(default_factory=dict)
    revisions: Revisions | None = None


def bulletin_path(period: str, root: Path | None = None) -> Path:
    """Where the flow and the web page keep a month's bulletin."""
    return curated_dir(root) / "bulletins" / f"月通报_{period}.xlsx"


def output_format(out: Path) -> str:
    """``xlsx``, ``csv`` or ``pdf`` from the file name; anything else is refused before any work."""
    suffix = Path(out).suffix.lower()
    if suffix not in SUFFIXES:
        raise BulletinError(f"月通报只能保存为 .xlsx、.csv 或 .pdf 文件：{out}")
    return suffix.lstrip(".")


def write_bulletin(
    period: str,
    out: Path | None = None,
    root: Path | None = None,
    as_of: date | None = None,
) -> Path:
    """Compute the month's bulletin from the store and write it (XLSX, PDF, or the summary as
    CSV).  A PDF asked for on a machine that cannot make one fails before the store is read."""
    out = Path(out) if out is not None else bulletin_path(period, root)
    if output_format(out) == "pdf":
        from sgs.report.pdf import require_renderer

        require_renderer()
    return write(collect(period, root, as_of), out)


def write(bulletin: Bulletin, out: Path, generated: datetime | None = None) -> Path:
    """Write a collected bulletin; the suffix of ``out`` chooses the format.

    The file is written under a scratch name and then moved into place, so whoever opens
    ``out`` meanwhile (the office, the web page) sees the previous bulletin, never half a new one.
    """
    form = output_format(out)
    if form == "csv":
        return write_atomically(out, lambda scratch: write_summary_csv(bulletin, scratch))
    generated = generated or office_now()
    cover, sheets = contents(bulletin, generated)
    if form == "pdf":
        from sgs.report.pdf import write_pdf

        return write_atomically(out, lambda scratch: write_pdf(scratch, cover, sheets, generated))
    return write_atomically(out, lambda scratch: write_workbook(scratch, sheets, generated, cover))


# ----------------------------------------------------------------------------- the numbers


def collect(period: str, root: Path | None = None, as_of: date | None = None) -> Bulletin:
    """Read the month's rates, points, drill-downs and the city's trend from the store."""
    from sgs.periods import period_bounds

    period_bounds(period)  # a malformed period fails here, before the store is opened
    as_of = knowledge_day(as_of)  # what the office knew at the end of that day
    with database.reader(root) as con:
        return collect_from(con, period, as_of)


def collect_from(con: duckdb.DuckDBPyConnection, period: str, as_of: date) -> Bulletin:
    """:func:`collect` on an open connection: publication reads under the writer's lock, so
    that no ingest slips between the figures it keeps and the bulletin it stores."""
    from sgs.measure.points import monthly_points
    from sgs.measure.rates import details, rates
    from sgs.report.revisions import revisions

    by_kind = rates(con, period, as_of=as_of)
    points = monthly_points(con, period, as_of)
    drill = {
        which: details(con, period, which, as_of=as_of)
        for which in ("late", "failing", "missing", "unlisted")
    }
    trend = _trend(con, period, as_of)
    figures = {"rates": by_kind, "points": points}
    changed = revisions(con, period, as_of, by_kind, points)
    units = _unit_names()
    summary = _with_parent_name(_summary(points, by_kind), units)
    order = summary.select("unit_code", pl.int_range(pl.len()).alias("_order"), "group")
    by_kind = (
        by_kind.join(order, on="unit_code", how="left")
        .sort("_order", "kind")
        .drop("_order")
        .with_columns(_notes().alias("note"))
        .pipe(_with_parent_name, units)
    )
    drill = {which: _drill_down(frame, units) for which, frame in drill.items()}
    return Bulletin(
        period=period,
        as_of=as_of,
        summary=mask_ids_in_text(summary),
        rates=mask_ids_in_text(by_kind),
        late=mask_ids_in_text(drill["late"]),
        failing=mask_ids_in_text(_problems_in_chinese(drill["failing"])),
        missing=mask_ids_in_text(mask_subject_codes(drill["missing"])),
        unlisted=mask_ids_in_text(drill["unlisted"]),
        trend=trend,
        figures=figures,
        revisions=changed,
    )


def _notes() -> pl.Expr:
    """Remarks a reader needs to trust a row: a zero-increment report (and whether the data
    contradict it), dates the calendar lacks."""
    contradicted = pl.col("zero_report_contradicted") > 0
    note = pl.concat_str(
        pl.when(pl.col("zero_report") & contradicted)
        .then(pl.format("零增量报告不实：已上报该月作出的决定 {} 条", "zero_report_contradicted"))
        .when(pl.col("zero_report"))
        .then(pl.lit("零增量报告")),
        pl.when(pl.col("calendar_gap")).then(pl.lit("部分日期超出工作日历，相关结果未判定")),
        separator="；",
        ignore_nulls=True,
    )
    return pl.when(note != "").then(note)


def _summary(points: pl.DataFrame, by_kind: pl.DataFrame) -> pl.DataFrame:
    """Points and ranks per unit (their order: group, then rank) with both kinds' rates."""
    totals = unit_rates(by_kind).drop("unit_name", "unit_type", "ledger_received", "calendar_gap")
    return (
        points.drop("zero_report", "zero_report_contradicted")
        .join(totals, on="unit_code", how="left", maintain_order="left")
        .with_columns(_notes().alias("note"))
    )


def _trend(con: duckdb.DuckDBPyConnection, period: str, as_of: date) -> pl.DataFrame:
    """The city's totals and rates for every month with uploads or ledgers, up to ``period``,
    as of the bulletin's day."""
    from sgs.measure.rates import COUNTS, months_with_data, rates, ratios

    rows = []
    for month in sorted(m for m in {*months_with_data(con), period} if m <= period):
        sums = unit_rates(rates(con, month, as_of=as_of)).select(pl.col(*COUNTS).sum())
        rows.append({"month": month, **sums.row(0, named=True)})
    return pl.DataFrame(rows).with_columns(ratios())


def _unit_names() -> pl.DataFrame:
    from sgs.reference.units import load_units

    return load_units().select(pl.col("code").alias("unit_code"), pl.col("name").alias("unit_name"))


def _with_parent_name(frame: pl.DataFrame, units: pl.DataFrame) -> pl.DataFrame:
    """``parent_name`` (所属县区): a county department's county, whose row counts the
    department's records; empty for every other unit.  ``parent_code`` from the registry when
    the frame lacks it."""
    from sgs.reference.units import load_units

    if "parent_code" not in frame.columns:
        parent_of = load_units().select(
            pl.col("code").alias("unit_code"), pl.col("parent").alias("parent_code")
        )
        frame = frame.join(parent_of, on="unit_code", how="left", maintain_order="left")
    parents = units.rename({"unit_code": "parent_code", "unit_name": "parent_name"})
    return frame.join(parents, on="parent_code", how="left", maintain_order="left")


def _drill_down(frame: pl.DataFrame, units: pl.DataFrame) -> pl.DataFrame:
    """Records with their unit's name and, for a county's department, its county's name (the
    drill-down per department: the department's records count in its county's row)."""
    frame = _with_parent_name(frame, units)
    return frame.join(units, on="unit_code", how="left", maintain_order="left").with_columns(
        pl.col("unit_name").fill_null(pl.col("unit_code")),
        # A workbook's row is (sheet, row): several sheets may each have a row 5.
        pl.when(pl.col("sheet").is_not_null())
        .then(pl.format("{}（工作表「{}」）", "file_name", "sheet"))
        .otherwise(pl.col("file_name"))
        .alias("file_name"),
        pl.col("kind")
        .replace_strict(kind_names(), default=None)
        .fill_null("未识别")
        .alias("kind_zh"),
    )


def _problems_in_chinese(failing: pl.DataFrame) -> pl.DataFrame:
    """``XK_JDRQ:date_range; …`` as ``许可决定日期：日期范围；…`` (the field and the rule a reader
    knows) and, in a second column and the same order, ``date_range；…`` (the stable rule codes
    the standard's rule table documents)."""
    problems = pl.col("problems")
    return failing.with_columns(
        problems.map_elements(problem_names, return_dtype=pl.String).alias("problems_zh"),
        problems.map_elements(problem_rules, return_dtype=pl.String).alias("rule_codes"),
    )


# ----------------------------------------------------------------------------- the outputs


def _title(period: str) -> str:
    return f"{period_title(period)}双公示工作月通报"


def summary_columns() -> list[Column]:
    from sgs.measure.points import ITEM_NAMES, ITEMS

    items = [
        Column(item, f"{i}.{ITEM_NAMES[item]}", 8, "number", NOT_APPLICABLE)
        for i, item in enumerate(ITEMS, start=1)
    ]
    return [
        Column("group", "分组", 8),
        Column("rank", "排名", 6, "int"),
        Column("unit_name", "单位", 24),
        Column("parent_name", "所属县区", 14),
        Column("uploaded", "上报条数", 8, "int"),
        *(Column(rate, name, 8, "percent") for rate, name in RATE_NAMES.items()),
        *items,
        Column("total", "总分", 8, "number", NOT_APPLICABLE),
        Column("note", "备注", 10),
        Column("unit_code", "统一社会信用代码", 20),
    ]


def contents(b: Bulletin, generated: datetime) -> tuple[Cover, list[Sheet]]:
    """The cover and the sheets, in order: what both the workbook and the PDF show."""
    return _cover(b, generated), _sheets(b)


GUIDE = {
    "汇总": "各单位本月上报条数、三率（两类合计）、积分第 1–10 项、总分与排名；表下为各单位三率柱形图",
    "行政许可": "各单位行政许可记录的三率及其分子、分母",
    "行政处罚": "各单位行政处罚记录的三率及其分子、分母",
    "趋势": "全市各月上报条数与三率，附折线图",
    "迟报明细": "超过决定之日起 {days} 个工作日上报的记录",
    "不合规明细": "未通过数据标准校验的记录及其问题字段",
    "应报未报": "台账中列出、但未见上报的行政决定",
    "台账未列": "已上报平台、决定日期在本月、但单位本月台账（或零增量报告）未列出的决定",
    REVISION_SHEET: "本月已发布：与最近一版发布的数字相比有变化的数字（发布值 → 现值）及相关文件与记录",
}


def _cover(b: Bulletin, generated: datetime) -> Cover:
    """Title, the month's facts, what each sheet holds and how to read the bulletin."""
    from sgs.reference.settings import load_settings

    days = load_settings().deadline_workdays
    groups = b.summary["group"].to_list()  # 县区 first, as the summary lists them
    by_group = "、".join(f"{g} {groups.count(g)} 个" for g in dict.fromkeys(groups))
    permits = int(b.summary["uploaded_permit"].fill_null(0).sum())
    penalties = int(b.summary["uploaded_penalty"].fill_null(0).sum())
    city = b.trend.filter(pl.col("month") == b.period)
    rates = "、".join(
        f"{name} {pct(city[rate][0] if city.height else None)}" for rate, name in RATE_NAMES.items()
    )
    return Cover(
        COVER,
        _title(b.period),
        [
            ("通报月份", f"{period_title(b.period)}（{b.period}）"),
            ("生成时间", f"{generated:%Y-%m-%d %H:%M}"),
            (
                "积分计算截至",
                f"{b.as_of}（只计接收日期不晚于该日的文件；逾期天数、整改期限按此日计算）",
            ),
            *_contradicted_fact(b),
            *revision_facts(b.revisions),
            ("参评单位", f"{b.summary.height} 个（{by_group}）"),
            (
                "本月上报",
                f"{permits + penalties} 条（行政许可 {permits} 条、行政处罚 {penalties} 条）",
            ),
            ("全市三率", f"{rates}（两类合计）"),
        ],
        [(name, GUIDE[name].format(days=days)) for name in _sheet_names(b)],
        [
            "“—”表示不适用：比率的分母为 0（本月没有上报记录或台账），或积分项对该单位不适用、"
            "尚未到期；“—”不按 0 计，也不计入总分。",
            f"及时率：本月首次上报的记录中，在决定之日起 {days} 个工作日内上报的比例；合规率：通过"
            "数据标准校验的比例；完整率：本月台账所列决定中已上报的比例。汇总表的三率为行政许可、"
            "行政处罚两类合计，行政许可、行政处罚两表分类别计算。",
            "县区（含开发区）与市直部门分别排名，按总分从高到低；总分相同名次相同（如 1、2、2、4）。",
            "自然人身份证号已脱敏（保留前 6 位和后 4 位）；法人和其他组织的统一社会信用代码照常显示。",
            "明细表中的“上报文件”“行号”指单位上报文件中的位置，便于查找和整改；"
            "各单位全部待整改问题见其反馈清单。",
        ],
    )


def _contradicted_fact(b: Bulletin) -> list[tuple[str, str]]:
    """A cover line naming the units whose zero-increment report the data contradict."""
    found = b.summary.filter(pl.col("note").str.starts_with("零增量报告不实").fill_null(False))
    if found.height == 0:
        return []
    names = "、".join(found["unit_name"].to_list())
    return [
        ("零增量报告不实", f"{names}（报送了零增量报告，但已上报该月作出的决定；第 8 项计 0 分）")
    ]


def _rate_chart_data(frame: pl.DataFrame, label: str, source: str) -> pl.DataFrame:
    """Categories and the three rates for a chart; rows with no applicable rate left out."""
    rates = list(RATE_NAMES)
    return frame.filter(pl.any_horizontal(pl.col(rates).is_not_null())).select(
        pl.col(source).alias(label), *(pl.col(r).alias(n) for r, n in RATE_NAMES.items())
    )


def _sheets(b: Bulletin) -> list[Sheet]:
    title = _title(b.period)
    na = "比率分母为 0、积分项不适用或未到期时显示“—”"
    summary = Sheet(
        "汇总",
        f"{title}：三率、积分与排名",
        b.summary,
        summary_columns(),
        [f"积分计算截至 {b.as_of}", "县区（含开发区）与市直部门分别排名", na],
        [Chart("column", f"{b.period} 各单位三率", _rate_chart_data(b.summary, "单位", "unit_name"),
               )],
    )  # fmt: skip
    kind_columns = [
        Column("group", "分组", 8),
        Column("unit_name", "单位", 24),
        Column("parent_name", "所属县区", 14),
        Column("uploaded", "上报条数", 8, "int"),
        Column("timely", "及时条数", 8, "int"),
        Column("timeliness_undecided", "及时性未判定", 8, "int"),
        Column("timeliness_rate", "及时率", 8, "percent"),
        Column("compliant", "合规条数", 8, "int"),
        Column("compliance_rate", "合规率", 8, "percent"),
        Column("ledger_entries", "台账条数", 8, "int"),
        Column("ledger_matched", "台账已上报", 8, "int"),
        Column("completeness_rate", "完整率", 8, "percent"),
        Column("note", "备注", 10),
    ]
    kinds = [
        Sheet(zh, f"{title}：{zh}三率", b.rates.filter(pl.col("kind") == kind), kind_columns,
              ["及时率、合规率按上报月份统计，完整率按台账所属月份统计", na])
        for kind, zh in ((k, kind_name(k)) for k in KINDS)
    ]  # fmt: skip
    record = [
        Column("unit_name", "单位", 24),
        Column("parent_name", "所属县区", 14),
        Column("kind_zh", "类别", 8),
        Column("file_name", "上报文件", 20),
        Column("row", "行号", 6, "int"),
        Column("doc_number", "决定文书号", 20),
        Column("subject_name", "行政相对人名称", 20),
        Column("decision_date", "决定日期", 11, "date"),
        Column("received_date", "上报日期", 11, "date"),
    ]
    late = Sheet("迟报明细", f"{title}：迟报记录（超过决定之日起 7 个工作日上报）", b.late,
                 [*record, Column("deadline", "上报期限", 11, "date"), Column("note", "说明", 12)],
                 ["行号为上报文件中的行号"])  # fmt: skip
    failing = Sheet("不合规明细", f"{title}：不合规记录", b.failing,
                    [*record, Column("errors", "错误数", 6, "int"),
                     Column("problems_zh", "问题（字段：规则）", 30),
                     Column("rule_codes", "规则代码", 16)],
                    ["规则代码见数据标准的规则代码表；各单位的反馈清单列有完整说明"])  # fmt: skip
    missing = Sheet("应报未报", f"{title}：台账中应报未报的决定", b.missing, [
        Column("unit_name", "单位", 24), Column("parent_name", "所属县区", 14),
        Column("kind_zh", "类别", 8),
        Column("doc_number", "决定文书号", 20), Column("subject_name", "行政相对人名称", 20),
        Column("subject_code", "行政相对人代码", 20), Column("decision_date", "决定日期", 11, "date"),
        Column("file_name", "台账文件", 20), Column("row", "台账行号", 8, "int"),
        Column("ledger_received", "台账接收日期", 11, "date"), Column("reason", "原因", 16),
    ], ["自然人身份证号已脱敏（保留前 6 位和后 4 位），法人和其他组织的统一社会信用代码照常显示",
        "类别无法识别的台账条目计入单位的完整率（两类合计），不计入分类别的完整率"])  # fmt: skip
    trend = Sheet("趋势", f"{title}：全市三率趋势", b.trend, [
        Column("month", "月份", 9), Column("uploaded", "上报条数", 8, "int"),
        Column("timely", "及时条数", 8, "int"), Column("timeliness_rate", "及时率", 8, "percent"),
        Column("compliant", "合规条数", 8, "int"), Column("compliance_rate", "合规率", 8, "percent"),
        Column("ledger_entries", "台账条数", 8, "int"),
        Column("ledger_matched", "台账已上报", 8, "int"),
        Column("completeness_rate", "完整率", 8, "percent"),
    ], ["库中有上报记录或台账的月份；上报按接收月份，台账按所属月份", na],
        [Chart("line", "全市三率趋势", _rate_chart_data(b.trend, "月份", "month"))])  # fmt: skip
    unlisted = Sheet("台账未列", f"{title}：已上报但台账未列的决定", b.unlisted, record,
                     ["决定日期在本月、已上报平台，但单位本月台账（或零增量报告）未列出；"
                      "供单位补正台账，不影响完整率（完整率以台账条目为准）",
                      "只列出已报送本月台账或零增量报告的单位"])  # fmt: skip
    for sheet in (late, failing, missing, unlisted):
        sheet.print_cap = ("unit_name", PDF_ROWS_PER_UNIT)
        if sheet.frame.height == 0:
            sheet.notes.append("本月没有此类记录")
    ordered = {s.name: s for s in (summary, *kinds, late, failing, missing, unlisted, trend)}
    if REVISION_SHEET in _sheet_names(b):
        ordered[REVISION_SHEET] = revision_sheet(b.revisions, title)  # type: ignore[arg-type]
    return [ordered[name] for name in _sheet_names(b)]


def _sheet_names(b: Bulletin) -> tuple[str, ...]:
    """The sheets in order: the 修订 sheet last, only when figures changed since the month's
    latest publication (:mod:`sgs.report.revisions`)."""
    changed = b.revisions is not None and b.revisions.changes.height > 0
    return (*SHEET_NAMES, REVISION_SHEET) if changed else SHEET_NAMES


def write_summary_csv(bulletin: Bulletin, out: Path) -> Path:
    """The summary sheet as CSV for Excel: UTF-8 with a BOM, Chinese headers, "—" for not
    applicable, rates as ``66.7%`` (Excel reads them as percentages), formula-like text with a
    leading apostrophe."""
    columns = summary_columns()
    frame = neutralised(bulletin.summary.select([c.source for c in columns]))

    def cell(value: object, kind: str) -> str | None:
        if value is None:
            return NOT_APPLICABLE if kind in ("percent", "number") else None
        if kind == "percent":
            return f"{value:.1%}"
        if kind == "number":
            return f"{value:g}"
        return str(value)

    table = pl.DataFrame(
        {c.header: [cell(v, c.kind) for v in frame[c.source].to_list()] for c in columns},
        schema={c.header: pl.String for c in columns},
    )
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    table.write_csv(out, include_bom=True)
    return out


def ranking_rows(bulletin: Bulletin) -> list[dict]:
    """The points and ranking as rows for a Prefect table artifact or a web page."""
    from sgs.measure.points import ITEM_NAMES, ITEMS

    return [
        {
            "分组": r["group"],
            "排名": r["rank"],
            "单位": r["unit_name"],
            **{f"{i}.{ITEM_NAMES[item]}": num(r[item]) for i, item in enumerate(ITEMS, 1)},
            "总分": num(r["total"]),
        }
        for r in bulletin.summary.iter_rows(named=True)
    ]
