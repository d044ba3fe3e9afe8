"""The conductor of ingest: each file through intake, validation and the store, once.

Files go in rounds (:func:`ingest_files`): intake finds each file's arrival and reads and
classifies it (:mod:`sgs.intake`), validation checks the round's uploads together and each
ledger (:mod:`sgs.validate`), and the store writes each file in one transaction
(:mod:`sgs.store.write`, :mod:`sgs.store.ledger`, :mod:`sgs.store.batches`) without reading
or checking anything again.  A file whose reading no longer holds when it is written (another
run stored the same bytes in between) goes through the three stages again in a round of its
own.  ``sgs ledger`` comes through here too (:func:`ingest_ledger`).

Every row of a file is stored (valid or not, with its errors) or the whole file is quarantined
with a reason: nothing is dropped.  A file already ingested (same content, unit and kind) is
skipped, so a re-run gives the same database.  Validation runs before the writer lock is
taken, so parallel ingests validate side by side and only queue for the short write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from functools import partial
from pathlib import Path

import polars as pl

from sgs.clock import office_today
from sgs.errors import FileRefused, SgsError, StoreBusy, refusing_the_unexpected
from sgs.intake.checked import KeptCheck, check_key, kept_check
from sgs.intake.classify import Classified, classify
from sgs.intake.landing import Arrival, ArrivalProblem, arrival, in_landing_zone, sha256_of
from sgs.periods import period_bounds
from sgs.reference.catalogue import Kind
from sgs.store import database
from sgs.store.batches import IngestResult, quarantine, quarantine_file, skipped
from sgs.store.ledger import store_ledger, store_zero_report
from sgs.store.sql import one, register
from sgs.store.write import write_batch
from sgs.validate.kept import as_validation
from sgs.validate.ledger import LedgerRead, check_ledger_sheets, read_ledger
from sgs.validate.pipeline import Validation, preload, validate_uploads


def _seen_before(
    sha: str, unit_code: str, kind: str | None, root: Path | None
) -> tuple[int, str, date, str] | None:
    """A cheap look before validating: was this very file stored for this unit already?
    (Its batch, kind, received date and file name.)"""
    if not database.store_exists(root):
        return None
    with database.reader(root) as con:
        row = one(
            con,
            "SELECT batch_id, kind, received_date, file_name FROM batches"
            " WHERE sha256 = ? AND unit_code = ?"
            " AND (? IS NULL OR kind = ?) AND kind <> 'ledger' ORDER BY batch_id LIMIT 1",
            [sha, unit_code, kind, kind],
        )
    return (row[0], row[1], row[2], row[3]) if row else None


class _Again(Exception):
    """What the round read of a file no longer holds under the writer's lock (another run
    stored the same bytes meanwhile): the file goes through the stages again, in a round of
    its own after this one, instead of being read or checked from the store's side."""


#: How often a file may be sent round again before its run gives up (each time, another run
#: stored the same bytes between this run's reading and writing).
AGAIN_ROUNDS = 3


def _received_earlier(
    arr: Arrival, sha: str, unit_code: str, batch_id: int, kind: str, root: Path | None,
    p: _Plan,
) -> IngestResult | None:  # fmt: skip
    """A stored file arriving again with an earlier received date (or, the same day, under a
    name that sorts first) was received then: its batch is stored again as this copy — validated
    against the earlier date, since rules such as "decided no later than received" depend on it
    — and keeps its batch id; the later batches sharing its 文书号 are keyed again by replay
    (docs/policy.md sections 4 and 5).  So the order in which copies of a file are ingested never
    changes the store.  None when the file cannot be validated as that kind any more."""
    if p.checked_as != kind:
        raise _Again  # the round did not check it as the stored kind
    if p.validation is None:
        return None  # refused as that kind: the stored copy stays
    with database.writer(root) as con:
        return write_batch(con, p.validation, arr, unit_code, sha, replace=batch_id)


def _ingest_landed_ledger(
    arr: Arrival, sha: str, unit_code: str, root: Path | None, checked: LedgerRead | None,
    refused: FileRefused | None,
) -> IngestResult:  # fmt: skip
    """A landed ledger: its month first (without one nothing else is said), then its sheets'
    refusal or its rows as checked in the round."""
    if arr.period is None:
        message = "无法确定台账所属月份：请在文件名中写明（如 台账_2026-10.xlsx）或在 manifest.json 中给出 period"
        return quarantine(arr, sha, "ledger_period", message, unit_code, arr.kind, root)
    if refused is not None:
        return quarantine(arr, sha, refused.code, refused.message, unit_code, arr.kind, root)
    assert checked is not None
    return store_ledger(arr, sha, unit_code, arr.period, checked, root)


