"""Streaming benchmark: peak memory (RSS) of a live run against a local server that streams
2 GB, with each live Caller. Target: under 200 MB.

    python3 tests/bench/stream_bench.py [--quick]

The server (a thread of this process's child) streams zeros, chunked, with no Content-Length,
plain and as gzip (2 GB once inflated, a few MB on the wire), until 2 GB are sent or the client
hangs up. Each measurement runs in a fresh interpreter, so its peak RSS (ru_maxrss) is its own.
Also printed: how much the server got to send before the engine stopped reading (the size
limit, 10 MiB by default, must stop a 2 GB stream early, not drain it).
"""

from __future__ import annotations

import json
import resource
import socket
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

TOTAL = 2 * 1024**3
CHUNK = 1024 * 1024
TARGET_MB = 200
QUICK = "--quick" in sys.argv


class Streamer:
    """Streams TOTAL bytes of zeros (or their gzip) per connection; counts what it sent."""

    def __init__(self, gzip: bool) -> None:
        self.gzip = gzip
        self.sent = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                head = b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                if self.gzip:
                    head += b"Content-Encoding: gzip\r\n"
                conn.sendall(head + b"Transfer-Encoding: chunked\r\n\r\n")
                zeros = bytes(CHUNK)
                packer = zlib.compressobj(6, zlib.DEFLATED, zlib.MAX_WBITS | 16)
                left = TOTAL
                while left > 0:
                    data = packer.compress(zeros) if self.gzip else zeros
                    left -= CHUNK
                    if data:
                        conn.sendall(b"%x\r\n%s\r\n" % (len(data), data))
                        self.sent += len(data)
                if self.gzip:
                    tail = packer.flush()
                    conn.sendall(b"%x\r\n%s\r\n" % (len(tail), tail))
                conn.sendall(b"0\r\n\r\n")
            except OSError:
                return  # the client hung up: what we want


FLOW = """
version: 1
name: stream
steps:
  - {id: get, service: Big, action: file, method: GET, onError: continue}
"""


def child(caller: str, gzip: bool) -> None:
    """One run in this interpreter; prints a JSON line with its figures."""
    import asyncio

    from engine import Engine, parse_workflow
    from engine.runtime import callers

    callers.LIVE_CALLER = caller
    server = Streamer(gzip)
    wf = parse_workflow(FLOW).model
    assert wf is not None
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    async def run() -> Any:
        async with Engine(services={"Big": server.url}) as engine:
            return await engine.run(wf)

    t0 = time.perf_counter()
    result = asyncio.run(run())
    seconds = time.perf_counter() - t0
    error = result.steps["get"].error or {}
    print(
        json.dumps(
            {
                "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "base_mb": base_rss / 1024,
                "sent_mb": server.sent / 1024**2,
                "seconds": seconds,
                "error": error.get("message", ""),
            }
        )
    )


def measure(caller: str, gzip: bool) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", caller, "gzip" if gzip else "plain"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    print("live run against a local server streaming 2 GB (peak RSS of the whole process)")
    worst = 0.0
    callers = ["aiohttp"] if QUICK else ["aiohttp", "httpx"]
    for caller in callers:
        for gzip in (False, True):
            m = measure(caller, gzip)
            worst = max(worst, m["peak_mb"])
            kind = "gzip 2 GB inflated" if gzip else "plain 2 GB"
            print(
                f"  {caller:7} {kind:19} peak RSS {m['peak_mb']:6.1f} MB "
                f"(after imports {m['base_mb']:.1f} MB); server sent {m['sent_mb']:.2f} MB "
                f"before the engine hung up, {m['seconds'] * 1000:.0f} ms"
            )
            assert "over the 10 MiB limit" in m["error"], m["error"]
    print(f"peak RSS: {worst:.1f} MB  (target < {TARGET_MB} MB)")
    if worst >= TARGET_MB:
        sys.exit(1)


if __name__ == "__main__":
    if "--child" in sys.argv:
        i = sys.argv.index("--child")
        child(sys.argv[i + 1], sys.argv[i + 2] == "gzip")
    else:
        main()
