"""Files as they really arrive, run through ``sgs validate`` and ``sgs ingest`` as a user runs
them (issue 10, items 3–6, 8 and 9): blank templates, workbooks with several or hidden sheets
and stray far-away cells, CSVs with mixed line endings, ragged rows, blank-looking rows,
two-level headers and unclosed quotes, Big5 and Shift-JIS text.

Every expectation is counted from the file as written here, never from the reader's frame:
every row ends up stored or in a refused (quarantined) file with a Chinese reason, no
traceback, no raw parser text and no unmasked ID number in any message.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import duckdb
import pytest
from support import warm_sgs
from support.upload_files import (
    RECEIVED,
    codes,
    csv_bytes,
    names,
    permit_record,
    records,
    resident_id,
    table,
    with_sheet_data,
    write_xlsx,
)

SGS = Path(sys.executable).with_name("sgs")
if not SGS.exists():  # pragma: no cover - running outside the project's venv
    SGS = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "sgs"
UNIT = "111404000448224608"  # 长治市行政审批服务管理局 in config/units.csv
CJK = re.compile(r"[\u4e00-\u9fff]")
SHEET_KEYS = {"name", "rows", "read", "reason"}
FULL_ID = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")
RAW_PARSER_TEXT = re.compile(r"ComputeError|SchemaError|polars|Traceback|Error:|技术信息", re.I)
GIB = 1 << 30


def _limit(address_space: int | None):
    if address_space is None:
        return None

    def apply() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))

    return apply


def sgs(
    cwd: Path, *args: str | Path, root: Path | None = None, address_space: int | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SGS_DATA_DIR": str(root or cwd / "data")}
    if address_space is None:  # the process itself is not measured: the warm one will do
        proc = warm_sgs.run([*args], cwd=cwd, env=env, timeout=300)
        assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
        return proc
    proc = subprocess.run(
        [str(SGS), *map(str, args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        preexec_fn=_limit(address_space),
    )
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    return proc


def validate(path: Path, *args: str, expect: int, address_space: int | None = None) -> dict:
    proc = sgs(
        path.parent, "validate", path.name, "--json", "--received", RECEIVED, *args,
        address_space=address_space,
    )  # fmt: skip
    assert proc.returncode == expect, (proc.returncode, proc.stdout[:2000], proc.stderr[:2000])
    obj = json.loads(proc.stdout)
    if expect != 2:
        for info in obj["sheets"]:
            assert set(info) == SHEET_KEYS, info
        assert obj["rows"] == sum(s["rows"] for s in obj["sheets"] if s["read"])
        for e in obj["errors"]:
            assert "sheet" in e
    return obj


def refusal(path: Path, code: str) -> str:
    """The Chinese reason of a refused file: exit 2, no parser text, no full ID number."""
    proc = sgs(path.parent, "validate", path.name, "--json")
    assert proc.returncode == 2, (proc.stdout[:2000], proc.stderr[:2000])
    obj = json.loads(proc.stdout)
    assert obj["refused"]["code"] == code, obj
    for text in (proc.stderr, obj["refused"]["message"]):
        assert CJK.search(text), text
        assert not RAW_PARSER_TEXT.search(text), text
        assert not FULL_ID.search(text), text
    return obj["refused"]["message"]


def ingest(path: Path, root: Path, expect: int = 0) -> dict:
    proc = sgs(
        path.parent, "ingest", path.name, "--unit", UNIT, "--received", RECEIVED, "--json",
        root=root,
    )  # fmt: skip
    assert proc.returncode == expect, (proc.stdout[:2000], proc.stderr[:2000])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def query(root: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(root / "curated" / "sgs.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def lines_of(kind: str, recs: list[dict]) -> list[bytes]:
    """Header and records as CSV lines without their line ends."""
    return [csv_bytes([r]).rstrip(b"\r\n") for r in table(kind, recs)]


# ----------------------------------------------------------------------------- item 3: no records


@pytest.mark.parametrize("kind", ["permit", "penalty"])
def test_blank_template_validates_and_ingests_with_exit_0(tmp_path, kind):
    out = sgs(tmp_path, "template", kind, "--out", "模板.xlsx")
    assert out.returncode == 0, out.stderr
    obj = validate(tmp_path / "模板.xlsx", expect=0)
    assert (obj["rows"], obj["errors"], obj["kind"]) == (0, [], kind)
    result = ingest(tmp_path / "模板.xlsx", tmp_path / "data")
    assert (result["status"], result["rows_stored"]) == ("stored", 0)


@pytest.mark.parametrize("tail", [b"\r\n\r\n", b"\r\n   \r\n,,,\r\n", b"\n\n\n", b""])
def test_header_without_records_exits_0(tmp_path, tail):
    path = tmp_path / "空.csv"
    path.write_bytes(lines_of("permit", [])[0] + tail)
    obj = validate(path, expect=0)
    assert obj["rows"] == 0
    assert obj["sheets"] == [{"name": None, "rows": 0, "read": True, "reason": None}]
    assert ingest(path, tmp_path / "data")["status"] == "stored"


# ----------------------------------------------------------------------------- item 4: sheets


def _workbook(path: Path, sheets: list[tuple[str, str, list[list[object]]]]) -> Path:
    """Sheets (name, state, rows) written with openpyxl; state is visible/hidden/veryHidden."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for name, state, rows in sheets:
        ws = book.create_sheet(name)
        ws.sheet_state = state
        for r in rows:
            ws.append(r)
    book.save(path)
    return path


