"""What the office should see after a generated month, computed by plain loops.

Independent of the code under test: it reads only the scenario (and the bytes of the landed
files, for their hashes and row counts), counts workdays with chinesecalendar day by day, and
applies docs/policy.md as written — record identity (section 5), the rates (6), points items
5–9 (7) and open problems (9) — one record, one entry, one day at a time.
"""

from __future__ import annotations

import csv
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

import chinese_calendar

from support.month_scenario import AS_OF, AUTHORITY, PERIOD, PREFIX, Landed, Line, Scenario
from support.rates_builders import PENALTY, PERMIT
from support.records import document_key

DEADLINE, CORRECTION, LEDGER_DUE, LATE_LIMIT = 7, 5, 3, 10


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


def month_of(d: date) -> str:
    return d.strftime("%Y-%m")


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
        return {v.line.code for v in self.versions}

    def names(self) -> set[str]:
        return {v.line.name for v in self.versions}


def sha_of(landed: Landed) -> str:
    return hashlib.sha256(landed.path.read_bytes()).hexdigest()


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
                    ok = {3: code in r.codes(), 2: name in r.names(),
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


# ----------------------------------------------------------------------------- rates


def timely(v: Version) -> bool:
    decided = v.line.decided
    return v.received <= decided or v.received <= nth_workday_after(decided, DEADLINE)


def valid(v: Version, kind: str) -> bool:
    return not v.problems(kind)


@dataclass
class Expected:
    rates: dict[tuple[str, str, str], dict]  # (unit, kind, month) -> counts
    unclassified: dict[str, int]
    points: dict[str, dict[str, float | None]]  # unit -> item_5..item_9
    open_problems: dict[str, list[tuple[str, int, str]]]  # unit -> (file, row, field)
    rows_in_files: int


def current_ledgers(sc: Scenario) -> dict[str, object]:
    out = {}
    for led in sorted(sc.ledgers, key=lambda g: (g.received, g.name)):
        out[led.unit] = led
    return out


def ledger_counts(sc: Scenario, records: list[Record]) -> tuple[dict, dict]:
    """(unit, kind) -> [entries, matched]; unit -> unclassified entries."""
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    unclassified: dict[str, int] = defaultdict(int)
    for unit, led in current_ledgers(sc).items():
        names_seen, codes_seen = set(), set()
        for lb, doc, name, code, _ in led.entries:
            kind = {PERMIT: "permit", PENALTY: "penalty"}.get(lb)
            key = document_key(doc)
            if (kind, key, name) in names_seen or (kind, key, code) in codes_seen:
                continue  # repeats an earlier entry: counted once
            names_seen.add((kind, key, name))
            codes_seen.add((kind, key, code))
            if kind is None:
                unclassified[unit] += 1
                continue
            same = [r for r in records if (r.unit, r.kind, r.doc) == (unit, kind, key)]
            matched = bool(same) and (
                len(same) == 1 or any(code in r.codes() or name in r.names() for r in same)
            )
            counts[(unit, kind)][0] += 1
            counts[(unit, kind)][1] += matched
    return counts, unclassified


def late_score(done: date | None, due: date) -> float | None:
    end = done or AS_OF
    if done is None and due >= AS_OF:
        return None
    late = workdays_in(due, end) if end > due else 0
    return 0.0 if late > LATE_LIMIT else float(10 - late)


def expected(sc: Scenario, files: list[Landed]) -> Expected:
    records = records_of(files)
    rates: dict[tuple[str, str, str], dict] = defaultdict(
        lambda: dict(uploaded=0, timely=0, compliant=0)
    )
    for r in records:
        first = r.ordered()[0]
        row = rates[(r.unit, r.kind, month_of(first.received))]
        row["uploaded"] += 1
        row["timely"] += timely(first)
        row["compliant"] += valid(first, r.kind)
    ledger, unclassified = ledger_counts(sc, records)
    for (unit, kind), (entries, matched) in ledger.items():
        rates[(unit, kind, PERIOD)] |= {"ledger_entries": entries, "ledger_matched": matched}

    # Problems (errors only: every defect of the scenario is an error).
    open_problems: dict[str, list] = defaultdict(list)
    item9_late: dict[str, int] = defaultdict(int)
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
            if month_of(reported) == PERIOD:
                deadline = nth_workday_after(reported, CORRECTION)
                end = min(corrected or AS_OF, AS_OF)
                item9_late[r.unit] += workdays_in(deadline, end) if end > deadline else 0

    # The current ledgers' own problems (open until a new ledger): an unreadable 类别, a repeat.
    for unit, led in current_ledgers(sc).items():
        names_seen, codes_seen = set(), set()
        for i, (lb, doc, name, code, _) in enumerate(led.entries):
            kind = {PERMIT: "permit", PENALTY: "penalty"}.get(lb)
            if kind is None:
                open_problems[unit].append((led.name, i + 2, "LB"))
            key = document_key(doc)
            if (kind, key, name) in names_seen or (kind, key, code) in codes_seen:
                open_problems[unit].append((led.name, i + 2, "WSH"))
            names_seen.add((kind, key, name))
            codes_seen.add((kind, key, code))

    ledger_due = nth_workday_after(date(2026, 11, 30), LEDGER_DUE)
    first_receipt: dict[str, date] = {}
    for led in sc.ledgers:
        first_receipt[led.unit] = min(led.received, first_receipt.get(led.unit, led.received))
    zero_unit, zero_day = sc.zero
    first_receipt[zero_unit] = min(zero_day, first_receipt.get(zero_unit, zero_day))

    points: dict[str, dict[str, float | None]] = {}
    units = {*(u.unit for u in sc.uploads), *(f.unit for f in files), zero_unit}
    for unit in units:
        up = [rates.get((unit, k, PERIOD), {}) for k in ("permit", "penalty")]
        n = sum(x.get("uploaded", 0) for x in up)
        t = sum(x.get("timely", 0) for x in up)
        c = sum(x.get("compliant", 0) for x in up)
        e = sum(x.get("ledger_entries", 0) for x in up) + unclassified.get(unit, 0)
        m = sum(x.get("ledger_matched", 0) for x in up)
        items: dict[str, float | None] = {
            "item_5": late_score(first_receipt.get(unit), ledger_due),
            "item_6": round(10 * t / n, 2) if n else None,
            "item_7": round(10 * c / n, 2) if n else None,
            "item_8": round(10 * m / e, 2) if e else None,
            "item_9": float(max(0, 10 - item9_late.get(unit, 0))),
        }
        if unit == zero_unit and n == 0:
            items |= {"item_6": 10.0, "item_7": 10.0, "item_8": 10.0}
        points[unit] = items

    rows = 0
    for f, _ in stored_uploads(files):
        with f.path.open(encoding="utf-8-sig", newline="") as fh:
            rows += sum(1 for _ in csv.reader(fh)) - 1
    return Expected(dict(rates), dict(unclassified), points,
                    {u: sorted(p) for u, p in open_problems.items()}, rows)  # fmt: skip
