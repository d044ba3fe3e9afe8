"""Two months of real life, generated: what units upload, correct, re-send and register.

A seeded generator of the events of September and October 2026 — the months around the
Mid-Autumn festival (09-25) and the National Day Golden Week (10-01 to 10-07, with the makeup
workdays 09-20 and 10-10) — for six units, received from 09-01 to 12-04:

- three uploading units (A, B, C): on-time and late uploads on the unit's upload days,
  corrections of subject codes, names, decision dates and defects, a correction of a September
  error arriving after the September bulletin (``BULLETIN``), a decision dated after the day it
  was received (late, and a ``date_range`` error), re-sent files (byte-identical, on another
  day), rows repeated within a file, joint decisions (one 文书号 for two subjects), one file
  landed byte-identical for two units, and for each month a ledger with unmatched, repeated and
  unclassifiable entries, sometimes a decision left out or a joint decision listed for one of
  its subjects only; B sends each ledger twice, C sometimes never sends October's;
- D sends true zero-increment reports (零增量报告) for both months;
- E sends a false one for September: later, in October, it uploads a decision dated in
  September (contradicting the report) together with an October decision, and an October
  ledger;
- F sends a zero report for October but uploads in October two decisions of September (one
  received on the 7th workday after it, across the Golden Week, or the day after), and
  sometimes a September ledger that lists them before the upload arrives.

:func:`land` writes the uploads and ledgers as real files in the landing zone; zero reports
are sent with ``sgs ledger --zero``.  :mod:`support.month_oracle` computes what the office
should see as of any day from the scenario itself, by its own loops.

Defects are of four kinds only, each known exactly: a blank 许可机关/处罚机关 (``required``),
a wrong credit-code check character (``uscc_check``), a repeated row (``duplicate``) and a
decision date after the received date (``date_range``).  Every other cell comes from a valid
template row, so no other error can appear.
"""

from __future__ import annotations

import random
import shutil
from dataclasses import dataclass, field, replace
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

UNIT_E = "111404000382642475"  # 长治市应急管理局: a false zero report
UNIT_F = "11140400MB8273484T"  # 长治市住房和城乡建设局: a zero report and an earlier decision
PERIODS = ("2026-09", "2026-10")  # the months of the decisions, ledgers and zero reports
MONTHS = ("2026-09", "2026-10", "2026-11")  # the months anything is received in
FIRST_DAY, LAST_DAY = date(2026, 9, 1), date(2026, 12, 4)
#: The days the figures are compared on: the 5th, 10th and 15th of the month after each
#: period (10-05 in the Golden Week, 10-10 a makeup Saturday and September's ledger due day),
#: and a day after everything arrived.  All before the office's today (2026-12-07).
DAYS = (
    date(2026, 10, 5), date(2026, 10, 10), date(2026, 10, 15),
    date(2026, 11, 5), date(2026, 11, 10), date(2026, 11, 15), LAST_DAY,
)  # fmt: skip
#: The monthly bulletin (月通报) of each period: the 4th of the next month.
BULLETIN = {"2026-09": date(2026, 10, 4), "2026-10": date(2026, 11, 4)}
UPLOADING = (UNIT_A, UNIT_B, UNIT_C)
UNITS = (UNIT_A, UNIT_B, UNIT_C, UNIT_D, UNIT_E, UNIT_F)
ABBR = {UNIT_A: "审批", UNIT_B: "市监", UNIT_C: "环", UNIT_E: "应急", UNIT_F: "住建"}
AUTHORITY = {"permit": "XK_XKJG", "penalty": "CF_CFJG"}
PREFIX = {"permit": "XK", "penalty": "CF"}
ZERO_NAME = "零增量报告"


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
    period: str
    received: date
    name: str
    entries: list[tuple[str, str, str, str, date]]  # 类别, 文书号, name, code, decision date


@dataclass(frozen=True)
class Zero:
    """A zero-increment report: no decisions in ``period`` (both kinds)."""

    unit: str
    period: str
    received: date


@dataclass
class Scenario:
    seed: int
    uploads: list[Upload] = field(default_factory=list)
    ledgers: list[Ledger] = field(default_factory=list)
    zeros: list[Zero] = field(default_factory=list)


