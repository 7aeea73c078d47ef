"""The inspector dock: typing into real fields edits the model, one undo step per field."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import Qt

from designer.inspector.step_form import StepForm
from designer.inspector.workflow_form import WorkflowForm
from engine import EmitStep, NotifyStep, Retry
from tests.designer.window_support import make_window, sample_workflow


@pytest.fixture
def window(qtbot, tmp_path):
    return make_window(qtbot, tmp_path, sample_workflow())


def _form(window, step_id: str) -> StepForm:
    window.view.select_steps([step_id])
    form = window.inspector.step_form
    assert form is not None and form.step_id == step_id
    return form


def _retype(qtbot, editor, text: str) -> None:
    """Clear a line edit the way a user does (select all, delete) and type `text`."""
    edit = editor.input
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClick(edit, Qt.Key.Key_Delete)
    qtbot.keyClicks(edit, text)


def test_selection_shows_the_step_form_and_empty_selection_the_workflow(window):
    form = _form(window, "check")
    assert form.editors["service"].text() == "ComplianceService"
    assert form.editors["action"].text() == "runCheck"
    assert "steps.fetch.output.version" in form.editors["with_"].text()
    window.view.select_steps([])
    assert isinstance(window.inspector.form, WorkflowForm)
    assert window.inspector.workflow_form.editors["name"].text() == "sample"
    window.view.select_steps(["fetch", "check"])
    assert window.inspector.step_form is None


def test_typing_into_a_field_edits_the_model_as_one_undo_step(qtbot, window):
    doc = window.document
    form = _form(window, "check")
    before = doc.undo_stack.count()
    edit = form.editors["service"].input
    edit.setFocus()
    edit.end(False)
    qtbot.keyClicks(edit, "V2")
    assert doc.workflow.step("check").service == "ComplianceServiceV2"
    assert doc.undo_stack.count() == before + 1  # three key presses merged into one step
    assert window.act.undo.text() == "&Undo Change service of check"
    window.act.undo.trigger()
    assert doc.workflow.step("check").service == "ComplianceService"
    assert form.editors["service"].text() == "ComplianceService"  # the form follows the model
    window.act.redo.trigger()
    assert doc.workflow.step("check").service == "ComplianceServiceV2"
    assert form.editors["service"].text() == "ComplianceServiceV2"


def test_duration_is_checked_as_typed_and_only_valid_values_reach_the_model(qtbot, window):
    doc = window.document
    form = _form(window, "check")
    timeout = form.editors["timeout"]
    _retype(qtbot, timeout, "5x")
    assert timeout.error and "duration" in timeout.error
    assert timeout.error_label.isVisible()
    assert doc.workflow.step("check").timeout == 5_000  # "5" was valid; "5x" never got through
    qtbot.keyClick(timeout.input, Qt.Key.Key_Backspace)
    qtbot.keyClicks(timeout.input, "00ms")
    assert timeout.error is None and not timeout.error_label.isVisible()
    assert doc.workflow.step("check").timeout == 500
    assert timeout.text() == "500ms"  # the user's spelling stays while typing
    _retype(qtbot, timeout, "13ms")  # was saved as 0.013000000000000001 (float seconds)
    assert doc.workflow.step("check").timeout == 13
    assert "    timeout: 13ms\n" in doc.yaml_text()


def test_broken_expression_is_shown_beside_the_field(qtbot, window):
    doc = window.document
    form = _form(window, "report")
    message = form.editors["message"]
    _retype(qtbot, message, "done ${ steps.check.output.status ")
    assert message.error and "never closed" in message.error
    qtbot.keyClicks(message.input, "}")
    assert message.error is None
    assert doc.workflow.step("report").message == "done ${ steps.check.output.status }"
    condition = _form(window, "check").editors["if_"]
    _retype(qtbot, condition, "steps.fetch.status")
    assert condition.error and "${" in condition.error
    _retype(qtbot, condition, "${ steps.fetch.status == 'succeeded' }")
    assert condition.error is None
    assert doc.workflow.step("check").if_ == "${ steps.fetch.status == 'succeeded' }"


def test_with_body_is_edited_as_yaml_and_syntax_errors_name_line_and_column(qtbot, window):
    doc = window.document
    form = _form(window, "check")
    body = form.editors["with_"]
    body.input.setFocus()
    body.input.selectAll()
    qtbot.keyClick(body.input, Qt.Key.Key_Delete)
    qtbot.keyClicks(body.input, "{policy: '${ input.id }', n: [1, 2")
    assert body.error and re.match(r"line \d+, column \d+: YAML syntax error", body.error)
    assert doc.workflow.step("check").with_ is None  # emptied (the run input); "{…" never got in
    qtbot.keyClicks(body.input, "]}")
    assert body.error is None
    assert doc.workflow.step("check").with_ == {"policy": "${ input.id }", "n": [1, 2]}


def test_retry_group_builds_the_retry_block(qtbot, window):
    doc = window.document
    form = _form(window, "check")
    form.retry.setChecked(True)
    assert doc.workflow.step("check").retry == Retry()
    qtbot.keyClicks(form.retry.attempts.input, "4")
    qtbot.keyClicks(form.retry.delay.input, "250ms")
    qtbot.keyClicks(form.retry.on.input, "5xx, 503")
    form.retry.jitter.input.setCurrentIndex(2)
    assert doc.workflow.step("check").retry == Retry(
        attempts=4, delay=250, jitter="none", on=["5xx", 503]
    )
    qtbot.keyClicks(form.retry.backoff.input, "-1")
    assert form.retry.backoff.error == "must be greater than 0"
    assert doc.workflow.step("check").retry.backoff is None
    form.retry.setChecked(False)
    assert doc.workflow.step("check").retry is None


def test_choices_and_numbers(qtbot, window):
    doc = window.document
    form = _form(window, "check")
    form.editors["on_error"].input.setCurrentIndex(2)
    assert doc.workflow.step("check").on_error == "continue"
    form.editors["method"].input.setCurrentIndex(1)
    assert doc.workflow.step("check").method == "GET"
    qtbot.keyClicks(form.editors["max_concurrency"].input, "0")
    assert form.editors["max_concurrency"].error == "must be at least 1"
    assert doc.workflow.step("check").max_concurrency is None
    _retype(qtbot, form.editors["max_concurrency"], "3")
    assert doc.workflow.step("check").max_concurrency == 3
    _retype(qtbot, form.editors["foreach"], "${ input.items }")
    assert doc.workflow.step("check").foreach == "${ input.items }"
    _retype(qtbot, form.editors["query"], "{page: 2}")
    assert "text" in form.editors["query"].error
    _retype(qtbot, form.editors["query"], "{page: '2'}")
    assert doc.workflow.step("check").query == {"page": "2"}


def test_rename_through_the_id_field_updates_references(qtbot, window):
    doc = window.document
    form = _form(window, "fetch")
    _retype(qtbot, form.id_edit, "load")
    qtbot.keyClick(form.id_edit.input, Qt.Key.Key_Return)
    assert doc.workflow.ids[0] == "load"
    assert doc.workflow.step("check").after == ["load"]
    assert doc.workflow.step("check").with_ == {"v": "${ steps.load.output.version }"}
    assert window.inspector.step_form.step_id == "load"
    _retype(qtbot, form.id_edit, "check")
    qtbot.keyClick(form.id_edit.input, Qt.Key.Key_Return)
    assert form.id_edit.error == "Another step already has the id 'check'."
    assert doc.workflow.ids[0] == "load"
    _retype(qtbot, form.id_edit, "9x")
    assert "letter" in form.id_edit.error
    window.act.undo.trigger()
    assert doc.workflow.ids[0] == "fetch"
    assert window.inspector.step_form.step_id == "fetch"
    assert window.inspector.step_form.id_edit.text() == "fetch"


def test_after_checklist_connects_and_refuses_cycles(window):
    doc = window.document
    form = _form(window, "pause")
    items = {
        form.after_list.item(i).text(): form.after_list.item(i)
        for i in range(form.after_list.count())
    }
    assert set(items) == {"fetch", "check", "report"}
    items["report"].setCheckState(Qt.CheckState.Checked)
    assert doc.workflow.step("pause").after == ["report"]
    form = _form(window, "fetch")
    pause = next(
        form.after_list.item(i)
        for i in range(form.after_list.count())
        if form.after_list.item(i).text() == "pause"
    )
    pause.setCheckState(Qt.CheckState.Checked)
    assert "cycle" in form.after_error.text()
    assert doc.workflow.step("fetch").after == []
    assert pause.checkState() == Qt.CheckState.Unchecked


def test_emit_and_notify_fields(qtbot, window):
    doc = window.document
    sid = doc.add_step(EmitStep(id="emit", event="go"), (0, 300))
    form = _form(window, sid)
    _retype(qtbot, form.editors["event"], "policyApplied")
    qtbot.keyClicks(form.editors["data"].input, "id: ${ input.policyId }")
    step = doc.workflow.step(sid)
    assert step.event == "policyApplied" and step.data == {"id": "${ input.policyId }"}
    sid = doc.add_step(NotifyStep(id="notify", message="hi"), (0, 400))
    form = _form(window, sid)
    form.editors["level"].input.setCurrentText("warning")
    assert doc.workflow.step(sid).level == "warning"
    form = _form(window, "pause")
    _retype(qtbot, form.editors["wait"], "2m")
    assert doc.workflow.step("pause").wait == 120_000


def test_workflow_settings_when_nothing_is_selected(qtbot, window):
    doc = window.document
    window.view.select_steps([])
    form = window.inspector.workflow_form
    _retype(qtbot, form.editors["name"], "9lives")
    assert "starts with a letter" in form.editors["name"].error
    assert doc.workflow.name == "sample"
    _retype(qtbot, form.editors["name"], "renamed")
    assert doc.workflow.name == "renamed"
    assert "renamed" in window.windowTitle()
    _retype(qtbot, form.editors["trigger"], "a, b")
    assert doc.workflow.trigger == ["a", "b"]
    _retype(qtbot, form.editors["timeout"], "90s")
    assert doc.workflow.timeout == 90_000
    qtbot.keyClicks(form.editors["input"].input, "{type: object, required: [id]}")
    assert doc.workflow.input == {"type": "object", "required": ["id"]}
    _retype(qtbot, form.default_editors["timeout"], "10s")
    assert doc.workflow.defaults.timeout == 10_000
    form.retry.setChecked(True)
    qtbot.keyClicks(form.retry.attempts.input, "3")
    assert doc.workflow.defaults.retry == Retry(attempts=3)
    assert doc.workflow.defaults.timeout == 10_000
    window.act.undo.trigger()  # the defaults edits in a row were merged into one step
    assert doc.workflow.defaults.retry is None and doc.workflow.defaults.timeout is None
    assert not form.retry.isChecked()
    assert form.retry.attempts.text() == "" and form.default_editors["timeout"].text() == ""
    assert doc.workflow.timeout == 90_000


def test_undo_labels_name_the_files_keys(qtbot, window):
    doc = window.document
    form = _form(window, "check")
    form.editors["on_error"].input.setCurrentIndex(2)
    assert window.act.undo.text() == "&Undo Change onError of check"  # not on_error
    _retype(qtbot, form.editors["max_concurrency"], "3")
    assert window.act.undo.text() == "&Undo Change maxConcurrency of check"
    _retype(qtbot, form.editors["if_"], "${ input.go }")
    assert doc.workflow.step("check").if_ == "${ input.go }"
    assert window.act.undo.text() == "&Undo Change if of check"
    # the keys the labels name are the ones in the saved text
    text = doc.yaml_text()
    assert "onError: continue" in text and "maxConcurrency: 3" in text
    assert "if: ${ input.go }" in text
