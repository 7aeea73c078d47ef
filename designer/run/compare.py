"""Two runs side by side: every step's state and output in each, the steps that differ marked."""

from __future__ import annotations

import json
import time
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine import RunRecord, StepView

__all__ = ["RunCompareDialog", "step_rows"]

_MAX_CELL = 2_000  # characters of an output shown in a cell; the tooltip has more


def _compact(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _side(view: StepView | None) -> tuple[str, str]:
    """(state, output or error) of one step in one run; a step the run lacks is blank."""
    if view is None:
        return ("—", "")
    shown = view.output if view.error is None else view.error
    return (view.state, _compact(shown))


def step_rows(a: RunRecord, b: RunRecord) -> list[tuple[str, str, str, str, str, bool]]:
    """(step, state in a, output in a, state in b, output in b, differs) for every step either
    run has, in the order of `a` then the steps only `b` has."""
    ids = list(dict.fromkeys([*a.steps, *b.steps]))
    rows = []
    for sid in ids:
        sa, oa = _side(a.steps.get(sid))
        sb, ob = _side(b.steps.get(sid))
        rows.append((sid, sa, oa, sb, ob, (sa, oa) != (sb, ob)))
    return rows


def _title(rec: RunRecord) -> str:
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(rec.started_wall))
    env = f", {rec.env}" if rec.env else ""
    return f"{rec.status} {when}{env}"


class RunCompareDialog(QDialog):
    """Step outputs of run A and run B; differing steps in bold on a tint, and a switch to
    show only them."""

    def __init__(self, a: RunRecord, b: RunRecord, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runCompareDialog")
        self.setWindowTitle(f"Compare runs of {a.workflow}")
        self.resize(980, 480)
        self.a, self.b = a, b
        self.rows = step_rows(a, b)
        n = sum(1 for r in self.rows if r[5])
        heading = QLabel(
            f"<b>A</b> {a.run_id} ({_title(a)})<br><b>B</b> {b.run_id} ({_title(b)})<br>"
            + (
                f"{n} of {len(self.rows)} step{'s' if len(self.rows) != 1 else ''} differ."
                if n
                else "Every step has the same state and output."
            )
        )
        heading.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.only_differences = QCheckBox("Only steps that differ")
        self.only_differences.toggled.connect(self._filter)
        self.tree = QTreeWidget()
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setHeaderLabels(["Step", "A state", "A output", "B state", "B output"])
        header = self.tree.header()
        for col in (0, 1, 3):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        for col in (2, 4):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Stretch)
        tint = QBrush(QColor(242, 153, 0, 60))
        bold = QFont()
        bold.setBold(True)
        for sid, sa, oa, sb, ob, differs in self.rows:
            item = QTreeWidgetItem([sid, sa, oa[:_MAX_CELL], sb, ob[:_MAX_CELL]])
            item.setToolTip(2, oa[: _MAX_CELL * 4])
            item.setToolTip(4, ob[: _MAX_CELL * 4])
            item.setData(0, Qt.ItemDataRole.UserRole, differs)
            if differs:
                for col in range(5):
                    item.setBackground(col, tint)
                item.setFont(0, bold)
            self.tree.addTopLevelItem(item)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.only_differences)
        layout.addWidget(self.tree, 1)
        layout.addWidget(buttons)

    def shown_steps(self) -> list[str]:
        out = []
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if not item.isHidden():
                out.append(item.text(0))
        return out

    def _filter(self, only: bool) -> None:
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            item.setHidden(only and not item.data(0, Qt.ItemDataRole.UserRole))
