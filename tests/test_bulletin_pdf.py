"""The bulletin as PDF, as the office makes it (`sgs report --out FILE.pdf`) and reads it: pages
counted with pdfinfo, fonts listed with pdffonts and the text extracted with pdftotext (Debian's
poppler-utils), on a store built from the bundled landing zone plus late uploads of four units —
enough late records for the list to run over several pages, one unit beyond the PDF's cap — and
a natural person's ID number in a ledger and in a subject's name, beside a company whose credit
code has a wrong check character.  The store has one month: the trend page plots one point per
rate, two of them close."""

from __future__ import annotations

import csv
import itertools
import os
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from support import warm_sgs
from support.rates_builders import shared_build
from support.upload_files import broken_check, uscc

from sgs.config import PROJECT_ROOT
from sgs.samples.generator import generate
from sgs.samples.writers import write_upload

# One worker runs this module: its tests share an expensive module fixture, built once
# (scripts/test runs pytest-xdist with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_bulletin_pdf")

PERIOD, AS_OF = "2026-10", "2026-11-20"
ENV = "111404000720078935"  # 长治市生态环境局: 25 late records, more than the PDF lists
OTHERS = {  # 15 late records each
    "111404000382642475": 11,  # 长治市应急管理局
    "11140400MB8273484T": 12,  # 长治市住房和城乡建设局
    "11140400MB4125177E": 13,  # 长治市自然资源局
}
ENV_LATE, OTHER_LATE, CAP = 25, 15, 20
ID_FIRST17 = "14040219850312123"
# A legal person's code with a wrong check character: public, shown as written.
COMPANY = ("长治市校验位有误商贸有限公司", broken_check(uscc("91", "140400", "MA0X0000")))
MARKUP = "<b>粗体</b>有限公司"  # a name that must print as text, not become markup
FORMULA = '=HYPERLINK("http://x","y")'
TITLE = "2026年10月双公示工作月通报"
SECTIONS = [
    "封面",
    "汇总",
    "行政许可",
    "行政处罚",
    "趋势",
    "迟报明细",
    "不合规明细",
    "应报未报",
    "台账未列",
]
A4 = {(595, 842), (842, 595)}  # points, portrait and landscape


def person_id() -> str:
    from sgs.validate.identifiers import id_check_char

    return ID_FIRST17 + id_check_char(ID_FIRST17)


def masked(pid: str) -> str:
    return pid[:6] + "*" * 8 + pid[-4:]


def late_upload(root: Path, unit: str, n: int, seed: int) -> pl.DataFrame:
    """``n`` valid permits decided in September and received on 28 October: all late."""
    sample = generate("permit", n, seed=seed, unit=unit, start=date(2026, 9, 1),
                      end=date(2026, 9, 30), received=date(2026, 10, 28))  # fmt: skip
    write_upload(sample.frame, root / "raw" / unit / "2026-10-28" / "九月许可.csv")
    return sample.frame


