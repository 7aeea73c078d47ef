"""Temporal's limits as clear errors: a response body too big for a payload fails its step (the
run still reports), a history near its limit stops the run, pending activities are capped."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("temporalio")

from engine import run_mocked  # noqa: E402
from engine.files.documents import dump_any  # noqa: E402
from engine.temporal.activities import Activities  # noqa: E402
from engine.temporal.host import execute, make_worker  # noqa: E402
from engine.temporal.limits import fit_result, trimmed  # noqa: E402
from engine.temporal.payloads import RunArgs  # noqa: E402
from engine.temporal.testing import comparable, dev_server, time_skipping  # noqa: E402
from tests.engine.test_run_support import mocks_file, workflow  # noqa: E402

EACH = """
version: 1
name: each
steps:
  - id: each
    service: S
    action: one
    foreach: "${ input }"
    maxConcurrency: 10
    with: {n: "${ item }"}
"""
MOCKS = 'version: 1\nmocks:\n  S.one: {body: {n: "${ request.body.n }"}, delay: 10ms}\n'


async def _run(
    wf_text: str, mocks_text: str, input: Any, *, payload_limit: int = 1_500_000, **limits: int
) -> dict[str, Any]:
    args = RunArgs(
        dump_any(workflow(wf_text)),
        input,
        uuid.uuid4().hex[:16],
        mocks=mocks_file(mocks_text).mocks,
        virtual_time=True,
    )
    args = replace(args, **limits)
    env = await time_skipping()
    async with env:
        tq = f"limits-{uuid.uuid4().hex}"
        acts = Activities({}, payload_limit=payload_limit)
        async with make_worker(env.client, task_queue=tq, activities=acts):
            return (await execute(env.client, args, task_queue=tq, name="each")).result


def test_a_body_too_big_for_a_payload_fails_its_step_with_a_message() -> None:
    wf = (
        "version: 1\nname: big\nsteps:\n  - {id: get, service: S, action: big, "
        'onError: continue}\n  - notify: "after ${ steps.get.status }"\n'
    )
    mocks = 'version: 1\nmocks:\n  S.big: {body: {blob: "' + "x" * 5000 + '"}}\n'
    result = asyncio.run(_run(wf, mocks, None, payload_limit=1000))
    error = result["steps"]["get"]["error"]
    assert result["steps"]["get"]["status"] == "failed" and error["type"] == "http"
    assert "bytes" in error["message"] and "Temporal" in error["message"]
    assert result["steps"]["notify"]["output"]["message"] == "after failed"


def test_a_run_near_the_history_limit_stops_with_a_clear_error() -> None:
    result = asyncio.run(_run(EACH, MOCKS, list(range(40)), history_limit=60))
    assert result["status"] == "failed"
    assert result["error"]["type"] == "limit" and result["error"]["step"] == "each"
    assert "51,200" in result["error"]["message"]


def test_capped_pending_activities_change_nothing_but_the_pace() -> None:
    items = list(range(12))
    theirs = asyncio.run(_run(EACH, MOCKS, items, max_pending=3))
    mine, _ = asyncio.run(run_mocked(workflow(EACH), mocks_file(MOCKS), items))
    assert comparable(theirs, durations=False) == comparable(mine.to_json(), durations=False)
    assert theirs["steps"]["each"]["output"] == [{"n": i} for i in items]


def test_a_result_too_big_for_a_payload_fails_the_run_with_a_message_on_the_dev_server(
    tmp_path: Path,
) -> None:
    # each body fits the activity's limit, but the result (and the step's events) would not:
    # the dev server enforces 2 MB a payload, and the run hung retrying its last task
    wf = (
        "version: 1\nname: big\nsteps:\n  - {id: one, service: S, action: big}\n"
        "  - {id: two, service: S, action: big}\n"
    )
    mocks = 'version: 1\nmocks:\n  S.big: {body: {blob: "' + "x" * 1_200_000 + '"}}\n'
    events = tmp_path / "events.jsonl"

    async def main() -> dict[str, Any]:
        args = RunArgs(
            dump_any(workflow(wf)),
            None,
            uuid.uuid4().hex[:16],
            mocks=mocks_file(mocks).mocks,
            virtual_time=True,
            events=[{"file": str(events)}],
        )
        env = await dev_server()
        async with env:
            tq = f"limits-{uuid.uuid4().hex}"
            async with make_worker(env.client, task_queue=tq):
                outcome = execute(env.client, args, task_queue=tq, name="big")
                return (await asyncio.wait_for(outcome, 60)).result

    result = asyncio.run(main())
    assert result["status"] == "failed" and result["error"]["type"] == "limit"
    assert "2 MB" in result["error"]["message"] and "in-process" in result["error"]["message"]
    assert result["steps"]["one"]["status"] == result["steps"]["two"]["status"] == "succeeded"
    assert "omitted" in result["steps"]["one"]["output"]["blob"]
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    assert lines[-1]["event"] == "RunFinished" and lines[-1]["result"] == result
    finished = [e for e in lines if e["event"] == "StepFinished"]
    assert len(finished) == 2 and "omitted" in finished[0]["output"]["blob"]


def test_trimmed_keeps_small_parts_and_notes_big_ones() -> None:
    value = {"id": 7, "items": ["x" * 100, "y" * 10], "blob": "z" * 5000}
    got = trimmed(value, 1000)
    assert got["id"] == 7 and got["items"] == value["items"]
    assert "5,002 bytes" in got["blob"]["omitted"]
    small = {"run": "r", "status": "succeeded", "steps": {}, "output": 1, "error": None}
    assert fit_result(small, 1000) is small
