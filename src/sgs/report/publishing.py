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
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sgs.report.bulletin import collect_from, ranking_rows, write
from sgs.report.publication import BULLETIN_FORMAT, Publication, os_login, table_sha256
from sgs.store.sql import one, run


@dataclass(frozen=True)
class Published:
    """What :func:`publish` recorded: the revision, the rows per table and the bulletin."""

    publication: Publication
    rows: dict[str, int]
    bulletin: bytes

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
    revision.  A malformed month or a day after today is a :class:`sgs.errors.PeriodError`."""
    from sgs.clock import office_now
    from sgs.periods import knowledge_day, period_bounds
    from sgs.store import database

    period_bounds(period)
    as_of = knowledge_day(as_of)
    by = (by or "").strip() or os_login()
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
            run(con, "ROLLBACK")
            raise
    publication = Publication(
        period, revision, published_at, as_of, by, BULLETIN_FORMAT,
        hashes["rates"], hashes["points"], hashes["ranking"],
    )  # fmt: skip
    return Published(publication, {name: len(rows) for name, rows in tables.items()}, data)