def month_of(d: date) -> str:
    return d.strftime("%Y-%m")


def wrong_check(code: str) -> str:
    return code[:-1] + ("1" if code[-1] != "1" else "2")


def _doc(unit: str, kind: str, k: int) -> str:
    return f"长{ABBR[unit]}{'许' if kind == 'permit' else '罚'}〔2026〕{k}号"


def _line(doc: str, decided: date, subject: int, rng: random.Random, broken_p: float) -> Line:
    name, code = company(subject)
    bad = rng.random() < 0.25
    return Line(doc, decided, subject, name, wrong_check(code) if bad else code,
                broken=rng.random() < broken_p, bad_code=bad)  # fmt: skip


def _clean(line: Line, decided: date | None = None) -> Line:
    """The same decision with its defects fixed (the subject's true name and code)."""
    name, code = company(line.subject)
    return Line(line.doc, decided or line.decided, line.subject, name, code)


def _correction(line: Line, rng: random.Random, joint: bool) -> Line:
    """The same decision sent again with its defects fixed and, sometimes, more changed."""
    out = _clean(line)
    roll = rng.random()
    if roll < 0.25:
        out = Line(out.doc, out.decided, out.subject, f"{out.name}（更名）", out.code)
    elif roll < 0.45:
        out = Line(out.doc, out.decided - timedelta(days=1), out.subject, out.name, out.code)
    elif roll < 0.55 and not joint:
        # Both the name and the code change: still the decision's only record.
        other = company(line.subject + 500)
        out = Line(out.doc, out.decided, line.subject, other[0], other[1])
    if rng.random() < 0.15:
        out = Line(out.doc, out.decided, out.subject, out.name, out.code, broken=True)
    return out


def _upload_days(rng: random.Random) -> list[date]:
    """A unit's upload days: one every week or two (any day: the platform receives on holidays)."""
    days, d = [], FIRST_DAY + timedelta(days=rng.randint(0, 4))
    while d <= date(2026, 11, 20):
        days.append(d)
        d += timedelta(days=rng.randint(7, 13))
    return days


def _on_or_after(days: list[date], d: date) -> date:
    """The unit's first upload day on or after ``d`` (a new one at the end when none)."""
    for day in days:
        if day >= d:
            return day
    days.append(d)
    return d


class _Unit:
    """One uploading unit's rows by file (kind, received day) and its decisions."""

    def __init__(self, unit: str, rng: random.Random) -> None:
        self.unit, self.rng = unit, rng
        self.days = _upload_days(rng)
        self.files: dict[tuple[str, date], list[Line]] = {}
        self.decisions: list[tuple[str, Line]] = []  # (kind, first line) of every record

    def add(self, kind: str, received: date, line: Line, first: bool = True) -> None:
        self.files.setdefault((kind, received), []).append(line)
        if first:
            self.decisions.append((kind, line))

    def uploads(self) -> list[Upload]:
        out = []
        for (kind, received), rows in sorted(self.files.items()):
            name = f"{'许可' if kind == 'permit' else '处罚'}_{received:%m%d}.csv"
            up = Upload(self.unit, kind, received, name, rows)
            again = received + timedelta(days=self.rng.randint(1, 5))
            if self.rng.random() < 0.25 and again <= LAST_DAY:
                up.resent_on = again
            out.append(up)
        return out


def _random_decisions(u: _Unit, subject: int) -> int:
    rng = u.rng
    for k in range(1, rng.randint(5, 7)):
        kind = rng.choice(("permit", "penalty"))
        decided = date(2026, 8, 27) + timedelta(days=rng.randint(0, 65))
        lag = rng.choice((0, 1, 3, 6, 9, 12, 16))
        received = _on_or_after(u.days, max(decided + timedelta(days=lag), FIRST_DAY))
        joint = k == 1 or rng.random() < 0.2
        for _ in range(2 if joint else 1):
            subject += 1
            line = _line(_doc(u.unit, kind, k), decided, subject, rng, broken_p=0.2)
            u.add(kind, received, line)
            if rng.random() < 0.1:  # repeated within its file
                u.add(kind, received, line, first=False)
            if (line.broken or line.bad_code) and rng.random() < 0.75:
                later = _on_or_after(u.days, received + timedelta(days=rng.randint(1, 10)))
                u.add(kind, later, _correction(line, rng, joint), first=False)
    return subject


