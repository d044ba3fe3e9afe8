"""Defect injection: the oracle the validator's tests compare against.

Each defective row carries exactly one defect, chosen so that under docs/standard.md it produces
exactly one finding — one ``(field, rule)`` — and nothing else on that row.  That rules out
injections with side effects: a wrong decision date is moved *after* the upload date (not
before 1949, which would also make a natural person's ID "born after the decision"); a USCC is
mangled only after its first two characters (so the 92/个体工商户 warning cannot fire too); a
C法/C自 field is never blanked (whether that reads as ``required`` or ``required_if`` is the
validator's business, not an unambiguous fact of the standard).

Rows are assigned to rules in equal quotas (rarest eligibility first), so every applicable rule
appears as soon as there are at least as many defective rows as rules.  Values are computed
over all rows of a variant at once (polars/numpy), like the generator itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from sgs.reference.catalogue import load_catalogue
from sgs.samples import codes as sc
from sgs.samples import vocab
from sgs.samples.facts import INDIVIDUAL, LEGAL, NATURAL, RowFacts, format_dates, to_days

DEFECT_SCHEMA = {
    "row_index": pl.Int64,
    "field": pl.String,
    "rule": pl.String,
    "severity": pl.String,
}

Rows = pl.DataFrame  # the clean rows a variant breaks
Index = np.ndarray  # their positions in the frame
Rng = np.random.Generator
Eligible = Callable[[pl.DataFrame, RowFacts], np.ndarray]
Make = Callable[[Rows, Index, RowFacts, Rng], pl.Series]
Apply = Callable[[Rows, Index, RowFacts, Rng], dict[str, pl.Series]]


@dataclass(frozen=True)
class Variant:
    """One way to break one field so that exactly ``rule`` fires on it."""

    rule: str
    field: str  # "{P}" stands for the kind's prefix
    kinds: tuple[str, ...]
    eligible: Eligible
    apply: Apply

    def code(self, prefix: str) -> str:
        return self.field.replace("{P}", prefix)


BOTH = ("permit", "penalty")
PERMIT = ("permit",)
PENALTY = ("penalty",)


# ----------------------------------------------------------------------------- eligibility


def _all(frame: pl.DataFrame, facts: RowFacts) -> np.ndarray:
    return np.ones(frame.height, dtype=bool)


def _organisation(frame: pl.DataFrame, facts: RowFacts) -> np.ndarray:
    """Legal persons and 个体工商户: they have a credit code."""
    return facts.subject != NATURAL


def _natural(frame: pl.DataFrame, facts: RowFacts) -> np.ndarray:
    return facts.subject == NATURAL


def _filled(field: str) -> Eligible:
    def eligible(frame: pl.DataFrame, facts: RowFacts) -> np.ndarray:
        code = field.replace("{P}", facts.prefix)
        return frame[code].is_not_null().to_numpy()

    return eligible


def _category_has(*values: str) -> Eligible:
    def eligible(frame: pl.DataFrame, facts: RowFacts) -> np.ndarray:
        text = frame["CF_CFLB"].fill_null("")
        found = pl.select(pl.any_horizontal(text.str.contains(v, literal=True) for v in values))
        return found.to_series().to_numpy()

    return eligible


def _legal_91(frame: pl.DataFrame, facts: RowFacts) -> np.ndarray:
    starts = frame[f"{facts.prefix}_XDR_SHXYM"].str.starts_with("91").fill_null(False)
    return (facts.subject == LEGAL) & starts.to_numpy()


def _individual(frame: pl.DataFrame, facts: RowFacts) -> np.ndarray:
    return facts.subject == INDIVIDUAL


def _born_before_upload(frame: pl.DataFrame, facts: RowFacts) -> np.ndarray:
    """Natural persons whose decision leaves room for a birth date up to the upload date."""
    return (facts.subject == NATURAL) & (facts.decision < facts.received)


# ----------------------------------------------------------------------------- values


def _pick(rng: Rng, values: list[str | None], k: int) -> pl.Series:
    return pl.Series(values, dtype=pl.String).gather(rng.integers(0, len(values), k))


def _col(rows: pl.DataFrame, field: str, facts: RowFacts) -> pl.Series:
    return rows[field.replace("{P}", facts.prefix)]


def _set(field: str, make: Make) -> Apply:
    """An Apply that writes ``make``'s values into ``field`` only."""

    def apply(rows: Rows, idx: Index, facts: RowFacts, rng: Rng) -> dict[str, pl.Series]:
        return {field.replace("{P}", facts.prefix): make(rows, idx, facts, rng)}

    return apply


