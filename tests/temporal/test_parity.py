"""Parity: the same workflows on Temporal's time-skipping server and in-process give the same
pass/fail and the same run result JSON (minus run id and start time; durations too where random
jitter makes two in-process runs differ)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("temporalio")

from engine.files.documents import load_tests  # noqa: E402
from engine.jobs.testfiles import run_tests_file  # noqa: E402
from engine.temporal.host import make_worker  # noqa: E402
from engine.temporal.testing import comparable, has_jitter, run_case, time_skipping  # noqa: E402

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
TESTS_FILES = sorted(WORKFLOWS.glob("*.tests.yaml"))


async def _both(path: Path) -> list[tuple[Any, Any, bool]]:
    local = await run_tests_file(path)
    tf = load_tests(path)
    mocks = path.parent / tf.mocks if tf.mocks else None
    out = []
    env = await time_skipping()
    async with env:
        tq = f"parity-{uuid.uuid4().hex}"
        async with make_worker(env.client, task_queue=tq):
            for case, mine in zip(tf.cases, local.cases):
                from engine.jobs.setup import prepare

                wf = prepare(workflow_path=path.parent / tf.workflow, listeners=False).workflow
                assert wf is not None
                theirs = await run_case(env.client, tq, case, path.parent / tf.workflow, mocks)
                out.append((mine, theirs, has_jitter(wf)))
    return out


def test_every_example_case_has_the_same_outcome_on_temporal() -> None:
    assert TESTS_FILES, "the examples' tests files are missing"
    n = 0
    for path in TESTS_FILES:
        for mine, theirs, jitter in asyncio.run(_both(path)):
            n += 1
            assert theirs.passed == mine.passed, (path.name, mine.name, theirs.differences)
            assert mine.passed, (path.name, mine.name, mine.differences)
            assert theirs.calls == mine.calls, (path.name, mine.name)
            assert comparable(theirs.result, not jitter) == comparable(mine.result, not jitter), (
                path.name,
                mine.name,
            )
    assert n >= 13
