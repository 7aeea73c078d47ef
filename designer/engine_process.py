"""EngineProcess: the designer's side of an engine worker process (engine.worker).

The worker is started with `python -m engine.worker` on one end of a socket pair. A reader
thread here blocks on the socket (holding no GIL while it waits) and hands each message's raw
bytes to `on_message`; decoding them is left to the GUI thread, within its time budget.
`on_message(None)` says the worker is gone (it ended or crashed); the next `send` starts a new
one.

A window that closes with an idle worker leaves it as the spare, and the next window takes it
(`take_spare`): opening another window, or the next test, then finds a worker ready.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

__all__ = ["EngineProcess"]

_ROOT = Path(__file__).resolve().parents[1]  # holds the engine package


def _drop(_data: bytes | None) -> None:
    return None


class EngineProcess:
    """One worker process at a time; thread-safe `send`."""

    _spare: EngineProcess | None = None  # an idle worker left by a closed window

    def __init__(self, on_message: Callable[[bytes | None], None]) -> None:
        """`on_message` receives every message; it is also the owner's token for `release`."""
        self.on_message = on_message  # called on the reader thread
        self.owner: object = on_message  # whoever may release it (see `release`)
        self._proc: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None
        self._reader: threading.Thread | None = None
        self._lock = threading.Lock()
        self._job_running = False

    @classmethod
    def take_spare(cls, on_message: Callable[[bytes | None], None]) -> EngineProcess | None:
        """The idle worker a closed window left, now reporting to `on_message`; or None."""
        spare, cls._spare = cls._spare, None
        if spare is None or not spare.running:
            return None
        spare.on_message = on_message
        spare.owner = on_message
        return spare

    def release(self, owner: object) -> None:
        """`owner` is going away: keep the worker as the spare if it is idle and there is
        none yet, else stop it (waiting for a running job to wind down a moment). Nothing
        happens when `owner` no longer owns it (it went to the spare and on to another)."""
        if owner is not self.owner or EngineProcess._spare is self:
            return
        if self.running and not self._job_running and EngineProcess._spare is None:
            self.on_message = self.owner = _drop
            EngineProcess._spare = self
            return
        self.stop(3.0 if self._job_running else 0.3)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def start(self) -> None:
        with self._lock:
            if self.running:
                return
            self._close_locked()
            mine, theirs = socket.socketpair()
            env = dict(os.environ)
            # the worker imports the same engine as this process, installed or not
            env["PYTHONPATH"] = os.pathsep.join(
                [str(_ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
            try:
                self._proc = subprocess.Popen(
                    [sys.executable, "-m", "engine.worker", "--fd", str(theirs.fileno())],
                    pass_fds=(theirs.fileno(),), env=env, stdin=subprocess.DEVNULL,
                    cwd=str(_ROOT))
            finally:
                theirs.close()
            conn = Connection(mine.detach())
            self._conn = conn
            self._reader = threading.Thread(target=self._read, args=(conn,),
                                            name="switchboard-engine-reader", daemon=True)
            self._reader.start()

    def send(self, message: Any) -> None:
        """Send a message (a JobRequest, "cancel"), starting the worker if it is not running."""
        self.start()
        with self._lock:
            assert self._conn is not None
            self._conn.send(message)
            if not isinstance(message, str):
                self._job_running = True

    def stop(self, timeout: float = 3.0) -> None:
        """Ask the worker to quit (cancelling what runs and finishing a recording), then make
        sure it has: terminated after `timeout` seconds, killed a second later."""
        with self._lock:
            proc, conn = self._proc, self._conn
            if proc is None:
                return
            if conn is not None and proc.poll() is None:
                with contextlib.suppress(OSError, ValueError):
                    conn.send("quit")
            for end in (None, proc.terminate, proc.kill):
                if end is not None:
                    end()
                try:
                    proc.wait(timeout if end is None else 1.0)
                    break
                except subprocess.TimeoutExpired:
                    continue
            self._close_locked()

    def _close_locked(self) -> None:
        # the worker has ended: its reader sees the end of the stream, then the socket closes
        reader, conn = self._reader, self._conn
        if reader is not None and reader is not threading.current_thread():
            reader.join(1.0)
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.close()
        self._conn = self._reader = None
        self._proc = None

    def _read(self, conn: Connection) -> None:
        try:
            while True:
                data = conn.recv_bytes()
                if data[:1] == b"O":
                    self._job_running = False
                self.on_message(data)
        except (EOFError, OSError):
            pass
        self._job_running = False
        self.on_message(None)


@atexit.register
def _stop_spare() -> None:
    spare, EngineProcess._spare = EngineProcess._spare, None
    if spare is not None:
        spare.stop(0.3)