def test_every_visible_matching_sheet_is_read_hidden_stale_sheet_skipped(tmp_path):
    jan = [permit_record(i) for i in range(3)]
    feb = [permit_record(i) for i in range(3, 8)]
    feb[1]["XK_XDR_MC"] = ""  # sheet 二月, spreadsheet row 3
    jan[0]["XK_XKJG"] = ""  # sheet 一月, row 2
    stale = [permit_record(i) for i in range(20, 30)]
    path = _workbook(
        tmp_path / "两个月.xlsx",
        [
            ("一月", "visible", table("permit", jan)),
            ("旧数据", "hidden", table("permit", stale)),
            ("二月", "visible", table("permit", feb)),
            ("说明", "visible", [["填报说明"], ["请勿修改表头"]]),
        ],
    )
    obj = validate(path, expect=1)
    assert obj["rows"] == 8
    by_name = {s["name"]: s for s in obj["sheets"]}
    assert [s["name"] for s in obj["sheets"]] == ["一月", "旧数据", "二月", "说明"]
    assert (by_name["一月"]["rows"], by_name["一月"]["read"]) == (3, True)
    assert (by_name["二月"]["rows"], by_name["二月"]["read"]) == (5, True)
    assert (by_name["旧数据"]["rows"], by_name["旧数据"]["read"]) == (10, False)
    assert "隐藏" in by_name["旧数据"]["reason"]
    assert (by_name["说明"]["read"], by_name["说明"]["rows"]) == (False, 2)
    assert CJK.search(by_name["说明"]["reason"])
    failing = {(e["sheet"], e["row"], e["field"]) for e in obj["errors"] if e["rule"] == "required"}
    assert failing == {("一月", 2, "XK_XKJG"), ("二月", 3, "XK_XDR_MC")}

    root = tmp_path / "data"
    result = ingest(path, root)
    assert (result["rows_read"], result["rows_stored"], result["rows_failing"]) == (8, 8, 2)
    # The ingest message says what was read and what was left, and why.
    assert "读取工作表「一月」3 条、「二月」5 条" in result["message"]
    assert "未读取工作表「旧数据」（" in result["message"] and "「说明」（" in result["message"]
    stored = query(root, "SELECT source_sheet, source_row FROM permits ORDER BY record_id")
    assert stored == [("一月", r) for r in (2, 3, 4)] + [("二月", r) for r in range(2, 7)]
    joined = query(
        root,
        "SELECT e.sheet, e.row, p.source_sheet, p.source_row FROM errors e"
        " JOIN permits p USING (record_id) WHERE e.rule = 'required'",
    )
    assert sorted(joined) == [("一月", 2, "一月", 2), ("二月", 3, "二月", 3)]
    assert query(root, "SELECT count(*) FROM errors WHERE record_id IS NULL") == [(0,)]
    assert query(root, "SELECT sheet FROM batches") == [("一月、二月",)]


def test_feedback_list_names_the_sheet_of_each_problem(tmp_path):
    # Two sheets, each with an error on its row 2: the feedback list tells them apart.
    one, two = [permit_record(0)], [permit_record(1)]
    one[0]["XK_XKJG"] = two[0]["XK_XKJG"] = ""
    path = _workbook(
        tmp_path / "两表.xlsx",
        [("一月", "visible", table("permit", one)), ("二月", "visible", table("permit", two))],
    )
    root = tmp_path / "data"
    ingest(path, root)
    out = tmp_path / "反馈.xlsx"
    proc = sgs(tmp_path, "feedback", "--unit", UNIT, "--out", out, "--as-of", RECEIVED, root=root)
    assert proc.returncode == 0, proc.stderr
    from openpyxl import load_workbook

    sheet = load_workbook(out).active
    # It prints like every workbook people read: A4, one page across, header on every page.
    assert (sheet.page_setup.paperSize, sheet.page_setup.orientation) == (9, "landscape")
    assert sheet.print_title_rows.replace("$", "") == "4:4"
    rows = list(sheet.iter_rows(values_only=True))
    head = next(i for i, r in enumerate(rows) if r and r[0] == "类别")
    file_col, row_col = rows[head].index("文件"), rows[head].index("行号")
    found = sorted((r[file_col], r[row_col]) for r in rows[head + 1 :] if r and r[file_col])
    assert found == [("两表.xlsx（工作表「一月」）", 2), ("两表.xlsx（工作表「二月」）", 2)]
    # The bulletin's list of failing records names the sheet too.
    report = tmp_path / "通报.xlsx"
    period = RECEIVED[:7]
    proc = sgs(tmp_path, "report", "--period", period, "--out", report, "--as-of", RECEIVED,
               root=root)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = list(load_workbook(report)["不合规明细"].iter_rows(values_only=True))
    head = next(i for i, r in enumerate(rows) if r and "上报文件" in r)
    col = rows[head].index("上报文件")
    listed = sorted(r[col] for r in rows[head + 1 :] if r and r[col])
    assert listed == ["两表.xlsx（工作表「一月」）", "两表.xlsx（工作表「二月」）"]


