"""Reusable test data for the 双公示 rules: valid base records and identifier builders.

The identifier algorithms here are written independently from STANDARD.md ("Identifier checks
(exact algorithms)") rather than imported from ``sgs.validate.identifiers``, so that they serve as an
oracle; ``test_rules.py`` checks that both agree.

Typical use::

    rec = base_record("permit", LEGAL)           # a fully valid 法人及非法人组织 permit
    rec["XK_XDR_SHXYM"] = "/"                    # ... then break one field
    result = validate_records("permit", [rec], received=RECEIVED)

Every built record has its own 文书号, so records built here can be validated together in one
call without being duplicates of each other (see ``document_key``).
"""

from __future__ import annotations

import itertools
import re
import tomllib
import unicodedata
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

KINDS = ("permit", "penalty")
PREFIX = {"permit": "XK", "penalty": "CF"}

LEGAL = "法人及非法人组织"
INDIVIDUAL = "个体工商户"
NATURAL = "自然人"
SUBJECT_TYPES = (LEGAL, INDIVIDUAL, NATURAL)

#: The upload (received) date every test validates against.
RECEIVED = date(2024, 6, 30)

CATALOGUE_PATH = Path(__file__).resolve().parents[2] / "schemas" / "standard.toml"

# ----------------------------------------------------------------------------- identifiers

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # 0–9 = 0–9, A–Z = 10–35
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECKS = "10X98765432"


