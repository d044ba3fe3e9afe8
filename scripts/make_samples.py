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
from datetime import date
from pathlib import Path

import polars as pl

from sgs.paths import PROJECT_ROOT
from sgs.samples import generate, write_upload


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
)
DEFECTS_FILE = Path("tests") / "fixtures" / "raw_samples_defects.csv"


def build(root: Path = PROJECT_ROOT) -> list[Path]:
    """Write every sample upload under ``root``; return the paths written."""
    written: list[Path] = []
    findings: list[pl.DataFrame] = []
    next_serial: dict[tuple[str, str], int] = {}
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
        findings.append(sample.defects.select(pl.lit(relative.as_posix()).alias("path"), pl.all()))
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
