"""The tests panel: run a workflow's tests file from the designer, see passes and failures, open a
failed case's run on the canvas."""

from __future__ import annotations

import shutil

import pytest

from tests.designer.run_support import WORKFLOWS, ui_factory, wait_run


@pytest.fixture
def open_ui(qtbot, tmp_path):
    yield from ui_factory(qtbot, tmp_path)


def test_examples_tests_file_passes(qtbot, open_ui):
    ui = open_ui(WORKFLOWS / "policy_change.yaml")
    assert ui.tests.path == WORKFLOWS / "policy_change.tests.yaml"
    assert ui.run_tests()
    assert not ui.tests.run_button.isEnabled()  # while the cases run
    wait_run(qtbot, ui)
    result = ui.tests.result
    assert result is not None and not result.problems
    assert len(result.cases) == 5 and all(c.passed for c in result.cases)
    assert ui.tests.summary.text() == "5 passed, 0 failed"
    assert ui.tests.run_button.isEnabled()


def test_failed_case_shows_its_difference_and_opens_its_run(qtbot, open_ui, tmp_path):
    folder = tmp_path / "flows"
    folder.mkdir()
    for name in ("policy_change.yaml", "policy_change.mocks.yaml"):
        shutil.copy(WORKFLOWS / name, folder / name)
    text = (WORKFLOWS / "policy_change.tests.yaml").read_text()
    # the second case now wrongly expects the change to stay live
    text = text.replace(
        "        compliance: fail\n        live: false",
        "        compliance: fail\n        live: true",
        1,
    )
    (folder / "policy_change.tests.yaml").write_text(text)
    ui = open_ui(folder / "policy_change.yaml")
    ui.tests.run_requested.emit()  # the panel's Run Tests button
    wait_run(qtbot, ui)
    assert ui.tests.summary.text() == "4 passed, 1 failed"
    name = "compliance fails and the change is rolled back"
    item = ui.tests.case_item(name)
    assert item.text(0).startswith("✘") and item.isExpanded()
    assert item.child(0).text(0) == "output.live: expected true, got false"
    case = ui.tests.open_case(name)
    assert case is not None and not case.passed
    assert ui.presenter.states() == {
        "updatePolicy": "succeeded",
        "check": "succeeded",
        "sendUpdate": "skipped",
        "adminSuccess": "skipped",
        "revertPolicy": "succeeded",
        "adminFailure": "succeeded",
    }
    assert "output.live: expected true, got false" in ui.last_message
    ui.view.select_steps(["check"])
    assert '"status": "fail"' in ui.results.text.toPlainText()


def test_no_tests_file_says_what_to_add(qtbot, open_ui, tmp_path):
    folder = tmp_path / "flows"
    folder.mkdir()
    shutil.copy(WORKFLOWS / "policy_change.yaml", folder / "policy_change.yaml")
    ui = open_ui(folder / "policy_change.yaml")
    assert ui.tests.path is None and not ui.tests.run_button.isEnabled()
    assert not ui.run_tests()
    # the name a new tests file gets comes from the engine's folder convention (tests_path)
    assert (
        "No tests file for policy_change.yaml beside it: add policy_change.tests.yaml"
        in ui.last_message
    )


def test_an_ordinary_run_leaves_the_tests_summary_alone(qtbot, open_ui):
    ui = open_ui(WORKFLOWS / "policy_change.yaml")
    assert ui.toolbar.select_environment("mock")
    ui.toolbar.run_action.trigger()  # Run (F5), not Run Tests
    assert ui.controller.busy and not ui.tests.run_button.isEnabled()
    assert ui.tests.summary.text() == ""
    wait_run(qtbot, ui)
    assert ui.tests.summary.text() == ""  # was "Running…" for ever
    assert ui.tests.run_button.isEnabled()
    ui.tests.run_button.click()
    assert ui.tests.summary.text() == "Running…"
    wait_run(qtbot, ui)
    assert ui.tests.summary.text() == "5 passed, 0 failed"
    ui.toolbar.run_action.trigger()
    assert ui.tests.summary.text() == "5 passed, 0 failed"  # the last result stands
    wait_run(qtbot, ui)
    assert ui.tests.summary.text() == "5 passed, 0 failed"
