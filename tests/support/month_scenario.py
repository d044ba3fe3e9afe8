"""A month of real life, generated: what units upload, correct, re-send and register.

A seeded generator of the events of November 2026 (and the days around it) for four units:
on-time and late uploads, corrections of subject codes, names, decision dates and defects,
re-sent files (byte-identical, on another day), rows repeated within a file, joint decisions
(one 文书号 for two subjects), one file landed byte-identical for two units, ledgers with
unmatched, repeated and unclassifiable entries, a ledger sent twice, and a zero-increment
report.  :func:`land` writes it as real files; :mod:`support.month_oracle` computes what the
office should see from the scenario itself, by its own loops.

Defects are of three kinds only, each known exactly: a blank 许可机关/处罚机关 (``required``),
a wrong credit-code check character (``uscc_check``), and a repeated row (``duplicate``).
Every other cell comes from a valid template row, so no other error can appear.
"""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from sgs.samples.writers import write_upload
from support.rates_builders import (
    PENALTY,
    PERMIT,
    UNIT_A,
    UNIT_B,
    UNIT_C,
    UNIT_D,
    Row,
    company,
    upload_frame,
    write_ledger,
)

PERIOD = "2026-11"
AS_OF = date(2026, 12, 15)
UPLOADING = (UNIT_A, UNIT_B, UNIT_C)
ZERO_UNIT = UNIT_D
ABBR = {UNIT_A: "审批", UNIT_B: "市监", UNIT_C: "环"}
AUTHORITY = {"permit": "XK_XKJG", "penalty": "CF_CFJG"}
PREFIX = {"permit": "XK", "penalty": "CF"}


@dataclass(frozen=True)
class Line:
    """One upload row as written."""

    doc: str
    decided: date
    subject: int  # the company the decision is about
    name: str
    code: str
    broken: bool = False  # 机关 left blank: a ``required`` error
    bad_code: bool = False  # ``code`` carries a wrong check character: ``uscc_check``


@dataclass
class Upload:
    unit: str
    kind: str
    received: date
    name: str
    lines: list[Line]
    also_for: str | None = None  # landed byte-identical for this unit too
    resent_on: date | None = None  # landed again, byte-identical, on this later day


@dataclass
class Ledger:
    unit: str
    received: date
    name: str
    entries: list[tuple[str, str, str, str, date]]  # 类别, 文书号, name, code, decision date


@dataclass
class Scenario:
    seed: int
    uploads: list[Upload] = field(default_factory=list)
    ledgers: list[Ledger] = field(default_factory=list)
    zero: tuple[str, date] = (ZERO_UNIT, date(2026, 12, 1))


def wrong_check(code: str) -> str:
    return code[:-1] + ("1" if code[-1] != "1" else "2")


def _line(doc: str, decided: date, subject: int, rng: random.Random, broken_p: float) -> Line:
    name, code = company(subject)
    bad = rng.random() < 0.25
    return Line(doc, decided, subject, name, wrong_check(code) if bad else code,
                broken=rng.random() < broken_p, bad_code=bad)  # fmt: skip


def _correction(line: Line, rng: random.Random, joint: bool) -> Line:
    """The same decision sent again with its defects fixed and, sometimes, more changed."""
    name, code = company(line.subject)
    out = Line(line.doc, line.decided, line.subject, line.name, code)
    roll = rng.random()
    if roll < 0.25:
        out = Line(out.doc, out.decided, out.subject, f"{name}（更名）", out.code)
    elif roll < 0.45:
        out = Line(out.doc, out.decided - timedelta(days=1), out.subject, out.name, out.code)
    elif roll < 0.55 and not joint:
        # Both the name and the code change: still the decision's only record.
        other = company(line.subject + 500)
        out = Line(out.doc, out.decided, line.subject, other[0], other[1])
    if rng.random() < 0.15:
        out = Line(out.doc, out.decided, out.subject, out.name, out.code, broken=True)
    return out


