"""Where things live, and every ``SGS_*`` environment variable, resolved at call time.

sgs is an application run from its checkout (``uv sync`` installs it editable), so the
catalogue, the configuration files and the expectation suites are read from the project folders
next to ``src/``.  Each of them can be pointed elsewhere by one environment variable, listed in
:data:`VARIABLES` (a test keeps docs/operations.md and this table in step).

Why call time: tests, the web server and the daily flow change the environment or edit a file
while a process runs, and a value read at import would silently keep the old one.  What is
costly to load (the catalogue, the units, a settings file) is cached by :func:`cached_on_file`
under the file's absolute path *and* its fingerprint, so an edited file counts at once and an
unchanged one is parsed once per process.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import ParamSpec, TypeVar

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCHEMAS_DIR = PROJECT_ROOT / "schemas"
CONFIG_DIR = PROJECT_ROOT / "config"

# Every variable sgs reads, with what it does and its default.  Policy settings are overridden
# one by one as ``SGS_<NAME>`` (see :func:`setting_override` and docs/policy.md).
VARIABLES: dict[str, str] = {
    "SGS_DATA_DIR": "the data root (raw/, curated/, quarantine/); default ./data",
    "SGS_STORE": "the store: duckdb (the file under the data root, default) or ducklake:postgres:<libpq conninfo>",
    "SGS_LAKE_DATA": "the lake's data folder on this machine (shared); default <data root>/lake",
    "SGS_CATALOGUE": "another catalogue file; default schemas/standard.toml",
    "SGS_UNITS_FILE": "the units registry; default config/units.csv",
    "SGS_EVENTS_FILE": "the events file of points items 1–4 and 10–13; default config/events.csv",
    "SGS_SETTINGS_FILE": "the settings file; default config/settings.toml",
    "SGS_OFFICE_TIMEZONE": "the office's time zone (setting office_timezone); default Asia/Shanghai",
    "SGS_HOLIDAYS_DIR": "the folder of holiday files; default config/holidays",
    "SGS_LOCK_TIMEOUT": "seconds to wait for the store's writer lock; default 600",
    "SGS_WEB_PASSWORD": "the download page's password or token; default: generated at start",
    "SGS_COOKIE_SECURE": "1: the session cookie is Secure even over http (behind a TLS proxy)",
    "SGS_TRUSTED_PROXIES": "proxy addresses whose X-Forwarded-For names the client; default none",
    "SGS_UPLOAD_MAX_MB": "the largest file a unit may hand in or check on the web, in MB; default 50",
    "SGS_CHECK_WORKERS": "web file checks running at once, each in a process of its own; default 2",
    "SGS_CHECK_QUEUE": "web file checks that may wait for a worker; beyond them 503; default 4",
    "SGS_PUBLIC_URL": "where people open sgs serve (setting public_url); default http://127.0.0.1:8000",
    "SGS_TODAY": "the office's date (YYYY-MM-DD) for rehearsing a day to come and for tests; unset: the clock",
    "SGS_FAULT": "tests only: kill the process at a named point inside an ingest transaction; lake-conflict: another commit overtakes the first; check_hold: web checks wait",
}
SETTING_PREFIX = "SGS_"

P = ParamSpec("P")
R = TypeVar("R")


def env(name: str) -> str | None:
    """The variable's value, or None when unset or blank; only names in :data:`VARIABLES`."""
    if name not in VARIABLES:
        raise KeyError(f"{name} is not an sgs variable")
    value = os.environ.get(name, "").strip()
    return value or None


def data_root() -> Path:
    """The data root: ``$SGS_DATA_DIR`` if set, else ``./data`` of the working directory."""
    return Path(env("SGS_DATA_DIR") or "data").resolve()


def catalogue_path() -> Path:
    """``$SGS_CATALOGUE`` (to try a changed rule before committing it), else the checkout's."""
    return Path(env("SGS_CATALOGUE") or SCHEMAS_DIR / "standard.toml")


def units_path() -> Path:
    return Path(env("SGS_UNITS_FILE") or CONFIG_DIR / "units.csv")


