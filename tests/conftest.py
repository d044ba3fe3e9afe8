"""What the whole suite shares: the ``system`` marker, and a real PostgreSQL for the lake.

Tests that need Debian packages beyond Python — Chromium for the browser tests, Pango and the
Noto CJK fonts for the PDF bulletin, poppler to read a PDF back, PostgreSQL for the lake — are
marked ``system`` here, in one place, so that ``SGS_SKIP_SYSTEM_PACKAGES=1 scripts/test`` can leave them out on a machine
where nothing may be installed system-wide (docs/operations.md, "Setting up").
"""

from __future__ import annotations

import pytest

# Whole modules: every test drives Chromium or writes and reads a PDF.
SYSTEM_MODULES = {"test_web_browser", "test_web_units_browser", "test_bulletin_pdf",
                  "test_lake", "test_lake_script"}  # fmt: skip
# Single tests elsewhere (module::name): a PDF made and read back.
SYSTEM_TESTS = {"test_web::test_bulletin_pdf_download_is_the_printed_bulletin"}
# A test asking for one of these fixtures starts Chromium, or PostgreSQL (Debian's package).
SYSTEM_FIXTURES = {"browser", "postgres"}


def needs_system_packages(item: pytest.Item) -> bool:
    module = item.module.__name__ if item.module is not None else ""
    name = getattr(item, "originalname", item.name)
    return (
        module in SYSTEM_MODULES
        or f"{module}::{name}" in SYSTEM_TESTS
        or bool(SYSTEM_FIXTURES & set(getattr(item, "fixturenames", ())))
        or item.get_closest_marker("system") is not None
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if needs_system_packages(item):
            item.add_marker(pytest.mark.system)


@pytest.fixture(scope="session")
def postgres():
    """A private PostgreSQL cluster for this test worker (tests/support/postgres.py)."""
    from support import postgres as pg

    cluster = pg.start()
    yield cluster
    cluster.stop()
