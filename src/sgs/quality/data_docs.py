"""Data Docs for the expectation results, rendered by us as static Chinese HTML.

Great Expectations' own Data Docs load bootstrap, jQuery and Vega from CDNs and are blank
offline; these pages are self-contained (inline CSS, no scripts, system CJK fonts), so they
open from the file system or behind the office's firewall exactly as they are.

Decisions:

- **Where to fix what.**  A batch page lists its checks under the field a person must change
  (``expectation_results.field``, from the suite's ``meta.字段``), fields in the standard's
  order after the checks of the batch as a whole, with Chinese field and check names; the
  failures are listed first, each linking to its field.  Examples are the lines of
  :mod:`sgs.quality.examples` (sheet, row, the value as written).
- **One set of files, read two ways.**  The pages live in ``<data root>/curated/data_docs/``
  (``index.html``, ``batch_<id>.html``) and link to each other relatively, so they work from
  the file system.  ``sgs serve`` sends the same files at ``/docs/`` and ``/docs/batch/<id>``:
  it finds a page among the files this module wrote (:func:`pages`, matched by the name
  pattern this module gives them) and rewrites only the links this module wrote
  (:func:`for_web`).  No request text ever names a file.
- **Never half a page.**  Pages are written atomically; pages of batches no longer in the
  results (a rebuilt store) are removed, so the folder holds what the index lists.
- **Office time.**  Check times and the generation stamp are the office's wall-clock time.
- **Rules by their Chinese names.**  Each check shows the name of the catalogue rule it stands
  for (``meta.规则`` of the suite, named by ``schemas/standard.toml``: 必填, 长度上限 …), the
  name a unit's problem list gives the same fault; GE's English expectation type stays beside
  it in small print for engineers.  The name is looked up when the page is written, so a
  renamed rule shows at the next run even on results kept from before.
- **A way back to the month page.**  Every page starts with 「返回月度数据」, the month page of
  ``sgs serve`` (``/``): on disk the link is the ``public_url`` setting's address (the only
  way a page opened from the folder reaches the web app), served it is ``/`` — the app's own
  address, whatever host name the browser used (:func:`for_web`).
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import duckdb

from sgs.clock import office_now
from sgs.files import write_atomically
from sgs.labels import field_names, kind_name
from sgs.quality.examples import person_value
from sgs.quality.expectations import (
    RECEIVED,
    STORE_SUITE,
    SUITES,
    column_of,
    data_docs_dir,
    load_suite,
)
from sgs.reference.catalogue import KINDS, load_catalogue
from sgs.reference.settings import public_url
from sgs.store.sql import frame, one

INDEX = "index.html"
MONTH_PAGE = "返回月度数据"
OWN_CHECK = "入库核对"  # a check of the store's bookkeeping: no rule of the standard
BATCH_PAGE = re.compile(r"batch_([1-9][0-9]{0,17})\.html")
TITLE = "数据质量检查（Great Expectations）"
WHOLE_BATCH = "整个批次"

STYLE = """
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC",
       sans-serif; margin: 2rem auto; max-width: 76rem; color: #1f2933; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
