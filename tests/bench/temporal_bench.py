"""Temporal benchmark: runs/s of a 3-step mocked workflow on the dev server (in memory) with 1
and 50 runs in flight, with one and with two workers, beside the in-process engine in the same run.

    python3 tests/bench/temporal_bench.py [--quick]

Needs the `temporal` extra. The dev server and the workers run as processes of their own on
127.0.0.1 (`switchboard worker`), so two workers really are two. The proof of concept measured
about 5 and 9 runs/s (1 and 50 in flight, one worker); the target is twice that, and two workers
faster than one. Each run's mocks are answered in an activity; nothing waits (no delays).

Beside each rate it prints the CPU milliseconds per run of the server, the workers and this
client (from /proc): a second worker can only help when the workers' CPU is what limits the pace
and a core is free for it. Figures on a shared machine are noisy: compare the rows of one run.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from temporalio.client import Client  # noqa: E402

from engine import run_mocked  # noqa: E402
from engine.files.documents import dump_any, parse_mocks, parse_workflow  # noqa: E402
from engine.temporal.host import execute  # noqa: E402
from engine.temporal.payloads import RunArgs  # noqa: E402
from engine.temporal.testing import DevServer  # noqa: E402

QUICK = "--quick" in sys.argv
SLOW_S = 1.0  # seconds a live call takes in the I/O-bound case
SLOTS = 10  # calls a worker makes at once there (--max-activities)
IO_RUNS = 30 if QUICK else 60
WF = """version: 1
name: three
steps:
  - {service: S, action: a}
  - {service: S, action: b, with: "${ steps.a.output }"}
  - {service: S, action: c, with: "${ steps.b.output }"}
"""
MOCKS = """version: 1
mocks:
  S.a: {body: {id: 1}}
  S.b: {body: {id: "${ request.body.id }", ok: true}}
  S.c: {status: 202}
"""


def _model() -> tuple[object, object]:
    wf = parse_workflow(WF).model
    mocks = parse_mocks(MOCKS).model
    assert wf is not None and mocks is not None
    return wf, mocks


async def _rate(total: int, in_flight: int, one: object) -> float:
    sem = asyncio.Semaphore(in_flight)

    async def go() -> None:
        async with sem:
            await one()  # type: ignore[operator]

    t0 = time.perf_counter()
    await asyncio.gather(*(go() for _ in range(total)))
    return total / (time.perf_counter() - t0)


async def in_process(total: int, in_flight: int) -> float:
    wf, mocks = _model()

    async def one() -> None:
        result, _ = await run_mocked(wf, mocks)  # type: ignore[arg-type]
        assert result.status == "succeeded"

    return await _rate(total, in_flight, one)


async def on_temporal(address: str, tq: str, total: int, in_flight: int) -> float:
    wf, mocks = _model()
    client = await Client.connect(address)
    text = dump_any(wf)
    table = mocks.mocks  # type: ignore[attr-defined]

    async def one() -> None:
        args = RunArgs(text, None, uuid.uuid4().hex[:16], mocks=table, virtual_time=True)
        outcome = await execute(client, args, task_queue=tq, name="three")
        assert outcome.result["status"] == "succeeded", outcome.result

    await one()  # warm the workers
    return await _rate(total, in_flight, one)


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used, from /proc (0 where there is none)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _worker(address: str, tq: str, folder: str, *extra: str) -> subprocess.Popen[str]:
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
            *extra,
            folder,
        ],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()
    if not line.startswith("worker:"):
        raise RuntimeError(line + proc.stderr.read())
    return proc


class _Slow(BaseHTTPRequestHandler):
    """A service that takes SLOW_S to answer each call (I/O, no CPU)."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers.get("content-length") or 0))
        time.sleep(SLOW_S)
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


async def live_on_temporal(address: str, tq: str, url: str, total: int, in_flight: int) -> float:
    wf, _ = _model()
    client = await Client.connect(address)
    text = dump_any(wf)

    async def one() -> None:
        args = RunArgs(text, None, uuid.uuid4().hex[:16], services={"S": url})
        outcome = await execute(client, args, task_queue=tq, name="three")
        assert outcome.result["status"] == "succeeded", outcome.result

    return await _rate(total, in_flight, one)


def io_bound(address: str, folder: str) -> tuple[float, float]:
    """Runs/s of live runs against a slow service, each worker making at most SLOTS calls at
    once, with one and with two workers: what a second worker adds when the calls in flight
    (not the CPU) set the pace."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}"
    rates = []
    try:
        for workers in (1, 2):
            tq = f"bench-io-{uuid.uuid4().hex}"
            procs = [
                _worker(address, tq, folder, "--max-activities", str(SLOTS)) for _ in range(workers)
            ]
            try:
                rates.append(asyncio.run(live_on_temporal(address, tq, url, IO_RUNS, 50)))
            finally:
                for p in procs:
                    p.send_signal(signal.SIGTERM)
                for p in procs:
                    p.wait(60)
    finally:
        httpd.shutdown()
        httpd.server_close()
    return rates[0], rates[1]


def main() -> None:
    total = {1: 10 if QUICK else 40, 50: 50 if QUICK else 300}
    print("in-process engine (mocked, virtual time):")
    for n in (1, 50):
        print(f"  {n:>2} in flight: {asyncio.run(in_process(total[n] * 10, n)):8.1f} runs/s")
    server = DevServer()
    server.start()
    assert server.proc is not None
    folder = tempfile.mkdtemp(prefix="sb-bench-")
    rates: dict[tuple[int, int], float] = {}
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    try:
        for workers in (1, 2):
            tq = f"bench-{uuid.uuid4().hex}"
            procs = [_worker(server.address, tq, folder) for _ in range(workers)]
            pids = {"server": [server.proc.pid], "workers": [p.pid for p in procs]}
            pids["client"] = [os.getpid()]
            try:
                print(f"Temporal dev server (in memory), {workers} worker(s):")
                for n in (1, 50):
                    before = {k: sum(map(_cpu_s, v)) for k, v in pids.items()}
                    rate = asyncio.run(on_temporal(server.address, tq, total[n], n))
                    runs = total[n] + 1  # and the warm-up run
                    cpu = {
                        k: (sum(map(_cpu_s, v)) - before[k]) * 1000 / runs for k, v in pids.items()
                    }
                    rates[workers, n] = rate
                    target = 10 if n == 1 else 18
                    print(
                        f"  {n:>2} in flight: {rate:8.1f} runs/s   (proof of concept "
                        f"{5 if n == 1 else 9}, target {target});  CPU ms/run: "
                        + ", ".join(f"{k} {v:.0f}" for k, v in cpu.items())
                    )
            finally:
                for p in procs:
                    p.send_signal(signal.SIGTERM)
                for p in procs:
                    p.wait(60)
        print(
            f"two workers / one, 50 in flight: {rates[2, 50] / rates[1, 50]:.2f}x "
            f"(1 in flight: {rates[2, 1] / rates[1, 1]:.2f}x; one run at a time cannot use two)"
        )
        one, two = io_bound(server.address, folder)
        print(
            f"live calls taking {SLOW_S:.1f} s, each worker --max-activities {SLOTS}, 50 in "
            f"flight: 1 worker {one:.1f} runs/s, 2 workers {two:.1f} runs/s ({two / one:.2f}x; "
            f"the ceiling is {SLOTS / SLOW_S / 3:.1f} runs/s a worker)"
        )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
