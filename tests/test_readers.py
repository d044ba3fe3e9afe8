"""``sgs.intake.readers.read_upload``: formats, encodings, header detection, typed cells, layouts.

Fixture files are built in ``tmp_path`` by :mod:`upload_files`; row numbers are always checked
against the row the unit's spreadsheet shows.
"""

from __future__ import annotations

import random
import re
from datetime import date, datetime

import polars as pl
import pytest
from support.upload_files import (
    broken_check,
    codes,
    csv_bytes,
    names,
    penalty_record,
    permit_record,
    records,
    resident_id,
    table,
    uscc,
    write_csv,
    write_xls,
    write_xlsx,
)

from sgs.intake.readers import FileRefused, read_upload
from sgs.samples.generator import generate
from sgs.samples.writers import write_upload

CJK = re.compile(r"[\u4e00-\u9fff]")


def refused(path, kind=None) -> FileRefused:
    with pytest.raises(FileRefused) as info:
        read_upload(path, kind)
    exc = info.value
    assert CJK.search(exc.message), f"message should be Chinese: {exc.message!r}"
    return exc


def column(upload, code: str) -> list[str | None]:
    return upload.frame[code].to_list()


# ----------------------------------------------------------------------------- the Upload object


def test_plain_csv_upload_attributes(tmp_path):
    recs = records("permit", 3)
    path = write_csv(tmp_path / "permits.csv", table("permit", recs))
    up = read_upload(path)
    assert up.kind == "permit"
    assert up.layout == "current"
    assert up.format == "csv"
    assert up.header_row == 1
    assert up.encoding is not None and up.encoding.lower().replace("_", "-").startswith("utf-8")
    assert up.unknown_columns == []
    assert up.blank_rows == 0
    assert up.frame.columns[0] == "__row"
    assert set(up.frame.columns) == {"__row", *codes("permit")}
    assert up.frame["__row"].to_list() == [2, 3, 4]
    for code in codes("permit"):
        assert up.frame.schema[code] == pl.String, code
    assert column(up, "XK_XDR_SHXYM") == [r["XK_XDR_SHXYM"] for r in recs]
    assert column(up, "XK_JDRQ") == [r["XK_JDRQ"] for r in recs]
    # Absent optional values are blank, not the text "None".
    assert all(v in (None, "") for v in column(up, "XK_XDR_ZZJG"))


def test_frame_holds_only_columns_found(tmp_path):
    cols = [c for c in codes("penalty") if c not in {"CF_XDR_SWDJ", "CF_XDR_SYDW", "BZ"}]
    path = write_csv(tmp_path / "p.csv", table("penalty", records("penalty", 2), columns=cols))
    up = read_upload(path)
    assert up.kind == "penalty"
    assert set(up.frame.columns) == {"__row", *cols}


@pytest.mark.parametrize("kind", ["permit", "penalty"])
@pytest.mark.parametrize("headers", ["chinese", "code"])
def test_kind_detected_from_headers(tmp_path, kind, headers):
    path = write_csv(tmp_path / "upload.csv", table(kind, records(kind, 2), headers=headers))
    up = read_upload(path)
    assert up.kind == kind
    assert up.frame.height == 2


def test_kind_given_explicitly(tmp_path):
    path = write_csv(tmp_path / "upload.csv", table("penalty", records("penalty", 2)))
    assert read_upload(path, "penalty").kind == "penalty"


def test_kind_given_explicitly_but_wrong_is_missing_columns(tmp_path):
    path = write_csv(tmp_path / "upload.csv", table("penalty", records("penalty", 2)))
    exc = refused(path, "permit")
    assert exc.code == "missing_columns"


def test_kind_cannot_be_told_from_shared_columns_only(tmp_path):
    shared = ["XK_XDR_MC", "XK_XDR_LB", "XK_XDR_SHXYM", "XK_FRDB", "BZ"]
    path = write_csv(tmp_path / "upload.csv", table("permit", records("permit", 2), columns=shared))
    exc = refused(path)
    assert exc.code == "unknown_kind"


# ----------------------------------------------------------------------------- CSV encodings


def test_csv_utf8_with_bom(tmp_path):
    recs = records("permit", 2)
    path = tmp_path / "bom.csv"
    path.write_bytes(csv_bytes(table("permit", recs), "utf-8-sig"))
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    up = read_upload(path)
    # The BOM must not stick to the first header: 行政相对人名称 is still recognised.
    assert "XK_XDR_MC" in up.frame.columns
    assert up.unknown_columns == []
    assert column(up, "XK_XDR_MC") == [r["XK_XDR_MC"] for r in recs]
    assert up.frame["__row"].to_list() == [2, 3]


