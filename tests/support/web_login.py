"""Logging in the way a browser does: fetch the form (which hands out the CSRF token and its
cookie), then post it with the token."""

from __future__ import annotations

import json
import re
from pathlib import Path

CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(client, path: str = "/login") -> str:
    """The CSRF token of the form on ``path`` (its cookie is now in the client's jar)."""
    page = client.get(path)
    found = CSRF_FIELD.search(page.text)
    assert found, f"no CSRF field on {path}"
    return found.group(1)


def login(client, password: str, **fields: str):
    """POST the login form as a browser would; returns the response (not followed)."""
    data = {"password": password, "csrf": csrf_of(client), **fields}
    return client.post("/login", data=data, follow_redirects=False)


def token_for(root: Path, *args: str) -> str:
    """A new account's token, made as the office makes it: ``sgs users add … --json``."""
    from click.testing import CliRunner

    from sgs.cli.main import main

    r = CliRunner().invoke(main, ["users", "add", *args, "--json"], env={"SGS_DATA_DIR": str(root)})
    assert r.exit_code == 0, r.output
    return json.loads(r.output)["token"]