def ingest_ledger(
    path: Path | None,
    *,
    unit: str,
    period: str,
    received: date | None = None,
    zero: bool = False,
    root: Path | None = None,
) -> IngestResult:
    """``sgs ledger``: a ledger file, or with ``zero`` a zero-increment report, for a unit and
    month — read by intake and checked by validation here, then stored (:raises FileRefused:
    when it cannot be a ledger)."""
    from sgs.reference.units import resolve_unit

    period_bounds(period)  # validates the period
    unit_code = str(resolve_unit(unit)["code"])
    if zero:
        when = received or office_today()
        return store_zero_report(unit_code, period, when, "option" if received else "today", root)
    assert path is not None
    arr = arrival(Path(path), unit, received, "ledger")
    sha = sha256_of(arr.path)
    read = read_ledger(arr.path, period)
    result = store_ledger(arr, sha, unit_code, period, read, root)
    if arr.note:  # e.g. a future file time taken as today
        result.message += f"；{arr.note}"
    return result


def ingest_file(
    path: Path,
    *,
    unit: str | None = None,
    received: date | None = None,
    kind: Kind | None = None,
    root: Path | None = None,
) -> IngestResult:
    """Ingest one upload; see the module docstring for what can happen to it.

    A file whose manifest entry is wrong is quarantined (its date is not guessed), and so is a
    file of the landing zone without a unit or date; a file outside the landing zone without
    them raises :class:`LandingError` — the command line was incomplete, not the upload.
    """
    ((_, outcome),) = ingest_files([Path(path)], unit=unit, received=received, kind=kind, root=root)
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome


# How many files, and how many bytes of them, one round of :func:`ingest_files` takes at most:
# what is held in memory at once between reading and writing (a round's files are read before
# any of them is written).  A file bigger than that is a round of its own.
ROUND_FILES = 200
ROUND_BYTES = 32 << 20


def ingest_files(
    paths: Iterable[Path],
    *,
    unit: str | None = None,
    received: date | None = None,
    kind: Kind | None = None,
    root: Path | None = None,
) -> Iterator[tuple[Path, IngestResult | Exception]]:
    """Ingest files in their order: each file's result, or the exception that stopped it alone.

    The store ends exactly as if :func:`ingest_file` had been called for each file in turn (the
    same batches, ids and verdicts), but what each file would pay again is paid once per
    round of files (:data:`ROUND_FILES`, :data:`ROUND_BYTES`): the already-stored files are
    found with one query, the uploads are validated together
    (:func:`sgs.validate.pipeline.validate_uploads`), and the writer's lock and connection are
    taken once for the round's writes, each file still in its own transaction.  Reading and
    validating happen before the lock, so parallel runs check side by side and queue only for
    the writes.
    """
    preload()  # pandera imports while the first files are read
    plans: list[_Plan] = []
    size = 0
    for path in paths:
        plan = _plan(Path(path), unit, received, kind, root)
        plans.append(plan)
        size += _size(plan.path)
        if len(plans) >= ROUND_FILES or size >= ROUND_BYTES:
            yield from _round(plans, root)
            plans, size = [], 0
    if plans:
        yield from _round(plans, root)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


@dataclass
class _Plan:
    """One file of a round, as far as it could go before the writer's lock."""

    path: Path
    arr: Arrival | None = None
    sha: str = ""
    unit_code: str | None = None
    outcome: IngestResult | Exception | None = None  # decided without writing
    finish: Callable[[], IngestResult] | None = None  # decided, to be written in order
    what: Classified | None = None  # what the file is (none when the same bytes are stored)
    validation: Validation | None = None  # an upload's
    ledger: LedgerRead | None = None  # a ledger's rows, checked
    checked_as: str | None = None  # the kind the round read and checked it as (none: refused)
    kept: KeptCheck | None = None  # its check, kept at its hand-in (read instead of the file)


