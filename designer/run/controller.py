"""RunController: the bridge from the engine (in its own process) to Qt signals on the GUI thread.

Jobs (a run, an emitted event, a tests file) execute in an engine worker process
(engine.worker, driven by EngineProcess). Its messages land in a deque as raw bytes (the reader
thread only appends); the GUI thread drains it every 50 ms within a time budget, decodes the
batches, turns events into run records and log lines, and emits a few batched signals per tick,
so a 2,000-step run costs the GUI a bounded slice of every frame and never competes with the
engine for the GIL.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import gc
import os
import pickle
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from designer.run.engine_process import EngineProcess
from engine import (
    JobOutcome,
    JobRequest,
    JobShape,
    LogLine,
    RunFinished,
    RunRecord,
    RunStarted,
    StepView,
    Workflow,
    apply_event,
    event_line,
    new_run_id,
)

__all__ = ["RunController", "RunSpec", "JobOutcome"]

KEEP_DETAILS = 10  # runs whose attempts and outputs stay in memory; older ones keep states only
MAX_RECORDS = 100
_GONE = object()  # queued when the worker process ends


@dataclass
class RunSpec:
    """What to run and where: the toolbar's choices plus a snapshot of the document."""

    workflow: Workflow
    path: Path | None  # the workflow's file (locates the environments file, sibling workflows)
    env: str | None = None
    mocks: Path | None = None  # a mocks file replacing the environment's (a recording replay)
    scenario: str | None = None
    input: Any = None
    real_time: bool = False
    record: Path | None = None
    env_label: str = ""
    # steps that finish as the last run recorded them ("run from here"; run_from.py)
    pinned: dict[str, dict[str, Any]] | None = None
    check_contract: bool = False  # warn of responses that break an imported OpenAPI spec


class _Bridge(QObject):
    # emitted from the reader thread; Qt queues it to the GUI thread
    arrived = Signal()


def _absolute(path: Path | None) -> Path | None:
    return None if path is None else Path(os.path.abspath(path))


