"""Who may see the download page, and the headers every response carries.

Decisions:

- **Access.**  The office's shared secret from ``$SGS_WEB_PASSWORD`` (``sgs serve`` generates
  a random one at start-up when none is set, so the page never runs unprotected) or an
  account's token (:mod:`sgs.web.accounts`, one argon2 check).  People log in with a form
  (``POST /login``, with its CSRF token, :mod:`sgs.web.csrf`) that sets a signed session cookie
  (HttpOnly, SameSite=Strict, 8 hours) naming the account, looked up again on every request;
  scripts send ``Authorization: Bearer <secret or token>``.  The cookie is signed with a key
  drawn at start-up and derived from the secret, so a restart or a changed secret ends every
  session; logging out (a POST) revokes the session on the server too.  Everything except ``/login`` and ``/logout`` answers
  401 without valid credentials (the 401 page is the login form; under ``/api/`` the JSON
  error ``{"error": {"code", "message"}}`` the API's callers read) — before routing, so an
  unauthenticated request learns nothing about which paths exist.  A failed login waits a
  moment (:data:`FAILED_LOGIN_DELAY_S`), to slow guessing.
- **Throttling** — :mod:`sgs.web.throttle`: wrong passwords and bearer tokens are counted per
  client address; a blocked address gets 429 with ``Retry-After`` on every request, before
  its credentials are looked at.  So the order of answers is 429 (throttled), 401 (no or bad
  credentials), then whatever the route answers (413 for a too-large body, 403 for a missing
  CSRF token or another unit's data).  After logging in, the form
  returns to the page first asked for (a link from the Prefect UI to a Data Docs page opens
  that page), but only to one of the app's own pages as a local path
  (:func:`sgs.web.views.return_to`), never to an address of someone else's choosing.
- **Headers.**  A strict Content-Security-Policy (nothing but inline styles — the chart is
  inline SVG, so not even images; forms post only here; no framing),
  ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer``,
  ``Cache-Control: no-store`` on every response.
"""

from __future__ import annotations

import functools
import hmac
import math
import re
import secrets
import threading
import time
from collections.abc import Callable

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sgs.config import web_password
from sgs.web.accounts import (
    OFFICE_SECRET_PRINCIPAL,
    PRINCIPAL_KEY,
    VIA_KEY,
    AccountBook,
    Principal,
)
from sgs.web.throttle import CLIENT_KEY, Throttle
from sgs.web.views import login_page, render

PASSWORD_ENV = "SGS_WEB_PASSWORD"
COOKIE = "sgs_session"
SESSION_SECONDS = 8 * 3600
FAILED_LOGIN_DELAY_S = 0.3
PUBLIC_PATHS = frozenset({"/login", "/logout"})
API_PREFIX = "/api/"
UNAUTHORIZED = "未登录或令牌无效：请在请求头 Authorization: Bearer <令牌> 中提供有效令牌。"
OFFICE_SUBJECT = "office"
EXPIRY = re.compile(r"[0-9]{1,12}")
MAX_SESSION_LENGTH = 200
MAX_TOKEN_LENGTH = 512

SECURITY_HEADERS = {
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}


class Auth:
    """The office secret, the accounts, the session-signing key and the sessions ended by
    logging out."""

    def __init__(self, secret: str, book: AccountBook) -> None:
        self._secret = secret.encode()
        self.book = book
        # A fresh key per start: restarting the server (or changing the secret) ends sessions.
        self._key = hmac.new(secrets.token_bytes(32), self._secret, "sha256").digest()
        self._revoked: dict[str, int] = {}
        self._mutex = threading.Lock()

    def secret_ok(self, given: str | bytes) -> bool:
        """Constant-time comparison, so response timing does not reveal the secret."""
        raw = given if isinstance(given, bytes) else given.encode()
        return hmac.compare_digest(raw, self._secret)

    def credential(self, given: str | bytes) -> tuple[str, Principal] | None:
        """Who a password or token is: the office secret or an account's token.

        Returns the session subject (``office`` or the account id) and the principal.
        """
        if self.secret_ok(given):
            return OFFICE_SUBJECT, OFFICE_SECRET_PRINCIPAL
        account = self.book.check(given)
        return None if account is None else (account.id, account.principal)

    def _sign(self, payload: str) -> str:
        return hmac.new(self._key, payload.encode(), "sha256").hexdigest()

    def issue(self, subject: str = "office") -> str:
        """A session value ``expiry.nonce.subject.signature``: nothing to store until logout.

        ``subject`` is ``office`` (the shared secret) or an account id, looked up again on every
        request, so a removed or re-keyed account's sessions end at once.
        """
        payload = f"{int(time.time()) + SESSION_SECONDS}.{secrets.token_urlsafe(12)}.{subject}"
        return f"{payload}.{self._sign(payload)}"

    def _parse(self, value: str) -> tuple[int, str, str] | None:
        """Expiry, nonce and subject of a well-signed, unexpired, unrevoked session, else None.

        Anything longer than a session can be is refused before it is looked at (a 5,000-digit
        cookie must not reach ``int()``).
        """
        if len(value) > MAX_SESSION_LENGTH:
            return None
        parts = value.split(".")
        if len(parts) != 4 or not EXPIRY.fullmatch(parts[0]):
            return None
        expiry_text, nonce, subject, signature = parts
        if not hmac.compare_digest(signature, self._sign(f"{expiry_text}.{nonce}.{subject}")):
            return None
        if int(expiry_text) < time.time():
            return None
        with self._mutex:
            if nonce in self._revoked:
                return None
        return int(expiry_text), nonce, subject

    def session(self, value: str | None) -> Principal | None:
        """The principal of a valid session cookie, else None."""
        parsed = self._parse(value) if value else None
        if parsed is None:
            return None
        subject = parsed[2]
        if subject == OFFICE_SUBJECT:
            return OFFICE_SECRET_PRINCIPAL
        account = self.book.by_id(subject)
        return None if account is None else account.principal

    def session_ok(self, value: str | None) -> bool:
        return self.session(value) is not None

    def revoke(self, value: str | None) -> None:
        """End a session on the server too: a copied cookie stops working at logout."""
        parsed = self._parse(value) if value else None
        if parsed is None:
            return
        now = time.time()
        with self._mutex:
            self._revoked = {n: e for n, e in self._revoked.items() if e >= now}
            self._revoked[parsed[1]] = parsed[0]

    def authenticate(self, request: Request) -> tuple[Principal, str] | None:
        """A valid session cookie, or the secret or a token as a bearer token (for scripts).

        Returns the principal and how it came (``cookie`` or ``bearer``): only cookie-borne
        requests need a CSRF token, since a browser never adds a bearer header by itself.
        """
        found = self.session(request.cookies.get(COOKIE))
        if found is not None:
            return found, "cookie"
        token = bearer_token(request)
        if token is None:
            return None
        hit = self.credential(token)
        return None if hit is None else (hit[1], "bearer")


