"""What the commands print for people: aligned tables on stdout, progress on stderr.

**Tables** are laid out by rich, which counts a Chinese character as two columns, so columns
line up whatever the script.  The style is Markdown's pipe table: ASCII only, because
box-drawing characters are "ambiguous width" and take two columns in many Chinese terminals
(which would break the alignment), and because pipes paste into Markdown or a spreadsheet as
they are.  Tables are plain text, never colour codes, so they read the same on screen, in a
pipe and in a file.  On a terminal a table fits the window (a long cell wraps inside its
column, or each record becomes a block of label and value when the table cannot fit
without squeezing names to shreds); anywhere else it is never folded.  A figure that does not apply is "—"
(:data:`sgs.labels.NOT_APPLICABLE`), an empty text cell stays empty.

**Progress** goes to stderr and only when stderr is a terminal, so pipes, files, logs and the
machine-readable ``--json`` output never see it; it disappears when the work is done.  Lines a
command prints meanwhile go above it (:meth:`Progress.echo`), on stdout as always unless stdout
is the same terminal, where they must pass through the display so as not to tear it.
"""

from __future__ import annotations

import io
import shutil
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import click

# The width of a table that is not shown on a terminal: wide enough never to fold a line.
UNFOLDED = 4000


@dataclass(frozen=True)
class Col:
    """A column of a table: its Chinese header; numbers are aligned right.  Numbers and short
    cells (dates, codes; ``wrap=False``) are never wrapped: on a narrow terminal the columns of
    names and prose give up their width first."""

    header: str
    number: bool = False
    wrap: bool = True


def render(
    columns: Sequence[Col], rows: Iterable[Sequence[object]], width: int | None = None
) -> str:
    """The table as text: a header row, a rule, one line per row (more when a cell wraps).

    When the table cannot fit ``width`` without squeezing its columns of names below
    :data:`NARROWEST` columns, each record is shown as a block of label and value instead (a
    two-column table, records separated by a rule), as readable on a narrow terminal."""
    from rich.cells import cell_len

    cells = [["" if v is None else str(v) for v in row] for row in rows]
    natural = [max([cell_len(c.header), *(cell_len(r[i]) for r in cells)])
               for i, c in enumerate(columns)]  # fmt: skip
    if sum(natural) + 3 * len(columns) + 1 <= (width or UNFOLDED) and not _breaks(cells):
        return _padded(columns, cells, natural)
    if width is not None and _least_width(columns, cells) > width:
        return _records(columns, cells, width)
    table = _table(columns)
    for row in cells:
        table.add_row(*map(_text, row))
    return _print(table, width)


def _breaks(cells: list[list[str]]) -> bool:
    """Whether a cell holds a line break or a tab (rich lays those out)."""
    return any(any(ch in value for ch in "\n\r\t") for row in cells for value in row)


def _padded(columns: Sequence[Col], cells: list[list[str]], widths: list[int]) -> str:
    """A table that fits as it is, laid out directly: the same text rich would print, at a
    fraction of the cost for thousands of rows."""
    from rich.cells import cell_len

    def line(values: Sequence[str]) -> str:
        padded = []
        for col, value, w in zip(columns, values, widths, strict=True):
            gap = " " * (w - cell_len(value))
            padded.append(gap + value if col.number else value + gap)
        return ("| " + " | ".join(padded) + " |").rstrip()

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line([c.header for c in columns]), rule, *map(line, cells)])


# A column of names or prose may be squeezed (its cells wrap) down to this many terminal columns.
NARROWEST = 16


def _least_width(columns: Sequence[Col], cells: list[list[str]]) -> int:
    """The narrowest the table can be with no cell wrapped into pieces too small to read."""
    from rich.cells import cell_len

    total = 1
    for i, col in enumerate(columns):
        natural = max([cell_len(col.header), *(cell_len(row[i]) for row in cells)])
        total += (natural if col.number or not col.wrap else min(natural, NARROWEST)) + 3
    return total


