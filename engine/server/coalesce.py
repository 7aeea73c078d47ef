"""One write per answer: uvicorn writes a response's head and its body separately, two sends and
two TCP segments, so a client wakes twice per answer. A response's head is held back and sent
with the next write, its body, at once; a head with nothing after it in the same turn of the
event loop (an answer without a body, a stream's start) goes out at the end of that turn.
"""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["coalescing", "CoalescingTransport"]


class CoalescingTransport:
    """A transport that sends an HTTP response's head with what is written after it; every
    other call goes to the transport it wraps, after what is held (a close sends it first; an
    abort drops it). Nothing is reordered: what is held goes out before any later write."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if self._pending:  # a head is held: this is what follows it (its body)
            self._pending.append(bytes(data))
            self._send()
        elif data[:5] == b"HTTP/" and data[-4:] == b"\r\n\r\n":  # a head: its body comes next
            self._pending.append(bytes(data))
            self._loop.call_soon(self._send)  # (or nothing does in this turn)
        else:
            self._transport.write(data)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def _send(self) -> None:
        pending, self._pending = self._pending, []
        if pending and not self._transport.is_closing():
            self._transport.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(map(len, self._pending))

    def write_eof(self) -> None:
        self._send()
        self._transport.write_eof()

    def close(self) -> None:
        self._send()
        self._transport.close()

    def abort(self) -> None:
        self._pending = []
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:  # is_closing, get_extra_info, pause_reading, …
        return getattr(self._transport, name)


def coalescing(protocol: type[asyncio.Protocol]) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol class `protocol`, writing through a `CoalescingTransport`."""

    class Coalescing(protocol):  # type: ignore[valid-type,misc]
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            loop = asyncio.get_running_loop()
            super().connection_made(CoalescingTransport(transport, loop))  # type: ignore[arg-type]

    Coalescing.__name__ = Coalescing.__qualname__ = f"Coalescing{protocol.__name__}"
    return Coalescing
