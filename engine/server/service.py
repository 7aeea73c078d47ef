"""The server's core, HTTP-free: runs started as `engine.jobs` jobs on a long-lived Host,
their events stored and fanned out to subscribers (SSE, WebSocket).

`Service.start_run` hands `JobRequest(kind="run")` to `run_job` in a task of its own with a run
id chosen here, so a request can answer with the id at once; an event starts one such job per
workflow whose trigger names it (the registry is the folder's bus). Runs that emit steps start
go through the shared engine's bus, registered once from the folder, and report to the same
sinks. No run logic lives here: the jobs layer resolves the environment, runs and closes.

Events are queued in the store and written a few milliseconds later, many per transaction; the
followers get them once written (with their `seq`). With `shared=True` (one of the processes of
`serve --workers N`) the followers are fed by `engine.server.shared.tail`, which reads what every
process wrote, and runs owned by another process are cancelled and waited for through the store.

The seam where runs start is `runner` (default `run_job`): it is given the run's `JobRequest`
(workflow model and path, input, run id, env, depth), this service's sink and Host, reports the
run's events to the sink, and returns the `JobOutcome`; cancelling its task must end it with a
`cancelled` outcome, as `run_job` does. Another engine (Temporal) passes its own runner and keeps
the rest (store, fan-out, idempotency, cancel, workers).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from engine.core.errors import Problem
from engine.files.documents import parse_workflow, save_text_atomic
from engine.jobs.environments import resolve_environment
from engine.jobs.request import JobOutcome, JobRequest
from engine.jobs.run import run_job
from engine.jobs.setup import Host
from engine.jobs.sinks import event_to_json
from engine.runtime import events as ev
from engine.runtime.bus import EventBus
from engine.runtime.state import RunRecord, apply_event
from engine.server import shared
from engine.server.followers import Filter, Subscriber, follow
from engine.server.metrics import Metrics
from engine.server.registry import Entry, Registry
from engine.server.runner import DurableRunner, Runner
from engine.server.shared import DEPLOYS
from engine.server.store import Store, StoredEvent

__all__ = ["Service", "Filter"]

PRUNE_EVERY = 200  # finished runs between two retention passes
FLUSH_DELAY_S = 0.005  # how long an event may wait in memory before it is written
RETRY_WRITE_S = 0.0005  # how soon a write is tried again when another process is writing
log = logging.getLogger("switchboard.serve")


@dataclass
class _Live:
    record: RunRecord
    task: asyncio.Task[JobOutcome | None] | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)
    finished: bool = False  # its RunFinished was recorded
    result: dict[str, Any] | None = None  # its result JSON, once finished


class Service:
    """Workflows of `folder` run in environment `env`, recorded in `store`."""

    def __init__(
        self,
        folder: Path,
        store: Store,
        *,
        env: str | None = None,
        idempotency_window_s: float = 24 * 3600,
        retain_s: float | None = None,
        retain_runs: int | None = None,
        shared: bool = False,
        runner: Runner = run_job,
    ) -> None:
        self.folder = Path(folder)
        self.runner = runner
        # a runner whose runs go on without this server (Temporal)
        self.durable: DurableRunner | None = (
            cast(DurableRunner, runner) if getattr(runner, "durable", False) else None
        )
        self.store = store
        self.env = env
        self.window = idempotency_window_s
        self.retain_s, self.retain_runs = retain_s, retain_runs
        self._finished = 0
        self.registry = Registry(self.folder)
        # an edited environments or mocks file is used by the runs that start a second later
        self.host = Host(keep=True, recheck=1.0)
        self.live: dict[str, _Live] = {}
        self.subscribers: set[Subscriber] = set()
        self.overflows = 0  # live events a slow follower had to read from the store instead
        self.accepting = True
        self._bus = EventBus()
        self._registered: set[str] = set()
        self.shared = shared
        self.runner = runner
        self.wrote = asyncio.Event()  # set by every flush (shared: wakes the tail)
        self._flush_timer: asyncio.TimerHandle | None = None
        self._flush_waiters: list[asyncio.Future[None]] = []
        store.on_flushed = self._written
        self.metrics = Metrics(
            lambda: len(self.live),
            lambda: sum(s.queue.qsize() for s in self.subscribers),
            lambda: self.overflows,
            multiprocess=shared,
        )

    def open(self) -> list[str]:
        """Load the folder and resolve the environment (SetupError/LoadError when it does not
        resolve); the shared engine's bus listens for the served triggers (emit steps).
        Returns one warning per file not served."""
        self.registry.load()
        self.prune()
        resolved = resolve_environment(self.folder, self.env)
        self._engine = self.host.engine_for(resolved)[0]
        self._bus = self._engine.bus
        self._listen()
        if self.durable is not None:
            self._resume(self.store.interrupted)
        return [
            f"{e.path}: not served: {e.problems[0]}"
            for e in self.registry.entries.values()
            if not e.ok and e.problems
        ]

    def prune(self) -> int:
        """Apply the retention (age and count of ended runs); how many runs were forgotten."""
        if self.retain_s is None and self.retain_runs is None:
            return 0
        return self.store.prune(max_age_s=self.retain_s, max_runs=self.retain_runs)

    def reload(self) -> list[str]:
        """Read the folder again (a file changed): the registry swaps in the new versions and
        the shared bus listens for the new triggers. Returns what changed."""
        changes = self.registry.load()
        self._listen()
        return changes

    def use_bus(self, bus: EventBus) -> None:
        """Emit steps go through `bus` from now on (`--bus`: onto the stream); it listens for
        the served triggers and starts runs on the shared engine."""
        bus.starter = self._engine
        self._engine.bus = bus
        self._bus = bus
        self._registered = set()
        self._listen()

    def _listen(self) -> None:
        """The shared bus (emit steps) listens for what the registry serves, stale versions
        included."""
        for name in self._registered:
            self._bus.unregister(name)
        self._registered = set()
        for entry in self.registry.entries.values():
            if entry.model is not None and entry.trigger:
                self._bus.register(entry.model)
                self._registered.add(entry.name)

    async def watch(self, stop: asyncio.Event) -> None:
        """Reload whenever a YAML file of the folder changes, until `stop` is set."""
        from watchfiles import awatch

        def yaml_only(change: object, path: str) -> bool:
            return path.endswith((".yaml", ".yml")) and "/.switchboard/" not in path

        async for _ in awatch(
            self.folder,
            stop_event=stop,
            watch_filter=yaml_only,
            debounce=200,
            step=20,
            recursive=False,
        ):
            try:
                for line in self.reload():
                    log.info("%s", line)
            except Exception as e:  # a reload that fails keeps the previous table serving
                log.error("reloading %s failed: %s: %s", self.folder, type(e).__name__, e)

    def deploy(self, name: str, text: str) -> tuple[Entry | None, list[Problem]]:
        """Check `text` as the workflow `name`; without errors, keep the file it replaces in
        `.switchboard/history/NAME/`, write it atomically into the folder and reload. Returns
        (the new entry, []) or (None, the problems)."""
        old = self.registry.get(name)
        target = old.path if old is not None else self.folder / f"{_file_stem(name)}.yaml"
        loaded = parse_workflow(text.encode(), str(target.name))
        problems = [p for p in loaded.problems if p.severity == "error"]
        if not problems and loaded.model is not None and loaded.model.name != name:
            problems = [
                Problem(
                    f"the file is named '{loaded.model.name}', but it is deployed "
                    f"as '{name}': make them the same",
                    ("name",),
                    target.name,
                )
            ]
        if problems or loaded.model is None:
            return None, problems or list(loaded.problems)
        clash = next(
            (e for e in self.registry.entries.values() if e.name == name and e.path != target), None
        )
        if clash is not None:
            return None, [
                Problem(f"{clash.path.name} is already named '{name}'", ("name",), target.name)
            ]
        if old is not None and old.text:
            history = self.folder / ".switchboard" / "history" / name
            history.mkdir(parents=True, exist_ok=True)
            save_text_atomic(history / f"{old.version}.yaml", old.text)
        save_text_atomic(target, text)
        self.reload()
        if self.shared:  # the other processes reload too, watching the folder or not
            self.store.bump(DEPLOYS)
        return self.registry.get(name), []

    async def aclose(self, grace_s: float = 0.0) -> None:
        """Stop taking events; let runs in flight finish for up to `grace_s` seconds, then
        cancel the rest (each ends `cancelled`, with its result recorded)."""
        self.accepting = False
        if self.durable is not None:
            self.durable.stopping = True  # its runs go on without this server
        tasks = [lv.task for lv in self.live.values() if lv.task is not None]
        if tasks and grace_s > 0:
            await asyncio.wait(tasks, timeout=grace_s)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.host.aclose()
        if self.durable is not None:
            await self.durable.aclose()
        self.flush()

    # --- runs ------------------------------------------------------------------------------

    def start_run(
        self, name: str, input: Any, run_id: str | None = None, *, flush: bool = True
    ) -> str:
        """Start the workflow `name` (runnable: the caller checked) and return its run id. The
        run is written at once: any process may be asked for it as soon as its id is known
        (`flush=False`: the caller awaits `flushed()` before it tells anyone the id)."""
        run_id = self._start(name, input, run_id)
        if flush:
            self.flush()
        else:
            self._flush_soon()
        return run_id

    def _start(
        self, name: str, input: Any, run_id: str | None, depth: int = 0, recorded: bool = False
    ) -> str:
        entry = self.registry.runnable(name)
        assert entry is not None and entry.model is not None
        run_id = run_id or uuid.uuid4().hex
        if not recorded:  # (an event's runs were recorded with its idempotency key)
            self.store.add_run(run_id, entry.name, entry.version, input)
        live = self.live[run_id] = _Live(RunRecord(run_id, entry.name, env=self.env or ""))
        live.task = self._launch(run_id, entry, input, depth)
        return run_id

    def _launch(
        self, run_id: str, entry: Entry, input: Any, depth: int = 0
    ) -> asyncio.Task[JobOutcome | None]:
        """A task that runs the run through `runner`, its events to `sink`, and records how it
        ended. `depth`: how deep in a cascade of emits it starts (an event from the stream)."""
        request = JobRequest(
            "run",
            path=entry.path,
            workflow=entry.model,
            input=input,
            run_id=run_id,
            env=self.env,
            depth=depth,
        )
        return asyncio.get_running_loop().create_task(
            self._job(run_id, request), name=f"serve {entry.name} {run_id}"
        )

    async def _job(self, run_id: str, request: JobRequest | None) -> JobOutcome | None:
        try:
            if request is not None:
                outcome = await self.runner(request, sinks=[self.sink], host=self.host)
            else:
                outcome = await self._attach(run_id)
            live = self.live.get(run_id)
            if outcome is None or (live is not None and live.finished and self.durable is None):
                return outcome  # (its RunFinished recorded the result)
            row = self.store.get_run(run_id)
            if row is None:
                return outcome
            result = outcome.payload if outcome.kind in ("run", "cancelled") else None
            if result is not None and (self.durable is not None or row["status"] == "running"):
                # a runner's own result has the last word (its events may have been lost)
                self.store.finish_run(run_id, result.to_json())
            elif row["status"] != "running":
                return outcome
            else:  # it ended before it started
                status = "cancelled" if outcome.kind == "cancelled" else "failed"
                message = outcome.message or "; ".join(str(p) for p in outcome.problems)
                self.store.finish_run(
                    run_id,
                    {
                        "run": run_id,
                        "workflow": row["workflow"],
                        "status": status,
                        "steps": {},
                        "output": None,
                        "error": {
                            "type": "cancelled"
                            if status == "cancelled"
                            else ("setup" if request is not None else "interrupted"),
                            "message": message,
                            "step": None,
                        },
                    },
                )
            return outcome
        finally:
            live = self.live.pop(run_id, None)
            if live is not None:
                live.done.set()

    async def _attach(self, run_id: str) -> JobOutcome | None:
        """A run a previous server started on the durable runner, until it ends."""
        assert self.durable is not None
        row = self.store.get_run(run_id)
        workflow = row["workflow"] if row is not None else ""
        return await self.durable.resume(run_id, workflow, [self.sink])

    def _resume(self, run_ids: list[str]) -> None:
        """Runs the store found in flight at start: with a durable runner they went on
        elsewhere, so they are running again here until the runner says how they ended."""
        loop = asyncio.get_running_loop()
        for run_id in run_ids:
            row = self.store.reopen_run(run_id)
            if row is None:
                continue
            live = self.live[run_id] = _Live(RunRecord(run_id, row["workflow"], env=self.env or ""))
            message = (
                f"run {run_id} of {row['workflow']} went on without the server: followed again"
            )
            self.store.add_event(
                run_id,
                "Notification",
                row["workflow"],
                {
                    "event": "Notification",
                    "run_id": run_id,
                    "step": None,
                    "level": "info",
                    "message": message,
                    "time": time.time(),
                },
                level="info",
            )
            live.task = loop.create_task(self._job(run_id, None), name=f"serve resume {run_id}")

    def emit(
        self,
        event: str,
        data: Any,
        key: str | None = None,
        *,
        depth: int = 0,
        flush: bool = True,
    ) -> tuple[list[str], bool]:
        """Start every workflow whose trigger names `event`: (run ids, whether `key` had been
        seen within the window, in which case nothing starts and its runs are answered).
        `depth`: how deep in a cascade of emits the event was emitted (from the stream). The
        runs are written before it returns (`flush=False`: the caller awaits `flushed()`)."""
        self.metrics.events.labels(event).inc()
        listeners = self.registry.listeners(event)
        ids = [uuid.uuid4().hex for _ in listeners]
        if key:  # claimed before anything starts, once for every process sharing the store
            runs = [(i, e.name, e.version, data) for e, i in zip(listeners, ids)]
            ids, seen = self.store.claim_key(key, event, ids, self.window, runs)
            if seen:
                return ids, True
        for entry, run_id in zip(listeners, ids):
            self._start(entry.name, data, run_id, depth, recorded=bool(key))
        if flush:
            self.flush()
        else:
            self._flush_soon()
        return ids, False

    def _try_write(self) -> bool:
        """Write what is queued unless another process holds the store's write lock (False:
        nothing written, the loop goes on). An error is logged and counts as written: the
        next flush retries, as for every flush."""
        if self._flush_timer is not None:
            self._flush_timer.cancel()
            self._flush_timer = None
        try:
            return self.store.try_flush() is not None
        except sqlite3.Error as e:
            log.error("writing to the store failed: %s: %s", type(e).__name__, e)
            return True

    def _timed_write(self) -> None:
        self._flush_timer = None
        if not self._try_write():
            self._flush_timer = asyncio.get_running_loop().call_later(
                RETRY_WRITE_S, self._timed_write
            )

    async def wait(self, run_id: str, timeout_s: float) -> bool:
        """Wait until the run has ended; False when `timeout_s` passed first."""
        live = self.live.get(run_id)
        if live is None:
            if self.shared:  # another process may run it
                return await shared.wait_elsewhere(self.store, run_id, timeout_s)
            return True
        if not live.done.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout_s):  # not wait_for: no task per wait
                    await live.done.wait()
        return live.done.is_set()

    async def wait_result(self, run_id: str, timeout_s: float) -> dict[str, Any] | None:
        """Wait until the run has ended and give its result JSON, as stored (None on timeout;
        a run that ended before it started has no result: its stored run then)."""
        live = self.live.get(run_id)
        if not await self.wait(run_id, timeout_s):
            return None
        if live is not None and live.result is not None:
            await self.flushed()  # stored before it is answered, whichever process is asked next
            return live.result
        run = self.run_json(run_id)
        if run is None:
            return None
        return run["result"] or {"run": run_id, "status": run["status"], "error": run["error"]}

    def cancel(self, run_id: str) -> bool:
        """Cancel a running run; False when it is not running. (Shared: a run another process
        runs is asked to cancel through the store.)"""
        live = self.live.get(run_id)
        if live is None or live.task is None:
            if self.shared and shared.running_elsewhere(self.store, run_id):
                self.store.request_cancel(run_id)
                return True
            return False
        live.task.cancel()
        return True

    def run_json(self, run_id: str) -> dict[str, Any] | None:
        """The stored run; while it runs, its step states so far."""
        row = self.store.get_run(run_id)
        if row is None:
            return None
        live = self.live.get(run_id)
        if live is not None and row["result"] is None:
            row["steps"] = {
                sid: {
                    "status": v.state,
                    "attempts": v.attempts,
                    "output": v.output,
                    "error": v.error,
                    "duration_ms": v.duration_ms,
                }
                for sid, v in live.record.steps.items()
            }
        elif self.shared and row["result"] is None and row["status"] == "running":
            row["steps"] = shared.steps_so_far(self.store, run_id)
        return row

    # --- events ----------------------------------------------------------------------------

    def sink(self, event: ev.Event) -> None:
        """Every event of every run: stored, folded into the live record, sent to subscribers."""
        live = self.live.get(event.run_id)
        if isinstance(event, ev.RunStarted) and live is None:  # a run an emit step started
            entry = self.registry.get(event.workflow)  # its version
            self.store.add_run(
                event.run_id, event.workflow, entry.version if entry else "", event.input
            )
            live = self.live[event.run_id] = _Live(RunRecord(event.run_id, event.workflow))
        workflow = live.record.workflow if live is not None else ""
        if live is not None:
            apply_event(live.record, event)
        self.metrics.observe(event, workflow)
        level = event.level if isinstance(event, ev.Notification) else None
        body = event_to_json(event)
        self.store.queue_event(event.run_id, type(event).__name__, workflow, body, level=level)
        if isinstance(event, ev.RunFinished):
            self.store.finish_run(event.run_id, body["result"])  # the result's JSON, once
            if live is not None:
                live.finished, live.result = True, body["result"]
            self._finished += 1
            if self._finished % PRUNE_EVERY == 0:
                self.prune()
            if live is not None and live.task is None:  # emit-started: nothing else ends it
                self.live.pop(event.run_id, None)
                live.done.set()
        self._flush_soon()

    def _flush_soon(self) -> None:
        if self._flush_timer is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a script feeding events): write now
            self.flush()
            return
        self._flush_timer = loop.call_later(FLUSH_DELAY_S, self._timed_write)

    async def flushed(self) -> None:
        """Return once what is queued now is written. The callers of one loop turn share one
        transaction (a group commit): a commit per answered run was a tenth of the server's CPU
        with 50 clients waiting on their runs. No write waits inside SQLite for another
        process's transaction: it is tried again `RETRY_WRITE_S` later, the loop going on."""
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        if not self._flush_waiters:
            loop.call_soon(self._flush_for_waiters)
        self._flush_waiters.append(waiter)
        await waiter

    def _flush_for_waiters(self) -> None:
        if not self._try_write():  # another process is writing: again in a moment
            asyncio.get_running_loop().call_later(RETRY_WRITE_S, self._flush_for_waiters)
            return
        waiters, self._flush_waiters = self._flush_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def flush(self) -> None:
        """Write the queued events and runs now (they reach the followers)."""
        if self._flush_timer is not None:
            self._flush_timer.cancel()
            self._flush_timer = None
        try:
            self.store.flush()
        except sqlite3.Error as e:  # a full disk must not end the runs; the next flush retries
            log.error("writing to the store failed: %s: %s", type(e).__name__, e)

    def _written(self, events: list[StoredEvent]) -> None:
        """A flush wrote `events`: they go to the followers (shared: the tail reads them)."""
        self.wrote.set()
        if not self.shared:
            self.offer(events)

    def offer(self, events: list[StoredEvent]) -> None:
        """Give stored events to every follower."""
        for sub in list(self.subscribers):
            for e in events:
                if not sub.offer(e):
                    self.overflows += 1

    def follow(
        self, flt: Filter, after: int = 0, *, until_run_end: bool = False
    ) -> AsyncIterator[StoredEvent]:
        """Stored events after `after` that pass `flt`, then live ones (`followers.follow`)."""
        return follow(
            self.store, self.subscribers, self._running, flt, after, until_run_end=until_run_end
        )

    def _running(self, run_id: str) -> bool:
        return run_id in self.live or (self.shared and shared.running_elsewhere(self.store, run_id))


def _file_stem(name: str) -> str:
    """A new workflow's file name: `policyChange` -> `policy_change`."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower().replace(".", "_")
