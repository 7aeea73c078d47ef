"""`switchboard run`, `test` and `emit`: run workflows and their tests from the command line.

Exit codes, the same for all three: 0 everything succeeded (or passed), 1 a run failed (or a test
case did not pass), 2 invalid input or usage — a file that does not load (its problems printed
as file:line:col messages), an unknown environment or scenario, a run input that is not JSON or
does not match the workflow's `input` schema. With `--json` only JSON goes to stdout; the
progress lines go to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from engine.files.folder import ALLOW_OUTSIDE_FLAG, ENVIRONMENTS_FILE, TESTS_SUFFIX

if TYPE_CHECKING:
    from engine.jobs.request import JobOutcome, JobRequest
    from engine.jobs.testfiles import TestReport

__all__ = [
    "register",
    "cmd_run",
    "cmd_test",
    "cmd_emit",
    "parse_input",
    "InputArgError",
    "run_for_cli",
]

EXIT_USAGE = 2


class InputArgError(ValueError):
    """`--input`/`--data` is not JSON (or its @FILE cannot be read)."""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    r = sub.add_parser(
        "run",
        help="run a workflow (mocked, hybrid or live, as its environment says)",
        description="Run one workflow and print a line per event. Exit codes: 0 succeeded, "
        "1 failed, 2 invalid input or usage.",
    )
    r.add_argument("workflow", metavar="WORKFLOW", help="the workflow file")
    _run_options(r)
    r.add_argument(
        "--input",
        metavar="JSON|@FILE",
        help="the run input: JSON text, or @FILE holding JSON or YAML",
    )
    r.add_argument(
        "--record",
        metavar="FILE",
        type=Path,
        help="write the run's calls as a mocks file (for live and hybrid runs)",
    )
    _contract_option(r, "beside the workflow")
    r.set_defaults(func=cmd_run)

    t = sub.add_parser(
        "test",
        help=f"run tests files (NAME{TESTS_SUFFIX}) on their mocks",
        description="Run every case of the tests files named (default: every tests file "
        "under ./workflows). Exit codes: 0 all passed, 1 any failed, 2 invalid input.",
    )
    t.add_argument("paths", nargs="*", metavar="PATH", help="tests files or folders")
    t.add_argument("--junit", metavar="FILE", type=Path, help="also write JUnit XML for CI")
    t.add_argument("--json", action="store_true", help="print the results as JSON")
    t.set_defaults(func=cmd_test)

    e = sub.add_parser(
        "emit",
        help="publish an event: start every workflow whose trigger names it",
        description="Start every workflow in a folder whose trigger names EVENT, with the data "
        "as input, and wait for them (and for the runs their emits start). Exit codes: 0 all "
        "succeeded, 1 any failed, 2 invalid input, usage, or no workflow listens.",
    )
    e.add_argument("event", metavar="EVENT")
    e.add_argument("--data", metavar="JSON|@FILE", help="the event's data (the runs' input)")
    e.add_argument(
        "--workflows",
        metavar="DIR",
        type=Path,
        help="folder of workflows (default: ./workflows, else .)",
    )
    _run_options(e)
    _contract_option(e, "in the folder")
    e.set_defaults(func=cmd_emit)


def _contract_option(p: argparse.ArgumentParser, where: str) -> None:
    p.add_argument(
        "--check-contract",
        action="store_true",
        help="check each response of a service with an imported OpenAPI spec (a "
        f"*.service.yaml {where}) against its operation's response schema; a "
        "warning per mismatch (off by default)",
    )


def _run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--env", metavar="NAME", help=f"environment from {ENVIRONMENTS_FILE}")
    p.add_argument(
        "--mocks", metavar="FILE", type=Path, help="mocks file (replaces the environment's mocks)"
    )
    p.add_argument("--scenario", metavar="NAME", help="scenario of the mocks file")
    p.add_argument(
        "--json",
        action="store_true",
        help="print the run result as JSON on stdout (progress goes to stderr)",
    )
    p.add_argument(
        "--real-time",
        action="store_true",
        help="mocked runs take real time (default: virtual time, instant)",
    )
    p.add_argument(
        ALLOW_OUTSIDE_FLAG,
        action="store_true",
        help="let the environments file name mocks and log files outside its folder",
    )


# --- helpers ---------------------------------------------------------------------------------


def parse_input(text: str | None, what: str = "--input") -> Any:
    """JSON text, or `@FILE` (JSON, or YAML for .yaml/.yml files). None stays None."""
    if text is None:
        return None
    if text.startswith("@"):
        from engine.core.errors import LoadError
        from engine.files.documents import read_text

        path = Path(text[1:])
        try:
            raw = read_text(path).decode("utf-8-sig")
        except LoadError as e:
            raise InputArgError(f"{what}: {e.problems[0]}") from None
        except UnicodeDecodeError:
            raise InputArgError(f"{what}: {path} is not UTF-8 text") from None
        if path.suffix.lower() in (".yaml", ".yml"):
            from engine.files.yamlread import read_yaml

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
        hint = (
            ' (quote the whole value for the shell, e.g. --input \'{"policyId": "P-7"}\')'
            if not text.startswith("@")
            else ""
        )
        raise InputArgError(
            f"{source}:{e.lineno}:{e.colno}: not valid JSON: {e.msg}{hint}"
        ) from None


def _dump_json(value: Any, out: IO[str]) -> None:
    json.dump(value, out, indent=2, ensure_ascii=False, default=str)
    out.write("\n")


def _report(outcome: JobOutcome, err: IO[str]) -> None:
    """What every command says on stderr about an outcome besides its result."""
    from engine.cli.files import print_problems

    if outcome.kind == "error":
        print_problems(outcome.problems, err)
        prefix = "" if outcome.problems else "error: "
        print(f"{prefix}{outcome.message}", file=err)
    for warning in outcome.warnings:
        print(f"warning: {warning}", file=err)
    if outcome.kind != "error" and outcome.message.startswith("recorded "):
        print(outcome.message, file=err)


def run_for_cli(request: JobRequest, out: IO[str], err: IO[str], as_json: bool) -> JobOutcome:
    """Do a run or emit job with console lines (on stderr with --json) and print its outcome."""
    import asyncio

    from engine.jobs.run import outcome_json, run_job
    from engine.jobs.sinks import ConsoleSink

    console = ConsoleSink(err if as_json else out)
    terminated: list[int] = []

    async def main() -> JobOutcome:
        # SIGTERM (a service manager, `kill`) ends the job as Ctrl-C does: cancelled, with its
        # result printed and its recording written
        task = asyncio.current_task()
        assert task is not None

        def on_term() -> None:
            terminated.append(signal.SIGTERM)
            task.cancel()

        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError, AttributeError):
            loop.add_signal_handler(signal.SIGTERM, on_term)
        return await run_job(request, sinks=[console])

    outcome = asyncio.run(main())
    if terminated and outcome.kind == "cancelled":
        outcome.terminated = True
    _report(outcome, err)
    if as_json and outcome.kind != "error":
        shown = outcome_json(outcome)
        if shown is not None:
            _dump_json(shown, out)
    if outcome.kind == "cancelled":
        print("terminated" if outcome.terminated else "interrupted", file=err)
    return outcome


# --- run -------------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    from engine.jobs.request import JobRequest

    try:
        value = parse_input(args.input)
    except InputArgError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    request = JobRequest(
        "run",
        path=Path(args.workflow),
        input=value,
        env=args.env,
        mocks=args.mocks,
        scenario=args.scenario,
        real_time=args.real_time,
        record=args.record,
        allow_outside_files=args.allow_outside_files,
        check_contract=args.check_contract,
    )
    return run_for_cli(request, sys.stdout, sys.stderr, args.json).exit_code


# --- test ------------------------------------------------------------------------------------


def _default_test_paths() -> list[Path]:
    here = Path("workflows")
    return [here] if here.is_dir() else []


def cmd_test(args: argparse.Namespace) -> int:
    import asyncio

    from engine.jobs.request import JobRequest
    from engine.jobs.run import run_job
    from engine.jobs.testfiles import discover, write_junit

    out, err = sys.stdout, sys.stderr
    paths = [Path(p) for p in args.paths] or _default_test_paths()
    if not paths:
        print("error: no ./workflows folder here: name the tests files or folders to run", file=err)
        return EXIT_USAGE
    missing = [p for p in paths if not p.exists()]
    for p in missing:
        print(f"error: {p}: no such file or folder", file=err)
    files = discover([p for p in paths if p.exists()])
    if not files:
        if not missing:
            print(f"error: no tests files in {', '.join(map(str, paths))}", file=err)
        return EXIT_USAGE
    outcome = asyncio.run(run_job(JobRequest("tests", tests=files)))
    report = outcome.payload
    if outcome.kind != "tests" or report is None:
        _report(outcome, err)
        return outcome.exit_code
    if args.json:
        _dump_json(report.to_json(), out)
    else:
        _print_report(report, out)
    if args.junit is not None:
        write_junit(report, args.junit)
        print(f"wrote {args.junit}", file=err)
    return EXIT_USAGE if missing else outcome.exit_code


def _print_report(report: TestReport, out: IO[str]) -> None:
    from engine.cli.files import print_problems
    from engine.jobs.sinks import ConsoleSink

    ascii_only = ConsoleSink(out, color=False).ascii_only
    ok_mark, bad_mark = ("PASS", "FAIL") if ascii_only else ("✔", "✘")
    for f in report.files:
        print(f.path, file=out)
        if f.problems:
            print_problems(f.problems, out)
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
    from engine.jobs.request import JobRequest

    try:
        data = parse_input(args.data, "--data")
    except InputArgError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    folder = args.workflows
    if folder is None:
        folder = Path("workflows") if Path("workflows").is_dir() else Path(".")
    request = JobRequest(
        "emit",
        folder=folder,
        event=args.event,
        data=data,
        env=args.env,
        mocks=args.mocks,
        scenario=args.scenario,
        real_time=args.real_time,
        allow_outside_files=args.allow_outside_files,
        check_contract=args.check_contract,
    )
    return run_for_cli(request, sys.stdout, sys.stderr, args.json).exit_code
