"""What ``sgs serve`` writes on its console (issue 21): Chinese, not uvicorn's English.

A real ``sgs serve`` runs on a free loopback port and is stopped with Ctrl-C (SIGINT) as the
office stops it.  Its console must say where it listens and that it stopped, in Chinese; none
of uvicorn's English INFO lines ("Uvicorn running on", "Application startup complete", access
lines) may appear; warnings and errors still do.  Access lines appear only with
``--access-log``, in Chinese.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from support.web_server import SGS, free_port, wait_until_up

LIMIT_S = 60.0  # generous: a hang fails, a slow machine does not
# uvicorn's own words on its console.
UVICORN_ENGLISH = re.compile(
    r"INFO|Uvicorn|Started server|Finished server|Application (startup|shutdown)|Waiting for"
    r"|Shutting down|HTTP/1\.1|Press CTRL"
)


def environment(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "tmp").mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SGS_")}
    return env | {"SGS_DATA_DIR": str(tmp_path / "data"), "SGS_WEB_PASSWORD": "console-secret",
                  "TMPDIR": str(tmp_path / "tmp"), "PREFECT_API_URL": ""}  # fmt: skip


def start(tmp_path: Path, port: int, *options: str) -> subprocess.Popen:
    return subprocess.Popen([*SGS, "serve", "--port", str(port), *options],
                            env=environment(tmp_path), text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)  # fmt: skip


@contextmanager
def serving(tmp_path: Path, *options: str) -> Iterator[tuple[int, list[str]]]:
    """A running ``sgs serve``: its port, and (once stopped with Ctrl-C) its console lines."""
    port = free_port()
    proc = start(tmp_path, port, *options)
    console: list[str] = []
    try:
        wait_until_up(port, proc)  # one GET /login, answered
        yield port, console
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=LIMIT_S)
        console += out.splitlines()


def invalid_request(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=LIMIT_S) as s:
        s.sendall(b"not http at all\r\n\r\n")
        s.recv(1024)


def test_the_console_is_chinese_from_start_to_stop(tmp_path):
    with serving(tmp_path) as (port, console):
        invalid_request(port)  # a warning of uvicorn's
        second = start(tmp_path, port)  # the port is taken: an error of uvicorn's
        out, _ = second.communicate(timeout=LIMIT_S)
        assert second.returncode != 0, out
        assert "错误：端口已被占用，sgs 网页无法启动：请用 --port 换一个端口" in out, out
        assert not UVICORN_ENGLISH.search(out), out
    assert f"sgs 网页已启动：http://127.0.0.1:{port} （按 Ctrl+C 停止）" in console, console
    assert console[-1] == "sgs 网页已停止。", console
    assert "警告：收到一个无效的 HTTP 请求，已忽略。" in console, console
    assert [line for line in console if UVICORN_ENGLISH.search(line)] == []
    assert not [line for line in console if "/login" in line]  # no access lines by default


def test_access_lines_are_chinese_when_asked_for(tmp_path):
    with serving(tmp_path, "--access-log") as (_port, console):
        pass
    access = [line for line in console if line.startswith("访问：")]
    assert access, console  # wait_until_up's GET /login, once or more
    assert all(re.fullmatch(r"访问：127\.0\.0\.1:\d+ GET /login → 200", a) for a in access)
    assert [line for line in console if UVICORN_ENGLISH.search(line)] == []
