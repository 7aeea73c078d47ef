"""Editing on the canvas with keys and menus: F2 renames in place, arrows nudge, context menus on
a step, an edge, the trigger and empty canvas, Ctrl+F finds a step, Help lists every key."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication

from designer.canvas.find import find_steps
from designer.canvas.style import GRID, NODE_H, NODE_W
from tests.designer.window_support import make_window, sample_workflow


def at_node(view, sid: str, dx: float = NODE_W / 2, dy: float = NODE_H / 2) -> QPoint:
    node = view.canvas.nodes[sid]
    return view.mapFromScene(QPointF(node.x0 + dx, node.y0 + dy))


def right_click(view, pos: QPoint):
    """What a right click sends the canvas: a context menu event at `pos`."""
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, view.viewport().mapToGlobal(pos))
    QApplication.sendEvent(view.viewport(), event)
    assert view.menu is not None
    return view.menu


def action(menu, text: str):
    found = [a for a in menu.actions() if a.text() == text]
    assert found, [a.text() for a in menu.actions()]
    return found[0]


def pick(menu, text: str) -> None:
    """Choose a menu item as a click does: it runs and the menu closes."""
    item = action(menu, text)
    assert item.isEnabled(), text
    item.trigger()
    menu.hide()


def test_f2_renames_in_place_and_references_follow(qtbot, view, document):
    view.select_steps(["fetch"])
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_F2)
    editor = view.rename_editor
    assert editor is not None and editor.isVisible() and editor.text() == "fetch"
    assert editor.selectedText() == "fetch"  # typing replaces the old id
    qtbot.keyClicks(editor, "load")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert document.workflow.ids[0] == "load"
    check = document.workflow.step("check")
    assert check.after == ["load"] and check.with_ == {"v": "${ steps.load.output.version }"}
    assert view.rename_editor is None and view.selected_ids() == ["load"]
    assert document.undo_stack.count() == 1
    document.undo_stack.undo()
    assert document.workflow.step("check").with_ == {"v": "${ steps.fetch.output.version }"}


def test_rename_to_a_taken_id_is_refused_and_esc_cancels(qtbot, view, document):
    messages: list[str] = []
    view.message.connect(messages.append)
    editor = view.start_rename("fetch")
    editor.setText("check")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert document.workflow.ids[0] == "fetch" and document.undo_stack.count() == 0
    assert messages and "Cannot rename fetch to check" in messages[-1]
    assert view.rename_editor is editor and editor.isVisible()  # still editing
    qtbot.keyClick(editor, Qt.Key.Key_Escape)
    assert view.rename_editor is None and document.undo_stack.count() == 0


def test_arrow_keys_nudge_the_selection_one_undo_step_a_press(qtbot, view, document):
    view.select_steps(["fetch", "check"])
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Right)
    qtbot.keyClick(view, Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    assert document.position("fetch") == (GRID, 1)
    assert document.position("check") == (240 + GRID, 1)
    assert view.canvas.nodes["fetch"].x0 == GRID
    assert document.undo_stack.count() == 2
    document.undo_stack.undo()
    assert document.position("fetch") == (GRID, 0)


def test_node_menu_duplicates_and_renames(qtbot, view, document):
    menu = right_click(view, at_node(view, "check"))
    assert view.selected_ids() == ["check"]  # the step right-clicked is the one acted on
    texts = [a.text() for a in menu.actions() if not a.isSeparator()]
    assert texts[:6] == ["Rename…", "Edit in Inspector", "Duplicate", "Cut", "Copy", "Delete"]
    assert action(menu, "Duplicate").shortcut().toString() == "Ctrl+D"
    pick(menu, "Duplicate")
    assert "check_2" in document.workflow.ids
    menu = right_click(view, at_node(view, "report"))
    pick(menu, "Rename…")
    assert view.rename_editor is not None and view.rename_editor.step_id == "report"


def test_edge_menu_deletes_the_edge(qtbot, view, document):
    edge = view.canvas.edges[("fetch", "check")]
    mid = edge.path().pointAtPercent(0.5)
    menu = right_click(view, view.mapFromScene(mid))
    pick(menu, "Delete Edge fetch → check")
    assert document.workflow.step("check").after == []
    assert ("fetch", "check") not in view.canvas.edges


def test_empty_canvas_menu_adds_a_step_where_clicked(qtbot, view, document):
    pos = view.mapFromScene(QPointF(300, 300))
    menu = right_click(view, pos)
    assert not action(menu, "Paste Here").isEnabled()  # nothing copied
    pick(menu, "Add Wait Here")
    new = [s for s in document.workflow.ids if s.startswith("wait")]
    assert len(new) == 1 and view.selected_ids() == new
    x, y = document.position(new[0])
    assert (x + NODE_W / 2, y + NODE_H / 2) == (300, 300)
    view.copy_selection()
    menu = right_click(view, view.mapFromScene(QPointF(600, 400)))
    pick(menu, "Paste Here")
    assert document.position(view.selected_ids()[0]) == (600, 400)


def test_find_matches_ids_services_and_actions():
    wf = sample_workflow()
    assert find_steps(wf, "check") == ["check"]
    assert find_steps(wf, "policyservice") == ["fetch"]
    assert find_steps(wf, "runCheck") == ["check"]
    assert find_steps(wf, "c") == ["fetch", "check"]  # fetch's action getPolicy has a c
    assert find_steps(wf, "service.getpolicy") == ["fetch"]
    assert find_steps(wf, "  ") == []


def test_ctrl_f_finds_a_step_and_help_lists_the_keys(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path, sample_workflow())
    view = window.view
    view.setFocus()
    qtbot.waitUntil(view.hasFocus)
    qtbot.keyClick(view, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    bar = window.canvas_act.find_bar
    assert bar.isVisible()
    qtbot.waitUntil(bar.field.hasFocus)
    qtbot.keyClicks(bar.field, "Compliance")
    assert view.selected_ids() == ["check"] and bar.count.text() == "1 of 1"
    bar.field.clear()
    qtbot.keyClicks(bar.field, "e")  # fetch, check, report, pause all have an e
    first = view.selected_ids()
    qtbot.keyClick(bar.field, Qt.Key.Key_Return)
    assert view.selected_ids() != first and bar.count.text().startswith("2 of ")
    qtbot.keyClick(bar.field, Qt.Key.Key_Escape)
    assert not bar.isVisible() and view.hasFocus()
    # F2 from the window's action (the canvas page holds it)
    view.select_steps(["pause"])
    qtbot.keyClick(view, Qt.Key.Key_F2)
    assert view.rename_editor is not None and view.rename_editor.step_id == "pause"
    view.rename_editor.cancel()
    menus = [a.text() for a in window.menuBar().actions()]
    assert menus[-1] == "&Help"
    sheet = window.canvas_act.show_sheet()
    rows = sheet.rows()
    assert ("Edit", "Rename Step", "F2") in rows
    assert ("Edit", "Find Step…", "Ctrl+F") in rows
    assert ("Edit", "Duplicate", "Ctrl+D") in rows
    assert any(r[0] == "Canvas" and r[2] == "Arrow keys" for r in rows)
    assert sheet.table.rowCount() == len(rows)
    sheet.close()


def test_trigger_menu_emits_and_shows_the_workflow_settings(qtbot, view):
    view.select_steps(["check"])
    emitted, shown = [], []
    view.trigger_activated.connect(lambda: emitted.append(True))
    view.step_activated.connect(shown.append)
    menu = right_click(view, view.mapFromScene(view.canvas.trigger.box.center()))
    pick(menu, "Emit Test Event…")
    assert emitted == [True]
    menu = right_click(view, view.mapFromScene(view.canvas.trigger.box.center()))
    pick(menu, "Edit Trigger in Inspector")
    assert view.selected_ids() == [] and shown == [""]


def test_the_menu_key_opens_the_selected_steps_menu(qtbot, view):
    view.select_steps(["report"])
    corner = QPoint(2, 2)  # where the mouse happens to be says nothing
    event = QContextMenuEvent(
        QContextMenuEvent.Reason.Keyboard, corner, view.viewport().mapToGlobal(corner)
    )
    QApplication.sendEvent(view.viewport(), event)
    menu = view.menu
    assert menu is not None and action(menu, "Rename…").isEnabled()
    pick(menu, "Rename…")
    assert view.rename_editor is not None and view.rename_editor.step_id == "report"
