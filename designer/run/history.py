"""Run history for the session: one row per run (status, workflow, environment, time, duration).

Picking a row asks for that run to be shown: its states on the canvas, its lines in the log.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from designer.canvas import style as canvas_style
from engine import RunRecord, format_ms

__all__ = ["RunHistoryWidget"]

_COLUMNS = ("Status", "Workflow", "Environment", "Started", "Duration", "Run")
MAX_ROWS = 100


class RunHistoryWidget(QWidget):
    """Newest run on top."""

    run_picked = Signal(str)  # run id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runHistoryPanel")
        self.tree = QTreeWidget(self)
        self.tree.setHeaderLabels(list(_COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setMinimumHeight(24)  # a small dock must not hold the window's height up
        self.tree.setAlternatingRowColors(True)
        self.tree.itemClicked.connect(self._picked)
        self.tree.itemActivated.connect(self._picked)
        self.items: dict[str, QTreeWidgetItem] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tree)
        self.tree.setColumnWidth(0, 90)
        self.tree.setColumnWidth(1, 140)

    def add_or_update(self, record: RunRecord) -> None:
        item = self.items.get(record.run_id)
        if item is None:
            item = QTreeWidgetItem()
            item.setData(0, Qt.ItemDataRole.UserRole, record.run_id)
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

    def _picked(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        self.run_picked.emit(item.data(0, Qt.ItemDataRole.UserRole))
