"""Test support for `switchboard serve`: the server in a thread on a free port, fake services
on 127.0.0.1, polling with a deadline."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import uvicorn

from engine.server.app import create_app
from engine.server.service import Service
from engine.server.store import Store


def wait_until(check: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll `check` until it returns something true; its value. Fails after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)


@dataclass
class Running:
    url: str
    service: Service
    loop: asyncio.AbstractEventLoop

    @property
    def ws_url(self) -> str:
        return "ws" + self.url[4:] + "/ws"


@contextmanager
def running_server(
    folder: Path,
    *,
    store: str = ":memory:",
    env: str | None = None,
    max_body: int | None = None,
    tokens: Any = None,
    watch: bool = False,
    bus: str | None = None,
) -> Iterator[Running]:
    """Serve `folder` on 127.0.0.1 (port 0) in a thread of its own until the block ends."""
    ready = threading.Event()
    box: dict[str, Any] = {}

    async def main() -> None:
        db = Store(store)
        service = Service(folder, db, env=env)
        service.open()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.bind(("127.0.0.1", 0))
        kwargs: dict[str, Any] = {"tokens": tokens, "watch": watch, "bus": bus}
        if max_body:
            kwargs["max_body"] = max_body
        config = uvicorn.Config(create_app(service, **kwargs), log_level="warning")
        server = uvicorn.Server(config)
        box.update(
            server=server,
            service=service,
            loop=asyncio.get_running_loop(),
            port=sock.getsockname()[1],
        )
        config.install_signal_handlers = False  # type: ignore[attr-defined]
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            if task.done():
                break
            await asyncio.sleep(0.005)
        ready.set()
        try:
            await task
        finally:
            db.close()

    def target() -> None:
        try:
            asyncio.run(main())
        except BaseException as e:  # shown by the test that waits for ready
            box["error"] = e
            ready.set()

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    assert ready.wait(10), "the server did not start"
    if "error" in box:
        raise box["error"]
    try:
        yield Running(f"http://127.0.0.1:{box['port']}", box["service"], box["loop"])
    finally:
        box["server"].should_exit = True
        thread.join(10)


@dataclass
class FakeServices:
    """HTTP services on 127.0.0.1: every request is recorded as (path, body) in `calls`;
    `answers[path]` gives (status, JSON body)."""

    answers: dict[str, tuple[int, Any]] = field(default_factory=dict)
    calls: list[tuple[str, Any]] = field(default_factory=list)
    block: threading.Event | None = None
    url: str = ""


@contextmanager
def fake_services(answers: dict[str, tuple[int, Any]]) -> Iterator[FakeServices]:
    fake = FakeServices(dict(answers))

    class Handler(BaseHTTPRequestHandler):
        disable_nagle_algorithm = True
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            n = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(n) if n else b""
            fake.calls.append((self.path, json.loads(raw) if raw else None))
            status, body = fake.answers.get(self.path, (200, {}))
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        httpd.shutdown()
        httpd.server_close()


@dataclass
class Mailbox:
    """What a test SMTP server received: (envelope from, recipients, message text), and the
    logins it accepted."""

    port: int = 0
    messages: list[tuple[str, list[str], str]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)


@contextmanager
def smtp_server(
    *, login: tuple[str, str] | None = None, tls_context: Any = None
) -> Iterator[Mailbox]:
    """An aiosmtpd server on 127.0.0.1 (port 0) in a thread; with `tls_context` it offers
    STARTTLS and requires it before AUTH."""
    from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

    box = Mailbox()

    class Handler:
        async def handle_DATA(
            self,
            server: Any,
            session: Session,  # noqa: N802 (aiosmtpd)
            envelope: Envelope,
        ) -> str:
            content = envelope.content
            text = content.decode() if isinstance(content, bytes) else str(content)
            box.messages.append((str(envelope.mail_from), list(envelope.rcpt_tos), text))
            return "250 OK"

    def authenticator(
        server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            login is not None
            and isinstance(auth_data, LoginPassword)
            and (auth_data.login.decode(), auth_data.password.decode()) == login
        )
        if ok:
            box.logins.append(auth_data.login.decode())
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535

    loop = asyncio.new_event_loop()
    kwargs: dict[str, Any] = {"hostname": "localhost"}
    if login is not None:
        kwargs.update(authenticator=authenticator, auth_require_tls=tls_context is not None)
    if tls_context is not None:
        kwargs.update(tls_context=tls_context, require_starttls=True)
    server = loop.run_until_complete(
        loop.create_server(lambda: SMTP(Handler(), loop=loop, **kwargs), "127.0.0.1", 0)
    )
    box.port = server.sockets[0].getsockname()[1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield box
    finally:
        loop.call_soon_threadsafe(server.close)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()
