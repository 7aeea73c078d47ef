"""The scheduler: one run of a workflow's step graph on asyncio, reported through events.

A step starts as soon as every step in its `after` has finished (FORMAT.md "Steps and order").
Scheduling is push-based: when a step finishes, the task that finished it works out which steps
became ready and starts them before it ends, so a virtual clock never sees a moment where nothing
is busy while work is still due. A started step runs in the run's own task when that task is
free for it (a chain of steps, the common case, then needs no task per step), else in a
participant task of its own; either way the loop gets a turn between steps, so a GUI loop
sharing it is not starved.

A run reaches the world only through its ports (clock, caller, starter, secrets, ids); its
state is private to this module, and call steps see it as a `StepContext`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import sys
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from engine.core.durations import format_duration
from engine.core.errors import ExpressionError, InputInvalid, RunError
from engine.core.expressions import template_table, truthy, using_templates
from engine.core.heap import LargeRun
from engine.core.model import EmitStep, NotifyStep, WaitStep, Workflow
from engine.runtime.calls import render_in, run_call_step
from engine.runtime.clock import Clock, Gate, TimerHandle
from engine.runtime.events import (
    Event,
    Notification,
    RunFinished,
    RunResult,
    RunStarted,
    Sink,
    StepFinished,
    StepResult,
    StepStarted,
    iso_utc,
)
from engine.runtime.ports import Caller, Cascade, SecretReader
from engine.runtime.secrets import redact
from engine.runtime.skeleton import skeleton
from engine.runtime.steps import StepState, check_input, on_error, step_states

if TYPE_CHECKING:
    from engine.runtime.bus import EventBus

__all__ = ["execute_run", "MAX_EMIT_DEPTH"]

log = logging.getLogger("switchboard.engine")

MAX_EMIT_DEPTH = Cascade.MAX_DEPTH


class RunPorts(Protocol):
    """What a run takes from the engine that starts it."""

    clock: Clock
    caller: Caller
    secrets: SecretReader
    rng: random.Random
    services: dict[str, str]
    bus: EventBus

    @property
    def sinks(self) -> Sequence[Sink]: ...

    def next_seq(self) -> int: ...


async def execute_run(
    ports: RunPorts,
    workflow: Workflow,
    input: Any,
    run_id: str,
    run_sinks: Sequence[Sink] = (),
    cascade: Cascade | None = None,
    pinned: Mapping[str, Mapping[str, Any]] | None = None,
) -> RunResult:
    """Run a workflow to its end, its events to the engine's sinks and `run_sinks` (which the
    runs its emits start get too). Cancelling the calling task cancels the run (re-raised after
    RunFinished is emitted). `pinned`: steps that do not run but finish at once as a run
    recorded them (`{status, output, error, attempts}` by step id: "run from here")."""
    # the workflow's templates are compiled once, for every run of it (the step tasks the run
    # starts inherit the table with this context)
    with using_templates(template_table(workflow)), LargeRun(len(workflow.steps)) as large:
        run = _Run(ports, workflow, input, run_id, run_sinks, cascade or Cascade())
        run.pinned = dict(pinned or {})
        run.large = large if large.on else None  # a small run has nothing to checkpoint
        return await run.execute()


class _Run:
    """One run of a workflow: step states, scope, and the bookkeeping of its end. It is the
    `StepContext` its call steps see."""

    def __init__(
        self,
        ports: RunPorts,
        workflow: Workflow,
        input: Any,
        run_id: str,
        run_sinks: Sequence[Sink],
        cascade: Cascade,
    ) -> None:
        self.clock = ports.clock
        self.caller = ports.caller
        self.secrets = ports.secrets
        self.rng = ports.rng
        self.run_sinks = tuple(run_sinks)
        self.sinks = (*ports.sinks, *self.run_sinks)
        self.services = ports.services
        self.bus = ports.bus
        self.next_seq: Callable[[], int] = ports.next_seq
        self.workflow = workflow
        self.input = input
        self.run_id = run_id
        self.cascade = cascade
        self.steps_scope: dict[str, Any] = {}
        self.scope: dict[str, Any] = {
            "input": input,
            "steps": self.steps_scope,
            "run": {"id": run_id, "workflow": workflow.name},
        }
        self.results: dict[str, StepResult] = {}
        self.listening = bool(self.sinks)
        self.error: dict[str, Any] | None = None
        self.ended = False
        self.end_status = "succeeded"
        self.remaining = 0
        self.running: set[StepState] = set()
        self._ready: deque[StepState] = deque()
        self._pumping = False
        self.pinned: dict[str, Mapping[str, Any]] = {}
        self.large: LargeRun | None = None
        self.gate: Gate | None = None
        # The run's own task (the driver) runs a ready step itself when it is free for one
        # (`_drive`); `_abort` cancels it like a step task then, counted so that the run can
        # tell its own cancel from the caller's.
        self._driver: asyncio.Task[Any] | None = None
        self._driver_free = False
        self._inline: StepState | None = None
        self._driver_cancels = 0
        self._cancelling = 0

    # --- events ----------------------------------------------------------------------------

    def emit(self, event: Event) -> None:
        for sink in self.sinks:
            try:
                sink(event)
            except Exception:  # a broken sink must not break the run
                # one line, masked; the traceback only for whoever turns on debug logging
                log.error(
                    "an event sink failed on %s: %s",
                    type(event).__name__,
                    redact(f"{sys.exc_info()[1]!r}"),
                )
                log.debug("event sink %r failed", sink, exc_info=True)

    # --- the run ---------------------------------------------------------------------------

    async def execute(self) -> RunResult:
        clock = self.clock
        wf = self.workflow
        self.t0 = clock.now()
        sk = skeleton(wf, self.services)  # raises ValidationError for a broken graph
        states = step_states(sk)
        self.states = states
        self.remaining = len(states)
        if self.listening:
            self.emit(RunStarted(self.run_id, wf.name, self.t0, redact(self.input)))
        problem = check_input(sk, self.input)
        if problem is not None:
            self._abort(InputInvalid(problem), "failed")
            self._mark_unfinished()
            return self._conclude()
        deadline: TimerHandle | None = None
        if wf.timeout is not None:
            deadline = clock.call_later(wf.timeout / 1000, self._on_deadline)
        driver = self._driver = asyncio.current_task()
        if driver is not None:
            self._cancelling = driver.cancelling()
        try:
            for st in states:
                if st.waiting == 0:
                    self._ready.append(st)
            self._driver_free = driver is not None
            self._pump()
            await self._drive()
            self._driver_free = False
            if self.remaining > 0 and not self.ended:
                self.gate = clock.gate()
                await self.gate.wait()
        except asyncio.CancelledError:
            self._driver_free = False
            if not self._own_cancel():
                self._abort(RunError("the run was cancelled", type="cancelled"), "cancelled")
                await self._drain()
                self._conclude()
                raise
        finally:
            if deadline is not None:
                deadline.cancel()
        await self._drain()
        return self._conclude()

    async def _drive(self) -> None:
        """Run the steps handed to the run's own task, one after another, while there are any
        (`_start` hands one over when the task is free)."""
        done = 0
        while (st := self._inline) is not None:
            self._inline = None
            if self.ended:
                return  # ended before it began: it is marked cancelled with the others
            await self._step_task(st, inline=True)
            done += 1
            if done % 8 == 0 and self._inline is not None:
                # a chain of steps that answer without waiting (mocks) lets the loop run too
                await asyncio.sleep(0)

    def _own_cancel(self) -> bool:
        """Whether the run's task was cancelled only by `_abort` (a step it ran had to stop):
        then the run goes on to its end as the abort decided, rather than as `cancelled`."""
        driver, n = self._driver, self._driver_cancels
        if driver is None or n == 0:
            return False
        self._driver_cancels = 0
        for _ in range(n):
            driver.uncancel()
        return driver.cancelling() <= self._cancelling

    def _on_deadline(self) -> None:
        if self.ended:
            return
        t = format_duration(self.workflow.timeout or 0)
        step = next((st.id for st in self.states if st in self.running), None)
        self._abort(
            RunError(
                f"the run did not finish within its timeout ({t}); raise the "
                "workflow's `timeout` or make its steps faster",
                step=step,
                type="deadline",
            ),
            "failed",
        )

    def _abort(self, error: RunError, status: str) -> None:
        """End the run early: remember why, stop every running step."""
        if self.ended:
            return
        self.ended = True
        self.end_status = status
        self.error = {"type": error.type, "message": redact(error.message), "step": error.step}
        clock = self.clock
        driver = self._driver
        for st in list(self.running):
            task = st.task
            if task is None:
                continue
            if driver is not None and task is driver:
                if task is asyncio.current_task():
                    continue  # the run's own task, here: it stops before its next step
                self._driver_cancels += 1
            clock.cancel(task)
        if self.gate is not None:
            self.gate.open()

    async def _drain(self) -> None:
        """Wait until every cancelled step task has unwound: no task outlives the run."""
        tasks = [
            st.task for st in self.running if st.task is not None and st.task is not self._driver
        ]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._mark_unfinished()

    def _mark_unfinished(self) -> None:
        now = self.clock.now()
        for st in self.states:
            if st.status is None:
                duration = int(round((now - st.started) * 1000)) if st.started else 0
                self._record(st, "cancelled", None, None, duration)

    def _conclude(self) -> RunResult:
        clock = self.clock
        if not self.ended:
            self.ended = True
        status = self.end_status
        output = None
        if status == "succeeded":
            try:
                if self.workflow.output is None:
                    output = {sid: r.output for sid, r in self.results.items()}
                else:
                    output = render_in(self.workflow.output, self.scope, "output", "output")
                    output = redact(output)
            except ExpressionError as e:
                status = "failed"
                self.error = {
                    "type": e.type,
                    "message": redact(e.message.replace("step 'output'", "the workflow's output")),
                    "step": None,
                }
        end = clock.now()
        steps = {st.id: self.results[st.id] for st in self.states}
        result = RunResult(
            self.run_id,
            self.workflow.name,
            status,
            iso_utc(self.t0),
            int(round((end - self.t0) * 1000)),
            steps,
            output,
            self.error,
        )
        if self.listening:
            self.emit(RunFinished(self.run_id, result, end))
        return result

    # --- scheduling ------------------------------------------------------------------------

    def _pump(self) -> None:
        """Start every ready step. A loop, not recursion: skips can cascade 10,000 deep."""
        if self._pumping:
            return
        self._pumping = True
        try:
            ready = self._ready
            while ready and not self.ended:
                self._start(ready.popleft())
        finally:
            self._pumping = False
        if self.remaining == 0 and self.gate is not None:
            self.gate.open()

    def _start(self, st: StepState) -> None:
        step = st.step
        if st.id in self.pinned:
            self._replay(st, self.pinned[st.id])
            return
        if step.disabled or (step.after and st.live == 0):
            self._finish(st, "skipped", None, None)
            return
        if step.if_ is not None:
            try:
                go = truthy(render_in(step.if_, self.scope, st.id, "if"))
            except ExpressionError as e:
                self._finish(st, "failed", None, e)
                return
            if not go:
                self._finish(st, "skipped", None, None)
                return
        st.started = self.clock.now()
        if isinstance(step, NotifyStep):
            self._notify(st, step)
        elif isinstance(step, EmitStep):
            self._emit_event(st, step)
        else:
            self.running.add(st)
            if self._driver_free:
                # the run's own task waits for work: it runs this step (no task made for it)
                self._driver_free = False
                self._inline = st
                st.task = self._driver
            else:
                st.task = self.clock.spawn(self._step_task(st), name=f"switchboard-{st.id}")

    async def _step_task(self, st: StepState, inline: bool = False) -> None:
        """Run one call or wait step and finish it. `inline`: in the run's own task, which is
        free for the next step from the moment this one finishes."""
        step = st.step
        try:
            if st.plan is not None:
                output = await run_call_step(self, st.plan, st)
            else:
                assert isinstance(step, WaitStep)
                st.attempts = 1
                if self.listening:
                    self.emit(StepStarted(self.run_id, st.id, 1, st.started))
                await self.clock.sleep(step.wait / 1000)
                output = None
        except RunError as e:
            self.running.discard(st)
            if inline:
                self._driver_free = True
            self._finish(st, "failed", None, e)
        except asyncio.CancelledError:
            raise
        except Exception as e:  # a defect, reported on the step rather than lost in the loop
            log.error("step %s crashed: %s", st.id, redact(f"{type(e).__name__}: {e}"))
            log.debug("step %s crashed", st.id, exc_info=True)
            self.running.discard(st)
            if inline:
                self._driver_free = True
            self._finish(
                st,
                "failed",
                None,
                RunError(f"step '{st.id}' crashed: {type(e).__name__}: {e}", step=st.id),
            )
        else:
            self.running.discard(st)
            if inline:
                self._driver_free = True
            self._finish(st, "succeeded", output, None)

    def _notify(self, st: StepState, step: NotifyStep) -> None:
        st.attempts = 1
        try:
            message = render_in(step.message, self.scope, st.id, "message")
        except ExpressionError as e:
            self._finish(st, "failed", None, e)
            return
        if message is None:
            message = ""
        text = redact(message if isinstance(message, str) else json.dumps(message))
        if self.listening:
            self.emit(StepStarted(self.run_id, st.id, 1, st.started))
        self.emit(Notification(self.run_id, st.id, step.level or "info", text, self.clock.now()))
        self._finish(st, "succeeded", {"message": text, "level": step.level or "info"}, None)

    def _emit_event(self, st: StepState, step: EmitStep) -> None:
        st.attempts = 1
        try:
            data = render_in(step.data, self.scope, st.id, "data")
        except ExpressionError as e:
            self._finish(st, "failed", None, e)
            return
        if self.listening:
            self.emit(StepStarted(self.run_id, st.id, 1, st.started))
        if self.cascade.depth + 1 >= MAX_EMIT_DEPTH:
            # A workflow that (indirectly) triggers itself: stop the cascade, say so, go on.
            self.emit(
                Notification(
                    self.run_id,
                    st.id,
                    "warning",
                    f"event '{step.event}' not delivered: it was emitted {MAX_EMIT_DEPTH} runs "
                    "deep, so a workflow probably triggers itself; break the cycle of emits and "
                    "triggers",
                    self.clock.now(),
                )
            )
            self._finish(st, "succeeded", {"event": step.event, "runs": []}, None)
            return
        if not self.cascade.take(len(self.bus.listeners(step.event))):
            self._finish(
                st,
                "failed",
                None,
                RunError(
                    f"event '{step.event}' not delivered: this cascade of emits has started "
                    f"{Cascade.MAX_RUNS:,} runs, the most one may; a workflow probably triggers "
                    "itself more than once: break the cycle of emits and triggers",
                    type="limit",
                ),
            )
            return
        run_ids = self.bus.start(
            step.event, data, cascade=self.cascade.child(), sinks=self.run_sinks
        )
        self._finish(st, "succeeded", {"event": step.event, "runs": run_ids}, None)

    def _finish(self, st: StepState, status: str, output: Any, error: RunError | None) -> None:
        if st.status is not None:
            return
        err = None
        if error is not None:
            err = {"type": error.type, "message": redact(error.message), "status": error.status}
        duration = int(round((self.clock.now() - st.started) * 1000)) if st.started else 0
        self._record(st, status, output, err, duration)
        # a secret that is not set is the environment's mistake, not the step's: no request
        # was sent, so `onError: continue` must not turn it into a run that "succeeded"
        if (
            status == "failed"
            and not self.ended
            and (on_error(st) != "continue" or (error is not None and error.type == "secret"))
        ):
            assert error is not None
            if error.step is None:
                error.step = st.id
            self._abort(error, "failed")
            return
        if not self.ended:
            self._release(st, status)

    def _replay(self, st: StepState, pinned: Mapping[str, Any]) -> None:
        """Finish a pinned step as recorded, sending nothing. A recorded failure does not end
        the run (it was continued past, or the user pinned it to go on)."""
        status = str(pinned.get("status") or "succeeded")
        if status not in ("succeeded", "failed", "skipped"):
            status = "succeeded"
        st.attempts = int(pinned.get("attempts") or 0)
        error = pinned.get("error")
        self._record(
            st, status, pinned.get("output"), error if isinstance(error, dict) else None, 0
        )
        if not self.ended:
            self._release(st, status)

    def _release(self, st: StepState, status: str) -> None:
        """`st` ended as `status`: its dependents wait for one step less, and run when ready."""
        live = status != "skipped"
        ready = self._ready
        for d in st.dependents:
            d.waiting -= 1
            if live:
                d.live += 1
            if d.waiting == 0:
                ready.append(d)
        self._pump()

    def _record(
        self, st: StepState, status: str, output: Any, err: dict[str, Any] | None, duration: int
    ) -> None:
        st.status = status
        self.remaining -= 1
        self.steps_scope[st.id] = {
            "output": output,
            "status": status,
            "error": err,
            "attempts": st.attempts,
        }
        shown = redact(output)
        self.results[st.id] = StepResult(status, st.attempts, shown, err, duration)
        if self.large is not None:
            self.large.step_finished()
        if self.listening:
            self.emit(
                StepFinished(
                    self.run_id,
                    st.id,
                    status,
                    shown,
                    err,
                    duration,
                    st.attempts,
                    tuple(st.calls),
                    self.clock.now(),
                )
            )
