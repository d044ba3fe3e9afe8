"""What the commands print for people: aligned tables, Chinese words, progress on a terminal.

The installed ``sgs`` runs on a store built from the bundled landing zone.  Alignment is checked
the way a reader sees it: the column separators of every line of a table sit at the same
terminal column, counted here independently of the code under test (a wide or full-width
character takes two columns).  Progress is checked on a real pseudo-terminal (``pty``): it is
drawn on stderr when that is a terminal, and never reaches a pipe or the ``--json`` output.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import shutil
import struct
import subprocess
import termios
import unicodedata
from pathlib import Path

import pytest
from support import warm_sgs

from sgs.config import PROJECT_ROOT

# One worker runs this module: its tests share an expensive module fixture, built once
# (scripts/test runs pytest-xdist with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_cli_output")

SGS = str(PROJECT_ROOT / ".venv" / "bin" / "sgs")
ANSI = re.compile(r"\x1b\[")
CJK = re.compile(r"[\u4e00-\u9fff]")
# The bundled landing zone: 长治市潞州区人民政府 uploaded 15 permits in October 2026, 10 of
# them on time, all valid; 长治市上党区人民政府 uploaded nothing and sent no ledger.
LUZHOU, SHANGDANG = "长治市潞州区人民政府", "长治市上党区人民政府"
MARKET = "长治市市场监督管理局"


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def separators(line: str) -> list[int]:
    """Terminal columns of the ``|`` separators of a table line."""
    found, col = [], 0
    for c in line:
        if c == "|":
            found.append(col)
        col += width(c)
    return found


def tables(text: str) -> list[list[str]]:
    """The tables in a command's output: runs of lines that begin with ``|``."""
    found: list[list[str]] = []
    previous = False
    for line in text.splitlines():
        is_row = line.startswith("|")
        if is_row and not previous:
            found.append([])
        if is_row:
            found[-1].append(line)
        previous = is_row
    return found


def aligned(text: str) -> list[list[dict[str, str]]]:
    """Every table of ``text`` checked for alignment, then read as dicts by header."""
    found = tables(text)
    assert found, text
    read = []
    for lines in found:
        columns = {tuple(separators(line)) for line in lines}
        assert len(columns) == 1, "\n".join(lines)
        assert re.fullmatch(r"\|(-+\|)+", lines[1]), lines[1]  # the rule under the header
        cells = [[c.strip() for c in line.strip("|").split("|")] for line in lines]
        read.append([dict(zip(cells[0], row, strict=True)) for row in cells[2:]])
    return read


def sgs(*args: str, data: Path, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "SGS_DATA_DIR": str(data)}
    env.pop("SGS_UNITS_FILE", None)
    kw.setdefault("cwd", data.parent)
    return warm_sgs.run([*args], env=env, timeout=120, **kw)


def on_terminal(*args: str, data: Path, stdout_too: bool = False, columns: int = 120):
    """Run sgs with stderr (and, if asked, stdout) on a pseudo-terminal of ``columns``
    columns: (exit status, what reached the piped stdout, what the terminal received)."""
    env = {**os.environ, "SGS_DATA_DIR": str(data), "TERM": "xterm-256color"}
    for name in ("SGS_UNITS_FILE", "COLUMNS", "LINES", "FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE"):
        env.pop(name, None)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    proc = subprocess.Popen([SGS, *args], stdout=slave if stdout_too else subprocess.PIPE,
                            stderr=slave, env=env, cwd=data.parent)  # fmt: skip
    os.close(slave)
    received = []
    while True:
        ready, _, _ = select.select([master], [], [], 120)
        if not ready:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the other end closed: the command has finished
            break
        if not chunk:
            break
        received.append(chunk)
    out = proc.stdout.read().decode() if proc.stdout else ""
    code = proc.wait(timeout=120)
    os.close(master)
    return code, out, b"".join(received).decode(errors="replace")


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("output") / "data"
    shutil.copytree(PROJECT_ROOT / "data" / "raw", root / "raw")
    run = sgs("ingest", str(root / "raw"), "--json", data=root)
    assert run.returncode == 0, run.stderr
    return root


# ----------------------------------------------------------------------------- tables


def test_rates_are_an_aligned_table_with_chinese_columns(data):
    run = sgs("rates", "--period", "2026-10", data=data)
    assert run.returncode == 0, run.stderr
    assert not ANSI.search(run.stdout)
    (rows,) = aligned(run.stdout)
    assert list(rows[0])[:10] == ["单位", "类别", "上报", "及时", "及时率", "合规", "合规率",
                                  "台账", "已报", "完整率"]  # fmt: skip
    by = {(r["单位"], r["类别"]): r for r in rows}
    luzhou = by[(LUZHOU, "行政许可")]
    assert (luzhou["上报"], luzhou["及时"], luzhou["及时率"]) == ("15", "10", "66.7%")
    assert luzhou["合规率"] == "100.0%"
    nothing = by[(SHANGDANG, "行政许可")]
    assert [nothing[c] for c in ("及时率", "合规率", "完整率")] == ["—"] * 3  # not 0%
    assert "台账未报" in nothing["备注"]


