"""Publishing a month: computing its figures and bulletin once, under the writer's lock, and
recording them as the next revision (docs/policy.md section 8, "Publication").

Apart from :mod:`sgs.report.publication` (what is kept, how it is read and hashed) because it
builds the bulletin, and the bulletin's 修订 sheet reads publications: one module each way
keeps the two without an import cycle.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from sgs.report.bulletin import Bulletin, collect_from, ranking_rows, write
from sgs.report.publication import BULLETIN_FORMAT, Publication, os_login, table_sha256
from sgs.store.sql import one, rollback, run


@dataclass(frozen=True)
class Published:
    """What :func:`publish` recorded: the revision, the rows per table and the bulletin's
    bytes, with the collected bulletin they were made from (the monthly flow's artifacts)."""

    publication: Publication
    rows: dict[str, int]
    bulletin: bytes
    collected: Bulletin | None = field(default=None, compare=False, repr=False)

    def as_json(self) -> dict:
        return {
            **self.publication.as_json(),
            "rows": self.rows,
            "bulletin_bytes": len(self.bulletin),
            "bulletin_sha256": hashlib.sha256(self.bulletin).hexdigest(),
        }


def publish(
    period: str, root: Path | None = None, as_of: date | None = None, by: str | None = None
) -> Published:
    """Record the month's figures and bulletin as of ``as_of`` (default today) as the next
    revision.  A malformed month, a day after today, or a month that has not ended by
    ``as_of`` (its figures are still being made) is a :class:`sgs.errors.PeriodError`."""
    from sgs.errors import PeriodError
    from sgs.periods import knowledge_day, period_bounds

    _, end = period_bounds(period)
    as_of = knowledge_day(as_of)
    last_day = end - timedelta(days=1)
    if as_of < last_day:
        raise PeriodError(f"{period} 尚未结束，不能发布（截至 {as_of}；最早截至 {last_day} 发布）")
    return _record(period, root, as_of, (by or "").strip() or os_login())


def _record(period: str, root: Path | None, as_of: date, by: str) -> Published:
    """Compute and store the next revision under the writer's lock (module docstring)."""
    from sgs.clock import office_now
    from sgs.store import database

    with database.writer(root) as con:
        bulletin = collect_from(con, period, as_of)
        tables = {
            "rates": json.loads(bulletin.figures["rates"].write_json()),
            "points": json.loads(bulletin.figures["points"].write_json()),
            "ranking": ranking_rows(bulletin),
        }
        published_at = office_now()
        with tempfile.TemporaryDirectory(prefix="sgs-publish-") as scratch:
            path = write(bulletin, Path(scratch) / f"月通报_{period}.xlsx", generated=published_at)
            data = path.read_bytes()
        hashes = {name: table_sha256(rows) for name, rows in tables.items()}
        run(con, "BEGIN TRANSACTION")
        try:
            (last,) = one(
                con,
                "SELECT coalesce(max(revision), 0) FROM publications WHERE period = ?",
                [period],
            )  # type: ignore[misc]
            revision = int(last) + 1
            run(
                con,
                "INSERT INTO publications VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [period, revision, published_at, as_of, by, data, BULLETIN_FORMAT,
                 hashes["rates"], hashes["points"], hashes["ranking"]],
            )  # fmt: skip
            con.executemany(
                "INSERT INTO published_rows VALUES (?, ?, ?, ?, ?)",
                [
                    (period, revision, name, position,
                     json.dumps(row, ensure_ascii=False, separators=(",", ":")))
                    for name, rows in tables.items()
                    for position, row in enumerate(rows)
                ],
            )  # fmt: skip
            run(con, "COMMIT")
        except BaseException:
            rollback(con)
            raise
    publication = Publication(
        period, revision, published_at, as_of, by, BULLETIN_FORMAT,
        hashes["rates"], hashes["points"], hashes["ranking"],
    )  # fmt: skip
    return Published(
        publication, {name: len(rows) for name, rows in tables.items()}, data, bulletin
    )
