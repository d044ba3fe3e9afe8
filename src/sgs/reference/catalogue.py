"""The data standard, loaded from ``schemas/standard.toml`` into typed objects.

The TOML file is the single source of truth; this module only expands it (the ``{P}`` prefix of
shared fields, implied header aliases) so that readers, rules, templates and docs all see the
same catalogue.  Nothing here knows about polars or pandera, so importing it is cheap.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Literal

from sgs.config import cached_on_file, catalogue_path

Kind = Literal["permit", "penalty"]
KINDS: tuple[Kind, ...] = ("permit", "penalty")
Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Field:
    """One column of an upload template, with every rule the standard attaches to it."""

    code: str
    kind: Kind
    position: int  # 1-based, template order
    name: str
    type: str
    required: str = "optional"
    aliases: tuple[str, ...] = ()
    alias_inner: bool = False
    max_length: int | None = None
    min_length: int | None = None
    required_if_filled: str | None = None
    required_if_category: tuple[str, ...] = ()
    blank_if_natural: bool = False
    values: str | None = None
    other_prefix: bool = False
    id_type_field: str | None = None
    gs15: bool = False
    uscc_prefix: bool = False
    not_before_founding: bool = False
    not_after_received: bool = False
    on_or_after: str | None = None
    duplicate_key: bool = False
    unverified: str | None = None

    @property
    def short_name(self) -> str:
        """The Chinese name without its parenthesised part, e.g. 行政相对人代码_1."""
        return strip_parenthesised(self.name)

    @property
    def is_code(self) -> bool:
        """Identifier-like fields are upper-cased during normalisation."""
        return self.type in {"uscc", "org_code"} or self.id_type_field is not None or self.gs15


@dataclass(frozen=True)
class RuleSpec:
    code: str
    severity: Severity
    message: str
    name: str = ""  # the Chinese name people read beside the code (日期格式 for date_format)


@dataclass(frozen=True)
class KindSpec:
    kind: Kind
    name: str
    prefix: str
    document_number: str
    decision_date: str
    subject_type: str
    category: str | None
    fields: tuple[Field, ...]

    def field(self, code: str) -> Field:
        for f in self.fields:
            if f.code == code:
                return f
        raise KeyError(code)

    @property
    def codes(self) -> list[str]:
        return [f.code for f in self.fields]

    @property
    def required_columns(self) -> list[str]:
        """Columns whose absence refuses a file: the unconditionally mandatory fields."""
        return [f.code for f in self.fields if f.required == "always"]


@dataclass(frozen=True)
class LedgerField:
    """One column of the unit's monthly ledger; typed like upload fields, so that the same
    normaliser treats both (``code``: a credit code or an ID number, the ledger does not say)."""

    code: str
    name: str
    type: str = "text"
    required: str = "optional"
    aliases: tuple[str, ...] = ()
    values: tuple[str, ...] = ()
    max_length: int | None = None

    @property
    def is_code(self) -> bool:
        return self.type == "code"


@dataclass(frozen=True)
class Layout:
    key: str
    name: str
    markers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Catalogue:
    kinds: dict[str, KindSpec]
    rules: dict[str, RuleSpec]
    values: dict[str, tuple[str, ...]]
    layouts: dict[str, Layout]
    subject_types: dict[str, str]
    blank_values: tuple[str, ...]
    founding_date: date
    long_term_date: date
    amount_looks_like_yuan: float
    max_amount_decimals: int
    require_legal_rep_id_for_legal: bool
    ledger_name: str = ""
    ledger_fields: tuple[LedgerField, ...] = ()
    ledger_rules: dict[str, RuleSpec] = field(default_factory=dict)
    # value set -> {synonym: the one allowed value it means}: fix suggestions of allowed_values
    synonyms: dict[str, dict[str, str]] = field(default_factory=dict)
    raw: dict = field(repr=False, compare=False, default_factory=dict)

    def kind(self, kind: str) -> KindSpec:
        return self.kinds[kind]

    def rule(self, code: str) -> RuleSpec:
        """A rule of the standard, or one of the rules only ledgers have."""
        return self.rules.get(code) or self.ledger_rules[code]

    @property
    def legal_types(self) -> tuple[str, ...]:
        """Subject types for which the C法 rules apply."""
        return (self.subject_types["legal"], self.subject_types["individual"])

    @property
    def natural_type(self) -> str:
        return self.subject_types["natural"]


_PAREN = re.compile(r"\([^)]*\)")


def strip_parenthesised(text: str) -> str:
    """Drop a parenthesised part, full- or half-width: 罚款金额（万元） -> 罚款金额."""
    return _PAREN.sub("", unicodedata.normalize("NFKC", text)).strip()


# Traditional characters of the catalogue's header words and their simplified forms: files
# from systems that write Big5 carry traditional headers (行政相對人名稱 is 行政相对人名称).
_TRADITIONAL = str.maketrans(
    "萬業為爲書會關內冊決別務單號處備實審對當態據數時暫機來構沒註狀碼稱稅類組織經結統編罰營記許證負財責違銷間項額",
    "万业为为书会关内册决别务单号处备实审对当态据数时暂机来构没注状码称税类组织经结统编罚营记许证负财责违销间项额",
)


def normalise_header(text: object) -> str:
    """Canonical form of a header cell: NFKC, simplified, no blanks or required-markers, upper
    case.

    Templates mark mandatory columns with ``*`` or ``★`` and users add stray spaces; none of
    that changes which field a column is, and neither does writing it in traditional characters.
    """
    if text is None:
        return ""
    return _normalised(str(text))


@lru_cache(maxsize=1 << 16)
def _normalised(text: str) -> str:
    """:func:`normalise_header` of a text, remembered: the header search asks for every cell of
    a file's first rows, and the same words (headers, categories, dates) recur file after file."""
    s = unicodedata.normalize("NFKC", text).translate(_TRADITIONAL)
    return _HEADER_NOISE.sub("", s).upper()


