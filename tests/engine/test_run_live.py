"""Live runs against a real HTTP server on 127.0.0.1: slow answers, 500s, dropped connections,
cancellation of in-flight requests, and a recorded live run replayed as mocks."""

from __future__ import annotations

import asyncio
import json
import select
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from engine import Engine, Event, MockTransport, Recorder, SecretSource, StepStarted, VirtualClock
from tests.engine.http_support import LoopbackServer, live_caller, serving
from tests.engine.test_run_support import START, arun, workflow

# every live test runs with each live Caller: they must behave as one
__all__ = ["live_caller"]
pytestmark = pytest.mark.usefixtures("live_caller")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real services do
    disable_nagle_algorithm = True  # else ~40 ms per request on loopback (STYLE.md)
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        if isinstance(body, str):
            data, ctype = body.encode(), "text/plain; charset=utf-8"
        else:
            data, ctype = json.dumps(body).encode(), "application/json"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _client_gone_within(self, seconds: float) -> bool:
        """Wait up to `seconds`; True as soon as the client closes its connection."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            ready, _, _ = select.select([self.connection], [], [], left)
            if ready and self.connection.recv(1, socket.MSG_PEEK) == b"":
                return True
        return False

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        state = self.server.state
        with state.lock:
            state.hits[url.path] += 1
            n = state.hits[url.path]
        body = json.loads(raw) if raw else None
        if url.path == "/echo":
            self._send(
                200,
                {
                    "body": body,
                    "query": query,
                    "n": n,
                    "auth": self.headers.get("Authorization"),
                    "key": self.headers.get("Idempotency-Key"),
                },
            )
        elif url.path == "/text":
            self._send(200, f"plain {n}")
        elif url.path == "/flaky":  # 500, 500, then 200
            if n <= 2:
                self._send(500, {"error": f"flaky {n}"})
            else:
                self._send(200, {"ok": True, "after": n})
        elif url.path == "/busy":  # 503 with Retry-After, then 200
            if n == 1:
                self._send(503, {"error": "busy"}, {"Retry-After": "0"})
            else:
                self._send(200, {"ok": n})
        elif url.path == "/slow":
            state.arrived.set()
            if self._client_gone_within(float(query.get("s", "5"))):
                with state.lock:
                    state.aborted += 1
                self.close_connection = True
                return
            self._send(200, {"slow": True})
        elif url.path == "/drop":  # read the request, answer nothing, hang up
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        else:
            self._send(404, {"error": f"no route {url.path}"})

    do_GET = do_POST


class _State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.hits: Counter[str] = Counter()
        self.arrived = threading.Event()
        self.aborted = 0


class _Server(LoopbackServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state = _State()


@pytest.fixture
def server() -> Iterator[_Server]:
    with serving(_Server()) as srv:
        yield srv


LIVE = """
version: 1
name: live
steps:
  - {id: echo, service: Api, action: echo, path: /echo, with: {hello: "${ input.who }"},
     query: {q: "${ input.who }"}, headers: {Authorization: "Bearer ${ secrets.TOKEN }"}}
  - {id: text, service: Api, action: text, after: []}
  - {id: flaky, service: Api, action: flaky, after: [],
     retry: {attempts: 3, delay: 20ms, jitter: none}}
  - {id: busy, service: Api, action: busy, after: [], retry: {attempts: 2, delay: 5s}}
  - {id: slow, service: Api, action: slow, query: {s: "2"}, timeout: 200ms, after: [],
     onError: continue}
  - {id: drop, service: Api, action: drop, after: [], onError: continue,
     retry: {attempts: 2, delay: 10ms, jitter: none}}
