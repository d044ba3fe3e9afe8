"""Cross-site request forgery: every form the app renders carries a token that a forged POST
cannot know.

Decisions:

- **Double submit.**  A random token in its own cookie (``sgs_csrf``: HttpOnly, SameSite=Strict,
  the session's Secure rule) and the same token in a hidden field of every form; a POST
  authenticated by the session cookie — and the login form, which has no session yet — must send
  both, equal, or it gets 403.  Another site can make a browser send the cookie but cannot read
  it to fill the field.  The token lives as long as the browser keeps it, so several tabs and
  the login page all work with one token.
- **Bearer calls need none**: a browser never adds an ``Authorization`` header by itself, so a
  request authenticated that way cannot be forged from another site.
- **Checked after the body is read**, by the handler, so that a too-large upload is answered
  413 before the 403 of a missing token (the order the office's scripts rely on).
"""

from __future__ import annotations

import hmac
import re
import secrets

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from sgs.config import cookie_secure
from sgs.web.accounts import via_bearer

CSRF_COOKIE = "sgs_csrf"
CSRF_FIELD = "csrf"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32,64}")
REFUSED = "表单已失效或来源不明（缺少有效的校验码），请刷新页面后重新提交。"


def secure_cookies(request: Request) -> bool:
    """Secure cookies over https, and behind a TLS proxy when the setting says so."""
    return request.url.scheme == "https" or cookie_secure()


def csrf_token(request: Request) -> str:
    """The browser's token, or a new one (remembered on the request, set by :func:`attach`)."""
    state = request.scope.setdefault("sgs.csrf", {})
    if "token" not in state:
        held = request.cookies.get(CSRF_COOKIE, "")
        state["token"] = held if _TOKEN.fullmatch(held) else secrets.token_urlsafe(32)
        state["new"] = state["token"] != held
    return state["token"]


def attach(request: Request, response: Response) -> Response:
    """Set the token's cookie on a response whose page handed out a new token."""
    state = request.scope.get("sgs.csrf", {})
    if state.get("new"):
        response.set_cookie(
            CSRF_COOKIE, state["token"], httponly=True, samesite="strict",
            secure=secure_cookies(request), path="/",
        )  # fmt: skip
    return response


def check(request: Request, sent: object) -> None:
    """403 unless the form's token equals the cookie's (a bearer request needs none)."""
    if via_bearer(request):
        return
    held = request.cookies.get(CSRF_COOKIE, "")
    if not (isinstance(sent, str) and _TOKEN.fullmatch(held) and _TOKEN.fullmatch(sent)):
        raise HTTPException(403, REFUSED)
    if not hmac.compare_digest(sent, held):
        raise HTTPException(403, REFUSED)
