"""The pandera schema split for parallel validation enforces exactly the rules of the whole."""

from __future__ import annotations

import pytest

from sgs.catalogue import load_catalogue
from sgs.rules import build_rules
from sgs.schema import schema_for


def checks_of(schema) -> dict[str, list[str]]:
    return {name: [c.error for c in col.checks] for name, col in schema.columns.items()}


@pytest.mark.parametrize("kind", ["permit", "penalty"])
@pytest.mark.parametrize("parts", [2, 3, 4])
def test_parts_deal_every_column_once_with_all_its_checks(kind, parts):
    whole = checks_of(schema_for(kind))
    assert sorted(whole) == sorted(load_catalogue().kind(kind).codes)
    assert sorted(label for labels in whole.values() for label in labels) == sorted(
        r.label for r in build_rules(kind)
    )
    dealt: dict[str, list[str]] = {}
    sizes = []
    for part in range(parts):
        mine = checks_of(schema_for(kind, part, parts))
        assert not set(mine) & set(dealt), "a column in two parts"
        dealt.update(mine)
        sizes.append(sum(len(v) for v in mine.values()))
    assert dealt == whole
    assert max(sizes) - min(sizes) <= max(len(v) for v in whole.values())  # balanced
