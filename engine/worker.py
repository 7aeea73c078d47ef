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
import tempfile
import threading
from dataclasses import dataclass, field
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client, Connection
from pathlib import Path
from typing import Any

from engine.errors import LoadError, SwitchboardError
from engine.events import RunResult
from engine.model import CallStep, Workflow, resolve_call

__all__ = ["JobRequest", "JobShape", "JobOutcome", "serve", "connect", "max_attempts", "main",
           "untitled_path", "KEY_VARIABLE"]

KEY_VARIABLE = "SWITCHBOARD_WORKER_KEY"

BATCH_EVENTS = 64
BATCH_SECONDS = 0.010


@dataclass
class JobRequest:
    """One job. `kind` is run | emit | tests; `workflow` is a pickled Workflow (run, emit)."""

    kind: str
    workflow: bytes = b""
    path: Path | None = None  # the workflow's file: locates environments.yaml and siblings
    env: str | None = None
    mocks: Path | None = None
    scenario: str | None = None
    input: Any = None
    real_time: bool = False
    record: Path | None = None
    run_id: str | None = None
    event: str = ""
    data: Any = None
    tests_path: Path | None = None
    # the sender's environment: secrets come from variables an environments file may name
    # freely, and may have been set after this worker started
    environ: dict[str, str] | None = None


@dataclass
class JobShape:
    """What a viewer needs of the run workflow: its name, step ids and attempts per step."""

    name: str
    ids: list[str]
    attempts: dict[str, int]


@dataclass
class JobOutcome:
    """How a job ended (or a warning on the way: kind "warning")."""

    kind: str  # run | emit | tests | error | cancelled | warning
    run_ids: list[str] = field(default_factory=list)
    message: str = ""
    payload: Any = None


def max_attempts(workflow: Workflow) -> dict[str, int]:
    """Attempts each call step may make (its retry policy merged over the defaults)."""
    out: dict[str, int] = {}
    for step in workflow.steps:
        if isinstance(step, CallStep):
            try:
                out[step.id] = max(1, resolve_call(step, workflow.defaults).retry.attempts)
            except (TypeError, ValueError, AttributeError):
                out[step.id] = 1  # a half-edited step: the engine reports the real problem
    return out