def _plan(
    path: Path, unit: str | None, received: date | None, kind: Kind | None, root: Path | None
) -> _Plan:
    """Where the file comes from, its hash and its unit; what cannot go further is decided
    here (its quarantine written later, in the round's order)."""
    from sgs.reference.units import load_units, resolve_unit

    plan = _Plan(path)
    try:
        try:
            arr = arrival(path, unit, received, kind, root)
        except ArrivalProblem as exc:
            if exc.code in ("no_unit", "no_received_date") and not in_landing_zone(path, root):
                raise
            try:  # the unit, when the folder names a known one, so the office sees whose file
                unit_code = str(resolve_unit(exc.unit, load_units())["code"]) if exc.unit else None
            except KeyError:
                unit_code = None
            sha = sha256_of(path.resolve())
            plan.finish = partial(quarantine_file, path.resolve(), exc.received, sha, exc.code,
                                  exc.message, unit_code, exc.kind, root)  # fmt: skip
            return plan
        plan.arr, plan.sha = arr, sha256_of(arr.path)
        try:
            plan.unit_code = str(resolve_unit(arr.unit or "", load_units())["code"])
        except KeyError as exc:
            plan.finish = partial(quarantine, arr, plan.sha, "unknown_unit", str(exc.args[0]),
                                  None, arr.kind, root)  # fmt: skip
    except Exception as exc:  # one file's failure must not stop the others
        plan.outcome = exc
    return plan


def _read(plans: list[_Plan], root: Path | None) -> None:
    """Classify the round's files (uploads are read); one query first finds the uploads whose
    bytes are stored already, which are not read again."""
    waiting = [p for p in plans if p.arr is not None and p.finish is None and p.outcome is None]
    try:
        stored = _stored_copies({(p.sha, p.unit_code) for p in waiting}, root)  # type: ignore[misc]
    except SgsError as exc:  # the store cannot be opened (held past the timeout, …): said per file
        for p in waiting:
            p.outcome = exc
        return
    for p in waiting:
        arr = p.arr
        assert arr is not None
        copy = None if arr.is_ledger else _earlier_copy(arr, stored.get((p.sha, p.unit_code), []))  # type: ignore[arg-type]
        if copy is not None:
            _, kind, received, name = copy
            if (arr.received, arr.path.name) < (received, name):  # checked now as that kind
                p.what, p.checked_as = classify(replace(arr, kind=kind)), kind
            continue  # decided under the lock, as the same file again
        if not arr.is_ledger and not arr.named_ledger:
            key = check_key(p.sha, p.unit_code, arr.kind, arr.received)  # type: ignore[arg-type]
            if (done := kept_check(key, arr.path, root)) is not None:  # checked at its hand-in
                p.what, p.kept, p.checked_as = (
                    Classified(upload=done.upload),
                    done,
                    done.upload.kind,
                )
                continue
        try:
            p.what = classify(arr)
        except Exception as exc:
            p.outcome = exc
        else:
            p.checked_as = p.what.upload.kind if p.what.upload is not None else None


def _stored_copies(
    pairs: set[tuple[str, str]], root: Path | None
) -> dict[tuple[str, str], list[tuple[int, str, date, str]]]:
    """For each (bytes, unit) of the round, the upload batches stored of them, in batch order:
    what :func:`_seen_before` would say of each file, asked once for the round."""
    if not pairs or not database.store_exists(root):
        return {}
    with database.reader(root) as con:
        register(con, "arriving", pl.DataFrame(list(pairs), schema=["sha256", "unit_code"],
                                              orient="row"))  # fmt: skip
        found = con.execute(
            "SELECT b.sha256, b.unit_code, b.batch_id, b.kind, b.received_date, b.file_name"
            " FROM batches b JOIN arriving a USING (sha256, unit_code)"
            " WHERE b.kind <> 'ledger' ORDER BY b.batch_id"
        ).fetchall()
        con.unregister("arriving")
    out: dict[tuple[str, str], list[tuple[int, str, date, str]]] = {}
    for sha, unit, *batch in found:
        out.setdefault((sha, unit), []).append(tuple(batch))  # type: ignore[arg-type]
    return out


def _earlier_copy(
    arr: Arrival, stored: list[tuple[int, str, date, str]]
) -> tuple[int, str, date, str] | None:
    """The stored batch of these bytes that this arrival is a copy of (as :func:`_seen_before`
    picks it), or None."""
    return next((b for b in stored if arr.kind is None or b[1] == arr.kind), None)


def _validate(plans: list[_Plan]) -> None:
    """Validate the round's uploads together; a failure there checks each file alone, so a
    file that breaks the validator is refused by itself."""
    for p in plans:
        if p.what is not None and p.what.ledger_sheets is not None and p.arr.period is not None:  # type: ignore[union-attr]
            try:
                with refusing_the_unexpected(p.path):
                    p.ledger = check_ledger_sheets(p.what.ledger_sheets, p.arr.period)  # type: ignore[union-attr]
            except FileRefused as exc:
                p.what.ledger_refused = exc
            except SgsError as exc:
                p.outcome = exc
    for p in plans:
        if p.kept is not None:  # checked at its hand-in: that check is its verdict
            p.validation = as_validation(p.kept)
    ready = [p for p in plans if p.validation is None and p.what is not None and p.what.upload]
    try:
        together = validate_uploads([(p.what.upload, p.arr.received) for p in ready])  # type: ignore[misc,union-attr]
        for p, v in zip(ready, together, strict=True):
            p.validation = v
        return
    except Exception:
        pass
    for p in ready:
        try:
            with refusing_the_unexpected(p.path):
                p.validation = validate_uploads([(p.what.upload, p.arr.received)])[0]  # type: ignore[list-item,union-attr]
        except FileRefused as exc:
            p.what = Classified(refused=exc)
        except SgsError as exc:
            p.outcome = exc


