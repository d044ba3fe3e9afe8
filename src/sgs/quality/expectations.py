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

Decisions that keep the reports honest:

- **A date or amount that could not be read is not a missing one.**  The typed column of such a
  cell is empty, but the store keeps the text in ``original``.  So the frame GE sees has, for
  each date and amount field, a column ``<code>__written``: the typed value (a date as
  YYYY-MM-DD, an amount without trailing zeros) or, when it could not be typed, the text as the
  unit wrote it (a blank-like text such as 「/」 counts as blank, as on upload).  "必填" of a
  date or amount field is checked on that column, and a check "为可识别的日期/金额" on the same
  column fails exactly for the texts that could not be read, showing them as written.
- **Each check names the field a person must change** (``meta.字段``): the decision date for
  "决定日期不晚于接收日期" (the received date is the office's), the later date of a window, the
  document number for the store check (``doc_key``: the kind's 文书号), none for the row count.
- **Examples are for people** (:mod:`sgs.quality.examples`): sheet and row, values as written.
- **Each check names the catalogue rule it stands for** (``meta.规则``, a rule code of
  ``schemas/standard.toml`` such as ``required`` or ``max_length``), so the Data Docs show the
  rule's Chinese name (必填, 长度上限 …) — the name a unit's problem list uses for the same
  fault — instead of GE's English expectation type.  Only the row count, a check of the
  store's own bookkeeping, has no rule of the standard (``None``).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl

from sgs.clock import office_now, office_today
from sgs.config import PROJECT_ROOT
from sgs.labels import field_names
from sgs.quality.examples import RECORD_INDEX, STORE_INDEX, WRITTEN, describe
from sgs.reference.catalogue import Field, Kind, load_catalogue
from sgs.store.database import curated_dir
from sgs.store.sql import frame, one, run
from sgs.store.tables import RECORD_TABLES, VERSION_VIEWS
from sgs.validate.identifiers import USCC_PATTERN
from sgs.validate.normalise import normalise_expr

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
ALTER TABLE expectation_results ADD COLUMN IF NOT EXISTS field VARCHAR;
"""
RECEIVED = "received_date"
DOC_KEY = "doc_key"  # the store check's field: the kind's document number
TYPED = ("date", "amount")  # fields whose cells the store types (and keeps as written in original)
PARSE_PATTERNS = {
    "date": ("^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "为可识别的日期"),
    "amount": ("^-?[0-9]+(?:[.][0-9]+)?$", "为可识别的金额（数字）"),
}


def _e(kind: str, description: str, field: str | None, rule: str | None, **kwargs: object) -> dict:
    """One expectation; ``field`` is the field a person must change to fix a failure, ``rule``
    the catalogue rule it checks (its Chinese name is what the Data Docs show)."""
    meta = {"说明": description, "字段": field, "规则": rule}
    return {"type": kind, "kwargs": kwargs, "meta": meta}


def written(code: str) -> str:
    """The column of a date or amount field's cells as written (see the module docstring)."""
    return f"{code}{WRITTEN}"


def _decided(kind: Kind) -> str:
    return load_catalogue().kind(kind).decision_date


def build_suite(kind: Kind) -> dict:
    """The suite of one record kind, derived from the catalogue plus the batch-level checks."""
    cat = load_catalogue()
    spec = cat.kind(kind)
    decided = spec.field(_decided(kind))
    items: list[dict] = [
        _e("expect_table_row_count_to_equal", "批次入库行数等于读取的行数", None, None,
           value={"$PARAMETER": "rows_read"}),
        _e("expect_column_values_to_not_be_null", "每条记录都有接收日期", RECEIVED, "required",
           column=RECEIVED),
        _e("expect_column_max_to_be_between", "接收日期不晚于今天", RECEIVED, "date_range",
           column=RECEIVED, max_value={"$PARAMETER": "today"}),
        # the unit must change its decision date, not the office its received date
        _e("expect_column_pair_values_a_to_be_greater_than_b", f"{decided.name}不晚于接收日期",
           decided.code, "date_range", column_A=RECEIVED, column_B=decided.code, or_equal=True,
           ignore_row_if="either_value_is_missing"),
    ]  # fmt: skip
    for f in spec.fields:  # date windows: a date not before another (有效期至 ≥ 有效期自 …)
        if f.on_or_after:
            other = spec.field(f.on_or_after)
            items.append(_e("expect_column_pair_values_a_to_be_greater_than_b",
                            f"{f.name}不早于{other.name}", f.code, "date_order", column_A=f.code,
                            column_B=other.code, or_equal=True,
                            ignore_row_if="either_value_is_missing"))  # fmt: skip
    for f in spec.fields:
        items += _field_checks(f, cat.values)
    return {
        "name": f"{kind}_batch",
        "meta": {
            "说明": f"{spec.name}入库批次的整体检查（由 schemas/standard.toml 生成，请勿手改）"
        },
        "expectations": items,
    }


def _field_checks(f: Field, values: dict) -> list[dict]:
    """The checks of one field, in the order a person reads them."""
    items = []
    if f.required == "always":
        column = written(f.code) if f.type in TYPED else f.code
        items.append(_e("expect_column_values_to_not_be_null", f"{f.name}必填", f.code,
                        "required", column=column))  # fmt: skip
    if f.type in TYPED:
        pattern, says = PARSE_PATTERNS[f.type]
        items.append(_e("expect_column_values_to_match_regex", f"{f.name}{says}", f.code,
                        f"{f.type}_format", column=written(f.code), regex=pattern))  # fmt: skip
    if f.values and f.type == "enum":
        allowed = list(values[f.values])
        if f.other_prefix:
            items.append(_e("expect_column_values_to_match_regex",
                            f"{f.name}取值在标准范围内（或「其他-…」）", f.code, "allowed_values",
                            column=f.code,
                            regex="^(?:" + "|".join(allowed) + "|其他-.+)$"))  # fmt: skip
        else:
            items.append(_e("expect_column_values_to_be_in_set", f"{f.name}取值在标准范围内",
                            f.code, "allowed_values", column=f.code, value_set=allowed))  # fmt: skip
    if f.type == "text" and f.max_length:
        items.append(_e("expect_column_value_lengths_to_be_between",
                        f"{f.name}不超过 {f.max_length} 个字符", f.code, "max_length", column=f.code,
                        max_value=f.max_length))  # fmt: skip
    if f.type == "uscc":
        items.append(_e("expect_column_values_to_match_regex", f"{f.name}为 18 位统一社会信用代码",
                        f.code, "uscc_format", column=f.code, regex=USCC_PATTERN))  # fmt: skip
    if f.type == "org_code":
        items.append(_e("expect_column_values_to_match_regex", f"{f.name}为 9 位组织机构代码",
                        f.code, "org_code_format", column=f.code,
                        regex=r"^[0-9A-Z]{8}-?[0-9X]$"))  # fmt: skip
    return items


STORE_SUITE = "store_unique"


def build_store_suite() -> dict:
    """Checks across the store: run on the current records of a batch's unit and kind that share
    a 文书号 with the batch (this batch's own records included)."""
    return {
        "name": STORE_SUITE,
        "meta": {"说明": "跨批次检查：同一单位、同一类别的现行记录中决定文书号唯一"},
        "expectations": [
            _e("expect_compound_columns_to_be_unique",
               "同一单位、同一类别的现行记录中决定文书号唯一（含此前入库的记录）", DOC_KEY,
               "duplicate", column_list=["unit_code", "kind", DOC_KEY], ignore_row_if="any_value_is_missing"),
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
    examples: str | None  # JSON list of the lines a person reads (failures only)
    field: str | None = None  # the field a person must change; None: the batch as a whole


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
    records = frame(
        con, f"SELECT * FROM {table} WHERE batch_id = $b ORDER BY record_id", {"b": batch_id}
    )
    # in the records' order: the store check's examples name the same rows on every run
    current = frame(
        con,
        f"""SELECT unit_code, '{kind}' AS kind, doc_key, record_key, batch_id, source_sheet,
                   source_row FROM {view}
            WHERE is_current AND unit_code = $u
              AND doc_key IN (SELECT doc_key FROM {table} WHERE batch_id = $b)
            ORDER BY record_id""",
        {"u": unit, "b": batch_id},
    )
    return kind, records, current, rows_read


def as_written(kind: Kind, records: pl.DataFrame) -> pl.DataFrame:
    """``records`` with a ``<code>__written`` column per date and amount field: the typed value
    as people read it, else the text the unit wrote when it could not be typed (blank-like text
    counts as blank, as on upload)."""
    columns = []
    for f in load_catalogue().kind(kind).fields:
        if f.type not in TYPED or f.code not in records.columns:
            continue
        typed = pl.col(f.code)
        if f.type == "date":
            shown = typed.dt.strftime("%Y-%m-%d")
        else:
            text = typed.cast(pl.String)
            trimmed = text.str.replace(r"0+$", "").str.strip_suffix(".")
            shown = pl.when(text.str.contains(".", literal=True)).then(trimmed).otherwise(text)
        if "original" in records.columns:
            kept = pl.col("original").str.json_path_match(f"$.{f.code}")
            unread = pl.when(normalise_expr(f, kept).is_not_null()).then(kept)
            shown = pl.coalesce(shown, unread)
        columns.append(shown.alias(written(f.code)))
    return records.with_columns(columns) if columns else records


def _pandas(records: pl.DataFrame) -> object:
    """polars -> pandas with dates as datetimes (GE compares datetimes, not dates, on pandas 3)."""
    dates = [c for c, t in records.schema.items() if t == pl.Date]
    return records.with_columns(pl.col(dates).cast(pl.Datetime("us"))).to_pandas()


# Great Expectations is not safe to run in two threads at once: its suite-parameter parser
# (pyparsing, whose parse actions are wrapped on first call) fails with "push_first() missing 1
# required positional argument" when two validations parse at the same time.  The daily flow
# checks its batches in parallel threads, so the validations take turns (reading the store and
# building the frames do not).
_GX_TURN = threading.Lock()


def _validate(context, suite_dict: dict, data: pl.DataFrame, params: dict, index: list[str]):
    """Each expectation's result, in the order GE gives them.

    Two passes: every expectation with GE's ``BASIC`` results (success and counts), then the
    failed ones again with ``SUMMARY`` and the index columns, which tell where each unexpected
    value is (sheet and row, as shown).  Asking every expectation for the index lists cost 2.5×
    the ``BASIC`` pass although only a failure's are read (docs/performance.md); ``BASIC`` is
    part of ``SUMMARY``, so a passed expectation's counts are the same either way.
    """
    frame = _pandas(data)
    basic, places = _run_suite(context, suite_dict, frame, params, {"result_format": "BASIC"})
    failed = sorted(places[r.expectation_config.id] for r in basic if not r.success)
    if not failed:
        return basic
    again = {**suite_dict, "name": f"{suite_dict['name']}_failed",
             "expectations": [suite_dict["expectations"][i] for i in failed]}  # fmt: skip
    detailed, sub_places = _run_suite(
        context, again, frame, params,
        {"result_format": "SUMMARY", "unexpected_index_column_names": index},
    )  # fmt: skip
    by_place = {failed[sub_places[r.expectation_config.id]]: r for r in detailed}
    return [by_place.get(places[r.expectation_config.id], r) for r in basic]


def _run_suite(
    context, suite_dict: dict, frame: object, params: dict, result_format: dict
) -> tuple[list, dict[str, int]]:
    """GE's results of one suite over ``frame``, and each expectation's place in the suite."""
    import great_expectations as gx

    suite = context.suites.add(gx.ExpectationSuite(**suite_dict))
    asset = context.data_sources.add_pandas(f"src_{suite_dict['name']}").add_dataframe_asset(
        "batch"
    )
    definition = asset.add_batch_definition_whole_dataframe("whole")
    validation = gx.ValidationDefinition(data=definition, suite=suite, name=suite_dict["name"])
    result = validation.run(batch_parameters={"dataframe": frame},
                            expectation_parameters=params, result_format=result_format)  # fmt: skip
    return list(result.results), {e.id: i for i, e in enumerate(suite.expectations)}


def column_of(kwargs: dict) -> str | None:
    """The column an outcome is filed under (the first of a pair, all of a compound)."""
    column = kwargs.get("column") or kwargs.get("column_A")
    if not column and kwargs.get("column_list"):
        column = ",".join(kwargs["column_list"])
    return column


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
    today = today or office_today()
    params = {"rows_read": rows_read, "today": datetime(today.year, today.month, today.day)}
    names = field_names(kind) | {RECEIVED: "接收日期"}
    names |= {written(code): name for code, name in list(names.items())}
    names[DOC_KEY] = names[load_catalogue().kind(kind).document_number]  # type: ignore[arg-type]
    outcomes = []
    suites = [
        (load_suite(f"{kind}_batch"), as_written(kind, records), RECORD_INDEX),  # type: ignore[arg-type]
        (load_suite(STORE_SUITE), current, STORE_INDEX),
    ]
    with _GX_TURN:
        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = {"globally": False}  # type: ignore[assignment]
        results = [(s, _validate(context, s, data, params, index)) for s, data, index in suites]
    for suite_dict, suite_results in results:
        for r in suite_results:
            cfg, res = r.expectation_config, (r.result or {})
            meta = cfg.meta or {}
            field = meta.get("字段")
            if field == DOC_KEY:
                field = load_catalogue().kind(kind).document_number  # type: ignore[arg-type]
            lines = [] if r.success else describe(cfg.type, cfg.kwargs, res, names, params)
            outcomes.append(
                ExpectationOutcome(
                    batch_id=batch_id, suite=suite_dict["name"], expectation=cfg.type,
                    column=column_of(cfg.kwargs), description=meta.get("说明", cfg.type),
                    success=bool(r.success), element_count=res.get("element_count"),
                    unexpected_count=res.get("unexpected_count"),
                    examples=json.dumps(lines, ensure_ascii=False) if lines else None,
                    field=field,
                )
            )  # fmt: skip
    return outcomes


def store_outcomes(con: duckdb.DuckDBPyConnection, outcomes: list[ExpectationOutcome]) -> None:
    """Keep the outcomes of a run (replacing an earlier run of the same batch)."""
    if not outcomes:
        return
    run(con, RESULTS_DDL)
    schema = {"batch_id": pl.Int64, "suite": pl.String, "expectation": pl.String,
              "column": pl.String, "description": pl.String, "success": pl.Boolean,
              "element_count": pl.Int64, "unexpected_count": pl.Int64, "examples": pl.String,
              "field": pl.String}  # fmt: skip
    rows = pl.DataFrame([o.__dict__ for o in outcomes], schema=schema)
    rows = rows.rename({"column": "column_name"})
    rows = rows.with_columns(pl.lit(office_now()).alias("run_at"))
    con.register("outcomes_frame", rows)
    run(con, "BEGIN TRANSACTION")
    run(con, "DELETE FROM expectation_results WHERE batch_id = ?", [outcomes[0].batch_id])
    run(con, "INSERT INTO expectation_results BY NAME SELECT * FROM outcomes_frame")
    run(con, "COMMIT")
    con.unregister("outcomes_frame")


def data_docs_dir(root: Path | None = None) -> Path:
    return curated_dir(root) / "data_docs"
