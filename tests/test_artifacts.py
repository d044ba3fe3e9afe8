"""What the Prefect artifacts are made of: the `public_url` setting their links start with,
ASCII task run names for the landing zone's files, and Markdown that shows the units' text
literally.  (The artifacts of real flow runs: test_flows.py, test_run_script.py and
test_prefect_e2e.py.)"""

from __future__ import annotations

import json
import os
import unicodedata
from datetime import date
from pathlib import Path

import pytest

from sgs.errors import SettingsError
from sgs.jobs import artifacts
from sgs.reference.settings import load_settings, public_url
from sgs.store.batches import IngestResult

UNIT = "111404000448224608"  # 长治市行政审批服务管理局


def test_public_url_defaults_to_the_local_download_page(monkeypatch):
    monkeypatch.delenv("SGS_PUBLIC_URL", raising=False)
    assert public_url() == "http://127.0.0.1:8000"
    assert artifacts.data_docs_url() == "http://127.0.0.1:8000/docs/"
    assert artifacts.data_docs_url(7) == "http://127.0.0.1:8000/docs/batch/7"
    assert artifacts.feedback_url(UNIT) == f"http://127.0.0.1:8000/download/feedback/{UNIT}.xlsx"
    assert artifacts.bulletin_url("2026-10") == (
        "http://127.0.0.1:8000/download/bulletin/2026-10.xlsx"
    )


@pytest.mark.parametrize(
    ("value", "base"),
    [
        ("https://xyb.example.cn", "https://xyb.example.cn"),
        ("https://xyb.example.cn/", "https://xyb.example.cn"),
        ("http://10.1.2.3:8080/sgs/", "http://10.1.2.3:8080/sgs"),
    ],
)
def test_public_url_from_the_environment(monkeypatch, value, base):
    monkeypatch.setenv("SGS_PUBLIC_URL", value)
    assert artifacts.data_docs_url(3) == f"{base}/docs/batch/3"


def test_public_url_from_the_settings_file(monkeypatch, tmp_path):
    from sgs.config import CONFIG_DIR

    text = (CONFIG_DIR / "settings.toml").read_text(encoding="utf-8")
    settings = tmp_path / "settings.toml"
    settings.write_text(
        text.replace('public_url = "http://127.0.0.1:8000"', 'public_url = "https://xy.cn"'),
        encoding="utf-8",
    )
    monkeypatch.delenv("SGS_PUBLIC_URL", raising=False)
    monkeypatch.setenv("SGS_SETTINGS_FILE", str(settings))
    assert public_url("/docs/") == "https://xy.cn/docs/"


@pytest.mark.parametrize(
    "value",
    ["127.0.0.1:8000", "ftp://xyb.example.cn", "http://", "file:///srv/sgs", "javascript:x",
     "http://xyb.example.cn/?a=1", "http://xyb.example.cn/#top"],
)  # fmt: skip
def test_a_public_url_that_is_no_web_address_is_refused(monkeypatch, value):
    monkeypatch.setenv("SGS_PUBLIC_URL", value)
    with pytest.raises(SettingsError, match=r"public_url.*不是有效的网址"):
        load_settings()


def test_markdown_from_the_data_is_shown_literally():
    assert artifacts.md("许可|清单[1](x)*_.xlsx") == "许可\\|清单\\[1\\]\\(x\\)\\*\\_.xlsx"
    assert artifacts.md("两行\n文本") == "两行 文本"
    # an ID number masked, its stars shown as stars
    assert artifacts.md("张三140404199001011234") == "张三140404" + "\\*" * 8 + "1234"


def _upload(root: Path, unit: str, day: str, name: str = "许可.csv") -> Path:
    path = root / "raw" / unit / day / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x\n", encoding="utf-8")
    return path


def test_task_names_are_ascii_unit_code_received_date_and_index(tmp_path):
    root = tmp_path / "data"
    assert artifacts.task_name(_upload(root, UNIT, "2026-11-05"), 3, root) == (
        f"ingest-{UNIT}-20261105-03"
    )
    # a unit folder named by the unit's Chinese name: its code
    by_name = _upload(root, "长治市行政审批服务管理局", "2026-11-06")
    assert artifacts.task_name(by_name, 12, root) == f"ingest-{UNIT}-20261106-12"
    # a unit the registry does not know
    assert artifacts.task_name(_upload(root, "某某局", "2026-11-06"), 1, root) == (
        "ingest-unknown-20261106-01"
    )
    assert artifacts.task_name(_upload(root, "91140400MA0TEST01X", "2026-11-06"), 2, root) == (
        "ingest-91140400MA0TEST01X-20261106-02"
    )
    # a manifest that cannot be read: no date established
    broken = _upload(root, UNIT, "2026-11-07")
    (broken.parent / "manifest.json").write_text("[", encoding="utf-8")
    assert artifacts.task_name(broken, 4, root) == f"ingest-{UNIT}-nodate-04"
    # a folder that is no date: the file's time, as the office's date
    undated = _upload(root, UNIT, "草稿")
    os.utime(undated, (1_793_000_000, 1_793_000_000))  # 2026-10-26 (Asia/Shanghai)
    assert artifacts.task_name(undated, 5, root) == f"ingest-{UNIT}-20261026-05"


