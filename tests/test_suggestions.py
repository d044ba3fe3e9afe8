"""Fix suggestions: the corrected value where it is determined, and that it passes its rule.

Expected suggestions are hand-worked (the worked examples of docs/standard.md section 6) and
checked against python-stdnum where it has the algorithm.  Every suggested value is validated
again in the same record, and the rule it failed must no longer fire.  Outputs — ``sgs
validate --json``, the summary, the problem list and the feedback list — are read back as a
user reads them.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import duckdb
import openpyxl
import pytest
import stdnum.cn.ric
import stdnum.cn.uscc
import stdnum.iso7064.mod_11_10
from support import warm_sgs
from support.records import INDIVIDUAL, LEGAL, NATURAL, RECEIVED, base_record, with_fields
from support.upload_files import penalty_record, permit_record, table, write_csv, write_xlsx

from sgs.validate.pipeline import validate_records

# (kind, subject type, field, value written, rule, expected suggestion)
DETERMINED = [
    # GB 32100: 91110108MA01ABCD5 has check character T (docs: base record; stdnum below).
    ("permit", LEGAL, "XK_XDR_SHXYM", "91110108MA01ABCD5X", "uscc_check", "91110108MA01ABCD5T"),
    # Normalised first: lower case and full width become the code as it should be written.
    ("permit", LEGAL, "XK_XDR_SHXYM", "９１１１０１０８ma01abcd5x", "uscc_check",
     "91110108MA01ABCD5T"),
    ("penalty", LEGAL, "CF_CFJGDM", "11110108000000019D", "uscc_check", "11110108000000019C"),
    # docs 6.1/6.2: M000100Y has organisation check 4, and 91350100M000100Y4 USCC check 3.
    # 91350100M000100Y5 + its own right 18th character fails only the embedded check.
    ("permit", LEGAL, "XK_XDR_SHXYM", "91350100M000100Y5" + stdnum.cn.uscc.calc_check_digit(
        "91350100M000100Y5"), "uscc_org_check", "91350100M000100Y43"),
    ("permit", LEGAL, "XK_XDR_ZZJG", "M000100Y5", "org_code_check", "M000100Y4"),
    ("penalty", LEGAL, "CF_XDR_ZZJG", "m000100y-5", "org_code_check", "M000100Y-4"),
    # docs 6.3: 11010519491231002 has check X.
    ("permit", LEGAL, "XK_FR_ZJHM", "110105194912310021", "id_check", "11010519491231002X"),
    ("penalty", NATURAL, "CF_XDR_ZJHM", "110105194912310020", "id_check", "11010519491231002X"),
    # docs 6.4: 11010800000001 has check digit 6.
    ("permit", LEGAL, "XK_XDR_GSZC", "110108000000011", "reg_no_check", "110108000000016"),
    # Dates: year first, real, in a refused notation.
    ("permit", LEGAL, "XK_YXQZ", "2022.3.1", "date_format", "2022/03/01"),
    ("permit", LEGAL, "XK_JDRQ", "2022.03.01", "date_format", "2022/03/01"),
    ("penalty", LEGAL, "CF_JDRQ", "2022-03-01T00:00:00", "date_format", "2022/03/01"),
    ("penalty", LEGAL, "CF_YXQ", "2023年3月1", "date_format", "2023/03/01"),
    ("penalty", LEGAL, "CF_GSJZQ", "2023/03/01 12:30:00", "date_format", "2023/03/01"),
    ("permit", LEGAL, "XK_YXQZI", "2027年2月28号", "date_format", "2027/02/28"),
    ("permit", LEGAL, "XK_YXQZI", "01/02/2027", "date_format", None),  # ambiguous
    ("permit", LEGAL, "XK_YXQZI", "27/2/28", "date_format", None),  # two-digit year
    ("permit", LEGAL, "XK_YXQZI", "2027.02.30", "date_format", None),  # no such day
    # Value sets: synonyms of the catalogue.
    ("permit", LEGAL, "XK_XKLB", "一般", "allowed_values", "普通"),
    ("permit", LEGAL, "XK_XKLB", "普通许可", "allowed_values", "普通"),
    ("permit", LEGAL, "XK_XKLB", "审批", "allowed_values", None),
    ("permit", LEGAL, "XK_FR_ZJLX", "居民身份证", "allowed_values", "身份证"),
    ("penalty", NATURAL, "CF_XDR_ZJLX", "居民身份证", "allowed_values", "身份证"),
    ("penalty", NATURAL, "CF_XDR_ZJLX", "台胞证", "allowed_values", "台湾居民来往大陆通行证"),
    ("penalty", NATURAL, "CF_XDR_ZJLX", "港澳通行证", "allowed_values", None),  # two permits
    ("permit", LEGAL, "XK_XDR_LB", "法人", "allowed_values", "法人及非法人组织"),
    ("penalty", INDIVIDUAL, "CF_XDR_LB", "个体户", "allowed_values", "个体工商户"),
    ("penalty", LEGAL, "CF_CFLB", "警告；拘留", "allowed_values", "警告;行政拘留"),
    ("penalty", LEGAL, "CF_CFLB", "警告;罚金", "allowed_values", None),  # 罚金 is criminal
    ("penalty", LEGAL, "CF_CFLB", "拘留;其他", "allowed_values", None),  # bare 其他 stays wrong
    # 万元 fields: a whole number of 元, divided by 10,000.
    ("penalty", LEGAL, "CF_NR_FK", "20000", "amount_unit", "2"),
    ("penalty", LEGAL, "CF_NR_FK", "12345", "amount_unit", "1.2345"),
    ("penalty", LEGAL, "CF_NR_FK", "150000.00", "amount_unit", "15"),
    ("penalty", LEGAL, "CF_NR_FK", "10000.5", "amount_unit", None),  # not whole
    ("penalty", LEGAL, "CF_NR_FK", "100000000", "amount_unit", None),  # 10000 万元: still too big
]  # fmt: skip


def _record(kind: str, subject: str, code: str, value: str) -> dict:
    rec = base_record(kind, subject)
    if kind == "penalty" and code == "CF_CFLB":
        rec["CF_NR_FK"] = ""  # no 罚款 in these lists
    return with_fields(rec, **{code: value})


def _by_kind(cases: list[tuple]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {"permit": [], "penalty": []}
    for i, case in enumerate(cases):
        out[case[0]].append(i)
    return out


def test_oracles_agree_with_the_hand_worked_check_characters():
    assert stdnum.cn.uscc.calc_check_digit("91110108MA01ABCD5") == "T"
    assert stdnum.cn.uscc.calc_check_digit("91350100M000100Y4") == "3"
    assert stdnum.cn.ric.calc_check_digit("110105194912310021") == "X"  # wants 18 chars
    assert stdnum.iso7064.mod_11_10.calc_check_digit("11010800000001") == "6"


def test_each_determined_fix_is_suggested_and_passes_its_rule():
    suggested: dict[int, str | None] = {}
    for kind, indices in _by_kind(DETERMINED).items():
        recs = [_record(*DETERMINED[i][:4]) for i in indices]
        errors = validate_records(kind, recs, received=RECEIVED).errors
        for row, i in enumerate(indices, start=2):
            _, _, code, value, rule, expected = DETERMINED[i]
            mine = errors.filter((errors["row"] == row) & (errors["field"] == code))
            hit = mine.filter(mine["rule"] == rule)
            assert hit.height == 1, (value, mine.select("rule", "suggestion").rows())
            assert hit["value"][0] == value  # the value as written
            assert hit["suggestion"][0] == expected, value
            others = mine.filter(mine["rule"] != rule)["suggestion"]
            assert others.is_null().all()
            suggested[i] = expected
    # Each suggestion, written in its place, passes the rule it failed.
    fixed = [i for i, s in suggested.items() if s is not None]
    for kind, indices in _by_kind([DETERMINED[i] for i in fixed]).items():
        recs = []
        for j in indices:
            kind_, subject, code, _, _, _ = DETERMINED[fixed[j]]
            recs.append(_record(kind_, subject, code, suggested[fixed[j]]))
        errors = validate_records(kind, recs, received=RECEIVED).errors
        for row, j in enumerate(indices, start=2):
            _, _, code, _, rule, _ = DETERMINED[fixed[j]]
            again = errors.filter(
                (errors["row"] == row) & (errors["field"] == code) & (errors["rule"] == rule)
            )
            assert again.is_empty(), (suggested[fixed[j]], rule)


def test_rules_without_a_determined_fix_say_what_to_do():
    rec = with_fields(base_record("penalty"), CF_NR_FK="", CF_YXQ="2021/01/01")
    errors = validate_records("penalty", [rec], received=RECEIVED).errors
    assert errors["suggestion"].is_null().all()
    messages = dict(zip(errors["rule"], errors["message"], strict=True))
    assert messages["required_if"] == "处罚类别含罚款时，必须填写罚款金额（万元）"
    assert messages["date_order"] == "处罚有效期早于处罚决定日期：请按决定文书核对两个日期"


@pytest.mark.parametrize("kind", ["permit", "penalty"])
def test_a_zero_authority_code_is_named_as_such(kind):
    code = "XK_XDR_SHXYM" if kind == "permit" else "CF_XDR_SHXYM"
    rec = with_fields(base_record(kind), **{code: "00000000000000000X"})
    errors = validate_records(kind, [rec], received=RECEIVED).errors
    assert errors.select("field", "rule").rows() == [(code, "uscc_authority")]
    message = errors["message"][0]
    assert "第 1 位不是登记管理部门代码" in message
    assert "18 位" not in message
    assert errors["suggestion"][0] is None


def test_legacy_legal_representative_codes_are_read(tmp_path: Path):
    for kind, rec, head in [
        ("permit", permit_record(1), {"XK_FRDB": "XK_FDDB"}),
        ("penalty", penalty_record(1), {"CF_FRDB": "CF_FDDB"}),
    ]:
        path = write_xlsx(tmp_path / f"{kind}.xlsx", table(kind, [rec], headers=head))
        out = warm_sgs.run(["validate", str(path), "--json"])
        report = json.loads(out.stdout)
        assert out.returncode == 0, report["errors"]
        assert report["kind"] == kind and report["unknown_columns"] == []


def _failing_upload(tmp_path: Path) -> Path:
    good = base_record("permit")
    rec = with_fields(
        base_record("permit"), XK_XKLB="一般", XK_FR_ZJHM="110105194912310021", XK_YXQZ="2022.3.1"
    )
    return write_csv(tmp_path / "许可.csv", table("permit", [good, rec]))


def test_sgs_validate_json_carries_each_suggestion(tmp_path: Path):
    path = _failing_upload(tmp_path)
    out = warm_sgs.run(["validate", str(path), "--json", "--received", RECEIVED.isoformat()])
    assert out.returncode == 1
    errors = json.loads(out.stdout)["errors"]
    assert all("suggestion" in e for e in errors)
    got = {(e["row"], e["field"], e["rule"]): (e["value"], e["suggestion"]) for e in errors}
    assert got == {
        (3, "XK_FR_ZJHM", "id_check"): ("110105194912310021", "11010519491231002X"),  # unmasked
        (3, "XK_XKLB", "allowed_values"): ("一般", "普通"),
        (3, "XK_YXQZ", "date_format"): ("2022.3.1", "2022/03/01"),
    }


def test_summary_and_problem_list_show_suggestions_masked(tmp_path: Path):
    path = _failing_upload(tmp_path)
    report = tmp_path / "问题清单.xlsx"
    out = warm_sgs.run(
        ["validate", str(path), "--out", str(report), "--received", RECEIVED.isoformat()]
    )
    text = out.stdout
    assert "修改建议" in text and "2022/03/01" in text and "普通" in text
    assert "11010519491231002X" not in text and "110105********002X" in text
    sheet = openpyxl.load_workbook(report)["问题清单"]
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    header = next(r for r in rows if "修改建议" in r)
    body = [dict(zip(header, r, strict=True)) for r in rows[rows.index(header) + 1 :]]
    shown = {r["字段代码"]: r["修改建议"] for r in body if r["字段代码"]}
    assert shown == {
        "XK_FR_ZJHM": "110105********002X",
        "XK_XKLB": "普通",
        "XK_YXQZ": "2022/03/01",
    }


# ----------------------------------------------------------------------------- the store

MARKET = "11140400041270234C"  # 长治市市场监督管理局, in config/units.csv


def _sgs(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SGS_DATA_DIR": str(data)}
    env.pop("SGS_UNITS_FILE", None)
    return warm_sgs.run([*args], env=env, timeout=120)


def _penalties(tmp_path: Path, name: str, fine: str) -> Path:
    rec = base_record("penalty", NATURAL, CF_XDR_ZJHM="110105194912310021", CF_NR_FK=fine)
    return write_csv(tmp_path / name, table("penalty", [rec]))


def _stored(data: Path) -> list[tuple]:
    with duckdb.connect(str(data / "curated" / "sgs.duckdb"), read_only=True) as con:
        return con.sql(
            "SELECT batch_id, field, rule, suggestion FROM errors ORDER BY batch_id, field"
        ).fetchall()


def test_suggestions_are_stored_and_an_older_store_gains_the_column(tmp_path: Path):
    data = tmp_path / "data"
    first = _penalties(tmp_path, "处罚1.csv", "0.2")
    run = _sgs(data, "ingest", str(first), "--unit", MARKET, "--received", "2026-11-02")
    assert run.returncode == 0, run.stderr
    # A store made before suggestions: no column, and the schema stamp of its time.
    with duckdb.connect(str(data / "curated" / "sgs.duckdb")) as con:
        con.execute("ALTER TABLE errors DROP COLUMN suggestion")
        con.execute("UPDATE meta SET value = 'older' WHERE key = 'schema'")
    second = _penalties(tmp_path, "处罚2.csv", "20000")
    run = _sgs(data, "ingest", str(second), "--unit", MARKET, "--received", "2026-11-03")
    assert run.returncode == 0, run.stderr
    assert _stored(data) == [
        (1, "CF_XDR_ZJHM", "id_check", None),  # stored before suggestions were
        (2, "CF_NR_FK", "amount_unit", "2"),
        (2, "CF_XDR_ZJHM", "id_check", "11010519491231002X"),  # raw in the store
    ]


def test_feedback_list_shows_suggestions_masked(tmp_path: Path):
    data = tmp_path / "data"
    upload = _penalties(tmp_path, "处罚.csv", "20000")
    run = _sgs(data, "ingest", str(upload), "--unit", MARKET, "--received", "2026-11-02")
    assert run.returncode == 0, run.stderr
    out = tmp_path / "反馈清单.xlsx"
    run = _sgs(data, "feedback", "--unit", MARKET, "--out", str(out))
    assert run.returncode == 0, run.stderr
    rows = [[c.value for c in r] for r in openpyxl.load_workbook(out).active.iter_rows()]
    header = next(r for r in rows if "修改建议" in r)
    body = [dict(zip(header, r, strict=True)) for r in rows[rows.index(header) + 1 :]]
    shown = {r["字段代码"]: (r["原始值"], r["修改建议"]) for r in body if r["字段代码"]}
    assert shown == {
        "CF_XDR_ZJHM": ("110105********0021", "110105********002X"),
        "CF_NR_FK": ("20000", "2"),
    }
