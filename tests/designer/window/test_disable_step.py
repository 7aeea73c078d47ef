"""Disabling a step from the canvas: greyed, `disabled: true` saved, one undo step, and a run
shows it skipped."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from designer.canvas.style import NODE_H, NODE_W
from tests.designer.run_support import WORKFLOWS, wait_run
from tests.designer.window_support import make_window

POLICY = WORKFLOWS / "policy_change.yaml"
CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


def test_ctrl_shift_d_disables_the_selected_step_and_a_run_skips_it(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    assert w.open_path(str(POLICY))
    doc, view = w.document, w.view
    w.activateWindow()  # window shortcuts go to the active window
    qtbot.waitUntil(w.isActiveWindow, timeout=2000)
    view.reset_zoom()
    node = view.canvas.nodes["sendUpdate"]
    view.centerOn(node)
    at = view.mapFromScene(node.pos() + QPointF(NODE_W / 2, NODE_H / 2 + 8))
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at)
    assert view.selected_ids() == ["sendUpdate"]
    assert w.act.toggle_disabled.isEnabled()
    QTest.keyClick(view, Qt.Key.Key_D, CTRL_SHIFT)
    assert doc.workflow.step("sendUpdate").disabled
    assert node.opacity() < 0.5  # drawn greyed
    assert "    disabled: true\n" in doc.yaml_text()
    assert doc.undo_stack.undoText() == "Disable step sendUpdate"

    ui = w.run_ui
    ui.input_editor.set_text('{"policyId": "P-7"}')
    assert ui.toolbar.select_environment("mock")
    rec = wait_run(qtbot, ui, ui.run())
    assert ui.presenter.states()["sendUpdate"] == "skipped"
    assert ui.presenter.states()["adminSuccess"] == "skipped"  # it runs only after sendUpdate
    assert ui.presenter.states()["check"] == "succeeded"
    assert rec.result.steps["sendUpdate"].attempts == 0
    target = tmp_path / "saved.yaml"
    assert w.save_to(str(target))
    assert "disabled: true" in target.read_text()

    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_D, CTRL_SHIFT)  # all selected are disabled: enable
    assert not doc.workflow.step("sendUpdate").disabled and node.opacity() == 1.0
    doc.undo_stack.undo()
    assert doc.workflow.step("sendUpdate").disabled
    doc.undo_stack.undo()
    assert not doc.workflow.step("sendUpdate").disabled
