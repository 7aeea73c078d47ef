"""A real HTTP server on 127.0.0.1 for the engine's live tests: it records each request's raw
path and headers and answers what the test queued (or 200 with an echo)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

import pytest


@dataclass
class Seen:
    method: str
    path: str  # as sent, percent-encoding kept
    headers: dict[str, str]
    body: bytes


@dataclass
class Answer:
    status: int = 200
    body: bytes = b"{}"
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})


class _Handler(BaseHTTPRequestHandler):
    server: RecordingServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # STYLE.md: 43 ms per request on loopback without it

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        seen = Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        with self.server.lock:
            self.server.seen.append(seen)
            answer = self.server.answers.pop(0) if self.server.answers else None
        if answer is None:
            echo = {
                "method": seen.method,
                "path": seen.path,
                "headers": seen.headers,
                "body": body.decode("utf-8", "replace"),
            }
            answer = Answer(body=json.dumps(echo).encode())
        self.send_response(answer.status)
        for k, v in answer.headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

    def log_message(self, format: str, *args: Any) -> None:
        return None


class LoopbackServer(ThreadingHTTPServer):
    """A threading HTTP server on a free port of 127.0.0.1."""

    daemon_threads = True
    request_queue_size = 128  # the default 5 drops SYNs when 50 runs connect at once

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


S = TypeVar("S", bound=ThreadingHTTPServer)


@contextmanager
def serving(srv: S) -> Iterator[S]:
    """Serve `srv` on a thread for the block, then shut it down."""
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(5)


class RecordingServer(LoopbackServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.seen: list[Seen] = []
        self.answers: list[Answer] = []


@pytest.fixture
def http_server() -> Iterator[RecordingServer]:
    with serving(RecordingServer()) as srv:
        yield srv


@pytest.fixture(params=["aiohttp", "httpx"])
def live_caller(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test once with each live Caller (they must behave as one): `AiohttpCaller`,
    and `HttpxCaller` over the httpx-aiohttp transport."""
    from engine.runtime import callers

    monkeypatch.setattr(callers, "LIVE_CALLER", request.param)
    return str(request.param)
