"""Notes travel with the steps they are selected with: copy and paste, cut, duplicate and
delete, driven by mouse clicks and keys; each one undo step; pasted notes shifted as the steps."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPointF, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest

from designer.canvas.notes import NoteItem
from designer.canvas.style import NODE_H, NODE_W
from designer.document.clipboard import notes_from_mime, steps_from_mime, steps_to_mime
from engine import Note, WaitStep
from tests.designer.window_support import make_window, sample_workflow

LEFT = Qt.MouseButton.LeftButton
NOMOD = Qt.KeyboardModifier.NoModifier
CTRL = Qt.KeyboardModifier.ControlModifier


def _window(qtbot, tmp_path):
    wf = sample_workflow()
    wf.notes = [Note("ask legal first", (0, 100)), Note("left alone", (480, 120))]
    w = make_window(qtbot, tmp_path, wf)
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=2000)
    w.view.reset_zoom()
    w.view.centerOn(360, 80)
    w.view.setFocus()
    return w


def _click_step(w, sid: str, modifiers=NOMOD) -> None:
    at = w.view.mapFromScene(w.view.canvas.nodes[sid].pos() + QPointF(NODE_W / 2, NODE_H / 2 + 8))
    QTest.mouseClick(w.view.viewport(), LEFT, modifiers, at)


def _click_note(w, index: int, modifiers=NOMOD) -> None:
    item = w.notes.items[index]
    at = w.view.mapFromScene(item.pos() + QPointF(20, 10))
    QTest.mouseClick(w.view.viewport(), LEFT, modifiers, at)


def _select_fetch_and_first_note(w) -> None:
    _click_step(w, "fetch")
    _click_note(w, 0, CTRL)
    assert w.view.selected_ids() == ["fetch"]
    assert w.view.selected_note_indices() == [0]


def test_copy_and_paste_of_steps_with_a_note_pastes_the_note_shifted_as_the_steps(qtbot, tmp_path):
    w = _window(qtbot, tmp_path)
    doc, view = w.document, w.view
    _select_fetch_and_first_note(w)
    QTest.keyClick(view, Qt.Key.Key_C, CTRL)
    assert "notes:" in QGuiApplication.clipboard().text()  # the YAML text carries it too
    QTest.keyClick(view, Qt.Key.Key_V, CTRL)
    assert doc.workflow.ids[-1] == "fetch_2"
    assert len(doc.workflow.notes) == 3
    pasted = doc.workflow.notes[2]
    dx, dy = (a - b for a, b in zip(doc.position("fetch_2"), doc.position("fetch"), strict=True))
    assert (dx, dy) != (0, 0)
    assert pasted == Note("ask legal first", (0 + dx, 100 + dy))  # moved with its step
    assert doc.undo_stack.count() == 1
    assert doc.undo_stack.undoText() == "Paste step fetch_2 and 1 note"
    # what was pasted is selected, ready to be dragged on: the step and the note
    assert view.selected_ids() == ["fetch_2"] and view.selected_note_indices() == [2]
    doc.save(str(tmp_path / "p.yaml"))
    assert (tmp_path / "p.yaml").read_text().count("  - text: ask legal first\n") == 2
    QTest.keyClick(view, Qt.Key.Key_Z, CTRL)  # one undo takes both away
    assert doc.workflow.find("fetch_2") is None
    assert [n.text for n in doc.workflow.notes] == ["ask legal first", "left alone"]


def test_a_second_paste_lands_further_on_and_is_an_undo_step_of_its_own(qtbot, tmp_path):
    w = _window(qtbot, tmp_path)
    doc, view = w.document, w.view
    _select_fetch_and_first_note(w)
    QTest.keyClick(view, Qt.Key.Key_C, CTRL)
    QTest.keyClick(view, Qt.Key.Key_V, CTRL)
    QTest.keyClick(view, Qt.Key.Key_V, CTRL)
    assert doc.undo_stack.count() == 2  # two pastes of notes do not merge into one
    first, second = doc.workflow.notes[2], doc.workflow.notes[3]
    assert first.at != second.at
    moved = doc.position("fetch_3")[0] - doc.position("fetch")[0]
    assert second.at[0] == moved  # the note's x was 0, as the step's
    QTest.keyClick(view, Qt.Key.Key_Z, CTRL)
    assert len(doc.workflow.notes) == 3 and doc.workflow.find("fetch_3") is None


def test_cut_takes_the_selected_notes_and_paste_brings_them_back(qtbot, tmp_path):
    w = _window(qtbot, tmp_path)
    doc, view = w.document, w.view
    _select_fetch_and_first_note(w)
    QTest.keyClick(view, Qt.Key.Key_X, CTRL)
    assert doc.workflow.find("fetch") is None
    assert [n.text for n in doc.workflow.notes] == ["left alone"]
    assert doc.undo_stack.undoText() == "Cut 1 step and 1 note"
    QTest.keyClick(view, Qt.Key.Key_V, CTRL)
    assert doc.workflow.find("fetch") is not None
    assert [n.text for n in doc.workflow.notes] == ["left alone", "ask legal first"]
    QTest.keyClick(view, Qt.Key.Key_Z, CTRL)
    QTest.keyClick(view, Qt.Key.Key_Z, CTRL)
    assert [n.text for n in doc.workflow.notes] == ["ask legal first", "left alone"]


def test_duplicate_and_delete_include_the_selected_notes(qtbot, tmp_path):
    w = _window(qtbot, tmp_path)
    doc, view = w.document, w.view
    _select_fetch_and_first_note(w)
    w.act.duplicate.trigger()  # Ctrl+D (X11 also binds it to Delete: tested in test_shortcuts)
    assert doc.workflow.ids[-1] == "fetch_2" and len(doc.workflow.notes) == 3
    assert doc.undo_stack.undoText() == "Duplicate fetch and 1 note"
    shift = doc.position("fetch_2")[0] - doc.position("fetch")[0]
    assert doc.workflow.notes[2].at[0] == shift
    assert view.selected_note_indices() == [2]
    QTest.keyClick(view, Qt.Key.Key_Delete)  # the copies, step and note, go
    assert doc.workflow.find("fetch_2") is None
    assert [n.text for n in doc.workflow.notes] == ["ask legal first", "left alone"]
    assert doc.undo_stack.undoText() == "Delete step fetch_2 and 1 note"
    assert doc.undo_stack.count() == 2


def test_a_note_alone_copies_and_pastes(qtbot, tmp_path):
    w = _window(qtbot, tmp_path)
    doc, view = w.document, w.view
    _click_note(w, 1)
    assert view.selected_ids() == [] and view.selected_note_indices() == [1]
    assert w.act.copy.isEnabled() and not w.act.toggle_disabled.isEnabled()
    QTest.keyClick(view, Qt.Key.Key_C, CTRL)
    QTest.keyClick(view, Qt.Key.Key_V, CTRL)
    assert [n.text for n in doc.workflow.notes] == ["ask legal first", "left alone", "left alone"]
    assert doc.workflow.ids == ["fetch", "check", "report", "pause"]
    assert doc.undo_stack.undoText() == "Paste note"
    assert [i.index for i in view.canvas.selectedItems() if isinstance(i, NoteItem)] == [2]


def test_notes_survive_the_payload_and_the_yaml_text(qapp):
    steps = [WaitStep(id="w", wait=1000)]
    notes = [Note("why we wait", (10, 20))]
    mime = steps_to_mime(steps, {"w": (0.0, 0.0)}, notes)
    assert steps_from_mime(mime)[0] == steps
    assert notes_from_mime(mime) == [Note("why we wait", (10.0, 20.0))]
    text_only = QMimeData()
    text_only.setText(mime.text())  # YAML pasted from an editor
    assert notes_from_mime(text_only) == notes
    assert notes_from_mime(steps_to_mime(steps, {})) == []
    unrelated = QMimeData()
    unrelated.setText("notes: are not a workflow")
    assert notes_from_mime(unrelated) == []
