"""How ``sgs serve`` runs uvicorn: what it trusts, how it stops, and what it says.

- **Forwarded headers** only from ``SGS_TRUSTED_PROXIES`` (:mod:`sgs.web.proxies`): uvicorn's
  own default trusts 127.0.0.1, which let anyone on the machine name any client address.
- **Stopping within seconds.**  On SIGTERM or Ctrl-C uvicorn stops accepting, lets running
  requests finish for :data:`GRACEFUL_S` seconds and then cancels them (its
  ``timeout_graceful_shutdown``; without it a long file check held the server indefinitely).
  A cancelled check kills its process and removes its folder on the way out
  (:mod:`sgs.web.checkpool`); a process that outlives the server ends itself.
- **Warm checks.**  The check processes' forkserver starts with the server, so the first
  check does not pay for importing the validator.
- **A console in Chinese.**  uvicorn's own lines are English ("Uvicorn running on ...").  The
  office reads one line when the server listens and one when it has stopped
  (:class:`ChineseConsole`); the rest of uvicorn's INFO lines say nothing a clerk acts on and
  are dropped.  Warnings and errors are always shown, marked 警告/错误 (in uvicorn's words when
  there is no Chinese for them).  Access lines are off unless ``--access-log`` asks for them,
  then in a Chinese format: a busy page would bury everything else.
"""

from __future__ import annotations

import errno
import logging
import re

GRACEFUL_S = 5
# uvicorn's INFO lines that the office is told, in Chinese (matched on the formatted line).
STARTED = re.compile(r"Uvicorn running on (\S+) \(Press CTRL\+C to quit\)")
STOPPING = re.compile(r"Shutting down")
STOPPED = re.compile(r"Finished server process \[\d+\]")
WAITING = re.compile(r"Waiting for (connections to close|background tasks to complete)\..*")
# uvicorn's warnings that have Chinese words; any other passes in uvicorn's.
WARNINGS = {"Invalid HTTP request received.": "收到一个无效的 HTTP 请求，已忽略。"}
LEVEL_MARKS = {logging.WARNING: "警告：", logging.ERROR: "错误：", logging.CRITICAL: "错误："}


def run_server(app, host: str, port: int, access_log: bool = False) -> None:
    """Serve ``app`` (:func:`sgs.web.app.create_app`) until a signal stops it."""
    import uvicorn

    from sgs.web.checkpool import warm_up

    warm_up()
    uvicorn.run(
        app, host=host, port=port, log_level="info", server_header=False,
        timeout_graceful_shutdown=GRACEFUL_S, log_config=log_config(), access_log=access_log,
        **app.state.proxies.uvicorn_options(),
    )  # fmt: skip


def log_config() -> dict:
    """uvicorn's loggers on one console handler (stderr, as uvicorn's own) that speaks Chinese.
    uvicorn drops the access logger's handlers itself when access lines are not asked for."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"chinese": {"()": ChineseConsole}},
        "formatters": {"marked": {"()": MarkedFormatter}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "filters": ["chinese"],
                "formatter": "marked",
            }
        },
        "loggers": {
            "uvicorn": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
        },
    }


class ChineseConsole(logging.Filter):
    """Each of uvicorn's records told in Chinese, kept as it is (a warning or error without
    Chinese words), or dropped (an INFO line without anything for the office)."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = chinese_line(record)
        if text is None:
            return record.levelno >= logging.WARNING
        record.msg, record.args = text, ()
        return True


def chinese_line(record: logging.LogRecord) -> str | None:
    """The Chinese for a record of uvicorn's, None when there is none."""
    if record.name == "uvicorn.access":
        return access_line(record.args)
    if isinstance(record.msg, OSError) and record.msg.errno == errno.EADDRINUSE:
        return "端口已被占用，sgs 网页无法启动：请用 --port 换一个端口，或先停止占用它的程序。"
    message = record.getMessage()
    if message in WARNINGS:
        return WARNINGS[message]
    if started := STARTED.fullmatch(message):
        return f"sgs 网页已启动：{started.group(1)} （按 Ctrl+C 停止）"
    if STOPPING.fullmatch(message):
        return "正在停止 sgs 网页……"
    if WAITING.fullmatch(message):
        return f"等待进行中的请求结束（最多 {GRACEFUL_S} 秒；再按 Ctrl+C 立即停止）……"
    if STOPPED.fullmatch(message):
        return "sgs 网页已停止。"
    return None


def access_line(args: object) -> str | None:
    """One request as uvicorn reports it (client, method, path, HTTP version, status)."""
    if not isinstance(args, tuple) or len(args) != 5:
        return None
    client, method, path, _version, status = args
    return f"访问：{client} {method} {path} → {status}"


class MarkedFormatter(logging.Formatter):
    """The message as it is, a warning or an error marked in front (tracebacks follow)."""

    def format(self, record: logging.LogRecord) -> str:
        return LEVEL_MARKS.get(record.levelno, "") + super().format(record)
