"""``sgs validate`` run as a user runs it: the installed executable, in a temporary directory.

Exit codes: 0 every row passes (warnings allowed), 1 some rows have errors, 2 the file cannot be
validated (reason on stderr, in Chinese).  Row numbers in the output are the rows the unit's
spreadsheet shows: title and header rows counted, the first data row of a plain CSV is 2.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
import sys
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import pytest
from support import warm_sgs
from support.upload_files import (
    RECEIVED,
    broken_check,
    codes,
    csv_bytes,
    mask,
    names,
    permits_csv,
    records,
    table,
    write_csv,
    write_xls,
    write_xlsx,
)

from sgs.samples.generator import generate
from sgs.samples.writers import write_upload

SGS = Path(sys.executable).with_name("sgs")
if not SGS.exists():  # pragma: no cover - running outside the project's venv
    SGS = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "sgs"

CJK = re.compile(r"[\u4e00-\u9fff]")
ERROR_KEYS = {"sheet", "row", "field", "rule", "severity", "message", "value", "suggestion"}
FIELD_CODE = re.compile(r"^(XK|CF)_[A-Z0-9_]+$|^BZ$")


def sgs(cwd: Path, *args: str | Path) -> subprocess.CompletedProcess[bytes]:
    return warm_sgs.run(["validate", *args], cwd=cwd, text=False, timeout=120)


class SharedRuns:
    """``sgs validate`` runs shared by the tests of this module: tests that make the same
    invocation (a file of the same name and bytes, the same options) get one run's result.

    Each distinct run is made once (per xdist worker), in its own directory from
    ``tmp_path_factory`` holding a copy of the file.  Only for runs that write no files.
    """

    def __init__(self, factory: pytest.TempPathFactory) -> None:
        self.factory = factory
        self.done: dict[tuple[str, bytes, tuple[str, ...]], subprocess.CompletedProcess] = {}

    def __call__(self, path: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
        key = (path.name, path.read_bytes(), args)
        if key not in self.done:
            cwd = self.factory.mktemp("shared-run")
            shutil.copyfile(path, cwd / path.name)
            self.done[key] = sgs(cwd, path.name, *args)
        return self.done[key]


@pytest.fixture(scope="module")
def shared_sgs(tmp_path_factory: pytest.TempPathFactory) -> SharedRuns:
    return SharedRuns(tmp_path_factory)


def validate_json(
    cwd: Path, path: Path, *args: str, expect: int | None = None, run: SharedRuns | None = None
) -> dict:
    """``--json --received RECEIVED`` run of ``path`` in ``cwd``, or the shared ``run`` of it."""
    if run is not None:
        proc = run(path, "--json", "--received", RECEIVED, *args)
    else:
        proc = sgs(cwd, path.name, "--json", "--received", RECEIVED, *args)
    out, err = proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err, err
    if expect is not None:
        assert proc.returncode == expect, (proc.returncode, out[:2000], err[:2000])
    obj = json.loads(out)  # the whole of stdout is one JSON object
    assert isinstance(obj, dict)
    for e in obj["errors"]:
        assert set(e) == ERROR_KEYS, e
    return obj


def errors_at(obj: dict, severity: str | None = "error") -> set[tuple[int, str, str]]:
    return {
        (e["row"], e["field"], e["rule"])
        for e in obj["errors"]
        if severity is None or e["severity"] == severity
    }


def refusal(cwd: Path, path: Path, *args: str) -> str:
    proc = sgs(cwd, path.name, *args)
    err = proc.stderr.decode("utf-8")
    assert proc.returncode == 2, (proc.returncode, proc.stdout.decode()[:2000], err)
    assert "Traceback" not in err, err
    assert CJK.search(err), f"reason should be on stderr in Chinese: {err!r}"
    return err


# ----------------------------------------------------------------------------- valid files


@pytest.mark.parametrize("kind", ["permit", "penalty"])
@pytest.mark.parametrize("subject", ["legal", "individual", "natural"])
def test_valid_csv_exits_0_with_no_errors(tmp_path, kind, subject):
    path = write_csv(tmp_path / f"{kind}.csv", table(kind, records(kind, 5, subject)))
    obj = validate_json(tmp_path, path, expect=0)
    assert obj["errors"] == []
    assert obj["kind"] == kind
    assert obj["layout"] == "current"
    assert obj["rows"] == 5
    assert Path(obj["file"]).name == path.name


def test_valid_file_plain_summary_exits_0(tmp_path):
    path = write_csv(tmp_path / "ok.csv", table("permit", records("permit", 3)), encoding="gbk")
    proc = sgs(tmp_path, path.name, "--received", RECEIVED)
    assert proc.returncode == 0, proc.stderr.decode()
    out = proc.stdout.decode("utf-8")
    assert CJK.search(out)
    assert proc.stderr.decode().strip() == ""


@pytest.mark.parametrize("kind", ["permit", "penalty"])
@pytest.mark.parametrize(
    ("name", "encoding", "title"),
    [
        ("s.csv", "utf-8", None),
        ("s.csv", "gbk", "长治市双公示信息"),
        ("s.csv", "utf-8-sig", None),
        ("s.xlsx", "utf-8", "长治市双公示信息"),
        ("s.xls", "utf-8", None),
    ],
)
def test_generated_valid_sample_exits_0(tmp_path, kind, name, encoding, title):
    sample = generate(kind, 30, seed=11, defect_rate=0.0)
    path = write_upload(sample.frame, tmp_path / name, encoding=encoding, title=title)
    proc = sgs(tmp_path, path.name, "--json", "--received", sample.received.isoformat())
    assert proc.returncode == 0, proc.stdout.decode()[:3000]
    obj = json.loads(proc.stdout)
    assert obj["errors"] == []
    assert obj["rows"] == 30
    assert obj["kind"] == kind


@pytest.mark.parametrize("fmt", ["xlsx", "xls"])
def test_typed_spreadsheet_cells_pass(tmp_path, fmt):
    recs = records("penalty", 3)
    typed: list[dict] = [dict(r) for r in recs]
    typed[0]["CF_JDRQ"] = datetime(2026, 3, 1)
    typed[0]["CF_YXQ"] = date(2027, 3, 31)
    typed[1]["CF_NR_FK"] = 0.5
    typed[2]["CF_NR_FK"] = 3
    typed[2]["CF_XDR_GSZC"] = 140423806226788  # a registration number typed as a number
    typed[1]["CF_GSJZQ"] = datetime(2027, 3, 1)
    path = tmp_path / f"typed.{fmt}"
    (write_xlsx if fmt == "xlsx" else write_xls)(path, table("penalty", typed))
    obj = validate_json(tmp_path, path, expect=0)
    assert obj["errors"] == []


def test_explicit_kind(tmp_path):
    path = write_csv(tmp_path / "p.csv", table("penalty", records("penalty", 2)))
    obj = validate_json(tmp_path, path, "--kind", "penalty", expect=0)
    assert obj["kind"] == "penalty"


def test_wrong_explicit_kind_is_refused(tmp_path):
    path = write_csv(tmp_path / "p.csv", table("penalty", records("penalty", 2)))
    refusal(tmp_path, path, "--kind", "permit", "--received", RECEIVED)


def test_unknown_columns_are_reported_not_validated(tmp_path):
    recs = records("permit", 2)
    cols = ["序号", *codes("permit"), "经办人联系电话"]
    rows = table("permit", recs, columns=cols)
    rows[1][0], rows[2][0] = "一", "=1+1"
    path = write_csv(tmp_path / "extra.csv", rows)
    obj = validate_json(tmp_path, path, expect=0)
    assert obj["errors"] == []
    proc = sgs(tmp_path, path.name, "--received", RECEIVED)
    assert proc.returncode == 0
    out = proc.stdout.decode()
    assert "序号" in out and "经办人联系电话" in out


# ----------------------------------------------------------------------------- exit codes


def _bad_permits_csv(directory: Path) -> tuple[Path, list[dict]]:
    """Four permits in a plain UTF-8 CSV: row 3 has a wrong USCC check character, row 5 an
    impossible date.  The same file as test_row_numbers_csv_with_title_rows[utf-8-0], so the
    tests using it share their runs (shared_sgs)."""
    recs = _bad_permits(4, {1: "uscc", 3: "date"})
    return write_csv(directory / "t.csv", table("permit", recs)), recs


def test_errors_exit_1(tmp_path, shared_sgs):
    path, _ = _bad_permits_csv(tmp_path)
    obj = validate_json(tmp_path, path, expect=1, run=shared_sgs)
    assert errors_at(obj) == {(3, "XK_XDR_SHXYM", "uscc_check"), (5, "XK_YXQZ", "date_format")}
    proc = shared_sgs(path, "--received", RECEIVED)
    assert proc.returncode == 1


def test_warnings_only_exit_0(tmp_path):
    recs = records("penalty", 3, "individual")
    recs[0]["CF_XDR_SHXYM"] = records("penalty", 1, "legal")[0]["CF_XDR_SHXYM"]  # 91… for 个体
    recs[1]["CF_NR_FK"] = "50000"  # looks like 元
    path = write_csv(tmp_path / "warn.csv", table("penalty", recs))
    obj = validate_json(tmp_path, path, expect=0)
    assert obj["errors"], "the two warnings should be listed"
    assert {e["severity"] for e in obj["errors"]} == {"warning"}
    assert errors_at(obj, "warning") == {
        (2, "CF_XDR_SHXYM", "uscc_prefix"),
        (3, "CF_NR_FK", "amount_unit"),
    }
    proc = sgs(tmp_path, path.name, "--received", RECEIVED)
    assert proc.returncode == 0


def test_received_date_is_used(tmp_path):
    recs = records("permit", 2)  # decided 2026-03-01 and 2026-03-02
    path = write_csv(tmp_path / "early.csv", table("permit", recs))
    proc = sgs(tmp_path, path.name, "--json", "--received", "2026-03-01")
    assert proc.returncode == 1
    obj = json.loads(proc.stdout)
    assert errors_at(obj) == {(3, "XK_JDRQ", "date_range")}
    proc = sgs(tmp_path, path.name, "--json", "--received", "2026-03-02")
    assert proc.returncode == 0


def test_bad_received_option_is_a_usage_error(tmp_path):
    path = write_csv(tmp_path / "x.csv", table("permit", records("permit", 1)))
    proc = sgs(tmp_path, path.name, "--received", "2026/03/01")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr.decode()


# ----------------------------------------------------------------------------- refusals


def test_garbage_binary_exits_2(tmp_path):
    path = tmp_path / "garbage.csv"
    path.write_bytes(random.Random(1).randbytes(8192))
    refusal(tmp_path, path)


def test_garbage_binary_with_json_exits_2(tmp_path):
    path = tmp_path / "garbage.bin"
    path.write_bytes(random.Random(2).randbytes(8192))
    proc = sgs(tmp_path, path.name, "--json")
    assert proc.returncode == 2
    assert CJK.search(proc.stderr.decode())
    if proc.stdout.strip():
        json.loads(proc.stdout)  # if anything is printed, it is still one JSON object


def test_empty_file_exits_2(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    refusal(tmp_path, path)


@pytest.mark.parametrize("name", ["corrupt.xlsx", "corrupt.csv"])
def test_corrupt_xlsx_exits_2(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"PK\x03\x04" + random.Random(3).randbytes(4096))
    refusal(tmp_path, path)


def test_no_header_exits_2(tmp_path):
    path = tmp_path / "other.csv"
    path.write_bytes(csv_bytes([["姓名", "年龄"], ["张三", "30"]]))
    refusal(tmp_path, path)


def test_no_header_xlsx_exits_2(tmp_path):
    path = write_xlsx(tmp_path / "other.xlsx", [["商品", "单价"], ["苹果", 3.5]])
    refusal(tmp_path, path)


def test_missing_file_exits_2(tmp_path):
    refusal(tmp_path, tmp_path / "does-not-exist.csv")


def test_v1_layout_exits_2_naming_layout(tmp_path):
    headers = [
        "XK_WSH", "XK_XMMC", "XK_SPLB", "XK_NR", "XK_XDR_MC", "XK_JDRQ", "XK_JZQ", "XK_XZJG",
        "DFBM", "SJC",
    ]  # fmt: skip
    row = ["长审批〔2016〕1号", "食品经营许可", "普通", "预包装食品销售", "长治市某公司"]
    row += ["x"] * (len(headers) - len(row))
    path = tmp_path / "v1.csv"
    path.write_bytes(csv_bytes([headers, row], "gbk"))
    err = refusal(tmp_path, path, "--received", RECEIVED)
    assert "v1" in err.lower() or "2016" in err or "试行" in err


def test_v1_layout_penalty_xlsx_exits_2(tmp_path):
    headers = ["处罚名称", "处罚类别1", "处罚类别2", "处罚结果", "行政相对人名称", "地方编码"]
    path = write_xlsx(tmp_path / "v1.xlsx", [headers, ["罚款", "罚款", "", "罚款500元", "某", "1"]])
    err = refusal(tmp_path, path, "--json")
    assert "v1" in err.lower() or "2016" in err or "试行" in err


def test_unknown_kind_exits_2(tmp_path):
    shared = ["XK_XDR_MC", "XK_XDR_LB", "XK_XDR_SHXYM", "XK_FRDB", "BZ"]
    path = write_csv(tmp_path / "who.csv", table("permit", records("permit", 2), columns=shared))
    refusal(tmp_path, path, "--received", RECEIVED)
    refusal(tmp_path, path, "--kind", "permit", "--received", RECEIVED)


def test_missing_columns_exits_2_naming_them(tmp_path):
    cols = [c for c in codes("penalty") if c not in {"CF_CFJG", "CF_SY"}]
    path = write_csv(tmp_path / "short.csv", table("penalty", records("penalty", 2), columns=cols))
    err = refusal(tmp_path, path, "--received", RECEIVED)
    zh = names("penalty")
    for code in ("CF_CFJG", "CF_SY"):
        assert code in err or zh[code] in err, err


# ----------------------------------------------------------------------------- row numbers


def _bad_permits(n: int, bad: dict[int, str]) -> list[dict]:
    """``n`` valid permits; record i gets defect ``bad[i]``: "uscc" or "date"."""
    recs = records("permit", n)
    for i, what in bad.items():
        if what == "uscc":
            recs[i]["XK_XDR_SHXYM"] = broken_check(recs[i]["XK_XDR_SHXYM"])
        else:
            recs[i]["XK_YXQZ"] = "2026/02/30"
    return recs


@pytest.mark.parametrize("titles", [0, 1, 2])
@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_row_numbers_csv_with_title_rows(tmp_path, shared_sgs, titles, encoding):
    recs = _bad_permits(4, {1: "uscc", 3: "date"})
    top = ["长治市行政许可信息公示表", "填报说明：日期格式 YYYY/MM/DD"][:titles]
    path = write_csv(tmp_path / "t.csv", table("permit", recs), encoding=encoding, titles=top)
    obj = validate_json(tmp_path, path, expect=1, run=shared_sgs)  # [utf-8-0]: _bad_permits_csv
    # header on row titles+1, record i on row titles+2+i
    assert errors_at(obj) == {
        (titles + 3, "XK_XDR_SHXYM", "uscc_check"),
        (titles + 5, "XK_YXQZ", "date_format"),
    }
    assert obj["rows"] == 4


def test_row_numbers_csv_with_empty_lines_in_data(tmp_path):
    recs = _bad_permits(4, {1: "uscc", 2: "date"})
    rows = table("permit", recs)
    lines = csv_bytes(rows).decode().split("\r\n")
    # 1 header, 2 rec0, 3 empty, 4 rec1 (bad), 5 commas only, 6 rec2 (bad), 7 rec3
    lines.insert(2, "")
    lines.insert(4, "," * (len(rows[0]) - 1))
    path = tmp_path / "gaps.csv"
    path.write_bytes("\r\n".join(lines).encode("utf-8"))
    obj = validate_json(tmp_path, path, expect=1)
    assert errors_at(obj) == {(4, "XK_XDR_SHXYM", "uscc_check"), (6, "XK_YXQZ", "date_format")}
    assert obj["rows"] == 4


def test_row_numbers_csv_with_multiline_cell(tmp_path):
    recs = _bad_permits(3, {2: "uscc"})
    recs[0]["XK_NR"] = "一、预包装食品销售\n二、散装食品销售"
    path = write_csv(tmp_path / "multi.csv", table("permit", recs))
    obj = validate_json(tmp_path, path, expect=1)
    assert errors_at(obj) == {(4, "XK_XDR_SHXYM", "uscc_check")}


def test_row_numbers_xlsx_below_instructions_and_empty_rows(tmp_path):
    recs = _bad_permits(4, {0: "uscc", 3: "date"})
    rows = table("permit", recs)
    rows.insert(3, [None] * len(rows[0]))  # an empty row between records 1 and 2
    above = [
        ["长治市行政许可信息公示表"],
        ["填报说明：1. 带 * 的为必填项；2. 日期格式 YYYY/MM/DD。"],
        ["填报单位：长治市行政审批服务管理局"],
    ]
    # rows 1-3 instructions, 4-5 empty, 6 header, 7 rec0, 8 rec1, 9 empty, 10 rec2, 11 rec3
    path = write_xlsx(tmp_path / "block.xlsx", rows, start_row=6, above=above)
    obj = validate_json(tmp_path, path, expect=1)
    assert errors_at(obj) == {(7, "XK_XDR_SHXYM", "uscc_check"), (11, "XK_YXQZ", "date_format")}
    assert obj["rows"] == 4


def test_trailing_blank_rows_are_not_records(tmp_path):
    recs = _bad_permits(3, {2: "uscc"})
    rows = table("permit", recs)
    path = tmp_path / "trailing.csv"
    width = len(rows[0])
    path.write_bytes(csv_bytes(rows) + ("," * (width - 1) + "\r\n").encode() * 5 + b"\r\n")
    obj = validate_json(tmp_path, path, expect=1)
    assert obj["rows"] == 3
    assert errors_at(obj) == {(4, "XK_XDR_SHXYM", "uscc_check")}


def test_row_numbers_xlsx_below_empty_rows_only(tmp_path):
    recs = _bad_permits(2, {1: "date"})
    path = write_xlsx(tmp_path / "low.xlsx", table("permit", recs), start_row=3)
    obj = validate_json(tmp_path, path, expect=1)
    assert errors_at(obj) == {(5, "XK_YXQZ", "date_format")}


@pytest.mark.parametrize("title", [False, True])
def test_row_numbers_xls(tmp_path, title):
    recs = _bad_permits(3, {1: "uscc"})
    above = [["长治市行政许可信息公示表"]] if title else []
    path = write_xls(
        tmp_path / "old.xls", table("permit", recs), start_row=2 if title else 1, above=above
    )
    obj = validate_json(tmp_path, path, expect=1)
    assert errors_at(obj) == {(4 if title else 3, "XK_XDR_SHXYM", "uscc_check")}


# ----------------------------------------------------------------------------- the JSON object


def test_json_error_objects(tmp_path):
    recs = records("permit", 3)
    written = "９１" + broken_check(recs[0]["XK_XDR_SHXYM"])[2:]  # full-width start, bad check
    recs[0]["XK_XDR_SHXYM"] = written
    recs[2]["XK_YXQZ"] = "2026/02/30"
    path = write_csv(tmp_path / "bad.csv", table("permit", recs))
    proc = sgs(tmp_path, path.name, "--json", "--received", RECEIVED)
    assert proc.returncode == 1
    obj = json.loads(proc.stdout)
    assert {"file", "kind", "layout", "rows", "errors"} <= set(obj)
    assert obj["kind"] == "permit" and obj["layout"] == "current" and obj["rows"] == 3
    by_row = {e["row"]: e for e in obj["errors"]}
    assert set(by_row) == {2, 4}
    e = by_row[2]
    assert (e["field"], e["rule"], e["severity"]) == ("XK_XDR_SHXYM", "uscc_check", "error")
    assert e["value"] == written  # the original text, not the normalised one
    assert CJK.search(e["message"])
    e = by_row[4]
    assert (e["field"], e["rule"], e["severity"]) == ("XK_YXQZ", "date_format", "error")
    assert e["value"] == "2026/02/30"
    for e in obj["errors"]:
        assert isinstance(e["row"], int)
        assert FIELD_CODE.match(e["field"])
        assert re.fullmatch(r"[a-z][a-z0-9_]*", e["rule"])
        assert e["severity"] in {"error", "warning"}
    # Chinese is written as UTF-8, not \u-escaped.
    assert b"\\u" not in proc.stdout
    assert by_row[2]["message"].encode("utf-8") in proc.stdout


def test_json_for_missing_required_value(tmp_path):
    recs = records("penalty", 2)
    recs[1]["CF_CFJG"] = ""
    path = write_csv(tmp_path / "req.csv", table("penalty", recs))
    obj = validate_json(tmp_path, path, expect=1)
    [e] = obj["errors"]
    assert (e["row"], e["field"], e["rule"], e["severity"]) == (3, "CF_CFJG", "required", "error")
    assert e["value"] in (None, "")


def test_v15_file_accepted_every_row_fails_subject_type(tmp_path):
    recs = records("permit", 3)
    cols = [c for c in codes("permit") if c not in {"XK_XDR_LB", "XK_FR_ZJLX", "XK_FR_ZJHM"}]
    cols.insert(cols.index("XK_FRDB") + 1, "XK_FR_SFZH")
    for r in recs:
        r["XK_FR_SFZH"] = r["XK_FR_ZJHM"]
    rows = table("permit", recs, headers={"XK_FR_SFZH": "法定代表人身份证号"}, columns=cols)
    path = write_csv(tmp_path / "v15.csv", rows, titles=["2018年行政许可信息"])
    obj = validate_json(tmp_path, path, expect=1)
    assert obj["layout"] == "v1.5"
    assert errors_at(obj) == {(r, "XK_XDR_LB", "required") for r in (3, 4, 5)}


# ----------------------------------------------------------------------------- summary


def _id_failures(tmp_path: Path) -> tuple[Path, list[str]]:
    """Natural persons and a legal person whose ID numbers fail their check character."""
    nat = records("permit", 3, "natural")
    legal = records("permit", 6)[3:]
    for r in nat:
        r["XK_XDR_ZJHM"] = broken_check(r["XK_XDR_ZJHM"])
    legal[0]["XK_FR_ZJHM"] = broken_check(legal[0]["XK_FR_ZJHM"])
    legal[1]["XK_XDR_SHXYM"] = broken_check(legal[1]["XK_XDR_SHXYM"])
    legal[2]["XK_XDR_SHXYM"] = broken_check(legal[2]["XK_XDR_SHXYM"])
    raw_ids = [r["XK_XDR_ZJHM"] for r in nat] + [legal[0]["XK_FR_ZJHM"]]
    path = write_csv(tmp_path / "ids.csv", table("permit", nat + legal))
    return path, raw_ids


def test_summary_counts_and_masks_ids(tmp_path):
    path, raw_ids = _id_failures(tmp_path)
    proc = sgs(tmp_path, path.name, "--received", RECEIVED)
    assert proc.returncode == 1
    out = proc.stdout.decode("utf-8")
    assert CJK.search(out)
    lines = out.splitlines()

    def count_line(field: str, rule: str) -> str:
        found = [ln for ln in lines if field in ln and rule in ln]
        assert found, f"no count line for {field}/{rule} in:\n{out}"
        return found[0]

    assert re.search(r"(?<!\d)3(?!\d)", count_line("XK_XDR_ZJHM", "id_check"))
    assert re.search(r"(?<!\d)2(?!\d)", count_line("XK_XDR_SHXYM", "uscc_check"))
    assert re.search(r"(?<!\d)1(?!\d)", count_line("XK_FR_ZJHM", "id_check"))
    for raw in raw_ids:
        assert raw not in out, f"unmasked ID {raw} in summary"
        assert mask(raw) in out, f"masked ID {mask(raw)} missing from summary"
    # The first failures name their spreadsheet rows.
    for row in (2, 3, 4, 5, 6, 7):
        assert re.search(rf"(?<!\d){row}(?!\d)", out)


def test_summary_shows_credit_codes_unmasked(tmp_path, shared_sgs):
    """Only personal ID numbers are masked: a company's credit code is public."""
    path, recs = _bad_permits_csv(tmp_path)  # row 3: a wrong USCC check character
    proc = shared_sgs(path, "--received", RECEIVED)
    assert proc.returncode == 1
    assert recs[1]["XK_XDR_SHXYM"] in proc.stdout.decode()


