"""EngineProcess, the designer's handle on an engine worker: start, messages, failures, stop."""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from designer.run.engine_process import EngineProcess
from engine import JobOutcome, JobRequest, load_workflow
from tests.designer.run_support import WORKFLOWS

REPO = Path(__file__).resolve().parents[3]


class Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes | None] = []
        self.outcome = threading.Event()
        self.gone = threading.Event()

    def __call__(self, data: bytes | None) -> None:
        self.messages.append(data)
        if data is None:
            self.gone.set()
        elif data[:1] == b"O":
            self.outcome.set()


def test_jobs_sent_before_the_worker_connects_run_in_order():
    inbox = Inbox()
    process = EngineProcess(inbox)
    wf = load_workflow(WORKFLOWS / "policy_change.yaml")
    try:
        process.send(
            JobRequest(
                "run",
                workflow=wf,
                path=WORKFLOWS / "policy_change.yaml",
                input={"policyId": "P-7"},
                run_id="r-9",
            )
        )
        assert inbox.outcome.wait(30)
        outcome: JobOutcome = pickle.loads(inbox.messages[-1][1:])  # type: ignore[index]
        assert outcome.kind == "run" and outcome.payload.status == "succeeded"
        assert process.running
    finally:
        process.stop()
    assert inbox.gone.wait(10) and not process.running


def test_a_worker_that_never_connects_is_reported_gone(monkeypatch):
    inbox = Inbox()
    monkeypatch.setattr(sys, "executable", shutil.which("false"))  # exits at once
    process = EngineProcess(inbox)
    process.send("cancel")
    assert inbox.gone.wait(10)
    assert inbox.messages == [None]
    process.stop()


def test_a_bad_or_idle_connection_first_does_not_keep_the_worker_out():
    # one wrong-key connection made first failed the next job at once; one idle connection
    # made it hang with no time-out
    import contextlib
    import os
    import secrets
    import socket
    import subprocess
    import threading
    import time
    from multiprocessing import AuthenticationError
    from multiprocessing.connection import Client

    from designer.run.engine_process import accept_worker

    key = secrets.token_bytes(32)
    listener = socket.create_server(("127.0.0.1", 0))
    address = listener.getsockname()[:2]

    def wrong_key() -> None:
        with contextlib.suppress(AuthenticationError, OSError, EOFError):
            Client(address, authkey=b"not the key").close()

    idle = socket.create_connection(address)  # connects and says nothing
    threading.Thread(target=wrong_key, daemon=True).start()
    env = dict(os.environ, SWITCHBOARD_WORKER_KEY=key.hex())
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "engine.worker",
            "--connect",
            f"{address[0]}:{address[1]}",
            "--no-warm-up",
        ],
        env=env,
        cwd=WORKFLOWS.parent,
    )
    try:
        t0 = time.monotonic()
        conn = accept_worker(listener, proc, key, auth_seconds=1.0)
        assert conn is not None and time.monotonic() - t0 < 10
        conn.send(
            JobRequest(
                "run",
                workflow=load_workflow(WORKFLOWS / "policy_change.yaml"),
                path=WORKFLOWS / "policy_change.yaml",
                input={"policyId": "P-1"},
            )
        )
        while True:
            data = conn.recv_bytes()
            if data[:1] == b"O":
                break
        assert pickle.loads(data[1:]).payload.status == "succeeded"
        conn.send("quit")
        assert proc.wait(20) == 0
    finally:
        idle.close()
        listener.close()
        if proc.poll() is None:
            proc.kill()


@pytest.mark.parametrize("state", ["connecting", "idle", "running"])
def test_leaving_is_quiet_whatever_the_worker_is_doing(state):
    # the worker is told nothing: this process just ends, as `design --screenshot` does
    done = subprocess.run(
        [sys.executable, "-m", "tests.designer.run.exit_check", state],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0
    pid = int(done.stdout.split()[0])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.05)
    assert not _alive(pid), "the worker outlived the designer"
    assert done.stderr == ""  # was "engine worker: cannot connect …" or an EOFError traceback


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").exists() and " Z " not in Path(f"/proc/{pid}/stat").read_text()
