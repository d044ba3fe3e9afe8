"""Who the client is and which scheme it used: decided from ``SGS_TRUSTED_PROXIES`` only.

uvicorn trusts ``X-Forwarded-For`` and ``X-Forwarded-Proto`` from 127.0.0.1 by default, so
behind no proxy at all anyone on the machine could name any client address (and never be
throttled) or switch the Secure flag on.  Here one setting decides both places:

- **uvicorn** (:meth:`Proxies.uvicorn_options`) reads forwarded headers only when
  ``SGS_TRUSTED_PROXIES`` is set, and then only from those peers (``forwarded_allow_ips``,
  the networks as :func:`sgs.web.throttle.parse_proxies` reads them); otherwise
  ``proxy_headers`` is off.  So its access log names the same client the app does.
- **The app** (:meth:`Proxies.__call__`, by :class:`sgs.web.auth.Guard` before anything
  else) resolves the client address (:class:`sgs.web.throttle.ClientAddress`) and, for a
  trusted peer only, the scheme of ``X-Forwarded-Proto``; it writes both into the request's
  scope, where the throttle, the Secure flag of the cookies (:func:`sgs.web.csrf.secure_cookies`)
  and every later reader take them.  Under uvicorn the headers are already applied (the peer
  is then the client, not a proxy, so nothing is applied twice); under any other server (the
  test client) this is where they are applied.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import Scope

from sgs.web.throttle import CLIENT_KEY, ClientAddress, parse_proxies

SCHEMES = frozenset({"http", "https"})


class Proxies:
    """The trusted proxies, and what follows from them."""

    def __init__(self, trusted: Iterable[str] = ()) -> None:
        self.trusted = tuple(sorted(trusted))
        self._names, self._networks = parse_proxies(self.trusted)
        self._address = ClientAddress(self.trusted)

    def uvicorn_options(self) -> dict[str, object]:
        """``proxy_headers`` and ``forwarded_allow_ips`` for :class:`uvicorn.Config`."""
        if not self.trusted:
            return {"proxy_headers": False}
        allowed = [str(n) for n in self._networks] + sorted(self._names)
        return {"proxy_headers": True, "forwarded_allow_ips": allowed}

    def peer_trusted(self, scope: Scope) -> bool:
        peer = scope.get("client")
        if not peer or not self.trusted:
            return False
        return self._address.trusted(peer[0])

    def __call__(self, scope: Scope) -> str:
        """The client's address (also left in ``scope[CLIENT_KEY]`` and ``scope["client"]``);
        the scheme of a trusted proxy's ``X-Forwarded-Proto`` into ``scope["scheme"]``."""
        if self.peer_trusted(scope):
            proto = [v for k, v in scope.get("headers", []) if k.lower() == b"x-forwarded-proto"]
            scheme = proto[-1].decode("latin-1").split(",")[-1].strip().lower() if proto else ""
            if scheme in SCHEMES:
                scope["scheme"] = scheme
        client = self._address(scope)
        scope[CLIENT_KEY] = client
        peer = scope.get("client")
        if peer is None or peer[0] != client:
            scope["client"] = (client, peer[1] if peer else 0)
        return client