def test_csv_utf8_bom_with_code_headers(tmp_path):
    recs = records("penalty", 2)
    path = tmp_path / "bom.csv"
    path.write_bytes(csv_bytes(table("penalty", recs, headers="code"), "utf-8-sig"))
    up = read_upload(path)
    assert "CF_XDR_MC" in up.frame.columns
    assert up.unknown_columns == []


def test_gbk_file_named_utf8(tmp_path):
    recs = records("penalty", 3, "natural")
    path = tmp_path / "处罚.utf8.csv"
    path.write_bytes(csv_bytes(table("penalty", recs), "gbk"))
    up = read_upload(path)
    assert up.encoding is not None and up.encoding.lower() in {"gbk", "gb18030", "cp936"}
    assert up.kind == "penalty"
    assert column(up, "CF_XDR_MC") == [r["CF_XDR_MC"] for r in recs]
    assert column(up, "CF_SY") == [r["CF_SY"] for r in recs]
    assert column(up, "CF_XDR_ZJHM") == [r["CF_XDR_ZJHM"] for r in recs]


def test_utf8_file_named_gbk(tmp_path):
    recs = records("permit", 3)
    path = tmp_path / "许可.gbk.csv"
    path.write_bytes(csv_bytes(table("permit", recs), "utf-8"))
    up = read_upload(path)
    assert up.encoding is not None and up.encoding.lower().startswith("utf")
    assert column(up, "XK_XDR_MC") == [r["XK_XDR_MC"] for r in recs]
    assert column(up, "XK_NR") == [r["XK_NR"] for r in recs]


def test_gb18030_characters_outside_gbk(tmp_path):
    recs = records("permit", 2)
    recs[1]["XK_XDR_MC"] = "长治市䶮𠀀商贸有限公司"  # CJK Ext. A and Ext. B: GB18030 only
    path = tmp_path / "x.csv"
    path.write_bytes(csv_bytes(table("permit", recs), "gb18030"))
    up = read_upload(path)
    assert column(up, "XK_XDR_MC") == [r["XK_XDR_MC"] for r in recs]


def test_gbk_with_code_headers_and_chinese_only_far_down(tmp_path):
    """ASCII for the first megabyte, GBK Chinese after it: still one encoding for the file."""
    recs = records("penalty", 9000)
    for r in recs[:-1]:  # ASCII only, except in the last record
        for k, v in r.items():
            if v is not None and not v.isascii():
                r[k] = "x"
    recs[-1]["CF_XDR_MC"] = "长治市最后一家公司"
    path = tmp_path / "codes.csv"
    rows = table("penalty", recs, headers="code")
    path.write_bytes(csv_bytes(rows, "gbk"))
    assert path.stat().st_size > (1 << 20)
    up = read_upload(path)
    assert up.frame.height == 9000
    assert column(up, "CF_XDR_MC")[-1] == "长治市最后一家公司"
    assert column(up, "CF_CFLB")[-1] == "罚款"
    assert up.frame["__row"].to_list()[-1] == 9001


# ----------------------------------------------------------------------------- header row, CSV


@pytest.mark.parametrize("titles", [0, 1, 2])
def test_csv_title_rows_above_header(tmp_path, titles):
    recs = records("permit", 3)
    top = ["长治市行政许可信息公示表", "填报说明：带 * 的为必填项，日期格式 YYYY/MM/DD"][:titles]
    path = write_csv(tmp_path / "t.csv", table("permit", recs), titles=top)
    up = read_upload(path)
    assert up.header_row == titles + 1
    assert up.frame["__row"].to_list() == [titles + 2, titles + 3, titles + 4]
    assert column(up, "XK_WSH") == [r["XK_WSH"] for r in recs]
    # Title rows are not records and not columns.
    assert up.unknown_columns == []


def test_csv_title_then_empty_line_then_header(tmp_path):
    recs = records("permit", 2)
    body = csv_bytes(table("permit", recs)).decode()
    text = "长治市行政许可信息公示表\r\n\r\n" + body
    path = tmp_path / "t.csv"
    path.write_bytes(text.encode("gbk"))
    up = read_upload(path)
    assert up.header_row == 3
    assert up.frame["__row"].to_list() == [4, 5]


