"""Step semantics on Temporal's time-skipping server against the in-process engine: timers,
deadline, cancel, retries with Retry-After, timeouts, foreach, and secrets kept out of history."""

from __future__ import annotations

import asyncio
import http.server
import json
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("temporalio")

from temporalio.worker import Replayer  # noqa: E402

from engine import Engine, SecretSource, run_mocked  # noqa: E402
from engine.files.documents import dump_any  # noqa: E402
from engine.temporal.activities import Activities  # noqa: E402
from engine.temporal.host import make_worker, start, workflow_runner  # noqa: E402
from engine.temporal.payloads import RunArgs  # noqa: E402
from engine.temporal.testing import comparable, time_skipping  # noqa: E402
from engine.temporal.workflow import SwitchboardRun  # noqa: E402
from tests.engine.test_run_support import mocks_file, workflow  # noqa: E402

SECRET = "t0k3n-6f1e-secret"


async def _temporal(
    wf_text: str,
    mocks_text: str | None,
    input: Any = None,
    *,
    services: dict[str, str] | None = None,
    environ: dict[str, str] | None = None,
    cancel_after: float | None = None,
) -> tuple[dict[str, Any], dict[str, int], str]:
    """(result, mock calls, history JSON) of one run on the time-skipping server, replayed once
    to prove the workflow code deterministic."""
    wf = workflow(wf_text)
    mocks = mocks_file(mocks_text).mocks if mocks_text is not None else None
    args = RunArgs(
        dump_any(wf),
        input,
        uuid.uuid4().hex[:16],
        services or {},
        mocks,
        virtual_time=mocks is not None and not services,
    )
    env = await time_skipping()
    async with env:
        tq = f"sem-{uuid.uuid4().hex}"
        acts = Activities(environ or {})
        async with make_worker(env.client, task_queue=tq, activities=acts):
            handle = await start(env.client, args, task_queue=tq, name=wf.name)
            if cancel_after is not None:
                with env.auto_time_skipping_disabled():
                    await asyncio.sleep(cancel_after)
                await handle.cancel()
            outcome = await handle.result()
            history = await handle.fetch_history()
        await acts.aclose()
        await Replayer(
            workflows=[SwitchboardRun], workflow_runner=workflow_runner()
        ).replay_workflow(history)
    return outcome.result, outcome.calls, json.dumps(history.to_json_dict())


async def _local(wf_text: str, mocks_text: str, input: Any = None) -> dict[str, Any]:
    result, _ = await run_mocked(workflow(wf_text), mocks_file(mocks_text), input)
    return result.to_json()


def _same(wf_text: str, mocks_text: str, input: Any = None) -> dict[str, Any]:
    theirs, _, _ = asyncio.run(_temporal(wf_text, mocks_text, input))
    mine = asyncio.run(_local(wf_text, mocks_text, input))
    assert comparable(theirs) == comparable(mine)
    return theirs


def test_a_one_hour_wait_is_a_durable_timer_and_takes_its_virtual_hour() -> None:
    wf = "version: 1\nname: w\nsteps:\n  - wait: 1h\n  - {service: S, action: a}\n"
    result = _same(wf, "version: 1\nmocks:\n  S.a: {body: {ok: true}}\n")
    assert result["status"] == "succeeded"
    assert result["steps"]["wait"]["duration_ms"] == 3_600_000


def test_retry_after_backoff_and_the_step_timeout_match_in_process() -> None:
    wf = """
version: 1
name: r
steps:
  - id: check
    service: C
    action: run
    timeout: 2s
    retry: {attempts: 4, delay: 1s, backoff: 3, jitter: none}
"""
    mocks = """
version: 1
mocks:
  C.run:
    - fault: timeout
    - {status: 503, headers: {Retry-After: "7"}}
    - {status: 500, delay: 250ms}
    - {status: 200, body: {status: pass}}
"""
    result = _same(wf, mocks)
    assert result["steps"]["check"]["attempts"] == 4
    assert result["steps"]["check"]["duration_ms"] == 2000 + 1000 + 7000 + 250 + 9000


def test_parallel_branches_foreach_skip_join_and_on_error_match_in_process() -> None:
    wf = """
version: 1
name: p
steps:
  - id: items
    service: S
    action: list
  - id: each
    after: [items]
    service: S
    action: one
    foreach: "${ steps.items.output.items }"
    maxConcurrency: 2
    with: {n: "${ item }"}
  - id: side
    after: [items]
    service: S
    action: bad
    onError: continue
  - id: never
    after: [items]
    if: "${ `false` }"
    wait: 1s
  - id: join
    after: [each, side]
    notify: {message: "side ${ steps.side.status }, ${ length(steps.each.output) } done"}
"""
    mocks = """
version: 1
mocks:
  S.list: {body: {items: [1, 2, 3, 4, 5]}}
  S.one: {body: {n: "${ request.body.n }", call: "${ call }"}, delay: 30ms}
  S.bad: {status: 418}
"""
    result = _same(wf, mocks)
    assert result["steps"]["never"]["status"] == "skipped"
    assert result["steps"]["join"]["output"]["message"] == "side failed, 5 done"


