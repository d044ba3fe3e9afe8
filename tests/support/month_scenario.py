"""Two months of real life, generated: what units upload, correct, re-send and register.

A seeded generator of the events of September and October 2026 — the months around the
Mid-Autumn festival (09-25) and the National Day Golden Week (10-01 to 10-07, with the makeup
workdays 09-20 and 10-10) — for six units and a county with two of its departments,
received from 09-01 to 12-04:

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
  sometimes a September ledger that lists them before the upload arrives;
- a county and two of its departments, as ``config/units.csv`` registers them (``parent``):
  长治市潞州区人民政府 (``COUNTY``), its 市场监督管理局 (``DEP_OWN``: penalties, and ledgers of its
  own) and its 行政审批服务管理局 (``DEP_COVERED``: permits, and no ledger — the county's ledgers
  list its decisions).  Both departments upload like A–C, less often; the county uploads a
  decision or two of its own and one under a 文书号 of ``DEP_COVERED`` for another subject (the
  family then holds two records of that 文书号, told apart by the subject): its ledger lists
  that 文书号 for ``DEP_COVERED``'s subject, and for the county's record a wrong subject or
  nothing.  The county's ledger sometimes lists a decision of ``DEP_OWN`` (the one
  ``DEP_OWN``'s own ledger left out, if any).  For October the county and ``DEP_OWN`` first
  send zero reports, both false (``DEP_OWN`` always decides in October) — ``DEP_OWN``'s on the
  due day in odd seeds, after 11-05 in even ones, so as of 11-05 its records are contradicting
  either its own report or the county's — then real ledgers, ``DEP_OWN``'s first: as of 11-10
  the county's zero report stands beside ``DEP_OWN``'s ledger.  The family's events come from
  a random stream of their own: the other units' events are those of the six units alone.

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
COUNTY = "11140403MB6028813E"  # 长治市潞州区人民政府: a county, head of its family
DEP_OWN = "11140403MB1A20213D"  # 长治市潞州区市场监督管理局: sends its own ledgers
DEP_COVERED = "11140403MB1B703507"  # 长治市潞州区行政审批服务管理局: in the county's ledgers
#: The county's departments (``parent`` in config/units.csv).
PARENT = {DEP_OWN: COUNTY, DEP_COVERED: COUNTY}
FAMILY = (COUNTY, DEP_OWN, DEP_COVERED)
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
UNITS = (UNIT_A, UNIT_B, UNIT_C, UNIT_D, UNIT_E, UNIT_F, *FAMILY)
ABBR = {UNIT_A: "审批", UNIT_B: "市监", UNIT_C: "环", UNIT_E: "应急", UNIT_F: "住建",
        COUNTY: "潞政", DEP_OWN: "潞市监", DEP_COVERED: "潞审批"}  # fmt: skip
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


def _upload_days(rng: random.Random, gap: tuple[int, int] = (7, 13)) -> list[date]:
    """A unit's upload days: one every week or two by default, ``gap`` days apart (any day: the
    platform receives on holidays)."""
    days, d = [], FIRST_DAY + timedelta(days=rng.randint(0, 4))
    while d <= date(2026, 11, 20):
        days.append(d)
        d += timedelta(days=rng.randint(*gap))
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

    def __init__(self, unit: str, rng: random.Random, gap: tuple[int, int] = (7, 13)) -> None:
        self.unit, self.rng = unit, rng
        self.days = _upload_days(rng, gap)
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


def _random_decisions(
    u: _Unit, subject: int, most: int = 6, kinds: tuple[str, ...] = ("permit", "penalty")
) -> int:
    """Between ``most`` − 2 and ``most`` decisions of the unit (the first a joint one)."""
    rng = u.rng
    for k in range(1, rng.randint(most - 1, most + 1)):
        kind = rng.choice(kinds)
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
    _county(sc, seed)

    last = max([up.resent_on or up.received for up in sc.uploads]
               + [g.received for g in sc.ledgers] + [z.received for z in sc.zeros])  # fmt: skip
    first = min(up.received for up in sc.uploads)
    assert first >= FIRST_DAY and last <= LAST_DAY, (first, last)
    return sc


def _ledger_entries(
    unit: str, decisions: list[tuple[str, Line]], period: str, extra_no: int, rng: random.Random
) -> tuple[list[tuple], list[tuple]]:
    """A ledger's entries for the decisions of ``period``: sometimes one left out (returned
    too), a joint decision listed for one of its subjects only, an entry nobody uploaded, a
    repeated entry and one whose 类别 cannot be read."""
    entries, left_out = [], []
    for kind, line in decisions:
        if month_of(line.decided) == period:
            name, code = company(line.subject)
            entries.append(
                (PERMIT if kind == "permit" else PENALTY, line.doc, name, code, line.decided)
            )
    if entries and rng.random() < 0.35:
        left_out.append(rng.choice(entries))  # a decision the ledger leaves out
        entries.remove(left_out[-1])
    joint = [e for e in entries if sum(x[1] == e[1] for x in entries) > 1]
    if joint and rng.random() < 0.5:
        entries.remove(joint[-1])  # a joint decision listed for one of its subjects only
    n = len(entries)
    day = date(int(period[:4]), int(period[5:]), 20)
    entries.append((PENALTY, f"长{ABBR[unit]}罚〔2026〕{extra_no}号", *company(900 + n), day))
    if entries[:-1]:
        entries.append(rng.choice(entries[:-1]))  # a repeated entry counts once
    entries.append(("许可", f"长{ABBR[unit]}许〔2026〕{extra_no - 1}号", *company(950 + n), day))
    rng.shuffle(entries)
    return entries, left_out


def _ledgers(unit: str, decisions: list[tuple[str, Line]], rng: random.Random) -> list[Ledger]:
    out = []
    for period, extra_no, sent in (
        ("2026-09", 99, date(2026, 9, 30) + timedelta(rng.choice((1, 3, 8, 9, 10, 12, 13)))),
        ("2026-10", 89, date(2026, 10, 31) + timedelta(rng.choice((1, 2, 4, 5, 9, 16)))),
    ):
        if unit == UNIT_C and period == "2026-10" and rng.random() < 0.3:
            continue  # never sent
        entries, _ = _ledger_entries(unit, decisions, period, extra_no, rng)
        first = Ledger(unit, period, sent, f"台账_{period}.csv", entries)
        out.append(first)
        if unit == UNIT_B:
            # B sends its ledger again later, without the unmatched entry: the second is
            # current, the first receipt counts for punctuality.
            again = [e for e in entries if not e[1].endswith(f"{extra_no}号")]
            out.append(Ledger(unit, period, sent + timedelta(days=3),
                              f"台账_{period}_更正.csv", again))  # fmt: skip
    return out


def _entry(kind: str, line: Line, subject: int | None = None) -> tuple:
    """A ledger entry for a decision, naming ``subject`` (default: the decision's own)."""
    name, code = company(line.subject if subject is None else subject)
    return (PERMIT if kind == "permit" else PENALTY, line.doc, name, code, line.decided)


def _county(sc: Scenario, seed: int) -> None:
    """The county 潞州区 and its two departments (see the module's docstring), from a random
    stream of their own."""
    rng = random.Random(seed * 7919 + 19)
    subject = 2000
    # Fewer files than A–C (uploads every one to two weeks and a half; each department deciding
    # one kind: 市监 penalties, 审批 permits), to keep the tests quick.
    own, covered, head = (_Unit(u, rng, gap=(10, 18)) for u in (DEP_OWN, DEP_COVERED, COUNTY))
    subject = _random_decisions(own, subject, most=4, kinds=("penalty",))
    subject = _random_decisions(covered, subject, most=4, kinds=("permit",))
    # DEP_OWN decides in October whatever the draw, uploading it in October: its zero report
    # for October is false.
    subject += 1
    decided = date(2026, 10, 8) + timedelta(days=rng.randint(0, 8))
    october = _line(_doc(DEP_OWN, "penalty", 9), decided, subject, rng, broken_p=0.2)
    own.add("penalty", decided + timedelta(days=rng.randint(1, 6)), october)
    for k in range(1, rng.randint(3, 4)):  # the county's own decisions: one or two
        kind = rng.choice(("permit", "penalty"))
        decided = date(2026, 9, 1) + timedelta(days=rng.randint(0, 58))
        received = _on_or_after(head.days, decided + timedelta(days=rng.choice((0, 2, 5, 11))))
        subject += 1
        head.add(kind, received, _line(_doc(COUNTY, kind, k), decided, subject, rng, 0.2))
    # A decision of DEP_COVERED (of a single subject, decided in September or October) that the
    # county uploads too, under its 文书号, for another subject.
    docs = [ln.doc for _, ln in covered.decisions]
    in_periods = [(k, ln) for k, ln in covered.decisions if month_of(ln.decided) in PERIODS]
    single = [(k, ln) for k, ln in in_periods if docs.count(ln.doc) == 1]
    shared_kind, base = rng.choice(single or in_periods or covered.decisions)
    subject += 1
    shared = _line(base.doc, base.decided, subject, rng, broken_p=0.0)
    head.add(shared_kind, _on_or_after(head.days, base.decided + timedelta(days=rng.randint(0, 6))),
             shared)  # fmt: skip
    for u in (own, covered, head):
        sc.uploads.extend(u.uploads())

    def county_entries(period: str, extra_no: int) -> list[tuple]:
        """The county's ledger: its decisions and DEP_COVERED's, sometimes one of DEP_OWN's;
        the 文书号 both hold listed for DEP_COVERED's subject, and for the county's record a
        wrong subject or nothing."""
        theirs = [(k, ln) for k, ln in head.decisions + covered.decisions
                  if ln is not shared and ln is not base]  # fmt: skip
        entries, _ = _ledger_entries(COUNTY, theirs, period, extra_no, rng)
        extra = []
        if month_of(base.decided) == period:
            extra.append(_entry(shared_kind, base))
            if rng.random() < 0.5:
                extra.append(_entry(shared_kind, shared, 5000))
        of_own = [(k, ln) for k, ln in own.decisions if month_of(ln.decided) == period]
        if of_own and rng.random() < 0.6:  # a decision of DEP_OWN, often one it left out
            left = [e for e in left_out[period] if e[1] in {ln.doc for _, ln in of_own}]
            extra.append(left[0] if left else _entry(*rng.choice(of_own)))
        for e in extra:
            entries.insert(rng.randrange(len(entries) + 1), e)
        return entries

    left_out: dict[str, list[tuple]] = {}
    # September: DEP_OWN's ledger and the county's, on days of their own (due 10-10).
    day = date(2026, 10, 1) + timedelta(rng.choice((1, 3, 8, 9, 12)))
    entries, left_out["2026-09"] = _ledger_entries(DEP_OWN, own.decisions, "2026-09", 99, rng)
    sc.ledgers.append(Ledger(DEP_OWN, "2026-09", day, "台账_2026-09.csv", entries))
    day = date(2026, 10, 1) + timedelta(rng.choice((2, 7, 9, 10, 13)))
    sc.ledgers.append(Ledger(COUNTY, "2026-09", day, "台账_2026-09.csv",
                             county_entries("2026-09", 99)))  # fmt: skip
    # October (due 11-04): zero reports first — DEP_OWN's on the due day in odd seeds, two days
    # late in even ones — then the real ledgers, DEP_OWN's before the county's.
    sc.zeros.append(Zero(COUNTY, "2026-10", date(2026, 11, 2) + timedelta(rng.randint(0, 2))))
    sc.zeros.append(Zero(DEP_OWN, "2026-10", date(2026, 11, 4 if seed % 2 else 6)))
    day = date(2026, 11, 7) + timedelta(rng.randint(0, 2))
    entries, left_out["2026-10"] = _ledger_entries(DEP_OWN, own.decisions, "2026-10", 89, rng)
    sc.ledgers.append(Ledger(DEP_OWN, "2026-10", day, "台账_2026-10.csv", entries))
    day = date(2026, 11, 11) + timedelta(rng.randint(0, 3))
    sc.ledgers.append(Ledger(COUNTY, "2026-10", day, "台账_2026-10.csv",
                             county_entries("2026-10", 89)))  # fmt: skip


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
