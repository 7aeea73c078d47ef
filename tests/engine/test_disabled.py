"""`disabled: true` on a step: read, written back, warned of, and skipped by every run."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import jsonschema

from engine import MockResponse, dump_workflow, parse_workflow, run_mocked

SCHEMA = Path(__file__).resolve().parents[2] / "resources" / "schema" / "workflow.schema.json"

TEXT = """version: 1
name: w
steps:
  - service: A
    action: first
  - id: second
    disabled: true
    service: B
    action: b
  - notify:
      message: after second
  - id: free
    after: [first]
    notify:
      message: runs anyway
"""


def test_read_written_back_and_warned() -> None:
    loaded = parse_workflow(TEXT, "w.yaml")
    assert loaded.ok and loaded.model is not None
    assert [s.disabled for s in loaded.model.steps] == [False, True, False, False]
    assert dump_workflow(loaded.model) == TEXT  # byte for byte
    warnings = [p for p in loaded.problems if p.severity == "warning"]
    assert len(warnings) == 1 and (warnings[0].line, warnings[0].col) == (7, 15)
    assert "'second' is disabled" in warnings[0].message
    jsonschema.validate(json.loads(json.dumps(_data(TEXT))), json.loads(SCHEMA.read_text()))


def _data(text: str):
    import yaml

    return yaml.safe_load(text)


def test_not_a_boolean_is_a_located_error() -> None:
    loaded = parse_workflow(TEXT.replace("disabled: true", "disabled: 'yes'"), "w.yaml")
    errors = [p for p in loaded.problems if p.severity == "error"]
    assert errors and "'disabled' must be true or false" in errors[0].message
    assert (errors[0].line, errors[0].col) == (7, 15)


def test_a_run_skips_the_step_and_what_runs_only_after_it() -> None:
    wf = parse_workflow(TEXT, "w.yaml").unwrap()
    mocks = {"A.first": MockResponse(body={"ok": 1}), "B.b": MockResponse(body={"called": 1})}
    result, events = asyncio.run(run_mocked(wf, mocks))
    states = {sid: r.status for sid, r in result.steps.items()}
    assert states == {
        "first": "succeeded",
        "second": "skipped",
        "notify": "skipped",  # only after 'second'
        "free": "succeeded",
    }
    assert result.status == "succeeded"
    calls = [e for e in events if type(e).__name__ == "StepFinished" and e.step == "second"]
    assert calls and not calls[0].calls  # no request went out


def test_a_serverless_export_never_runs_the_disabled_task() -> None:
    from engine.files.serverless import export_serverless

    wf = parse_workflow(TEXT, "w.yaml").unwrap()
    doc = export_serverless(wf).document
    text = json.dumps(doc)
    assert '"second": {"if": "${ (false) }"' in text  # skipped in every run there too
