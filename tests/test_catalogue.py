"""The catalogue is the one source of truth: its content, and that generated artefacts follow it."""

from __future__ import annotations

import json
import os
import re

import openpyxl
import pytest
from support import warm_sgs

from sgs.config import catalogue_path
from sgs.intake.readers import read_upload
from sgs.reference.catalogue import header_map, load_catalogue, normalise_header
from sgs.report.standard_docs import write_template
from sgs.samples.generator import generate
from sgs.samples.writers import write_upload

# STANDARD.md's tables, in template order: the oracle for the catalogue's field lists.
PERMIT = [
    "XK_XDR_MC",
    "XK_XDR_LB",
    "XK_XDR_SHXYM",
    "XK_XDR_GSZC",
    "XK_XDR_ZZJG",
    "XK_XDR_SWDJ",
    "XK_XDR_SYDW",
    "XK_XDR_SHZZ",
    "XK_FRDB",
    "XK_FR_ZJLX",
    "XK_FR_ZJHM",
    "XK_XDR_ZJLX",
    "XK_XDR_ZJHM",
    "XK_XKWS",
    "XK_WSH",
    "XK_XKLB",
    "XK_XKZS",
    "XK_XKBH",
    "XK_NR",
    "XK_JDRQ",
    "XK_YXQZ",
    "XK_YXQZI",
    "XK_XKJG",
    "XK_XKJGDM",
    "XK_ZT",
    "XK_LYDW",
    "XK_LYDWDM",
    "BZ",
]
PENALTY = [
    "CF_XDR_MC",
    "CF_XDR_LB",
    "CF_XDR_SHXYM",
    "CF_XDR_GSZC",
    "CF_XDR_ZZJG",
    "CF_XDR_SWDJ",
    "CF_XDR_SYDW",
    "CF_XDR_SHZZ",
    "CF_FRDB",
    "CF_FR_ZJLX",
    "CF_FR_ZJHM",
    "CF_XDR_ZJLX",
    "CF_XDR_ZJHM",
    "CF_WSH",
    "CF_WFXW",
    "CF_SY",
    "CF_YJ",
    "CF_CFLB",
    "CF_NR",
    "CF_NR_FK",
    "CF_NR_WFFF",
    "CF_NR_ZKDX",
    "CF_JDRQ",
    "CF_YXQ",
    "CF_GSJZQ",
    "CF_CFJG",
    "CF_CFJGDM",
    "CF_SJLY",
    "CF_SJLYDM",
    "BZ",
]


def test_field_lists_follow_the_standard():
    cat = load_catalogue()
    assert cat.kind("permit").codes == PERMIT
    assert cat.kind("penalty").codes == PENALTY
    assert [f.position for f in cat.kind("penalty").fields] == list(range(1, 31))


@pytest.mark.parametrize(
    ("header", "kind", "code"),
    [
        ("行政相对人代码_1（统一社会信用代码）", "permit", "XK_XDR_SHXYM"),
        ("行政相对人代码_1(统一社会信用代码)", "permit", "XK_XDR_SHXYM"),
        ("行政相对人代码_1", "permit", "XK_XDR_SHXYM"),
        (" 统一社会信用代码 ", "penalty", "CF_XDR_SHXYM"),
        ("xk_xdr_mc", "permit", "XK_XDR_MC"),
        ("Cf_Wsh", "penalty", "CF_WSH"),
        ("*行政相对人名称", "permit", "XK_XDR_MC"),
        ("罚款金额（万元）", "penalty", "CF_NR_FK"),
        ("罚款金额", "penalty", "CF_NR_FK"),
        ("没收违法所得、没收非法财务的金额（万元）", "penalty", "CF_NR_WFFF"),
        ("XK_FR_SFZH", "permit", "XK_FR_ZJHM"),
        ("法定代表人身份证号", "penalty", "CF_FR_ZJHM"),
        ("ＸＫ＿ＷＳＨ", "permit", "XK_WSH"),
    ],
)
def test_header_aliases(header, kind, code):
    assert header_map(kind)[normalise_header(header)] == code


@pytest.mark.parametrize("kind", ["permit", "penalty"])
def test_blank_template_has_the_catalogue_headers_and_reads_back(kind, tmp_path):
    path = write_template(kind, tmp_path / f"{kind}.xlsx")
    sheet = openpyxl.load_workbook(path).worksheets[0]
    headers = [c.value for c in sheet[1]]
    assert headers == [f.name for f in load_catalogue().kind(kind).fields]
    upload = read_upload(path)
    assert (upload.kind, upload.rows, upload.unknown_columns) == (kind, 0, [])


def test_a_changed_rule_reaches_validation_and_docs(tmp_path):
    """One line changed in the catalogue changes the validator and the field table."""
    changed = (
        catalogue_path()
        .read_text(encoding="utf-8")
        .replace(
            'code = "{P}_XDR_MC"\nkinds = ["permit", "penalty"]\nname = "行政相对人名称"\ntype = "text"\n'
            "max_length = 200",
            'code = "{P}_XDR_MC"\nkinds = ["permit", "penalty"]\nname = "行政相对人名称"\ntype = "text"\n'
            "max_length = 4",
        )
    )
    assert changed != catalogue_path().read_text(encoding="utf-8")
    catalogue = tmp_path / "standard.toml"
    catalogue.write_text(changed, encoding="utf-8")
    sample = generate("permit", 3, seed=5)
    upload = write_upload(sample.frame, tmp_path / "up.csv")
    env = {**os.environ, "SGS_CATALOGUE": str(catalogue)}
    run = warm_sgs.run(
        ["validate", str(upload), "--json", "--received", sample.received.isoformat()], env=env
    )
    assert run.returncode == 1
    found = {(e["field"], e["rule"]) for e in json.loads(run.stdout)["errors"]}
    assert ("XK_XDR_MC", "max_length") in found
    docs = warm_sgs.run(["standard", "--markdown"], env=env, check=True).stdout
    assert "| `XK_XDR_MC` | 文本 | 必填 | 不超过 4 个字符 |" in docs


def test_blank_like_values_fit_the_short_cell_shortcut():
    """The survey only looks for blank-like values among short cells."""
    from sgs.validate.normalise import BLANK_MAX_BYTES, blank_variants

    assert max(len(v.encode()) for v in blank_variants()) <= BLANK_MAX_BYTES


def test_every_rule_has_its_own_chinese_name():
    """Workbooks and the CLI show a rule by its Chinese name beside the code: each rule of the
    standard and of the ledger has one, in Chinese, and no two rules share a name."""
    cat = load_catalogue()
    rules = {**cat.rules, **cat.ledger_rules}
    names = {code: rule.name for code, rule in rules.items()}
    assert [c for c, n in names.items() if not re.search(r"[\u4e00-\u9fff]", n)] == []
    assert len(set(names.values())) == len(names)
    assert names["date_format"] == "日期格式" and names["required"] == "必填"
