"""The engine worker process: jobs over a connection, events back in batches, cancel, quit."""

from __future__ import annotations

import asyncio
import os
import pickle
import secrets
import socket
import subprocess
import sys
import threading
from multiprocessing import AuthenticationError
from multiprocessing.connection import Connection, Listener
from pathlib import Path
from typing import Any

import pytest

from engine import (
    CallRecord,
    JobOutcome,
    JobRequest,
    JobShape,
    Notification,
    RunFinished,
    RunResult,
    RunStarted,
    StepFinished,
    StepResult,
    StepStarted,
    load_workflow,
)
from engine.worker import serve

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "workflows" / "policy_change.yaml"


class Client:
    """The sending side of a worker served in this process (a thread reads what comes back)."""

    def __init__(self) -> None:
        a, b = socket.socketpair()
        self.conn, self.worker_conn = Connection(a.detach()), Connection(b.detach())
        self.items: list[Any] = []
        self.messages = 0
        self.outcomes: list[JobOutcome] = []
        self.ended = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        try:
            while True:
                data = self.conn.recv_bytes()
                self.messages += 1
                if data[:1] == b"O":
                    self.outcomes.append(pickle.loads(data[1:]))
                    self.ended.set()
                else:
                    self.items.extend(pickle.loads(data[1:]))
        except (EOFError, OSError):
            pass

    def events(self, kind: type) -> list[Any]:
        return [i for i in self.items if isinstance(i, kind)]


def _serve(client: Client, *messages: Any, stop_when_done: bool = True) -> None:
    for m in messages:
        client.conn.send(m)

    async def main() -> None:
        task = asyncio.ensure_future(serve(client.worker_conn, warm_up=False))
        if stop_when_done:
            await asyncio.get_running_loop().run_in_executor(None, client.ended.wait, 20)
            client.conn.send("quit")
        await asyncio.wait_for(task, 20)

    asyncio.run(main())


def _run_request(**more: Any) -> JobRequest:
    wf = load_workflow(POLICY)
    return JobRequest(
        "run", workflow=wf, path=POLICY, input={"policyId": "P-7"}, run_id="r-1", **more
    )


def test_a_run_streams_its_shape_and_events_in_batches_then_its_outcome():
    client = Client()
    _serve(client, _run_request())
    outcome = client.outcomes[0]
    assert outcome.kind == "run" and outcome.run_ids == ["r-1"]
    assert isinstance(outcome.payload, RunResult) and outcome.payload.status == "succeeded"
    shape = client.items[0]
    assert isinstance(shape, JobShape)
    assert shape.name == "policyChange" and shape.ids[0] == "updatePolicy"
    assert shape.attempts["check"] == 4 and shape.attempts["updatePolicy"] == 1
    assert [e.run_id for e in client.events(RunStarted)] == ["r-1"]
    assert len(client.events(StepFinished)) == 6  # one per step, skipped ones included
    assert client.events(RunFinished)[0].result == outcome.payload
    assert any(n.message.startswith("Policy P-7 passed") for n in client.events(Notification))
    assert client.messages < len(client.items)  # batched, not one message per event


def test_a_scenario_reaches_the_job():
    client = Client()
    _serve(client, _run_request(scenario="complianceFails"))
    assert client.outcomes[0].payload.output["compliance"] == "fail"


SECRET_FLOW = """\
version: 1
name: usesSecret
steps:
  - service: Vault
    action: open
    headers: {Authorization: "Bearer ${ secrets.SB_WORKER_TOKEN }"}
"""


def test_secrets_come_from_the_senders_variables_not_the_workers(tmp_path, monkeypatch):
    monkeypatch.delenv("SWITCHBOARD_SECRET_SB_WORKER_TOKEN", raising=False)
    flow = tmp_path / "secret.yaml"
    flow.write_text(SECRET_FLOW)
    mocks = tmp_path / "secret.mocks.yaml"
    mocks.write_text("version: 1\nmocks:\n  Vault.open: {body: {ok: true}}\n")
    wf = load_workflow(flow)
    environ = {"SWITCHBOARD_SECRET_SB_WORKER_TOKEN": "s3cret-from-designer"}
    outcomes = []
    for req in (
        JobRequest("run", workflow=wf, path=flow, mocks=mocks, environ=environ),
        JobRequest("run", workflow=wf, path=flow, mocks=mocks),
    ):
        client = Client()
        _serve(client, req)
        outcomes.append(client.outcomes[0])
    with_vars, without = outcomes
    assert with_vars.payload.status == "succeeded"
    assert without.payload.error["type"] == "secret"  # nothing leaked into the worker's own
    assert "SWITCHBOARD_SECRET_SB_WORKER_TOKEN" not in os.environ


