"""Monthly ledgers (台账) and zero-increment reports: reading, checking, storing, replacing.

A ledger lists a unit's permit and penalty decisions of one month (POLICY.md, "Ledger"); columns
序号, 类别, 决定文书号, 行政相对人名称, 行政相对人代码, 决定日期 in any order, below title rows,
as CSV or XLSX.  Every row is stored, its problems reported in ``errors`` with the row number a
spreadsheet shows; a ledger re-sent for the same month becomes the current one.
"""

from __future__ import annotations

import os
import subprocess
from datetime import date, datetime
from pathlib import Path

import duckdb
import openpyxl
import pytest
from support import warm_sgs
from support.rates_builders import (
    PENALTY,
    PERMIT,
    UNIT_A,
    company,
    db_fingerprint,
    write_ledger,
    write_ledger_xlsx,
)

from sgs.config import PROJECT_ROOT
from sgs.errors import FileRefused
from sgs.measure.rates import rates
from sgs.store import database
from sgs.store.ingest import ingest_ledger
from sgs.validate.ledger import read_ledger

SGS = str(PROJECT_ROOT / ".venv" / "bin" / "sgs")
NAME_A = "长治市行政审批服务管理局"


@pytest.fixture
def root(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("SGS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SGS_UNITS_FILE", raising=False)
    return tmp_path / "data"


def sgs(*args: str, root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "SGS_DATA_DIR": str(root)}
    return warm_sgs.run([*args], env=env, timeout=120)


def query(root: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(database.db_path(root)), read_only=True) as con:
        return con.execute(sql, params).fetchall()


def rate_row(period: str, kind: str, unit: str = UNIT_A) -> dict:
    with database.reader() as con:
        return rates(con, period, unit=unit, kind=kind).row(0, named=True)


def simple_ledger(path: Path, docs: list[str], period_day: str = "2022-01-10") -> Path:
    rows = [[str(i), PERMIT, d, *company(i), period_day] for i, d in enumerate(docs, start=1)]
    return write_ledger(path, rows)


# ============================================================================ reading


def test_csv_with_title_rows_and_shuffled_columns(root, tmp_path):
    # Row 1 and 2: titles; row 3: the header in another order; rows 4–6: entries.
    path = write_ledger(
        tmp_path / "台账_2022年1月.csv",
        [
            ["2022-01-05", company(1)[0], "长审批许〔2022〕1号", "1", company(1)[1], PERMIT],
            ["2022/01/06", "张三", "长审批罚〔2022〕2号", "2", "", PENALTY],
            [
                "2022年1月7日",
                company(3)[0],
                "长审批许〔2022〕3号",
                "3",
                company(3)[1].lower(),
                PERMIT,
            ],
        ],
        header=["决定日期", "行政相对人名称", "决定文书号", "序号", "行政相对人代码", "类别"],
        title_rows=[["长治市行政审批服务管理局 2022年1月 双公示信息报送台账"], ["填报人：李四"]],
    )
    read = read_ledger(path, "2022-01")
    assert read.errors.height == 0
    assert read.frame["__row"].to_list() == [4, 5, 6]
    result = ingest_ledger(path, unit=UNIT_A, period="2022-01", received=date(2022, 2, 7))
    assert (result.status, result.rows_stored, result.rows_failing, result.errors) == (
        "stored",
        3,
        0,
        0,
    )
    got = query(
        root,
        "SELECT source_row, unit_code, period, kind, doc_key, subject_name, subject_code,"
        " decision_date, valid FROM ledger_entries ORDER BY source_row",
    )
    assert got == [
        (4, UNIT_A, "2022-01", "permit", "长审批许〔2022〕1号", company(1)[0], company(1)[1],
         date(2022, 1, 5), True),
        (5, UNIT_A, "2022-01", "penalty", "长审批罚〔2022〕2号", "张三", None, date(2022, 1, 6), True),
        (6, UNIT_A, "2022-01", "permit", "长审批许〔2022〕3号", company(3)[0], company(3)[1],
         date(2022, 1, 7), True),
    ]  # fmt: skip
    batch = query(
        root,
        "SELECT kind, period, unit_code, received_date, rows_stored, zero_report FROM batches",
    )
    assert batch == [("ledger", "2022-01", UNIT_A, date(2022, 2, 7), 3, False)]


def test_xlsx_with_aliases_and_date_cells(root, tmp_path):
    # Row 1: title, row 2: empty, row 3: header (aliases), rows 4–6: entries; dates as real
    # date cells, as text, and as a datetime cell.
    path = write_ledger_xlsx(
        tmp_path / "台账.xlsx",
        [
            [1, PERMIT, "长审批许〔2022〕11号", company(11)[0], company(11)[1], date(2022, 1, 5)],
            [2, PENALTY, "长审批罚〔2022〕12号", company(12)[0], None, datetime(2022, 1, 6)],
            [3, PENALTY, "长审批罚〔2022〕13号", company(13)[0], company(13)[1], "2022/1/31"],
        ],
        header=["序号", "信息类别", "文书号", "相对人名称", "统一社会信用代码", "处罚决定日期"],
        title_rows=[["双公示信息报送台账"], []],
    )
    read = read_ledger(path, "2022-01")
    assert read.errors.height == 0, read.errors
    f = read.frame
    assert f["__row"].to_list() == [4, 5, 6]
    assert f["__kind"].to_list() == ["permit", "penalty", "penalty"]
    assert f["__date"].to_list() == [date(2022, 1, 5), date(2022, 1, 6), date(2022, 1, 31)]
    assert f["XDR_DM"].to_list() == [company(11)[1], None, company(13)[1]]
    result = ingest_ledger(path, unit=NAME_A, period="2022-01", received=date(2022, 2, 7))
    assert (result.status, result.rows_stored, result.unit_code) == ("stored", 3, UNIT_A)


@pytest.mark.parametrize(
    "header",
    [
        ["类型", "行政许可决定文书号", "相对人名称", "相对人代码", "许可决定日期"],
        ["信息类别", "行政处罚决定书文号", "相对人名称", "证件号码", "决定日期"],
        # header cells as clerks type them: surrounding blanks, full-width letters are not used
        [" 类别 ", "决定文书号", "行政相对人名称 ", "行政相对人代码", " 决定日期"],
    ],
)
def test_csv_header_aliases(root, tmp_path, header):
    path = write_ledger(
        tmp_path / "台账.csv",
        [[PERMIT, "长审批许〔2022〕21号", company(21)[0], company(21)[1], "2022-01-21"]],
        header=header,
    )
    read = read_ledger(path, "2022-01")
    assert read.errors.height == 0
    row = read.frame.row(0, named=True)
    assert (row["__kind"], row["WSH"], row["XDR_DM"], row["__date"]) == (
        "permit",
        "长审批许〔2022〕21号",
        company(21)[1],
        date(2022, 1, 21),
    )
    assert row["__row"] == 2


# ============================================================================ problems


def test_every_row_stored_with_its_problems(root, tmp_path):
    # Row 1: title; row 2: header; row 6 is blank (skipped but counted in the numbering).
    path = write_ledger(
        tmp_path / "台账.csv",
        [
            ["1", PERMIT, "长审批许〔2022〕1号", "甲公司", company(1)[1], "2022-01-05"],  # row 3: ok
            ["2", PERMIT, "", "乙公司", "", "2022-01-06"],                # row 4: no 文书号
            ["3", "许可", "长审批许〔2022〕3号", "丙公司", "", "2022-01-07"],  # row 5: bad 类别
            ["", "", "", "", "", ""],                                     # row 6: blank
            ["4", PENALTY, "长审批罚〔2022〕4号", "丁公司", "", "2022/13/45"],  # row 7: bad date
            ["5", PENALTY, "长审批罚〔2022〕5号", "戊公司", "", "2022-02-03"],  # row 8: February
            ["6", PERMIT, "长审批许[2022]1号", "甲公司", "", "2022-01-05"],  # row 9: = row 3
        ],
        title_rows=[["2022年1月台账"]],
    )  # fmt: skip
    result = ingest_ledger(path, unit=UNIT_A, period="2022-01", received=date(2022, 2, 7))
    assert result.status == "stored"
    assert (result.rows_stored, result.blank_rows) == (6, 1)
    assert (result.rows_failing, result.errors, result.warnings) == (4, 4, 1)
    errors = query(
        root,
        "SELECT \"row\", field, rule, severity, value, record_id IS NULL, batch_id, message <> ''"
        ' FROM errors ORDER BY "row", field, rule',
    )
    b = result.batch_id
    assert errors == [
        (4, "WSH", "required", "error", None, True, b, True),
        (5, "LB", "allowed_values", "error", "许可", True, b, True),
        (7, "JDRQ", "date_format", "error", "2022/13/45", True, b, True),
        (8, "JDRQ", "ledger_period", "warning", "2022-02-03", True, b, True),
        (9, "WSH", "ledger_duplicate", "error", "长审批许[2022]1号", True, b, True),
    ]
    entries = query(
        root,
        "SELECT source_row, kind, doc_key, decision_date, valid FROM ledger_entries ORDER BY 1",
    )
    assert entries == [
        (3, "permit", "长审批许〔2022〕1号", date(2022, 1, 5), True),
        (4, "permit", None, date(2022, 1, 6), False),
        (5, None, "长审批许〔2022〕3号", date(2022, 1, 7), False),
        (7, "penalty", "长审批罚〔2022〕4号", None, False),
        (8, "penalty", "长审批罚〔2022〕5号", date(2022, 2, 3), True),  # a warning only
        (9, "permit", "长审批许〔2022〕1号", date(2022, 1, 5), False),
    ]
    # Completeness counts the entries of each kind: permits rows 3, 4 (row 9 repeats row 3 and
    # counts once) → 2 entries; penalties rows 7, 8 → 2; row 5 has no readable kind: in neither
    # kind, but counted for the unit as unclassified; nothing uploaded → 0 matched, rate 0.
    permit, penalty = rate_row("2022-01", "permit"), rate_row("2022-01", "penalty")
    assert (permit["ledger_entries"], permit["ledger_matched"]) == (2, 0)
    assert (penalty["ledger_entries"], penalty["ledger_matched"]) == (2, 0)
    assert permit["ledger_unclassified"] == penalty["ledger_unclassified"] == 1
    assert permit["completeness_rate"] == 0.0


def test_duplicate_is_per_kind(root, tmp_path):
    # The same number as a permit and as a penalty is not a duplicate (同一类别、同一文书号).
    path = write_ledger(
        tmp_path / "台账.csv",
        [
            ["1", PERMIT, "长审批〔2022〕1号", "甲公司", "", "2022-01-05"],
            ["2", PENALTY, "长审批〔2022〕1号", "甲公司", "", "2022-01-05"],
        ],
    )
    assert read_ledger(path, "2022-01").errors.height == 0


def test_names_keep_their_full_width_punctuation(root, tmp_path):
    """A name is prose: trimmed only, never NFKC-normalised (as in uploads), so the ledger
    stores it as published; codes and dates are still width-normalised."""
    name = "（长治）某某商贸有限公司（分店）：第一店"
    path = write_ledger(
        tmp_path / "台账.csv",
        [
            [
                "1",
                PERMIT,
                "  长审批〔２０２２〕1号 ",
                f"  {name}\u3000",
                "９１１４０４００ｍａ０ｋｔｅｓｔ１",
                "２０２２－０１－０５",
            ]
        ],
    )
    read = read_ledger(path, "2022-01")
    row = read.frame.row(0, named=True)
    assert row["XDR_MC"] == name
    assert row["XDR_DM"] == "91140400MA0KTEST1"
    assert row["__date"] == date(2022, 1, 5)
    ingest_ledger(path, unit=UNIT_A, period="2022-01", root=root)
    stored = query(root, "SELECT subject_name, doc_key FROM ledger_entries")
    assert stored == [(name, "长审批〔2022〕1号")]


MANDATORY = ["类别", "决定文书号", "行政相对人名称", "决定日期"]


@pytest.mark.parametrize("missing", MANDATORY)
def test_missing_mandatory_column_is_refused(root, tmp_path, missing):
    with database.writer():
        pass  # an existing, empty store: the refusal must leave it empty
    header = [h for h in ["序号", *MANDATORY, "行政相对人代码"] if h != missing]
    values = {"序号": "1", "类别": PERMIT, "决定文书号": "长审批许〔2022〕1号",
              "行政相对人名称": "甲公司", "决定日期": "2022-01-05", "行政相对人代码": ""}  # fmt: skip
    path = write_ledger(tmp_path / "台账.csv", [[values[h] for h in header]], header=header)
    with pytest.raises(FileRefused) as info:
        ingest_ledger(path, unit=UNIT_A, period="2022-01", received=date(2022, 2, 7))
    assert info.value.code == "missing_columns"
    assert missing in info.value.message
    assert query(root, "SELECT count(*) FROM batches")[0][0] == 0
    assert query(root, "SELECT count(*) FROM ledger_entries")[0][0] == 0


def test_missing_mandatory_column_cli(root, tmp_path):
    path = write_ledger(
        tmp_path / "台账.csv",
        [["1", PERMIT, "长审批许〔2022〕1号", "甲公司", ""]],
        header=["序号", "类别", "决定文书号", "行政相对人名称", "行政相对人代码"],
    )
    done = sgs("ledger", str(path), "--unit", UNIT_A, "--period", "2022-01", root=root)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "决定日期" in done.stderr
    assert "Traceback" not in done.stderr
    if database.db_path(root).exists():
        assert query(root, "SELECT count(*) FROM batches")[0][0] == 0
        assert query(root, "SELECT count(*) FROM ledger_entries")[0][0] == 0


# ============================================================================ registering


def test_registration_is_idempotent(root, tmp_path):
    path = simple_ledger(tmp_path / "台账.csv", ["长审批许〔2022〕1号", "长审批许〔2022〕2号"])
    first = ingest_ledger(path, unit=UNIT_A, period="2022-01", received=date(2022, 2, 7))
    before = db_fingerprint(root)[1]
    again = ingest_ledger(path, unit=UNIT_A, period="2022-01", received=date(2022, 2, 9))
    assert (first.status, again.status) == ("stored", "skipped")
    assert again.batch_id == first.batch_id
    assert db_fingerprint(root)[1] == before
    # Through the command line too (exit 0, "already registered").
    done = sgs("ledger", str(path), "--unit", NAME_A, "--period", "2022-01", root=root)
    assert done.returncode == 0, done.stderr
    assert "此前已登记" in done.stdout
    assert db_fingerprint(root)[1] == before
    row = rate_row("2022-01", "permit")
    assert (row["ledger_entries"], row["ledger_received"]) == (2, date(2022, 2, 7))


def test_resent_ledger_replaces(root, tmp_path):
    v1 = simple_ledger(tmp_path / "v1.csv", ["长审批许〔2022〕1号", "长审批许〔2022〕2号"])
    v2 = simple_ledger(
        tmp_path / "v2.csv", ["长审批许〔2022〕1号", "长审批许〔2022〕2号", "长审批许〔2022〕3号"]
    )
    ingest_ledger(v1, unit=UNIT_A, period="2022-01", received=date(2022, 2, 7))
    second = ingest_ledger(v2, unit=UNIT_A, period="2022-01", received=date(2022, 2, 9))
    current = query(
        root, "SELECT batch_id, first_received FROM ledgers WHERE is_current AND period = '2022-01'"
    )
    assert current == [(second.batch_id, date(2022, 2, 7))]
    row = rate_row("2022-01", "permit")
    assert (row["ledger_entries"], row["ledger_received"]) == (3, date(2022, 2, 7))
    # Both ledgers' rows stay stored (history), only the current one counts.
    assert query(root, "SELECT count(*) FROM ledger_entries")[0][0] == 5


def test_resending_the_original_after_a_correction_makes_it_current(root, tmp_path):
    """v1 on 02-07, a corrected v2 on 02-09, then v1 again on 02-11 (the unit withdraws the
    correction): "a ledger re-sent for the same month becomes the current one" (sgs.store.ledger)."""
    v1 = simple_ledger(tmp_path / "v1.csv", ["长审批许〔2022〕1号", "长审批许〔2022〕2号"])
    v2 = simple_ledger(
        tmp_path / "v2.csv", ["长审批许〔2022〕1号", "长审批许〔2022〕2号", "长审批许〔2022〕3号"]
    )
    ingest_ledger(v1, unit=UNIT_A, period="2022-01", received=date(2022, 2, 7))
    ingest_ledger(v2, unit=UNIT_A, period="2022-01", received=date(2022, 2, 9))
    ingest_ledger(v1, unit=UNIT_A, period="2022-01", received=date(2022, 2, 11))
    assert rate_row("2022-01", "permit")["ledger_entries"] == 2


def test_same_file_for_another_month_is_another_ledger(root, tmp_path):
    path = simple_ledger(tmp_path / "台账.csv", ["长审批许〔2022〕1号"])
    a = ingest_ledger(path, unit=UNIT_A, period="2022-01", received=date(2022, 2, 7))
    b = ingest_ledger(path, unit=UNIT_A, period="2022-02", received=date(2022, 3, 2))
    assert (a.status, b.status) == ("stored", "stored")
    assert a.batch_id != b.batch_id
    assert b.warnings == 1  # 2022-01-10 is outside February: ledger_period
    assert rate_row("2022-02", "permit")["ledger_entries"] == 1


def test_zero_report_cli(root):
    args = ["ledger", "--zero", "--unit", UNIT_A, "--period", "2022-02", "--received", "2022-03-03"]
    done = sgs(*args, "--json", root=root)
    assert done.returncode == 0, done.stderr
    assert '"status": "stored"' in done.stdout
    batches = query(
        root,
        "SELECT kind, period, zero_report, received_date, rows_stored, errors FROM batches",
    )
    assert batches == [("ledger", "2022-02", True, date(2022, 3, 3), 0, 0)]
    again = sgs(*args, root=root)
    assert again.returncode == 0 and "此前已登记" in again.stdout
    assert query(root, "SELECT count(*) FROM batches")[0][0] == 1
    for kind in ("permit", "penalty"):
        row = rate_row("2022-02", kind)
        assert row["zero_report"] is True
        assert (row["ledger_entries"], row["ledger_matched"]) == (0, 0)
        assert row["completeness_rate"] is None
        assert row["ledger_received"] == date(2022, 3, 3)


def test_zero_report_replaces_a_ledger_and_back(root, tmp_path):
    path = simple_ledger(tmp_path / "台账.csv", ["长审批许〔2022〕1号", "长审批许〔2022〕2号"])
    ingest_ledger(path, unit=UNIT_A, period="2022-01", received=date(2022, 2, 7))
    ingest_ledger(None, unit=UNIT_A, period="2022-01", received=date(2022, 2, 8), zero=True)
    row = rate_row("2022-01", "permit")
    assert (row["zero_report"], row["ledger_entries"], row["completeness_rate"]) == (True, 0, None)
    assert row["ledger_received"] == date(2022, 2, 7)
    # The other order, another month: a zero report, then a real ledger after all.
    ingest_ledger(None, unit=UNIT_A, period="2022-02", received=date(2022, 3, 2), zero=True)
    ingest_ledger(path, unit=UNIT_A, period="2022-02", received=date(2022, 3, 4))
    row = rate_row("2022-02", "permit")
    assert (row["zero_report"], row["ledger_entries"]) == (False, 2)
    assert row["ledger_received"] == date(2022, 3, 2)


# ============================================================================ command line


@pytest.mark.parametrize(
    "args",
    [
        ["FILE", "--zero", "--unit", UNIT_A, "--period", "2022-01"],  # both
        ["--unit", UNIT_A, "--period", "2022-01"],  # neither
    ],
)
def test_file_xor_zero_is_a_usage_error(root, tmp_path, args):
    path = simple_ledger(tmp_path / "台账.csv", ["长审批许〔2022〕1号"])
    done = sgs("ledger", *[str(path) if a == "FILE" else a for a in args], root=root)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "二者选一" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--zero", "--unit", UNIT_A, "--period", "2022-13"],
        ["--zero", "--unit", UNIT_A, "--period", "2022/01"],
        ["--zero", "--unit", "不存在的单位", "--period", "2022-01"],
        ["--zero", "--unit", UNIT_A, "--period", "2022-01", "--received", "2022-02-30"],
        ["--zero", "--period", "2022-01"],
    ],
)
def test_bad_arguments_exit_2(root, args):
    done = sgs("ledger", *args, root=root)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stderr.strip() and "Traceback" not in done.stderr


