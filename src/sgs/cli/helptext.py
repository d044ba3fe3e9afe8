"""Help pages laid out for Chinese text: headings, usage line and wrapping by display width.

click wraps help text by counting characters, but a Chinese character takes two columns of a
terminal, so its lines would come out up to twice the width it aims at.  This formatter counts
columns the way a terminal draws them (East Asian wide and full-width characters two, combining
marks none), may break a line between any two Chinese characters but never inside a Latin word,
an option name or a path, and never starts a line with closing punctuation.  Blocks marked with
click's ``\\b`` keep the author's sentences and labelled lines (退出码：…) on lines of their own;
within them, the breaks of the source (made for a source file, not a terminal) are rewrapped.
"""

from __future__ import annotations

import re
import unicodedata

import click

USAGE_PREFIX = "用法："
# Punctuation that must not begin a line: it stays at the end of the line before.
NO_LINE_START = frozenset("，。；：、）」』》〉】！？”’,.;:)]!?>")
# Punctuation that must not end a line: it goes to the next line with what it opens.
NO_LINE_END = frozenset("（「『《〈【“‘(<")
_TOKEN = re.compile(
    r"\s+|[\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]|[^\s\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef]+"
)


def display_width(text: str) -> int:
    """Columns ``text`` takes in a terminal."""
    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
        for c in text
    )


def _wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in "WF"


def wrap(text: str, width: int) -> list[str]:
    """One paragraph as lines of at most ``width`` columns (a single long word may exceed it).

    Closing punctuation that does not fit takes the word before it to the next line; an
    opening bracket never ends a line."""
    lines: list[str] = []
    current: list[str] = []
    for token in _TOKEN.findall(text):
        if token.isspace():
            if current:
                current.append(" ")
            continue
        if current and display_width("".join(current).rstrip() + token) > width:
            carry: list[str] = []
            if token[0] in NO_LINE_START:
                while current:
                    carry.insert(0, current.pop())
                    if not carry[0].isspace() and carry[0][0] not in NO_LINE_START:
                        break
            while current and (current[-1].isspace() or current[-1][-1] in NO_LINE_END):
                carry.insert(0, current.pop())  # an opening bracket goes with what it opens
            while carry and carry[0].isspace():
                carry.pop(0)
            if current:
                lines.append("".join(current).rstrip())
                current = carry
            else:  # nothing could stay: the line keeps its punctuation and runs over
                current = carry
        current.append(token)
    if "".join(current).strip():
        lines.append("".join(current).strip())
    return lines


def _join(lines: list[str]) -> str:
    """Lines of one paragraph as one text: Chinese runs on without a space, Latin words get one."""
    text = ""
    for line in lines:
        line = line.strip()
        if text and not (_wide(text[-1]) or _wide(line[0])):
            text += " "
        text += line
    return text


# A line of a ``\b`` block that begins with a label (退出码：, 月度：) starts a new logical line.
_LABEL = re.compile(r"^\s*[\u4e00-\u9fff]{2,6}：")
SENTENCE_END = ("。", "！", "？")


def _logical_lines(lines: list[str]) -> list[str]:
    """The lines of a ``\b`` block as their author meant them: docstrings break Chinese
    sentences wherever the source line ended, so a line runs on into the next unless it ends a
    sentence or the next one begins with a label."""
    logical: list[str] = []
    for line in lines:
        if logical and not logical[-1].rstrip().endswith(SENTENCE_END) and not _LABEL.match(line):
            lead = logical[-1][: len(logical[-1]) - len(logical[-1].lstrip())]
            logical[-1] = lead + _join([logical[-1], line])
        else:
            logical.append(line)
    return logical


def _paragraphs(text: str) -> list[tuple[bool, list[str]]]:
    """(raw, lines) per paragraph; a raw paragraph is one that begins with click's ``\\b``."""
    found: list[tuple[bool, list[str]]] = []
    for block in re.split(r"\n\s*\n", text.expandtabs().strip("\n")):
        lines = block.split("\n")
        if lines and lines[0].strip() == "\b":
            found.append((True, lines[1:]))
        elif block.strip():
            found.append((False, lines))
    return found


def fill(text: str, width: int, indent: str = "") -> str:
    """Paragraphs of ``text`` wrapped to ``width`` columns, each line prefixed by ``indent``."""
    room = max(width - display_width(indent), 10)
    out = []
    for raw, lines in _paragraphs(text):
        if raw:
            block = []
            for line in _logical_lines(lines):
                lead = line[: len(line) - len(line.lstrip())]
                parts = wrap(line, room - display_width(lead)) or [""]
                block += [f"{indent}{lead}{part}".rstrip() for part in parts]
            out.append("\n".join(block))
        else:
            out.append("\n".join(f"{indent}{part}" for part in wrap(_join(lines), room)))
    return "\n\n".join(out)


class ChineseFormatter(click.HelpFormatter):
    """click's help formatter with Chinese headings and wrapping by display width."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        head = f"{' ' * self.current_indent}{USAGE_PREFIX}{prog}"
        self.write(f"{head} {args}".rstrip() + "\n")

    def write_heading(self, heading: str) -> None:
        self.write(f"{' ' * self.current_indent}{heading}：\n")

    def write_text(self, text: str) -> None:
        self.write(fill(text, self.width, " " * self.current_indent) + "\n")

    def write_dl(self, rows, col_max: int = 30, col_spacing: int = 2) -> None:
        rows = list(rows)
        if not rows:
            return
        first_col = min(max(display_width(first) for first, _ in rows), col_max) + col_spacing
        indent = " " * self.current_indent
        room = max(self.width - self.current_indent - first_col, 10)
        for first, second in rows:
            lines = fill(second, room).split("\n") if second else []
            if not lines:
                self.write(f"{indent}{first}\n")
                continue
            if display_width(first) <= first_col - col_spacing:
                pad = " " * (first_col - display_width(first))
                self.write(f"{indent}{first}{pad}{lines[0]}\n")
            else:
                self.write(f"{indent}{first}\n{indent}{' ' * first_col}{lines[0]}\n")
            for line in lines[1:]:
                self.write(f"{indent}{' ' * first_col}{line}".rstrip() + "\n")
