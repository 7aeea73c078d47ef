"""Webhook notifications signed with HMAC-SHA256 and retried on 5xx, 429 and connection
failures; a bounded queue; the `{webhook: {url, secret, attempts}}` form in an environment."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from engine.files.documents import parse_environments
from engine.jobs.sinks import WebhookSink, build_sinks
from engine.runtime import events as ev


class Hook:
    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses  # answered in turn; the last repeats
        self.received: list[tuple[bytes, dict[str, str]]] = []
        self.url = ""


@pytest.fixture
def hook() -> Iterator[Hook]:
    state = Hook([204])

    class Handler(BaseHTTPRequestHandler):
        disable_nagle_algorithm = True

        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.received.append((body, {k.lower(): v for k, v in self.headers.items()}))
            n = len(state.received) - 1
            self.send_response(state.statuses[min(n, len(state.statuses) - 1)])
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def _note() -> ev.Notification:
    return ev.Notification("r1", "notify", "error", "P-8 rolled back", 1_796_000_000.0)


def _deliver(sink: WebhookSink, n: int = 1) -> WebhookSink:
    async def go() -> None:
        for _ in range(n):
            sink(_note())
        await sink.aclose()

    asyncio.run(go())
    return sink


def test_signature_is_hmac_sha256_of_the_exact_body(hook: Hook) -> None:
    sink = _deliver(WebhookSink(hook.url, secret="k3y-value"))
    ((body, headers),) = hook.received
    expected = hmac.new(b"k3y-value", body, hashlib.sha256).hexdigest()
    assert headers["x-switchboard-signature-256"] == f"sha256={expected}"
    assert json.loads(body)["message"] == "P-8 rolled back"
    assert sink.sent == 1 and sink.errors == []
    assert "k3y-value" not in json.dumps(headers) + body.decode()


def test_retries_5xx_and_429_then_succeeds(hook: Hook) -> None:
    hook.statuses = [503, 429, 204]
    sink = _deliver(WebhookSink(hook.url, attempts=3, retry_delay=0.01))
    assert len(hook.received) == 3 and sink.sent == 1 and sink.errors == []
    assert hook.received[0][0] == hook.received[2][0]  # the same body every attempt


def test_gives_up_after_its_attempts_and_does_not_retry_4xx(hook: Hook) -> None:
    hook.statuses = [500]
    sink = _deliver(WebhookSink(hook.url, attempts=2, retry_delay=0.01))
    assert len(hook.received) == 2
    assert sink.errors == [f"webhook {hook.url} answered 500 (2 attempts)"]
    hook.received.clear()
    hook.statuses = [400]
    sink = _deliver(WebhookSink(hook.url, attempts=3, retry_delay=0.01))
    assert len(hook.received) == 1


def test_the_queue_is_bounded(hook: Hook) -> None:
    sink = WebhookSink(hook.url, max_queue=2)
    for _ in range(5):
        sink(_note())  # outside a loop: queued only
    assert sink.dropped == 3
    asyncio.run(sink.aclose())
    assert len(hook.received) == 2


def test_signed_webhook_from_an_environment(hook: Hook, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (
        "version: 1\nenvironments:\n  live:\n    notify:\n"
        f"      - webhook: {{url: '{hook.url}', secret: HOOK_KEY, attempts: 2}}\n"
    )
    loaded = parse_environments(text, "environments.yaml")
    assert loaded.problems == []
    spec = loaded.model.environments["live"].notify  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="SWITCHBOARD_SECRET_HOOK_KEY"):
        build_sinks(spec)
    monkeypatch.setenv("SWITCHBOARD_SECRET_HOOK_KEY", "hook-key-1")
    (sink,) = build_sinks(spec).sinks
    assert sink.attempts == 2
    _deliver(sink)
    body, headers = hook.received[0]
    assert (
        headers["x-switchboard-signature-256"]
        == "sha256=" + hmac.new(b"hook-key-1", body, hashlib.sha256).hexdigest()
    )
    bad = parse_environments(
        "version: 1\nenvironments:\n  live:\n    notify:\n"
        "      - webhook: {secret: K, atempts: 2}\n",
        "environments.yaml",
    )
    text = "\n".join(str(p) for p in bad.problems)
    assert "atempts" in text and "needs url" in text
