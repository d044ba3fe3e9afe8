"""Monthly bulletin (月通报), on the 4th of each month at 08:00 Asia/Shanghai — after the ledger
deadline (the 3rd workday) has passed for the month just ended.

Publishes the month's rates per unit (points, ranking and the full bulletin workbook join once
the scoring exists) as a workbook and a Prefect artifact linking to it.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_link_artifact, create_table_artifact

from sgs.bulletin import write_rates_bulletin
from sgs.monitor import rates_rows
from sgs.reminders import previous_month


@task(retries=2, retry_delay_seconds=3)
def bulletin(period: str, data_root: str | None) -> tuple[str, list[dict]]:
    path, table = write_rates_bulletin(period, Path(data_root) if data_root else None)
    return str(path), rates_rows(table)


@flow(name="monthly_bulletin")
def monthly_bulletin(data_root: str | None = None, period: str | None = None) -> dict:
    """月通报：上月各单位三率（及积分、排名）。"""
    period = period or previous_month(date.today())
    path, rows = bulletin(period, data_root)
    create_table_artifact(key="monthly-rates", table=rows or [{"说明": f"{period} 没有数据"}],
                          description=f"{period} 各单位三率")  # fmt: skip
    create_link_artifact(
        key="monthly-bulletin", link=Path(path).as_uri(), link_text=f"{period} 月通报"
    )
    get_run_logger().info("月通报已生成：%s", path)
    return {"period": period, "file": path}


if __name__ == "__main__":
    print(monthly_bulletin())
