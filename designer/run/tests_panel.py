"""The tests panel: run the workflow's tests file and see each case pass or fail, with why.

The cases run through the engine's tests runner (the same code as `switchboard test`) in the run
controller's engine process. A case's row opens its run: the states of that run go on the canvas.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from designer.canvas import style as canvas_style
from engine import CaseResult, FileResult, format_ms

__all__ = ["TestsPanel"]


class TestsPanel(QWidget):
    """A Run Tests button, the file it runs, and a tree: cases, then their differences."""

    __test__ = False  # not a pytest class, whatever its name says

    run_requested = Signal()
    case_opened = Signal(object)  # CaseResult

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("testsPanel")
        self.path: Path | None = None
        self.result: FileResult | None = None
        self._summary = ""  # the last result's, shown again once a job ends
        self.run_button = QToolButton(self)
        self.run_button.setText("Run Tests")
        self.run_button.setToolTip("Run every case of the workflow's tests file on its mocks")
        self.run_button.clicked.connect(lambda _c=False: self.run_requested.emit())
        self.open_button = QToolButton(self)
        self.open_button.setText("Show Run")
        self.open_button.setToolTip("Show the chosen case's run on the canvas")
        self.open_button.clicked.connect(self.open_current)
        self.label = QLabel(self)
        # one line: a wrapped label grows the window's minimum height as docks narrow
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.summary = QLabel(self)
        self.tree = QTreeWidget(self)
        self.tree.setHeaderLabels(["Case", "Time"])
        self.tree.setColumnWidth(0, 360)
        self.tree.setMinimumHeight(24)  # a small dock must not hold the window's height up
        self.tree.itemActivated.connect(lambda item, _c: self._open(item))
        bar = QHBoxLayout()
        bar.addWidget(self.run_button)
        bar.addWidget(self.open_button)
        bar.addWidget(self.summary, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.label)
        layout.addWidget(self.tree, 1)
        self.set_path(None)

    def set_path(self, path: Path | None) -> None:
        self.path = path
        self.run_button.setEnabled(path is not None)
        self.open_button.setEnabled(False)
        self.label.setText(
            str(path)
            if path is not None
            else "No tests file: add one for the saved workflow beside it."
        )

    def set_busy(self, busy: bool) -> None:
        """A job (a run, an emit or the tests) started or ended: Run Tests waits for it."""
        self.run_button.setEnabled(not busy and self.path is not None)
        if not busy:  # whatever ended, the last result is what stands (or nothing)
            self.summary.setText(self._summary)

    def set_running(self) -> None:
        """The tests file's cases are running now (other jobs do not touch the summary)."""
        self.run_button.setEnabled(False)
        self.summary.setText("Running…")

    def show_result(self, result: FileResult) -> None:
        self.result = result
        self.tree.clear()
        red = QBrush(canvas_style.STATE_COLORS["failed"])
        green = QBrush(canvas_style.STATE_COLORS["succeeded"])
        for problem in result.problems:
            item = QTreeWidgetItem([f"✘ {problem}", ""])
            item.setForeground(0, red)
            self.tree.addTopLevelItem(item)
        for case in result.cases:
            mark = "✔" if case.passed else "✘"
            item = QTreeWidgetItem([f"{mark} {case.name}", format_ms(case.duration_ms)])
            item.setData(0, Qt.ItemDataRole.UserRole, case)
            item.setForeground(0, green if case.passed else red)
            for diff in case.differences:
                QTreeWidgetItem(item, [str(diff), ""])
            if case.error:
                QTreeWidgetItem(item, [f"could not run: {case.error}", ""])
            self.tree.addTopLevelItem(item)
            item.setExpanded(not case.passed)
        passed = sum(1 for c in result.cases if c.passed)
        failed = len(result.cases) - passed
        text = f"{passed} passed, {failed} failed"
        if result.problems:
            text += f", {len(result.problems)} problem(s) in the file"
        self._summary = text
        self.summary.setText(text)
        self.open_button.setEnabled(any(c.result is not None for c in result.cases))
        # wide enough for the case names (their differences may run on: those can scroll)
        metrics = self.tree.fontMetrics()
        names = [self.tree.topLevelItem(i).text(0) for i in range(self.tree.topLevelItemCount())]
        widest = max((metrics.horizontalAdvance(n) for n in names), default=0) + 48
        self.tree.setColumnWidth(0, max(360, min(widest, self.tree.viewport().width() - 80)))

    def case_item(self, name: str) -> QTreeWidgetItem | None:
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            case = item.data(0, Qt.ItemDataRole.UserRole)
            if isinstance(case, CaseResult) and case.name == name:
                return item
        return None

    def open_case(self, name: str) -> CaseResult | None:
        """Open the run of the case called `name` (as double-clicking its row does)."""
        item = self.case_item(name)
        return self._open(item) if item is not None else None

    def open_current(self) -> None:
        item = self.tree.currentItem()
        while item is not None and item.parent() is not None:
            item = item.parent()
        if item is not None:
            self._open(item)

    def _open(self, item: QTreeWidgetItem) -> CaseResult | None:
        while item.parent() is not None:
            item = item.parent()
        case = item.data(0, Qt.ItemDataRole.UserRole)
        if isinstance(case, CaseResult) and case.result is not None:
            self.case_opened.emit(case)
            return case
        return None
