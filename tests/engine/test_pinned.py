"""Pinned steps ("run from here"): they finish at once with the recorded output, send nothing,
and the steps after them read that output."""

from __future__ import annotations

import asyncio
from pathlib import Path

from engine import JobRequest, run_job

POLICY = Path(__file__).resolve().parents[2] / "workflows" / "policy_change.yaml"


def _run(**more):  # type: ignore[no-untyped-def]
    outcome = asyncio.run(
        run_job(JobRequest("run", path=POLICY, input={"policyId": "P-7"}, env="mock", **more))
    )
    assert outcome.kind == "run", outcome.message
    return outcome.payload


def test_a_pinned_step_replays_its_output_and_sends_nothing() -> None:
    pinned = {
        "updatePolicy": {"status": "succeeded", "output": {"policyId": "P-7", "version": 99}},
        "check": {"status": "succeeded", "output": {"status": "pass"}, "attempts": 3},
    }
    result = _run(pinned=pinned)
    assert result.status == "succeeded"
    assert result.steps["updatePolicy"].output == {"policyId": "P-7", "version": 99}
    assert result.steps["updatePolicy"].attempts == 0
    assert result.steps["check"].attempts == 3  # as recorded
    # the steps after read the pinned outputs: the version and the attempts are in the message
    assert result.steps["sendUpdate"].status == "succeeded"
    assert result.steps["adminSuccess"].output["message"] == (
        "Policy P-7 passed compliance after 3 attempt(s) and is live."
    )
    assert result.steps["revertPolicy"].status == "skipped"
    # without pins the mocked check needs three attempts and its output says who checked
    plain = _run()
    assert plain.steps["check"].output != {"status": "pass"}


def test_a_pinned_failure_is_continued_past() -> None:
    pinned = {
        "updatePolicy": {"status": "succeeded", "output": {"version": 1}},
        "check": {
            "status": "failed",
            "output": None,
            "error": {"type": "http", "message": "HTTP 500", "status": 500},
        },
    }
    result = _run(pinned=pinned)
    assert result.steps["check"].status == "failed"
    assert result.steps["check"].error["status"] == 500
    assert result.steps["revertPolicy"].status == "succeeded"  # the failure path ran