def uscc_check(first17: str) -> str:
    """GB 32100-2015: check index = (31 − Σ(value × weight) mod 31) mod 31."""
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def org_check(first8: str) -> str:
    """GB 11714: check = 11 − (Σ mod 11), 10 → X, 11 → 0."""
    total = sum(_ORG_ALPHABET.index(c) * w for c, w in zip(first8, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def id_check(first17: str) -> str:
    """GB 11643: Σ mod 11 → 1 0 X 9 8 7 6 5 4 3 2."""
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECKS[total % 11]


def gs15_check(first14: str) -> str:
    """GS 15-2006: ISO 7064 MOD 11,10 check digit."""
    p = 10
    for c in first14:
        s = (p + int(c)) % 10 or 10
        p = (2 * s) % 11
    return str((11 - p) % 10)


def org_code(first8: str) -> str:
    """A valid 9-character organisation code (no hyphen)."""
    return first8 + org_check(first8)


def uscc(head: str, region: str = "110108", org8: str = "MA01ABCD", *, org_ok: bool = True) -> str:
    """A valid USCC: ``head`` is chars 1–2 (department + type), ``org8`` the organisation code
    body.  ``org_ok=False`` puts a wrong organisation-code check in char 17 (char 18 stays right).
    """
    embedded = org_code(org8)
    if not org_ok:
        embedded = org8 + next(c for c in "0123456789" if c != embedded[-1])
    first17 = head + region + embedded
    assert len(first17) == 17, first17
    return first17 + uscc_check(first17)


def wrong_uscc_check(code: str) -> str:
    """The same code with a wrong (but well-formed) 18th character."""
    return code[:17] + next(c for c in "0123456789ABC" if c != code[17])


def resident_id(region: str = "110101", birth: str = "19800101", seq: str = "001") -> str:
    """A valid 18-digit resident ID number."""
    first17 = region + birth + seq
    assert len(first17) == 17 and first17.isdigit(), first17
    return first17 + id_check(first17)


def resident_id_with_x() -> str:
    """A valid resident ID whose check character is X."""
    for n in range(1000):
        number = resident_id(seq=f"{n:03d}")
        if number.endswith("X"):
            return number
    raise AssertionError("no X-check ID found")


def wrong_id_check(number: str) -> str:
    return number[:17] + next(c for c in "0123456789X" if c != number[17])


def reg_no(first14: str = "11010800000001") -> str:
    """A valid 15-digit registration number (工商注册号)."""
    return first14 + gs15_check(first14)


def to_fullwidth(text: str) -> str:
    """ASCII → full-width forms (what NFKC folds back)."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


# ----------------------------------------------------------------------------- codes used

AUTHORITY_USCC = uscc("11", "110108", "00000001")  # 机关 (department 1, type 1)
SOURCE_USCC = uscc("11", "110000", "00000002")
LEGAL_USCC = uscc("91", "110108", "MA01ABCD")  # 工商 企业
INDIVIDUAL_USCC = uscc("92", "110108", "MA01WXY3")  # 工商 个体工商户
LEGAL_ORG_CODE = "MA01ABCD" + org_check("MA01ABCD")  # == chars 9–17 of LEGAL_USCC
LEGAL_REG_NO = reg_no("11010800000001")
INDIVIDUAL_REG_NO = reg_no("11010860000123")
REP_ID = resident_id("110101", "19800101", "001")  # 法定代表人 / 经营者
PERSON_ID = resident_id("310104", "19900215", "123")  # 自然人


# ----------------------------------------------------------------------------- records


def _subject(kind: str, subject_type: str) -> dict[str, str]:
    p = PREFIX[kind]
    blank_codes = {
        f"{p}_XDR_SHXYM": "",
        f"{p}_XDR_GSZC": "",
        f"{p}_XDR_ZZJG": "",
        f"{p}_XDR_SWDJ": "",
        f"{p}_XDR_SYDW": "",
        f"{p}_XDR_SHZZ": "",
        f"{p}_FRDB": "",
        f"{p}_FR_ZJLX": "",
        f"{p}_FR_ZJHM": "",
        f"{p}_XDR_ZJLX": "",
        f"{p}_XDR_ZJHM": "",
    }
    if subject_type == LEGAL:
        return {
            f"{p}_XDR_MC": "北京某某科技有限公司",
            f"{p}_XDR_LB": LEGAL,
            **blank_codes,
            f"{p}_XDR_SHXYM": LEGAL_USCC,
            f"{p}_XDR_GSZC": LEGAL_REG_NO,
            f"{p}_XDR_ZZJG": LEGAL_ORG_CODE,
            f"{p}_XDR_SWDJ": LEGAL_USCC,  # 18 characters, within 15–20
            f"{p}_FRDB": "张三",
            f"{p}_FR_ZJLX": "身份证",
            f"{p}_FR_ZJHM": REP_ID,
        }
    if subject_type == INDIVIDUAL:
        return {
            f"{p}_XDR_MC": "海淀区某某便利店",
            f"{p}_XDR_LB": INDIVIDUAL,
            **blank_codes,
            f"{p}_XDR_SHXYM": INDIVIDUAL_USCC,
            f"{p}_XDR_GSZC": INDIVIDUAL_REG_NO,
            f"{p}_FRDB": "王五",  # the operator
            f"{p}_FR_ZJLX": "身份证",
            f"{p}_FR_ZJHM": resident_id("110108", "19750612", "045"),
        }
    if subject_type == NATURAL:
        return {
            f"{p}_XDR_MC": "李四",
            f"{p}_XDR_LB": NATURAL,
            **blank_codes,
            f"{p}_XDR_ZJLX": "身份证",
            f"{p}_XDR_ZJHM": PERSON_ID,
        }
    raise ValueError(subject_type)


_document_numbers = itertools.count(1)


def base_record(kind: str, subject_type: str = LEGAL, **overrides: str | None) -> dict[str, Any]:
    """One fully valid record (every field of the kind present, optional ones maybe blank).

    Keyword overrides replace single fields, e.g. ``base_record("permit", XK_BZ="无")``;
    use the field code as the keyword.  Each call numbers its 文书号 afresh
    (京海食药监许〔2022〕<n>号, 京海市监罚〔2022〕<n>号): the duplicate rule (same 文书号 and
    subject within one upload) must not link records that happen to be validated together.
    A test about the 文书号 itself sets ``*_WSH``.
    """
    n = next(_document_numbers)
    if kind == "permit":
        rec: dict[str, Any] = {
            **_subject(kind, subject_type),
            "XK_XKWS": "食品经营许可决定书",
            "XK_WSH": f"京海食药监许〔2022〕{n}号",
            "XK_XKLB": "普通",
            "XK_XKZS": "食品经营许可证",
            "XK_XKBH": "JY11101080000001",
            "XK_NR": "预包装食品（不含冷藏冷冻食品）销售",
            "XK_JDRQ": "2022/03/01",
            "XK_YXQZ": "2022/03/01",
            "XK_YXQZI": "2027/02/28",
            "XK_XKJG": "北京市海淀区市场监督管理局",
            "XK_XKJGDM": AUTHORITY_USCC,
            "XK_ZT": "1",
            "XK_LYDW": "北京市海淀区市场监督管理局",
            "XK_LYDWDM": AUTHORITY_USCC,
            "BZ": "",
        }
    elif kind == "penalty":
        rec = {
            **_subject(kind, subject_type),
            "CF_WSH": f"京海市监罚〔2022〕{n}号",
            "CF_WFXW": "经营超过保质期的食品",
            "CF_SY": "当事人于2022年1月在其经营场所销售超过保质期的食品。",
            "CF_YJ": "《中华人民共和国食品安全法》第一百二十四条第一款",
            "CF_CFLB": "罚款",
            "CF_NR": "罚款人民币2000元",
            "CF_NR_FK": "0.2",
            "CF_NR_WFFF": "",
            "CF_NR_ZKDX": "",
            "CF_JDRQ": "2022/03/01",
            "CF_YXQ": "2023/03/01",
            "CF_GSJZQ": "2023/03/01",
            "CF_CFJG": "北京市海淀区市场监督管理局",
            "CF_CFJGDM": AUTHORITY_USCC,
            "CF_SJLY": "北京市海淀区市场监督管理局",
            "CF_SJLYDM": SOURCE_USCC,
            "BZ": "",
        }
    else:
        raise ValueError(kind)
    for code, value in overrides.items():
        assert code in rec, f"unknown field {code} for {kind}"
        rec[code] = value
    return rec


def with_fields(record: dict[str, Any], **fields: str | None) -> dict[str, Any]:
    """A copy of ``record`` with some fields replaced (codes must already exist)."""
    out = dict(record)
    for code, value in fields.items():
        assert code in out, f"unknown field {code}"
        out[code] = value
    return out


_DOC_BRACKETS = str.maketrans("[]【】〖〗()", "〔〕〔〕〔〕〔〕")  # （） are () after NFKC


def document_key(number: str | None) -> str:
    """The 文书号 as the duplicate rule compares it (README, "Document numbers"): NFKC, every
    blank removed, bracket styles unified, upper-case.  None and "" give "".

    Used to keep records that could be duplicates out of one batch; records with equal keys are
    kept apart whatever their subjects, which is stricter than the rule (same 文书号 *and*
    subject) and so safe."""
    text = unicodedata.normalize("NFKC", number or "")
    return re.sub(r"\s+", "", text).upper().translate(_DOC_BRACKETS)


# ----------------------------------------------------------------------------- catalogue


def catalogue() -> dict[str, Any]:
    with CATALOGUE_PATH.open("rb") as fh:
        return tomllib.load(fh)


def catalogue_fields(kind: str) -> list[dict[str, Any]]:
    """The kind's fields in template order, "{P}" expanded."""
    out = []
    for f in catalogue()["field"]:
        if kind in f["kinds"]:
            f = {
                k: (v.replace("{P}", PREFIX[kind]) if isinstance(v, str) else v)
                for k, v in f.items()
            }
            out.append(f)
    return out


# ----------------------------------------------------------------------------- results


def findings(result: Any) -> set[tuple[int, str, str, str]]:
    """All reported (row, field, rule, severity)."""
    errors: pl.DataFrame = result.errors
    return {
        (r["row"], r["field"], r["rule"], r["severity"])
        for r in errors.select("row", "field", "rule", "severity").iter_rows(named=True)
    }


def single(result: Any) -> set[tuple[str, str, str]]:
    """(field, rule, severity) of every finding, for single-record validations."""
    return {(f, r, s) for _, f, r, s in findings(result)}
