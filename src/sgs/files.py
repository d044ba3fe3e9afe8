"""Writing output files so that nobody ever reads half of one."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path


def write_atomically(final: Path, write: Callable[[Path], object]) -> Path:
    """Call ``write`` on a fresh scratch name beside ``final``, then move it over ``final``.

    Whoever opens ``final`` meanwhile (the office, the web page, another server) sees the
    previous file, never a half-written workbook, and two writers never write into the same
    file.  The scratch file is removed if ``write`` fails.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    scratch = final.with_name(f".{final.stem}.{secrets.token_hex(6)}{final.suffix}")
    try:
        write(scratch)
        scratch.replace(final)
    finally:
        scratch.unlink(missing_ok=True)
    return final
