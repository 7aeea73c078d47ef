"""HTTP for runs: `HttpxCaller` (the Caller over any httpx transport), the aiohttp-backed live
transport, and how transport failures are classified.

`HttpxCaller` tags every request with extensions the transports read instead of parsing URLs:
`TARGET` (`Service.action`), `BODY` (the body as a Python value, so mocks need not decode what
the engine just encoded) and `RUN` (the run id). A transport may tag a response with `BODY` too.
"""

from __future__ import annotations

import asyncio
import base64
import json
import zlib
from typing import Any

import httpx

from engine.runtime.ports import CallFailed, CallRequest, CallResponse

__all__ = [
    "TARGET",
    "BODY",
    "RUN",
    "DEFAULT_LIMITS",
    "HttpxCaller",
    "TransportFailure",
    "make_live_transport",
    "make_client",
    "classify_error",
    "describe_error",
    "parse_body",
]

MAX_RESPONSE_BYTES = 10 * 1024 * 1024  # a response body (after decompression) may be this big

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
# Per-attempt limits are enforced by the runner's clock; these are the outer bounds.
DEFAULT_TIMEOUT = httpx.Timeout(300.0, connect=30.0)


def make_live_transport(limits: httpx.Limits | None = None) -> httpx.AsyncBaseTransport:
    """httpx over aiohttp: measured faster than httpx's own pool, most of all with many runs."""
    from httpx_aiohttp import AiohttpTransport

    return AiohttpTransport(limits=limits or DEFAULT_LIMITS, trust_env=False)


def make_client(transport: httpx.AsyncBaseTransport) -> httpx.AsyncClient:
    """The one AsyncClient of an engine."""
    return httpx.AsyncClient(
        transport=transport, timeout=DEFAULT_TIMEOUT, trust_env=False, follow_redirects=False
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
    """A response body: parsed JSON, else text; None when empty. `raw` is the body when it
    was read from a stream."""
    body = response.extensions.get(BODY, _MISSING)
    if body is not _MISSING:
        return body
    if raw is None:
        raw = response.content
    if not raw:
        return None
    ctype = response.headers.get("content-type", "")
    if not ctype or "json" in ctype:
        try:
            return json.loads(raw)
        except ValueError:
            pass
    if _is_text(ctype):
        try:
            return raw.decode(response.encoding or "utf-8")
        except (UnicodeDecodeError, LookupError):
            pass
    elif not ctype:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            pass
    # bytes that are not text (an image, a file) are kept exactly, as base64
    return {
        "base64": base64.b64encode(raw).decode("ascii"),
        "contentType": ctype or "application/octet-stream",
    }


_TEXT_TYPES = (
    "text/",
    "application/xml",
    "application/javascript",
    "application/x-www-form-urlencoded",
    "+xml",
    "+json",
    "application/yaml",
)


def _is_text(ctype: str) -> bool:
    low = ctype.lower()
    return any(t in low for t in _TEXT_TYPES)


class ResponseTooLarge(Exception):
    pass


async def _read_limited(response: httpx.Response, limit: int) -> bytes:
    """The decoded (decompressed) body, refusing more than `limit` bytes as it streams: a
    255 KB gzip bomb or a 2 GB stream costs at most about `limit` of memory. gzip and deflate
    are inflated here with a bound on every step (httpx's own decoders would inflate a whole
    chunk at once); other encodings go through httpx, bounded chunk by chunk."""
    encoding = response.headers.get("content-encoding", "").strip().lower()
    declared = response.headers.get("content-length", "")
    if not encoding and declared.isdigit() and int(declared) > limit:
        raise ResponseTooLarge
    chunks: list[bytes] = []
    size = 0

    def keep(data: bytes) -> None:
        nonlocal size
        size += len(data)
        if size > limit:
            raise ResponseTooLarge
        chunks.append(data)

    if encoding in ("gzip", "x-gzip", "deflate"):
        inflater = zlib.decompressobj(wbits=zlib.MAX_WBITS | 32)  # gzip or zlib header
        async for raw in response.aiter_raw():
            data = raw
            while data:
                keep(inflater.decompress(data, limit - size + 1))
                data = inflater.unconsumed_tail
        keep(inflater.flush())
        return b"".join(chunks)
    async for chunk in response.aiter_bytes():
        keep(chunk)
    return b"".join(chunks)


class HttpxCaller:
    """The Caller over an httpx transport (live, mocked or both): one AsyncClient, one pool."""

    def __init__(
        self,
        transport: httpx.AsyncBaseTransport | None = None,
        limits: httpx.Limits | None = None,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        self.transport = transport if transport is not None else make_live_transport(limits)
        self.client = make_client(self.transport)
        self.max_response_bytes = max_response_bytes

    async def call(self, request: CallRequest) -> CallResponse:
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
        target = request.target
        try:
            response = await self.client.send(req, stream=True)
            try:
                # a mock's answer carries its body as a value already: nothing to read
                raw = (
                    b""
                    if BODY in response.extensions
                    else await _read_limited(response, self.max_response_bytes)
                )
            finally:
                await response.aclose()
        except TransportFailure as e:
            raise CallFailed(e.kind, f"{target}: {e}") from None
        except (httpx.HTTPError, httpx.InvalidURL) as e:
            raise CallFailed(classify_error(e), f"{target}: {describe_error(e)}") from None
        except ResponseTooLarge:
            limit = self.max_response_bytes / 1048576
            raise CallFailed(
                "http",
                f"{target} answered HTTP {response.status_code} with a "
                f"body over the {limit:g} MiB limit; ask the service for less",
                response.status_code,
            ) from None
        except (asyncio.CancelledError, KeyboardInterrupt, SystemExit):
            raise
        except Exception as e:  # a broken answer (not HTTP, a huge header) is the call's failure
            raise CallFailed(
                "connection",
                f"{target}: the answer could not be read ({type(e).__name__}: {describe_error(e)})",
            ) from None
        return CallResponse(response.status_code, response.headers, parse_body(response, raw))

    def run_ended(self, run_id: str) -> None:
        ended = getattr(self.transport, "run_ended", None)
        if ended is not None:
            ended(run_id)

    async def aclose(self) -> None:
        await self.client.aclose()
