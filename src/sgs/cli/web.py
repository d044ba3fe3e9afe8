"""`sgs serve`: the credit office's download page."""

from __future__ import annotations

import ipaddress

import click

from sgs.cli.usage import command


def _is_loopback(host: str) -> bool:
    """Whether only this computer can reach ``host`` (names other than localhost count as not)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@command()
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址。")
@click.option(
    "--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="监听端口。"
)
@click.option("--access-log", is_flag=True, help="逐条显示收到的请求（默认不显示）。")
def serve(host: str, port: int, access_log: bool) -> None:
    """启动信用办下载页面：按月查看各单位三率、积分与图表，下载月通报和各单位反馈清单。

    \b
    信用办口令取自环境变量 SGS_WEB_PASSWORD；未设置时，启动时随机生成一个口令并显示在这里
    （每次启动不同）。各单位与信用办人员也可用 sgs users add 发放的令牌登录。浏览器中用口令
    或令牌登录；脚本可发送请求头 “Authorization: Bearer <口令或令牌>”。
    数据目录同其他命令（./data 或 $SGS_DATA_DIR）。
    文件自查在独立进程中运行（$SGS_CHECK_WORKERS 个同时进行，$SGS_CHECK_QUEUE 个排队），
    页面不受影响。只有 $SGS_TRUSTED_PROXIES 列出的反向代理转发的 X-Forwarded-* 请求头才被采信。
    Ctrl-C 停止（正在进行的自查随即中止）。
    启动后显示“sgs 网页已启动：地址”，停止后显示“sgs 网页已停止。”；警告和错误总是显示，
    收到的请求只在 --access-log 时逐条显示。
    """
    from sgs.cli.web_server import run_server
    from sgs.config import data_root
    from sgs.web.app import create_app
    from sgs.web.auth import PASSWORD_ENV, configured_secret, generated_secret

    secret = configured_secret()
    if secret is None:
        secret = generated_secret()
        click.echo(f"访问口令（本次启动随机生成）：{secret}")
        click.echo(f"  如需固定口令，请设置环境变量 {PASSWORD_ENV}。")
    else:
        click.echo(f"访问口令：取自环境变量 {PASSWORD_ENV}。")
    root = data_root()
    app = create_app(root, secret)
    click.echo(f"数据目录：{root}")
    if not _is_loopback(host):
        click.echo(
            "注意：页面可从其他计算机访问，而口令经 HTTP 明文传输；请仅在内网使用，"
            "或置于 HTTPS 反向代理之后。",
            err=True,
        )
    run_server(app, host, port, access_log)
