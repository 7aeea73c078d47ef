"""The engine's Clock inside a Temporal workflow: durable timers, and time from the workflow.

Every timer is a Temporal timer (`loop.call_later` on the workflow's event loop), so a `wait`,
a backoff, a step timeout and the run deadline survive a crash of the worker. With `virtual`
(mocked runs) `now()` moves only when one of the clock's own timers fires, to the moment that
timer was due, exactly as `runtime.clock.VirtualClock` does: activities take no time, so a
mocked run reports the same durations on Temporal as in-process. Without it, `now()` is
`workflow.now()`.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable

from temporalio import workflow

from engine.runtime.clock import ClockTimeout, RealClock, TimerHandle

__all__ = ["TemporalClock"]

# Temporal rejects timers of no duration; shorter waits fire at once (in due order).
_MIN_TIMER = 0.001


class _Timer:
    __slots__ = ("due", "seq", "callback", "cancelled", "inner")

    def __init__(self, due: float, seq: int, callback: Callable[[], None]) -> None:
        self.due = due
        self.seq = seq
        self.callback = callback
        self.cancelled = False
        self.inner: asyncio.Handle | None = None

    def cancel(self) -> None:
        self.cancelled = True
        if self.inner is not None:
            self.inner.cancel()


class TemporalClock(RealClock):
    """Time and timers for the scheduler inside a workflow; tasks and gates as RealClock's
    (the workflow's event loop runs them deterministically)."""

    def __init__(self, *, virtual: bool) -> None:
        self.virtual = virtual
        self._now = workflow.now().timestamp()
        self._seq = itertools.count()
        self._due: list[tuple[float, int, _Timer]] = []
        self._drain_pending = False

    def now(self) -> float:
        if self.virtual:
            return self._now
        return workflow.now().timestamp()

    def call_later(self, seconds: float, callback: Callable[[], None]) -> TimerHandle:
        seconds = max(0.0, seconds)
        timer = _Timer(self.now() + seconds, next(self._seq), callback)
        if seconds < _MIN_TIMER:
            self._fired(timer)
        else:
            timer.inner = asyncio.get_running_loop().call_later(seconds, self._fired, timer)
        return timer

    def _fired(self, timer: _Timer) -> None:
        if not timer.cancelled:
            heapq.heappush(self._due, (timer.due, timer.seq, timer))
            self._kick()

    def _kick(self) -> None:
        if not self._drain_pending:
            self._drain_pending = True
            asyncio.get_running_loop().call_soon(self._drain)

    def _drain(self) -> None:
        """Run one fired timer, earliest due first, once nothing else is ready to run.

        Temporal may fire several timers in one activation; running their callbacks one by one,
        each after the work the previous one woke has settled, lets every woken task see the
        time its own timer was due (as VirtualClock does), whatever the activation held."""
        self._drain_pending = False
        ready = getattr(asyncio.get_running_loop(), "_ready", None)
        if ready:
            self._kick()
            return
        while self._due and self._due[0][2].cancelled:
            heapq.heappop(self._due)
        if not self._due:
            return
        due, _, timer = heapq.heappop(self._due)
        if due > self._now:
            self._now = due
        timer.callback()
        if self._due:
            self._kick()

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def wake() -> None:
            if not fut.done():
                fut.set_result(None)

        timer = self.call_later(seconds, wake)
        try:
            await fut
        finally:
            timer.cancel()

    def timeout(self, seconds: float) -> ClockTimeout:
        return ClockTimeout(self, seconds)