def test_the_run_deadline_cancels_steps_and_still_returns_the_result() -> None:
    wf = "version: 1\nname: d\ntimeout: 5s\nsteps:\n  - wait: 1h\n"
    result = _same(wf, "version: 1\nmocks: {}\n")
    assert result["status"] == "failed" and result["error"]["type"] == "deadline"
    assert result["steps"]["wait"]["status"] == "cancelled"
    assert result["duration_ms"] == 5000


def test_a_cancelled_run_returns_the_cancelled_result() -> None:
    wf = "version: 1\nname: c\nsteps:\n  - wait: 1h\n  - {service: S, action: a}\n"
    result, calls, _ = asyncio.run(
        _temporal(wf, "version: 1\nmocks:\n  S.a: {}\n", cancel_after=1.0)
    )
    assert result["status"] == "cancelled" and result["error"]["type"] == "cancelled"
    assert result["steps"]["wait"]["status"] == "cancelled"
    assert result["steps"]["a"]["status"] == "cancelled"
    assert calls == {}


class _Echo(http.server.BaseHTTPRequestHandler):
    disable_nagle_algorithm = True
    seen: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        _Echo.seen.append(
            {
                "path": self.path,
                "auth": self.headers.get("authorization"),
                "body": json.loads(body or b"null"),
            }
        )
        out = json.dumps({"echo": self.headers.get("authorization")}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def echo_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Echo.seen.clear()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_secrets_reach_the_service_but_never_the_history(echo_server: str) -> None:
    wf = """
version: 1
name: s
steps:
  - id: call
    service: Vault
    action: open
    query: {k: "${ secrets.TOKEN }"}
    headers: {Authorization: "Bearer ${ secrets.TOKEN }"}
    with: {token: "${ secrets.TOKEN }"}
"""
    result, _, history = asyncio.run(
        _temporal(
            wf, None, services={"Vault": echo_server}, environ={"SWITCHBOARD_SECRET_TOKEN": SECRET}
        )
    )
    assert result["status"] == "succeeded", result
    (seen,) = _Echo.seen
    assert seen["auth"] == f"Bearer {SECRET}" and seen["body"] == {"token": SECRET}
    assert f"k={SECRET}" in seen["path"]
    assert result["steps"]["call"]["output"] == {"echo": "Bearer ***"}
    assert SECRET not in history


def test_a_secret_the_worker_lacks_fails_the_step_as_in_process() -> None:
    wf = (
        "version: 1\nname: m\nsteps:\n  - id: call\n    service: V\n    action: o\n"
        '    headers: {X: "${ secrets.NOPE }"}\n'
    )
    theirs, calls, _ = asyncio.run(_temporal(wf, "version: 1\nmocks:\n  V.o: {}\n"))
    mine = asyncio.run(_local(wf, "version: 1\nmocks:\n  V.o: {}\n"))
    assert comparable(theirs) == comparable(mine)
    assert theirs["error"]["type"] == "secret" and calls == {}


class _Hook(http.server.BaseHTTPRequestHandler):
    disable_nagle_algorithm = True
    posts: list[dict[str, Any]] = []
    fail_first = 0

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)))
        status = 503 if _Hook.fail_first > 0 else 200
        _Hook.fail_first -= 1
        if status == 200:
            _Hook.posts.append(body)
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return None


def test_notify_reaches_the_environments_webhook_once_even_when_it_failed_first() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Hook.posts.clear()
    _Hook.fail_first = 1
    wf = workflow(
        'version: 1\nname: n\nsteps:\n  - notify: {message: "hi ${ input.who }", level: warning}\n'
    )
    args = RunArgs(
        dump_any(wf),
        {"who": "ada"},
        uuid.uuid4().hex[:16],
        mocks={},
        virtual_time=True,
        notify=[{"webhook": f"http://127.0.0.1:{server.server_address[1]}/hook"}],
    )

    async def main() -> dict[str, Any]:
        env = await time_skipping()
        async with env:
            tq = f"notify-{uuid.uuid4().hex}"
            async with make_worker(env.client, task_queue=tq):
                handle = await start(env.client, args, task_queue=tq, name="n")
                return (await handle.result()).result

    try:
        result = asyncio.run(main())
    finally:
        server.shutdown()
        server.server_close()
    assert result["status"] == "succeeded"
    (post,) = _Hook.posts
    assert post["run"] == args.run_id and post["step"] == "notify"
    assert post["message"] == "hi ada" and post["level"] == "warning"


