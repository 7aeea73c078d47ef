"""Canvas items: NodeItem (one per step), PortItem (its input and output), EdgeItem (an `after`).

Items only draw and report geometry; they never write the model. A node moved by the mouse
moves only itself (and drags its edges along); the view turns the finished drag into one
document command.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QPainter, QPainterPath, QPainterPathStroker, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from designer.canvas import style
from designer.canvas.style import DETAIL_LOD, NODE_H, NODE_W, PORT_R
from engine.durations import format_duration
from engine.model import AnyStep, CallStep, EmitStep, NotifyStep, WaitStep, step_kind

__all__ = ["NodeItem", "PortItem", "EdgeItem", "step_detail"]

_PAD = 10.0  # room around the body for ports, badges and the selection outline
_ELIDE = Qt.TextElideMode.ElideRight


def step_detail(step: AnyStep) -> str:
    """The second line of a node: `Service.action`, `wait 5s`, `emit name`, `notify: text`."""
    if isinstance(step, CallStep):
        return f"{step.service}.{step.action}"
    if isinstance(step, WaitStep):
        return f"wait {format_duration(step.wait)}"
    if isinstance(step, EmitStep):
        return f"emit {step.event}" if step.event else "emit"
    if isinstance(step, NotifyStep):
        return f"notify {step.level}: {step.message}" if step.message else f"notify {step.level}"
    return ""


class PortItem(QGraphicsItem):
    """A connection point: the node draws it; this item gives it a hit area and hover state."""

    def __init__(self, node: NodeItem, output: bool) -> None:
        super().__init__(node)
        self.node = node
        self.output = output
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemHasNoContents)
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setPos(NODE_W if output else 0.0, NODE_H / 2)
        self.setZValue(1)

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        r = PORT_R + 4
        return QRectF(-r, -r, 2 * r, 2 * r)

    def shape(self) -> QPainterPath:
        p = QPainterPath()
        p.addEllipse(self.boundingRect())
        return p

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        pass  # drawn by the node, so it lands in the node's cache

    def scene_center(self) -> QPointF:
        return self.node.port_scene_pos(self.output)

    def hoverEnterEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        self.node.set_hover_port(self.output)

    def hoverLeaveEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        self.node.set_hover_port(None)


class NodeItem(QGraphicsItem):
    """One step: id, what it does, a kind glyph, ports, problem and run-state badges."""

    def __init__(self, step: AnyStep) -> None:
        super().__init__()
        flags = QGraphicsItem.GraphicsItemFlag
        self.setFlags(flags.ItemIsSelectable | flags.ItemIsMovable
                      | flags.ItemSendsGeometryChanges)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setZValue(2)
        self.step_id = step.id
        self.kind = step_kind(step)
        self.detail = ""
        self.problems: list[str] = []
        self.state: str | None = None
        self.edges_in: list[EdgeItem] = []
        self.edges_out: list[EdgeItem] = []
        self._hover_port: bool | None = None
        self.input_port = PortItem(self, output=False)
        self.output_port = PortItem(self, output=True)
        self.update_from(step)

    # --- state set by the scene -----------------------------------------------------------

    def update_from(self, step: AnyStep) -> None:
        self.step_id = step.id
        self.kind = step_kind(step)
        self.detail = step_detail(step)
        self._refresh_tooltip()
        self.update()

    def set_problems(self, messages: list[str]) -> None:
        if messages != self.problems:
            self.problems = messages
            self._refresh_tooltip()
            self.update()

    def set_state(self, state: str | None) -> None:
        if state != self.state:
            self.state = state
            self.update()

    def set_hover_port(self, output: bool | None) -> None:
        self._hover_port = output
        self.update()

    def _refresh_tooltip(self) -> None:
        lines = [f"{self.step_id} — {self.detail}"]
        lines += [f"⚠ {m}" for m in self.problems]
        self.setToolTip("\n".join(lines))

    # --- geometry -------------------------------------------------------------------------

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return QRectF(-_PAD, -_PAD, NODE_W + 2 * _PAD, NODE_H + 2 * _PAD)

    def shape(self) -> QPainterPath:
        p = QPainterPath()
        p.addRoundedRect(QRectF(0, 0, NODE_W, NODE_H), 6, 6)
        return p

    def port_scene_pos(self, output: bool) -> QPointF:
        return self.pos() + QPointF(NODE_W if output else 0.0, NODE_H / 2)

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: Any) -> Any:  # noqa: N802
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            for e in self.edges_in:
                e.adjust()
            for e in self.edges_out:
                e.adjust()
        return super().itemChange(change, value)

    # --- painting -------------------------------------------------------------------------

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        selected = self.isSelected()
        accent = style.KIND_COLORS.get(self.kind, style.EDGE)
        state_color = style.STATE_COLORS.get(self.state) if self.state else None
        body = QRectF(0, 0, NODE_W, NODE_H)
        if lod < DETAIL_LOD:
            # zoomed far out: a flat box in the state or kind colour, nothing else
            painter.fillRect(body, state_color or accent)
            if selected:
                painter.setPen(QPen(style.SELECTED, 3 / max(lod, 0.01)))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRect(body)
            elif self.problems:
                painter.fillRect(QRectF(NODE_W - 40, 0, 40, 28), style.PROBLEM)
            return
        border = style.SELECTED if selected else (state_color or style.BODY_BORDER)
        painter.setPen(QPen(border, 2.5 if selected or state_color else 1.2))
        painter.setBrush(style.BODY)
        painter.drawRoundedRect(body, 6, 6)
        painter.fillRect(QRectF(1, 1, 5, NODE_H - 2), accent)
        self._paint_ports(painter)
        painter.save()
        painter.translate(14, 10)
        painter.setPen(QPen(accent, 1.6, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                            Qt.PenJoinStyle.RoundJoin))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(style.kind_path(self.kind))
        painter.restore()
        text_w = NODE_W - 42 - (18 if self.state else 0)
        painter.setFont(style.title_font())
        painter.setPen(style.TEXT)
        fm = painter.fontMetrics()
        painter.drawText(QRectF(36, 8, text_w, 20), Qt.AlignmentFlag.AlignVCenter,
                         fm.elidedText(self.step_id, _ELIDE, int(text_w)))
        painter.setFont(style.detail_font())
        painter.setPen(style.TEXT_DIM)
        fm = painter.fontMetrics()
        painter.drawText(QRectF(14, 34, NODE_W - 26, 20), Qt.AlignmentFlag.AlignVCenter,
                         fm.elidedText(self.detail, _ELIDE, int(NODE_W - 26)))
        if state_color is not None and self.state:
            self._paint_state_badge(painter, state_color, self.state)
        if self.problems:
            self._paint_problem_badge(painter)

    def _paint_ports(self, painter: QPainter) -> None:
        for output in (False, True):
            hot = self._hover_port is output
            painter.setPen(QPen(style.SELECTED if hot else style.BODY_BORDER, 1.5))
            painter.setBrush(style.SELECTED if hot else style.BODY)
            x = NODE_W if output else 0.0
            r = PORT_R + (1.5 if hot else 0.0)
            painter.drawEllipse(QPointF(x, NODE_H / 2), r, r)

    def _paint_state_badge(self, painter: QPainter, color: Any, state: str) -> None:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(color)
        painter.drawEllipse(QRectF(NODE_W - 24, 8, 16, 16))
        painter.save()
        painter.translate(NODE_W - 22, 10)
        pen = QPen(style.BODY, 1.8, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                   Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        painter.setBrush(style.BODY if state == "running" else Qt.BrushStyle.NoBrush)
        painter.drawPath(style.state_path(state))
        painter.restore()

    def _paint_problem_badge(self, painter: QPainter) -> None:
        # a red corner flag: triangle in the top-right corner with an exclamation mark
        tri = QPolygonF([QPointF(NODE_W - 22, -6), QPointF(NODE_W + 6, -6),
                         QPointF(NODE_W + 6, 22)])
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(style.PROBLEM)
        painter.drawPolygon(tri)
        painter.setPen(QPen(style.BODY, 2.0, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        painter.drawLine(QPointF(NODE_W - 1, -1), QPointF(NODE_W - 1, 5))
        painter.drawPoint(QPointF(NODE_W - 1, 9))


class EdgeItem(QGraphicsItem):
    """`dst` runs after `src`: a cubic curve from src's output port to dst's input port."""

    def __init__(self, src: NodeItem, dst: NodeItem) -> None:
        super().__init__()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setZValue(0)
        self.src = src
        self.dst = dst
        self._path = QPainterPath()
        self._bounds = QRectF()
        self._shape: QPainterPath | None = None
        self.adjust()

    @property
    def key(self) -> tuple[str, str]:
        return (self.src.step_id, self.dst.step_id)

    def adjust(self) -> None:
        a = self.src.port_scene_pos(True)
        b = self.dst.port_scene_pos(False)
        self.prepareGeometryChange()
        # start and end just outside the port circles so the arrowhead stays visible
        self._path = style.cubic_edge_path(a.x() + PORT_R, a.y(), b.x() - PORT_R - 1, b.y())
        self._bounds = self._path.controlPointRect().adjusted(-8, -8, 8, 8)
        self._shape = None

    def path(self) -> QPainterPath:
        return self._path

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return self._bounds

    def shape(self) -> QPainterPath:
        if self._shape is None:
            stroker = QPainterPathStroker()
            stroker.setWidth(10)
            self._shape = stroker.createStroke(self._path)
        return self._shape

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        selected = self.isSelected()
        color = style.EDGE_SELECTED if selected else style.EDGE
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if lod < DETAIL_LOD:
            # zoomed far out a straight hairline reads the same and costs far less
            painter.setPen(QPen(color, 0))
            painter.drawLine(self._path.elementAt(0).x, self._path.elementAt(0).y,
                             self._path.currentPosition().x(), self._path.currentPosition().y())
            return
        painter.setPen(QPen(color, 3.0 if selected else 1.6))
        painter.drawPath(self._path)
        end = self._path.currentPosition()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(color))
        painter.drawPolygon(QPolygonF([end, end + QPointF(-9, -4.5), end + QPointF(-9, 4.5)]))
