"""Builders for the rates and ledger tests: exact upload rows, landed files, ledger files.

Every upload row is a copy of one fully valid generated record of the unit (a 法人 subject), with
the fields a scenario is about overwritten: 文书号, decision date, subject, and — to make a row
fail compliance on purpose — 许可机关 / 处罚机关 blanked (a ``required`` error).  So the figures of
a scenario depend only on what the test writes, and can be worked out by hand.
"""

from __future__ import annotations

import csv
import fcntl
import hashlib
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from sgs.samples.generator import generate
from sgs.samples.writers import write_upload
from sgs.store import database
from sgs.validate.identifiers import org_check_char, uscc_check_char

UNIT_A = "111404000448224608"  # 长治市行政审批服务管理局
UNIT_B = "11140400041270234C"  # 长治市市场监督管理局
UNIT_C = "111404000720078935"  # 长治市生态环境局 (never uploads anything)
UNIT_D = "11140400MB84708085"  # 长治市交通运输局 (sends zero-increment reports)
NAME_A = "长治市行政审批服务管理局"

LEDGER_HEADER = ["序号", "类别", "决定文书号", "行政相对人名称", "行政相对人代码", "决定日期"]
PERMIT, PENALTY = "行政许可", "行政处罚"


def company(i: int) -> tuple[str, str]:
    """A subject (name, USCC) whose USCC and embedded organisation code are both valid."""
    body = f"MA{i:06d}"
    first17 = "91" + "140400" + body + org_check_char(body)
    return f"长治市测试第{i}商贸有限公司", first17 + uscc_check_char(first17)


@dataclass(frozen=True)
class Row:
    """One upload row: 文书号, decision date as written, subject, and whether to break it.

    ``name`` / ``code`` replace the subject's name / credit code as written (corrections).
    """

    wsh: str
    decided: str | None
    subject: int = 1
    broken: bool = False
    name: str | None = None
    code: str | None = None


_TEMPLATES: dict[tuple[str, str], dict] = {}


def _template(kind: str, unit: str) -> dict:
    key = (kind, unit)
    if key not in _TEMPLATES:
        sample = generate(
            kind, 40, seed=5, unit=unit, start=date(2022, 1, 3), end=date(2022, 1, 20)
        )
        p = "XK" if kind == "permit" else "CF"
        legal = sample.frame.filter(pl.col(f"{p}_XDR_LB") == "法人及非法人组织")
        _TEMPLATES[key] = legal.row(0, named=True)
    return _TEMPLATES[key]


def upload_frame(kind: str, unit: str, rows: list[Row]) -> pl.DataFrame:
    """The upload rows of ``rows``, every column text, named by field code."""
    p = "XK" if kind == "permit" else "CF"
    base = _template(kind, unit)
    out = []
    for r in rows:
        rec = dict(base)
        name, code = company(r.subject)
        rec |= {f"{p}_WSH": r.wsh, f"{p}_JDRQ": r.decided, f"{p}_XDR_MC": r.name or name}
        rec[f"{p}_XDR_SHXYM"] = r.code or code
        if kind == "permit":
            # 有效期 is not compared with the decision date; keep it plausible and ordered.
            rec |= {"XK_YXQZ": "2022/01/03", "XK_YXQZI": "2099/12/31"}
        else:
            # 处罚有效期 and 公示截止期 must not be before the decision date.
            rec |= {"CF_YXQ": "2099/12/31", "CF_GSJZQ": "2099/12/31"}
        if r.broken:
            rec[f"{p}_XKJG" if kind == "permit" else f"{p}_CFJG"] = None
        out.append(rec)
    return pl.DataFrame(out, schema={c: pl.String for c in base})


def land(root: Path, unit: str, day: str, name: str, kind: str, rows: list[Row]) -> Path:
    """Write the rows as an upload in the landing zone ``raw/<unit>/<day>/<name>``."""
    return write_upload(upload_frame(kind, unit, rows), root / "raw" / unit / day / name)


def write_ledger(
    path: Path,
    rows: list[list[str | None]],
    header: list[str] | None = None,
    title_rows: list[list[str]] | None = None,
) -> Path:
    """A ledger CSV (UTF-8): optional title rows, then the header, then the rows as given."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        for t in title_rows or []:
            w.writerow(t)
        w.writerow(header or LEDGER_HEADER)
        for r in rows:
            w.writerow(["" if c is None else c for c in r])
    return path


def write_ledger_xlsx(
    path: Path,
    rows: list[list[object]],
    header: list[str] | None = None,
    title_rows: list[list[str]] | None = None,
) -> Path:
    """A ledger XLSX; cells keep their Python type (a ``date`` becomes a date cell)."""
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("台账")
    dates = book.add_format({"num_format": "yyyy-mm-dd"})
    r = 0
    for t in title_rows or []:
        sheet.write_row(r, 0, t)
        r += 1
    sheet.write_row(r, 0, header or LEDGER_HEADER)
    for row in rows:
        r += 1
        for c, value in enumerate(row):
            if isinstance(value, date):
                sheet.write_datetime(r, c, value, dates)
            elif value is not None:
                sheet.write(r, c, value)
    book.close()
    return path


def db_fingerprint(root: Path) -> tuple[str, dict[str, list]]:
    """The database file's bytes hash and every table's ordered content."""
    path = database.db_path(root)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with duckdb.connect(str(path), read_only=True) as con:
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        content = {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables}
    return digest, content


def shared_build(tmp_path_factory, name: str, build: Callable[[Path], None]) -> Path:
    """A directory built once per test session, also under pytest-xdist: the first worker
    builds it under a file lock, the others wait and reuse it (the tests only read it)."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # shared by all workers of this session
    folder, done = base / name, base / f"{name}.done"
    with (base / f"{name}.lock").open("a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not done.exists():
                shutil.rmtree(folder, ignore_errors=True)  # a half-built one from a failed try
                folder.mkdir()
                build(folder)
                done.touch()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return folder


def store_content(root: Path) -> dict[str, list]:
    """Every table, ordered, without the moments of ingest (they differ between two runs)."""
    out = {}
    with duckdb.connect(str(database.db_path(root)), read_only=True) as con:
        for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall():
            cols = [c for (c,) in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = ?", [name]
            ).fetchall() if c not in ("ingested_at", "quarantined_at")]  # fmt: skip
            listed = ", ".join(f'"{c}"' for c in cols)
            rows = con.execute(f"SELECT {listed} FROM {name} ORDER BY ALL").fetchall()
            out[name] = [tuple(_relative(v, root) for v in row) for row in rows]
    return out


def _relative(value: object, root: Path) -> object:
    return value.replace(str(root), "<root>") if isinstance(value, str) else value
