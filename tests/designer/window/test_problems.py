"""The problems dock lists validation problems live; a click selects the step on the canvas."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from designer.window.problems import LoadProblemsDialog, problem_location
from engine import Problem
from tests.designer.window_support import make_window, sample_workflow


@pytest.fixture
def window(qtbot, tmp_path):
    return make_window(qtbot, tmp_path, sample_workflow())


def _rows(window) -> list[tuple[str, str]]:
    tree = window.problems.tree
    return [
        (tree.topLevelItem(i).text(0), tree.topLevelItem(i).text(1))
        for i in range(tree.topLevelItemCount())
    ]


def test_a_valid_workflow_has_no_problems(window):
    window.document.validate_now()
    assert _rows(window) == []
    assert "No problems" in window.problems.summary.text()
    assert window.problem_label.text() == "No problems"


def test_problem_appears_live_and_goes_away_after_undo(qtbot, window):
    doc = window.document
    doc.set_step_field("check", "if_", "${ steps.fetch.status == }")
    qtbot.waitUntil(lambda: any(step == "check" for step, _ in _rows(window)), timeout=3000)
    messages = [m for step, m in _rows(window) if step == "check"]
    assert any("ends too early" in m for m in messages)
    assert window.problem_label.text() == "1 problem"
    assert window.problems.summary.text().startswith("1 error.")
    doc.undo_stack.undo()
    qtbot.waitUntil(lambda: _rows(window) == [], timeout=3000)


def test_clicking_a_problem_selects_its_step(qtbot, window):
    doc = window.document
    doc.set_step_field("report", "message", "status ${ steps.check.output.status ")
    qtbot.waitUntil(lambda: any(step == "report" for step, _ in _rows(window)), timeout=3000)
    window.tabs.setCurrentIndex(1)  # the YAML tab: the click must bring the canvas back
    tree = window.problems.tree
    row = next(
        i for i in range(tree.topLevelItemCount()) if tree.topLevelItem(i).text(0) == "report"
    )
    rect = tree.visualItemRect(tree.topLevelItem(row))
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.view.selected_ids() == ["report"]
    assert window.tabs.currentWidget() is window.canvas_page
    assert window.inspector.step_form.step_id == "report"
    assert window.inspector.step_form.editors["message"].error  # the field says it too


def test_problem_location_text():
    assert (
        problem_location(Problem("m", ("steps", 2, "if"), "f.yaml", 12, 5))
        == "line 12:5  steps[2].if"
    )
    assert problem_location(Problem("m")) == ""


def test_load_problems_dialog_lists_line_and_column(qtbot):
    problems = [
        Problem("duplicate key 'name'", ("name",), "w.yaml", 3, 1),
        Problem("unknown key 'servce'", ("steps", 0, "servce"), "w.yaml", 7, 5),
    ]
    dialog = LoadProblemsDialog("w.yaml", problems)
    qtbot.addWidget(dialog)
    assert dialog.rows() == [
        ("3", "1", "name", "duplicate key 'name'"),
        ("7", "5", "steps[0].servce", "unknown key 'servce'"),
    ]
