"""Normalising a repetitive column per distinct value, or a code column by its odd values,
gives what the surveyed path gives."""

from __future__ import annotations

import polars as pl
import pytest

from sgs.reference.catalogue import load_catalogue
from sgs.validate.normalise import (
    DISTINCT_SAMPLE,
    _survey,
    is_repetitive,
    normalise,
    normalise_code,
    normalise_column,
    normalise_repetitive,
)

MESSY = [
    None,
    "",
    "   ",
    "\u3000",
    "null",
    "ＮＵＬＬ",
    " 无 ",
    "/",
    " abc ",
    "ＡＢＣ１２３",
    "\u3000x\u3000",
    "\u200bzero-width\ufeff",
    "91140429243290014a",
    "９１１４０４２９２４３２９００１４Ａ",
    "２０２２－０１－２８",
    "2022/01/28 ",
    "12345678-9",
    "1234567８-X",
    "110101199003077777",
    "长审批〔2022〕12号",
    "普通",
    " 普通\u3000",
    "其他-某类",
    "ß straße",  # to_uppercase would change non-ASCII letters too
    "ǆ",
    "é1ω",  # no ASCII lower case: left as it is
    "Ⅻ",  # NFKC: XII
    "ｘ",  # NFKC gives a lower-case letter
]


def column(n: int = 2000) -> pl.Series:
    return pl.Series("v", [MESSY[i % len(MESSY)] for i in range(n)], dtype=pl.String)


@pytest.mark.parametrize("kind", ["permit", "penalty"])
def test_both_paths_agree_on_every_field(kind):
    spec = load_catalogue().kind(kind)
    s = column()
    for f in spec.fields:
        raw = pl.DataFrame({f.code: s})
        surveyed = normalise_column(raw[f.code], f, _survey(raw, [f]))
        per_value = normalise_repetitive(raw[f.code], f)
        assert surveyed.to_list() == per_value.to_list(), f.code
        assert per_value.name == f.code
        if f.is_code:
            assert normalise_code(raw[f.code], f).to_list() == surveyed.to_list(), f.code


def test_normalise_takes_the_per_value_path_for_repetitive_columns_only():
    spec = load_catalogue().kind("permit")
    n = 2 * DISTINCT_SAMPLE
    repetitive = column(n)
    distinct = pl.Series([f" 名称{i} " for i in range(n)])
    assert is_repetitive(repetitive) and not is_repetitive(distinct)
    raw = pl.DataFrame(
        {
            "__row": pl.int_range(2, n + 2, eager=True),
            "XK_XDR_LB": repetitive,
            "XK_XDR_MC": distinct,
        }
    )
    out = normalise(raw, spec.fields)
    assert out["XK_XDR_MC"].to_list()[:2] == ["名称0", "名称1"]
    for f in (spec.field("XK_XDR_LB"),):
        expected = normalise_column(raw[f.code], f, _survey(raw, [f]))
        assert out[f.code].to_list() == expected.to_list()


@pytest.mark.parametrize("share", [0.01, 0.9])
def test_replace_values_is_replace(share):
    """Few candidate rows (looked up alone) or most rows (plain replace): same result."""
    from sgs.validate.normalise import replace_values

    n = 5000
    dirty = max(1, int(n * share))
    values = [
        None if i % 11 == 0 else (f" 值{i % 7}" if i < dirty else f"值{i:05d}") for i in range(n)
    ]
    s = pl.Series("c", values, dtype=pl.String)
    old = pl.Series([f" 值{k}" for k in range(7)] + ["值00003"])
    new = pl.Series([f"值{k}" for k in range(6)] + [None, "三"], dtype=pl.String)
    got = replace_values(s, old, new)
    assert got.to_list() == s.replace(old, new).to_list()
    assert got.name == "c"