def test_csv_empty_lines_in_data_keep_row_numbers(tmp_path):
    recs = records("permit", 4)
    rows = table("permit", recs)
    width = len(rows[0])
    lines = csv_bytes(rows).decode().split("\r\n")
    # header (1), rec0 (2), empty (3), rec1 (4), only commas (5), rec2 (6), rec3 (7)
    lines.insert(2, "")
    lines.insert(4, "," * (width - 1))
    path = tmp_path / "gaps.csv"
    path.write_bytes("\r\n".join(lines).encode("utf-8"))
    up = read_upload(path)
    assert up.frame["__row"].to_list() == [2, 4, 6, 7]
    assert column(up, "XK_WSH") == [r["XK_WSH"] for r in recs]
    assert up.blank_rows == 2


def test_csv_quoted_line_break_is_one_row(tmp_path):
    recs = records("permit", 3)
    recs[0]["XK_NR"] = "第一行\n第二行"
    path = write_csv(tmp_path / "multi.csv", table("permit", recs))
    up = read_upload(path)
    # A spreadsheet shows the quoted value in one cell: records are rows 2, 3, 4.
    assert up.frame["__row"].to_list() == [2, 3, 4]
    assert column(up, "XK_NR")[0] == "第一行\n第二行"


def test_tab_separated_csv_is_read(tmp_path):
    recs = records("permit", 2)
    buf = "\t".join(table("permit", recs)[0]) + "\n"
    for r in table("permit", recs)[1:]:
        buf += "\t".join("" if v is None else str(v) for v in r) + "\n"
    path = tmp_path / "tab.csv"
    path.write_bytes(buf.encode("utf-8"))
    up = read_upload(path)
    assert column(up, "XK_WSH") == [r["XK_WSH"] for r in recs]


# ----------------------------------------------------------------------------- text stays text


def test_csv_codes_and_ids_stay_text(tmp_path):
    recs = records("permit", 3, "natural")
    recs[0]["XK_XDR_ZJHM"] = resident_id("110101", "19900307", "001") + "0"  # 19 chars, odd
    recs[1]["XK_XDR_ZJHM"] = "11010119900307123x"
    recs[2]["XK_XDR_ZJHM"] = "011010199003071234"
    recs[2]["XK_XKBH"] = "000123"
    path = write_csv(tmp_path / "ids.csv", table("permit", recs))
    up = read_upload(path)
    assert column(up, "XK_XDR_ZJHM") == [r["XK_XDR_ZJHM"] for r in recs]
    assert column(up, "XK_XKBH")[2] == "000123"


def test_xlsx_text_cells_never_become_numbers(tmp_path):
    recs = records("permit", 2, "natural")
    recs[0]["XK_XDR_ZJHM"] = resident_id("110101", "19900307", "123")
    recs[1]["XK_XDR_ZJHM"] = "01234567890123456X"
    recs[1]["XK_XKBH"] = "000123"
    path = write_xlsx(tmp_path / "ids.xlsx", table("permit", recs))
    up = read_upload(path)
    assert up.format == "xlsx"
    assert column(up, "XK_XDR_ZJHM") == [r["XK_XDR_ZJHM"] for r in recs]
    assert column(up, "XK_XKBH") == [r["XK_XKBH"] for r in recs]
    assert column(up, "XK_XKJGDM") == [r["XK_XKJGDM"] for r in recs]


def test_xlsx_typed_cells(tmp_path):
    recs = records("penalty", 3)
    typed = [dict(r) for r in recs]
    typed[0]["CF_XDR_GSZC"] = 140423806226788  # 15-digit registration number as a number cell
    typed[1]["CF_XDR_GSZC"] = 140423806226788.0  # ... as Excel stores it: a double
    typed[0]["CF_NR_FK"] = 0.5
    typed[1]["CF_NR_FK"] = 3.9
    typed[2]["CF_NR_FK"] = 12
    typed[2]["CF_XDR_GSZC"] = 0.000001  # six decimals, which repr() writes as 1e-06
    typed[2]["CF_GSJZQ"] = 20270301  # a date typed as a plain number
    typed[0]["CF_JDRQ"] = datetime(2026, 3, 1)
    typed[1]["CF_JDRQ"] = date(2026, 3, 2)
    typed[0]["CF_YXQ"] = datetime(2027, 3, 31, 0, 0)
    path = write_xlsx(tmp_path / "typed.xlsx", table("penalty", typed))
    up = read_upload(path)
    assert column(up, "CF_XDR_GSZC") == ["140423806226788", "140423806226788", "0.000001"]
    assert column(up, "CF_GSJZQ")[2] == "20270301"
    assert column(up, "CF_NR_FK") == ["0.5", "3.9", "12"]
    accepted_0301 = {"2026-03-01", "2026/03/01", "20260301", "2026年3月1日", "2026年03月01日"}
    accepted_0302 = {"2026-03-02", "2026/03/02", "20260302", "2026年3月2日", "2026年03月02日"}
    assert column(up, "CF_JDRQ")[0] in accepted_0301
    assert column(up, "CF_JDRQ")[1] in accepted_0302
    assert column(up, "CF_JDRQ")[2] == recs[2]["CF_JDRQ"]
    assert column(up, "CF_YXQ")[0] in {"2027-03-31", "2027/03/31", "20270331"}
    # Credit codes written as text come back exactly.
    assert column(up, "CF_XDR_SHXYM") == [r["CF_XDR_SHXYM"] for r in recs]