def test_rates_machine_outputs_are_unchanged(data):
    """--json and --csv keep their codes and raw values: they are interfaces."""
    rows = json.loads(sgs("rates", "--period", "2026-10", "--json", data=data).stdout)
    assert {"unit_code", "timeliness_rate", "calendar_gap"} <= set(rows[0])
    csv = sgs("rates", "--period", "2026-10", "--csv", data=data).stdout
    assert csv.splitlines()[0].startswith("unit_code,unit_name,unit_type,kind,period,uploaded")


def run_script_rates(period: str, data: Path) -> subprocess.CompletedProcess:
    """The rates step of scripts/run, as the script has it, for one month."""
    (line,) = [ln for ln in (PROJECT_ROOT / "scripts" / "run").read_text().splitlines()
               if "sgs rates" in ln]  # fmt: skip
    env = {**os.environ, "SGS_DATA_DIR": str(data), "period": period}
    env.pop("SGS_UNITS_FILE", None)
    return subprocess.run(["sh", "-euc", line], capture_output=True, text=True, env=env,
                          cwd=PROJECT_ROOT, timeout=120, check=False)  # fmt: skip


@pytest.mark.parametrize("period", ["2026-10", "2026-11"])
def test_scripts_run_shows_only_the_rows_with_something_in_the_month(data, period):
    kinds = {"permit": "行政许可", "penalty": "行政处罚"}
    every = json.loads(sgs("rates", "--period", period, "--json", data=data).stdout)
    wanted = {(r["unit_name"], kinds[r["kind"]]) for r in every
              if r["uploaded"] or r["ledger_entries"]}  # fmt: skip
    assert 0 < len(wanted) < len(every)
    run = run_script_rates(period, data)
    assert run.returncode == 0, run.stderr
    (rows,) = aligned(run.stdout)  # the header and the rule, then the rows
    assert {(r["单位"], r["类别"]) for r in rows} == wanted  # the zero rows are gone
    assert len(rows) == len(wanted)
    assert all(r["上报"] != "0" or r["台账"] != "0" for r in rows)
    left = len(every) - len(wanted)
    assert run.stdout.startswith(f"{period} 三率（{len(wanted)} 行，另有 {left} 行上报和台账均为 0")


def test_published_rates_leave_out_the_zero_rows_as_well(data, tmp_path):
    copy = tmp_path / "data"
    shutil.copytree(data, copy)
    assert sgs("publish", "--period", "2026-10", data=copy).returncode == 0
    view = ["rates", "--period", "2026-10", "--json"]
    published = json.loads(sgs(*view, "--published", "--nonzero", data=copy).stdout)
    computed = json.loads(sgs(*view, "--nonzero", data=copy).stdout)
    every = json.loads(sgs(*view, "--published", data=copy).stdout)
    assert [(r["unit_code"], r["kind"]) for r in published] == [
        (r["unit_code"], r["kind"]) for r in computed
    ]
    assert 0 < len(published) < len(every)


@pytest.mark.parametrize(
    ("which", "title", "headers"),
    [
        ("late", "迟报记录", ["单位", "类别", "上报文件", "行号", "决定文书号", "上报期限"]),
        ("failing", "不合规记录", ["单位", "错误数", "问题（字段：规则）", "规则代码"]),
        ("missing", "应报未报", ["单位", "决定文书号", "行政相对人代码", "台账文件", "原因"]),
    ],
)
def test_details_are_readable_tables(data, which, title, headers):
    run = sgs("rates", "--period", "2026-10", "--details", which, data=data)
    assert run.returncode == 0, run.stderr
    first = run.stdout.splitlines()[0]
    assert title in first and re.search(r"(\d+) 条", first)
    assert "=" not in run.stdout  # no more unit_code=…，kind=… lines
    (rows,) = aligned(run.stdout)
    assert len(rows) == int(re.search(r"(\d+) 条", first).group(1))
    assert set(headers) <= set(rows[0])
    assert all(CJK.search(r["单位"]) and r["类别"] in {"行政许可", "行政处罚"} for r in rows)
    if which == "failing":
        market = [r for r in rows if r["单位"] == MARKET]
        assert {r["规则代码"] for r in market} == {"max_length", "org_code_check", "uscc_check"}
        named = {r["规则代码"]: r["问题（字段：规则）"] for r in market}
        assert named["uscc_check"].endswith("：统一社会信用代码校验位")
        assert named["max_length"].endswith("：长度上限")


