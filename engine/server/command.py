"""`switchboard serve DIR`: the command (registered through the `switchboard.commands` entry
point, so `engine.cli` never imports the server) and `serve`, which runs uvicorn on it.

The socket is bound before uvicorn starts, so `--port 0` works: the first line on stdout says
where the server listens (`switchboard serve: listening on http://127.0.0.1:PORT`), printed once
it serves, so a SIGTERM from then on is a graceful stop.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
from collections.abc import Coroutine
from pathlib import Path
from types import FrameType
from typing import Any

from engine.core.durations import parse_duration
from engine.core.errors import LoadError, SwitchboardError
from engine.files.folder import ENVIRONMENTS_FILE

__all__ = ["register", "cmd_serve", "serve", "default_store"]

STORE_DIR = ".switchboard"
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def default_store(folder: Path) -> Path:
    """Where runs are kept unless `--store` says: `DIR/.switchboard/store.sqlite3` (a hidden
    folder, so it is never taken for workflows, and history survives a restart)."""
    return Path(folder) / STORE_DIR / "store.sqlite3"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "serve",
        help="serve the workflows of a folder over HTTP (events in, notifications out)",
        description="Load every workflow of DIR and serve them: POST /events/NAME starts the "
        "workflows it triggers; runs, their events and notifications are kept in --store. "
        "Exit codes: 0 stopped, 2 the folder or environment does not load.",
    )
    p.add_argument("folder", metavar="DIR", type=Path, help="folder of workflows")
    p.add_argument("--env", metavar="NAME", help=f"environment from DIR/{ENVIRONMENTS_FILE}")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port (default 8080; 0: any free)")
    p.add_argument(
        "--store",
        metavar="PATH",
        help="SQLite file for runs and events (default DIR/.switchboard/"
        "store.sqlite3; ':memory:' keeps nothing)",
    )
    p.add_argument(
        "--grace",
        metavar="DURATION",
        default="30s",
        help="on SIGTERM, how long runs in flight may take to finish before they "
        "are cancelled (default 30s)",
    )
    p.add_argument(
        "--retain",
        metavar="DURATION",
        default="30d",
        help="forget ended runs older than this (default 30d; 0: keep all)",
    )
    p.add_argument(
        "--retain-runs",
        metavar="N",
        type=int,
        default=100_000,
        help="keep at most N ended runs, the newest (default 100000; 0: no limit)",
    )
    p.add_argument(
        "--bus",
        metavar="URL",
        help="also consume events from a Redis Stream (redis://HOST:PORT or "
        "unix:///PATH.sock; stream switchboard:events, group switchboard)",
    )
    p.add_argument(
        "--bus-claim-idle",
        metavar="DURATION",
        default="60s",
        help="with --bus: entries another consumer of the group has left unacknowledged "
        "this long (it died) are claimed and processed here (default 60s)",
    )
    p.add_argument(
        "--bus-max-deliveries",
        metavar="N",
        type=int,
        default=5,
        help="with --bus: an entry delivered N times without being processed is moved to "
        "the stream switchboard:events:dead and acknowledged (default 5)",
    )
    p.add_argument(
        "--no-watch",
        action="store_true",
        help="do not reload files of DIR when they change (default: watch, keeping "
        "the previous version of a file that now has problems)",
    )
    p.add_argument(
        "--workers",
        metavar="N",
        type=int,
        default=None,
        help="serve from N processes sharing the port and the store (default: the "
        f"number of cores, {cores()} here; ':memory:' stores serve from one)",
    )
    p.add_argument(
        "--tokens",
        metavar="FILE",
        type=Path,
        help="bearer tokens with scopes (emit, read, deploy, admin); required to "
        "bind beyond loopback. YAML: version: 1, tokens: {NAME: {sha256: HEX "
        "| env: VARIABLE, scopes: [...]}}",
    )
    p.set_defaults(func=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    folder: Path = args.folder
    if not folder.is_dir():
        print(
            f"error: {folder}: no such folder; name the folder of workflows to serve",
            file=sys.stderr,
        )
        return 2
    if args.host not in LOOPBACK and args.tokens is None:
        print(
            f"error: --host {args.host}: binding beyond loopback needs bearer tokens; pass "
            "--tokens FILE (see `switchboard serve --help`), or bind 127.0.0.1",
            file=sys.stderr,
        )
        return 2
    store = args.store or str(default_store(folder))
    workers = args.workers if args.workers is not None else cores()
    if workers < 1:
        print("error: --workers: give 1 or more processes", file=sys.stderr)
        return 2
    make_runner = getattr(args, "make_runner", None)  # a plug-in's (serve --engine temporal)
    try:
        runner = make_runner(args) if make_runner is not None else None
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if store == ":memory:" or not hasattr(os, "fork") or runner is not None:
        # one process's store, no fork here, or a plug-in's runner (its runs are followed
        # again after a restart by the one process that recovered the store): one process
        workers = 1
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logging.getLogger("switchboard").addHandler(handler)
    logging.getLogger("switchboard").setLevel(logging.INFO)
    try:
        grace_s = parse_duration(args.grace) / 1000
        retain_s = _days(args.retain)
        claim_idle_s = parse_duration(args.bus_claim_idle) / 1000
    except ValueError as e:
        print(f"error: --grace/--retain/--bus-claim-idle: {e}", file=sys.stderr)
        return 2
    if args.bus_max_deliveries < 1:
        print(
            f"error: --bus-max-deliveries {args.bus_max_deliveries}: give 1 or more (how many "
            "times an entry is delivered before it goes to switchboard:events:dead)",
            file=sys.stderr,
        )
        return 2
    options: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "store": store,
        "env": args.env,
        "grace_s": grace_s,
        "tokens_file": args.tokens,
        "watch": not args.no_watch,
        "retain_s": retain_s or None,
        "retain_runs": args.retain_runs or None,
        "bus": args.bus,
        "bus_claim_idle_s": claim_idle_s,
        "bus_max_deliveries": args.bus_max_deliveries,
        "runner": runner,
    }
    try:
        if workers > 1:
            from engine.server.workers import serve_workers

            def worker(sock: socket.socket) -> None:
                run_loop(serve(folder, **options, sock=sock, worker=True))

            return serve_workers(folder, workers, options, worker)
        run_loop(serve(folder, **options))
    except (LoadError, SwitchboardError) as e:
        problems = getattr(e, "problems", None)
        for p in problems or []:
            print(str(p), file=sys.stderr)
        print(
            f"error: {e if not problems else 'a file does not load: fix the problems above'}",
            file=sys.stderr,
        )
        return 2
    except OSError as e:
        print(
            f"error: cannot listen on {args.host}:{args.port}: {e.strerror or e}; choose "
            "another --port",
            file=sys.stderr,
        )
        return 2
    return 0


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def run_loop(main: Coroutine[Any, Any, None]) -> None:
    """Run the server's loop: uvloop's where it is installed (its transports and callbacks cost
    less per request), asyncio's otherwise."""
    import asyncio  # here: `switchboard --help` builds this command's parser without it

    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main)


