"""click in Chinese: the command classes of ``sgs`` and the usage errors they report.

click writes its own words in English ("Usage:", "Options:", "Show this message and exit.",
"Error: Missing option '--period'.").  Every command of ``sgs`` is an :class:`SgsCommand` and
every group an :class:`SgsGroup`, whose help pages have Chinese headings, metavars and option
notes (:mod:`sgs.cli.helptext` lays them out).  A usage error is caught once, at the top
(:meth:`SgsGroup.main`), and told in Chinese from what the exception carries — which option,
which value, which choices — rather than by translating click's sentence; only the few errors
that carry nothing but their sentence (extra arguments, an option given without its value) are
recognised by it.  The exit status stays click's: 2 for a usage error.
"""

from __future__ import annotations

import ast
import difflib
import re
import sys

import click

from sgs.cli.helptext import ChineseFormatter

HELP_OPTION_HELP = "显示此帮助并退出。"
# click's names of value types, as metavars in the option list.
TYPE_METAVARS = {
    "INTEGER RANGE": "整数",
    "FLOAT RANGE": "数值",
    "INTEGER": "整数",
    "FLOAT": "数值",
    "TEXT": "文本",
    "PATH": "路径",
    "FILE": "文件",
    "DIRECTORY": "文件夹",
    "BOOLEAN": "是/否",
}
_CJK = re.compile(r"[\u4e00-\u9fff]")


class SgsContext(click.Context):
    formatter_class = ChineseFormatter


class _Chinese(click.Command):
    """Help pages in Chinese: usage line, option list, help option."""

    context_class = SgsContext

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("options_metavar", "[选项]")
        super().__init__(*args, **kwargs)

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = HELP_OPTION_HELP
        return option

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """click's parser raises some usage errors without their context: attach it, so that
        the message can show the command's usage line."""
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            if exc.ctx is None:
                exc.ctx = ctx
            raise

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path, " ".join(self.collect_usage_pieces(ctx)))

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [
            _help_record(p, ctx)
            for p in self.get_params(ctx)
            if isinstance(p, click.Option) and not p.hidden
        ]
        if rows:
            with formatter.section("选项"):
                formatter.write_dl(rows)


def _help_record(option: click.Option, ctx: click.Context) -> tuple[str, str]:
    """The option's names with a Chinese metavar, and its help with Chinese notes."""
    names = option.get_help_record(ctx)[0]  # type: ignore[index]
    if option.metavar is None:
        for english, chinese in TYPE_METAVARS.items():
            if names.endswith(f" {english}"):
                names = names[: -len(english)] + chinese
                break
    extra = option.get_help_extra(ctx)
    notes = []
    if "default" in extra:
        notes.append(f"默认：{extra['default']}")
    if "range" in extra:
        notes.append(f"范围：{extra['range']}")
    if "required" in extra:
        notes.append("必填")
    if "envvars" in extra:
        notes.append(f"环境变量：{'、'.join(extra['envvars'])}")
    text = option.help or ""
    if notes:
        text = f"{text}  [{'；'.join(notes)}]" if text else f"[{'；'.join(notes)}]"
    return names, text


class SgsCommand(_Chinese):
    """A command of ``sgs``."""


def command(**kwargs):
    """``click.command`` making an :class:`SgsCommand` (for commands outside the main group)."""
    return click.command(cls=SgsCommand, **kwargs)


