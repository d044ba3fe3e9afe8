"""Every rule of the 双公示 standard (shared/STANDARD.md), with a passing and a failing value.

Cases are derived from STANDARD.md and the catalogue (schemas/standard.toml), not from the
validator's code.  Each failing case asserts the exact set of (field, rule, severity) reported
for the record, so a rule that fires on the wrong field, with the wrong severity or drags
further findings along is caught as well.  All records are validated as received on
``RECEIVED`` (2024-06-30); the valid base records come from ``records.base_record``.

A validation costs about the same for one record as for hundreds (pandera runs every check as
its own pass), so single-record cases are validated in batches: see "Batched validation" below.
"""

from __future__ import annotations

import functools
import inspect
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl
import pytest
import stdnum.cn.ric
import stdnum.cn.uscc
import stdnum.iso7064.mod_11_10
from support.records import (
    AUTHORITY_USCC,
    INDIVIDUAL,
    KINDS,
    LEGAL,
    LEGAL_ORG_CODE,
    LEGAL_REG_NO,
    LEGAL_USCC,
    NATURAL,
    PERSON_ID,
    PREFIX,
    RECEIVED,
    REP_ID,
    SUBJECT_TYPES,
    USCC_ALPHABET,
    base_record,
    catalogue,
    catalogue_fields,
    document_key,
    findings,
    gs15_check,
    id_check,
    org_check,
    reg_no,
    resident_id,
    resident_id_with_x,
    single,
    to_fullwidth,
    uscc,
    uscc_check,
    with_fields,
    wrong_id_check,
    wrong_uscc_check,
)

from sgs.validate import identifiers
from sgs.validate.normalise import ROW
from sgs.validate.pipeline import validate_records

ERROR, WARNING = "error", "warning"


def f(kind: str, suffix: str) -> str:
    """The kind's field code for a shared field: f("penalty", "XDR_MC") == "CF_XDR_MC"."""
    return f"{PREFIX[kind]}_{suffix}"


def validate(kind: str, *records: dict, received: date = RECEIVED):
    return validate_records(kind, list(records), received=received)


def reported_values(result, field: str, rule: str) -> list[str]:
    errors = result.errors
    return errors.filter((errors["field"] == field) & (errors["rule"] == rule))["value"].to_list()


# ============================================================================ batched validation
# A test decorated with @batched is written as a case builder: from its parameters it builds the
# record(s) it is about and returns what must be reported for each (an Expect).  When the first
# such test runs, the builders of every collected test are called, the records are validated in
# as few validate_records calls as possible (one per kind and received date, give or take), and
# each test then checks the findings and the verdict of its own rows: the exact
# (field, rule, severity) set and .ok, as a validation of the record alone would give them.
#
# Records of one call are independent but for the duplicate rule (same 文书号 and subject).
# base_record numbers every 文书号, and records whose 文书号 compare equal (records.document_key)
# are never put into the same call, whatever their subjects.


@dataclass
class Outcome:
    """One record's share of a batch validation: its findings and whether it passed."""

    row: int
    errors: pl.DataFrame
    ok: bool


@dataclass
class Expect:
    """A record to validate and what must be reported for it.

    ``findings``: the exact (field, rule, severity) set; ``.ok`` must then be true exactly when
    none of them is an error.  ``None`` leaves the findings to ``check``.  ``values``: the
    reported ``value`` texts of a (field, rule).  ``check``: further assertions on the outcome.
    """

    kind: str
    record: dict
    findings: set[tuple[str, str, str]] | None = field(default_factory=set)
    values: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    check: Callable[[Outcome], None] | None = None
    received: date = RECEIVED
    note: str = ""


def expect_findings(kind: str, record: dict, expected: set[tuple[str, str, str]], **kw) -> Expect:
    return Expect(kind, record, expected, **kw)


def expect_valid(kind: str, record: dict, **kw) -> Expect:
    return Expect(kind, record, set(), **kw)


def verify(expect: Expect, outcome: Outcome) -> None:
    where = f"{expect.kind} record at batch row {outcome.row} {expect.note}".rstrip()
    if expect.findings is not None:
        assert single(outcome) == expect.findings, where
        assert outcome.ok == (not any(sev == ERROR for _, _, sev in expect.findings)), where
    for (code, rule), texts in expect.values.items():
        assert reported_values(outcome, code, rule) == texts, where
    if expect.check is not None:
        expect.check(outcome)


def batched(build: Callable[..., Expect | list[Expect]]) -> Callable[..., None]:
    """A test from a case builder (see above); put it below the parametrize marks."""
    params = [*inspect.signature(build).parameters, "request", "batches"]

    def test(request: pytest.FixtureRequest, batches: Batches, **_params: object) -> None:
        for expect, outcome in batches.of(request.node.nodeid):
            verify(expect, outcome)

    functools.update_wrapper(test, build)  # name, docstring, and the builder's source location
    test.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY) for name in params]
    )
    test.build_cases = build  # type: ignore[attr-defined]
    return test


class Batches:
    """Every collected @batched test's cases, validated together."""

    def __init__(self, items: list[pytest.Item]) -> None:
        self.cases: dict[str, list[Expect] | Exception] = {}
        for item in items:
            build = getattr(getattr(item, "function", None), "build_cases", None)
            if build is None:
                continue
            callspec = getattr(item, "callspec", None)
            given = callspec.params if callspec is not None else {}
            try:  # a builder's own assertion fails its test, not the batch
                made = build(**{name: given[name] for name in inspect.signature(build).parameters})
            except Exception as exc:
                self.cases[item.nodeid] = exc
                continue
            self.cases[item.nodeid] = made if isinstance(made, list) else [made]
        self.outcomes: dict[int, Outcome] = {}  # id(Expect) -> its outcome
        for members in self.plan():
            self.run(members)

    def plan(self) -> list[list[Expect]]:
        """Group the cases by kind and received date, never two equal 文书号 in one group."""
        groups: dict[tuple[str, date], list[tuple[set[str], list[Expect]]]] = {}
        for cases in self.cases.values():
            for expect in cases if isinstance(cases, list) else []:
                key = document_key(expect.record.get(f(expect.kind, "WSH")))
                batches = groups.setdefault((expect.kind, expect.received), [])
                batch = next((b for b in batches if key not in b[0]), None)
                if batch is None:
                    batch = (set(), [])
                    batches.append(batch)
                batch[0].add(key)
                batch[1].append(expect)
        return [members for batches in groups.values() for _, members in batches]

    def run(self, members: list[Expect]) -> None:
        kind, received = members[0].kind, members[0].received
        result = validate_records(kind, [e.record for e in members], received=received)
        rows = range(2, 2 + len(members))
        valid = dict(result.verdicts.select(ROW, "valid").iter_rows())
        errors = result.errors
        # The batch as a whole: one verdict per record, consistent with .ok, no record linked
        # to another (no batched case expects a duplicate).
        assert result.rows == len(members)
        assert sorted(valid) == list(rows)
        assert set(errors["row"].to_list()) <= set(rows)
        assert result.ok == all(valid.values())
        assert result.failing_rows == sum(not ok for ok in valid.values())
        assert "duplicate" not in errors["rule"].to_list(), "records of one batch are linked"
        for row, expect in zip(rows, members, strict=True):
            mine = errors.filter(pl.col("row") == row)
            self.outcomes[id(expect)] = Outcome(row, mine, valid[row])

    def of(self, nodeid: str) -> list[tuple[Expect, Outcome]]:
        cases = self.cases[nodeid]
        if isinstance(cases, Exception):
            raise cases
        return [(expect, self.outcomes[id(expect)]) for expect in cases]


@pytest.fixture(scope="module")
def batches(request: pytest.FixtureRequest) -> Batches:
    return Batches(request.session.items)


# ============================================================================ test oracle
# The builders in records.py implement STANDARD.md's algorithms independently; they must agree
# with sgs.validate.identifiers (used by the sample generator) and with python-stdnum (digit-led USCC).


