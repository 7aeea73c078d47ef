"""EngineProcess, the designer's handle on an engine worker: start, messages, failures, stop."""

from __future__ import annotations

import pickle
import shutil
import sys
import threading

from designer.run.engine_process import EngineProcess
from engine import JobOutcome, JobRequest, load_workflow
from tests.designer.run_support import WORKFLOWS


class Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes | None] = []
        self.outcome = threading.Event()
        self.gone = threading.Event()

    def __call__(self, data: bytes | None) -> None:
        self.messages.append(data)
        if data is None:
            self.gone.set()
        elif data[:1] == b"O":
            self.outcome.set()


def test_jobs_sent_before_the_worker_connects_run_in_order():
    inbox = Inbox()
    process = EngineProcess(inbox)
    wf = load_workflow(WORKFLOWS / "policy_change.yaml")
    try:
        process.send(JobRequest("run", workflow=wf,
                                path=WORKFLOWS / "policy_change.yaml",
                                input={"policyId": "P-7"}, run_id="r-9"))
        assert inbox.outcome.wait(30)
        outcome: JobOutcome = pickle.loads(inbox.messages[-1][1:])  # type: ignore[index]
        assert outcome.kind == "run" and outcome.payload.status == "succeeded"
        assert process.running
    finally:
        process.stop()
    assert inbox.gone.wait(10) and not process.running


def test_a_worker_that_never_connects_is_reported_gone(monkeypatch):
    inbox = Inbox()
    monkeypatch.setattr(sys, "executable", shutil.which("false"))  # exits at once
    process = EngineProcess(inbox)
    process.send("cancel")
    assert inbox.gone.wait(10)
    assert inbox.messages == [None]
    process.stop()
