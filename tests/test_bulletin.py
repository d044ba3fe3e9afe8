"""The monthly bulletin workbook, opened with openpyxl: sheets, values, formats, charts, masking
and formula neutralisation, on a store built from the sample landing zone plus one unit whose
upload and ledger carry formula-like text and a natural person's ID number."""

from __future__ import annotations

import os
import re
import shutil
import zipfile
from datetime import date
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from support.upload_files import broken_check, resident_id, uscc

from sgs.config import PROJECT_ROOT
from sgs.samples.generator import generate
from sgs.samples.writers import write_upload

# One worker runs this module: its tests share an expensive module fixture, built once
# (scripts/test runs pytest-xdist with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_bulletin")

ENV = "111404000720078935"  # 长治市生态环境局: no sample files of its own
AS_OF = date(2026, 11, 20)
FORMULAS = ['=HYPERLINK("http://x","y")', "+1", "@SUM(A1)", "-2"]
TEST_UNIT = ("11140400TEST00001X", "=1+2测试单位")  # a unit name a spreadsheet would run
ID_FIRST17 = "14040219850312123"
SHEETS = ["汇总", "行政许可", "行政处罚", "趋势", "迟报明细", "不合规明细", "应报未报", "台账未列"]
# A second unit's ledger, nothing of it uploaded: a company whose credit code has a wrong check
# character (a legal person's: shown as written) and a person whose ID number has one (masked).
SAFETY = "111404000382642475"  # 长治市应急管理局
BAD_CHECK_COMPANY = ("长治市校验位有误商贸有限公司", broken_check(uscc("91", "140400", "MA0X0000")))
BAD_CHECK_PERSON = ("赵六", broken_check(resident_id("140402", "19900515", "321")))
PASSPORT_HOLDER = ("JOHN SMITH", "E12345678")  # a foreigner's passport: no credit code's shape


def person_id() -> str:
    from sgs.validate.identifiers import id_check_char

    return ID_FIRST17 + id_check_char(ID_FIRST17)


def second_id() -> str:
    from sgs.validate.identifiers import id_check_char

    first17 = "14042619920101004"
    return first17 + id_check_char(first17)


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    """The sample landing zone, an upload with formula-like names and a ledger with an ID."""
    tmp = tmp_path_factory.mktemp("bulletin")
    units = tmp / "units.csv"
    original = (PROJECT_ROOT / "config" / "units.csv").read_text(encoding="utf-8")
    units.write_text(original.rstrip("\n") + f"\n{TEST_UNIT[0]},{TEST_UNIT[1]},department,\n",
                     encoding="utf-8")  # fmt: skip
    saved = os.environ.get("SGS_UNITS_FILE")
    os.environ["SGS_UNITS_FILE"] = str(units)
    data = tmp / "data"
    shutil.copytree(PROJECT_ROOT / "data" / "raw", data / "raw")
    # decided in September, received on 28 October: every record is late in 2026-10
    upload = generate("permit", 6, seed=5, unit=ENV, start=date(2026, 9, 1),
                      end=date(2026, 9, 30), received=date(2026, 10, 28))  # fmt: skip
    names = pl.Series("XK_XDR_MC", [*FORMULAS, *upload.frame["XK_XDR_MC"].to_list()[4:]])
    frame = upload.frame.with_columns(names)
    write_upload(frame, data / "raw" / ENV / "2026-10-28" / "许可_公式.csv")
    ledger = pl.DataFrame(
        {
            "类别": ["行政许可"] * 4,
            "决定文书号": [frame["XK_WSH"][0], "长环许〔2026〕901号", "长环许〔2026〕902号",
                           "长环许〔2026〕903号"],
            "行政相对人名称": [FORMULAS[0], "张三", "@SUM(A1)", f"李四{second_id()}"],
            "行政相对人代码": [frame["XK_XDR_SHXYM"][0], person_id(), "11140400MB84708085", None],
            "决定日期": ["2026-09-15", "2026-10-12", "2026-10-13", "2026-10-14"],
        }
    )  # fmt: skip
    (data / "raw" / ENV / "2026-11-03").mkdir(parents=True)
    ledger.write_csv(data / "raw" / ENV / "2026-11-03" / "台账_2026-10.csv")
    (data / "raw" / SAFETY / "2026-11-03").mkdir(parents=True)
    pl.DataFrame(
        {
            "类别": ["行政许可", "行政处罚", "行政处罚"],
            "决定文书号": ["长应急许〔2026〕1号", "长应急罚〔2026〕2号", "长应急罚〔2026〕3号"],
            "行政相对人名称": [BAD_CHECK_COMPANY[0], BAD_CHECK_PERSON[0], PASSPORT_HOLDER[0]],
            "行政相对人代码": [BAD_CHECK_COMPANY[1], BAD_CHECK_PERSON[1], PASSPORT_HOLDER[1]],
            "决定日期": ["2026-10-12", "2026-10-13", "2026-10-14"],
        }
    ).write_csv(data / "raw" / SAFETY / "2026-11-03" / "台账_2026-10.csv")

    from sgs.intake.landing import expand
    from sgs.store.ingest import ingest_file

    for path in expand([data / "raw"]):
        assert ingest_file(path, root=data).status == "stored", path
    yield data
    if saved is None:
        os.environ.pop("SGS_UNITS_FILE", None)
    else:
        os.environ["SGS_UNITS_FILE"] = saved