def test_builders_agree_with_sgs_identifier_helpers():
    rng = random.Random(20240630)
    for _ in range(300):
        first17 = rng.choice("123456789ANY") + "".join(rng.choices(USCC_ALPHABET, k=16))
        assert uscc_check(first17) == identifiers.uscc_check_char(first17)
        first8 = "".join(rng.choices("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", k=8))
        assert org_check(first8) == identifiers.org_check_char(first8)
        digits17 = "".join(rng.choices("0123456789", k=17))
        assert id_check(digits17) == identifiers.id_check_char(digits17)
        assert gs15_check(digits17[:14]) == identifiers.gs15_check_digit(digits17[:14])


def test_builders_agree_with_stdnum():
    rng = random.Random(7)
    for _ in range(200):
        digits = "".join(rng.choices("0123456789", k=17))
        code = "9" + digits[1:8] + "".join(rng.choices(USCC_ALPHABET, k=9))
        assert stdnum.cn.uscc.is_valid(code + uscc_check(code))
        number = "110101" + "19850704" + digits[:3]
        assert stdnum.cn.ric.is_valid(number + id_check(number))
        assert stdnum.iso7064.mod_11_10.is_valid(digits[:14] + gs15_check(digits[:14]))


def test_org_check_worked_examples():
    # GB 11714: check = 11 − (Σ mod 11); 10 → X, 11 → 0.
    assert org_check("D2143569") == "X"  # a well-known textbook example
    assert org_check("00000000") == "0"  # Σ = 0 → 11 → 0


# ============================================================================ valid base


@pytest.mark.parametrize("subject_type", SUBJECT_TYPES)
@pytest.mark.parametrize("kind", KINDS)
@batched
def test_valid_base_record_has_no_findings(kind, subject_type):
    def check(result):
        assert result.ok
        assert result.errors.height == 0  # neither errors nor warnings
        columns = {"row", "field", "rule", "severity", "message", "value"}
        assert set(result.errors.columns) >= columns

    return expect_valid(kind, base_record(kind, subject_type), check=check)


@pytest.mark.parametrize("kind", KINDS)
def test_several_valid_records_together(kind):
    records = [base_record(kind, s) for s in SUBJECT_TYPES]
    for i, rec in enumerate(records):
        rec[f(kind, "WSH")] += f"-{i}"
    result = validate(kind, *records)
    assert result.ok
    assert result.errors.height == 0


@pytest.mark.parametrize("kind", KINDS)
@batched
def test_none_is_the_same_as_empty(kind):
    rec = {code: (None if value == "" else value) for code, value in base_record(kind).items()}
    return expect_valid(kind, rec)


# ============================================================================ required


REQUIRED_ALWAYS = [
    (kind, field["code"])
    for kind in KINDS
    for field in catalogue_fields(kind)
    if field["required"] == "always"
]


def test_catalogue_mandatory_fields_match_standard():
    # STANDARD.md: permits #1, 2, 14, 15, 16, 19–27 are M; penalties #1, 2, 14–19, 23, 24, 26–29.
    codes = {kind: {c for k, c in REQUIRED_ALWAYS if k == kind} for kind in KINDS}
    assert codes["permit"] == {
        "XK_XDR_MC", "XK_XDR_LB", "XK_XKWS", "XK_WSH", "XK_XKLB", "XK_NR", "XK_JDRQ",
        "XK_YXQZ", "XK_YXQZI", "XK_XKJG", "XK_XKJGDM", "XK_ZT", "XK_LYDW", "XK_LYDWDM",
    }  # fmt: skip
    assert codes["penalty"] == {
        "CF_XDR_MC", "CF_XDR_LB", "CF_WSH", "CF_WFXW", "CF_SY", "CF_YJ", "CF_CFLB", "CF_NR",
        "CF_JDRQ", "CF_YXQ", "CF_CFJG", "CF_CFJGDM", "CF_SJLY", "CF_SJLYDM",
    }  # fmt: skip


@pytest.mark.parametrize("blank", ["", None, "/"], ids=["empty", "None", "slash"])
@pytest.mark.parametrize(("kind", "code"), REQUIRED_ALWAYS)
@batched
def test_required_field_blank_fails(kind, code, blank):
    rec = with_fields(base_record(kind), **{code: blank})
    return expect_findings(kind, rec, {(code, "required", ERROR)})


@pytest.mark.parametrize("subject_type", SUBJECT_TYPES)
@pytest.mark.parametrize(("kind", "code"), REQUIRED_ALWAYS)
@batched
def test_required_field_filled_passes(kind, code, subject_type):
    rec = base_record(kind, subject_type)
    assert rec[code] not in ("", None)
    return expect_valid(kind, rec)


# ---------------------------------------------------------------------------- C法


@pytest.mark.parametrize("blank", ["", "/"])
@pytest.mark.parametrize("suffix", ["XDR_SHXYM", "FRDB"])
@pytest.mark.parametrize("subject_type", [LEGAL, INDIVIDUAL])
@pytest.mark.parametrize("kind", KINDS)
@batched
def test_c_fa_mandatory_for_legal_and_individual(kind, subject_type, suffix, blank):
    code = f(kind, suffix)
    rec = with_fields(base_record(kind, subject_type), **{code: blank})
    return expect_findings(kind, rec, {(code, "required_if", ERROR)})


@pytest.mark.parametrize("kind", KINDS)
@batched
def test_c_fa_not_mandatory_for_natural_person(kind):
    rec = base_record(kind, NATURAL)
    assert rec[f(kind, "XDR_SHXYM")] == rec[f(kind, "FRDB")] == ""
    return expect_valid(kind, rec)


# ---------------------------------------------------------------------------- C自


@pytest.mark.parametrize("suffix", ["XDR_ZJLX", "XDR_ZJHM"])
@pytest.mark.parametrize("kind", KINDS)
@batched
def test_c_zi_mandatory_for_natural_person(kind, suffix):
    code = f(kind, suffix)
    rec = with_fields(base_record(kind, NATURAL), **{code: ""})
    return expect_findings(kind, rec, {(code, "required_if", ERROR)})


@pytest.mark.parametrize("kind", KINDS)
@batched
def test_c_zi_both_missing_reports_both(kind):
    rec = with_fields(
        base_record(kind, NATURAL), **{f(kind, "XDR_ZJLX"): "", f(kind, "XDR_ZJHM"): "无"}
    )
    return expect_findings(
        kind,
        rec,
        {(f(kind, "XDR_ZJLX"), "required_if", ERROR), (f(kind, "XDR_ZJHM"), "required_if", ERROR)},
    )


@pytest.mark.parametrize("subject_type", [LEGAL, INDIVIDUAL])
@pytest.mark.parametrize("kind", KINDS)
@batched
def test_c_zi_optional_otherwise(kind, subject_type):
    rec = base_record(kind, subject_type)
    assert rec[f(kind, "XDR_ZJLX")] == rec[f(kind, "XDR_ZJHM")] == ""
    # ... and may be filled (e.g. the operator's ID for an individual business)
    filled = with_fields(rec, **{f(kind, "XDR_ZJLX"): "身份证", f(kind, "XDR_ZJHM"): REP_ID})
    return [expect_valid(kind, rec, note="blank"), expect_valid(kind, filled, note="filled")]


# ---------------------------------------------------------------------------- #10 when #11


@pytest.mark.parametrize("kind", KINDS)
@batched
def test_legal_rep_id_type_mandatory_when_number_filled(kind):
    rec = with_fields(base_record(kind, LEGAL), **{f(kind, "FR_ZJLX"): ""})
    assert rec[f(kind, "FR_ZJHM")]
    return expect_findings(kind, rec, {(f(kind, "FR_ZJLX"), "required_if", ERROR)})