def _table(columns: Sequence[Col], header: bool = True):
    from rich import box
    from rich.table import Table

    table = Table(box=box.MARKDOWN, show_edge=True, show_header=header, header_style="",
                  highlight=False)  # fmt: skip
    for col in columns:
        fixed = col.number or not col.wrap
        table.add_column(col.header, justify="right" if col.number else "left",
                         overflow="fold", no_wrap=fixed)  # fmt: skip
    return table


def _records(columns: Sequence[Col], cells: list[list[str]], width: int) -> str:
    table = _table([Col("项目", wrap=False), Col("内容")], header=False)
    for n, row in enumerate(cells, start=1):
        if n > 1:
            table.add_section()
        table.add_row(_text("序号"), _text(str(n)))
        for col, value in zip(columns, row, strict=True):
            table.add_row(_text(col.header), _text(value))
    return _print(table, width)


def _text(value: str):
    from rich.text import Text

    return Text(value)


def _print(table, width: int | None) -> str:
    from rich.console import Console

    buffer = io.StringIO()
    console = Console(file=buffer, width=width or UNFOLDED, color_system=None, markup=False,
                      emoji=False, highlight=False, force_terminal=False, legacy_windows=False)  # fmt: skip
    console.print(table)
    lines = [line.rstrip() for line in buffer.getvalue().splitlines()]
    return "\n".join(line for line in lines if line)


def echo_table(
    columns: Sequence[Col], rows: Iterable[Sequence[object]], title: str | None = None
) -> None:
    """Print a table on stdout, under its title; as wide as the terminal when there is one.
    No rows, no table: the title (which says how many) is enough."""
    rows = list(rows)
    if not rows:
        click.echo(title or "（无）")
        return
    width = shutil.get_terminal_size().columns if sys.stdout.isatty() else None
    text = render(columns, rows, width)
    click.echo(f"{title}\n{text}" if title else text)


class Progress:
    """A progress display on stderr, or nothing when stderr is not a terminal."""

    def __init__(self, enabled: bool) -> None:
        self._progress = None
        self._task = None
        if enabled:
            from rich.console import Console

            console = Console(stderr=True, highlight=False, markup=False, emoji=False)
            enabled = console.is_terminal and not console.is_dumb_terminal
            self._console = console
        self.enabled = enabled

    def start(self, description: str, total: int | None) -> None:
        """Show the display: a bar towards ``total`` steps, or a pulse when it is unknown."""
        if not self.enabled:
            return
        from rich import progress as rp

        self._progress = rp.Progress(
            rp.SpinnerColumn(),
            rp.TextColumn("{task.description}", markup=False),
            rp.BarColumn(),
            rp.TextColumn("{task.fields[count]}", markup=False),
            rp.TimeElapsedColumn(),
            rp.TextColumn("{task.fields[item]}", markup=False),
            console=self._console,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._total = total
        self._task = self._progress.add_task(description, total=total, count="", item="")
        self._progress.start()

    def update(
        self, item: str = "", *, description: str | None = None, done: int | None = None
    ) -> None:
        """Say what is being worked on now (a file's name), and how many steps are done."""
        if self._progress is None:
            return
        count = f"{done}/{self._total}" if done is not None and self._total else ""
        extra = {} if description is None else {"description": description}
        self._progress.update(self._task, completed=done, count=count, item=item, **extra)  # type: ignore[arg-type]

    def echo(self, line: str, err: bool = False) -> None:
        """Print a line of the command's own output without tearing the display."""
        stream = sys.stderr if err else sys.stdout
        if self._progress is not None and stream.isatty():
            self._progress.console.print(line, soft_wrap=True, markup=False, highlight=False)
        else:
            click.echo(line, err=err)

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


@contextmanager
def progress(enabled: bool) -> Iterator[Progress]:
    """A :class:`Progress` that is stopped (and cleared) however the work ends."""
    shown = Progress(enabled)
    try:
        yield shown
    finally:
        shown.stop()
