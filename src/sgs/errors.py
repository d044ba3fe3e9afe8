"""Every exception of the domain, in one place.

Each carries a Chinese message meant for the person who can act on it (a unit, the office);
the CLI prints it as it is and the web page shows it, so none holds raw parser text.  A base
class lets a caller that only reports catch them all.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sgs.privacy import mask_ids_in_str


class SgsError(Exception):
    """Base of the domain's errors; ``str(exc)`` is the Chinese message."""


class FileRefused(SgsError):
    """A file that cannot be validated as a whole; ``message`` is shown to the unit, ``code``
    is a stable reason code (stored with quarantined files).  ID numbers in the message (a
    file name, a quoted line) are masked here, once for every reason."""

    def __init__(self, code: str, message: str) -> None:
        message = mask_ids_in_str(message)
        super().__init__(message)
        self.code = code
        self.message = message


class LandingError(SgsError, ValueError):
    """An upload whose unit or date cannot be determined."""


class SettingsError(SgsError, ValueError):
    """A setting with a value sgs cannot use (config/settings.toml or its SGS_<NAME> override)."""


class StoreBusy(SgsError, RuntimeError):
    """The database stayed locked by another program for longer than the timeout."""


class StoreUnavailable(SgsError):
    """The store cannot be used as configured: a lake not initialised or not reachable, a data
    folder that is not the lake's, a DuckDB the extensions were not built for."""


class PeriodError(SgsError, ValueError):
    """A month that is not written ``YYYY-MM``."""


class CalendarGap(SgsError):
    """A date, or a result, in a year that the workday calendar does not cover.

    ``year`` is the uncovered year.
    """

    def __init__(self, message: str, year: int) -> None:
        super().__init__(message)
        self.message = message
        self.year = year

    def __str__(self) -> str:
        return self.message


class HolidayFileError(SgsError, ValueError):
    """A holidays file that cannot be used: every problem found, with the file."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        self.message = f"节假日文件 {path} 有误，请按该目录下 README.md 的格式修改：\n{lines}"
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class EventsError(SgsError, ValueError):
    """A malformed events file; the message names the row and the problem."""


class BulletinError(SgsError, ValueError):
    """A bulletin that cannot be written as asked."""


class PublicationError(SgsError, LookupError):
    """A month, or a revision of it, that was never published (docs/policy.md, "Publication")."""


class UnitsError(SgsError, ValueError):
    """The units registry (``config/units.csv``) cannot be used; the message names the row."""


@contextmanager
def refusing_the_unexpected(path: str | Path) -> Iterator[None]:
    """Nothing a file holds may end in a traceback: what a library raised while reading or
    checking it refuses the file with a reason in Chinese; refusals, and what the office must
    fix (settings, calendar), pass as they are."""
    try:
        yield
    except SgsError:
        raise
    except Exception:
        raise FileRefused(
            "internal",
            f"文件「{Path(path).name}」读取或校验时出现意外错误，无法校验：请将该文件交给管理员排查。",
        ) from None
