"""Build the central case from an empty window with the mouse and keys, on a real X server.

Run by tests/designer/window/test_build_on_x11.py as `pytest tests/designer/x11_build.py` with
QT_QPA_PLATFORM=xcb (X11's key bindings, real focus); not collected on its own (no test_ prefix).
The three calls of workflows/policy_change.yaml: update the policy, check it, roll it back when
the check does not pass — the rollback made with Duplicate, as a user would. The file is as
the writer keeps it tidy: an id equal to the action and an `after` of the step before are left
out.
"""

from __future__ import annotations

import os

import yaml
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QApplication, QLineEdit

from designer.canvas.style import NODE_H, NODE_W
from tests.designer.window_support import make_window

EXPECTED = """\
version: 1
name: policyChange
trigger: policyChangeSuggested
steps:
  - service: PolicyService
    action: updatePolicy
  - id: check
    service: ComplianceService
    action: runCheck
    timeout: 5s
    onError: continue
  - if: ${ steps.check.output.status != 'pass' }
    service: PolicyService
    action: revertPolicy
"""


def centre(view, sid: str):
    node = view.canvas.nodes[sid]
    return view.mapFromScene(QPointF(node.x0 + NODE_W / 2, node.y0 + NODE_H / 2))


def port(view, sid: str, output: bool):
    node = view.canvas.nodes[sid]
    return view.mapFromScene(node.port_scene_pos(output))


def click(qtbot, view, sid: str) -> None:
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=centre(view, sid))
    assert view.selected_ids() == [sid]


def connect(qtbot, view, src: str, dst: str) -> None:
    """Drag from src's output port onto dst, as the user does."""
    vp = view.viewport()
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=port(view, src, True))
    qtbot.mouseMove(vp, centre(view, dst))
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=centre(view, dst))
    assert src in view.document.workflow.step(dst).after


def type_into(qtbot, edit: QLineEdit, text: str) -> None:
    """Click a field, select what is there, type over it and leave with Tab."""
    qtbot.mouseClick(edit, Qt.MouseButton.LeftButton)
    qtbot.keyClick(edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(edit, text)
    qtbot.keyClick(edit, Qt.Key.Key_Tab)


def add_call(qtbot, window, target: str) -> str:
    """Type Service.action into the palette, then Enter on the new entry adds it at the centre."""
    palette = window.palette_widget
    before = list(window.document.workflow.ids)
    type_into_palette = palette.new_edit
    qtbot.mouseClick(type_into_palette, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(type_into_palette, target)
    qtbot.keyClick(type_into_palette, Qt.Key.Key_Return)
    tree = palette.tree
    tree.setFocus()
    qtbot.waitUntil(tree.hasFocus)
    qtbot.keyClick(tree, Qt.Key.Key_Return)
    new = [i for i in window.document.workflow.ids if i not in before]
    assert len(new) == 1, new
    return new[0]


def test_build_the_central_case_from_scratch(qtbot, tmp_path):
    assert QApplication.platformName() == "xcb"
    window = make_window(qtbot, tmp_path, size=(1300, 720))
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    view, doc = window.view, window.document

    # the workflow's name and trigger, in the inspector with nothing selected
    view.select_steps([])
    settings = window.inspector.workflow_form.editors
    type_into(qtbot, settings["name"].input, "policyChange")
    type_into(qtbot, settings["trigger"].input, "policyChangeSuggested")
    assert doc.workflow.trigger == ["policyChangeSuggested"]
    assert view.canvas.trigger.title == "policyChangeSuggested"

    # two calls from the palette, side by side in free space, connected with the mouse
    assert add_call(qtbot, window, "PolicyService.updatePolicy") == "updatePolicy"
    assert add_call(qtbot, window, "ComplianceService.runCheck") == "runCheck"
    view.fit_to_view()
    connect(qtbot, view, "updatePolicy", "runCheck")

    # F2 renames the check in place
    click(qtbot, view, "runCheck")
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_F2)
    editor = view.rename_editor
    assert editor is not None
    qtbot.keyClicks(editor, "check")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert doc.workflow.ids == ["updatePolicy", "check"]

    # its timeout and onError in the inspector; the badges show them
    form = window.inspector.step_form
    assert form is not None and form.step_id == "check"
    type_into(qtbot, form.editors["timeout"].input, "5s")
    on_error = form.editors["on_error"].input
    on_error.setFocus()
    on_error.setCurrentIndex(on_error.findData("continue"))
    assert [b.text for b in view.canvas.nodes["check"].badges] == ["5s", "continue"]

    # Ctrl+D duplicates updatePolicy (X11's Delete also holds Ctrl+D: it must not win)
    click(qtbot, view, "updatePolicy")
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert doc.workflow.ids == ["updatePolicy", "check", "updatePolicy_2"]
    assert view.selected_ids() == ["updatePolicy_2"]
    qtbot.keyClick(view, Qt.Key.Key_F2)
    qtbot.keyClicks(view.rename_editor, "revertPolicy")
    qtbot.keyClick(view.rename_editor, Qt.Key.Key_Return)
    form = window.inspector.step_form
    assert form is not None and form.step_id == "revertPolicy"
    type_into(qtbot, form.editors["action"].input, "revertPolicy")
    type_into(qtbot, form.editors["if_"].input, "${ steps.check.output.status != 'pass' }")
    view.fit_to_view()
    connect(qtbot, view, "check", "revertPolicy")
    mark = view.canvas.edges[("check", "revertPolicy")].mark
    assert mark is not None and mark.kind == "if"

    # the arrow keys nudge it below the check; one undo step a press
    click(qtbot, view, "revertPolicy")
    count = doc.undo_stack.count()
    for _ in range(3):
        qtbot.keyClick(view, Qt.Key.Key_Down)
    assert doc.undo_stack.count() == count + 3

    # Ctrl+S asks where (a new file), the name is typed into the dialog
    path = tmp_path / "policy_change.yaml"
    qtbot.keyClick(view, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    dialog = window.dialog
    assert dialog is not None
    name = dialog.findChild(QLineEdit, "fileNameEdit")
    assert name is not None, "expected Qt's own file dialog on a bare X server"
    qtbot.waitUntil(lambda: dialog.isVisible())
    dialog.activateWindow()  # no window manager gives it the focus on a bare X server
    qtbot.waitUntil(dialog.isActiveWindow)
    name.setFocus()
    name.selectAll()
    qtbot.keyClicks(name, str(path))
    qtbot.keyClick(name, Qt.Key.Key_Return)
    qtbot.waitUntil(path.exists)
    text = path.read_text(encoding="utf-8")
    body, _, layout = text.partition("layout:\n")
    assert body == EXPECTED, body
    assert set(yaml.safe_load("layout:\n" + layout)["layout"]) == {
        "updatePolicy",
        "check",
        "revertPolicy",
    }
    assert not doc.modified
    assert os.environ.get("QT_QPA_PLATFORM") == "xcb"
