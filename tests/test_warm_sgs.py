"""The tests' warm `sgs` (tests/support/warm_sgs.py) answers as the installed command does:
same exit status, standard output and standard error, in the caller's folder and environment —
the guarantee every test that runs `sgs` through it relies on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from support import warm_sgs
from support.upload_files import permits_csv

SGS = Path(sys.executable).with_name("sgs")


def both(args: list[str], cwd: Path, env: dict[str, str], stdin: str = "") -> tuple:
    cold = subprocess.run([str(SGS), *args], cwd=cwd, env=env, input=stdin,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    warm = warm_sgs.run(args, cwd=cwd, env=env, input=stdin, timeout=120)
    return (cold.returncode, cold.stdout, cold.stderr), (warm.returncode, warm.stdout, warm.stderr)


def test_the_warm_command_answers_as_the_installed_one(tmp_path):
    (tmp_path / "许可.csv").write_bytes(permits_csv(3, broken=1))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SGS_")}
    env |= {"SGS_DATA_DIR": str(tmp_path / "data"), "TZ": "America/New_York",
            "SGS_TODAY": "2026-11-30"}  # fmt: skip
    for args in (["validate", "许可.csv", "--json"],  # a relative path: the caller's folder
                 ["validate", "许可.csv"],  # exit 1, the Chinese summary
                 ["validate", "没有.csv"],  # exit 2, a message on stderr
                 ["workdays", "is", "2026-10-03"],
                 ["nosuch"],  # a usage error
                 ["ingest", "许可.csv", "--unit", "长治市市场监督管理局", "--json"]):  # fmt: skip
        cold, warm = both(args, tmp_path, env)
        if args[0] == "ingest":  # the second ingest of the same bytes is skipped: compare status
            assert warm[0] == cold[0] == 0 and '"skipped"' in warm[1], (cold, warm)
            continue
        assert warm == cold, args


def test_a_command_past_its_time_is_stopped(tmp_path):
    import pytest
    from support.web_server import free_port

    with pytest.raises(subprocess.TimeoutExpired):  # a server runs until it is stopped
        warm_sgs.run(["serve", "--port", str(free_port())], cwd=tmp_path, timeout=5,
                     env={**os.environ, "SGS_DATA_DIR": str(tmp_path / "data")})  # fmt: skip
    done = warm_sgs.run(["--version"], cwd=tmp_path)  # the warm one still answers after it
    assert done.returncode == 0 and done.stdout.startswith("sgs ")
