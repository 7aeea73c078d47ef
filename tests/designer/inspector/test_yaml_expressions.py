"""The expression editor over YAML-valued fields (`with`, `query`, `headers`, `output`, an emit's
`data`): the ƒx button opens it; names complete inside `${ }`; each string's problems are
marked where they stand and named by their place; the preview is the whole value rendered
against the last run; OK writes the field as one undo step."""

from __future__ import annotations

from PySide6.QtCore import Qt

from designer.inspector.expression_scope import SampleScope
from designer.inspector.yaml_expressions import check_yaml_expressions
from engine import TemplateSyntaxError, check_template
from tests.designer.inspector.test_expression_editor import _window_after_a_run


def _open(qtbot, window, step: str, attr: str):
    window.select_step(step)
    form = window.inspector.step_form
    assert form is not None and form.step_id == step
    button = form.editors[attr].property("expressionButton")
    assert button is not None, f"{attr} has no expression button"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    dialog = form.expression_dialog
    assert dialog is not None
    qtbot.waitExposed(dialog)
    return form, dialog


def _retype(qtbot, edit, text: str) -> None:
    edit.selectAll()
    qtbot.keyClick(edit, Qt.Key.Key_Delete)
    for line_no, line in enumerate(text.split("\n")):
        if line_no:
            # Enter makes a new line; the editor's own indent is not added (plain text)
            qtbot.keyClick(edit, Qt.Key.Key_Return)
        qtbot.keyClicks(edit, line)


def test_with_completes_previews_the_body_and_writes_one_undo_step(qtbot, tmp_path):
    window = _window_after_a_run(qtbot, tmp_path)
    doc = window.document
    form, dialog = _open(qtbot, window, "sendUpdate", "with_")
    assert "policyId: ${ input.policyId }" in dialog.edit.toPlainText()  # the field's text
    assert dialog.problems == []
    preview = dialog.preview_value
    assert preview["policyId"] == "P-7"  # rendered against the last run's input
    assert preview["message"].startswith("Policy P-7 version ")
    edit = dialog.edit
    _retype(qtbot, edit, "policyId: ${ input.policyId }\nstatus: ${ steps.check.output.")
    popup = edit.completer.popup()
    qtbot.waitUntil(popup.isVisible, timeout=2000)
    assert "steps.check.output.status" in edit.offered()
    qtbot.keyClicks(edit, "status }")
    popup.hide()
    assert dialog.problems == []
    assert dialog.preview_value == {"policyId": "P-7", "status": "pass"}
    before = doc.undo_stack.count()
    qtbot.mouseClick(
        dialog.buttons.button(dialog.buttons.StandardButton.Ok), Qt.MouseButton.LeftButton
    )
    assert doc.workflow.step("sendUpdate").with_ == {
        "policyId": "${ input.policyId }",
        "status": "${ steps.check.output.status }",
    }
    assert doc.undo_stack.count() == before + 1
    assert "status: ${ steps.check.output.status }" in doc.yaml_text()


def test_each_strings_problem_is_marked_where_it_stands(qtbot, tmp_path):
    window = _window_after_a_run(qtbot, tmp_path)
    _form, dialog = _open(qtbot, window, "sendUpdate", "query")
    edit = dialog.edit
    text = "a: ${ input.policyId }\nb: x ${ stepz.check } y"
    _retype(qtbot, edit, text)
    assert [(sev, msg.split(":")[0]) for _, sev, msg in dialog.problems] == [("error", "b")]
    assert "'stepz' is not in scope" in dialog.problems[0][2]
    assert dialog.problems[0][0] == text.index("stepz")  # at the name, in the field's text
    assert edit.extraSelections()[0].cursor.selectedText() == "stepz"
    assert not dialog.buttons.button(dialog.buttons.StandardButton.Ok).isEnabled()
    _retype(qtbot, edit, "a: [unclosed")
    assert dialog.problems[0][1] == "error" and dialog.problems[0][2].startswith("line ")
    assert "fix the YAML" in dialog.preview.toPlainText()
    _retype(qtbot, edit, "a: ${ steps.adminFailure.output }")  # runs after it: a warning
    assert dialog.problems[0][1] == "warning" and "does not run before" in dialog.problems[0][2]
    assert dialog.buttons.button(dialog.buttons.StandardButton.Ok).isEnabled()
    dialog.reject()