# ----------------------------------------------------------------------------- --out


def _workbook_cells(path: Path) -> list[tuple[str, list[object]]]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True)
    out = []
    for ws in book.worksheets:
        for row in ws.iter_rows(values_only=True):
            out.append((ws.title, list(row)))
    book.close()
    return out


def _problem_rows(
    path: Path, rules: set[str]
) -> dict[str, list[tuple[int, str, str, list[object]]]]:
    """Sheet name -> (row, field, rule, cells) of every sheet row that looks like one problem:
    a row number, one field code and one rule code."""
    found: dict[str, list[tuple[int, str, str, list[object]]]] = {}
    for sheet, cells in _workbook_cells(path):
        fields = [c for c in cells if isinstance(c, str) and FIELD_CODE.match(c)]
        rule = [c for c in cells if isinstance(c, str) and c in rules]
        nums = [c for c in cells if isinstance(c, int | float) and not isinstance(c, bool)]
        if len(fields) == 1 and len(rule) == 1 and nums:
            row = nums[0]
            if isinstance(row, float):
                assert row.is_integer()
                row = int(row)
            found.setdefault(sheet, []).append((row, fields[0], rule[0], cells))
    return found


def test_out_xlsx_matches_json_and_masks_ids(tmp_path):
    path, raw_ids = _id_failures(tmp_path)
    out = tmp_path / "report.xlsx"
    proc = sgs(tmp_path, path.name, "--json", "--out", out.name, "--received", RECEIVED)
    assert proc.returncode == 1, proc.stderr.decode()
    obj = json.loads(proc.stdout)
    assert out.exists()
    rules = {e["rule"] for e in obj["errors"]}
    expected = Counter((e["row"], e["field"], e["rule"]) for e in obj["errors"])
    # Problems may also be counted on a summary sheet; one sheet lists them row by row.
    sheets = _problem_rows(out, rules)
    matching = [name for name, rows in sheets.items() if Counter(k[:3] for k in rows) == expected]
    assert matching, f"no sheet lists exactly the JSON errors {sorted(expected)}: {sheets}"
    problems = sheets[matching[0]]
    cells = [str(c) for _s, row in _workbook_cells(out) for c in row if c is not None]
    for raw in raw_ids:
        assert not any(raw in c for c in cells), f"unmasked ID {raw} in {out.name}"
        assert mask(raw) in cells, f"masked ID {mask(raw)} missing from {out.name}"
    by_key = {(r, f, ru): row for r, f, ru, row in problems}
    for e in obj["errors"]:
        if e["field"] == "XK_XDR_SHXYM":
            assert e["value"] in by_key[(e["row"], e["field"], e["rule"])]
        if e["field"] in {"XK_XDR_ZJHM", "XK_FR_ZJHM"}:
            masked = by_key[(e["row"], e["field"], e["rule"])]
            assert any(
                isinstance(c, str) and re.fullmatch(r"\d{6}\*{8}[\dX]{4}", c) for c in masked
            )