def generate(seed: int) -> Scenario:
    rng = random.Random(seed)
    sc = Scenario(seed)
    subject = 100
    units = {unit: _Unit(unit, rng) for unit in UPLOADING}
    for u in units.values():
        subject = _random_decisions(u, subject)

    # A: a September error corrected only after the September bulletin (10-04), between the
    # days compared on 10-10 and 10-15.
    a = units[UNIT_A]
    kind = rng.choice(("permit", "penalty"))
    decided = date(2026, 9, 14) + timedelta(days=rng.randint(0, 6))
    subject += 1
    name, code = company(subject)
    late_fix = Line(_doc(UNIT_A, kind, 50), decided, subject, name, code, broken=True)
    a.add(kind, decided + timedelta(days=rng.randint(0, 2)), late_fix)
    a.add(kind, date(2026, 10, 11) + timedelta(days=rng.randint(0, 3)), _clean(late_fix), False)

    # B: a decision dated after the day it was received (a typing error): late, date_range.
    b = units[UNIT_B]
    received = _on_or_after(b.days, date(2026, 10, 8) + timedelta(days=rng.randint(0, 10)))
    subject += 1
    name, code = company(subject)
    ahead = Line(_doc(UNIT_B, "penalty", 60), received + timedelta(days=rng.randint(1, 3)),
                 subject, name, code)  # fmt: skip
    b.add("penalty", received, ahead)
    if rng.random() < 0.5:  # corrected to the real date later
        real = received - timedelta(days=rng.randint(0, 2))
        b.add("penalty", _on_or_after(b.days, received + timedelta(days=rng.randint(3, 9))),
              _clean(ahead, real), False)  # fmt: skip

    for u in units.values():
        sc.uploads.extend(u.uploads())
        sc.ledgers.extend(_ledgers(u.unit, u.decisions, rng))
    # One file of A landed byte-identical for C as well (a clerk serving both).
    shared = rng.choice([up for up in sc.uploads if up.unit == UNIT_A])
    shared.also_for = UNIT_C

    # D: true zero reports for both months (September's due 10-10, October's 11-04).
    sc.zeros.append(Zero(UNIT_D, "2026-09", date(2026, 10, 8) + timedelta(rng.randint(0, 5))))
    sc.zeros.append(Zero(UNIT_D, "2026-10", date(2026, 11, 3) + timedelta(rng.randint(0, 3))))

    # E: a false zero report for September, contradicted by an upload between 10-16 and 10-30
    # of a decision dated in September (sometimes a joint one), with an October decision.
    sc.zeros.append(Zero(UNIT_E, "2026-09", date(2026, 10, 8) + timedelta(rng.randint(0, 1))))
    received = date(2026, 10, 16) + timedelta(days=rng.randint(0, 14))
    sept = date(2026, 9, 10) + timedelta(days=rng.randint(0, 15))
    lines = []
    for i in range(2 if rng.random() < 0.5 else 1):
        subject += 1
        line = _line(_doc(UNIT_E, "penalty", 1), sept, subject, rng, broken_p=0.3)
        # The first invalid: a record contradicts the report whatever its verdict.
        lines.append(replace(line, broken=True) if i == 0 else line)
    subject += 1
    october = _line(_doc(UNIT_E, "penalty", 2), received - timedelta(days=rng.randint(0, 5)),
                    subject, rng, broken_p=0.0)  # fmt: skip
    lines.append(october)
    sc.uploads.append(Upload(UNIT_E, "penalty", received, f"处罚_{received:%m%d}.csv", lines))
    ledger_day = date(2026, 11, 2) + timedelta(days=rng.randint(0, 3))
    sc.ledgers.append(Ledger(UNIT_E, "2026-10", ledger_day, "台账_2026-10.csv",
                             [(PENALTY, october.doc, *company(october.subject), october.decided)]))  # fmt: skip

    # F: a decision of 09-24 received on 10-12 (the 7th workday after it, across the Mid-Autumn
    # festival and the Golden Week: timely) or 10-13 (late), with one of mid-September (late
    # whichever); a zero report for October.
    earlier = []
    for k, decided in (
        (1, date(2026, 9, 24)),
        (2, date(2026, 9, 10) + timedelta(rng.randint(0, 4))),
    ):
        subject += 1
        earlier.append(Line(_doc(UNIT_F, "permit", k), decided, subject, *company(subject)))
    received = date(2026, 10, 12) + timedelta(days=rng.randint(0, 1))
    sc.uploads.append(Upload(UNIT_F, "permit", received, f"许可_{received:%m%d}.csv", earlier))
    if rng.random() < 0.5:  # a September ledger that lists them, sent before the upload
        entries = [(PERMIT, ln.doc, ln.name, ln.code, ln.decided) for ln in earlier]
        sc.ledgers.append(Ledger(UNIT_F, "2026-09", date(2026, 10, 9), "台账_2026-09.csv", entries))
    sc.zeros.append(Zero(UNIT_F, "2026-10", date(2026, 11, 2) + timedelta(rng.randint(0, 4))))

    last = max([up.resent_on or up.received for up in sc.uploads]
               + [g.received for g in sc.ledgers] + [z.received for z in sc.zeros])  # fmt: skip
    first = min(up.received for up in sc.uploads)
    assert first >= FIRST_DAY and last <= LAST_DAY, (first, last)
    return sc