def test_points_are_aligned_tables(data):
    run = sgs("points", "--period", "2026-10", "--as-of", "2026-11-20", data=data)
    assert run.returncode == 0, run.stderr
    (rows,) = aligned(run.stdout)
    assert {"分组", "排名", "单位", "1.目录编制", "10.信用修复", "合计"} <= set(rows[0])
    assert {r["分组"] for r in rows} == {"县区", "市直部门", "县区部门"}
    assert {r["排名"] for r in rows if r["分组"] == "县区部门"} == {"—"}  # never ranked
    assert any(r["1.目录编制"] == "—" for r in rows)  # not due in October: not applicable
    yearly = sgs("points", "--year", "2026", "--as-of", "2026-11-20", data=data)
    (rows,) = aligned(yearly.stdout)
    assert list(rows[0]) == ["分组", "排名", "单位", "月度合计", "月度平均", "年终项目",
                             "年度总成绩"]  # fmt: skip


def test_validate_summary_tables_are_aligned(data, tmp_path):
    path = next((data / "raw").rglob("行政许可_2026年10月.xlsx"))
    run = sgs("validate", str(path), "--received", "2026-11-05", data=data)
    assert run.returncode == 1, run.stderr
    counts, first = aligned(run.stdout)
    assert list(counts[0]) == ["字段", "字段代码", "规则", "规则代码", "级别", "处数"]
    assert all(CJK.search(r["规则"]) and re.fullmatch(r"[a-z_]+", r["规则代码"]) for r in counts)
    assert list(first[0]) == ["位置", "级别", "规则", "问题说明", "原值", "修改建议"]
    assert all(re.fullmatch(r"(工作表「.+」)?第 \d+ 行", r["位置"]) for r in first)


@pytest.mark.parametrize("columns", [80, 200])
def test_a_table_fits_the_terminal(data, columns):
    """On a wide terminal a wide table wraps long cells inside their columns; on a narrow one
    each record becomes a block of label and value.  Either way no line is wider than the
    terminal and the separators line up."""
    code, _, screen = on_terminal("rates", "--period", "2026-10", "--details", "failing",
                                  data=data, stdout_too=True, columns=columns)  # fmt: skip
    assert code == 0
    text = ANSI.sub("", screen).replace("\r\n", "\n")
    lines = [ln for ln in text.splitlines() if ln.startswith("|")]
    assert lines and max(width(ln) for ln in lines) <= columns
    assert len({tuple(separators(ln)) for ln in lines}) == 1
    if columns == 80:
        assert [ln.split("|")[1].strip() for ln in lines[:2]] == ["序号", "单位"]
        assert sum(ln.split("|")[1].strip() == "规则代码" for ln in lines) == 3
    else:
        assert lines[0].split("|")[1].strip() == "单位" and re.fullmatch(r"\|(-+\|)+", lines[1])


def test_standard_prints_aligned_field_and_rule_tables(tmp_path):
    run = sgs("standard", data=tmp_path / "data")
    assert run.returncode == 0, run.stderr
    permits, penalties, rules = aligned(run.stdout)
    assert list(permits[0]) == ["#", "字段", "代码", "类型", "是否必填", "规则"]
    assert permits[0]["代码"] == "XK_XDR_MC" and penalties[0]["代码"] == "CF_XDR_MC"
    named = {r["规则代码"]: r["规则"] for r in rules}
    assert named["date_format"] == "日期格式" and named["ledger_duplicate"] == "台账重复条目"
    markdown = sgs("standard", "--markdown", data=tmp_path / "data").stdout
    assert "| `XK_XDR_MC` |" in markdown and "| `date_format` | 日期格式 |" in markdown


# ----------------------------------------------------------------------------- ledgers


@pytest.mark.parametrize("name", ["台账_2026-10.csv", "台账_2026-10.xlsx"])
def test_validating_a_ledger_points_to_sgs_ledger(data, name):
    path = next((data / "raw").rglob(name))
    run = sgs("validate", str(path), data=data)
    assert run.returncode == 2
    assert run.stdout == ""
    assert "台账" in run.stderr
    assert f"sgs ledger {path} --unit " in run.stderr and "--period YYYY-MM" in run.stderr
    refused = sgs("validate", str(path), "--json", data=data)
    assert refused.returncode == 2
    assert json.loads(refused.stdout)["refused"]["code"] == "no_header"  # the interface holds
    assert "sgs ledger" in refused.stderr


def test_a_file_without_any_header_gets_no_ledger_hint(tmp_path, data):
    path = tmp_path / "notes.csv"
    path.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    run = sgs("validate", str(path), data=data)
    assert run.returncode == 2
    assert "表头" in run.stderr and "sgs ledger" not in run.stderr


# ----------------------------------------------------------------------------- paths


