"""Each file passes intake, validation and the store once, in that order (issue 22).

The run is watched as it happens (``sys.setprofile``, nothing replaced): every call of a stage's
entry point is attributed to the file it works on — intake's reading (``classify``), validation
of the round's uploads and of a ledger's rows, and the store's writes, quarantines and skips.
For every file the stages must come in the order intake → validation → store, each at most
once, and nothing may read or check a file once its write has begun.  The one exception is
written down in src/sgs/store/ingest.py and tested last: a file whose reading no longer holds
under the writer's lock, because another run stored the same bytes in between, goes through
the stages again in a round of its own.
"""

from __future__ import annotations

import shutil
import sys
from collections import defaultdict
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
from support import warm_sgs
from support.rates_builders import write_ledger

from sgs.config import PROJECT_ROOT
from sgs.intake import checked
from sgs.intake import classify as intake_classify
from sgs.reference.catalogue import load_catalogue
from sgs.samples.generator import generate
from sgs.samples.writers import write_upload
from sgs.store import batches, ingest, write
from sgs.store import ledger as store_ledger
from sgs.validate import kept, pipeline
from sgs.validate import ledger as validate_ledger

UNIT = "111404000448224608"  # 长治市行政审批服务管理局


class Watch:
    """The stage entries of a run, per file: ``stages`` ``{path name: [stage, ...]}``, and
    ``entries``, the same with the function each stage was entered by."""

    def __init__(self) -> None:
        self.stages: dict[str, list[str]] = defaultdict(list)
        self.entries: dict[str, list[str]] = defaultdict(list)
        self._ledger_of: dict[int, str] = {}  # id of a ledger's sheets -> its file
        self._codes = {
            intake_classify.classify.__code__: "intake",
            checked.kept_check.__code__: "intake",
            kept.as_validation.__code__: "validate",
            pipeline.validate_uploads.__code__: "validate",
            pipeline.validate_file.__code__: "validate",
            validate_ledger.check_ledger_sheets.__code__: "validate",
            validate_ledger.read_ledger.__code__: "validate",
            write.write_batch.__code__: "store",
            store_ledger.store_ledger.__code__: "store",
            batches.quarantine.__code__: "store",
            batches.quarantine_file.__code__: "store",
            batches.skipped.__code__: "store",
        }

    def __call__(self, frame, event, arg) -> None:
        try:
            self._see(frame, event, arg)
        except Exception as exc:  # a profiler that raises is switched off: say so instead
            self.stages["watch failed"].append(repr(exc))

    def _see(self, frame, event, arg) -> None:
        code = frame.f_code
        if code not in self._codes:
            return
        args = frame.f_locals
        if event == "return" and code is checked.kept_check.__code__:
            if arg is not None:  # found: the kept check is the file's reading
                self.stages[arg.upload.path.name].append("intake")
                self.entries[arg.upload.path.name].append("intake.kept_check")
            return
        if event == "return" and code is intake_classify.classify.__code__:
            if arg is not None and arg.ledger_sheets is not None:
                self._ledger_of[id(arg.ledger_sheets)] = args["arr"].path.name
            return
        if event != "call":
            return
        stage = self._codes[code]
        if code is pipeline.validate_uploads.__code__:
            names = [upload.path.name for upload, _ in args["uploads"]]
        elif code is validate_ledger.check_ledger_sheets.__code__:
            names = [self._ledger_of.get(id(args["sheets"]), "?")]
        elif code is kept.as_validation.__code__:
            names = [args["check"].upload.path.name]
        elif "arr" in args:
            names = [args["arr"].path.name]
        else:
            names = [Path(args["path"]).name]
        if code is checked.kept_check.__code__:
            return  # asked for every file; counted on return, when one is found
        for name in names:
            trail = self.stages[name]
            if not (trail and trail[-1] == stage == "store"):  # a write's own steps: one entry
                trail.append(stage)
                self.entries[name].append(f"{stage}.{code.co_name}")


