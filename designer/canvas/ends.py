"""The run's two ends on the canvas: the trigger (what starts it) and its `output`.

They are view items, not steps: nothing of them is saved. Each places itself beside the steps
(the trigger left of the leftmost, the output right of the rightmost, level with the steps it
joins) and draws its own dashed links to them: to the steps that start at once, and from the
steps nothing runs after.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QFontMetricsF, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from designer.canvas import style
from designer.canvas.items import NodeItem
from designer.canvas.style import DETAIL_LOD, NODE_H, NODE_W, PORT_R

__all__ = ["EndItem", "TRIGGER_GAP"]

TRIGGER_GAP = 90.0  # room between an end and the column of steps it links to
# links drawn at most: past a dozen they are a fan nobody reads (and hundreds of long dashed
# curves made a frame of a 2,000-step canvas take two seconds); the caption counts them
MAX_LINKS = 12
END_H = 40.0
_MAX_W = 260.0
_ELIDE = Qt.TextElideMode.ElideRight


@cache
def _metrics() -> QFontMetricsF:
    return QFontMetricsF(style.title_font())


@cache
def _caption_metrics() -> QFontMetricsF:
    return QFontMetricsF(style.label_font())


class EndItem(QGraphicsItem):
    """The trigger (`output=False`) or the output node; `links` are the step nodes it joins."""

    def __init__(self, output: bool) -> None:
        super().__init__()
        self.output = output
        self.setZValue(2)
        self.setAcceptHoverEvents(True)
        self.title = ""
        self.caption = ""
        self.tip = ""
        self.links: list[NodeItem] = []
        self._targets: list[NodeItem] = []
        self._every: list[NodeItem] = []
        self.box = QRectF()
        self._width = 120.0
        self._path = QPainterPath()
        self._bounds = QRectF()

    def set_text(self, title: str, caption: str, tip: str) -> None:
        if (title, caption) != (self.title, self.caption):
            self._width = min(
                _MAX_W,
                max(
                    120.0,
                    _metrics().horizontalAdvance(title) + 60,
                    _caption_metrics().horizontalAdvance(caption) + 52,
                ),
            )
        self.title, self.caption, self.tip = title, caption, tip
        self.update()

    def tooltip_text(self) -> str:
        return self.tip

    def refresh(self, links: list[NodeItem], every: list[NodeItem]) -> None:
        """Place beside `every` step, level with the `links`, and redraw the links."""
        self._targets, self._every = links, every
        self.links = links if len(links) <= MAX_LINKS else []
        self.prepareGeometryChange()
        w = self._width
        self.setVisible(bool(every))  # an empty canvas shows neither end
        if not every:
            x, y = (-w - TRIGGER_GAP, 0.0) if not self.output else (NODE_W + TRIGGER_GAP, 0.0)
        else:
            near = links or every
            ys = [n.y0 + NODE_H / 2 for n in near]
            y = (min(ys) + max(ys)) / 2 - END_H / 2
            if self.output:
                x = max(n.x0 for n in every) + NODE_W + TRIGGER_GAP
            else:
                x = min(n.x0 for n in every) - TRIGGER_GAP - w
        self.box = QRectF(x, y, w, END_H)
        path = QPainterPath()
        for n in self.links:
            if self.output:
                a = QPointF(n.x0 + NODE_W + PORT_R, n.y0 + NODE_H / 2)
                b = QPointF(x - 1, y + END_H / 2)
            else:
                a = QPointF(x + w, y + END_H / 2)
                b = QPointF(n.x0 - PORT_R - 1, n.y0 + NODE_H / 2)
            path.addPath(style.cubic_edge_path(a.x(), a.y(), b.x(), b.y()))
        self._path = path
        self._bounds = self.box.united(path.controlPointRect()).adjusted(-10, -10, 10, 10)
        self.update()

    def follow(self, dragged: list[NodeItem]) -> None:
        """Steps are being dragged: follow them when one is linked to this end or goes past
        it (the model hears of the drag on release, and everything is placed again then).
        Only then: placing costs a pass over every step, too much for each mouse move."""
        if not self._every:
            return
        box = self.box
        if self.output:
            past = any(n.x0 + NODE_W + TRIGGER_GAP > box.left() for n in dragged)
        else:
            past = any(n.x0 - TRIGGER_GAP < box.right() for n in dragged)
        linked = not set(map(id, dragged)).isdisjoint(map(id, self.links))
        if past or linked:
            self.refresh(self._targets, self._every)

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return self._bounds

    def shape(self) -> QPainterPath:
        p = QPainterPath()
        p.addRoundedRect(self.box, END_H / 2, END_H / 2)
        return p

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        accent = style.TEXT_DIM
        pen = QPen(style.EDGE, 1.4, Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(style.EDGE))
        for n in self.links if not self.output else [None] if self.links else []:
            if n is None:
                end = QPointF(self.box.left() - 1, self.box.center().y())
            else:
                end = QPointF(n.x0 - PORT_R - 1, n.y0 + NODE_H / 2)
            painter.drawPolygon(QPolygonF([end, end + QPointF(-8, -4), end + QPointF(-8, 4)]))
        painter.setPen(QPen(accent, 1.6))
        painter.setBrush(style.BODY)
        painter.drawRoundedRect(self.box, END_H / 2, END_H / 2)
        if lod < DETAIL_LOD:
            return
        box = self.box
        painter.save()
        painter.translate(box.left() + 14, box.top() + 13)
        painter.setPen(QPen(accent, 1.4, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        if self.output:  # a box with an arrow into it: what the run hands back
            painter.drawRect(QRectF(3, 2, 9, 11))
            painter.drawLine(QPointF(-2, 7.5), QPointF(7, 7.5))
            painter.drawLine(QPointF(4.5, 5), QPointF(7, 7.5))
            painter.drawLine(QPointF(4.5, 10), QPointF(7, 7.5))
        else:
            painter.setBrush(accent)
            painter.drawPath(style.trigger_path())
        painter.restore()
        text = QRectF(box.left() + 34, box.top() + 3, box.width() - 46, 19)
        painter.setFont(style.title_font())
        painter.setPen(style.TEXT)
        painter.drawText(
            text,
            Qt.AlignmentFlag.AlignVCenter,
            _metrics().elidedText(self.title, _ELIDE, text.width()),
        )
        painter.setFont(style.label_font())
        painter.setPen(style.TEXT_DIM)
        painter.drawText(
            text.translated(0, 16),
            Qt.AlignmentFlag.AlignVCenter,
            painter.fontMetrics().elidedText(self.caption, _ELIDE, int(text.width())),
        )

    def hoverEnterEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        if not self.output:
            self.setCursor(Qt.CursorShape.PointingHandCursor)

    def hoverLeaveEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        self.unsetCursor()
