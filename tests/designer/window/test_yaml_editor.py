"""The YAML tab as an editor: typed edits apply as one undo step, bad text is marked in place,
and a file that does not parse opens there and goes to the canvas once it does."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor

from engine import Workflow, parse_workflow
from tests.designer.window_support import make_window, sample_workflow

CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.fixture
def window(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path, sample_workflow())
    w.act.show_yaml.trigger()
    w.yaml_view.setFocus()
    return w


def select_text(editor, needle: str) -> None:
    """Put the editor's selection on the first `needle`, as a double-click and drag would."""
    text = editor.toPlainText()
    start = text.index(needle)
    cursor = editor.textCursor()
    cursor.setPosition(start)
    cursor.setPosition(start + len(needle), QTextCursor.MoveMode.KeepAnchor)
    editor.setTextCursor(cursor)


def marks(editor) -> list[tuple[int, int, str]]:
    """The underlined places: (line, column, marked text), 1-based."""
    out = []
    for sel in editor.extraSelections():
        c = sel.cursor
        block = editor.document().findBlock(c.selectionStart())
        out.append(
            (block.blockNumber() + 1, c.selectionStart() - block.position() + 1, c.selectedText())
        )
    return out


def test_a_typed_edit_applies_as_one_undo_step(qtbot, window):
    doc, editor = window.document, window.yaml_view
    before = doc.undo_stack.count()
    select_text(editor, "wait: 5s")
    qtbot.keyClicks(editor, "wait: 42s")
    assert editor.pending and doc.workflow.step("pause").wait == 5000  # not yet: a pause first
    qtbot.waitUntil(lambda: doc.workflow.step("pause").wait == 42000, timeout=3000)
    assert doc.undo_stack.count() == before + 1
    assert doc.undo_stack.undoText() == "Edit YAML"
    assert not editor.pending and editor.problems == []
    assert "fetch" in window.view.canvas.nodes  # the canvas follows the new model
    # Ctrl+Z in the editor is the document's undo, all nine keys at once
    qtbot.keyClick(editor, Qt.Key.Key_Z, CTRL)
    assert doc.workflow.step("pause").wait == 5000
    qtbot.waitUntil(lambda: "wait: 5s" in editor.toPlainText(), timeout=2000)
    qtbot.keyClick(editor, Qt.Key.Key_Z, CTRL | Qt.KeyboardModifier.ShiftModifier)
    assert doc.workflow.step("pause").wait == 42000


