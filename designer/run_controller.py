"""RunController: the bridge from the engine (on its own thread) to Qt signals on the GUI thread.

Jobs (a run, an emitted event, a tests file) execute on an EngineThread. Their events land in a
deque (appending is thread-safe and never blocks the engine); the GUI thread drains it every
50 ms within a time budget, turns events into run records and log lines, and emits a few
batched signals per tick, so a 2,000-step run costs the GUI a bounded slice of every frame.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import gc
import pickle
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from designer.engine_thread import EngineThread
from designer.run_state import (
    LogLine,
    RunRecord,
    StepView,
    apply_event,
    event_line,
    max_attempts_of,
)
from engine.errors import LoadError, SwitchboardError
from engine.events import RunFinished, RunResult, RunStarted
from engine.model import Workflow
from engine.runner import new_run_id

__all__ = ["RunController", "RunSpec", "JobOutcome"]

KEEP_DETAILS = 10  # runs whose attempts and outputs stay in memory; older ones keep states only
MAX_RECORDS = 100
SWITCH_INTERVAL = 0.0002  # seconds: how soon the GUI thread gets the GIL back during a job


@dataclass
class RunSpec:
    """What to run and where: the toolbar's choices plus a snapshot of the document."""

    workflow: Workflow
    path: Path | None  # the workflow's file (locates environments.yaml and sibling workflows)
    env: str | None = None
    mocks: Path | None = None  # a mocks file replacing the environment's (a recording replay)
    scenario: str | None = None
    input: Any = None
    real_time: bool = False
    record: Path | None = None
    env_label: str = ""


class _Shape:
    """What the GUI needs of the run workflow's snapshot: its name, step ids, attempts."""

    __slots__ = ("name", "ids", "attempts")

    def __init__(self, workflow: Workflow) -> None:
        self.name = workflow.name
        self.ids = workflow.ids
        self.attempts = max_attempts_of(workflow)


@dataclass
class JobOutcome:
    """How a job ended, queued behind its last event so the GUI sees them in order."""

    kind: str  # run | emit | tests | error | cancelled
    run_ids: list[str] = field(default_factory=list)
    message: str = ""
    payload: Any = None


class _Gate:
    """Lets the GUI thread hold the engine thread at its next event while the GUI works.

    Python threads share one GIL, and some Qt calls from Python release it (signal emits,
    destructors): a busy engine thread then takes it back for up to the switch interval (5 ms)
    each time, and a GUI batch of a hundred such calls stalls for half a second. So each GUI
    tick closes the gate, does its work, and opens it again a little later, once the paint its
    work caused is done; the engine waits at most `limit` seconds per event, whatever happens.
    """

    def __init__(self, limit: float = 0.25) -> None:
        self._open = threading.Event()
        self._open.set()
        self._limit = limit

    def close(self) -> None:
        self._open.clear()

    def open(self) -> None:
        self._open.set()

    def pass_through(self) -> None:
        """Called on the engine thread at every event."""
        if not self._open.is_set():
            self._open.wait(self._limit)


class _Bridge(QObject):
    # emitted from the worker thread; Qt queues it to the GUI thread
    done = Signal()


