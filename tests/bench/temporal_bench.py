"""Temporal benchmark: runs/s of a 3-step mocked workflow on the dev server (in memory) with 1
and 50 runs in flight, with one and with two workers, beside the in-process engine in the same run.

    python3 tests/bench/temporal_bench.py [--quick]

Needs the `temporal` extra. The dev server and the workers run as processes of their own on
127.0.0.1 (`switchboard worker`), so two workers really are two. The proof of concept measured
about 5 and 9 runs/s (1 and 50 in flight, one worker); the target is twice that, and two workers
faster than one. Each run's mocks are answered in an activity; nothing waits (no delays).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
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


def _worker(address: str, tq: str, folder: str) -> subprocess.Popen[str]:
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


def main() -> None:
    total = {1: 10 if QUICK else 40, 50: 50 if QUICK else 300}
    print("in-process engine (mocked, virtual time):")
    for n in (1, 50):
        print(f"  {n:>2} in flight: {asyncio.run(in_process(total[n] * 10, n)):8.1f} runs/s")
    server = DevServer()
    server.start()
    folder = tempfile.mkdtemp(prefix="sb-bench-")
    try:
        for workers in (1, 2):
            tq = f"bench-{uuid.uuid4().hex}"
            procs = [_worker(server.address, tq, folder) for _ in range(workers)]
            try:
                print(f"Temporal dev server (in memory), {workers} worker(s):")
                for n in (1, 50):
                    rate = asyncio.run(on_temporal(server.address, tq, total[n], n))
                    target = 10 if n == 1 else 18
                    print(
                        f"  {n:>2} in flight: {rate:8.1f} runs/s   (proof of concept "
                        f"{5 if n == 1 else 9}, target {target})"
                    )
            finally:
                for p in procs:
                    p.send_signal(signal.SIGTERM)
                for p in procs:
                    p.wait(60)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
