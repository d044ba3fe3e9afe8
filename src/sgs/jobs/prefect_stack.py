"""A local Prefect stack: server on 127.0.0.1, the ``process`` work pool, the deployments of
``prefect.yaml`` and a worker — started together and stopped together.

Used by ``scripts/ui`` (the data engineers' UI) and by the end-to-end test.  Telemetry is off
and nothing reaches beyond the loopback interface.  Server and worker each lead their own
process group, so stopping them also stops what they started (the worker's flow-run
processes), and a background worker cannot ignore the signal.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sgs.config import PROJECT_ROOT

POOL = "sgs-process"
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prefect_env(port: int, home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment every process of the stack runs with."""
    env = dict(os.environ)
    env.update(
        {
            "PREFECT_HOME": str(home),
            "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
            "PREFECT_SERVER_API_HOST": "127.0.0.1",
            "PREFECT_SERVER_API_PORT": str(port),
            "PREFECT_UI_URL": f"http://127.0.0.1:{port}",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
            "GX_ANALYTICS_ENABLED": "False",
            "PREFECT_CLI_PROMPT": "false",
        }
    )
    env.update(extra or {})
    return env


@dataclass
class Stack:
    port: int
    home: Path
    env: dict[str, str]
    processes: list[subprocess.Popen] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api(self) -> str:
        return f"{self.url}/api"


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    log.parent.mkdir(parents=True, exist_ok=True)
    out = log.open("ab")
    return subprocess.Popen(
        args, env=env, cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: one signal stops it and its children
    )  # fmt: skip


def _wait_healthy(url: str, timeout: float, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"Prefect server exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"Prefect server not healthy after {timeout:.0f} s at {url}")


def _run(args: list[str], env: dict[str, str], log: Path) -> None:
    with log.open("ab") as out:
        subprocess.run(
            args, env=env, cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT, check=True
        )


def stop(proc: subprocess.Popen, grace: float = 10) -> None:
    """SIGTERM the process group, then SIGKILL what is left after ``grace`` seconds."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=grace)
    except ProcessLookupError:
        pass


@contextmanager
def stack(
    port: int | None = None,
    home: Path | None = None,
    extra_env: dict[str, str] | None = None,
    worker: bool = True,
    startup_timeout: float = 90,
) -> Iterator[Stack]:
    """Server, pool, deployments and (optionally) a worker, for the duration of the block."""
    port = port or free_port()
    home = home or PROJECT_ROOT / ".prefect"
    env = prefect_env(port, home, extra_env)
    s = Stack(port, home, env)
    logs = home / "logs"
    try:
        server = _spawn([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1",
                         "--port", str(port)], env, logs / "server.log")  # fmt: skip
        s.processes.append(server)
        _wait_healthy(s.api, startup_timeout, server)
        _run([str(BIN / "prefect"), "work-pool", "create", POOL, "--type", "process",
              "--overwrite"], env, logs / "deploy.log")  # fmt: skip
        _run([str(BIN / "prefect"), "--no-prompt", "deploy", "--all"], env, logs / "deploy.log")
        if worker:
            args = [str(BIN / "prefect"), "worker", "start", "--pool", POOL, "--type", "process"]
            s.processes.append(_spawn(args, env, logs / "worker.log"))
        yield s
    finally:
        for proc in reversed(s.processes):
            stop(proc)


def main() -> None:
    """``scripts/ui``: start the stack, print the URL, stop everything on Ctrl-C or SIGTERM."""
    import argparse

    parser = argparse.ArgumentParser(
        description="Prefect UI for sgs (server, pool, deployments, worker)"
    )
    parser.add_argument("--port", type=int, default=4200)
    args = parser.parse_args()
    stopping = False

    def on_signal(signum, frame) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with stack(port=args.port) as s:
        print(
            f"Prefect UI: {s.url}  （部署：daily / weekly / monthly；工作池 {POOL}；按 Ctrl-C 停止）",
            flush=True,
        )
        print(f"日志：{s.home / 'logs'}", flush=True)
        while not stopping and all(p.poll() is None for p in s.processes):
            time.sleep(0.5)
    print("已停止 Prefect 服务器和 worker。", flush=True)


if __name__ == "__main__":
    main()