_HEADER_NOISE = re.compile(r"[\s*★☆\u200b\ufeff]+")


def _rule(code: str, spec: dict) -> RuleSpec:
    """A rule of the catalogue; one without a Chinese name (a catalogue of an older version)
    is named by its code."""
    return RuleSpec(
        code=code, severity=spec["severity"], message=spec["message"], name=spec.get("name", code)
    )


def _expand(template: str, prefix: str) -> str:
    return template.replace("{P}", prefix)


@cached_on_file(catalogue_path, size=4)
def load_catalogue() -> Catalogue:
    """The catalogue in force: parsed once per process and version of the file."""
    raw = tomllib.loads(catalogue_path().read_text(encoding="utf-8"))
    settings = raw["settings"]
    kinds: dict[str, KindSpec] = {}
    for kind in KINDS:
        meta = raw["kinds"][kind]
        prefix = meta["prefix"]
        fields = []
        for spec in raw["field"]:
            if kind not in spec["kinds"]:
                continue
            attrs = {k: v for k, v in spec.items() if k not in {"code", "kinds"}}
            for key in ("required_if_filled", "id_type_field", "on_or_after"):
                if key in attrs:
                    attrs[key] = _expand(attrs[key], prefix)
            attrs["aliases"] = tuple(_expand(a, prefix) for a in attrs.get("aliases", ()))
            attrs["required_if_category"] = tuple(attrs.get("required_if_category", ()))
            fields.append(
                Field(
                    code=_expand(spec["code"], prefix),
                    kind=kind,
                    position=len(fields) + 1,
                    **attrs,
                )
            )
        kinds[kind] = KindSpec(
            kind=kind,
            name=meta["name"],
            prefix=prefix,
            document_number=meta["document_number"],
            decision_date=meta["decision_date"],
            subject_type=meta["subject_type"],
            category=meta.get("category"),
            fields=tuple(fields),
        )
    rules = {code: _rule(code, spec) for code, spec in raw["rules"].items()}
    values = {k: tuple(v) for k, v in raw["values"].items()}
    synonyms = _synonyms(raw.get("synonyms", {}), values)
    layouts = {
        key: Layout(key=key, name=spec["name"], markers=tuple(spec.get("markers", ())))
        for key, spec in raw["layouts"].items()
    }
    return Catalogue(
        kinds=kinds,
        rules=rules,
        values=values,
        layouts=layouts,
        subject_types=dict(raw["subject_types"]),
        blank_values=tuple(settings["blank_values"]),
        founding_date=date.fromisoformat(settings["founding_date"]),
        long_term_date=date.fromisoformat(settings["long_term_date"]),
        amount_looks_like_yuan=float(settings["amount_looks_like_yuan"]),
        max_amount_decimals=int(settings["max_amount_decimals"]),
        require_legal_rep_id_for_legal=bool(settings["require_legal_rep_id_for_legal"]),
        ledger_name=raw["ledger"]["name"],
        ledger_fields=tuple(
            LedgerField(
                code=spec["code"],
                name=spec["name"],
                type=spec.get("type", "text"),
                required=spec.get("required", "optional"),
                aliases=tuple(spec.get("aliases", ())),
                values=tuple(spec.get("values", ())),
                max_length=spec.get("max_length"),
            )
            for spec in raw["ledger"]["field"]
        ),
        ledger_rules={
            code: _rule(code, spec) for code, spec in raw["ledger"].get("rules", {}).items()
        },
        synonyms=synonyms,
        raw=raw,
    )


def _synonyms(
    raw: dict[str, dict[str, str]], values: dict[str, tuple[str, ...]]
) -> dict[str, dict[str, str]]:
    """The synonyms tables, checked: a suggestion that is no allowed value would itself fail,
    and a synonym that is an allowed value would never be looked up."""
    for name, table in raw.items():
        if name not in values:
            raise ValueError(f"synonyms for unknown value set {name!r}")
        for synonym, value in table.items():
            if value not in values[name] or synonym in values[name]:
                raise ValueError(f"synonym {synonym!r} -> {value!r} does not fit set {name!r}")
    return {name: dict(table) for name, table in raw.items()}


def header_keys(f: Field) -> set[str]:
    """Every normalised header text that names this field."""
    keys = {f.code, f.name, f.short_name, *f.aliases}
    keys |= {strip_parenthesised(a) for a in f.aliases}
    if f.alias_inner:
        inner = re.search(r"\(([^)]*)\)", unicodedata.normalize("NFKC", f.name))
        if inner:
            keys.add(inner.group(1))
    return {normalise_header(k) for k in keys if k}


@cached_on_file(catalogue_path)
def header_map(kind: Kind) -> dict[str, str]:
    """Normalised header text -> field code for one kind."""
    cat = load_catalogue()
    mapping: dict[str, str] = {}
    for f in cat.kind(kind).fields:
        for key in header_keys(f):
            if key in mapping and mapping[key] != f.code:
                raise ValueError(f"header {key!r} is ambiguous: {mapping[key]} and {f.code}")
            mapping[key] = f.code
    return mapping


@cached_on_file(catalogue_path, size=4)
def ledger_header_map() -> dict[str, str]:
    """Normalised header text -> ledger field code."""
    mapping: dict[str, str] = {}
    for f in load_catalogue().ledger_fields:
        for key in {f.code, f.name, *f.aliases}:
            mapping[normalise_header(key)] = f.code
    return mapping
