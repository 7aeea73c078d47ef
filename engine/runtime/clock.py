"""Time for the runner: the Clock protocol, RealClock, and VirtualClock for instant mocked runs.

The runner never calls `asyncio.sleep`, `asyncio.timeout` or `create_task` itself: it asks its
clock, so a mocked run can take no real time while reporting the times it would have taken.

How VirtualClock knows when it may jump ahead, without a custom event loop (so it works on plain
asyncio and on qasync's loop alike): it counts its *participants*, the tasks of the runs it
times, and how many of them are *busy* (not parked on the clock). A participant parks when it
sleeps, waits on a timeout, or waits on a `Gate`; whoever wakes it (a timer, `Gate.open`,
`cancel`) counts it busy again *before* it resumes, so the count never drops to zero while work
is still pending. When the count is zero, every participant is waiting for time to pass: the
clock moves to the earliest timer and fires it, one timer per event-loop turn, so other work on
the loop (a GUI) keeps running between jumps. A task that is not a participant may still sleep
on the clock; it is counted while it sleeps' wake-up is pending, like a participant.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import time
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, Protocol, TypeVar

__all__ = ["Clock", "RealClock", "VirtualClock", "Gate", "TimerHandle", "ClockTimeout", "Timeout"]

T = TypeVar("T")


class TimerHandle(Protocol):
    def cancel(self) -> None: ...


class Gate(Protocol):
    """A one-shot event the runner waits on (a run's end, a foreach's workers)."""

    def open(self) -> None: ...

    def is_open(self) -> bool: ...

    async def wait(self) -> None: ...


class Clock(Protocol):
    """What the runner needs from time. `now()` is epoch seconds."""

    virtual: bool

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...

    def timeout(self, seconds: float) -> Timeout:
        """A context manager (`with` or `async with`) raising TimeoutError when the block
        outlives `seconds`; `ClockTimeout(self, seconds)` serves any clock with timers."""
        ...

    def call_later(self, seconds: float, callback: Callable[[], None]) -> TimerHandle: ...

    def spawn(self, coro: Coroutine[Any, Any, T], name: str | None = None) -> asyncio.Task[T]: ...

    def cancel(self, task: asyncio.Task[Any]) -> None: ...

    def gate(self) -> Gate: ...

    def enter(self) -> bool: ...

    def leave(self, entered: bool) -> None: ...


class _RealGate:
    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def open(self) -> None:
        self._event.set()

    def is_open(self) -> bool:
        return self._event.is_set()

    async def wait(self) -> None:
        await self._event.wait()


# A RealClock timeout fires at most this late, or a thousandth of its length if that is more:
# deadlines share one loop timer per slot this wide.
TIMEOUT_GRAIN = 0.005
_GRAIN_FROM = TIMEOUT_GRAIN * 1000  # the timeout from which a thousandth of it is the wider


class Timeout:
    """asyncio.timeout's logic (Python 3.11): at the deadline the block's task is cancelled,
    and that cancel (not another's) leaves the block as TimeoutError. Subclasses say where the
    deadline waits (`_arm`, `_disarm`) and how the task is cancelled (`_cancel`). It is entered
    with `async with` (the Clock protocol's form) or, as the engine's hot path does, `with`:
    nothing in it awaits, and a plain `with` makes no coroutine per enter and exit."""

    __slots__ = ("_seconds", "_task", "_fired", "_cancelling")

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._fired = False

    def __enter__(self) -> Timeout:
        task = asyncio.current_task()
        assert task is not None
        self._task = task
        self._cancelling = task.cancelling()
        self._arm()
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._disarm()
        if (
            self._fired
            and self._task.uncancel() <= self._cancelling
            and et is asyncio.CancelledError
        ):
            raise TimeoutError from ev
        return None

    # as `async with` too (the Clock protocol's form): the same, with no await inside
    async def __aenter__(self) -> Timeout:
        return self.__enter__()

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.__exit__(et, ev, tb)

    def _fire(self) -> None:
        self._fired = True
        self._cancel(self._task)

    def _arm(self) -> None:
        raise NotImplementedError

    def _disarm(self) -> None:
        raise NotImplementedError

    def _cancel(self, task: asyncio.Task[Any]) -> None:
        task.cancel()


class ClockTimeout(Timeout):
    """A timeout on a clock's own timers (a VirtualClock's, a Temporal workflow's)."""

    __slots__ = ("_clock", "_timer")

    def __init__(self, clock: Clock, seconds: float) -> None:
        super().__init__(seconds)
        self._clock = clock

    def _arm(self) -> None:
        self._timer = self._clock.call_later(self._seconds, self._fire)

    def _disarm(self) -> None:
        self._timer.cancel()

    def _cancel(self, task: asyncio.Task[Any]) -> None:
        self._clock.cancel(task)


class _SlotTimeout(Timeout):
    """A RealClock timeout on a shared slot timer: every call attempt has a timeout, and a loop
    timer of its own per attempt (made, pushed on the loop's heap, cancelled) was about a sixth
    of the engine's own CPU on a live run. A slot's timer is left to fire even when its
    attempts have all ended, so that the attempts that follow share it: with slots a
    thousandth of the timeout wide, at most about a thousand are pending per timeout length."""

    __slots__ = ("_clock", "_slot")

    def __init__(self, clock: RealClock, seconds: float) -> None:
        self._clock = clock
        self._seconds = seconds
        self._fired = False

    def __enter__(self) -> _SlotTimeout:
        # Timeout.__enter__ and the slot's lookup in one frame: it runs for every call attempt
        task = asyncio.current_task()
        assert task is not None
        self._task = task
        self._cancelling = task.cancelling()
        clock = self._clock
        loop = task.get_loop()
        if loop is not clock._loop:
            clock._loop, clock._slots = loop, {}  # another loop: the old one's timers are gone
        seconds = self._seconds if self._seconds > 0 else 0.0
        grain = seconds / 1000 if seconds > _GRAIN_FROM else TIMEOUT_GRAIN
        when = math.ceil((loop.time() + seconds) / grain) * grain
        slot = clock._slots.get(when)
        if slot is None:
            slot = clock._slots[when] = set()
            loop.call_at(when, clock._expire, when)
        slot.add(self)
        self._slot = slot
        return self

    def _disarm(self) -> None:
        self._slot.discard(self)


class RealClock:
    """Wall-clock time on the running loop."""

    virtual = False

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        # slot deadline (loop time) -> the timeouts pending in it
        self._slots: dict[float, set[_SlotTimeout]] = {}

    # the clock's time is time.time itself: a run asks for it a few times per step
    now = staticmethod(time.time)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def timeout(self, seconds: float) -> Timeout:
        """Like asyncio.timeout, firing up to TIMEOUT_GRAIN late: the attempts whose deadlines
        fall in one slot share a loop timer."""
        return _SlotTimeout(self, seconds)

    def _expire(self, key: float) -> None:
        for timeout in list(self._slots.pop(key, ())):
            timeout._fire()

    def call_later(self, seconds: float, callback: Callable[[], None]) -> TimerHandle:
        return asyncio.get_running_loop().call_later(seconds, callback)

    def spawn(self, coro: Coroutine[Any, Any, T], name: str | None = None) -> asyncio.Task[T]:
        return asyncio.get_running_loop().create_task(coro, name=name)

    def cancel(self, task: asyncio.Task[Any]) -> None:
        task.cancel()

    def gate(self) -> Gate:
        return _RealGate()

    def enter(self) -> bool:
        return False

    def leave(self, entered: bool) -> None:
        return None


def _nothing() -> None:
    return None


class _Timer:
    __slots__ = ("when", "callback", "cancelled", "clock")

    def __init__(self, when: float, callback: Callable[[], None], clock: VirtualClock) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False
        self.clock: VirtualClock | None = clock

    def cancel(self) -> None:
        if not self.cancelled:
            self.cancelled = True
            # the heap keeps a cancelled timer until its time: it must not keep what the
            # callback holds (a timeout's callback holds the timeout, which holds this timer)
            self.callback = _nothing
            if self.clock is not None:
                self.clock._timer_cancelled()


class _VirtualGate:
    __slots__ = ("_clock", "_open", "_waiters")

    def __init__(self, clock: VirtualClock) -> None:
        self._clock = clock
        self._open = False
        self._waiters: list[tuple[asyncio.Task[Any], asyncio.Future[None]]] = []

    def open(self) -> None:
        if self._open:
            return
        self._open = True
        for task, fut in self._waiters:
            self._clock._wake(task, fut)
        self._waiters.clear()

    def is_open(self) -> bool:
        return self._open

    async def wait(self) -> None:
        if self._open:
            return
        task = asyncio.current_task()
        assert task is not None
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((task, fut))
        await self._clock._park(task, fut)


class VirtualClock:
    """Time that jumps to the next timer whenever every participant waits on the clock."""

    virtual = True

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else float(start)
        self._timers: list[tuple[float, int, _Timer]] = []
        self._seq = itertools.count()
        self._busy = 0
        self._members: set[asyncio.Task[Any]] = set()
        # Parked task -> its cancelling() count when it parked: a higher count now means an
        # outside cancel is on its way to it, so time must wait for it to unwind.
        self._parked: dict[asyncio.Task[Any], int] = {}
        self._advance_pending = False
        self._dead = 0  # cancelled timers still in the heap

    def now(self) -> float:
        return self._now

    # --- participants --------------------------------------------------------------------

    def spawn(self, coro: Coroutine[Any, Any, T], name: str | None = None) -> asyncio.Task[T]:
        """Start a participant task; it counts as busy from this moment until it ends."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._busy += 1
        self._members.add(task)
        task.add_done_callback(self._member_done)
        return task

    def _member_done(self, task: asyncio.Task[Any]) -> None:
        self._members.discard(task)
        self._parked.pop(task, None)
        self._release()

    def enter(self) -> bool:
        """Make the current task a participant (busy). Returns False if it already was one."""
        task = asyncio.current_task()
        if task is None or task in self._members:
            return False
        self._members.add(task)
        self._busy += 1
        return True

    def leave(self, entered: bool) -> None:
        if not entered:
            return
        task = asyncio.current_task()
        if task is not None:
            self._members.discard(task)
        self._release()

    def _release(self) -> None:
        self._busy -= 1
        if self._busy <= 0:
            self._busy = 0
            self._kick()

    # --- parking ---------------------------------------------------------------------------

    async def _park(self, task: asyncio.Task[Any], fut: asyncio.Future[None]) -> None:
        self._parked[task] = task.cancelling()
        self._release()
        try:
            await fut
        finally:
            # Woken by anything but _wake (an outside cancel): count ourselves busy again.
            if self._parked.pop(task, None) is not None:
                self._busy += 1

    def _wake(self, task: asyncio.Task[Any], fut: asyncio.Future[None] | None) -> None:
        if self._parked.pop(task, None) is not None:
            self._busy += 1
        if fut is not None and not fut.done():
            fut.set_result(None)

    def cancel(self, task: asyncio.Task[Any]) -> None:
        """Cancel a task, counting it busy first so time cannot jump before it unwinds."""
        if task.done():
            return
        self._wake(task, None)
        task.cancel()

    # --- time ------------------------------------------------------------------------------

    def _timer_cancelled(self) -> None:
        # Every attempt's timeout is a timer that is almost always cancelled; without time
        # passing they would pile up, so drop them once they are most of the heap.
        self._dead += 1
        if self._dead > 256 and self._dead * 2 > len(self._timers):
            self._timers = [t for t in self._timers if not t[2].cancelled]
            heapq.heapify(self._timers)
            self._dead = 0

    def call_later(self, seconds: float, callback: Callable[[], None]) -> TimerHandle:
        timer = _Timer(self._now + max(0.0, seconds), callback, self)
        heapq.heappush(self._timers, (timer.when, next(self._seq), timer))
        if self._busy == 0:
            self._kick()
        return timer

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        task = asyncio.current_task()
        assert task is not None
        entered = self.enter()
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        timer = self.call_later(seconds, lambda: self._wake(task, fut))
        try:
            await self._park(task, fut)
        finally:
            timer.cancel()
            self.leave(entered)

    def timeout(self, seconds: float) -> ClockTimeout:
        return ClockTimeout(self, seconds)

    def gate(self) -> Gate:
        return _VirtualGate(self)

    def _kick(self) -> None:
        if self._advance_pending or not self._timers:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._advance_pending = True
        loop.call_soon(self._advance)

    def _advance(self) -> None:
        self._advance_pending = False
        if self._busy:
            return
        if any(t.cancelling() > n for t, n in self._parked.items()):
            return  # an outside cancel is pending; its task re-kicks us when it parks or ends
        timers = self._timers
        while timers and timers[0][2].cancelled:
            heapq.heappop(timers)
            self._dead -= 1
        if not timers:
            return
        when, _, timer = heapq.heappop(timers)
        timer.clock = None  # fired: a later cancel() must not count it as dead
        if when > self._now:
            self._now = when
        timer.callback()
        if self._busy == 0:
            self._kick()