def generate(seed: int) -> Scenario:
    rng = random.Random(seed)
    sc = Scenario(seed)
    subject = 100
    for unit in UPLOADING:
        lines: dict[tuple[str, date], list[Line]] = {}  # (kind, received) -> rows of that file
        decisions: list[tuple[str, Line, bool]] = []
        for k in range(1, rng.randint(7, 11)):
            kind = rng.choice(("permit", "penalty"))
            doc = f"长{ABBR[unit]}{'许' if kind == 'permit' else '罚'}〔2026〕{k}号"
            decided = date(2026, 10, 26) + timedelta(days=rng.randint(0, 30))
            received = decided + timedelta(days=rng.choice((0, 1, 3, 6, 9, 12, 16)))
            joint = rng.random() < 0.25
            for _ in range(2 if joint else 1):
                subject += 1
                line = _line(doc, decided, subject, rng, broken_p=0.2)
                lines.setdefault((kind, received), []).append(line)
                decisions.append((kind, line, joint))
                if rng.random() < 0.1:  # repeated within its file
                    lines[(kind, received)].append(line)
                if (line.broken or line.bad_code) and rng.random() < 0.75:
                    later = received + timedelta(days=rng.randint(1, 10))
                    lines.setdefault((kind, later), []).append(_correction(line, rng, joint))
        for (kind, received), rows in sorted(lines.items()):
            name = f"{'许可' if kind == 'permit' else '处罚'}_{received:%m%d}.csv"
            up = Upload(unit, kind, received, name, rows)
            if rng.random() < 0.25:
                up.resent_on = received + timedelta(days=rng.randint(1, 5))
            sc.uploads.append(up)
        sc.ledgers.extend(_ledgers(unit, decisions, rng))
    # One file of A landed byte-identical for C as well (a clerk serving both).
    shared = rng.choice([u for u in sc.uploads if u.unit == UNIT_A])
    shared.also_for = UNIT_C
    return sc


def _ledgers(
    unit: str, decisions: list[tuple[str, Line, bool]], rng: random.Random
) -> list[Ledger]:
    entries = []
    for kind, line, _ in decisions:
        if line.decided.strftime("%Y-%m") == PERIOD:
            name, code = company(line.subject)
            entries.append(
                (PERMIT if kind == "permit" else PENALTY, line.doc, name, code, line.decided)
            )
    n = len(entries)
    extra_name, extra_code = company(900 + n)
    entries.append(
        (PENALTY, f"长{ABBR[unit]}罚〔2026〕99号", extra_name, extra_code, date(2026, 11, 20))
    )
    if entries[:-1]:
        entries.append(rng.choice(entries[:-1]))  # a repeated entry counts once
    entries.append(("许可", f"长{ABBR[unit]}许〔2026〕98号", *company(950 + n), date(2026, 11, 21)))
    rng.shuffle(entries)
    first = Ledger(unit, date(2026, 12, rng.randint(1, 7)), "台账_2026-11.csv", entries)
    if unit != UNIT_B:
        return [first]
    # B sends its ledger again later, without the unmatched entry: the second is current,
    # the first receipt counts for punctuality.
    again = [e for e in entries if not e[1].endswith("99号")]
    return [first, Ledger(unit, first.received + timedelta(days=3), "台账_2026-11_更正.csv", again)]


# ----------------------------------------------------------------------------- files


@dataclass
class Landed:
    """A file on disk and what it is."""

    path: Path
    unit: str
    kind: str  # permit | penalty | ledger
    received: date
    upload: Upload | None = None
    ledger: Ledger | None = None


def _rows(up: Upload) -> list[Row]:
    return [
        Row(ln.doc, ln.decided.strftime("%Y/%m/%d"), subject=ln.subject, broken=ln.broken,
            name=ln.name, code=ln.code)
        for ln in up.lines
    ]  # fmt: skip


def land(sc: Scenario, root: Path) -> list[Landed]:
    """Write every file of the scenario under ``root``: uploads in the landing zone
    ``raw/<unit>/<day>/``, ledgers beside it in ``ledgers/<unit>/`` (sent with ``sgs ledger``)."""
    out: list[Landed] = []
    for up in sc.uploads:
        path = root / "raw" / up.unit / up.received.isoformat() / up.name
        write_upload(upload_frame(up.kind, up.unit, _rows(up)), path)
        out.append(Landed(path, up.unit, up.kind, up.received, upload=up))
        copies = []
        if up.also_for:
            copies.append((up.also_for, up.received))
        if up.resent_on:
            copies.append((up.unit, up.resent_on))
        for unit, day in copies:
            copy = root / "raw" / unit / day.isoformat() / up.name
            copy.parent.mkdir(parents=True, exist_ok=True)
            if copy.exists():  # a file of that name landed that day already: keep both
                copy = copy.with_name(f"重发_{up.name}")
            shutil.copyfile(path, copy)
            out.append(Landed(copy, unit, up.kind, day, upload=up))
    for led in sc.ledgers:
        path = root / "ledgers" / led.unit / led.received.isoformat() / led.name
        rows = [[str(i), lb, doc, name, code, d.isoformat()]
                for i, (lb, doc, name, code, d) in enumerate(led.entries, start=1)]  # fmt: skip
        write_ledger(path, rows)
        out.append(Landed(path, led.unit, "ledger", led.received, ledger=led))
    return out
