"""The 修订 list: every figure of a published month that has changed since its latest revision.

Why: once the office has circulated a month's figures (:mod:`sgs.report.publication`), a later
bulletin, the month page or a disputing unit must see at a glance what no longer stands — which
unit, which figure, published → now — and what changed it, rather than compare two workbooks.

Decisions:

- **Against the latest revision**, in the figures' own terms: the published rows (the JSON
  objects ``sgs rates|points --json`` printed) and the live ones, printed the same way, are
  compared value by value.  Rates per unit and kind: the counts (上报, 及时, 及时性未判定,
  合规, 台账, 台账已上报) and the three rates; points per unit: items 1–10, the total and the
  rank.  A row is known by its unit (and kind); should two rows share that, by their order.
- **Only forward.**  A bulletin as of a day before the latest revision's day recomputes what was
  known before that publication: it gets no 修订 list (there is nothing it revises).
- **The records that changed it** are, per unit, the files (uploads and ledgers) the office
  knows now but did not know at publication — received after the revision's as-of day, or
  stored after it was published — that concern the month: ledgers of the month, uploads
  received in it, and uploads holding a record decided in it, a version of a record first
  received in it (a correction, item 9) or a document number the month's ledgers list (of
  the uploader's family: a county's ledger may list its departments' decisions).  Each file
  names its records compactly — 文书号, or 第 N 行 where a row has none — at most
  :data:`SHOWN_RECORDS`, then how many in all.  A county's (or zone's) row lists its
  departments' files too, under the department's name, since their records count in its
  figures (``coalesce(parent, code)``, :data:`sgs.measure.rates.FAMILIES`).  A figure can also
  change with no new file: an event registered, a setting changed, or lateness counted to a
  later day; the list says so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl

from sgs.labels import NOT_APPLICABLE, RATE_NAMES, kind_name, num, pct
from sgs.report.publication import Publication, latest, published_rows
from sgs.report.xlsx import Column, Sheet

REVISION_SHEET = "修订"
RATE_ITEMS = {
    "uploaded": ("上报条数", "int"),
    "timely": ("及时条数", "int"),
    "timeliness_undecided": ("及时性未判定", "int"),
    "compliant": ("合规条数", "int"),
    "ledger_entries": ("台账条数", "int"),
    "ledger_matched": ("台账已上报", "int"),
    **{rate: (name, "percent") for rate, name in RATE_NAMES.items()},
}
NO_ROW = "（无此行）"
NO_FILE = "无新文件（事件登记、设置变化或逾期按新的截至日期计算）"
SHOWN_RECORDS = 5  # records named per file; the rest counted
COLUMNS = ("unit_code", "unit_name", "part", "item", "published", "now", "records")


@dataclass
class Revisions:
    """The latest revision of a month and the figures that differ from it now."""

    publication: Publication
    changes: pl.DataFrame  # COLUMNS, one row per changed figure


def _point_items() -> dict[str, tuple[str, str]]:
    from sgs.measure.points import ITEM_NAMES, ITEMS

    items = {item: (f"{i}.{ITEM_NAMES[item]}", "number") for i, item in enumerate(ITEMS, 1)}
    return items | {"total": ("总分", "number"), "rank": ("排名", "int")}


def _shown(value: object, kind: str) -> str:
    if value is None:
        return NOT_APPLICABLE
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if kind == "percent":
        return pct(value)
    if kind == "number":
        return num(value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def _keyed(rows: list[dict], keys: tuple[str, ...]) -> dict[tuple, dict]:
    """Rows by their unit (and kind), in order; a repeated key is told apart by its order."""
    seen: dict[tuple, int] = {}
    out = {}
    for r in rows:
        key = tuple(r.get(k) for k in keys)
        seen[key] = seen.get(key, 0) + 1
        out[(*key, seen[key])] = r
    return out


def compare(published: dict[str, list[dict]], now: dict[str, list[dict]]) -> list[dict]:
    """Every figure that differs between the published and the live rows, unit by unit in the
    live order (rates by kind first, then points); a row on one side only differs throughout."""
    tables = {
        "rates": (("unit_code", "kind"), RATE_ITEMS),
        "points": (("unit_code",), _point_items()),
    }
    keyed = {t: (_keyed(published[t], k), _keyed(now[t], k)) for t, (k, _) in tables.items()}
    # Units in the live ranking's order, then any the live figures lack.
    units = list(dict.fromkeys(
        key[0] for t in ("points", "rates") for side in reversed(keyed[t]) for key in side
    ))  # fmt: skip
    changes = []
    for unit in units:
        for table, (_, items) in tables.items():
            old, new = keyed[table]
            for key in dict.fromkeys(k for side in (new, old) for k in side if k[0] == unit):
                before, after = old.get(key), new.get(key)
                row = after or before or {}
                part = f"三率·{kind_name(key[1])}" if table == "rates" else "积分"
                for item, (label, kind) in items.items():
                    a = before.get(item) if before is not None else None
                    b = after.get(item) if after is not None else None
                    if before is not None and after is not None and a == b:
                        continue
                    if before is None and after is None:
                        continue
                    changes.append({
                        "unit_code": unit, "unit_name": row.get("unit_name") or unit,
                        "part": part, "item": label,
                        "published": NO_ROW if before is None else _shown(a, kind),
                        "now": NO_ROW if after is None else _shown(b, kind),
                    })  # fmt: skip
    return changes


def _fresh_files_sql() -> str:
    """The files known as of ``$as_of`` but not to the publication that concern ``$period``,
    one row per record behind the change (a ledger: also one row with no record, so a ledger
    without entries is listed), each with its uploader's family."""
    from sgs.measure.rates import FAMILIES
    from sgs.reference.catalogue import load_catalogue
    from sgs.store.tables import RECORD_TABLES

    parts = []
    for kind, table in RECORD_TABLES.items():
        spec = load_catalogue().kind(kind)
        decided, p = spec.decision_date, spec.prefix
        parts.append(f"""
        SELECT r.batch_id, r."{p}_WSH" AS doc, r.source_row AS "row"
        FROM {table} r JOIN fresh f ON f.batch_id = r.batch_id
        LEFT JOIN fam rf ON rf.unit_code = r.unit_code
        WHERE (r."{decided}" >= $start AND r."{decided}" < $end)
           OR (r.received_date >= $start AND r.received_date < $end)
           OR r.record_key IN (SELECT record_key FROM {table}
                               WHERE received_date >= $start AND received_date < $end)
           OR EXISTS (SELECT 1 FROM family_docs d
                      WHERE d.family = coalesce(rf.family, r.unit_code) AND d.doc_key = r.doc_key)""")
    return f"""
    WITH fam AS ({FAMILIES}),
    fresh AS (
        SELECT * FROM batches
        WHERE received_date <= $as_of
          AND (received_date > $published_as_of OR ingested_at > $published_at)
    ),
    family_docs AS (
        SELECT DISTINCT coalesce(fe.family, e.unit_code) AS family, e.doc_key
        FROM ledger_entries e LEFT JOIN fam fe ON fe.unit_code = e.unit_code
        WHERE e.period = $period AND e.doc_key IS NOT NULL
    ),
    ledgers AS (SELECT batch_id FROM fresh WHERE kind = 'ledger' AND period = $period),
    concern AS (
        SELECT batch_id, NULL::VARCHAR AS doc, NULL::INTEGER AS "row" FROM ledgers
        UNION SELECT e.batch_id, e.doc_number, e.source_row FROM ledger_entries e
              WHERE e.batch_id IN (SELECT batch_id FROM ledgers)
        {"".join(f" UNION {p}" for p in parts)}
    )
    SELECT f.unit_code, coalesce(fm.family, f.unit_code) AS family, f.batch_id, f.kind,
           f.file_name, f.received_date, c.doc, c."row"
    FROM concern c JOIN fresh f ON f.batch_id = c.batch_id
    LEFT JOIN fam fm ON fm.unit_code = f.unit_code
    ORDER BY f.unit_code, f.received_date, f.file_name, f.batch_id, c."row" NULLS FIRST
    """


