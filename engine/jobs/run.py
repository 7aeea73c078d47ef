"""`run_job`: a run, an emitted event or tests files, the same for every host.

The command line, the designer's worker, the server and a script hand a `JobRequest` here and
get a `JobOutcome`; each only adds its own sinks (console lines, events over a socket, a store)
and its own way of showing the outcome. Cancelling the task running `run_job` ends the job as
`cancelled` (an outcome, not an exception, so a cancelled run's result still reaches its
host): the runs it started are cancelled and the files it writes are written.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from engine.core.errors import LoadError, SwitchboardError
from engine.files.folder import untitled_path
from engine.jobs.engines import remote_engine
from engine.jobs.request import JobOutcome, JobRequest
from engine.jobs.setup import Host, RunSetup, open_setup, prepare_job, register_listeners
from engine.jobs.testfiles import run_tests_async
from engine.runtime.events import Event, RunFinished, RunResult, Sink

__all__ = ["run_job", "outcome_json"]


async def run_job(
    request: JobRequest, *, sinks: Sequence[Sink] = (), host: Host | None = None
) -> JobOutcome:
    """Do one job. `sinks` get the events of every run the job starts."""
    try:
        if request.kind == "tests":
            report = await run_tests_async(request.tests)
            return JobOutcome("tests", payload=report)
        if request.kind == "run":
            return await _run(request, sinks, host)
        if request.kind == "emit":
            return await _emit(request, sinks, host)
        return JobOutcome("error", message=f"unknown job kind {request.kind!r}")
    except asyncio.CancelledError:
        _uncancel()
        return JobOutcome("cancelled", message="the job was stopped")


def _uncancel() -> None:
    """The cancel ends in an outcome: keep the task's count of cancels in step with that."""
    task = asyncio.current_task()
    if task is not None:
        task.uncancel()


def _cannot_start(err: BaseException) -> JobOutcome:
    if isinstance(err, LoadError):
        n = len([p for p in err.problems if p.severity == "error"]) or len(err.problems)
        files = len({p.file for p in err.problems}) or 1
        return JobOutcome(
            "error",
            problems=list(err.problems),
            message=(
                f"{n} problem{'s' if n != 1 else ''}: fix the file{'s' if files != 1 else ''} "
                "and run again"
            ),
        )
    return JobOutcome("error", message=str(err))


def _bad_notify(err: ValueError) -> JobOutcome:
    return JobOutcome("error", message=f"the environment's notify list: {err}")


