"""Builders of upload files for reader and ``sgs validate`` tests.

Valid records are made here from the identifier check-character helpers, so every code in them
is known to pass (including the embedded organisation-code check, which is only a warning), and
each record's decision date is 2026-03-01 or later in March 2026: validate with
``RECEIVED`` (2026-10-31) as the upload date.

Files are written as units write them: CSV bytes in a chosen encoding with optional title rows,
XLSX through openpyxl with typed cells (text, numbers, dates), XLS through xlwt.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path

from sgs.reference.catalogue import load_catalogue
from sgs.validate.identifiers import id_check_char, org_check_char, uscc_check_char

RECEIVED = "2026-10-31"

AUTHORITY = "长治市行政审批服务管理局"
PENALTY_AUTHORITY = "长治市市场监督管理局"


# ----------------------------------------------------------------------------- identifiers


def org_code(body8: str) -> str:
    """A valid 9-character organisation code from its 8-character body."""
    return body8 + org_check_char(body8)


def uscc(prefix2: str, region6: str, body8: str) -> str:
    """A valid USCC whose embedded organisation code is also valid."""
    first17 = prefix2 + region6 + org_code(body8)
    return first17 + uscc_check_char(first17)


def resident_id(region6: str = "140402", birth: str = "19800101", seq: str = "123") -> str:
    first17 = region6 + birth + seq
    return first17 + id_check_char(first17)


def broken_check(code: str) -> str:
    """The same code with a wrong last character (a check-character error)."""
    alternatives = "0123456789" if code[-1] != "0" else "123456789"
    for c in alternatives:
        if c != code[-1]:
            return code[:-1] + c
    raise AssertionError("unreachable")


AUTHORITY_CODE = uscc("11", "140400", "MB012345")
PENALTY_AUTHORITY_CODE = uscc("11", "140400", "01234567")


# ----------------------------------------------------------------------------- records


def permit_record(i: int, subject: str = "legal") -> dict[str, str]:
    """A fully valid permit record; ``subject`` is "legal", "individual" or "natural"."""
    rec = {
        "XK_XKWS": "食品经营许可决定书",
        "XK_WSH": f"长审批食〔2026〕{i + 1}号",
        "XK_XKLB": "普通",
        "XK_XKZS": "食品经营许可证",
        "XK_XKBH": f"JY1140402{i:07d}",
        "XK_NR": "预包装食品销售（含冷藏冷冻食品）",
        "XK_JDRQ": f"2026/03/{(i % 28) + 1:02d}",
        "XK_YXQZ": f"2026/03/{(i % 28) + 1:02d}",
        "XK_YXQZI": "2031/02/28",
        "XK_XKJG": AUTHORITY,
        "XK_XKJGDM": AUTHORITY_CODE,
        "XK_ZT": "1",
        "XK_LYDW": AUTHORITY,
        "XK_LYDWDM": AUTHORITY_CODE,
    }
    rec.update(_subject("XK", i, subject))
    return rec


def penalty_record(i: int, subject: str = "legal", fine: str | None = "0.5") -> dict[str, str]:
    """A fully valid penalty record; with ``fine`` the category is 罚款, otherwise 警告."""
    rec = {
        "CF_WSH": f"长市监罚〔2026〕{i + 1}号",
        "CF_WFXW": "销售超过保质期的食品",
        "CF_SY": "经查，当事人在经营场所销售超过保质期的食品。",
        "CF_YJ": "《中华人民共和国食品安全法》第一百二十四条第一款",
        "CF_CFLB": "罚款" if fine is not None else "警告",
        "CF_NR": "罚款人民币5000元" if fine is not None else "警告",
        "CF_JDRQ": f"2026/03/{(i % 28) + 1:02d}",
        "CF_YXQ": "2027/03/31",
        "CF_CFJG": PENALTY_AUTHORITY,
        "CF_CFJGDM": PENALTY_AUTHORITY_CODE,
        "CF_SJLY": PENALTY_AUTHORITY,
        "CF_SJLYDM": PENALTY_AUTHORITY_CODE,
    }
    if fine is not None:
        rec["CF_NR_FK"] = fine
    rec.update(_subject("CF", i, subject))
    return rec


def _subject(p: str, i: int, subject: str) -> dict[str, str]:
    body = f"{(i * 7919) % 100_000_000:08d}"
    if subject == "legal":
        return {
            f"{p}_XDR_MC": f"长治市第{i + 1}食品有限公司",
            f"{p}_XDR_LB": "法人及非法人组织",
            f"{p}_XDR_SHXYM": uscc("91", "140402", body),
            f"{p}_FRDB": "王建国",
            f"{p}_FR_ZJLX": "身份证",
            f"{p}_FR_ZJHM": resident_id("140402", "19750615", f"{i % 1000:03d}"),
        }
    if subject == "individual":
        return {
            f"{p}_XDR_MC": f"潞州区第{i + 1}便民超市",
            f"{p}_XDR_LB": "个体工商户",
            f"{p}_XDR_SHXYM": uscc("92", "140402", body),
            f"{p}_FRDB": "李秀英",
        }
    if subject == "natural":
        return {
            f"{p}_XDR_MC": "张伟",
            f"{p}_XDR_LB": "自然人",
            f"{p}_XDR_ZJLX": "身份证",
            f"{p}_XDR_ZJHM": resident_id("110101", "19900307", f"{i % 1000:03d}"),
        }
    raise ValueError(subject)


def records(kind: str, n: int, subject: str = "legal") -> list[dict[str, str]]:
    make = permit_record if kind == "permit" else penalty_record
    return [make(i, subject) for i in range(n)]


# ----------------------------------------------------------------------------- headers


def codes(kind: str) -> list[str]:
    return load_catalogue().kind(kind).codes


def names(kind: str) -> dict[str, str]:
    """Field code -> Chinese name as in the template, e.g. 行政相对人代码_1（统一社会信用代码）."""
    return {f.code: f.name for f in load_catalogue().kind(kind).fields}


def table(
    kind: str,
    recs: Sequence[dict[str, object]],
    *,
    headers: str | dict[str, str] = "chinese",
    columns: Sequence[str] | None = None,
) -> list[list[object]]:
    """Header row + one row per record. ``columns`` are field codes (default: all of the kind);
    ``headers`` is "chinese", "code" or an explicit mapping code -> header text (codes not in
    the mapping keep their Chinese name; a column not in the catalogue keeps its own name)."""
    columns = list(columns or codes(kind))
    zh = names(kind)
    if headers == "chinese":
        head = [zh.get(c, c) for c in columns]
    elif headers == "code":
        head = list(columns)
    else:
        head = [headers.get(c, zh.get(c, c)) for c in columns]
    rows: list[list[object]] = [head]
    for r in recs:
        rows.append([r.get(c) for c in columns])
    return rows


# ----------------------------------------------------------------------------- writers


def csv_bytes(rows: Iterable[Sequence[object]], encoding: str = "utf-8") -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return buf.getvalue().encode(encoding)


def write_csv(
    path: Path,
    rows: Sequence[Sequence[object]],
    *,
    encoding: str = "utf-8",
    titles: Sequence[str] = (),
) -> Path:
    """``titles`` become rows above the table, each a single cell padded with commas the way
    Excel saves a merged title row."""
    width = max(len(r) for r in rows)
    top = [[t] + [None] * (width - 1) for t in titles]
    path.write_bytes(csv_bytes([*top, *rows], encoding))
    return path


def write_xlsx(
    path: Path,
    rows: Sequence[Sequence[object]],
    *,
    start_row: int = 1,
    above: Sequence[Sequence[object]] = (),
    sheet: str = "Sheet1",
    before: Sequence[tuple[str, Sequence[Sequence[object]]]] = (),
) -> Path:
    """Write ``rows`` with openpyxl so the first of them lands on spreadsheet row ``start_row``.

    ``above`` rows are written from row 1 (instructions, titles); rows between them and
    ``start_row`` stay empty. ``before`` adds sheets (name, rows) in front of the data sheet.
    Python types decide the cell type: str -> text, int/float -> number, date/datetime ->
    date cell.
    """
    from openpyxl import Workbook

    book = Workbook()
    first = book.active
    sheets = []
    for name, content in before:
        ws = first if not sheets else book.create_sheet(name)
        ws.title = name
        for r in content:
            ws.append(list(r))
        sheets.append(ws)
    ws = book.create_sheet(sheet) if sheets else first
    ws.title = sheet
    for i, r in enumerate(above, start=1):
        for j, v in enumerate(r, start=1):
            if v is not None:
                ws.cell(row=i, column=j, value=v)
    for i, r in enumerate(rows, start=start_row):
        for j, v in enumerate(r, start=1):
            if v is None:
                continue
            cell = ws.cell(row=i, column=j, value=v)
            if isinstance(v, datetime):
                cell.number_format = "yyyy/mm/dd"
            elif isinstance(v, date):
                cell.number_format = "yyyy-mm-dd"
            elif isinstance(v, str):
                cell.number_format = "@"
    book.save(path)
    return path


def write_xls(
    path: Path,
    rows: Sequence[Sequence[object]],
    *,
    start_row: int = 1,
    above: Sequence[Sequence[object]] = (),
) -> Path:
    """Write ``rows`` with xlwt from spreadsheet row ``start_row`` (1-based); typed cells."""
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    ws = book.add_sheet("Sheet1")
    text = xlwt.easyxf(num_format_str="@")
    day = xlwt.easyxf(num_format_str="YYYY/MM/DD")
    number = xlwt.easyxf(num_format_str="0")
    for i, r in enumerate(above):
        for j, v in enumerate(r):
            if v is not None:
                ws.write(i, j, v)
    for i, r in enumerate(rows, start=start_row - 1):
        for j, v in enumerate(r):
            if v is None:
                continue
            if isinstance(v, date | datetime):
                ws.write(i, j, v, day)
            elif isinstance(v, int):
                ws.write(i, j, v, number)
            elif isinstance(v, float):
                ws.write(i, j, v)
            else:
                ws.write(i, j, v, text)
    book.save(str(path))
    return path


def mask(value: str) -> str:
    """The masking the standard asks for: first 6 and last 4 characters kept."""
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def permits_csv(n: int = 3, broken: int = 0) -> bytes:
    """``n`` valid permits as CSV bytes; the first ``broken`` with a wrong check character in
    the authority's credit code (one error each)."""
    recs = records("permit", n)
    for r in recs[:broken]:
        r["XK_XKJGDM"] = broken_check(r["XK_XKJGDM"])
    return csv_bytes(table("permit", recs))


def with_sheet_data(base: Path, out: Path, rows: str, shared: str | None = None) -> Path:
    """``base`` (one sheet) with its sheet's rows replaced by ``rows`` (raw XML), and its shared
    strings by ``shared`` if given: sheets of exactly the XML a test needs."""
    with zipfile.ZipFile(base) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb"<sheetData>.*</sheetData>|<sheetData/>",
                              b"<sheetData>" + rows.encode() + b"</sheetData>", data, flags=re.S)  # fmt: skip
            if item.filename == "xl/sharedStrings.xml" and shared is not None:
                data = shared.encode()
            zout.writestr(item, data)
    return out


def column_letters(n: int) -> str:
    """Excel's letters of column ``n`` (1-based): 1 -> A, 27 -> AA, 16384 -> XFD."""
    out = ""
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out
