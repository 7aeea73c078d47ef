"""The designer's main window: canvas and YAML tabs, the three docks, and file handling.

Questions to the user (unsaved changes, restore an autosave, errors) use `QDialog.open()` and a
continuation, never `exec()`: a nested event loop inside qasync's loop stalls the coroutines the
run controller drives (STYLE.md, qasync issues 59, 82, 174). Closing the window works the same
way: `closeEvent` ignores the event, asks, and closes again once the answer allows it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import (
    QPointF,
    Qt,
    QTimer,
)
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from designer.canvas import CanvasView
from designer.document import WorkflowDocument
from designer.document.clipboard import step_from_palette
from designer.inspector import InspectorWidget
from designer.palette import PaletteWidget
from designer.run import attach_run_ui
from designer.run.run_from import add_run_from_actions
from designer.shared import qtprime, theme
from designer.shared.shortcuts import drop_clashing_alternates
from designer.window.actions import WindowActions
from designer.window.authoring import AuthoringAids, PressWatch
from designer.window.canvas_actions import CanvasActions
from designer.window.geometry import restore_geometry
from designer.window.interop_actions import SERVERLESS_FILTER, InteropActions
from designer.window.problems import LoadProblemsDialog, ProblemsWidget
from designer.window.settings import (
    AppSettings,
    Autosave,
    AutosaveEntry,
    discard_autosave,
    recoverable_autosaves,
)
from designer.window.yaml_view import YamlView
from engine import YAML_SUFFIXES, LoadError, Problem, Workflow, is_serverless_name

__all__ = ["MainWindow", "AUTOSAVE_INTERVAL_MS", "YAML_FILTER"]

AUTOSAVE_INTERVAL_MS = 60_000
PALETTE_REFRESH_MS = 400
PALETTE_PRESS_GRACE_S = 2.0  # how long after a press on the palette its refresh may wait
YAML_FILTER = "Workflow files (" + " ".join(f"*{s}" for s in YAML_SUFFIXES) + ");;All files (*)"


class MainWindow(QMainWindow):
    """One workflow document in one window."""

    def __init__(
        self,
        settings: AppSettings | None = None,
        autosave: Autosave | None = None,
        autosave_interval_ms: int = AUTOSAVE_INTERVAL_MS,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.settings = settings or AppSettings()
        self.autosave = autosave
        self.document = WorkflowDocument(Workflow(), None, self)
        self._close_confirmed = False
        self._autosaved_index = -1
        self.dialog: QMessageBox | QDialog | None = None

        self.setObjectName("switchboardMainWindow")
        self.setWindowIcon(theme.icon("app"))
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)

        self.view = CanvasView(self.document)
        self.view.set_dark(theme.is_dark())
        self.canvas_page = QWidget()
        page_layout = QVBoxLayout(self.canvas_page)
        page_layout.setContentsMargins(0, 0, 0, 0)
        page_layout.addWidget(self.view)
        self.aids = AuthoringAids(self)  # minimap, notes, quick add, drafts (authoring.py)
        self.minimap, self.notes = self.aids.minimap, self.aids.notes
        self.yaml_view = YamlView(self.document)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.canvas_page, "Canvas")
        self.tabs.addTab(self.yaml_view, "YAML")
        self.setCentralWidget(self.tabs)

        self.palette_widget = PaletteWidget()
        self.inspector = InspectorWidget(self.document)
        self.problems = ProblemsWidget(self.document)
        self.palette_dock = self._dock(
            "Palette", "paletteDock", self.palette_widget, Qt.DockWidgetArea.LeftDockWidgetArea
        )
        self.inspector_dock = self._dock(
            "Inspector", "inspectorDock", self.inspector, Qt.DockWidgetArea.RightDockWidgetArea
        )
        self.problems_dock = self._dock(
            "Problems", "problemsDock", self.problems, Qt.DockWidgetArea.BottomDockWidgetArea
        )
        self.resizeDocks(
            [self.palette_dock, self.inspector_dock], [240, 380], Qt.Orientation.Horizontal
        )
        self.resizeDocks([self.problems_dock], [150], Qt.Orientation.Vertical)

        self.zoom_label = QLabel()
        self.problem_label = QLabel()
        self.statusBar().addPermanentWidget(self.problem_label)
        self.statusBar().addPermanentWidget(self.zoom_label)

        self.act = WindowActions(
            self,
            self,
            view=self.view,
            document=self.document,
            settings=self.settings,
            tabs=self.tabs,
            canvas_page=self.canvas_page,
            docks=self.docks(),
        )
        self._connect_signals()
        # the run tool bar, Run menu and run docks (issue #5); before restore_geometry so the
        # saved window state places their docks too
        self.run_ui = attach_run_ui(self)
        from_here, only = add_run_from_actions(self.run_ui)  # Run → Run From Selected Step / Only
        self.view.context_actions.update(run_from=from_here, run_only=only)  # the step's menu
        self.inspector.run_record = self.run_ui.shown_record  # the expression editor's data
        # File → Export, Import OpenAPI and Deploy (interop_actions.py), before Quit
        self.interop = InteropActions(self, self, self.act.file_menu, self.act.quit)
        self.view.trigger_activated.connect(self.run_ui.open_emit_dialog)
        self.canvas_act = CanvasActions(self, self.view, self.canvas_page)  # F2, Ctrl+F, Help
        # a platform's standard keys may hold another action's key (X11: Delete has Ctrl+D)
        drop_clashing_alternates(self)

        self._autosave_timer = QTimer(self)
        self._autosave_timer.setInterval(autosave_interval_ms)
        self._autosave_timer.timeout.connect(self.autosave_now)
        if self.autosave is not None:
            self._autosave_timer.start()

        self.act.grid.setChecked(self.settings.show_grid())
        self.act.minimap.setChecked(self.settings.show_minimap())
        self.act.dark.setChecked(theme.current_theme() == "dark")
        restore_geometry(self, self.settings)
        self._update_title()
        self.palette_widget.set_sources(None, self.document.workflow)
        self._problems_count(len(self.document.problems))
        self._zoom_changed(self.view.scale_factor())
        qtprime.prime_in_background()

    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def docks(self) -> list[QDockWidget]:
        return [self.palette_dock, self.inspector_dock, self.problems_dock]

    def _connect_signals(self) -> None:
        doc = self.document
        self.view.selection_changed.connect(self.inspector.show_selection)
        self.view.selection_changed.connect(self.act.update_edit_actions)
        self.view.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.view.zoom_changed.connect(self._zoom_changed)
        self.view.step_activated.connect(self._step_activated)
        self.view.quick_add_requested.connect(self.aids.quick_add)
        self.view.note_requested.connect(lambda at: self.notes.add((at.x(), at.y())))
        self.act.minimap.toggled.connect(self.minimap.set_wanted)
        self.act.minimap.toggled.connect(self.settings.set_show_minimap)
        self.problems.step_activated.connect(self.select_step)
        self.problems.count_changed.connect(self._problems_count)
        self.palette_widget.add_requested.connect(self.add_from_palette)
        doc.modified_changed.connect(self._modified_changed)
        doc.draft_changed.connect(self.aids.draft_changed)
        doc.path_changed.connect(lambda _p: self._update_title())
        doc.model.workflow_changed.connect(self._update_title)
        # the palette re-reads the workflow's services after a pause in editing, not per key
        self._palette_timer = QTimer(self)
        self._palette_timer.setSingleShot(True)
        self._palette_timer.setInterval(PALETTE_REFRESH_MS)
        self._palette_timer.timeout.connect(self._refresh_palette)
        self._palette_press = PressWatch(self.palette_widget.tree.viewport())
        doc.model.changed.connect(self._palette_timer.start)
        self.act.update_edit_actions([])

    def _refresh_palette(self) -> None:
        # not just after a press on the palette while the button is still down: that press may
        # be starting a drag, and rebuilding the tree under it drops the drag (a real-X test
        # lost its second drop so); bounded, as a drag's release never reaches the tree
        pressed = self._palette_press.pressed_at
        if (
            pressed is not None
            and time.monotonic() - pressed < PALETTE_PRESS_GRACE_S
            and QGuiApplication.mouseButtons() != Qt.MouseButton.NoButton
        ):
            self._palette_timer.start()
            return
        self.palette_widget.update_workflow(self.document.workflow)

    # --- views ------------------------------------------------------------------------------

    def _update_title(self) -> None:
        name = os.path.basename(self.document.path) if self.document.path else "Untitled"
        self.setWindowTitle(f"{name}[*] — {self.document.workflow.name} — Switchboard")
        self.setWindowModified(self.document.modified)

    def _modified_changed(self, modified: bool) -> None:
        self.setWindowModified(modified)
        if not modified and self.autosave is not None:
            self.autosave.remove()  # back to the saved state: nothing to recover
            self._autosaved_index = -1

    def _zoom_changed(self, scale: float) -> None:
        self.zoom_label.setText(f"{scale * 100:.0f} %")

    def _problems_count(self, n: int) -> None:
        self.problem_label.setText(
            "No problems" if n == 0 else f"{n} problem{'s' if n != 1 else ''}"
        )

    def _step_activated(self, step_id: str) -> None:
        self.inspector_dock.show()
        self.inspector_dock.raise_()
        self.inspector.setFocus()

    def select_step(self, step_id: str) -> None:
        """Show the canvas with `step_id` selected (a click in the problems list)."""
        self.tabs.setCurrentWidget(self.canvas_page)
        self.view.select_steps([step_id])
        node = self.view.canvas.nodes.get(step_id)
        if node is not None:
            self.view.centerOn(node)

    def add_from_palette(self, payload: dict[str, object]) -> str:
        """Add a palette entry's step at the centre of the visible canvas; returns its id."""
        import json

        step = step_from_palette(json.dumps(payload).encode("utf-8"))
        centre: QPointF = self.view.mapToScene(self.view.viewport().rect().center())
        sid = self.view.drop_step(step, (centre.x(), centre.y()))
        self.tabs.setCurrentWidget(self.canvas_page)
        self.view.select_steps([sid])
        return sid

    def add_note(self) -> None:
        self.aids.add_note()

    def set_grid_visible(self, on: bool) -> None:
        self.view.canvas.set_grid_visible(on)
        self.settings.set_show_grid(on)

    def set_theme(self, name: str) -> None:
        app = QApplication.instance()
        if not isinstance(app, QApplication) or name == theme.current_theme():
            return
        theme.apply_theme(app, name)
        self.settings.set_theme(name)
        self.act.refresh_icons()
        self.run_ui.toolbar.refresh_icons()
        self.palette_widget.refresh_icons()
        self.problems.refresh()
        self.yaml_view.highlighter.set_dark(name == "dark")
        self.setWindowIcon(theme.icon("app"))
        self.view.set_dark(name == "dark")
        self.notes.set_dark(name == "dark")

    # --- files ------------------------------------------------------------------------------

    def _ask(
        self, box: QMessageBox, answered: Callable[[QMessageBox.StandardButton], None]
    ) -> None:
        """Show `box` window-modally without a nested loop; call `answered` with the button."""
        self.dialog = box

        def done(_result: int) -> None:
            button = (
                box.standardButton(box.clickedButton())
                if box.clickedButton()
                else QMessageBox.StandardButton.Cancel
            )
            self.dialog = None
            box.deleteLater()
            answered(button)

        box.finished.connect(done)
        box.open()

    def confirm_discard(self, then: Callable[[], None]) -> None:
        """Run `then` once unsaved changes are saved or given up; not at all on Cancel."""
        if not self.document.modified:
            then()
            return
        name = os.path.basename(self.document.path) if self.document.path else "Untitled"
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Unsaved changes",
            f"{name} has changes that are not saved.",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setInformativeText("Save them before going on?")
        box.setDefaultButton(QMessageBox.StandardButton.Save)

        def answered(button: QMessageBox.StandardButton) -> None:
            if button == QMessageBox.StandardButton.Save:
                self.save(then=then)
            elif button == QMessageBox.StandardButton.Discard:
                then()

        self._ask(box, answered)

    def new_file(self) -> None:
        self.confirm_discard(self._new_now)

    def _new_now(self) -> None:
        if self.autosave is not None:
            self.autosave.remove()
        self.document.replace_workflow(Workflow(), None)
        self.palette_widget.set_sources(None, self.document.workflow)
        self._update_title()

    def open_file(self) -> None:
        """Ask for a file (after the unsaved-changes question) and open it."""

        def choose() -> None:
            start = os.path.dirname(self.document.path) if self.document.path else os.getcwd()
            dialog = QFileDialog(
                self, "Open workflow", start, f"{YAML_FILTER};;{SERVERLESS_FILTER}"
            )
            dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
            dialog.fileSelected.connect(self.open_path)
            self._show_dialog(dialog)

        self.confirm_discard(choose)

    def open_recent(self, path: str) -> None:
        self.confirm_discard(lambda: self.open_path(path))

    def clear_recent(self) -> None:
        self.settings.clear_recent()

    def open_path(
        self, path: str, read: tuple[Workflow, tuple[str, list[Problem]]] | None = None
    ) -> bool:
        """Open `path` now (unsaved changes are not asked about). False if it did not load.
        `read` is what `read_for_editing(path)` gave, when the caller has read it already."""
        path = os.path.abspath(path)
        if is_serverless_name(path):  # imported as a new, unsaved workflow
            return self.interop.open_serverless(path)
        from engine import open_workflow, read_text

        if read is not None:
            workflow, opened = read
        else:
            try:
                data = read_text(path)
                text = data.decode("utf-8-sig")
            except LoadError as e:
                self.show_load_problems(path, e.problems)
                return False
            except UnicodeDecodeError:
                text = None
            try:
                loaded = open_workflow(path, data)
                workflow = loaded.unwrap_model()
            except LoadError as e:
                if text is None:  # not text: nothing to fix in the editor
                    self.show_load_problems(path, e.problems)
                    return False
                return self.aids.open_draft(path, text)
            except OSError as e:
                self.show_load_problems(
                    path, [Problem(f"cannot read the file: {e.strerror or e}", (), path)]
                )
                self.settings.remove_recent(path)
                return False
            # read, parsed and checked once: the first check after opening uses this
            opened = (text if text is not None else "", list(loaded.problems))
        if self.autosave is not None:
            self.autosave.remove()
        self.document.replace_workflow(workflow, path, opened)
        self.settings.add_recent(path)
        self.palette_widget.set_sources(path, workflow)
        self._update_title()
        QTimer.singleShot(0, self.view.fit_to_view)
        self.statusBar().showMessage(f"Opened {path}", 5000)
        return True

    def show_load_problems(self, path: str, problems: list[Problem]) -> LoadProblemsDialog:
        dialog = LoadProblemsDialog(path, problems, self)
        self._show_dialog(dialog)
        return dialog

    def _show_dialog(self, dialog: QDialog) -> None:
        """Open a dialog window-modally (no nested loop); `self.dialog` names it while open."""
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialog = dialog

        def finished(_result: int) -> None:
            if self.dialog is dialog:
                self.dialog = None

        dialog.finished.connect(finished)
        dialog.open()

    def save(self, then: Callable[[], None] | None = None) -> bool:
        """Save to the current file (Save As when there is none). `then` runs after success."""
        if not self.document.path:
            self.save_as(then)
            return False
        return self.save_to(self.document.path, then)

    def save_as(self, then: Callable[[], None] | None = None) -> None:
        start = self.document.path or os.path.join(
            os.getcwd(), f"{self.document.workflow.name}.yaml"
        )
        dialog = QFileDialog(self, "Save workflow as", start, YAML_FILTER)
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("yaml")
        dialog.fileSelected.connect(lambda p: self.save_to(p, then))
        self._show_dialog(dialog)

    def save_to(self, path: str, then: Callable[[], None] | None = None) -> bool:
        """Save atomically to `path`; on failure the old file stays and a message says why."""
        path = os.path.abspath(path)
        try:
            self.document.save(path)
        except OSError as e:
            box = QMessageBox(
                QMessageBox.Icon.Critical,
                "Cannot save",
                str(e),
                QMessageBox.StandardButton.Ok,
                self,
            )
            self._ask(box, lambda _b: None)
            return False
        if self.autosave is not None:
            self.autosave.remove()
            self._autosaved_index = -1
        self.settings.add_recent(path)
        self.palette_widget.set_sources(path, self.document.workflow)
        self._update_title()
        self.statusBar().showMessage(f"Saved {path}", 5000)
        if then is not None:
            then()
        return True

    # --- autosave and recovery --------------------------------------------------------------

    def autosave_now(self) -> Path | None:
        """Write the autosave if there is unsaved work not yet autosaved; returns its path."""
        if self.autosave is None or not self.document.modified:
            return None
        index = self.document.undo_stack.index()
        if index == self._autosaved_index and self.autosave.current_path is not None:
            return self.autosave.current_path
        try:
            written = self.autosave.write(self.document.yaml_text(), self.document.path)
        except OSError as e:
            self.statusBar().showMessage(f"Autosave failed: {e}", 10000)
            return None
        self._autosaved_index = index
        return written

    def offer_recovery(self) -> None:
        """Offer, one by one, the work that a crashed session left in autosaves."""
        if self.autosave is None:
            return
        entries = recoverable_autosaves(self.autosave.directory)
        if entries:
            self._offer(entries[0], entries[1:])

    def _offer(self, entry: AutosaveEntry, rest: list[AutosaveEntry]) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Restore unsaved work?",
            f"Switchboard closed without saving {entry.describe()}.",
            QMessageBox.StandardButton.Yes
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Ignore,
            self,
        )
        box.setInformativeText(
            "Restore: open that work as unsaved changes. Discard: delete it. "
            "Ignore: ask again next time."
        )
        box.button(QMessageBox.StandardButton.Yes).setText("Restore")
        box.setDefaultButton(QMessageBox.StandardButton.Yes)

        def answered(button: QMessageBox.StandardButton) -> None:
            if button == QMessageBox.StandardButton.Yes:
                self.confirm_discard(lambda: self.restore(entry))
            elif button == QMessageBox.StandardButton.Discard:
                discard_autosave(entry)
            if rest:
                QTimer.singleShot(0, lambda: self._offer(rest[0], rest[1:]))

        self._ask(box, answered)

    def restore(self, entry: AutosaveEntry) -> bool:
        """Open an autosave's text as unsaved changes to its original file."""
        from engine import parse_workflow

        loaded = parse_workflow(entry.text(), str(entry.yaml_path))
        if loaded.model is None:
            self.show_load_problems(str(entry.yaml_path), loaded.problems)
            return False
        self.document.replace_workflow(loaded.model, entry.original)
        self.document.undo_stack.resetClean()  # unsaved until the user saves
        self.palette_widget.set_sources(entry.original, loaded.model)
        self._update_title()
        self.autosave_now()  # our own copy first, then drop the crashed session's
        discard_autosave(entry)
        QTimer.singleShot(0, self.view.fit_to_view)
        return True

    # --- window (its geometry: geometry.py) ---------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if self._dropped_yaml(event) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        path = self._dropped_yaml(event)
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.confirm_discard(lambda: self.open_path(path))

    @staticmethod
    def _dropped_yaml(event: QDragEnterEvent | QDropEvent) -> str | None:
        for url in event.mimeData().urls():
            name = url.toLocalFile().lower()
            if url.isLocalFile() and (name.endswith(YAML_SUFFIXES) or is_serverless_name(name)):
                return url.toLocalFile()
        return None

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if self.document.modified and not self._close_confirmed:
            event.ignore()

            def close_now() -> None:
                self._close_confirmed = True
                self.close()

            self.confirm_discard(close_now)
            return
        self.settings.set_window(self.saveGeometry(), self.saveState())
        self.settings.sync()
        self._autosave_timer.stop()
        if self.autosave is not None:
            self.autosave.close()
        self.run_ui.controller.shutdown()  # stops a run still going; an idle engine process is kept
        event.accept()
