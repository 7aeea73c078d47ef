"""`--bus redis://HOST:PORT` (or `unix:///path.sock`): events consumed from a Redis Stream with a
consumer group, besides HTTP.

Every server of a group reads the stream `switchboard:events` as consumer `<host>-<pid>` of the
group `switchboard`: each entry goes to one of them (several servers share the work). An entry
holds `event`, `data` (JSON) and optionally `key` (an idempotency key, as the HTTP header). It is
acknowledged only after its runs are recorded in the store, so a server that dies before that
leaves it pending, and it is delivered again (at least once; the key dedupes). Entries left
pending by this consumer are read first on start. An entry that is not understood is
acknowledged and logged, so it cannot block the stream.

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
from collections.abc import Callable, Sequence
from typing import Any

from engine.runtime.bus import EventBus
from engine.runtime.events import Sink
from engine.runtime.ports import Cascade
from engine.server.service import Service

__all__ = ["RedisBus", "StreamBus", "STREAM", "GROUP", "publish"]

STREAM = "switchboard:events"
GROUP = "switchboard"
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
    ) -> None:
        import redis.asyncio as redis

        self.url = url
        self.service = service
        self.stream, self.group = stream, group
        self.consumer = consumer or f"{socket.gethostname()}-{os.getpid()}"
        self.client: Any = redis.from_url(url)
        self.handled = 0
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
        while True:
            try:
                got = await self.client.xreadgroup(
                    self.group,
                    self.consumer,
                    {self.stream: "0" if pending else ">"},
                    count=100,
                    block=1000,
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
            for entry_id, fields in entries:
                self._handle(entry_id, fields)
                await self.client.xack(self.stream, self.group, entry_id)
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
        ids, replayed = self.service.emit(event, data, f.get("key") or None, depth=depth)
        log.info(
            "redis bus: %s -> %d run(s)%s",
            event,
            len(ids),
            " (a key seen before)" if replayed else "",
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
