"""The engine on qasync's loop (as the designer runs it): virtual time works without a custom
event loop, and a long mocked run does not starve Qt's timers.

Runs in a subprocess so that the engine's other tests keep a process free of Qt (and so pytest-qt's
QApplication and this QCoreApplication never meet).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("qasync")

SCRIPT = textwrap.dedent("""
    import asyncio, json, sys, time
    from PySide6.QtCore import QCoreApplication, QTimer
    import qasync
    from engine import VirtualClock
    from engine import MockTransport
    from engine import CallStep, MockResponse, Retry, Workflow
    from engine import Engine

    app = QCoreApplication(sys.argv)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)

    N = 2000
    steps = [CallStep(id=f"s{i}", service="S", action="a", after=[f"s{i-1}"] if i else [])
             for i in range(N)]
    steps.append(CallStep(id="flaky", service="S", action="flaky", after=[f"s{N-1}"],
                          retry=Retry(attempts=3, delay=2000, jitter="none")))
    wf = Workflow(name="q", steps=steps)
    mocks = {"S.a": [MockResponse(body={"ok": True}, delay=10)],
             "S.flaky": [MockResponse(status=503), MockResponse(fault="timeout"),
                         MockResponse(body="done")]}
    ticks = []
    timer = QTimer()
    timer.setInterval(16)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))

    async def main():
        clock = VirtualClock(start=1_800_000_000)
        engine = Engine(transport=MockTransport(mocks, clock), clock=clock)
        timer.start()
        t0 = time.perf_counter()
        result = await engine.run(wf)
        wall = time.perf_counter() - t0
        timer.stop()
        await engine.aclose()
        gaps = [b - a for a, b in zip(ticks, ticks[1:])]
        print(json.dumps({"status": result.status, "duration_ms": result.duration_ms,
                          "flaky": result.steps["flaky"].attempts, "wall": wall,
                          "ticks": len(ticks), "max_gap": max(gaps) if gaps else None}))

    with loop:
        loop.run_until_complete(main())
""")


def test_engine_on_qasync_loop_with_virtual_time() -> None:
    root = Path(__file__).resolve().parents[2]
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        PYTHONPATH=str(root) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    )
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=root,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["status"] == "succeeded"
    assert out["flaky"] == 3
    # 2000 × 10 ms, then 2 s backoff, a 30 s timeout and a 4 s backoff: all virtual
    assert out["duration_ms"] == 20_000 + 2_000 + 30_000 + 4_000
    assert out["wall"] < 20
    # Qt's 16 ms timer kept firing while the run went on (no starvation)
    assert out["ticks"] >= out["wall"] / 0.016 * 0.5
    assert out["max_gap"] < 0.25
