"""`switchboard design FILE --run [--env] [--scenario] --screenshot PNG`, and run_for_screenshot."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QImage

from designer import command as design_command
from designer.run.ui import run_and_wait
from tests.designer.run_support import WORKFLOWS, ui_factory

POLICY = WORKFLOWS / "policy_change.yaml"


@pytest.fixture
def open_ui(qtbot, tmp_path):
    yield from ui_factory(qtbot, tmp_path)


def test_run_for_screenshot_leaves_the_states_on_the_canvas(qtbot, open_ui):
    ui = open_ui(POLICY)
    # no remembered input: the first test case's input that fits the schema is used
    assert ui.input_editor.value() == ({"policyId": "P-7"}, None)
    result = run_and_wait(ui.window, "mock", "complianceFails")
    assert result.status == "succeeded" and result.output["compliance"] == "fail"
    assert ui.presenter.states()["revertPolicy"] == "succeeded"
    assert ui.presenter.states()["sendUpdate"] == "skipped"
    assert not ui.controller.busy


def test_unknown_environment_or_scenario_is_named_with_the_known_ones(qtbot, open_ui):
    ui = open_ui(POLICY)
    with pytest.raises(ValueError, match="no environment 'staging'.*known: mock, local, hybrid"):
        run_and_wait(ui.window, "staging")
    with pytest.raises(ValueError, match="no scenario 'nope'.*complianceFails"):
        run_and_wait(ui.window, "mock", "nope")


def test_design_run_screenshot_command(qapp, tmp_path, capsys):
    out = tmp_path / "run.png"
    code = design_command.main(
        [
            str(POLICY),
            "--run",
            "--env",
            "mock",
            "--scenario",
            "policyLocked",
            "--screenshot",
            str(out),
        ]
    )
    assert code == 0
    assert "run failed in" in capsys.readouterr().out  # policyLocked fails the run
    assert not QImage(str(out)).isNull()
    code = design_command.main(
        [str(POLICY), "--run", "--env", "nope", "--screenshot", str(tmp_path / "x.png")]
    )
    assert code == 1
    assert "there is no environment 'nope'" in capsys.readouterr().err


def test_env_without_run_is_refused():
    with pytest.raises(SystemExit):
        design_command.main([str(POLICY), "--env", "mock"])