"""


async def _live_run(srv: _Server, events: list[Event], sinks: list[Any]) -> Any:
    secrets = SecretSource(environ={"SWITCHBOARD_SECRET_TOKEN": "tok-live-9731"})
    async with Engine(
        services={"Api": srv.url}, sinks=[events.append, *sinks], secrets=secrets
    ) as engine:
        return await engine.run(workflow(LIVE), {"who": "ada"})


def _comparable(result: Any) -> dict[str, Any]:
    j = result.to_json()
    return {
        sid: (
            s["status"],
            s["attempts"],
            s["output"],
            s["error"] and (s["error"]["type"], s["error"]["status"]),
        )
        for sid, s in j["steps"].items()
    } | {"_run": (j["status"], j["error"])}


def test_live_run_slow_500s_dropped_connections(server: _Server) -> None:
    events: list[Event] = []
    result = arun(_live_run(server, events, []))
    steps = result.to_json()["steps"]
    assert result.status == "succeeded", result.error
    echo = steps["echo"]["output"]
    assert echo["body"] == {"hello": "ada"} and echo["query"] == {"q": "ada"}
    assert echo["auth"] == "Bearer ***"  # the echoed secret is masked in what we report
    assert echo["key"] == f"{result.run_id}:echo"
    assert steps["text"]["output"] == "plain 1"
    assert (steps["flaky"]["status"], steps["flaky"]["attempts"]) == ("succeeded", 3)
    assert steps["flaky"]["output"] == {"ok": True, "after": 3}
    # Retry-After: 0 replaces the 5 s delay
    assert (steps["busy"]["attempts"], steps["busy"]["output"]) == (2, {"ok": 2})
    assert steps["busy"]["duration_ms"] < 2000
    assert steps["slow"]["error"]["type"] == "timeout"
    assert 150 <= steps["slow"]["duration_ms"] < 1500
    assert steps["drop"]["error"]["type"] == "connection"
    assert steps["drop"]["attempts"] == 2
    assert server.state.hits["/drop"] == 2


def test_cancelling_a_live_run_stops_the_request_in_flight(server: _Server) -> None:
    wf = workflow("""
        version: 1
        name: hang
        steps:
          - {service: Api, action: slow, query: {s: "10"}}
    """)

    async def main() -> None:
        events: list[Event] = []
        async with Engine(services={"Api": server.url}, sinks=[events.append]) as engine:
            task = asyncio.get_running_loop().create_task(engine.run(wf))
            while not server.state.arrived.is_set():
                await asyncio.sleep(0.01)
            t0 = time.monotonic()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert time.monotonic() - t0 < 1.0
        # the server saw the client hang up well before its 10 s answer
        deadline = time.monotonic() + 3
        while server.state.aborted == 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert server.state.aborted == 1

    arun(main())


def test_recorded_live_run_replays_as_mocks_with_the_same_result(server: _Server) -> None:
    events: list[Event] = []
    recorder = Recorder()
    live = arun(_live_run(server, events, [recorder]))
    recorded = recorder.mocks_file()
    # one entry per attempt, in order; the secret the server echoed is masked
    assert [r.status for r in recorded.mocks["Api.flaky"]] == [500, 500, 200]
    assert [r.fault for r in recorded.mocks["Api.drop"]] == ["connection", "connection"]
    assert [r.fault for r in recorded.mocks["Api.slow"]] == ["timeout"]
    assert recorded.mocks["Api.echo"][0].body["auth"] == "Bearer ***"
    assert recorded.mocks["Api.text"][0].body == "plain 1"
    assert "tok-live-9731" not in repr(recorded)

    async def replay() -> Any:
        clock = VirtualClock(start=START)
        engine = Engine(
            transport=MockTransport(recorded.mocks, clock),
            clock=clock,
            secrets=SecretSource(values={"TOKEN": "tok-live-9731"}),
        )
        async with engine:
            return await engine.run(workflow(LIVE), {"who": "ada"})

    replayed = arun(replay())
    assert _comparable(replayed) == _comparable(live)


def test_recording_writes_a_mocks_file_that_loads(server: _Server, tmp_path: Any) -> None:
    from engine import dump_mocks, load_mocks, save_text_atomic

    recorder = Recorder()
    arun(_live_run(server, [], [recorder]))
    path = tmp_path / "live.mocks.yaml"
    save_text_atomic(path, dump_mocks(recorder.mocks_file()))
    text = path.read_text()
    assert "tok-live-9731" not in text
    loaded = load_mocks(path)
    assert [r.status for r in loaded.mocks["Api.flaky"]] == [500, 500, 200]


def test_fifty_live_runs_at_once_share_one_pool(server: _Server) -> None:
    wf = workflow("""
        version: 1
        name: many
        steps:
          - {service: Api, action: echo, path: /echo}
          - {service: Api, action: text, path: /text}
    """)

    async def main() -> None:
        events: list[Event] = []
        async with Engine(services={"Api": server.url}, sinks=[events.append]) as engine:
            results = await asyncio.gather(*(engine.run(wf, {"i": i}) for i in range(50)))
        assert {r.status for r in results} == {"succeeded"}
        assert sorted(r.steps["echo"].output["body"]["i"] for r in results) == list(range(50))
        assert len([e for e in events if isinstance(e, StepStarted)]) == 100

    arun(main())
