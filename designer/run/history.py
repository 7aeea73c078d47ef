"""Run history: one row per run (status, workflow, environment, time, duration).

Picking a row asks for that run to be shown: its states on the canvas, its lines in the log.
Two rows selected (Ctrl+click) can be compared side by side. Runs of earlier sessions come from
the history store (history_store.py).
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from designer.canvas import style as canvas_style
from engine import RunRecord, format_ms

__all__ = ["RunHistoryWidget"]

_COLUMNS = ("Status", "Workflow", "Environment", "Started", "Duration", "Run")
MAX_ROWS = 100


class RunHistoryWidget(QWidget):
    """Newest run on top."""

    run_picked = Signal(str)  # run id
    compare_requested = Signal(str, str)  # the older run id, the newer

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runHistoryPanel")
        self.tree = QTreeWidget(self)
        self.tree.setHeaderLabels(list(_COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setMinimumHeight(24)  # a small dock must not hold the window's height up
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.itemClicked.connect(self._picked)
        self.tree.itemActivated.connect(self._picked)
        self.tree.itemSelectionChanged.connect(self._selection_changed)
        self.items: dict[str, QTreeWidgetItem] = {}
        self.compare_button = QPushButton("Compare")
        self.compare_button.setObjectName("compareRuns")
        self.compare_button.setToolTip("Show two selected runs' step outputs side by side")
        self.compare_button.setEnabled(False)
        self.compare_button.clicked.connect(self.compare_selected)
        hint = QLabel("Ctrl+click a second run to compare the two.")
        hint.setObjectName("hint")
        row = QHBoxLayout()
        row.setContentsMargins(4, 2, 4, 0)
        row.addWidget(hint, 1)
        row.addWidget(self.compare_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(row)
        layout.addWidget(self.tree)
        self.tree.setColumnWidth(0, 90)
        self.tree.setColumnWidth(1, 140)

    def add_or_update(self, record: RunRecord, at_end: bool = False) -> None:
        """Show a run on top (a new one) or, `at_end`, below the others (an older session's)."""
        item = self.items.get(record.run_id)
        if item is None:
            item = QTreeWidgetItem()
            item.setData(0, Qt.ItemDataRole.UserRole, record.run_id)
            if at_end:
                self.tree.addTopLevelItem(item)
            else:
                self.tree.insertTopLevelItem(0, item)
            self.items[record.run_id] = item
            while self.tree.topLevelItemCount() > MAX_ROWS:
                old = self.tree.takeTopLevelItem(self.tree.topLevelItemCount() - 1)
                if old is not None:
                    self.items.pop(old.data(0, Qt.ItemDataRole.UserRole), None)
        source = "" if record.source == "run" else f" ({record.source})"
        values = (
            record.status,
            record.workflow + source,
            record.env or "—",
            time.strftime("%H:%M:%S", time.localtime(record.started_wall)),
            format_ms(record.duration_ms) if record.duration_ms is not None else "…",
            record.run_id,
        )
        for col, value in enumerate(values):
            item.setText(col, value)
        color = canvas_style.STATE_COLORS.get(record.status)
        if color is not None:
            item.setForeground(0, QBrush(color))

    def select(self, run_id: str) -> None:
        item = self.items.get(run_id)
        if item is not None:
            self.tree.setCurrentItem(item)

    def run_ids(self) -> list[str]:
        """Run ids, newest first."""
        return [
            self.tree.topLevelItem(i).data(0, Qt.ItemDataRole.UserRole)
            for i in range(self.tree.topLevelItemCount())
        ]

    def pick(self, run_id: str) -> None:
        """Act as if the row of `run_id` was clicked."""
        self.select(run_id)
        self.run_picked.emit(run_id)

    def remove(self, run_id: str) -> None:
        item = self.items.pop(run_id, None)
        if item is not None:
            self.tree.takeTopLevelItem(self.tree.indexOfTopLevelItem(item))

    def selected_runs(self) -> list[str]:
        """Selected run ids, top (newest) first."""
        picked = {i.data(0, Qt.ItemDataRole.UserRole) for i in self.tree.selectedItems()}
        return [run_id for run_id in self.run_ids() if run_id in picked]

    def compare_selected(self) -> None:
        runs = self.selected_runs()
        if len(runs) == 2:
            self.compare_requested.emit(runs[1], runs[0])

    def _selection_changed(self) -> None:
        self.compare_button.setEnabled(len(self.tree.selectedItems()) == 2)

    def _picked(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        self.run_picked.emit(item.data(0, Qt.ItemDataRole.UserRole))
