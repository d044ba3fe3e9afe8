"""`sgs` as a user runs it, without paying for its imports on every call.

Most of the suite's time went into starting `sgs` processes (about 600 of them, 0.5–0.7 s of
imports each before any work; docs/performance.md, "The test suite").  Here each test worker
keeps one *zygote*: a process that has imported the command line and the heavy libraries once
and forks a child per command.  The child is a real process of its own — its own working
folder, environment, arguments, standard streams and exit status, as a shell would give it —
running the same ``sgs.cli.main:main`` as the console script; only the imports are done
already.  The web checks' forkserver (:mod:`sgs.web.checkpool`) preloads the same modules,
which is why forking after importing polars is safe: no polars work runs before the fork.

Use :func:`run` where a test would call ``subprocess.run([sgs, …])``.  A test that measures the
process itself (its memory, a resource limit, a terminal) or sets what Python reads only when
it starts (``PYTHONPATH``) keeps a plain subprocess.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from sgs.web import checkpool

# What the web checks' forkserver preloads (imports only, no polars work before a fork), plus
# what the other commands need.  pandas too: DuckDB 1.5's Python binding imports it (and
# numpy) at a command's first query with parameters or first Arrow hand-over, 0.25 s of every
# store command's own time (a sampled run of the suite: a fifth of the warm commands' CPU).
PRELOAD = [*checkpool.PRELOAD, "sgs.cli.main", "sgs.store.ingest", "sgs.measure.rates",
           "sgs.measure.points", "duckdb", "openpyxl", "pandas", "pyarrow.dataset"]  # fmt: skip

ZYGOTE = r"""
import importlib, json, os, sys
for name in json.loads(sys.argv[1]):
    importlib.import_module(name)
from sgs.cli.main import main
reply = os.fdopen(int(sys.argv[2]), "w", buffering=1)
for line in sys.stdin:
    job = json.loads(line)
    pid = os.fork()
    if pid == 0:
        os.setpgid(0, 0)
        for fd, path, mode in ((0, job["stdin"], os.O_RDONLY),
                               (1, job["stdout"], os.O_WRONLY),
                               (2, job["stderr"], os.O_WRONLY)):
            target = os.open(path, mode)
            os.dup2(target, fd)
            os.close(target)
        sys.stdin = open(0, closefd=False)
        sys.stdout = open(1, "w", closefd=False, encoding="utf-8", errors="backslashreplace")
        sys.stderr = open(2, "w", closefd=False, encoding="utf-8", errors="backslashreplace")
        os.chdir(job["cwd"])
        os.environ.clear()
        os.environ.update(job["env"])
        import time
        time.tzset()  # TZ is read by the time module at import; a user's process reads it anew
        sys.argv = ["sgs", *job["args"]]
        code = 1
        try:
            code = main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:
            import traceback
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code or 0)
    reply.write(json.dumps({"pid": pid}) + "\n")
    _, status = os.waitpid(pid, 0)
    reply.write(json.dumps({"status": os.waitstatus_to_exitcode(status)}) + "\n")
"""


class _Zygote:
    """One per test worker process; started on first use, gone with the worker."""

    def __init__(self) -> None:
        read, write = os.pipe()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", ZYGOTE, json.dumps(PRELOAD), str(write)],
            stdin=subprocess.PIPE, text=True, pass_fds=(write,),
        )  # fmt: skip
        os.close(write)
        self.replies = os.fdopen(read, "r", buffering=1)
        self.lock = threading.Lock()

    def run(self, args: list[str], env: dict[str, str], cwd: str, input: bytes | None,
            timeout: float | None) -> tuple[int, bytes, bytes]:  # fmt: skip
        with self.lock, tempfile.TemporaryDirectory(prefix="warm-sgs-") as folder:
            paths = {name: Path(folder, name) for name in ("stdin", "stdout", "stderr")}
            paths["stdin"].write_bytes(input or b"")
            paths["stdout"].touch()
            paths["stderr"].touch()
            job = {"args": args, "env": env, "cwd": cwd, **{k: str(v) for k, v in paths.items()}}
            self.proc.stdin.write(json.dumps(job) + "\n")
            self.proc.stdin.flush()
            pid = json.loads(self.replies.readline())["pid"]
            timer = None
            if timeout is not None:
                timer = threading.Timer(timeout, lambda: _kill(pid))
                timer.start()
            try:
                status = json.loads(self.replies.readline())["status"]
            finally:
                if timer is not None:
                    timer.cancel()
            if timeout is not None and status == -signal.SIGKILL:
                raise subprocess.TimeoutExpired(["sgs", *args], timeout)
            return status, paths["stdout"].read_bytes(), paths["stderr"].read_bytes()


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


_zygote: _Zygote | None = None


def run(
    args: list[str | Path],
    *,
    env: dict[str, str] | None = None,
    cwd: str | Path | None = None,
    text: bool = True,
    input: str | bytes | None = None,
    timeout: float | None = None,
    check: bool = False,
) -> subprocess.CompletedProcess:
    """``subprocess.run(["sgs", *args], capture_output=True, …)`` through the warm zygote."""
    global _zygote
    if _zygote is None or _zygote.proc.poll() is not None:
        _zygote = _Zygote()
    given = input.encode() if isinstance(input, str) else input
    code, out, err = _zygote.run([str(a) for a in args], dict(os.environ if env is None else env),
                                 str(Path(cwd or Path.cwd()).resolve()), given, timeout)  # fmt: skip
    done = subprocess.CompletedProcess(
        ["sgs", *map(str, args)], code,
        out.decode("utf-8", "replace") if text else out,
        err.decode("utf-8", "replace") if text else err,
    )  # fmt: skip
    if check:
        done.check_returncode()
    return done