def _days(text: str) -> float:
    """`--retain`: a duration, or whole days as `30d`; seconds."""
    if text.endswith("d") and text[:-1].isdigit():
        return int(text[:-1]) * 86400.0
    return parse_duration(text) / 1000


def _server_class() -> type[Any]:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, except that a SIGTERM/SIGINT it has handled (a graceful shutdown,
        runs recorded) ends the process with 0 instead of being raised again after it, and
        that `announce` is printed once it has started."""

        announce: str | None = None

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            # printed only now: uvicorn's signal handlers are in place (it installs them before
            # starting), so a SIGTERM sent on reading the line is a graceful stop; printed
            # before, a SIGTERM in between ended the process with -15
            if self.announce is not None and not self.should_exit:
                print(self.announce, flush=True)

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            super().handle_exit(sig, frame)
            self._captured_signals.clear()

    return Server


async def serve(
    folder: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    store: str = ":memory:",
    env: str | None = None,
    grace_s: float = 30.0,
    tokens_file: Path | None = None,
    watch: bool = True,
    retain_s: float | None = None,
    retain_runs: int | None = None,
    bus: str | None = None,
    bus_claim_idle_s: float = 60.0,
    bus_max_deliveries: int = 5,
    runner: Any = None,  # a plug-in's Runner (serve --engine temporal); None: run_job
    sock: socket.socket | None = None,
    worker: bool = False,
) -> None:
    """Open the store and the folder, then serve until stopped: on SIGINT/SIGTERM new events
    are refused (503), runs in flight get `grace_s` seconds, then the rest are cancelled.
    With `worker`, this is one of the processes of `serve --workers`: it serves on `sock`, which
    its parent bound, shares the store (which the parent recovered) and says nothing of what
    the parent already said."""
    import uvicorn

    from engine.jobs.run import run_job
    from engine.server.app import create_app
    from engine.server.auth import load_tokens
    from engine.server.coalesce import coalescing
    from engine.server.service import Service
    from engine.server.store import Store
    from engine.server.workers import bind, print_interrupted

    tokens = load_tokens(tokens_file, os.environ) if tokens_file is not None else None
    db = Store(store, recover=not worker)
    service = Service(
        folder,
        db,
        env=env,
        retain_s=retain_s,
        retain_runs=retain_runs,
        shared=worker,
        runner=runner or run_job,
    )
    try:
        service.open()
        if not worker:
            for entry in service.registry.entries.values():
                for problem in entry.problems:
                    print(
                        f"{problem} (not served)" if not entry.ok else str(problem),
                        file=sys.stderr,
                    )
            print_interrupted([] if service.durable is not None else db.interrupted)
            sock = bind(host, port)
        assert sock is not None
        # open streams (SSE, WebSockets) must not hold the shutdown past the grace period
        app = create_app(
            service,
            grace_s=grace_s,
            tokens=tokens,
            watch=watch,
            bus=bus,
            bus_claim_idle_s=bus_claim_idle_s,
            bus_max_deliveries=bus_max_deliveries,
        )
        config = uvicorn.Config(
            app, log_level="warning", lifespan="on", timeout_graceful_shutdown=max(1, int(grace_s))
        )
        config.load()  # (picks the HTTP protocol class, which then writes an answer at once)
        config.http_protocol_class = coalescing(config.http_protocol_class)
        server = _server_class()(config)
        if not worker:  # (the parent of workers prints it)
            server.announce = (
                f"switchboard serve: listening on http://{host}:{sock.getsockname()[1]}"
            )
        await server.serve(sockets=[sock])
    finally:
        await service.aclose()
        db.close()
