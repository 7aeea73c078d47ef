"""Notes: sticky comments on the canvas (`notes:` in the file, ignored by the engine).

`NoteLayer` keeps one `NoteItem` per note of the workflow, rebuilt when the workflow's notes
change (they are a workflow field: `workflow_changed`, `reset`). Items never write the model:
a drag or a finished edit asks the layer, which pushes one `SetNotesCommand`. Double-click a
note to edit its text; a note left empty is deleted.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFocusEvent, QMouseEvent, QPainter, QPen, QUndoCommand
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsSceneMouseEvent,
    QGraphicsTextItem,
    QStyleOptionGraphicsItem,
    QWidget,
)

from designer.canvas.style import NODE_W, NOTE_ITEM_TYPE
from engine import Note

if TYPE_CHECKING:
    from designer.canvas.view import CanvasView
    from designer.document.observable import ObservableWorkflow

__all__ = ["NoteItem", "NoteLayer", "SetNotesCommand"]

_PAPER = QColor("#fff4b8")
_PAPER_DARK = QColor("#5c5325")
_EDGE = QColor("#d8c26a")
_WIDTH = NODE_W  # a note is as wide as a step; its height follows its text


class SetNotesCommand(QUndoCommand):
    """The workflow's whole notes list, before and after (notes are few and small)."""

    def __init__(
        self, model: ObservableWorkflow, old: list[Note], new: list[Note], text: str
    ) -> None:
        super().__init__(text)
        self.model = model
        self.old = copy.deepcopy(old)
        self.new = copy.deepcopy(new)

    def redo(self) -> None:
        self.model.set_workflow_field("notes", copy.deepcopy(self.new))

    def undo(self) -> None:
        self.model.set_workflow_field("notes", copy.deepcopy(self.old))


class NoteItem(QGraphicsTextItem):
    """One note: paper-coloured, movable, its text edited in place after a double-click."""

    def __init__(self, layer: NoteLayer, index: int, note: Note) -> None:
        super().__init__(note.text)
        self.layer = layer
        self.index = index
        self.setTextWidth(_WIDTH - 16)
        self.setFlags(
            QGraphicsItem.GraphicsItemFlag.ItemIsMovable
            | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
            | QGraphicsItem.GraphicsItemFlag.ItemIsFocusable
        )
        self.setZValue(1)  # under the steps (2) and over the edges
        self.setPos(QPointF(note.at[0], note.at[1]))
        self.setToolTip("Note: double-click to edit; empty it to delete it")
        self._pressed_at: QPointF | None = None

    def type(self) -> int:
        return NOTE_ITEM_TYPE

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return super().boundingRect().adjusted(-8, -8, 8, 8)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        paper = _PAPER_DARK if self.layer.dark else _PAPER
        painter.setPen(QPen(_EDGE, 2.0 if self.isSelected() else 1.0))
        painter.setBrush(paper)
        painter.drawRoundedRect(self.boundingRect().adjusted(1, 1, -1, -1), 3, 3)
        super().paint(painter, option, widget)

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        self._pressed_at = self.pos()
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        super().mouseReleaseEvent(event)
        if self._pressed_at is not None and self.pos() != self._pressed_at:
            self.layer.moved(self.index, (round(self.pos().x()), round(self.pos().y())))
        self._pressed_at = None

    def mouseDoubleClickEvent(self, event: QGraphicsSceneMouseEvent) -> None:  # noqa: N802
        self.start_editing()
        super().mouseDoubleClickEvent(event)

    def start_editing(self) -> None:
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextEditorInteraction)
        self.setFocus(Qt.FocusReason.MouseFocusReason)

    def focusOutEvent(self, event: QFocusEvent) -> None:  # noqa: N802 - Qt override
        super().focusOutEvent(event)
        self.finish_editing()

    def itemChange(  # noqa: N802 - Qt override
        self, change: QGraphicsItem.GraphicsItemChange, value: object
    ) -> object:
        # a click on empty canvas deselects the note without always taking its focus
        if change == QGraphicsItem.GraphicsItemChange.ItemSelectedHasChanged and not value:
            self.finish_editing()
        return super().itemChange(change, value)

    def finish_editing(self) -> None:
        if self.textInteractionFlags() & Qt.TextInteractionFlag.TextEditorInteraction:
            self.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
            self.clearFocus()
            self.layer.edited(self.index, self.toPlainText())


class NoteLayer(QObject):
    """The notes of a view's workflow as items; edits go to the document as undo steps."""

    def __init__(self, view: CanvasView) -> None:
        super().__init__(view)
        self.view = view
        self.document = view.document
        self.items: list[NoteItem] = []
        self.dark = False
        model = self.document.model
        model.reset.connect(self.rebuild)
        model.workflow_changed.connect(self._maybe_rebuild)
        # a press anywhere but on the note being edited ends its editing (the scene does not
        # always take focus from a text item on a click on empty canvas)
        view.viewport().installEventFilter(self)
        self.rebuild()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.MouseButtonPress and isinstance(event, QMouseEvent):
            at = self.view.mapToScene(event.position().toPoint())
            for item in self.items:
                if item.textInteractionFlags() and not item.sceneBoundingRect().contains(at):
                    item.finish_editing()
        return False

    @property
    def notes(self) -> list[Note]:
        return self.document.workflow.notes

    def _maybe_rebuild(self) -> None:
        shown = [(i.toPlainText(), (i.pos().x(), i.pos().y())) for i in self.items]
        if shown != [(n.text, (float(n.at[0]), float(n.at[1]))) for n in self.notes]:
            self.rebuild()

    def rebuild(self) -> None:
        scene = self.view.canvas
        for item in self.items:
            if item.scene() is scene:
                scene.removeItem(item)
        self.items = [NoteItem(self, i, n) for i, n in enumerate(self.notes)]
        for item in self.items:
            scene.addItem(item)

    def note_rects(self) -> list[QRectF]:
        """The notes' rectangles in the scene (the minimap draws them)."""
        return [item.sceneBoundingRect() for item in self.items]

    def set_dark(self, on: bool) -> None:
        self.dark = on
        for item in self.items:
            item.setDefaultTextColor(QColor("#f1f1f1" if on else "#202020"))
            item.update()

    # --- edits ---------------------------------------------------------------------------------

    def _push(self, new: list[Note], text: str) -> None:
        self.document.undo_stack.push(SetNotesCommand(self.document.model, self.notes, new, text))

    def add(self, at: tuple[float, float], text: str = "Note") -> NoteItem:
        """A new note at `at` (one undo step), its text selected for typing over."""
        self._push([*self.notes, Note(text, (round(at[0]), round(at[1])))], "Add note")
        item = self.items[-1]
        item.setSelected(True)
        item.start_editing()
        cursor = item.textCursor()
        cursor.select(cursor.SelectionType.Document)
        item.setTextCursor(cursor)
        return item

    def moved(self, index: int, at: tuple[float, float]) -> None:
        new = copy.deepcopy(self.notes)
        if 0 <= index < len(new) and tuple(new[index].at) != at:
            new[index].at = at
            self._push(new, "Move note")

    def edited(self, index: int, text: str) -> None:
        new = copy.deepcopy(self.notes)
        if not 0 <= index < len(new):
            return
        if not text.strip():
            del new[index]
            self._push(new, "Delete note")
        elif new[index].text != text:
            new[index].text = text
            self._push(new, "Edit note")
