"""The examples under workflows/: valid, canonical, runnable from the command line, tests pass."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine import load_environments, load_tests, load_workflow, workflow_files
from engine.cli import main

ROOT = Path(__file__).resolve().parents[2]
WF = ROOT / "workflows"
WORKFLOWS = workflow_files(WF)
TESTS = sorted(WF.glob("*.tests.yaml"))


def test_the_examples_are_there() -> None:
    names = {p.name for p in WORKFLOWS}
    assert {"policy_change.yaml", "emergency_dispatch.yaml", "policy_review.yaml"} <= names
    for wf in WORKFLOWS:
        stem = wf.name.removesuffix(".yaml")
        assert (WF / f"{stem}.mocks.yaml").is_file(), f"{wf.name} has no mocks file"
        assert (WF / f"{stem}.tests.yaml").is_file(), f"{wf.name} has no tests file"


@pytest.mark.parametrize("paths", [["workflows/"], []], ids=["named", "default"])
def test_switchboard_test_passes_every_example(
    paths: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)  # `switchboard test` with no path runs ./workflows
    code = main(["test", *paths])
    out = capsys.readouterr().out
    assert code == 0, out
    cases = sum(len(load_tests(t).cases) for t in TESTS)
    assert out.splitlines()[-1] == f"{cases} passed, 0 failed"


def test_validate_and_fmt_check_accept_the_examples(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--strict", str(WF)]) == 0, capsys.readouterr().out
    assert main(["fmt", "--check", str(WF)]) == 0, capsys.readouterr().out


def test_environments_file_has_mock_local_and_hybrid() -> None:
    envs = load_environments(WF / "environments.yaml")
    assert envs.default == "mock"
    assert set(envs.environments) >= {"mock", "local", "hybrid"}
    mocked = envs.environments["mock"]
    assert not mocked.services and {f"{p.name}" for p in WF.glob("*.mocks.yaml")} >= set(
        mocked.mocks
    )
    assert all(
        url.startswith("http://127.0.0.1:") for url in envs.environments["local"].services.values()
    )
    hybrid = envs.environments["hybrid"]
    assert hybrid.services and hybrid.mocks
    # Every service an example calls is reachable in the local environment.
    called = {svc for p in WORKFLOWS for svc in load_workflow(p).services()}
    assert called <= set(envs.environments["local"].services)


@pytest.mark.parametrize("tests_file", TESTS, ids=lambda p: p.name)
def test_each_example_runs_from_the_command_line(
    tests_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tf = load_tests(tests_file)
    case = next(c for c in tf.cases if c.scenario is None and c.expect.status == "succeeded")
    args = ["run", str(WF / tf.workflow), "--json", "--input", json.dumps(case.input)]
    code = main(args)
    out, err = capsys.readouterr()
    assert code == 0, err
    result = json.loads(out)
    assert result["status"] == "succeeded"
    assert set(result["steps"]) == set(load_workflow(WF / tf.workflow).ids)
    if case.expect.has_output:
        assert result["output"] == case.expect.output


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_examples_have_a_trigger_an_input_schema_and_a_layout(path: Path) -> None:
    wf = load_workflow(path)
    assert wf.trigger and wf.input is not None and wf.description
    assert set(wf.layout) == set(wf.ids), "every step is placed on the canvas"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("version: 1\n")
    assert "\r" not in text and "\t" not in text
