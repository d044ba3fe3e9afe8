"""Every rule of the standard as a vectorised polars expression, derived from the catalogue.

A rule is ``(field, rule code, severity, ok)`` where ``ok`` is a Boolean expression over the
normalised frame (see :mod:`sgs.validate.normalise`): true passes, false fails, null means "does not
apply" and passes.  Cross-field rules sit on the field that must change (docs/standard.md,
"Rule codes and severities").  The pandera schema, the benchmark's
single-``select`` baseline and the rule documentation are all built from this one list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import partial

import polars as pl

from sgs.reference.catalogue import Catalogue, Field, Kind, KindSpec, Severity, load_catalogue
from sgs.validate import identifiers as ids
from sgs.validate.normalise import document_key, parse_date, per_distinct
from sgs.validate.parallel import thread_map

RECEIVED = "__received"
DOC_KEY = "__doc_key"
FIRST_OF_KEY = "__first_of_key"


def date_col(code: str) -> str:
    return f"__date_{code}"


def number_col(code: str) -> str:
    return f"__num_{code}"


def list_col(code: str) -> str:
    return f"__list_{code}"


def status_col(code: str) -> str:
    return f"__status_{code}"


def born_col(code: str) -> str:
    return f"__born_{code}"


ID_CARD = "身份证"
OTHER = "其他"


@dataclass(frozen=True)
class Rule:
    field: str
    rule: str
    severity: Severity
    ok: pl.Expr
    message: str

    @property
    def label(self) -> str:
        """The pandera check label; the failure table is joined back to rules by it."""
        return f"{self.field}|{self.rule}"


class _Builder:
    """Collects the rules of one kind, one field at a time."""

    def __init__(self, cat: Catalogue, spec: KindSpec) -> None:
        self.cat = cat
        self.spec = spec
        self.rules: list[Rule] = []
        lb = pl.col(spec.subject_type)
        self.is_legal = lb.is_in(cat.legal_types)
        self.is_natural = lb == cat.natural_type

    def add(self, f: Field, rule: str, ok: pl.Expr, **fmt: object) -> None:
        spec = self.cat.rule(rule)
        message = spec.message.format(name=f.name, **fmt)
        self.rules.append(Rule(f.code, rule, spec.severity, ok, message))

    def name_of(self, code: str) -> str:
        return self.spec.field(code).name

    # -- requiredness ---------------------------------------------------------------------
    def requiredness(self, f: Field) -> None:
        col = pl.col(f.code)
        required = f.required
        if (
            f.id_type_field == f"{self.spec.prefix}_FR_ZJLX"
            and self.cat.require_legal_rep_id_for_legal
        ):
            required = "legal"
        if required == "always":
            self.add(f, "required", col.is_not_null())
        elif required == "legal":
            cond = "行政相对人类别为法人及非法人组织或个体工商户"
            self.add(f, "required_if", col.is_not_null() | ~self.is_legal, condition=cond)
        elif required == "natural":
            cond = "行政相对人类别为自然人"
            self.add(f, "required_if", col.is_not_null() | ~self.is_natural, condition=cond)
        if f.required_if_filled:
            other = pl.col(f.required_if_filled)
            cond = f"已填写{self.name_of(f.required_if_filled)}"
            self.add(f, "required_if", col.is_not_null() | other.is_null(), condition=cond)
        if f.required_if_category:
            cat_field = self.spec.category
            assert cat_field is not None
            has = pl.col(list_col(cat_field)).list.eval(pl.element().is_in(f.required_if_category))
            cond = f"处罚类别含{'、'.join(f.required_if_category[:2])}等"
            if len(f.required_if_category) == 1:
                cond = f"处罚类别含{f.required_if_category[0]}"
            self.add(f, "required_if", col.is_not_null() | ~has.list.any(), condition=cond)
        if f.blank_if_natural:
            self.add(f, "must_be_blank", col.is_null() | ~self.is_natural)

    # -- shape ----------------------------------------------------------------------------
    def length(self, f: Field) -> None:
        n = pl.col(f.code).str.len_chars()
        if f.min_length is not None and f.max_length is not None:
            ok = n.is_between(f.min_length, f.max_length)
            self.add(f, "length", ok, min=f.min_length, max=f.max_length)
        elif f.max_length is not None:
            self.add(f, "max_length", n <= f.max_length, max=f.max_length)

    def values(self, f: Field) -> None:
        assert f.values is not None
        allowed = self.cat.values[f.values]
        shown = "、".join(allowed) + ("、其他-…" if f.other_prefix else "")
        if f.type == "enum_list":
            items = pl.col(list_col(f.code))
            item = pl.element()
            good = item.is_in(allowed)
            if f.other_prefix:
                good = good | item.str.starts_with(OTHER)
            ok = items.list.eval(good).list.all()
            self.add(
                f, "allowed_values", pl.when(pl.col(f.code).is_not_null()).then(ok), allowed=shown
            )
            if f.other_prefix:
                bare = items.list.eval(
                    item.str.starts_with(OTHER) & ~item.str.contains(r"^其他-.+")
                )
                self.add(f, "other_qualified", ~bare.list.any())
            return
        col = pl.col(f.code)
        good = col.is_in(allowed)
        if f.other_prefix:
            good = good | col.str.starts_with(OTHER)
            self.add(
                f, "other_qualified", ~col.str.starts_with(OTHER) | col.str.contains(r"^其他-.+")
            )
        self.add(f, "allowed_values", good, allowed=shown)

    # -- identifiers ----------------------------------------------------------------------
    def uscc(self, f: Field) -> None:
        status = pl.col(status_col(f.code))
        self.add(f, "uscc_format", status != ids.BAD_FORMAT)
        self.add(f, "uscc_authority", status != ids.BAD_AUTHORITY)
        self.add(f, "uscc_check", status != ids.BAD_CHECK)
        self.add(f, "uscc_org_check", status != ids.BAD_EMBEDDED)
        if f.uscc_prefix:
            lb = pl.col(self.spec.subject_type)
            individual = lb == self.cat.subject_types["individual"]
            legal = lb == self.cat.subject_types["legal"]
            starts92 = pl.col(f.code).str.starts_with("92")
            ok = ~(individual & ~starts92) & ~(legal & starts92)
            malformed = status.is_in([ids.BAD_FORMAT, ids.BAD_AUTHORITY])
            self.add(f, "uscc_prefix", pl.when(~malformed).then(ok))

    def org_code(self, f: Field) -> None:
        status = pl.col(status_col(f.code))
        self.add(f, "org_code_format", status != ids.BAD_FORMAT)
        self.add(f, "org_code_check", status != ids.BAD_CHECK)

    def resident_id(self, f: Field) -> None:
        assert f.id_type_field is not None
        status = pl.col(status_col(f.code))
        is_id = pl.col(f.id_type_field) == ID_CARD
        self.add(f, "id_format", pl.when(is_id).then(status != ids.BAD_FORMAT))
        self.add(f, "id_check", pl.when(is_id).then(status != ids.BAD_CHECK))
        decided = pl.col(date_col(self.spec.decision_date))
        born = pl.col(born_col(f.code))
        ok = pl.when(is_id & (status != ids.BAD_FORMAT)).then(born <= decided)
        self.add(f, "id_birth_date", ok)

    def gs15(self, f: Field) -> None:
        self.add(f, "reg_no_check", pl.col(status_col(f.code)) != ids.BAD_CHECK)

    # -- dates and amounts ----------------------------------------------------------------
    def date(self, f: Field) -> None:
        parsed = pl.col(date_col(f.code))
        self.add(f, "date_format", pl.col(f.code).is_null() | parsed.is_not_null())
        if f.not_before_founding or f.not_after_received:
            ok = pl.lit(True)
            if f.not_before_founding:
                ok = ok & (parsed >= pl.lit(self.cat.founding_date))
            if f.not_after_received:
                ok = ok & (parsed <= pl.col(RECEIVED))
            self.add(f, "date_range", ok)
        if f.on_or_after:
            other = pl.col(date_col(f.on_or_after))
            self.add(f, "date_order", parsed >= other, other=self.name_of(f.on_or_after))

    def amount(self, f: Field) -> None:
        col = pl.col(f.code)
        places = self.cat.max_amount_decimals
        well_formed = col.str.contains(rf"^[0-9]+(?:\.[0-9]{{1,{places}}})?$")
        self.add(f, "amount_format", well_formed)
        limit = self.cat.amount_looks_like_yuan
        self.add(f, "amount_unit", pl.when(well_formed).then(pl.col(number_col(f.code)) < limit))

    def duplicate(self, f: Field) -> None:
        ok = pl.when(pl.col(f.code).is_not_null()).then(pl.col(FIRST_OF_KEY))
        self.add(f, "duplicate", ok)

    def field(self, f: Field) -> None:
        self.requiredness(f)
        if f.type in {"text"}:
            self.length(f)
        elif f.type in {"enum", "enum_list"}:
            self.values(f)
        elif f.type == "uscc":
            self.uscc(f)
        elif f.type == "org_code":
            self.org_code(f)
        elif f.type == "date":
            self.date(f)
        elif f.type == "amount":
            self.amount(f)
        if f.id_type_field:
            self.resident_id(f)
        if f.gs15:
            self.gs15(f)
        if f.duplicate_key:
            self.duplicate(f)


def build_rules(kind: Kind) -> list[Rule]:
    """All rules of one record kind, in template order of their fields."""
    cat = load_catalogue()
    builder = _Builder(cat, cat.kind(kind))
    for f in cat.kind(kind).fields:
        builder.field(f)
    return builder.rules


# ----------------------------------------------------------------------------- shared work

STATUS_OF_TYPE = {"uscc": ids.uscc_status_series, "org_code": ids.org_code_status_series}


def subject_key(prefix: str) -> pl.Expr:
    """Who a record is about: the credit code, else the ID number, else the name.

    Duplicates within a file are found on (文书号, subject); the store keeps it per record.
    """
    return pl.coalesce(
        pl.col(f"{prefix}_XDR_SHXYM"), pl.col(f"{prefix}_XDR_ZJHM"), pl.col(f"{prefix}_XDR_MC")
    )


def _first_of_key(
    norm: pl.DataFrame, doc_key: pl.Series, spec: KindSpec, files: pl.Series | None
) -> pl.Series:
    """True on the first row of each (文书号, subject) key of a file.

    Found by hashing the key; the few rows whose hash was seen before are then decided on the
    keys themselves, so a hash collision can never invent a duplicate.  ``files`` numbers the
    file of each row when the frame holds several: a row is a duplicate only within its file.
    """
    keys = norm.select(doc_key.alias(DOC_KEY), subject_key(spec.prefix).alias("subject"))
    if files is not None:
        keys = keys.with_columns(files.alias("file"))
    hashes = keys.hash_rows()
    first = hashes.is_first_distinct()
    if not first.all():
        group = hashes.is_in(hashes.filter(~first).unique().implode())
        subset = keys.with_row_index("_i").filter(group)
        key = pl.struct(pl.exclude("_i"))
        exact = subset.select("_i", key.is_first_distinct().alias("_f"))
        first = first.scatter(exact["_i"], exact["_f"])
    return first.alias(FIRST_OF_KEY)


def _document_helpers(
    norm: pl.DataFrame, spec: KindSpec, files: pl.Series | None
) -> list[pl.Series]:
    """The document-number key and the first-of-key flag (duplicates within the file)."""
    doc_key = document_key(norm[spec.document_number]).alias(DOC_KEY)
    return [doc_key, _first_of_key(norm, doc_key, spec, files)]


def _helpers_of(f: Field, s: pl.Series) -> list[pl.Series]:
    """The helper columns one field contributes (see :func:`prepare`)."""
    v = pl.col("v")
    out: list[pl.Series] = []
    if f.type == "date":
        out.append(per_distinct(s, parse_date(v), pl.Date).alias(date_col(f.code)))
    elif f.type == "amount":
        out.append(s.cast(pl.Float64, strict=False).alias(number_col(f.code)))
    elif f.type == "enum_list":
        items = s.str.split(";").list.eval(
            pl.element().str.strip_chars().filter(pl.element() != "")
        )
        out.append(items.alias(list_col(f.code)))
    status = STATUS_OF_TYPE.get(f.type)
    if f.id_type_field:
        status = ids.resident_id_status_series
    elif f.gs15:
        status = ids.gs15_status_series
    if status is not None:
        out.append(per_distinct(s, status, pl.Int8).alias(status_col(f.code)))
    if f.id_type_field:
        born = ids.resident_id_birth_date(v)
        out.append(per_distinct(s, born, pl.Date).alias(born_col(f.code)))
    return out


def prepare(
    norm: pl.DataFrame,
    spec: KindSpec,
    received: date | pl.Series,
    files: pl.Series | None = None,
) -> pl.DataFrame:
    """The normalised frame plus the helper columns the rules read.

    Every rule reads one record, but for one: a duplicate is a duplicate within its file.  When
    the frame holds several files (:func:`sgs.validate.pipeline.validate_uploads`), ``files``
    numbers the file of each row and ``received`` gives each row its file's received date;
    otherwise ``received`` is the one file's date.

    pandera runs each check as its own pass, so work several rules share (parsing dates,
    identifier algorithms, the document-number key) is done here once, per distinct value,
    for all fields side by side.
    """
    jobs: list[Callable[[], list[pl.Series]]] = [
        partial(_helpers_of, f, norm[f.code]) for f in spec.fields
    ]
    # The slowest job first, so that it overlaps with the per-field ones.
    jobs.insert(0, partial(_document_helpers, norm, spec, files))
    helpers = [s for part in thread_map(lambda job: job(), jobs) for s in part]
    if isinstance(received, pl.Series):
        received_col = received.cast(pl.Date).alias(RECEIVED)
    else:
        received_col = pl.repeat(received, norm.height, dtype=pl.Date, eager=True).alias(RECEIVED)
    return norm.with_columns(received_col, *helpers)
