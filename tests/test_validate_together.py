"""Files checked and stored together give what each gives alone.

``sgs ingest`` of many files validates a round's uploads as one frame per kind and writes them
under one lock (src/sgs/store/ingest.py).  The oracle is the single-file path: every upload
validated together must carry exactly the errors and the checked frame it has when validated
by itself, and a store filled by one run over many files must equal the store filled file by
file, batch ids, record keys and verdicts included.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
from support.rates_builders import LEDGER_HEADER, store_content
from support.upload_files import csv_bytes, records, table, write_xlsx

from sgs.intake.readers import read_upload
from sgs.samples.generator import generate
from sgs.samples.writers import write_upload
from sgs.store import database, ingest
from sgs.validate.pipeline import validate_upload, validate_uploads

U1 = "111404000448224608"  # 长治市行政审批服务管理局
U2 = "11140400041270234C"  # 长治市市场监督管理局


def _uploads(folder: Path) -> list[tuple[object, date]]:
    """Permits and penalties of many sizes, formats, defects and received dates."""
    cases = [
        # kind, rows, format, defect rate, received, columns dropped, headers
        ("permit", 40, "csv", 0.5, date(2026, 11, 3), (), "chinese"),
        ("penalty", 25, "csv", 0.6, date(2026, 11, 5), (), "chinese"),
        ("permit", 1, "csv", 1.0, date(2026, 10, 30), (), "code"),
        ("permit", 0, "csv", 0.0, date(2026, 11, 3), (), "chinese"),
        ("penalty", 60, "xlsx", 0.4, date(2026, 11, 20), ("CF_FR_ZJLX",), "chinese"),
        ("permit", 30, "xlsx", 0.3, date(2026, 11, 4), ("XK_XKJG_DM", "XK_BZ"), "code"),
        # Received before the decisions it holds: "decided after received" for each row.
        ("permit", 12, "csv", 0.0, date(2026, 1, 2), (), "chinese"),
        ("penalty", 8, "csv", 0.9, date(2026, 10, 31), (), "code"),
    ]
    out = []
    for i, (kind, n, fmt, rate, received, dropped, headers) in enumerate(cases):
        sample = generate(kind, n, seed=100 + i, defect_rate=rate, received=date(2026, 10, 31))
        frame = sample.frame.drop([c for c in dropped if c in sample.frame.columns])
        path = write_upload(frame, folder / f"f{i}.{fmt}", headers=headers)
        out.append((read_upload(path), received))
    # The first file's records again, three of them twice: duplicates within this file only.
    first = generate("permit", 40, seed=100, defect_rate=0.5, received=date(2026, 10, 31)).frame
    again = write_upload(pl.concat([first, first.head(3)]), folder / "again.csv")
    out.append((read_upload(again), date(2026, 11, 3)))
    # A workbook of two sheets: rows carry their sheet, and row 2 exists twice.
    rows = records("permit", 9)
    rows[3]["XK_XDR_SHXYM"] = "91140400MA0000000X"  # a credit code whose check character is wrong
    book = write_xlsx(folder / "book.xlsx", table("permit", rows[4:]), sheet="二月",
                      before=[("一月", table("permit", rows[:4]))])  # fmt: skip
    out.append((read_upload(book), date(2026, 3, 25)))
    return out


def test_uploads_validated_together_get_what_each_gets_alone(tmp_path):
    uploads = _uploads(tmp_path)
    together = validate_uploads(uploads)
    assert len(together) == len(uploads)
    rules = set()
    for (upload, received), v in zip(uploads, together, strict=True):
        alone = validate_upload(upload, received)
        assert v.upload is upload and v.received == received
        assert v.errors.equals(alone.errors), upload.path.name
        assert v.frame.equals(alone.frame), upload.path.name
        rules |= set(v.errors["rule"].to_list())
    # The mix means something: many rules fire, and in every kind of file.
    assert len(rules) >= 12
    assert all(v.errors.height for v in together if v.rows and "f3" not in v.upload.path.name)
    assert together[-1].errors["sheet"].drop_nulls().unique().to_list() == ["一月"]
    duplicates = [v.errors.filter(pl.col("rule") == "duplicate").height for v in together]
    assert duplicates[0] == 0 and duplicates[-2] == 3  # the first file's rows are not repeats


# ----------------------------------------------------------------------------- the store


def _landing(raw: Path) -> list[Path]:
    """A day's arrivals: new decisions, corrections of them in later files, the same bytes
    twice (the copy received earlier comes second), a refused file, a ledger, an unknown unit."""

    def put(unit: str, day: str, name: str, data: bytes) -> Path:
        path = raw / unit / day / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    permits, penalties = records("permit", 30), records("penalty", 20)
    corrected = [dict(r) for r in permits[:5]]
    corrected[0]["XK_XDR_MC"] = corrected[0]["XK_XDR_MC"] + "（更正）"
    corrected[1]["XK_JDRQ"] = "2026-13-01"
    same = csv_bytes(table("permit", permits[20:25]))
    ledger = [["1", "行政许可", r["XK_WSH"], r["XK_XDR_MC"], r["XK_XDR_SHXYM"], "2026-03-10"]
              for r in permits[:3]]  # fmt: skip
    return [
        put(U1, "2026-03-20", "许可_1.csv", csv_bytes(table("permit", permits[:10]))),
        put(U1, "2026-03-20", "处罚_1.csv", csv_bytes(table("penalty", penalties[:12]))),
        put(U1, "2026-03-23", "许可_更正.csv", csv_bytes(table("permit", corrected))),
        put(U1, "2026-03-24", "许可_副本.csv", same),
        put(U1, "2026-03-21", "许可_副本.csv", same),
        put(U2, "2026-03-21", "许可_副本.csv", same),
        put(U1, "2026-03-21", "坏.csv", bytes(range(256)) * 4),
        put(U1, "2026-03-22", "台账_2026-03.csv", csv_bytes([LEDGER_HEADER, *ledger])),
        put(U1, "2026-03-22", "许可_2.csv", csv_bytes(table("permit", permits[10:20]))),
        put("12140400MB1234567X", "2026-03-22", "许可.csv", csv_bytes(table("permit", permits[:2]))),
        put(U2, "2026-03-25", "处罚_2.csv", csv_bytes(table("penalty", penalties[12:]))),
        put(U1, "2026-03-19", "许可_早.csv", csv_bytes(table("permit", permits[25:30] + permits[8:10]))),
    ]  # fmt: skip


def _shown(result) -> tuple:
    return (result.status, result.batch_id, result.reason, result.message, result.rows_stored)


@pytest.mark.parametrize("round_files", [1, 4, 200])
def test_one_run_over_many_files_stores_what_file_after_file_stores(
    tmp_path, monkeypatch, round_files
):
    one_by_one, together = tmp_path / "a", tmp_path / "b"
    files_a, files_b = _landing(one_by_one / "raw"), _landing(together / "raw")
    alone = [ingest.ingest_file(p, root=one_by_one) for p in files_a]
    monkeypatch.setattr(ingest, "ROUND_FILES", round_files)
    run = list(ingest.ingest_files(files_b, root=together))
    assert [p for p, _ in run] == files_b
    assert [_shown(r) for _, r in run] == [_shown(r) for r in alone]
    statuses = {r.status for r in alone}
    assert statuses == {"stored", "skipped", "quarantined"}, statuses
    assert any("接收日期改为本次的" in r.message for r in alone)  # the earlier copy re-dated it
    assert store_content(together) == store_content(one_by_one)
    with duckdb.connect(str(database.db_path(together)), read_only=True) as con:
        ledgers = con.execute("SELECT count(*) FROM batches WHERE kind = 'ledger'").fetchone()
    assert ledgers == (1,)


def test_a_file_that_breaks_the_validator_is_refused_alone(tmp_path, monkeypatch):
    """Validated together, an unexpected failure checks each file alone: the others are stored."""
    from sgs.validate import pipeline

    files = _landing(tmp_path / "raw")[:3]
    real = pipeline.validate_upload

    def fragile(upload, received=None):
        if upload.path.name == "处罚_1.csv":
            raise ValueError("a bug in a rule")
        return real(upload, received)

    monkeypatch.setattr(pipeline, "validate_upload", fragile)
    monkeypatch.setattr(pipeline, "_validate_stacked", lambda kind, uploads: 1 / 0)
    results = [r for _, r in ingest.ingest_files(files, root=tmp_path)]
    assert [r.status for r in results] == ["stored", "quarantined", "stored"]
    assert results[1].reason == "internal" and "意外错误" in results[1].message
    assert "a bug" not in results[1].message
    assert pl.DataFrame([r.as_dict() for r in results])["rows_stored"].to_list() == [10, 0, 5]


def test_a_round_holds_at_most_its_bytes_of_files(tmp_path, monkeypatch):
    """What is read before anything is written is bounded: a round closes once its files reach
    ROUND_BYTES, and a bigger file is a round of its own."""
    files = _landing(tmp_path / "raw")
    rounds: list[list[str]] = []
    real = ingest._round

    def counted(plans, root):
        rounds.append([p.path.name for p in plans])
        return real(plans, root)

    monkeypatch.setattr(ingest, "_round", counted)
    monkeypatch.setattr(ingest, "ROUND_BYTES", sum(f.stat().st_size for f in files[:3]))
    results = [r for _, r in ingest.ingest_files(files, root=tmp_path)]
    assert len(results) == len(files)
    assert [len(r) for r in rounds][:1] == [3]
    assert sum(len(r) for r in rounds) == len(files) and len(rounds) >= 3
