"""What the office should see of the generated months as of a day, computed by plain loops.

Independent of the code under test: it reads only the scenario (and the bytes of the landed
files, for their hashes and row counts), counts workdays with chinesecalendar day by day, and
applies docs/policy.md as written — record identity (section 5), the rates (6), points items
5–9 (7), open problems (9) — one record, one entry, one day at a time, with these rules of
knowledge as of a day D:

- only what was received on or before D exists: upload files, ledgers and zero reports;
- the ledger that counts for a month is the latest received by D; item 5 takes the first one;
- a problem is open unless a version received by D corrected it; item 9 counts the errors
  first reported in the month (and by D), each until it was corrected or D;
- timely ⇔ decided ≤ received ≤ the 7th workday after the decision date (a decision dated
  after its upload is late);
- a zero report is contradicted by any record of the unit with some version decided in its
  month: item 8 = 0 and items 6–7 from the month's uploads; otherwise item 8 = 10 and items
  6–7 = 10 when nothing was uploaded in the month;
- 台账未列 (unlisted): for a unit with a ledger or zero report for the month, the records whose
  current version is decided in the month and that the current ledger does not list.

A county and its departments (``PARENT``: the units whose ``parent`` is the county) are a
family (docs/policy.md section 1; every other unit is a family of its own):

- an entry of any member's current ledger matches (and lists) a record of any member: same
  kind and 文书号, and when the family holds several records of that 文书号, an entry naming
  one of the records' subject codes or names (or no code);
- a record is unlisted when the family has some current ledger for the month and no entry of
  any member's current ledger lists it;
- a record contradicts the zero report of the unit whose ledger covers it: its own unit when
  that unit has a current ledger for the month, else the family's head;
- each unit keeps its own rows; the county's rows (and points) are the family's: the counts
  summed, the ledger received on the latest of the members' first receipts, a zero report
  when some member's current ledger is one and every member with a current ledger sent one,
  and item 9 over the errors of every member.
"""

from __future__ import annotations

import csv
import functools
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import chinese_calendar

from support.month_scenario import (
    AUTHORITY,
    MONTHS,
    PARENT,
    PERIODS,
    PREFIX,
    UNITS,
    ZERO_NAME,
    Landed,
    Line,
    Scenario,
    month_of,
)
from support.rates_builders import PENALTY, PERMIT
from support.records import document_key

DEADLINE, CORRECTION, LEDGER_DUE, LATE_LIMIT, FULL = 7, 5, 3, 10, 10.0
KINDS = ("permit", "penalty")
KIND_OF = {PERMIT: "permit", PENALTY: "penalty"}
#: The ranking groups of the scenario's units: the county's departments are not ranked.
COUNTY_GROUP, DEPARTMENT_GROUP, CITY_GROUP = "县区", "县区部门", "市直部门"


def family_of(unit: str) -> str:
    """The head of a unit's family: its county, or itself."""
    return PARENT.get(unit, unit)


def members_of(head: str) -> list[str]:
    return [head, *(u for u in UNITS if PARENT.get(u) == head)]


def group_of(unit: str) -> str:
    if unit in PARENT:
        return DEPARTMENT_GROUP
    return COUNTY_GROUP if unit in PARENT.values() else CITY_GROUP


# ----------------------------------------------------------------------------- workdays


def workday(d: date) -> bool:
    return chinese_calendar.is_workday(d)


def nth_workday_after(d: date, n: int) -> date:
    while n:
        d += timedelta(days=1)
        n -= workday(d)
    return d


def workdays_in(a: date, b: date) -> int:
    """Workdays in (a, b]."""
    return sum(workday(a + timedelta(days=i)) for i in range(1, (b - a).days + 1))


def last_day(period: str) -> date:
    year, month = int(period[:4]), int(period[5:])
    return date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)


def ledger_due(period: str) -> date:
    return nth_workday_after(last_day(period), LEDGER_DUE)


def late_score(done: date | None, due: date, as_of: date) -> float | None:
    """Lateness rule: 10 by the due date, −1 per workday late, 0 beyond 10; pending (None)
    while not done and not yet due; not done and overdue scores as if done on ``as_of``."""
    if done is None and as_of <= due:
        return None
    end = done or as_of
    late = workdays_in(due, end) if end > due else 0
    return 0.0 if late > LATE_LIMIT else float(10 - late)


# ----------------------------------------------------------------------------- records


@dataclass
class Version:
    received: date
    file: str
    sha: str
    row: int
    line: Line
    duplicate: bool  # a repeat of an earlier row of its file (``duplicate`` error)

    def problems(self, kind: str) -> set[tuple[str, str]]:
        p = PREFIX[kind]
        found = set()
        if self.line.broken:
            found.add((AUTHORITY[kind], "required"))
        if self.line.bad_code:
            found.add((f"{p}_XDR_SHXYM", "uscc_check"))
        if self.duplicate:
            found.add((f"{p}_WSH", "duplicate"))
        if self.line.decided > self.received:
            found.add((f"{p}_JDRQ", "date_range"))
        return found