def test_a_calls_output_sees_its_own_response(qtbot, tmp_path):
    window = _window_after_a_run(qtbot, tmp_path)
    _form, dialog = _open(qtbot, window, "check", "output")
    edit = dialog.edit
    _retype(qtbot, edit, "verdict: ${ body.status }\ncode: ${ status }")
    assert dialog.problems == []
    assert dialog.preview_value == {"verdict": "pass", "code": 200}  # the last run's answer
    _retype(qtbot, edit, "${ bod")
    popup = edit.completer.popup()
    qtbot.waitUntil(popup.isVisible, timeout=2000)
    assert "body" in edit.offered() and "body.status" in edit.offered()
    dialog.reject()
    # with, query and headers do not see a response: `body` there is out of scope
    _form, dialog = _open(qtbot, window, "check", "headers")
    _retype(qtbot, dialog.edit, "X-Check: ${ body.status }")
    assert "'body' is not in scope" in dialog.problems[0][2]
    dialog.reject()


def test_the_check_on_its_own():
    scope = SampleScope({"input": {"id": 7}, "steps": {}}, "no run yet")
    problems, value, why = check_yaml_expressions("id: ${ input.id }\nn: [1, 2]", scope)
    assert (problems, value, why) == ([], {"id": 7, "n": [1, 2]}, None)
    assert check_yaml_expressions("", scope)[2] == "empty: the field's default applies"
    text = "a: '${ input.id == }'"
    problems, value, _why = check_yaml_expressions(text, scope)
    assert problems[0][1] == "error" and problems[0][2].startswith("a: ")
    try:
        check_template("${ input.id == }")
    except TemplateSyntaxError as e:
        at = e.offset  # where the one-line editor marks it, inside the string
    assert problems[0][0] == text.index("${") + at  # the same place, in the field's text
    same = "a: ${ nope }\nb: ${ nope }"
    offsets = [at for at, _sev, _msg in check_yaml_expressions(same, scope)[0]]
    assert offsets == [same.index("nope"), same.rindex("nope")]  # each at its own place


def test_the_workflows_output_has_the_editor_too(qtbot, tmp_path):
    window = _window_after_a_run(qtbot, tmp_path)
    doc = window.document
    window.view.select_steps([])
    form = window.inspector.workflow_form
    button = form.editors["output"].property("expressionButton")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    dialog = form.expression_dialog
    assert dialog is not None
    qtbot.waitExposed(dialog)
    assert dialog.problems == [] and dialog.preview_value["policyId"] == "P-7"
    _retype(qtbot, dialog.edit, "id: ${ input.policyId }\nverdict: ${ steps.check.output.status }")
    assert dialog.preview_value == {"id": "P-7", "verdict": "pass"}  # every step is in scope
    before = doc.undo_stack.count()
    qtbot.mouseClick(
        dialog.buttons.button(dialog.buttons.StandardButton.Ok), Qt.MouseButton.LeftButton
    )
    assert doc.workflow.output == {
        "id": "${ input.policyId }",
        "verdict": "${ steps.check.output.status }",
    }
    assert doc.undo_stack.count() == before + 1


def test_a_long_expression_in_the_with_box_stays_on_its_line(qtbot, tmp_path):
    """The inspector's YAML boxes do not wrap: a long `${ }` broken mid-word read as two lines."""
    window = _window_after_a_run(qtbot, tmp_path)
    window.select_step("sendUpdate")
    form = window.inspector.step_form
    assert form is not None
    edit = form.editors["with_"].input
    long = (
        "message: ${ join(' / ', [steps.updatePolicy.output.policyId, steps.check.output.status]) }"
    )
    edit.setPlainText(long)
    assert edit.fontMetrics().horizontalAdvance(long) > edit.viewport().width()  # it is long
    block = edit.document().firstBlock()
    assert block.text() == long
    assert block.layout().lineCount() == 1