def test_xlsx_date_cells_pass_validation(tmp_path):
    from sgs.validate.pipeline import validate_file

    recs = records("permit", 2)
    typed = [dict(r) for r in recs]
    for r in typed:
        r["XK_JDRQ"] = datetime(2026, 3, 1)
        r["XK_YXQZ"] = date(2026, 3, 1)
        r["XK_YXQZI"] = datetime(2099, 12, 31)
    path = write_xlsx(tmp_path / "dates.xlsx", table("permit", typed))
    result = validate_file(path, received=date(2026, 10, 31))
    assert result.errors.to_dicts() == []


def test_xls_typed_cells(tmp_path):
    recs = records("penalty", 2)
    typed = [dict(r) for r in recs]
    typed[0]["CF_XDR_GSZC"] = 140423806226788
    typed[0]["CF_JDRQ"] = datetime(2026, 3, 1)
    typed[1]["CF_NR_FK"] = 0.25
    path = write_xls(tmp_path / "typed.xls", table("penalty", typed))
    up = read_upload(path)
    assert up.format == "xls"
    assert up.kind == "penalty"
    assert column(up, "CF_XDR_GSZC")[0] == "140423806226788"
    assert column(up, "CF_JDRQ")[0] in {"2026-03-01", "2026/03/01", "20260301"}
    assert column(up, "CF_NR_FK") == ["0.5", "0.25"]
    assert column(up, "CF_XDR_SHXYM") == [r["CF_XDR_SHXYM"] for r in recs]
    assert up.frame["__row"].to_list() == [2, 3]


# ----------------------------------------------------------------------------- header row, Excel


def test_xlsx_table_below_instructions_and_empty_rows(tmp_path):
    recs = records("permit", 3)
    above = [
        ["长治市行政许可信息公示表"],
        ["填报说明：1. 带 * 的为必填项；2. 日期格式 YYYY/MM/DD；3. 不要删除表头。"],
        ["填报单位：长治市行政审批服务管理局", None, None, "填报日期：2026年10月31日"],
    ]
    # Rows 4 and 5 stay empty; the header is on row 6.
    path = write_xlsx(tmp_path / "block.xlsx", table("permit", recs), start_row=6, above=above)
    up = read_upload(path)
    assert up.header_row == 6
    assert up.frame["__row"].to_list() == [7, 8, 9]
    assert column(up, "XK_WSH") == [r["XK_WSH"] for r in recs]
    assert up.sheet == "Sheet1"


def test_xlsx_only_empty_rows_above_header(tmp_path):
    recs = records("penalty", 2)
    path = write_xlsx(tmp_path / "low.xlsx", table("penalty", recs), start_row=4)
    up = read_upload(path)
    assert up.header_row == 4
    assert up.frame["__row"].to_list() == [5, 6]


def test_xlsx_empty_row_inside_data(tmp_path):
    recs = records("permit", 3)
    rows = table("permit", recs)
    rows.insert(2, [None] * len(rows[0]))  # spreadsheet row 3 left empty
    path = write_xlsx(tmp_path / "gap.xlsx", rows)
    up = read_upload(path)
    assert up.frame["__row"].to_list() == [2, 4, 5]
    assert up.blank_rows == 1


def test_xlsx_table_starting_in_column_b(tmp_path):
    recs = records("permit", 2)
    rows = [[None, *r] for r in table("permit", recs)]
    path = write_xlsx(tmp_path / "colb.xlsx", rows, start_row=3, above=[[None, "许可信息"]])
    up = read_upload(path)
    assert up.header_row == 3
    assert up.frame["__row"].to_list() == [4, 5]
    assert up.unknown_columns == []
    assert column(up, "XK_WSH") == [r["XK_WSH"] for r in recs]


