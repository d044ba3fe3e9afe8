"""Human-readable views of the catalogue: the tables in docs/standard.md and blank upload templates.

Both are generated, never written by hand, so a rule changed in schemas/standard.toml shows up
everywhere at once.  ``docs/standard.md`` is hand-written prose with generated blocks between
HTML comment markers::

    <!-- generated: permit-fields -->
    (the table, rewritten from the catalogue)
    <!-- end generated -->

:func:`generated_blocks` names the blocks (permit-fields, penalty-fields, ledger-fields, rules,
catalogue-settings, layouts, synonyms) and renders each; :func:`update_generated` rewrites them in a text
and :func:`write_standard_doc` in the file.  Run it after changing the catalogue with::

    sgs standard --update-docs

(``sgs standard --markdown`` prints the field, ledger and rule tables on stdout).  A test regenerates the
file and compares it with the committed one, so a stale document fails the suite; the prose
around the blocks is never touched, so an edit there stays.
"""

from __future__ import annotations

import re
from pathlib import Path

from sgs.config import PROJECT_ROOT
from sgs.reference.catalogue import KINDS, Field, Kind, load_catalogue

STANDARD_DOC = PROJECT_ROOT / "docs" / "standard.md"

REQUIRED_ZH = {
    "always": "必填",
    "legal": "法人及非法人组织、个体工商户必填",
    "natural": "自然人必填",
    "optional": "选填",
}
TYPE_ZH = {
    "text": "文本",
    "enum": "代码值",
    "enum_list": "代码值（可多选，以分号分隔）",
    "uscc": "统一社会信用代码（18 位）",
    "org_code": "组织机构代码（9 位）",
    "date": "日期",
    "amount": "金额（万元）",
}


def requirement(f: Field) -> str:
    spec = load_catalogue().kind(f.kind)
    parts = [REQUIRED_ZH[f.required]]
    if f.required_if_filled:
        parts.append(f"填写{spec.field(f.required_if_filled).name}时必填")
    if f.required_if_category:
        parts.append(f"处罚类别含{'、'.join(f.required_if_category)}时必填")
    if f.blank_if_natural:
        parts.append("自然人须为空")
    return "；".join(parts)


def rules_text(f: Field) -> str:
    """The checks of one field, in the words a clerk filling the template needs."""
    cat = load_catalogue()
    spec = cat.kind(f.kind)
    parts: list[str] = []
    if f.min_length and f.max_length:
        parts.append(f"长度 {f.min_length}–{f.max_length} 个字符")
    elif f.max_length:
        parts.append(f"不超过 {f.max_length} 个字符")
    if f.values:
        values = "、".join(cat.values[f.values])
        parts.append(f"取值：{values}" + ("，或「其他-具体内容」" if f.other_prefix else ""))
    if f.type == "uscc":
        parts.append("校验位按 GB 32100-2015；第 9–17 位组织机构代码校验错误为警告")
    if f.uscc_prefix:
        parts.append("个体工商户通常以 92 开头（不一致为警告）")
    if f.type == "org_code":
        parts.append("校验码按 GB 11714，可写作 12345678-9")
    if f.id_type_field:
        parts.append(f"{spec.field(f.id_type_field).name}为身份证时按 GB 11643 校验")
    if f.gs15:
        parts.append("15 位注册号按 GS 15-2006 校验（错误为警告）")
    if f.type == "date":
        parts.append("YYYY/MM/DD，也接受 YYYY-MM-DD、YYYYMMDD、YYYY年M月D日")
        if f.not_before_founding:
            parts.append("不早于 1949/10/01")
        if f.not_after_received:
            parts.append("不晚于上报日期")
        if f.on_or_after:
            parts.append(f"不早于{spec.field(f.on_or_after).name}")
        if f.code in ("XK_YXQZI", "CF_YXQ"):
            parts.append("2099/12/31 表示长期")
    if f.type == "amount":
        parts.append(
            f"单位万元，不小于 0，最多 {cat.max_amount_decimals} 位小数；"
            f"≥ {cat.amount_looks_like_yuan:g} 疑似按元填报（警告）"
        )
    if f.duplicate_key:
        parts.append("同一文件内同一文书号、同一相对人不得重复")
    return "；".join(parts)


def fields_table(kind: Kind) -> str:
    """The field table of one record kind (Chinese, as a clerk reads it), without a heading."""
    spec = load_catalogue().kind(kind)
    lines = ["| # | 字段 | 代码 | 类型 | 是否必填 | 规则 |", "|---|---|---|---|---|---|"]
    for f in spec.fields:
        note = f" （待核实：{f.unverified}）" if f.unverified else ""
        lines.append(
            f"| {f.position} | {f.name} | `{f.code}` | {TYPE_ZH[f.type]} | {requirement(f)} | "
            f"{rules_text(f)}{note} |"
        )
    return "\n".join(lines)


