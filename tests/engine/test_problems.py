"""Problems found at load time that used to surface only at run time, as tracebacks, or at the
wrong place: each has a file:line:col and says what to do."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from engine import JobRequest, parse_workflow, run_job
from engine.jobs.testfiles import write_junit


def problems(text: str) -> list[str]:
    return [str(p) for p in parse_workflow(text, "w.yaml").problems]


def test_an_unknown_function_is_caught_by_validate() -> None:
    got = problems("version: 1\nname: w\nsteps:\n  - notify: 'n ${ to_nubmer(input.a) }'\n")
    assert len(got) == 1 and got[0].startswith(
        "w.yaml:4:13: steps[0].notify.message: 'to_nubmer' is not a JMESPath function; did you "
        "mean 'to_number'? (they are: abs,")


def test_a_condition_is_one_expression() -> None:
    # `${ a } && ${ b }` is text with two templates: always true
    got = problems("version: 1\nname: w\nsteps:\n  - notify: hi\n"
                   "    if: '${ input.a } && ${ input.b }'\n")
    assert got == ["w.yaml:5:9: steps[0].if: 'if' takes one expression, but this text holds "
                   "several (so it is text, and always true): write them as one, e.g. "
                   "\"${ a && b }\""]
    assert problems("version: 1\nname: w\nsteps:\n  - notify: hi\n"
                    "    if: '${ input.a && input.b }'\n") == []


def test_deeply_nested_parentheses_are_a_problem_not_a_traceback() -> None:
    got = problems("version: 1\nname: w\nsteps:\n  - notify: '${ " + "(" * 1000 + "input"
                   + ")" * 1000 + " }'\n")
    assert len(got) == 1 and "is nested too deeply" in got[0] and got[0].startswith("w.yaml:4:")


@pytest.mark.parametrize(("text", "where"), [
    ("version: 1\nname: w\x01x\nsteps: []\n", "w.yaml:2:8:"),
    ("version: 1\nname: w\nsteps:\n  - notify: 'a\x07b'\n", "w.yaml:4:15:"),
])
def test_a_raw_control_character_is_found_where_it_is(text: str, where: str) -> None:
    got = problems(text)
    assert len(got) == 1 and got[0].startswith(where), got
    assert "control character" in got[0] and "\n" not in got[0]


def test_junit_holds_no_character_xml_cannot(tmp_path: Path) -> None:
    (tmp_path / "w.yaml").write_text("version: 1\nname: w\nsteps:\n  - notify: hi\n")
    (tmp_path / "w.tests.yaml").write_text(
        'version: 1\nworkflow: w.yaml\ncases:\n  - name: "bell \\x07 case"\n'
        "    expect: {status: failed}\n")
    outcome = asyncio.run(run_job(JobRequest("tests", tests=[tmp_path])))
    out = tmp_path / "junit.xml"
    write_junit(outcome.payload, out)
    case = ET.parse(out).getroot().find(".//testcase")  # it parses: valid XML
    assert case is not None and case.get("name") == "bell \\x07 case"


def test_a_missing_input_names_the_required_fields(tmp_path: Path) -> None:
    (tmp_path / "w.yaml").write_text(
        "version: 1\nname: w\ninput: {type: object, required: [policyId, reason]}\n"
        "steps:\n  - notify: hi\n")
    outcome = asyncio.run(run_job(JobRequest("run", path=tmp_path / "w.yaml")))
    assert outcome.exit_code == 2
    assert outcome.payload.error["message"] == (
        "the run has no input, and the workflow's input schema needs an object with policyId, "
        "reason: pass it (switchboard run --input '{\"policyId\": …, \"reason\": …}', or the "
        "designer's Run Input)")
