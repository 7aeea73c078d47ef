"""Single-process `serve`: the "listening on" line is printed once uvicorn's signal handlers are
in place, so a SIGTERM sent on reading it is a graceful stop (exit 0, runs in flight finish).
The moment is held open deterministically: the server's stdout is a pipe the test filled, so
printing the line blocks until the test has sent its SIGTERM and then drains the pipe."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from engine.server.store import Store
from tests.engine.serve_support import wait_until
from tests.engine.test_server_restart import serve_process

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc to see the server blocked"
)


def _blocked_writing(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/wchan") as f:
            return "pipe_write" in f.read()
    except OSError:
        return False


@pytest.mark.parametrize("workers", ["1", "2"])
def test_sigterm_while_the_line_is_printed_is_a_graceful_stop(tmp_path: Path, workers: str) -> None:
    folder = tmp_path / "flows"
    folder.mkdir()
    (folder / "quick.yaml").write_text(
        "version: 1\nname: quick\nsteps:\n  - notify: done\n", encoding="utf-8"
    )
    read, write = os.pipe()
    os.set_blocking(write, False)
    filled = 0
    try:  # fill the pipe: the server's first write to stdout blocks
        while True:
            filled += os.write(write, b"x" * 4096)
    except BlockingIOError:
        pass
    os.set_blocking(write, True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "serve", str(folder), "--port", "0"]
        + ["--store", str(tmp_path / "s.sqlite3"), "--workers", workers],
        stdout=write,
        stderr=subprocess.PIPE,
        text=True,
    )
    os.close(write)
    try:
        wait_until(lambda: _blocked_writing(proc.pid), timeout=30, what="the line to be printed")
        proc.send_signal(signal.SIGTERM)  # printing: the server is about to serve
        chunks = []
        while chunk := os.read(read, 65536):
            chunks.append(chunk)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err  # it once ended -15: handlers came after the line
        assert b"".join(chunks)[filled:].startswith(b"switchboard serve: listening on http://")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        os.close(read)


def test_sigterm_lets_the_runs_in_flight_finish(tmp_path: Path) -> None:
    folder = tmp_path / "flows"
    folder.mkdir()
    (folder / "brief.yaml").write_text(
        "version: 1\nname: brief\nsteps:\n  - wait: 500ms\n  - notify: done\n", encoding="utf-8"
    )
    store = tmp_path / "s.sqlite3"
    with serve_process(folder, store, "--workers", "1") as (proc, url):
        run = httpx.post(f"{url}/workflows/brief/runs", json={}).json()["run"]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    got = Store(store, recover=False).get_run(run)
    assert got is not None and got["status"] == "succeeded", got