def test_same_row_on_two_sheets_without_a_document_number_are_two_records(tmp_path):
    a, b = permit_record(0), permit_record(1)
    a["XK_WSH"] = b["XK_WSH"] = ""
    path = _workbook(
        tmp_path / "无文号.xlsx",
        [("甲", "visible", table("permit", [a])), ("乙", "visible", table("permit", [b]))],
    )
    root = tmp_path / "data"
    assert ingest(path, root)["rows_stored"] == 2
    keys = query(root, "SELECT DISTINCT record_key FROM permits")
    assert len(keys) == 2
    per_record = query(
        root,
        "SELECT p.source_sheet, count(*) FROM errors e JOIN permits p USING (record_id)"
        " WHERE e.rule = 'required' GROUP BY ALL ORDER BY 1",
    )
    assert per_record == [("乙", 1), ("甲", 1)]


@pytest.mark.parametrize("state", ["hidden", "veryHidden"])
def test_hidden_sheet_is_read_when_no_visible_sheet_matches(tmp_path, state):
    path = _workbook(
        tmp_path / "隐藏.xlsx",
        [
            ("说明", "visible", [["见数据表"]]),
            ("数据", state, table("permit", records("permit", 4))),
        ],
    )
    obj = validate(path, expect=0)
    assert obj["rows"] == 4
    data = obj["sheets"][1]
    assert (data["name"], data["read"], data["rows"]) == ("数据", True, 4)
    assert "隐藏" in data["reason"]


def test_sheets_of_both_kinds_refuse_the_file(tmp_path):
    path = _workbook(
        tmp_path / "混合.xlsx",
        [
            ("许可", "visible", table("permit", records("permit", 2))),
            ("处罚", "visible", table("penalty", records("penalty", 2))),
        ],
    )
    assert "分成两个文件" in refusal(path, "mixed_kinds")


def test_csv_reports_one_unnamed_sheet_and_null_error_sheets(tmp_path):
    recs = records("permit", 3)
    recs[1]["XK_XDR_MC"] = ""
    path = tmp_path / "p.csv"
    path.write_bytes(csv_bytes(table("permit", recs)))
    obj = validate(path, expect=1)
    assert obj["sheets"] == [{"name": None, "rows": 3, "read": True, "reason": None}]
    assert obj["sheet"] is None
    assert {(e["sheet"], e["row"]) for e in obj["errors"]} == {(None, 3)}


