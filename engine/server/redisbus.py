"""`--bus redis://HOST:PORT` (or `unix:///path.sock`): events consumed from a Redis Stream with a
consumer group, besides HTTP.

Every server of a group reads the stream `switchboard:events` as consumer `<host>-<pid>` of the
group `switchboard`: each entry goes to one of them (several servers share the work). An entry
holds `event`, `data` (JSON) and optionally `key` (an idempotency key, as the HTTP header). It is
acknowledged only after its runs are recorded in the store, so a server that dies before that
leaves it pending, and it is delivered again (at least once). Entries left pending by this
consumer are read first on start; entries any consumer of the group has left pending for
`claim_idle_s` (a consumer that died: a worker's name dies with its pid) are claimed with
XAUTOCLAIM and processed here like new ones. Processing is idempotent: an entry's runs are
recorded with a key (its own `key`, else `redis:STREAM:ENTRY-ID`) in one store transaction, so
an entry delivered again after its runs were recorded starts nothing and is just acknowledged
(across the processes that share a store, as `serve --workers` do). An entry that is not
understood is acknowledged and logged, so it cannot block the stream; one whose processing
failed (the store was busy, the ack did not reach Redis) stays pending and is claimed again,
until it has been delivered `max_deliveries` times: then it is moved to the stream
`switchboard:events:dead` (its fields, plus `entry`, its id, and `deliveries`) and acknowledged,
so that an entry no server can process does not come back forever. Consumers of the group with
nothing pending that have not read for twice `claim_idle_s` (a worker's name dies with its pid)
are removed from the group, so that it does not grow with every restart. Entries every group of
the stream has been given and acknowledged are trimmed from it, and the dead-letter stream keeps
about the newest `DEAD_KEPT`, so neither grows without bound.

While the bus is on, `emit` steps publish to the stream too (`StreamBus`), instead of starting
the triggered runs in this process: whichever server of the group reads the entry starts them.
The step's output then lists no runs (`{"event": E, "runs": []}`: they are started elsewhere,
later). An entry carries `depth`, how deep in a cascade of emits it was emitted, and the runs it
starts continue from there, so a workflow that triggers itself stops at the same depth as in one
process (the in-process cap on the number of runs a cascade starts holds per server only).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import time
from collections.abc import Callable, Sequence
from typing import Any

from engine.runtime.bus import EventBus
from engine.runtime.events import Sink
from engine.runtime.ports import Cascade
from engine.server.service import Service

__all__ = [
    "RedisBus",
    "StreamBus",
    "STREAM",
    "DEAD",
    "GROUP",
    "CLAIM_IDLE_S",
    "MAX_DELIVERIES",
    "publish",
]

STREAM = "switchboard:events"
DEAD = ":dead"  # the dead-letter stream is the stream's name with this after it
GROUP = "switchboard"
CLAIM_IDLE_S = 60.0  # an entry pending this long was read by a consumer that died
MAX_DELIVERIES = 5  # an entry delivered this often without being processed is dead-lettered
DEAD_KEPT = 10_000  # about this many dead letters are kept, the newest
BATCH = 100
log = logging.getLogger("switchboard.serve")


class RedisBus:
    """Consumes the stream into `service.emit` until `aclose`."""

    def __init__(
        self,
        url: str,
        service: Service,
        *,
        stream: str = STREAM,
        group: str = GROUP,
        consumer: str | None = None,
        claim_idle_s: float = CLAIM_IDLE_S,
        max_deliveries: int = MAX_DELIVERIES,
    ) -> None:
        import redis.asyncio as redis

        self.url = url
        self.service = service
        self.stream, self.group = stream, group
        self.consumer = consumer or f"{socket.gethostname()}-{os.getpid()}"
        self.client: Any = redis.from_url(url)
        self.claim_idle_s = claim_idle_s
        self.max_deliveries = max(1, max_deliveries)
        self.dead_stream = stream + DEAD
        # how often pending entries are looked for: an entry waits at most 1.5x the idle time
        self.claim_every_s = min(max(claim_idle_s / 2, 0.05), 30.0)
        self.handled = 0
        self.claimed = 0  # entries claimed from other (dead) consumers
        self.dead = 0  # entries moved to the dead-letter stream
        self.published = 0
        self._task: asyncio.Task[None] | None = None
        self._publishing: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Make the group (and the stream) if missing; start consuming."""
        import redis.exceptions

        try:
            await self.client.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except redis.exceptions.ResponseError as e:
            if "BUSYGROUP" not in str(e):
                raise
        self._task = asyncio.get_running_loop().create_task(self._consume(), name="redis bus")
        self.service.use_bus(StreamBus(self.publish_soon))

    def publish_soon(self, event: str, data: Any, depth: int) -> None:
        """Put an emit step's event on the stream (in a task: the step does not wait for Redis;
        a failure is logged)."""
        task = asyncio.get_running_loop().create_task(self._publish(event, data, depth))
        self._publishing.add(task)
        task.add_done_callback(self._publishing.discard)

    async def _publish(self, event: str, data: Any, depth: int) -> None:
        try:
            await publish(self.client, event, data, depth=depth, stream=self.stream)
            self.published += 1
        except Exception as e:
            log.error(
                "redis bus %s: event '%s' of an emit step not published: %s: %s",
                self.url,
                event,
                type(e).__name__,
                e,
            )

    async def _consume(self) -> None:
        pending = True  # first this consumer's own unacknowledged entries, then new ones
        block_ms = max(1, min(1000, int(self.claim_every_s * 1000)))
        next_claim = time.monotonic() + self.claim_every_s
        while True:
            try:
                if time.monotonic() >= next_claim:
                    await self._claim()
                    next_claim = time.monotonic() + self.claim_every_s
                got = await self.client.xreadgroup(
                    self.group,
                    self.consumer,
                    {self.stream: "0" if pending else ">"},
                    count=BATCH,
                    block=block_ms,
                )
            except asyncio.CancelledError:
                raise
            except Exception as e:  # the connection went: say so and try again
                log.error("redis bus %s: %s: %s; retrying in 1 s", self.url, type(e).__name__, e)
                await asyncio.sleep(1)
                continue
            entries = got[0][1] if got else []
            if pending and not entries:
                pending = False
                continue
            await self._process(entries)

    async def _claim(self) -> None:
        """Take over the entries of the group pending longer than `claim_idle_s` (their
        consumer died, or failed to process them) and process them; first move those delivered
        `max_deliveries` times to the dead-letter stream; then forget consumers long gone."""
        await self._dead_letter()
        await self._take_over()
        await self._forget_gone_consumers()
        await self._trim()

    async def _trim(self) -> None:
        """Drop the entries every group of the stream has been given and acknowledged (below
        each group's oldest pending entry and its last delivered one): the stream would
        otherwise keep every event ever published."""
        floor: tuple[int, int] | None = None
        for g in await self.client.xinfo_groups(self.stream):
            low = _entry_id(g["last-delivered-id"])
            if g["pending"]:
                oldest = (await self.client.xpending(self.stream, g["name"]))["min"]
                if oldest is not None:
                    low = min(low, _entry_id(oldest))
            floor = low if floor is None else min(floor, low)
        if floor is not None and floor > (0, 0):
            await self.client.xtrim(self.stream, minid=f"{floor[0]}-{floor[1]}", approximate=False)

    async def _dead_letter(self) -> None:
        idle_ms = int(self.claim_idle_s * 1000)
        pending = await self.client.xpending_range(
            self.stream, self.group, min="-", max="+", count=BATCH, idle=idle_ms
        )
        worn = [p["message_id"] for p in pending if p["times_delivered"] >= self.max_deliveries]
        if not worn:
            return
        # claimed first, so that of several servers looking at once only one moves each entry
        taken = await self.client.xclaim(self.stream, self.group, self.consumer, idle_ms, worn)
        for entry_id, fields in taken:
            if entry_id is None or fields is None:
                continue  # deleted from the stream meanwhile
            times = next((p["times_delivered"] for p in pending if p["message_id"] == entry_id), 0)
            record = {**fields, "entry": entry_id, "deliveries": str(times)}
            async with self.client.pipeline(transaction=True) as pipe:
                # the dead letters kept are the newest DEAD_KEPT
                pipe.xadd(self.dead_stream, record, maxlen=DEAD_KEPT, approximate=True)
                pipe.xack(self.stream, self.group, entry_id)
                await pipe.execute()
            self.dead += 1
            log.error(
                "redis bus: entry %s was delivered %d times and never processed; moved to %s "
                "(look at it there, fix what fails, and XADD it to %s again)",
                _text(entry_id),
                times,
                self.dead_stream,
                self.stream,
            )

    async def _forget_gone_consumers(self) -> None:
        gone_ms = 2 * self.claim_idle_s * 1000
        for c in await self.client.xinfo_consumers(self.stream, self.group):
            name = _text(c["name"])
            if name != self.consumer and not c["pending"] and c["idle"] > gone_ms:
                await self.client.xgroup_delconsumer(self.stream, self.group, name)
                log.info("redis bus: consumer %s of the group is gone; removed", name)

    async def _take_over(self) -> None:
        cursor: Any = "0-0"
        while True:
            got = await self.client.xautoclaim(
                self.stream,
                self.group,
                self.consumer,
                int(self.claim_idle_s * 1000),
                start_id=cursor,
                count=BATCH,
            )
            cursor, entries = got[0], [e for e in got[1] if e[0] is not None]
            if entries:
                self.claimed += len(entries)
                log.info(
                    "redis bus: claimed %d entr%s left pending over %g s by another consumer",
                    len(entries),
                    "y" if len(entries) == 1 else "ies",
                    self.claim_idle_s,
                )
                await self._process(entries)
            if _text(cursor) == "0-0":
                return

    async def _process(self, entries: list[tuple[Any, dict[Any, Any]]]) -> None:
        for entry_id, fields in entries:
            try:
                self._handle(entry_id, fields)
                await self.client.xack(self.stream, self.group, entry_id)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # left pending: claimed again once idle (idempotently)
                log.error(
                    "redis bus: entry %s not processed (%s: %s); it stays pending and is "
                    "claimed again after %g s",
                    _text(entry_id),
                    type(e).__name__,
                    e,
                    self.claim_idle_s,
                )
                continue
            self.handled += 1

    def _handle(self, entry_id: Any, fields: dict[Any, Any]) -> None:
        f = {_text(k): _text(v) for k, v in fields.items()}
        event = f.get("event")
        if not event:
            log.error("redis bus: entry %s has no 'event' field; skipped", _text(entry_id))
            return
        try:
            data = json.loads(f["data"]) if f.get("data") else None
        except json.JSONDecodeError as e:
            log.error(
                "redis bus: entry %s: 'data' is not JSON (%s); skipped", _text(entry_id), e.msg
            )
            return
        depth = int(f["depth"]) if f.get("depth", "").isdigit() else 0
        # without a key of its own, the entry's id is its key: delivered again (its consumer
        # died before the ack), it finds its runs recorded and starts nothing
        key = f.get("key") or f"redis:{self.stream}:{_text(entry_id)}"
        ids, replayed = self.service.emit(event, data, key, depth=depth)
        log.info(
            "redis bus: %s -> %d run(s)%s",
            event,
            len(ids),
            " (already recorded: a key seen before)" if replayed else "",
        )

    async def aclose(self) -> None:
        if self._publishing:  # what emit steps published is on the stream before we go
            await asyncio.wait(list(self._publishing), timeout=5)
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.client.aclose()


