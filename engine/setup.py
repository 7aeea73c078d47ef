"""From files to a ready engine: environment, service URLs, mocks, clock, secrets, recording.

How a run's calls resolve (FORMAT.md "Environments"):

- the environment's `services` give base URLs; any other service is `http://<service>`;
- with mocks and no `services`, every call is mocked (a call without a mock fails, type `mock`);
- with mocks and `services`, the run is hybrid: mocked where a mock exists, live elsewhere;
- with no mocks the run is live.

A `mocks` path passed in (`--mocks`, a tests file's `mocks:`) replaces the environment's mocks.
Fully mocked runs use virtual time unless `real_time`; runs that reach the network use real time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.clock import Clock, RealClock, VirtualClock
from engine.errors import SwitchboardError
from engine.events import Sink
from engine.model import EmitStep, EnvironmentsFile, MockResponse, MocksFile, Workflow
from engine.recorder import Recorder
from engine.runner import Engine
from engine.secrets import SecretSource
from engine.sinks import SinkSet, build_sinks

__all__ = ["prepare", "RunSetup", "SetupError", "ENVIRONMENTS_FILE"]

ENVIRONMENTS_FILE = "environments.yaml"


class SetupError(SwitchboardError):
    """The files do not make a runnable setup (unknown environment or scenario, …)."""


@dataclass
class RunSetup:
    engine: Engine
    workflow: Workflow
    env_name: str | None
    mock_calls: Counter[str] | None
    notify: list[dict[str, Any]] = field(default_factory=list)
    recorder: Recorder | None = None
    record_path: Path | None = None
    mode: str = "live"  # live | mock | hybrid
    warnings: list[str] = field(default_factory=list)
    notify_sinks: SinkSet | None = None

    def add_notify_sinks(self, base_dir: Path) -> SinkSet:
        """Attach the environment's notification sinks (webhook, file; the caller shows the
        console itself). Raises ValueError for a bad `notify` entry."""
        sinks = build_sinks(self.notify, base_dir=base_dir, have_console=True)
        for sink in sinks:
            self.engine.add_sink(sink)
        self.notify_sinks = sinks
        return sinks

    async def finish(self) -> None:
        """Wait for triggered runs, write the recording if any, close the engine."""
        try:
            await self.engine.bus.drain()
            if self.recorder is not None and self.record_path is not None:
                self.recorder.write(self.record_path)
        finally:
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


def _merge_mocks(files: list[MocksFile], scenario: str | None,
                 names: list[str]) -> dict[str, list[MockResponse]]:
    table: dict[str, list[MockResponse]] = {}
    for m in files:
        table.update(m.mocks)
    if scenario:
        found = False
        for m in files:
            if scenario in m.scenarios:
                table.update(m.scenarios[scenario])
                found = True
        if not found:
            known = sorted({s for m in files for s in m.scenarios})
            raise SetupError(
                f"scenario '{scenario}' is not in {', '.join(names)}; "
                f"known scenarios: {', '.join(known) or 'none'}")
    return table


def prepare(*, workflow_path: Path, env: str | None = None, mocks: Path | None = None,
            scenario: str | None = None, real_time: bool = False, record: Path | None = None,
            sinks: Sequence[Sink] = (), listeners: bool = True,
            workflow: Workflow | None = None) -> RunSetup:
    """Load the workflow and what travels beside it; build the engine that runs it.

    `workflow`: run this model instead of loading `workflow_path` (the designer runs its
    unsaved document); `workflow_path` still locates the environments and sibling workflows.

    `listeners`: when the workflow has `emit` steps, register the triggered workflows of its
    folder on the engine's bus, so its emits start them.
    """
    from engine.files import load_environments, load_mocks, load_workflow

    workflow_path = Path(workflow_path)
    if workflow is None:
        workflow = load_workflow(workflow_path)
    folder = workflow_path.parent
    env_path = folder / ENVIRONMENTS_FILE
    envs: EnvironmentsFile | None = load_environments(env_path) if env_path.exists() else None

    services: dict[str, str] = {}
    mock_paths: list[Path] = []
    notify: list[dict[str, Any]] = []
    secret_vars: dict[str, str] = {}
    env_name: str | None = None
    if envs is not None:
        env_name = env or envs.default or (next(iter(envs.environments))
                                           if len(envs.environments) == 1 else None)
        if env_name is None:
            raise SetupError(f"{env_path}: name an environment (--env): it has no `default` "
                             f"and holds {', '.join(envs.environments) or 'none'}")
        environment = envs.environments.get(env_name)
        if environment is None:
            raise SetupError(f"{env_path}: there is no environment '{env_name}'; known: "
                             f"{', '.join(envs.environments) or 'none'}")
        services = dict(environment.services)
        mock_paths = [env_path.parent / p for p in environment.mocks]
        notify = [dict(n) for n in environment.notify]
        secret_vars = dict(environment.secrets)
        if getattr(environment, "real_time", None):
            real_time = True
    elif env is not None:
        raise SetupError(f"environment '{env}' was asked for, but there is no {ENVIRONMENTS_FILE} "
                         f"beside {workflow_path}; create one or leave out --env")
    if mocks is not None:
        mock_paths = [Path(mocks)]
    if scenario and not mock_paths:
        raise SetupError(f"scenario '{scenario}' needs a mocks file, but this run has none; "
                         "pass --mocks or use an environment with mocks")

    table = None
    if mock_paths:
        table = _merge_mocks([load_mocks(p) for p in mock_paths], scenario,
                             [str(p) for p in mock_paths])

    from engine.mocktransport import HybridTransport, MockTransport
    from engine.transport import make_live_transport

    clock: Clock
    mock_calls: Counter[str] | None = None
    if table is None:
        mode, clock = "live", RealClock()
        transport = make_live_transport()
    elif services:
        mode, clock = "hybrid", RealClock()
        mock = MockTransport(table, clock)
        transport = HybridTransport(mock, make_live_transport())
        mock_calls = mock.calls
    else:
        mode = "mock"
        clock = RealClock() if real_time else VirtualClock()
        mock = MockTransport(table, clock)
        transport, mock_calls = mock, mock.calls

    all_sinks = list(sinks)
    recorder = None
    if record is not None:
        recorder = Recorder()
        all_sinks.append(recorder)
    engine = Engine(transport=transport, services=services, clock=clock, sinks=all_sinks,
                    secrets=SecretSource(secret_vars))
    setup = RunSetup(engine=engine, workflow=workflow, env_name=env_name, mock_calls=mock_calls,
                     notify=notify, recorder=recorder,
                     record_path=Path(record) if record is not None else None, mode=mode)
    if listeners and any(isinstance(s, EmitStep) for s in workflow.steps):
        setup.warnings.extend(engine.bus.register_folder(folder, skip=[workflow_path]))
        if workflow.trigger:
            # The workflow may also be started by its own siblings' emits.
            engine.bus.register(workflow)
    return setup