def test_xlsx_styled_empty_rows_after_data(tmp_path):
    from openpyxl import load_workbook

    recs = records("permit", 3)
    path = write_xlsx(tmp_path / "styled.xlsx", table("permit", recs))
    book = load_workbook(path)
    ws = book.active
    for r in range(5, 200):  # a template formatted far below the data, as units' templates are
        for c in range(1, 29):
            ws.cell(row=r, column=c).number_format = "@"
    ws.cell(row=199, column=1).value = "   "  # and a stray space somewhere far down
    book.save(path)
    up = read_upload(path)
    assert up.frame["__row"].to_list() == [2, 3, 4]


def test_xlsx_data_on_second_sheet(tmp_path):
    recs = records("penalty", 2)
    instructions = [["填报说明"], ["1. 请在「数据」工作表填报"], ["2. 日期格式 YYYY/MM/DD"]]
    path = write_xlsx(
        tmp_path / "sheets.xlsx",
        table("penalty", recs),
        sheet="数据",
        start_row=2,
        above=[["行政处罚信息"]],
        before=[("说明", instructions)],
    )
    up = read_upload(path)
    assert up.sheet == "数据"
    assert up.header_row == 2
    assert up.frame["__row"].to_list() == [3, 4]


def test_xls_title_row(tmp_path):
    recs = records("permit", 3)
    path = write_xls(
        tmp_path / "old.xls", table("permit", recs), start_row=3, above=[["长治市行政许可信息"]]
    )
    up = read_upload(path)
    assert up.format == "xls"
    assert up.header_row == 3
    assert up.frame["__row"].to_list() == [4, 5, 6]
    assert column(up, "XK_XDR_SHXYM") == [r["XK_XDR_SHXYM"] for r in recs]


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("really_xlsx.csv", "xlsx"),
        ("really_xlsx.xls", "xlsx"),
        ("really_xls.xlsx", "xls"),
        ("really_xls.csv", "xls"),
        ("really_csv.xls", "csv"),
        ("really_csv.xlsx", "csv"),
    ],
)
def test_format_detected_from_content_not_name(tmp_path, name, fmt):
    recs = records("permit", 2)
    writer = {"csv": write_csv, "xlsx": write_xlsx, "xls": write_xls}[fmt]
    path = writer(tmp_path / name, table("permit", recs))
    up = read_upload(path)
    assert up.format == fmt
    assert column(up, "XK_WSH") == [r["XK_WSH"] for r in recs]


# ----------------------------------------------------------------------------- header variants


def test_header_variants_map_to_codes(tmp_path):
    recs = records("permit", 2)
    zh = names("permit")
    variants = {
        # without the parenthesised part
        "XK_XDR_SHXYM": "行政相对人代码_1",
        # half-width brackets
        "XK_XDR_GSZC": "行政相对人代码_2(工商注册号)",
        # full-width brackets with stray spaces
        "XK_XDR_ZZJG": " 行政相对人代码_3 （组织机构代码） ",
        # stray spaces inside and around
        "XK_XDR_MC": " 行政相对人 名称 ",
        # codes, any case
        "XK_XKWS": "xk_xkws",
        "XK_WSH": "Xk_Wsh",
        "XK_XKLB": "XK_XKLB",
        # full-width code
        "XK_NR": "ＸＫ＿ＮＲ",
        # a required-marker star, as many templates have
        "XK_XKJG": "*" + zh["XK_XKJG"],
        # a line break inside the cell and an ideographic space
        "XK_XKJGDM": "许可机关\n统一社会信用代码",
        "XK_XDR_LB": "行政相对人\u3000类别",
    }
    path = write_csv(tmp_path / "variants.csv", table("permit", recs, headers=variants))
    up = read_upload(path)
    assert up.unknown_columns == []
    assert set(up.frame.columns) == {"__row", *codes("permit")}
    for code in variants:
        assert column(up, code) == [recs[0].get(code), recs[1].get(code)], code


def test_mixed_code_and_chinese_headers_xlsx(tmp_path):
    recs = records("penalty", 2)
    cols = codes("penalty")
    mixed = {c: (c.lower() if i % 2 else names("penalty")[c]) for i, c in enumerate(cols)}
    path = write_xlsx(tmp_path / "mixed.xlsx", table("penalty", recs, headers=mixed))
    up = read_upload(path)
    assert up.kind == "penalty"
    assert up.unknown_columns == []
    assert set(up.frame.columns) == {"__row", *cols}


