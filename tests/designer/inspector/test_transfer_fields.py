"""A call step's transfer keys in the inspector: `followRedirects` as a three-way choice and
`maxResponseSize` checked as typed, each edit one undo step, saved in the file's canonical form."""

from __future__ import annotations

from engine import load_workflow
from tests.designer.inspector.test_inspector import _form, _retype, window  # noqa: F401


def test_follow_redirects_is_a_three_way_choice_saved_as_a_boolean(qtbot, window):  # noqa: F811
    doc = window.document
    form = _form(window, "check")
    combo = form.editors["follow_redirects"].input
    assert combo.currentData() is None and "followRedirects" not in doc.yaml_text()
    before = doc.undo_stack.count()
    combo.setCurrentIndex(combo.findData(True))
    assert doc.workflow.step("check").follow_redirects is True
    assert "followRedirects: true" in doc.yaml_text()
    assert window.act.undo.text() == "&Undo Change followRedirects of check"
    combo.setCurrentIndex(combo.findData(False))
    assert doc.workflow.step("check").follow_redirects is False
    assert "followRedirects: false" in doc.yaml_text()
    assert doc.undo_stack.count() == before + 1
    window.act.undo.trigger()
    assert doc.workflow.step("check").follow_redirects is None
    assert "followRedirects" not in doc.yaml_text()
    assert combo.currentIndex() == 0  # the form follows the undo: the environment's default
    window.act.redo.trigger()
    assert combo.currentText() == "do not follow"


def test_max_response_size_is_checked_as_typed_and_saved_canonical(qtbot, window, tmp_path):  # noqa: F811
    doc = window.document
    form = _form(window, "check")
    field = form.editors["max_response_size"]
    before = doc.undo_stack.count()
    _retype(qtbot, field, "512 kib")
    assert field.error is None
    assert doc.workflow.step("check").max_response_size == 512 * 1024
    assert doc.undo_stack.count() == before + 1  # the keystrokes merged into one edit
    assert window.act.undo.text() == "&Undo Change maxResponseSize of check"
    assert "maxResponseSize: 512KiB" in doc.yaml_text()  # the canonical spelling
    assert field.text() == "512 kib"  # the user's own spelling stays while typing
    _retype(qtbot, field, "5GB")
    assert "at most 4GiB" in field.error
    # the model holds the last text that made a size ("5": 5 bytes), never the invalid one
    assert doc.workflow.step("check").max_response_size == 5
    _retype(qtbot, field, "1.5x")
    assert "512KiB" in field.error  # it says what to write
    assert doc.workflow.step("check").max_response_size == 1
    _retype(qtbot, field, "1500000")
    assert field.error is None and "maxResponseSize: 1500KB" in doc.yaml_text()
    path = tmp_path / "saved.yaml"
    path.write_text(doc.yaml_text())
    assert load_workflow(path).step("check").max_response_size == 1_500_000
    assert doc.undo_stack.count() == before + 1
    window.act.undo.trigger()
    assert doc.workflow.step("check").max_response_size is None and field.text() == ""
    window.act.redo.trigger()
    assert field.text() == "1500KB"  # shown as the file writes it
    _retype(qtbot, field, "")
    assert doc.workflow.step("check").max_response_size is None
    assert "maxResponseSize" not in doc.yaml_text()
