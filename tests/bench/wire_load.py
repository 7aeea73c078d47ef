"""A light load generator and light stand-in services for the serve benchmark, on raw asyncio
protocols with httptools (uvicorn's HTTP parser) and uvloop.

On a two-core machine the load generator and the services the workflow calls share the cores
with the server being measured. With httpx (over aiohttp) as the client and aiohttp.web as the
services, they took about as much CPU per run as the server itself, so a second server worker
had little CPU left to use. These do the same requests with a fraction of the CPU: keep-alive
connections, each request pre-encoded once, responses parsed by httptools.

    python tests/bench/wire_load.py serve   # the services: prints its port, serves until stdin ends
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable
from typing import Any

import httptools


def _answer(status: str, body: bytes) -> bytes:
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


_SERVICES: dict[bytes, bytes] = {
    b"/updatePolicy": _answer("200 OK", b'{"policyId":"P-7","version":7}'),
    b"/runCheck": _answer("200 OK", b'{"status":"pass"}'),
    b"/sendUpdate": _answer("202 Accepted", b""),
}
_NOT_FOUND = _answer("404 Not Found", b'{"error":"no such service"}')


class _ServiceProtocol(asyncio.Protocol):
    """The three services of the bench workflow: a canned answer per path, keep-alive."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: Any = transport  # uvloop's transports are not asyncio.Transport's
        self.parser = httptools.HttpRequestParser(self)
        self.url = b""

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.transport.close()

    def on_url(self, url: bytes) -> None:
        self.url = url

    def on_message_complete(self) -> None:
        self.transport.write(_SERVICES.get(self.url.split(b"?", 1)[0], _NOT_FOUND))
        self.url = b""


async def serve_services() -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_ServiceProtocol, "127.0.0.1", 0, backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


class _ClientProtocol(asyncio.Protocol):
    """One keep-alive connection: send a request, wait for its whole response."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.body: list[bytes] = []
        self.lost: Exception | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: Any = transport  # uvloop's transports are not asyncio.Transport's

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = exc or ConnectionError("the server closed the connection")
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(self.lost)

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        status = self.parser.get_status_code()
        body, self.body = b"".join(self.body), []
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result((status, body))

    async def request(self, data: bytes) -> tuple[int, bytes]:
        if self.lost is not None:
            raise self.lost
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        return await self.waiter


def encode_post(host: str, path: str, body: Any) -> bytes:
    """A POST with a JSON body, encoded once and sent as often as needed."""
    payload = json.dumps(body).encode()
    return (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    ).encode() + payload


def encode_get(host: str, path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()


async def hammer(
    host: str,
    port: int,
    request: bytes,
    clients: int,
    seconds: float,
    check: Callable[[int, bytes], None],
    total: int | None = None,
) -> tuple[float, list[float]]:
    """(responses per second, latencies in seconds) of `clients` connections each sending
    `request` back to back for `seconds` (or until `total` requests were sent); `check` raises
    on a wrong answer."""
    loop = asyncio.get_running_loop()
    conns = [(await loop.create_connection(_ClientProtocol, host, port))[1] for _ in range(clients)]
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    left = [total if total is not None else -1]

    async def worker(conn: _ClientProtocol) -> None:
        while time.perf_counter() < deadline and left[0] != 0:
            left[0] -= 1
            t = time.perf_counter()
            status, body = await conn.request(request)
            latencies.append(time.perf_counter() - t)
            check(status, body)

    start = time.perf_counter()
    try:
        await asyncio.gather(*(worker(c) for c in conns))
    finally:
        for c in conns:
            c.transport.close()
    return len(latencies) / (time.perf_counter() - start), latencies


def run(coro: Any) -> Any:
    """Run on uvloop (the server's loop) when it is there."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - Windows
        return asyncio.run(coro)
    return uvloop.run(coro)


if __name__ == "__main__":
    if sys.argv[1:] != ["serve"]:
        raise SystemExit("usage: python tests/bench/wire_load.py serve")
    run(serve_services())