def test_feedback_markdown_names_each_unit_beside_its_code(tmp_path):
    files = [str(tmp_path / "feedback" / UNIT / "反馈清单_2026-11-10.xlsx")]
    assert artifacts.feedback_markdown(files) == (
        f"- [长治市行政审批服务管理局（{UNIT}）](http://127.0.0.1:8000/download/feedback/{UNIT}.xlsx)"
        "：反馈清单\\_2026-11-10.xlsx"
    )


def test_office_stamp_is_office_time(monkeypatch):
    monkeypatch.setenv("SGS_OFFICE_TIMEZONE", "Asia/Shanghai")
    assert artifacts.office_stamp().endswith("（Asia/Shanghai）")
    assert json.dumps(artifacts.office_stamp(), ensure_ascii=False).count(":") == 1
    assert date.fromisoformat(artifacts.office_stamp()[:10])


# --- the day's files table: narrow enough for the Prefect UI's panel -------------------------

MARKET = "11140400041270234C"  # 长治市市场监督管理局
LONG = "长治市市场监督管理局关于二〇二六年十月下半月行政处罚决定信息的补充报送（第三次修订）.xlsx"


def _width(text: object) -> int:
    """Terminal columns, counted here independently of the code under test."""
    return sum(2 if unicodedata.east_asian_width(c) in "WFA" else 1 for c in str(text))


def _day(tmp_path: Path) -> tuple[list[IngestResult], list[Path], dict[str, str]]:
    raw = tmp_path / "raw"
    stored = IngestResult(
        str(raw / MARKET / "2026-11-06" / LONG), "stored", "已入库", unit_code=MARKET,
        kind="penalty", rows_stored=1234, rows_valid=1200, rows_failing=34,
    )  # fmt: skip
    refused = IngestResult(
        str(raw / UNIT / "2026-11-05" / "损坏.xlsx"), "quarantined",
        "已隔离：无法读取文件：不是有效的 XLSX 工作簿（文件可能已损坏或只下载了一部分），"
        "请单位重新导出后上报",
        unit_code=UNIT, reason="unreadable",
    )  # fmt: skip
    tasks = {
        stored.path: f"ingest-{MARKET}-20261106-01",
        refused.path: f"ingest-{UNIT}-20261105-02",
    }
    return [stored, refused], [raw / UNIT / "2026-11-05" / "~$许可.xlsx"], tasks


def test_the_files_table_is_narrow_with_the_outcome_first(tmp_path):
    """Issue 21: the outcome columns were off the right edge of the UI's panel (ten columns,
    whole paths and reasons, every cell on one line)."""
    results, ignored, tasks = _day(tmp_path)
    rows = artifacts.files_table(results, ignored, tasks)
    assert len(rows) == 3
    assert [list(r) for r in rows] == [["结果", "入库", "不合规", "文件", "单位", "任务"]] * 3
    assert [r["结果"] for r in rows] == ["已入库", "已隔离", "已忽略"]
    stored = rows[0]
    assert (stored["入库"], stored["不合规"], stored["单位"]) == (1234, 34, "长治市市场监督管理局")
    assert stored["任务"] == tasks[results[0].path]  # whole: it is how the UI's run is found
    # a long name shortened in the middle: its start and its end (the file type) kept
    name = stored["文件"]
    assert _width(name) <= 24 and "…" in name
    assert name.startswith("长治市") and name.endswith("）.xlsx")
    assert rows[1]["文件"] == "损坏.xlsx"  # a short name stays whole
    # no cell wider than a task's name, no text cell wider than 24 columns, rows within 110
    for row in rows:
        assert max(_width(v) for v in row.values()) <= 40, row
        assert all(_width(row[k]) <= 24 for k in ("结果", "文件", "单位")), row
        assert sum(max(_width(k), _width(v)) for k, v in row.items()) <= 110, row
    # the reason is not squeezed into the table: it is a list of its own
    assert "无法读取" not in json.dumps(rows, ensure_ascii=False)


def test_the_quarantine_reasons_are_a_list_with_the_whole_reason(tmp_path):
    results, _, tasks = _day(tmp_path)
    text = artifacts.quarantine_markdown(results, tasks)
    assert text == (
        f"- **{UNIT}/2026-11-05/损坏.xlsx**（任务 ingest-{UNIT}-20261105-02）："
        "无法读取文件：不是有效的 XLSX 工作簿（文件可能已损坏或只下载了一部分），请单位重新导出后上报"
    )
    assert artifacts.quarantine_markdown(results[:1], tasks) == ""


@pytest.mark.parametrize("width", [6, 10, 24, 40])
def test_shortening_keeps_both_ends_within_the_width(width):
    for text in (LONG, "a" * 80, "许可" * 30 + ".csv", "x" + "长" * 40):
        short = artifacts.shorten_middle(text, width)
        assert _width(short) <= width, short
        head, _, tail = short.partition("…")
        assert text.startswith(head) and text.endswith(tail) and tail
    assert artifacts.shorten_middle("许可.csv", 24) == "许可.csv"
