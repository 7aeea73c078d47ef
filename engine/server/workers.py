"""`serve --workers N`: N processes serving one port and one store, so a server uses every core.

The parent checks what a single process checks before it serves (the folder loads, the
environment resolves, the tokens file reads), recovers the store once (runs a dead server left
`running` are marked interrupted: a worker must not do that to its siblings' runs), binds the
socket and forks the workers; the kernel hands each connection to one of them. Each worker is
`serve(..., worker=True)`: an engine, a Service and uvicorn of its own over the shared socket and
the shared SQLite store (`engine.server.shared`). The parent only supervises: SIGTERM/SIGINT is
passed on to every worker (each then shuts down gracefully, as one process does), a worker that
dies has the runs it was running marked interrupted (every run records the process running it)
and is replaced if it had served a while, and each worker dies with the parent (SIGKILL of the
parent leaves no worker serving; the runs it had are then recovered as interrupted). The
workers' metrics are files in a directory the parent makes and removes (`metrics_dir`), so a
scrape of any worker sums them all (`engine.server.metrics`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

from engine.jobs.environments import resolve_environment
from engine.server.registry import Registry
from engine.server.store import Store

__all__ = ["serve_workers", "bind", "print_interrupted", "metrics_dir"]

STOPS = {signal.SIGTERM, signal.SIGINT}
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # prometheus-client's (engine.server.metrics)
METRICS_PREFIX = "switchboard-metrics-"  # then the parent's pid
REPLACE_AFTER_S = 5.0  # a worker that dies sooner is not replaced (it would die again)
log = logging.getLogger("switchboard.serve")


def serve_workers(
    folder: Path, n: int, options: dict[str, Any], worker: Callable[[socket.socket], None]
) -> int:
    """Serve `folder` from `n` processes, each `worker(sock)` (`serve` with `options` as a
    worker); the exit code. Raises what `serve` raises before serving (LoadError,
    SwitchboardError, OSError)."""
    if options.get("tokens_file") is not None:
        from engine.server.auth import load_tokens

        load_tokens(options["tokens_file"], os.environ)
    registry = Registry(folder)
    registry.load()
    for entry in registry.entries.values():
        for problem in entry.problems:
            print(f"{problem} (not served)" if not entry.ok else str(problem), file=sys.stderr)
    resolve_environment(folder, options.get("env"))
    store = Store(options["store"])
    print_interrupted(store.interrupted)
    store.close()
    sock = bind(options["host"], options["port"])
    try:
        with metrics_dir() as dead:
            return _supervise(n, options, worker, sock, dead)
    finally:
        sock.close()


def _supervise(
    n: int,
    options: dict[str, Any],
    worker: Callable[[socket.socket], None],
    sock: socket.socket,
    dead: Callable[[int], None],
) -> int:
    parent = os.getpid()
    started: dict[int, float] = {}

    def spawn() -> None:
        # a stop is held off from the fork until the worker is in `started` (else it would
        # never be told to stop, and a SIGTERM during the start went unheard); the worker
        # lets signals in once its handlers are its own
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, STOPS)
        try:
            if stopping:
                return
            pid = os.fork()
            if pid == 0:
                _worker(worker, sock, parent)
            started[pid] = time.monotonic()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)

    stopping = False
    stops = 0

    def stop(sig: int, frame: FrameType | None) -> None:
        nonlocal stopping, stops
        if os.getpid() != parent:  # a worker before it set its own handlers: not its siblings
            os._exit(0)
        stopping = True  # a second signal is passed on too: the workers stop at once
        stops += 1
        for pid in list(started):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # the same line as one process prints (scripts read the address off its end); printed
    # once a SIGTERM is a graceful stop
    print(
        f"switchboard serve: listening on http://{options['host']}:{sock.getsockname()[1]}",
        flush=True,
    )
    for _ in range(n):
        spawn()
    failed = False
    while started:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        began = started.pop(pid, None)
        if began is None:
            continue
        code = os.waitstatus_to_exitcode(status)
        dead(pid)  # its in-flight and queue gauges no longer count
        if stopping:
            # a worker still starting when the one stop came had no handler of its own yet:
            # SIGTERM's default action ended it before it served anything, a clean stop (it
            # once made a SIGTERM soon after the start exit 1)
            starting = code == -signal.SIGTERM and stops == 1
            failed = failed or (code != 0 and not starting)
            continue
        lived = time.monotonic() - began
        log.error("worker %d ended (exit %d) after %.0f s", pid, code, lived)
        try:
            store = Store(options["store"], recover=False)
            for run_id in store.interrupt_owner(pid):  # its siblings go on: its runs end here
                log.error("run %s was in flight in worker %d: marked interrupted", run_id, pid)
            store.close()
        except sqlite3.Error as e:  # the next start marks them: the workers go on meanwhile
            log.error("marking worker %d's runs failed: %s: %s", pid, type(e).__name__, e)
        if lived >= REPLACE_AFTER_S:
            spawn()
        else:
            failed = True
    return 1 if failed else 0


@contextlib.contextmanager
def metrics_dir() -> Iterator[Callable[[int], None]]:
    """A private directory for the workers' metrics (prometheus-client's multiprocess mode),
    named in `PROMETHEUS_MULTIPROC_DIR` for the workers the parent forks, removed on leaving;
    yields what marks a worker that exited dead there. (prometheus-client picks its value class
    when first imported: the parent imports it only once the variable is set.)"""
    _remove_stale_metrics_dirs()
    path = tempfile.mkdtemp(prefix=f"{METRICS_PREFIX}{os.getpid()}-")
    before = os.environ.get(MULTIPROC_ENV)
    os.environ[MULTIPROC_ENV] = path

    def dead(pid: int) -> None:
        from prometheus_client import multiprocess

        with contextlib.suppress(OSError):
            multiprocess.mark_process_dead(pid, path)  # type: ignore[no-untyped-call]

    try:
        yield dead
    finally:
        if before is None:
            os.environ.pop(MULTIPROC_ENV, None)
        else:
            os.environ[MULTIPROC_ENV] = before
        shutil.rmtree(path, ignore_errors=True)


def _remove_stale_metrics_dirs() -> None:
    """Remove the metrics directories of parents that died without removing theirs (SIGKILL):
    the directory's name holds its parent's pid."""
    for stale in Path(tempfile.gettempdir()).glob(f"{METRICS_PREFIX}*-*"):
        pid = stale.name[len(METRICS_PREFIX) :].split("-", 1)[0]
        if not pid.isdigit() or _alive(int(pid)):
            continue
        shutil.rmtree(stale, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _worker(worker: Callable[[socket.socket], None], sock: socket.socket, parent: int) -> NoReturn:
    code = 0
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOPS)  # the parent blocked them to fork
        os.setpgid(0, 0)  # a terminal's Ctrl+C reaches the parent only, which passes it on once
        _die_with_parent()
        if os.getppid() != parent:  # the parent died before that was set up
            os._exit(1)
        worker(sock)
    except BaseException as e:  # one line, never a traceback
        log.error("worker %d failed: %s: %s", os.getpid(), type(e).__name__, e)
        code = 1
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _die_with_parent() -> None:
    """Linux: this process gets SIGKILL when its parent dies (no orphan keeps serving)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def print_interrupted(run_ids: list[str]) -> None:
    for run_id in run_ids:
        print(
            f"warning: run {run_id} was in flight when the server stopped: marked "
            "failed (interrupted)",
            file=sys.stderr,
        )


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound and listening (OSError when the address is taken or not
    ours)."""
    # IPPROTO_TCP spelt out: asyncio turns Nagle off (TCP_NODELAY) only on sockets whose
    # proto says TCP; with proto 0 every answer waited ~40 ms for a delayed ACK
    sock = socket.socket(
        socket.AF_INET6 if ":" in host else socket.AF_INET,
        socket.SOCK_STREAM,
        socket.IPPROTO_TCP,
    )
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    # listening from here: a connection made once the address is printed waits in the backlog
    # until a worker takes it, instead of being refused while the workers start
    sock.listen(2048)
    return sock
