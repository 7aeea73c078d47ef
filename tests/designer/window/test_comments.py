"""A commented workflow opened in the designer keeps its comments through canvas edits, the YAML
tab, undo, copy and paste, and Ctrl+S: each at its key, a step's with the step."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, Qt

from designer.canvas.style import NODE_H, NODE_W
from tests.designer.window.test_yaml_editor import select_text
from tests.designer.window_support import make_window

CTRL = Qt.KeyboardModifier.ControlModifier

COMMENTED = """\
# Sample workflow, with comments.
version: 1
name: sample
steps:
  # fetch the policy first
  - id: fetch
    service: PolicyService
    action: getPolicy   # the read API
  - id: check
    service: ComplianceService
    action: runCheck
    with:
      v: ${ steps.fetch.output.version }
    timeout: 5s   # generous
  # the report goes to the admins
  - id: report
    notify:
      message: status ${ steps.check.output.status }
layout:
  fetch: [0, 0]   # leftmost
  check: [240, 0]
  report: [480, 0]
# end
"""


@pytest.fixture
def opened(qtbot, tmp_path: Path):
    path = tmp_path / "sample.yaml"
    path.write_text(COMMENTED, encoding="utf-8")
    window = make_window(qtbot, tmp_path)
    assert window.open_path(str(path))
    window.activateWindow()
    return window, path


def _click_node(qtbot, view, sid: str) -> None:
    node = view.canvas.nodes[sid]
    pos = view.mapFromScene(QPointF(node.x0 + NODE_W / 2, node.y0 + NODE_H / 2))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert view.selected_ids() == [sid]


def _save_with_keys(qtbot, window, path: Path) -> str:
    qtbot.keyClick(window.view, Qt.Key.Key_S, CTRL)
    qtbot.waitUntil(lambda: not window.isWindowModified(), timeout=3000)
    return path.read_text(encoding="utf-8")


def test_canvas_edits_then_ctrl_s_keep_the_comments_where_they_belong(qtbot, opened):
    window, path = opened
    view = window.view
    assert window.document.yaml_text() == COMMENTED  # what the YAML tab shows and Save writes
    # F2 renames fetch; its comments (above it, on its action, on its layout line) follow
    _click_node(qtbot, view, "fetch")
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_F2)
    qtbot.keyClicks(view.rename_editor, "load")
    qtbot.keyClick(view.rename_editor, Qt.Key.Key_Return)
    # Delete takes the report step, and its comment with it
    _click_node(qtbot, view, "report")
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert window.document.workflow.ids == ["load", "check"]
    saved = _save_with_keys(qtbot, window, path)
    assert saved == (
        "# Sample workflow, with comments.\n"
        "version: 1\n"
        "name: sample\n"
        "steps:\n"
        "  # fetch the policy first\n"
        "  - id: load\n"
        "    service: PolicyService\n"
        "    action: getPolicy   # the read API\n"
        "  - id: check\n"
        "    service: ComplianceService\n"
        "    action: runCheck\n"
        "    with:\n"
        "      v: ${ steps.load.output.version }\n"
        "    timeout: 5s   # generous\n"
        "layout:\n"
        "  load: [0, 0]    # leftmost\n"
        "  check: [240, 0]\n"
        "# end\n"
    )
    # undoing the delete brings the step back with its comment
    qtbot.keyClick(view, Qt.Key.Key_Z, CTRL)
    assert window.document.workflow.ids == ["load", "check", "report"]
    saved = _save_with_keys(qtbot, window, path)
    assert "  # the report goes to the admins\n  - id: report\n" in saved


def test_a_comment_typed_in_the_yaml_tab_is_saved_after_canvas_edits(qtbot, opened):
    window, path = opened
    doc, editor = window.document, window.yaml_view
    window.act.show_yaml.trigger()
    editor.setFocus()
    select_text(editor, "  - id: check")
    qtbot.keyClicks(editor, "  # then the compliance check")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.keyClicks(editor, "  - id: check")
    qtbot.waitUntil(lambda: "then the compliance" in doc.yaml_text(), timeout=3000)
    assert doc.undo_stack.undoText() == "Edit YAML"
    window.act.show_canvas.trigger()
    # a drag on the canvas: the layout changes, the comments stay
    view = window.view
    node = view.canvas.nodes["check"]
    start = view.mapFromScene(QPointF(node.x0 + NODE_W / 2, node.y0 + NODE_H / 2))
    end = start + (view.mapFromScene(QPointF(80, 80)) - view.mapFromScene(QPointF(0, 0)))
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(view.viewport(), end)
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=end)
    assert doc.workflow.layout["check"] != (240, 0)
    saved = _save_with_keys(qtbot, window, path)
    assert "    action: runCheck\n" in saved
    assert "  # then the compliance check\n  - id: check\n" in saved
    assert saved.startswith("# Sample workflow, with comments.\n") and saved.endswith("# end\n")
    assert "  # fetch the policy first\n" in saved and "# generous\n" in saved


def test_copy_and_paste_carry_a_steps_comments(qtbot, opened):
    window, path = opened
    view = window.view
    _click_node(qtbot, view, "check")
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_C, CTRL)
    qtbot.keyClick(view, Qt.Key.Key_V, CTRL)
    ids = window.document.workflow.ids
    assert len(ids) == 4
    pasted = window.document.workflow.step(ids[-1])
    assert pasted.comments  # the timeout's comment came along
    saved = _save_with_keys(qtbot, window, path)
    assert saved.count("    timeout: 5s   # generous\n") == 2