@dataclass
class Record:
    unit: str
    kind: str
    doc: str
    versions: list[Version] = field(default_factory=list)

    def ordered(self) -> list[Version]:
        return sorted(self.versions, key=lambda v: (v.received, v.file, v.sha, v.row))

    def codes(self) -> set[str]:
        return {v.line.code.upper() for v in self.versions}

    def names(self) -> set[str]:
        return {v.line.name for v in self.versions}


@functools.cache
def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sha_of(landed: Landed) -> str:
    return _sha(landed.path)


def stored_uploads(files: list[Landed]) -> list[tuple[Landed, str]]:
    """The upload files that are stored: the first copy of each (unit, kind, bytes)."""
    seen, out = set(), []
    for f in sorted((f for f in files if f.upload), key=lambda f: (f.received, f.path.name)):
        key = (f.unit, f.kind, sha_of(f))
        if key not in seen:
            seen.add(key)
            out.append((f, key[2]))
    return out


def records_of(files: list[Landed]) -> list[Record]:
    """Identity per docs/policy.md section 5, file by file in version order."""
    records: list[Record] = []
    for f, sha in stored_uploads(files):
        assert f.upload is not None
        groups: dict[tuple[str, str], list[tuple[int, Line, bool]]] = {}
        seen_in_file: set[tuple[str, str]] = set()
        for i, line in enumerate(f.upload.lines):
            key = (document_key(line.doc), line.code)
            groups.setdefault(key, []).append((i + 2, line, key in seen_in_file))
            seen_in_file.add(key)
        per_doc: dict[str, int] = defaultdict(int)
        for doc, _ in groups:
            per_doc[doc] += 1
        taken: set[int] = set()
        assignment: dict[tuple[str, str], Record] = {}
        # Best match first: by code, then by name, then the sole record; earlier rows first.
        for score in (3, 2, 1):
            for key, rows in sorted(groups.items(), key=lambda kv: kv[1][0][0]):
                if key in assignment:
                    continue
                doc, code = key
                name = rows[0][1].name
                stored = [r for r in records if (r.unit, r.kind, r.doc) == (f.unit, f.kind, doc)]
                for r in stored:  # the earliest stored record first
                    if id(r) in taken:
                        continue
                    ok = {3: code.upper() in r.codes(), 2: name in r.names(),
                          1: per_doc[doc] == 1 and len(stored) == 1}[score]  # fmt: skip
                    if ok:
                        assignment[key] = r
                        taken.add(id(r))
                        break
        for key, rows in groups.items():
            rec = assignment.get(key)
            if rec is None:
                rec = Record(f.unit, f.kind, key[0])
                records.append(rec)
            for row, line, dup in rows:
                rec.versions.append(Version(f.received, f.path.name, sha, row, line, dup))
    return records


def timely(v: Version) -> bool:
    decided = v.line.decided
    return decided <= v.received <= nth_workday_after(decided, DEADLINE)


def valid(v: Version, kind: str) -> bool:
    return not v.problems(kind)


# ----------------------------------------------------------------------------- ledgers


@dataclass(frozen=True)
class Sent:
    """A ledger or a zero report (``entries`` None) as stored for a unit and month."""

    unit: str
    period: str
    received: date
    name: str
    entries: tuple | None


def sent_by(sc: Scenario, files: list[Landed], as_of: date) -> list[Sent]:
    out = [
        Sent(f.unit, f.ledger.period, f.received, f.path.name, tuple(f.ledger.entries))
        for f in files
        if f.ledger and f.received <= as_of
    ]
    out += [Sent(z.unit, z.period, z.received, ZERO_NAME, None) for z in sc.zeros
            if z.received <= as_of]  # fmt: skip
    # The scenario never sends two for one month on one day: the received date orders them.
    days = [(s.unit, s.period, s.received) for s in out]
    assert len(days) == len(set(days)), "two ledgers of a month on one day"
    return out


def entry_kind(lb: str) -> str | None:
    return KIND_OF.get(lb)


def listed(rec: Record, same_doc: int, entries: tuple) -> bool:
    """Whether a ledger lists a record (台账未列 otherwise)."""
    for lb, doc, name, code, _ in entries:
        if entry_kind(lb) != rec.kind or document_key(doc) != rec.doc:
            continue
        if same_doc == 1 or not code or code.upper() in rec.codes() or name in rec.names():
            return True
    return False


# ----------------------------------------------------------------------------- as of a day