@pytest.mark.parametrize(
    ("type_", "number"),
    [("", ""), ("身份证", ""), ("/", "/")],
    ids=["both-blank", "type-only", "blank-like"],
)
@pytest.mark.parametrize("kind", KINDS)
@batched
def test_legal_rep_id_optional_when_number_blank(kind, type_, number):
    # #10 "O; M when #11 is filled"; #11 "O" (require_legal_rep_id_for_legal = false).
    rec = with_fields(
        base_record(kind, LEGAL), **{f(kind, "FR_ZJLX"): type_, f(kind, "FR_ZJHM"): number}
    )
    return expect_valid(kind, rec)


# ---------------------------------------------------------------------------- by 处罚类别

CATEGORY_REQUIRES = [
    ("罚款", ["CF_NR_FK"]),
    ("警告;罚款", ["CF_NR_FK"]),
    ("警告；罚款", ["CF_NR_FK"]),
    ("没收违法所得", ["CF_NR_WFFF"]),
    ("没收非法财物", ["CF_NR_WFFF"]),
    ("没收违法所得、没收非法财物", ["CF_NR_WFFF"]),  # legacy combined value
    ("暂扣许可证件", ["CF_NR_ZKDX"]),
    ("吊销许可证件", ["CF_NR_ZKDX"]),
    ("暂扣或者吊销许可证", ["CF_NR_ZKDX"]),
    ("暂扣或者吊销执照", ["CF_NR_ZKDX"]),
    ("罚款;没收违法所得;吊销许可证件", ["CF_NR_FK", "CF_NR_WFFF", "CF_NR_ZKDX"]),
]
FILLED_DEPENDENTS = {
    "CF_NR_FK": "0.2",
    "CF_NR_WFFF": "1.5",
    "CF_NR_ZKDX": "食品经营许可证 JY11101080000001",
}
NO_DEPENDENTS = {"CF_NR_FK": "", "CF_NR_WFFF": "", "CF_NR_ZKDX": ""}


@pytest.mark.parametrize(("category", "dependents"), CATEGORY_REQUIRES)
@batched
def test_category_dependent_field_filled_passes(category, dependents):
    rec = base_record("penalty", CF_CFLB=category, **FILLED_DEPENDENTS)
    return expect_valid("penalty", rec)


@pytest.mark.parametrize(("category", "dependents"), CATEGORY_REQUIRES)
@batched
def test_category_dependent_field_blank_fails(category, dependents):
    rec = base_record("penalty", CF_CFLB=category, **NO_DEPENDENTS)
    return expect_findings("penalty", rec, {(code, "required_if", ERROR) for code in dependents})


@pytest.mark.parametrize(
    "category", ["警告", "通报批评;责令停产停业", "限制从业；行政拘留", "其他-不予行政处罚"]
)
@batched
def test_category_without_dependents_needs_none(category):
    return expect_valid("penalty", base_record("penalty", CF_CFLB=category, **NO_DEPENDENTS))


# ============================================================================ must_be_blank (∅自)

BLANK_IF_NATURAL = {
    "XDR_SHXYM": LEGAL_USCC,
    "XDR_GSZC": LEGAL_REG_NO,
    "XDR_ZZJG": LEGAL_ORG_CODE,
    "XDR_SWDJ": LEGAL_USCC,
    "XDR_SYDW": "110000001234",
    "XDR_SHZZ": "51110000500000000X",
    "FRDB": "张三",
}


def test_catalogue_blank_if_natural_matches_standard():
    for kind in KINDS:
        codes = {fl["code"] for fl in catalogue_fields(kind) if fl.get("blank_if_natural")}
        assert codes == {f(kind, s) for s in BLANK_IF_NATURAL}


@pytest.mark.parametrize("suffix", list(BLANK_IF_NATURAL))
@pytest.mark.parametrize("kind", KINDS)
@batched
def test_must_be_blank_for_natural_person(kind, suffix):
    code = f(kind, suffix)
    rec = with_fields(base_record(kind, NATURAL), **{code: BLANK_IF_NATURAL[suffix]})
    return expect_findings(kind, rec, {(code, "must_be_blank", ERROR)})


@pytest.mark.parametrize("blank", ["", "/", "无", "-"])
@pytest.mark.parametrize("suffix", list(BLANK_IF_NATURAL))
@pytest.mark.parametrize("kind", KINDS)
@batched
def test_blank_like_values_count_as_blank_for_natural_person(kind, suffix, blank):
    rec = with_fields(base_record(kind, NATURAL), **{f(kind, suffix): blank})
    return expect_valid(kind, rec)


@pytest.mark.parametrize("suffix", list(BLANK_IF_NATURAL))
@pytest.mark.parametrize("kind", KINDS)
@batched
def test_must_be_blank_values_allowed_for_legal(kind, suffix):
    rec = with_fields(base_record(kind, LEGAL), **{f(kind, suffix): BLANK_IF_NATURAL[suffix]})
    return expect_valid(kind, rec)


@pytest.mark.parametrize("kind", KINDS)
@batched
def test_legal_rep_id_not_blank_if_natural(kind):
    # Only #3–#9 carry ∅自; #10 法定代表人证件类型 and #11 证件号码 are plain O.
    rec = with_fields(
        base_record(kind, NATURAL), **{f(kind, "FR_ZJLX"): "身份证", f(kind, "FR_ZJHM"): REP_ID}
    )
    return expect_valid(kind, rec)


# ============================================================================ lengths

# (kind, code, max length, subject type, extra fields): every text field with a maximum.
# The ID-number fields are given a non-身份证 type so that only the length is at stake.
MAX_LENGTHS = []
for _kind in KINDS:
    for _field in catalogue_fields(_kind):
        if _field["type"] != "text" or "max_length" not in _field or "min_length" in _field:
            continue
        _code = _field["code"]
        _subject, _extra = LEGAL, {}
        if _code == f(_kind, "XDR_ZJHM"):
            _subject, _extra = NATURAL, {f(_kind, "XDR_ZJLX"): "护照号"}
        elif _code == f(_kind, "FR_ZJHM"):
            _extra = {f(_kind, "FR_ZJLX"): "护照号"}
        MAX_LENGTHS.append(
            pytest.param(_kind, _code, _field["max_length"], _subject, _extra, id=_code)
        )

STANDARD_MAX_LENGTHS = {
    "XDR_MC": 200, "XDR_GSZC": 50, "XDR_SYDW": 12, "XDR_SHZZ": 50, "FRDB": 50, "FR_ZJHM": 64,
    "XDR_ZJHM": 64, "XK_XKWS": 200, "XK_WSH": 128, "XK_XKZS": 200, "XK_XKBH": 128, "XK_NR": 4000,
    "XK_XKJG": 200, "XK_LYDW": 200, "CF_WSH": 128, "CF_WFXW": 2000, "CF_SY": 5000, "CF_YJ": 2048,
    "CF_NR": 4000, "CF_NR_ZKDX": 200, "CF_CFJG": 200, "CF_SJLY": 200, "BZ": 512,
}  # fmt: skip


def test_catalogue_max_lengths_match_standard():
    seen = {p.values[1]: p.values[2] for p in MAX_LENGTHS}
    expected = {}
    for kind in KINDS:
        for suffix, n in STANDARD_MAX_LENGTHS.items():
            if suffix == "BZ":
                expected["BZ"] = n
            elif suffix.startswith(("XK_", "CF_")):
                if suffix.startswith(PREFIX[kind]):
                    expected[suffix] = n
            else:
                expected[f(kind, suffix)] = n
    assert seen == expected


@pytest.mark.parametrize(("kind", "code", "n", "subject_type", "extra"), MAX_LENGTHS)
@batched
def test_max_length_exactly_max_chinese_passes(kind, code, n, subject_type, extra):
    # counted in characters: n Chinese characters are 3n bytes in UTF-8
    rec = with_fields(base_record(kind, subject_type), **extra, **{code: "字" * n})
    return expect_valid(kind, rec)


@pytest.mark.parametrize(("kind", "code", "n", "subject_type", "extra"), MAX_LENGTHS)
@batched
def test_max_length_plus_one_fails(kind, code, n, subject_type, extra):
    text = "字" * (n + 1)
    rec = with_fields(base_record(kind, subject_type), **extra, **{code: text})
    return expect_findings(
        kind, rec, {(code, "max_length", ERROR)}, values={(code, "max_length"): [text]}
    )


