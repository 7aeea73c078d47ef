"""Run → Check Responses Against Contracts: the designer's `switchboard run --check-contract`.

A checkable action in the Run menu, remembered in the settings. While it is on, each run asks
the engine to check every response of a service with an imported OpenAPI spec against its
operation; each mismatch comes back as a warning event, shown in Run Log as any warning is and
listed in Problems under "Contract" (click a row: its step is selected). A new run's list
replaces the last one's.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QSettings
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget

from designer.run.controller import RunController
from engine import LogLine, Problem, RunRecord, is_contract_warning

__all__ = ["ContractChecks", "CONTRACT", "SETTING"]

CONTRACT = "Contract"  # the Problems panel's source name
SETTING = "run/checkContract"


class ContractChecks(QObject):
    """The action, and the mismatches of the last run checked (for Problems)."""

    def __init__(
        self, controller: RunController, window: QWidget, settings: QSettings | None
    ) -> None:
        super().__init__(controller)
        self.window = window  # its `problems` panel lists the mismatches
        self.settings = settings
        self.action = QAction("Check Responses Against &Contracts", window)
        self.action.setCheckable(True)
        self.action.setStatusTip(
            "Check each response of a service with an imported OpenAPI spec against its "
            "operation (as switchboard run --check-contract); mismatches are warnings in "
            "Run Log and Problems"
        )
        self.action.setToolTip(self.action.statusTip())
        self.action.setChecked(self._saved())
        self.action.toggled.connect(self._save)
        self.found: list[Problem] = []
        controller.run_started.connect(self._run_started)
        controller.log_appended.connect(self._lines)

    @property
    def on(self) -> bool:
        return self.action.isChecked()

    def _saved(self) -> bool:
        if self.settings is None:
            return False
        return str(self.settings.value(SETTING, "false")).lower() == "true"

    def _save(self, on: bool) -> None:
        if self.settings is not None:
            self.settings.setValue(SETTING, "true" if on else "false")

    def clear(self) -> None:
        """A new list (an Emit Event job starts; a Run clears it itself)."""
        self.found = []
        self._show()

    def _run_started(self, record: RunRecord) -> None:
        # a Run starts a new list; the runs its emits start add to it
        if record.source == "run":
            self.clear()

    def _lines(self, lines: list[LogLine]) -> None:
        new = [
            Problem(line.message, step_id=line.step or None, severity="warning")
            for line in lines
            if line.level == "warning" and is_contract_warning(line.message)
        ]
        if new:
            self.found.extend(new)
            self._show()

    def _show(self) -> None:
        problems = getattr(self.window, "problems", None)
        if problems is not None:
            problems.show_external(CONTRACT, self.found)
