"""Who follows the server's stored events: what one follower wants (`Filter`), its queue of
live events (`Subscriber`), which on overflow sends it back to the store to catch up, and the
following itself (`follow`: SSE and the WebSocket read through it)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from engine.server.store import Store, StoredEvent

__all__ = ["Filter", "Subscriber", "QUEUE_SIZE", "follow"]

QUEUE_SIZE = 10_000


@dataclass(frozen=True)
class Filter:
    """Which stored events a subscriber wants: by run, workflow and notification level; with
    `notifications_only`, only notifications."""

    run_id: str | None = None
    workflow: str | None = None
    levels: frozenset[str] = frozenset()
    notifications_only: bool = False

    def __call__(self, e: StoredEvent) -> bool:
        if self.run_id and e.run_id != self.run_id:
            return False
        if self.workflow and e.workflow != self.workflow:
            return False
        if self.notifications_only and e.kind != "Notification":
            return False
        return not (self.levels and e.kind == "Notification" and e.level not in self.levels)


class Subscriber:
    """One follower's queue of live events; when it overflows, the follower re-reads the store."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[StoredEvent] = asyncio.Queue(QUEUE_SIZE)
        self.overflowed = False

    def offer(self, e: StoredEvent) -> bool:
        """Queue one live event; False when the queue was full (the follower will catch up)."""
        try:
            self.queue.put_nowait(e)
            return True
        except asyncio.QueueFull:
            self.overflowed = True
            return False


async def follow(
    store: Store,
    subscribers: set[Subscriber],
    running: Callable[[str], bool],
    flt: Filter,
    after: int = 0,
    *,
    until_run_end: bool = False,
) -> AsyncIterator[StoredEvent]:
    """Stored events after `after` that pass `flt`, then live ones as they come (offered to
    the `subscribers`). Nothing is lost: the subscription starts before the replay is read,
    and a subscriber too slow for its queue catches up from the store. With `until_run_end`,
    stop after the filter's run has finished (or at once when it is not `running`)."""
    sub = Subscriber()
    subscribers.add(sub)
    last = after

    def ends(e: StoredEvent) -> bool:
        return until_run_end and e.kind == "RunFinished" and e.run_id == flt.run_id

    try:
        while True:
            while True:  # catch up from the store
                batch = store.events(after=last, run_id=flt.run_id, limit=1000)
                for e in batch:
                    last = e.seq
                    if flt(e):
                        yield e
                    if ends(e):
                        return
                if len(batch) < 1000:
                    break
            if until_run_end and flt.run_id and not running(flt.run_id):
                return
            sub.overflowed = False
            while not sub.overflowed:
                e = await sub.queue.get()
                if e.seq <= last or not flt(e):
                    continue
                last = e.seq
                yield e
                if ends(e):
                    return
            while not sub.queue.empty():  # what is left is in the store: read it there
                sub.queue.get_nowait()
    finally:
        subscribers.discard(sub)
