"""Chinese labels and formatters for everything people read.

Codes stay English in code and storage (``permit``, ``timeliness_rate``, ``XK_WSH``); these
are the words a clerk sees in workbooks, pages, artifacts and the CLI.  Kind, field and rule
names come from the catalogue, so renaming a field or a rule there renames it everywhere.  A
rule is shown by its Chinese name with its stable code beside it (日期格式 / ``date_format``):
the name is what a clerk understands, the code what the standard's rule table and ``--json``
name.  A figure that does
not apply (an empty denominator, an item not yet due) is shown as :data:`NOT_APPLICABLE`,
never as 0.
"""

from __future__ import annotations

from sgs.config import cached_on_file, catalogue_path
from sgs.reference.catalogue import KINDS, load_catalogue

NOT_APPLICABLE = "—"
LEDGER_NAME = "台账"
SEVERITY_NAMES = {"error": "错误", "warning": "警告"}
RATE_NAMES = {
    "timeliness_rate": "及时率",
    "compliance_rate": "合规率",
    "completeness_rate": "完整率",
}
# What happened to a file (ingest results); the CLI and the daily artifact say the same.
STATUS_NAMES = {
    "stored": "已入库",
    "skipped": "已存在",
    "quarantined": "已隔离",
    "ignored": "已忽略",
}


@cached_on_file(catalogue_path, size=4)
def kind_names() -> dict[str, str]:
    """``permit`` → 行政许可, ``penalty`` → 行政处罚, ``ledger`` → 台账."""
    cat = load_catalogue()
    return {k: cat.kind(k).name for k in KINDS} | {"ledger": LEDGER_NAME}


def kind_name(kind: str | None) -> str:
    """The Chinese name of a kind; an unknown or missing kind is shown as it is."""
    return kind_names().get(kind or "", kind or "")


@cached_on_file(catalogue_path, size=4)
def kind_of_name() -> dict[str, str]:
    """行政许可 → ``permit``, 行政处罚 → ``penalty``: how a ledger's 类别 column names a kind."""
    return {name: kind for kind, name in kind_names().items() if kind in KINDS}


@cached_on_file(catalogue_path, size=4)
def field_names(kind: str | None = None) -> dict[str, str]:
    """Field code → Chinese name, for one kind (``ledger`` too) or for all of them."""
    cat = load_catalogue()
    if kind == "ledger":
        return {f.code: f.name for f in cat.ledger_fields}
    kinds = KINDS if kind is None else (kind,)
    names = {f.code: f.name for k in kinds for f in cat.kind(k).fields}
    return names | ({f.code: f.name for f in cat.ledger_fields} if kind is None else {})


@cached_on_file(catalogue_path, size=4)
def rule_names() -> dict[str, str]:
    """Rule code → Chinese name, the standard's rules and the ledger's (``date_format`` → 日期格式)."""
    cat = load_catalogue()
    return {code: rule.name for code, rule in {**cat.rules, **cat.ledger_rules}.items()}


def rule_name(code: str | None) -> str:
    """The Chinese name of a rule; an unknown code is shown as it is."""
    return rule_names().get(code or "", code or "")


def _problems(problems: str | None) -> list[tuple[str, str]]:
    return [tuple(p.partition(":")[::2]) for p in (problems or "").split("; ") if p]  # type: ignore[misc]


def problem_names(problems: str | None) -> str | None:
    """A record's problems as the drill-downs list them (``XK_JDRQ:date_range; …``) in words:
    ``许可决定日期：日期范围；…`` — the field and the rule a reader knows."""
    fields, rules = field_names(), rule_names()
    parts = [f"{fields.get(f, f)}：{rules.get(r, r)}" if r else fields.get(f, f)
             for f, r in _problems(problems)]  # fmt: skip
    return "；".join(parts) or None


def problem_rules(problems: str | None) -> str | None:
    """The rule codes of :func:`problem_names`, in the same order: ``date_range；…``."""
    return "；".join(r for _, r in _problems(problems) if r) or None


def pct(value: float | None) -> str:
    """A rate as people read it (66.7%); an empty denominator is "—", never 0% by accident."""
    return NOT_APPLICABLE if value is None else f"{value:.1%}"


def num(value: float | None) -> str:
    """Points as people read them (9.5, 10); not applicable is "—"."""
    return NOT_APPLICABLE if value is None else f"{value:g}"


def zero_report_note(row: dict) -> str:
    """The 备注 of a unit whose zero-increment report the data contradict (tables, bulletin,
    the unit's page): the office must be able to say why item 8 is 0."""
    n = row.get("zero_report_contradicted") or 0
    if row.get("zero_report") and n:
        return f"零增量报告不实：已上报该月作出的决定 {n} 条"
    return ""
