"""EngineProcess: the designer's side of an engine worker process (engine.worker).

The designer listens on a loopback port with a fresh random key and starts
`python -m engine.worker --connect 127.0.0.1:PORT` (the key goes in its environment); the
worker connects back and both sides prove they hold the key (loopback sockets and threads, none
of it POSIX-only; tested on Linux). The reader thread accepts the worker, then blocks on the
connection (holding no GIL while it waits) and hands each message's raw bytes to `on_message`;
decoding is left to the GUI thread, within its time budget. Messages sent before the worker has
connected wait and go out in order once it has. `on_message(None)` says the worker is gone (it
ended or crashed, or never connected); the next `send` starts a new one.

A window that closes with an idle worker leaves it as the spare, and the next window takes it
(`take_spare`): opening another window, or the next test, then finds a worker ready.
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing.connection as mpc
import os
import pickle
import secrets
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import IO, Any

from engine import WORKER_KEY_VARIABLE

__all__ = ["EngineProcess", "accept_worker", "AUTH_SECONDS"]

AUTH_SECONDS = 5.0  # how long a connection may take to prove it holds the key

_ROOT = Path(__file__).resolve().parents[2]  # holds the engine package


def _drop(_data: bytes | None) -> None:
    return None


_exiting = False  # this process is exiting: its workers' last words are not relayed


def _at_exit() -> None:
    global _exiting
    _exiting = True


atexit.register(_at_exit)


class EngineProcess:
    """One worker process at a time; thread-safe `send`."""

    _spare: EngineProcess | None = None  # an idle worker left by a closed window

    def __init__(self, on_message: Callable[[bytes | None], None]) -> None:
        """`on_message` receives every message (on the reader thread); the owner passes it
        again to `release`, which tells the owner of the moment from a former one."""
        self.on_message = on_message
        self._proc: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None
        self._pending: list[bytes] = []  # pickled messages sent before the worker connected
        self._reader: threading.Thread | None = None
        self._lock = threading.Lock()
        self._job_running = False
        self._closing = False  # set by stop(): the worker's stderr is dropped from then on

    @classmethod
    def take_spare(cls, on_message: Callable[[bytes | None], None]) -> EngineProcess | None:
        """The idle worker a closed window left, now reporting to `on_message`; or None."""
        spare, cls._spare = cls._spare, None
        if spare is None or not spare.running:
            return None
        spare.on_message = on_message
        return spare

    def release(self, on_message: Callable[[bytes | None], None]) -> None:
        """The owner that receives with `on_message` is going away: keep the worker as the
        spare if it is idle and there is none yet, else stop it (waiting for a running job to
        wind down a moment). Nothing happens when the worker has since gone to another."""
        if on_message is not self.on_message or EngineProcess._spare is self:
            return
        if self.running and not self._job_running and EngineProcess._spare is None:
            self.on_message = _drop
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
            old = self._detach_locked()  # a worker that ended: its reader is done or ending
            key = secrets.token_bytes(32)
            listener = socket.create_server(("127.0.0.1", 0))
            host, port = listener.getsockname()[:2]
            env = dict(os.environ)
            env[WORKER_KEY_VARIABLE] = key.hex()
            # the worker imports the same engine as this process, installed or not
            env["PYTHONPATH"] = os.pathsep.join(
                [str(_ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
            )
            try:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "engine.worker", "--connect", f"{host}:{port}"],
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    cwd=str(_ROOT),
                )
            except OSError:
                listener.close()
                raise
            self._proc = proc
            self._closing = False
            assert proc.stderr is not None
            threading.Thread(
                target=self._relay_stderr,
                args=(proc, proc.stderr),
                name="switchboard-engine-stderr",
                daemon=True,
            ).start()
            self._reader = threading.Thread(
                target=self._serve,
                args=(listener, proc, key),
                name="switchboard-engine-reader",
                daemon=True,
            )
            self._reader.start()
        self._finish(*old)

    def send(self, message: Any) -> None:
        """Send a message (a JobRequest, "cancel"), starting the worker if it is not running.

        The message is pickled at once: what it holds (the document's workflow) is frozen as it
        is now, even when it waits for the worker to connect (8x cheaper for the GUI thread
        than a deep copy: 7 ms vs 60 ms for 2,000 steps)."""
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        self.start()
        with self._lock:
            if self._conn is None:
                self._pending.append(data)
            else:
                self._conn.send_bytes(data)
            if not isinstance(message, str):
                self._job_running = True

    def stop(self, timeout: float = 3.0) -> None:
        """Ask the worker to quit (cancelling what runs and finishing a recording), then make
        sure it has: terminated after `timeout` seconds, killed a second later."""
        with self._lock:
            proc, conn = self._proc, self._conn
            if proc is None:
                return
            self._closing = True  # what it says from now on is about being stopped
            if conn is not None and proc.poll() is None:
                with contextlib.suppress(OSError, ValueError):
                    conn.send("quit")
            elif proc.poll() is None:
                timeout = 0.0  # not even connected yet: nothing to finish
        # waited for outside the lock: the reader thread takes it when the worker connects
        for end in (None, proc.terminate, proc.kill):
            if end is not None:
                end()
            try:
                proc.wait(timeout if end is None else 1.0)
                break
            except subprocess.TimeoutExpired:
                continue
        with self._lock:
            detached = self._detach_locked() if self._proc is proc else (None, None)
        self._finish(*detached)

    def _relay_stderr(self, proc: subprocess.Popen[bytes], stream: IO[bytes]) -> None:
        """The worker's stderr thread: its lines go to ours while it serves us, and are
        dropped once we close (a worker cut off mid-handshake or mid-read says so; nobody
        needs to read that at exit). A crash while it serves still shows its traceback."""
        with contextlib.suppress(OSError, ValueError):
            for line in stream:
                if self._closing or _exiting or self._proc is not proc:
                    continue  # being stopped, or stopped and replaced
                with contextlib.suppress(OSError, ValueError):
                    sys.stderr.write(line.decode("utf-8", "replace"))
                    sys.stderr.flush()

    def _detach_locked(self) -> tuple[threading.Thread | None, Connection | None]:
        reader, conn = self._reader, self._conn
        self._conn = self._reader = None
        self._proc = None
        self._pending = []
        return reader, conn

    @staticmethod
    def _finish(reader: threading.Thread | None, conn: Connection | None) -> None:
        # the worker has ended: its reader sees the end of the stream, then the socket closes
        if reader is not None and reader is not threading.current_thread():
            reader.join(2.0)
        if conn is not None:
            with contextlib.suppress(OSError):
                conn.close()

    def _serve(self, listener: socket.socket, proc: subprocess.Popen[bytes], key: bytes) -> None:
        """The reader thread: accept the worker, send what waited, then read until the end."""
        try:
            conn = accept_worker(listener, proc, key)
        finally:
            listener.close()
        if conn is not None:
            with self._lock:
                if self._proc is not proc or proc.poll() is not None:
                    conn.close()  # stopped (or replaced) while it was connecting
                    conn = None
                else:
                    try:
                        for data in self._pending:
                            conn.send_bytes(data)
                    except (OSError, ValueError):
                        conn = None
                    else:
                        self._conn = conn
                    self._pending = []
        if conn is not None:
            try:
                while True:
                    data = conn.recv_bytes()
                    if data[:1] == b"O":
                        self._job_running = False
                    self.on_message(data)
            except (EOFError, OSError):
                pass
        if self._proc is proc or self._proc is None:  # not a worker since replaced
            self._job_running = False
            self.on_message(None)


def accept_worker(
    listener: socket.socket,
    proc: subprocess.Popen[bytes],
    key: bytes,
    *,
    auth_seconds: float = AUTH_SECONDS,
) -> Connection | None:
    """The connection of the worker `proc`, once it has proved it holds `key` (only the
    process we started has it, in its environment); None when the worker ends first. Anything
    else that connects (a wrong key, a connection that says nothing) is dropped within
    `auth_seconds`, and accepting goes on."""
    listener.settimeout(0.2)
    while proc.poll() is None:
        try:
            sock, _ = listener.accept()
        except TimeoutError:
            continue
        except OSError:
            return None
        conn = _authenticate(sock, proc, key, auth_seconds)
        if conn is not None:
            return conn
    return None


def _authenticate(
    sock: socket.socket, proc: subprocess.Popen[bytes], key: bytes, seconds: float
) -> Connection | None:
    sock.setblocking(True)
    conn = Connection(sock.detach())
    # the challenge reads block: a connection that says nothing is cut at the deadline
    watchdog = threading.Timer(seconds, _cut, args=(conn,))
    watchdog.daemon = True
    watchdog.start()
    try:
        mpc.deliver_challenge(conn, key)
        mpc.answer_challenge(conn, key)
    except (OSError, EOFError, mpc.AuthenticationError, ValueError):
        conn.close()
        return None
    finally:
        watchdog.cancel()
    return conn


def _cut(conn: Connection) -> None:
    with contextlib.suppress(OSError, ValueError):
        socket.socket(fileno=os.dup(conn.fileno())).shutdown(socket.SHUT_RDWR)