def _blank(rows: Rows, idx: Index, facts: RowFacts, rng: Rng) -> pl.Series:
    """Nothing, or what clerks type for nothing (the catalogue's blank values)."""
    return _pick(rng, [None, None, None, "/", "无", " "], len(idx))


def _null(rows: Rows, idx: Index, facts: RowFacts, rng: Rng) -> pl.Series:
    return _pick(rng, [None, None, "/"], len(idx))


def _constant(*values: str) -> Make:
    def make(rows: Rows, idx: Index, facts: RowFacts, rng: Rng) -> pl.Series:
        return _pick(rng, list(values), len(idx))

    return make


def _dates(days: np.ndarray, facts: RowFacts, idx: np.ndarray) -> pl.Series:
    return format_dates(days, facts.style[idx])


def _replace_char(s: pl.Series, pos: np.ndarray, chars: np.ndarray, width: int) -> pl.Series:
    m = sc.to_matrix(s, width)
    m[np.arange(len(m)), pos] = chars
    return sc.to_series(m)


def _other_char(rng: Rng, current: np.ndarray, alphabet: np.ndarray) -> np.ndarray:
    """A character of ``alphabet`` different from ``current`` on every row."""
    index = np.searchsorted(alphabet, current)  # alphabets are sorted ASCII
    shift = rng.integers(1, len(alphabet), len(current))
    return alphabet[(index + shift) % len(alphabet)]


# -- subject codes ---------------------------------------------------------------------


def _uscc_bad_format(rows: Rows, idx: Index, facts: RowFacts, rng: Rng) -> pl.Series:
    """Drop, add or replace (with I/O/S/V/Z) a character after the first two."""
    k = len(idx)
    frame = pl.DataFrame(
        {
            "s": _col(rows, "{P}_XDR_SHXYM", facts),
            "pos": rng.integers(2, 17, k),
            "bad": _pick(rng, ["I", "O", "S", "V", "Z"], k),
            "digit": _pick(rng, list("0123456789"), k),
            "how": rng.integers(0, 3, k),
        }
    )
    s, pos, how = pl.col("s"), pl.col("pos"), pl.col("how")
    head, tail = s.str.slice(0, pos), s.str.slice(pos + 1)
    return frame.select(
        pl.when(how == 0)
        .then(pl.concat_str([head, tail]))
        .when(how == 1)
        .then(pl.concat_str([s, pl.col("digit")]))
        .otherwise(pl.concat_str([head, pl.col("bad"), tail]))
    ).to_series()


def _uscc_bad_check(field: str) -> Make:
    def make(rows: Rows, idx: Index, facts: RowFacts, rng: Rng) -> pl.Series:
        m = sc.to_matrix(_col(rows, field, facts), 18)
        m[:, 17] = _other_char(rng, m[:, 17], sc.USCC_CHARS)
        return sc.to_series(m)

    return make


def _uscc_bad_embedded(rows: Rows, idx: Index, facts: RowFacts, rng: Rng) -> pl.Series:
    """Change the organisation code's check (char 17), then make char 18 right again."""
    m = sc.to_matrix(_col(rows, "{P}_XDR_SHXYM", facts), 18)
    m[:, 16] = _other_char(rng, m[:, 16], sc.ORG_CHECKS)
    m[:, 17] = sc.uscc_check(m[:, :17])
    return sc.to_series(m)


def _uscc_retype(head: str) -> Make:
    """A valid code with another department/type prefix (91 <-> 92)."""

    def make(rows: Rows, idx: Index, facts: RowFacts, rng: Rng) -> pl.Series:
        m = sc.to_matrix(_col(rows, "{P}_XDR_SHXYM", facts), 18)
        m[:, 0:2] = np.frombuffer(head.encode(), dtype=np.uint8)
        m[:, 17] = sc.uscc_check(m[:, :17])
        return sc.to_series(m)

    return make