@pytest.fixture(scope="module")
def october(root) -> Path:
    from sgs.report.bulletin import write_bulletin

    return write_bulletin("2026-10", root / "out" / "october.xlsx", root=root, as_of=AS_OF)


@pytest.fixture(scope="module")
def book(october):
    return openpyxl.load_workbook(october)


def cells(book):
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is not None:
                    yield ws.title, cell


def column_of(ws, header: str, row: int = 4) -> int:
    for cell in ws[row]:
        if cell.value == header:
            return cell.column
    raise KeyError(header)


def data_rows(ws, key_col: int = 1):
    """The table's rows (after the header on row 4) until the first empty key cell."""
    r = 5
    while ws.cell(r, key_col).value is not None:
        yield r
        r += 1


def shown(book) -> list:
    """The table sheets a reader sees (the cover has no table; the chart data sheet is hidden)."""
    return [ws for ws in book.worksheets if ws.sheet_state == "visible" and ws.title != "封面"]


def test_sheets_titles_stamps_and_frozen_headers(book):
    assert book.sheetnames == ["封面", *SHEETS, "图表数据"]
    assert book["图表数据"].sheet_state == "hidden"
    for ws in shown(book):
        assert ws["A1"].value.startswith("2026年10月双公示工作月通报：")
        assert ws["A1"].font.b
        assert ws["A2"].value.startswith("生成时间：")
        assert ws.freeze_panes == "A5"  # title, stamp, blank row and header stay in view
    assert book["汇总"]["A1"].value == "2026年10月双公示工作月通报：三率、积分与排名"


def test_summary_matches_points_ranked_within_groups(root, book):
    from sgs.measure.points import ITEMS, monthly_points
    from sgs.store import database

    with database.reader(root) as con:
        points = monthly_points(con, "2026-10", AS_OF)
    ws = book["汇总"]
    rows = list(data_rows(ws))
    assert len(rows) == points.height
    col = {h: column_of(ws, h) for h in ("分组", "排名", "单位", "总分", "1.目录编制")}
    for r, expected in zip(rows, points.iter_rows(named=True), strict=True):
        assert ws.cell(r, col["单位"]).value == expected["unit_name"]
        assert ws.cell(r, col["分组"]).value == expected["group"]
        assert ws.cell(r, col["排名"]).value == expected["rank"]
        assert ws.cell(r, col["总分"]).value == pytest.approx(expected["total"])
        for i, item in enumerate(ITEMS):
            cell = ws.cell(r, col["1.目录编制"] + i)
            if expected[item] is None:
                assert cell.value == "—" and cell.alignment.horizontal == "center"
            else:
                assert cell.value == pytest.approx(expected[item])
    groups = [ws.cell(r, col["分组"]).value for r in rows]
    # 县区 first, then city departments, then the counties' departments (unranked)
    assert groups == sorted(groups, key=["县区", "市直部门", "县区部门"].index)
    for group in ("县区", "市直部门"):  # each group ranked from 1 on its own
        ranks = [
            ws.cell(r, col["排名"]).value for r in rows if ws.cell(r, col["分组"]).value == group
        ]
        assert ranks[0] == 1 and ranks == sorted(ranks)


