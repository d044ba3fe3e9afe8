"""Triggering the daily deployment after a hand-in (issue 12, item 4) when no Prefect server
answers: nothing is tried, nothing is raised, and the caller gets None at once.  The case with a
server is tested end to end in tests/test_prefect_e2e.py."""

from __future__ import annotations

import os
import socket
import subprocess

import pytest

from sgs.config import PROJECT_ROOT

PYTHON = str(PROJECT_ROOT / ".venv" / "bin" / "python")
CODE = (
    "import logging, sys; logging.basicConfig(level=logging.INFO, stream=sys.stderr);"
    "from sgs.jobs.trigger import trigger_ingest; print(repr(trigger_ingest()))"
)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends: nobody listens


def _trigger(tmp_path, api_url: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["PREFECT_HOME"] = str(tmp_path / "prefect")  # no profile that could name a server
    if api_url is not None:
        env["PREFECT_API_URL"] = api_url
    return subprocess.run(
        [PYTHON, "-c", CODE], env=env, capture_output=True, text=True, check=False, timeout=120
    )


@pytest.mark.parametrize("where", ["unset", "closed port", "not a url"])
def test_without_a_server_nothing_is_started_and_nothing_raised(tmp_path, where) -> None:
    url = {"unset": None, "closed port": f"http://127.0.0.1:{_closed_port()}/api",
           "not a url": "nonsense"}[where]  # fmt: skip
    run = _trigger(tmp_path, url)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "None"
    assert "Traceback" not in run.stderr
    # no temporary server was started in the caller's process
    assert "Starting temporary server" not in run.stderr
    assert not (tmp_path / "prefect" / "prefect.db").exists()
