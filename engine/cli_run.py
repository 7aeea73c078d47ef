"""`switchboard run`, `test` and `emit`: run workflows and their tests from the command line.

Exit codes, the same for all three: 0 everything succeeded (or passed), 1 a run failed (or a test
case did not pass), 2 invalid input or usage — a file that does not load (its problems printed
as file:line:col messages), an unknown environment or scenario, a run input that is not JSON or
does not match the workflow's `input` schema. With `--json` only JSON goes to stdout; the
progress lines go to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from engine.errors import LoadError, Problem, SwitchboardError
from engine.events import RunFinished
from engine.sinks import ConsoleSink

__all__ = ["register", "cmd_run", "cmd_test", "cmd_emit", "parse_input", "InputArgError"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class InputArgError(ValueError):
    """`--input`/`--data` is not JSON (or its @FILE cannot be read)."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    r = sub.add_parser(
        "run", help="run a workflow (mocked, hybrid or live, as its environment says)",
        description="Run one workflow and print a line per event. Exit codes: 0 succeeded, "
        "1 failed, 2 invalid input or usage.")
    r.add_argument("workflow", metavar="WORKFLOW", help="the workflow file")
    _run_options(r)
    r.add_argument("--input", metavar="JSON|@FILE",
                   help="the run input: JSON text, or @FILE holding JSON or YAML")
    r.add_argument("--record", metavar="FILE", type=Path,
                   help="write the run's calls as a mocks file (for live and hybrid runs)")
    r.set_defaults(func=cmd_run)

    t = sub.add_parser(
        "test", help="run tests files (*.tests.yaml) on their mocks",
        description="Run every case of the tests files named (default: every *.tests.yaml "
        "under ./workflows). Exit codes: 0 all passed, 1 any failed, 2 invalid input.")
    t.add_argument("paths", nargs="*", metavar="PATH", help="tests files or folders")
    t.add_argument("--junit", metavar="FILE", type=Path, help="also write JUnit XML for CI")
    t.add_argument("--json", action="store_true", help="print the results as JSON")
    t.set_defaults(func=cmd_test)

    e = sub.add_parser(
        "emit", help="publish an event: start every workflow whose trigger names it",
        description="Start every workflow in a folder whose trigger names EVENT, with the data "
        "as input, and wait for them (and for the runs their emits start). Exit codes: 0 all "
        "succeeded, 1 any failed, 2 invalid input, usage, or no workflow listens.")
    e.add_argument("event", metavar="EVENT")
    e.add_argument("--data", metavar="JSON|@FILE", help="the event's data (the runs' input)")
    e.add_argument("--workflows", metavar="DIR", type=Path,
                   help="folder of workflows (default: ./workflows, else .)")
    _run_options(e)
    e.set_defaults(func=cmd_emit)


def _run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--env", metavar="NAME", help="environment from environments.yaml")
    p.add_argument("--mocks", metavar="FILE", type=Path,
                   help="mocks file (replaces the environment's mocks)")
    p.add_argument("--scenario", metavar="NAME", help="scenario of the mocks file")
    p.add_argument("--json", action="store_true",
                   help="print the run result as JSON on stdout (progress goes to stderr)")
    p.add_argument("--real-time", action="store_true",
                   help="mocked runs take real time (default: virtual time, instant)")


# --- helpers ---------------------------------------------------------------------------------


def parse_input(text: str | None, what: str = "--input") -> Any:
    """JSON text, or `@FILE` (JSON, or YAML for .yaml/.yml files). None stays None."""
    if text is None:
        return None
    if text.startswith("@"):
        path = Path(text[1:])
        try:
            raw = path.read_text(encoding="utf-8")
        except OSError as e:
            raise InputArgError(f"{what}: cannot read {path}: {e.strerror or e}") from None
        if path.suffix.lower() in (".yaml", ".yml"):
            from engine.yamlread import read_yaml

            try:
                return read_yaml(raw, str(path))[0]
            except LoadError as e:
                raise InputArgError(f"{what}: {e.problems[0]}") from None
        source = str(path)
    else:
        raw, source = text, what
    try:
        return json.loads(raw)
    except json.JSONDecodeError as e:
        hint = " (quote the whole value for the shell, e.g. --input '{\"policyId\": \"P-7\"}')" \
            if not text.startswith("@") else ""
        raise InputArgError(f"{source}:{e.lineno}:{e.colno}: not valid JSON: {e.msg}{hint}") \
            from None


def _print_problems(problems: Sequence[Problem], out: IO[str]) -> None:
    from engine.cli_files import print_problems

    print_problems(list(problems), out)


def _usage_error(err: BaseException, out: IO[str]) -> int:
    """Print a setup error the way a person can act on it; the exit code for it."""
    if isinstance(err, LoadError):
        _print_problems(err.problems, out)
        n = len([p for p in err.problems if p.severity == "error"]) or len(err.problems)
        print(f"{n} problem{'s' if n != 1 else ''}: fix the file{'s' if n != 1 else ''} and "
              "run again", file=out)
    else:
        print(f"error: {err}", file=out)
    return EXIT_USAGE


def _exit_for(status: str, error: dict[str, Any] | None) -> int:
    if status == "succeeded":
        return EXIT_OK
    if error and error.get("type") == "input":
        return EXIT_USAGE
    return EXIT_FAILED


async def _close(setup: Any, err: IO[str]) -> None:
    for warning in await setup.close():
        print(f"warning: {warning}", file=err)


def _attach(setup: Any, console: ConsoleSink, base: Path) -> None:
    setup.engine.add_sink(console)
    setup.add_notify_sinks(base)


# --- run -------------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    out, err = sys.stdout, sys.stderr
    try:
        value = parse_input(args.input)
    except InputArgError as e:
        print(f"error: {e}", file=err)
        return EXIT_USAGE
    return asyncio.run(_run(args, value, out, err))