.sub { color: #52606d; margin-top: 0; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0; font-size: .95rem; }
th, td { border: 1px solid #cbd2d9; padding: .4rem .6rem; text-align: left; vertical-align: top; }
th { background: #e4ecf7; white-space: nowrap; } td.num, td.verdict { white-space: nowrap; }
tr.field th { background: #f1f5f9; font-size: 1rem; }
.ok { color: #1f7a3a; font-weight: 600; } .bad { color: #b42318; font-weight: 600; }
.num { text-align: right; font-variant-numeric: tabular-nums; } code { font-size: .85rem; }
td.rule { min-width: 7rem; }
td.rule code { display: block; color: #52606d; font-size: .7rem; word-break: break-all; }
p.nav { margin: 0 0 .6rem; }
td.examples { min-width: 22rem; } ul.examples { margin: 0; padding-left: 1.1rem; }
a { color: #1d4ed8; }
"""


def page_name(batch_id: int) -> str:
    """The file name of a batch's page (the only place that names it)."""
    return f"batch_{batch_id}.html"


def pages(root: Path | None = None) -> dict[int, Path]:
    """The batch pages this module wrote, by batch id (what ``sgs serve`` may send)."""
    folder = data_docs_dir(root)
    if not folder.is_dir():
        return {}
    found = {}
    for path in folder.iterdir():
        match = BATCH_PAGE.fullmatch(path.name)
        if match and path.is_file():
            found[int(match[1])] = path
    return found


def index_page(root: Path | None = None) -> Path | None:
    """The index this module wrote, if any."""
    path = data_docs_dir(root) / INDEX
    return path if path.is_file() else None


_LINK = re.compile(r'href="(index\.html|batch_([1-9][0-9]{0,17})\.html)"')
_MONTH_LINK = re.compile(r'<a id="month-page" href="[^"<>]*">')


def for_web(page: str, prefix: str = "/docs") -> str:
    """A page as ``sgs serve`` sends it: the relative links this module writes become the
    server's routes (``index.html`` → ``/docs/``, ``batch_7.html`` → ``/docs/batch/7``), and
    the link back to the month page becomes the app's ``/``."""

    def route(m: re.Match) -> str:
        return f'href="{prefix}/batch/{m[2]}"' if m[2] else f'href="{prefix}/"'

    page = _MONTH_LINK.sub('<a id="month-page" href="/">', page, count=1)
    return _LINK.sub(route, page)


def _month_link() -> str:
    """The link to the web app's month page as written on disk (see the module docstring)."""
    target = html.escape(public_url("/"), quote=True)
    return f'<p class="nav"><a id="month-page" href="{target}">{MONTH_PAGE}</a></p>'


def _page(title: str, subtitle: str, body: str) -> str:
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{STYLE}</style></head>
<body>{_month_link()}<h1>{html.escape(title)}</h1><p class="sub">{html.escape(subtitle)}</p>{body}
</body></html>
"""


def _write(path: Path, text: str) -> None:
    write_atomically(path, lambda scratch: scratch.write_text(text, encoding="utf-8"))


def _verdict(ok: bool) -> str:
    return '<span class="ok">通过</span>' if ok else '<span class="bad">未通过</span>'


def _stamp(moment: object) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment is not None else ""


def render(con: duckdb.DuckDBPyConnection, root: Path | None = None) -> Path:
    """Write ``index.html`` and one page per checked batch; return the index."""
    out = data_docs_dir(root)
    out.mkdir(parents=True, exist_ok=True)
    has_results = one(
        con, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'expectation_results'"
    )[0]  # type: ignore[index]
    stamp = f"生成时间：{_stamp(office_now())}（办公地时间）"
    index = out / INDEX
    if not has_results:
        _write(index, _page(TITLE, stamp, "<p>尚无检查结果。</p>"))
        _remove_stale(root, set())
        return index
    summary = frame(
        con,
        """SELECT r.batch_id, b.file_name, b.unit_code, u.name AS unit_name, b.kind, b.received_date,
                  count(*) AS checks, count(*) FILTER (WHERE r.success) AS passed,
                  max(r.run_at) AS run_at
           FROM expectation_results r JOIN batches b USING (batch_id)
           LEFT JOIN units u ON u.code = b.unit_code
           GROUP BY ALL ORDER BY r.batch_id DESC""",
    )
    rows = []
    for b in summary.iter_rows(named=True):
        ok = b["passed"] == b["checks"]
        rows.append(
            f'<tr><td><a href="{page_name(b["batch_id"])}">{b["batch_id"]}</a></td>'
            f"<td>{html.escape(b['file_name'])}</td>"
            f"<td>{html.escape(b['unit_name'] or b['unit_code'])}</td>"
            f"<td>{kind_name(b['kind'])}</td><td>{b['received_date']}</td>"
            f"<td>{_stamp(b['run_at'])}</td>"
            f'<td class="num">{b["passed"]} / {b["checks"]}</td><td>{_verdict(ok)}</td></tr>'
        )
        _batch_page(con, b, out, stamp)
    _remove_stale(root, set(summary["batch_id"]))
    table = (
        "<table><tr><th>批次</th><th>文件</th><th>单位</th><th>类别</th><th>接收日期</th>"
        "<th>检查时间</th><th>通过 / 检查项</th><th>结论</th></tr>" + "".join(rows) + "</table>"
    )
    _write(index, _page(TITLE, f"{stamp}；共 {summary.height} 个批次", table))
    return index


def _remove_stale(root: Path | None, batch_ids: set[int]) -> None:
    for batch_id, path in pages(root).items():
        if batch_id not in batch_ids:
            path.unlink(missing_ok=True)


def _examples(text: str | None) -> str:
    """The stored example lines as a list (older results held raw values: shown for people)."""
    if not text:
        return ""
    try:
        items = json.loads(text)
    except ValueError:
        items = [text]
    if not isinstance(items, list):
        items = [items]
    lines = [i if isinstance(i, str) else person_value(i) for i in items]
    shown = [html.escape(line) for line in lines if line and person_value(line) is not None]
    if not shown:
        return ""
    return '<ul class="examples">' + "".join(f"<li>{s}</li>" for s in shown) + "</ul>"


def _field_order(kind: str) -> dict[str | None, int]:
    """The batch as a whole first, then the received date, then the standard's field order."""
    names = field_names(kind) if kind in KINDS else {}
    return {None: 0, RECEIVED: 1} | {code: i + 2 for i, code in enumerate(names)}


def _suite_order() -> dict[tuple, int]:
    """Position of each check in its suite file: a field's checks read in the suite's order."""
    order = {}
    for name in SUITES:
        for i, exp in enumerate(load_suite(name)["expectations"]):
            order[(name, exp["type"], column_of(exp["kwargs"]))] = i
    return order


def _rule_names() -> dict[tuple, str]:
    """The Chinese name of the catalogue rule of each check of the suite files (the row count,
    which no rule of the standard covers, is the store's own check)."""
    rules = load_catalogue().rules
    names = {}
    for name in SUITES:
        for exp in load_suite(name)["expectations"]:
            code = (exp.get("meta") or {}).get("规则")
            label = rules[code].name if code in rules else OWN_CHECK
            names[(name, exp["type"], column_of(exp["kwargs"]))] = label
    return names


def _rule_cell(check: dict, names: dict[tuple, str]) -> str:
    """The rule's Chinese name, GE's expectation type under it in small print.  A result kept
    from a check no suite holds any more keeps the type alone (there is no rule to name)."""
    name = names.get((check["suite"], check["expectation"], check["column_name"]))
    shown = html.escape(name) if name else ""
    return f'<td class="rule">{shown}<code>{html.escape(check["expectation"])}</code></td>'


def _field_label(field: str | None, names: dict[str, str]) -> str:
    if field is None:
        return WHOLE_BATCH
    if field == RECEIVED:
        return "接收日期"
    return names.get(field, field)


def _anchor(field: str | None) -> str:
    return f"f-{field or 'batch'}"


def _batch_page(con: duckdb.DuckDBPyConnection, batch: dict, out: Path, stamp: str) -> None:
    results = frame(
        con,
        "SELECT * FROM expectation_results WHERE batch_id = $b ORDER BY suite, expectation",
        {"b": batch["batch_id"]},
    )
    kind = batch["kind"]
    names = field_names(kind) if kind in KINDS else field_names()
    order = _field_order(kind)
    checks = []
    for r in results.iter_rows(named=True):
        field = r.get("field")
        if field is None and "field" not in r:  # results kept before fields were recorded
            field = (r["column_name"] or "").removesuffix("__written") or None
        checks.append(r | {"field": field})
    within = _suite_order()  # a field's checks of the batch first, then those across the store
    rule_names = _rule_names()
    checks.sort(key=lambda r: (order.get(r["field"], len(order)), r["field"] or "",
                               r["suite"] == STORE_SUITE,
                               within.get((r["suite"], r["expectation"], r["column_name"]), 0)))  # fmt: skip

    failed = [c for c in checks if not c["success"]]
    if failed:
        items = "".join(
            f'<li><a href="#{_anchor(c["field"])}">{html.escape(_field_label(c["field"], names))}'
            f"</a>：{html.escape(c['description'])}（{c['unexpected_count'] or 0} 处）</li>"
            for c in failed
        )
        head = f"<h2>未通过的检查（{len(failed)} 项）</h2><ul>{items}</ul>"
    else:
        head = "<h2>全部检查通过</h2>"
    rows, current = [], object()
    for c in checks:
        if c["field"] != current:
            current = c["field"]
            code = f" <code>{html.escape(current)}</code>" if current else ""
            rows.append(
                f'<tr class="field" id="{_anchor(current)}"><th colspan="5">'
                f"{html.escape(_field_label(current, names))}{code}</th></tr>"
            )
        count = c["unexpected_count"]
        rows.append(
            f"<tr><td>{html.escape(c['description'])}</td>"
            f'<td class="verdict">{_verdict(c["success"])}</td>'
            f'<td class="num">{"" if count is None else count}</td>'
            f'<td class="examples">{_examples(c["examples"])}</td>'
            f"{_rule_cell(c, rule_names)}</tr>"
        )
    body = (
        f'<p><a href="{INDEX}">← 全部批次</a></p>{head}<h2>按字段列出的全部检查</h2>'
        "<table><tr><th>检查项</th><th>结论</th><th>不符合数</th><th>示例（位置与原值）</th>"
        "<th>规则（GE 期望）</th></tr>" + "".join(rows) + "</table>"
    )
    title = f"批次 {batch['batch_id']}：{batch['file_name']}"
    sub = (
        f"{batch['unit_name'] or batch['unit_code']}，{kind_name(kind)}，"
        f"接收日期 {batch['received_date']}，检查时间 {_stamp(batch['run_at'])}；{stamp}"
    )
    _write(out / page_name(batch["batch_id"]), _page(title, sub, body))
