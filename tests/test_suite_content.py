"""The expectation suites keep every check they have: the list below is written out by hand.

The suites are generated from the catalogue; a change to the generator or the catalogue that
silently drops a check would pass every other test (they are driven by the suites themselves).
Later work may make the suites cheaper to run, never smaller: a check is removed from this
list only by a decision that says so.

Each entry: the GE expectation (short name), the column (``A>=B`` for a pair; ``__written`` is
a date or amount cell as the unit wrote it), and the Chinese name people read.
"""

from __future__ import annotations

import json

import pytest

from sgs.quality.expectations import SUITES, suite_path

SHORT = {
    "expect_table_row_count_to_equal": "row_count",
    "expect_column_values_to_not_be_null": "not_null",
    "expect_column_max_to_be_between": "max",
    "expect_column_pair_values_a_to_be_greater_than_b": "pair",
    "expect_column_value_lengths_to_be_between": "length",
    "expect_column_values_to_be_in_set": "in_set",
    "expect_column_values_to_match_regex": "regex",
    "expect_compound_columns_to_be_unique": "unique",
}

PINNED = {
    "permit_batch": [
        ("row_count", None, "批次入库行数等于读取的行数"),
        ("not_null", "received_date", "每条记录都有接收日期"),
        ("max", "received_date", "接收日期不晚于今天"),
        ("pair", "received_date>=XK_JDRQ", "许可决定日期不晚于接收日期"),
        ("pair", "XK_YXQZI>=XK_YXQZ", "有效期至不早于有效期自"),
        ("not_null", "XK_XDR_MC", "行政相对人名称必填"),
        ("length", "XK_XDR_MC", "行政相对人名称不超过 200 个字符"),
        ("not_null", "XK_XDR_LB", "行政相对人类别必填"),
        ("in_set", "XK_XDR_LB", "行政相对人类别取值在标准范围内"),
        ("regex", "XK_XDR_SHXYM", "行政相对人代码_1（统一社会信用代码）为 18 位统一社会信用代码"),
        ("length", "XK_XDR_GSZC", "行政相对人代码_2（工商注册号）不超过 50 个字符"),
        ("regex", "XK_XDR_ZZJG", "行政相对人代码_3（组织机构代码）为 9 位组织机构代码"),
        ("length", "XK_XDR_SWDJ", "行政相对人代码_4（税务登记号）不超过 20 个字符"),
        ("length", "XK_XDR_SYDW", "行政相对人代码_5（事业单位证书号）不超过 12 个字符"),
        ("length", "XK_XDR_SHZZ", "行政相对人代码_6（社会组织登记证号）不超过 50 个字符"),
        ("length", "XK_FRDB", "法定代表人不超过 50 个字符"),
        ("regex", "XK_FR_ZJLX", "法定代表人证件类型取值在标准范围内（或「其他-…」）"),
        ("length", "XK_FR_ZJHM", "法定代表人证件号码不超过 64 个字符"),
        ("regex", "XK_XDR_ZJLX", "证件类型取值在标准范围内（或「其他-…」）"),
        ("length", "XK_XDR_ZJHM", "证件号码不超过 64 个字符"),
        ("not_null", "XK_XKWS", "行政许可决定文书名称必填"),
        ("length", "XK_XKWS", "行政许可决定文书名称不超过 200 个字符"),
        ("not_null", "XK_WSH", "行政许可决定文书号必填"),
        ("length", "XK_WSH", "行政许可决定文书号不超过 128 个字符"),
        ("not_null", "XK_XKLB", "许可类别必填"),
        ("regex", "XK_XKLB", "许可类别取值在标准范围内（或「其他-…」）"),
        ("length", "XK_XKZS", "许可证书名称不超过 200 个字符"),
        ("length", "XK_XKBH", "许可编号不超过 128 个字符"),
        ("not_null", "XK_NR", "许可内容必填"),
        ("length", "XK_NR", "许可内容不超过 4000 个字符"),
        ("not_null", "XK_JDRQ__written", "许可决定日期必填"),
        ("regex", "XK_JDRQ__written", "许可决定日期为可识别的日期"),
        ("not_null", "XK_YXQZ__written", "有效期自必填"),
        ("regex", "XK_YXQZ__written", "有效期自为可识别的日期"),
        ("not_null", "XK_YXQZI__written", "有效期至必填"),
        ("regex", "XK_YXQZI__written", "有效期至为可识别的日期"),
        ("not_null", "XK_XKJG", "许可机关必填"),
        ("length", "XK_XKJG", "许可机关不超过 200 个字符"),
        ("not_null", "XK_XKJGDM", "许可机关统一社会信用代码必填"),
        ("regex", "XK_XKJGDM", "许可机关统一社会信用代码为 18 位统一社会信用代码"),
        ("not_null", "XK_ZT", "当前状态必填"),
        ("in_set", "XK_ZT", "当前状态取值在标准范围内"),
        ("not_null", "XK_LYDW", "数据来源单位必填"),
        ("length", "XK_LYDW", "数据来源单位不超过 200 个字符"),
        ("not_null", "XK_LYDWDM", "数据来源单位统一社会信用代码必填"),
        ("regex", "XK_LYDWDM", "数据来源单位统一社会信用代码为 18 位统一社会信用代码"),
        ("length", "BZ", "备注不超过 512 个字符"),
    ],
    "penalty_batch": [
        ("row_count", None, "批次入库行数等于读取的行数"),
        ("not_null", "received_date", "每条记录都有接收日期"),
        ("max", "received_date", "接收日期不晚于今天"),
        ("pair", "received_date>=CF_JDRQ", "处罚决定日期不晚于接收日期"),
        ("pair", "CF_YXQ>=CF_JDRQ", "处罚有效期不早于处罚决定日期"),
        ("pair", "CF_GSJZQ>=CF_JDRQ", "公示截止期不早于处罚决定日期"),
        ("not_null", "CF_XDR_MC", "行政相对人名称必填"),
        ("length", "CF_XDR_MC", "行政相对人名称不超过 200 个字符"),
        ("not_null", "CF_XDR_LB", "行政相对人类别必填"),
        ("in_set", "CF_XDR_LB", "行政相对人类别取值在标准范围内"),
        ("regex", "CF_XDR_SHXYM", "行政相对人代码_1（统一社会信用代码）为 18 位统一社会信用代码"),
        ("length", "CF_XDR_GSZC", "行政相对人代码_2（工商注册号）不超过 50 个字符"),
        ("regex", "CF_XDR_ZZJG", "行政相对人代码_3（组织机构代码）为 9 位组织机构代码"),
        ("length", "CF_XDR_SWDJ", "行政相对人代码_4（税务登记号）不超过 20 个字符"),
        ("length", "CF_XDR_SYDW", "行政相对人代码_5（事业单位证书号）不超过 12 个字符"),
        ("length", "CF_XDR_SHZZ", "行政相对人代码_6（社会组织登记证号）不超过 50 个字符"),
        ("length", "CF_FRDB", "法定代表人不超过 50 个字符"),
        ("regex", "CF_FR_ZJLX", "法定代表人证件类型取值在标准范围内（或「其他-…」）"),
        ("length", "CF_FR_ZJHM", "法定代表人证件号码不超过 64 个字符"),
        ("regex", "CF_XDR_ZJLX", "证件类型取值在标准范围内（或「其他-…」）"),
        ("length", "CF_XDR_ZJHM", "证件号码不超过 64 个字符"),
        ("not_null", "CF_WSH", "行政处罚决定书文号必填"),
        ("length", "CF_WSH", "行政处罚决定书文号不超过 128 个字符"),
        ("not_null", "CF_WFXW", "违法行为类型必填"),
        ("length", "CF_WFXW", "违法行为类型不超过 2000 个字符"),
        ("not_null", "CF_SY", "违法事实必填"),
        ("length", "CF_SY", "违法事实不超过 5000 个字符"),
        ("not_null", "CF_YJ", "处罚依据必填"),
        ("length", "CF_YJ", "处罚依据不超过 2048 个字符"),
        ("not_null", "CF_CFLB", "处罚类别必填"),
        ("not_null", "CF_NR", "处罚内容必填"),
        ("length", "CF_NR", "处罚内容不超过 4000 个字符"),
        ("regex", "CF_NR_FK__written", "罚款金额（万元）为可识别的金额（数字）"),
        (
            "regex",
            "CF_NR_WFFF__written",
            "没收违法所得、没收非法财物的金额（万元）为可识别的金额（数字）",
        ),
        ("length", "CF_NR_ZKDX", "暂扣或吊销证照名称及编号不超过 200 个字符"),
        ("not_null", "CF_JDRQ__written", "处罚决定日期必填"),
        ("regex", "CF_JDRQ__written", "处罚决定日期为可识别的日期"),
        ("not_null", "CF_YXQ__written", "处罚有效期必填"),
        ("regex", "CF_YXQ__written", "处罚有效期为可识别的日期"),
        ("regex", "CF_GSJZQ__written", "公示截止期为可识别的日期"),
        ("not_null", "CF_CFJG", "处罚机关必填"),
        ("length", "CF_CFJG", "处罚机关不超过 200 个字符"),
        ("not_null", "CF_CFJGDM", "处罚机关统一社会信用代码必填"),
        ("regex", "CF_CFJGDM", "处罚机关统一社会信用代码为 18 位统一社会信用代码"),
        ("not_null", "CF_SJLY", "数据来源单位必填"),
        ("length", "CF_SJLY", "数据来源单位不超过 200 个字符"),
        ("not_null", "CF_SJLYDM", "数据来源单位统一社会信用代码必填"),
        ("regex", "CF_SJLYDM", "数据来源单位统一社会信用代码为 18 位统一社会信用代码"),
        ("length", "BZ", "备注不超过 512 个字符"),
    ],
    "store_unique": [
        (
            "unique",
            "unit_code,kind,doc_key",
            "同一单位、同一类别的现行记录中决定文书号唯一（含此前入库的记录）",
        ),
    ],
}


def _summary(exp: dict) -> tuple[str, str | None, str]:
    kw = exp["kwargs"]
    if "column" in kw:
        column = kw["column"]
    elif "column_A" in kw:
        column = f"{kw['column_A']}>={kw['column_B']}"
    else:
        column = ",".join(kw.get("column_list", [])) or None
    return SHORT[exp["type"]], column, exp["meta"]["说明"]


def test_every_suite_is_pinned():
    assert set(PINNED) == set(SUITES)


@pytest.mark.parametrize("name", sorted(PINNED))
def test_the_suite_holds_exactly_the_pinned_checks(name):
    suite = json.loads(suite_path(name).read_text(encoding="utf-8"))
    assert [_summary(e) for e in suite["expectations"]] == PINNED[name]


def test_the_counts_per_suite():
    assert {name: len(checks) for name, checks in PINNED.items()} == {
        "permit_batch": 47,  # 44 before issue 11, plus "为可识别的日期" of the 3 dates
        "penalty_batch": 49,  # 44, plus the 3 dates and the 2 amounts
        "store_unique": 1,
    }
