"""Reproducible 双公示 sample records for Changzhi: the demo's data, the tests' oracle, the load
of the benchmark.

:func:`generate` builds a frame of one record kind exactly as a clerk would type it (every cell
text, dates mostly ``YYYY/MM/DD``, blanks as null) and, when asked, injects defects whose
expected validator errors are listed in :attr:`Sample.defects` (see :mod:`sgs.samples.defects`).
:mod:`sgs.samples.writers` writes a frame the way units upload it.

Why it is built from arrays: the benchmark needs a million rows in seconds.  Every column is
drawn from small vocabularies (:mod:`sgs.samples.vocab`) or computed by numpy/polars over whole
arrays (identifiers in :mod:`sgs.samples.codes`); Python loops run over vocabulary entries and
units (tens), never over rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from sgs.reference.catalogue import load_catalogue
from sgs.reference.units import load_units, resolve_unit
from sgs.samples import codes as sc
from sgs.samples import vocab
from sgs.samples.columns import choose, concat_text, null_unless, take
from sgs.samples.defects import inject
from sgs.samples.facts import (
    DATE_STYLE_WEIGHTS,
    DATE_STYLES,
    RowFacts,
    format_dates,
    to_days,
)
from sgs.samples.subjects import subject_classes, subject_columns

Rng = np.random.Generator


@dataclass(frozen=True)
class Sample:
    """Generated records of one kind and the defects injected into them.

    ``defects`` has one row per expected validator finding: ``row_index`` (0-based data row),
    ``field``, ``rule``, ``severity``.  Validate ``frame`` with ``received`` as the upload date.
    """

    kind: str
    frame: pl.DataFrame
    defects: pl.DataFrame
    received: date


def generate(
    kind: str,
    n: int,
    *,
    seed: int = 0,
    defect_rate: float = 0.0,
    unit: str | None = None,
    start: date = date(2026, 1, 1),
    end: date = date(2026, 10, 31),
    received: date | None = None,
    serial_start: int = 1,
) -> Sample:
    """``n`` records of ``kind`` ("permit" | "penalty"), the same for the same arguments.

    Decision dates fall in ``[start, min(end, received)]``; ``received`` (default ``end``) is
    the upload date the validator must be given.  With ``defect_rate`` 0 every row passes every
    rule, warnings included; otherwise ``round(n * defect_rate)`` rows carry exactly one defect
    each.  ``unit`` (a USCC or full name from ``config/units.csv``) puts every row in that
    unit; by default rows spread over all units.  Document numbers count from
    ``serial_start`` per unit and year, so consecutive files of one unit can continue the
    numbering instead of reusing it (which would read as re-submissions).
    """
    cat = load_catalogue()
    spec = cat.kind(kind)
    if n < 0:
        raise ValueError("n must be >= 0")
    if not 0.0 <= defect_rate <= 1.0:
        raise ValueError("defect_rate must be within [0, 1]")
    if serial_start < 1:
        raise ValueError("serial_start must be >= 1")
    received = received or end
    last = min(end, received)
    if last < start:
        raise ValueError(f"no decision date possible: start {start} is after {last}")
    if start < cat.founding_date:
        raise ValueError(f"start {start} is before {cat.founding_date}")

    rng = np.random.default_rng(seed)
    units = _units(unit)
    columns, facts = _build(
        kind, n, rng, units, to_days(start), to_days(last), to_days(received), serial_start
    )
    frame = pl.DataFrame(columns).select(spec.codes)
    frame, defects = inject(frame, facts, defect_rate, rng)
    return Sample(kind, frame, defects, received)


# ----------------------------------------------------------------------------- dates and amounts


def _add_months(days: np.ndarray, months: np.ndarray) -> np.ndarray:
    """``days`` plus ``months`` calendar months minus one day (a validity ending the day before)."""
    frame = pl.DataFrame({"d": pl.Series(days.astype(np.int32)).cast(pl.Date), "m": months})
    shifted = frame.select(
        pl.col("d").dt.offset_by(pl.format("{}mo", pl.col("m"))) - pl.duration(days=1)
    )
    return shifted.to_series().cast(pl.Int32).to_numpy().astype(np.int64)


def _decision_days(rng: Rng, n: int, first: int, last: int) -> np.ndarray:
    """Uniform over the period, most weekend days moved to the adjacent workday."""
    days = rng.integers(first, last + 1, n)
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    move = rng.random(n) < 0.85
    days = days - ((weekday == 5) & move) + ((weekday == 6) & move)
    return np.clip(days, first, last)


def _yuan_text(amount: pl.Expr, scale: int) -> pl.Expr:
    """An integer amount in 1/``scale`` units as a decimal without trailing zeros."""
    width = len(str(scale)) - 1
    whole = (amount // scale).cast(pl.String)
    frac = (amount % scale).cast(pl.String).str.zfill(width).str.strip_chars_end("0")
    return pl.when(frac == "").then(whole).otherwise(pl.concat_str([whole, pl.lit("."), frac]))


# ----------------------------------------------------------------------------- units


@dataclass(frozen=True)
class _Unit:
    code: str
    name: str
    prefix: str  # of document numbers: 长, 潞州, 长高新 …
    profiles: tuple[int, ...]  # indices into vocab.PROFILES


_PROFILE_INDEX = {p.key: i for i, p in enumerate(vocab.PROFILES)}


def _unit_profiles(name: str, unit_type: str) -> tuple[int, ...]:
    if unit_type == "department":
        for i, profile in enumerate(vocab.PROFILES):
            if any(k in name for k in profile.keywords):
                return (i,)
    return tuple(_PROFILE_INDEX[k] for k in vocab.LOCAL_PROFILES)


def _unit_prefix(name: str, unit_type: str) -> str:
    if unit_type == "zone":
        for key, abbr in vocab.ZONE_ABBRS.items():
            if key in name:
                return abbr
    if unit_type == "county":
        for county, _ in vocab.COUNTIES:
            if county in name:
                return county[:-1] if len(county) > 2 else county
    return "长"


def _units(unit: str | None) -> list[_Unit]:
    """The units a sample is spread over: the city's departments, counties and zones — a
    county's own departments upload only when named (their figures count in the county's), so
    adding one to the registry leaves the seeded samples as they were."""
    import polars as pl

    table = load_units()
    spread = table.filter(pl.col("parent").is_null())
    rows = [resolve_unit(unit, table)] if unit else spread.iter_rows(named=True)
    return [
        _Unit(
            r["code"],
            r["name"],
            _unit_prefix(r["name"], r["type"]),
            _unit_profiles(r["name"], r["type"]),
        )
        for r in rows
    ]


def _unit_weight(u: _Unit, kind: str) -> float:
    if len(u.profiles) > 1:  # a county or zone reports for many bureaus
        return 3.0 if u.prefix not in vocab.ZONE_ABBRS.values() else 1.5
    p = vocab.PROFILES[u.profiles[0]]
    return p.permit_weight if kind == "permit" else p.penalty_weight


def _assign_units(rng: Rng, n: int, units: list[_Unit], kind: str) -> tuple[np.ndarray, np.ndarray]:
    """(unit index, profile index) per row."""
    unit_idx = choose(rng, len(units), n, [_unit_weight(u, kind) for u in units])
    profile_idx = np.empty(n, dtype=np.int64)
    for i, u in enumerate(units):
        rows = np.flatnonzero(unit_idx == i)
        if len(u.profiles) == 1:
            profile_idx[rows] = u.profiles[0]
            continue
        ps = [vocab.PROFILES[p] for p in u.profiles]
        w = [p.permit_weight if kind == "permit" else p.penalty_weight for p in ps]
        profile_idx[rows] = np.asarray(u.profiles)[choose(rng, len(ps), len(rows), w)]
    return unit_idx, profile_idx


# ----------------------------------------------------------------------------- record kinds


@dataclass(frozen=True)
class _Base:
    """What both record kinds share: the random stream, who decided, when, in which style."""

    rng: np.random.Generator
    n: int
    units: list[_Unit]
    unit_idx: np.ndarray
    profile_idx: np.ndarray
    style: np.ndarray
    decision: np.ndarray  # days since 1970-01-01
    birth_latest: int  # days; people are adults at the earliest decision
    received: int  # days


def _build(
    kind: str,
    n: int,
    rng: Rng,
    units: list[_Unit],
    first: int,
    last: int,
    received: int,
    serial_start: int,
) -> tuple[dict[str, pl.Series], RowFacts]:
    unit_idx, profile_idx = _assign_units(rng, n, units, kind)
    style = choose(rng, len(DATE_STYLES), n, DATE_STYLE_WEIGHTS).astype(np.int8)
    decision = _decision_days(rng, n, first, last)
    base = _Base(rng, n, units, unit_idx, profile_idx, style, decision, first - 18 * 366, received)
    build = _permit_columns if kind == "permit" else _penalty_columns
    columns, facts = build(base)
    abbr = columns.pop("__abbr")
    number = _document_numbers(units, unit_idx, abbr, decision, serial_start)
    columns[f"{facts.prefix}_WSH"] = number.alias(f"{facts.prefix}_WSH")
    return columns, facts


def _document_numbers(
    units: list[_Unit], unit_idx: np.ndarray, abbr: pl.Series, decision: np.ndarray, first: int
) -> pl.Series:
    """〔year〕 and a serial counted per unit and year in decision order: unique per unit."""
    year = pl.Series(decision.astype(np.int32)).cast(pl.Date).dt.year()
    frame = pl.DataFrame({"u": unit_idx, "y": year, "d": decision, "abbr": abbr})
    serial = pl.col("d").rank("ordinal").over("u", "y") + (first - 1)
    prefix = take([u.prefix for u in units], unit_idx)
    return frame.select(
        pl.concat_str(
            [
                pl.lit(prefix),
                pl.col("abbr"),
                pl.lit("〔"),
                pl.col("y").cast(pl.String),
                pl.lit("〕"),
                serial.cast(pl.String),
                pl.lit("号"),
            ]
        )
    ).to_series()


def _remarks(rng: Rng, n: int, choices: Sequence[str]) -> pl.Series:
    return null_unless(rng.random(n) < 0.12, take(choices, rng.integers(0, len(choices), n)))


def _unit_columns(
    b: _Base, name_col: str, code_col: str, src_col: str, src_code_col: str
) -> dict[str, pl.Series]:
    """The deciding authority is also the data source: units report their own decisions."""
    names = take([u.name for u in b.units], b.unit_idx)
    codes = take([u.code for u in b.units], b.unit_idx)
    return {name_col: names, code_col: codes, src_col: names, src_code_col: codes}


def _permit_columns(b: _Base) -> tuple[dict[str, pl.Series], RowFacts]:
    rng, n, decision, style = b.rng, b.n, b.decision, b.style
    types = [(pi, t) for pi, p in enumerate(vocab.PROFILES) for t in p.permits]
    type_idx = np.empty(n, dtype=np.int64)
    for pi in range(len(vocab.PROFILES)):
        rows = np.flatnonzero(b.profile_idx == pi)
        ids = [i for i, (q, _) in enumerate(types) if q == pi]
        w = [types[i][1].weight for i in ids]
        type_idx[rows] = np.asarray(ids)[choose(rng, len(ids), len(rows), w)]
    spec = [t for _, t in types]
    flag_values = sorted({t.subjects for t in spec})
    flags = np.asarray([flag_values.index(t.subjects) for t in spec])[type_idx]
    subject = subject_classes(rng, flags, flag_values)
    cols = _prefixed("XK", subject_columns(rng, subject, b.birth_latest))

    # Contents: one of the type's variants.
    contents = [c for t in spec for c in t.contents]
    offsets = np.cumsum([0] + [len(t.contents) for t in spec])[:-1]
    counts = np.asarray([len(t.contents) for t in spec])
    content_idx = offsets[type_idx] + rng.integers(0, 1 << 30, n) % counts[type_idx]

    months = np.asarray([t.months for t in spec])[type_idx]
    valid_from = decision + np.where(rng.random(n) < 0.9, 0, rng.integers(1, 16, n))
    valid_to = np.where(
        months > 0,
        _add_months(valid_from, np.maximum(months, 1)),
        to_days(load_catalogue().long_term_date),
    )
    number_prefix = take([t.number[0] if t.number else None for t in spec], type_idx)
    widths = np.asarray([t.number[1] if t.number else 1 for t in spec])[type_idx]
    serial = (rng.random(n) * 10.0**widths).astype(np.int64)
    number = pl.select(
        pl.concat_str(
            [
                pl.lit(number_prefix),
                pl.lit(pl.Series(serial)).cast(pl.String).str.zfill(pl.lit(pl.Series(widths))),
            ]
        )
    ).to_series()
    abbr = concat_text(
        take([vocab.PROFILES[pi].abbr for pi, _ in types], type_idx),
        take([t.sub for t in spec], type_idx),
    )
    status = take(("有效", "1", "无效", "2"), choose(rng, 4, n, (0.55, 0.38, 0.04, 0.03)))
    cols |= {
        "XK_XKWS": take([t.title for t in spec], type_idx),
        "__abbr": abbr,
        "XK_XKLB": take([t.category for t in spec], type_idx),
        "XK_XKZS": take([t.certificate for t in spec], type_idx),
        "XK_XKBH": number,
        "XK_NR": take(contents, content_idx),
        "XK_JDRQ": format_dates(decision, style),
        "XK_YXQZ": format_dates(valid_from, style),
        "XK_YXQZI": format_dates(valid_to, style),
        "XK_ZT": status,
        "BZ": _remarks(rng, n, vocab.PERMIT_REMARKS),
    }
    cols |= _unit_columns(b, "XK_XKJG", "XK_XKJGDM", "XK_LYDW", "XK_LYDWDM")
    facts = RowFacts("permit", "XK", subject, style, decision, valid_from, None, b.received)
    return {k: v.alias(k) for k, v in cols.items()}, facts


def _prefixed(prefix: str, subjects: pl.DataFrame) -> dict[str, pl.Series]:
    return {f"{prefix}_{c}": subjects[c] for c in subjects.columns}


# What a penalty category reads like in 处罚内容; {F} fine, {W} confiscated, {L} licence,
# {D} days of detention.
PENALTY_TEXT = {
    "警告": "警告",
    "通报批评": "通报批评",
    "罚款": "罚款人民币{F}元",
    "没收违法所得": "没收违法所得人民币{W}元",
    "没收非法财物": "没收非法财物",
    "暂扣许可证件": "暂扣{L}六个月",
    "吊销许可证件": "吊销{L}",
    "责令停产停业": "责令停产停业整顿",
    "行政拘留": "行政拘留{D}日",
}
CONFISCATION = ("没收违法所得", "没收非法财物")
LICENCE = ("暂扣许可证件", "吊销许可证件")


def _penalty_columns(b: _Base) -> tuple[dict[str, pl.Series], RowFacts]:
    rng, n, decision, style = b.rng, b.n, b.decision, b.style
    # One entry per (violation, penalty option); rows pick a violation, then an option.
    violations = [(pi, v) for pi, p in enumerate(vocab.PROFILES) for v in p.violations]
    viol_idx = np.empty(n, dtype=np.int64)
    for pi in range(len(vocab.PROFILES)):
        rows = np.flatnonzero(b.profile_idx == pi)
        ids = [i for i, (q, _) in enumerate(violations) if q == pi]
        viol_idx[rows] = np.asarray(ids)[rng.integers(0, len(ids), len(rows))]
    spec = [v for _, v in violations]
    options = [(vi, opt) for vi, v in enumerate(spec) for opt in v.penalties]
    opt_offsets = np.cumsum([0] + [len(v.penalties) for v in spec])[:-1]
    opt_counts = np.asarray([len(v.penalties) for v in spec])
    opt_idx = opt_offsets[viol_idx] + rng.integers(0, 1 << 30, n) % opt_counts[viol_idx]

    flag_values = sorted({v.subjects for v in spec})
    flags = np.asarray([flag_values.index(v.subjects) for v in spec])[viol_idx]
    subject = subject_classes(rng, flags, flag_values)
    cols = _prefixed("CF", subject_columns(rng, subject, b.birth_latest))

    has = {
        "fine": np.asarray(["罚款" in o for _, o in options])[opt_idx],
        "conf": np.asarray([any(c in o for c in CONFISCATION) for _, o in options])[opt_idx],
        "licence": np.asarray([any(c in o for c in LICENCE) for _, o in options])[opt_idx],
    }
    lo = np.asarray([v.fine[0] for v in spec])[viol_idx]
    hi = np.asarray([v.fine[1] for v in spec])[viol_idx]
    step = np.select([hi <= 500, hi <= 10_000, hi <= 100_000], [10, 100, 500], 1000)
    raw = lo + rng.random(n) * (hi - lo)
    fine_yuan = np.where(has["fine"], np.maximum(np.round(raw / step) * step, step), 0)
    fine_yuan = fine_yuan.astype(np.int64)
    conf_cents = rng.integers(100 * 100, 50_000 * 100, n)
    conf_cents = np.where(rng.random(n) < 0.7, conf_cents // 100 * 100, conf_cents)
    days_held = rng.integers(3, 16, n)

    facts_list = [f for v in spec for f in v.facts]
    f_off = np.cumsum([0] + [len(v.facts) for v in spec])[:-1]
    f_cnt = np.asarray([len(v.facts) for v in spec])
    fact_idx = f_off[viol_idx] + rng.integers(0, 1 << 30, n) % f_cnt[viol_idx]

    category = take([";".join(o) for _, o in options], opt_idx)
    full_width = rng.random(n) < 0.1
    category = pl.select(
        pl.when(pl.Series(full_width)).then(category.str.replace_all(";", "；")).otherwise(category)
    ).to_series()
    template = take(["，".join(PENALTY_TEXT.get(c, c) for c in o) for _, o in options], opt_idx)
    licence_name = take([v.licence[0] if v.licence else "许可证" for v in spec], viol_idx)
    licence_no = concat_text(
        take([v.licence[1] if v.licence else "" for v in spec], viol_idx),
        sc.to_series(sc.random_chars(rng, sc.DIGITS, n, 8)),
    )
    amounts = pl.DataFrame({"f": fine_yuan, "c": conf_cents, "d": days_held})
    money = amounts.select(
        fine_wan=_yuan_text(pl.col("f"), 10_000),
        conf_wan=_yuan_text(pl.col("c"), 1_000_000),
        fine=pl.col("f").cast(pl.String),
        conf=_yuan_text(pl.col("c"), 100),
        days=pl.col("d").cast(pl.String),
    )
    content = pl.select(
        pl.lit(template)
        .str.replace("{F}", pl.lit(money["fine"]), literal=True)
        .str.replace("{W}", pl.lit(money["conf"]), literal=True)
        .str.replace("{L}", pl.lit(licence_name), literal=True)
        .str.replace("{D}", pl.lit(money["days"]), literal=True)
    ).to_series()

    period = np.asarray([3, 12, 36, 0])[choose(rng, 4, n, (0.3, 0.4, 0.2, 0.1))]
    long_term = to_days(load_catalogue().long_term_date)
    valid_to = np.where(period > 0, _add_months(decision, np.maximum(period, 1)), long_term)
    publish_to = np.where(period > 0, valid_to, _add_months(decision, np.full(n, 36)))
    abbr = take([vocab.PROFILES[pi].penalty_abbr for pi, _ in violations], viol_idx)
    cols |= {
        "__abbr": abbr,
        "CF_WFXW": take([v.name for v in spec], viol_idx),
        "CF_SY": concat_text("经查，当事人", cols["CF_XDR_MC"], take(facts_list, fact_idx)),
        "CF_YJ": take([v.basis for v in spec], viol_idx),
        "CF_CFLB": category,
        "CF_NR": content,
        "CF_NR_FK": null_unless(has["fine"], money["fine_wan"]),
        "CF_NR_WFFF": null_unless(has["conf"], money["conf_wan"]),
        "CF_NR_ZKDX": null_unless(
            has["licence"], concat_text(licence_name, "（编号：", licence_no, "）")
        ),
        "CF_JDRQ": format_dates(decision, style),
        "CF_YXQ": format_dates(valid_to, style),
        "CF_GSJZQ": format_dates(publish_to, style, rng.random(n) < 0.6),
        "BZ": _remarks(rng, n, vocab.PENALTY_REMARKS),
    }
    cols |= _unit_columns(b, "CF_CFJG", "CF_CFJGDM", "CF_SJLY", "CF_SJLYDM")
    facts = RowFacts("penalty", "CF", subject, style, decision, None, fine_yuan, b.received)
    return {k: v.alias(k) for k, v in cols.items()}, facts