def _fresh_uscc(rows: Rows, idx: Index, facts: RowFacts, rng: Rng) -> pl.Series:
    k = len(idx)
    region = sc.pick(rng, ["140400", "140402", "140423"], k)
    return sc.to_series(sc.usccs(sc.constant("91", k), region, sc.org_codes(rng, k)))


def _fresh_reg_no(rows: Rows, idx: Index, facts: RowFacts, rng: Rng) -> pl.Series:
    region = sc.pick(rng, ["140400", "140402", "140423"], len(idx))
    return sc.to_series(sc.registration_numbers(rng, region))


def _reg_no_bad_check(rows: Rows, idx: Index, facts: RowFacts, rng: Rng) -> pl.Series:
    region = sc.pick(rng, ["140400", "140402", "140423"], len(idx))
    m = sc.registration_numbers(rng, region)
    m[:, 14] = _other_char(rng, m[:, 14], sc.DIGITS)
    return sc.to_series(m)


def _embedded_org(rows: pl.DataFrame, facts: RowFacts) -> pl.Series:
    return _col(rows, "{P}_XDR_SHXYM", facts).str.slice(8, 9)


def _org_bad_format(rows: Rows, idx: Index, facts: RowFacts, rng: Rng) -> pl.Series:
    """The check character forgotten, or the hyphen in the wrong place."""
    org = _embedded_org(rows, facts)
    misplaced = pl.concat_str([org.str.slice(0, 6), pl.lit("-"), org.str.slice(6, 3)])
    return pl.select(
        pl.when(pl.Series(rng.random(len(idx)) < 0.5))
        .then(org.str.slice(0, 8))
        .otherwise(misplaced)
    ).to_series()


def _org_bad_check(rows: Rows, idx: Index, facts: RowFacts, rng: Rng) -> pl.Series:
    m = sc.to_matrix(_embedded_org(rows, facts), 9)
    m[:, 8] = _other_char(rng, m[:, 8], sc.ORG_CHECKS)
    org = sc.to_series(m)
    hyphen = pl.concat_str([org.str.slice(0, 8), pl.lit("-"), org.str.slice(8, 1)])
    return pl.select(
        pl.when(pl.Series(rng.random(len(idx)) < 1 / 3)).then(hyphen).otherwise(org)
    ).to_series()


# -- resident IDs -------------------------------------------------------------------------


def _id_bad_format(field: str) -> Make:
    """The check digit forgotten, an old 15-digit ID, or an impossible birth month."""

    def make(rows: Rows, idx: Index, facts: RowFacts, rng: Rng) -> pl.Series:
        s = _col(rows, field, facts)
        old = pl.concat_str([s.str.slice(0, 6), s.str.slice(8, 6), s.str.slice(14, 3)])
        month13 = pl.concat_str([s.str.slice(0, 10), pl.lit("13"), s.str.slice(12)])
        how = pl.Series(rng.integers(0, 3, len(idx)))
        return pl.select(
            pl.when(how == 0).then(s.str.slice(0, 17)).when(how == 1).then(old).otherwise(month13)
        ).to_series()

    return make


def _id_bad_check(field: str) -> Make:
    def make(rows: Rows, idx: Index, facts: RowFacts, rng: Rng) -> pl.Series:
        m = sc.to_matrix(_col(rows, field, facts), 18)
        m[:, 17] = _other_char(rng, m[:, 17], sc.ORG_CHECKS)  # digits and X, sorted
        return sc.to_series(m)

    return make


def _id_born_late(rows: Rows, idx: Index, facts: RowFacts, rng: Rng) -> pl.Series:
    """Born after the decision (and not after the upload): a valid ID of the wrong person."""
    m = sc.to_matrix(_col(rows, "{P}_XDR_ZJHM", facts), 18)
    decided = facts.decision[idx]
    room = facts.received - decided
    born = decided + 1 + (rng.random(len(idx)) * room).astype(np.int64).clip(0, room - 1)
    m[:, 6:14] = sc.dates_yyyymmdd(born)
    m[:, 17] = sc.id_check(m[:, :17])
    return sc.to_series(m)