def _watched(run, entries: bool = False):
    watch = Watch()
    sys.setprofile(watch)
    try:
        results = run()
    finally:
        sys.setprofile(None)
    return (watch.entries if entries else watch.stages), results


def _landing(root: Path) -> list[Path]:
    raw = root / "raw" / UNIT
    day = raw / "2026-11-03"
    first = write_upload(generate("permit", 20, seed=1, unit=UNIT, defect_rate=0.3).frame,
                         day / "许可_1.csv")  # fmt: skip
    files = [
        first,
        write_upload(generate("permit", 7, seed=2, unit=UNIT).frame, day / "许可_2.xlsx"),
        write_upload(
            generate("penalty", 9, seed=3, unit=UNIT, defect_rate=0.5).frame, day / "处罚_1.csv"
        ),
        write_ledger(
            day / "台账_2026-10.csv",
            [["1", "行政许可", "长审批〔2026〕1号", "某公司", "", "2026-10-09"]],
        ),
        _ambiguous(day / "不明_1.csv"),
    ]
    later = raw / "2026-11-05" / "许可_1_again.csv"  # the same bytes again, two days later
    later.parent.mkdir(parents=True)
    shutil.copy(first, later)
    return [*files, later]


def _ambiguous(path: Path) -> Path:
    """A whole permit file plus as many penalty-only columns (empty) as it has permit-only
    ones: its header scores the same for both kinds, so only a declared kind reads it."""
    cat = load_catalogue()
    permit = [f.name for f in cat.kind("permit").fields]
    penalty_only = [f.name for f in cat.kind("penalty").fields if f.name not in permit]
    permit_only = [n for n in permit if n not in {f.name for f in cat.kind("penalty").fields}]
    frame = generate("permit", 5, seed=4, unit=UNIT).frame
    blank = [pl.lit("").alias(n) for n in penalty_only[: len(permit_only)]]
    path = write_upload(frame, path)
    wide = pl.read_csv(path, infer_schema=False).with_columns(blank)
    wide.write_csv(path)
    return path


def test_each_file_passes_intake_validation_and_the_store_once(tmp_path):
    files = _landing(tmp_path)
    stages, results = _watched(lambda: dict(ingest.ingest_files(files, root=tmp_path)))
    statuses = {p.name: r.status for p, r in results.items()}
    assert statuses == {
        "许可_1.csv": "stored", "许可_2.xlsx": "stored", "处罚_1.csv": "stored",
        "台账_2026-10.csv": "stored", "不明_1.csv": "quarantined",
        "许可_1_again.csv": "skipped",
    }  # fmt: skip
    assert dict(stages) == {
        "许可_1.csv": ["intake", "validate", "store"],
        "许可_2.xlsx": ["intake", "validate", "store"],
        "处罚_1.csv": ["intake", "validate", "store"],
        "台账_2026-10.csv": ["intake", "validate", "store"],
        "不明_1.csv": ["intake", "store"],  # refused by intake, quarantined by the store
        # Not stored yet when the round read it; under the lock, the same bytes: skipped.
        "许可_1_again.csv": ["intake", "validate", "store"],
    }
    # A run over the same files again: every file's bytes are stored, none is read.
    stages, results = _watched(lambda: dict(ingest.ingest_files(files, root=tmp_path)))
    assert {p.name: r.status for p, r in results.items()} == dict.fromkeys(statuses, "skipped") | {
        "不明_1.csv": "quarantined"
    }
    assert dict(stages) == {name: ["store"] for name in statuses} | {
        "台账_2026-10.csv": ["intake", "validate", "store"],  # a ledger is compared as read
        "不明_1.csv": ["intake", "store"],
    }


