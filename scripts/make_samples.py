"""Regenerate the sample uploads committed under data/raw (and their expected findings).

    .venv/bin/python scripts/make_samples.py [--root DIR]

The files imitate a few weeks of uploads by four Changzhi units in October–November 2026,
laid out as the landing zone expects: ``data/raw/<unit USCC>/<received YYYY-MM-DD>/<file>``.
Everything is seeded, so running the script again rewrites identical bytes (a test checks
that the committed files are exactly what it produces).  The findings the validator must
report for them go to ``tests/fixtures/raw_samples_defects.csv``, outside the landing zone,
where they would otherwise be taken for an upload.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import polars as pl

from sgs.config import PROJECT_ROOT
from sgs.samples.generator import generate
from sgs.samples.writers import write_upload


@dataclass(frozen=True)
class Upload:
    unit: str  # USCC, as in config/units.csv
    kind: str
    rows: int
    start: date  # decision dates
    end: date
    received: date  # the landing folder's date
    file: str
    encoding: str = "utf-8"
    headers: str = "chinese"
    title: str | None = None
    defect_rate: float = 0.0


APPROVAL = "111404000448224608"  # 长治市行政审批服务管理局
MARKET = "11140400041270234C"  # 长治市市场监督管理局
LUZHOU = "11140403MB6028813E"  # 长治市潞州区人民政府
HIGH_TECH = "111404000230924385"  # 长治高新技术产业开发区管理委员会
LUZHOU_MARKET = "11140403MB1A20213D"  # 长治市潞州区市场监督管理局, a department of 潞州区

UPLOADS = (
    Upload(
        APPROVAL,
        "permit",
        30,
        date(2026, 9, 1),
        date(2026, 9, 30),
        date(2026, 10, 9),
        "行政许可_2026年9月.csv",
        encoding="utf-8-sig",
    ),
    Upload(
        APPROVAL,
        "permit",
        40,
        date(2026, 10, 1),
        date(2026, 10, 31),
        date(2026, 11, 5),
        "行政许可_2026年10月.xlsx",
        title="长治市行政审批服务管理局2026年10月行政许可信息",
        defect_rate=0.2,
    ),
    Upload(
        MARKET,
        "penalty",
        25,
        date(2026, 9, 1),
        date(2026, 10, 14),
        date(2026, 10, 15),
        "行政处罚_2026年9月至10月.csv",
        encoding="gbk",
        defect_rate=0.16,
    ),
    Upload(
        MARKET,
        "penalty",
        20,
        date(2026, 10, 15),
        date(2026, 10, 31),
        date(2026, 11, 6),
        "行政处罚_2026年10月下半月.xlsx",
    ),
    Upload(
        LUZHOU,
        "permit",
        15,
        date(2026, 10, 1),
        date(2026, 10, 19),
        date(2026, 10, 20),
        "luzhou_xzxk_20261020.csv",
        headers="code",
    ),
    Upload(
        LUZHOU,
        "penalty",
        12,
        date(2026, 10, 1),
        date(2026, 11, 3),
        date(2026, 11, 4),
        "潞州区行政处罚信息.csv",
        encoding="gbk",
        title="潞州区2026年10月行政处罚信息",
        defect_rate=0.25,
    ),
    Upload(
        HIGH_TECH,
        "permit",
        10,
        date(2026, 10, 8),
        date(2026, 11, 9),
        date(2026, 11, 10),
        "高新区行政许可.xls",
    ),
    # A county's department uploads under its own code; its decisions count in 潞州区's row and
    # are listed in 潞州区's ledger (the county gathers its departments' ledgers).
    Upload(
        LUZHOU_MARKET,
        "penalty",
        8,
        date(2026, 10, 8),
        date(2026, 10, 30),
        date(2026, 11, 2),
        "潞州区市场监管局行政处罚_2026年10月.csv",
        defect_rate=0.25,
    ),
)
#: Units whose ledger lists their departments' decisions too.
LEDGER_COVERS = {LUZHOU: (LUZHOU_MARKET,)}
DEFECTS_FILE = Path("tests") / "fixtures" / "raw_samples_defects.csv"

# October ledgers (台账) of three units, received on the 3rd workday of November: every
# October decision of their uploads, plus decisions that never reached the platform.
LEDGERS = (
    (
        APPROVAL,
        date(2026, 11, 4),
        "台账_2026-10.xlsx",
        "长治市行政审批服务管理局2026年10月双公示台账",
    ),
    (MARKET, date(2026, 11, 4), "2026年10月双公示台账.csv", None),
    (LUZHOU, date(2026, 11, 3), "台账_2026-10.csv", None),
)
NOT_UPLOADED = (
    (
        "行政许可",
        "长审批食〔2026〕9999号",
        "长治市未上报食品有限公司",
        "91140400MA0X00001A",
        "2026/10/29",
    ),
    ("行政处罚", "长市监罚〔2026〕9999号", "长治市未上报商贸有限公司", "", "2026/10/30"),
)


def _ledger(frames: list[tuple[str, pl.DataFrame]]) -> pl.DataFrame:
    """The ledger rows of a unit: its October decisions, as the unit's own register lists them."""
    parts = []
    for kind, frame in frames:
        p = "XK" if kind == "permit" else "CF"
        parts.append(
            frame.filter(pl.col(f"{p}_JDRQ").str.contains(r"^2026\D?10\D?|^202610")).select(
                pl.lit("行政许可" if kind == "permit" else "行政处罚").alias("类别"),
                pl.col(f"{p}_WSH").alias("决定文书号"),
                pl.col(f"{p}_XDR_MC").alias("行政相对人名称"),
                pl.coalesce(f"{p}_XDR_SHXYM", f"{p}_XDR_ZJHM").alias("行政相对人代码"),
                pl.col(f"{p}_JDRQ").alias("决定日期"),
            )
        )
    return pl.concat(parts).unique(maintain_order=True)


