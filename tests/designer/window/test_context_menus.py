"""The canvas's context menus offer the authoring aids where they apply: Disable/Enable and
Quick Add After on a step, Run From Here / Run This Step Only (the window's F6 / Shift+F6
actions), Quick Add and Add Note on empty canvas. Each is triggered from the menu."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from tests.designer.canvas.test_canvas_edit import action, at_node, pick, right_click
from tests.designer.run.test_run_from import POLICY
from tests.designer.window_support import make_window, sample_workflow


def _window(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path, sample_workflow())
    w.view.reset_zoom()
    w.view.centerOn(360, 80)
    return w


def _texts(menu) -> list[str]:
    return [a.text() for a in menu.actions() if not a.isSeparator()]


def test_step_menu_disables_and_enables_the_steps_right_clicked(qtbot, tmp_path):
    w = _window(qtbot, tmp_path)
    doc, view = w.document, w.view
    menu = right_click(view, at_node(view, "check"))
    assert action(menu, "Disable Step").shortcut().toString() == "Ctrl+Shift+D"
    pick(menu, "Disable Step")
    assert doc.workflow.step("check").disabled
    assert "disabled: true" in doc.yaml_text()
    assert doc.undo_stack.count() == 1
    menu = right_click(view, at_node(view, "check"))
    assert "Disable Step" not in _texts(menu)
    pick(menu, "Enable Step")
    assert not doc.workflow.step("check").disabled and "disabled:" not in doc.yaml_text()
    # two selected, one of them disabled: the menu disables both
    doc.set_disabled(["report"], True)
    view.select_steps(["check", "report"])
    menu = right_click(view, at_node(view, "report"))
    assert view.selected_ids() == ["check", "report"]
    pick(menu, "Disable 2 Steps")
    assert doc.workflow.step("check").disabled and doc.workflow.step("report").disabled
    assert not action(right_click(view, at_node(view, "check")), "Quick Add After…").isEnabled()
    menu.hide()


def test_step_menu_quick_adds_a_step_connected_after_it(qtbot, tmp_path):
    w = _window(qtbot, tmp_path)
    doc, view = w.document, w.view
    menu = right_click(view, at_node(view, "report"))
    assert action(menu, "Quick Add After…").shortcut().toString() == "Tab"
    pick(menu, "Quick Add After…")
    picker = w.aids.quick_add_picker
    qtbot.waitUntil(picker.isVisible, timeout=2000)
    QTest.keyClicks(picker.search, "noti")
    QTest.keyClick(picker.search, Qt.Key.Key_Return)
    added = doc.workflow.steps[-1]
    assert added.id not in {"fetch", "check", "report", "pause"}
    assert added.after == ["report"] and doc.undo_stack.count() == 1


def test_step_menu_holds_the_windows_run_from_actions(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    assert w.open_path(str(POLICY))
    ui = w.run_ui
    assert ui.toolbar.select_environment("mock")
    w.view.reset_zoom()
    w.view.centerOn(w.view.canvas.nodes["sendUpdate"].sceneBoundingRect().center())
    menu = right_click(w.view, at_node(w.view, "sendUpdate"))
    from_here, only = ui.run_from_actions
    assert action(menu, "Run From Selected Step") is from_here
    assert action(menu, "Run Selected Step Only") is only
    assert from_here.shortcut().toString() == "F6" and only.shortcut().toString() == "Shift+F6"
    pick(menu, "Run From Selected Step")
    # it ran run_from_step on the step right-clicked: no run yet to replay the steps before
    assert not ui.controller.busy and "run the workflow once first" in ui.last_message
    assert "sendUpdate" in ui.last_message
    # two steps selected: both are shown, disabled (they need one step)
    w.view.select_steps(["sendUpdate", "check"])
    menu = right_click(w.view, at_node(w.view, "sendUpdate"))
    assert not action(menu, "Run From Selected Step").isEnabled()
    assert not action(menu, "Run Selected Step Only").isEnabled()
    menu.hide()


def test_empty_canvas_menu_adds_a_note_and_quick_adds_where_clicked(qtbot, tmp_path):
    w = _window(qtbot, tmp_path)
    doc, view = w.document, w.view
    spot = QPointF(300, 420)
    menu = right_click(view, view.mapFromScene(spot))
    assert action(menu, "Add Note Here").shortcut().toString() == "Ctrl+Shift+M"
    pick(menu, "Add Note Here")
    assert len(doc.workflow.notes) == 1
    x, y = doc.workflow.notes[0].at
    assert abs(x - spot.x()) <= 1 and abs(y - spot.y()) <= 1  # where the menu was opened
    assert "notes:\n  - text: Note\n" in doc.yaml_text()
    assert doc.undo_stack.count() == 1
    w.notes.items[0].clearFocus()
    view.canvas.clearSelection()

    spot = QPointF(700, 420)
    menu = right_click(view, view.mapFromScene(spot))
    pick(menu, "Quick Add Here…")
    picker = w.aids.quick_add_picker
    qtbot.waitUntil(picker.isVisible, timeout=2000)
    QTest.keyClicks(picker.search, "wait")
    QTest.keyClick(picker.search, Qt.Key.Key_Return)
    added = doc.workflow.steps[-1]
    assert added.after == []  # nothing to connect to
    assert view.canvas.nodes[added.id].sceneBoundingRect().contains(spot)
