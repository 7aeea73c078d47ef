"""The canvas driven by real mouse and key events: connect, move, select, delete, clipboard."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QHelpEvent, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QToolTip

from designer.canvas.items import EdgeItem, NodeItem
from designer.canvas.style import NODE_H, NODE_W
from engine import WaitStep

LEFT = Qt.MouseButton.LeftButton
NOMOD = Qt.KeyboardModifier.NoModifier
CTRL = Qt.KeyboardModifier.ControlModifier


def port(view, sid: str, output: bool) -> QPoint:
    return view.mapFromScene(view.canvas.nodes[sid].port_scene_pos(output))


def body(view, sid: str, dx: float = NODE_W / 2, dy: float = NODE_H / 2 + 8) -> QPoint:
    return view.mapFromScene(view.canvas.nodes[sid].pos() + QPointF(dx, dy))


def drag(view, a: QPoint, b: QPoint, button=LEFT, modifiers=NOMOD, steps: int = 4) -> None:
    vp = view.viewport()
    QTest.mousePress(vp, button, modifiers, a)
    for k in range(1, steps + 1):
        QTest.mouseMove(vp, a + (b - a) * (k / steps))
    QTest.mouseRelease(vp, button, modifiers, b)


def click(view, at: QPoint, modifiers=NOMOD) -> None:
    QTest.mouseClick(view.viewport(), LEFT, modifiers, at)


def key(view, k, modifiers=NOMOD) -> None:
    QTest.keyClick(view, k, modifiers)


def test_drag_output_port_to_input_port_connects_and_undoes(view, document):
    drag(view, port(view, "report", True), port(view, "pause", False))
    assert document.workflow.step("pause").after == ["report"]
    assert ("report", "pause") in view.canvas.edges
    assert document.undo_stack.count() == 1
    key(view, Qt.Key.Key_Z, CTRL)
    assert document.workflow.step("pause").after == []
    assert ("report", "pause") not in view.canvas.edges
    key(view, Qt.Key.Key_Z, CTRL | Qt.KeyboardModifier.ShiftModifier)
    assert document.workflow.step("pause").after == ["report"]
    assert ("report", "pause") in view.canvas.edges


def test_drag_from_input_port_to_a_node_connects_the_other_way(view, document):
    drag(view, port(view, "pause", False), body(view, "check"))
    assert document.workflow.step("pause").after == ["check"]


def test_drag_that_would_make_a_cycle_is_refused(view, document, qtbot):
    with qtbot.waitSignal(view.message) as msg:
        drag(view, port(view, "report", True), port(view, "fetch", False))
    assert "cycle" in msg.args[0]
    assert document.workflow.step("fetch").after == []
    assert ("report", "fetch") not in view.canvas.edges
    assert document.undo_stack.count() == 0
    assert (
        view._temp_edge is None and len(view.canvas.items()) == 4 + 2 + 2
    )  # nodes, edges, trigger, output


def test_moving_a_node_by_mouse_is_one_undo_step(view, document, tmp_path):
    drag(view, body(view, "pause"), body(view, "pause") + QPoint(60, 40), steps=6)
    assert document.undo_stack.count() == 1
    assert document.undo_stack.undoText() == "Move step pause"
    assert document.position("pause") == (60.0, 200.0)
    assert ("fetch", "check") in view.canvas.edges
    document.save(str(tmp_path / "w.yaml"))
    assert "  pause: [60, 200]\n" in (tmp_path / "w.yaml").read_text()
    key(view, Qt.Key.Key_Z, CTRL)
    assert document.position("pause") == (0.0, 160.0)
    assert view.canvas.nodes["pause"].pos() == QPointF(0, 160)


def test_edges_follow_a_dragged_node(view):
    edge = view.canvas.edges[("fetch", "check")]
    start = edge.path().currentPosition()
    drag(view, body(view, "check"), body(view, "check") + QPoint(0, 80))
    assert edge.path().currentPosition() == start + QPointF(0, 80)


def test_ctrl_click_then_drag_moves_both_in_one_step(view, document):
    click(view, body(view, "fetch"))
    click(view, body(view, "pause"), CTRL)
    assert view.selected_ids() == ["fetch", "pause"]
    drag(view, body(view, "fetch"), body(view, "fetch") + QPoint(20, 20))
    assert document.undo_stack.count() == 1
    assert document.undo_stack.undoText() == "Move 2 steps"
    assert document.position("fetch") == (20.0, 20.0)
    assert document.position("pause") == (20.0, 180.0)


def test_rubber_band_selects_the_nodes_it_touches(view, qtbot):
    a = view.mapFromScene(QPointF(-30, -40))
    b = view.mapFromScene(QPointF(300, 30))
    seen: list[list[str]] = []
    view.selection_changed.connect(seen.append)
    drag(view, a, b)
    assert view.selected_ids() == ["fetch", "check"]
    assert seen[-1] == ["fetch", "check"]


def test_delete_key_removes_steps_and_their_edges(view, document):
    click(view, body(view, "check"))
    key(view, Qt.Key.Key_Delete)
    assert document.workflow.ids == ["fetch", "report", "pause"]
    assert "check" not in view.canvas.nodes and view.canvas.edges == {}
    key(view, Qt.Key.Key_Z, CTRL)
    assert set(view.canvas.edges) == {("fetch", "check"), ("check", "report")}
    assert view.canvas.nodes["check"].pos() == QPointF(240, 0)


def test_click_an_edge_and_delete_it(view, document):
    edge = view.canvas.edges[("check", "report")]
    mid = edge.path().pointAtPercent(0.5)
    click(view, view.mapFromScene(mid))
    assert edge.isSelected() and view.selected_ids() == []
    key(view, Qt.Key.Key_Delete)
    assert document.workflow.step("report").after == []
    assert document.undo_stack.undoText() == "Delete edge check → report"


def test_copy_paste_makes_ids_unique_and_keeps_inner_edges(view, document, tmp_path):
    click(view, body(view, "check"))
    click(view, body(view, "report"), CTRL)
    key(view, Qt.Key.Key_C, CTRL)
    key(view, Qt.Key.Key_V, CTRL)
    assert document.workflow.ids[-2:] == ["check_2", "report_2"]
    assert document.workflow.step("report_2").after == ["check_2"]
    assert document.workflow.step("check_2").after == []
    assert ("check_2", "report_2") in view.canvas.edges
    assert view.selected_ids() == ["check_2", "report_2"]
    assert document.position("check_2") == (280.0, 124.0)  # (280, 40) lay on check itself
    assert document.undo_stack.count() == 1
    document.save(str(tmp_path / "p.yaml"))
    text = (tmp_path / "p.yaml").read_text()
    # report_2 follows check_2 in the list, so its `after` is implicit; check_2 starts at once
    assert "  - id: check_2\n    after: []\n" in text
    assert "  - id: report_2\n    notify:\n" in text
    assert "message: status ${ steps.check_2.output.status }" in text
    key(view, Qt.Key.Key_Z, CTRL)
    assert "check_2" not in view.canvas.nodes and document.workflow.find("check_2") is None


def test_cut_then_paste_restores_the_ids(view, document):
    click(view, body(view, "pause"))
    key(view, Qt.Key.Key_X, CTRL)
    assert document.workflow.find("pause") is None
    key(view, Qt.Key.Key_V, CTRL)
    assert document.workflow.ids == ["fetch", "check", "report", "pause"]


def test_duplicate_and_undo_redo(view, document):
    click(view, body(view, "fetch"))
    key(view, Qt.Key.Key_D, CTRL)
    assert document.workflow.ids[-1] == "fetch_2"
    assert document.undo_stack.undoText() == "Duplicate fetch"
    document.undo_stack.undo()
    assert "fetch_2" not in view.canvas.nodes
    document.undo_stack.redo()
    assert isinstance(view.canvas.nodes["fetch_2"], NodeItem)


def test_model_changes_show_on_the_canvas(view, document):
    document.rename_step("check", "verify")
    node = view.canvas.nodes["verify"]
    assert node.step_id == "verify" and "check" not in view.canvas.nodes
    assert set(view.canvas.edges) == {("fetch", "verify"), ("verify", "report")}
    document.set_step_field("verify", "action", "audit")
    assert node.detail == "ComplianceService.audit"
    document.undo_stack.undo()
    document.undo_stack.undo()
    assert set(view.canvas.edges) == {("fetch", "check"), ("check", "report")}
    assert isinstance(view.canvas.edges[("check", "report")], EdgeItem)


def test_zoom_keys_wheel_and_fit(view, document):
    key(view, Qt.Key.Key_Equal, CTRL)
    assert view.scale_factor() > 1.2
    key(view, Qt.Key.Key_0, CTRL)
    assert view.scale_factor() == 1.0
    key(view, Qt.Key.Key_Minus, CTRL)
    assert view.scale_factor() < 0.9
    view.reset_zoom()
    document.move_steps({"pause": ((0, 160), (4000, 3000))})
    view.fit_to_view()
    assert view.scale_factor() < 0.5
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    for node in view.canvas.nodes.values():
        assert visible.contains(node.sceneBoundingRect())


def test_middle_drag_pans(view):
    h, v = view.horizontalScrollBar().value(), view.verticalScrollBar().value()
    a = view.viewport().rect().center()
    drag(view, a, a + QPoint(-50, -30), button=Qt.MouseButton.MiddleButton)
    assert (view.horizontalScrollBar().value(), view.verticalScrollBar().value()) == (
        h + 50,
        v + 30,
    )


def test_problem_badge_carries_the_messages(view, document, qtbot):
    with qtbot.waitSignal(document.problems_changed, timeout=2000):
        document.set_step_field("check", "if_", "${ steps.nowhere.output }")
    node = view.canvas.nodes["check"]
    assert node.problems and "nowhere" in node.tooltip_text()
    assert view.canvas.nodes["fetch"].problems == []
    with qtbot.waitSignal(document.problems_changed, timeout=2000):
        document.undo_stack.undo()
    assert node.problems == [] and "⚠" not in node.tooltip_text()


def test_space_drag_pans(view, qtbot):
    h, v = view.horizontalScrollBar().value(), view.verticalScrollBar().value()
    QTest.keyPress(view, Qt.Key.Key_Space)
    a = view.viewport().rect().center()
    drag(view, a, a + QPoint(40, 20))
    QTest.keyRelease(view, Qt.Key.Key_Space)
    assert (view.horizontalScrollBar().value(), view.verticalScrollBar().value()) == (
        h - 40,
        v - 20,
    )
    assert view.selected_ids() == []  # panning is not a rubber band


def test_hovering_a_node_shows_its_tooltip(view, document, qtbot):
    document.set_step_field("check", "if_", "${ steps.nowhere.output }")
    document.validate_now()
    at = body(view, "check")
    event = QHelpEvent(QEvent.Type.ToolTip, at, view.viewport().mapToGlobal(at))
    QApplication.sendEvent(view.viewport(), event)
    qtbot.waitUntil(QToolTip.isVisible)
    assert QToolTip.text().startswith("check — ComplianceService.runCheck")
    assert "nowhere" in QToolTip.text()
    QToolTip.hideText()


def test_dragging_works_when_zoomed_far_out(view, document):
    view.zoom_by(0.25)
    assert view.canvas.overview_mode
    drag(view, body(view, "pause"), body(view, "pause") + QPoint(25, 0))
    x, y = document.position("pause")
    assert x == pytest.approx(100, abs=4) and y == 160
    assert document.undo_stack.count() == 1


def test_wheel_zooms_around_the_pointer(view):
    at = body(view, "check")
    under = view.mapToScene(at)
    event = QWheelEvent(
        QPointF(at),
        QPointF(view.viewport().mapToGlobal(at)),
        QPoint(0, 0),
        QPoint(0, 240),
        Qt.MouseButton.NoButton,
        NOMOD,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(view.viewport(), event)
    assert view.scale_factor() == pytest.approx(1.0015**240)
    after = view.mapToScene(at)
    assert abs(after.x() - under.x()) < 2 and abs(after.y() - under.y()) < 2


def test_connection_drag_turns_red_over_a_step_it_may_not_reach(view):
    vp = view.viewport()
    QTest.mousePress(vp, LEFT, NOMOD, port(view, "report", True))
    QTest.mouseMove(vp, body(view, "pause"))
    assert view._temp_edge.pen().color().name() == "#1a73e8"
    QTest.mouseMove(vp, body(view, "fetch"))
    assert view._temp_edge.pen().color().name() == "#d9342b"
    assert "cycle" in view._temp_edge.toolTip()
    QTest.mouseRelease(vp, LEFT, NOMOD, view.viewport().rect().topLeft() + QPoint(5, 5))
    assert view._temp_edge is None


def _overlapping(document) -> list[tuple[str, str]]:
    """Pairs of steps whose nodes overlap on the canvas."""
    ids = document.workflow.ids
    out = []
    for n, a in enumerate(ids):
        ax, ay = document.position(a)
        for b in ids[n + 1 :]:
            bx, by = document.position(b)
            if abs(ax - bx) < NODE_W and abs(ay - by) < NODE_H:
                out.append((a, b))
    return out


def _near(document, a: str, b: str, within: float) -> bool:
    (ax, ay), (bx, by) = document.position(a), document.position(b)
    return ((ax - bx) ** 2 + (ay - by) ** 2) ** 0.5 <= within


def test_new_duplicated_and_pasted_steps_land_in_free_space_nearby(view, document):
    assert _overlapping(document) == []
    click(view, body(view, "check"))
    key(view, Qt.Key.Key_D, CTRL)  # Duplicate
    assert document.workflow.ids[-1] == "check_2"
    assert _overlapping(document) == [] and _near(document, "check", "check_2", 200)
    click(view, body(view, "fetch"))
    key(view, Qt.Key.Key_C, CTRL)
    key(view, Qt.Key.Key_V, CTRL)
    key(view, Qt.Key.Key_V, CTRL)
    assert document.workflow.ids[-2:] == ["fetch_2", "fetch_3"]
    assert _overlapping(document) == [] and _near(document, "fetch", "fetch_3", 300)
    # dropped (palette) right on top of check: beside it instead, still close to the mouse
    on_check = view.mapToScene(body(view, "check"))
    sid = view.drop_step(WaitStep(id="hold", wait=1000), (on_check.x(), on_check.y()))
    assert _overlapping(document) == [] and _near(document, "check", sid, 200)
    assert document.undo_stack.count() == 4  # each still one undo step


def test_palette_adds_at_the_view_centre_never_on_a_step(qtbot, tmp_path):
    from tests.designer.window_support import make_window, sample_workflow

    window = make_window(qtbot, tmp_path, sample_workflow())
    node = window.view.canvas.nodes["check"]
    window.view.centerOn(node)
    first = window.add_from_palette({"kind": "wait"})
    second = window.add_from_palette({"kind": "wait"})
    assert _overlapping(window.document) == []
    assert _near(window.document, "check", first, 200)
    assert _near(window.document, "check", second, 300)


def test_a_duplicate_runs_after_what_its_original_runs_after(view, document):
    # duplicating `check` dropped its link to `fetch`: the copy started at once, and its
    # reads of steps.fetch were warned as read before they had run
    click(view, body(view, "check"))
    key(view, Qt.Key.Key_D, CTRL)
    assert document.workflow.step("check_2").after == ["fetch"]
    assert ("fetch", "check_2") in view.canvas.edges