def _round(
    plans: list[_Plan], root: Path | None, again: int = 0
) -> Iterator[tuple[Path, IngestResult | Exception]]:
    """The round's files through the stages, each once: intake (:func:`_read`), validation
    (:func:`_validate`), then the store (:func:`_settle`, under one writer session)."""
    _read(plans, root)
    _validate(plans)
    if all(p.outcome is not None for p in plans):
        for p in plans:
            yield p.path, p.outcome  # type: ignore[misc]
        return
    outcomes: list[IngestResult | Exception] = []
    try:
        with database.session(root):
            for p in plans:
                outcomes.append(p.outcome if p.outcome is not None else _settle(p, root))
    except Exception as exc:  # the store could not be opened (busy past the timeout, …)
        outcomes += [p.outcome if p.outcome is not None else exc for p in plans[len(outcomes) :]]
    late = [i for i, o in enumerate(outcomes) if isinstance(o, _Again)]
    if late:  # read again from the start, now that the other run's write is visible
        for i in late:
            plans[i] = _Plan(plans[i].path, arr=plans[i].arr, sha=plans[i].sha,
                             unit_code=plans[i].unit_code)  # fmt: skip
        if again < AGAIN_ROUNDS:
            redone = _round([plans[i] for i in late], root, again + 1)
            for i, (_, outcome) in zip(late, redone, strict=True):
                outcomes[i] = outcome
        else:
            busy = StoreBusy("同一文件正被其他任务反复写入，本次未入库，请稍后重新运行")
            for i in late:
                outcomes[i] = busy
    for p, outcome in zip(plans, outcomes, strict=True):
        if isinstance(outcome, IngestResult):
            outcome.sha256 = outcome.sha256 or p.sha or None
            if p.arr is not None and p.arr.note:  # e.g. a future file time taken as today
                outcome.message += f"；{p.arr.note}"
        yield p.path, outcome


def _settle(p: _Plan, root: Path | None) -> IngestResult | Exception:
    """The file's write, in the round's order, under the writer's lock: what intake and
    validation made of it is stored; nothing is read or checked again here.  On the lake a
    commit overtaken by another is written again, whole (:func:`database.retrying`)."""
    try:
        return database.retrying(lambda: _settle_once(p, root))
    except Exception as exc:  # _Again among them: the round sends the file round again
        return exc


def _settle_once(p: _Plan, root: Path | None) -> IngestResult:
    if p.finish is not None:
        return p.finish()
    arr, unit_code, what = p.arr, p.unit_code, p.what
    assert arr is not None and unit_code is not None
    if what is not None and what.ledger:
        return _ingest_landed_ledger(arr, p.sha, unit_code, root, p.ledger, what.ledger_refused)
    earlier = _seen_before(p.sha, unit_code, arr.kind, root)
    if earlier is not None:
        return _again(arr, p.sha, unit_code, earlier, root, p)
    if what is None:  # the round took it for a stored copy, which is not there
        raise _Again
    if what.refused is not None:
        exc = what.refused
        return quarantine(arr, p.sha, exc.code, exc.message, unit_code, arr.kind, root)
    with database.writer(root) as con:
        return write_batch(con, p.validation, arr, unit_code, p.sha)  # type: ignore[arg-type]


def _again(
    arr: Arrival, sha: str, unit_code: str, earlier: tuple[int, str, date, str],
    root: Path | None, p: _Plan,
) -> IngestResult:  # fmt: skip
    """The same bytes stored before for this unit: skipped, or dated by this copy when it was
    received earlier (:func:`_received_earlier`, with the round's check of this copy when it
    was made as that kind)."""
    batch_id, kind, received, name = earlier
    if (arr.received, arr.path.name) < (received, name):
        moved = _received_earlier(arr, sha, unit_code, batch_id, kind, root, p)
        if moved is not None:  # still the same file: skipped, but now dated by this copy
            result = skipped(arr, unit_code, kind, batch_id)
            result.message += f"；接收日期改为本次的 {arr.received}，并按此日重新校验"
            return result
    return skipped(arr, unit_code, kind, batch_id)
