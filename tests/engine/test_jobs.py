"""The job layer: every host runs the same job through `run_job` and gets the same result."""

from __future__ import annotations

import asyncio
import json
import pickle
import socket
import subprocess
import sys
import textwrap
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pytest

from engine import JobOutcome, JobRequest, RunFinished, outcome_json, run_job
from engine.worker import serve

ROOT = Path(__file__).resolve().parents[2]

FLOW = """\
version: 1
name: jobFlow
input: {type: object, required: [n]}
defaults:
  retry: {attempts: 3, delay: 1s, jitter: none}
steps:
  - id: first
    service: Api
    action: first
    with: {n: "${ input.n }"}
  - id: second
    service: Api
    action: second
    with: {seen: "${ steps.first.output.got }"}
  - notify: "done with ${ steps.second.output.seen }"
output: "${ steps.second.output }"
"""
MOCKS = """\
version: 1
mocks:
  Api.first:
    - status: 503
    - body: {got: "${ request.body.n }"}
  Api.second: {body: {seen: "${ request.body.seen }"}, delay: 250ms}
"""
ENVS = "version: 1\ndefault: mock\nenvironments:\n  mock: {mocks: flow.mocks.yaml}\n"

SCRIPT = """\
import asyncio, json, sys
from pathlib import Path

from engine import JobRequest, outcome_json, run_job


async def main() -> int:
    request = JobRequest("run", path=Path(sys.argv[1]), input={"n": 7})
    outcome = await run_job(request)
    print(json.dumps(outcome_json(outcome)))
    return outcome.exit_code


sys.exit(asyncio.run(main()))
"""


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    (tmp_path / "flow.yaml").write_text(FLOW)
    (tmp_path / "flow.mocks.yaml").write_text(MOCKS)
    (tmp_path / "environments.yaml").write_text(ENVS)
    return tmp_path


def _same(result: dict[str, Any]) -> dict[str, Any]:
    """The result without what differs between any two runs: the run id and the start time."""
    return {k: v for k, v in result.items() if k not in ("run", "started")}


def _by_worker(request: JobRequest) -> JobOutcome:
    a, b = socket.socketpair()
    ours, theirs = Connection(a.detach()), Connection(b.detach())
    ours.send(request)

    async def main() -> None:
        served = asyncio.ensure_future(serve(theirs, warm_up=False))
        loop = asyncio.get_running_loop()
        while True:
            data = await loop.run_in_executor(None, ours.recv_bytes)
            if data[:1] == b"O":
                ours.send("quit")
                await asyncio.wait_for(served, 20)
                return pickle.loads(data[1:])  # type: ignore[no-any-return]

    try:
        return asyncio.run(main())  # type: ignore[return-value]
    finally:
        ours.close()


def test_the_cli_the_worker_and_a_script_give_the_same_result(folder: Path) -> None:
    flow = folder / "flow.yaml"
    cli = subprocess.run(
        [sys.executable, "-m", "engine.cli", "run", str(flow), "--json", "--input", '{"n": 7}'],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert cli.returncode == 0, cli.stderr
    script_file = folder / "script.py"
    script_file.write_text(SCRIPT)
    assert len(SCRIPT.splitlines()) <= 20
    script = subprocess.run(
        [sys.executable, str(script_file), str(flow)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert script.returncode == 0, script.stderr
    worker = _by_worker(JobRequest("run", path=flow, input={"n": 7}))
    assert worker.kind == "run"
    results = [json.loads(cli.stdout), json.loads(script.stdout), outcome_json(worker)]
    assert results[0]["status"] == "succeeded"
    assert results[0]["output"] == {"seen": 7}
    assert results[0]["steps"]["first"]["attempts"] == 2
    assert results[0]["duration_ms"] == 1250  # a 1 s retry delay and a 250 ms mock, virtual
    assert _same(results[0]) == _same(results[1]) == _same(results[2])


def test_a_cancelled_run_is_an_outcome_with_the_result_it_ended_with(folder: Path) -> None:
    (folder / "slow.yaml").write_text("version: 1\nname: slow\nsteps:\n  - wait: 1h\n")
    seen: list[Any] = []

    async def main() -> JobOutcome:
        request = JobRequest("run", path=folder / "slow.yaml", real_time=True)
        task = asyncio.ensure_future(run_job(request, sinks=[seen.append]))
        await asyncio.sleep(0.1)
        task.cancel()
        outcome = await task
        assert not task.cancelled() and asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]
        return outcome

    outcome = asyncio.run(main())
    assert outcome.kind == "cancelled" and outcome.exit_code == 130
    assert outcome.payload.status == "cancelled"
    assert outcome.payload.steps["wait"].status == "cancelled"
    assert [e.result.status for e in seen if isinstance(e, RunFinished)] == ["cancelled"]


def test_a_run_that_cannot_start_carries_the_files_problems(folder: Path) -> None:
    (folder / "bad.yaml").write_text("version: 1\nname: bad\nsteps:\n  - servce: Api\n")
    outcome = asyncio.run(run_job(JobRequest("run", path=folder / "bad.yaml")))
    assert outcome.kind == "error" and outcome.exit_code == 2
    assert outcome.problems and outcome.problems[0].line == 4
    assert outcome.message == "1 problem: fix the file and run again"
    (folder / "bad.yaml").write_text(
        "version: 1\nname: bad\nsteps:\n  - servce: Api\n  - wait: 5 minutes\n"
    )
    two = asyncio.run(run_job(JobRequest("run", path=folder / "bad.yaml")))
    assert two.message.endswith(" problems: fix the file and run again")  # one file: "file"
    missing = asyncio.run(run_job(JobRequest("run", path=folder / "nope.yaml")))
    assert missing.kind == "error" and "no such workflow file" in missing.message


def test_emit_starts_the_listening_workflows_and_says_when_none_listen(folder: Path) -> None:
    (folder / "listener.yaml").write_text(
        textwrap.dedent("""\
        version: 1
        name: listener
        trigger: ping
        steps:
          - notify: "got ${ input.x }"
        """)
    )
    seen: list[Any] = []
    outcome = asyncio.run(
        run_job(JobRequest("emit", folder=folder, event="ping", data={"x": 1}), sinks=[seen.append])
    )
    assert outcome.kind == "emit" and outcome.exit_code == 0
    assert [r.workflow for r in outcome.payload] == ["listener"]
    assert outcome.message == "event 'ping' started 1 run"
    assert any(getattr(e, "message", "") == "got 1" for e in seen)
    nobody = asyncio.run(run_job(JobRequest("emit", folder=folder, event="pong")))
    assert nobody.kind == "error" and nobody.exit_code == 2
    assert "has trigger 'pong' (events listened for: ping)" in nobody.message


def test_a_tests_job_reports_every_file(folder: Path) -> None:
    (folder / "flow.tests.yaml").write_text(
        textwrap.dedent("""\
        version: 1
        workflow: flow.yaml
        mocks: flow.mocks.yaml
        cases:
          - name: passes
            input: {n: 3}
            expect: {status: succeeded, output: {seen: 3}, calls: {Api.first: 2}}
          - name: does not
            input: {n: 3}
            expect: {output: {seen: 4}}
        """)
    )
    outcome = asyncio.run(run_job(JobRequest("tests", tests=[folder])))
    report = outcome.payload
    assert outcome.kind == "tests" and outcome.exit_code == 1
    assert [c.passed for c in report.files[0].cases] == [True, False]