class StreamBus(EventBus):
    """The shared engine's bus while `--bus` is on: it knows the served triggers (for the
    cascade's checks), and an emit step's `start` publishes the event instead of starting runs
    here."""

    def __init__(self, publish: Callable[[str, Any, int], None]) -> None:
        super().__init__()
        self._publish = publish

    def start(
        self,
        event: str,
        data: Any = None,
        *,
        cascade: Cascade | None = None,
        sinks: Sequence[Sink] = (),
    ) -> list[str]:
        self._publish(event, data, (cascade or Cascade()).depth)
        return []


async def publish(
    client: Any,
    event: str,
    data: Any,
    *,
    key: str | None = None,
    stream: str = STREAM,
    depth: int = 0,
) -> str:
    """Put one event on the stream (what a producer does); its entry id. `depth`: how deep in a
    cascade of emits it was emitted (an emit step's; 0 from a producer)."""
    fields = {"event": event, "data": json.dumps(data)}
    if key:
        fields["key"] = key
    if depth:
        fields["depth"] = str(depth)
    return _text(await client.xadd(stream, fields))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _entry_id(value: Any) -> tuple[int, int]:
    """A stream entry id (`1700000000000-3`) as a pair that orders as Redis orders them."""
    ms, _, seq = _text(value).partition("-")
    return int(ms), int(seq or 0)
