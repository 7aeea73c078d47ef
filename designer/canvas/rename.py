"""Renaming a step in place: a line edit over the node's title (F2, or Rename in its menu).

Enter or leaving the field renames through the document (the engine's rename_patches update
every reference, as the inspector does, in one undo step); Esc gives up. A refused name keeps
the editor open with the reason in its tooltip and the view's message.
"""

from __future__ import annotations

from typing import Any, Protocol

from PySide6.QtCore import QEvent, QObject, QPoint, Qt, SignalInstance
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLineEdit, QWidget

from designer.canvas.style import NODE_W
from designer.document import WorkflowDocument

__all__ = ["InlineRename", "RenameHost"]


class RenameHost(Protocol):
    """What the editor asks of the canvas view (the view imports this module, not the reverse)."""

    document: WorkflowDocument
    message: SignalInstance
    rename_editor: Any

    def viewport(self) -> QWidget: ...
    def mapFromScene(self, x: float, y: float) -> QPoint: ...  # noqa: N802 - Qt's name
    def scale_factor(self) -> float: ...
    def select_steps(self, ids: list[str]) -> None: ...
    def setFocus(self, reason: Qt.FocusReason) -> None: ...  # noqa: N802 - Qt's name


class InlineRename(QLineEdit):
    """The editor over one node's title; deletes itself when done."""

    def __init__(self, view: RenameHost, step_id: str, corner: tuple[float, float]) -> None:
        """Over the title of the node whose top-left corner is at scene point `corner`."""
        super().__init__(step_id, view.viewport())
        self.view = view
        self.step_id = step_id
        self._done = False
        self.setObjectName("inlineRename")
        self.setToolTip("New step id: Enter renames (references follow), Esc cancels")
        top_left = view.mapFromScene(corner[0] + 30, corner[1] + 6)
        scale = view.scale_factor()
        self.move(top_left)
        self.resize(max(120, round((NODE_W - 36) * scale)), max(22, round(24 * scale)))
        self.selectAll()
        self.installEventFilter(self)
        self.returnPressed.connect(self.commit)
        self.show()
        self.setFocus(Qt.FocusReason.OtherFocusReason)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if watched is self and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            if event.key() == Qt.Key.Key_Escape:
                self.cancel()
                return True
        if watched is self and event.type() == QEvent.Type.FocusOut and not self._done:
            self.commit()
        return False

    def commit(self) -> None:
        if self._done:
            return
        new = self.text().strip()
        if new == self.step_id or not new:
            self.cancel()
            return
        reason = self.view.document.rename_step(self.step_id, new)
        if reason is not None:
            self.setToolTip(reason)
            self.view.message.emit(f"Cannot rename {self.step_id} to {new}: {reason}")
            if self.hasFocus():
                return  # still editing: the user may fix the name
            self.cancel()
            return
        self._finish()
        self.view.select_steps([new])

    def cancel(self) -> None:
        if not self._done:
            self._finish()

    def _finish(self) -> None:
        self._done = True
        self.hide()
        self.view.setFocus(Qt.FocusReason.OtherFocusReason)
        self.deleteLater()
        if self.view.rename_editor is self:
            self.view.rename_editor = None