def _build(root: Path) -> None:
    shutil.copytree(PROJECT_ROOT / "data" / "raw", root / "raw")
    for unit, seed in OTHERS.items():
        late_upload(root, unit, OTHER_LATE, seed)
    frame = late_upload(root, ENV, ENV_LATE, 5)
    names = [MARKUP, FORMULA, f"王五{person_id()}", *frame["XK_XDR_MC"].to_list()[3:]]
    frame = frame.with_columns(pl.Series("XK_XDR_MC", names))
    write_upload(frame, root / "raw" / ENV / "2026-10-28" / "九月许可.csv")
    ledger = pl.DataFrame(
        {
            "类别": ["行政许可", "行政许可", "行政许可"],
            "决定文书号": ["长环许〔2026〕901号", "长环许〔2026〕902号", "长环许〔2026〕903号"],
            "行政相对人名称": ["张三", "李四", COMPANY[0]],
            "行政相对人代码": [person_id(), "11140400MB84708085", COMPANY[1]],
            "决定日期": ["2026-10-12", "2026-10-13", "2026-10-14"],
        }
    )
    (root / "raw" / ENV / "2026-11-03").mkdir(parents=True)
    ledger.write_csv(root / "raw" / ENV / "2026-11-03" / "台账_2026-10.csv")
    env = {**os.environ, "SGS_DATA_DIR": str(root)}
    env.pop("SGS_UNITS_FILE", None)
    run = warm_sgs.run(["ingest", str(root / "raw")], env=env, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    return shared_build(tmp_path_factory, "bulletin_pdf_store", _build)


def sgs_report(store: Path, out: Path, **env_extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SGS_DATA_DIR": str(store), **env_extra}
    env.pop("SGS_UNITS_FILE", None)
    args = ["report", "--period", PERIOD, "--out", str(out), "--as-of", AS_OF]
    if "PYTHONPATH" in env_extra:  # read when Python starts: a process of its own
        return subprocess.run([str(PROJECT_ROOT / ".venv" / "bin" / "sgs"), *args],
                              capture_output=True, text=True, env=env, timeout=300)  # fmt: skip
    return warm_sgs.run(args, env=env, timeout=300)


@pytest.fixture(scope="module")
def pdf(store, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pdf") / "月通报_2026-10.pdf"
    run = sgs_report(store, out)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"{PERIOD} 月通报（PDF）已生成：{out}"
    return out


def poppler(*args: str) -> str:
    return subprocess.run(list(args), capture_output=True, text=True, check=True).stdout


def page_count(pdf: Path) -> int:
    return int(re.search(r"^Pages:\s+(\d+)", poppler("pdfinfo", str(pdf)), re.M).group(1))


def page_text(pdf: Path, i: int, mode: str = "-layout") -> str:
    """Page ``i`` (from 1): ``-layout`` keeps a table's rows on lines, ``-raw`` the order the
    text was drawn in (a footer's two parts together)."""
    return poppler("pdftotext", mode, "-f", str(i), "-l", str(i), str(pdf), "-")


@pytest.fixture(scope="module")
def pages(pdf) -> list[str]:
    return [page_text(pdf, i) for i in range(1, page_count(pdf) + 1)]


@pytest.fixture(scope="module")
def sections(pdf) -> dict[str, list[int]]:
    """The pages (0-based) of each part, by the sheet's name in the footer
    「汇总 第 P 页 共 N 页」, in the order the parts come."""
    found: dict[str, list[int]] = {}
    for i in range(page_count(pdf)):
        footer = re.search(r"^(\S+) 第 \d+ 页 共 \d+ 页$", page_text(pdf, i + 1, "-raw"), re.M)
        assert footer, f"page {i + 1} has no footer"
        found.setdefault(footer.group(1), []).append(i)
    return found


def registered_units() -> list[str]:
    with (PROJECT_ROOT / "config" / "units.csv").open(encoding="utf-8") as fh:
        return [row["name"] for row in csv.DictReader(fh)]


def test_a4_pages_in_the_workbook_order_and_a_sane_count(pdf, pages, sections):
    sizes = re.findall(r"size:\s+([\d.]+) x ([\d.]+) pts",
                       poppler("pdfinfo", "-f", "1", "-l", str(len(pages)), str(pdf)))  # fmt: skip
    assert len(sizes) == len(pages)
    assert {(round(float(w)), round(float(h))) for w, h in sizes} <= A4
    assert round(float(sizes[0][0])) == 595  # the cover is portrait
    found = sections
    assert list(found) == SECTIONS  # the workbook's order, each part on its own pages
    assert found["封面"] == [0]  # the cover is one page
    # The summary of all 35 registered units fits one landscape page (two at most, were the
    # rows taller) and its chart one more.  The late list has 36 rows from the bundled data,
    # 3 × 15 here and the 20 of 25 the cap keeps: about 100 rows at 35 or more a page is at
    # most 4 pages; every other part is one or two.
    assert len(found["汇总"]) <= 3
    assert len(found["迟报明细"]) <= 4
    assert len(pages) <= 20


def test_every_font_is_embedded_and_the_cjk_one_is_noto(pdf):
    rows = poppler("pdffonts", str(pdf)).splitlines()[2:]
    assert rows
    for row in rows:
        # name type… encoding emb sub uni object ID: emb is the fifth field from the end
        assert row.split()[-5] == "yes", row
    assert any("Noto-Sans-CJK-SC" in row or "NotoSansCJKsc" in row for row in rows)


def test_cover_title_month_units_and_page_numbers_are_text(pages):
    cover = pages[0]
    assert TITLE in cover and "2026年10月（2026-10）" in cover
    assert f"积分计算截至 {AS_OF}" in re.sub(r"\s+", " ", cover)
    assert "阅读说明" in cover and "生成时间" in cover
    text = "".join(pages)
    for name in registered_units():
        assert name in text, name
    for i, page in enumerate(pages, start=1):
        footer = re.search(r"第\s*(\d+)\s*页\s*共\s*(\d+)\s*页", page)
        assert footer and footer.groups() == (str(i), str(len(pages))), i


def test_id_numbers_are_masked_and_text_is_never_markup(pages):
    text = "".join(pages)
    pid = person_id()
    assert pid not in text and pid[:-4] not in text
    assert masked(pid) in text  # the ledger's subject code, and the ID typed into a name
    assert f"王五{masked(pid)}" in text
    assert MARKUP in text  # printed as written: the angle brackets are text
    assert FORMULA in text  # a PDF runs nothing: the value as the unit wrote it


def test_missing_list_masks_only_natural_persons(pages, sections):
    """The cover says legal persons' codes are shown as they are: in the 应报未报 list a
    company's code is, also with a wrong check character; a person's ID is masked."""
    assert "统一社会信用代码照常显示" in re.sub(r"\s+", "", pages[0])
    rows = [line.split() for i in sections["应报未报"] for line in pages[i].splitlines()]
    (company,) = [row for row in rows if COMPANY[0] in row]
    assert COMPANY[1] in company
    (person,) = [row for row in rows if "张三" in row]
    assert masked(person_id()) in person
    (valid,) = [row for row in rows if "李四" in row]
    assert "11140400MB84708085" in valid


def header_words(header: str) -> tuple[str, ...]:
    """The words a header is made of: itself, or a numbered item's number and its name (the
    number may stand over the name: ``1.`` / ``目录编制``)."""
    numbered = re.fullmatch(r"(\d+\.)(.+)", header)
    return numbered.groups() if numbered else (header,)


def test_column_headers_break_only_between_words(store, pages, sections):
    """Every header of every table prints whole (排名, 上报条数, 及时率 — never 排/名, 上报条/数,
    及时/率): on each page with the table, the header row's first line holds only whole words,
    and each header is on it, or its number is and its name is on the next line."""
    from datetime import datetime

    from sgs.report.bulletin import collect, contents

    _, sheets = contents(collect(PERIOD, store, date.fromisoformat(AS_OF)), datetime.now())
    for sheet in sheets:
        headers = [c.header for c in sheet.columns]
        words = {w for h in headers for w in header_words(h)}
        seen = 0
        for i in sections[sheet.name]:
            lines = [line.split() for line in pages[i].splitlines()]
            at = [k for k, line in enumerate(lines) if line and line[0] == headers[0]]
            if not at:
                continue  # a page with the chart only
            first, second = lines[at[0]], lines[at[0] + 1]
            assert set(first) <= words, (sheet.name, i, set(first) - words)
            for h in headers:
                number, *name = header_words(h)
                assert h in first or (name and number in first and name[0] in second), (h, i)
            seen += 1
        assert seen, sheet.name


def word_boxes(pdf: Path, page: int) -> list[tuple[str, float, float, float, float]]:
    """Every word of a page with its box (text, x0, y0, x1, y1 in points), from pdftotext -bbox:
    the box is the font's height, ascent to descent, and the glyphs' advance."""
    html = poppler("pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-")
    found = re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>',
        html,
    )
    return [(t, float(a), float(b), float(c), float(d)) for a, b, c, d, t in found]


def test_trend_value_labels_never_overlap(pdf, pages, sections):
    """One month: the three rates stand at one x, two of them close, and each value label is
    set apart from every other (their boxes do not intersect)."""
    (at,) = [i for i in sections["趋势"] if "全市三率趋势" in pages[i].split()]
    boxes = word_boxes(pdf, at + 1)
    (title,) = [b for b in boxes if b[0] == "全市三率趋势"]
    table = [b for b in boxes if b[2] < title[2]]
    assert [b[0] for b in table if re.fullmatch(r"\d{4}-\d{2}", b[0])] == [PERIOD]  # one month
    rates = [b[0] for b in table if re.fullmatch(r"\d+\.\d%", b[0])]
    labels = [b for b in boxes if b[2] > title[2] and re.fullmatch(r"\d+\.\d%", b[0])]
    assert sorted(b[0] for b in labels) == sorted(rates) and len(labels) == 3
    # Close: two points nearer than a label is high (5% is 15 of the plot's 300 units; a label
    # is 12 high), where labels set by their points print over each other.
    values = sorted(float(r[:-1]) for r in rates)
    assert min(b - a for a, b in itertools.pairwise(values)) < 5
    for k, a in enumerate(labels):
        for b in labels[k + 1 :]:
            apart = a[3] <= b[1] or b[3] <= a[1] or a[4] <= b[2] or b[4] <= a[2]
            assert apart, (a, b)


def test_a_long_table_repeats_its_header_on_every_page(pages, sections):
    late = sections["迟报明细"]
    assert len(late) >= 2, "the late list should run over more than one page"
    header = ["单位", "类别", "上报文件", "行号", "决定文书号", "行政相对人名称", "上报期限"]
    for i in late:
        lines = [line.split() for line in pages[i].splitlines()]
        assert any(all(h in line for h in header) for line in lines), i
    continued = pages[late[1]]
    assert "迟报记录" not in continued  # no title: a continued page, the header repeated


def test_long_lists_are_capped_per_unit_with_the_rest_counted(pages, sections):
    late = "".join(pages[i] for i in sections["迟报明细"])
    rows = [line for line in late.splitlines() if line.lstrip().startswith("长治市生态环境局 ")]
    assert len(rows) == CAP
    assert f"长治市生态环境局：另有 {ENV_LATE - CAP} 条未列出" in late
    assert re.search(rf"本文件每个单位最多列出\s*{CAP}\s*条", late)
    for unit in ("长治市应急管理局", "长治市自然资源局"):
        assert sum(line.lstrip().startswith(unit + " ") for line in late.splitlines()) == 15


def test_the_rates_chart_is_drawn_under_the_summary(pdf, pages, sections):
    summary = sections["汇总"]
    (at,) = [i for i in summary if f"{PERIOD} 各单位三率" in pages[i]]
    chart = pages[at]
    assert all(word in chart for word in ("及时率", "合规率", "完整率", "100%"))
    # the units' names are slanted under their columns: text, extracted a character a line
    slanted = page_text(pdf, at + 1, "-raw")
    assert "长治市生态环境局" in re.sub(r"\s+", "", slanted)
    trend = "".join(pages[i] for i in sections["趋势"])
    assert "全市三率趋势" in trend


def test_without_pango_the_report_exits_2_in_chinese(store, tmp_path):
    """WeasyPrint as it fails on a machine without Pango: it prints an English hint on stdout
    and raises OSError from cffi.  A stand-in package first on the path does exactly that."""
    fake = tmp_path / "site" / "weasyprint"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text(
        'print("WeasyPrint could not import some external libraries.")\n'
        "raise OSError(\"cannot load library 'libpango-1.0-0': not found\")\n",
        encoding="utf-8",
    )
    out = tmp_path / "x.pdf"
    run = sgs_report(store, out, PYTHONPATH=str(tmp_path / "site"))
    assert run.returncode == 2
    assert "缺少" in run.stderr and "libpango-1.0-0" in run.stderr
    assert "Traceback" not in run.stderr and run.stdout == ""
    assert not out.exists()