def test_rates_are_percentages_and_not_applicable_is_a_dash(root, book):
    from sgs.measure.rates import rates
    from sgs.store import database

    with database.reader(root) as con:
        permit = rates(con, "2026-10", unit=ENV, kind="permit").row(0, named=True)
    assert permit["uploaded"] == 6 and permit["timeliness_rate"] == 0.0
    assert permit["completeness_rate"] == pytest.approx(1 / 4)
    ws = book["行政许可"]
    name_col = column_of(ws, "单位")
    (row,) = [r for r in data_rows(ws) if ws.cell(r, name_col).value == "长治市生态环境局"]
    cell = {h: ws.cell(row, column_of(ws, h)) for h in ("上报条数", "及时率", "合规率", "完整率")}
    assert cell["上报条数"].value == 6
    # a real 0% is a number shown 0.0%; a rate without denominator is "—"
    assert cell["及时率"].value == 0 and cell["及时率"].number_format == "0.0%"
    assert cell["完整率"].value == pytest.approx(0.25) and cell["完整率"].number_format == "0.0%"
    penalty = book["行政处罚"]
    (row,) = [r for r in data_rows(penalty) if penalty.cell(r, 2).value == "长治市生态环境局"]
    dash = penalty.cell(row, column_of(penalty, "及时率"))
    assert dash.value == "—" and dash.data_type == "s" and dash.alignment.horizontal == "center"
    # every numeric rate cell of every table is a percentage
    for ws in book.worksheets:
        for header in ("及时率", "合规率", "完整率"):
            try:
                c = column_of(ws, header)
            except KeyError:
                continue
            for r in data_rows(ws):
                value = ws.cell(r, c)
                assert value.value == "—" or value.number_format == "0.0%", (ws.title, r)


def test_column_widths_fit_chinese_unit_names(book):
    ws = book["汇总"]
    col = column_of(ws, "单位")
    letter = openpyxl.utils.get_column_letter(col)
    longest = max(len(ws.cell(r, col).value) for r in data_rows(ws))
    assert ws.column_dimensions[letter].width >= 2 * longest


def chart_block(book, title: str) -> tuple[int, list[list]]:
    """(header row, rows) of a chart's data block on the hidden sheet 图表数据."""
    ws = book["图表数据"]
    start = next(r for r in range(1, ws.max_row + 1) if str(ws.cell(r, 1).value).endswith(
        f"{title}（不适用为空白，图中不画）"))  # fmt: skip
    rows, r = [], start + 2
    while ws.cell(r, 1).value is not None:
        rows.append([ws.cell(r, c).value for c in range(1, 5)])
        r += 1
    return start + 1, rows


def test_rate_chart_under_the_summary_reads_its_hidden_data_block(book):
    ws = book["汇总"]
    (chart,) = ws._charts
    assert type(chart).__name__ == "BarChart" and chart.type == "col"
    assert chart.anchor._from.row > max(data_rows(ws))  # under the table
    assert chart.anchor._from.col == 0
    head, block = chart_block(book, "2026-10 各单位三率")
    data = book["图表数据"]
    assert [data.cell(head, c).value for c in range(1, 5)] == ["单位", "及时率", "合规率", "完整率"]
    first, last = head + 1, head + len(block)
    assert [s.tx.strRef.f for s in chart.series] == [f"图表数据!${c}${head}" for c in "BCD"]
    assert [s.val.numRef.f for s in chart.series] == [
        f"图表数据!${c}${first}:${c}${last}" for c in "BCD"
    ]
    assert all(s.cat.strRef.f == f"图表数据!$A${first}:$A${last}" for s in chart.series)
    # the block holds the summary's rates; not applicable is an empty cell (a gap, not 0%)
    rate_at = [column_of(ws, h) for h in ("及时率", "合规率", "完整率")]
    summary = {ws.cell(r, 3).value: [ws.cell(r, c).value for c in rate_at] for r in data_rows(ws)}
    for unit, *rates in block:
        assert [None if v == "—" else v for v in summary[unit]] == rates
        assert any(v is not None for v in rates)
    charted = [unit for unit, *_ in block]
    assert "长治市生态环境局" in charted and TEST_UNIT[1] not in charted  # no rate, no bars


