"""VirtualClock on its own: sleeps, timeouts and gates take no real time yet keep their order."""

from __future__ import annotations

import asyncio
import time

import pytest

from engine import RealClock, VirtualClock
from tests.engine.test_run_support import arun


def test_concurrent_sleepers_wake_in_time_order_at_their_virtual_times() -> None:
    async def main() -> None:
        clock = VirtualClock(start=100.0)
        woke: list[tuple[str, float]] = []

        async def sleeper(name: str, seconds: float) -> None:
            await clock.sleep(seconds)
            woke.append((name, clock.now()))
            await clock.sleep(seconds)
            woke.append((name + "2", clock.now()))

        t0 = time.perf_counter()
        tasks = [clock.spawn(sleeper(n, s)) for n, s in (("c", 30.0), ("a", 10.0), ("b", 20.0))]
        await asyncio.gather(*tasks)
        assert time.perf_counter() - t0 < 1.0
        assert woke == [
            ("a", 110.0),
            ("b", 120.0),
            ("a2", 120.0),
            ("c", 130.0),
            ("b2", 140.0),
            ("c2", 160.0),
        ]

    arun(main())


def test_time_does_not_jump_while_a_participant_is_busy() -> None:
    async def main() -> None:
        clock = VirtualClock(start=0.0)
        seen: list[float] = []

        async def sleeper() -> None:
            await clock.sleep(5)
            seen.append(clock.now())

        async def busy() -> None:
            # Busy on something that is not the clock (a live request, say).
            await asyncio.sleep(0.05)
            seen.append(clock.now())

        await asyncio.gather(clock.spawn(sleeper()), clock.spawn(busy()))
        assert seen == [0.0, 5.0]

    arun(main())


def test_timeout_fires_at_the_virtual_deadline() -> None:
    async def main() -> None:
        clock = VirtualClock(start=0.0)

        async def slow() -> None:
            async with clock.timeout(3):
                await clock.sleep(10)

        async def quick() -> str:
            async with clock.timeout(3):
                await clock.sleep(1)
            return "done"

        with pytest.raises(TimeoutError):
            await clock.spawn(slow())
        assert clock.now() == 3.0
        assert await clock.spawn(quick()) == "done"
        assert clock.now() == 4.0

    arun(main())


def test_gate_wakes_its_waiter_and_call_later_runs_in_order() -> None:
    async def main() -> None:
        clock = VirtualClock(start=0.0)
        gate = clock.gate()
        order: list[str] = []
        clock.call_later(2, lambda: order.append("two"))
        clock.call_later(1, lambda: (order.append("one"), gate.open()))

        async def waiter() -> None:
            await gate.wait()
            order.append(f"gate@{clock.now():g}")

        await clock.spawn(waiter())
        assert order == ["one", "gate@1"]
        await clock.sleep(5)
        assert order == ["one", "gate@1", "two"]
        assert gate.is_open()

    arun(main())


def test_cancelled_timers_do_not_pile_up() -> None:
    async def main() -> None:
        clock = VirtualClock(start=0.0)
        for _ in range(5000):
            clock.call_later(30, lambda: None).cancel()
        assert len(clock._timers) < 600

    arun(main())


def test_real_clock_is_wall_time() -> None:
    async def main() -> None:
        clock = RealClock()
        t0 = clock.now()
        async with clock.timeout(1):
            await clock.sleep(0.01)
        assert 0.005 < clock.now() - t0 < 1
        assert not clock.virtual

    arun(main())


def test_real_clock_timeout_fires_after_its_time_and_not_before() -> None:
    async def main() -> None:
        clock = RealClock()
        t0 = asyncio.get_running_loop().time()
        with pytest.raises(TimeoutError):
            async with clock.timeout(0.05):
                await asyncio.sleep(5)
        assert asyncio.get_running_loop().time() - t0 >= 0.05
        async with clock.timeout(5):  # a block that ends in time is left alone
            await asyncio.sleep(0)
        task = asyncio.current_task()
        assert task is not None and task.cancelling() == 0

    arun(main())


def test_real_clock_timeout_lets_a_cancel_from_outside_through() -> None:
    async def main() -> None:
        clock = RealClock()

        async def attempt() -> None:
            async with clock.timeout(0.05):
                await asyncio.sleep(5)

        task = asyncio.get_running_loop().create_task(attempt())
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.sleep(0.06)  # its slot's timer fires for nobody

    arun(main())


def test_real_clock_timeouts_ending_in_one_slot_share_a_loop_timer() -> None:
    """Every call attempt has a timeout; 200 attempts at once set a handful of loop timers."""

    async def main() -> None:
        clock = RealClock()
        loop = asyncio.get_running_loop()
        before = len(loop._scheduled)  # type: ignore[attr-defined]
        gate = asyncio.Event()

        async def attempt() -> None:
            async with clock.timeout(30):
                await gate.wait()

        tasks = [loop.create_task(attempt()) for _ in range(200)]
        await asyncio.sleep(0)
        assert len(loop._scheduled) - before <= 3  # type: ignore[attr-defined]
        gate.set()
        await asyncio.gather(*tasks)
        for handle in loop._scheduled:  # type: ignore[attr-defined]
            handle.cancel()  # the slots' timers (30 s out): not left for the next test

    arun(main())
