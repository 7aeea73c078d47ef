"""The window's authoring aids: the minimap, notes, quick add, and opening a file that does not
parse as a draft in the YAML tab (issues 14 and 15). Kept out of main_window.py, which holds
the window's own structure; the window creates one `AuthoringAids` and routes to it."""

from __future__ import annotations

import os
import time
from typing import Any

from PySide6.QtCore import QEvent, QObject, QPointF, QTimer
from PySide6.QtWidgets import QWidget

from designer.canvas.minimap import Minimap
from designer.canvas.notes import NoteLayer
from designer.shared import theme
from designer.window.quick_add import QuickAddPicker, add_connected, quick_add_entries

__all__ = ["AuthoringAids", "PressWatch"]


class AuthoringAids:
    """What the aids need of the window is read when used, so the window may build its docks
    and actions after this."""

    def __init__(self, window: Any) -> None:  # the MainWindow (which imports this module)
        self.window = window
        self.minimap = Minimap(window.view)
        self.notes = NoteLayer(window.view)
        self.notes.set_dark(theme.is_dark())
        self.minimap.set_notes(self.notes)
        self.quick_add_picker: QuickAddPicker | None = None

    def quick_add(self, at: QPointF, link: str = "", after_link: bool = True) -> QuickAddPicker:
        """Open the quick-add picker at a scene point; the step picked goes there, connected
        to `link` (quick_add.py)."""
        w = self.window
        w.palette_widget.update_workflow(w.document.workflow)  # no pause: it is asked now
        picker = QuickAddPicker(quick_add_entries(w.palette_widget.services()), w)
        picker.chosen.connect(lambda payload: add_connected(w.view, payload, at, link, after_link))
        self.quick_add_picker = picker
        picker.popup_at(w.view.viewport().mapToGlobal(w.view.mapFromScene(at)))
        return picker

    def add_note(self) -> None:
        """A note at the centre of the visible canvas, its text ready to type over."""
        w = self.window
        w.tabs.setCurrentWidget(w.canvas_page)
        centre = w.view.mapToScene(w.view.viewport().rect().center())
        w.view.setFocus()
        # a step-sized spot clear of the steps, nearest the centre: a note hides nothing
        at = w.view._free_offset([(0.0, 0.0)], (round(centre.x() - 80), round(centre.y() - 20)))
        self.notes.add(at)

    def open_draft(self, path: str, text: str) -> bool:
        """A file that does not parse opens in the YAML tab with its problems marked; the
        canvas comes back once the text parses (`draft_changed`)."""
        w = self.window
        if w.autosave is not None:
            w.autosave.remove()
        w.document.open_draft(text, path)
        w.settings.add_recent(path)
        w._update_title()
        n = len(w.document.problems)
        w.statusBar().showMessage(
            f"{os.path.basename(path)} does not parse ({n} problem{'s' if n != 1 else ''}): "
            "fix it in the YAML tab; the canvas opens once it parses",
            10000,
        )
        return True

    def draft_changed(self, draft: bool) -> None:
        w = self.window
        w.tabs.setTabEnabled(0, not draft)
        w.inspector.setEnabled(not draft)  # it would edit the empty stand-in workflow
        if draft:
            w.tabs.setCurrentWidget(w.yaml_view)
            w.yaml_view.setFocus()
            return
        w.palette_widget.set_sources(w.document.path, w.document.workflow)
        if w.tabs.currentWidget() is w.yaml_view:
            w.tabs.setCurrentWidget(w.canvas_page)
            w.statusBar().showMessage("The file parses now: back on the canvas", 5000)
        QTimer.singleShot(0, w.view.fit_to_view)


class PressWatch(QObject):
    """When the last mouse press on a widget came (monotonic seconds), watched, not taken."""

    def __init__(self, widget: QWidget) -> None:
        super().__init__(widget)
        self.pressed_at: float | None = None
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.MouseButtonPress:
            self.pressed_at = time.monotonic()
        return False
