"""The problems dock: the open workflow's validation problems, live; a click selects the step."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from designer.shared import theme
from engine import Problem, format_path

if TYPE_CHECKING:
    from designer.document import WorkflowDocument

__all__ = ["LoadProblemsDialog", "ProblemsWidget", "problem_location"]

_STEP_ROLE = Qt.ItemDataRole.UserRole + 1


def problem_location(problem: Problem) -> str:
    """Where a problem is, as short as it can be said: `line 12:5`, the path, or ''."""
    parts = []
    if problem.line:
        parts.append(f"line {problem.line}:{problem.col}")
    path = format_path(problem.path)
    if path:
        parts.append(path)
    return "  ".join(parts)


def _located(problem: Problem) -> str:
    """Where a problem of another file (or a text sent away) is: `name.sw.yaml:12:5  path`."""
    name = os.path.basename(problem.file) if problem.file else ""
    if problem.line:
        name = (
            f"{name}:{problem.line}:{problem.col}" if name else f"line {problem.line}:{problem.col}"
        )
    path = format_path(problem.path)
    return "  ".join(part for part in (name, path) if part)


class ProblemsWidget(QWidget):
    """A table of problems: severity, step, message, location. Follows `problems_changed`."""

    step_activated = Signal(str)  # a problem naming a step was clicked
    count_changed = Signal(int)

    def __init__(self, document: WorkflowDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.summary = QLabel()
        self.summary.setObjectName("hint")
        self.tree = QTreeWidget()
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setHeaderLabels(["Step", "Problem", "Where"])
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.summary)
        layout.addWidget(self.tree, 1)
        self.tree.itemClicked.connect(self._clicked)
        self.tree.itemActivated.connect(self._clicked)
        document.problems_changed.connect(self.refresh)
        document.model.reset.connect(self.clear_external)
        # problems of another file or of an operation on this one (an import, an export, a
        # deploy), by source; they stay until the source reports again or another file opens
        self.external: dict[str, list[Problem]] = {}
        self.refresh()

    def problems(self) -> list[Problem]:
        return list(self.document.problems) + [p for ps in self.external.values() for p in ps]

    def show_external(self, source: str, problems: list[Problem]) -> None:
        """Show `problems` under `source` (e.g. "Export") beside the workflow's own; an empty
        list clears that source."""
        if problems:
            self.external[source] = list(problems)
        else:
            self.external.pop(source, None)
        self.refresh()

    def clear_external(self) -> None:
        self.external.clear()
        self.refresh()

    def refresh(self) -> None:
        problems = self.problems()
        self.tree.clear()
        errors = sum(1 for p in problems if p.severity == "error")
        warnings = len(problems) - errors
        rows = [(p, p.step_id or "workflow", problem_location(p)) for p in self.document.problems]
        for source, found in self.external.items():
            rows.extend((p, f"{source}: {p.step_id or 'workflow'}", _located(p)) for p in found)
        for p, step, where in rows:
            item = QTreeWidgetItem([step, p.message, where])
            item.setIcon(0, theme.icon("error" if p.severity == "error" else "warning"))
            item.setData(0, _STEP_ROLE, p.step_id or "")
            item.setToolTip(1, str(p))
            self.tree.addTopLevelItem(item)
        if not problems:
            self.summary.setText("No problems: the workflow is valid.")
        else:
            parts = []
            if errors:
                parts.append(f"{errors} error{'s' if errors != 1 else ''}")
            if warnings:
                parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
            self.summary.setText(", ".join(parts) + ". Click one to select its step.")
        self.count_changed.emit(len(problems))

    def item(self, row: int) -> QTreeWidgetItem:
        return self.tree.topLevelItem(row)

    def _clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        step_id = item.data(0, _STEP_ROLE)
        if step_id and self.document.workflow.find(step_id) is not None:
            self.step_activated.emit(step_id)


class LoadProblemsDialog(QDialog):
    """Why a file could not be opened: every problem with its line and column."""

    def __init__(self, path: str, problems: list[Problem], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Cannot open workflow")
        self.setMinimumWidth(640)
        self.problems = list(problems)
        n = len(problems)
        heading = QLabel(
            f"<b>{path}</b> was not opened: it has {n} problem{'s' if n != 1 else ''}."
            " Fix them in a text editor (or run <code>switchboard validate</code>) "
            "and open it again."
        )
        heading.setWordWrap(True)
        self.tree = QTreeWidget()
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setHeaderLabels(["Line", "Column", "Where", "Problem"])
        self.tree.setWordWrap(True)
        for p in problems:
            item = QTreeWidgetItem(
                [
                    str(p.line) if p.line else "",
                    str(p.col) if p.col else "",
                    format_path(p.path),
                    p.message,
                ]
            )
            item.setIcon(0, theme.icon("error" if p.severity == "error" else "warning"))
            item.setToolTip(3, str(p))
            self.tree.addTopLevelItem(item)
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.tree, 1)
        layout.addWidget(buttons)

    def rows(self) -> list[tuple[str, str, str, str]]:
        """The table as text: (line, column, where, problem) per row."""
        out = []
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            out.append((item.text(0), item.text(1), item.text(2), item.text(3)))
        return out