def test_trend_sums_every_month_with_a_line_chart(root):
    from sgs.measure.rates import rates
    from sgs.report.bulletin import write_bulletin
    from sgs.store import database

    path = write_bulletin("2026-11", root / "out" / "november.xlsx", root=root, as_of=AS_OF)
    ws = openpyxl.load_workbook(path)["趋势"]
    months = [ws.cell(r, 1).value for r in data_rows(ws)]
    assert months == ["2026-10", "2026-11"]  # uploads received in both; ledgers for October
    with database.reader(root) as con:
        for r, month in zip(data_rows(ws), months, strict=True):
            sums = rates(con, month).select(pl.col("uploaded", "timely", "compliant").sum())
            assert ws.cell(r, 2).value == sums["uploaded"][0]
            assert ws.cell(r, 4).value == pytest.approx(sums["timely"][0] / sums["uploaded"][0])
            assert ws.cell(r, 4).number_format == "0.0%"
    assert ws["I6"].value == "—"  # no ledger for November yet: completeness not applicable
    (chart,) = ws._charts
    assert type(chart).__name__ == "LineChart"
    assert chart.anchor._from.row > max(data_rows(ws))  # under the table, printed with it
    book = openpyxl.load_workbook(path)
    head, block = chart_block(book, "全市三率趋势")
    first, last = head + 1, head + 2
    assert [s.val.numRef.f for s in chart.series] == [
        f"图表数据!${c}${first}:${c}${last}" for c in "BCD"
    ]
    assert chart.series[0].cat.strRef.f == f"图表数据!$A${first}:$A${last}"
    assert [row[0] for row in block] == ["2026-10", "2026-11"]
    assert block[1][3] is None and block[0][3] == pytest.approx(ws["I5"].value)


def test_drill_downs_list_late_failing_and_missing(book):
    late = book["迟报明细"]
    env_rows = [r for r in data_rows(late) if late.cell(r, 1).value == "长治市生态环境局"]
    assert len(env_rows) == 6
    subject = column_of(late, "行政相对人名称")
    assert {late.cell(r, subject).value for r in env_rows} >= set(FORMULAS)
    failing = book["不合规明细"]
    problems = [failing.cell(r, column_of(failing, "问题（字段：规则）")).value
                for r in data_rows(failing)]  # fmt: skip
    codes = [failing.cell(r, column_of(failing, "规则代码")).value for r in data_rows(failing)]
    assert problems and all("：" in p for p in problems)  # 字段名：规则名
    assert all(re.fullmatch(r"[a-z_]+(；[a-z_]+)*", c) for c in codes)  # 规则代码
    missing = book["应报未报"]
    names = [
        missing.cell(r, column_of(missing, "行政相对人名称")).value for r in data_rows(missing)
    ]
    assert {"张三", "@SUM(A1)"} <= set(names)
    assert FORMULAS[0] not in names  # that ledger entry matches the stored record


def test_person_id_numbers_are_masked_everywhere(book):
    pid, other = person_id(), second_id()
    for title, cell in cells(book):
        text = str(cell.value)
        assert pid not in text and other not in text, (title, cell.coordinate)
    missing = book["应报未报"]
    name, code = column_of(missing, "行政相对人名称"), column_of(missing, "行政相对人代码")
    codes = {missing.cell(r, name).value: missing.cell(r, code).value for r in data_rows(missing)}
    assert codes["张三"] == pid[:6] + "*" * 8 + pid[-4:]
    assert codes["@SUM(A1)"] == "11140400MB84708085"  # a valid USCC: a legal person's, public
    swept = [n for n in codes if n.startswith("李四")]
    assert swept == ["李四" + other[:6] + "*" * 8 + other[-4:]]  # an ID typed into the name


