"""Throttling of wrong passwords and tokens, per client address.

Decisions:

- **What counts as a guess**: a wrong password on ``POST /login`` (an empty one too) and a
  request whose ``Authorization: Bearer`` token authenticates nobody.  A bad or expired session
  cookie does not count: a browser keeps sending its old cookie after a restart of the server
  (which ends every session), and a cookie is signed, so guessing one is hopeless anyway.
- **How many**: :data:`MAX_FAILURES` guesses within :data:`WINDOW_S` seconds (a sliding
  window: each guess is forgotten :data:`WINDOW_S` seconds after it was made) block the
  address for :data:`BLOCK_S` seconds.  While it is blocked *every* request from it is
  answered 429 with ``Retry-After`` — before credentials are looked at, so a right password
  or token is 429 too and a blocked guesser learns nothing; asking again does not lengthen
  the block (people behind the same address would otherwise stay locked out for as long as an
  attack goes on).  After the block the address starts afresh.
- **A success does not wipe the count**: one's own valid token would otherwise reset the
  count of guesses at someone else's (a unit's account guessing the office secret); the
  guesses simply age out of the window.
- **Which address**: the socket's peer, unless that peer is one of ``$SGS_TRUSTED_PROXIES``
  (addresses or networks such as ``10.0.0.0/8``); then the right-most address of
  ``X-Forwarded-For`` that is not itself a trusted proxy — the one the nearest trusted proxy
  saw.  Anything left of it was written by the client and could be anything, so it is never
  used; without a trusted peer the header is ignored.  :mod:`sgs.web.proxies` applies this
  (and the scheme) once per request, and starts uvicorn with the same trust.
- **Bounded memory**: at most :data:`MAX_CLIENTS` addresses are remembered; the one least
  recently seen goes first.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from starlette.types import Scope

MAX_FAILURES = 20
WINDOW_S = 600.0
BLOCK_S = 900.0
MAX_CLIENTS = 10_000
MAX_ADDRESS_LENGTH = 64  # a forwarded "address" that is not one is kept as (short) text
CLIENT_KEY = "sgs.client"
UNKNOWN_CLIENT = "unknown"

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass
class _Record:
    failures: deque[float] = field(default_factory=deque)
    blocked_until: float = 0.0


class Throttle:
    """Failed attempts per client; thread-safe (the app's sync handlers run in threads).

    ``now`` is the clock (seconds, monotonic); a test passes its own to let time pass.
    """

    def __init__(
        self,
        max_failures: int = MAX_FAILURES,
        window_s: float = WINDOW_S,
        block_s: float = BLOCK_S,
        max_clients: int = MAX_CLIENTS,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.block_s = block_s
        self.max_clients = max_clients
        self._now = now
        self._clients: OrderedDict[str, _Record] = OrderedDict()
        self._mutex = threading.Lock()

    def retry_after(self, client: str) -> int | None:
        """Whole seconds until ``client`` may try again, or None when it is not blocked."""
        now = self._now()
        with self._mutex:
            record = self._clients.get(client)
            if record is None or record.blocked_until <= now:
                return None
            return max(1, math.ceil(record.blocked_until - now))

    def failed(self, client: str) -> None:
        """Count one wrong password or token; block the client at the limit."""
        now = self._now()
        with self._mutex:
            record = self._clients.pop(client, None) or _Record()
            self._clients[client] = record  # now the most recently seen
            if record.blocked_until > now:
                return  # already blocked: asking again does not lengthen the block
            failures = record.failures
            while failures and failures[0] <= now - self.window_s:
                failures.popleft()
            failures.append(now)
            if len(failures) >= self.max_failures:
                record.blocked_until = now + self.block_s
                failures.clear()  # after the block the address starts afresh
            while len(self._clients) > self.max_clients:
                self._clients.popitem(last=False)

    def __len__(self) -> int:
        return len(self._clients)


# --- which client ---------------------------------------------------------------------------


def parse_proxies(entries: Iterable[str]) -> tuple[frozenset[str], tuple[Network, ...]]:
    """``$SGS_TRUSTED_PROXIES`` entries as networks (a single address is a /32 or /128);
    an entry that is no address (a host name) is matched as written."""
    names: set[str] = set()
    networks: list[Network] = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            names.add(entry)
    return frozenset(names), tuple(networks)


class ClientAddress:
    """The address a request is counted under (see the module's decisions)."""

    def __init__(self, trusted: Iterable[str] = ()) -> None:
        self._names, self._networks = parse_proxies(trusted)

    def trusted(self, address: str) -> bool:
        """Whether ``address`` is one of the trusted proxies (:mod:`sgs.web.proxies`)."""
        return self._trusted(_normal(address))

    def _trusted(self, address: str) -> bool:
        if address in self._names:
            return True
        parsed = _address(address)
        return parsed is not None and any(parsed in net for net in self._networks)

    def __call__(self, scope: Scope) -> str:
        peer = scope.get("client")
        address = _normal(peer[0]) if peer else UNKNOWN_CLIENT
        if not self._trusted(address):
            return address
        forwarded = [
            value.decode("latin-1")
            for name, value in scope.get("headers", [])
            if name.lower() == b"x-forwarded-for"
        ]
        hops = [_normal(h) for h in ",".join(forwarded).split(",") if h.strip()]
        for hop in reversed(hops):
            if not self._trusted(hop):
                return hop
            address = hop
        return address  # every hop a trusted proxy: the left-most of them


def _address(text: str) -> Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _normal(text: str) -> str:
    """One spelling per address (``::FFFF:1.2.3.4`` ≠ ``::ffff:1.2.3.4`` would be two clients);
    a ``host:port`` or ``[v6]:port`` some proxies write loses its port."""
    text = text.strip()
    parsed = _address(text)
    if parsed is None and text.startswith("[") and "]" in text:
        parsed = _address(text[1 : text.index("]")])
    if parsed is None and text.count(":") == 1:
        parsed = _address(text.partition(":")[0])
    if parsed is None:
        return text[:MAX_ADDRESS_LENGTH]
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    return str(parsed)
