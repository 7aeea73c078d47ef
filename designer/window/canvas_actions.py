"""The canvas's own actions on the main window: Rename Step (F2), Find Step (Ctrl+F), and the Help
menu with its keyboard shortcut sheet.

Kept out of actions.py so the File/Edit/View actions stay as they were; the Rename and Find
items join the Edit menu, Help is the last menu. The sheet is built from the live actions (so
it shows the keys this platform gave them) plus the canvas's mouse and keys without an action.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QMainWindow,
    QMenu,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from designer.canvas import CanvasView
from designer.canvas.find import FindBar

__all__ = ["CanvasActions", "CANVAS_KEYS", "ShortcutSheet"]

# what the canvas does on keys and mouse gestures that no menu action holds
CANVAS_KEYS = [
    ("Move the selected steps a grid step", "Arrow keys"),
    ("Move the selected steps one unit", "Shift+Arrow keys"),
    ("Rename the step in place", "F2 (Enter: rename, Esc: cancel)"),
    ("Cancel a connection, clear the selection", "Esc"),
    ("Connect two steps", "Drag from a port to a step"),
    ("Pan", "Space+drag, or middle-drag"),
    ("Zoom at the mouse", "Wheel"),
    ("Edit a step in the inspector", "Double-click the step"),
    ("Emit a test event", "Double-click the trigger"),
    ("What can be done here", "Right-click, or the Menu key"),
]


class CanvasActions:
    """Rename, Find and the Help menu for one main window."""

    def __init__(self, window: QMainWindow, view: CanvasView, canvas_page: QWidget) -> None:
        self.window = window
        self.view = view
        self.find_bar = FindBar(view, canvas_page)
        layout = canvas_page.layout()
        if layout is not None:
            layout.insertWidget(0, self.find_bar)  # type: ignore[attr-defined]
        self.rename = QAction("Re&name Step", window)
        self.rename.setShortcut(QKeySequence(Qt.Key.Key_F2))
        self.rename.setStatusTip("Rename the selected step; references to it follow")
        self.rename.triggered.connect(lambda _c=False: view.start_rename())
        self.find = QAction("&Find Step…", window)
        self.find.setShortcut(QKeySequence("Ctrl+F"))
        self.find.setStatusTip("Find a step by id, service or action")
        self.find.triggered.connect(lambda _c=False: self.find_bar.open_bar())
        for action in (self.rename, self.find):
            # live on the canvas page only: F2 in a form field or Ctrl+F in the YAML is theirs
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            canvas_page.addAction(action)
        self.shortcuts = QAction("&Keyboard Shortcuts", window)
        self.shortcuts.setShortcuts([QKeySequence("F1"), QKeySequence("Ctrl+/")])
        self.shortcuts.setStatusTip("Every key and mouse gesture of the designer")
        self.shortcuts.triggered.connect(lambda _c=False: self.show_sheet())
        window.addAction(self.shortcuts)
        self.sheet: ShortcutSheet | None = None
        self._add_to_menus()

    def _add_to_menus(self) -> None:
        bar = self.window.menuBar()
        edit = next((a.menu() for a in bar.actions() if a.text().replace("&", "") == "Edit"), None)
        if isinstance(edit, QMenu):
            edit.addSeparator()
            edit.addActions([self.rename, self.find])
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.shortcuts)
        self.help_menu = help_menu

    def show_sheet(self) -> ShortcutSheet:
        """Open (or raise) the shortcut sheet; window-modal-free, shown with show()."""
        if self.sheet is None:
            self.sheet = ShortcutSheet(self.window)
        self.sheet.refill()
        self.sheet.show()
        self.sheet.raise_()
        return self.sheet


class ShortcutSheet(QDialog):
    """A table of what each key does: the menus' actions, then the canvas's own keys."""

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.window_ = window
        self.setWindowTitle("Keyboard Shortcuts")
        self.table = QTableWidget(0, 3, self)
        self.table.setHorizontalHeaderLabels(["Where", "What", "Keys"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(620, 560)

    def rows(self) -> list[tuple[str, str, str]]:
        """(menu, action, keys) for each action with a key, then the canvas's gestures."""
        out: list[tuple[str, str, str]] = []
        for top in self.window_.menuBar().actions():
            menu = top.menu()
            if not isinstance(menu, QMenu):
                continue
            where = top.text().replace("&", "")
            for action in _walk(menu):
                keys = _readable(action.shortcuts())
                if keys and action.text():
                    out.append((where, action.text().replace("&", ""), ", ".join(keys)))
        out += [("Canvas", what, keys) for what, keys in CANVAS_KEYS]
        return out

    def refill(self) -> None:
        rows = self.rows()
        self.table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(text))


def _readable(keys: list[QKeySequence]) -> list[str]:
    """The action's key and its alternates with modifiers: X11's standard keys add the keys of
    old Sun keyboards (F14 for Undo, a bare 'Open' media key) nobody types."""
    texts = [k.toString(QKeySequence.SequenceFormat.NativeText) for k in keys]
    return texts[:1] + [t for t in texts[1:] if "+" in t]


def _walk(menu: QMenu) -> list[QAction]:
    out: list[QAction] = []
    for action in menu.actions():
        sub = action.menu()
        if isinstance(sub, QMenu):
            out += _walk(sub)
        elif not action.isSeparator():
            out.append(action)
    return out
