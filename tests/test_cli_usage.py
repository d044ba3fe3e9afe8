"""The command line speaks Chinese: help pages and usage errors, as a user meets them.

Every command's ``--help`` and a range of mistakes (a missing option, a misspelt one, a bad
value, a command that does not exist, one argument too many) are run through the installed
``sgs`` executable.  None of click's English may reach the user; usage errors keep exit status 2
and write nothing on stdout.  Widths are counted here, independently of the code under test: a
wide or full-width character takes two columns of a terminal.
"""

from __future__ import annotations

import os
import re
import subprocess
import unicodedata
from pathlib import Path

import click
import pytest
from support import warm_sgs

from sgs.cli.main import main
from sgs.config import PROJECT_ROOT

SGS = str(PROJECT_ROOT / ".venv" / "bin" / "sgs")
CJK = re.compile(r"[\u4e00-\u9fff]")
# click's own words: none of them may reach a user of sgs.
CLICK_ENGLISH = re.compile(
    r"Usage|Options|Commands|Error|Missing|Invalid|Try |Show this|No such|Got unexpected"
    r"|Did you mean|required|default:|Aborted|is not one of|is not a valid|does not"
    r"|requires an|take a value|INTEGER|FLOAT|TEXT|PATH\b"
)


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    env["SGS_DATA_DIR"] = str(cwd / "data")
    return warm_sgs.run([*args], env=env, cwd=cwd, timeout=60)