def test_a_hybrid_run_mocks_what_has_a_mock_and_calls_the_rest_live(echo_server: str) -> None:
    wf = (
        "version: 1\nname: h\nsteps:\n  - {id: m, service: M, action: a}\n"
        '  - {id: live, service: Vault, action: open, with: "${ steps.m.output }"}\n'
    )
    result, calls, _ = asyncio.run(
        _temporal(
            wf, "version: 1\nmocks:\n  M.a: {body: {from: mock}}\n", services={"Vault": echo_server}
        )
    )
    assert result["status"] == "succeeded", result
    assert calls == {"M.a": 1}
    (seen,) = _Echo.seen
    assert seen["body"] == {"from": "mock"}


def test_every_event_reaches_the_named_sink_once_in_order(tmp_path: Path) -> None:
    wf = workflow(
        "version: 1\nname: e\nsteps:\n  - {service: S, action: a}\n  - wait: 1s\n  - notify: done\n"
    )
    log = tmp_path / "events.jsonl"
    args = RunArgs(
        dump_any(wf),
        None,
        uuid.uuid4().hex[:16],
        mocks=mocks_file("version: 1\nmocks:\n  S.a: {}\n").mocks,
        virtual_time=True,
        events=[{"file": str(log)}],
    )

    async def main() -> None:
        env = await time_skipping()
        async with env:
            tq = f"events-{uuid.uuid4().hex}"
            async with make_worker(env.client, task_queue=tq):
                await (await start(env.client, args, task_queue=tq, name="e")).result()

    asyncio.run(main())
    events = [json.loads(line) for line in log.read_text().splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "RunStarted" and kinds[-1] == "RunFinished"
    assert kinds.count("StepFinished") == 3 and kinds.count("Notification") == 1
    assert events[-1]["result"]["status"] == "succeeded"
    assert all(e["run_id"] == args.run_id for e in events)


def test_event_batches_reach_a_webhook_in_order_with_their_keys() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Hook.posts.clear()
    _Hook.fail_first = 1  # the first batch is refused once: retried, still first
    wf = workflow("version: 1\nname: e\nsteps:\n  - {service: S, action: a}\n  - wait: 1s\n")
    args = RunArgs(
        dump_any(wf),
        None,
        uuid.uuid4().hex[:16],
        mocks=mocks_file("version: 1\nmocks:\n  S.a: {}\n").mocks,
        virtual_time=True,
        events=[{"webhook": f"http://127.0.0.1:{server.server_address[1]}/events"}],
    )

    async def main() -> None:
        env = await time_skipping()
        async with env:
            tq = f"events-{uuid.uuid4().hex}"
            async with make_worker(env.client, task_queue=tq):
                await (await start(env.client, args, task_queue=tq, name="e")).result()

    try:
        asyncio.run(main())
    finally:
        server.shutdown()
        server.server_close()
    keys = [p["key"] for p in _Hook.posts]
    assert keys == [f"{args.run_id}:{n}" for n in range(1, len(keys) + 1)]
    kinds = [e["event"] for p in _Hook.posts for e in p["events"]]
    assert kinds[0] == "RunStarted" and kinds[-1] == "RunFinished"
    assert kinds.count("StepFinished") == 2


class _Raw(http.server.BaseHTTPRequestHandler):
    disable_nagle_algorithm = True
    seen: list[tuple[str, str, str]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("content-length") or 0)).decode()
        _Raw.seen.append((self.path, self.headers.get("content-type") or "", body))
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return None


def test_secrets_are_encoded_as_the_part_of_the_request_they_land_in() -> None:
    odd = 'a/b c&"d'  # a slash, a space, an ampersand and a quote: each part encodes them
    wf = """
version: 1
name: enc
steps:
  - id: form
    service: Auth
    action: token
    path: /token/${ secrets.ODD }
    headers: {Content-Type: application/x-www-form-urlencoded}
    with: {client_secret: "${ secrets.ODD }", grant_type: client_credentials}
  - id: json
    service: Auth
    action: check
    with: {value: "${ secrets.ODD }"}
"""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Raw)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Raw.seen.clear()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    environ = {"SWITCHBOARD_SECRET_ODD": odd}

    async def in_process() -> dict[str, Any]:
        async with Engine(services={"Auth": base}, secrets=SecretSource(environ=environ)) as e:
            return (await e.run(workflow(wf))).to_json()

    try:
        mine = asyncio.run(in_process())
        sent_here = list(_Raw.seen)
        _Raw.seen.clear()
        result, _, history = asyncio.run(
            _temporal(wf, None, services={"Auth": base}, environ=environ)
        )
    finally:
        server.shutdown()
        server.server_close()
    assert result["status"] == mine["status"] == "succeeded", result
    assert _Raw.seen == sent_here  # the same bytes on the wire as in-process
    (path, ctype, form), (_, _, body) = _Raw.seen
    assert path.startswith("/token/a%2Fb%20c")  # the slash encoded: still one segment
    assert ctype.startswith("application/x-www-form-urlencoded")
    assert form == "client_secret=a%2Fb+c%26%22d&grant_type=client_credentials"
    assert json.loads(body) == {"value": odd}
    assert odd not in history and "a%2Fb" not in history
