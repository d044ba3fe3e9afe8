"""How ``sgs serve`` runs uvicorn: what it trusts, and how it stops.

- **Forwarded headers** only from ``SGS_TRUSTED_PROXIES`` (:mod:`sgs.web.proxies`): uvicorn's
  own default trusts 127.0.0.1, which let anyone on the machine name any client address.
- **Stopping within seconds.**  On SIGTERM or Ctrl-C uvicorn stops accepting, lets running
  requests finish for :data:`GRACEFUL_S` seconds and then cancels them (its
  ``timeout_graceful_shutdown``; without it a long file check held the server indefinitely).
  A cancelled check kills its process and removes its folder on the way out
  (:mod:`sgs.web.checkpool`); a process that outlives the server ends itself.
- **Warm checks.**  The check processes' forkserver starts with the server, so the first
  check does not pay for importing the validator.
"""

from __future__ import annotations

GRACEFUL_S = 5


def run_server(app, host: str, port: int) -> None:
    """Serve ``app`` (:func:`sgs.web.app.create_app`) until a signal stops it."""
    import uvicorn

    from sgs.web.checkpool import warm_up

    warm_up()
    uvicorn.run(
        app, host=host, port=port, log_level="info", server_header=False,
        timeout_graceful_shutdown=GRACEFUL_S, **app.state.proxies.uvicorn_options(),
    )  # fmt: skip