def test_a_copy_received_earlier_is_read_once_as_the_stored_kind(tmp_path):
    """The same bytes arriving with an earlier received date are read and checked once, as
    the kind they were stored as, and then written in place of the stored copy."""
    files = _landing(tmp_path)
    dict(ingest.ingest_files(files[:1], root=tmp_path))
    earlier = tmp_path / "raw" / UNIT / "2026-11-02" / "许可_1.csv"
    earlier.parent.mkdir(parents=True)
    shutil.copy(files[0], earlier)
    stages, results = _watched(lambda: dict(ingest.ingest_files([earlier], root=tmp_path)))
    assert "接收日期改为本次的 2026-11-02" in results[earlier].message
    assert dict(stages) == {"许可_1.csv": ["intake", "validate", "store"]}


def test_a_file_checked_at_its_hand_in_is_not_read_or_checked_again(tmp_path):
    """The hand-in's check, kept with the arrival, is the file's reading and verdict: the file
    itself is not read (``classify`` is not called for it) and nothing is checked again."""
    from sgs.intake.landing import sha256_of
    from sgs.web.checkjobs import landed_check

    files = _landing(tmp_path)
    handed = files[0]
    relative = handed.relative_to(tmp_path)
    landed_check(str(tmp_path), str(relative), handed.name, "2026-11-03", UNIT,
                 sha256_of(handed), str(relative.parent))  # fmt: skip
    entries, results = _watched(
        lambda: dict(ingest.ingest_files([handed], root=tmp_path)), entries=True
    )
    assert results[handed].status == "stored"
    assert dict(entries) == {
        "许可_1.csv": ["intake.kept_check", "validate.as_validation", "store.write_batch"]
    }


def test_a_file_stored_by_another_run_meanwhile_goes_round_again(tmp_path, monkeypatch):
    """Between this run's reading and its writing another run stores the same bytes — declared
    a permit, received later.  This run could not tell the kind, so its reading no longer holds:
    the file goes through the three stages again in a round of its own, now read as the stored
    kind, and, received earlier, dates the stored batch."""
    path = _ambiguous(tmp_path / "raw" / UNIT / "2026-11-03" / "不明_1.csv")
    other = tmp_path / "elsewhere" / "不明_1.csv"
    other.parent.mkdir()
    shutil.copy(path, other)
    real = ingest._validate

    def then_another_run_stores_it(plans):
        real(plans)
        if any(p.path == path for p in plans) and not (tmp_path / "curated").exists():
            done = warm_sgs.run(
                ["ingest", str(other), "--unit", UNIT, "--received", "2026-11-09",
                 "--kind", "permit"],
                env={"SGS_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
            )  # fmt: skip
            assert done.returncode == 0, done.stdout + done.stderr

    monkeypatch.setattr(ingest, "_validate", then_another_run_stores_it)
    stages, results = _watched(lambda: dict(ingest.ingest_files([path], root=tmp_path)))
    result = results[path]
    assert result.status == "skipped" and "接收日期改为本次的 2026-11-03" in result.message
    # Read without a kind (refused: nothing to validate), then again as the stored permit.
    assert dict(stages) == {"不明_1.csv": ["intake", "intake", "validate", "store"]}
    with duckdb.connect(str(tmp_path / "curated" / "sgs.duckdb"), read_only=True) as con:
        stored = pl.from_arrow(
            con.sql("SELECT kind, received_date, rows_stored FROM batches").to_arrow_table()
        )
    assert stored.rows() == [("permit", date(2026, 11, 3), 5)]


def test_the_store_never_reads_or_checks_a_file():
    """Statically: the store's writing modules import no reader and no check — only the
    conductor hands files from stage to stage."""
    forbidden = (
        "classify", "read_file", "read_upload", "read_tables", "read_ledger_sheets",
        "validate_file", "validate_upload", "validate_uploads", "read_ledger",
        "check_ledger_sheets", "check_ledger",
    )  # fmt: skip
    store = PROJECT_ROOT / "src" / "sgs" / "store"
    for module in sorted(store.glob("*.py")):
        if module.name == "ingest.py":
            continue
        text = module.read_text(encoding="utf-8")
        used = [name for name in forbidden if f"{name}(" in text or f" {name}," in text]
        assert used == [], module.name
