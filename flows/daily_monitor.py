"""Daily monitoring (日监测、日反馈), every day at 06:00 Asia/Shanghai.

Find the new files in the landing zone, ingest and validate each as its own task (a bad file
fails its task, not the run), check with Great Expectations every stored batch that has no
result yet (this run's, and those stored by ``sgs ingest`` or by a run whose check failed, so
every batch reaches the Data Docs), recompute the rates of the months those files touch, write
each affected unit's feedback list, and publish what happened as Prefect artifacts.
"""

from __future__ import annotations

from sgs.jobs.prefect_env import use_project_defaults

use_project_defaults()  # before Prefect reads its settings: the start scripts/run has

from datetime import date, timedelta
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from sgs.clock import office_today
from sgs.jobs import artifacts, daily
from sgs.labels import STATUS_NAMES
from sgs.store.batches import IngestResult
from sgs.store.ingest import ingest_file


class FileQuarantined(Exception):
    """A file that could not be used; it is kept in quarantine with its reason."""

    def __init__(self, result: IngestResult) -> None:
        super().__init__(result.message)
        self.result = result


def _retry_io_only(task, task_run, state) -> bool:
    """Retry what may pass next time (a locked or busy store), not a file that is bad."""
    try:
        state.result()
    except FileQuarantined:
        return False
    except Exception:
        return True
    return False


# The task run's name is ASCII (``ingest-<unit>-<YYYYMMDD>-<NN>``): the Prefect UI's timeline
# cannot draw Chinese.  The Chinese file name goes to the task's log (and the files table).
@task(task_run_name="{name}", retries=2, retry_delay_seconds=3,
      retry_condition_fn=_retry_io_only, cache_policy=NO_CACHE)  # fmt: skip
def ingest(path: str, name: str, label: str, data_root: str | None) -> IngestResult:
    log = get_run_logger()
    log.info("文件：%s", label)
    result = ingest_file(Path(path), root=_root(data_root))
    log.info("%s：%s", STATUS_NAMES.get(result.status, result.status), result.message)
    if result.status == "quarantined":
        raise FileQuarantined(result)
    return result


# Tasks that write to the store are never cached: a cached result would stand in for a write
# that a rebuilt store (same path, same batch ids, same files) has not had.  Prefect's default
# policy would reuse results within a run and across retries of a run; NO_CACHE runs them.
@task(task_run_name="expectations batch {batch_id}", retries=1, cache_policy=NO_CACHE)
def check(batch_id: int, sha256: str, data_root: str | None, today: date) -> daily.BatchCheck:
    return daily.check_batch(batch_id, today, _root(data_root))


@task(task_run_name="rates {period}", retries=2, retry_delay_seconds=3, cache_policy=NO_CACHE)
def rates(period: str, data_root: str | None, as_of: date) -> tuple[list[dict], str]:
    table, path = daily.rates_snapshot(period, _root(data_root), as_of)
    return artifacts.rates_rows(table), str(path)


@task(task_run_name="feedback {unit_code}", retries=2, retry_delay_seconds=3,
      cache_policy=NO_CACHE)  # fmt: skip
def feedback(unit_code: str, today: date, data_root: str | None) -> str:
    return str(daily.write_unit_feedback(unit_code, today, _root(data_root)))


@task(task_run_name="data docs", cache_policy=NO_CACHE)
def data_docs(data_root: str | None) -> str:
    from sgs.quality.data_docs import render
    from sgs.store import database

    with database.reader(_root(data_root)) as con:
        return str(render(con, _root(data_root)))


def _root(data_root: str | None) -> Path | None:
    return Path(data_root) if data_root else None


