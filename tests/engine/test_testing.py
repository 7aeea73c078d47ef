"""Tests files: the JSON comparison, the differences it reports, running files, JUnit XML."""

from __future__ import annotations

import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

from engine import Difference, TestExpect, run_tests
from engine.jobs.testfiles import compare, diff_json, discover, write_junit

RESULT = {
    "run": "r1",
    "workflow": "wf",
    "status": "failed",
    "started": "2026-11-25T10:00:00Z",
    "duration_ms": 5,
    "steps": {
        "a": {
            "status": "succeeded",
            "attempts": 1,
            "output": {"n": 1},
            "error": None,
            "duration_ms": 1,
        },
        "b": {
            "status": "failed",
            "attempts": 3,
            "output": None,
            "error": {"type": "http", "message": "B.b answered HTTP 503", "status": 503},
            "duration_ms": 4,
        },
    },
    "output": {"items": [1, 2, {"k": "v"}], "ok": True},
    "error": {"type": "http", "message": "B.b answered HTTP 503", "step": "b"},
}


def test_diff_json_names_each_place_that_differs() -> None:
    got = diff_json(
        {"items": [1, 2, {"k": "w"}], "ok": True, "gone": 1}, RESULT["output"], "output"
    )
    assert [str(d) for d in got] == [
        'output.items[2].k: expected "w", got "v"',
        "output.gone: expected 1, got (missing)",
    ]


def test_diff_json_extra_keys_lengths_and_types() -> None:
    assert [str(d) for d in diff_json({"a": 1}, {"a": 1, "b": 2}, "out")] == [
        "out.b: expected (missing), got 2 (not expected)"
    ]
    assert [str(d) for d in diff_json([1, 2], [1], "out")] == [
        "out: expected [1, 2], got [1] (2 items expected, 1 came)"
    ]
    assert diff_json(1, 1.0) == []  # JSON has one number type
    assert diff_json(True, 1) != []  # but true is not 1
    assert diff_json({"x": None}, {}) != []  # null is not missing
    assert diff_json("1", 1) != []


def test_compare_passes_when_every_named_key_matches() -> None:
    ex = TestExpect(
        status="failed",
        steps={"a": "succeeded", "b": "failed"},
        output={"ok": True, "items": [1, 2, {"k": "v"}]},
        has_output=True,
        calls={"B.b": 3, "C.c": 0},
        error={"type": "http", "step": "b", "message": "HTTP 503"},
    )
    assert compare(ex, RESULT, {"A.a": 1, "B.b": 3}) == []


def test_compare_reports_status_steps_calls_and_error_with_paths() -> None:
    ex = TestExpect(
        status="succeeded",
        steps={"b": "succeeded", "zz": "skipped"},
        calls={"B.b": 1},
        error={"type": "timeout", "message": "no answer"},
    )
    diffs = compare(ex, RESULT, {"B.b": 3})
    assert [str(d) for d in diffs] == [
        'status: expected "succeeded", got "failed" (http: B.b answered HTTP 503)',
        'steps.b: expected "succeeded", got "failed" (http: B.b answered HTTP 503)',
        'steps.zz: expected "skipped", got (missing) (no such step in the run)',
        "calls.B.b: expected 1, got 3",
        'error.type: expected "timeout", got "http"',
        'error.message: expected "no answer", got "B.b answered HTTP 503" '
        "(expected text not found in the message)",
    ]
    assert all(isinstance(d, Difference) for d in diffs)


def test_compare_output_null_is_checked_only_when_written() -> None:
    assert compare(TestExpect(), RESULT, {}) == []
    ex = TestExpect(output=None, has_output=True)
    assert [d.path for d in compare(ex, RESULT, {})] == ["output"]
    ok = dict(RESULT, error=None, status="succeeded")
    assert [str(d) for d in compare(TestExpect(error={"type": "http"}), ok, {})] == [
        'error: expected {"type": "http"}, got null'
    ]


