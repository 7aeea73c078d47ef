"""A real `switchboard serve` process killed with SIGKILL under a run, then started again on
the same --store: the history is there and the run in flight is failed, type `interrupted`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.engine.serve_support import wait_until

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")


@contextmanager
def serve_process(
    folder: Path, store: Path, *extra: str
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "engine.cli",
            "serve",
            str(folder),
            "--port",
            "0",
            "--store",
            str(store),
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "listening on" in line, (line, proc.stderr.read() if proc.stderr else "")
        url = line.rsplit(" ", 1)[1].strip()
        wait_until(lambda: _ok(url + "/healthz"), what="the server to answer")
        yield proc, url
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def _ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_sigkill_in_flight_run_is_interrupted_after_restart(tmp_path: Path) -> None:
    folder = tmp_path / "flows"
    folder.mkdir()
    (folder / "slow.yaml").write_text(
        "version: 1\nname: slow\ntrigger: slowEvent\nsteps:\n  - wait: 1h\n", encoding="utf-8"
    )
    (folder / "quick.yaml").write_text(
        "version: 1\nname: quick\nsteps:\n  - notify: done\n", encoding="utf-8"
    )
    store = tmp_path / "store.sqlite3"
    with serve_process(folder, store) as (proc, url):
        done = httpx.post(f"{url}/workflows/quick/runs?wait=true", json={}, timeout=10).json()
        assert done["status"] == "succeeded"
        (slow,) = httpx.post(
            f"{url}/events/slowEvent", json={}, headers={"Idempotency-Key": "once"}
        ).json()["runs"]
        wait_until(
            lambda: httpx.get(f"{url}/runs/{slow}").json().get("steps"),
            what="the slow run's wait to start",
        )
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    started = time.monotonic()
    with serve_process(folder, store) as (_, url):
        got = httpx.get(f"{url}/runs/{slow}").json()
        assert got["status"] == "failed"
        assert got["error"]["type"] == "interrupted"
        assert "start the run again" in got["error"]["message"]
        assert httpx.get(f"{url}/runs/{done['run']}").json()["result"] == done
        assert {r["run"] for r in httpx.get(f"{url}/runs").json()["runs"]} == {slow, done["run"]}
        # the key is remembered across the restart: nothing starts twice
        again = httpx.post(
            f"{url}/events/slowEvent", json={}, headers={"Idempotency-Key": "once"}
        ).json()["runs"]
        assert again == [slow]
        # and the run's notifications say so
        r = httpx.get(f"{url}/runs/{slow}/events", timeout=10)
        assert "interrupted" in r.text
    assert time.monotonic() - started < 30


def test_sigterm_cancels_runs_after_the_grace_period_with_their_result(tmp_path: Path) -> None:
    folder = tmp_path / "flows"
    folder.mkdir()
    (folder / "slow.yaml").write_text(
        "version: 1\nname: slow\nsteps:\n  - wait: 1h\n", encoding="utf-8"
    )
    store = tmp_path / "store.sqlite3"
    with serve_process(folder, store, "--grace", "0s") as (proc, url):
        (run,) = [httpx.post(f"{url}/workflows/slow/runs", json={}).json()["run"]]
        wait_until(
            lambda: httpx.get(f"{url}/runs/{run}").json().get("steps"), what="the wait to start"
        )
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    with serve_process(folder, store) as (_, url):
        got = httpx.get(f"{url}/runs/{run}").json()
    assert got["status"] == "cancelled"
    assert got["result"]["steps"]["wait"]["status"] == "cancelled"


def test_answers_are_not_held_back_by_nagle(tmp_path: Path) -> None:
    # the pre-bound socket once had proto 0, so asyncio left Nagle on: every answer took
    # ~40 ms (a delayed ACK); the median of 20 keep-alive requests is far below that now
    with (
        serve_process(tmp_path, tmp_path / "store.sqlite3") as (_, url),
        httpx.Client(base_url=url) as client,
    ):
        times = []
        for _ in range(21):
            t = time.perf_counter()
            client.post("/events/nothing", json={})
            times.append(time.perf_counter() - t)
    assert sorted(times)[10] < 0.025
