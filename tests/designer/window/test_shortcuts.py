"""No two actions hold the same key where both are live, on the offscreen platform and on X11,
whose standard key bindings differ (X11's Delete also holds Ctrl+D, Duplicate's key)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QWidget

from designer.shared.shortcuts import drop_clashing_alternates, key_text, shortcut_clashes
from tests.designer.window_support import make_window, sample_workflow
from tests.designer.x11 import run_under_x


def test_no_two_actions_share_a_key_offscreen(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path, sample_workflow())
    assert shortcut_clashes(window) == []
    assert key_text(window.act.duplicate.shortcut()) == "Ctrl+D"
    # the canvas's own actions take part: rename, find, the shortcut sheet
    assert key_text(window.canvas_act.rename.shortcut()) == "F2"
    assert key_text(window.canvas_act.find.shortcut()) == "Ctrl+F"
    assert [key_text(k) for k in window.canvas_act.shortcuts.shortcuts()] == ["F1", "Ctrl+/"]


def test_no_two_actions_share_a_key_on_x11_and_ctrl_d_duplicates(tmp_path):
    got = run_under_x("tests.designer.x11_check", str(tmp_path))
    assert got["platform"] == "xcb"
    assert "Ctrl+D" in got["delete_bindings"]  # X11's bindings are the ones checked
    assert got["clashes"] == []
    assert got["shortcuts"]["Duplicate"] == ["Ctrl+D"]
    assert got["shortcuts"]["Delete"][0] == "Del"
    assert "check_2" in got["steps_after_ctrl_d"]
    assert got["shortcuts"]["Rename Step"] == ["F2"]
    assert got["shortcuts"]["Find Step…"] == ["Ctrl+F"]
    assert got["shortcuts"]["Keyboard Shortcuts"] == ["F1", "Ctrl+/"]
    assert got["find_bar_after_ctrl_f"] is True


def test_an_alternate_key_another_action_holds_is_dropped_where_both_are_live(qtbot):
    window = QMainWindow()
    qtbot.addWidget(window)
    page, elsewhere = QWidget(window), QWidget(window)
    window.setCentralWidget(page)

    def action(text, keys, on, context=Qt.ShortcutContext.WidgetWithChildrenShortcut):
        a = QAction(text, window)
        a.setShortcuts([QKeySequence(k) for k in keys])
        a.setShortcutContext(context)
        on.addAction(a)
        return a

    duplicate = action("Duplicate", ["Ctrl+D"], page)
    delete = action("Delete", ["Del", "Ctrl+D"], page)
    window_wide = action("Copy", ["Ctrl+C"], window, Qt.ShortcutContext.WindowShortcut)
    own_copy = action("Copy here", ["Ctrl+Shift+C", "Ctrl+C"], elsewhere)
    assert [str(c) for c in shortcut_clashes(window)] == [
        "Ctrl+D: 'Duplicate' and 'Delete'",
        "Ctrl+C: 'Copy' and 'Copy here'",
    ]
    drop_clashing_alternates(window)
    assert shortcut_clashes(window) == []
    assert [key_text(k) for k in delete.shortcuts()] == ["Del"]
    assert [key_text(k) for k in duplicate.shortcuts()] == ["Ctrl+D"]
    assert [key_text(k) for k in own_copy.shortcuts()] == ["Ctrl+Shift+C"]
    assert [key_text(k) for k in window_wide.shortcuts()] == ["Ctrl+C"]