@dataclass
class Expected:
    seed: int
    as_of: date
    rates: dict[tuple[str, str, str], dict]  # (unit, kind, month) -> the row's counts and flags
    own: dict[tuple[str, str, str], dict]  # the same, before a county's family is added up
    unclassified: dict[tuple[str, str], int]  # (unit, period) -> unclassified ledger entries
    points: dict[tuple[str, str], dict[str, float | None]]  # (unit, period) -> item_5..item_9
    unlisted: dict[str, list[tuple]]  # period -> sorted rows of 台账未列
    open_problems: dict[str, list[tuple[str, int, str]]]  # unit -> (file, row, field)
    records: dict[tuple[str, str], int]  # (unit, kind) -> records stored
    rows_in_files: int
    groups: dict[str, str]  # unit -> ranking group (县区部门: not ranked)


ZERO_ROW = dict(uploaded=0, timely=0, timeliness_undecided=0, compliant=0, ledger_entries=0,
                ledger_matched=0, zero_report=False, zero_report_contradicted=0,
                ledger_received=None, parent_code=None)  # fmt: skip
#: The counts a county's row adds up over its family.
SUMMED = ("uploaded", "timely", "timeliness_undecided", "compliant", "ledger_entries",
          "ledger_matched", "zero_report_contradicted")  # fmt: skip