@flow(name="daily_monitor", task_runner=ThreadPoolTaskRunner(max_workers=2))
def daily_monitor(data_root: str | None = None, today: date | None = None) -> dict:
    """日监测：入库新到文件，逐批检查，重算受影响月份的三率，生成各单位反馈清单。"""
    log = get_run_logger()
    today = today or office_today()
    arrivals = daily.new_arrivals(_root(data_root))
    ignored = daily.ignored_by_name(_root(data_root))
    log.info("%s 新到文件 %d 个；按文件名忽略 %d 个", artifacts.office_stamp(), len(arrivals),
             len(ignored))  # fmt: skip
    names = artifacts.task_names(arrivals, _root(data_root))
    for p in arrivals:
        log.info("%s：%s", names[str(p)], artifacts.landing_label(p))
    futures = [ingest.submit(str(p), names[str(p)], artifacts.landing_label(p), data_root)
               for p in arrivals]  # fmt: skip
    results: list[IngestResult] = []
    for future in futures:
        future.wait()
        outcome = future.state.result(raise_on_failure=False)
        if isinstance(outcome, FileQuarantined):
            results.append(outcome.result)
        elif isinstance(outcome, IngestResult):
            results.append(outcome)
        else:  # an unexpected failure: its task is failed and visible; the run goes on
            log.error("文件处理失败：%s", outcome)
    # every batch without results, not only this run's: `sgs ingest` stores without checking
    unchecked = daily.unchecked_batches(_root(data_root))
    checks = [check.submit(batch_id, sha, data_root, today) for batch_id, sha in unchecked]
    periods = daily.affected_periods(results, _root(data_root))
    # The figures of a day are complete once it has ended: the 06:00 run computes as of yesterday.
    known = today - timedelta(days=1)
    rate_futures = [rates.submit(p, data_root, known) for p in periods]
    feedback_futures = [feedback.submit(u, today, data_root) for u in daily.affected_units(results)]
    # A batch whose check fails keeps no result, so the next run tries it again; it must not
    # stop this run's rates and feedback lists (its task is failed and visible in the UI).
    batch_checks: list[daily.BatchCheck] = []
    for f in checks:
        f.wait()
        done = f.state.result(raise_on_failure=False)
        if isinstance(done, daily.BatchCheck):
            batch_checks.append(done)
        else:
            log.error("批次检查失败（下次运行会再检查）：%s", done)
    rate_rows = [row for f in rate_futures for row in f.result()[0]]
    feedback_files = [f.result() for f in feedback_futures]
    docs = data_docs(data_root)

    stamp = artifacts.office_stamp()
    files_rows = artifacts.files_table(results, ignored, names)
    create_table_artifact(
        key="daily-files", table=files_rows or [{"说明": "没有新到文件"}],
        description=f"{today} 新到文件 {len(results)} 个：结果、入库与不合规行数"
        + (f"；按文件名忽略 {len(ignored)} 个" if ignored else "")
        + ("；隔离原因见「daily-quarantine」" if any(r.status == "quarantined" for r in results)
           else "") + f"（生成于 {stamp}）",
    )  # fmt: skip
    quarantined = artifacts.quarantine_markdown(results, names)
    if quarantined:
        create_markdown_artifact(
            key="daily-quarantine", markdown=quarantined,
            description=f"{today} 被隔离的文件及原因（生成于 {stamp}）",
        )  # fmt: skip
    create_table_artifact(
        key="daily-rates", table=rate_rows or [{"说明": "没有受影响的月份"}],
        description=f"受影响月份的三率，截至 {known}（昨日）已收到的文件：{', '.join(periods) or '无'}"
        f"（生成于 {stamp}）",
    )  # fmt: skip
    create_markdown_artifact(
        key="daily-expectations",
        markdown=artifacts.horizon_markdown(today) + artifacts.expectations_markdown(batch_checks),
        description="Great Expectations 批次检查结果（含此前入库、尚未检查的批次），批次链接到"
        f"其数据质量检查报告（生成于 {stamp}）",
    )  # fmt: skip
    create_link_artifact(
        key="data-docs", link=artifacts.data_docs_url(), link_text="数据质量检查报告（Data Docs）",
        description=f"在下载页面（sgs serve）登录后查看；报告文件：{docs}",
    )  # fmt: skip
    if feedback_files:
        create_markdown_artifact(
            key="daily-feedback", markdown=artifacts.feedback_markdown(feedback_files),
            description=f"各单位反馈清单：在下载页面（sgs serve）登录后下载（生成于 {stamp}）",
        )  # fmt: skip
    summary = {
        "files": len(results),
        "stored": sum(r.status == "stored" for r in results),
        "quarantined": sum(r.status == "quarantined" for r in results),
        "quarantined_files": [
            {"path": r.path, "reason": r.reason, "message": r.message}
            for r in results
            if r.status == "quarantined"
        ],
        "ignored": [str(p) for p in ignored],
        "periods": periods,
        "feedback": feedback_files,
        "checked": [c.batch_id for c in batch_checks],
        "data_docs": docs,
        "data_docs_url": artifacts.data_docs_url(),
    }
    log.info("完成：%s", summary)
    return summary


if __name__ == "__main__":
    done = daily_monitor()
    print(f"日监测完成：新到文件 {done['files']} 个，入库 {done['stored']} 个，隔离 {done['quarantined']} 个；"
          f"重算月份：{'、'.join(done['periods']) or '无'}")  # fmt: skip
    for q in done["quarantined_files"]:
        print(f"  隔离：{q['path']}（{q['reason']}）")
    for path in done["ignored"]:
        print(f"  按文件名忽略：{path}")
    for path in done["feedback"]:
        print(f"  反馈清单：{path}")
    print(f"  数据质量报告：{done['data_docs']}（sgs serve 启动后：{done['data_docs_url']}）")