def markdown_table(kind: Kind) -> str:
    spec = load_catalogue().kind(kind)
    heading = f"## {spec.name}（{spec.prefix}，{len(spec.fields)} 个字段）"
    return f"{heading}\n\n{fields_table(kind)}"


def rules_table() -> str:
    """Every rule code with its Chinese name, severity and message: the standard's rules, then
    the ledger's."""
    cat = load_catalogue()
    lines = ["| 规则代码 | 规则 | 级别 | 提示 |", "|---|---|---|---|"]
    for code, rule in {**cat.rules, **cat.ledger_rules}.items():
        level = "错误" if rule.severity == "error" else "警告"
        lines.append(f"| `{code}` | {rule.name} | {level} | {rule.message} |")
    return "\n".join(lines)


def rules_markdown() -> str:
    return f"## 规则代码\n\n{rules_table()}"


def ledger_table() -> str:
    """The ledger's columns, without a heading."""
    lines = ["| # | 列 | 代码 | 是否必填 | 规则 |", "|---|---|---|---|---|"]
    lines += [
        f"| {p} | {n} | `{c}` | {req} | {rules} |" for p, n, c, req, rules, _ in _ledger_rows()
    ]
    return "\n".join(lines)


def ledger_markdown() -> str:
    heading = f"## 月度台账（{load_catalogue().ledger_name}，不属于国家标准）"
    return f"{heading}\n\n{ledger_table()}"


def catalogue_settings_table() -> str:
    """The ``[settings]`` of the catalogue: values the rules read, each one line to change."""
    cat = load_catalogue()
    blanks = "、".join(f"`{v}`" if v else "空字符串" for v in cat.blank_values)
    rows = [
        ("blank_values", blanks, "视为空白的值（去空格、全角转半角后比较，不区分大小写）"),
        ("founding_date", cat.founding_date.isoformat(), "决定日期不得早于此日"),
        (
            "long_term_date",
            cat.long_term_date.isoformat(),
            "表示「长期」的日期（是普通的有效日期）",
        ),
        (
            "amount_looks_like_yuan",
            f"{cat.amount_looks_like_yuan:g}",
            "金额（万元）达到此值疑似按元填报",
        ),
        ("max_amount_decimals", str(cat.max_amount_decimals), "金额最多小数位数"),
        (
            "require_legal_rep_id_for_legal",
            str(cat.require_legal_rep_id_for_legal).lower(),
            "为 true 时法定代表人证件号码对法人及非法人组织、个体工商户必填",
        ),
    ]
    lines = ["| 设置 | 值 | 含义 |", "|---|---|---|"]
    lines += [f"| `{key}` | {value} | {meaning} |" for key, value, meaning in rows]
    return "\n".join(lines)


def layouts_table() -> str:
    """The layouts the reader recognises and the columns that mark each."""
    lines = ["| 格式 | 名称 | 识别依据（表头） |", "|---|---|---|"]
    for key, layout in load_catalogue().layouts.items():
        markers = "、".join(f"`{m}`" for m in layout.markers) or "（其余文件）"
        lines.append(f"| `{key}` | {layout.name} | {markers} |")
    return "\n".join(lines)


def synonyms_table() -> str:
    """The synonyms that fix suggestions map to an allowed value, per value set and field."""
    cat = load_catalogue()
    users: dict[str, list[str]] = {}
    for kind in KINDS:
        for f in cat.kind(kind).fields:
            if f.values and f.name not in users.setdefault(f.values, []):
                users[f.values].append(f.name)
    lines = ["| 字段 | 填写的值 | 建议改为 |", "|---|---|---|"]
    for name, table in cat.synonyms.items():
        fields = "、".join(users.get(name, [name]))
        for synonym, value in table.items():
            lines.append(f"| {fields} | {synonym} | {value} |")
    return "\n".join(lines)


def standard_markdown() -> str:
    """All the tables as one Markdown page (``sgs standard --markdown``)."""
    head = (
        "# 数据标准字段表\n\n"
        "本页由 `sgs standard --markdown` 根据 `schemas/standard.toml` 生成，请勿手工修改。"
        "标注“待核实”的条目来自对各地平台实现的重建，均为目录中的一行设置。\n"
    )
    body = "\n\n".join([*(markdown_table(k) for k in KINDS), ledger_markdown(), rules_markdown()])
    return f"{head}\n{body}\n"