def _ledgers(unit: str, decisions: list[tuple[str, Line]], rng: random.Random) -> list[Ledger]:
    out = []
    for period, extra_no, sent in (
        ("2026-09", 99, date(2026, 9, 30) + timedelta(rng.choice((1, 3, 8, 9, 10, 12, 13)))),
        ("2026-10", 89, date(2026, 10, 31) + timedelta(rng.choice((1, 2, 4, 5, 9, 16)))),
    ):
        if unit == UNIT_C and period == "2026-10" and rng.random() < 0.3:
            continue  # never sent
        entries = []
        for kind, line in decisions:
            if month_of(line.decided) == period:
                name, code = company(line.subject)
                entries.append(
                    (PERMIT if kind == "permit" else PENALTY, line.doc, name, code, line.decided)
                )
        if entries and rng.random() < 0.35:
            entries.remove(rng.choice(entries))  # a decision the ledger leaves out
        joint = [e for e in entries if sum(x[1] == e[1] for x in entries) > 1]
        if joint and rng.random() < 0.5:
            entries.remove(joint[-1])  # a joint decision listed for one of its subjects only
        n = len(entries)
        day = date(int(period[:4]), int(period[5:]), 20)
        entries.append((PENALTY, f"长{ABBR[unit]}罚〔2026〕{extra_no}号", *company(900 + n), day))
        if entries[:-1]:
            entries.append(rng.choice(entries[:-1]))  # a repeated entry counts once
        entries.append(
            ("许可", f"长{ABBR[unit]}许〔2026〕{extra_no - 1}号", *company(950 + n), day)
        )
        rng.shuffle(entries)
        first = Ledger(unit, period, sent, f"台账_{period}.csv", entries)
        out.append(first)
        if unit == UNIT_B:
            # B sends its ledger again later, without the unmatched entry: the second is
            # current, the first receipt counts for punctuality.
            again = [e for e in entries if not e[1].endswith(f"{extra_no}号")]
            out.append(Ledger(unit, period, sent + timedelta(days=3),
                              f"台账_{period}_更正.csv", again))  # fmt: skip
    return out


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
    """Write every file of the scenario in the landing zone ``raw/<unit>/<day>/`` under
    ``root``: uploads, their copies, and ledgers (台账_<period>.csv: the name gives the month)."""
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
        path = root / "raw" / led.unit / led.received.isoformat() / led.name
        rows = [[str(i), lb, doc, name, code, d.isoformat()]
                for i, (lb, doc, name, code, d) in enumerate(led.entries, start=1)]  # fmt: skip
        write_ledger(path, rows)
        out.append(Landed(path, led.unit, "ledger", led.received, ledger=led))
    return out
