"""Parity with the engine's own semantics tests: every mocked run that `test_run_graph` and
`test_run_calls` make (order, skip, join, foreach, retries with Retry-After, timeouts, onError,
deadline, secrets, …) is made again on Temporal's time-skipping server and must give the same run
result JSON and mock call counts (minus run id and start time; durations too where jitter is
random)."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import uuid
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest

pytest.importorskip("temporalio")

from engine import MocksFile, Workflow  # noqa: E402
from engine.files.documents import dump_any, parse_workflow  # noqa: E402
from engine.temporal.activities import Activities  # noqa: E402
from engine.temporal.host import execute, make_worker  # noqa: E402
from engine.temporal.payloads import RunArgs  # noqa: E402
from engine.temporal.testing import comparable, has_jitter, time_skipping  # noqa: E402
from tests.engine import test_run_calls, test_run_graph, test_run_support  # noqa: E402

MAX_STEPS = 100  # the 10,000-step runs measure the in-process scheduler, not semantics


@dataclass
class _Made:
    test: str
    wf: Workflow
    mocks: MocksFile
    input: Any
    scenario: str | None
    secrets: dict[str, str]
    result: dict[str, Any]
    calls: dict[str, int]


def _record(module: ModuleType) -> list[_Made]:
    made: list[_Made] = []
    original = test_run_support.run_mocked
    current = [""]

    async def recording(wf: Any, mocks: Any, input: Any = None, **kw: Any) -> Any:
        out = await original(wf, mocks, input, **kw)
        if kw.get("clock") is None and not kw.get("services"):
            model = (
                wf if isinstance(wf, Workflow) else test_run_support.workflow(wf, validate=False)
            )
            table = mocks if isinstance(mocks, MocksFile) else test_run_support.mocks_file(mocks)
            made.append(
                _Made(
                    current[0],
                    model,
                    table,
                    input,
                    kw.get("scenario"),
                    kw.get("secrets") or {},
                    out.json,
                    out.calls,
                )
            )
        return out

    setattr(module, "run_mocked", recording)  # noqa: B010 - the module's own binding
    try:
        for name, fn in sorted(vars(module).items()):
            if name.startswith("test_") and callable(fn) and not inspect.signature(fn).parameters:
                current[0] = name
                with contextlib.suppress(Exception):  # the engine suite reports its failures
                    fn()
    finally:
        setattr(module, "run_mocked", original)  # noqa: B010
    return made


def _loads(wf: Workflow) -> bool:
    text = dump_any(wf)
    loaded = parse_workflow(text)
    return loaded.model is not None and not any(p.severity == "error" for p in loaded.problems)


def _plain(result: dict[str, Any], durations: bool) -> Any:
    text = json.dumps(comparable(result, durations), sort_keys=True)
    return json.loads(text.replace(result["run"], "RUN"))


async def _on_temporal(made: list[_Made]) -> list[tuple[_Made, dict[str, Any], dict[str, int]]]:
    out = []
    env = await time_skipping()
    async with env:
        for m in made:
            tq = f"engine-parity-{uuid.uuid4().hex}"
            environ = {f"SWITCHBOARD_SECRET_{k}": v for k, v in m.secrets.items()}
            acts = Activities(environ)
            args = RunArgs(
                dump_any(m.wf),
                m.input,
                uuid.uuid4().hex[:16],
                mocks=m.mocks.for_scenario(m.scenario),
                virtual_time=True,
            )
            async with make_worker(env.client, task_queue=tq, activities=acts):
                outcome = await execute(env.client, args, task_queue=tq, name=m.wf.name)
            await acts.aclose()
            out.append((m, outcome.result, outcome.calls))
    return out


@pytest.mark.parametrize(
    "module", [test_run_graph, test_run_calls], ids=["test_run_graph", "test_run_calls"]
)
def test_the_engines_semantics_runs_give_the_same_results_on_temporal(module: ModuleType) -> None:
    made = [m for m in _record(module) if len(m.wf.steps) <= MAX_STEPS and _loads(m.wf)]
    assert len(made) >= 10, "the engine's tests made fewer mocked runs than expected"
    different = []
    for m, result, calls in asyncio.run(_on_temporal(made)):
        durations = not has_jitter(m.wf)
        if _plain(result, durations) != _plain(m.result, durations) or calls != m.calls:
            different.append(
                (m.test, _plain(m.result, durations), _plain(result, durations), m.calls, calls)
            )
    assert not different, different