WORKFLOW = """\
version: 1
name: tiny
input:
  type: object
  required: [n]
steps:
  - service: Svc
    action: get
    retry:
      attempts: 3
      delay: 1s
  - notify:
      message: got ${ steps.get.output.n }
output: ${ steps.get.output }
"""
MOCKS = """\
version: 1
mocks:
  Svc.get:
    - status: 503
    - status: 200
      body:
        n: ${ request.body.n }
scenarios:
  down:
    Svc.get:
      fault: connection
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def tiny(tmp_path: Path, cases: str) -> Path:
    write(tmp_path, "tiny.yaml", WORKFLOW)
    write(tmp_path, "tiny.mocks.yaml", MOCKS)
    return write(
        tmp_path,
        "tiny.tests.yaml",
        "version: 1\nworkflow: tiny.yaml\nmocks: tiny.mocks.yaml\ncases:\n" + cases,
    )


def test_run_tests_passes_and_fails_cases_with_readable_differences(tmp_path: Path) -> None:
    path = tiny(
        tmp_path,
        """\
  - name: retried once
    input: {n: 4}
    expect:
      status: succeeded
      steps: {get: succeeded, notify: succeeded}
      output: {n: 4}
      calls: {Svc.get: 2}
  - name: wrong on purpose
    input: {n: 4}
    expect:
      output: {n: 5}
      calls: {Svc.get: 1}
  - name: service down
    scenario: down
    input: {n: 1}
    expect:
      status: failed
      error: {type: connection, step: get}
      calls: {Svc.get: 3}
""",
    )
    report = run_tests([path])
    (f,) = report.files
    assert f.problems == []
    assert [(c.name, c.passed) for c in f.cases] == [
        ("retried once", True),
        ("wrong on purpose", False),
        ("service down", True),
    ]
    assert [str(d) for d in f.cases[1].differences] == [
        "output.n: expected 5, got 4",
        "calls.Svc.get: expected 1, got 2",
    ]
    assert f.cases[0].result is not None and f.cases[0].result["steps"]["get"]["attempts"] == 2
    assert (report.passed, report.failed, report.errors) == (2, 1, 0)
    assert report.summary() == "2 passed, 1 failed"
    assert not report.ok


def test_a_tests_file_that_does_not_load_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    path = tiny(
        tmp_path,
        """\
  - name: unknown scenario
    scenario: nope
    expect: {status: succeeded}
""",
    )
    report = run_tests([path])
    (f,) = report.files
    assert f.cases == []
    assert "scenario 'nope' is not in tiny.mocks.yaml" in str(f.problems[0])
    assert (f.problems[0].line, f.problems[0].col) == (6, 15)
    assert report.errors == 1 and "1 could not run" in report.summary()
    bad = write(tmp_path, "broken.tests.yaml", "version: 1\nworkflow: tiny.yaml\ncases: 3\n")
    assert "'cases' must be a list" in str(run_tests([bad]).files[0].problems[0])


def test_a_workflow_file_is_not_taken_for_a_tests_file(tmp_path: Path) -> None:
    write(tmp_path, "tiny.yaml", WORKFLOW)
    (f,) = run_tests([tmp_path / "tiny.yaml"]).files
    assert "not a tests file" in f.problems[0].message


def test_discover_finds_tests_files_in_folders_once(tmp_path: Path) -> None:
    a = tiny(tmp_path, "  - name: x\n    expect: {status: failed}\n")
    sub = tmp_path / "sub"
    sub.mkdir()
    b = write(sub, "other.tests.yml", "version: 1\n")
    hidden = tmp_path / ".cache"
    hidden.mkdir()
    write(hidden, "old.tests.yaml", "version: 1\n")
    assert discover([tmp_path, a]) == [b, a]
    assert discover([hidden]) == [hidden / "old.tests.yaml"]


def test_junit_xml_has_a_suite_per_file_and_failure_text(tmp_path: Path) -> None:
    path = tiny(
        tmp_path,
        """\
  - name: passes
    input: {n: 1}
    expect: {status: succeeded}
  - name: fails
    input: {n: 1}
    expect: {status: failed}
""",
    )
    report = run_tests([path])
    out = tmp_path / "reports" / "junit.xml"
    write_junit(report, out)
    root = ET.parse(out).getroot()
    assert root.tag == "testsuites" and root.get("tests") == "2" and root.get("failures") == "1"
    (suite,) = root
    assert suite.get("name") == str(path) and suite.get("failures") == "1"
    cases = {c.get("name"): c for c in suite}
    assert cases["passes"].find("failure") is None
    failure = cases["fails"].find("failure")
    assert failure is not None
    assert failure.get("message") == 'status: expected "failed", got "succeeded"'
