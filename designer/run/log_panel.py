"""The log panel: every run event as a line, filtered by level, step, run and text; copy, export.

Lines arrive in batches from the run controller (one model insert per batch). A click on a line
with a step selects that step on the canvas. Export writes the shown lines as JSON lines through
a file dialog opened with `open()`, never `exec()` (no nested loop under qasync).
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from designer.run.log_model import DEFAULT_CAP, LogFilter, LogModel
from engine import LOG_LEVELS, LogLine, RunRecord

__all__ = ["LogPanel"]

_ALL = ""


class LogPanel(QWidget):
    """A filter bar over a table of log lines."""

    step_clicked = Signal(str)  # the step of a clicked line
    exported = Signal(str, int)  # path, lines written

    def __init__(self, cap: int = DEFAULT_CAP, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runLogPanel")
        self.model = LogModel(cap, self)
        self.dialog: QFileDialog | None = None

        self.levels_button = QToolButton(self)
        self.levels_button.setText("Levels")
        self.levels_button.setToolTip("Show lines of these levels")
        self.levels_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.levels_button)
        self.level_actions: dict[str, QAction] = {}
        for level in LOG_LEVELS:
            action = menu.addAction(level)
            action.setCheckable(True)
            action.setChecked(True)
            action.toggled.connect(self._filter_changed)
            self.level_actions[level] = action
        self.levels_button.setMenu(menu)

        self.step_combo = QComboBox(self)
        self.step_combo.setToolTip("Show the lines of one step")
        self.step_combo.addItem("All steps", _ALL)
        self.step_combo.setMinimumContentsLength(12)
        self.step_combo.currentIndexChanged.connect(self._filter_changed)
        self.run_combo = QComboBox(self)
        self.run_combo.setToolTip("Show the lines of one run")
        self.run_combo.addItem("All runs", _ALL)
        self.run_combo.setMinimumContentsLength(16)
        self.run_combo.currentIndexChanged.connect(self._filter_changed)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search the log")
        self.search.setClearButtonEnabled(True)
        # typing into a search over 200,000 lines: filter once the typing pauses
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(150)
        self._search_timer.timeout.connect(self._filter_changed)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.count_label = QLabel(self)

        self.copy_button = self._button(
            "Copy",
            "Copy the selected lines (all shown lines when none is selected)",
            self.copy_lines,
        )
        self.clear_button = self._button("Clear", "Remove every line", self.clear)
        self.export_button = self._button(
            "Export…", "Save the shown lines as JSON lines", self.export_dialog
        )

        bar = QHBoxLayout()
        bar.setContentsMargins(4, 4, 4, 0)
        for w in (self.levels_button, self.step_combo, self.run_combo):
            bar.addWidget(w)
        bar.addWidget(self.search, 1)
        for w in (self.count_label, self.copy_button, self.clear_button, self.export_button):
            bar.addWidget(w)

        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setWordWrap(False)
        self.table.setMinimumHeight(24)  # a small dock must not hold the window's height up
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        vh = self.table.verticalHeader()
        vh.hide()
        # uniform row heights: the view never measures rows, whatever their number
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vh.setDefaultSectionSize(self.fontMetrics().height() + 4)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        hh.setStretchLastSection(True)
        mono_w = self.fontMetrics().horizontalAdvance("00:00:00.000") + 24
        for col, width in enumerate((mono_w, 70, 140)):
            self.table.setColumnWidth(col, width)
        self.table.clicked.connect(self._clicked)
        copy = QAction("Copy", self.table)
        copy.setShortcut(QKeySequence.StandardKey.Copy)
        copy.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        copy.triggered.connect(self.copy_lines)
        self.table.addAction(copy)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        self._update_count()

    def _button(self, text: str, tip: str, slot: object) -> QToolButton:
        b = QToolButton(self)
        b.setText(text)
        b.setToolTip(tip)
        b.clicked.connect(lambda _c=False: slot())  # type: ignore[operator]
        return b

    # --- lines ------------------------------------------------------------------------------

    def append(self, lines: list[LogLine]) -> None:
        """Add a batch of lines; keeps the view at the bottom if it was there."""
        bar = self.table.verticalScrollBar()
        follow = bar.value() >= bar.maximum() - 2
        self.model.append(lines)
        if follow:
            self.table.scrollToBottom()
        self._update_count()

    def clear(self) -> None:
        self.model.clear()
        self._update_count()

    def shown_lines(self) -> list[LogLine]:
        return self.model.lines()

    def _update_count(self) -> None:
        shown, total = self.model.rowCount(), self.model.total
        self.count_label.setText(
            f"{shown:,} lines" if shown == total else f"{shown:,} of {total:,} lines"
        )

    # --- filters ----------------------------------------------------------------------------

    def current_filter(self) -> LogFilter:
        levels = [lv for lv, a in self.level_actions.items() if a.isChecked()]
        return LogFilter(
            levels,
            self.step_combo.currentData() or None,
            self.run_combo.currentData() or None,
            self.search.text().strip(),
        )

    def _filter_changed(self, *_args: object) -> None:
        self._search_timer.stop()
        self.model.set_filter(self.current_filter())
        self.table.scrollToBottom()
        self._update_count()

    def set_levels(self, levels: list[str]) -> None:
        for level, action in self.level_actions.items():
            action.blockSignals(True)
            action.setChecked(level in levels)
            action.blockSignals(False)
        self._filter_changed()

    def set_search(self, text: str) -> None:
        self.search.setText(text)
        self._filter_changed()

    def set_steps(self, ids: list[str]) -> None:
        """The steps the step filter offers (the open workflow's)."""
        current = self.step_combo.currentData()
        self.step_combo.blockSignals(True)
        self.step_combo.clear()
        self.step_combo.addItem("All steps", _ALL)
        for sid in ids:
            self.step_combo.addItem(sid, sid)
        index = self.step_combo.findData(current)
        self.step_combo.setCurrentIndex(max(0, index))
        self.step_combo.blockSignals(False)
        if index < 0 and current:
            self._filter_changed()

    def set_step_filter(self, step_id: str | None) -> None:
        index = self.step_combo.findData(step_id or _ALL)
        if index < 0 and step_id:
            self.step_combo.addItem(step_id, step_id)
            index = self.step_combo.count() - 1
        self.step_combo.setCurrentIndex(max(0, index))

    def add_run(self, record: RunRecord) -> None:
        """Offer a run in the run filter (or relabel it once it ended)."""
        stamp = time.strftime("%H:%M:%S", time.localtime(record.started_wall))
        label = f"{stamp} {record.workflow} ({record.status})"
        index = self.run_combo.findData(record.run_id)
        if index < 0:
            self.run_combo.addItem(label, record.run_id)
        else:
            self.run_combo.setItemText(index, label)

    def set_run_filter(self, run_id: str | None) -> None:
        index = self.run_combo.findData(run_id or _ALL)
        self.run_combo.setCurrentIndex(max(0, index))

    # --- actions ----------------------------------------------------------------------------

    def _clicked(self, index: QModelIndex) -> None:
        step = self.model.line(index.row()).step
        if step:
            self.step_clicked.emit(step.split("[", 1)[0])

    def selected_lines(self) -> list[LogLine]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.model.line(r) for r in rows]

    def copy_lines(self) -> str:
        """Copy the selected lines (or every shown line) as tab-separated text."""
        lines = self.selected_lines() or self.model.lines()
        text = "\n".join(line.text() for line in lines)
        QGuiApplication.clipboard().setText(text)
        return text

    def export(self, path: str | Path) -> int:
        n = self.model.export_jsonl(path)
        self.exported.emit(str(path), n)
        return n

    def export_dialog(self) -> None:
        dialog = QFileDialog(
            self, "Export the log", "run-log.jsonl", "JSON lines (*.jsonl);;All files (*)"
        )
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("jsonl")
        dialog.fileSelected.connect(self.export)
        dialog.finished.connect(lambda _r: setattr(self, "dialog", None))
        self.dialog = dialog
        dialog.open()
