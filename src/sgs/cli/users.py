"""`sgs users`: the accounts of the download page — the office's and one per reporting unit.

A token is printed once, when it is made; only its salted hash is kept
(:mod:`sgs.web.accounts`).  Accounts live in the data root, so ``$SGS_DATA_DIR`` isolates them
like the store.
"""

from __future__ import annotations

import json
import sys

import click

from sgs.cli.output import Col, echo_table
from sgs.cli.usage import SgsGroup

EXIT_REFUSED = 2
ROLE_NAMES = {"office": "信用办", "unit": "单位"}


@click.group(cls=SgsGroup)
def users() -> None:
    """下载页面的账户：信用办账户（查看全部）与各单位账户（只看本单位、自查并报送文件）。

    \b
    令牌形如 <编号>.<密钥>，只在创建时显示一次；服务器只保存加盐哈希（argon2）。
    令牌既是登录页面的口令，也可作为请求头 “Authorization: Bearer <令牌>”。
    账户保存在数据目录（./data 或 $SGS_DATA_DIR）的 accounts/ 下。
    环境变量 SGS_WEB_PASSWORD 的口令仍是信用办口令。
    """


@users.command("add")
@click.argument("unit", required=False)
@click.option("--office", "office", metavar="名称", help="创建信用办账户（查看全部单位）。")
@click.option("--json", "as_json", is_flag=True, help="输出一个 JSON 对象（机器可读）。")
def users_add(unit: str | None, office: str | None, as_json: bool) -> None:
    """创建单位账户或更换其令牌（UNIT：单位清单中的统一社会信用代码或单位全称），
    或用 --office 名称 创建信用办账户。

    \b
    单位账户以单位代码命名。账户已存在时发放新令牌，旧令牌及其登录会话立即失效。
    退出码：0 成功；2 单位不在单位清单中、名称不合规或参数有误（原因输出到标准错误）。
    """
    from sgs.config import data_root
    from sgs.reference.units import resolve_unit
    from sgs.web.accounts import AccountError, add_account, office_name

    if (unit is None) == (office is None):
        raise click.UsageError("请指定单位（代码或全称）或 --office 名称（二者选一）。")
    root = data_root()
    try:
        if office is not None:
            account, token = add_account(root, office_name(office), "office", None)
        else:
            code = resolve_unit(unit or "")["code"]
            account, token = add_account(root, code, "unit", code)
    except (KeyError, AccountError) as exc:
        click.echo(f"无法创建账户：{exc.args[0]}", err=True)
        sys.exit(EXIT_REFUSED)
    if as_json:
        obj = {"user": account.name, "role": account.role, "unit_code": account.unit_code,
               "token": token}  # fmt: skip
        click.echo(json.dumps(obj, ensure_ascii=False))
        return
    what = "信用办账户" if account.role == "office" else "单位账户"
    click.echo(f"{what}「{account.name}」的新令牌（只显示这一次，请妥善转交）：")
    click.echo(token)


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON 数组（机器可读）。")
def users_list(as_json: bool) -> None:
    """列出账户：名称、角色、单位与创建时间（从不显示令牌）。"""
    from sgs.config import data_root
    from sgs.reference.units import load_units
    from sgs.web.accounts import list_accounts

    accounts = list_accounts(data_root())
    if as_json:
        click.echo(json.dumps([a.public() for a in accounts], ensure_ascii=False))
        return
    if not accounts:
        click.echo("暂无账户。用 sgs users add 单位 或 sgs users add --office 名称 创建。")
        return
    names = dict(load_units().select("code", "name").iter_rows())
    rows = [
        (a.name, ROLE_NAMES[a.role], names.get(a.unit_code, "") if a.unit_code else "全部单位",
         a.created.replace("T", " "))
        for a in accounts
    ]  # fmt: skip
    echo_table([Col("账户"), Col("角色", wrap=False), Col("单位"), Col("创建时间", wrap=False)],
               rows, f"共 {len(accounts)} 个账户：")  # fmt: skip


@users.command("remove")
@click.argument("name")
def users_remove(name: str) -> None:
    """删除账户（名称为单位代码或信用办账户名）；其令牌与登录会话立即失效。

    \b
    退出码：0 已删除；2 没有这个账户。
    """
    from sgs.config import data_root
    from sgs.web.accounts import remove_account

    wanted = name.strip()
    try:
        gone = remove_account(data_root(), wanted)
    except KeyError:
        try:
            gone = remove_account(data_root(), wanted.upper())  # a unit code in lower case
        except KeyError:
            click.echo(f"没有账户「{wanted}」。用 sgs users list 查看现有账户。", err=True)
            sys.exit(EXIT_REFUSED)
    click.echo(f"已删除账户「{gone.name}」。")
