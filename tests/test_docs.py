"""The reference documents follow the code: docs/standard.md and docs/policy.md.

A newcomer reads docs/ instead of notes kept outside the repository, so these tests keep the
documents honest: the generated tables of docs/standard.md are what the catalogue renders today,
every setting and every rule code is explained, every path a document names exists, and the
code points at docs/ rather than at the outside notes.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import fields
from pathlib import Path

import pytest

from sgs.config import PROJECT_ROOT
from sgs.reference.catalogue import load_catalogue
from sgs.reference.settings import Settings
from sgs.report.standard_docs import generated_blocks, update_generated

DOCS = PROJECT_ROOT / "docs"
STANDARD = DOCS / "standard.md"
POLICY = DOCS / "policy.md"
README = PROJECT_ROOT / "README.md"

# Paths a document names on purpose although they do not exist: the README says that no 2027
# holidays file is shipped (the State Council notice is not out).
ABSENT_ON_PURPOSE = {"config/holidays/2027.toml"}


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _prose(markdown: str) -> str:
    """The hand-written part of docs/standard.md: the generated blocks removed."""
    return re.sub(r"<!-- generated: .*?<!-- end generated -->", "", markdown, flags=re.DOTALL)


# ----------------------------------------------------------------------------- standard.md


def test_standard_doc_generated_blocks_are_current():
    committed = _text(STANDARD)
    assert update_generated(committed) == committed, "run: sgs standard --update-docs"


def test_standard_doc_holds_every_generated_block_once():
    names = re.findall(r"<!-- generated: ([a-z0-9-]+) -->", _text(STANDARD))
    assert sorted(names) == sorted(generated_blocks())


def test_update_generated_refuses_unknown_and_missing_blocks():
    """A misspelt marker must fail loudly, not leave a table silently stale."""
    good = "\n".join(
        f"<!-- generated: {name} -->\n<!-- end generated -->" for name in generated_blocks()
    )
    with pytest.raises(ValueError, match="unknown"):
        update_generated(good + "\n<!-- generated: permit-feilds -->\n<!-- end generated -->")
    with pytest.raises(ValueError, match="missing"):
        update_generated(good.replace("<!-- generated: rules -->", "<!-- rules -->"))


def test_update_generated_keeps_the_prose():
    text = _text(STANDARD)
    stale = text.replace("| `XK_XDR_MC` |", "| `XK_XDR_MC_OLD` |", 1)
    assert stale != text
    assert update_generated(stale) == text


def test_every_rule_code_is_named_and_explained_in_standard_doc():
    """In the generated rule table and, in English, in the hand-written prose."""
    cat = load_catalogue()
    codes = [*cat.rules, *cat.ledger_rules]
    text = _text(STANDARD)
    prose = _prose(text)
    assert [c for c in codes if f"`{c}`" not in text] == []
    assert [c for c in codes if f"`{c}`" not in prose] == []


def test_every_catalogue_setting_is_named_in_standard_doc():
    settings = tomllib.loads(_text(PROJECT_ROOT / "schemas" / "standard.toml"))["settings"]
    text = _text(STANDARD)
    assert [k for k in settings if f"`{k}`" not in text] == []


# ----------------------------------------------------------------------------- policy.md


def test_every_setting_is_documented_in_policy_doc():
    """Each key of config/settings.toml and each Settings field, with its SGS_ override."""
    keys = set(tomllib.loads(_text(PROJECT_ROOT / "config" / "settings.toml")))
    keys |= {f.name for f in fields(Settings)}
    text = _text(POLICY)
    assert sorted(k for k in keys if f"`{k}`" not in text) == []
    assert sorted(k for k in keys if f"`SGS_{k.upper()}`" not in text) == []


# ----------------------------------------------------------------------------- paths


def _named_paths(doc: Path) -> list[str]:
    """Relative link targets and backticked docs/, config/, schemas/ paths of a Markdown file,
    as paths relative to the project root.  Placeholders (``<YYYY>``, ``*``, ``…``) are skipped."""
    text = re.sub(r"^```.*?^```", "", _text(doc), flags=re.DOTALL | re.MULTILINE)
    found: list[str] = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        path = (doc.parent / target.split("#", 1)[0]).resolve()
        found.append(str(path.relative_to(PROJECT_ROOT.resolve())))
    for code in re.findall(r"`([^`\n]+)`", text):
        if re.match(r"(docs|config|schemas)/", code) and not re.search(r"[<>*…{}\s]", code):
            found.append(code.rstrip("/"))
    return found


def _missing(doc: Path) -> list[str]:
    named = _named_paths(doc)
    return sorted(
        {p for p in named if p not in ABSENT_ON_PURPOSE and not (PROJECT_ROOT / p).exists()}
    )


@pytest.mark.parametrize("doc", sorted(DOCS.glob("*.md")), ids=lambda p: p.name)
def test_paths_named_in_docs_exist(doc):
    assert _missing(doc) == []


def test_path_finder_sees_links_and_backticked_paths():
    """Guards the test above against a regex that silently finds nothing."""
    named = _named_paths(STANDARD)
    assert "docs/policy.md" in named
    assert "schemas/standard.toml" in named


def test_paths_named_in_readme_exist():
    assert _missing(README) == []


def test_paths_absent_on_purpose_are_absent():
    assert [p for p in ABSENT_ON_PURPOSE if (PROJECT_ROOT / p).exists()] == []


# ----------------------------------------------------------------------------- code


def test_code_points_at_docs_not_at_outside_notes():
    """Docstrings and comments name docs/policy.md and docs/standard.md, which ship with the repo."""
    named = [
        str(path.relative_to(PROJECT_ROOT))
        for path in sorted((PROJECT_ROOT / "src").rglob("*"))
        if path.is_file()
        and "__pycache__" not in path.parts
        and (b"POLICY.md" in path.read_bytes() or b"STANDARD.md" in path.read_bytes())
    ]
    assert named == []
