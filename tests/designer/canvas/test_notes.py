"""Notes on the canvas: added, typed, moved and emptied with real keys and mouse; saved in
`notes:` and back after reopening; each edit one undo step."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from engine import Note
from tests.designer.window_support import make_window, sample_workflow

LEFT = Qt.MouseButton.LeftButton
NOMOD = Qt.KeyboardModifier.NoModifier


def _empty_spot(view) -> QPoint:
    """A point of the viewport with no step, edge or note under it."""
    rect = view.viewport().rect()
    for x in range(20, rect.width(), 40):
        for y in range(20, rect.height(), 40):
            if view.itemAt(QPoint(x, y)) is None:
                return QPoint(x, y)
    raise AssertionError("no empty spot in the view")


def test_a_note_is_added_typed_moved_saved_and_reopened(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path, sample_workflow())
    doc, view = w.document, w.view
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=2000)
    view.reset_zoom()
    view.centerOn(200, 80)
    view.setFocus()
    QTest.keyClick(
        view, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    assert doc.workflow.notes and doc.workflow.notes[0].text == "Note"
    assert doc.undo_stack.undoText() == "Add note"
    QTest.keyClicks(view, "Ask legal first")  # types over the selected placeholder
    QTest.keyClick(view, Qt.Key.Key_Backspace)  # the note's, not Delete for the steps
    assert set(doc.workflow.ids) == {"fetch", "check", "report", "pause"}
    QTest.mouseClick(view.viewport(), LEFT, NOMOD, _empty_spot(view))  # done editing
    assert doc.workflow.notes == [Note("Ask legal firs", doc.workflow.notes[0].at)]
    assert doc.undo_stack.undoText() == "Edit note"
    assert "notes:\n  - text: Ask legal firs\n" in doc.yaml_text()

    item = w.notes.items[0]
    start = view.mapFromScene(item.pos() + item.boundingRect().center())
    end = start + QPoint(60, 40)
    QTest.mousePress(view.viewport(), LEFT, NOMOD, start)
    for k in range(1, 5):
        QTest.mouseMove(view.viewport(), start + (end - start) * (k / 4))
    QTest.mouseRelease(view.viewport(), LEFT, NOMOD, end)
    before = doc.undo_stack.count()
    moved = doc.workflow.notes[0].at
    assert doc.undo_stack.undoText() == "Move note" and moved != (0, 0)
    target = tmp_path / "with-note.yaml"
    assert w.save_to(str(target))

    again = make_window(qtbot, tmp_path / "again")
    assert again.open_path(str(target))
    assert again.document.workflow.notes == [Note("Ask legal firs", moved)]
    assert again.notes.items[0].toPlainText() == "Ask legal firs"
    doc.undo_stack.undo()
    assert doc.workflow.notes[0].at != moved and doc.undo_stack.count() == before


def test_a_note_emptied_is_deleted(qtbot, tmp_path):
    wf = sample_workflow()
    wf.notes = [Note("remove me", (-200, -100))]
    w = make_window(qtbot, tmp_path, wf)
    view = w.view
    view.reset_zoom()
    view.centerOn(0, 0)
    item = w.notes.items[0]
    at = view.mapFromScene(item.pos() + item.boundingRect().center())
    QTest.mouseDClick(view.viewport(), LEFT, NOMOD, at)
    assert view.editing_text()
    QTest.keyClick(view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)  # all its text
    QTest.keyClick(view, Qt.Key.Key_Delete)
    assert item.toPlainText() == "", (item.toPlainText(), view.editing_text())
    assert w.document.workflow.ids == ["fetch", "check", "report", "pause"]
    spot = _empty_spot(view)
    QTest.mouseClick(view.viewport(), LEFT, NOMOD, spot)
    assert w.document.workflow.notes == []
    assert w.document.undo_stack.undoText() == "Delete note" and w.notes.items == []
