"""`switchboard serve --engine temporal`: the serve API unchanged with runs on Temporal (a dev
server from the installed wheel on 127.0.0.1, `switchboard worker` processes, real HTTP
services): results and events in the store and on the WebSocket, idempotent starts, cancel,
and a server restarted under a run finding how it ended on Temporal."""

from __future__ import annotations

import asyncio
import json
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("temporalio")

from websockets.sync.client import connect  # noqa: E402

from engine.jobs.request import JobRequest  # noqa: E402
from engine.temporal.activities import Activities  # noqa: E402
from engine.temporal.host import make_worker  # noqa: E402
from engine.temporal.serving import TemporalRuns  # noqa: E402
from engine.temporal.testing import DevServer, free_port  # noqa: E402
from tests.engine.serve_support import FakeServices, fake_services, wait_until  # noqa: E402
from tests.engine.test_server_restart import serve_process  # noqa: E402
from tests.temporal.test_cli import start_worker  # noqa: E402

FLOW = """version: 1
name: flow
trigger: go
steps:
  - {id: get, service: S, action: get, with: {n: "${ input.n }"}}
  - wait: 300ms
  - notify: "got ${ steps.get.output.n }"
output: "${ steps.get.output }"
"""
SLOW = "version: 1\nname: slow\nsteps:\n  - {id: first, service: S, action: get}\n  - wait: 1h\n"
EMITTER = """version: 1
name: emitter
steps:
  - emit: {event: go, data: {n: 5}}
"""
PAUSE = """version: 1
name: pause
steps:
  - wait: 3s
  - {id: after, service: S, action: get, with: {n: 7}}
"""


@pytest.fixture(scope="module")
def server() -> Iterator[DevServer]:
    with DevServer() as srv:
        yield srv


@pytest.fixture
def services() -> Iterator[FakeServices]:
    with fake_services({"/get": (200, {"n": 1})}) as fake:
        yield fake


def _folder(tmp_path: Path, fake: FakeServices) -> Path:
    folder = tmp_path / "flows"
    folder.mkdir()
    (folder / "flow.yaml").write_text(FLOW)
    (folder / "slow.yaml").write_text(SLOW)
    (folder / "pause.yaml").write_text(PAUSE)
    (folder / "emitter.yaml").write_text(EMITTER)
    (folder / "environments.yaml").write_text(
        f"version: 1\ndefault: live\nenvironments:\n  live:\n    services: {{S: {fake.url}}}\n"
    )
    return folder


def _engine(server: DevServer, tq: str, *extra: str) -> tuple[str, ...]:
    return ("--engine", "temporal", server.address, "--task-queue", tq, *extra)


def test_runs_on_temporal_answer_as_local_runs_with_their_events_streamed(
    server: DevServer, services: FakeServices, tmp_path: Path
) -> None:
    folder = _folder(tmp_path, services)
    tq = f"serve-{uuid.uuid4().hex}"
    worker = start_worker(server, folder, tq)
    try:
        with serve_process(folder, tmp_path / "store.sqlite3", *_engine(server, tq)) as (_, url):
            with connect(url.replace("http", "ws", 1) + "/ws?workflow=flow") as ws:
                got = httpx.post(
                    f"{url}/workflows/flow/runs?wait=1", json={"n": 1}, timeout=60
                ).json()
                assert got["status"] == "succeeded", got
                assert got["output"] == {"n": 1}
                assert got["steps"]["wait"]["duration_ms"] >= 300
                run = got["run"]
                kinds = []
                while "RunFinished" not in kinds:
                    e = json.loads(ws.recv(timeout=30))
                    assert e["run_id"] == run
                    kinds.append(e["event"])
            assert kinds[0] == "RunStarted"
            assert kinds.count("StepStarted") == 3 and kinds.count("StepFinished") == 3
            assert "Notification" in kinds
            stored = httpx.get(f"{url}/runs/{run}").json()
            assert stored["status"] == "succeeded" and stored["result"] == got
            sse = httpx.get(f"{url}/runs/{run}/events", timeout=30).text
            assert sse.count("event: StepFinished") == 3 and "got 1" in sse
            assert services.calls == [("/get", {"n": 1})]

            # an event sent twice with one key starts one run, on Temporal once
            key = {"Idempotency-Key": "k-1"}
            first = httpx.post(f"{url}/events/go", json={"n": 2}, headers=key).json()["runs"]
            again = httpx.post(f"{url}/events/go", json={"n": 2}, headers=key).json()["runs"]
            assert first == again and len(first) == 1
            wait_until(
                lambda: httpx.get(f"{url}/runs/{first[0]}").json()["status"] == "succeeded",
                30,
                "the event's run to end",
            )
            assert services.calls.count(("/get", {"n": 2})) == 1
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(60) == 0


