"""`emit` on Temporal: listeners start as child workflows with derived ids, once, and a cascade
stops 16 runs deep as in-process; a run id starts only once (REJECT_DUPLICATE)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

pytest.importorskip("temporalio")

from temporalio.exceptions import WorkflowAlreadyStartedError  # noqa: E402

from engine.files.documents import dump_any  # noqa: E402
from engine.runtime.scheduler import MAX_EMIT_DEPTH  # noqa: E402
from engine.temporal.host import execute, make_worker, start  # noqa: E402
from engine.temporal.outbound import derived_run_id  # noqa: E402
from engine.temporal.payloads import RunArgs, RunOutcome, workflow_id  # noqa: E402
from engine.temporal.testing import time_skipping  # noqa: E402
from tests.engine.test_run_support import mocks_file, workflow  # noqa: E402

PARENT = """
version: 1
name: parent
steps:
  - emit: {event: go, data: {n: "${ input.n }"}}
"""
LISTENER = """
version: 1
name: listener
trigger: go
steps:
  - {id: call, service: S, action: a, with: {n: "${ input.n }"}}
output: "${ steps.call.output }"
"""
PING = """
version: 1
name: ping
trigger: ping
steps:
  - emit: {event: ping, data: "${ input }"}
"""
MOCKS = 'version: 1\nmocks:\n  S.a: {body: {got: "${ request.body.n }"}}\n'


def _args(text: str, input: Any, listeners: list[str]) -> RunArgs:
    return RunArgs(
        dump_any(workflow(text)),
        input,
        uuid.uuid4().hex[:16],
        mocks=mocks_file(MOCKS).mocks,
        virtual_time=True,
        listeners=[dump_any(workflow(t)) for t in listeners],
    )


async def _result(env: Any, name: str, run_id: str) -> dict[str, Any]:
    handle = env.client.get_workflow_handle(workflow_id(name, run_id), result_type=RunOutcome)
    outcome: RunOutcome = await handle.result()
    return outcome.result


def test_emit_starts_the_listeners_with_derived_ids_once() -> None:
    async def main() -> None:
        env = await time_skipping()
        async with env:
            tq = f"emit-{uuid.uuid4().hex}"
            async with make_worker(env.client, task_queue=tq):
                args = _args(PARENT, {"n": 7}, [LISTENER])
                outcome = await execute(env.client, args, task_queue=tq, name="parent")
                emitted = outcome.result["steps"]["emit"]["output"]
                child = derived_run_id(args.run_id, 1, "listener")
                assert emitted == {"event": "go", "runs": [child]}
                got = await _result(env, "listener", child)
                assert got["status"] == "succeeded" and got["output"] == {"got": 7}
                with pytest.raises(WorkflowAlreadyStartedError):
                    await start(env.client, args, task_queue=tq, name="parent")

    asyncio.run(main())


def test_a_workflow_that_triggers_itself_stops_sixteen_runs_deep() -> None:
    async def main() -> None:
        env = await time_skipping()
        async with env:
            tq = f"emit-{uuid.uuid4().hex}"
            async with make_worker(env.client, task_queue=tq):
                args = _args(PING, 1, [PING])
                outcome = await execute(env.client, args, task_queue=tq, name="ping")
                result, runs = outcome.result, 1
                while result["steps"]["emit"]["output"]["runs"]:
                    (child,) = result["steps"]["emit"]["output"]["runs"]
                    result = await _result(env, "ping", child)
                    runs += 1
                assert runs == MAX_EMIT_DEPTH
                assert result["status"] == "succeeded"

    asyncio.run(main())
