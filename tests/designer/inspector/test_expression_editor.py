"""The expression editor: completion of the names in scope after a run, problems marked, a
live preview, and OK writing the field as one undo step."""

from __future__ import annotations

from PySide6.QtCore import Qt

from designer.inspector.expression_scope import completions, folder_mocks, sample_scope
from engine import open_workflow
from tests.designer.run_support import WORKFLOWS, wait_run
from tests.designer.window_support import make_window

POLICY = WORKFLOWS / "policy_change.yaml"


def _window_after_a_run(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    assert window.open_path(str(POLICY))
    ui = window.run_ui
    ui.input_editor.set_text('{"policyId": "P-7"}')
    assert ui.toolbar.select_environment("mock")
    run_id = ui.run()
    assert run_id is not None, ui.last_message
    wait_run(qtbot, ui, run_id)
    return window


def _open_if_editor(qtbot, window, step: str):
    window.select_step(step)
    form = window.inspector.step_form
    assert form is not None and form.step_id == step
    button = form.editors["if_"].property("expressionButton")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    dialog = form.expression_dialog
    assert dialog is not None
    qtbot.waitExposed(dialog)
    return form, dialog


def test_completion_offers_the_last_runs_step_outputs_and_ok_is_one_undo_step(qtbot, tmp_path):
    window = _window_after_a_run(qtbot, tmp_path)
    doc = window.document
    form, dialog = _open_if_editor(qtbot, window, "sendUpdate")
    assert "last run" in dialog.scope.source
    edit = dialog.edit
    edit.selectAll()
    qtbot.keyClick(edit, Qt.Key.Key_Delete)
    qtbot.keyClicks(edit, "${ steps.check.output.")
    popup = edit.completer.popup()
    qtbot.waitUntil(popup.isVisible, timeout=2000)
    assert "steps.check.output.status" in edit.offered()
    assert all(name.startswith("steps.check.output.") for name in edit.offered())
    qtbot.keyClicks(edit, "st")
    assert edit.offered() == ["steps.check.output.status"] or "steps.check.output.status" in (
        edit.offered()
    )
    qtbot.keyClick(popup, Qt.Key.Key_Return)  # takes the highlighted name
    assert edit.toPlainText() == "${ steps.check.output.status"
    assert not popup.isVisible() and dialog.isVisible()  # Enter chose; it did not close
    qtbot.keyClicks(edit, " != 'fail' }")
    assert dialog.problems == []
    assert dialog.preview.toPlainText() == "true"  # the last run's check passed
    before = doc.undo_stack.count()
    qtbot.mouseClick(
        dialog.buttons.button(dialog.buttons.StandardButton.Ok), Qt.MouseButton.LeftButton
    )
    assert doc.workflow.step("sendUpdate").if_ == "${ steps.check.output.status != 'fail' }"
    assert doc.undo_stack.count() == before + 1
    assert "if: ${ steps.check.output.status != 'fail' }" in doc.yaml_text()


def test_problems_are_marked_and_the_preview_follows(qtbot, tmp_path):
    window = _window_after_a_run(qtbot, tmp_path)
    _form, dialog = _open_if_editor(qtbot, window, "sendUpdate")
    edit = dialog.edit
    edit.selectAll()
    qtbot.keyClicks(edit, "${ length(steps.updatePolicy.output.policyId) }")
    assert dialog.problems == [] and dialog.preview.toPlainText() == "3"  # "P-7"
    edit.selectAll()
    qtbot.keyClicks(edit, "${ stepz.check }")
    assert dialog.problems and "'stepz' is not in scope" in dialog.problems[0][2]
    assert dialog.problems[0][0] == 3  # marked at the name
    marks = edit.extraSelections()
    assert marks[0].cursor.selectedText() == "stepz"
    assert not dialog.buttons.button(dialog.buttons.StandardButton.Ok).isEnabled()
    edit.selectAll()
    qtbot.keyClicks(edit, "${ steps.adminFailure.output }")  # runs after: a warning
    assert dialog.problems[0][1] == "warning" and "does not run before" in dialog.problems[0][2]
    edit.selectAll()
    qtbot.keyClicks(edit, "${ steps.check.output.status == }")
    assert dialog.problems[0][1] == "error" and "fix the expression" in dialog.preview.toPlainText()
    dialog.reject()


def test_scope_without_a_run_uses_the_mocks_and_the_schema(monkeypatch):
    wf = open_workflow(POLICY).unwrap_model()
    scope = sample_scope(
        wf, "sendUpdate", None, folder_mocks(str(POLICY)), {"SWITCHBOARD_SECRET_API_KEY": "s3"}
    )
    names = completions(scope)
    assert "steps.check.output.status" in names  # from the mocks' answer
    assert "input.policyId" in names  # from the input schema
    assert "secrets.API_KEY" in names and "s3" not in str(scope.data)
    assert "length(" in names and "steps.adminFailure" not in names
    assert "item" not in names  # not a foreach step
