"""An engine process: runs jobs (a run, an emitted event, a tests file) sent over a connection
and streams their events back. `python -m engine.worker --connect HOST:PORT` connects to the
designer's loopback listener (authenticated with the key in $SWITCHBOARD_WORKER_KEY) and serves
it. Nothing in it is POSIX-only (no fd passing, no add_reader), so it can serve on Windows too;
it is tested on Linux.

Why a process: a GUI and an engine in one Python process share one GIL, and a mocked run that
never waits takes it from the GUI thread for hundreds of milliseconds at a time (measured with
the designer: 160-400 ms stalls during a 2,000-step run, whatever the switch interval). In its
own process the engine cannot stall the window, a crash in it cannot take the window down, and
the memory a run used goes back when the process ends. A headless server can drive the same
worker the same way.

The protocol, one pickled message per `Connection.send`:
- to the worker: a `JobRequest`; `"cancel"` (stop the running job at once); `"quit"`.
- from the worker (`send_bytes`): b"E" + a pickled list of items (engine events, `JobShape`,
  `JobOutcome` warnings) or b"O" + a pickled `JobOutcome` ending the job. Events are batched
  every 10 ms or 64 events: a fast run costs the reader few messages, and a batch (decoded in
  one go on the GUI thread) stays small.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import pickle
import sys
import threading
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client, Connection
from typing import Any

from engine.jobs.request import JobOutcome, JobRequest, JobShape, max_attempts
from engine.jobs.run import run_job

__all__ = ["serve", "connect", "main", "KEY_VARIABLE"]

KEY_VARIABLE = "SWITCHBOARD_WORKER_KEY"

BATCH_EVENTS = 64
BATCH_SECONDS = 0.010


class _Outbox:
    """Batches items to the connection; `end` flushes them and sends the outcome."""

    def __init__(self, conn: Connection, loop: asyncio.AbstractEventLoop) -> None:
        self._conn = conn
        self._loop = loop
        self._items: list[Any] = []
        self._timer: asyncio.TimerHandle | None = None
        self.broken = False  # the other end is gone: what is left to say goes nowhere

    def add(self, item: Any) -> None:
        if self.broken:
            return
        self._items.append(item)
        if len(self._items) >= BATCH_EVENTS:
            self.flush()
        elif self._timer is None:
            self._timer = self._loop.call_later(BATCH_SECONDS, self.flush)

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._items:
            items, self._items = self._items, []
            self._send(b"E" + pickle.dumps(items, pickle.HIGHEST_PROTOCOL))

    def end(self, outcome: JobOutcome) -> None:
        self.flush()
        self._send(b"O" + pickle.dumps(outcome, pickle.HIGHEST_PROTOCOL))

    def _send(self, data: bytes) -> None:
        # called from the engine's sinks too: a designer that went away must not break a run
        # (it is being cancelled anyway)
        if self.broken:
            return
        try:
            self._conn.send_bytes(data)
        except (OSError, ValueError):
            self.broken = True
            self._items = []


class _Worker:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.loop = asyncio.get_running_loop()
        self.out = _Outbox(conn, self.loop)
        self.task: asyncio.Task[None] | None = None
        self.closed = self.loop.create_future()

    # --- messages in --------------------------------------------------------------------

    def read_forever(self) -> None:
        """The reader thread: every message goes to the loop; the end of the stream quits.
        (A thread, not `loop.add_reader`: the default loop on Windows has no add_reader.)"""
        try:
            while True:
                msg = self.conn.recv()
                self.loop.call_soon_threadsafe(self.handle, msg)
        except (EOFError, OSError):
            pass  # the designer went away: so do we
        except RuntimeError:
            return  # the loop has closed
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(self.quit)

    def handle(self, msg: Any) -> None:
        if msg == "quit":
            self.quit()
        elif msg == "cancel":
            self.cancel()
        elif isinstance(msg, JobRequest):
            if self.task is not None and not self.task.done():
                self.out.end(JobOutcome("error", message="a job is already running"))
                return
            self.task = self.loop.create_task(self.job(msg))

    def quit(self) -> None:
        self.cancel()
        if not self.closed.done():
            self.closed.set_result(None)

    def cancel(self) -> None:
        task = self.task
        if task is not None and not task.done():
            task.cancel()

    # --- jobs ---------------------------------------------------------------------------

    async def job(self, req: JobRequest) -> None:
        if req.workflow is not None:
            wf = req.workflow
            self.out.add(JobShape(wf.name, wf.ids, max_attempts(wf)))
        try:
            outcome = await run_job(req, sinks=[self.out.add])
        except Exception as e:  # a defect must not leave the designer thinking a run goes on
            outcome = JobOutcome("error", message=f"the run failed: {type(e).__name__}: {e}")
        for warning in outcome.warnings:
            self.out.add(JobOutcome("warning", message=warning))
        outcome.warnings = []
        if outcome.kind == "error" and outcome.problems:
            outcome.message = "the run could not start: " + "; ".join(
                str(p) for p in outcome.problems
            )
        try:
            self.out.end(outcome)
        except (pickle.PicklingError, TypeError, AttributeError) as e:
            self.out.end(
                JobOutcome(
                    outcome.kind,
                    outcome.run_ids,
                    f"{outcome.message} (its details could not be sent: {e})",
                )
            )


async def _warm_up() -> None:
    """One tiny mocked run: imports, httpx's first request and the runner's first pass happen
    here, while the designer opens, rather than inside the user's first run."""
    import jsonschema  # noqa: F401

    import engine.jobs.sinks  # noqa: F401
    from engine.core.model import CallStep, MockResponse, Workflow
    from engine.runtime.harness import run_mocked

    flow = Workflow(
        name="warmUp", input={"type": "object"}, steps=[CallStep(id="a", service="W", action="a")]
    )
    await run_mocked(flow, {"W.a": MockResponse(body={"ok": 1})}, {})