def test_ledger_sheets_are_all_read(tmp_path):
    head = ["类别", "决定文书号", "行政相对人名称", "行政相对人代码", "决定日期"]
    rows = [[*head]] + [
        ["行政许可", f"长审批〔2026〕{i}号", f"公司{i}", "", f"2026-10-{i:02d}"]
        for i in range(1, 4)
    ]
    more = [[*head], ["行政许可", "长审批〔2026〕9号", "公司9", "", "2026-10-09"]]
    path = _workbook(
        tmp_path / "台账_2026-10.xlsx",
        [("上旬", "visible", rows), ("中旬", "visible", more), ("旧", "hidden", more)],
    )
    root = tmp_path / "data"
    proc = sgs(
        tmp_path, "ledger", path.name, "--unit", UNIT, "--period", "2026-10", "--json", root=root
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["rows_stored"] == 4
    assert "读取工作表「上旬」3 条、「中旬」1 条" in result["message"]
    assert "未读取工作表「旧」（" in result["message"]
    assert query(
        root, "SELECT source_sheet, count(*) FROM ledger_entries GROUP BY 1 ORDER BY 1"
    ) == [
        ("上旬", 3),
        ("中旬", 1),
    ]


# ----------------------------------------------------------------------------- item 5: CSV shapes


def test_mixed_line_endings_keep_every_record(tmp_path):
    recs = records("permit", 5)
    lines = lines_of("permit", recs)
    ends = [b"\r\n", b"\n", b"\r", b"\r\n", b"\r", b"\n"]
    path = tmp_path / "混合换行.csv"
    path.write_bytes(b"".join(line + end for line, end in zip(lines, ends, strict=True)))
    obj = validate(path, expect=0)
    assert obj["rows"] == 5


def test_cr_only_file_is_read(tmp_path):
    recs = records("penalty", 4)
    path = tmp_path / "mac.csv"
    path.write_bytes(b"\r".join(lines_of("penalty", recs)) + b"\r")
    obj = validate(path, expect=0)
    assert (obj["rows"], obj["header_row"]) == (4, 1)


def test_quoted_line_breaks_survive_mixed_line_endings(tmp_path):
    recs = records("permit", 3)
    recs[0]["BZ"] = "第一行\r\n第二行\r第三行"
    lines = lines_of("permit", recs)
    path = tmp_path / "引号换行.csv"
    path.write_bytes(lines[0] + b"\r" + lines[1] + b"\n" + lines[2] + b"\r\n" + lines[3] + b"\r")
    root = tmp_path / "data"
    assert ingest(path, root)["rows_stored"] == 3
    assert query(root, "SELECT BZ FROM permits ORDER BY source_row") == [
        ("第一行\r\n第二行\r第三行",),
        (None,),
        (None,),
    ]
    assert query(root, "SELECT source_row FROM permits ORDER BY 1") == [(2,), (3,), (4,)]


def test_rows_longer_than_the_header_keep_their_cells(tmp_path):
    recs = records("permit", 3)
    lines = lines_of("permit", recs)
    lines[1] += ",多出的单元格,another".encode()
    path = tmp_path / "长行.csv"
    path.write_bytes(b"\r\n".join(lines) + b"\r\n")
    obj = validate(path, expect=0)
    assert obj["rows"] == 3
    assert len(obj["unknown_columns"]) == 2
    root = tmp_path / "data"
    ingest(path, root)
    extras = [
        json.loads(e) for (e,) in query(root, "SELECT extras FROM permits ORDER BY source_row")
    ]
    assert sorted(extras[0].values()) == ["another", "多出的单元格"]
    assert all(v is None for e in extras[1:] for v in e.values())


def test_whitespace_only_rows_are_blank_not_records(tmp_path):
    recs = records("permit", 2)
    lines = lines_of("permit", recs)
    body = [lines[0], b"   ", lines[1], b" , ,\t, ", b"\t", lines[2], b""]
    path = tmp_path / "空白行.csv"
    path.write_bytes(b"\r\n".join(body) + b"\r\n")
    obj = validate(path, expect=0)
    assert (obj["rows"], obj["blank_rows"]) == (2, 4)
    assert ingest(path, tmp_path / "data")["rows_stored"] == 2


def _two_level(kind: str = "permit") -> tuple[list[object], list[object], list[str]]:
    """A header on two rows: subject codes under 行政相对人代码, the representative's three
    columns under 法定代表人; every other column spans both rows."""
    zh, cols = names(kind), codes(kind)
    top: list[object] = []
    sub: list[object] = []
    for c in cols:
        if c.startswith("XK_XDR_") and "（" in zh[c] and c not in ("XK_XDR_ZJLX", "XK_XDR_ZJHM"):
            top.append("行政相对人代码" if c == "XK_XDR_SHXYM" else None)
            sub.append(zh[c].split("（")[1].rstrip("）"))
        elif c in ("XK_FRDB", "XK_FR_ZJLX", "XK_FR_ZJHM"):
            top.append("法定代表人" if c == "XK_FRDB" else None)
            sub.append({"XK_FRDB": "姓名", "XK_FR_ZJLX": "证件类型", "XK_FR_ZJHM": "证件号码"}[c])
        else:
            top.append(zh[c])
            sub.append(None)
    return top, sub, cols


def test_two_level_header_csv_is_one_header(tmp_path):
    top, sub, cols = _two_level()
    recs = records("permit", 3)
    recs[0]["XK_FR_ZJHM"] = resident_id("140402", "19750615", "000")[:-1] + "Z"
    path = tmp_path / "两级表头.csv"
    path.write_bytes(csv_bytes([top, sub, *[[r.get(c) for c in cols] for r in recs]]))
    obj = validate(path, expect=1)
    assert (obj["rows"], obj["header_row"], obj["unknown_columns"]) == (3, 1, [])
    assert {(e["row"], e["field"]) for e in obj["errors"] if e["severity"] == "error"} == {
        (3, "XK_FR_ZJHM")
    }


def test_two_level_merged_header_xlsx_is_one_header(tmp_path):
    from openpyxl import load_workbook

    top, sub, cols = _two_level()
    path = write_xlsx(
        tmp_path / "两级表头.xlsx", [top, sub, *table("permit", records("permit", 4))[1:]]
    )
    book = load_workbook(path)
    ws = book.active
    first = cols.index("XK_XDR_SHXYM") + 1
    ws.merge_cells(start_row=1, start_column=first, end_row=1, end_column=first + 5)
    for i in range(1, len(cols) + 1):
        if top[i - 1] and sub[i - 1] is None:
            ws.merge_cells(start_row=1, start_column=i, end_row=2, end_column=i)
    book.save(path)
    obj = validate(path, expect=0)
    assert (obj["rows"], obj["header_row"], obj["unknown_columns"]) == (4, 1, [])
    assert ingest(path, tmp_path / "data")["rows_stored"] == 4


# ----------------------------------------------------------------------------- item 6: far cells


def _with_far_cell(src: Path, dst: Path, ref: str, value: str | None) -> Path:
    """``src`` with one more cell at ``ref`` (and the sheet's declared range up to it), edited
    in the sheet XML the way a stray keystroke leaves it; ``value`` None: formatting only."""
    row = re.sub(r"[A-Z]+", "", ref)
    cell = (
        f'<c r="{ref}" s="0"/>'
        if value is None
        else f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'
    )
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(
                    b"</sheetData>", f'<row r="{row}">{cell}</row></sheetData>'.encode()
                )
                data = re.sub(
                    rb'<dimension ref="[^"]*"/>', f'<dimension ref="A1:{ref}"/>'.encode(), data
                )
            zout.writestr(item, data)
    return dst


@pytest.mark.parametrize("ref", ["XFD1048576", "CV1048576"])
def test_far_corner_cell_reads_in_bounded_memory(tmp_path, ref):
    """Under a 2 GiB address-space limit (the old reader needed 5.8 GB for CV1048576 and 512 GiB
    for XFD1048576): the 30 records and the stray cell's row, nothing else."""
    base = write_xlsx(tmp_path / "base.xlsx", table("permit", records("permit", 30)))
    path = _with_far_cell(base, tmp_path / "远处单元格.xlsx", ref, "x")
    obj = validate(path, expect=1, address_space=2 * GIB)
    assert obj["rows"] == 31  # 30 records, and the row the stray cell is on (nothing is lost)
    assert {e["row"] for e in obj["errors"]} == {1048576}
    assert len(obj["unknown_columns"]) == 1
    assert obj["blank_rows"] == 1048576 - 31 - 1


def test_far_formatted_empty_cell_is_nothing(tmp_path):
    base = write_xlsx(tmp_path / "base.xlsx", table("permit", records("permit", 30)))
    path = _with_far_cell(base, tmp_path / "格式.xlsx", "XFD1048576", None)
    obj = validate(path, expect=0, address_space=2 * GIB)
    assert (obj["rows"], obj["blank_rows"], obj["unknown_columns"]) == (30, 0, [])


# ----------------------------------------------------------------------------- item 8: quotes


def test_unclosed_quote_is_refused_naming_the_line_without_parser_text(tmp_path):
    person = resident_id("110101", "19900307", "123")
    lines = lines_of("permit", records("permit", 4))
    lines[2] = b'"' + lines[2]  # the quote opens at the start of line 3 and never closes
    lines[3] = lines[3].replace(b",", f",{person},".encode(), 1)
    path = tmp_path / f"未闭合引号_{person}.csv"
    path.write_bytes(b"\r\n".join(lines) + b"\r\n")
    message = refusal(path, "unclosed_quote")
    assert "第 3 行" in message
    quoted = re.search(r"「([^」]*)」。", message)
    assert quoted is not None and len(quoted[1].rstrip("…")) <= 40
    result = ingest(path, tmp_path / "data", expect=1)
    assert result["status"] == "quarantined"
    stored = query(tmp_path / "data", "SELECT reason_code, message FROM quarantine")
    assert stored[0][0] == "unclosed_quote"
    assert not FULL_ID.search(stored[0][1]) and not RAW_PARSER_TEXT.search(stored[0][1])
    assert not FULL_ID.search(result["message"])


def test_stray_quote_inside_a_cell_is_read_as_excel_reads_it(tmp_path):
    recs = records("permit", 2)
    recs[0]["BZ"] = 'a"b'
    lines = lines_of("permit", recs)
    lines[1] = lines[1].replace(b'"a""b"', b'a"b')
    path = tmp_path / "引号.csv"
    path.write_bytes(b"\r\n".join(lines) + b"\r\n")
    obj = validate(path, expect=0)
    assert obj["rows"] == 2


def test_corrupt_workbook_reason_has_no_library_text(tmp_path):
    base = write_xlsx(tmp_path / "base.xlsx", table("permit", records("permit", 2)))
    data = bytearray(base.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 200] = b"\x00" * 200
    path = tmp_path / "损坏.xlsx"
    path.write_bytes(bytes(data))
    refusal(path, "unreadable")


# ----------------------------------------------------------------------------- item 9: encodings

# The few header words of a penalty file in traditional characters, as a Big5 system writes them.
TRADITIONAL = str.maketrans("对称类处罚决书号码证统会组织机构税务记业单违为据内额经营许负责关册别备实数暂来没编财销",
                            "對稱類處罰決書號碼證統會組織機構稅務記業單違為據內額經營許負責關冊別備實數暫來沒編財銷")  # fmt: skip


def test_big5_file_is_read_as_traditional_chinese(tmp_path):
    head = [n.translate(TRADITIONAL) for n in table("penalty", [])[0]]
    values = {
        "CF_XDR_MC": "臺北市政府",
        "CF_WSH": "北市環罰字第1130001號",
        "CF_SY": "行政處罰決定書",
    }
    row = [values.get(c, "") for c in codes("penalty")]
    path = tmp_path / "big5.csv"
    path.write_bytes(csv_bytes([head, row, row], "cp950"))
    obj = validate(path, expect=1)
    assert (obj["encoding"], obj["rows"], obj["unknown_columns"]) == ("big5", 2, [])
    shown = {e["field"]: e["value"] for e in obj["errors"] if e["row"] == 2}
    assert shown.get("CF_WSH", "北市環罰字第1130001號") == "北市環罰字第1130001號"
    root = tmp_path / "data"
    ingest(path, root)
    assert query(root, "SELECT DISTINCT CF_XDR_MC, CF_SY FROM penalties") == [
        ("臺北市政府", "行政處罰決定書")
    ]


def test_shift_jis_is_refused(tmp_path):
    head = codes("penalty")
    row = ["株式会社さくら", "東京都の営業停止処分について"] + ["テスト"] * (len(head) - 2)
    path = tmp_path / "sjis.csv"
    path.write_bytes(csv_bytes([head, row, row], "cp932"))
    assert "Shift-JIS" in refusal(path, "encoding_japanese")


def test_binary_file_is_refused(tmp_path):
    import random

    path = tmp_path / "随机.csv"
    path.write_bytes(random.Random(3).randbytes(200_000))
    refusal(path, "unreadable")


def test_gbk_file_is_still_gbk(tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes(csv_bytes(table("permit", records("permit", 3)), "gbk"))
    obj = validate(path, expect=0)
    assert (obj["encoding"], obj["rows"]) == ("gbk", 3)


# ----------------------------------------------------------------------------- re-runs


def test_reruns_are_identical(tmp_path):
    path = _workbook(
        tmp_path / "两表.xlsx",
        [
            ("甲", "visible", table("permit", records("permit", 3))),
            ("乙", "visible", table("permit", [permit_record(i) for i in range(5, 7)])),
        ],
    )
    first = sgs(tmp_path, "validate", path.name, "--json", "--received", RECEIVED).stdout
    again = sgs(tmp_path, "validate", path.name, "--json", "--received", RECEIVED).stdout
    assert first == again
    root = tmp_path / "data"
    assert ingest(path, root)["status"] == "stored"
    before = query(root, "SELECT * EXCLUDE (record_id) FROM permits ORDER BY ALL")
    assert ingest(path, root)["status"] == "skipped"
    assert query(root, "SELECT * EXCLUDE (record_id) FROM permits ORDER BY ALL") == before


# ----------------------------------------------------------------------------- the XLSX stream


def test_streamed_xlsx_cells_read_as_calamine_reads_them(tmp_path):
    """Every typed cell (numbers, big integers, fractions, dates and times in many formats,
    booleans, text with escapes, formula results) comes out of the streaming reader with the
    text calamine's dense reader gave, for workbooks written by openpyxl and by xlsxwriter."""
    from datetime import date, datetime, time

    import xlsxwriter
    from openpyxl import Workbook
    from python_calamine import CalamineWorkbook

    from sgs.intake.workbook import cell_text, xlsx_sheets

    values = [1, 42, 123456789012345, 0.1, 1e-7, 2.5, 123456.789, -3.25, 1 / 3,
              date(2026, 3, 1), datetime(2026, 3, 1, 8, 30), datetime(2026, 3, 1, 8, 30, 15, 500000),
              time(8, 30), True, False, "文本", "a\r\nb", " 空格 ", "=1+1", "0012"]  # fmt: skip
    formats = [None, "0", "0.00", 'yyyy"年"m"月"d"日"', "yyyy/mm/dd", "@", "h:mm", "0%",
               "[$-409]d-mmm-yy", "#,##0.00;[Red]-#,##0.00"]  # fmt: skip
    book = Workbook()
    for i, v in enumerate(values, start=1):
        for j, f in enumerate(formats, start=1):
            cell = book.active.cell(row=i, column=j, value=v)
            if f:
                cell.number_format = f
    book.save(tmp_path / "openpyxl.xlsx")
    wb = xlsxwriter.Workbook(str(tmp_path / "xlsxwriter.xlsx"))
    ws = wb.add_worksheet("数据")
    for i, v in enumerate(values):
        for j, f in enumerate(formats):
            fmt = wb.add_format({"num_format": f or "yyyy-mm-dd"})
            if isinstance(v, time):
                ws.write_datetime(i, j, datetime.combine(date(1899, 12, 31), v), fmt)
            elif isinstance(v, date):
                ws.write_datetime(
                    i, j, v if isinstance(v, datetime) else datetime(v.year, v.month, v.day), fmt
                )
            else:
                ws.write(i, j, v, wb.add_format({"num_format": f}) if f else None)
    ws.write_formula(0, 20, "=1+2", None, 3)
    ws.write_formula(1, 20, '="a"&"b"', None, "ab")
    wb.close()
    for name in ("openpyxl.xlsx", "xlsxwriter.xlsx"):
        path = tmp_path / name
        dense = CalamineWorkbook.from_path(str(path))
        for sheet in xlsx_sheets(path) or []:
            streamed = {(r, c): v for r, c, v in sheet.cells.iter_rows()}
            grid = dense.get_sheet_by_name(sheet.name).to_python(skip_empty_area=False)
            expected = {
                (r, c): cell_text(v)
                for r, row in enumerate(grid, start=1)
                for c, v in enumerate(row, start=1)
                if cell_text(v)
            }
            assert streamed == expected, name


# Cells of every shape the vectorised reader knows, and of shapes it hands to ElementTree one by
# one (rich text, a phonetic guide, more attributes, entities, OOXML escapes, odd formulas).
ODD_CELLS = (
    '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" s="1"><v>45992</v></c>'
    '<c r="C1" t="inlineStr"><is><t xml:space="preserve"> 前后 </t></is></c>'
    '<c r="D1" t="inlineStr"><is><r><t>富</t></r><r><rPr><b/></rPr><t>文本</t></r></is></c>'
    '<c r="E1" t="s"><v>1</v></c><c r="F1" t="s"><v>99</v></c><c r="G1" t="b"><v>1</v></c>'
    '<c r="H1" t="e"><v>#N/A</v></c><c r="I1" t="str"><f>"a"&amp;"b"</f><v>a&amp;b</v></c>'
    '<c r="J1"><f t="shared" ref="J1:J2" si="0">1+1</f><v>2</v></c>'
    '<c r="K1" t="d"><v>2026-03-01T00:00:00Z</v></c><c r="L1" s="1" cm="1"><v>45992.5</v></c>'
    '<c r="M1" t="inlineStr"><is><t>&lt;b&gt; &#x4E2D;&#25991; _x000D_ 行</t></is></c>'
    '<c r="N1"><v>0012</v></c><c r="O1"><v>1.5E-7</v></c><c r="P1"><v>123456789012345</v></c>'
    '<c r="Q1" s="1"/><c r="R1"><v></v></c><c r="S1" t="inlineStr"><is><t/></is></c></row>'
    '<row r="2"><c t="s" r="A2"><v>2</v></c><c r="J2"><f t="shared" si="0"/><v>3</v></c>'
    '<c r="XFD2"><v>7</v></c></row>'
)
SHARED = (
    '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    "<si><t>共享</t></si><si><r><t>多</t></r><r><t>段</t></r><rPh><t>ふりがな</t></rPh></si>"
    "<si><t>甲&amp;乙</t></si></sst>"
)


def _both_readers(path: Path, native: bool = False) -> list[tuple[object, object]]:
    """Each sheet's cells by the vectorised reader (or ``None`` where it declines) and by the
    element-by-element reader, from the same parts with the same workbook context.
    ``native``: the vectorised reader cuts cells by the compiled scan (big sheets' path)."""
    from sgs.intake.bigsheet import native_cells
    from sgs.intake.celltext import stream_cells
    from sgs.intake.limits import read_limits
    from sgs.intake.sheetxml import Unsupported, fast_cells
    from sgs.intake.workbook import _Book

    limits = read_limits()
    out = []
    with zipfile.ZipFile(path) as zf:
        book = _Book(zf, path.name, limits)
        args = (book.strings, book.date_styles, book.date1904, limits.cell_chars, limits.columns)
        for _, _, target, _ in book.sheets:
            try:
                with zf.open(target) as fh:
                    fast = (native_cells if native else fast_cells)(fh, *args)
            except Unsupported:
                fast = None
            with zf.open(target) as fh:
                out.append((fast, stream_cells(fh, *args)))
    return out


@pytest.mark.parametrize("native", [False, True], ids=["polars", "compiled"])
def test_the_vectorised_reader_gives_the_element_readers_cells(tmp_path, native):
    """Workbooks written by openpyxl and xlsxwriter, sgs's own sample, and a sheet of odd cells
    (shared and rich strings, entities, escapes, formulas, booleans, errors, ISO dates, empty
    values, a cell at XFD): the vectorised reader, by polars' splits or by the compiled scan,
    gives exactly the element reader's cells."""
    from datetime import date, datetime

    import xlsxwriter
    from openpyxl import Workbook

    typed = Workbook()
    for r in [[1, 0.1, 123456789012345, date(2026, 3, 1), datetime(2026, 3, 1, 8, 30), True,
               "文本", "a\r\nb", "0012", 1 / 3, "A&B <c> \"引号\""]] * 50:  # fmt: skip
        typed.active.append(r)
    typed.active["C3"].number_format = "yyyy/mm/dd"
    typed.save(tmp_path / "typed.xlsx")
    wb = xlsxwriter.Workbook(str(tmp_path / "xlsxwriter.xlsx"))
    ws = wb.add_worksheet("数据")
    for i in range(40):
        ws.write_row(i, 0, [i, f"文本{i % 3}", 0.5 * i, "x&y", None, True])
    ws.write_formula(0, 7, "=1+2", None, 3)
    wb.close()
    sample = write_xlsx(tmp_path / "sample.xlsx", table("permit", records("permit", 40)))
    base = xlsxwriter.Workbook(str(tmp_path / "shared_base.xlsx"))  # shared strings; style 1 a date
    base.add_worksheet().write_datetime(
        0, 0, datetime(2026, 3, 1), base.add_format({"num_format": "yyyy/mm/dd"})
    )
    base.worksheets()[0].write_string(1, 0, "x")
    base.close()
    odd = with_sheet_data(tmp_path / "shared_base.xlsx", tmp_path / "odd.xlsx", ODD_CELLS, SHARED)
    for path in (tmp_path / "typed.xlsx", tmp_path / "xlsxwriter.xlsx", sample, odd):
        for fast, streamed in _both_readers(path, native):
            assert fast is not None, path.name
            assert fast.equals(streamed), (path.name, fast, streamed)
    odd_cells = {(r, c): v for r, c, v in _both_readers(odd, native)[0][0].iter_rows()}
    assert odd_cells[(1, 4)] == "富文本" and odd_cells[(1, 13)] == "<b> 中文 \r 行"
    assert odd_cells[(1, 5)] == "多段" and (1, 6) not in odd_cells and odd_cells[(2, 16384)] == "7"
    assert odd_cells[(1, 2)] == "2025-12-01" and odd_cells[(1, 12)] == "2025-12-01 12:00:00"
    assert odd_cells[(1, 9)] == "a&b" and odd_cells[(1, 11)] == "2026-03-01"


@pytest.mark.parametrize(
    "rows",
    [
        '<x:row r="1"><x:c r="A1"><x:v>1</x:v></x:c></x:row>',  # a namespace prefix
        '<row r="1"><c><v>1</v></c><c r="C1"><v>2</v></c></row>',  # a cell without reference
        '<row r="1"><c r="A1" t="inlineStr"><is><t><![CDATA[a<b]]></t></is></c></row>',
        '<row r="1"><!-- a comment --><c r="A1"><v>1</v></c></row>',
    ],
)
@pytest.mark.parametrize("native", [False, True], ids=["polars", "compiled"])
def test_xml_of_another_kind_is_read_element_by_element(tmp_path, rows, native):
    """What the vectorised reader does not parse, it declines (no half-read sheet), and the
    element reader reads the sheet; the file validates all the same."""
    base = _workbook_with_one_cell(tmp_path)
    path = with_sheet_data(base, tmp_path / "kind.xlsx", rows)
    if rows.startswith("<x:"):
        data = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").replace(
            b"<worksheet ", b'<worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        )  # fmt: skip
        path = _replace_part(path, tmp_path / "prefixed.xlsx", "xl/worksheets/sheet1.xml", data)
    [(fast, streamed)] = _both_readers(path, native)
    assert fast is None
    assert streamed.height >= 1


@pytest.mark.parametrize("native", [False, True], ids=["polars", "compiled"])
def test_a_pretty_printed_cell_is_read_alone_and_the_rest_vectorised(tmp_path, native):
    """A cell whose attributes are spread over lines, or quoted with ``'``, is parsed on its own
    (ElementTree); the sheet is not declined and gives the element reader's cells."""
    rows = (
        '<row r="1">\n  <c r="A1"\n     s="0"><v>1</v></c><c r="B1"><v>2</v></c>\n</row>'
        "<row r='2'><c r='A2' t='inlineStr'><is><t>单引号</t></is></c></row>"
    )
    path = with_sheet_data(_workbook_with_one_cell(tmp_path), tmp_path / "pretty.xlsx", rows)
    [(fast, streamed)] = _both_readers(path, native)
    assert (
        fast is not None
        and fast.equals(streamed)
        and fast["value"].to_list() == ["1", "2", "单引号"]
    )


def _workbook_with_one_cell(tmp_path: Path) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    book.active["A1"] = "x"
    book.save(tmp_path / "one.xlsx")
    return tmp_path / "one.xlsx"


def _replace_part(base: Path, out: Path, part: str, data: bytes) -> Path:
    with zipfile.ZipFile(base) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            zout.writestr(item, data if item.filename == part else zin.read(item.filename))
    return out


def test_cells_out_of_order_or_written_twice_read_as_excel_shows_them(tmp_path):
    """Rows and cells out of order and a cell written twice (the later one counts, as Excel
    shows it): the reader's in-order shortcut must not take such a sheet for an ordered one."""
    from openpyxl.utils import get_column_letter

    rows = table("permit", records("permit", 3))
    name_at = rows[0].index("行政相对人名称")

    def row_xml(r: int, values: list[object], order: list[int] | None = None) -> str:
        cells = [(c, v) for c, v in enumerate(values) if v not in (None, "")]
        if order is not None:
            cells = [cells[i] for i in order]
        return (
            f'<row r="{r}">'
            + "".join(
                f'<c r="{get_column_letter(c + 1)}{r}" t="inlineStr"><is><t>{v}</t></is></c>'
                for c, v in cells
            )
            + "</row>"
        )

    n = sum(v not in (None, "") for v in rows[3])
    twice = row_xml(3, rows[2]).replace(
        "</row>",
        f'<c r="{get_column_letter(name_at + 1)}3" t="inlineStr"><is><t>后写的名称</t></is></c></row>',
    )
    xml = (
        row_xml(1, rows[0])
        + row_xml(2, rows[1])
        + row_xml(4, rows[3], order=list(reversed(range(n))))
        + twice
    )
    base = write_xlsx(tmp_path / "base.xlsx", rows[:1])
    path = with_sheet_data(base, tmp_path / "disorder.xlsx", xml)
    root = tmp_path / "store"
    ingest(path, root)
    stored = query(root, "SELECT source_row, xk_xdr_mc, xk_wsh FROM permits ORDER BY source_row")
    assert stored == [
        (2, rows[1][name_at], rows[1][rows[0].index("行政许可决定文书号")]),
        (3, "后写的名称", rows[2][rows[0].index("行政许可决定文书号")]),
        (4, rows[3][name_at], rows[3][rows[0].index("行政许可决定文书号")]),
    ]