def events_path() -> Path:
    return Path(env("SGS_EVENTS_FILE") or CONFIG_DIR / "events.csv")


def settings_path() -> Path:
    return Path(env("SGS_SETTINGS_FILE") or CONFIG_DIR / "settings.toml")


def holidays_dir() -> Path:
    return Path(env("SGS_HOLIDAYS_DIR") or CONFIG_DIR / "holidays")


def lock_timeout_s() -> float:
    return float(env("SGS_LOCK_TIMEOUT") or 600)


def web_password() -> str | None:
    return env("SGS_WEB_PASSWORD")


def upload_max_bytes() -> int:
    """The largest upload the web API takes, in bytes (``$SGS_UPLOAD_MAX_MB`` × 1,048,576)."""
    text = env("SGS_UPLOAD_MAX_MB") or "50"
    try:
        mb = float(text)
    except ValueError:
        mb = -1.0
    if not 0 < mb < 1_000_000:
        from sgs.errors import SettingsError

        raise SettingsError(
            f"环境变量 SGS_UPLOAD_MAX_MB 应为正数（单位 MB），实际为「{text[:20]}」。"
        )
    return int(mb * 1024 * 1024)


def cookie_secure() -> bool:
    """Whether the session cookie must be Secure although the server itself speaks http."""
    return (env("SGS_COOKIE_SECURE") or "").lower() in {"1", "true", "yes", "on"}


def trusted_proxies() -> frozenset[str]:
    """Addresses of reverse proxies whose ``X-Forwarded-For`` header names the client."""
    text = env("SGS_TRUSTED_PROXIES") or ""
    return frozenset(p.strip() for p in text.replace(";", ",").split(",") if p.strip())


def fault_point() -> str | None:
    return env("SGS_FAULT")


def environment() -> dict[str, str]:
    """The whole environment as it is now, for a process started earlier that must see it: a
    web check's process is forked from a server started before a test (or an operator) changed
    a variable (:mod:`sgs.web.checkpool`)."""
    return dict(os.environ)


def adopt_environment(snapshot: dict[str, str]) -> None:
    """Make :func:`environment`'s ``snapshot`` this process's environment."""
    os.environ.clear()
    os.environ.update(snapshot)


def setting_override(name: str) -> str | None:
    """``$SGS_<NAME>`` for one policy setting (unset: None; an empty value is a value)."""
    return os.environ.get(f"{SETTING_PREFIX}{name.upper()}")


def fingerprint(path: Path) -> tuple[str, int, int, int, int]:
    """The absolute path with what changes when the file is edited or replaced.

    Modification time in nanoseconds, size, device and inode: an editor that writes a new file,
    or one that rewrites in place, both change it; a missing file has a fingerprint of its own.
    ``stat`` follows symbolic links, so a link pointed elsewhere changes the inode too — no
    ``Path.resolve()`` (a syscall per path component) is needed, and the check stays one
    ``stat``: cached loaders are called in per-row and per-cell loops (header scoring).
    """
    where = Path(path).absolute()
    try:
        st = where.stat()
    except (FileNotFoundError, NotADirectoryError):
        return (str(where), -1, -1, -1, -1)
    return (str(where), st.st_mtime_ns, st.st_size, st.st_dev, st.st_ino)


def cached_on_file(
    path_of: Callable[[], Path], size: int = 64
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Cache a loader's results per fingerprint of the file ``path_of()`` names at call time.

    The cache holds at most ``size`` entries (the oldest go first): tests point the variables
    at many temporary files, a long-running server at one.  ``.cache_clear()`` empties it.
    """

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        cache: dict[tuple, R] = {}

        @wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            key = (fingerprint(path_of()), args, tuple(sorted(kwargs.items())))
            try:
                return cache[key]
            except KeyError:
                pass
            value = fn(*args, **kwargs)
            if len(cache) >= size:
                cache.pop(next(iter(cache)))
            cache[key] = value
            return value

        wrapper.cache_clear = cache.clear  # type: ignore[attr-defined]
        return wrapper

    return decorate
