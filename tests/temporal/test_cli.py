"""`switchboard worker --temporal` and `switchboard run --temporal` against a dev server started
from the installed wheel on 127.0.0.1: exit codes 0, 1 and 2, and a worker that stops on
SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("temporalio")

from engine.temporal.testing import DevServer  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]

OK = """version: 1
name: ok
input: {type: object, required: [id]}
steps:
  - {service: S, action: get}
  - wait: 200ms
output: "${ steps.get.output }"
"""
BAD = "version: 1\nname: bad\nsteps:\n  - {service: S, action: broken}\n"
MOCKS = """version: 1
mocks:
  S.get: {body: {id: "${ request.body.id }"}}
  S.broken: {status: 500}
"""


def _cli(*args: str, **kw: object) -> list[str]:
    return [sys.executable, "-m", "engine.cli", *args]


@pytest.fixture(scope="module")
def server() -> Iterator[DevServer]:
    with DevServer() as srv:
        yield srv


def start_worker(
    server: DevServer, folder: Path, tq: str, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        _cli("worker", "--temporal", server.address, "--task-queue", tq, str(folder)),
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()
    assert line.startswith("worker:"), line + proc.stderr.read()
    return proc


def test_run_on_temporal_gives_the_results_and_exit_codes_of_a_local_run(
    server: DevServer, tmp_path: Path
) -> None:
    (tmp_path / "ok.yaml").write_text(OK)
    (tmp_path / "bad.yaml").write_text(BAD)
    (tmp_path / "s.mocks.yaml").write_text(MOCKS)
    tq = f"cli-{uuid.uuid4().hex}"
    worker = start_worker(server, tmp_path, tq)
    try:

        def run(name: str, input: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                _cli(
                    "run",
                    "--temporal",
                    server.address,
                    "--task-queue",
                    tq,
                    "--mocks",
                    str(tmp_path / "s.mocks.yaml"),
                    "--input",
                    input,
                    "--json",
                    str(tmp_path / name),
                ),
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=60,
            )

        ok = run("ok.yaml", '{"id": "P-1"}')
        assert ok.returncode == 0, ok.stderr
        result = json.loads(ok.stdout)
        assert result["status"] == "succeeded" and result["output"] == {"id": "P-1"}
        assert result["steps"]["wait"]["duration_ms"] == 200  # virtual time on Temporal too
        bad = run("bad.yaml", "null")
        assert bad.returncode == 1, bad.stderr
        assert json.loads(bad.stdout)["error"]["type"] == "http"
        invalid = run("ok.yaml", "{}")
        assert invalid.returncode == 2, invalid.stderr
        assert json.loads(invalid.stdout)["error"]["type"] == "input"
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(60) == 0


def test_run_says_what_to_do_when_temporal_cannot_be_reached(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(BAD)
    from engine.temporal.testing import free_port

    proc = subprocess.run(
        _cli("run", "--temporal", f"127.0.0.1:{free_port()}", str(tmp_path / "bad.yaml")),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "cannot reach Temporal" in proc.stderr and "start-dev" in proc.stderr


def test_run_temporal_refuses_check_contract_and_says_what_does_it(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(BAD)
    args = ("run", "--temporal", "127.0.0.1:1", "--check-contract", str(tmp_path / "bad.yaml"))
    proc = subprocess.run(_cli(*args), cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "--check-contract is not supported with --temporal" in proc.stderr
    assert "engine: temporal" in proc.stderr


def test_ctrl_c_cancels_the_run_on_temporal_and_prints_its_result(
    server: DevServer, tmp_path: Path
) -> None:
    (tmp_path / "long.yaml").write_text("version: 1\nname: long\nsteps:\n  - wait: 1h\n")
    tq = f"cli-{uuid.uuid4().hex}"
    worker = start_worker(server, tmp_path, tq)
    try:
        proc = subprocess.Popen(
            _cli(
                "run",
                "--temporal",
                server.address,
                "--task-queue",
                tq,
                "--json",
                "--real-time",
                str(tmp_path / "long.yaml"),
            ),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert line.startswith("run "), line + proc.stderr.read()
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        result = json.loads(out)
        assert result["status"] == "cancelled" and result["steps"]["wait"]["status"] == "cancelled"
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(60) == 0
