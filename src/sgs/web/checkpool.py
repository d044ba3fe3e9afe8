"""Running the web's file checks outside the server's request threads.

A check of an awkward file can take minutes of CPU (a short CSV with thousands of surplus
cells).  Run in the server's thread pool, a few dozen of them took every thread and a login
page waited minutes.  So:

- **One process per check**, forked from a warm ``forkserver`` that has the validator
  imported (:data:`PRELOAD`): starting one costs milliseconds, and a check that must stop —
  its client went away, the server is stopping — is ended by killing its process, which no
  thread could be.  At most ``SGS_CHECK_WORKERS`` (default 2) run at once.
- **A bounded queue.**  ``SGS_CHECK_QUEUE`` (default 4) more wait their turn, first come first
  served; beyond that the answer is 503 with ``Retry-After: 30`` (:data:`RETRY_AFTER_S`) at
  once, without queueing.  Waiting is a timer in the event loop, never a thread, so pages and
  downloads never wait behind checks.
- **A client that goes away cancels its check**: the waiting handler looks every
  :data:`POLL_S` for the disconnect and kills the process (or leaves the queue).
- **Temporary files.**  Each check's upload is copied by the server into its own folder
  ``sgs-check-<server pid>-<random>`` in the temporary directory and removed by the server on
  every path (result, refusal, failure, cancel, stop) — the process is killed first.  A folder
  left by a killed server (its pid gone) is removed when the next app starts
  (:func:`remove_stale`).  The check process also ends itself when the server is gone
  (:func:`_watch_server`), so a killed server leaves no check burning CPU.
- **Stopping.**  ``sgs serve`` gives running requests a few seconds at SIGTERM, then cancels
  them (:mod:`sgs.cli.web_server`); a cancelled check kills its process and removes its
  folder in its ``finally``.  :meth:`CheckPool.stop` does the same for every check at once and
  refuses new ones (503), without taking a lock, so a signal handler may call it.
- **The environment travels with the job**: the forkserver was started with the environment
  of its start, the check must see the server's environment of now (``SGS_*`` variables and
  settings are read at call time, :mod:`sgs.config`).

Only the standard library is imported here at module level: this module is imported by the
forkserver and by every check process.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import re
import shutil
import signal
import tempfile
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from multiprocessing.connection import wait as wait_for_sentinels
from pathlib import Path
from typing import Any

WORKERS_ENV = "SGS_CHECK_WORKERS"
QUEUE_ENV = "SGS_CHECK_QUEUE"
DEFAULT_WORKERS = 2
DEFAULT_QUEUE = 4
RETRY_AFTER_S = 30
POLL_S = 0.1
WATCH_S = 1.0
STALE_UNOWNED_S = 3600.0  # a folder without a server pid in its name (older releases)
PREFIX = "sgs-check-"
FOLDER = re.compile(rf"{PREFIX}(?:(\d+)-)?[A-Za-z0-9_-]+")
RESULT = "result.pickle"
# Imported once by the forkserver, so that a check process starts warm; imports only (no
# polars computation, whose thread pool must not exist before a fork).  A missing one is skipped.
PRELOAD = [
    "sgs.web.checkpool", "sgs.web.checkjobs", "sgs.validate.pipeline", "sgs.report.validation",
    "sgs.intake.handin", "sgs.validate.pandera_schema", "sgs.intake.csvfile",
    "sgs.intake.workbook", "sgs.reference.settings", "pandera",
]  # fmt: skip
HOLD_FAULT = "check_hold"  # SGS_FAULT: a check process waits (tests of the queue and of stopping)
HELD_MARK = "held.pid"

BUSY_MESSAGE = "系统繁忙，请稍后再试。"
STOPPING_MESSAGE = "服务器正在停止，请稍后再试。"
FAILED_MESSAGE = "校验未能完成，请稍后重试；如仍失败，请联系信用办。"


class CheckRefused(Exception):
    """No check now: ``status`` (503: busy or stopping, 500: the check process failed), a
    ``code`` and a Chinese ``message``; ``retry_after`` seconds for a 503."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = RETRY_AFTER_S if status == 503 else None


class ClientGone(Exception):
    """The client disconnected while its check waited or ran; nobody to answer."""


def _count(name: str, default: int, least: int) -> int:
    from sgs.config import env

    text = env(name) or str(default)
    if not text.isdigit() or int(text) < least:
        from sgs.errors import SettingsError

        raise SettingsError(f"环境变量 {name} 应为不小于 {least} 的整数，实际为「{text[:20]}」。")
    return int(text)


def workers_setting() -> int:
    return _count(WORKERS_ENV, DEFAULT_WORKERS, 1)


def queue_setting() -> int:
    return _count(QUEUE_ENV, DEFAULT_QUEUE, 0)


# ----------------------------------------------------------------------------- temp folders


