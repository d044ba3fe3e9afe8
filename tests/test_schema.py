"""The pandera schema split for parallel validation enforces exactly the rules of the whole."""

from __future__ import annotations

import pytest

from sgs.reference.catalogue import load_catalogue
from sgs.validate.pandera_schema import schema_for
from sgs.validate.rules import build_rules


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


def test_pandas_is_hidden_only_from_the_thread_importing_pandera():
    """Other threads (a flow's Great Expectations task) must still import pandas meanwhile."""
    import subprocess
    import sys

    code = (
        "import threading, importlib\n"
        "from sgs.validate.pandera_schema import _unused_hidden\n"
        "import sys\n"
        "for m in [m for m in sys.modules if m.split('.')[0] == 'pandas']: del sys.modules[m]\n"
        "with _unused_hidden():\n"
        "    try:\n"
        "        import pandas\n"
        "        print('main: imported')\n"
        "    except ModuleNotFoundError:\n"
        "        print('main: hidden')\n"
        "    other = []\n"
        "    t = threading.Thread(target=lambda: other.append(importlib.import_module('pandas')))\n"
        "    t.start(); t.join()\n"
        "    print('other:', 'imported' if other else 'failed')\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.split("\n")[:2] == ["main: hidden", "other: imported"]
