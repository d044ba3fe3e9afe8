"""What a failed check shows a person: where the problem is and what the unit wrote there.

Great Expectations reports unexpected values as pandas hands them back — ``NaN`` for a blank,
``NaT`` for a date the column could not hold, timestamps with microseconds — which mean nothing
to a clerk and once made a date that could not be parsed look like a missing one.  Each
failure becomes a short Chinese line instead: the place as the spreadsheet shows it (sheet and
row; the batch too for the store check) and the value — dates as YYYY-MM-DD, numbers as
written, text as written (long text shortened), natural persons' ID numbers masked.  A blank
is said to be blank; no ``NaN``/``NaT``/``None`` ever reaches a page.

GE gives the place through ``unexpected_index_column_names`` (the record's ``source_sheet`` and
``source_row``): :data:`INDEX_COLUMNS` per suite.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from decimal import Decimal

from sgs.privacy import mask_ids_in_str

MAX_EXAMPLES = 10
MAX_CHARS = 60
WRITTEN = "__written"  # a column holding a date or amount cell as the unit wrote it
RECORD_INDEX = ["source_sheet", "source_row"]
STORE_INDEX = ["batch_id", "source_sheet", "source_row"]
# Spellings of "nothing" that pandas, numpy and GE's JSON produce.
_NOTHING = {"", "nan", "nat", "none", "null", "<na>"}
_MIDNIGHT = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ]00:00:00(?:\.0+)?$")


def person_value(value: object) -> str | None:
    """``value`` as a person reads it, or None for a blank."""
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, Decimal):
        text = format(value, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d") if value.time() == datetime.min.time() else (
            value.strftime("%Y-%m-%d %H:%M")
        )  # fmt: skip
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if text.strip().lower() in _NOTHING:
        return None
    midnight = _MIDNIGHT.match(text.strip())
    return midnight[1] if midnight else text


def _quoted(value: str | None) -> str:
    if value is None:
        return "（空）"
    shown = value if len(value) <= MAX_CHARS else value[:MAX_CHARS] + "…"
    return f"「{mask_ids_in_str(shown)}」"


def place(entry: dict) -> str:
    """「批次 7，工作表「Sheet1」第 3 行」, as far as the index columns tell."""
    batch = person_value(entry.get("batch_id"))
    sheet = person_value(entry.get("source_sheet"))
    row = person_value(entry.get("source_row"))
    where = (f"工作表「{sheet}」" if sheet else "") + (f"第 {row} 行" if row else "")
    if batch is None:
        return where
    return f"批次 {batch}，{where}" if where else f"批次 {batch}"


def _entries(kwargs: dict, result: dict) -> list[dict]:
    """One dict per unexpected row: index columns and checked values (older results carry only
    the values)."""
    indexed = result.get("partial_unexpected_index_list")
    if indexed:
        return list(indexed)
    column = kwargs.get("column")
    values = result.get("partial_unexpected_list") or []
    return [{column: v} if column else {"value": v} for v in values]


def _what(kind: str, kwargs: dict, entry: dict, names: dict[str, str]) -> str:
    column = kwargs.get("column")
    if kind == "expect_column_values_to_not_be_null":
        return "未填写"
    if kind == "expect_column_pair_values_a_to_be_greater_than_b":
        a, b = kwargs["column_A"], kwargs["column_B"]
        return "，".join(
            f"{names.get(c, c)} {person_value(entry.get(c)) or '（空）'}" for c in (b, a)
        )
    if kind == "expect_compound_columns_to_be_unique":
        shown = [c for c in kwargs["column_list"] if c not in ("unit_code", "kind")]
        return "，".join(f"{names.get(c, c)}{_quoted(person_value(entry.get(c)))}" for c in shown)
    value = person_value(entry.get(column) if column else entry.get("value"))
    if column and column.endswith(WRITTEN):
        return f"无法解析（原值{_quoted(value)}）"
    if kind == "expect_column_value_lengths_to_be_between" and value is not None:
        return f"{_quoted(value)}（{len(value)} 个字符）"
    return _quoted(value)


def describe(
    kind: str, kwargs: dict, result: dict, names: dict[str, str], params: dict
) -> list[str]:
    """The lines a person reads for a failed check (at most :data:`MAX_EXAMPLES`).

    ``names`` maps columns to Chinese field names; ``params`` holds the suite parameters
    (``rows_read``, ``today``) for the checks of a whole batch.
    """
    observed = result.get("observed_value")
    if kind == "expect_table_row_count_to_equal":
        return [f"入库 {person_value(observed)} 行，文件读取 {params.get('rows_read')} 行"]
    if kind == "expect_column_max_to_be_between":
        name = names.get(kwargs.get("column", ""), "")
        today = person_value(params.get("today"))
        return [f"最晚的{name} {person_value(observed) or '（空）'}，晚于检查日 {today}"]
    lines = []
    for entry in _entries(kwargs, result)[:MAX_EXAMPLES]:
        where, what = place(entry), _what(kind, kwargs, entry, names)
        lines.append(f"{where}：{what}" if where else what)
    if not lines and observed is not None:
        lines.append(_quoted(person_value(observed)))
    return lines