@pytest.mark.parametrize("kind", KINDS)
@batched
def test_max_length_counts_after_trimming(kind):
    # catalogue: "max_length / min_length: characters, counted after normalisation"
    rec = with_fields(base_record(kind), **{f(kind, "XDR_MC"): "字" * 200 + "  "})
    return expect_valid(kind, rec)


@pytest.mark.parametrize("kind", KINDS)
@batched
def test_max_length_mixed_ascii_and_chinese(kind):
    rec = with_fields(base_record(kind), **{f(kind, "FRDB"): "Zhang三" * 8 + "ab"})  # 50 chars
    at_max = expect_valid(kind, rec, note="50 characters")
    rec = with_fields(base_record(kind), **{f(kind, "FRDB"): "Zhang三" * 8 + "abc"})  # 51
    over = expect_findings(
        kind, rec, {(f(kind, "FRDB"), "max_length", ERROR)}, note="51 characters"
    )
    return [at_max, over]


@pytest.mark.parametrize("length", [15, 16, 18, 20])
@pytest.mark.parametrize("kind", KINDS)
@batched
def test_tax_number_length_within_15_to_20_passes(kind, length):
    rec = with_fields(base_record(kind), **{f(kind, "XDR_SWDJ"): ("91110108MA01ABCD5T99")[:length]})
    return expect_valid(kind, rec)


@pytest.mark.parametrize("length", [1, 14, 21, 30])
@pytest.mark.parametrize("kind", KINDS)
@batched
def test_tax_number_length_outside_15_to_20_fails(kind, length):
    code = f(kind, "XDR_SWDJ")
    rec = with_fields(base_record(kind), **{code: ("1" * 30)[:length]})
    return expect_findings(kind, rec, {(code, "length", ERROR)})


# ============================================================================ allowed values


@pytest.mark.parametrize("value", ["企业", "法人", "其他组织", "个人"])
@pytest.mark.parametrize("kind", KINDS)
@batched
def test_subject_type_unknown_fails(kind, value):
    code = f(kind, "XDR_LB")
    return expect_findings(
        kind, with_fields(base_record(kind), **{code: value}), {(code, "allowed_values", ERROR)}
    )


@pytest.mark.parametrize(
    "value", ["普通", "特许", "认可", "核准", "登记", "其他-告知承诺", "其他－备案"]
)
@batched
def test_permit_category_allowed(value):
    return expect_valid("permit", base_record("permit", XK_XKLB=value))


@pytest.mark.parametrize(
    ("value", "rule"),
    [("其他", "other_qualified"), ("普通许可", "allowed_values"), ("审批", "allowed_values")],
)
@batched
def test_permit_category_rejected(value, rule):
    return expect_findings(
        "permit", base_record("permit", XK_XKLB=value), {("XK_XKLB", rule, ERROR)}
    )


@pytest.mark.parametrize("value", ["1", "2", "有效", "无效", "１"])
@batched
def test_permit_status_allowed(value):
    return expect_valid("permit", base_record("permit", XK_ZT=value))


@pytest.mark.parametrize("value", ["0", "3", "撤销", "有效的"])
@batched
def test_permit_status_rejected(value):
    return expect_findings(
        "permit", base_record("permit", XK_ZT=value), {("XK_ZT", "allowed_values", ERROR)}
    )


ID_TYPE_FIELDS = [
    pytest.param(kind, subject, suffix, id=f"{kind}-{suffix}")
    for kind in KINDS
    for subject, suffix in [(LEGAL, "FR_ZJLX"), (NATURAL, "XDR_ZJLX")]
]


@pytest.mark.parametrize(
    "value",
    ["身份证", "护照号", "港澳居民来往内地通行证", "台湾居民来往大陆通行证", "外国人永久居留身份证",
     "其他-军官证", "其他－士兵证"],
)  # fmt: skip
@pytest.mark.parametrize(("kind", "subject_type", "suffix"), ID_TYPE_FIELDS)
@batched
def test_id_type_allowed(kind, subject_type, suffix, value):
    return expect_valid(
        kind, with_fields(base_record(kind, subject_type), **{f(kind, suffix): value})
    )


@pytest.mark.parametrize(
    ("value", "rule"),
    [("其他", "other_qualified"), ("驾驶证", "allowed_values"), ("军官证", "allowed_values")],
)
@pytest.mark.parametrize(("kind", "subject_type", "suffix"), ID_TYPE_FIELDS)
@batched
def test_id_type_rejected(kind, subject_type, suffix, value, rule):
    code = f(kind, suffix)
    rec = with_fields(base_record(kind, subject_type), **{code: value})
    return expect_findings(kind, rec, {(code, rule, ERROR)})


PENALTY_CATEGORIES_2021 = [
    "警告", "通报批评", "罚款", "没收违法所得", "没收非法财物", "暂扣许可证件", "降低资质等级",
    "吊销许可证件", "限制开展生产经营活动", "责令停产停业", "责令关闭", "限制从业", "行政拘留",
    "其他-不予行政处罚",
]  # fmt: skip
PENALTY_CATEGORIES_LEGACY = ["暂扣或者吊销许可证", "暂扣或者吊销执照", "没收违法所得、没收非法财物"]


@pytest.mark.parametrize(
    "value",
    [
        *PENALTY_CATEGORIES_2021,
        *PENALTY_CATEGORIES_LEGACY,
        "警告;罚款",
        "警告；罚款",
        "警告;罚款；没收违法所得",
        "罚款;暂扣或者吊销执照",
        "警告;其他-责令改正",
    ],
)
@batched
def test_penalty_category_allowed(value):
    return expect_valid("penalty", base_record("penalty", CF_CFLB=value, **FILLED_DEPENDENTS))


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("罚金", "allowed_values"),
        ("警告;罚金", "allowed_values"),
        ("罚款；拘留", "allowed_values"),
        ("其他", "other_qualified"),
        ("警告;其他", "other_qualified"),
    ],
)
@batched
def test_penalty_category_rejected(value, rule):
    rec = base_record("penalty", CF_CFLB=value, **FILLED_DEPENDENTS)
    return expect_findings("penalty", rec, {("CF_CFLB", rule, ERROR)})


# ============================================================================ dates

DATE_FIELDS = ["XK_JDRQ", "XK_YXQZ", "XK_YXQZI", "CF_JDRQ", "CF_YXQ", "CF_GSJZQ"]


def kind_of(code: str) -> str:
    return "permit" if code.startswith("XK_") else "penalty"


# Every notation of 2022-03-01, the date all base records decide and start on; putting it in any
# date field keeps every order relation satisfied (equal dates are allowed).
NOTATIONS_2022_03_01 = [
    "2022/03/01",
    "2022-03-01",
    "20220301",
    "2022年3月1日",
    "2022年03月01日",
    "2022/3/1",
    "2022-3-1",
    "2022/03/01 00:00:00",
    "2022-03-01 00:00:00",
    "２０２２/０３/０１",  # full-width digits
    "２０２２－０３－０１",
    "2022/03/01　",  # trailing full-width space
    " 2022-03-01 ",
]


@pytest.mark.parametrize("text", NOTATIONS_2022_03_01)
@pytest.mark.parametrize("code", DATE_FIELDS)
@batched
def test_date_notation_accepted(code, text):
    kind = kind_of(code)
    return expect_valid(kind, with_fields(base_record(kind), **{code: text}))


BAD_DATES = [
    "2022/02/30",  # impossible
    "2021/02/29",  # not a leap year
    "2022/13/01",
    "2022.01.02",
    "22/1/2",
    "01/02/2022",
    "2022年3月1",
    "2022/03/01 12:30:00",  # only a 00:00:00 time is accepted
    "abc",
]


@pytest.mark.parametrize("text", BAD_DATES)
@pytest.mark.parametrize("code", DATE_FIELDS)
@batched
def test_date_format_rejected_with_original_text(code, text):
    kind = kind_of(code)
    rec = with_fields(base_record(kind), **{code: text})
    return expect_findings(
        kind, rec, {(code, "date_format", ERROR)}, values={(code, "date_format"): [text]}
    )


