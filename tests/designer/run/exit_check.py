"""Leaves while its engine worker is `connecting`, `idle` or `running` a job, printing the
worker's pid: tests/designer/run/test_engine_process.py checks that nothing reaches stderr.

`python -m tests.designer.run.exit_check STATE`
"""

from __future__ import annotations

import sys
import time


def main(state: str) -> None:
    from designer.run.engine_process import EngineProcess
    from engine import JobRequest, WaitStep, Workflow

    got: list[bytes | None] = []
    process = EngineProcess(got.append)
    process.start()
    print(process.pid, flush=True)
    if state in ("idle", "running"):
        deadline = time.monotonic() + 30
        while process._conn is None and time.monotonic() < deadline:
            time.sleep(0.01)
    if state == "running":
        flow = Workflow(name="slow", steps=[WaitStep(id="hold", wait=60_000)])
        process.send(JobRequest("run", workflow=flow, run_id="r1"))
        deadline = time.monotonic() + 30
        while not got and time.monotonic() < deadline:  # its first events: the job runs
            time.sleep(0.01)
    # and leave now, as a window closing at once (a --screenshot) does


if __name__ == "__main__":
    main(sys.argv[1])
