"""The main window's actions, menus and tool bar: File, Edit and View, with standard shortcuts.

The actions are given the pieces they act on and a WindowCommands protocol for what only the
window can do (ask about unsaved changes, show file dialogs, switch the theme); they never know
the main window's class, which builds them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu, QTabWidget, QToolBar, QWidget

from designer.canvas import CanvasView
from designer.canvas.arrange import align, arrange_selection, distribute
from designer.document import WorkflowDocument
from designer.shared import theme
from designer.window.settings import AppSettings

__all__ = ["WindowActions", "WindowCommands"]

_STD = QKeySequence.StandardKey


class WindowCommands(Protocol):
    """What the File and View actions ask the window to do."""

    def new_file(self) -> None: ...
    def open_file(self) -> None: ...
    def open_recent(self, path: str) -> None: ...
    def clear_recent(self) -> None: ...
    def save(self) -> object: ...
    def save_as(self) -> None: ...
    def set_grid_visible(self, on: bool) -> None: ...
    def set_theme(self, name: str) -> None: ...
    def add_note(self) -> None: ...


class WindowActions:
    """Every QAction of the main window, by name; icons are re-tinted on theme changes.

    `window` is the QMainWindow the menus, the tool bar and the window-wide shortcuts go on;
    canvas edits are shortcuts of `canvas_page` only. `tabs` holds the canvas (0) and the YAML
    view (1).
    """

    def __init__(
        self,
        window: QMainWindow,
        commands: WindowCommands,
        *,
        view: CanvasView,
        document: WorkflowDocument,
        settings: AppSettings,
        tabs: QTabWidget,
        canvas_page: QWidget,
        docks: Sequence[QDockWidget],
    ) -> None:
        self.window = window
        self.settings = settings
        self.commands = commands
        self.canvas_page = canvas_page
        self.view, self.document = view, document
        self._docks = list(docks)
        self._icons: dict[QAction, str] = {}
        w, c = window, commands
        stack = document.undo_stack

        # File
        self.new = self._make("&New", "new", _STD.New, c.new_file, "Start a new workflow")
        self.open = self._make("&Open…", "open", _STD.Open, c.open_file, "Open a workflow file")
        self.save = self._make("&Save", "save", _STD.Save, c.save, "Save the workflow")
        self.save_as = self._make(
            "Save &As…", "save-as", _STD.SaveAs, c.save_as, "Save the workflow under another name"
        )
        self.quit = self._make("&Quit", "quit", _STD.Quit, w.close, "Close the designer")
        self.quit.setMenuRole(QAction.MenuRole.QuitRole)
        self.clear_recent = QAction("Clear Recent Files", w)
        self.clear_recent.triggered.connect(c.clear_recent)

        # Edit: undo/redo come from the stack so their text names the step ("Undo Add step x")
        self.undo = stack.createUndoAction(w, "&Undo")
        self.undo.setShortcuts(QKeySequence.keyBindings(_STD.Undo))
        self._icons[self.undo] = "undo"
        self.redo = stack.createRedoAction(w, "&Redo")
        self.redo.setShortcuts(QKeySequence.keyBindings(_STD.Redo))
        self._icons[self.redo] = "redo"
        # Canvas edits: their keys act only while the canvas has focus, so Delete or Ctrl+A in
        # the inspector, palette or problems list never removes or selects steps by surprise.
        self.cut = self._make(
            "Cu&t", "cut", _STD.Cut, view.cut_selection, "Cut the selected steps", canvas=True
        )
        self.copy = self._make(
            "&Copy", "copy", _STD.Copy, view.copy_selection, "Copy the selected steps", canvas=True
        )
        self.paste = self._make(
            "&Paste", "paste", _STD.Paste, view.paste, "Paste steps", canvas=True
        )
        self.duplicate = self._make(
            "D&uplicate",
            "duplicate",
            QKeySequence("Ctrl+D"),
            view.duplicate_selection,
            "Duplicate the selected steps",
            canvas=True,
        )
        self.delete = self._make(
            "&Delete",
            "delete",
            _STD.Delete,
            view.delete_selection,
            "Delete the selected steps and edges",
            canvas=True,
        )
        self.select_all = self._make(
            "Select &All",
            "select-all",
            _STD.SelectAll,
            view.select_all,
            "Select every step",
            canvas=True,
        )

        self.add_note = self._make(
            "Add &Note",
            None,
            QKeySequence("Ctrl+Shift+M"),
            c.add_note,
            "A sticky comment on the canvas, saved with the layout (runs ignore it)",
            canvas=True,
        )
        self.toggle_disabled = self._make(
            "Disa&ble / Enable",
            None,
            QKeySequence("Ctrl+Shift+D"),
            self._toggle_disabled,
            "Disable the selected steps (runs skip them; drawn greyed), or enable them again",
            canvas=True,
        )

        # Arrange: the selected steps, one undo step each
        self.arrange_actions: list[QAction] = []
        for label, how in (
            ("Align &Left", lambda p: align(p, "left")),
            ("Align &Center", lambda p: align(p, "hcenter")),
            ("Align &Right", lambda p: align(p, "right")),
            ("Align &Top", lambda p: align(p, "top")),
            ("Align &Middle", lambda p: align(p, "vcenter")),
            ("Align &Bottom", lambda p: align(p, "bottom")),
            ("Distribute H&orizontally", lambda p: distribute(p, "h")),
            ("Distribute V&ertically", lambda p: distribute(p, "v")),
        ):
            text = label.replace("&", "")
            action = self._make(
                label,
                None,
                None,
                lambda h=how, t=text: self._arrange(h, t),
                f"{text}: the selected steps",
                canvas=True,
            )
            self.arrange_actions.append(action)
        self.snap = self._make(
            "&Snap to Grid", None, None, None, "Dragged steps land on the grid's points"
        )
        self.snap.setCheckable(True)
        self.snap.toggled.connect(lambda on: setattr(view, "snap_to_grid", on))

        # View
        self.minimap = self._make(
            "&Minimap", None, QKeySequence("Ctrl+M"), None, "Show the whole workflow in a corner"
        )
        self.minimap.setCheckable(True)
        self.minimap.setChecked(True)
        self.zoom_in = self._make("Zoom &In", "zoom-in", _STD.ZoomIn, view.zoom_in)
        self.zoom_out = self._make("Zoom &Out", "zoom-out", _STD.ZoomOut, view.zoom_out)
        self.reset_zoom = self._make(
            "&Actual Size", "zoom-reset", QKeySequence("Ctrl+0"), view.reset_zoom
        )
        self.fit = self._make(
            "&Fit to Window",
            "fit",
            QKeySequence("Ctrl+Shift+F"),
            view.fit_to_view,
            "Show every step",
        )
        self.auto_layout = self._make(
            "Auto-&Layout",
            "layout",
            QKeySequence("Ctrl+L"),
            view.auto_layout,
            "Arrange the steps left to right and show them all",
        )
        self.grid = self._make(
            "Show &Grid", "grid", QKeySequence("Ctrl+'"), None, "Show the grid behind the steps"
        )
        self.grid.setCheckable(True)
        self.grid.toggled.connect(c.set_grid_visible)
        self.dark = self._make(
            "&Dark Theme",
            "theme",
            QKeySequence("Ctrl+Shift+T"),
            None,
            "Switch between the light and the dark theme",
        )
        self.dark.setCheckable(True)
        self.dark.toggled.connect(lambda on: c.set_theme("dark" if on else "light"))
        self.show_canvas = self._make(
            "&Canvas", "canvas", QKeySequence("Ctrl+1"), lambda: tabs.setCurrentIndex(0)
        )
        self.show_yaml = self._make(
            "&YAML", "yaml", QKeySequence("Ctrl+2"), lambda: tabs.setCurrentIndex(1)
        )
        group = QActionGroup(w)
        for action in (self.show_canvas, self.show_yaml):
            action.setCheckable(True)
            group.addAction(action)
        self.show_canvas.setChecked(True)
        tabs.currentChanged.connect(
            lambda i: (self.show_canvas if i == 0 else self.show_yaml).setChecked(True)
        )

        self.tool_bar = QToolBar("Tool Bar", w)
        self.tool_bar.setObjectName("mainToolBar")
        self.tool_bar.setMovable(False)
        self._build_menus()
        self._build_tool_bar()
        self.refresh_icons()

    def _make(
        self,
        text: str,
        icon_name: str | None,
        shortcut: QKeySequence | QKeySequence.StandardKey | None,
        slot: Callable[[], object] | None,
        tip: str = "",
        canvas: bool = False,
    ) -> QAction:
        action = QAction(text, self.window)
        if icon_name:
            self._icons[action] = icon_name
        if isinstance(shortcut, QKeySequence.StandardKey):
            action.setShortcuts(QKeySequence.keyBindings(shortcut))
        elif shortcut is not None:
            action.setShortcut(shortcut)
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(
                f"{tip} ({action.shortcut().toString(QKeySequence.NativeText)})"
                if not action.shortcut().isEmpty()
                else tip
            )
        if slot is not None:
            action.triggered.connect(lambda _checked=False: slot())
        if canvas:
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.canvas_page.addAction(action)
        else:
            self.window.addAction(action)
        return action

    def refresh_icons(self) -> None:
        for action, name in self._icons.items():
            action.setIcon(theme.icon(name))

    def _build_menus(self) -> None:
        w = self.window
        bar = w.menuBar()
        file_menu = bar.addMenu("&File")
        self.file_menu = file_menu
        file_menu.addActions([self.new, self.open])
        self.recent_menu = QMenu("Open &Recent", w)
        self.recent_menu.setIcon(theme.icon("recent"))
        self.recent_menu.aboutToShow.connect(self.fill_recent_menu)
        file_menu.addMenu(self.recent_menu)
        file_menu.addSeparator()
        file_menu.addActions([self.save, self.save_as])
        file_menu.addSeparator()
        file_menu.addAction(self.quit)

        edit = bar.addMenu("&Edit")
        edit.addActions([self.undo, self.redo])
        edit.addSeparator()
        edit.addActions([self.cut, self.copy, self.paste, self.duplicate, self.delete])
        edit.addSeparator()
        edit.addAction(self.select_all)
        edit.addAction(self.toggle_disabled)
        edit.addAction(self.add_note)
        arrange = edit.addMenu("A&rrange")
        arrange.addActions(self.arrange_actions[:6])
        arrange.addSeparator()
        arrange.addActions(self.arrange_actions[6:])

        view = bar.addMenu("&View")
        view.addActions([self.show_canvas, self.show_yaml])
        view.addSeparator()
        view.addActions([self.zoom_in, self.zoom_out, self.reset_zoom, self.fit])
        view.addSeparator()
        view.addActions([self.auto_layout, self.grid, self.snap, self.minimap, self.dark])
        view.addSeparator()
        for dock in self._docks:
            view.addAction(dock.toggleViewAction())
        view.addAction(self.tool_bar.toggleViewAction())
        self.view_menu = view

    def _build_tool_bar(self) -> None:
        bar = self.tool_bar
        bar.addActions([self.new, self.open, self.save])
        bar.addSeparator()
        bar.addActions([self.undo, self.redo])
        bar.addSeparator()
        bar.addActions([self.cut, self.copy, self.paste, self.delete])
        bar.addSeparator()
        bar.addActions([self.zoom_in, self.zoom_out, self.fit, self.auto_layout])
        self.window.addToolBar(bar)

    def fill_recent_menu(self) -> None:
        """Rebuilt each time it opens, from the settings (another window may have added)."""
        menu = self.recent_menu
        menu.clear()
        files = self.settings.recent_files()
        for n, path in enumerate(files, 1):
            label = f"&{n} {os.path.basename(path)}" if n < 10 else os.path.basename(path)
            action = menu.addAction(label)
            action.setToolTip(path)
            action.setStatusTip(path)
            action.setData(path)
            action.triggered.connect(lambda _c=False, p=path: self.commands.open_recent(p))
        if not files:
            none = menu.addAction("No recent files")
            none.setEnabled(False)
        menu.addSeparator()
        menu.addAction(self.clear_recent)
        self.clear_recent.setEnabled(bool(files))

    def _arrange(self, how: Callable[[Any], Any], text: str) -> None:
        why = arrange_selection(self.document, self.view.selected_ids(), how, text)
        if why is not None:
            self.view.message.emit(why)

    def _toggle_disabled(self) -> None:
        """Disable the selection, or enable it when every selected step is disabled."""
        ids = self.view.selected_ids()
        steps = [s for i in ids if (s := self.document.workflow.find(i)) is not None]
        if steps:
            self.document.set_disabled(ids, not all(s.disabled for s in steps))

    def update_edit_actions(self, selected: list[str]) -> None:
        for action in self.arrange_actions:
            action.setEnabled(len(selected) >= 2)
        has = bool(selected)
        # selected notes alone can be cut, copied and duplicated too (not disabled)
        notes = has or bool(self.view.selected_note_indices())
        for action in (self.cut, self.copy, self.duplicate):
            action.setEnabled(notes)
        self.toggle_disabled.setEnabled(has)
