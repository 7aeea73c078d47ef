"""The minimap: in the canvas's corner, framing what is visible; a click moves the view."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from designer.canvas.style import NODE_H, NODE_W
from engine import WaitStep
from tests.designer.window_support import make_window, sample_workflow


def test_a_click_in_the_minimap_moves_the_view_there(qtbot, tmp_path):
    wf = sample_workflow()
    wf.steps.append(WaitStep(id="far", after=[], wait=1000))
    wf.layout["far"] = (4000.0, 2500.0)
    w = make_window(qtbot, tmp_path, wf)
    view, mini = w.view, w.minimap
    view.reset_zoom()
    view.centerOn(360, 80)
    assert mini.isVisible()
    corner = view.viewport().geometry()
    assert corner.contains(mini.geometry())  # over the canvas, in its bottom-right corner
    assert mini.geometry().right() > corner.center().x()
    assert mini.geometry().bottom() > corner.center().y()
    far = w.view.canvas.nodes["far"]
    assert not mini.visible_scene_rect().intersects(far.sceneBoundingRect())
    target = mini.to_map(QPointF(4000 + NODE_W / 2, 2500 + NODE_H / 2)).toPoint()
    QTest.mouseClick(mini, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, target)
    assert mini.visible_scene_rect().contains(far.sceneBoundingRect().center())
    # the frame follows the view: its centre is where the click was
    seen = mini.visible_scene_rect()
    assert abs(seen.center().x() - (4000 + NODE_W / 2)) < 60
    w.act.minimap.trigger()
    assert not mini.isVisible()


def test_a_palette_drop_on_the_minimap_lands_on_the_canvas_beneath(qtbot, tmp_path):
    """The minimap is an overlay: a step dropped on it goes to the canvas at that spot (a real
    X drag of the interop test dropped right there and the step was lost)."""
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    w = make_window(qtbot, tmp_path, sample_workflow())
    mini, view = w.minimap, w.view
    w.palette_widget.update_workflow(w.document.workflow)
    mime = w.palette_widget.mime_for({"kind": "wait"})
    inside = QPoint(mini.width() // 2, mini.height() // 2)
    copy = Qt.DropAction.CopyAction
    for kind in (QDragEnterEvent, QDragMoveEvent):
        event = kind(inside, copy, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(mini, event)
        assert event.isAccepted()
    drop = QDropEvent(
        QPointF(inside), copy, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(mini, drop)
    added = [
        s for s in w.document.workflow.steps if s.id not in {"fetch", "check", "report", "pause"}
    ]
    assert len(added) == 1 and type(added[0]).__name__ == "WaitStep"
    assert view.selected_ids() == [added[0].id]  # as a drop on the canvas selects it
