"""Monthly bulletin (月通报), on the 4th of each month at 08:00 Asia/Shanghai — after the ledger
deadline (the 3rd workday) has passed for the month just ended.

Publishes the month (:mod:`sgs.report.publication`, a new revision by ``monthly_bulletin``)
and writes the published bulletin's bytes as the month's bulletin workbook (rates, points and
ranking, drill-downs, charts; see :mod:`sgs.report.bulletin`): the file the office downloads
and circulates is byte for byte the stored revision, so a unit disputing its rank later is
shown exactly what it was sent.  The rates and the points ranking of that same computation go
to table artifacts, with a link to the workbook on the download page (``public_url``), so the
office sees the ranking without opening the file.  With the setting ``publish_monthly`` off,
the flow only writes the bulletin (computed as of today) and the artifacts.
"""

from __future__ import annotations

from sgs.jobs.prefect_env import use_project_defaults

use_project_defaults()  # before Prefect reads its settings: the start scripts/run has

from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact

from sgs.clock import office_today
from sgs.jobs.artifacts import bulletin_url, rates_rows
from sgs.periods import previous_month
from sgs.report.bulletin import bulletin_path, collect, ranking_rows, write


@task(retries=2, retry_delay_seconds=3)
def bulletin(period: str, data_root: str | None) -> tuple[str, list[dict], list[dict]]:
    """The bulletin as of today, unpublished (setting ``publish_monthly`` off)."""
    root = Path(data_root) if data_root else None
    report = collect(period, root)
    path = write(report, bulletin_path(period, root))
    return str(path), rates_rows(report.rates), ranking_rows(report)


@task
def publication(period: str, data_root: str | None) -> tuple[str, list[dict], list[dict], dict]:
    """Publish the month as a new revision and write the stored bulletin's bytes where the
    download page serves them.  No retries: a publication that went through and then failed
    to report would be made twice."""
    from sgs.files import write_atomically
    from sgs.report.publishing import publish

    root = Path(data_root) if data_root else None
    done = publish(period, root, by="monthly_bulletin")
    path = write_atomically(bulletin_path(period, root),
                            lambda scratch: scratch.write_bytes(done.bulletin))  # fmt: skip
    report = done.collected
    return str(path), rates_rows(report.rates), ranking_rows(report), done.as_json()


@flow(name="monthly_bulletin")
def monthly_bulletin(data_root: str | None = None, period: str | None = None) -> dict:
    """月通报：上月各单位三率、积分与排名（县区、市直部门分别排名）。"""
    from sgs.reference.settings import load_settings

    period = period or previous_month(office_today())
    published = None
    if load_settings().publish_monthly:
        path, rates, ranking, published = publication(period, data_root)
    else:
        path, rates, ranking = bulletin(period, data_root)
    empty = [{"说明": f"{period} 没有数据"}]
    create_table_artifact(key="monthly-rates", table=rates or empty,
                          description=f"{period} 各单位三率")  # fmt: skip
    create_table_artifact(key="monthly-points", table=ranking or empty,
                          description=f"{period} 月度积分与排名（县区、市直部门分别排名）")  # fmt: skip
    create_link_artifact(
        key="monthly-bulletin", link=bulletin_url(period), link_text=f"{period} 月通报",
        description=f"在下载页面（sgs serve）登录后下载；文件：{path}",
    )  # fmt: skip
    get_run_logger().info("月通报已生成：%s", path)
    if published is not None:
        create_markdown_artifact(
            key="monthly-publication",
            markdown=f"{period} 已发布第 {published['revision']} 版（截至 {published['as_of']}）；"
            f"查看：`sgs rates --period {period} --published`",
            description=f"{period} 发布记录",
        )
        get_run_logger().info("%s 已发布第 %s 版", period, published["revision"])
    revision = published["revision"] if published else None
    return {"period": period, "file": path, "revision": revision}


if __name__ == "__main__":
    print(monthly_bulletin())
