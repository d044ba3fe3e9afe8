"""Every ``SGS_*`` variable is read in one module, at call time, and documented."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from sgs import config
from sgs.config import PROJECT_ROOT
from sgs.reference.settings import load_settings
from sgs.reference.units import load_units

SRC = PROJECT_ROOT / "src" / "sgs"
# Variables of other programs that sgs sets for them (telemetry off, Prefect's start-up, numba's
# cache folder where its usual ones cannot be written), not settings of its own.
FOREIGN_ENV_USES = {
    "quality/expectations.py",
    "jobs/prefect_stack.py",
    "jobs/prefect_env.py",
    "intake/sheetscan.py",
}


def test_only_the_config_module_reads_the_environment() -> None:
    readers = sorted(
        str(p.relative_to(SRC))
        for p in SRC.rglob("*.py")
        if p.name != "config.py" and re.search(r"os\.environ|os\.getenv|getenv\(", p.read_text())
    )
    assert set(readers) <= FOREIGN_ENV_USES, readers


def test_every_variable_is_documented_in_the_operations_guide() -> None:
    guide = (PROJECT_ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    assert [v for v in config.VARIABLES if f"`{v}`" not in guide] == []


def test_every_variable_named_in_the_code_is_known() -> None:
    named = set()
    for p in SRC.rglob("*.py"):
        named |= set(re.findall(r"\bSGS_[A-Z_]+[A-Z]\b", p.read_text(encoding="utf-8")))
    assert named - set(config.VARIABLES) == set()


def test_unknown_variable_names_are_refused() -> None:
    with pytest.raises(KeyError):
        config.env("SGS_NO_SUCH_THING")


def test_variables_count_at_call_time(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SGS_LOCK_TIMEOUT", "7.5")
    monkeypatch.setenv("SGS_DATA_DIR", str(tmp_path))
    assert config.lock_timeout_s() == 7.5
    assert config.data_root() == tmp_path.resolve()
    monkeypatch.delenv("SGS_LOCK_TIMEOUT")
    monkeypatch.setenv("SGS_DATA_DIR", "   ")
    assert config.lock_timeout_s() == 600
    assert config.data_root() == (Path.cwd() / "data").resolve()


def test_an_edited_settings_file_counts_at_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "settings.toml"
    shutil.copy(PROJECT_ROOT / "config" / "settings.toml", path)
    monkeypatch.setenv("SGS_SETTINGS_FILE", str(path))
    assert load_settings().deadline_workdays == 7
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("deadline_workdays = 7", "deadline_workdays = 9"), "utf-8")
    assert load_settings().deadline_workdays == 9
    monkeypatch.setenv("SGS_DEADLINE_WORKDAYS", "4")
    assert load_settings().deadline_workdays == 4


def test_an_edited_units_file_counts_at_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "units.csv"
    shutil.copy(PROJECT_ROOT / "config" / "units.csv", path)
    monkeypatch.setenv("SGS_UNITS_FILE", str(path))
    before = load_units().height
    with path.open("a", encoding="utf-8") as fh:
        fh.write("91140400MA0XXXXXXX,新增测试单位,department,\n")
    after = load_units()
    assert after.height == before + 1
    assert "新增测试单位" in after["name"].to_list()


def test_a_replaced_file_with_the_same_size_and_time_still_counts(tmp_path: Path) -> None:
    """The inode is part of the fingerprint: an editor that writes a new file is noticed."""
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_text("x = 1\n")
    b.write_text("x = 2\n")
    stat = a.stat()
    import os

    os.utime(b, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    before = config.fingerprint(a)
    b.replace(a)
    assert config.fingerprint(a) != before
