"""RunUI: running workflows from the designer, attached to an existing MainWindow.

`attach_run_ui(window)` adds the run tool bar, a Run menu and five docks (Run Log, Step Results,
Run History, Tests, Run Input), and wires them to a RunController. `run_for_screenshot` runs the
open workflow for `switchboard design FILE --run --screenshot PNG`.

Every dialog here is shown with `open()`; nothing nests an event loop.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow, QWidget

from designer.canvas import RunStatesPresenter
from designer.run.compare import RunCompareDialog
from designer.run.contract_check import ContractChecks
from designer.run.controller import JobOutcome, RunController, RunSpec
from designer.run.environments import tests_file_for
from designer.run.history import RunHistoryWidget
from designer.run.history_store import HISTORY_FILE, HistoryStore
from designer.run.input_editor import EmitDialog, InputEditor, known_events
from designer.run.log_panel import LogPanel
from designer.run.step_results import StepResultsWidget
from designer.run.tests_panel import TestsPanel
from designer.run.toolbar import RunToolbar
from engine import LogLine, RunRecord, format_ms, record_from_result, recording_path, tests_path

if TYPE_CHECKING:
    from engine import CaseResult, FileResult, RunResult

WARM_UP_DELAY_MS = 500

__all__ = ["RunUI", "attach_run_ui", "choose", "start_run", "run_for_screenshot", "run_and_wait"]

_RIGHT = Qt.DockWidgetArea.RightDockWidgetArea
_BOTTOM = Qt.DockWidgetArea.BottomDockWidgetArea


class RunUI(QObject):
    """The run features of one main window (which needs `document`, `view`, `settings`)."""

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.document = window.document  # type: ignore[attr-defined]
        self.view = window.view  # type: ignore[attr-defined]
        settings = getattr(getattr(window, "settings", None), "qsettings", None)
        self.controller = RunController(self)
        self.presenter = RunStatesPresenter(self.view, self)
        self.last_record: RunRecord | None = None
        self.last_message = ""
        self.dialog: EmitDialog | None = None
        self.compare_dialog: RunCompareDialog | None = None
        # runs of earlier sessions live beside the autosaves; a window without them (tests,
        # --screenshot) keeps its history in memory
        autosave = getattr(window, "autosave", None)
        self.history_store = HistoryStore(
            autosave.directory.parent / HISTORY_FILE if autosave is not None else None
        )
        self.stored_records: dict[str, RunRecord] = {}  # runs shown from the store

        self.toolbar = RunToolbar(window)
        window.addToolBar(self.toolbar)
        self.log_panel = LogPanel()
        self.results = StepResultsWidget()
        self.history = RunHistoryWidget()
        self.tests = TestsPanel()
        self.input_editor = InputEditor(settings)
        self.contracts = ContractChecks(
            self.controller, window, settings
        )  # Run → Check Responses Against Contracts
        self.log_dock = self._dock("Run Log", "runLogDock", self.log_panel, _BOTTOM)
        self.history_dock = self._dock("Run History", "runHistoryDock", self.history, _BOTTOM)
        self.tests_dock = self._dock("Tests", "testsDock", self.tests, _BOTTOM)
        self.results_dock = self._dock("Step Results", "stepResultsDock", self.results, _RIGHT)
        self.input_dock = self._dock("Run Input", "runInputDock", self.input_editor, _RIGHT)
        problems_dock = getattr(window, "problems_dock", None)
        if problems_dock is not None:
            window.tabifyDockWidget(problems_dock, self.log_dock)
        window.tabifyDockWidget(self.log_dock, self.history_dock)
        window.tabifyDockWidget(self.history_dock, self.tests_dock)
        inspector_dock = getattr(window, "inspector_dock", None)
        if inspector_dock is not None:
            window.tabifyDockWidget(inspector_dock, self.results_dock)
        window.tabifyDockWidget(self.results_dock, self.input_dock)
        # editing comes first: Problems and the Inspector show; a run brings its log forward
        for dock in (problems_dock, inspector_dock):
            if dock is not None:
                dock.raise_()
        self._build_menu()
        self.toolbar.refresh_icons()
        self._connect()
        self._document_reset()
        # the engine process is driven from plain Python: stop it by reference when the window
        # goes away (the controller may be gone by then)
        process, receive = self.controller.process, self.controller.receive
        window.destroyed.connect(lambda *_a: process.release(receive))
        store = self.history_store
        window.destroyed.connect(lambda *_a: store.close())
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.controller.shutdown)
        # the engine process starts once the window has settled, not while it is being built
        # (a window that closes at once, as in --screenshot without --run, never starts one);
        # a Run before then starts it itself
        self._warm_up = QTimer(self)
        self._warm_up.setSingleShot(True)
        self._warm_up.setInterval(WARM_UP_DELAY_MS)
        self._warm_up.timeout.connect(self.controller.warm_up)
        self._warm_up.start()

    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self.window)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.window.addDockWidget(area, dock)
        return dock

    def cancel_warm_up(self) -> None:
        """Start no engine process ahead of a run: this window closes at once (a screenshot
        without a run; a build slower than the delay would start one only to cut it off)."""
        self._warm_up.stop()

    def docks(self) -> list[QDockWidget]:
        return [
            self.log_dock,
            self.results_dock,
            self.history_dock,
            self.tests_dock,
            self.input_dock,
        ]

    def _build_menu(self) -> None:
        tb = self.toolbar
        menu = self.window.menuBar().addMenu("&Run")
        menu.addActions([tb.run_action, tb.stop_action])
        menu.addSeparator()
        menu.addActions([tb.emit_action, tb.tests_action])
        menu.addSeparator()
        menu.addActions(
            [tb.record_action, tb.real_time_action, self.contracts.action, tb.input_action]
        )
        menu.addSeparator()
        for dock in self.docks():
            menu.addAction(dock.toggleViewAction())
        menu.addAction(tb.toggleViewAction())
        self.menu = menu
        for action in (tb.run_action, tb.stop_action, tb.tests_action, tb.input_action):
            self.window.addAction(action)  # shortcuts work while the tool bar is hidden

    def _connect(self) -> None:
        c, doc, tb = self.controller, self.document, self.toolbar
        tb.run_action.triggered.connect(lambda _c=False: self.run())
        tb.stop_action.triggered.connect(lambda _c=False: self.stop())
        tb.emit_action.triggered.connect(lambda _c=False: self.open_emit_dialog())
        tb.tests_action.triggered.connect(lambda _c=False: self.run_tests())
        tb.input_action.triggered.connect(lambda _c=False: self._show_dock(self.input_dock))
        self.tests.run_requested.connect(self.run_tests)
        self.tests.case_opened.connect(self.show_case)
        c.run_started.connect(self._run_started)
        c.steps_changed.connect(self._steps_changed)
        c.run_finished.connect(self._run_finished)
        c.log_appended.connect(self.log_panel.append)
        c.busy_changed.connect(self._busy_changed)
        c.message.connect(self._message)
        c.job_finished.connect(self._job_finished)
        doc.model.changed.connect(self._document_changed)
        doc.model.reset.connect(self._document_reset)
        doc.path_changed.connect(lambda _p: self._document_reset())
        doc.model.workflow_changed.connect(
            lambda: self.input_editor.set_workflow(doc.workflow, doc.path)
        )
        self.view.selection_changed.connect(self._selection_changed)
        self.log_panel.step_clicked.connect(self._log_step_clicked)
        self.history.run_picked.connect(self.show_run)
        self.history.compare_requested.connect(self.compare_runs)

    # --- actions ----------------------------------------------------------------------------

    def _spec(self, with_input: Any = None) -> RunSpec:
        doc, tb = self.document, self.toolbar
        choice = tb.current_choice()
        scenario = tb.scenario()
        path = Path(doc.path) if doc.path else None
        record = recording_path(path) if tb.record() and path is not None else None
        label = choice.label.split(" (", 1)[0] + (f" / {scenario}" if scenario else "")
        return RunSpec(
            workflow=doc.workflow,
            path=path,
            env=choice.env,
            mocks=choice.mocks,
            scenario=scenario,
            input=with_input,
            real_time=tb.real_time_action.isChecked() and choice.mode == "mock",
            record=record,
            env_label=label,
            check_contract=self.contracts.on,
        )

    def _can_start(self) -> bool:
        if self.controller.busy:
            self._message("warning", "A run is going on: stop it (Shift+F5) or let it end.")
            return False
        # problems are checked a moment after each edit: an edit that has not been checked
        # yet is checked now (a second check of unchanged text would cost 0.2 s at 2,000 steps)
        self.document.validate_if_pending()
        errors = [p for p in self.document.problems if getattr(p, "severity", "error") == "error"]
        if errors:
            first = errors[0]
            where = f" (step {first.step_id})" if getattr(first, "step_id", None) else ""
            self._message(
                "error",
                f"Cannot run: the workflow has {len(errors)} problem"
                f"{'s' if len(errors) != 1 else ''}, first: {first.message}{where}. "
                "Fix them (see Problems) and run again.",
            )
            return False
        return True

    def run(self) -> str | None:
        """Run the open workflow with the tool bar's choices; its run id, or None if refused."""
        if not self._can_start():
            return None
        value, problem = self.input_editor.value()
        if problem is not None:
            self._show_dock(self.input_dock)
            self._message(
                "error", f"Cannot run: the run input does not fit: {problem}. Fix it in Run Input."
            )
            return None
        return self.controller.start_run(self._spec(value))

    def stop(self) -> None:
        self.controller.stop()

    def emit_event(self, event: str, data: Any) -> bool:
        """Publish `event`: the open workflow and its folder's workflows listen on the bus."""
        if not self._can_start():
            return False
        self.contracts.clear()  # the event's runs make a new list
        self.controller.emit_event(self._spec(), event, data)
        return True

    def open_emit_dialog(self) -> EmitDialog:
        dialog = EmitDialog(known_events(self.document.workflow, self.document.path), self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.emit_requested.connect(self.emit_event)
        dialog.finished.connect(lambda _r: setattr(self, "dialog", None))
        self.dialog = dialog
        dialog.open()
        return dialog

    def run_tests(self) -> bool:
        path = tests_file_for(self.document.path)
        if path is None:
            if self.document.path:
                name, want = Path(self.document.path).name, tests_path(self.document.path).name
                text = f"No tests file for {name} beside it: add {want} and save the workflow."
            else:
                text = "No tests file: save the workflow, then add its tests file beside it."
            self._message("warning", text)
            return False
        if self.controller.busy:
            self._message("warning", "A run is going on: stop it (Shift+F5) or let it end.")
            return False
        if self.document.modified:
            self._message(
                "info",
                "Tests run the saved workflow file: save (Ctrl+S) to test your latest changes.",
            )
        self._show_dock(self.tests_dock)
        self.controller.run_tests(path)
        self.tests.set_running()
        return True

    # --- showing runs -----------------------------------------------------------------------

    def shown_record(self) -> RunRecord | None:
        return self.presenter.shown or self.last_record

    def show_run(self, run_id: str) -> RunRecord | None:
        """Show a run of the session: its states on the canvas, only its lines in the log."""
        rec = self.run_record(run_id)
        if rec is None:
            return None
        if rec.on_canvas or rec.workflow == self.document.workflow.name:
            self.presenter.show(rec)
            self.last_record = rec
        self.log_panel.set_run_filter(run_id)
        self._selection_changed(self.view.selected_ids())
        return rec

    def show_case(self, case: CaseResult) -> RunRecord | None:
        """Show a tests-file case's run on the canvas."""
        if case.result is None:
            return None
        rec = record_from_result(case.result, env=f"test: {case.name}")
        self.presenter.show(rec)
        self.last_record = rec
        self._selection_changed(self.view.selected_ids())
        self._message(
            "info",
            f"Showing the run of test case '{case.name}'"
            + ("" if case.passed else ": " + "; ".join(str(d) for d in case.differences[:3])),
        )
        return rec

    def _run_started(self, rec: RunRecord) -> None:
        self.history_store.started(rec)
        self.history.add_or_update(rec)
        self.log_panel.add_run(rec)
        if rec.on_canvas:
            self.presenter.show(rec)
            self.last_record = rec
            self.log_panel.set_run_filter(None)
            self.log_dock.raise_()
            self._selection_changed(self.view.selected_ids())

    def _steps_changed(self, rec: RunRecord, ids: list[str]) -> None:
        self.presenter.update(rec, ids)
        self.results.refresh(rec, ids)

    def _run_finished(self, rec: RunRecord) -> None:
        self.history_store.save(rec)
        self.history.add_or_update(rec)
        self.log_panel.add_run(rec)
        if rec is self.shown_record():
            self._selection_changed(self.view.selected_ids())
        if rec.on_canvas:
            took = format_ms(rec.duration_ms or 0)
            self._status(
                f"{rec.workflow} {rec.status} in {took}" + (f" ({rec.env})" if rec.env else "")
            )

    def _busy_changed(self, busy: bool) -> None:
        self.toolbar.set_running(busy)
        self.tests.set_busy(busy)

    def _job_finished(self, outcome: JobOutcome) -> None:
        if outcome.kind == "tests" and outcome.payload is not None:
            result: FileResult = outcome.payload.files[0]
            self.tests.show_result(result)
        if self.toolbar.record() and self.document.path:
            self.toolbar.set_workflow_path(self.document.path)  # the recording's mocks file

    def _message(self, level: str, text: str) -> None:
        self.last_message = text
        self._status(text)
        self.log_panel.append([LogLine(time.time(), level, "", text, "", "")])

    def _status(self, text: str) -> None:
        bar = getattr(self.window, "statusBar", None)
        if bar is not None:
            bar().showMessage(text, 10000)

    def _show_dock(self, dock: QDockWidget) -> None:
        dock.show()
        dock.raise_()

    # --- following the document and the selection ----------------------------------------------

    def _document_changed(self) -> None:
        # the path taken stays on the canvas until the next edit
        if self.presenter.shown is not None:
            self.presenter.clear()
        ids = self.document.workflow.ids
        if ids != getattr(self, "_step_ids", None):
            self._step_ids = ids
            self.log_panel.set_steps(ids)

    def _document_reset(self) -> None:
        doc = self.document
        self.presenter.clear()
        self.last_record = None
        self.toolbar.set_workflow_path(doc.path)
        self.input_editor.set_workflow(doc.workflow, doc.path)
        self.tests.set_path(tests_file_for(doc.path))
        self._step_ids = doc.workflow.ids
        self.log_panel.set_steps(self._step_ids)
        self._load_history()

    def _load_history(self) -> None:
        """The open workflow's runs from earlier sessions, below this session's."""
        name = self.document.workflow.name
        for run_id, rec in list(self.stored_records.items()):
            if rec.workflow != name:  # another workflow's past runs go with it
                del self.stored_records[run_id]
                self.history.remove(run_id)
        if not name or self.document.path is None:
            return
        for rec in self.history_store.runs(name):
            if rec.run_id in self.controller.records or rec.run_id in self.stored_records:
                continue
            self.stored_records[rec.run_id] = rec
            self.history.add_or_update(rec, at_end=True)
        if self.history_store.error:
            self._message("warning", self.history_store.error)

    def run_record(self, run_id: str) -> RunRecord | None:
        """A run of this session, else one from the store."""
        return self.controller.records.get(run_id) or self.stored_records.get(run_id)

    def compare_runs(self, older: str, newer: str) -> RunCompareDialog | None:
        """Open the two runs' step outputs side by side (kept outputs: the store has every
        step's, the session drops those of older runs)."""
        records = []
        for run_id in (older, newer):
            rec = self.history_store.get(run_id) or self.run_record(run_id)
            if rec is None:
                return None
            records.append(rec)
        if self.compare_dialog is not None:
            self.compare_dialog.close()
        dialog = RunCompareDialog(records[0], records[1], self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _r: setattr(self, "compare_dialog", None))
        self.compare_dialog = dialog
        dialog.open()
        return dialog

    def _selection_changed(self, ids: list[str]) -> None:
        self.results.show_step(self.shown_record(), ids[0] if ids else None)

    def _log_step_clicked(self, step: str) -> None:
        if self.document.workflow.find(step) is None:
            return
        select = getattr(self.window, "select_step", None)
        if select is not None:
            select(step)
        else:
            self.view.select_steps([step])


def attach_run_ui(window: QMainWindow) -> RunUI:
    """Add the run features to `window` (once); the RunUI is also `window.run_ui`."""
    existing = getattr(window, "run_ui", None)
    if isinstance(existing, RunUI):
        return existing
    ui = RunUI(window)
    window.run_ui = ui  # type: ignore[attr-defined]
    return ui


def choose(ui: RunUI, env: str | None, scenario: str | None) -> None:
    """Pick an environment and scenario in the tool bar, as `--env`/`--scenario` ask.

    Raises ValueError naming what is known when either does not exist.
    """
    tb = ui.toolbar
    if env and not tb.select_environment(env):
        known = ", ".join(c.env or c.label for c in tb.choices if c.mocks is None)
        files = ", ".join(c.mocks.name for c in tb.choices if c.mocks is not None)
        raise ValueError(
            f"there is no environment '{env}' beside the workflow; known: {known}"
            + (f"; mocks files: {files}" if files else "")
        )
    if scenario and not tb.select_scenario(scenario):
        known = (
            ", ".join(tb.scenario_combo.itemData(i) for i in range(1, tb.scenario_combo.count()))
            or "none"
        )
        raise ValueError(
            f"environment '{tb.current_choice().label}' has no scenario "
            f"'{scenario}'; known: {known}"
        )


def start_run(
    window: QMainWindow, env: str | None = None, scenario: str | None = None
) -> str | None:
    """Start a run of the open workflow (`switchboard design FILE --run`); its run id, or None
    with the reason in the status bar and the log. Raises ValueError as `choose` does."""
    ui = attach_run_ui(window)
    choose(ui, env, scenario)
    return ui.run()


async def run_for_screenshot(
    window: QMainWindow, env: str | None = None, scenario: str | None = None
) -> RunResult:
    """Run the open workflow to its end and leave its states on the canvas.

    Raises ValueError for an unknown environment or scenario, RuntimeError when the run could
    not start; the message says what to do.
    """
    ui = attach_run_ui(window)
    run_id = start_run(window, env, scenario)
    future = ui.controller.job_future
    if run_id is None or future is None:
        raise RuntimeError(ui.last_message or "the run could not start")
    await asyncio.wrap_future(future)
    ui.controller.flush()
    rec = ui.controller.records.get(run_id)
    if rec is None or rec.result is None:
        raise RuntimeError(ui.last_message or "the run ended without a result")
    # the picture is about the run: give its log room for a dozen lines
    window.resizeDocks([ui.log_dock], [max(260, window.height() // 3)], Qt.Orientation.Vertical)
    return rec.result


def run_and_wait(
    window: QMainWindow, env: str | None = None, scenario: str | None = None
) -> RunResult:
    """`run_for_screenshot` for callers outside an event loop (the screenshot path)."""
    return asyncio.run(run_for_screenshot(window, env, scenario))
