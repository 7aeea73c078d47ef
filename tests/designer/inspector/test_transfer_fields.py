"""A call step's transfer keys in the inspector: `followRedirects` as a three-way choice and
`maxResponseSize` checked as typed, each edit one undo step, saved in the file's canonical form;
a wheel over a choice while scrolling the inspector edits nothing."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

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


def _wheel(widget, down: bool = True) -> bool:
    """A wheel notch over the widget's centre, as a mouse sends it; whether it was taken."""
    centre = QPointF(widget.rect().center())
    delta = QPoint(0, -120 if down else 120)
    event = QWheelEvent(
        centre,
        QPointF(widget.mapToGlobal(widget.rect().center())),
        QPoint(),
        delta,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)
    return event.isAccepted()


def test_a_wheel_over_a_choice_scrolls_the_inspector_and_edits_nothing(qtbot, window):  # noqa: F811
    doc = window.document
    form = _form(window, "check")
    combo = form.editors["follow_redirects"].input
    window.view.setFocus()
    assert not combo.hasFocus()
    assert not _wheel(combo)  # left to the scroll area around the form
    assert combo.currentIndex() == 0 and doc.workflow.step("check").follow_redirects is None
    assert "followRedirects" not in doc.yaml_text() and doc.undo_stack.count() == 0
    combo.setFocus()  # clicked or tabbed to: then the wheel chooses
    qtbot.waitUntil(combo.hasFocus, timeout=2000)
    _wheel(combo)
    assert doc.workflow.step("check").follow_redirects is True


def test_the_workflow_defaults_take_the_transfer_keys(qtbot, window):  # noqa: F811
    doc = window.document
    window.view.select_steps([])
    form = window.inspector.workflow_form
    combo = form.default_editors["follow_redirects"].input
    size = form.default_editors["max_response_size"]
    assert combo.currentData() is None and size.text() == ""
    combo.setCurrentIndex(combo.findData(True))
    assert doc.workflow.defaults.follow_redirects is True
    _retype(qtbot, size, "2 mib")
    assert doc.workflow.defaults.max_response_size == 2 * 1024 * 1024
    text = doc.yaml_text()
    assert "defaults:\n" in text and "  followRedirects: true\n" in text
    assert "  maxResponseSize: 2MiB\n" in text
    assert doc.workflow.step("check").follow_redirects is None  # the steps keep their own
    _retype(qtbot, size, "lots")
    assert "512KiB" in size.error
    assert doc.workflow.defaults.max_response_size is None  # the emptied field: never "lots"
    window.act.undo.trigger()  # edits of the defaults in a row are one undo step (as before)
    assert doc.workflow.defaults.follow_redirects is None and combo.currentIndex() == 0
    assert doc.workflow.defaults.max_response_size is None