def test_a_run_an_emit_starts_on_temporal_is_stored_and_followed(
    server: DevServer, services: FakeServices, tmp_path: Path
) -> None:
    folder = _folder(tmp_path, services)
    tq = f"serve-{uuid.uuid4().hex}"
    worker = start_worker(server, folder, tq)
    try:
        with serve_process(folder, tmp_path / "store.sqlite3", *_engine(server, tq)) as (_, url):
            got = httpx.post(f"{url}/workflows/emitter/runs?wait=1", json={}, timeout=60).json()
            assert got["status"] == "succeeded", got

            def child() -> dict[str, Any] | None:
                runs = httpx.get(f"{url}/runs?workflow=flow").json()["runs"]
                return runs[0] if runs and runs[0]["status"] == "succeeded" else None

            started = wait_until(child, 30, "the emitted run to end")
            stored = httpx.get(f"{url}/runs/{started['run']}").json()
            assert stored["result"]["output"] == {"n": 1}
            assert services.calls == [("/get", {"n": 5})]
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(60) == 0


def test_cancel_through_the_api_cancels_the_run_on_temporal(
    server: DevServer, services: FakeServices, tmp_path: Path
) -> None:
    folder = _folder(tmp_path, services)
    tq = f"serve-{uuid.uuid4().hex}"
    worker = start_worker(server, folder, tq)
    try:
        with serve_process(folder, tmp_path / "store.sqlite3", *_engine(server, tq)) as (_, url):
            run = httpx.post(f"{url}/workflows/slow/runs", json={}).json()["run"]
            # the wait's start reaches the server while the wait goes on (no query)
            wait_until(
                lambda: (
                    httpx.get(f"{url}/runs/{run}").json()["steps"].get("wait", {}).get("status")
                    == "running"
                ),
                30,
                "the wait to show running",
            )
            got = httpx.post(f"{url}/runs/{run}/cancel", timeout=60).json()
            assert got["status"] == "cancelled", got
            assert got["result"]["steps"]["first"]["status"] == "succeeded"
            assert got["result"]["steps"]["wait"]["status"] == "cancelled"
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(60) == 0
    described = asyncio.run(run_status(server, "slow", run))
    assert described == "COMPLETED"  # the cancelled run returned its result


async def run_status(server: DevServer, workflow: str, run_id: str) -> str:
    from temporalio.client import Client

    from engine.temporal.payloads import workflow_id

    client = await Client.connect(server.address)
    info = await client.get_workflow_handle(workflow_id(workflow, run_id)).describe()
    assert info.status is not None
    return info.status.name


def test_a_run_goes_on_on_temporal_while_the_server_restarts(
    server: DevServer, services: FakeServices, tmp_path: Path
) -> None:
    folder = _folder(tmp_path, services)
    store = tmp_path / "store.sqlite3"
    tq = f"serve-{uuid.uuid4().hex}"
    # pinned, so the batches of events sent while no server listens reach the next one
    extra = _engine(server, tq, "--events-listen", f"127.0.0.1:{free_port()}", "--grace", "0s")
    worker = start_worker(server, folder, tq)
    try:
        with serve_process(folder, store, *extra) as (proc, url):
            run = httpx.post(f"{url}/workflows/pause/runs", json={}).json()["run"]
            wait_until(
                lambda: httpx.get(f"{url}/runs/{run}").json()["steps"].get("wait"),
                30,
                "the wait to start",
            )
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(30) == 0
        assert services.calls == []
        with serve_process(folder, store, *extra) as (_, url):
            got = wait_until(
                lambda: _ended(httpx.get(f"{url}/runs/{run}").json()), 60, "the run to end"
            )
            assert got["status"] == "succeeded", got
            assert got["result"]["steps"]["after"]["output"] == {"n": 1}
            sse = httpx.get(f"{url}/runs/{run}/events", timeout=30).text
            assert "event: RunFinished" in sse and "followed again" in sse
        assert services.calls == [("/get", {"n": 7})]  # called once, by the run that went on
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(60) == 0


