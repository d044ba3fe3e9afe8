"""Ingest a handed-in file at once when a Prefect server runs the deployments, else tomorrow.

A hand-in only writes into the landing zone; the daily deployment reads it at 06:00.  When the
office runs a Prefect server (``scripts/ui``, ``PREFECT_API_URL`` set for the web server), a
flow run of ``daily_monitor/daily`` is created right away, so the unit sees its outcome within
minutes.  This is an offer, never a condition: no server, a server that does not answer within
a second or two, a missing deployment or any other failure is logged and the file simply
waits for the next scheduled run.  Without ``PREFECT_API_URL`` nothing is tried — Prefect
would otherwise start a temporary server inside the caller's process.
"""

from __future__ import annotations

import logging
import urllib.request

DAILY_DEPLOYMENT = "daily_monitor/daily"
HEALTH_TIMEOUT_S = 1.5
TAG = "handin"

log = logging.getLogger(__name__)


def prefect_api_url() -> str | None:
    """The Prefect API the process is configured for (environment or profile), if any."""
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    return str(url).rstrip("/") if url else None


def server_answers(api_url: str, timeout: float = HEALTH_TIMEOUT_S) -> bool:
    """The server's health endpoint says so within ``timeout`` seconds."""
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=timeout) as r:
            return r.status == 200
    except (OSError, ValueError):
        return False


def trigger_ingest(deployment: str = DAILY_DEPLOYMENT) -> str | None:
    """The id of a new flow run of ``deployment`` when a Prefect server answers, else None.

    Never raises: the caller is a web request whose file is already safe in the landing zone.
    The run is created, not awaited (``timeout=0``).
    """
    try:
        url = prefect_api_url()
        if url is None:
            return None
        if not server_answers(url):
            log.info("Prefect server at %s does not answer: the next daily run ingests", url)
            return None
        from prefect.deployments import run_deployment

        # Always the synchronous implementation: Prefect otherwise picks the coroutine when it
        # believes it runs in an async context (a leftover run context or event loop of the
        # process), and an un-awaited coroutine creates no run.
        run = run_deployment(deployment, timeout=0, tags=[TAG], _sync=True)
        log.info("flow run %s of %s created for a hand-in", run.id, deployment)
        return str(run.id)
    except Exception:
        log.exception("could not start %s; the next daily run ingests", deployment)
        return None
