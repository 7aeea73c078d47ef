"""The live Caller: aiohttp directly (no httpx models, no cookie jar), for live calls only.

Profiles of live runs showed httpx's `AsyncClient.send` (its cookie jar most of all) and the
httpx-aiohttp adapter costing more CPU per call than aiohttp itself. This Caller sends each
attempt with one aiohttp request; what a user can observe (redirects, size limits, decoding,
error types and messages) comes from `wire`, as it does for `HttpxCaller`, which stays the
Caller for mocks, hybrid runs' mocked calls and tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Any

import aiohttp

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

__all__ = ["AiohttpCaller"]

_CHUNK = 64 * 1024
# One pool per engine; 100 keep-alive connections serve 50+ runs in flight (STYLE.md).
MAX_CONNECTIONS = 200
KEEPALIVE = 30.0
# Per-attempt limits are the engine clock's; this is only the outer bound.
_TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=30.0)


def _headers(raw: Any) -> dict[str, str]:
    """Lower-case names; repeated headers joined with ', ' (as httpx's mapping gives them)."""
    out: dict[str, str] = {k.lower(): v for k, v in raw.items()}
    if len(out) == len(raw):
        return out  # no name repeated: the common case, in one pass
    out = {}
    for k, v in raw.items():
        name = k.lower()
        out[name] = f"{out[name]}, {v}" if name in out else v
    return out


def _message(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


class AiohttpCaller:
    """The Caller for live calls: one aiohttp session (one pool) for all of an engine's runs."""

    def __init__(self, settings: HttpSettings | None = None) -> None:
        self.settings = settings or HttpSettings()
        self._ssl = self.settings.ssl_context()  # here, so a bad TLS file fails the setup
        self._proxies = self.settings.proxies()
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=MAX_CONNECTIONS, keepalive_timeout=KEEPALIVE, ssl=self._ssl
        )
        # no cookies (the engine never uses them), no decompression (read_limited bounds it),
        # proxies chosen here per request (trust_env would also read ~/.netrc into every call)
        self._session = aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,
            timeout=_TIMEOUT,
            trust_env=False,
            headers={"User-Agent": USER_AGENT},
            skip_auto_headers=("Content-Type",),  # a call without a body has no type
        )
        return self._session

    async def call(self, request: CallRequest) -> CallResponse:
        if not following(request, self.settings):
            return await self._once(request)  # the common case, without follow's frame
        return await follow(self._once, request, self.settings)

    async def _once(self, request: CallRequest) -> CallResponse:
        session = self._session or self._open()
        target = request.target
        limit = request.max_response_bytes or self.settings.max_response_bytes
        status = 0
        try:
            async with session.request(
                request.method,
                request.url,
                headers=request.headers,
                data=request.content,
                allow_redirects=False,
                proxy=proxy_for(request.url, self._proxies),
            ) as response:
                status = response.status
                headers = _headers(response.headers)
                encoding = headers.get("content-encoding", "")
                declared = headers.get("content-length", "")
                if not encoding and declared.isdigit() and int(declared) <= limit:
                    raw = await response.read()  # a plain body of a known size: in one read
                else:
                    # closed here, not when collected: a body cut short (too large, bad gzip)
                    # must not leave its generator's cleanup to a task of its own later
                    async with aclosing(_chunks(response.content)) as chunks:
                        raw = await read_limited(chunks, encoding, declared, limit)
        except ResponseTooLarge:
            raise too_large(target, status, limit) from None
        except aiohttp.ClientResponseError as e:  # not HTTP, a huge header, 2,000 headers
            raise unreadable(target, e) from None
        except (aiohttp.ServerTimeoutError, TimeoutError) as e:
            raise CallFailed("timeout", f"{target}: {_message(e)}") from None
        except (aiohttp.ClientError, ValueError, OSError) as e:
            # refused, dropped, not HTTP, a huge header, a bad URL: the call's failure
            raise CallFailed("connection", f"{target}: {_message(e)}") from None
        except (asyncio.CancelledError, KeyboardInterrupt, SystemExit):
            raise
        except Exception as e:
            raise unreadable(target, e) from None
        return CallResponse(status, headers, decode_body(raw, headers.get("content-type", "")))

    def run_ended(self, run_id: str) -> None:
        return None

    async def aclose(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()


async def _chunks(stream: aiohttp.StreamReader) -> AsyncGenerator[bytes, None]:
    async for chunk in stream.iter_chunked(_CHUNK):
        yield chunk
