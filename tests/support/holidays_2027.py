"""One invented 2027 holidays file for every test that needs 2027 to be computable."""

from __future__ import annotations

from datetime import date

# TEST-ONLY 2027 schedule (plausible, invented; the real 2027 notice was not published).
TEST_2027 = """\
source = "测试用：虚构的 2027 年节假日安排（不是国务院通知）"

[[holiday]]
name = "元旦"
from = 2027-01-01
to = 2027-01-03

[[holiday]]
name = "春节"
from = 2027-02-06
to = 2027-02-14

[[makeup]]
date = 2027-02-20
name = "春节"

[[holiday]]
name = "清明节"
from = 2027-04-03
to = 2027-04-05

[[holiday]]
name = "劳动节"
from = 2027-05-01
to = 2027-05-05

[[makeup]]
date = 2027-04-25
name = "劳动节"

[[makeup]]
date = 2027-05-08
name = "劳动节"

[[holiday]]
name = "端午节"
from = 2027-06-09

[[holiday]]
name = "中秋节"
from = "2027-09-15"
to = "2027-09-15"

[[holiday]]
name = "国庆节"
from = 2027-10-01
to = 2027-10-07

[[makeup]]
date = 2027-09-26
name = "国庆节"

[[makeup]]
date = 2027-10-09
name = "国庆节"
"""
TEST_2027_HOLIDAYS = [
    ("元旦", date(2027, 1, 1), date(2027, 1, 3)),
    ("春节", date(2027, 2, 6), date(2027, 2, 14)),
    ("清明节", date(2027, 4, 3), date(2027, 4, 5)),
    ("劳动节", date(2027, 5, 1), date(2027, 5, 5)),
    ("端午节", date(2027, 6, 9), date(2027, 6, 9)),
    ("中秋节", date(2027, 9, 15), date(2027, 9, 15)),
    ("国庆节", date(2027, 10, 1), date(2027, 10, 7)),
]
TEST_2027_MAKEUPS = {
    date(2027, 2, 20): "春节",
    date(2027, 4, 25): "劳动节",
    date(2027, 5, 8): "劳动节",
    date(2027, 9, 26): "国庆节",
    date(2027, 10, 9): "国庆节",
}