@batched
def test_leap_day_accepted():
    return expect_valid("permit", base_record("permit", XK_YXQZI="2024/02/29"))


def _decision_record(kind: str, decided: str) -> dict:
    # Related dates pushed out of the way, 法定代表人 ID removed (its birth date must not be after
    # the decision date), so that only the decision date's range is at stake.
    rec = with_fields(
        base_record(kind),
        **{f(kind, "JDRQ"): decided, f(kind, "FR_ZJLX"): "", f(kind, "FR_ZJHM"): ""},
    )
    if kind == "penalty":
        rec.update(CF_YXQ="2099/12/31", CF_GSJZQ="2099/12/31")
    return rec


@pytest.mark.parametrize("decided", ["2024/06/30", "1949/10/01", "1949年10月1日", "2000-01-01"])
@pytest.mark.parametrize("kind", KINDS)
@batched
def test_decision_date_in_range_passes(kind, decided):
    return expect_valid(kind, _decision_record(kind, decided))


@pytest.mark.parametrize("decided", ["2024/07/01", "2030-01-01", "1949/09/30", "1900/01/01"])
@pytest.mark.parametrize("kind", KINDS)
@batched
def test_decision_date_out_of_range_fails(kind, decided):
    return expect_findings(
        kind, _decision_record(kind, decided), {(f(kind, "JDRQ"), "date_range", ERROR)}
    )


@pytest.mark.parametrize("kind", KINDS)
@batched
def test_decision_date_limit_is_the_received_date(kind):
    rec = _decision_record(kind, "2024/07/01")

    def check_not_ok(result):
        assert not result.ok

    return [
        expect_valid(kind, rec, received=date(2024, 7, 1), note="received 2024-07-01"),
        Expect(kind, rec, None, check=check_not_ok, received=date(2024, 6, 30)),
    ]


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2022/03/01", "2022/03/01"),
        ("2022/03/01", "2099/12/31"),  # 长期
        ("2022年3月2日", "2022-03-10"),
        ("2025/01/01", "2030/12/31"),  # 有效期自 may lie after the upload date
    ],
)
@batched
def test_permit_validity_in_order_passes(start, end):
    return expect_valid("permit", base_record("permit", XK_YXQZ=start, XK_YXQZI=end))


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2022/03/01", "2022/02/28"),
        ("20220310", "2022/3/2"),  # compared as dates, not as text
        ("2099/12/31", "2022/03/01"),
    ],
)
@batched
def test_permit_validity_end_before_start_fails_on_end(start, end):
    rec = base_record("permit", XK_YXQZ=start, XK_YXQZI=end)
    return expect_findings("permit", rec, {("XK_YXQZI", "date_order", ERROR)})


@pytest.mark.parametrize("code", ["CF_YXQ", "CF_GSJZQ"])
@pytest.mark.parametrize("value", ["2022/03/01", "2022-3-2", "2099/12/31"])
@batched
def test_penalty_dates_on_or_after_decision_pass(code, value):
    return expect_valid("penalty", base_record("penalty", **{code: value}))


@batched
def test_penalty_publication_end_optional():
    return expect_valid("penalty", base_record("penalty", CF_GSJZQ=""))


@pytest.mark.parametrize("code", ["CF_YXQ", "CF_GSJZQ"])
@pytest.mark.parametrize("value", ["2022/02/28", "2021年12月31日", "20000101"])
@batched
def test_penalty_dates_before_decision_fail(code, value):
    rec = base_record("penalty", **{code: value})
    return expect_findings("penalty", rec, {(code, "date_order", ERROR)})


@batched
def test_penalty_both_dates_before_decision_report_both():
    rec = base_record("penalty", CF_YXQ="2022/02/01", CF_GSJZQ="2022/02/02")
    return expect_findings(
        "penalty", rec, {("CF_YXQ", "date_order", ERROR), ("CF_GSJZQ", "date_order", ERROR)}
    )


# ============================================================================ amounts

AMOUNT_FIELDS = ["CF_NR_FK", "CF_NR_WFFF"]


def _amount_record(code: str, value: str) -> dict:
    return base_record("penalty", CF_CFLB="罚款;没收违法所得", **{**FILLED_DEPENDENTS, code: value})


@pytest.mark.parametrize(
    "value", ["0.2", "0", "0.0", "12.123456", "0.000001", "100", "9999.999999", " 0.2 ", "０.２"]
)
@pytest.mark.parametrize("code", AMOUNT_FIELDS)
@batched
def test_amount_valid(code, value):
    return expect_valid("penalty", _amount_record(code, value))


@pytest.mark.parametrize(
    "value", ["-1", "-0.5", "1.1234567", "abc", "1,000", "2000元", "0.2万元", "1 000"]
)
@pytest.mark.parametrize("code", AMOUNT_FIELDS)
@batched
def test_amount_format_rejected(code, value):
    rec = _amount_record(code, value)
    return expect_findings(
        "penalty", rec, {(code, "amount_format", ERROR)}, values={(code, "amount_format"): [value]}
    )


@pytest.mark.parametrize("value", ["10000", "10000.5", "200000", "2000000"])
@pytest.mark.parametrize("code", AMOUNT_FIELDS)
@batched
def test_amount_looking_like_yuan_is_a_warning(code, value):
    rec = _amount_record(code, value)
    return expect_findings("penalty", rec, {(code, "amount_unit", WARNING)})  # and .ok


# ============================================================================ USCC

# (kind, code, subject type) of every USCC field
USCC_FIELDS = [
    pytest.param(kind, code, subject, id=code)
    for kind, code, subject in [
        ("permit", "XK_XDR_SHXYM", LEGAL),
        ("permit", "XK_XKJGDM", LEGAL),
        ("permit", "XK_LYDWDM", LEGAL),
        ("penalty", "CF_XDR_SHXYM", LEGAL),
        ("penalty", "CF_CFJGDM", LEGAL),
        ("penalty", "CF_SJLYDM", LEGAL),
    ]
]


def test_catalogue_uscc_fields():
    for kind in KINDS:
        codes = {fl["code"] for fl in catalogue_fields(kind) if fl["type"] == "uscc"}
        assert codes == {p.values[1] for p in USCC_FIELDS if p.values[0] == kind}


VALID_USCCS = {
    "digit-led": LEGAL_USCC,
    "organ": AUTHORITY_USCC,
    "A-led": uscc("A1", "110108", "MA01ABCD"),
    "N-led": uscc("N2", "110108", "MA01ABCD"),
    "Y-led": uscc("Y1", "110108", "MA01ABCD"),
    "lower-case": LEGAL_USCC.lower(),
    "lower-letter-led": uscc("N2", "110108", "MA01ABCD").lower(),
    "full-width": to_fullwidth(LEGAL_USCC),
    "full-width lower-case": to_fullwidth(LEGAL_USCC.lower()),
    "padded": f" {LEGAL_USCC}　",
    "check-0": next(
        c for c in (uscc("91", "110108", f"MA{n:06d}") for n in range(2000)) if c[-1] == "0"
    ),
    "check-letter": next(
        c for c in (uscc("91", "110108", f"MA{n:06d}") for n in range(2000)) if c[-1] == "Y"
    ),
}


@pytest.mark.parametrize("value", list(VALID_USCCS.values()), ids=list(VALID_USCCS))
@pytest.mark.parametrize(("kind", "code", "subject_type"), USCC_FIELDS)
@batched
def test_uscc_valid(kind, code, subject_type, value):
    return expect_valid(kind, with_fields(base_record(kind, subject_type), **{code: value}))