def untitled_path() -> Path:
    """Where an unsaved workflow "lives" for a run: a folder with no environments file, so the
    run is live with http://<service> URLs (FORMAT.md "Environments")."""
    return Path(tempfile.gettempdir()) / "switchboard-untitled-workflow" / "untitled.yaml"


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
        self.engine: Any = None
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
        task, engine = self.task, self.engine
        if task is None or task.done():
            return
        if engine is not None:
            engine.clock.cancel(task)  # a virtual clock must count the task busy first
        else:
            task.cancel()

    # --- jobs ---------------------------------------------------------------------------

    async def job(self, req: JobRequest) -> None:
        _adopt_environ(req.environ)
        try:
            if req.kind == "tests":
                outcome = await self.tests(req)
            elif req.kind in ("run", "emit"):
                outcome = await self.with_setup(req)
            else:
                outcome = JobOutcome("error", message=f"unknown job kind {req.kind!r}")
        except asyncio.CancelledError:
            outcome = JobOutcome("cancelled", message="stopped")
        except Exception as e:  # a defect must not leave the designer thinking a run goes on
            outcome = JobOutcome("error", message=f"the run failed: {type(e).__name__}: {e}")
        try:
            self.out.end(outcome)
        except (pickle.PicklingError, TypeError, AttributeError) as e:
            self.out.end(JobOutcome(outcome.kind, outcome.run_ids,
                                    f"{outcome.message} (its details could not be sent: {e})"))

    async def tests(self, req: JobRequest) -> JobOutcome:
        from engine.testing import run_tests_file

        assert req.tests_path is not None
        return JobOutcome("tests", payload=await run_tests_file(req.tests_path))

    async def with_setup(self, req: JobRequest) -> JobOutcome:
        from engine.setup import prepare

        workflow: Workflow = pickle.loads(req.workflow)  # noqa: S301 - the designer's own bytes
        self.out.add(JobShape(workflow.name, workflow.ids, max_attempts(workflow)))
        path = req.path if req.path is not None else untitled_path()
        try:
            setup = prepare(workflow_path=path, env=req.env, mocks=req.mocks,
                            scenario=req.scenario, real_time=req.real_time, record=req.record,
                            sinks=[self.out.add], workflow=workflow)
        except LoadError as e:
            return JobOutcome("error", message="the run could not start: " + "; ".join(
                str(p) for p in e.problems))
        except (SwitchboardError, ValueError, OSError) as e:
            return JobOutcome("error", message=f"the run could not start: {e}")
        try:
            setup.add_notify_sinks(path.parent)
        except ValueError as e:
            await setup.finish()
            return JobOutcome("error", message=f"the environment's notify list: {e}")
        self.engine = setup.engine
        body = self.run if req.kind == "run" else self.emit
        cancelled = False
        try:
            outcome = await body(setup, workflow, req)
        except asyncio.CancelledError:
            cancelled = True
            outcome = JobOutcome("cancelled", message="the run was stopped")
        finally:
            self.engine = None
            warnings: list[str] = []
            try:
                if cancelled:
                    await setup.engine.bus.cancel_all()
            finally:
                warnings = await setup.close()  # writes the recording, if any
        for warning in warnings:
            self.out.add(JobOutcome("warning", message=warning))
        if setup.record_path is not None and setup.recorder is not None:
            n = len(setup.recorder.records)
            outcome.message = (f"recorded {n} response{'s' if n != 1 else ''} to "
                               f"{setup.record_path}")
        return outcome

    async def run(self, setup: Any, workflow: Workflow, req: JobRequest) -> JobOutcome:
        result = await setup.engine.run(workflow, req.input, run_id=req.run_id)
        return JobOutcome("run", [result.run_id], payload=result)

    async def emit(self, setup: Any, workflow: Workflow, req: JobRequest) -> JobOutcome:
        bus = setup.engine.bus
        if req.path is not None:
            for problem in bus.register_folder(req.path.parent, skip=[req.path]):
                self.out.add(JobOutcome("warning", message=problem))
        if workflow.trigger:
            bus.register(workflow)
        if not bus.listeners(req.event):
            known = ", ".join(bus.events) or "none"
            return JobOutcome("emit", message=(
                f"no workflow listens for event '{req.event}'; events with listeners: {known}. "
                "Add the event to a workflow's `trigger`."))
        results: list[RunResult] = await bus.publish(req.event, req.data)
        return JobOutcome("emit", [r.run_id for r in results], payload=results,
                          message=f"event '{req.event}' started {len(results)} run"
                                  f"{'s' if len(results) != 1 else ''}")


def _adopt_environ(environ: dict[str, str] | None) -> None:
    """Run the job in the sender's environment, as if the job ran in the sender."""
    if environ is None:
        return
    for key in [k for k in os.environ if k not in environ]:
        del os.environ[key]
    os.environ.update(environ)


async def _warm_up() -> None:
    """One tiny mocked run: imports, httpx's first request and the runner's first pass happen
    here, while the designer opens, rather than inside the user's first run."""
    import jsonschema  # noqa: F401

    import engine.setup  # noqa: F401
    import engine.sinks  # noqa: F401
    import engine.testing  # noqa: F401
    from engine.clock import VirtualClock
    from engine.mocktransport import MockTransport
    from engine.model import MockResponse
    from engine.runner import Engine

    clock = VirtualClock()
    flow = Workflow(name="warmUp", input={"type": "object"},
                    steps=[CallStep(id="a", service="W", action="a")])
    async with Engine(transport=MockTransport({"W.a": [MockResponse(body={"ok": 1})]}, clock),
                      clock=clock, sinks=[lambda _e: None]) as warm:
        await warm.run(flow, {})


async def serve(conn: Connection, warm_up: bool = True) -> None:
    """Serve jobs from `conn` until "quit" or the other end closes."""
    worker = _Worker(conn)
    reader = threading.Thread(target=worker.read_forever, name="engine-worker-reader",
                              daemon=True)
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
                    f"connection's key is read in hex from ${KEY_VARIABLE}.")
    parser.add_argument("--connect", metavar="ADDRESS", required=True)
    parser.add_argument("--no-warm-up", action="store_true")
    args = parser.parse_args(argv)
    key = os.environ.pop(KEY_VARIABLE, "")
    try:
        conn = connect(args.connect, bytes.fromhex(key))
    except (OSError, ValueError, AuthenticationError) as e:
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
