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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if needs_system_packages(item):
            item.add_marker(pytest.mark.system)
    _group_for_xdist(config, items)


def _group_for_xdist(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``--dist loadgroup`` (scripts/test): a test marked ``xdist_group(name)`` gets the
    ``@name`` suffix pytest-xdist schedules by, so a module's tests that share an expensive
    module fixture run on one worker and build it once.

    pytest-xdist 3.8 adds the suffix by setting ``item._nodeid``, which pytest 9 no longer reads
    (the id lives in ``item._id``): its groups are silently ignored and each worker built the
    fixture again (measured: ``scripts/lake``'s test, 90 s, twice).  This does what xdist
    means to; it is a no-op when xdist already did it, or outside ``loadgroup``.
    """
    if not getattr(config.option, "loadgroup", False):
        return
    from _pytest.nodeid import NodeId

    for item in items:
        groups = sorted({str(m.args[0]) for m in item.iter_markers("xdist_group") if m.args})
        if groups and not item.nodeid.endswith("@" + "_".join(groups)):
            item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(groups)}")


@pytest.fixture(scope="session")
def postgres():
    """A private PostgreSQL cluster for this test worker (tests/support/postgres.py)."""
    from support import postgres as pg

    cluster = pg.start()
    yield cluster
    cluster.stop()