def write_table(frame: pl.DataFrame, path: Path, title: str | None = None) -> Path:
    """A plain table as a unit's clerk would save it: CSV (UTF-8 with BOM) or XLSX, text cells."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".csv":
        path.write_bytes(b"\xef\xbb\xbf" + frame.write_csv().encode())
        return path
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    book.set_properties({"created": datetime(2026, 1, 1), "author": "sgs"})  # reproducible bytes
    sheet = book.add_worksheet("台账")
    top = 0
    if title:
        sheet.write_string(0, 0, title)
        top = 1
    for j, name in enumerate(frame.columns):
        sheet.write_string(top, j, name)
    for i, row in enumerate(frame.iter_rows(), start=top + 1):
        for j, value in enumerate(row):
            if value is not None:
                sheet.write_string(i, j, str(value))
    book.close()
    return path


def build(root: Path = PROJECT_ROOT) -> list[Path]:
    """Write every sample upload under ``root``; return the paths written."""
    written: list[Path] = []
    findings: list[pl.DataFrame] = []
    next_serial: dict[tuple[str, str], int] = {}
    decisions: dict[str, list[tuple[str, pl.DataFrame]]] = {}
    for seed, up in enumerate(UPLOADS, start=2026):
        first = next_serial.get((up.unit, up.kind), 1)
        sample = generate(
            up.kind,
            up.rows,
            seed=seed,
            defect_rate=up.defect_rate,
            unit=up.unit,
            start=up.start,
            end=up.end,
            received=up.received,
            serial_start=first,
        )
        next_serial[(up.unit, up.kind)] = first + up.rows
        relative = Path("data") / "raw" / up.unit / up.received.isoformat() / up.file
        path = write_upload(
            sample.frame,
            root / relative,
            headers=up.headers,
            encoding=up.encoding,
            title=up.title,
        )
        written.append(path)
        decisions.setdefault(up.unit, []).append((up.kind, sample.frame))
        findings.append(sample.defects.select(pl.lit(relative.as_posix()).alias("path"), pl.all()))
    for unit, received, name, title in LEDGERS:
        covered = [d for member in LEDGER_COVERS.get(unit, ()) for d in decisions[member]]
        ledger = _ledger([*decisions[unit], *covered])
        kinds = {"行政许可" if k == "permit" else "行政处罚" for k, _ in decisions[unit]}
        missing = [row for row in NOT_UPLOADED if row[0] in kinds]
        extra = pl.DataFrame(missing, schema=ledger.columns, orient="row")
        ledger = pl.concat([ledger, extra]).with_row_index("序号", offset=1)
        ledger = ledger.with_columns(pl.col("序号").cast(pl.String))
        relative = Path("data") / "raw" / unit / received.isoformat() / name
        written.append(write_table(ledger, root / relative, title=title))
    defects = pl.concat(findings)
    (root / DEFECTS_FILE).parent.mkdir(parents=True, exist_ok=True)
    defects.write_csv(root / DEFECTS_FILE)
    return [*written, root / DEFECTS_FILE]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT, help="project root to write to")
    args = parser.parse_args()
    for path in build(args.root):
        print(path.relative_to(args.root))


if __name__ == "__main__":
    main()
