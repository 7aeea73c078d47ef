"""Live HTTP for runs: the aiohttp-backed httpx transport, the client factory, error classification.

The runner tags every request with extensions the transports read instead of parsing URLs:
`TARGET` (`Service.action`) and `BODY` (the JSON body as a Python value, so mocks need not
decode what the runner just encoded). A transport may tag a response with `BODY` too.
"""

from __future__ import annotations

from typing import Any

import httpx

__all__ = [
    "TARGET",
    "BODY",
    "DEFAULT_LIMITS",
    "make_live_transport",
    "make_client",
    "classify_error",
]

TARGET = "switchboard.target"
BODY = "switchboard.body"

# One pool per engine. Explicit limits because httpx's pool misbehaves under high concurrency
# with its defaults (STYLE.md); 100 keep-alive connections serve 50+ runs in flight.
DEFAULT_LIMITS = httpx.Limits(max_connections=200, max_keepalive_connections=100,
                              keepalive_expiry=30.0)
# Per-attempt limits are enforced by the runner's clock; these are the outer bounds.
DEFAULT_TIMEOUT = httpx.Timeout(300.0, connect=30.0)


def make_live_transport(limits: httpx.Limits | None = None) -> httpx.AsyncBaseTransport:
    """httpx over aiohttp: measured faster than httpx's own pool, most of all with many runs."""
    from httpx_aiohttp import AiohttpTransport

    return AiohttpTransport(limits=limits or DEFAULT_LIMITS, trust_env=False)


def make_client(transport: httpx.AsyncBaseTransport) -> httpx.AsyncClient:
    """The one AsyncClient of an engine."""
    return httpx.AsyncClient(transport=transport, timeout=DEFAULT_TIMEOUT, trust_env=False,
                             follow_redirects=False)


def _is_aiohttp_timeout(exc: BaseException) -> bool:
    try:
        import aiohttp
    except ImportError:  # pragma: no cover - aiohttp is a dependency
        return False
    return isinstance(exc, (aiohttp.ServerTimeoutError, TimeoutError))


def classify_error(exc: BaseException) -> str:
    """`timeout` or `connection` for a transport failure.

    httpx-aiohttp maps every aiohttp connection error to `httpx.ConnectTimeout`, a dropped
    connection included; the aiohttp exception it chains from tells what really happened.
    """
    cause = exc.__cause__
    if cause is not None and type(cause).__module__.startswith("aiohttp"):
        return "timeout" if _is_aiohttp_timeout(cause) else "connection"
    if isinstance(exc, (httpx.TimeoutException, TimeoutError)):
        return "timeout"
    return "connection"


def describe_error(exc: BaseException) -> str:
    """A short message for a transport failure, without the exception class noise."""
    cause: Any = exc.__cause__
    text = str(exc) or (str(cause) if cause is not None else "") or type(exc).__name__
    return text