def test_missing_masks_persons_ids_and_shows_legal_persons_codes_as_written(book):
    """The ledger does not say whose a code is: its shape does.  A company's code with a wrong
    check character is still a legal person's (the unit needs it to find and fix the entry);
    a person's ID with a wrong check character is still a person's."""
    missing = book["应报未报"]
    name, code = column_of(missing, "行政相对人名称"), column_of(missing, "行政相对人代码")
    codes = {missing.cell(r, name).value: missing.cell(r, code).value for r in data_rows(missing)}
    company, person = BAD_CHECK_COMPANY, BAD_CHECK_PERSON
    assert codes[company[0]] == company[1]
    assert codes[person[0]] == person[1][:6] + "*" * 8 + person[1][-4:]
    assert codes[PASSPORT_HOLDER[0]] != PASSPORT_HOLDER[1]  # may be a person's: masked
    assert codes["@SUM(A1)"] == "11140400MB84708085"  # a valid one, as before
    cover = "\n".join(str(c.value) for row in book["封面"].iter_rows() for c in row if c.value)
    assert "统一社会信用代码照常显示" in cover  # what the cover promises, the list does
    notes = [missing.cell(r, 1).value or "" for r in range(1, 4)]
    assert any("统一社会信用代码照常显示" in n for n in notes)


def test_formula_like_text_never_becomes_a_formula(october, book):
    seen = set()
    for title, cell in cells(book):
        assert cell.data_type != "f", (title, cell.coordinate)
        if isinstance(cell.value, str) and cell.value.startswith(("=", "+", "-", "@")):
            assert cell.data_type == "s" and cell.quotePrefix, (title, cell.coordinate)
            seen.add(cell.value)
    # the values are kept exactly as written (no visible apostrophe) and flagged as text
    assert set(FORMULAS) | {TEST_UNIT[1]} <= seen
    with zipfile.ZipFile(october) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        assert sheets and not any(b"<f>" in z.read(n) for n in sheets)


def test_summary_as_csv_for_excel(root):
    from sgs.report.bulletin import write_bulletin

    path = write_bulletin("2026-10", root / "out" / "summary.csv", root=root, as_of=AS_OF)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads the Chinese right
    table = pl.read_csv(path, infer_schema=False)
    assert table.columns[:8] == [
        "分组", "排名", "单位", "所属县区", "上报条数", "及时率", "合规率", "完整率"
    ]  # fmt: skip
    assert table.columns[-3:] == ["总分", "备注", "统一社会信用代码"]
    env = table.filter(pl.col("单位") == "长治市生态环境局").row(0, named=True)
    assert (env["上报条数"], env["及时率"], env["完整率"]) == ("6", "0.0%", "25.0%")
    test_unit = table.filter(pl.col("统一社会信用代码") == TEST_UNIT[0]).row(0, named=True)
    assert test_unit["单位"] == "'" + TEST_UNIT[1]  # neutralised with an apostrophe
    assert test_unit["及时率"] == "—" and test_unit["1.目录编制"] == "—"
    for column in table.columns:
        for value in table[column].drop_nulls():
            assert not value.startswith(("=", "+", "-", "@")), (column, value)


def test_default_path_refused_suffix_and_bad_period(root):
    from sgs.errors import BulletinError, PeriodError
    from sgs.report.bulletin import bulletin_path, ranking_rows, write_bulletin

    with pytest.raises(BulletinError, match=r"\.xlsx、\.csv 或 \.pdf"):
        write_bulletin("2026-10", root / "out" / "x.docx", root=root)
    with pytest.raises(PeriodError):
        write_bulletin("2026-13", root=root)
    assert not bulletin_path("2026-10", root).exists()
    path = write_bulletin("2026-10", root=root, as_of=AS_OF)
    assert path == root / "curated" / "bulletins" / "月通报_2026-10.xlsx" and path.is_file()
    from sgs.report.bulletin import collect

    rows = ranking_rows(collect("2026-10", root, AS_OF))
    assert rows[0]["分组"] == "县区" and rows[0]["排名"] == 1
    assert any(row["单位"] == "长治市生态环境局" for row in rows)
    assert all(row["6.及时率"] == "—" or float(row["6.及时率"]) >= 0 for row in rows)


def table_columns(ws) -> int:
    """The table's columns: from A to the first empty header cell (chart data sits beyond)."""
    return next((i for i, c in enumerate(ws[4]) if c.value is None), ws.max_column)