def _records_text(records: list[tuple[str | None, int | None]]) -> str:
    """The records of one file, compactly: 文书号 (or 第 N 行 when it has none), at most
    :data:`SHOWN_RECORDS`, then how many more."""
    named = list(dict.fromkeys(doc or f"第 {row} 行" for doc, row in records if row is not None))
    if not named:
        return ""
    shown = "、".join(named[:SHOWN_RECORDS])
    more = len(named) - SHOWN_RECORDS
    return f"，记录 {shown}" + (f" 等 {len(named)} 条" if more > 0 else "")


def file_text(
    name: str, kind: str, received: date, records: list[tuple[str | None, int | None]]
) -> str:
    """One file behind a change, as the 修订 list shows it.  A file name and a 文书号 are what
    the unit typed: an ID number in either is masked."""
    from sgs.privacy import mask_ids_in_str

    return mask_ids_in_str(f"{name}（{kind_name(kind)}，接收 {received}{_records_text(records)}）")


def fresh_files(
    con: duckdb.DuckDBPyConnection, period: str, as_of: date, p: Publication
) -> dict[str, str]:
    """Per unit, its files behind the changes (module docstring) and their records, as one line
    of text.  A county's (or zone's) line lists its departments' files too, each under the
    department's name: their records count in the county's figures."""
    from sgs.periods import period_bounds
    from sgs.reference.units import load_units
    from sgs.store.sql import frame

    start, end = period_bounds(period)
    params = {"period": period, "start": start, "end": end, "as_of": as_of,
              "published_as_of": p.as_of, "published_at": p.published_at}  # fmt: skip
    files: dict[int, dict] = {}
    for r in frame(con, _fresh_files_sql(), params).iter_rows(named=True):
        f = files.setdefault(r["batch_id"], r | {"records": []})
        f["records"].append((r["doc"], r["row"]))
    names = dict(load_units().select("code", "name").iter_rows())
    found: dict[str, list[str]] = {}
    for f in files.values():
        text = file_text(f["file_name"], f["kind"], f["received_date"], f["records"])
        found.setdefault(f["unit_code"], []).append(text)
        if f["family"] != f["unit_code"]:
            member = names.get(f["unit_code"], f["unit_code"])
            found.setdefault(f["family"], []).append(f"{member}：{text}")
    return {unit: "；".join(texts) for unit, texts in found.items()}