def expected(sc: Scenario, files: list[Landed], as_of: date) -> Expected:
    known = [f for f in files if f.received <= as_of]
    records = records_of(known)
    own = {(u, k, m): dict(ZERO_ROW, parent_code=PARENT.get(u))
           for u in UNITS for k in KINDS for m in MONTHS}  # fmt: skip
    for r in records:
        first = r.ordered()[0]
        row = own[(r.unit, r.kind, month_of(first.received))]
        row["uploaded"] += 1
        row["timely"] += timely(first)
        row["compliant"] += valid(first, r.kind)
    # The records of each family by kind and 文书号: what a ledger entry of a member matches.
    family_docs: dict[tuple[str, str, str], list[Record]] = defaultdict(list)
    for r in records:
        family_docs[(family_of(r.unit), r.kind, r.doc)].append(r)

    sent = sent_by(sc, files, as_of)
    current: dict[tuple[str, str], Sent] = {}
    first_receipt: dict[tuple[str, str], date] = {}
    for s in sorted(sent, key=lambda s: (s.received, s.name)):
        current[(s.unit, s.period)] = s
        first_receipt.setdefault((s.unit, s.period), s.received)
    for unit, period in current:
        for kind in KINDS:
            own[(unit, kind, period)]["ledger_received"] = first_receipt[(unit, period)]

    # Completeness: the current ledgers' entries, each repeat once, matched against records.
    unclassified: dict[tuple[str, str], int] = defaultdict(int)
    for (unit, period), led in current.items():
        if led.entries is None:
            continue
        names_seen, codes_seen = set(), set()
        for lb, doc, name, code, _ in led.entries:
            kind, key = entry_kind(lb), document_key(doc)
            if (kind, key, name) in names_seen or (kind, key, code) in codes_seen:
                continue  # repeats an earlier entry: counted once
            names_seen.add((kind, key, name))
            codes_seen.add((kind, key, code))
            if kind is None:
                unclassified[(unit, period)] += 1
                continue
            same = family_docs.get((family_of(unit), kind, key), [])
            matched = bool(same) and (
                len(same) == 1
                or not code
                or any(code.upper() in r.codes() or name in r.names() for r in same)
            )
            own[(unit, kind, period)]["ledger_entries"] += 1
            own[(unit, kind, period)]["ledger_matched"] += matched

    # Zero reports: contradicted by a record with some version decided in the month, counted
    # for the unit whose ledger covers the record (its own unit's, else its county's).
    for (unit, period), led in current.items():
        if led.entries is not None:
            continue
        for kind in KINDS:
            n = 0
            for r in records:
                covering = r.unit if (r.unit, period) in current else family_of(r.unit)
                if (
                    r.kind == kind
                    and covering == unit
                    and any(month_of(v.line.decided) == period for v in r.versions)
                ):
                    n += 1
            own[(unit, kind, period)] |= {"zero_report": True, "zero_report_contradicted": n}

    # Each unit's rows as shown: its own, a county's over its family.
    rates = {key: dict(row) for key, row in own.items()}
    for head in sorted(set(PARENT.values())):
        members = members_of(head)
        for period in MONTHS:
            unclassified[(head, period)] = sum(unclassified.get((u, period), 0) for u in members)
            with_ledger = [u for u in members if (u, period) in current]
            for kind in KINDS:
                row = rates[(head, kind, period)]
                for c in SUMMED:
                    row[c] = sum(own[(u, kind, period)][c] for u in members)
                receipts = [first_receipt[(u, period)] for u in with_ledger]
                row["ledger_received"] = max(receipts) if receipts else None
                zeros = [u for u in with_ledger if current[(u, period)].entries is None]
                row["zero_report"] = bool(zeros) and len(zeros) == len(with_ledger)
    unclassified = {key: n for key, n in unclassified.items() if n}

    # 台账未列: records decided (current version) in a month, of a family with a current
    # ledger or zero report for it, that no entry of the family's current ledgers lists.
    unlisted: dict[str, list[tuple]] = {p: [] for p in PERIODS}
    for r in records:
        cur = r.ordered()[-1]
        period, family = month_of(cur.line.decided), family_of(r.unit)
        ledgers = [led for (u, p), led in current.items()
                   if p == period and family_of(u) == family]  # fmt: skip
        if not ledgers:
            continue
        same_doc = len(family_docs[(family, r.kind, r.doc)])
        if not any(led.entries is not None and listed(r, same_doc, led.entries) for led in ledgers):
            unlisted[period].append((r.unit, r.kind, cur.line.doc, cur.line.name,
                                     cur.line.decided, cur.received, cur.file))  # fmt: skip
    unlisted = {p: sorted(rows) for p, rows in unlisted.items()}

    # Problems (errors only: every defect of the scenario is an error).
    open_problems: dict[str, list] = defaultdict(list)
    late_workdays: dict[tuple[str, str], int] = defaultdict(int)
    for r in records:
        versions = r.ordered()
        found: dict[tuple[str, str], list[int]] = defaultdict(list)
        for i, v in enumerate(versions):
            for p in v.problems(r.kind):
                found[p].append(i)
        for (fld, _rule), where in found.items():
            last = where[-1]
            reported = versions[where[0]].received
            corrected = versions[last + 1].received if last + 1 < len(versions) else None
            if corrected is None:
                cur = versions[-1]
                open_problems[r.unit].append((cur.file, cur.row, fld))
            deadline = nth_workday_after(reported, CORRECTION)
            end = min(corrected or as_of, as_of)
            late = workdays_in(deadline, end) if end > deadline else 0
            late_workdays[(r.unit, month_of(reported))] += late
    # The current ledgers' own problems (open until a new ledger): an unreadable 类别, a repeat.
    for (unit, _period), led in current.items():
        names_seen, codes_seen = set(), set()
        for i, (lb, doc, name, code, _) in enumerate(led.entries or ()):
            kind, key = entry_kind(lb), document_key(doc)
            if kind is None:
                open_problems[unit].append((led.name, i + 2, "LB"))
            if (kind, key, name) in names_seen or (kind, key, code) in codes_seen:
                open_problems[unit].append((led.name, i + 2, "WSH"))
            names_seen.add((kind, key, name))
            codes_seen.add((kind, key, code))

    points: dict[tuple[str, str], dict[str, float | None]] = {}
    for period in PERIODS:
        for unit in UNITS:
            rows = [rates[(unit, k, period)] for k in KINDS]
            n = sum(x["uploaded"] for x in rows)
            t = sum(x["timely"] for x in rows)
            c = sum(x["compliant"] for x in rows)
            e = sum(x["ledger_entries"] for x in rows) + unclassified.get((unit, period), 0)
            m = sum(x["ledger_matched"] for x in rows)
            # A county's errors are its family's; a department's its own.
            members = members_of(unit) if unit in PARENT.values() else [unit]
            late = sum(late_workdays.get((u, period), 0) for u in members)
            items: dict[str, float | None] = {
                "item_5": late_score(rows[0]["ledger_received"], ledger_due(period), as_of),
                "item_6": round(10 * t / n, 2) if n else None,
                "item_7": round(10 * c / n, 2) if n else None,
                "item_8": round(10 * m / e, 2) if e else None,
                "item_9": float(max(0, 10 - late)),
            }
            if rows[0]["zero_report"]:  # a zero report (for a county: the family's)
                if any(x["zero_report_contradicted"] for x in rows):
                    items["item_8"] = 0.0
                else:
                    items["item_8"] = FULL
                    if n == 0:
                        items |= {"item_6": FULL, "item_7": FULL}
            points[(unit, period)] = items

    per_unit: dict[tuple[str, str], int] = defaultdict(int)
    for r in records:
        per_unit[(r.unit, r.kind)] += 1
    rows_in_files = 0
    for f, _ in stored_uploads(known):
        with f.path.open(encoding="utf-8-sig", newline="") as fh:
            rows_in_files += sum(1 for _ in csv.reader(fh)) - 1
    return Expected(sc.seed, as_of, rates, own, unclassified, points, unlisted,
                    {u: sorted(p) for u, p in open_problems.items()}, dict(per_unit),
                    rows_in_files, {u: group_of(u) for u in UNITS})  # fmt: skip