def generated_blocks() -> dict[str, str]:
    """Name -> content of every block docs/standard.md takes from the catalogue."""
    return {
        "permit-fields": fields_table("permit"),
        "penalty-fields": fields_table("penalty"),
        "ledger-fields": ledger_table(),
        "rules": rules_table(),
        "catalogue-settings": catalogue_settings_table(),
        "layouts": layouts_table(),
        "synonyms": synonyms_table(),
    }


_BLOCK = re.compile(
    r"(?P<start><!-- generated: (?P<name>[a-z0-9-]+) -->\n).*?(?P<end><!-- end generated -->)",
    re.DOTALL,
)


def update_generated(text: str) -> str:
    """``text`` with every generated block rewritten from the catalogue; the prose is kept.

    An unknown, repeated or missing block name is an error: a typo in a marker must not leave
    a table silently stale, and every table must appear once.
    """
    blocks = generated_blocks()
    seen: list[str] = []

    def fill(m: re.Match[str]) -> str:
        name = m["name"]
        if name not in blocks:
            raise ValueError(f"unknown generated block {name!r}; known: {', '.join(blocks)}")
        seen.append(name)
        return f"{m['start']}\n{blocks[name]}\n\n{m['end']}"

    out = _BLOCK.sub(fill, text)
    repeated = sorted({n for n in seen if seen.count(n) > 1})
    missing = [n for n in blocks if n not in seen]
    if repeated or missing:
        raise ValueError(f"generated blocks repeated: {repeated}, missing: {missing}")
    return out


def write_standard_doc(path: Path = STANDARD_DOC) -> bool:
    """Rewrite the generated blocks of docs/standard.md in place; True if the file changed."""
    text = path.read_text(encoding="utf-8")
    updated = update_generated(text)
    if updated != text:
        path.write_text(updated, encoding="utf-8")
    return updated != text


def _ledger_rows() -> list[tuple[str, str, str, str, bool]]:
    """(position, name, code, requirement, rules, mandatory) of the ledger's columns."""
    rows = []
    for i, f in enumerate(load_catalogue().ledger_fields, start=1):
        rules = []
        if f.values:
            rules.append("取值：" + "、".join(f.values))
        if f.max_length:
            rules.append(f"不超过 {f.max_length} 个字符")
        if f.code == "JDRQ":
            rules.append("YYYY/MM/DD；应在台账所属月份内")
        if f.code == "XDR_DM":
            rules.append("法人填统一社会信用代码，自然人填证件号码")
        rows.append((str(i), f.name, f.code, REQUIRED_ZH[f.required], "；".join(rules),
                     f.required == "always"))  # fmt: skip
    return rows


def write_template(kind: str, path: str | Path) -> Path:
    """A blank template — an upload of one kind, or the monthly ledger — with instructions."""
    import xlsxwriter

    cat = load_catalogue()
    if kind == "ledger":
        title, rows = cat.ledger_name, _ledger_rows()
    else:
        spec = cat.kind(kind)  # type: ignore[arg-type]
        title = f"{spec.name}数据"
        rows = [
            (str(f.position), f.name, f.code, requirement(f), rules_text(f), f.required == "always")
            for f in spec.fields
        ]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    book = xlsxwriter.Workbook(str(path))
    text = book.add_format({"num_format": "@"})
    head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
    must = book.add_format(
        {
            "bold": True,
            "bg_color": "#FCE4D6",
            "border": 1,
            "text_wrap": True,
            "font_color": "#C00000",
        }
    )
    ws = book.add_worksheet(title)
    for j, (_, name, code, needed, rules, mandatory) in enumerate(rows):
        ws.write_string(0, j, name, must if mandatory else head)
        ws.write_comment(0, j, f"{code}\n{needed}\n{rules}")
        ws.set_column(j, j, 18, text)  # text cells: codes and ID numbers never become numbers
    ws.freeze_panes(1, 0)
    guide = book.add_worksheet("填写说明")
    for j, heading in enumerate(["序号", "字段", "代码", "是否必填", "规则"]):
        guide.write_string(0, j, heading, head)
    for i, row in enumerate(rows, start=1):
        for j, value in enumerate(row[:5]):
            guide.write_string(i, j, value)
    guide.set_column(0, 0, 6)
    guide.set_column(1, 1, 36)
    guide.set_column(2, 2, 16)
    guide.set_column(3, 3, 30)
    guide.set_column(4, 4, 90)
    book.close()
    return path