class RunController(QObject):
    """Starts and stops jobs; reports what happens as batched signals (GUI thread only)."""

    run_started = Signal(object)  # RunRecord
    steps_changed = Signal(object, list)  # RunRecord, [step ids]
    run_finished = Signal(object)  # RunRecord
    log_appended = Signal(list)  # [LogLine]
    busy_changed = Signal(bool)
    message = Signal(str, str)  # level (info|warning|error), text for a person
    job_finished = Signal(object)  # JobOutcome

    def __init__(self, parent: QObject | None = None, *, interval_ms: int = 50,
                 budget_ms: float = 8.0, hold_ms: int = 16) -> None:
        super().__init__(parent)
        self.thread = EngineThread()
        self._queue: deque[Any] = deque()
        self._gate = _Gate()
        self._budget = budget_ms / 1000.0
        self._hold_ms = hold_ms
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._bridge = _Bridge()
        self._bridge.done.connect(self._tick)
        self.records: dict[str, RunRecord] = {}
        self._specs: dict[str, RunSpec] = {}
        self._job: concurrent.futures.Future[None] | None = None
        self._job_spec: RunSpec | None = None
        self._shape: _Shape | None = None
        # worker-side handles of the running job (touched on the worker thread only)
        self._task: asyncio.Task[Any] | None = None
        self._engine: Any = None
        self._stop_requested = False
        self._switch = sys.getswitchinterval()
        self.busy = False
        self.last_outcome: JobOutcome | None = None

    # --- starting and stopping (GUI thread) -------------------------------------------------

    def start_run(self, spec: RunSpec) -> str:
        """Run a snapshot of `spec.workflow`; returns the run id. Refused while a job runs."""
        self._refuse_if_busy()
        run_id = new_run_id()
        self._specs[run_id] = spec
        blob = self._snapshot(spec)
        self._begin(spec, self._run_job(spec, blob, run_id))
        return run_id

    def emit_event(self, spec: RunSpec, event: str, data: Any) -> None:
        """Publish `event` on a bus holding the open workflow and its folder's workflows."""
        self._refuse_if_busy()
        blob = self._snapshot(spec)
        self._begin(spec, self._emit_job(spec, blob, event, data))

    def run_tests(self, tests_path: Path) -> None:
        """Run a tests file's cases (engine.testing); the outcome's payload is a FileResult."""
        self._refuse_if_busy()
        self._begin(None, self._tests_job(Path(tests_path)))

    def stop(self) -> None:
        """Cancel the running job at once (its runs end as `cancelled`)."""
        if self.busy:
            self._stop_requested = True  # in case the job has not reached its first await
            self.thread.call_soon(self._cancel_in_worker)

    def warm_up(self) -> None:
        """Start the engine thread and import what runs need, before the first Run: a first
        run that imports on the engine thread holds the GIL in the import machinery."""
        if not self.thread.running:
            self.thread.submit(_warm_up())

    def shutdown(self) -> None:
        """Stop the worker thread (the window is going away)."""
        self._timer.stop()
        self._gate.open()
        self.thread.stop()

    @property
    def job_future(self) -> concurrent.futures.Future[None] | None:
        return self._job

    def _refuse_if_busy(self) -> None:
        if self.busy:
            raise RuntimeError("a run is already going on: stop it or wait for it to end")

    def _snapshot(self, spec: RunSpec) -> bytes:
        """The document's workflow frozen for the worker. Pickled here and unpickled there:
        the document goes on changing, and pickling is 8x cheaper for the GUI thread than a
        deep copy (7 ms vs 60 ms for 2,000 steps)."""
        return pickle.dumps(spec.workflow, protocol=pickle.HIGHEST_PROTOCOL)

    def _begin(self, spec: RunSpec | None, coro: Any) -> None:
        self._job_spec = spec
        self._stop_requested = False
        # A full collection walks every object of the process holding the GIL (the window's
        # thousands of items included): 0.3-0.5 s with no thread able to run. Frozen objects
        # are skipped, so the run's own garbage is all a collection walks until the job ends.
        gc.freeze()
        # Qt calls from Python give the GIL up and must win it back; against a busy engine
        # thread each win waits up to the switch interval (5 ms by default), so a paint that
        # calls back into Python a hundred times stalled for half a second. At 0.2 ms the
        # longest stall measured fell from ~150 ms to ~40 ms (tests/bench/ui_bench.py).
        self._switch = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL)
        self._set_busy(True)
        self._timer.start()
        self._job = self.thread.submit(coro)

    def _set_busy(self, busy: bool) -> None:
        if busy != self.busy:
            self.busy = busy
            self.busy_changed.emit(busy)

    # --- jobs (worker thread) -------------------------------------------------------------

    def _prepare(self, spec: RunSpec, workflow: Workflow) -> Any:
        from engine.setup import prepare

        path = spec.path if spec.path is not None else _untitled_path()
        return prepare(workflow_path=path, env=spec.env, mocks=spec.mocks,
                       scenario=spec.scenario, real_time=spec.real_time, record=spec.record,
                       sinks=[self._sink], workflow=workflow)

    def _sink(self, event: Any) -> None:
        """The engine's sink (engine thread): queue the event; wait while the GUI works."""
        self._queue.append(event)
        self._gate.pass_through()

    async def _with_setup(self, spec: RunSpec, blob: bytes, body: Any) -> JobOutcome:
        from engine.sinks import build_sinks

        workflow: Workflow = pickle.loads(blob)  # noqa: S301 - our own bytes, just made
        # worked out here, off the GUI thread (resolving 2,000 steps' retry policies takes a
        # frame's time); queued ahead of the run's first event
        self._queue.append(_Shape(workflow))
        try:
            setup = self._prepare(spec, workflow)
        except LoadError as e:
            return JobOutcome("error", message="the run could not start: " + "; ".join(
                str(p) for p in e.problems))
        except (SwitchboardError, ValueError, OSError) as e:
            return JobOutcome("error", message=f"the run could not start: {e}")
        base = (spec.path or _untitled_path()).parent
        try:
            sinks = build_sinks(setup.notify, base_dir=base, have_console=True)
        except ValueError as e:
            await setup.finish()
            return JobOutcome("error", message=f"the environment's notify list: {e}")
        for sink in sinks:
            setup.engine.add_sink(sink)
        self._engine = setup.engine
        cancelled = False
        try:
            outcome: JobOutcome = await body(setup, workflow)
        except asyncio.CancelledError:
            cancelled = True
            outcome = JobOutcome("cancelled", message="the run was stopped")
        finally:
            self._engine = None
            try:
                if cancelled:
                    await setup.engine.bus.cancel_all()
                await setup.finish()  # writes the recording, if any
            finally:
                for problem in await sinks.aclose():
                    self._queue.append(JobOutcome("warning", message=problem))
        for warning in setup.warnings:
            self._queue.append(JobOutcome("warning", message=warning))
        if setup.record_path is not None and setup.recorder is not None:
            n = len(setup.recorder.records)
            outcome.message = (f"recorded {n} response{'s' if n != 1 else ''} to "
                               f"{setup.record_path}")
        return outcome

    async def _finish_job(self, coro: Any) -> None:
        self._task = asyncio.current_task()
        try:
            if self._stop_requested:
                coro.close()
                raise asyncio.CancelledError
            outcome = await coro
        except asyncio.CancelledError:
            outcome = JobOutcome("cancelled", message="stopped")
        except Exception as e:  # a defect must not leave the designer thinking a run goes on
            outcome = JobOutcome("error", message=f"the run failed: {type(e).__name__}: {e}")
        finally:
            self._task = None
        self._queue.append(outcome)
        # the window (and its bridge) may have gone away while this job ran
        with contextlib.suppress(RuntimeError):
            self._bridge.done.emit()

    def _run_job(self, spec: RunSpec, blob: bytes, run_id: str) -> Any:
        async def body(setup: Any, workflow: Workflow) -> JobOutcome:
            result = await setup.engine.run(workflow, spec.input, run_id=run_id)
            return JobOutcome("run", [run_id], payload=result)

        return self._finish_job(self._with_setup(spec, blob, body))

    def _emit_job(self, spec: RunSpec, blob: bytes, event: str, data: Any) -> Any:
        async def body(setup: Any, workflow: Workflow) -> JobOutcome:
            bus = setup.engine.bus
            if spec.path is not None:
                for problem in bus.register_folder(spec.path.parent, skip=[spec.path]):
                    self._queue.append(JobOutcome("warning", message=problem))
            if workflow.trigger:
                bus.register(workflow)
            if not bus.listeners(event):
                known = ", ".join(bus.events) or "none"
                return JobOutcome("emit", message=(
                    f"no workflow listens for event '{event}'; events with listeners: {known}. "
                    "Add the event to a workflow's `trigger`."))
            results: list[RunResult] = await bus.publish(event, data)
            return JobOutcome("emit", [r.run_id for r in results], payload=results,
                              message=f"event '{event}' started {len(results)} run"
                                      f"{'s' if len(results) != 1 else ''}")

        return self._finish_job(self._with_setup(spec, blob, body))

    def _tests_job(self, path: Path) -> Any:
        async def run() -> JobOutcome:
            from engine.testing import run_tests_file

            result = await run_tests_file(path)
            return JobOutcome("tests", payload=result)

        return self._finish_job(run())

    def _cancel_in_worker(self) -> None:
        task, engine = self._task, self._engine
        if task is None or task.done():
            return
        if engine is not None:
            engine.clock.cancel(task)  # a virtual clock must count the task busy first
        else:
            task.cancel()

    # --- draining events (GUI thread) ------------------------------------------------------

    def _tick(self) -> None:
        self._gate.close()
        try:
            self.flush(self._budget)
        finally:
            # the paint this tick's changes asked for comes in the next few loop turns
            QTimer.singleShot(self._hold_ms, self._gate.open)

    def flush(self, budget: float | None = None) -> None:
        """Turn queued events into records, lines and signals; within `budget` seconds if set."""
        queue = self._queue
        deadline = time.perf_counter() + budget if budget is not None else None
        lines: list[LogLine] = []
        changed: dict[str, dict[str, None]] = {}
        n = 0
        while queue:
            item = queue.popleft()
            if isinstance(item, JobOutcome):
                self._publish(lines, changed)
                lines, changed = [], {}
                self._outcome(item)
                continue
            if isinstance(item, _Shape):
                self._shape = item
                continue
            rec = self.records.get(item.run_id)
            if rec is None:
                if not isinstance(item, RunStarted):
                    continue  # a run we were not told about (dropped record): nothing to show
                rec = self._new_record(item)
                self.run_started.emit(rec)
            line = event_line(item, rec.workflow)
            if line is not None:
                lines.append(line)
            sid = apply_event(rec, item)
            if sid is not None:
                changed.setdefault(rec.run_id, {})[sid] = None
            if isinstance(item, RunFinished):
                self._publish(lines, changed)
                lines, changed = [], {}
                self.run_finished.emit(rec)
            n += 1
            if deadline is not None and n % 64 == 0 and time.perf_counter() > deadline:
                break
        self._publish(lines, changed)
        if not self.busy and not queue:
            self._timer.stop()

    def _publish(self, lines: list[LogLine], changed: dict[str, dict[str, None]]) -> None:
        for run_id, ids in changed.items():
            rec = self.records.get(run_id)
            if rec is not None:
                self.steps_changed.emit(rec, list(ids))
        if lines:
            self.log_appended.emit(lines)

    def _new_record(self, ev: RunStarted) -> RunRecord:
        spec = self._specs.pop(ev.run_id, None)
        job = spec or self._job_spec
        canvas = self._shape
        on_canvas = spec is not None or (canvas is not None and ev.workflow == canvas.name)
        rec = RunRecord(run_id=ev.run_id, workflow=ev.workflow,
                        env=job.env_label if job is not None else "",
                        source="run" if spec is not None else "emit", on_canvas=on_canvas,
                        input=ev.input)
        if on_canvas and canvas is not None:
            most = canvas.attempts
            rec.steps = {sid: StepView(max_attempts=most.get(sid, 1)) for sid in canvas.ids}
        self.records[ev.run_id] = rec
        self._trim()
        return rec

    def _trim(self) -> None:
        ids = list(self.records)
        for run_id in ids[:-MAX_RECORDS]:
            del self.records[run_id]
        for run_id in ids[-MAX_RECORDS:-KEEP_DETAILS]:
            for view in self.records[run_id].steps.values():
                view.calls = ()
                view.output = None

    def _outcome(self, outcome: JobOutcome) -> None:
        if outcome.kind == "warning":
            self.message.emit("warning", outcome.message)
            return
        self.last_outcome = outcome
        self._job_spec = None
        gc.unfreeze()
        sys.setswitchinterval(self._switch)
        self._set_busy(False)
        if outcome.kind == "error":
            self.message.emit("error", outcome.message)
        elif outcome.message:
            self.message.emit("info", outcome.message)
        self.job_finished.emit(outcome)


async def _warm_up() -> None:
    """One tiny mocked run: imports, httpx's first request and the runner's first pass happen
    here, off the clock, rather than inside the user's first run."""
    import jsonschema  # noqa: F401

    import engine.setup  # noqa: F401
    import engine.sinks  # noqa: F401
    import engine.testing  # noqa: F401
    from engine.clock import VirtualClock
    from engine.mocktransport import MockTransport
    from engine.model import CallStep, MockResponse
    from engine.runner import Engine

    clock = VirtualClock()
    flow = Workflow(name="warmUp", input={"type": "object"},
                    steps=[CallStep(id="a", service="W", action="a")])
    async with Engine(transport=MockTransport({"W.a": [MockResponse(body={"ok": 1})]}, clock),
                      clock=clock, sinks=[lambda _e: None]) as engine:
        await engine.run(flow, {})


def _untitled_path() -> Path:
    """Where an unsaved workflow "lives" for a run: a folder with no environments file, so the
    run is live with http://<service> URLs (FORMAT.md "Environments")."""
    import tempfile

    return Path(tempfile.gettempdir()) / "switchboard-untitled-workflow" / "untitled.yaml"