def test_misspelled_confiscation_header(tmp_path):
    recs = records("penalty", 2)
    recs[0]["CF_CFLB"] = "没收违法所得"
    recs[0]["CF_NR_WFFF"] = "1.2"
    header = {"CF_NR_WFFF": "没收违法所得、没收非法财务的金额（万元）"}
    path = write_csv(tmp_path / "old.csv", table("penalty", recs, headers=header))
    up = read_upload(path)
    assert "CF_NR_WFFF" in up.frame.columns
    assert column(up, "CF_NR_WFFF")[0] == "1.2"
    assert up.unknown_columns == []


def test_misspelled_confiscation_header_without_unit(tmp_path):
    recs = records("penalty", 1)
    header = {"CF_NR_WFFF": "没收违法所得、没收非法财务的金额"}
    path = write_csv(tmp_path / "old.csv", table("penalty", recs, headers=header))
    up = read_upload(path)
    assert "CF_NR_WFFF" in up.frame.columns
    assert up.unknown_columns == []


def test_unknown_columns_kept_and_reported(tmp_path):
    recs = records("permit", 3)
    cols = ["序号", *codes("permit"), "联系电话"]
    rows = table("permit", recs, columns=cols)
    for i, row in enumerate(rows[1:], start=1):
        row[0] = str(i)
        row[-1] = f"1380000000{i}"
    path = write_csv(tmp_path / "extra.csv", rows)
    up = read_upload(path)
    assert set(up.unknown_columns) == {"序号", "联系电话"}
    assert "序号" not in up.frame.columns and "联系电话" not in up.frame.columns
    assert up.extras.height == up.frame.height == 3
    assert up.extras["序号"].to_list() == ["1", "2", "3"]
    assert up.extras["联系电话"].to_list() == ["13800000001", "13800000002", "13800000003"]


# ----------------------------------------------------------------------------- layouts


V1_PERMIT_HEADERS = [
    "XK_WSH", "XK_XMMC", "XK_SPLB", "XK_NR", "XK_XDR_MC", "XK_XDR_SHXYM", "XK_FRDB", "XK_JDRQ",
    "XK_JZQ", "XK_XZJG", "XK_ZT", "DFBM", "SJC", "BZ",
]  # fmt: skip
V1_PENALTY_HEADERS = [
    "CF_WSH", "CF_CFMC", "CF_CFLB1", "CF_CFLB2", "CF_SY", "CF_YJ", "CF_XDR_MC", "CF_XDR_SHXYM",
    "CF_FR", "CF_JG", "CF_JDRQ", "CF_XZJG", "CF_ZT", "DFBM", "SJC", "BZ",
]  # fmt: skip
V1_PERMIT_ZH = [
    "行政许可决定书文号", "项目名称", "审批类别", "许可内容", "行政相对人名称",
    "行政相对人代码_1(统一社会信用代码)", "法定代表人姓名", "许可决定日期", "许可截止期",
    "许可机关", "当前状态", "地方编码", "数据更新时间戳", "备注",
]  # fmt: skip


def _v1_rows(headers: list[str]) -> list[list[str]]:
    row = ["长审批〔2016〕1号", "食品经营许可", "普通", "预包装食品销售", "长治市某公司"]
    row += ["x"] * (len(headers) - len(row))
    return [headers, row, row]


def _assert_v1_message(exc: FileRefused) -> None:
    assert exc.code == "layout_v1"
    assert "v1" in exc.message.lower() or "2016" in exc.message or "试行" in exc.message
    # The message names what the current layout needs.
    assert "行政相对人类别" in exc.message or "XDR_LB" in exc.message


@pytest.mark.parametrize(
    ("headers", "fmt"),
    [
        (V1_PERMIT_HEADERS, "csv"),
        (V1_PENALTY_HEADERS, "csv"),
        (V1_PERMIT_ZH, "csv"),
        (V1_PERMIT_HEADERS, "xlsx"),
        (V1_PENALTY_HEADERS, "xls"),
    ],
)
def test_v1_layout_refused_naming_layout(tmp_path, headers, fmt):
    rows = _v1_rows(headers)
    path = tmp_path / f"v1.{fmt}"
    if fmt == "csv":
        path.write_bytes(csv_bytes(rows, "gbk"))
    elif fmt == "xlsx":
        write_xlsx(path, rows, start_row=2, above=[["2016年行政许可信息"]])
    else:
        write_xls(path, rows)
    _assert_v1_message(refused(path))