# -- dates --------------------------------------------------------------------------------


def _bad_date(long_term_word: bool) -> Make:
    """Impossible dates, a dotted date, or 长期 written out instead of 2099/12/31."""

    def make(rows: Rows, idx: Index, facts: RowFacts, rng: Rng) -> pl.Series:
        k = len(idx)
        year = pl.Series(facts.decision[idx].astype(np.int32)).cast(pl.Date).dt.year()
        impossible = _pick(rng, ["/02/30", "/04/31", "/06/31", "/11/31", "/13/01", "/00/10"], k)
        dotted = pl.Series(facts.decision[idx].astype(np.int32)).cast(pl.Date)
        dotted = dotted.dt.strftime("%Y.%m.%d")
        how = rng.integers(0, 3 if long_term_word else 2, k)
        return pl.select(
            pl.when(pl.Series(how == 0))
            .then(pl.concat_str([year.cast(pl.String), impossible]))
            .when(pl.Series(how == 1))
            .then(dotted)
            .otherwise(pl.lit("长期"))
        ).to_series()

    return make


def _after_upload(rows: Rows, idx: Index, facts: RowFacts, rng: Rng) -> dict[str, pl.Series]:
    """Decision date after the upload date; a penalty's later dates follow it."""
    late = facts.received + rng.integers(1, 61, len(idx))
    p = facts.prefix
    out = {f"{p}_JDRQ": _dates(late, facts, idx)}
    if facts.kind == "penalty":
        long_term = to_days(load_catalogue().long_term_date)
        out["CF_YXQ"] = _dates(np.full(len(idx), long_term), facts, idx)
        out["CF_GSJZQ"] = pl.Series([None] * len(idx), dtype=pl.String)
    return out


def _before(base: str) -> Make:
    """A date 1–365 days before the permit's 有效期自 or the penalty's decision date."""

    def make(rows: Rows, idx: Index, facts: RowFacts, rng: Rng) -> pl.Series:
        days = facts.valid_from if base == "valid_from" else facts.decision
        assert days is not None
        return _dates(days[idx] - rng.integers(1, 366, len(idx)), facts, idx)

    return make


# -- amounts ------------------------------------------------------------------------------


def _bad_amount(field: str) -> Make:
    """元 written after the number, a minus sign, or seven decimal places."""

    def make(rows: Rows, idx: Index, facts: RowFacts, rng: Rng) -> pl.Series:
        frame = pl.DataFrame({"s": _col(rows, field, facts), "how": rng.integers(0, 3, len(idx))})
        s, how = pl.col("s"), pl.col("how")
        yuan = (s.cast(pl.Float64) * 10_000).round(2).cast(pl.String).str.replace(r"\.0$", "")
        decimals = s.str.split(".").list.get(1, null_on_oob=True).str.len_chars().fill_null(0)
        seven = pl.concat_str(
            [
                s,
                pl.when(decimals == 0).then(pl.lit(".")).otherwise(pl.lit("")),
                pl.lit("000000").str.slice(0, 6 - decimals),
                pl.lit("1"),
            ]
        )
        return frame.select(
            pl.when(how == 0)
            .then(pl.concat_str([yuan, pl.lit("元")]))
            .when(how == 1)
            .then(pl.concat_str([pl.lit("-"), s]))
            .otherwise(seven)
        ).to_series()

    return make


def _amount_in_yuan(rows: Rows, idx: Index, facts: RowFacts, rng: Rng) -> pl.Series:
    """The fine entered in 元 in the 万元 column (only values >= 10 000 look like that)."""
    assert facts.fine_yuan is not None
    yuan = facts.fine_yuan[idx]
    fallback = np.asarray([10_000, 20_000, 50_000, 100_000])[rng.integers(0, 4, len(idx))]
    return pl.Series(np.where(yuan >= 10_000, yuan, fallback)).cast(pl.String)


