"""Pieces shared by the command modules: option types, paths as shown, and the fast exit."""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    import polars as pl


class KindChoice(click.Choice):
    """A kind of record as the office says it: the code (``permit``) or its Chinese name, in
    full (行政许可) or short (许可).  The command always receives the code, so ``--json`` and
    everything stored keep ``permit``/``penalty``/``ledger``; a value that is neither is a usage
    error listing both spellings (:mod:`sgs.cli.usage` asks :meth:`choice_labels`)."""

    def __init__(self, *kinds: str) -> None:
        super().__init__(kinds)

    def chinese_names(self) -> dict[str, list[str]]:
        """Each code's Chinese names, short first (permit: 许可, 行政许可; ledger: 台账), from the
        catalogue's names (:func:`sgs.labels.kind_names`) so that they never drift apart."""
        from sgs.labels import kind_names

        names = kind_names()
        return {
            kind: list(dict.fromkeys((names[kind].removeprefix("行政"), names[kind])))
            for kind in self.choices
        }

    def convert(self, value, param, ctx):
        if isinstance(value, str):
            named = self.chinese_names().items()
            value = next((kind for kind, names in named if value in names), value)
        return super().convert(value, param, ctx)

    def choice_labels(self) -> list[str]:
        """Each code with the names it may also be given as: permit（许可、行政许可）."""
        return [f"{kind}（{'、'.join(names)}）" for kind, names in self.chinese_names().items()]


# The kinds of an upload; and those of a template, where the ledger is one too.
KIND_CHOICE = KindChoice("permit", "penalty")
KIND_OR_LEDGER = KindChoice("permit", "penalty", "ledger")


class IsoDate(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(f"日期应为 YYYY-MM-DD 格式：{value!r}", param, ctx)


ISO_DATE = IsoDate()


def shown_path(path: Path | str) -> str:
    """A path as a command prints it: relative to the current directory when the file is under
    it, absolute otherwise -- the same form on every line, whether the path came from the
    command line as typed or back from the store resolved."""
    absolute = Path(os.path.normpath(Path(path).absolute()))
    try:
        return str(absolute.relative_to(Path.cwd()))
    except (ValueError, OSError):
        return str(absolute)


def exit_now(code: int) -> None:
    """Exit without tearing down the interpreter: freeing a million-row frame object by object
    costs a noticeable share of a large run, and nothing is left to flush."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def has_figures(row: dict) -> bool:
    """Whether a rates row has anything in the month: records uploaded or ledger entries.  A
    month's table lists every unit of the registry, and most of them are all zeros on most
    days (``sgs rates --nonzero``, also for the published rows)."""
    return bool(row["uploaded"] or row["ledger_entries"])


def rows_with_figures(frame: pl.DataFrame) -> pl.DataFrame:
    """:func:`has_figures` over a frame of rates rows."""
    import polars as pl

    return frame.filter(
        (pl.col("uploaded").fill_null(0) != 0) | (pl.col("ledger_entries").fill_null(0) != 0)
    )
