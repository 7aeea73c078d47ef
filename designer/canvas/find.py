"""Find a step (Ctrl+F): a bar over the canvas that matches ids, services and actions as typed.

Typing selects and centres the first match; Enter goes to the next, Shift+Enter the previous;
Esc closes the bar and gives the canvas its focus back. Matching is case-insensitive on the
step's id, a call's service, action and `Service.action`, and an emit's event.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QToolButton, QWidget

from designer.canvas.items import step_detail
from designer.canvas.view import CanvasView
from engine import CallStep, EmitStep, Workflow

__all__ = ["FindBar", "find_steps"]


def find_steps(workflow: Workflow, text: str) -> list[str]:
    """Ids of the steps matching `text`, in the file's order (ids matching exactly first)."""
    needle = text.strip().lower()
    if not needle:
        return []
    exact, found = [], []
    for step in workflow.steps:
        fields = [step.id]
        if isinstance(step, CallStep):
            fields += [step.service, step.action, step_detail(step)]
        elif isinstance(step, EmitStep):
            fields.append(step.event)
        if step.id.lower() == needle:
            exact.append(step.id)
        elif any(needle in f.lower() for f in fields):
            found.append(step.id)
    return exact + found


class FindBar(QWidget):
    """The find bar of one canvas view; hidden until `open_bar`."""

    def __init__(self, view: CanvasView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = view
        self.matches: list[str] = []
        self.current = -1
        self.setObjectName("findBar")
        self.field = QLineEdit(self)
        self.field.setPlaceholderText("Find a step by id, service or action")
        self.field.setClearButtonEnabled(True)
        self.count = QLabel(self)
        self.count.setMinimumWidth(70)
        prev_button = QToolButton(self)
        prev_button.setText("↑")
        prev_button.setToolTip("Previous match (Shift+Enter)")
        next_button = QToolButton(self)
        next_button.setText("↓")
        next_button.setToolTip("Next match (Enter)")
        close = QToolButton(self)
        close.setText("✕")
        close.setToolTip("Close (Esc)")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 3, 6, 3)
        layout.addWidget(QLabel("Find:", self))
        layout.addWidget(self.field, 1)
        layout.addWidget(self.count)
        layout.addWidget(prev_button)
        layout.addWidget(next_button)
        layout.addWidget(close)
        self.field.textChanged.connect(self._search)
        self.field.installEventFilter(self)
        prev_button.clicked.connect(lambda: self.step(-1))
        next_button.clicked.connect(lambda: self.step(1))
        close.clicked.connect(self.close_bar)
        self.hide()

    def open_bar(self) -> None:
        self.show()
        self.field.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.field.selectAll()
        self._search(self.field.text())

    def close_bar(self) -> None:
        self.hide()
        self.view.setFocus(Qt.FocusReason.OtherFocusReason)

    def _search(self, text: str) -> None:
        self.matches = find_steps(self.view.document.workflow, text)
        self.current = -1
        if self.matches:
            self.step(1)
        else:
            self.count.setText("no match" if text.strip() else "")

    def step(self, direction: int) -> None:
        """Go to the next (1) or previous (-1) match, round the ends."""
        if not self.matches:
            return
        self.current = (self.current + direction) % len(self.matches)
        sid = self.matches[self.current]
        self.count.setText(f"{self.current + 1} of {len(self.matches)}")
        self.view.select_steps([sid])
        node = self.view.canvas.nodes.get(sid)
        if node is not None:
            self.view.centerOn(node)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if watched is self.field and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            key = event.key()
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                shift = event.modifiers() & Qt.KeyboardModifier.ShiftModifier
                self.step(-1 if shift else 1)
                return True
            if key == Qt.Key.Key_Escape:
                self.close_bar()
                return True
        return False
