"""From files to a ready run: the environment resolved, an engine for it, the sinks of one job.

`prepare` is what every host calls before a run, an emit or a test case: it loads the workflow
(or takes the model a designer passes), resolves the environment (`environments`), gets an
engine from the `Host` (a fresh one, or one kept per environment by a long-lived host) and puts
together the job's own sinks (the caller's, the environment's notification sinks, a recorder).
Mocked runs use virtual time unless `real_time`; runs that reach the network use real time.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.core.errors import LoadError
from engine.core.model import EmitStep, Workflow
from engine.files.documents import dump_mocks, load_workflow, save_text_atomic
from engine.files.folder import environments_file, workflow_files
from engine.jobs import email as _email  # noqa: F401  (registers the `email` sink kind)
from engine.jobs.environments import Resolved, SetupError, resolve_environment
from engine.jobs.sinks import SinkSet, build_sinks
from engine.runtime.bus import EventBus
from engine.runtime.callers import HybridCaller, live_caller
from engine.runtime.clock import Clock, RealClock, VirtualClock
from engine.runtime.engine import Engine
from engine.runtime.events import RunResult, Sink
from engine.runtime.http import HttpxCaller
from engine.runtime.mock import MockTransport
from engine.runtime.ports import Caller, Cascade, Services
from engine.runtime.recorder import Recorder
from engine.runtime.secrets import SecretSource
from engine.runtime.wire import TlsError

if TYPE_CHECKING:
    from engine.jobs.request import JobRequest

__all__ = [
    "Host",
    "RunSetup",
    "open_setup",
    "prepare",
    "prepare_job",
    "register_listeners",
    "SetupError",
]


class Host:
    """Where jobs get their engines.

    By default every job gets an engine of its own, closed when the job ends (the command line,
    the designer's worker: the files may change between jobs). With `keep=True` one engine per
    resolved environment is kept for every job (a server: one connection pool per environment;
    mocks count calls per run, so runs that share an engine each see a mock list from its
    start); `aclose` closes them. `environ` is where secrets are read (default: os.environ).
    A keeping host also keeps each resolved environment until one of its files changes (a
    server resolved it again for every run: a YAML parse per run). It looks at the files'
    stamps at most every `recheck` seconds (0: for every job; a server's runs looked at three
    files each, about 4% of its CPU at one client).
    """

    def __init__(
        self,
        *,
        keep: bool = False,
        environ: Mapping[str, str] | None = None,
        recheck: float = 0.0,
    ) -> None:
        self.keep = keep
        self.recheck = recheck
        self.environ: Mapping[str, str] = environ if environ is not None else os.environ
        self._engines: dict[tuple[object, ...], tuple[Engine, Counter[str] | None]] = {}
        # key -> (the files' stamp, when it was last taken (monotonic), the environment)
        self._resolved: dict[tuple[object, ...], tuple[tuple[object, ...], float, Resolved]] = {}

    def resolve(
        self,
        folder: Path,
        env: str | None,
        *,
        mocks: Path | None = None,
        scenario: str | None = None,
        allow_outside: bool = False,
    ) -> Resolved:
        """`resolve_environment`, kept by a keeping host while its files are unchanged."""
        if not self.keep:
            return resolve_environment(
                folder, env, mocks=mocks, scenario=scenario, allow_outside=allow_outside
            )
        key = (folder, env, mocks, scenario, allow_outside)
        kept = self._resolved.get(key)
        now = time.monotonic()
        if kept is not None:
            stamp, seen, resolved = kept
            if now - seen < self.recheck:
                return resolved
            if stamp == _stamp(folder, resolved.mock_paths):
                self._resolved[key] = (stamp, now, resolved)
                return resolved
        resolved = resolve_environment(
            folder, env, mocks=mocks, scenario=scenario, allow_outside=allow_outside
        )
        self._resolved[key] = (_stamp(folder, resolved.mock_paths), now, resolved)
        return resolved

    def engine_for(
        self, env: Resolved, *, real_time: bool = False, environ: Mapping[str, str] | None = None
    ) -> tuple[Engine, Counter[str] | None, bool]:
        """(engine, the mocks' call counter or None, whether the caller owns the engine)."""
        key = (env.base_dir, env.name, tuple(env.mock_paths), env.scenario, real_time)
        if self.keep and environ is None and key in self._engines:
            engine, calls = self._engines[key]
            return engine, calls, False
        engine, calls = _build_engine(
            env, real_time, environ if environ is not None else self.environ
        )
        if self.keep and environ is None:
            self._engines[key] = (engine, calls)
            return engine, calls, False
        return engine, calls, True

    async def aclose(self) -> None:
        engines, self._engines = self._engines, {}
        for engine, _ in engines.values():
            await engine.aclose()


def _stamp(folder: Path, mock_paths: Sequence[Path]) -> tuple[object, ...]:
    """What tells that an environment's files changed: the environments file found and the
    size, change time and inode of it and of its mocks files."""
    stamp: list[object] = []
    for path in [environments_file(folder), *mock_paths]:
        try:
            st = path.stat() if path is not None else None
        except OSError:
            st = None
        stamp.append((path, st and (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)))
    return tuple(stamp)


def _build_engine(
    env: Resolved, real_time: bool, environ: Mapping[str, str]
) -> tuple[Engine, Counter[str] | None]:
    clock: Clock
    caller: Caller
    calls: Counter[str] | None = None
    # a live or hybrid environment's services know its name: a call to one it does not name
    # says so when it cannot connect
    services: dict[str, str] = env.services
    if env.name is not None and (env.mocks is None or env.services):
        services = Services(env.services, env.name, frozenset(env.mocks or ()))
    try:
        if env.mocks is None:
            clock = RealClock()
            caller = live_caller(env.http)
        elif env.services:
            clock = RealClock()
            mock = MockTransport(env.mocks, clock)
            caller = HybridCaller(mock, live_caller(env.http), env.http)
            calls = mock.calls
        else:
            clock = RealClock() if real_time else VirtualClock()
            mock = MockTransport(env.mocks, clock)
            caller, calls = HttpxCaller(mock, settings=env.http), mock.calls
    except TlsError as e:
        raise SetupError(f"environment '{env.name}': tls: {e}; fix its `tls` files") from None
    engine = Engine(
        caller=caller,
        services=services,
        clock=clock,
        secrets=SecretSource(env.secrets, environ=environ),
    )
    return engine, calls


@dataclass
class RunSetup:
    """One job's run setup: the engine, the workflow, and the sinks this job's runs report to."""

    engine: Engine
    env: Resolved
    mock_calls: Counter[str] | None
    owns_engine: bool = True
    sinks: list[Sink] = field(default_factory=list)
    recorder: Recorder | None = None
    record_path: Path | None = None
    warnings: list[str] = field(default_factory=list)
    notify_sinks: SinkSet | None = None
    workflow: Workflow | None = None  # the workflow a run job runs

    @property
    def env_name(self) -> str | None:
        return self.env.name

    @property
    def mode(self) -> str:
        return self.env.mode

    async def run(
        self,
        input: Any = None,
        *,
        run_id: str | None = None,
        sinks: Sequence[Sink] = (),
        depth: int = 0,
        pinned: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> RunResult:
        """Run the job's workflow, its events to this job's sinks (and `sinks`); `depth`: how
        deep in a cascade of emits the run starts."""
        assert self.workflow is not None, "a setup from open_setup has no workflow of its own"
        return await self.engine.run(
            self.workflow,
            input,
            run_id=run_id,
            sinks=[*self.sinks, *sinks],
            cascade=Cascade(depth) if depth else None,
            pinned=pinned,
        )

    def add_notify_sinks(self) -> SinkSet:
        """Add the environment's notification sinks (webhook, file; the host shows the console
        itself) to this job's sinks. Raises ValueError for a bad `notify` entry."""
        sinks = build_sinks(self.env.notify, base_dir=self.env.base_dir, have_console=True)
        self.sinks.extend(sinks)
        self.notify_sinks = sinks
        return sinks

    async def finish(self) -> None:
        """Wait for triggered runs, write the recording if any, close the engine if it is this
        job's own."""
        try:
            if self.owns_engine:
                await self.engine.bus.drain()
            if self.recorder is not None and self.record_path is not None:
                save_text_atomic(self.record_path, dump_mocks(self.recorder.mocks_file()))
        finally:
            if self.owns_engine:
                await self.engine.aclose()

    async def close(self) -> list[str]:
        """`finish`, then close the notification sinks; returns every warning for the user
        (a sink that could not deliver, the setup's own warnings)."""
        problems: list[str] = []
        try:
            await self.finish()
        finally:
            if self.notify_sinks is not None:
                problems += await self.notify_sinks.aclose()
        return problems + self.warnings


def register_listeners(
    bus: EventBus, folder: Path, *, skip: Iterable[Path] = (), also: Workflow | None = None
) -> list[str]:
    """Register on `bus` every workflow of `folder` that has a trigger (and `also`, a model
    standing in for its file in `skip`). Returns one line per file that did not load; raises
    SetupError when two of the workflows share a name (an event would start only one)."""
    skipped = {Path(p).resolve() for p in skip}
    problems: list[str] = []
    named: dict[str, str] = {}
    candidates: list[tuple[str, Workflow]] = []
    if also is not None:
        candidates.append(("the open workflow", also))
    for path in workflow_files(folder):
        if path.resolve() in skipped:
            continue
        try:
            wf = load_workflow(path)
        except LoadError as e:
            problems.append(f"{path}: not registered: {e.problems[0] if e.problems else e}")
            continue
        except OSError as e:
            problems.append(f"{path}: not registered: {e}")
            continue
        candidates.append((str(path), wf))
    for where, wf in candidates:
        if wf.name in named:
            raise SetupError(
                f"two workflows are named '{wf.name}': {named[wf.name]} and "
                f"{where}; give each its own name (switchboard validate "
                f"{folder} shows where)"
            )
        named[wf.name] = where
    for _, wf in candidates:
        if wf.trigger:
            bus.register(wf)
    return problems


def open_setup(
    folder: Path,
    *,
    env: str | None = None,
    mocks: Path | None = None,
    scenario: str | None = None,
    real_time: bool = False,
    record: Path | None = None,
    sinks: Sequence[Sink] = (),
    environ: Mapping[str, str] | None = None,
    host: Host | None = None,
    allow_outside: bool = False,
) -> RunSetup:
    """The setup for runs of the workflows of `folder`: its environment resolved, an engine
    from `host`, and this job's sinks (`sinks`, and a recorder with `record`)."""
    host = host or Host()
    resolved = host.resolve(
        folder, env, mocks=mocks, scenario=scenario, allow_outside=allow_outside
    )
    engine, calls, owns = host.engine_for(resolved, real_time=real_time, environ=environ)
    setup = RunSetup(
        engine=engine, env=resolved, mock_calls=calls, owns_engine=owns, sinks=list(sinks)
    )
    if record is not None:
        setup.recorder = Recorder()
        setup.record_path = Path(record)
        setup.sinks.append(setup.recorder)
    return setup


def prepare(
    *,
    workflow_path: Path,
    env: str | None = None,
    mocks: Path | None = None,
    scenario: str | None = None,
    real_time: bool = False,
    record: Path | None = None,
    sinks: Sequence[Sink] = (),
    listeners: bool = True,
    workflow: Workflow | None = None,
    environ: Mapping[str, str] | None = None,
    host: Host | None = None,
    allow_outside: bool = False,
) -> RunSetup:
    """Load the workflow and what travels beside it; get the engine that runs it.

    `workflow`: run this model instead of loading `workflow_path` (the designer runs its
    unsaved document); `workflow_path` still locates the environments and sibling workflows.
    `listeners`: when the workflow has `emit` steps, register the triggered workflows of its
    folder on the engine's bus, so its emits start them. `environ`: the variables secrets are
    read from for this job (default: the host's).
    """
    workflow_path = Path(workflow_path)
    if workflow is None:
        workflow = load_workflow(workflow_path)
    folder = workflow_path.parent
    setup = open_setup(
        folder,
        env=env,
        mocks=mocks,
        scenario=scenario,
        real_time=real_time,
        record=record,
        sinks=sinks,
        environ=environ,
        host=host,
        allow_outside=allow_outside,
    )
    setup.workflow = workflow
    if setup.owns_engine and listeners and any(isinstance(s, EmitStep) for s in workflow.steps):
        setup.warnings.extend(
            register_listeners(setup.engine.bus, folder, skip=[workflow_path], also=workflow)
        )
    return setup


def prepare_job(
    request: JobRequest,
    path: Path,
    *,
    host: Host | None,
    sinks: Sequence[Sink] = (),
    listeners: bool = True,
    record: Path | None = None,
) -> RunSetup:
    """`prepare` with what a run job's request says (the workflow at `path`, or its model)."""
    return prepare(
        workflow_path=path,
        env=request.env,
        mocks=request.mocks,
        scenario=request.scenario,
        real_time=request.real_time,
        record=record,
        sinks=sinks,
        listeners=listeners,
        workflow=request.workflow,
        environ=request.environ,
        host=host,
        allow_outside=request.allow_outside_files,
    )
