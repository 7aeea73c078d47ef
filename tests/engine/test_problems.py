"""Problems found at load time that used to surface only at run time, as tracebacks, or at the
wrong place: each has a file:line:col and says what to do."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from engine import JobRequest, parse_workflow, run_job
from engine.jobs.testfiles import write_junit


def problems(text: str) -> list[str]:
    return [str(p) for p in parse_workflow(text, "w.yaml").problems]


def test_an_unknown_function_is_caught_by_validate() -> None:
    got = problems("version: 1\nname: w\nsteps:\n  - notify: 'n ${ to_nubmer(input.a) }'\n")
    assert len(got) == 1 and got[0].startswith(
        "w.yaml:4:13: steps[0].notify.message: 'to_nubmer' is not a JMESPath function; did you "
        "mean 'to_number'? (they are: abs,"
    )


def test_a_condition_is_one_expression() -> None:
    # `${ a } && ${ b }` is text with two templates: always true
    got = problems(
        "version: 1\nname: w\nsteps:\n  - notify: hi\n    if: '${ input.a } && ${ input.b }'\n"
    )
    assert got == [
        "w.yaml:5:9: steps[0].if: 'if' takes one expression, but this text holds "
        "several (so it is text, and always true): write them as one, e.g. "
        '"${ a && b }"'
    ]
    assert (
        problems("version: 1\nname: w\nsteps:\n  - notify: hi\n    if: '${ input.a && input.b }'\n")
        == []
    )


def test_deeply_nested_parentheses_are_a_problem_not_a_traceback() -> None:
    got = problems(
        "version: 1\nname: w\nsteps:\n  - notify: '${ "
        + "(" * 1000
        + "input"
        + ")" * 1000
        + " }'\n"
    )
    assert len(got) == 1 and "is nested too deeply" in got[0] and got[0].startswith("w.yaml:4:")


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("version: 1\nname: w\x01x\nsteps: []\n", "w.yaml:2:8:"),
        ("version: 1\nname: w\nsteps:\n  - notify: 'a\x07b'\n", "w.yaml:4:15:"),
    ],
)
def test_a_raw_control_character_is_found_where_it_is(text: str, where: str) -> None:
    got = problems(text)
    assert len(got) == 1 and got[0].startswith(where), got
    assert "control character" in got[0] and "\n" not in got[0]


def test_junit_holds_no_character_xml_cannot(tmp_path: Path) -> None:
    (tmp_path / "w.yaml").write_text("version: 1\nname: w\nsteps:\n  - notify: hi\n")
    (tmp_path / "w.tests.yaml").write_text(
        'version: 1\nworkflow: w.yaml\ncases:\n  - name: "bell \\x07 case"\n'
        "    expect: {status: failed}\n"
    )
    outcome = asyncio.run(run_job(JobRequest("tests", tests=[tmp_path])))
    out = tmp_path / "junit.xml"
    write_junit(outcome.payload, out)
    case = ET.parse(out).getroot().find(".//testcase")  # it parses: valid XML
    assert case is not None and case.get("name") == "bell \\x07 case"


def test_a_missing_input_names_the_required_fields(tmp_path: Path) -> None:
    (tmp_path / "w.yaml").write_text(
        "version: 1\nname: w\ninput: {type: object, required: [policyId, reason]}\n"
        "steps:\n  - notify: hi\n"
    )
    outcome = asyncio.run(run_job(JobRequest("run", path=tmp_path / "w.yaml")))
    assert outcome.exit_code == 2
    assert outcome.payload.error["message"] == (
        "the run has no input, and the workflow's input schema needs an object with policyId, "
        'reason: pass it (switchboard run --input \'{"policyId": …, "reason": …}\', or the '
        "designer's Run Input)"
    )


SELF_TRIGGER = """\
version: 1
name: loop
trigger: again
steps:
  - emit: {event: again, data: {n: 1}}
  - emit: {event: again, data: {n: 2}}
"""


def test_a_workflow_emitting_its_own_trigger_is_warned_and_stops_at_the_cascade_cap(
    tmp_path: Path,
) -> None:
    from engine import RunFinished

    loaded = parse_workflow(SELF_TRIGGER, "loop.yaml")
    assert loaded.ok and [p.severity for p in loaded.problems] == ["warning", "warning"]
    assert "its own trigger" in loaded.problems[0].message
    # two emits of its own trigger: 65,535 runs before the cap; now the cascade stops at 1,000
    (tmp_path / "loop.yaml").write_text(SELF_TRIGGER)
    finished: list[Any] = []

    def sink(e: Any) -> None:
        if isinstance(e, RunFinished):
            finished.append(e.result)

    outcome = asyncio.run(run_job(JobRequest("emit", folder=tmp_path, event="again"), sinks=[sink]))
    assert outcome.kind == "emit"
    assert len(finished) <= 1001
    failed = [r for r in finished if r.status == "failed"]
    assert failed and {r.error["type"] for r in failed} == {"limit"}
    assert "started 1,000 runs" in failed[0].error["message"]


def test_a_doubling_expression_fails_the_step_instead_of_filling_memory() -> None:
    import tracemalloc

    from engine import CallStep, MockResponse, Workflow, run_mocked

    steps = [CallStep(id="s0", service="A", action="a", output="${ body }")]
    for i in range(1, 40):
        steps.append(
            CallStep(
                id=f"s{i}",
                service="A",
                action="a",
                after=[f"s{i - 1}"],
                output=f"${{ [steps.s{i - 1}.output, steps.s{i - 1}.output] }}",
            )
        )
    tracemalloc.start()
    result, _ = asyncio.run(
        run_mocked(Workflow(name="doubling", steps=steps), {"A.a": MockResponse(body="x" * 1000)})
    )
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert result.status == "failed" and result.error["type"] == "expression"
    assert "larger than 10 MiB" in result.error["message"]
    assert peak < 100 * 1024 * 1024