def test_cancel_stops_a_long_run_at_once(tmp_path):
    flow = tmp_path / "long.yaml"
    flow.write_text("version: 1\nname: long\nsteps:\n  - wait: 1h\n")
    wf = load_workflow(flow)
    client = Client()
    req = JobRequest("run", workflow=wf, path=flow, run_id="r-2")

    def cancel_when_started() -> None:
        for _ in range(400):
            if client.events(StepStarted):
                client.conn.send("cancel")
                return
            threading.Event().wait(0.005)

    threading.Thread(target=cancel_when_started, daemon=True).start()
    _serve(client, req)  # a real hour if cancel did not work: the test's timeout would say so
    outcome = client.outcomes[0]
    assert outcome.kind == "cancelled"
    assert client.events(StepFinished)[0].status == "cancelled"
    assert client.events(RunFinished)[0].result.status == "cancelled"


def test_emit_starts_the_workflows_of_the_folder_that_listen():
    client = Client()
    wf = load_workflow(POLICY)
    _serve(
        client,
        JobRequest(
            "emit",
            workflow=wf,
            path=POLICY,
            event="emergencyReported",
            data={"incidentId": "I-1", "location": {"lat": 1, "lon": 2}},
        ),
    )
    outcome = client.outcomes[0]
    assert outcome.kind == "emit" and len(outcome.run_ids) == 1
    assert outcome.payload[0].workflow == "emergencyDispatch"


def test_a_tests_job_returns_the_files_results():
    client = Client()
    _serve(client, JobRequest("tests", tests=[ROOT / "workflows" / "policy_change.tests.yaml"]))
    report = client.outcomes[0].payload
    assert report.files[0].cases and all(c.passed for c in report.files[0].cases)


def test_a_run_that_cannot_start_says_why(tmp_path):
    flow = tmp_path / "w.yaml"
    flow.write_text("version: 1\nname: w\nsteps:\n  - service: S\n    action: a\n")
    wf = load_workflow(flow)
    client = Client()
    _serve(client, JobRequest("run", workflow=wf, path=flow, env="nowhere"))
    outcome = client.outcomes[0]
    assert outcome.kind == "error" and "nowhere" in outcome.message


def test_the_worker_ends_when_the_other_side_goes_away():
    a, b = socket.socketpair()
    a.close()  # the designer is gone (its end closed)
    with Connection(b.detach()) as conn:
        asyncio.run(asyncio.wait_for(serve(conn, warm_up=False), 10))


def _start_worker(key_for_worker: bytes, listener: Listener) -> subprocess.Popen[bytes]:
    host, port = listener.address
    env = dict(os.environ, SWITCHBOARD_WORKER_KEY=key_for_worker.hex())
    return subprocess.Popen(
        [sys.executable, "-m", "engine.worker", "--connect", f"{host}:{port}", "--no-warm-up"],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
    )


def test_python_m_engine_worker_connects_back_and_serves():
    key = secrets.token_bytes(32)
    with Listener(("127.0.0.1", 0), authkey=key) as listener:
        proc = _start_worker(key, listener)
        try:
            with listener.accept() as conn:
                conn.send(_run_request())
                while True:
                    data = conn.recv_bytes()
                    if data[:1] == b"O":
                        break
                # the request's classes are the module's, not a `__main__` copy: the job ran
                assert pickle.loads(data[1:]).payload.status == "succeeded"
                conn.send("quit")
                assert proc.wait(20) == 0
        finally:
            if proc.poll() is None:
                proc.kill()


def test_a_worker_without_the_key_is_refused_and_says_so():
    with Listener(("127.0.0.1", 0), authkey=secrets.token_bytes(32)) as listener:
        proc = _start_worker(secrets.token_bytes(32), listener)
        with pytest.raises(AuthenticationError):
            listener.accept()
        assert proc.wait(20) == 2
        assert b"cannot connect" in proc.stderr.read()


@pytest.mark.parametrize(
    "event",
    [
        StepStarted("r", "s", 2, 1.5, index=3),
        StepFinished(
            "r",
            "s",
            "failed",
            {"a": [1]},
            {"type": "http", "status": 503},
            12,
            2,
            (CallRecord(1, None, {"method": "POST"}, None, "boom", 5, "S.a", 1),),
            2.0,
        ),
        RunFinished(
            "r",
            RunResult(
                "r",
                "w",
                "succeeded",
                "2026-11-26T00:00:00Z",
                3,
                {"s": StepResult("succeeded", 1, None, None, 3)},
                None,
                None,
            ),
            3.0,
        ),
    ],
)
def test_events_pickle_to_equal_events(event):
    assert pickle.loads(pickle.dumps(event, pickle.HIGHEST_PROTOCOL)) == event


def test_the_worker_ends_when_the_designer_goes_away_mid_run(tmp_path):
    flow = tmp_path / "long.yaml"
    flow.write_text(
        "version: 1\nname: long\nsteps:\n  - id: tick\n    notify: {message: go}\n  - wait: 1h\n"
    )
    wf = load_workflow(flow)
    a, b = socket.socketpair()
    designer, worker_end = Connection(a.detach()), Connection(b.detach())
    designer.send(JobRequest("run", workflow=wf, path=flow, run_id="r-3"))

    async def main() -> None:
        served = asyncio.ensure_future(serve(worker_end, warm_up=False))
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, designer.recv_bytes)  # the run is under way
        designer.close()  # the designer is gone
        await asyncio.wait_for(served, 10)

    asyncio.run(main())
