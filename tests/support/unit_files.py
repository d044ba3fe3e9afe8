"""A permit file with known defects, each with a hand-worked fix, for the units' pages tests.

The values are worked out by hand or taken from the standards, never computed by our code:

- ``91350100M000100Y43`` is GB 32100-2015's own example of a credit code; ending it in ``4``
  breaks the check character, and the fix is the example itself.
- ``11010519491231002X`` is GB 11643-1999's example of a citizen ID number; ending it in ``1``
  breaks the check character, and the fix is the example (``X``).  Masked (first 6 and last 4
  kept) the two read ``110105********0021`` and ``110105********002X``.
- ``2026.3.5`` is a date in a refused notation; the standard's is ``2026/03/05``.
- ``一般`` is not a 许可类别; it means ``普通``.
"""

from __future__ import annotations

from support.upload_files import csv_bytes, records, table

BAD_USCC, FIXED_USCC = "91350100M000100Y44", "91350100M000100Y43"
BAD_ID, FIXED_ID = "110105194912310021", "11010519491231002X"
BAD_ID_MASKED, FIXED_ID_MASKED = "110105********0021", "110105********002X"
BAD_DATE, FIXED_DATE = "2026.3.5", "2026/03/05"
BAD_CATEGORY, FIXED_CATEGORY = "一般", "普通"

# (spreadsheet row, field name, value as shown, suggestion as shown)
DEFECTS = [
    (2, "行政相对人代码_1（统一社会信用代码）", BAD_USCC, FIXED_USCC),
    (3, "法定代表人证件号码", BAD_ID_MASKED, FIXED_ID_MASKED),
    (4, "许可决定日期", BAD_DATE, FIXED_DATE),
    (5, "许可类别", BAD_CATEGORY, FIXED_CATEGORY),
]


def defective_permits(encoding: str = "utf-8") -> bytes:
    """Four permits as CSV, one defect each (rows 2–5 of the spreadsheet); another encoding
    gives other bytes with the same problems."""
    recs = records("permit", 4)
    recs[0]["XK_XDR_SHXYM"] = BAD_USCC
    recs[1]["XK_FR_ZJHM"] = BAD_ID
    recs[2]["XK_JDRQ"] = BAD_DATE
    recs[3]["XK_XKLB"] = BAD_CATEGORY
    return csv_bytes(table("permit", recs), encoding)
