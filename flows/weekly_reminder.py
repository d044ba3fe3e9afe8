"""Weekly reminder (周提醒), Mondays at 08:00 Asia/Shanghai.

Units with corrections past their deadline, ledgers of last month not received after their
due workday, and rates of last month below the configured threshold — as a Prefect artifact
and a workbook in ``curated/reminders/``.
"""

from __future__ import annotations

from sgs.jobs.prefect_env import use_project_defaults

use_project_defaults()  # before Prefect reads its settings: the start scripts/run has

from datetime import date
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from sgs.clock import office_today
from sgs.jobs.artifacts import office_stamp
from sgs.labels import RATE_NAMES, kind_name
from sgs.report.reminders import Reminder, build_reminder, reminder_markdown, write_reminder


def _root(data_root: str | None) -> Path | None:
    return Path(data_root) if data_root else None


@task(retries=2, retry_delay_seconds=3)
def gather(today: date, data_root: str | None) -> Reminder:
    return build_reminder(today, _root(data_root))


@task(retries=2, retry_delay_seconds=3)
def save(reminder: Reminder, data_root: str | None) -> str:
    return str(write_reminder(reminder, _root(data_root)))


@flow(name="weekly_reminder")
def weekly_reminder(data_root: str | None = None, today: date | None = None) -> dict:
    """周提醒：逾期未整改、台账未报、三率偏低的单位。"""
    today = today or office_today()
    reminder = gather(today, data_root)
    path = save(reminder, data_root)
    create_markdown_artifact(key="weekly-reminder", markdown=reminder_markdown(reminder),
                             description=f"{today} 周提醒（生成于 {office_stamp()}）")  # fmt: skip
    rows = [
        {"单位": r["unit_name"], "单位代码": r["unit_code"], "事项": "逾期未整改",
         "说明": f"{r['overdue_errors']} 处，最早期限 {r['oldest_deadline']}"}
        for r in reminder.overdue.iter_rows(named=True)
    ] + [
        {"单位": r["unit_name"], "单位代码": r["unit_code"], "事项": "台账未报送",
         "说明": f"{reminder.period}，期限 {r['due']}"}
        for r in reminder.missing_ledgers.iter_rows(named=True)
    ] + [
        {"单位": r["unit_name"], "单位代码": r["unit_code"], "事项": "三率偏低",
         "说明": f"{kind_name(r['kind'])}{RATE_NAMES.get(r['rate'], r['rate'])} {r['value']:.1%}"}
        for r in reminder.low_rates.iter_rows(named=True)
    ]  # fmt: skip
    create_table_artifact(key="weekly-reminder-table", table=rows or [{"说明": "本周无需提醒"}])
    # The download page has no route for reminders: the path is shown as text (a browser
    # would refuse a file:// link from the Prefect UI).
    create_markdown_artifact(
        key="weekly-reminder-file", markdown=f"周提醒工作簿已保存在服务器上：`{path}`",
        description=f"{today} 周提醒工作簿（生成于 {office_stamp()}）",
    )  # fmt: skip
    get_run_logger().info("周提醒：%d 个单位需要处理，已写入 %s", reminder.units, path)
    return {"units": reminder.units, "file": path, "period": reminder.period}


if __name__ == "__main__":
    print(weekly_reminder())