def test_v1_refused_even_with_kind_given(tmp_path):
    path = tmp_path / "v1.csv"
    path.write_bytes(csv_bytes(_v1_rows(V1_PERMIT_HEADERS)))
    _assert_v1_message(refused(path, "permit"))


def test_missing_required_columns_named(tmp_path):
    cols = [c for c in codes("permit") if c not in {"XK_XKJG", "XK_NR"}]
    path = write_csv(tmp_path / "short.csv", table("permit", records("permit", 2), columns=cols))
    exc = refused(path)
    assert exc.code == "missing_columns"
    zh = names("permit")
    for code in ("XK_XKJG", "XK_NR"):
        assert code in exc.message or zh[code] in exc.message, exc.message
    # Columns that are present are not listed.
    assert "XK_WSH" not in exc.message


def test_missing_optional_columns_are_fine(tmp_path):
    optional = {"XK_XDR_GSZC", "XK_XDR_ZZJG", "XK_XDR_SWDJ", "XK_XDR_SYDW", "XK_XDR_SHZZ", "BZ"}
    cols = [c for c in codes("permit") if c not in optional]
    path = write_csv(tmp_path / "lean.csv", table("permit", records("permit", 2), columns=cols))
    up = read_upload(path)
    assert up.frame.height == 2


def _v15_table(kind: str, recs: list[dict], headers: str = "chinese") -> list[list[object]]:
    p = "XK" if kind == "permit" else "CF"
    cols = [c for c in codes(kind) if c not in {f"{p}_XDR_LB", f"{p}_FR_ZJLX", f"{p}_FR_ZJHM"}]
    cols.insert(cols.index(f"{p}_FRDB") + 1, f"{p}_FR_SFZH")
    for r in recs:
        r[f"{p}_FR_SFZH"] = r.get(f"{p}_FR_ZJHM")
    header = {f"{p}_FR_SFZH": "法定代表人身份证号"} if headers == "chinese" else "code"
    return table(kind, recs, headers=header, columns=cols)


@pytest.mark.parametrize("kind", ["permit", "penalty"])
@pytest.mark.parametrize("headers", ["chinese", "code"])
def test_v15_layout_accepted_and_mapped(tmp_path, kind, headers):
    p = "XK" if kind == "permit" else "CF"
    recs = records(kind, 3)
    recs[2].pop(f"{p}_FR_ZJHM")  # one legal person without the representative's ID
    path = write_csv(tmp_path / "v15.csv", _v15_table(kind, recs, headers))
    up = read_upload(path)
    assert up.layout == "v1.5"
    assert up.kind == kind
    assert f"{p}_FR_SFZH" not in up.frame.columns
    assert up.unknown_columns == []
    assert column(up, f"{p}_FR_ZJHM") == [recs[0][f"{p}_FR_ZJHM"], recs[1][f"{p}_FR_ZJHM"], None]
    assert column(up, f"{p}_FR_ZJLX")[:2] == ["身份证", "身份证"]
    assert column(up, f"{p}_FR_ZJLX")[2] in (None, "")
    assert f"{p}_XDR_LB" not in up.frame.columns or all(
        v in (None, "") for v in column(up, f"{p}_XDR_LB")
    )


def test_v15_validation_fails_only_required_subject_type(tmp_path):
    from sgs.validate.pipeline import validate_file

    recs = records("permit", 5)
    recs[3]["XK_FR_ZJHM"] = broken_check(recs[3]["XK_FR_ZJHM"])
    recs[4]["XK_FR_ZJHM"] = "无"  # a blank-like value: no ID, so no ID type either
    path = write_xlsx(tmp_path / "v15.xlsx", _v15_table("permit", recs))
    result = validate_file(path, received=date(2026, 10, 31))
    errors = result.errors.to_dicts()
    lb = [(e["row"], e["rule"]) for e in errors if e["field"] == "XK_XDR_LB"]
    assert lb == [(r, "required") for r in (2, 3, 4, 5, 6)]
    # The mapped ID is checked as a 身份证.
    others = {(e["row"], e["field"], e["rule"]) for e in errors if e["field"] != "XK_XDR_LB"}
    assert others == {(5, "XK_FR_ZJHM", "id_check")}


# ----------------------------------------------------------------------------- refusals


def test_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    assert refused(path).code == "empty"


