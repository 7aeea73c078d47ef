"""The main window: YAML tab, Edit and View menus, shortcuts, title, theme and remembered layout."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication

from designer.shared import theme
from engine import WaitStep, Workflow
from tests.designer.window_support import make_settings, make_window, sample_workflow


@pytest.fixture
def window(qtbot, tmp_path):
    return make_window(qtbot, tmp_path, sample_workflow())


def test_yaml_tab_shows_the_text_that_will_be_saved_and_follows_edits(qtbot, window):
    doc = window.document
    window.act.show_yaml.trigger()
    assert window.tabs.currentWidget() is window.yaml_view
    assert window.yaml_view.toPlainText() == doc.yaml_text()
    assert not window.yaml_view.isReadOnly()  # an editor: test_yaml_editor.py
    doc.set_step_field("pause", "wait", 42000)
    qtbot.waitUntil(lambda: "wait: 42s" in window.yaml_view.toPlainText(), timeout=2000)
    assert window.yaml_view.toPlainText() == doc.yaml_text()
    doc.undo_stack.undo()
    qtbot.waitUntil(lambda: "wait: 5s" in window.yaml_view.toPlainText(), timeout=2000)


def test_hidden_yaml_tab_catches_up_when_shown(qtbot, window):
    doc = window.document
    assert window.tabs.currentWidget() is window.canvas_page
    doc.set_step_field("pause", "wait", 61000)
    window.act.show_yaml.trigger()
    assert "wait: 61s" in window.yaml_view.toPlainText()  # at once, no waiting for a timer


def test_undo_and_redo_actions_name_the_step_and_follow_shortcuts(qtbot, window):
    doc = window.document
    assert not window.act.undo.isEnabled()
    doc.add_step(WaitStep(id="wait", wait=1000), (0, 300))
    assert window.act.undo.isEnabled()
    assert window.act.undo.text() == "&Undo Add step wait"
    edit_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Edit")
    assert window.act.undo in edit_menu.actions() and window.act.redo in edit_menu.actions()
    assert window.act.undo.shortcut() == QKeySequence(QKeySequence.StandardKey.Undo)
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert "wait" not in doc.workflow.ids
    assert window.act.redo.text() == "&Redo Add step wait"
    window.act.redo.trigger()
    assert "wait" in doc.workflow.ids


def test_edit_actions_drive_the_canvas(qtbot, window):
    doc = window.document
    window.act.select_all.trigger()
    assert window.view.selected_ids() == doc.workflow.ids
    window.view.select_steps(["report"])
    assert window.act.copy.isEnabled() and window.act.cut.isEnabled()
    window.act.duplicate.trigger()
    assert "report_2" in doc.workflow.ids
    window.view.select_steps(["report_2"])
    window.act.delete.trigger()
    assert "report_2" not in doc.workflow.ids
    window.view.select_steps(["pause"])
    window.act.copy.trigger()
    window.act.paste.trigger()
    assert "pause_2" in doc.workflow.ids
    window.view.select_steps(["pause_2"])
    window.act.cut.trigger()
    assert "pause_2" not in doc.workflow.ids
    window.view.select_steps([])
    assert not window.act.copy.isEnabled()


def test_delete_key_in_the_inspector_does_not_delete_steps(qtbot, window):
    form_ids = ["check"]
    window.view.select_steps(form_ids)
    edit = window.inspector.step_form.editors["service"].input
    edit.setFocus()
    edit.setCursorPosition(0)
    qtbot.keyClick(edit, Qt.Key.Key_Delete)
    assert "check" in window.document.workflow.ids
    assert window.document.workflow.step("check").service == "omplianceService"
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_Delete)
    assert "check" not in window.document.workflow.ids


def test_view_actions(qtbot, window, tmp_path):
    view = window.view
    view.reset_zoom()
    window.act.zoom_in.trigger()
    assert view.scale_factor() > 1.0
    assert window.zoom_label.text() == f"{view.scale_factor() * 100:.0f} %"
    window.act.zoom_out.trigger()
    window.act.zoom_out.trigger()
    assert view.scale_factor() < 1.0
    window.act.reset_zoom.trigger()
    assert view.scale_factor() == pytest.approx(1.0)
    window.act.fit.trigger()
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    assert visible.contains(view.canvas.step_bounds())
    window.document.move_steps({"pause": ((0, 160), (2000, 2000))})
    window.act.auto_layout.trigger()
    assert window.act.undo.text() == "&Undo Auto-layout"
    assert window.document.position("pause") != (2000.0, 2000.0)
    assert window.act.grid.isChecked()
    window.act.grid.trigger()
    assert view.canvas.grid_visible is False
    assert window.settings.show_grid() is False
    window.act.grid.trigger()
    assert view.canvas.grid_visible is True
    for dock in window.docks():
        toggle = dock.toggleViewAction()
        toggle.trigger()
        assert dock.isHidden()
        toggle.trigger()
        assert not dock.isHidden()


def test_dark_theme_switches_palette_and_is_remembered(qtbot, window):
    app = QApplication.instance()
    try:
        window.act.dark.trigger()
        assert theme.current_theme() == "dark"
        assert app.palette().window().color().lightness() < 80
        assert window.settings.theme() == "dark"
        assert window.view.canvas.backgroundBrush().color().lightness() < 80
        window.act.dark.trigger()
        assert theme.current_theme() == "light"
        assert app.palette().window().color().lightness() > 200
        assert window.view.canvas.backgroundBrush().color().lightness() > 200
    finally:
        theme.apply_theme(app, "light")
        window.view.set_dark(False)


def test_title_carries_the_file_name_and_the_modified_marker(window):
    assert window.windowTitle().startswith("Untitled[*]")
    assert not window.isWindowModified()
    window.document.set_step_field("pause", "wait", 3000)
    assert window.isWindowModified()
    window.document.undo_stack.undo()
    assert not window.isWindowModified()


def test_window_geometry_and_dock_layout_are_remembered(qtbot, tmp_path):
    settings = make_settings(tmp_path)
    first = make_window(qtbot, tmp_path, settings=settings)
    first.resize(701, 603)  # inside the offscreen screen, which restoreGeometry clamps to
    first.problems_dock.hide()
    first.close()
    assert settings.window_geometry() is not None and settings.window_state() is not None
    second = make_window(qtbot, tmp_path, settings=make_settings(tmp_path), size=None)
    assert second.problems_dock.isHidden()
    assert (second.width(), second.height()) == (701, 603)


def _room(window):
    return window.screen().availableGeometry()


def test_first_window_fits_the_screen(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path, sample_workflow(), size=None)
    room = _room(window)
    assert room.width() < 1400 or room.height() < 900  # the offscreen screen is small
    assert room.contains(window.frameGeometry()), (window.frameGeometry(), room)
    assert window.statusBar().isVisible()
    status = window.statusBar().mapTo(window, window.statusBar().rect().bottomRight())
    assert room.contains(window.mapToGlobal(status))  # the status bar is on screen
    problems = window.problems_dock
    assert room.contains(problems.mapToGlobal(problems.rect().bottomRight()))


def test_saved_geometry_is_restored_only_if_it_fits(qtbot, tmp_path):
    settings = make_settings(tmp_path)
    first = make_window(qtbot, tmp_path, settings=settings, size=None)
    room = _room(first)
    first.setGeometry(room.x(), room.y(), room.width() + 500, room.height() + 400)
    first.close()  # saved while larger than the screen (another monitor, say)
    second = make_window(qtbot, tmp_path, settings=make_settings(tmp_path), size=None)
    assert room.contains(second.frameGeometry())
    second.setGeometry(room.x() + 20, room.y() + 40, 640, 480)
    second.close()
    third = make_window(qtbot, tmp_path, settings=make_settings(tmp_path), size=None)
    assert third.geometry().size().toTuple() == (640, 480)
    assert third.geometry().topLeft().toTuple() == (room.x() + 20, room.y() + 40)


def test_auto_layout_shows_every_step_and_is_one_undo_step(qtbot, tmp_path):
    chain = [WaitStep(id=f"w{i}", after=[f"w{i - 1}"] if i else [], wait=1000) for i in range(24)]
    # stacked in a column: laid out left to right they run far past the window's right edge
    workflow = Workflow(
        name="long", steps=chain, layout={s.id: (0, 120 * i) for i, s in enumerate(chain)}
    )
    window = make_window(qtbot, tmp_path, workflow)
    view = window.view
    view.reset_zoom()
    view.centerOn(0, 0)
    before = {s.id: window.document.position(s.id) for s in chain}
    count = window.document.undo_stack.count()
    window.activateWindow()  # window-wide shortcuts go to the active window
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=2000)
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert window.document.undo_stack.count() == count + 1
    assert window.act.undo.text() == "&Undo Auto-layout"
    assert window.document.position("w23")[0] > window.document.position("w0")[0] + 4000
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    for node in view.canvas.nodes.values():
        assert visible.contains(node.sceneBoundingRect()), node.step_id
    qtbot.keyClick(view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert {s.id: window.document.position(s.id) for s in chain} == before