class _LastResult:
    """Keeps the result of the run a job started, for when the job is cancelled under it."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self.result: RunResult | None = None

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunFinished) and event.run_id == self.run_id:
            self.result = event.result


async def _run(request: JobRequest, sinks: Sequence[Sink], host: Host | None) -> JobOutcome:
    path = request.path if request.path is not None else untitled_path()
    if request.workflow is None and not Path(path).is_file():
        return JobOutcome("error", message=f"{path}: no such workflow file")
    try:
        setup = prepare_job(request, Path(path), host=host, sinks=sinks, record=request.record)
    except (SwitchboardError, ValueError, OSError) as e:
        return _cannot_start(e)
    if setup.env.engine not in (None, "local"):
        if request.check_contract:
            # the run's events come back from its engine with their call records
            job_sinks = list(sinks)
            unchecked: list[str] = []
            sinks = [*job_sinks, _contract_check(Path(path).parent, lambda: job_sinks, unchecked)]
            remote = await _run_remote(setup, request, sinks, host)
            remote.warnings.extend(unchecked)
            return remote
        return await _run_remote(setup, request, sinks, host)
    try:
        setup.add_notify_sinks()
    except ValueError as e:
        await setup.close()
        return _bad_notify(e)
    run_id = request.run_id or setup.engine.ids.new_run_id()
    last = _LastResult(run_id)
    extra: list[Sink] = [last]
    if request.check_contract:
        # its warnings go where the run's own events go (setup.sinks is read at each one)
        extra.append(_contract_check(Path(path).parent, lambda: setup.sinks, setup.warnings))
    outcome: JobOutcome
    try:
        result = await setup.run(
            request.input,
            run_id=run_id,
            sinks=extra,
            depth=request.depth,
            pinned=request.pinned,
        )
        outcome = JobOutcome("run", [run_id], payload=result)
    except asyncio.CancelledError:
        _uncancel()
        outcome = JobOutcome("cancelled", [run_id], "the run was stopped", payload=last.result)
        await _cancel_started(setup)
    return await _close(setup, outcome)


def _contract_check(
    folder: Path, forward: Callable[[], Sequence[Sink]], warnings: list[str]
) -> Sink:
    """`--check-contract`'s sink: responses checked against the services described in
    `folder`; its warnings go to the sinks `forward` gives at each one; what it cannot check
    (a service file or spec that cannot be read) is added to `warnings`."""
    from engine.jobs.contract import ContractCheck

    check = ContractCheck(folder.resolve(), forward)
    warnings.extend(check.unchecked)
    return check


async def _run_remote(
    setup: RunSetup, request: JobRequest, sinks: Sequence[Sink], host: Host | None
) -> JobOutcome:
    """The run on the engine its environment names; its events still come to `sinks`."""
    await setup.close()
    try:
        engine = remote_engine(setup.env)
    except SwitchboardError as e:
        return _cannot_start(e)
    outcome = await engine.run(request, sinks, host)
    return outcome or JobOutcome("cancelled", message="the run was left to its engine")


async def _cancel_started(setup: RunSetup) -> None:
    if setup.owns_engine:
        await setup.engine.bus.cancel_all()


async def _close(setup: RunSetup, outcome: JobOutcome) -> JobOutcome:
    """Close the setup (triggered runs finish, the recording is written) and say what it
    wrote. A cancel that comes while closing is held until the files are consistent."""
    closing = asyncio.ensure_future(setup.close())
    try:
        warnings = await asyncio.shield(closing)
    except asyncio.CancelledError:
        _uncancel()
        await setup.engine.bus.cancel_all()
        warnings = await closing
        if outcome.kind != "cancelled":
            outcome = JobOutcome(
                "cancelled", outcome.run_ids, "the run was stopped", payload=outcome.payload
            )
    outcome.warnings.extend(warnings)
    if setup.recorder is not None and setup.record_path is not None:
        n = len(setup.recorder.records)
        outcome.message = f"recorded {n} response{'s' if n != 1 else ''} to {setup.record_path}"
    return outcome


async def _emit(request: JobRequest, sinks: Sequence[Sink], host: Host | None) -> JobOutcome:
    folder = request.folder or (request.path.parent if request.path is not None else None)
    if folder is None:
        folder = untitled_path().parent
    if not Path(folder).is_dir():
        return JobOutcome("error", message=f"{folder}: no such folder")
    try:
        setup = open_setup(
            Path(folder),
            env=request.env,
            mocks=request.mocks,
            scenario=request.scenario,
            real_time=request.real_time,
            sinks=sinks,
            environ=request.environ,
            host=host,
            allow_outside=request.allow_outside_files,
        )
    except (SwitchboardError, ValueError, OSError) as e:
        return _cannot_start(e)
    bus = setup.engine.bus
    try:
        skip = [request.path] if request.path is not None and request.workflow is not None else []
        setup.warnings.extend(
            register_listeners(bus, Path(folder), skip=skip, also=request.workflow)
        )
        setup.add_notify_sinks()
    except SwitchboardError as e:
        await setup.close()
        return _cannot_start(e)
    except ValueError as e:
        await setup.close()
        return _bad_notify(e)
    if not bus.listeners(request.event):
        await setup.close()
        return JobOutcome(
            "error",
            message=(
                f"no workflow in {folder} has trigger '{request.event}' (events listened for: "
                f"{', '.join(bus.events) or 'none'}); add the event to a workflow's `trigger`"
            ),
        )
    outcome: JobOutcome
    try:
        sinks = setup.sinks
        if request.check_contract:
            # every run the event starts (and the runs their emits start) is checked
            sinks = [*sinks, _contract_check(Path(folder), lambda: setup.sinks, setup.warnings)]
        results: list[RunResult] = await bus.publish(request.event, request.data, sinks=sinks)
        n = len(results)
        outcome = JobOutcome(
            "emit",
            [r.run_id for r in results],
            payload=results,
            message=f"event '{request.event}' started {n} run{'s' if n != 1 else ''}",
        )
    except asyncio.CancelledError:
        _uncancel()
        outcome = JobOutcome("cancelled", message="the event's runs were stopped")
        await _cancel_started(setup)
    return await _close(setup, outcome)


def outcome_json(outcome: JobOutcome) -> Any:
    """The JSON a host prints for an outcome: the run result, the list of them, the report."""
    payload = outcome.payload
    if isinstance(payload, list):
        return [r.to_json() for r in payload]
    if payload is not None:
        return payload.to_json()
    return None
