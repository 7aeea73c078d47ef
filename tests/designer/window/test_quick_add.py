"""Quick add: Tab on the canvas or a wire dropped on empty canvas opens a searchable picker;
the step picked is placed there and connected, as one undo step."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from designer.canvas.style import NODE_W
from tests.designer.window_support import make_window, sample_workflow

LEFT = Qt.MouseButton.LeftButton


def _window(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path, sample_workflow())
    w.view.reset_zoom()
    w.view.centerOn(360, 80)
    return w


def _picker(qtbot, window):
    picker = window.aids.quick_add_picker
    qtbot.waitUntil(picker.isVisible, timeout=2000)
    return picker


def test_a_tab_added_step_is_connected_after_the_selected_one(qtbot, tmp_path):
    w = _window(qtbot, tmp_path)
    doc, view = w.document, w.view
    w.select_step("report")
    view.setFocus()
    before = doc.undo_stack.count()
    QTest.keyClick(view, Qt.Key.Key_Tab)
    picker = _picker(qtbot, w)
    assert picker.search.hasFocus()
    assert {"wait — Pause for a duration", "PolicyService.getPolicy"} <= set(picker.shown())
    QTest.keyClicks(picker.search, "noti")
    assert picker.shown() == ["notify — Send a notification"]
    QTest.keyClick(picker.search, Qt.Key.Key_Return)
    assert not picker.isVisible()
    new = [i for i in doc.workflow.ids if i not in {"fetch", "check", "report", "pause"}]
    assert len(new) == 1
    step = doc.workflow.step(new[0])
    assert step.after == ["report"]  # connected
    assert (new[0], "report") not in view.canvas.edges and ("report", new[0]) in view.canvas.edges
    assert doc.position(new[0])[0] > doc.position("report")[0] + NODE_W  # to its right
    assert view.selected_ids() == [new[0]]
    assert doc.undo_stack.count() == before + 1
    doc.undo_stack.undo()
    assert new[0] not in doc.workflow.ids


def test_tab_with_nothing_selected_adds_a_step_alone_and_search_is_by_words(qtbot, tmp_path):
    w = _window(qtbot, tmp_path)
    doc, view = w.document, w.view
    view.canvas.clearSelection()
    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_Tab)
    picker = _picker(qtbot, w)
    QTest.keyClicks(picker.search, "compliance run")
    assert picker.shown() == ["ComplianceService.runCheck"]
    QTest.keyClick(picker.search, Qt.Key.Key_Return)
    added = doc.workflow.steps[-1]
    assert (added.service, added.action, added.after) == ("ComplianceService", "runCheck", [])


def test_escape_closes_the_picker_and_adds_nothing(qtbot, tmp_path):
    w = _window(qtbot, tmp_path)
    w.view.setFocus()
    QTest.keyClick(w.view, Qt.Key.Key_Tab)
    picker = _picker(qtbot, w)
    QTest.keyClick(picker.search, Qt.Key.Key_Escape)
    assert not picker.isVisible() and w.document.undo_stack.count() == 0


def _drag(view, a: QPoint, b: QPoint) -> None:
    vp = view.viewport()
    QTest.mousePress(vp, LEFT, Qt.KeyboardModifier.NoModifier, a)
    for k in range(1, 5):
        QTest.mouseMove(vp, a + (b - a) * (k / 4))
    QTest.mouseRelease(vp, LEFT, Qt.KeyboardModifier.NoModifier, b)


def test_a_wire_dropped_on_empty_canvas_adds_the_picked_step_there_connected(qtbot, tmp_path):
    w = _window(qtbot, tmp_path)
    doc, view = w.document, w.view
    start = view.mapFromScene(view.canvas.nodes["pause"].port_scene_pos(True))
    end = start + QPoint(260, 40)
    drop_scene = view.mapToScene(end)
    _drag(view, start, end)
    picker = _picker(qtbot, w)
    QTest.keyClicks(picker.search, "wait")
    QTest.keyClick(picker.search, Qt.Key.Key_Return)
    added = doc.workflow.steps[-1]
    assert added.after == ["pause"]
    node = view.canvas.nodes[added.id]
    assert node.sceneBoundingRect().contains(drop_scene)  # placed where the wire ended


def test_a_wire_from_an_input_port_adds_the_step_before_it_in_one_undo_step(qtbot, tmp_path):
    w = _window(qtbot, tmp_path)
    doc, view = w.document, w.view
    start = view.mapFromScene(view.canvas.nodes["pause"].port_scene_pos(False))
    _drag(view, start, start + QPoint(-200, 120))
    picker = _picker(qtbot, w)
    QTest.keyClicks(picker.search, "emit")
    QTest.keyClick(picker.search, Qt.Key.Key_Return)
    added = doc.workflow.steps[-1]
    assert doc.workflow.step("pause").after == [added.id]
    assert doc.undo_stack.count() == 1
    assert doc.undo_stack.undoText() == f"Add step {added.id} before pause"
    doc.undo_stack.undo()
    assert added.id not in doc.workflow.ids and doc.workflow.step("pause").after == []


def test_the_palette_is_not_rebuilt_under_a_press_that_may_start_a_drag(qtbot, tmp_path):
    """The palette re-reads the workflow's services a moment after an edit; rebuilding its tree
    while a button is down on an entry dropped the drag that press was starting (a real-X test
    lost its second drop so). The refresh waits for the release."""
    w = _window(qtbot, tmp_path)
    tree = w.palette_widget.tree
    item = w.palette_widget.item_for({"kind": "wait"})
    at = tree.visualItemRect(item).center()
    QTest.mousePress(tree.viewport(), LEFT, Qt.KeyboardModifier.NoModifier, at)
    w.document.set_step_field("fetch", "service", "BrandNewService")
    w._palette_timer.timeout.emit()  # the refresh comes due while the button is down
    assert "BrandNewService" not in w.palette_widget.services()
    assert w._palette_timer.isActive()  # asked again later
    QTest.mouseRelease(tree.viewport(), LEFT, Qt.KeyboardModifier.NoModifier, at)
    qtbot.waitUntil(lambda: "BrandNewService" in w.palette_widget.services(), timeout=3000)
