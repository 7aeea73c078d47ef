"""What the processes of one server (`serve --workers N`) share through the store.

They share nothing else: each has its own engine, runs and followers. So every process tails the
store's event table and hands what any of them wrote to its own followers (SSE, WebSocket), in
`seq` order; a cancel of a run another process runs is a row in `cancels` that its owner picks
up; a deploy bumps a counter the others reload on (watching the folder or not); and a process
waits for a run it does not own by reading its status.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import Collection, Sized
from typing import Any, Protocol

from engine.server.store import Store, StoredEvent

__all__ = ["DEPLOYS", "TAIL_EVERY_S", "tail", "running_elsewhere", "wait_elsewhere"]

DEPLOYS = "deploys"  # the shared counter a deploy bumps
TAIL_EVERY_S = 0.02  # how often the store is read for other processes' events and requests
WAIT_EVERY_S = 0.02
log = logging.getLogger("switchboard.serve")


def running_elsewhere(store: Store, run_id: str) -> bool:
    """Whether the store has `run_id` as running (some process runs it)."""
    row = store.get_run(run_id)
    return row is not None and row["status"] == "running"


async def wait_elsewhere(store: Store, run_id: str, timeout_s: float) -> bool:
    """Wait until the run, which another process runs, has ended; False on timeout."""
    deadline = time.monotonic() + timeout_s
    while running_elsewhere(store, run_id):
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(WAIT_EVERY_S)
    return True


def steps_so_far(store: Store, run_id: str) -> dict[str, dict[str, Any]]:
    """A running run's step states, folded from its stored events (the run's live record is
    in the process that runs it)."""
    steps: dict[str, dict[str, Any]] = {}
    for e in store.events(run_id=run_id):
        b = e.body
        if e.kind not in ("StepStarted", "StepRetrying", "StepFinished"):
            continue
        view = steps.setdefault(
            b["step"],
            {"status": "running", "attempts": 0, "output": None, "error": None, "duration_ms": 0},
        )
        if e.kind == "StepStarted":
            view.update(status="running", attempts=b.get("attempt", 1))
        elif e.kind == "StepRetrying":
            view.update(status="retrying", attempts=b.get("attempt", 1))
        else:
            view.update(
                status=b.get("status"),
                attempts=b.get("attempts", 0),
                output=b.get("output"),
                error=b.get("error"),
                duration_ms=b.get("duration_ms", 0),
            )
    return steps


class Tailing(Protocol):
    """What `tail` needs of the Service."""

    @property
    def store(self) -> Store: ...
    @property
    def subscribers(self) -> Sized: ...
    @property
    def live(self) -> Collection[str]: ...
    @property
    def wrote(self) -> asyncio.Event: ...

    def offer(self, events: list[StoredEvent]) -> None: ...
    def cancel(self, run_id: str) -> bool: ...
    def reload(self) -> list[str]: ...


async def tail(service: Tailing, stop: asyncio.Event) -> None:
    """Until `stop`: give the followers every event any process wrote, cancel the runs of ours
    that another process was asked to cancel, and reload after another process's deploy. Woken
    early by this process's own writes while it has followers, so they wait no longer than
    with one process (without followers, a round per write cost a busy worker three queries
    per run). Its reads do not write this process's queued events first: they would wait for
    another process's transaction, blocking the loop; those events reach it once written."""
    store = service.store
    last = store.last_seq()
    deploys = store.counter(DEPLOYS)
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(TAIL_EVERY_S):
                await (service.wrote if service.subscribers else stop).wait()
        service.wrote.clear()
        try:
            if service.subscribers:
                while True:
                    batch = store.events(after=last, limit=1000, flush=False)
                    if batch:
                        last = batch[-1].seq
                        service.offer(batch)
                    if len(batch) < 1000:
                        break
            else:  # nobody follows: a follower that comes replays from the store itself
                last = store.last_seq(flush=False)
            if service.live:
                for run_id in store.cancel_requests(flush=False):
                    if run_id in service.live:
                        service.cancel(run_id)
                        store.cancel_handled(run_id)
            now = store.counter(DEPLOYS, flush=False)
            if now != deploys:
                deploys = now
                for line in service.reload():
                    log.info("%s", line)
        except sqlite3.Error as e:  # a busy or full store: try again on the next round
            log.error("reading the shared store failed: %s: %s", type(e).__name__, e)
