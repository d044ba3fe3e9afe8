"""How every run of a flow starts Prefect: one home for the settings ``scripts/run`` used to set.

A flow file run directly (``python flows/daily_monitor.py``, as Prefect users do) must behave as
the README's main command does: the project's own Prefect home (so ``scripts/ui`` shows the
run), no analytics, and an ephemeral API server given time to start on a busy machine — Prefect's
default of 20 s failed twice in one day on a loaded 2-core machine ("Timed out while attempting
to connect to ephemeral Prefect API server").  Prefect reads its settings when it is imported,
so the flow files call :func:`use_project_defaults` before importing it.  A value already in the
environment wins: a deployment, a test or an operator may choose otherwise.
"""

from __future__ import annotations

import os

from sgs.config import PROJECT_ROOT

#: Seconds the ephemeral API server may take to start (Prefect's default is 20).
EPHEMERAL_STARTUP_SECONDS = 300


def project_defaults() -> dict[str, str]:
    return {
        "PREFECT_HOME": str(PROJECT_ROOT / ".prefect"),
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": str(EPHEMERAL_STARTUP_SECONDS),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "GX_ANALYTICS_ENABLED": "False",
    }


def use_project_defaults() -> None:
    """Set the defaults that are not set yet (call before ``import prefect``)."""
    for name, value in project_defaults().items():
        os.environ.setdefault(name, value)
