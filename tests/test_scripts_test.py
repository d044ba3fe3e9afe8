"""`SGS_SKIP_SYSTEM_PACKAGES=1 scripts/test` as the README promises: nothing installed with apt,
the tests that need Debian's packages left out and counted (issue 21)."""

from __future__ import annotations

import os
import subprocess

from sgs.config import PROJECT_ROOT


def test_the_suite_without_system_packages_installs_nothing_and_leaves_out_the_system_tests(
    tmp_path,
):
    fake = tmp_path / "bin"
    fake.mkdir()
    calls = tmp_path / "calls"
    for name in ("apt-get", "sudo"):  # stand-ins that only record being called
        (fake / name).write_text(f'#!/bin/sh\necho "{name} $*" >> {calls}\n')
        (fake / name).chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env |= {"SGS_SKIP_SYSTEM_PACKAGES": "1", "PATH": f"{fake}{os.pathsep}{env['PATH']}"}
    proc = subprocess.run(
        [str(PROJECT_ROOT / "scripts" / "test"), "--collect-only",  # scripts/test adds -q
         "-p", "no:cacheprovider", "tests/test_web_browser.py", "tests/test_bulletin_pdf.py",
         "tests/test_web.py"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, (proc.stdout[-2000:], proc.stderr[-2000:])
    assert not calls.exists()  # apt-get was never asked for anything
    assert "the tests marked 'system' are left out" in proc.stderr
    collected = [line for line in proc.stdout.splitlines() if "::" in line]
    assert collected and all("test_web.py::" in line for line in collected)
    assert "test_bulletin_pdf_download_is_the_printed_bulletin" not in proc.stdout
    assert "deselected" in proc.stdout
