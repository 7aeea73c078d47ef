"""The minimap: the whole workflow in a corner of the canvas, the visible part framed; click or
drag in it to move the view there.

It is a child of the view (not of its viewport, which scrolls its children), kept in the
bottom-right corner over the viewport. Nodes are drawn as boxes in their kind's (or run state's)
colour from the positions the scene records (`NodeItem.x0/y0`), edges as lines: a few thousand
rectangles cost a millisecond, and it repaints only after changes, scrolls and zooms.

It shows only when it helps: the user wants it (`wanted`, View → Minimap, Ctrl+M) and part of
the workflow lies outside the view. When everything fits, or the canvas is empty, it hides, so
it never covers a step of a workflow that is all in sight (nor frames nothing).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
)
from PySide6.QtWidgets import QWidget

from designer.canvas import style
from designer.canvas.style import NODE_H, NODE_W

if TYPE_CHECKING:
    from designer.canvas.view import CanvasView

__all__ = ["Minimap", "NoteShapes"]

SIZE = (200, 130)  # the widget, in pixels
_MARGIN = 10  # from the viewport's corner
_PAD = 6.0  # inside the frame
_NOTE = QColor("#e6cf5c")  # the notes' paper, a little darker to stand out at this size


class NoteShapes(Protocol):
    """Where the notes are (the note layer): drawn, and counted in what must fit."""

    def note_rects(self) -> list[QRectF]: ...


class Minimap(QWidget):
    """The scene fitted into a small frame; the view's visible rectangle drawn over it."""

    def __init__(self, view: CanvasView) -> None:
        super().__init__(view)
        self.setObjectName("minimap")
        self.view = view
        self.setFixedSize(*SIZE)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Minimap: click or drag to move the view")
        self.setAcceptDrops(True)
        self._repaint = QTimer(self)  # a drag or a run changes many nodes: one repaint
        self._repaint.setSingleShot(True)
        self._repaint.setInterval(30)
        self._repaint.timeout.connect(self.refresh)
        view.horizontalScrollBar().valueChanged.connect(self.refresh)
        view.verticalScrollBar().valueChanged.connect(self.refresh)
        view.zoom_changed.connect(lambda _s: self.refresh())
        # what must fit is measured once per change, not on every scroll (5,000 steps: ~1 ms)
        self._content: QRectF | None = None
        view.document.model.changed.connect(self._changed)
        view.document.model.reset.connect(self._changed)
        view.canvas.changed.connect(lambda _r: self._changed())
        self.notes: NoteShapes | None = None  # set_notes, once the window's note layer exists
        self.wanted = True  # the user's choice (Ctrl+M); shown only when it helps as well
        # follow the viewport's size (set after the view's own resize) without a hook in the view
        self._hidden_for_drag = False
        self._viewport = view.viewport()
        self._viewport.installEventFilter(self)
        self.place()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        # compared by the reference kept: while the view is destroyed, asking it for its
        # viewport raises
        if watched is self._viewport:
            kind = event.type()
            if kind in (QEvent.Type.Resize, QEvent.Type.Show):
                self.place()
                self.refresh()
            elif kind == QEvent.Type.DragEnter and self.isVisible():
                # out of the way while something is dragged onto the canvas: on a real X
                # server a drop over the overlay was sometimes lost (2 runs in 4)
                self._hidden_for_drag = True
                self.hide()
            elif kind in (QEvent.Type.DragLeave, QEvent.Type.Drop) and self._hidden_for_drag:
                self._hidden_for_drag = False
                QTimer.singleShot(0, self.refresh)
        return super().eventFilter(watched, event)

    def set_notes(self, notes: NoteShapes) -> None:
        """Draw (and count) the notes of this layer too."""
        self.notes = notes
        self._changed()

    def _changed(self) -> None:
        self._content = None
        self._repaint.start()

    def set_wanted(self, on: bool) -> None:
        """The user's choice (View → Minimap); it still hides while everything is in sight."""
        self.wanted = on
        self.refresh()

    def needed(self) -> bool:
        """True while part of the workflow (its steps and notes: what the minimap draws) lies
        outside the view; False on an empty canvas."""
        content = self.content()
        return not content.isNull() and not self.visible_scene_rect().contains(content)

    def refresh(self) -> None:
        """Show or hide as the rule says, and repaint when shown."""
        show = self.wanted and not self._hidden_for_drag and self.needed()
        if show != self.isVisible():
            self.setVisible(show)
            if show:
                self.raise_()
        if show:
            self.update()

    def place(self) -> None:
        """Keep to the bottom-right corner of the viewport."""
        vp = self.view.viewport().geometry()
        self.move(
            vp.right() - self.width() - _MARGIN + 1, vp.bottom() - self.height() - _MARGIN + 1
        )
        self.raise_()

    # --- geometry ---------------------------------------------------------------------------

    def content(self) -> QRectF:
        """Every step and note (empty when there are none)."""
        if self._content is None:
            rect = self.view.canvas.step_bounds()
            for note in self.notes.note_rects() if self.notes is not None else []:
                rect = note if rect.isNull() else rect.united(note)
            self._content = rect
        return QRectF(self._content)

    def world(self) -> QRectF:
        """What the minimap shows: every step and note and the visible area, whichever is
        larger."""
        content = self.content()
        seen = self.visible_scene_rect()
        return content.united(seen) if not content.isNull() else seen

    def visible_scene_rect(self) -> QRectF:
        return self.view.mapToScene(self.view.viewport().rect()).boundingRect()

    def _scale(self, world: QRectF) -> tuple[float, float, float]:
        """(scale, x offset, y offset) that fit `world` into the frame, centred."""
        w, h = self.width() - 2 * _PAD, self.height() - 2 * _PAD
        scale = min(w / max(world.width(), 1.0), h / max(world.height(), 1.0))
        ox = _PAD + (w - world.width() * scale) / 2 - world.left() * scale
        oy = _PAD + (h - world.height() * scale) / 2 - world.top() * scale
        return scale, ox, oy

    def to_scene(self, at: QPointF) -> QPointF:
        scale, ox, oy = self._scale(self.world())
        return QPointF((at.x() - ox) / scale, (at.y() - oy) / scale)

    def to_map(self, scene: QPointF) -> QPointF:
        scale, ox, oy = self._scale(self.world())
        return QPointF(scene.x() * scale + ox, scene.y() * scale + oy)

    # --- drawing and input ------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        p = QPainter(self)
        frame = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        back = QColor(style.BACKGROUND)
        back.setAlpha(235)
        p.setPen(QPen(style.BODY_BORDER, 1))
        p.setBrush(back)
        p.drawRoundedRect(frame, 4, 4)
        world = self.world()
        scale, ox, oy = self._scale(world)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.setPen(QPen(style.EDGE, 1))
        nodes = self.view.canvas.nodes
        for (src, dst), _edge in self.view.canvas.edges.items():
            a, b = nodes.get(src), nodes.get(dst)
            if a is None or b is None:
                continue
            p.drawLine(
                QPointF((a.x0 + NODE_W) * scale + ox, (a.y0 + NODE_H / 2) * scale + oy),
                QPointF(b.x0 * scale + ox, (b.y0 + NODE_H / 2) * scale + oy),
            )
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(_NOTE)
        for note in self.notes.note_rects() if self.notes is not None else []:
            p.drawRect(
                QRectF(
                    note.left() * scale + ox,
                    note.top() * scale + oy,
                    max(2.0, note.width() * scale),
                    max(2.0, note.height() * scale),
                )
            )
        w, h = max(2.0, NODE_W * scale), max(2.0, NODE_H * scale)
        for node in nodes.values():
            colour = style.STATE_COLORS.get(node.state) if node.state else None
            colour = colour or style.KIND_COLORS.get(node.kind, style.EDGE)
            if node.opacity() < 1.0:
                colour = QColor(colour)
                colour.setAlpha(90)
            p.setBrush(colour)
            p.drawRect(QRectF(node.x0 * scale + ox, node.y0 * scale + oy, w, h))
        seen = self.visible_scene_rect()
        p.setPen(QPen(style.SELECTED, 1.5))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(
            QRectF(
                seen.left() * scale + ox,
                seen.top() * scale + oy,
                seen.width() * scale,
                seen.height() * scale,
            ).intersected(frame)
        )
        p.end()

    # --- drops pass through to the canvas under it --------------------------------------------

    def _forward(self, event: QDragEnterEvent | QDragMoveEvent | QDropEvent) -> None:
        """Hand a palette drag over the minimap to the view at the same spot (the minimap is
        an overlay: a step dropped there belongs on the canvas beneath)."""
        at = QPointF(self.mapTo(self.view.viewport(), event.position().toPoint()))
        kind = type(event)
        if isinstance(event, QDropEvent) and not isinstance(event, QDragMoveEvent):
            mapped: QDropEvent = QDropEvent(
                at, event.possibleActions(), event.mimeData(), event.buttons(), event.modifiers()
            )
            self.view.dropEvent(mapped)
        else:
            mapped = kind(
                at.toPoint(),
                event.possibleActions(),
                event.mimeData(),
                event.buttons(),
                event.modifiers(),
            )
            if isinstance(mapped, QDragEnterEvent):
                self.view.dragEnterEvent(mapped)
            else:
                self.view.dragMoveEvent(mapped)
        if mapped.isAccepted():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        self._forward(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # noqa: N802 - Qt override
        self._forward(event)

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        self._forward(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if event.button() == Qt.MouseButton.LeftButton:
            self._go(event.position())
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._go(event.position())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def _go(self, at: QPointF) -> None:
        self.view.centerOn(self.to_scene(at))
        self.update()
