"""Every command block of the README and of docs/ runs as written (issue 21).

The documents write commands as a user types them after `. .venv/bin/activate`: `sgs …`, paths
relative to the checkout. Each document's ``sh`` blocks run here in order, in one shell per
command, in a scratch folder holding a copy of the sample landing zone (`data/raw`) with the
data root pointed at it (`SGS_DATA_DIR`) and the venv's `bin` first on `PATH`, exactly as after
activating it. A command ends with exit 0 unless the document says otherwise on its line
(`# exits N`). A block the test cannot run (the suite itself, a server that runs until
stopped) is preceded by an HTML comment saying so and naming where it is tested.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import warm_sgs

from sgs.config import PROJECT_ROOT

DOCUMENTS = [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md"))]
NOT_RUN = re.compile(r"<!-- not run by the command-block test: (.+?)-->\s*$", re.S)
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
EXITS = re.compile(r"#\s*exits\s+(\d+)\b")
PDF_PACKAGES = ".pdf"  # a PDF needs Pango and the CJK fonts: the `system` tests' packages


def blocks(doc: Path) -> list[tuple[str, str, str]]:
    """(language, text, what stands before it) of every fenced block."""
    text = doc.read_text(encoding="utf-8")
    return [(m[1], m[2], text[: m.start()].rstrip()) for m in FENCE.finditer(text)]


def commands(doc: Path) -> list[tuple[str, int]]:
    """The commands of a document's runnable blocks, each with its expected exit status."""
    found = []
    for language, body, before in blocks(doc):
        if language != "sh":
            continue
        if NOT_RUN.search(before[-400:]):
            continue
        for line in body.replace("\\\n", " ").splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            expected = EXITS.search(line)
            found.append((line, int(expected[1]) if expected else 0))
    return found


def test_every_block_that_is_not_run_says_why():
    """A skipped block names its reason; a shell block is never silently left out."""
    skipped = []
    for doc in DOCUMENTS:
        for language, _, before in blocks(doc):
            reason = NOT_RUN.search(before[-400:])
            if reason:
                assert language == "sh", doc
                assert re.search(r"tests/test_\w+\.py|suite|until stopped", reason[1]), reason[1]
                skipped.append(doc.name)
    assert "README.md" in skipped  # the two commands


def test_the_documents_have_commands_to_run():
    """Guards the parser: the README's tour and the office's guide are found and run."""
    assert len(commands(PROJECT_ROOT / "README.md")) >= 8
    assert len(commands(PROJECT_ROOT / "docs" / "office.md")) >= 15
    assert next(c for c, _ in commands(PROJECT_ROOT / "README.md")).startswith("sgs validate")


def test_the_readme_tour_shows_figures_as_of_a_day_and_the_unlisted_list():
    """Issue 18: the day's tour shows `--as-of` and the 台账未列 list, and runs them below."""
    run = [c for c, _ in commands(PROJECT_ROOT / "README.md")]
    assert any(c.startswith("sgs rates ") and "--as-of" in c.split() for c in run), run
    assert any(c.startswith("sgs rates ") and "--details unlisted" in c for c in run), run


@pytest.mark.parametrize(
    "doc",
    [d for d in DOCUMENTS if commands(d)],
    ids=lambda d: d.name,
)
def test_the_commands_of_a_document_run_as_written(doc, tmp_path, request):
    run = commands(doc)
    if any(PDF_PACKAGES in c for c, _ in run):
        request.applymarker(pytest.mark.system)
    shutil.copytree(PROJECT_ROOT / "data" / "raw", tmp_path / "data" / "raw")
    venv_bin = Path(sys.executable).parent
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SGS_", "PREFECT_API"))}
    env |= {"SGS_DATA_DIR": str(tmp_path / "data"), "HOME": str(tmp_path / "home"),
            "PATH": f"{venv_bin}{os.pathsep}{env.get('PATH', '')}",
            "VIRTUAL_ENV": str(venv_bin.parent)}  # fmt: skip
    for command, expected in run:
        proc = run_command(command, tmp_path, env)
        assert proc.returncode == expected, (command, proc.stdout[-1500:], proc.stderr[-1500:])


def run_command(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """A command as the shell runs it.  A plain `sgs …` (at most its standard output sent to a
    file) is what the shell would exec: it goes to the tests' warm `sgs` (a real process with
    these arguments, folder and environment, without paying for the imports again); anything
    else runs in bash."""
    words = shlex.split(command, comments=True)
    out = None
    if len(words) > 2 and words[-2] == ">":
        words, out = words[:-2], words[-1]
    plain = words and words[0] == "sgs" and not any(set(w) & set("|&;<>$`*?") for w in words)
    if not plain:
        return subprocess.run(["bash", "-c", command], cwd=cwd, env=env,
                              capture_output=True, text=True, timeout=300)  # fmt: skip
    done = warm_sgs.run(words[1:], cwd=cwd, env=env, timeout=300)
    if out is not None:
        (cwd / out).write_text(done.stdout, encoding="utf-8")
        done.stdout = ""
    return done
