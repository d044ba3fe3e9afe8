"""Logging in the way a browser does: fetch the form (which hands out the CSRF token and its
cookie), then post it with the token."""

from __future__ import annotations

import re

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
