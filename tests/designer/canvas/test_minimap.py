"""The minimap: in the canvas's corner, framing what is visible; a click moves the view."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
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


def _press_ctrl_m(qtbot, w) -> None:
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=2000)
    w.view.setFocus()
    QTest.keyClick(w.view, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)


def test_the_minimap_hides_on_an_empty_canvas_and_while_everything_fits(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    mini, view = w.minimap, w.view
    assert w.act.minimap.isChecked()
    assert not mini.isVisible()  # nothing to frame on an empty canvas
    w.document.replace_workflow(sample_workflow(), None)
    view.fit_to_view()
    qtbot.waitUntil(
        lambda: (
            view.mapToScene(view.viewport().rect())
            .boundingRect()
            .contains(view.canvas.content_bounds())
        )
    )
    assert not mini.isVisible()  # all of it in sight: it would only cover a step
    for _ in range(6):
        view.zoom_in()
    assert mini.isVisible()  # part of the workflow is out of sight now
    view.fit_to_view()
    assert not mini.isVisible()


def test_the_minimap_never_covers_a_step_in_the_corner_of_a_workflow_in_sight(qtbot, tmp_path):
    """The last stop's complaint: a step near the bottom-right corner sat under the minimap."""
    w = make_window(qtbot, tmp_path, sample_workflow())
    view, mini = w.view, w.minimap
    view.reset_zoom()
    view.zoom_out()  # the sample is a little wider than this window's canvas at 100%
    view.centerOn(view.canvas.step_bounds().center())
    corner = view.viewport().rect().bottomRight() - QPoint(60, 30)
    at = view.mapToScene(corner) - QPointF(NODE_W / 2, NODE_H / 2)
    w.document.move_steps({"pause": (w.document.position("pause"), (at.x(), at.y()))})
    step = view.mapFromScene(view.canvas.nodes["pause"].sceneBoundingRect()).boundingRect()
    assert step.intersects(mini.geometry())  # where the minimap sits when shown
    qtbot.waitUntil(lambda: not mini.isVisible())
    QTest.mouseClick(
        view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, corner
    )
    assert view.selected_ids() == ["pause"]  # the click reached the step, not the minimap


def test_ctrl_m_turns_the_minimap_off_and_on_and_the_choice_is_remembered(qtbot, tmp_path):
    wf = sample_workflow()
    wf.steps.append(WaitStep(id="far", after=[], wait=1000))
    wf.layout["far"] = (4000.0, 2500.0)
    w = make_window(qtbot, tmp_path, wf)
    w.view.reset_zoom()
    w.view.centerOn(360, 80)
    assert w.minimap.isVisible()
    _press_ctrl_m(qtbot, w)
    assert not w.act.minimap.isChecked() and not w.minimap.isVisible()
    w.view.centerOn(4000, 2500)  # still needed, but the user said no
    assert not w.minimap.isVisible()
    assert w.settings.show_minimap() is False
    again = make_window(qtbot, tmp_path, wf)  # the same settings file
    again.view.reset_zoom()
    again.view.centerOn(360, 80)
    assert not again.act.minimap.isChecked() and not again.minimap.isVisible()
    _press_ctrl_m(qtbot, again)
    assert again.act.minimap.isChecked() and again.minimap.isVisible()
    assert again.settings.show_minimap() is True


def test_notes_are_drawn_in_the_minimap_and_count_in_what_must_fit(qtbot, tmp_path):
    from PySide6.QtGui import QColor

    w = make_window(qtbot, tmp_path, sample_workflow())
    view, mini = w.view, w.minimap
    view.fit_to_view()
    assert not mini.isVisible()
    w.notes.add((3000.0, 2000.0), "Far away")  # one undo step, like a note typed there
    w.notes.items[0].finish_editing()
    view.centerOn(200, 80)
    qtbot.waitUntil(mini.isVisible)
    note = w.notes.items[0].sceneBoundingRect()
    assert mini.world().adjusted(-0.5, -0.5, 0.5, 0.5).contains(note)  # float edges
    spot = mini.to_map(note.center()).toPoint()
    image = mini.grab().toImage()
    assert image.pixelColor(spot) == QColor("#e6cf5c")  # the note's paper, where it lies
    w.document.undo_stack.undo()  # the note goes: what is left fits again once fitted
    view.fit_to_view()
    qtbot.waitUntil(lambda: not mini.isVisible())


def test_a_far_note_in_the_file_opened_counts_at_once(qtbot, tmp_path):
    """A note far from the steps of a file just opened counts in what must fit (measured once
    per change, and the minimap is built before the note layer)."""
    from engine import Note

    wf = sample_workflow()
    wf.notes = [Note("far away", (2600, 1800))]
    w = make_window(qtbot, tmp_path, wf)
    w.view.reset_zoom()
    w.view.zoom_out()
    w.view.centerOn(w.view.canvas.step_bounds().center())
    assert w.minimap.visible_scene_rect().contains(w.view.canvas.step_bounds())  # steps fit
    qtbot.waitUntil(w.minimap.isVisible)  # the note does not
    assert w.minimap.content().contains(w.notes.items[0].sceneBoundingRect().center())