def test_bad_text_is_marked_where_it_is_wrong_and_the_model_stays(qtbot, window):
    doc, editor = window.document, window.yaml_view
    before = (doc.yaml_text(), doc.undo_stack.count())
    select_text(editor, "action: runCheck")
    qtbot.keyClicks(editor, "actoin: runCheck")
    qtbot.waitUntil(lambda: bool(editor.problems), timeout=3000)
    line = editor.toPlainText()[: editor.toPlainText().index("actoin")].count("\n") + 1
    assert any(p.line == line and "actoin" in p.message for p in editor.problems)
    assert (line, 5, "actoin") in marks(editor)
    assert editor.problem_list.isVisible() and "actoin" in editor.problem_list.item(0).text()
    assert (doc.yaml_text(), doc.undo_stack.count()) == before
    assert "actoin" in editor.toPlainText()  # the typing is kept to be fixed
    # clicking the problem puts the cursor there
    item = editor.problem_list.item(0)
    rect = editor.problem_list.visualItemRect(item)
    qtbot.mouseClick(editor.problem_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert editor.textCursor().blockNumber() + 1 == line
    # fixing it applies, and the marks go
    select_text(editor, "actoin")
    qtbot.keyClicks(editor, "action")
    qtbot.waitUntil(lambda: not editor.problems and not editor.pending, timeout=3000)
    assert editor.extraSelections() == [] and editor.problem_list.isHidden()
    assert doc.undo_stack.count() == before[1]  # the same text again: nothing to undo


def test_a_yaml_syntax_error_keeps_the_model_and_ctrl_z_takes_the_typing_back(qtbot, window):
    doc, editor = window.document, window.yaml_view
    before = doc.yaml_text()
    select_text(editor, "name: sample")
    qtbot.keyClicks(editor, 'name: "sample')
    editor.apply_now()
    assert editor.problems and doc.yaml_text() == before
    assert "quote that is not closed" in editor.problems[0].message
    assert (editor.problems[0].line, editor.problems[0].col) == (2, 7)
    qtbot.keyClick(editor, Qt.Key.Key_Z, CTRL)  # unapplied typing goes first
    assert editor.toPlainText() == before and not editor.pending
    assert doc.undo_stack.count() == 0


def test_steps_the_file_does_not_place_stay_where_they_were_after_a_text_edit(qtbot, tmp_path):
    wf = sample_workflow()
    wf.layout = {}
    w = make_window(qtbot, tmp_path, wf)
    w.view.canvas.nodes["pause"]  # laid out on opening
    before = {k: w.document.position(k) for k in w.document.workflow.ids}
    w.act.show_yaml.trigger()
    select_text(w.yaml_view, "wait: 5s")
    qtbot.keyClicks(w.yaml_view, "wait: 6s")
    w.yaml_view.apply_now()
    assert w.document.workflow.step("pause").wait == 6000
    assert {k: w.document.position(k) for k in w.document.workflow.ids} == before
    assert w.document.workflow.layout == {}  # and the file still gives no layout


UNKNOWN_KEY = """version: 1
name: draft
steps:
  - id: fetch
    service: PolicyService
    actoin: getPolicy
  - id: report
    after: [fetch]
    notify: done
"""


def test_a_file_with_an_unknown_key_opens_in_the_editor_and_the_canvas_takes_over(qtbot, tmp_path):
    path = tmp_path / "draft.yaml"
    path.write_text(UNKNOWN_KEY)
    w = make_window(qtbot, tmp_path, Workflow())
    assert w.open_path(str(path))
    editor = w.yaml_view
    assert w.tabs.currentWidget() is editor and not w.tabs.isTabEnabled(0)
    assert editor.toPlainText() == UNKNOWN_KEY
    assert (6, 5, "actoin") in marks(editor)
    assert any("actoin" in p.message for p in w.problems.problems())  # the dock lists it too
    assert w.document.workflow.steps == [] and not w.isWindowModified()
    # fixed with real keys, the canvas opens on the workflow
    select_text(editor, "actoin")
    qtbot.keyClicks(editor, "action")
    qtbot.waitUntil(lambda: w.tabs.currentWidget() is w.canvas_page, timeout=3000)
    assert w.tabs.isTabEnabled(0) and w.document.draft is None
    assert w.document.workflow.ids == ["fetch", "report"]
    assert set(w.view.canvas.nodes) == {"fetch", "report"}
    assert w.isWindowModified()  # the fix is not saved yet
    assert w.save()
    saved = path.read_text()
    assert "action: getPolicy" in saved and parse_workflow(saved, "x.yaml").ok


def test_a_draft_is_saved_as_typed_while_it_does_not_parse(qtbot, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("version: 1\nname: 'broken\nsteps: []\n")
    w = make_window(qtbot, tmp_path, Workflow())
    assert w.open_path(str(path))
    editor = w.yaml_view
    assert marks(editor)[0][:2] == (2, 7)  # the quote, not the end of the file
    editor.moveCursor(QTextCursor.MoveOperation.End)
    qtbot.keyClicks(editor, "# still broken")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    editor.apply_now()
    assert w.document.draft is not None and w.isWindowModified()
    assert w.save()
    assert path.read_text() == "version: 1\nname: 'broken\nsteps: []\n# still broken\n"
    assert not w.isWindowModified()