def bearer_token(request: Request) -> bytes | None:
    """The raw bytes of an ``Authorization: Bearer`` token, or None."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    # Header values arrive decoded as Latin-1; their bytes are the UTF-8 of a Chinese secret.
    raw = token.strip().encode("latin-1", "replace")
    if scheme.lower() != "bearer" or not raw or len(raw) > MAX_TOKEN_LENGTH:
        return None
    return raw


def principal(request: Request) -> Principal:
    """Who the request comes from (set by :class:`Guard` before routing)."""
    return request.scope[PRINCIPAL_KEY]


def require_office(request: Request) -> None:
    """403 for a unit's account: this page is the office's (all units)."""
    if not principal(request).is_office:
        raise HTTPException(403, "此页面仅供信用办查看；单位账户只能查看本单位的数据。")


def office_only(handler: Callable[[Request], Response]) -> Callable[[Request], Response]:
    """A route handler that answers 403 to unit accounts (the office's pages: all units)."""

    @functools.wraps(handler)
    def guarded(request: Request) -> Response:
        require_office(request)
        return handler(request)

    return guarded


def require_unit(request: Request, unit_code: str) -> None:
    """403 unless the request may see ``unit_code`` (the office, or that unit itself)."""
    if not principal(request).may_see(unit_code):
        raise HTTPException(403, "单位账户只能查看本单位的数据。")


class Guard:
    """ASGI middleware: security headers on every response; 429 for a throttled client, then
    401 before routing without credentials; wrong bearer tokens counted."""

    def __init__(
        self, app: ASGIApp, auth: Auth, throttle: Throttle, client_address: Callable[[Scope], str]
    ) -> None:
        self.app = app
        self.auth = auth
        self.throttle = throttle
        self.client_address = client_address

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        request = Request(scope)
        client = scope[CLIENT_KEY] = self.client_address(scope)
        wait = self.throttle.retry_after(client)
        if wait is not None:
            await too_many_attempts(request, wait)(scope, receive, send_with_headers)
            return
        found = self.auth.authenticate(request)
        if found is None and bearer_token(request) is not None:
            self.throttle.failed(client)  # a wrong token: a guess (a stale cookie is not)
        if found is not None:
            scope[PRINCIPAL_KEY], scope[VIA_KEY] = found
        if found is not None or scope["path"] in PUBLIC_PATHS:
            await self.app(scope, receive, send_with_headers)
        elif scope["path"].startswith(API_PREFIX):
            await api_unauthorized()(scope, receive, send_with_headers)
        else:
            await login_page(request, status=401)(scope, receive, send_with_headers)


def api_unauthorized() -> Response:
    """The API's 401: its JSON error, not the login page a script cannot use."""
    body = {"error": {"code": "unauthorized", "message": UNAUTHORIZED}}
    return JSONResponse(body, 401, headers={"www-authenticate": 'Bearer realm="sgs"'})


def too_many_attempts(request: Request, wait: int) -> Response:
    """The 429 page: how long to wait, in minutes (and ``Retry-After`` in seconds)."""
    minutes = math.ceil(wait / 60)
    message = f"口令或令牌错误次数过多，已暂时停止接受来自本地址的请求，请 {minutes} 分钟后再试。"
    response = render(request, "error.html", 429, title="尝试次数过多", message=message,
                      authed=False)  # fmt: skip
    response.headers["retry-after"] = str(wait)
    return response


def count_failure(request: Request) -> None:
    """Count a wrong password from the login form against the request's client address."""
    request.app.state.throttle.failed(request.scope[CLIENT_KEY])


def configured_secret() -> str | None:
    """``$SGS_WEB_PASSWORD`` if set and not blank."""
    return web_password()


def generated_secret() -> str:
    """A one-off token for a start without a configured password (never run unprotected)."""
    return secrets.token_urlsafe(18)