def test_every_sheet_prints_on_a4_fitted_to_the_width_with_titles_and_page_numbers(book):
    for ws in shown(book):
        setup = ws.page_setup
        assert setup.paperSize == 9, ws.title  # A4
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        # One page across (1 is OOXML's default, which writers leave out), as many down as needed.
        assert (setup.fitToWidth or 1, setup.fitToHeight) == (1, 0), ws.title
        assert ws.print_title_rows.replace("$", "") == "4:4", (
            ws.title
        )  # the table's header on every page
        assert ws.oddFooter.left.text == "&A" and "第 &P 页 共 &N 页" in ws.oddFooter.right.text
        assert setup.orientation in ("landscape", "portrait"), ws.title
    assert book["汇总"].page_setup.orientation == "landscape"  # 20 columns


def test_a_narrow_table_prints_portrait_and_a_wide_one_landscape(tmp_path):
    from sgs.report.xlsx import Column, Sheet, write_workbook

    frame = pl.DataFrame({f"c{i}": ["值"] for i in range(12)})
    narrow = Sheet("窄", "窄表", frame, [Column(f"c{i}", f"列{i}", 10) for i in range(3)])
    wide = Sheet("宽", "宽表", frame, [Column(f"c{i}", f"列{i}", 10) for i in range(12)])
    book = openpyxl.load_workbook(write_workbook(tmp_path / "表.xlsx", [narrow, wide]))
    assert book["窄"].page_setup.orientation == "portrait"  # 3 × 10 units
    assert book["宽"].page_setup.orientation == "landscape"  # 12 × 10 units: wider than A4


def test_rate_columns_are_as_wide_as_the_percentage_shown(book):
    ws = book["行政许可"]
    col = openpyxl.utils.get_column_letter(column_of(ws, "及时率"))
    # "66.7%" needs about 6 units and the header 及时率 about 7: not the 18 of 0.6666666666666666.
    assert ws.column_dimensions[col].width <= 9


def test_the_print_area_is_the_table_and_the_chart_under_it(book):
    ws = book["汇总"]
    end = ws.print_area.split(":")[1]  # e.g. $T$62
    _, letter, last_row = end.split("$")
    assert letter == openpyxl.utils.get_column_letter(table_columns(ws))
    (chart,) = ws._charts
    assert int(last_row) >= chart.anchor._from.row + 19  # the bar chart under the table prints


def test_the_cover_opens_the_workbook_and_prints_on_one_page(root, book):
    from datetime import datetime

    from sgs.report.bulletin import collect, write

    assert book.sheetnames[0] == "封面" and book.active.title == "封面"  # what a reader sees first
    path = write(collect("2026-10", root, AS_OF), root / "out" / "cover.xlsx",
                 generated=datetime(2026, 11, 20, 8, 30))  # fmt: skip
    ws = openpyxl.load_workbook(path)["封面"]
    assert ws["A1"].value == "2026年10月双公示工作月通报"
    facts = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(2, 12) if ws.cell(r, 2).value}
    assert facts["通报月份"] == "2026年10月（2026-10）"
    assert facts["生成时间"] == "2026-11-20 08:30"
    assert facts["积分计算截至"].startswith("2026-11-20")
    # config/units.csv (with three county departments) and the test unit
    assert facts["参评单位"].startswith("39 个")
    # every sheet a reader sees is explained, in the workbook's order
    guide = [ws.cell(r, 1).value for r in range(1, ws.max_row + 1)]
    assert [g for g in guide if g in SHEETS] == SHEETS
    text = "\n".join(str(c.value) for row in ws.iter_rows() for c in row if c.value is not None)
    for words in ("阅读说明", "“—”表示不适用", "分别排名", "身份证号已脱敏"):
        assert words in text, words
    # A4 portrait, one page each way, and the rows as set fit that page unshrunk
    setup = ws.page_setup
    assert (setup.paperSize, setup.orientation) == (9, "portrait")
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert (setup.fitToWidth or 1, setup.fitToHeight or 1) == (1, 1)
    assert ws.print_area == "'封面'!$A$1:$B$" + str(ws.max_row)
    heights = sum(ws.row_dimensions[r].height or 15 for r in range(1, ws.max_row + 1))
    printable = (11.69 - ws.page_margins.top - ws.page_margins.bottom) * 72  # points
    assert heights < printable
    widths = sum(ws.column_dimensions[c].width for c in "AB")
    assert widths <= 86  # Excel units across a portrait A4 page between the margins
