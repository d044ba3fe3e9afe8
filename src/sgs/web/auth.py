"""Who may see the download page, and the headers every response carries.

Decisions:

- **Access.**  One shared secret (password or token) from ``$SGS_WEB_PASSWORD``; ``sgs serve``
  generates a random one at start-up when none is set, so the page never runs unprotected.
  People log in with a form (``POST /login``, compared with :func:`hmac.compare_digest`) that
  sets a signed session cookie (HttpOnly, SameSite=Strict, 8 hours); scripts send
  ``Authorization: Bearer <secret>``.  The cookie is signed with a key drawn at start-up and
  derived from the secret, so a restart or a changed secret ends every session; logging out
  revokes the session on the server too.  Everything except ``/login`` and ``/logout`` answers
  401 without valid credentials (the 401 page is the login form) — before routing, so an
  unauthenticated request learns nothing about which paths exist.  A failed login waits a
  moment (:data:`FAILED_LOGIN_DELAY_S`), to slow guessing.  After logging in, the form
  returns to the page first asked for (a link from the Prefect UI to a Data Docs page opens
  that page), but only to one of the app's own pages as a local path
  (:func:`sgs.web.views.return_to`), never to an address of someone else's choosing.
- **Headers.**  A strict Content-Security-Policy (nothing but inline styles — the chart is
  inline SVG, so not even images; forms post only here; no framing),
  ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer``,
  ``Cache-Control: no-store`` on every response.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sgs.config import web_password
from sgs.web.views import login_page

PASSWORD_ENV = "SGS_WEB_PASSWORD"
COOKIE = "sgs_session"
SESSION_SECONDS = 8 * 3600
FAILED_LOGIN_DELAY_S = 0.3
PUBLIC_PATHS = frozenset({"/login", "/logout"})

SECURITY_HEADERS = {
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}


class Auth:
    """The shared secret, the session-signing key and the sessions ended by logging out."""

    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()
        # A fresh key per start: restarting the server (or changing the secret) ends sessions.
        self._key = hmac.new(secrets.token_bytes(32), self._secret, "sha256").digest()
        self._revoked: dict[str, int] = {}
        self._mutex = threading.Lock()

    def secret_ok(self, given: str | bytes) -> bool:
        """Constant-time comparison, so response timing does not reveal the secret."""
        raw = given if isinstance(given, bytes) else given.encode()
        return hmac.compare_digest(raw, self._secret)

    def _sign(self, payload: str) -> str:
        return hmac.new(self._key, payload.encode(), "sha256").hexdigest()

    def issue(self) -> str:
        """A session value ``expiry.nonce.signature``: nothing to store until logout."""
        payload = f"{int(time.time()) + SESSION_SECONDS}.{secrets.token_urlsafe(12)}"
        return f"{payload}.{self._sign(payload)}"

    def _parse(self, value: str) -> tuple[int, str] | None:
        """Expiry and nonce of a well-signed, unexpired, unrevoked session, else None."""
        parts = value.split(".")
        if len(parts) != 3 or not parts[0].isascii() or not parts[0].isdigit():
            return None
        expiry, nonce, signature = int(parts[0]), parts[1], parts[2]
        if not hmac.compare_digest(signature, self._sign(f"{parts[0]}.{nonce}")):
            return None
        if expiry < time.time():
            return None
        with self._mutex:
            if nonce in self._revoked:
                return None
        return expiry, nonce

    def session_ok(self, value: str | None) -> bool:
        return bool(value) and self._parse(value) is not None  # type: ignore[arg-type]

    def revoke(self, value: str | None) -> None:
        """End a session on the server too: a copied cookie stops working at logout."""
        parsed = self._parse(value) if value else None
        if parsed is None:
            return
        now = time.time()
        with self._mutex:
            self._revoked = {n: e for n, e in self._revoked.items() if e >= now}
            self._revoked[parsed[1]] = parsed[0]

    def request_ok(self, request: Request) -> bool:
        """A valid session cookie, or the secret as a bearer token (for scripts)."""
        if self.session_ok(request.cookies.get(COOKIE)):
            return True
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        # Header values arrive decoded as Latin-1; their bytes are the UTF-8 of a Chinese secret.
        raw = token.strip().encode("latin-1")
        return scheme.lower() == "bearer" and bool(raw) and self.secret_ok(raw)


class Guard:
    """ASGI middleware: security headers on every response; 401 before routing without auth."""

    def __init__(self, app: ASGIApp, auth: Auth) -> None:
        self.app = app
        self.auth = auth

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
        if scope["path"] in PUBLIC_PATHS or self.auth.request_ok(request):
            await self.app(scope, receive, send_with_headers)
        else:
            await login_page(request, status=401)(scope, receive, send_with_headers)


def configured_secret() -> str | None:
    """``$SGS_WEB_PASSWORD`` if set and not blank."""
    return web_password()


def generated_secret() -> str:
    """A one-off token for a start without a configured password (never run unprotected)."""
    return secrets.token_urlsafe(18)