@pytest.mark.parametrize(
    "value",
    [
        wrong_uscc_check(LEGAL_USCC),
        wrong_uscc_check(AUTHORITY_USCC),
        wrong_uscc_check(uscc("Y1", "110108", "MA01ABCD")),
        LEGAL_USCC[:17] + "Y" if LEGAL_USCC[17] != "Y" else LEGAL_USCC[:17] + "X",
    ],
)
@pytest.mark.parametrize(("kind", "code", "subject_type"), USCC_FIELDS)
@batched
def test_uscc_check_char_wrong(kind, code, subject_type, value):
    rec = with_fields(base_record(kind, subject_type), **{code: value})
    return expect_findings(kind, rec, {(code, "uscc_check", ERROR)})


def _with_char(code: str, pos: int, char: str) -> str:
    return code[:pos] + char + code[pos + 1 :]


def _recheck(first17: str) -> str:
    return first17 + uscc_check(first17)


USCC_FORMAT_BAD = {
    "17 chars": LEGAL_USCC[:17],
    "19 chars": LEGAL_USCC + "1",
    "I": _with_char(LEGAL_USCC, 10, "I"),
    "O": _with_char(LEGAL_USCC, 10, "O"),
    "S": _with_char(LEGAL_USCC, 11, "S"),
    "V": _with_char(LEGAL_USCC, 12, "V"),
    "Z": _with_char(LEGAL_USCC, 13, "Z"),
    "Z check": LEGAL_USCC[:17] + "Z",
    "punctuation first": "*1110108MA01ABCD50",
    "letter in region": _recheck("911A0108MA01ABCD5"),
    "punctuation": LEGAL_USCC[:9] + "*" + LEGAL_USCC[10:],
    "inner blank": LEGAL_USCC[:9] + " " + LEGAL_USCC[9:17],
}


@pytest.mark.parametrize("value", list(USCC_FORMAT_BAD.values()), ids=list(USCC_FORMAT_BAD))
@pytest.mark.parametrize(("kind", "code", "subject_type"), USCC_FIELDS)
@batched
def test_uscc_format_wrong(kind, code, subject_type, value):
    rec = with_fields(base_record(kind, subject_type), **{code: value})
    return expect_findings(kind, rec, {(code, "uscc_format", ERROR)})


# 18 characters of the alphabet, but the first is no registering department (1–9, A, N, Y):
# named as such, not as a wrong length or alphabet.
USCC_AUTHORITY_BAD = {
    "department B": _recheck("B1110108MA01ABCD5"),
    "department 0": _recheck("01110108MA01ABCD5"),
    "all zeros": "000000000000000000",  # check char 0 is right, department 0 is not
    "placeholder": "00000000000000000X",
    "department 0, wrong check": "01110108MA01ABCD5" + "0",
    "department Z": "Z1110108MA01ABCD50",  # Z is not even in the code's alphabet
}


@pytest.mark.parametrize("value", list(USCC_AUTHORITY_BAD.values()), ids=list(USCC_AUTHORITY_BAD))
@pytest.mark.parametrize(("kind", "code", "subject_type"), USCC_FIELDS)
@batched
def test_uscc_authority_wrong(kind, code, subject_type, value):
    rec = with_fields(base_record(kind, subject_type), **{code: value})
    return expect_findings(kind, rec, {(code, "uscc_authority", ERROR)})


@pytest.mark.parametrize("head", ["91", "11", "A1", "Y1"])
@pytest.mark.parametrize(("kind", "code", "subject_type"), USCC_FIELDS)
@batched
def test_uscc_embedded_org_check_wrong_is_warning_only(kind, code, subject_type, head):
    value = uscc(head, "110108", "MA01ABCD", org_ok=False)
    assert identifiers.is_valid_uscc(value)  # char 18 right
    assert org_check(value[8:16]) != value[16]  # embedded check wrong
    rec = with_fields(base_record(kind, subject_type), **{code: value})
    return expect_findings(kind, rec, {(code, "uscc_org_check", WARNING)})  # and .ok


@pytest.mark.parametrize("kind", KINDS)
@batched
def test_individual_business_code_not_92_is_warning(kind):
    code = f(kind, "XDR_SHXYM")
    return [
        expect_findings(
            kind,
            with_fields(base_record(kind, INDIVIDUAL), **{code: value}),
            {(code, "uscc_prefix", WARNING)},  # and .ok
            note=value,
        )
        for value in (
            LEGAL_USCC,
            uscc("93", "110108", "MA01WXY3"),
            uscc("Y1", "110108", "MA01WXY3"),
        )
    ]


@pytest.mark.parametrize("kind", KINDS)
@batched
def test_individual_business_code_92_passes(kind):
    value = uscc("92", "310104", "L1234567")
    return expect_valid(
        kind, with_fields(base_record(kind, INDIVIDUAL), **{f(kind, "XDR_SHXYM"): value})
    )


@pytest.mark.parametrize("kind", KINDS)
@batched
def test_legal_code_starting_92_is_warning(kind):
    code = f(kind, "XDR_SHXYM")
    rec = with_fields(base_record(kind, LEGAL), **{code: uscc("92", "110108", "MA01ABCD")})
    return expect_findings(kind, rec, {(code, "uscc_prefix", WARNING)})  # and .ok


@pytest.mark.parametrize(("kind", "code", "subject_type"), USCC_FIELDS)
@batched
def test_uscc_error_reports_original_text(kind, code, subject_type):
    original = " " + to_fullwidth(wrong_uscc_check(LEGAL_USCC)) + "　"
    rec = with_fields(base_record(kind, subject_type), **{code: original})
    return expect_findings(
        kind, rec, {(code, "uscc_check", ERROR)}, values={(code, "uscc_check"): [original]}
    )


# ============================================================================ organisation code


def _org_with_check(check: str) -> str:
    return next(
        org
        for org in (f"{n:08d}" + org_check(f"{n:08d}") for n in range(10_000, 20_000))
        if org[-1] == check
    )


ORG_X = _org_with_check("X")  # check 10 → X
ORG_0 = _org_with_check("0")  # check 11 → 0

VALID_ORG_CODES = {
    "plain": LEGAL_ORG_CODE,
    "hyphen": LEGAL_ORG_CODE[:8] + "-" + LEGAL_ORG_CODE[8],
    "check X": ORG_X,
    "check X hyphen": ORG_X[:8] + "-X",
    "check x lower": ORG_X.lower(),
    "check 0": ORG_0,
    "lower-case": LEGAL_ORG_CODE.lower(),
    "full-width": to_fullwidth(LEGAL_ORG_CODE[:8] + "-" + LEGAL_ORG_CODE[8]),
    "full-width lower-case": to_fullwidth(LEGAL_ORG_CODE.lower()),
    "textbook": "D2143569X",
}


@pytest.mark.parametrize("value", list(VALID_ORG_CODES.values()), ids=list(VALID_ORG_CODES))
@pytest.mark.parametrize("kind", KINDS)
@batched
def test_org_code_valid(kind, value):
    return expect_valid(kind, with_fields(base_record(kind), **{f(kind, "XDR_ZZJG"): value}))


def _wrong_org(org: str) -> str:
    return org[:8] + next(c for c in "0123456789X" if c != org[8])


@pytest.mark.parametrize(
    "value",
    [
        _wrong_org(LEGAL_ORG_CODE),
        _wrong_org(ORG_X),
        ORG_X[:8] + "-0",
        _wrong_org(LEGAL_ORG_CODE)[:8] + "-" + _wrong_org(LEGAL_ORG_CODE)[8],
    ],
)
@pytest.mark.parametrize("kind", KINDS)
@batched
def test_org_code_check_wrong(kind, value):
    code = f(kind, "XDR_ZZJG")
    return expect_findings(
        kind, with_fields(base_record(kind), **{code: value}), {(code, "org_code_check", ERROR)}
    )


@pytest.mark.parametrize(
    "value",
    [
        LEGAL_ORG_CODE[:8],  # no check character
        LEGAL_ORG_CODE + "1",  # 10 characters, no hyphen
        LEGAL_ORG_CODE[:7] + "*" + LEGAL_ORG_CODE[8],
        LEGAL_ORG_CODE[:8] + "-",
        "12345",
        "组织机构代码证",
        LEGAL_USCC,  # a USCC in the organisation-code column
    ],
)
@pytest.mark.parametrize("kind", KINDS)
@batched
def test_org_code_format_wrong(kind, value):
    code = f(kind, "XDR_ZZJG")
    return expect_findings(
        kind, with_fields(base_record(kind), **{code: value}), {(code, "org_code_format", ERROR)}
    )


