"""Publication (发布): a month's figures as the office circulated them, kept for good.

Any day's knowledge can be recomputed with ``--as-of``, but what the office actually sent out
is a fact of its own: later corrections and late files keep changing the month's figures, and
when a unit disputes its rank the office must show the figures as published and every revision
since (docs/policy.md section 8, "Publication").  So ``sgs publish`` (and the monthly flow)
records, in the store:

- ``publications``: one row per revision of a month — when (office time), as of which day, by
  whom, the bulletin workbook's bytes, and the sha256 of the canonical CSV of each table;
- ``published_rows``: the rows of the three tables, each kept as the exact JSON object the
  command line prints (``sgs rates|points --json``), so that ``--published --json`` gives back
  what was published whatever columns the measures gain later.

Decisions:

- **Revisions, never overwritten.**  Publishing a month again adds revision N+1 (the highest
  stored + 1, chosen inside the writer's transaction; the writer lock serialises writers);
  earlier revisions stay readable.  The tables have no keys, constraints or defaults beyond
  literals (the store is to move to DuckLake, which refuses them): uniqueness of (period,
  revision) comes from that single writer.
- **One computation.**  The figures, the ranking and the bulletin come from one
  :func:`sgs.report.bulletin.collect_from` on the writer's connection, while the writer lock
  keeps every ingest out: the bytes and the rows cannot disagree.
- **The ranking** is the bulletin's ranking table (:func:`sgs.report.bulletin.ranking_rows`:
  分组, 排名, 单位, items as shown, 总分), the ranking as circulated; the points rows already
  hold the figures behind it.
- **Canonical CSV** (:func:`canonical_csv`), so that anyone can check a hash with a few lines
  of code: UTF-8 without BOM, LF line ends, a header of the JSON keys in output order, one line
  per object in output order; null is empty, booleans ``true``/``false``, numbers as JSON
  writes them (Python's ``json.dumps``: ``10.0``, ``0.6666666666666666``), strings as they are;
  a field holding ``,``, ``"``, CR or LF is quoted with inner quotes doubled (RFC 4180).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime

import duckdb

from sgs.errors import PublicationError
from sgs.store.sql import one, run

TABLE_NAMES = ("rates", "points", "ranking")
BULLETIN_FORMAT = "xlsx"
#: Keys ``--published --json`` adds to every published row.
STAMP_KEYS = ("revision", "published_at", "as_of")


@dataclass(frozen=True)
class Publication:
    """One revision of a month's publication (without its rows and bytes)."""

    period: str
    revision: int
    published_at: datetime
    as_of: date
    by: str
    bulletin_format: str
    rates_sha256: str
    points_sha256: str
    ranking_sha256: str

    def stamp(self) -> dict:
        """The keys added to every row ``--published --json`` prints."""
        return {
            "revision": self.revision,
            "published_at": self.published_at.isoformat(timespec="seconds"),
            "as_of": self.as_of.isoformat(),
        }

    def as_json(self) -> dict:
        return {
            "period": self.period,
            **self.stamp(),
            "by": self.by,
            "rates_sha256": self.rates_sha256,
            "points_sha256": self.points_sha256,
            "ranking_sha256": self.ranking_sha256,
            "bulletin_format": self.bulletin_format,
        }

    def title(self) -> str:
        """第 N 版（发布于 …，截至 …）: how pages and sheets name a revision."""
        return (
            f"第 {self.revision} 版（发布于 {self.published_at:%Y-%m-%d %H:%M}，截至 {self.as_of}）"
        )


# ----------------------------------------------------------------------------- canonical CSV


def _field(value: object) -> str:
    if value is None:
        text = ""
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int | float):
        text = json.dumps(value)
    elif isinstance(value, str):
        text = value
    else:  # a list or an object: compact JSON
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if any(c in text for c in ',"\r\n'):
        text = '"' + text.replace('"', '""') + '"'
    return text


def canonical_csv(rows: list[dict]) -> bytes:
    """The canonical CSV of a table's JSON objects (module docstring); no rows, no bytes.

    The header is the keys in the order they first appear (every object of a table has the
    same keys, in the same order); a key an object lacks is an empty field.
    """
    if not rows:
        return b""
    header = list(dict.fromkeys(k for r in rows for k in r))
    lines = [",".join(_field(k) for k in header)]
    lines += [",".join(_field(r.get(k)) for k in header) for r in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def table_sha256(rows: list[dict]) -> str:
    return hashlib.sha256(canonical_csv(rows)).hexdigest()


# ----------------------------------------------------------------------------- publishing


def os_login() -> str:
    """Who publishes when ``--by`` is not given: the operating system's login name."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name and no passwd entry (a bare container)
        return "未知"


# ----------------------------------------------------------------------------- reading


def has_publications(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the store has the publication tables: a store no writer has opened since they
    were added has not, and read-only connections never create them."""
    found = one(
        con,
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'publications' AND NOT temporary",
    )
    return bool(found and found[0])


_COLUMNS = ("period, revision, published_at, as_of, published_by, bulletin_format, "
            "rates_sha256, points_sha256, ranking_sha256")  # fmt: skip


def revisions_of(con: duckdb.DuckDBPyConnection, period: str) -> list[Publication]:
    """The month's revisions, oldest first (none when never published)."""
    if not has_publications(con):
        return []
    rows = run(
        con,
        f"SELECT {_COLUMNS} FROM publications WHERE period = ? ORDER BY revision",
        [period],
    )
    return [Publication(*row) for row in rows]


def latest(con: duckdb.DuckDBPyConnection, period: str) -> Publication | None:
    found = revisions_of(con, period)
    return found[-1] if found else None


def find(con: duckdb.DuckDBPyConnection, period: str, revision: int | None = None) -> Publication:
    """The asked revision (default the latest); :class:`PublicationError` saying why not."""
    found = revisions_of(con, period)
    if not found:
        raise PublicationError(f"{period} 尚未发布")
    if revision is None:
        return found[-1]
    hit = [p for p in found if p.revision == revision]
    if not hit:
        raise PublicationError(f"{period} 没有第 {revision} 版（已发布 {len(found)} 版）")
    return hit[0]


def published_rows(con: duckdb.DuckDBPyConnection, p: Publication, table: str) -> list[dict]:
    """The rows of one table of a revision, as printed when it was published, in order."""
    rows = run(
        con,
        "SELECT row_json FROM published_rows WHERE period = ? AND revision = ? "
        "AND table_name = ? ORDER BY position",
        [p.period, p.revision, table],
    )
    return [json.loads(text) for (text,) in rows]


def published_bulletin(con: duckdb.DuckDBPyConnection, p: Publication) -> bytes:
    """The bulletin's bytes as stored when the revision was published."""
    found = one(
        con,
        "SELECT bulletin FROM publications WHERE period = ? AND revision = ?",
        [p.period, p.revision],
    )
    return bytes(found[0]) if found else b""