def test_missing_file_is_an_argument_error(root, tmp_path):
    """The help says: exit 2 for a parameter error; `sgs ingest` treats a missing path so."""
    missing = tmp_path / "没有这个文件.csv"
    done = sgs("ledger", str(missing), "--unit", UNIT_A, "--period", "2022-01",
               "--received", "2022-02-07", root=root)  # fmt: skip
    assert "Traceback" not in done.stderr
    assert done.returncode == 2, done.stderr


# ============================================================================ the template


def test_blank_template_reads_back_empty(root, tmp_path):
    out = tmp_path / "台账模板.xlsx"
    done = sgs("template", "ledger", "--out", str(out), root=root)
    assert done.returncode == 0, done.stderr
    read = read_ledger(out, "2026-10")
    assert read.frame.height == 0
    assert read.errors.height == 0


def test_filled_template_reads_back(root, tmp_path):
    out = tmp_path / "台账模板.xlsx"
    assert sgs("template", "ledger", "--out", str(out), root=root).returncode == 0
    book = openpyxl.load_workbook(out)
    sheet = book.worksheets[0]
    sheet.append(["1", PERMIT, "长审批许〔2026〕1号", company(1)[0], company(1)[1], "2026/10/09"])
    sheet.append(["2", PENALTY, "长审批罚〔2026〕2号", "王五", None, "2026/10/12"])
    book.save(out)
    read = read_ledger(out, "2026-10")
    assert read.errors.height == 0
    assert read.frame["__row"].to_list() == [2, 3]
    assert read.frame["__kind"].to_list() == ["permit", "penalty"]
    assert read.frame["__date"].to_list() == [date(2026, 10, 9), date(2026, 10, 12)]
