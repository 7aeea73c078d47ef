"""Quick add: a searchable picker of step kinds and service actions, opened by Tab on the canvas
or by a wire dropped on empty canvas; the chosen step goes there, connected (one undo step).

The picker is a popup (it closes when clicking elsewhere, as n8n's node creator does); typing
filters by every word, Up/Down move, Enter adds, Escape closes.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from designer.document.clipboard import step_from_palette
from designer.shared import theme

if TYPE_CHECKING:
    from designer.canvas import CanvasView

__all__ = ["QuickAddPicker", "quick_add_entries", "add_connected"]

_KINDS = (
    ("wait", "Pause for a duration"),
    ("emit", "Publish an event"),
    ("notify", "Send a notification"),
)


def quick_add_entries(services: dict[str, list[str]]) -> list[tuple[str, dict[str, Any], str]]:
    """(label, palette payload, icon) for the step kinds, then every Service.action."""
    out: list[tuple[str, dict[str, Any], str]] = [
        (f"{kind} — {tip}", {"kind": kind}, kind) for kind, tip in _KINDS
    ]
    for service, actions in services.items():
        for action in actions:
            payload = {"kind": "call", "service": service, "action": action}
            out.append((f"{service}.{action}", payload, "call"))
    return out


class QuickAddPicker(QFrame):
    """A search field over a list; `chosen` carries the payload of the entry taken."""

    chosen = Signal(dict)

    def __init__(
        self, entries: list[tuple[str, dict[str, Any], str]], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setObjectName("quickAdd")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Add a step: type to search services, actions, kinds")
        self.search.setClearButtonEnabled(True)
        self.list = QListWidget()
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for label, payload, icon in entries:
            item = QListWidgetItem(theme.icon(icon), label)
            item.setData(Qt.ItemDataRole.UserRole, json.dumps(payload))
            self.list.addItem(item)
        self.empty = QLabel("Nothing matches: try fewer letters.")
        self.empty.setObjectName("hint")
        self.empty.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addWidget(self.search)
        layout.addWidget(self.list)
        layout.addWidget(self.empty)
        self.resize(360, 320)
        self.search.textChanged.connect(self.apply_filter)
        self.search.installEventFilter(self)
        self.list.itemClicked.connect(self._take)
        self.apply_filter("")

    def shown(self) -> list[str]:
        return [
            self.list.item(i).text()
            for i in range(self.list.count())
            if not self.list.item(i).isHidden()
        ]

    def apply_filter(self, text: str) -> None:
        """Entries holding every word typed, in any case; the first one is highlighted."""
        words = text.lower().split()
        first = None
        for i in range(self.list.count()):
            item = self.list.item(i)
            hidden = not all(w in item.text().lower() for w in words)
            item.setHidden(hidden)
            if not hidden and first is None:
                first = item
        self.list.setCurrentItem(first)
        self.empty.setVisible(first is None)

    def popup_at(self, global_pos: QPoint) -> None:
        screen = self.screen().availableGeometry()
        x = min(max(screen.left(), global_pos.x()), screen.right() - self.width())
        y = min(max(screen.top(), global_pos.y()), screen.bottom() - self.height())
        self.move(x, y)
        self.show()
        self.search.setFocus()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if (
            watched is self.search
            and isinstance(event, QKeyEvent)
            and event.type() == QEvent.Type.KeyPress
        ):
            key = event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                self._move(1 if key == Qt.Key.Key_Down else -1)
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                item = self.list.currentItem()
                if item is not None and not item.isHidden():
                    self._take(item)
                return True
            if key == Qt.Key.Key_Escape:
                self.close()
                return True
        return super().eventFilter(watched, event)

    def _move(self, step: int) -> None:
        rows = [i for i in range(self.list.count()) if not self.list.item(i).isHidden()]
        if not rows:
            return
        current = self.list.currentRow()
        k = rows.index(current) if current in rows else -1
        self.list.setCurrentRow(rows[max(0, min(len(rows) - 1, k + step))])

    def _take(self, item: QListWidgetItem) -> None:
        payload = json.loads(item.data(Qt.ItemDataRole.UserRole))
        self.close()
        self.chosen.emit(payload)


def add_connected(
    view: CanvasView, payload: dict[str, Any], at: QPointF, link: str, after_link: bool
) -> str:
    """Add the picked step centred at `at` (or the free spot nearest), connected to `link`:
    after it (a wire from its output, Tab) or before it (a wire from its input). One undo
    step either way; returns the new step's id."""
    document = view.document
    step = step_from_palette(json.dumps(payload).encode("utf-8"))
    linked = document.workflow.find(link) if link else None
    if linked is not None and after_link:
        step.after = [link]  # part of the add itself
        sid = view.drop_step(step, (at.x(), at.y()))
    elif linked is not None:
        stack = document.undo_stack
        stack.beginMacro(f"Add step before {link}")
        sid = view.drop_step(step, (at.x(), at.y()))
        document.connect_steps(sid, link)
        stack.endMacro()
        stack.command(stack.count() - 1).setText(f"Add step {sid} before {link}")
    else:
        sid = view.drop_step(step, (at.x(), at.y()))
    view.select_steps([sid])
    return sid
