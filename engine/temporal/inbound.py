"""Run events coming back from Temporal's workers: the batches `outbound.EventStream` sends,
turned into the engine's event objects again and handed to a host's sinks (a server's store
and WebSocket), with no Temporal query (queries hang while no worker is up).

`EventsListener` is a small HTTP endpoint of its own (not a route of the served API, so it
needs none of the API's tokens): POST `/<key>` with `{key, events}`. The path's random key keeps
other local processes from posting runs' events; a batch delivered twice (the activity retried
after its POST got through) is handed on once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import socket
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from engine.runtime.events import (
    CallRecord,
    Event,
    Notification,
    RunFinished,
    RunResult,
    RunStarted,
    Sink,
    StepFinished,
    StepResult,
    StepRetrying,
    StepStarted,
)

__all__ = ["event_from_json", "result_from_json", "EventsListener", "listener_key"]

_KEEP_BATCHES = 50_000  # batch keys remembered as handed on
_MAX_BATCH = 64 * 1024 * 1024  # a batch holds at most a few step results of at most 2 MB each


def result_from_json(data: dict[str, Any]) -> RunResult:
    """A run result from its JSON (`RunResult.to_json()`)."""
    steps = {
        sid: StepResult(
            s["status"], int(s["attempts"]), s.get("output"), s.get("error"), s["duration_ms"]
        )
        for sid, s in (data.get("steps") or {}).items()
    }
    return RunResult(
        str(data["run"]),
        str(data["workflow"]),
        str(data["status"]),
        str(data["started"]),
        int(data["duration_ms"]),
        steps,
        data.get("output"),
        data.get("error"),
    )


def event_from_json(data: dict[str, Any]) -> Event:
    """An event from its JSON (`jobs.sinks.event_to_json`). Raises KeyError/ValueError for
    anything else."""
    kind = data["event"]
    if kind == "RunStarted":
        return RunStarted(data["run_id"], data["workflow"], data["time"], data.get("input"))
    if kind == "StepStarted":
        return StepStarted(
            data["run_id"], data["step"], data["attempt"], data["time"], data.get("index")
        )
    if kind == "StepRetrying":
        return StepRetrying(
            data["run_id"],
            data["step"],
            data["attempt"],
            data["max_attempts"],
            data["delay"],
            data["reason"],
            data["time"],
            data.get("index"),
        )
    if kind == "StepFinished":
        return StepFinished(
            data["run_id"],
            data["step"],
            data["status"],
            data.get("output"),
            data.get("error"),
            data["duration_ms"],
            data["attempts"],
            tuple(CallRecord(**c) for c in data.get("calls") or ()),
            data["time"],
        )
    if kind == "Notification":
        return Notification(
            data["run_id"], data.get("step"), data["level"], data["message"], data["time"]
        )
    if kind == "RunFinished":
        return RunFinished(data["run_id"], result_from_json(data["result"]), data["time"])
    raise ValueError(f"unknown event {kind!r}")


def listener_key(path: Path) -> str:
    """The listener's key kept in `path` (made on first use, readable by its owner only), so a
    server started again on the same folder takes the batches runs in flight still send."""
    try:
        key = path.read_text(encoding="ascii").strip()
        if key:
            return key
    except (OSError, UnicodeDecodeError):
        pass
    key = secrets.token_urlsafe(24)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key + "\n")
    return key


class EventsListener:
    """Receives event batches over HTTP and hands each event to `sinks_for(run_id)`."""

    def __init__(
        self,
        sinks_for: Callable[[str], Sequence[Sink]],
        host: str = "127.0.0.1",
        port: int = 0,
        key: str | None = None,
    ) -> None:
        self.sinks_for = sinks_for
        self.host, self.port = host, port
        self.key = key or secrets.token_urlsafe(24)
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/{self.key}"

    async def start(self) -> None:
        sock = socket.socket(
            socket.AF_INET6 if ":" in self.host else socket.AF_INET,
            socket.SOCK_STREAM,
            socket.IPPROTO_TCP,
        )
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        self._server = await asyncio.start_server(self._serve, sock=sock, limit=_MAX_BATCH)

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None

    def take(self, batch: dict[str, Any]) -> None:
        """Hand one batch's events on, once per batch key."""
        key = str(batch.get("key", ""))
        if key and key in self._seen:
            return
        for data in batch.get("events") or ():
            event = event_from_json(data)
            for sink in self.sinks_for(event.run_id):
                sink(event)
        if key:
            self._seen[key] = None
            while len(self._seen) > _KEEP_BATCHES:
                self._seen.popitem(last=False)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """HTTP/1.1 with keep-alive, just enough for httpx's POSTs."""
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = (lines[0].split(" ") + ["", ""])[:3]
                headers = {
                    k.strip().lower(): v.strip()
                    for k, _, v in (line.partition(":") for line in lines[1:] if line)
                }
                length = int(headers.get("content-length") or 0)
                if length > _MAX_BATCH:
                    await _answer(writer, 413, "batch too large")
                    return
                body = await reader.readexactly(length) if length else b""
                if method != "POST" or path != f"/{self.key}":
                    await _answer(writer, 404, "not found")
                    continue
                try:
                    self.take(json.loads(body))
                except (ValueError, KeyError, TypeError) as e:
                    await _answer(writer, 400, f"not an event batch: {type(e).__name__}: {e}")
                    continue
                await _answer(writer, 200, "ok")
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:
            return  # the server stops: an idle keep-alive connection just ends
        finally:
            writer.close()


async def _answer(writer: asyncio.StreamWriter, status: int, text: str) -> None:
    data = json.dumps({"status": text}).encode()
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 413: "Too Large"}[status]
    writer.write(
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(data)}\r\n\r\n".encode()
        + data
    )
    await writer.drain()
