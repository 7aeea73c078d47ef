"""`notes:` — sticky comments kept with the layout: read, written back, checked, ignored by runs."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import jsonschema
import yaml

from engine import MockResponse, Note, dump_workflow, parse_workflow, run_mocked

SCHEMA = Path(__file__).resolve().parents[2] / "resources" / "schema" / "workflow.schema.json"

TEXT = """version: 1
name: w
steps:
  - service: A
    action: a
layout:
  a: [0, 0]
notes:
  - text: |-
      Ask the compliance team
      before changing the retry.
    at: [240, -120]
  - text: two
    at: [0.5, 80]
"""


def test_read_written_back_byte_for_byte_and_valid_against_the_schema() -> None:
    loaded = parse_workflow(TEXT, "w.yaml")
    assert loaded.ok and loaded.model is not None
    assert loaded.model.notes == [
        Note("Ask the compliance team\nbefore changing the retry.", (240, -120)),
        Note("two", (0.5, 80)),
    ]
    assert dump_workflow(loaded.model) == TEXT
    jsonschema.validate(yaml.safe_load(TEXT), json.loads(SCHEMA.read_text()))


def test_bad_notes_are_located_problems() -> None:
    bad = TEXT.replace("at: [0.5, 80]", "at: [0.5]").replace("  - text: two", "  - text: 2")
    problems = [p for p in parse_workflow(bad, "w.yaml").problems if p.severity == "error"]
    assert [(p.line, p.message.split(",")[0]) for p in problems] == [
        (13, "a note's 'text' must be text")
    ]
    bad = TEXT.replace("    at: [240, -120]", "    at: [240, -120]\n    colour: yellow")
    problems = parse_workflow(bad, "w.yaml").problems
    assert any("colour" in p.message and p.line == 13 for p in problems)
    bad = TEXT.replace("at: [0.5, 80]", "at: [1e309, 80]")
    assert any("'at' is [x, y]" in p.message for p in parse_workflow(bad, "w.yaml").problems)


def test_a_run_ignores_notes() -> None:
    wf = parse_workflow(TEXT, "w.yaml").unwrap()
    result, _ = asyncio.run(run_mocked(wf, {"A.a": MockResponse(body={"ok": True})}))
    assert result.status == "succeeded" and list(result.steps) == ["a"]