# ============================================================================ resident ID

# (kind, number field, type field, subject type)
ID_FIELDS = [
    pytest.param(kind, f(kind, num), f(kind, typ), subject, id=f(kind, num))
    for kind in KINDS
    for num, typ, subject in [("XDR_ZJHM", "XDR_ZJLX", NATURAL), ("FR_ZJHM", "FR_ZJLX", LEGAL)]
]

VALID_IDS = {
    "plain": PERSON_ID,
    "check X": resident_id_with_x(),
    "check x lower": resident_id_with_x().lower(),
    "full-width": to_fullwidth(PERSON_ID),
    "full-width lower x": to_fullwidth(resident_id_with_x().lower()),
    "padded": f" {REP_ID} ",
    "born on decision day": resident_id("110101", "20220301", "002"),
    "leap day": resident_id("440301", "20000229", "111"),
}


@pytest.mark.parametrize("value", list(VALID_IDS.values()), ids=list(VALID_IDS))
@pytest.mark.parametrize(("kind", "number", "type_", "subject_type"), ID_FIELDS)
@batched
def test_resident_id_valid(kind, number, type_, subject_type, value):
    rec = with_fields(base_record(kind, subject_type), **{type_: "身份证", number: value})
    return expect_valid(kind, rec)


@pytest.mark.parametrize(
    "value",
    [wrong_id_check(PERSON_ID), wrong_id_check(resident_id_with_x()), wrong_id_check(REP_ID)],
)
@pytest.mark.parametrize(("kind", "number", "type_", "subject_type"), ID_FIELDS)
@batched
def test_resident_id_check_wrong(kind, number, type_, subject_type, value):
    rec = with_fields(base_record(kind, subject_type), **{type_: "身份证", number: value})
    return expect_findings(kind, rec, {(number, "id_check", ERROR)})


BAD_ID_FORMATS = {
    "17 digits": PERSON_ID[:17],
    "19 digits": PERSON_ID + "1",
    "15-digit old style": "310104900215123",
    "letter inside": PERSON_ID[:10] + "A" + PERSON_ID[11:],
    "Y as check": PERSON_ID[:17] + "Y",
    "Feb 30": resident_id("110101", "19800230", "001"),
    "month 13": resident_id("110101", "19801301", "001"),
    "day 00": resident_id("110101", "19800100", "001"),
    "Feb 29 non-leap": resident_id("110101", "19810229", "001"),
}


@pytest.mark.parametrize("value", list(BAD_ID_FORMATS.values()), ids=list(BAD_ID_FORMATS))
@pytest.mark.parametrize(("kind", "number", "type_", "subject_type"), ID_FIELDS)
@batched
def test_resident_id_format_wrong(kind, number, type_, subject_type, value):
    rec = with_fields(base_record(kind, subject_type), **{type_: "身份证", number: value})
    return expect_findings(kind, rec, {(number, "id_format", ERROR)})


@pytest.mark.parametrize("birth", ["20220302", "20230101", "20240601"])
@pytest.mark.parametrize(("kind", "number", "type_", "subject_type"), ID_FIELDS)
@batched
def test_resident_id_birth_after_decision(kind, number, type_, subject_type, birth):
    value = resident_id("110101", birth, "003")
    rec = with_fields(base_record(kind, subject_type), **{type_: "身份证", number: value})
    return expect_findings(kind, rec, {(number, "id_birth_date", ERROR)})


@pytest.mark.parametrize(
    ("id_type", "value"),
    [
        ("护照号", "E12345678"),
        ("护照号", wrong_id_check(PERSON_ID)),  # an ID-like number, but not an ID: not checked
        ("港澳居民来往内地通行证", "H12345678"),
        ("台湾居民来往大陆通行证", "12345678"),
        ("外国人永久居留身份证", "USA110085060701"),
        ("其他-军官证", "军字第123456号"),
    ],
)
@pytest.mark.parametrize(("kind", "number", "type_", "subject_type"), ID_FIELDS)
@batched
def test_non_resident_id_types_not_checked(kind, number, type_, subject_type, id_type, value):
    rec = with_fields(base_record(kind, subject_type), **{type_: id_type, number: value})
    return expect_valid(kind, rec)


# ============================================================================ registration number


@pytest.mark.parametrize("kind", KINDS)
@batched
def test_registration_number_valid(kind):
    return [
        expect_valid(
            kind, with_fields(base_record(kind), **{f(kind, "XDR_GSZC"): value}), note=value
        )
        for value in (LEGAL_REG_NO, reg_no("31000040001234"), to_fullwidth(LEGAL_REG_NO))
    ]


@pytest.mark.parametrize("kind", KINDS)
@batched
def test_registration_number_check_wrong_is_warning(kind):
    code = f(kind, "XDR_GSZC")
    cases = []
    for last in "0123456789":
        value = LEGAL_REG_NO[:14] + last
        rec = with_fields(base_record(kind), **{code: value})
        expected = set() if last == LEGAL_REG_NO[14] else {(code, "reg_no_check", WARNING)}
        cases.append(expect_findings(kind, rec, expected, note=value))  # and .ok
    return cases


@pytest.mark.parametrize(
    "value",
    [
        LEGAL_REG_NO[:13],  # 13 digits
        LEGAL_REG_NO + "1",  # 16 digits
        LEGAL_REG_NO[:14] + "A",  # 15 characters, not all digits
        LEGAL_USCC,  # a USCC in the registration-number column
        "京工商注册字第123号",
    ],
)
@pytest.mark.parametrize("kind", KINDS)
@batched
def test_non_15_digit_registration_number_not_checked(kind, value):
    return expect_valid(kind, with_fields(base_record(kind), **{f(kind, "XDR_GSZC"): value}))


# ============================================================================ normalisation

BLANK_LIKE = ["", " ", "\t", "　", "/", "／", "无", "空", "-", "NULL", " / ", "－"]


@pytest.mark.parametrize("blank", BLANK_LIKE)
@pytest.mark.parametrize("kind", KINDS)
@batched
def test_blank_like_in_mandatory_field_fails_required(kind, blank):
    code = f(kind, "XDR_MC")
    return expect_findings(
        kind, with_fields(base_record(kind), **{code: blank}), {(code, "required", ERROR)}
    )


@pytest.mark.parametrize("blank", BLANK_LIKE)
@pytest.mark.parametrize("suffix", ["BZ", "XDR_GSZC", "XDR_SWDJ", "XDR_SYDW"])
@pytest.mark.parametrize("kind", KINDS)
@batched
def test_blank_like_in_optional_field_passes(kind, suffix, blank):
    code = "BZ" if suffix == "BZ" else f(kind, suffix)
    return expect_valid(kind, with_fields(base_record(kind), **{code: blank}))


@pytest.mark.parametrize("blank", ["无", "/", "NULL"])
@batched
def test_blank_like_amount_counts_as_missing(blank):
    rec = base_record("penalty", CF_NR_FK=blank)
    return expect_findings("penalty", rec, {("CF_NR_FK", "required_if", ERROR)})


@pytest.mark.parametrize("kind", KINDS)
@batched
def test_full_width_and_padding_in_enums(kind):
    rec = base_record(
        kind, **{f(kind, "XDR_LB"): " 法人及非法人组织　", f(kind, "FR_ZJLX"): "身份证　"}
    )
    if kind == "permit":
        rec.update(XK_ZT="１", XK_XKLB="普通　")
    else:
        rec.update(CF_CFLB="警告；罚款　")
    return expect_valid(kind, rec)


