"""Data Docs for the expectation results, rendered by us as static Chinese HTML.

Great Expectations' own Data Docs load bootstrap, jQuery and Vega from CDNs and are blank
offline; these pages are self-contained (inline CSS, no scripts, system CJK fonts), so they
open from the file system or behind the office's firewall exactly as they are.
"""

from __future__ import annotations

import html
from pathlib import Path

import duckdb

from sgs.clock import office_now
from sgs.labels import kind_name
from sgs.quality.expectations import data_docs_dir
from sgs.store.sql import frame, one

STYLE = """
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC",
       sans-serif; margin: 2rem auto; max-width: 72rem; color: #1f2933; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } .sub { color: #52606d; margin-top: 0; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0; font-size: .95rem; }
th, td { border: 1px solid #cbd2d9; padding: .4rem .6rem; text-align: left; vertical-align: top; }
th { background: #e4ecf7; } td:first-child, th { white-space: nowrap; } tr:nth-child(even) td { background: #f8fafc; }
.ok { color: #1f7a3a; font-weight: 600; } .bad { color: #b42318; font-weight: 600; }
.num { text-align: right; font-variant-numeric: tabular-nums; } code { font-size: .85rem; }
a { color: #1d4ed8; }
"""


def _page(title: str, subtitle: str, body: str) -> str:
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{STYLE}</style></head>
<body><h1>{html.escape(title)}</h1><p class="sub">{html.escape(subtitle)}</p>{body}</body></html>
"""


def _verdict(ok: bool) -> str:
    return '<span class="ok">通过</span>' if ok else '<span class="bad">未通过</span>'


def render(con: duckdb.DuckDBPyConnection, root: Path | None = None) -> Path:
    """Write ``index.html`` and one page per checked batch; return the index."""
    out = data_docs_dir(root)
    out.mkdir(parents=True, exist_ok=True)
    has_results = one(
        con, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'expectation_results'"
    )[0]  # type: ignore[index]
    stamp = f"生成时间：{office_now():%Y-%m-%d %H:%M}"
    if not has_results:
        index = out / "index.html"
        index.write_text(
            _page("数据质量检查（Great Expectations）", stamp, "<p>尚无检查结果。</p>"), "utf-8"
        )
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
            f'<tr><td><a href="batch_{b["batch_id"]}.html">{b["batch_id"]}</a></td>'
            f"<td>{html.escape(b['file_name'])}</td><td>{html.escape(b['unit_name'] or b['unit_code'])}</td>"
            f"<td>{kind_name(b['kind'])}</td><td>{b['received_date']}</td>"
            f'<td class="num">{b["passed"]} / {b["checks"]}</td><td>{_verdict(ok)}</td></tr>'
        )
        _batch_page(con, b, out, stamp)
    table = (
        "<table><tr><th>批次</th><th>文件</th><th>单位</th><th>类别</th><th>接收日期</th>"
        "<th>通过 / 检查项</th><th>结论</th></tr>" + "".join(rows) + "</table>"
    )
    index = out / "index.html"
    index.write_text(
        _page("数据质量检查（Great Expectations）", f"{stamp}；共 {summary.height} 个批次", table),
        encoding="utf-8",
    )
    return index


def _batch_page(con: duckdb.DuckDBPyConnection, batch: dict, out: Path, stamp: str) -> None:
    results = frame(
        con,
        """SELECT suite, expectation, column_name, description, success, element_count,
                  unexpected_count, examples
           FROM expectation_results WHERE batch_id = $b ORDER BY success, suite, expectation""",
        {"b": batch["batch_id"]},
    )
    rows = []
    for r in results.iter_rows(named=True):
        rows.append(
            f"<tr><td>{_verdict(r['success'])}</td><td>{html.escape(r['description'])}</td>"
            f"<td><code>{html.escape(r['column_name'] or '')}</code></td>"
            f'<td class="num">{r["unexpected_count"] if r["unexpected_count"] is not None else ""}</td>'
            f"<td><code>{html.escape(r['examples'] or '')}</code></td>"
            f"<td><code>{html.escape(r['expectation'])}</code></td></tr>"
        )
    body = (
        '<p><a href="index.html">← 全部批次</a></p>'
        "<table><tr><th>结论</th><th>检查项</th><th>字段</th><th>不符合数</th><th>示例</th>"
        "<th>期望（GE）</th></tr>" + "".join(rows) + "</table>"
    )
    title = f"批次 {batch['batch_id']}：{batch['file_name']}"
    sub = f"{batch['unit_name'] or batch['unit_code']}，接收日期 {batch['received_date']}；{stamp}"
    (out / f"batch_{batch['batch_id']}.html").write_text(_page(title, sub, body), encoding="utf-8")
