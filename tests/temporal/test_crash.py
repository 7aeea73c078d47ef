"""Crashes on the dev server (SQLite file, 127.0.0.1): SIGKILL the worker, or the server, in the
middle of a run; the run still finishes, every step is recorded once, the steps that had
finished are not called again, and a call in flight at the crash is repeated once with the same
Idempotency-Key. A SIGTERM lets the call in flight finish: it is not repeated."""

from __future__ import annotations

import asyncio
import http.server
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("temporalio")

from temporalio.client import Client  # noqa: E402

from engine.files.documents import dump_any  # noqa: E402
from engine.temporal.host import start  # noqa: E402
from engine.temporal.payloads import RunArgs  # noqa: E402
from engine.temporal.testing import DevServer  # noqa: E402
from tests.engine.test_run_support import workflow  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]

WF = """
version: 1
name: crash
steps:
  - {id: first, service: Svc, action: one}
  - wait: 4s
  - {id: second, service: Svc, action: two}
"""


class _Counting(http.server.BaseHTTPRequestHandler):
    disable_nagle_algorithm = True
    keys: Counter[str] = Counter()
    slow_second = False

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("content-length") or 0))
        key = self.headers.get("idempotency-key") or "?"
        _Counting.keys[key] += 1
        if key.endswith(":second") and _Counting.keys[key] == 1 and _Counting.slow_second:
            time.sleep(3)  # the call in flight when the worker is killed
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: Any) -> None:
        return None


@pytest.fixture
def service() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Counting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Counting.keys.clear()
    _Counting.slow_second = False
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _worker(address: str, tq: str, folder: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "engine.cli",
            "worker",
            "--temporal",
            address,
            "--task-queue",
            tq,
            str(folder),
        ],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()
    assert line.startswith("worker:"), line + proc.stderr.read()
    return proc


async def _wait_for(key: str, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while _Counting.keys[key] == 0:
        assert time.monotonic() < deadline, f"{key} was never called"
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("kill", ["worker", "server", "worker-in-call", "sigterm-in-call"])
def test_a_run_survives_sigkill_and_finished_steps_are_not_called_again(
    kill: str, service: str, tmp_path: Path
) -> None:
    (tmp_path / "crash.yaml").write_text(WF)
    _Counting.slow_second = kill.endswith("in-call")
    srv = DevServer(db=tmp_path / "temporal.db")
    srv.start()
    tq = f"crash-{uuid.uuid4().hex}"
    run_id = uuid.uuid4().hex[:16]
    workers = [_worker(srv.address, tq, tmp_path)]

    async def main() -> dict[str, Any]:
        client = await Client.connect(srv.address)
        args = RunArgs(dump_any(workflow(WF)), None, run_id, {"Svc": service})
        handle = await start(client, args, task_queue=tq, name="crash")
        await _wait_for(f"{run_id}:first")
        if kill.endswith("in-call"):
            await _wait_for(f"{run_id}:second")  # the service holds this call for 3 s
        else:
            await asyncio.sleep(0.5)  # the first step's result recorded; the wait has begun
        if kill.startswith("worker"):
            workers[0].send_signal(signal.SIGKILL)
            workers[0].wait(10)
            workers.append(_worker(srv.address, tq, tmp_path))
        elif kill == "sigterm-in-call":
            # A graceful stop lets the call in flight finish (and be recorded) first.
            workers[0].send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(workers[0].wait, 60) == 0
            workers.append(_worker(srv.address, tq, tmp_path))
        else:
            srv.kill()
            srv.start()
        outcome = await asyncio.wait_for(handle.result(), 90)
        return outcome.result

    try:
        result = asyncio.run(main())
    finally:
        for w in workers:
            if w.poll() is None:
                w.send_signal(signal.SIGTERM)
                w.wait(30)
        srv.stop()
    assert result["status"] == "succeeded", result
    assert result["steps"]["first"]["attempts"] == 1
    assert result["steps"]["second"]["attempts"] == 1
    # The call in flight at the crash is repeated once, with the same Idempotency-Key.
    again = 2 if kill == "worker-in-call" else 1
    assert _Counting.keys == Counter({f"{run_id}:first": 1, f"{run_id}:second": again})