def _ended(run: dict[str, Any]) -> dict[str, Any] | None:
    return run if run["status"] != "running" else None


def test_a_start_sent_twice_starts_one_run_and_both_get_its_result(
    server: DevServer, services: FakeServices, tmp_path: Path
) -> None:
    folder = _folder(tmp_path, services)
    seen: list[Any] = []

    async def main() -> list[Any]:
        runs = TemporalRuns(server.address, task_queue=f"twice-{uuid.uuid4().hex}")
        client = await runs.open()
        request = JobRequest(
            "run", path=folder / "flow.yaml", input={"n": 3}, run_id=uuid.uuid4().hex
        )
        acts = Activities({})
        try:
            async with make_worker(client, task_queue=runs.task_queue, activities=acts):
                return list(
                    await asyncio.gather(
                        runs.run(request, [seen.append]), runs.run(request, [seen.append])
                    )
                )
        finally:
            await acts.aclose()
            await runs.aclose()

    one, two = asyncio.run(main())
    assert one is not None and two is not None
    assert one.kind == two.kind == "run"
    assert one.payload.to_json() == two.payload.to_json()
    assert one.payload.status == "succeeded"
    assert services.calls == [("/get", {"n": 3})]
    assert [type(e).__name__ for e in seen].count("RunFinished") == 1  # events once


@pytest.mark.parametrize(
    ("engine", "says"),
    [
        (["--engine", "bogus"], "--engine local or --engine temporal HOST:PORT"),
        (["--engine", "temporal"], "--engine local or --engine temporal HOST:PORT"),
        (["--engine", "temporal", "x:1", "--events-listen", "nowhere"], "write HOST:PORT"),
    ],
)
def test_a_wrong_engine_is_a_usage_error_saying_what_to_write(
    tmp_path: Path, engine: list[str], says: str
) -> None:
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "engine.cli", "serve", str(tmp_path), "--port", "0", *engine],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and says in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


OUTAGE_S = 10.5  # temporalio's client gives a call up after 10 s of retries


def test_a_served_run_outlives_a_killed_temporal_server(
    services: FakeServices, tmp_path: Path
) -> None:
    # the dev server (SQLite file) is SIGKILLed while the run waits and started again after
    # longer than the client's own retries last: the wait for the result asks again meanwhile,
    # and gets the run's end
    folder = _folder(tmp_path, services)
    temporal = DevServer(db=tmp_path / "temporal.db")
    temporal.start()
    tq = f"kill-{uuid.uuid4().hex}"
    worker = start_worker(temporal, folder, tq)
    seen: list[Any] = []

    async def main() -> Any:
        runs = TemporalRuns(temporal.address, task_queue=tq)
        await runs.open()
        request = JobRequest("run", path=folder / "pause.yaml", run_id=uuid.uuid4().hex)
        job = asyncio.ensure_future(runs.run(request, [seen.append]))
        loop = asyncio.get_running_loop()
        while not any(getattr(e, "step", None) == "wait" for e in seen):
            await asyncio.sleep(0.05)
        await loop.run_in_executor(None, temporal.kill)
        await asyncio.sleep(OUTAGE_S)
        await loop.run_in_executor(None, temporal.start)
        try:
            return await asyncio.wait_for(job, 90)
        finally:
            await runs.aclose()

    try:
        outcome = asyncio.run(main())
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(60)
        temporal.stop()
    assert outcome is not None and outcome.kind == "run", outcome
    assert outcome.payload.status == "succeeded"
    assert services.calls == [("/get", {"n": 7})]
