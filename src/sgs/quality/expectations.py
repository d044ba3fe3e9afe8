"""Great Expectations on every stored batch: suites generated from the catalogue, run, kept.

pandera checks each record of an upload; these suites look at a stored batch as a whole: what
the catalogue says about columns (not null, value sets, lengths, code shapes) and what only
shows across rows or across the store — a batch holding exactly the rows read, decision dates
not after the received date, no received date in the future, validity periods that end after
they start, decision numbers unique per unit and kind among current records.

The suites live in ``expectations/suites/*.json`` as readable JSON (Chinese unescaped, keys in a
meaningful order); GE's own file store would rewrite them, so they are loaded into an
ephemeral context instead.  Batch-specific values (the rows read, today) are GE suite
parameters.  GE 1.x cannot query DuckDB directly, so each batch is validated as a pandas
DataFrame.  Results go to the ``expectation_results`` table and are rendered as static Chinese
HTML pages ("Data Docs") that need no network.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl

from sgs.clock import office_now, office_today
from sgs.config import PROJECT_ROOT
from sgs.reference.catalogue import Kind, load_catalogue
from sgs.store.database import curated_dir
from sgs.store.sql import frame, one, run
from sgs.store.tables import RECORD_TABLES, VERSION_VIEWS
from sgs.validate.identifiers import USCC_PATTERN

SUITES_DIR = PROJECT_ROOT / "expectations" / "suites"

RESULTS_DDL = """
CREATE TABLE IF NOT EXISTS expectation_results (
    batch_id BIGINT NOT NULL,
    suite VARCHAR NOT NULL,
    run_at TIMESTAMP NOT NULL,
    expectation VARCHAR NOT NULL,
    column_name VARCHAR,
    description VARCHAR NOT NULL,
    success BOOLEAN NOT NULL,
    element_count BIGINT,
    unexpected_count BIGINT,
    examples VARCHAR
);
"""


def _e(kind: str, description: str, **kwargs: object) -> dict:
    return {"type": kind, "kwargs": kwargs, "meta": {"说明": description}}


def _decided(kind: Kind) -> str:
    return load_catalogue().kind(kind).decision_date


def build_suite(kind: Kind) -> dict:
    """The suite of one record kind, derived from the catalogue plus the batch-level checks."""
    cat = load_catalogue()
    spec = cat.kind(kind)
    items: list[dict] = [
        _e("expect_table_row_count_to_equal", "批次入库行数等于读取的行数",
           value={"$PARAMETER": "rows_read"}),
        _e("expect_column_values_to_not_be_null", "每条记录都有接收日期", column="received_date"),
        _e("expect_column_max_to_be_between", "接收日期不晚于今天", column="received_date",
           max_value={"$PARAMETER": "today"}),
        _e("expect_column_pair_values_a_to_be_greater_than_b", "决定日期不晚于接收日期",
           column_A="received_date", column_B=_decided(kind), or_equal=True,
           ignore_row_if="either_value_is_missing"),
    ]  # fmt: skip
    for f in spec.fields:  # date windows: a date not before another (有效期至 ≥ 有效期自 …)
        if f.on_or_after:
            other = spec.field(f.on_or_after)
            items.append(_e("expect_column_pair_values_a_to_be_greater_than_b",
                            f"{f.name}不早于{other.name}", column_A=f.code, column_B=other.code,
                            or_equal=True, ignore_row_if="either_value_is_missing"))  # fmt: skip
    for f in spec.fields:
        if f.required == "always":
            items.append(_e("expect_column_values_to_not_be_null", f"{f.name}必填", column=f.code))
        if f.values and f.type == "enum":
            allowed = list(cat.values[f.values])
            if f.other_prefix:
                items.append(_e("expect_column_values_to_match_regex",
                                f"{f.name}取值在标准范围内（或「其他-…」）", column=f.code,
                                regex="^(?:" + "|".join(allowed) + "|其他-.+)$"))  # fmt: skip
            else:
                items.append(_e("expect_column_values_to_be_in_set", f"{f.name}取值在标准范围内",
                                column=f.code, value_set=allowed))  # fmt: skip
        if f.type == "text" and f.max_length:
            items.append(_e("expect_column_value_lengths_to_be_between",
                            f"{f.name}不超过 {f.max_length} 个字符", column=f.code,
                            max_value=f.max_length))  # fmt: skip
        if f.type == "uscc":
            items.append(_e("expect_column_values_to_match_regex", f"{f.name}为 18 位统一社会信用代码",
                            column=f.code, regex=USCC_PATTERN))  # fmt: skip
        if f.type == "org_code":
            items.append(_e("expect_column_values_to_match_regex", f"{f.name}为 9 位组织机构代码",
                            column=f.code, regex=r"^[0-9A-Z]{8}-?[0-9X]$"))  # fmt: skip
    return {
        "name": f"{kind}_batch",
        "meta": {
            "说明": f"{spec.name}入库批次的整体检查（由 schemas/standard.toml 生成，请勿手改）"
        },
        "expectations": items,
    }


STORE_SUITE = "store_unique"


def build_store_suite() -> dict:
    """Checks across the store: run on the current records of a batch's unit and kind that share
    a 文书号 with the batch (this batch's own records included)."""
    return {
        "name": STORE_SUITE,
        "meta": {"说明": "跨批次检查：同一单位、同一类别的现行记录中决定文书号唯一"},
        "expectations": [
            _e("expect_compound_columns_to_be_unique",
               "同一单位、同一类别的现行记录中决定文书号唯一（含此前入库的记录）",
               column_list=["unit_code", "kind", "doc_key"], ignore_row_if="any_value_is_missing"),
        ],
    }  # fmt: skip


SUITES = {"permit_batch": lambda: build_suite("permit"), "penalty_batch": lambda: build_suite("penalty"),
          STORE_SUITE: build_store_suite}  # fmt: skip


def suite_path(name: str) -> Path:
    return SUITES_DIR / f"{name}.json"


def render_suite(name: str) -> str:
    return json.dumps(SUITES[name](), ensure_ascii=False, indent=2) + "\n"


def write_suites() -> list[Path]:
    """Regenerate the committed suite files from the catalogue."""
    SUITES_DIR.mkdir(parents=True, exist_ok=True)
    for name in SUITES:
        suite_path(name).write_text(render_suite(name), encoding="utf-8")
    return [suite_path(name) for name in SUITES]


def load_suite(name: str) -> dict:
    return json.loads(suite_path(name).read_text(encoding="utf-8"))


# ----------------------------------------------------------------------------- running


@dataclass
class ExpectationOutcome:
    batch_id: int
    suite: str
    expectation: str
    column: str | None
    description: str
    success: bool
    element_count: int | None
    unexpected_count: int | None
    examples: str | None


def batch_frames(
    con: duckdb.DuckDBPyConnection, batch_id: int
) -> tuple[str, pl.DataFrame, pl.DataFrame, int]:
    """A batch's kind, its stored records, the current records of its unit and kind that share
    a 文书号 with it (its own included), and the number of rows read from its file."""
    kind, rows_read, unit = one(
        con, "SELECT kind, rows_read, unit_code FROM batches WHERE batch_id = ?", [batch_id]
    )  # type: ignore[misc]
    table = RECORD_TABLES[kind]
    view = VERSION_VIEWS[kind]
    records = frame(con, f"SELECT * FROM {table} WHERE batch_id = $b", {"b": batch_id})
    current = frame(
        con,
        f"""SELECT unit_code, '{kind}' AS kind, doc_key, record_key, batch_id FROM {view}
            WHERE is_current AND unit_code = $u
              AND doc_key IN (SELECT doc_key FROM {table} WHERE batch_id = $b)""",
        {"u": unit, "b": batch_id},
    )
    return kind, records, current, rows_read


def _pandas(records: pl.DataFrame) -> object:
    """polars -> pandas with dates as datetimes (GE compares datetimes, not dates, on pandas 3)."""
    dates = [c for c, t in records.schema.items() if t == pl.Date]
    return records.with_columns(pl.col(dates).cast(pl.Datetime("us"))).to_pandas()


def _validate(context, suite_dict: dict, data: pl.DataFrame, params: dict) -> list:
    import great_expectations as gx

    suite = context.suites.add(gx.ExpectationSuite(**suite_dict))
    asset = context.data_sources.add_pandas(f"src_{suite_dict['name']}").add_dataframe_asset(
        "batch"
    )
    definition = asset.add_batch_definition_whole_dataframe("whole")
    validation = gx.ValidationDefinition(data=definition, suite=suite, name=suite_dict["name"])
    result = validation.run(batch_parameters={"dataframe": _pandas(data)},
                            expectation_parameters=params, result_format="SUMMARY")  # fmt: skip
    return list(result.results)


def run_batch(
    con: duckdb.DuckDBPyConnection, batch_id: int, today: date | None = None
) -> list[ExpectationOutcome]:
    """Validate one stored batch with its kind's suite and the store suite; nothing is written."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx

    # GE sets its data-context module's logger to INFO itself, which prints a line per batch.
    for name in ("great_expectations", "great_expectations.data_context.types.base"):
        logging.getLogger(name).setLevel(logging.WARNING)
    kind, records, current, rows_read = batch_frames(con, batch_id)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False}  # type: ignore[assignment]
    today = today or office_today()
    params = {"rows_read": rows_read, "today": datetime(today.year, today.month, today.day)}
    outcomes = []
    for suite_dict, data in (
        (load_suite(f"{kind}_batch"), records),
        (load_suite(STORE_SUITE), current),
    ):
        for r in _validate(context, suite_dict, data, params):
            cfg, res = r.expectation_config, (r.result or {})
            column = cfg.kwargs.get("column") or cfg.kwargs.get("column_A")
            if not column and cfg.kwargs.get("column_list"):
                column = ",".join(cfg.kwargs["column_list"])
            examples = res.get("partial_unexpected_list") or res.get("observed_value")
            outcomes.append(
                ExpectationOutcome(
                    batch_id=batch_id, suite=suite_dict["name"], expectation=cfg.type,
                    column=column, description=(cfg.meta or {}).get("说明", cfg.type),
                    success=bool(r.success), element_count=res.get("element_count"),
                    unexpected_count=res.get("unexpected_count"),
                    examples=None if examples is None
                    else json.dumps(examples, ensure_ascii=False, default=str)[:500],
                )
            )  # fmt: skip
    return outcomes


def store_outcomes(con: duckdb.DuckDBPyConnection, outcomes: list[ExpectationOutcome]) -> None:
    """Keep the outcomes of a run (replacing an earlier run of the same batch)."""
    if not outcomes:
        return
    run(con, RESULTS_DDL)
    rows = pl.DataFrame([o.__dict__ for o in outcomes]).rename({"column": "column_name"})
    rows = rows.with_columns(pl.lit(office_now()).alias("run_at"))
    con.register("outcomes_frame", rows)
    run(con, "BEGIN TRANSACTION")
    run(con, "DELETE FROM expectation_results WHERE batch_id = ?", [outcomes[0].batch_id])
    run(con, "INSERT INTO expectation_results BY NAME SELECT * FROM outcomes_frame")
    run(con, "COMMIT")
    con.unregister("outcomes_frame")


def data_docs_dir(root: Path | None = None) -> Path:
    return curated_dir(root) / "data_docs"