def command_paths(group: click.Group = main, prefix: tuple[str, ...] = ()) -> list[tuple]:
    """Every command and group of sgs, as the words that name it on the command line."""
    found = [prefix]
    for name, cmd in group.commands.items():
        if isinstance(cmd, click.Group):
            found += command_paths(cmd, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


def command_at(path: tuple[str, ...]) -> click.Command:
    cmd: click.Command = main
    for name in path:
        cmd = cmd.commands[name]  # type: ignore[attr-defined]
    return cmd


def test_every_command_is_listed():
    names = {" ".join(p) for p in command_paths()}
    assert {"", "validate", "ingest", "rates", "points", "report", "workdays add"} <= names


@pytest.mark.parametrize("path", command_paths(), ids=lambda p: " ".join(p) or "sgs")
def test_help_is_chinese_and_fits_the_terminal(path, tmp_path):
    done = run(*path, "--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert text.startswith(f"用法：sgs {' '.join(path)}".rstrip())
    assert "选项：" in text and "显示此帮助并退出。" in text
    assert not CLICK_ENGLISH.search(text), CLICK_ENGLISH.search(text)
    too_wide = [line for line in text.splitlines() if width(line) > 80]
    assert too_wide == []
    # Chinese typesetting: no line begins with closing punctuation or ends with an opening one.
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert [ln for ln in lines if ln[0] in "，。；：、）」》！？"] == []
    assert [ln for ln in lines if ln[-1] in "（「《"] == []


@pytest.mark.parametrize("path", command_paths(), ids=lambda p: " ".join(p) or "sgs")
def test_every_option_has_chinese_help(path):
    cmd = command_at(path)
    options = [p for p in cmd.params if isinstance(p, click.Option)]
    assert [o.name for o in options if not CJK.search(o.help or "")] == []


@pytest.mark.parametrize("name", ["rates", "points", "report", "publish"])
def test_as_of_says_that_it_limits_the_data(name):
    """Issue 18: ``--as-of D`` is what the office knew at the end of D — it limits the files
    counted to those received by D, not only the day lateness is judged on."""
    (option,) = [p for p in command_at((name,)).params if p.name == "as_of"]
    assert "接收日期不晚于该日" in (option.help or "")


def test_sample_headers_is_explained(tmp_path):
    text = run("sample", "--help", cwd=tmp_path).stdout
    line = next(ln for ln in text.splitlines() if "--headers" in ln)
    assert CJK.search(line) and "chinese" in text and "code" in text


def test_version(tmp_path):
    done = run("--version", cwd=tmp_path)
    assert done.returncode == 0
    assert re.fullmatch(r"sgs \d+\.\d+\.\d+\n", done.stdout)


# The kinds as a usage error lists them: the codes, and the Chinese names accepted for them.
KINDS = "permit（许可、行政许可）、penalty（处罚、行政处罚）"
MISTAKES = [
    (["rates"], "缺少必需的选项 --period"),
    (["rates", "--period"], "选项 --period 后面需要一个值"),
    (["validate"], "缺少参数 FILE"),
    (["validate", "x.csv", "--bogus"], "没有选项 --bogus"),
    (["validate", "x.csv", "--jsn"], "是否想用 --json"),
    (["validate", "a.csv", "b.csv"], "多余的参数：b.csv"),
    (["validate", "x.csv", "--json=yes"], "选项 --json 是开关，不带值"),
    (["validate", "x.csv", "--kind", "permits"], f"「permits」不在可选范围内；可选：{KINDS}"),
    # A Chinese value is told in Chinese too, not in click's English with a doubled 。
    (["validate", "x.csv", "--kind", "许可证"], f"「许可证」不在可选范围内；可选：{KINDS}"),
    (["rates", "--period", "2026-10", "--kind", "处分"], f"「处分」不在可选范围内；可选：{KINDS}"),
    (["ingest", "x.csv", "--kind", "罚款"], f"「罚款」不在可选范围内；可选：{KINDS}"),
    (["standard", "--kind", "台账"], f"「台账」不在可选范围内；可选：{KINDS}。"),
    (
        ["rates", "--period", "2026-10", "--details", "迟报"],
        "「迟报」不在可选范围内；可选：late、failing、missing、unlisted",
    ),
    (["validate", "x.csv", "--limit", "很多"], "--limit 的取值有误：「很多」不是整数"),
    (
        ["rates", "--period", "2026-10", "--nonzero", "--details", "late"],
        "--nonzero 只用于三率表，不能与 --details 同时使用",
    ),
    (["validate", "x.csv", "--limit", "many"], "--limit 的取值有误：「many」不是整数"),
    (["validate", "x.csv", "--received", "2026-02-30"], "日期应为 YYYY-MM-DD 格式"),
    (["nosuch"], "没有命令 nosuch；可用的命令：docs、feedback、ingest"),
    (["rats"], "没有命令 rats；是否想用 rates？"),
    (["sample", "permit", "ten", "--out", "x.csv"], "N 的取值有误：「ten」不是整数"),
    (["sample", "permits", "3", "--out", "x.csv"], f"可选：{KINDS}"),
    (["sample", "许可证", "3", "--out", "x.csv"], f"「许可证」不在可选范围内；可选：{KINDS}"),
    (["sample", "--out", "x.csv"], f"缺少参数 KIND；可选：{KINDS}"),
    (["sample", "permit", "3", "--out", "x.csv", "--headers", "english"], "可选：chinese、code"),
    (["sample", "permit", "3"], "缺少必需的选项 --out：输出文件"),
    (["serve", "--port", "70000"], "「70000」超出允许的范围（1<=x<=65535）"),
    (["workdays", "add", "2026-01-01"], "缺少参数 N"),
    (["workdays", "when"], "没有命令 when"),
    (["points"], "请指定 --period YYYY-MM 或 --year YYYY"),
    (["ledger", "--unit", "U", "--period", "2026-10"], "请指定台账文件，或使用 --zero"),
    (["ingest"], "缺少参数 PATHS"),
    (["feedback", "--unit", "U"], "缺少必需的选项 --out"),
    (["template", "foo", "--out", "x.xlsx"], f"可选：{KINDS}、ledger（台账）"),
    (["template", "表", "--out", "x.xlsx"], f"「表」不在可选范围内；可选：{KINDS}、ledger（台账）"),
]


@pytest.mark.parametrize(("args", "message"), MISTAKES, ids=lambda a: " ".join(a))
def test_usage_errors_are_chinese(args, message, tmp_path):
    done = run(*args, cwd=tmp_path)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stdout == ""
    err = done.stderr
    assert message in err
    assert not CLICK_ENGLISH.search(err), err
    command = " ".join(a for a in args[:2] if a in {"workdays", "add", *main.commands})
    lines = err.splitlines()
    assert lines[0].startswith(f"用法：sgs {command}".rstrip()), err
    assert lines[1].startswith("查看帮助：sgs") and lines[1].endswith(" --help")
    assert lines[-1].startswith("错误：") and lines[-1].endswith(("。", "？"))
    assert "。。" not in err
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_no_command_shows_the_help(tmp_path):
    done = run(cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("用法：sgs [选项] 命令 [参数]...")
    assert "命令：" in done.stderr and "validate" in done.stderr
    assert not CLICK_ENGLISH.search(done.stderr)