def printed_paths(text: str) -> list[str]:
    """The paths ``sgs ingest`` prints: on each file's line ([入库] 路径：…), in the table of
    quarantined files and in the list of files left by name."""
    found = [line.split("] ", 1)[1].split("：")[0] for line in text.splitlines()
             if re.match(r"\[(入库|跳过|隔离|忽略|错误)\] ", line)]  # fmt: skip
    for table in tables(text):
        found += [line.strip("|").split("|")[0].strip() for line in table[2:]]
    listed = text.partition("按文件名忽略的文件：\n")[2]
    return found + [line.strip() for line in listed.splitlines() if line.startswith("  ")]


def test_ingest_prints_every_path_in_one_form(landing):
    """Relative to the current directory when the file is under it, absolute otherwise: the
    files ingest reads back from the store ([入库], [跳过], [隔离]) as well as those it names
    without reading ([忽略], [错误])."""
    (landing / "raw" / "11140403MB6028813E" / "2026-11-04" / "坏.csv").write_bytes(b"\x00garbage")
    first = sgs("ingest", "raw", "nosuch", data=landing, cwd=landing)
    again = sgs("ingest", "raw", data=landing, cwd=landing)
    elsewhere = landing.parent / "elsewhere"
    elsewhere.mkdir()
    outside = sgs("ingest", "../data/raw", data=landing, cwd=elsewhere)
    absolute = f"{landing.resolve()}/raw/"
    for run, statuses, form in ((first, "入库 隔离 忽略 错误", "raw/"), (again, "跳过 忽略", "raw/"),
                                (outside, "跳过 忽略", absolute)):  # fmt: skip
        text = run.stdout + run.stderr
        assert all(f"[{status}]" in text for status in statuses.split()), text
        paths = printed_paths(text)
        assert len(paths) >= 12, text  # the 11 uploads and README.md, at least
        assert [p for p in paths if not (p.startswith(form) or p == "nosuch")] == [], text
        assert not [p for p in paths if ".." in p], text


# ----------------------------------------------------------------------------- progress


@pytest.fixture
def landing(tmp_path) -> Path:
    root = tmp_path / "data"
    shutil.copytree(PROJECT_ROOT / "data" / "raw", root / "raw")
    return root


def test_multi_file_ingest_shows_progress_on_a_terminal(landing):
    files = sum(1 for p in (landing / "raw").rglob("*.*") if p.name != "README.md")
    code, out, screen = on_terminal("ingest", str(landing / "raw"), data=landing)
    assert code == 0
    assert f"/{files}" in screen and "入库" in screen  # the bar: files done of all
    assert ANSI.search(screen)
    assert not ANSI.search(out) and out.count("[入库]") == files  # stdout is a pipe: plain


def test_lines_pass_above_the_bar_when_stdout_is_the_terminal_too(landing):
    code, out, screen = on_terminal("ingest", str(landing / "raw"), data=landing, stdout_too=True)
    assert code == 0 and out == ""
    plain = ANSI.sub("", screen)
    assert plain.count("[入库]") == sum(1 for p in (landing / "raw").rglob("*.*")) - 1
    assert "共 11 个文件" in plain


def test_pipes_and_json_get_no_progress(landing):
    piped = sgs("ingest", str(landing / "raw"), data=landing)
    assert piped.returncode == 0
    assert not ANSI.search(piped.stdout + piped.stderr) and "━" not in piped.stderr
    (landing / "curated").rename(landing.parent / "old")  # ingest again from scratch
    code, out, screen = on_terminal("ingest", str(landing / "raw"), "--json", data=landing)
    assert code == 0
    assert screen == ""  # nothing drawn on the terminal
    assert all(json.loads(line)["status"] for line in out.splitlines())


def test_a_big_validation_shows_progress_on_a_terminal(tmp_path):
    """A file of more than 2 MiB: stderr on a terminal shows the stage and the records."""
    from support.upload_files import RECEIVED, records, table, write_csv

    recs = records("permit", 300)
    rows = table("permit", recs)
    rows[0].append("说明")
    for row in rows[1:]:
        row.append("很长的说明" * 1500)  # 7,500 characters: 300 rows make a big file
    path = write_csv(tmp_path / "大文件.csv", rows)
    assert path.stat().st_size > 2 * 1024 * 1024
    data = tmp_path / "data"
    code, out, screen = on_terminal("validate", str(path), "--received", RECEIVED, data=data)
    assert code == 0, out
    assert "校验 300 条记录" in screen and "大文件.csv" in screen
    assert "全部记录符合数据标准" in out and not ANSI.search(out)
    code, out, screen = on_terminal("validate", str(path), "--received", RECEIVED, "--json",
                                    data=data)  # fmt: skip
    assert code == 0 and screen == "" and json.loads(out)["rows"] == 300