def _too_long_remark(rows: Rows, idx: Index, facts: RowFacts, rng: Rng) -> pl.Series:
    limit = load_catalogue().kind(facts.kind).field("BZ").max_length or 512
    text = vocab.LONG_REMARK * (limit // len(vocab.LONG_REMARK) + 1)
    return pl.Series([text] * len(idx), dtype=pl.String)


def _certificate_with_words(rows: Rows, idx: Index, facts: RowFacts, rng: Rng) -> pl.Series:
    digits = sc.to_series(sc.random_chars(rng, sc.DIGITS, len(idx), 12))
    return pl.select(pl.concat_str([pl.lit("事业单位法人证书号："), digits])).to_series()


def _short_tax_number(rows: Rows, idx: Index, facts: RowFacts, rng: Rng) -> pl.Series:
    return _col(rows, "{P}_XDR_SHXYM", facts).str.slice(0, 12)


def _same_as_name(rows: Rows, idx: Index, facts: RowFacts, rng: Rng) -> pl.Series:
    """A natural person's own name copied into 法定代表人."""
    return _col(rows, "{P}_XDR_MC", facts)


# ----------------------------------------------------------------------------- the catalogue


def _v(rule: str, field: str, kinds: tuple[str, ...], eligible: Eligible, make: Make) -> Variant:
    return Variant(rule, field, tuple(kinds), eligible, _set(field, make))


VARIANTS: tuple[Variant, ...] = (
    # required: always-mandatory fields nothing else depends on
    *(
        _v("required", f, PERMIT, _all, _blank)
        for f in ("XK_XKWS", "XK_NR", "XK_XKJG", "XK_LYDW", "XK_ZT", "XK_XKLB")
    ),
    *(
        _v("required", f, PENALTY, _all, _blank)
        for f in ("CF_WFXW", "CF_SY", "CF_YJ", "CF_NR", "CF_CFJG", "CF_SJLY")
    ),
    # required_if: a filled ID number without its type; a category without its amount
    _v("required_if", "{P}_FR_ZJLX", BOTH, _filled("{P}_FR_ZJHM"), _null),
    _v("required_if", "CF_NR_FK", PENALTY, _category_has("罚款"), _null),
    _v("required_if", "CF_NR_WFFF", PENALTY, _category_has("没收"), _null),
    _v("required_if", "CF_NR_ZKDX", PENALTY, _category_has("暂扣", "吊销"), _null),
    # must_be_blank: a natural person with an organisation's data
    _v("must_be_blank", "{P}_FRDB", BOTH, _natural, _same_as_name),
    _v("must_be_blank", "{P}_XDR_SHXYM", BOTH, _natural, _fresh_uscc),
    _v("must_be_blank", "{P}_XDR_GSZC", BOTH, _natural, _fresh_reg_no),
    # lengths
    _v("max_length", "BZ", BOTH, _all, _too_long_remark),
    _v("max_length", "{P}_XDR_SYDW", BOTH, _organisation, _certificate_with_words),
    _v("length", "{P}_XDR_SWDJ", BOTH, _organisation, _short_tax_number),
    # value sets
    _v("allowed_values", "XK_XKLB", PERMIT, _all, _constant("一般", "审批", "行政许可")),
    _v("allowed_values", "XK_ZT", PERMIT, _all, _constant("正常", "3", "在用", "已注销")),
    _v("allowed_values", "CF_CFLB", PENALTY, _all, _constant("责令改正", "罚金", "批评教育")),
    _v("other_qualified", "XK_XKLB", PERMIT, _all, _constant("其他")),
    _v("other_qualified", "CF_CFLB", PENALTY, _all, _constant("其他")),
    # dates (never on a date another rule compares with, except date_range which moves later)
    _v("date_format", "XK_YXQZ", PERMIT, _all, _bad_date(False)),
    _v("date_format", "XK_YXQZI", PERMIT, _all, _bad_date(True)),
    _v("date_format", "CF_YXQ", PENALTY, _all, _bad_date(True)),
    _v("date_format", "CF_GSJZQ", PENALTY, _all, _bad_date(False)),
    Variant("date_range", "{P}_JDRQ", BOTH, _all, _after_upload),
    _v("date_order", "XK_YXQZI", PERMIT, _all, _before("valid_from")),
    _v("date_order", "CF_YXQ", PENALTY, _all, _before("decision")),
    _v("date_order", "CF_GSJZQ", PENALTY, _all, _before("decision")),
    # amounts
    _v("amount_format", "CF_NR_FK", PENALTY, _category_has("罚款"), _bad_amount("CF_NR_FK")),
    _v("amount_format", "CF_NR_WFFF", PENALTY, _category_has("没收"), _bad_amount("CF_NR_WFFF")),
    _v("amount_unit", "CF_NR_FK", PENALTY, _category_has("罚款"), _amount_in_yuan),
    # credit codes
    _v("uscc_format", "{P}_XDR_SHXYM", BOTH, _organisation, _uscc_bad_format),
    _v("uscc_check", "{P}_XDR_SHXYM", BOTH, _organisation, _uscc_bad_check("{P}_XDR_SHXYM")),
    _v("uscc_check", "XK_XKJGDM", PERMIT, _all, _uscc_bad_check("XK_XKJGDM")),
    _v("uscc_check", "XK_LYDWDM", PERMIT, _all, _uscc_bad_check("XK_LYDWDM")),
    _v("uscc_check", "CF_CFJGDM", PENALTY, _all, _uscc_bad_check("CF_CFJGDM")),
    _v("uscc_check", "CF_SJLYDM", PENALTY, _all, _uscc_bad_check("CF_SJLYDM")),
    _v("uscc_org_check", "{P}_XDR_SHXYM", BOTH, _organisation, _uscc_bad_embedded),
    _v("uscc_prefix", "{P}_XDR_SHXYM", BOTH, _individual, _uscc_retype("91")),
    _v("uscc_prefix", "{P}_XDR_SHXYM", BOTH, _legal_91, _uscc_retype("92")),
    # other subject codes
    _v("org_code_format", "{P}_XDR_ZZJG", BOTH, _organisation, _org_bad_format),
    _v("org_code_check", "{P}_XDR_ZZJG", BOTH, _organisation, _org_bad_check),
    _v("reg_no_check", "{P}_XDR_GSZC", BOTH, _organisation, _reg_no_bad_check),
    # resident IDs (the legal representative's too, when its type is 身份证)
    _v("id_format", "{P}_XDR_ZJHM", BOTH, _natural, _id_bad_format("{P}_XDR_ZJHM")),
    _v("id_format", "{P}_FR_ZJHM", BOTH, _filled("{P}_FR_ZJHM"), _id_bad_format("{P}_FR_ZJHM")),
    _v("id_check", "{P}_XDR_ZJHM", BOTH, _natural, _id_bad_check("{P}_XDR_ZJHM")),
    _v("id_check", "{P}_FR_ZJHM", BOTH, _filled("{P}_FR_ZJHM"), _id_bad_check("{P}_FR_ZJHM")),
    _v("id_birth_date", "{P}_XDR_ZJHM", BOTH, _born_before_upload, _id_born_late),
)
DUPLICATE = "duplicate"


def injectable_rules(kind: str) -> list[str]:
    """Rule codes the injector can produce for a kind, in catalogue order."""
    ours = {v.rule for v in VARIANTS if kind in v.kinds} | {DUPLICATE}
    return [r for r in load_catalogue().rules if r in ours]


# ----------------------------------------------------------------------------- injection


def inject(
    frame: pl.DataFrame, facts: RowFacts, rate: float, rng: np.random.Generator
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Break ``round(height * rate)`` rows once each; return the frame and the expected findings."""
    n = frame.height
    k = round(n * rate)
    if k == 0:
        return frame, pl.DataFrame(schema=DEFECT_SCHEMA)
    rows = np.sort(rng.choice(n, size=k, replace=False))
    variants = [v for v in VARIANTS if facts.kind in v.kinds]
    eligible = np.stack([v.eligible(frame, facts)[rows] for v in variants], axis=1)

    clean = np.setdiff1d(np.arange(n), rows)
    rules = injectable_rules(facts.kind)
    rule_eligible = {
        r: np.any(eligible[:, [i for i, v in enumerate(variants) if v.rule == r]], axis=1)
        for r in rules
        if r != DUPLICATE
    }
    # A duplicate copies a clean row above it.
    rule_eligible[DUPLICATE] = rows > (clean[0] if len(clean) else n)
    assigned = _assign(rng, rules, rule_eligible, k)

    changes: dict[str, tuple[list[np.ndarray], list[pl.Series]]] = {}
    found_rows: list[np.ndarray] = []
    found_fields: list[str] = []
    found_rules: list[str] = []
    for r in rules:
        if r == DUPLICATE:
            continue
        mine = np.flatnonzero(assigned == rules.index(r))
        if not len(mine):
            continue
        options = [i for i, v in enumerate(variants) if v.rule == r]
        score = rng.random((len(mine), len(options))) * eligible[np.ix_(mine, options)]
        choice = np.asarray(options)[np.argmax(score, axis=1)]
        for i in np.unique(choice):
            variant = variants[i]
            idx = rows[mine[choice == i]]
            for col, values in variant.apply(frame[idx], idx, facts, rng).items():
                changes.setdefault(col, ([], []))
                changes[col][0].append(idx)
                changes[col][1].append(values.cast(pl.String))
            found_rows.append(idx)
            found_fields.extend([variant.code(facts.prefix)] * len(idx))
            found_rules.extend([r] * len(idx))

    dup = rows[assigned == rules.index(DUPLICATE)]
    if len(dup):
        for col, values in _duplicates(frame, dup, clean, rng).items():
            changes.setdefault(col, ([], []))
            changes[col][0].append(dup)
            changes[col][1].append(values)
        found_rows.append(dup)
        spec = load_catalogue().kind(facts.kind)
        found_fields.extend([spec.document_number] * len(dup))
        found_rules.extend([DUPLICATE] * len(dup))
    frame = _scatter(frame, changes)  # one rebuild per changed column

    severity = {code: r.severity for code, r in load_catalogue().rules.items()}
    defects = pl.DataFrame(
        {
            "row_index": np.concatenate(found_rows).astype(np.int64),
            "field": found_fields,
            "rule": found_rules,
        },
        schema={"row_index": pl.Int64, "field": pl.String, "rule": pl.String},
    ).with_columns(severity=pl.col("rule").replace_strict(severity, return_dtype=pl.String))
    return frame, defects.sort("row_index")


def _assign(
    rng: np.random.Generator, rules: list[str], eligible: dict[str, np.ndarray], k: int
) -> np.ndarray:
    """Rule index per defective row: equal quotas first (rarest rules first), then any rule."""
    assigned = np.full(k, -1, dtype=np.int64)
    order = rng.permutation(len(rules))
    quota = {
        rules[j]: k // len(rules) + (1 if pos < k % len(rules) else 0)
        for pos, j in enumerate(order)
    }
    by_scarcity = sorted(rules, key=lambda r: (int(eligible[r].sum()), rules.index(r)))
    for r in by_scarcity:
        free = np.flatnonzero((assigned < 0) & eligible[r])
        take = rng.permutation(free)[: quota[r]]
        assigned[take] = rules.index(r)
    for r in rng.permutation(rules):
        free = np.flatnonzero((assigned < 0) & eligible[r])
        assigned[free] = rules.index(r)
    return assigned


def _scatter(
    frame: pl.DataFrame, changes: dict[str, tuple[list[np.ndarray], list[pl.Series]]]
) -> pl.DataFrame:
    columns = []
    for col, (idx_parts, value_parts) in changes.items():
        s = frame[col].clone()
        s.scatter(np.concatenate(idx_parts), pl.concat(value_parts))
        columns.append(s)
    return frame.with_columns(columns) if columns else frame


def _duplicates(
    frame: pl.DataFrame, dup: np.ndarray, clean: np.ndarray, rng: np.random.Generator
) -> dict[str, pl.Series]:
    """New values making each row in ``dup`` a copy of a clean row above it (sent twice).

    Sources are clean rows, so no other injection changes them.
    """
    above = np.searchsorted(clean, dup)  # clean rows before each duplicate
    source = clean[(rng.random(len(dup)) * above).astype(np.int64)]
    copies = frame[source]
    return {c: copies[c] for c in frame.columns}