def test_out_xlsx_without_json(tmp_path):
    recs = records("permit", 2, "natural")
    recs[0]["XK_XDR_ZJHM"] = broken_check(recs[0]["XK_XDR_ZJHM"])
    path = write_csv(tmp_path / "one.csv", table("permit", recs))
    proc = sgs(tmp_path, path.name, "--out", "problems.xlsx", "--received", RECEIVED)
    assert proc.returncode == 1
    out = tmp_path / "problems.xlsx"
    assert out.exists()
    cells = [str(c) for _s, row in _workbook_cells(out) for c in row if c is not None]
    assert mask(recs[0]["XK_XDR_ZJHM"]) in cells
    assert recs[0]["XK_XDR_ZJHM"] not in "\n".join(cells)


def test_out_xlsx_for_valid_file_has_no_problems(tmp_path):
    path = write_csv(tmp_path / "ok.csv", table("penalty", records("penalty", 3)))
    proc = sgs(tmp_path, path.name, "--out", "ok.xlsx", "--received", RECEIVED)
    assert proc.returncode == 0
    out = tmp_path / "ok.xlsx"
    assert out.exists()
    assert _problem_rows(out, {"required", "uscc_check", "id_check", "date_format"}) == {}


def test_the_validator_never_imports_pandas_or_hypothesis(tmp_path):
    """pandera's polars API does not use them; importing them would cost half a second of every
    validation (both are installed here: pandas by Great Expectations, hypothesis for tests)."""
    path = write_csv(tmp_path / "ok.csv", table("permit", records("permit", 3)))
    code = (
        "import sys\n"
        "from sgs.validate.pipeline import validate_file\n"
        f"result = validate_file({str(path)!r})\n"
        "assert result.rows == 3, result.rows\n"
        "print(sorted(m for m in ('pandas', 'hypothesis') if m in sys.modules))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"


# ----------------------------------------------------------------------------- a folder

FOLDER = "上报"
# The uploads of the folder below in the order ingest takes them (sorted paths), by role.
PASSING, FAILING, REFUSED = f"{FOLDER}/a.csv", f"{FOLDER}/b单位/t.csv", f"{FOLDER}/c.csv"
LEFT_BY_NAME = ["~$a.xlsx", ".hidden.csv", "README.md"]


def _folder(root: Path, *roles: str) -> Path:
    """A folder as a unit fills it: the uploads asked for (``PASSING``, ``FAILING`` in a
    subfolder, ``REFUSED`` without a header ingest could read), and files ingest leaves by
    name, with a manifest.json, none of which may be validated."""
    folder = root / FOLDER
    (folder / "b单位").mkdir(parents=True)
    if PASSING in roles:
        write_csv(root / PASSING, table("penalty", records("penalty", 3)))
    if FAILING in roles:
        _bad_permits_csv(folder / "b单位")  # its t.csv
    if REFUSED in roles:
        (root / REFUSED).write_bytes("名称,备注\r\n甲,乙\r\n".encode())
    for name in LEFT_BY_NAME:
        (folder / name).write_bytes(permits_csv(1))
    (folder / "manifest.json").write_text('{"files": {}}', encoding="utf-8")
    return folder


def _alone(cwd: Path, path: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    return sgs(cwd, path, "--received", RECEIVED, *args)


def test_a_folder_is_validated_file_by_file_as_each_file_alone(tmp_path):
    _folder(tmp_path, PASSING, FAILING, REFUSED)
    done = sgs(tmp_path, FOLDER, "--received", RECEIVED)
    out, err = done.stdout.decode(), done.stderr.decode()
    assert done.returncode == 2, err  # the worst of 0, 1 and 2
    # each upload's summary exactly as when validated alone, in ingest's order
    alone = {path: _alone(tmp_path, path) for path in (PASSING, FAILING, REFUSED)}
    assert [p.returncode for p in alone.values()] == [0, 1, 2]
    summaries = "".join(alone[p].stdout.decode() + "\n" for p in (PASSING, FAILING))
    assert out.startswith(summaries), out
    # the refused file: its reason on stderr as alone, under its name
    assert err == f"文件：{REFUSED}\n" + alone[REFUSED].stderr.decode()
    # then every file's verdict, and the files left by name
    rest = out[len(summaries) :]
    assert rest.startswith("共 3 个文件：全部通过 1 个，有错误 1 个，无法校验 1 个。\n"), rest
    verdicts = [(cells[0], cells[-1]) for cells in
                ([c.strip() for c in line.strip("|").split("|")]
                 for line in rest.splitlines() if line.startswith(f"| {FOLDER}"))]  # fmt: skip
    assert verdicts == [(PASSING, "全部通过"), (FAILING, "有错误"), (REFUSED, "无法校验")]
    left = rest.split("按文件名忽略的文件（未校验）：\n")[1].split()
    assert sorted(left) == sorted(f"{FOLDER}/{name}" for name in LEFT_BY_NAME)
    assert "manifest.json" not in out + err


@pytest.mark.parametrize(
    ("roles", "code"),
    [((PASSING,), 0), ((PASSING, FAILING), 1), ((FAILING, REFUSED), 2)],
    ids=["passing", "with-errors", "with-a-refusal"],
)
def test_a_folder_exits_with_its_worst_files_code(tmp_path, roles, code):
    _folder(tmp_path, *roles)
    done = sgs(tmp_path, FOLDER, "--received", RECEIVED)
    assert done.returncode == code, done.stderr.decode()
    assert f"共 {len(roles)} 个文件：" in done.stdout.decode()  # each file was validated


def test_a_folder_with_json_is_an_array_of_the_files_objects(tmp_path):
    _folder(tmp_path, PASSING, FAILING, REFUSED)
    done = sgs(tmp_path, FOLDER, "--json", "--received", RECEIVED)
    assert done.returncode == 2
    found = json.loads(done.stdout)  # the whole of stdout is one JSON array
    alone = [json.loads(_alone(tmp_path, p, "--json").stdout) for p in (PASSING, FAILING, REFUSED)]
    assert found == alone
    assert [o["file"] for o in found] == [PASSING, FAILING, REFUSED]
    assert found[2]["refused"]["code"] and found[1]["errors"]


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_a_folder_with_nothing_to_validate_exits_2(tmp_path, as_json):
    _folder(tmp_path)  # only files left by name, and the manifest
    done = sgs(tmp_path, FOLDER, *(["--json"] if as_json else []))
    assert done.returncode == 2
    assert done.stderr.decode() == f"文件夹「{FOLDER}」中没有可校验的文件（按文件名忽略 3 个）。\n"
    assert done.stdout.decode() == ("[]\n" if as_json else "")


def test_out_with_a_folder_is_a_usage_error(tmp_path):
    _folder(tmp_path, PASSING)
    done = sgs(tmp_path, FOLDER, "--out", "问题.xlsx")
    err = done.stderr.decode()
    assert done.returncode == 2 and done.stdout == b""
    assert "错误：--out 只能用于单个文件" in err and not (tmp_path / "问题.xlsx").exists()
