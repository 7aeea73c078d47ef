"""HTTP for runs: `HttpxCaller` (the Caller over any httpx transport: mocks, hybrid runs' mocked
calls, tests, and live calls when `callers.LIVE_CALLER` says so), the httpx-aiohttp live
transport, and how transport failures are classified. What every Caller does alike (redirects,
size limits, decoding, proxies, TLS) is in `wire`.

`HttpxCaller` tags every request with extensions the transports read instead of parsing URLs:
`TARGET` (`Service.action`), `BODY` (the body as a Python value, so mocks need not decode what
the engine just encoded) and `RUN` (the run id). A transport may tag a response with `BODY` too.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from dataclasses import replace
from typing import Any, cast

import httpx

from engine.runtime.ports import CallFailed, CallRequest, CallResponse
from engine.runtime.wire import (
    USER_AGENT,
    HttpSettings,
    ResponseTooLarge,
    decode_body,
    follow,
    following,
    proxy_for,
    read_limited,
    too_large,
    unreadable,
)

__all__ = [
    "TARGET",
    "BODY",
    "RUN",
    "DEFAULT_LIMITS",
    "HttpxCaller",
    "TransportFailure",
    "make_live_transport",
    "classify_error",
    "describe_error",
    "parse_body",
]


TARGET = "switchboard.target"
BODY = "switchboard.body"
RUN = "switchboard.run"
_MISSING = object()


class TransportFailure(httpx.TransportError):
    """A failure a transport of ours raises on purpose; `kind` is its error type."""

    kind = "connection"


# One pool per engine. Explicit limits because httpx's pool misbehaves under high concurrency
# with its defaults (STYLE.md); 100 keep-alive connections serve 50+ runs in flight.
DEFAULT_LIMITS = httpx.Limits(
    max_connections=200, max_keepalive_connections=100, keepalive_expiry=30.0
)


def make_live_transport(
    limits: httpx.Limits | None = None,
    ssl_context: ssl.SSLContext | None = None,
    proxy: str | None = None,
) -> httpx.AsyncBaseTransport:
    """httpx over aiohttp: measured faster than httpx's own pool, most of all with many runs."""
    import aiohttp
    from httpx_aiohttp import AiohttpTransport

    limits = limits or DEFAULT_LIMITS
    verify: ssl.SSLContext | bool = ssl_context if ssl_context is not None else True

    def session() -> aiohttp.ClientSession:
        # aiohttp would add `Content-Type: application/octet-stream` to a call without a body
        return aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(
                limit=limits.max_connections or 0,
                keepalive_timeout=limits.keepalive_expiry or 30.0,
                ssl=verify,
            ),
            skip_auto_headers=("Content-Type",),
        )

    return AiohttpTransport(
        limits=limits,
        trust_env=False,
        verify=verify,
        client=session,
        proxy=httpx.Proxy(proxy) if proxy else None,
    )


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


def parse_body(response: httpx.Response, raw: bytes | None = None) -> Any:
    """A response body (see `wire.decode_body`); a mock's answer carries it as a value. `raw`
    is the body when it was read from a stream."""
    body = response.extensions.get(BODY, _MISSING)
    if body is not _MISSING:
        return body
    raw = response.content if raw is None else raw
    return decode_body(raw, response.headers.get("content-type", ""))


async def _whole(data: bytes) -> AsyncIterator[bytes]:
    yield data


class HttpxCaller:
    """The Caller over an httpx transport (live, mocked or both): each request goes to the
    transport itself (one pool), as an AsyncClient would send it but without its cookie jar.

    Without a transport it is live (httpx over aiohttp, with `settings`' TLS and the proxy
    variables); with one (a mock, a test's) nothing is read from the environment."""

    def __init__(
        self,
        transport: httpx.AsyncBaseTransport | None = None,
        limits: httpx.Limits | None = None,
        max_response_bytes: int | None = None,
        *,
        settings: HttpSettings | None = None,
    ) -> None:
        self.settings = settings or HttpSettings()
        if max_response_bytes is not None:
            self.settings = replace(self.settings, max_response_bytes=max_response_bytes)
        live = transport is None
        self._limits = limits
        self._ssl = self.settings.ssl_context() if live else None
        # proxies chosen per request by `wire.proxy_for`, as AiohttpCaller does (httpx reads
        # no proxy variables for a client given its own transport)
        self._proxies = self.settings.proxies() if live else {}
        self._proxied: dict[str, httpx.AsyncBaseTransport] = {}
        self.transport = (
            transport if transport is not None else make_live_transport(limits, self._ssl)
        )
        self.max_response_bytes = self.settings.max_response_bytes

    def _transport_for(self, url: str) -> httpx.AsyncBaseTransport:
        proxy = proxy_for(url, self._proxies) if self._proxies else None
        if proxy is None:
            return self.transport
        transport = self._proxied.get(proxy)
        if transport is None:
            transport = make_live_transport(self._limits, self._ssl, proxy)
            self._proxied[proxy] = transport
        return transport

    async def call(self, request: CallRequest) -> CallResponse:
        if not following(request, self.settings):
            return await self._once(request)  # the common case, without follow's frame
        return await follow(self._once, request, self.settings)

    async def _once(self, request: CallRequest) -> CallResponse:
        t = request.timeout
        extensions = {
            TARGET: request.target,
            BODY: request.body,
            RUN: request.run_id,
            "timeout": {"connect": t, "read": t, "write": t, "pool": t},
        }
        req = httpx.Request(
            request.method,
            request.url,
            headers=request.headers,
            content=request.content,
            extensions=extensions,
        )
        if "user-agent" not in req.headers:
            req.headers["User-Agent"] = USER_AGENT  # as AiohttpCaller's session sends it
        target = request.target
        limit = request.max_response_bytes or self.max_response_bytes
        try:
            # the transport itself, not AsyncClient.send: no cookie jar (the engine never
            # uses cookies; it was a fifth of a mocked call), redirects and timeouts are ours
            response = await self._transport_for(request.url).handle_async_request(req)
            response.request = req
            try:
                # a mock's answer carries its body as a value already: nothing to read
                if BODY in response.extensions:
                    raw = b""
                elif response.is_stream_consumed:  # a transport's answer made whole (a test's)
                    raw = await read_limited(_whole(response.content), "", None, limit)
                else:
                    # closed here, not when collected: a body cut short (too large, bad gzip)
                    # must not leave its generator's cleanup to a task of its own later
                    async with aclosing(
                        cast(AsyncGenerator[bytes, None], response.aiter_raw())
                    ) as chunks:
                        raw = await read_limited(
                            chunks,
                            response.headers.get("content-encoding", ""),
                            response.headers.get("content-length"),
                            limit,
                        )
            finally:
                await response.aclose()
        except TransportFailure as e:
            raise CallFailed(e.kind, f"{target}: {e}") from None
        except (httpx.HTTPError, httpx.InvalidURL) as e:
            raise CallFailed(classify_error(e), f"{target}: {describe_error(e)}") from None
        except ResponseTooLarge:
            raise too_large(target, response.status_code, limit) from None
        except (asyncio.CancelledError, KeyboardInterrupt, SystemExit):
            raise
        except Exception as e:  # a broken answer (not HTTP, a huge header) is the call's failure
            raise unreadable(target, e) from None
        return CallResponse(response.status_code, response.headers, parse_body(response, raw))

    def run_ended(self, run_id: str) -> None:
        ended = getattr(self.transport, "run_ended", None)
        if ended is not None:
            ended(run_id)

    async def aclose(self) -> None:
        for transport in [*self._proxied.values(), self.transport]:
            await transport.aclose()