def test_whitespace_only_file(tmp_path):
    path = tmp_path / "blank.csv"
    path.write_bytes(b"\r\n\r\n   \r\n")
    assert refused(path).code in {"empty", "no_header"}


def test_garbage_binary(tmp_path):
    path = tmp_path / "garbage.csv"
    path.write_bytes(random.Random(7).randbytes(8192))
    assert refused(path).code == "unreadable"


def test_png_named_csv(tmp_path):
    path = tmp_path / "photo.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + random.Random(3).randbytes(2048))
    assert refused(path).code == "unreadable"


@pytest.mark.parametrize("name", ["corrupt.xlsx", "corrupt.csv"])
def test_corrupt_xlsx(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"PK\x03\x04" + random.Random(11).randbytes(4096))
    assert refused(path).code == "unreadable"


def test_corrupt_xls(tmp_path):
    path = tmp_path / "corrupt.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + random.Random(5).randbytes(4096))
    assert refused(path).code == "unreadable"


def test_no_recognisable_header_csv(tmp_path):
    path = tmp_path / "other.csv"
    path.write_bytes(csv_bytes([["姓名", "年龄", "城市"], ["张三", "30", "长治"]]))
    assert refused(path).code == "no_header"


def test_no_recognisable_header_xlsx(tmp_path):
    path = write_xlsx(tmp_path / "other.xlsx", [["商品", "单价"], ["苹果", 3.5]])
    assert refused(path).code == "no_header"


def test_missing_file(tmp_path):
    exc = refused(tmp_path / "nope.csv")
    assert exc.code == "unreadable"


def test_header_only_file_has_no_rows(tmp_path):
    path = write_csv(tmp_path / "head.csv", table("permit", []))
    try:
        up = read_upload(path)
    except FileRefused as exc:  # refusing an empty table is also reasonable
        assert exc.code == "empty"
    else:
        assert up.frame.height == 0
        assert "XK_XDR_MC" in up.frame.columns


# ----------------------------------------------------------------------------- valid sample files


@pytest.mark.parametrize("kind", ["permit", "penalty"])
def test_generated_sample_round_trips(tmp_path, kind):
    sample = generate(kind, 30, seed=5, defect_rate=0.0)
    for name, encoding in (("s.csv", "gbk"), ("s.xlsx", "utf-8"), ("s.xls", "utf-8")):
        path = write_upload(sample.frame, tmp_path / name, encoding=encoding)
        up = read_upload(path)
        assert up.kind == kind
        got = up.frame.drop("__row").select(sample.frame.columns)
        want = sample.frame.select(pl.all().cast(pl.String))
        assert got.to_dicts() == want.to_dicts(), name
        assert up.frame["__row"].to_list() == list(range(2, 32))


def test_uscc_stays_exact_for_letter_led_codes(tmp_path):
    recs = records("permit", 2)
    recs[0]["XK_XDR_SHXYM"] = uscc("N1", "140400", "MA0ABCDE")
    recs[1]["XK_XDR_SHXYM"] = uscc("Y1", "140400", "12345678")
    path = write_xlsx(tmp_path / "letters.xlsx", table("permit", recs))
    up = read_upload(path)
    assert column(up, "XK_XDR_SHXYM") == [r["XK_XDR_SHXYM"] for r in recs]


def test_penalty_record_helpers_are_valid():
    """The fixture builders themselves: a sanity check that keeps the other tests honest."""
    from sgs.validate.pipeline import validate_records

    for kind, make in (("permit", permit_record), ("penalty", penalty_record)):
        for subject in ("legal", "individual", "natural"):
            recs = [make(i, subject) for i in range(5)]
            result = validate_records(kind, recs, date(2026, 10, 31))
            assert result.errors.to_dicts() == [], (kind, subject)


def test_blank_rows_are_found_when_every_column_has_empty_cells():
    """Only the empty cells of the fullest column are candidates; a record that is empty
    there but not elsewhere is kept."""
    from sgs.intake.readers import _without_blank_rows

    body = pl.DataFrame(
        {
            "c0": ["x", None, None, "z", None],
            "c1": [None, "y", None, "w", None],
            "c2": [None, None, None, "v", "u"],
        }
    )
    kept = _without_blank_rows(body, ["c0", "c1", "c2"])
    assert kept.rows() == [("x", None, None), (None, "y", None), ("z", "w", "v"), (None, None, "u")]
    full = body.filter(pl.col("c0").is_not_null())
    assert _without_blank_rows(full, ["c0", "c1", "c2"]) is full