async def serve(conn: Connection, warm_up: bool = True) -> None:
    """Serve jobs from `conn` until "quit" or the other end closes."""
    worker = _Worker(conn)
    reader = threading.Thread(target=worker.read_forever, name="engine-worker-reader", daemon=True)
    reader.start()
    warming = asyncio.ensure_future(_warm_up()) if warm_up else None
    try:
        await worker.closed
        if worker.task is not None:
            await asyncio.gather(worker.task, return_exceptions=True)
    finally:
        if warming is not None and not warming.done():
            warming.cancel()
            await asyncio.gather(warming, return_exceptions=True)


def connect(address: str, authkey: bytes) -> Connection:
    """Connect to the designer's listener at `host:port`, proving we hold its key."""
    host, _, port = address.rpartition(":")
    return Client((host, int(port)), authkey=authkey)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m engine.worker",
        description="Run engine jobs for the process listening at ADDRESS (host:port); the "
        f"connection's key is read in hex from ${KEY_VARIABLE}.",
    )
    parser.add_argument("--connect", metavar="ADDRESS", required=True)
    parser.add_argument("--no-warm-up", action="store_true")
    args = parser.parse_args(argv)
    key = os.environ.pop(KEY_VARIABLE, "")
    try:
        conn = connect(args.connect, bytes.fromhex(key))
    except (OSError, EOFError, ValueError, AuthenticationError) as e:
        print(f"engine worker: cannot connect to {args.connect}: {e}", file=sys.stderr)
        return 2
    try:
        asyncio.run(serve(conn, warm_up=not args.no_warm_up))
    except KeyboardInterrupt:
        return 130
    finally:
        conn.close()
    return 0


if __name__ == "__main__":
    # run the imported module, not this `__main__` copy: the classes a job's pickle names
    # (engine.worker.JobRequest) must be the ones `isinstance` checks against
    from engine.worker import main as _main

    sys.exit(_main())