def revisions(
    con: duckdb.DuckDBPyConnection,
    period: str,
    as_of: date,
    rates_now: pl.DataFrame,
    points_now: pl.DataFrame,
) -> Revisions | None:
    """The changes since the month's latest revision, or None when the month was never
    published or ``as_of`` is before that revision's day (module docstring)."""
    p = latest(con, period)
    if p is None or as_of < p.as_of:
        return None
    published = {t: published_rows(con, p, t) for t in ("rates", "points")}
    now = {"rates": json.loads(rates_now.write_json()),
           "points": json.loads(points_now.write_json())}  # fmt: skip
    changes = compare(published, now)
    files = fresh_files(con, period, as_of, p) if changes else {}
    rows = [c | {"records": files.get(c["unit_code"], NO_FILE)} for c in changes]
    return Revisions(p, pl.DataFrame(rows, schema={c: pl.String for c in COLUMNS}))


def revision_facts(r: Revisions | None) -> list[tuple[str, str]]:
    """The bulletin cover's line on the month's publication."""
    if r is None:
        return []
    n = r.changes.height
    what = f"本通报有 {n} 项数字与之不同，见「{REVISION_SHEET}」表" if n else "本通报的数字与之相同"
    return [("已发布", f"{r.publication.title()}；{what}")]


def revision_sheet(r: Revisions, title: str) -> Sheet:
    """The 修订 sheet of the bulletin (and its PDF page)."""
    from sgs.report.masking import mask_ids_in_text

    p = r.publication
    return Sheet(
        REVISION_SHEET,
        f"{title}：发布后的修订",
        mask_ids_in_text(r.changes),
        [
            Column("unit_name", "单位", 24),
            Column("part", "类别", 10),
            Column("item", "项目", 10),
            Column("published", f"发布值（第 {p.revision} 版）", 10),
            Column("now", "现值", 8),
            Column("records", "相关文件与记录（发布后收到或入库）", 40),
            Column("unit_code", "统一社会信用代码", 20),
        ],
        [
            f"与{p.title()}相比有变化的数字",
            "相关文件与记录：该单位（县区含其所属部门）发布后收到或入库、涉及本月的文件及其中的记录（文书号或行号）",
        ],
    )