async def _run(args: argparse.Namespace, value: Any, out: IO[str], err: IO[str]) -> int:
    from engine.setup import prepare

    path = Path(args.workflow)
    if not path.is_file():
        print(f"error: {path}: no such workflow file", file=err)
        return EXIT_USAGE
    try:
        setup = prepare(workflow_path=path, env=args.env, mocks=args.mocks,
                        scenario=args.scenario, real_time=args.real_time, record=args.record)
        console = ConsoleSink(err if args.json else out)
        _attach(setup, console, path.parent)
    except (SwitchboardError, ValueError, OSError) as e:
        return _usage_error(e, err)
    finished: list[Any] = []
    setup.engine.add_sink(lambda e: finished.append(e.result) if isinstance(e, RunFinished)
                          else None)
    try:
        result = await setup.engine.run(setup.workflow, value)
    except asyncio.CancelledError:
        # Ctrl-C: the run ended as cancelled; a script reading --json still gets its result.
        if args.json and finished:
            json.dump(finished[-1].to_json(), out, indent=2, ensure_ascii=False, default=str)
            out.write("\n")
        raise
    finally:
        await _close(setup, err)
    if args.record is not None:
        print(f"recorded the calls to {args.record}", file=err)
    if args.json:
        json.dump(result.to_json(), out, indent=2, ensure_ascii=False, default=str)
        out.write("\n")
    return _exit_for(result.status, result.error)


# --- test ------------------------------------------------------------------------------------


def _default_test_paths() -> list[Path]:
    here = Path("workflows")
    return [here] if here.is_dir() else []


def cmd_test(args: argparse.Namespace) -> int:
    from engine.testing import discover, run_tests, write_junit

    out, err = sys.stdout, sys.stderr
    paths = [Path(p) for p in args.paths] or _default_test_paths()
    if not paths:
        print("error: no ./workflows folder here: name the tests files or folders to run",
              file=err)
        return EXIT_USAGE
    missing = [p for p in paths if not p.exists()]
    for p in missing:
        print(f"error: {p}: no such file or folder", file=err)
    files = discover([p for p in paths if p.exists()])
    if not files:
        if not missing:
            print(f"error: no *.tests.yaml files in {', '.join(map(str, paths))}", file=err)
        return EXIT_USAGE
    report = run_tests(files)
    if args.json:
        json.dump(report.to_json(), out, indent=2, ensure_ascii=False, default=str)
        out.write("\n")
    else:
        _print_report(report, out, err)
    if args.junit is not None:
        write_junit(report, args.junit)
        print(f"wrote {args.junit}", file=err)
    if missing or report.errors:
        return EXIT_USAGE
    return EXIT_OK if report.ok else EXIT_FAILED


def _print_report(report: Any, out: IO[str], err: IO[str]) -> None:
    ascii_only = ConsoleSink(out, color=False).ascii_only
    ok_mark, bad_mark = ("PASS", "FAIL") if ascii_only else ("✔", "✘")
    for f in report.files:
        print(f.path, file=out)
        if f.problems:
            _print_problems(f.problems, out)
        for c in f.cases:
            if c.passed:
                print(f"  {ok_mark} {c.name}", file=out)
                continue
            print(f"  {bad_mark} {c.name}", file=out)
            if c.error is not None:
                print(f"      could not run: {c.error}", file=out)
            for d in c.differences:
                print(f"      {d}", file=out)
    print(report.summary(), file=out)


# --- emit ------------------------------------------------------------------------------------


def cmd_emit(args: argparse.Namespace) -> int:
    out, err = sys.stdout, sys.stderr
    try:
        data = parse_input(args.data, "--data")
    except InputArgError as e:
        print(f"error: {e}", file=err)
        return EXIT_USAGE
    folder = args.workflows
    if folder is None:
        folder = Path("workflows") if Path("workflows").is_dir() else Path(".")
    if not folder.is_dir():
        print(f"error: {folder}: no such folder", file=err)
        return EXIT_USAGE
    return asyncio.run(_emit(args, folder, data, out, err))


async def _emit(args: argparse.Namespace, folder: Path, data: Any, out: IO[str],
                err: IO[str]) -> int:
    from engine.bus import workflow_files
    from engine.files import load_workflow
    from engine.setup import prepare

    listening: list[Path] = []
    events: set[str] = set()
    for path in workflow_files(folder):
        try:
            wf = load_workflow(path)
        except (LoadError, OSError):
            continue  # register_folder below reports it
        events.update(wf.trigger)
        if args.event in wf.trigger:
            listening.append(path)
    if not listening:
        print(f"error: no workflow in {folder} has trigger '{args.event}' (events listened "
              f"for: {', '.join(sorted(events)) or 'none'})", file=err)
        return EXIT_USAGE
    try:
        # The listening workflows share the folder's environment: any of them sets it up.
        setup = prepare(workflow_path=listening[0], env=args.env, mocks=args.mocks,
                        scenario=args.scenario, real_time=args.real_time, listeners=False)
        console = ConsoleSink(err if args.json else out)
        _attach(setup, console, folder)
    except (SwitchboardError, ValueError, OSError) as e:
        return _usage_error(e, err)
    # Every triggered workflow, so runs started by emit steps find their listeners too.
    setup.warnings.extend(setup.engine.bus.register_folder(folder))
    try:
        results = await setup.engine.bus.publish(args.event, data)
    finally:
        await _close(setup, err)  # waits for runs that emit steps started
    if args.json:
        json.dump([r.to_json() for r in results], out, indent=2, ensure_ascii=False, default=str)
        out.write("\n")
    return max(_exit_for(r.status, r.error) for r in results)
