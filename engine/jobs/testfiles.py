"""Tests files: run each case on mocks, compare with its expectation, report differences, JUnit.

A case passes when every key its `expect` names matches: `status`; `steps` (id -> status);
`output` (equal JSON: 1 equals 1.0, true does not equal 1, key order does not matter); `calls`
(`Service.action` -> times the mock was asked, faults included; a key left out is not checked);
`error` (only the keys given; `message` matches when it is part of the actual message). Each
mismatch is a `Difference` with the path where it is (`output.results[1].status`).

Cases run one after the other, each on a fresh engine with virtual time, so a case never sees
another's mock call counts and a whole file takes milliseconds. The environment's notification
sinks are not attached: a test run must not post to a team's webhook.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.core.errors import LoadError, Problem, SwitchboardError
from engine.core.model import TestCase, TestExpect
from engine.files.documents import check_file
from engine.files.folder import TESTS_SUFFIX, find_tests_files
from engine.jobs.setup import prepare

__all__ = [
    "Difference",
    "CaseResult",
    "FileResult",
    "TestReport",
    "compare",
    "diff_json",
    "discover",
    "run_tests_file",
    "run_tests",
    "write_junit",
]

_MISSING: Any = type("_Missing", (), {"__repr__": lambda self: "(missing)"})()


def _show(value: Any) -> str:
    if value is _MISSING:
        return "(missing)"
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


@dataclass(frozen=True)
class Difference:
    """One mismatch: where (`steps.check`, `output.items[2]`), what was expected, what came."""

    __test__ = False

    path: str
    expected: Any
    got: Any
    note: str = ""

    def __str__(self) -> str:
        tail = f" ({self.note})" if self.note else ""
        return f"{self.path}: expected {_show(self.expected)}, got {_show(self.got)}{tail}"

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "expected": None if self.expected is _MISSING else self.expected,
            "got": None if self.got is _MISSING else self.got,
            "note": self.note,
        }


def _json_equal(a: Any, b: Any) -> bool:
    # JSON has one number type, but true is not 1 (Python's `True == 1` would say it is).
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and a == b


def diff_json(expected: Any, got: Any, path: str = "") -> list[Difference]:
    """Every place where two JSON values differ, deepest first-found order, with its path."""
    if isinstance(expected, dict) and isinstance(got, dict):
        out: list[Difference] = []
        for k in expected:
            sub = f"{path}.{k}" if path else str(k)
            if k not in got:
                out.append(Difference(sub, expected[k], _MISSING))
            else:
                out.extend(diff_json(expected[k], got[k], sub))
        for k in got:
            if k not in expected:
                sub = f"{path}.{k}" if path else str(k)
                out.append(Difference(sub, _MISSING, got[k], "not expected"))
        return out
    if isinstance(expected, list) and isinstance(got, list):
        if len(expected) != len(got):
            return [
                Difference(path, expected, got, f"{len(expected)} items expected, {len(got)} came")
            ]
        out = []
        for i, (e, g) in enumerate(zip(expected, got)):
            out.extend(diff_json(e, g, f"{path}[{i}]"))
        return out
    if _json_equal(expected, got):
        return []
    return [Difference(path, expected, got)]


def compare(
    expect: TestExpect, result: Mapping[str, Any], calls: Mapping[str, int] | None
) -> list[Difference]:
    """Differences between an expectation and a run result (the `--json` object)."""
    out: list[Difference] = []
    if expect.status is not None and result.get("status") != expect.status:
        note = ""
        err = result.get("error")
        if isinstance(err, dict) and err.get("message"):
            note = f"{err.get('type')}: {err.get('message')}"
        out.append(Difference("status", expect.status, result.get("status"), note))
    steps = result.get("steps") or {}
    for sid, want in expect.steps.items():
        got = steps.get(sid)
        if got is None:
            out.append(Difference(f"steps.{sid}", want, _MISSING, "no such step in the run"))
        elif got.get("status") != want:
            why = got.get("error") or {}
            note = f"{why.get('type')}: {why.get('message')}" if why else ""
            out.append(Difference(f"steps.{sid}", want, got.get("status"), note))
    if expect.has_output:
        out.extend(diff_json(expect.output, result.get("output"), "output"))
    if expect.calls:
        counted = calls or {}
        for target, n in expect.calls.items():
            got_n = counted.get(target, 0)
            if got_n != n:
                out.append(Difference(f"calls.{target}", n, got_n))
    if expect.error is not None:
        err = result.get("error")
        if not isinstance(err, dict):
            out.append(Difference("error", expect.error, err))
        else:
            for key, want in expect.error.items():
                got = err.get(key, _MISSING)
                if key == "message" and isinstance(got, str) and isinstance(want, str):
                    if want not in got:
                        out.append(
                            Difference(
                                "error.message", want, got, "expected text not found in the message"
                            )
                        )
                elif got is _MISSING or not _json_equal(want, got):
                    out.append(Difference(f"error.{key}", want, got))
    return out


@dataclass
class CaseResult:
    """One case's outcome. `error` is set when the case could not run at all (not a mismatch)."""

    __test__ = False

    name: str
    passed: bool
    differences: list[Difference] = field(default_factory=list)
    result: dict[str, Any] | None = None
    calls: dict[str, int] = field(default_factory=dict)
    duration_ms: int = 0  # wall time the case took to run here (virtual time is in `result`)
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "passed": self.passed,
            "differences": [d.to_json() for d in self.differences],
            "result": self.result,
            "calls": self.calls,
            "duration_ms": self.duration_ms,
            "error": self.error,
        }