class RunController(QObject):
    """Starts and stops jobs; reports what happens as batched signals (GUI thread only)."""

    run_started = Signal(object)  # RunRecord
    steps_changed = Signal(object, list)  # RunRecord, [step ids]
    run_finished = Signal(object)  # RunRecord
    log_appended = Signal(list)  # [LogLine]
    busy_changed = Signal(bool)
    message = Signal(str, str)  # level (info|warning|error), text for a person
    job_finished = Signal(object)  # JobOutcome

    def __init__(
        self, parent: QObject | None = None, *, interval_ms: int = 50, budget_ms: float = 5.0
    ) -> None:
        super().__init__(parent)
        self._queue: deque[Any] = deque()  # raw messages from the reader thread
        self._items: deque[Any] = deque()  # decoded, not yet handled
        # one bound method object: the process tells its owner by it (`release`)
        self.receive = self._received
        self.process = EngineProcess.take_spare(self.receive) or EngineProcess(self.receive)
        self._budget = budget_ms / 1000.0
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._bridge = _Bridge()
        self._bridge.arrived.connect(self._tick)
        self.records: dict[str, RunRecord] = {}
        self._specs: dict[str, RunSpec] = {}
        self._job: concurrent.futures.Future[None] | None = None
        self._job_spec: RunSpec | None = None
        self._shape: JobShape | None = None
        self.busy = False
        self.last_outcome: JobOutcome | None = None

    # --- starting and stopping (GUI thread) -------------------------------------------------

    def start_run(self, spec: RunSpec) -> str:
        """Run a snapshot of `spec.workflow`; returns the run id. Refused while a job runs."""
        self._refuse_if_busy()
        run_id = new_run_id()
        self._specs[run_id] = spec
        self._begin(spec, self._request("run", spec, run_id=run_id))
        return run_id

    def emit_event(self, spec: RunSpec, event: str, data: Any) -> None:
        """Publish `event` on a bus holding the open workflow and its folder's workflows."""
        self._refuse_if_busy()
        self._begin(spec, self._request("emit", spec, event=event, data=data))

    def run_tests(self, tests_path: Path) -> None:
        """Run a tests file's cases; the outcome's payload is a TestReport of that one file."""
        self._refuse_if_busy()
        self._begin(
            None, JobRequest("tests", tests=[_absolute(Path(tests_path))], environ=dict(os.environ))
        )

    def stop(self) -> None:
        """Cancel the running job at once (its runs end as `cancelled`)."""
        if self.busy:
            with contextlib.suppress(OSError, ValueError):
                self.process.send("cancel")

    def warm_up(self) -> None:
        """Start the engine process now (it imports and makes a first tiny run while the
        window opens), so the first Run starts at once."""
        try:
            self.process.start()
        except OSError as e:
            self.message.emit("error", f"the engine process could not start: {e}")

    def shutdown(self) -> None:
        """Let the worker process go (the window is going away): kept as the spare when it is
        idle, stopped otherwise."""
        self._timer.stop()
        self.process.release(self.receive)

    @property
    def job_future(self) -> concurrent.futures.Future[None] | None:
        """Done (from the reader thread) once the running job's outcome has arrived."""
        return self._job

    def _refuse_if_busy(self) -> None:
        if self.busy:
            raise RuntimeError("a run is already going on: stop it or wait for it to end")

    def _request(self, kind: str, spec: RunSpec, **more: Any) -> JobRequest:
        """The job for the worker: the document's workflow (frozen as it is now when the
        engine process sends the request)."""
        return JobRequest(
            kind,
            workflow=spec.workflow,
            path=_absolute(spec.path),
            env=spec.env,
            mocks=_absolute(spec.mocks),
            scenario=spec.scenario,
            input=spec.input,
            real_time=spec.real_time,
            record=_absolute(spec.record),
            environ=dict(os.environ),
            pinned=spec.pinned if kind == "run" else None,
            check_contract=spec.check_contract and kind in ("run", "emit"),
            **more,
        )

    def _begin(self, spec: RunSpec | None, request: JobRequest) -> None:
        self._job_spec = spec
        self._job = concurrent.futures.Future()
        # A full collection walks every object of the process (the window's thousands of
        # items included): 100 ms with the 2,000-step canvas open, mid-run. Frozen objects are
        # skipped, so until the job ends a collection walks only what the job made.
        gc.freeze()
        self._set_busy(True)
        self._timer.start()
        try:
            self.process.send(request)
        except (OSError, ValueError, pickle.PicklingError) as e:
            # as if the worker had answered: the job future completes and the outcome shows
            self._received(
                b"O"
                + pickle.dumps(
                    JobOutcome("error", message=f"the run could not start: the engine process: {e}")
                )
            )

    def _set_busy(self, busy: bool) -> None:
        if busy != self.busy:
            self.busy = busy
            self.busy_changed.emit(busy)

    # --- messages from the worker (reader thread) -------------------------------------------

    def _received(self, data: bytes | None) -> None:
        self._queue.append(_GONE if data is None else data)
        job = self._job
        if data is None or data[:1] == b"O":
            if job is not None and not job.done():
                job.set_result(None)  # the GUI thread decodes the outcome itself
            # the window (and its bridge) may have gone away meanwhile
            with contextlib.suppress(RuntimeError):
                self._bridge.arrived.emit()

    # --- draining events (GUI thread) ------------------------------------------------------

    def _tick(self) -> None:
        self.flush(self._budget)

    def _next_item(self) -> Any:
        """The next message item, decoding the next batch when needed; None when none is left."""
        items = self._items
        while not items:
            if not self._queue:
                return None
            data = self._queue.popleft()
            if data is _GONE:
                items.append(_GONE)
            elif data[:1] == b"O":
                items.append(pickle.loads(data[1:]))  # noqa: S301 - our own worker's bytes
            else:
                items.extend(pickle.loads(data[1:]))  # noqa: S301
        return items.popleft()

    def flush(self, budget: float | None = None) -> None:
        """Turn queued events into records, lines and signals; within `budget` seconds if set.
        A new run gets a tick to itself: showing it is a frame's work."""
        deadline = time.perf_counter() + budget if budget is not None else None
        lines: list[LogLine] = []
        changed: dict[str, dict[str, None]] = {}
        n = 0
        while (item := self._next_item()) is not None:
            if isinstance(item, JobShape):
                self._shape = item
                continue
            if isinstance(item, JobOutcome) or item is _GONE:
                lines, changed = self._publish(lines, changed)
                if isinstance(item, JobOutcome):
                    self._outcome(item)
                elif self.busy:  # the worker died mid-job (killed, out of memory, a crash)
                    self._outcome(
                        JobOutcome(
                            "error",
                            message=(
                                "the engine process stopped unexpectedly; the next run "
                                "starts a new one"
                            ),
                        )
                    )
                continue
            rec = self.records.get(item.run_id)
            new_run = rec is None
            if new_run:
                if not isinstance(item, RunStarted):
                    continue  # a run we were not told about (dropped record): nothing to show
                if n and deadline is not None:
                    self._items.appendleft(item)  # its own tick
                    break
                rec = self._new_record(item)
                self.run_started.emit(rec)
            line = event_line(item, rec.workflow)
            if line is not None:
                lines.append(line)
            sid = apply_event(rec, item)
            if sid is not None:
                changed.setdefault(rec.run_id, {})[sid] = None
            if isinstance(item, RunFinished):
                lines, changed = self._publish(lines, changed)
                self.run_finished.emit(rec)
            n += 1
            if deadline is not None and (
                new_run or (n % 16 == 0 and time.perf_counter() > deadline)
            ):
                break
        self._publish(lines, changed)
        if not self.busy and not self._queue and not self._items:
            self._timer.stop()

    def _publish(
        self, lines: list[LogLine], changed: dict[str, dict[str, None]]
    ) -> tuple[list[LogLine], dict[str, dict[str, None]]]:
        """Emit what has gathered; returns fresh (empty) collections to gather into."""
        for run_id, ids in changed.items():
            rec = self.records.get(run_id)
            if rec is not None:
                self.steps_changed.emit(rec, list(ids))
        if lines:
            self.log_appended.emit(lines)
        return [], {}

    def _new_record(self, ev: RunStarted) -> RunRecord:
        spec = self._specs.pop(ev.run_id, None)
        job = spec or self._job_spec
        canvas = self._shape
        on_canvas = spec is not None or (canvas is not None and ev.workflow == canvas.name)
        rec = RunRecord(
            run_id=ev.run_id,
            workflow=ev.workflow,
            env=job.env_label if job is not None else "",
            source="run" if spec is not None else "emit",
            on_canvas=on_canvas,
            input=ev.input,
        )
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
        self._set_busy(False)
        if outcome.kind == "error":
            self.message.emit("error", outcome.message)
        elif outcome.message:
            self.message.emit("info", outcome.message)
        self.job_finished.emit(outcome)