@pytest.mark.parametrize("kind", KINDS)
@batched
def test_full_width_natural_person_record(kind):
    rec = base_record(kind, NATURAL, **{f(kind, "XDR_ZJHM"): to_fullwidth(PERSON_ID.lower())})
    rec[f(kind, "JDRQ")] = "２０２２年３月１日"
    return expect_valid(kind, rec)


@pytest.mark.parametrize("kind", KINDS)
@batched
def test_reported_value_is_original_text(kind):
    bad_date = "２０２２.０１.０２　"
    bad_type = " 驾驶证　"
    rec = base_record(kind, **{f(kind, "JDRQ"): bad_date, f(kind, "FR_ZJLX"): bad_type})
    return expect_findings(
        kind,
        rec,
        {(f(kind, "JDRQ"), "date_format", ERROR), (f(kind, "FR_ZJLX"), "allowed_values", ERROR)},
        values={
            (f(kind, "JDRQ"), "date_format"): [bad_date],
            (f(kind, "FR_ZJLX"), "allowed_values"): [bad_type],
        },
    )


# ============================================================================ duplicates


@pytest.mark.parametrize("subject_type", SUBJECT_TYPES)
@pytest.mark.parametrize("kind", KINDS)
def test_duplicate_reported_on_second_row_only(kind, subject_type):
    rec = base_record(kind, subject_type)
    result = validate(kind, rec, dict(rec))
    assert findings(result) == {(3, f(kind, "WSH"), "duplicate", ERROR)}
    assert not result.ok


@pytest.mark.parametrize("kind", KINDS)
def test_duplicate_every_row_after_the_first(kind):
    rec = base_record(kind)
    other = with_fields(rec, **{f(kind, "WSH"): rec[f(kind, "WSH")] + "-2"})
    result = validate(kind, rec, other, dict(rec), dict(other), dict(rec))
    wsh = f(kind, "WSH")
    assert findings(result) == {(r, wsh, "duplicate", ERROR) for r in (4, 5, 6)}
    assert reported_values(result, wsh, "duplicate") == [rec[wsh], other[wsh], rec[wsh]]


@pytest.mark.parametrize("kind", KINDS)
def test_same_number_different_subjects_is_fine(kind):
    p = PREFIX[kind]
    legal = base_record(kind, LEGAL)
    other_legal = with_fields(
        legal,
        **{
            f"{p}_XDR_MC": "上海另一家有限公司",
            f"{p}_XDR_SHXYM": uscc("91", "310104", "MA1FL234"),
            f"{p}_XDR_ZZJG": "MA1FL234" + org_check("MA1FL234"),
        },
    )
    person = base_record(kind, NATURAL)
    other_person = with_fields(
        person, **{f"{p}_XDR_ZJHM": resident_id("310104", "19911111", "222")}
    )  # same name 李四, another person
    for rec in (legal, other_legal, person, other_person):
        rec[f"{p}_WSH"] = "同一文书号〔2022〕1号"
    result = validate(kind, legal, other_legal, person, other_person)
    assert result.errors.height == 0


@pytest.mark.parametrize("kind", KINDS)
def test_different_numbers_same_subject_is_fine(kind):
    first = {"permit": "京海食药监许〔2022〕1号", "penalty": "京海市监罚〔2022〕100号"}[kind]
    rec = base_record(kind, **{f(kind, "WSH"): first})
    other = with_fields(rec, **{f(kind, "WSH"): rec[f(kind, "WSH")].replace("1", "2")})
    assert validate(kind, rec, other).errors.height == 0


WSH_VARIANTS = [
    "京海许〔2022〕1号",
    "京海许[2022]1号",
    "京海许（2022）1号",
    "京海许(2022)1号",
    "京海许［２０２２］１号",
    "京海许 〔2022〕 1号",
    "京海许〔2022〕1号　",
]


@pytest.mark.parametrize("second", WSH_VARIANTS[1:])
@pytest.mark.parametrize("kind", KINDS)
def test_document_numbers_differing_in_width_brackets_blanks_are_the_same(kind, second):
    wsh = f(kind, "WSH")
    first = base_record(kind, **{wsh: WSH_VARIANTS[0]})
    result = validate(kind, first, with_fields(first, **{wsh: second}))
    assert findings(result) == {(3, wsh, "duplicate", ERROR)}
    assert reported_values(result, wsh, "duplicate") == [second]


@pytest.mark.parametrize("kind", KINDS)
def test_duplicate_subject_compared_after_normalisation(kind):
    rec = base_record(kind)
    again = with_fields(rec, **{f(kind, "XDR_SHXYM"): rec[f(kind, "XDR_SHXYM")].lower()})
    assert findings(validate(kind, rec, again)) == {(3, f(kind, "WSH"), "duplicate", ERROR)}


# ============================================================================ collection


@batched
def test_all_failures_of_one_record_are_reported():
    rec = base_record(
        "permit",
        XK_XDR_MC="",
        XK_XKLB="其他",
        XK_JDRQ="2022.01.02",
        XK_XKJGDM=wrong_uscc_check(AUTHORITY_USCC),
        XK_XDR_GSZC=LEGAL_REG_NO[:14] + str((int(LEGAL_REG_NO[14]) + 1) % 10),
        XK_FR_ZJHM=wrong_id_check(REP_ID),
        BZ="字" * 513,
    )
    expected = {
        ("XK_XDR_MC", "required", ERROR),
        ("XK_XKLB", "other_qualified", ERROR),
        ("XK_JDRQ", "date_format", ERROR),
        ("XK_XKJGDM", "uscc_check", ERROR),
        ("XK_XDR_GSZC", "reg_no_check", WARNING),
        ("XK_FR_ZJHM", "id_check", ERROR),
        ("BZ", "max_length", ERROR),
    }
    return expect_findings("permit", rec, expected)  # and not .ok


def test_all_failures_of_all_records_are_reported():
    records = [
        base_record("penalty"),  # row 2: fine
        base_record("penalty", CF_CFLB="罚金", CF_WSH="A-3"),  # row 3
        base_record("penalty", NATURAL, CF_XDR_ZJHM="", CF_WSH="A-4"),  # row 4
        base_record("penalty", CF_NR_FK="20000", CF_WSH="A-5"),  # row 5: warning only
        base_record("penalty", INDIVIDUAL, CF_YXQ="2021/01/01", CF_NR_FK="", CF_WSH="A-6"),  # row 6
    ]
    result = validate("penalty", *records)
    assert findings(result) == {
        (3, "CF_CFLB", "allowed_values", ERROR),
        (4, "CF_XDR_ZJHM", "required_if", ERROR),
        (5, "CF_NR_FK", "amount_unit", WARNING),
        (6, "CF_YXQ", "date_order", ERROR),
        (6, "CF_NR_FK", "required_if", ERROR),
    }
    assert not result.ok


@pytest.mark.parametrize("kind", KINDS)
def test_warnings_alone_keep_ok(kind):
    shxym, wsh = f(kind, "XDR_SHXYM"), f(kind, "WSH")
    records = [
        with_fields(base_record(kind), **{shxym: uscc("91", "110108", "MA01ABCD", org_ok=False)}),
        with_fields(base_record(kind, INDIVIDUAL), **{shxym: uscc("93"), wsh: "另一文书号"}),
    ]
    result = validate(kind, *records)
    assert {sev for *_, sev in findings(result)} == {WARNING}
    assert result.ok


@pytest.mark.parametrize("kind", KINDS)
@batched
def test_every_finding_has_a_chinese_message(kind):
    rec = base_record(kind, **{f(kind, "XDR_MC"): "", f(kind, "JDRQ"): "2022/02/30"})

    def check(result):
        errors = result.errors
        assert errors.height == 2
        for message in errors["message"].to_list():
            assert re.search(r"[\u4e00-\u9fff]", message)

    return Expect(kind, rec, None, check=check)


def test_every_catalogue_rule_is_exercised():
    # The rule codes asserted in this module cover every rule of the catalogue.
    source = Path(__file__).read_text(encoding="utf-8")
    missing = [rule for rule in catalogue()["rules"] if f'"{rule}"' not in source]
    assert missing == []