@dataclass
class FileResult:
    """A tests file's outcome: its cases, or the problems that kept it from running."""

    __test__ = False

    path: str
    workflow: str = ""
    cases: list[CaseResult] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and all(c.passed for c in self.cases)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "workflow": self.workflow,
            "cases": [c.to_json() for c in self.cases],
            "problems": [p.to_json() for p in self.problems],
        }


@dataclass
class TestReport:
    """Every file's outcome, with the counts the summary line gives."""

    __test__ = False

    files: list[FileResult] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(1 for f in self.files for c in f.cases if c.passed)

    @property
    def failed(self) -> int:
        return sum(1 for f in self.files for c in f.cases if not c.passed and c.error is None)

    @property
    def errors(self) -> int:
        """Cases that could not run, plus files that could not be read."""
        return sum(1 for f in self.files for c in f.cases if c.error is not None) + sum(
            1 for f in self.files if f.problems
        )

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.files)

    def summary(self) -> str:
        text = f"{self.passed} passed, {self.failed} failed"
        return text + (f", {self.errors} could not run" if self.errors else "")

    def to_json(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "failed": self.failed,
            "errors": self.errors,
            "files": [f.to_json() for f in self.files],
        }


def discover(paths: Iterable[str | Path]) -> list[Path]:
    """Tests files among `paths`: files as given, folders searched for tests files."""
    return find_tests_files(paths)


async def _run_case(case: TestCase, workflow_path: Path, mocks_path: Path | None) -> CaseResult:
    started = time.perf_counter()
    try:
        setup = prepare(
            workflow_path=workflow_path, env=case.env, mocks=mocks_path, scenario=case.scenario
        )
    except LoadError as e:
        return CaseResult(case.name, False, error="; ".join(str(p) for p in e.problems))
    except (SwitchboardError, KeyError, ValueError, OSError) as e:
        return CaseResult(case.name, False, error=f"could not prepare the run: {e}")
    try:
        if setup.mock_calls is None and case.expect.calls:
            return CaseResult(
                case.name,
                False,
                error=(
                    f"'calls' needs a mocked run, but environment '{setup.env_name}' is live: "
                    "give the tests file a 'mocks:' file"
                ),
            )
        try:
            run = await setup.run(case.input)
        except Exception as e:  # an engine bug must not hide the other cases' results
            return CaseResult(case.name, False, error=f"the run raised {type(e).__name__}: {e}")
    finally:
        await setup.finish()
    result = run.to_json()
    calls = dict(setup.mock_calls or {})
    diffs = compare(case.expect, result, calls)
    return CaseResult(
        case.name, not diffs, diffs, result, calls, int((time.perf_counter() - started) * 1000)
    )


async def run_tests_file(path: str | Path) -> FileResult:
    """Run every case of one tests file. Problems with the files end up in `problems`."""
    path = Path(path)
    out = FileResult(str(path))
    loaded = check_file(path)
    errors = [p for p in loaded.problems if p.severity == "error"]
    if loaded.kind not in ("tests", "unknown") and not errors:
        errors = [
            Problem(
                f"this is a {loaded.kind} file, not a tests file (tests files end in "
                f"{TESTS_SUFFIX} and hold 'cases')",
                file=str(path),
            )
        ]
    if errors or loaded.model is None:
        out.problems = errors or [
            Problem("the file could not be read as a tests file", file=str(path))
        ]
        return out
    tf = loaded.model
    base = path.parent
    out.workflow = tf.workflow
    mocks = base / tf.mocks if tf.mocks else None
    for case in tf.cases:
        out.cases.append(await _run_case(case, base / tf.workflow, mocks))
    return out


async def run_tests_async(paths: Sequence[str | Path]) -> TestReport:
    report = TestReport()
    for p in discover(paths):
        report.files.append(await run_tests_file(p))
    return report


def run_tests(paths: Sequence[str | Path]) -> TestReport:
    """Run the tests files among `paths` (files or folders) on a fresh event loop."""
    return asyncio.run(run_tests_async(paths))


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_text(text: str) -> str:
    """Text XML 1.0 can hold: a control character becomes its `\\xNN` spelling."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def write_junit(report: TestReport, path: str | Path) -> None:
    """JUnit XML, one <testsuite> per tests file, as CI servers read it."""
    suites = ET.Element(
        "testsuites",
        tests=str(report.passed + report.failed + report.errors),
        failures=str(report.failed),
        errors=str(report.errors),
    )
    for f in report.files:
        n_fail = sum(1 for c in f.cases if not c.passed and c.error is None)
        n_err = sum(1 for c in f.cases if c.error is not None) + (1 if f.problems else 0)
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=_xml_text(f.path),
            tests=str(len(f.cases) + (1 if f.problems else 0)),
            failures=str(n_fail),
            errors=str(n_err),
            time=f"{sum(c.duration_ms for c in f.cases) / 1000:.3f}",
        )
        if f.problems:
            tc = ET.SubElement(suite, "testcase", name="(load)", classname=_xml_text(f.path))
            text = _xml_text("\n".join(str(p) for p in f.problems))
            ET.SubElement(tc, "error", message=_xml_text(str(f.problems[0].message))).text = text
        for c in f.cases:
            tc = ET.SubElement(
                suite,
                "testcase",
                name=_xml_text(c.name),
                classname=_xml_text(f.workflow or f.path),
                time=f"{c.duration_ms / 1000:.3f}",
            )
            if c.error is not None:
                ET.SubElement(tc, "error", message=_xml_text(c.error)).text = _xml_text(c.error)
            elif not c.passed:
                text = _xml_text("\n".join(str(d) for d in c.differences))
                ET.SubElement(tc, "failure", message=_xml_text(str(c.differences[0]))).text = text
    tree = ET.ElementTree(suites)
    ET.indent(tree)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    tree.write(path, encoding="utf-8", xml_declaration=True)