class SgsGroup(_Chinese, click.Group):
    """A group of ``sgs`` commands; the top one also reports usage errors in Chinese."""

    command_class = SgsCommand
    group_class = type  # subgroups are SgsGroups too

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("subcommand_metavar", "命令 [参数]...")
        super().__init__(*args, **kwargs)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_options(ctx, formatter)
        self.format_commands(ctx, formatter)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            cmd = self.get_command(ctx, name)
            if cmd is not None and not cmd.hidden:
                rows.append((name, _first_sentence(cmd.short_help or cmd.help or "")))
        if rows:
            with formatter.section("命令"):
                formatter.write_dl(rows)

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        """click's main loop, with its messages told in Chinese (a caller asking for
        ``standalone_mode=False`` handles click's exceptions itself)."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except click.UsageError as exc:
            show_usage_error(exc)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            click.echo(f"错误：{_click_error(exc)}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("已中止。", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


def _first_sentence(text: str) -> str:
    first = text.strip().split("\n\n")[0].replace("\b", "").strip()
    return first.split("。")[0] + "。" if "。" in first else first


# ----------------------------------------------------------------------------- usage errors


def show_usage_error(exc: click.UsageError) -> None:
    """The usage line, where to find help, and what was wrong — on stderr, in Chinese."""
    ctx = exc.ctx
    if ctx is not None and type(exc).__name__ == "NoArgsIsHelpError":
        click.echo(ctx.get_help(), err=True)  # a group called without a command: its help
        return
    lines = []
    if ctx is not None:
        lines.append(ctx.get_usage())
        help_option = ctx.command.get_help_option(ctx)
        if help_option is not None:
            lines.append(f"查看帮助：{ctx.command_path} {max(help_option.opts, key=len)}")
        lines.append("")
    lines.append(f"错误：{usage_message(exc)}")
    click.echo("\n".join(lines), err=True)


def usage_message(exc: click.UsageError) -> str:
    """What was wrong with the command line, as one Chinese sentence."""
    if isinstance(exc, click.MissingParameter):
        return _sentence(_missing(exc))
    if isinstance(exc, click.BadParameter):
        return _sentence(f"{_param_name(exc)} 的取值有误：{_bad_value(exc)}")
    if isinstance(exc, click.NoSuchOption):
        found = f"没有选项 {exc.option_name}"
        if exc.possibilities:
            found += f"；是否想用 {'、'.join(sorted(exc.possibilities))}？"
        return _sentence(found)
    if isinstance(exc, click.BadOptionUsage):
        return _sentence(_option_usage(exc.option_name, exc.message))
    command_name = getattr(exc, "command_name", None)  # NoSuchCommand, click ≥ 8.4
    match = re.fullmatch(r"No such command '(.+)'\.", exc.message)
    if command_name is not None or match:
        return _sentence(_no_such_command(command_name or match.group(1), exc.ctx))
    return _sentence(_plain(exc.message))


def _param_name(exc: click.BadParameter) -> str:
    param = exc.param
    if isinstance(param, click.Option):
        return max(param.opts, key=len)
    if param is not None:
        return param.human_readable_name
    hint = exc.param_hint
    return hint if isinstance(hint, str) else " / ".join(hint or ("参数",))


def _choices(param: click.Parameter | None) -> str | None:
    """The values a choice accepts, with the other names a type may take them by (a kind's
    Chinese names, :class:`sgs.cli.common.KindChoice`)."""
    if param is None or not isinstance(param.type, click.Choice):
        return None
    labels = getattr(param.type, "choice_labels", None)
    return "、".join(labels() if labels else (str(c) for c in param.type.choices))


def _missing(exc: click.MissingParameter) -> str:
    param, name = exc.param, _param_name(exc)
    if isinstance(param, click.Option):
        return f"缺少必需的选项 {name}" + (f"：{param.help}" if param.help else "")
    choices = _choices(param)
    return f"缺少参数 {name}" + (f"；可选：{choices}" if choices else "")


def _quoted(text: str) -> str:
    """A value as click quoted it (``'abc'``) shown as 「abc」."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        value = text
    return f"「{value}」"


# click's sentences about a value, and what they say in Chinese ({0}: the value).
_VALUE_PROBLEMS = [
    (r"(.+) is not a valid integer(?: range)?\.", "{0}不是整数"),
    (r"(.+) is not a valid float(?: range)?\.", "{0}不是数字"),
    (r"(.+) is not a valid boolean\.", "{0}不是是/否值"),
    (r"(.+) is not in the range (.+)\.", "{0}超出允许的范围（{1}）"),
    (r"\w+ (.+) does not exist\.", "{0}不存在"),
    (r"\w+ (.+) is a directory\.", "{0}是文件夹，这里需要文件"),
    (r"\w+ (.+) is a file\.", "{0}是文件，这里需要文件夹"),
    (r"\w+ (.+) is not readable\.", "{0}无法读取"),
    (r"\w+ (.+) is not writable\.", "{0}无法写入"),
]


def _bad_value(exc: click.BadParameter) -> str:
    """click's sentence told in Chinese.  Its sentences are recognised before anything else: a
    Chinese value (「--kind 许可证」) puts Chinese into click's English sentence, which must not
    pass for one of our own types' Chinese messages."""
    message = exc.message
    choices = _choices(exc.param)
    if choices is not None:
        value = re.match(r"(.+?) is not (?:one of )?", message)
        if value or not _CJK.search(message):
            shown = _quoted(value.group(1)) if value else "取值"
            return f"{shown}不在可选范围内；可选：{choices}"
    for pattern, chinese in _VALUE_PROBLEMS:
        found = re.fullmatch(pattern, message, re.DOTALL)
        if found:
            value, *rest = found.groups()
            return chinese.format(_quoted(value), *rest)
    if _CJK.search(message):  # our own types say it in Chinese already
        return message.rstrip("。")
    return message


def _option_usage(name: str, message: str) -> str:
    count = re.search(r"requires (\d+) arguments", message)
    if count:
        return f"选项 {name} 后面需要 {count.group(1)} 个值"
    if "requires an argument" in message:
        return f"选项 {name} 后面需要一个值"
    if "does not take a value" in message:
        return f"选项 {name} 是开关，不带值"
    return _plain(message)


def _no_such_command(name: str, ctx: click.Context | None) -> str:
    found = f"没有命令 {name}"
    if ctx is not None and isinstance(ctx.command, click.Group):
        commands = ctx.command.list_commands(ctx)
        close = difflib.get_close_matches(name, commands)
        if close:
            found += f"；是否想用 {'、'.join(close)}？"
        else:
            found += f"；可用的命令：{'、'.join(commands)}"
    return found


def _plain(message: str) -> str:
    extra = re.fullmatch(r"Got unexpected extra arguments? \((.*)\)", message)
    if extra:
        return f"多余的参数：{extra.group(1)}"
    takes = re.fullmatch(r"Argument '(.+)' takes (\d+) values\.", message)
    if takes:
        return f"参数 {takes.group(1)} 需要 {takes.group(2)} 个值"
    if message == "Missing command.":
        return "缺少命令"
    return message


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith(("。", "？", "！")) else f"{text}。"


def _click_error(exc: click.ClickException) -> str:
    if isinstance(exc, click.FileError):
        return f"无法打开文件「{exc.ui_filename}」。"
    return _sentence(exc.format_message())