def new_folder() -> Path:
    """A private folder for one check, named after this server process."""
    return Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: not ours to judge
    with contextlib.suppress(OSError):  # a zombie nobody reaps is not alive
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][:1] != "Z"
    return True


def remove_stale(base: Path | None = None) -> list[Path]:
    """Remove check folders whose server is gone (killed before it could clean up).

    A folder names its server's pid; a folder of a live server — another ``sgs serve`` on the
    same machine — is left alone.  Returns what was removed.
    """
    base = Path(base or tempfile.gettempdir())
    removed = []
    now = time.time()
    for path in base.glob(f"{PREFIX}*"):
        found = FOLDER.fullmatch(path.name)
        if found is None or not path.is_dir():
            continue
        pid = found.group(1)
        if pid is not None:
            stale = int(pid) != os.getpid() and not _alive(int(pid))
        else:
            with contextlib.suppress(OSError):
                stale = now - path.stat().st_mtime > STALE_UNOWNED_S
        if stale:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


# ----------------------------------------------------------------------------- the child


def _watch_server(server_pid: int) -> None:
    """End this check process when its server is gone (a SIGKILL leaves nobody to kill it)."""
    while True:
        time.sleep(WATCH_S)
        if not _alive(server_pid):
            os._exit(70)


def _child(job: Callable[..., Any], args: tuple, env: dict[str, str], folder: str,
           server_pid: int) -> None:  # fmt: skip
    """The check process: the server's environment, temporary files in the check's folder,
    the job's result pickled into the folder (read by the server after the process ends)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the server, which kills us
    from sgs.config import adopt_environment, fault_point

    adopt_environment(env)
    tempfile.tempdir = folder
    threading.Thread(target=_watch_server, args=(server_pid,), daemon=True).start()
    if fault_point() == HOLD_FAULT:
        Path(folder, HELD_MARK).write_text(str(os.getpid()))
        while True:
            time.sleep(60)
    result = job(*args)
    scratch = Path(folder, RESULT + ".part")
    scratch.write_bytes(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
    scratch.rename(Path(folder, RESULT))


# The longest TMPDIR under which multiprocessing's socket path (its folder ``pymp-…`` and the
# ``listener-…`` in it, ~35 bytes) stays within AF_UNIX's 107 bytes, with room to spare.
SOCKET_BASE_MAX = 60
_context_lock = threading.Lock()
_context: Any = None


def _short_socket_dir() -> None:
    """Give multiprocessing a short temporary folder when ``TMPDIR`` is long.

    The forkserver listens on an AF_UNIX socket in multiprocessing's temporary folder, made
    under ``TMPDIR``; such a path holds at most 107 bytes, so a deep ``TMPDIR`` (a test's
    folder, an office's data disk) stopped ``sgs serve`` at start ("AF_UNIX path too long").
    Python 3.11 has no fallback of its own, so the folder is made under ``/tmp`` (or another
    writable short one) the way :func:`multiprocessing.util.get_temp_dir` makes it, and removed
    at exit the same way.  The checks' own folders stay under ``TMPDIR``.
    """
    from multiprocessing import current_process, util

    config = current_process()._config  # where get_temp_dir() keeps its folder
    if config.get("tempdir") is not None or len(tempfile.gettempdir()) <= SOCKET_BASE_MAX:
        return
    for base in ("/tmp", "/var/tmp", "/dev/shm"):
        if Path(base).is_dir() and os.access(base, os.W_OK | os.X_OK):
            folder = tempfile.mkdtemp(prefix="pymp-", dir=base)
            util.Finalize(None, shutil.rmtree, args=(folder, True), exitpriority=-100)
            config["tempdir"] = folder
            return


def _forkserver():
    """The forkserver context, preloaded once per server process."""
    global _context
    with _context_lock:
        _short_socket_dir()
        if _context is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(PRELOAD)
            _context = ctx
        return _context


def warm_up() -> None:
    """Start the forkserver now (``sgs serve`` at start; tests before they move the temporary
    directory, since multiprocessing puts the forkserver's socket there once per process)."""
    from multiprocessing import forkserver

    _forkserver()
    forkserver.ensure_running()


# ----------------------------------------------------------------------------- the pool


class CheckPool:
    """At most ``workers`` check processes at once and ``queue`` waiting; thread-safe, and
    bound to no event loop (each test client request may run in a loop of its own)."""

    def __init__(self, workers: int | None = None, queue: int | None = None) -> None:
        self.workers = workers_setting() if workers is None else workers
        self.queue = queue_setting() if queue is None else queue
        self._mutex = threading.Lock()
        self._waiting: deque[object] = deque()
        self._running = 0
        self._processes: dict[int, Any] = {}
        self._stopping = False

    def full(self) -> bool:
        """Whether a new check would be refused now (a hint to refuse before reading a body)."""
        with self._mutex:
            return self._stopping or self._running + len(self._waiting) >= self.workers + self.queue

    def _enter(self) -> object:
        with self._mutex:
            if self._stopping:
                raise CheckRefused(503, "stopping", STOPPING_MESSAGE)
            if self._running + len(self._waiting) >= self.workers + self.queue:
                raise CheckRefused(503, "busy", BUSY_MESSAGE)
            ticket = object()
            self._waiting.append(ticket)
            return ticket

    def _start(self, ticket: object) -> bool:
        with self._mutex:
            if self._waiting[0] is ticket and self._running < self.workers:
                self._waiting.popleft()
                self._running += 1
                return True
            return False

    def _leave_queue(self, ticket: object) -> None:
        with self._mutex, contextlib.suppress(ValueError):
            self._waiting.remove(ticket)

    def _finish(self) -> None:
        with self._mutex:
            self._running -= 1

    def stop(self) -> None:
        """Refuse new checks and kill the running ones (safe in a signal handler: no lock)."""
        self._stopping = True
        for process in list(self._processes.values()):
            with contextlib.suppress(Exception):
                process.kill()

    async def run(
        self,
        job: Callable[..., Any],
        args: tuple,
        prepare: Callable[[Path], Awaitable[tuple]],
        gone: Callable[[], Awaitable[bool]],
    ) -> Any:
        """Run ``job(*args, *extra)`` in a check process once it is this request's turn.

        ``prepare(folder)`` (awaited when the turn comes) puts the upload into the check's
        folder and returns the ``extra`` arguments; ``gone()`` tells whether the client has
        disconnected.  Raises :class:`CheckRefused` (503 busy or stopping, 500 failed) or
        :class:`ClientGone`.
        """
        import asyncio

        ticket = self._enter()
        started = False
        try:
            while not self._start(ticket):
                if self._stopping:
                    raise CheckRefused(503, "stopping", STOPPING_MESSAGE)
                if await gone():
                    raise ClientGone
                await asyncio.sleep(POLL_S)
            started = True
            return await self._run_started(job, args, prepare, gone)
        finally:
            if started:
                self._finish()
            else:
                self._leave_queue(ticket)

    async def _run_started(self, job, args, prepare, gone) -> Any:
        import asyncio

        from starlette.concurrency import run_in_threadpool

        folder = new_folder()
        process = None
        try:
            extra = await prepare(folder)
            from sgs.config import environment

            env = environment()
            process = _forkserver().Process(
                target=_child, args=(job, (*args, *extra), env, str(folder), os.getpid()),
                name="sgs-check", daemon=False,
            )  # fmt: skip
            await run_in_threadpool(process.start)  # milliseconds; the first start seconds
            self._processes[id(process)] = process
            if self._stopping:
                process.kill()
            while not wait_for_sentinels([process.sentinel], 0):
                if self._stopping:
                    raise CheckRefused(503, "stopping", STOPPING_MESSAGE)
                if await gone():
                    raise ClientGone
                await asyncio.sleep(POLL_S)
            process.join()
            result = Path(folder, RESULT)
            if process.exitcode != 0 or not result.exists():
                if self._stopping:
                    raise CheckRefused(503, "stopping", STOPPING_MESSAGE)
                raise CheckRefused(500, "check_failed", FAILED_MESSAGE)
            return await run_in_threadpool(lambda: pickle.loads(result.read_bytes()))
        finally:
            if process is not None:
                self._processes.pop(id(process), None)
                _end(process)
            shutil.rmtree(folder, ignore_errors=True)


def _end(process) -> None:
    """Kill a check process that still runs and reap it (never leave a zombie)."""
    with contextlib.suppress(Exception):
        if process.exitcode is None:
            process.kill()
            process.join(5)
        process.close()


# ----------------------------------------------------------------------------- for the handlers

UPLOAD_DIR = "file"
UPLOAD_NAME = "upload"


def upload_path(folder: str | Path) -> Path:
    """Where the server puts the upload for a job (:mod:`sgs.web.checkjobs`), created here so
    both sides agree."""
    path = Path(folder) / UPLOAD_DIR
    path.mkdir(exist_ok=True)
    return path / UPLOAD_NAME


async def check_in_process(request, job: Callable[..., Any], args: tuple, upload=None) -> Any:
    """Run ``job`` for ``request`` in the app's pool, with the upload's bytes (a file object,
    or None) copied into the check's folder when its turn comes (see :meth:`CheckPool.run`)."""
    from starlette.concurrency import run_in_threadpool

    async def prepare(folder: Path) -> tuple:
        if upload is not None:
            target = upload_path(folder)

            def copy() -> None:
                upload.seek(0)
                with target.open("xb") as out:
                    shutil.copyfileobj(upload, out)

            await run_in_threadpool(copy)
        return (str(folder),)

    pool: CheckPool = request.app.state.checks
    return await pool.run(job, args, prepare, request.is_disconnected)


def gone_response():
    """The answer to a client that went away (nobody reads it; the connection is closed)."""
    from starlette.responses import Response

    return Response(status_code=400)
