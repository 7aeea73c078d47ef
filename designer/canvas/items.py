"""Canvas items: NodeItem (one per step), PortItem (its input and output), EdgeItem (an `after`).

Items only draw and report geometry; they never write the model. A node moved by the mouse
moves only itself (and drags its edges along); the view turns the finished drag into one
document command.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPen,
    QPolygonF,
)
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from designer.canvas import style
from designer.canvas.flow import edge_flow
from designer.canvas.logic import Badge, EdgeMark
from designer.canvas.style import DETAIL_LOD, NODE_H, NODE_W, PORT_R
from engine import AnyStep, CallStep, EmitStep, NotifyStep, WaitStep, format_duration, step_kind

__all__ = ["NodeItem", "PortItem", "EdgeItem", "step_detail"]

_DISABLED_OPACITY = 0.4  # a disabled step (`disabled: true`) is drawn greyed
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


class PortItem:
    """A node's input (left) or output (right) connection point.

    Ports are drawn by their node and hit-tested by it (`NodeItem.port_at`), not separate
    scene items: two extra items per step would double what the view walks on every frame.
    """

    __slots__ = ("node", "output")

    def __init__(self, node: NodeItem, output: bool) -> None:
        self.node = node
        self.output = output

    def scene_center(self) -> QPointF:
        return self.node.port_scene_pos(self.output)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PortItem) and (other.node, other.output) == (
            self.node,
            self.output,
        )

    def __hash__(self) -> int:
        return hash((id(self.node), self.output))


_NODE_FLAGS = (
    QGraphicsItem.GraphicsItemFlag.ItemIsSelectable | QGraphicsItem.GraphicsItemFlag.ItemIsMovable
)
_CACHE = QGraphicsItem.CacheMode.DeviceCoordinateCache
_NODE_RECT = QRectF(-_PAD, -_PAD, NODE_W + 2 * _PAD, NODE_H + 2 * _PAD)
_PORT_HIT = (PORT_R + 4) ** 2
_EDGE_FLAGS = QGraphicsItem.GraphicsItemFlag.ItemIsSelectable


class NodeItem(QGraphicsItem):
    """One step: id, what it does, a kind glyph, ports, problem and run-state badges."""

    def __init__(self, step: AnyStep) -> None:
        super().__init__()
        self.setFlags(_NODE_FLAGS)
        self.setCacheMode(_CACHE)
        self.setAcceptHoverEvents(True)
        self.setZValue(2)
        self.step_id = step.id
        self.kind = step_kind(step)
        self.detail = step_detail(step)
        self.setOpacity(_DISABLED_OPACITY if step.disabled else 1.0)  # greyed: runs skip it
        self.problems: list[str] = []
        self.badges: list[Badge] = []
        self.state: str | None = None
        self.edges_in: list[EdgeItem] = []
        self.edges_out: list[EdgeItem] = []
        self._hover_port: bool | None = None
        # where the node is, kept beside Qt's pos(): reading pos() from Python costs
        # microseconds, and edges and the overview read it thousands of times a frame
        self.x0 = 0.0
        self.y0 = 0.0
        self.box = QRectF(0, 0, NODE_W, NODE_H)

    # --- state set by the scene -----------------------------------------------------------

    def update_from(self, step: AnyStep) -> None:
        self.step_id = step.id
        self.kind = step_kind(step)
        self.detail = step_detail(step)
        self.setOpacity(_DISABLED_OPACITY if step.disabled else 1.0)
        self.update()

    def set_problems(self, messages: list[str]) -> None:
        if messages != self.problems:
            self.problems = messages
            self.update()

    def set_badges(self, badges: list[Badge]) -> None:
        if badges != self.badges:
            self.badges = badges
            self.update()

    def set_state(self, state: str | None, repaint: bool = True) -> bool:
        """Set the run state; whether it changed. `repaint=False` when the item paints nothing
        now (the zoomed-out overview draws it): asking for a repaint would only cost."""
        if state == self.state:
            return False
        self.state = state
        if repaint:
            self.update()
            for e in self.edges_in:  # an edge shows whether the run went along it
                e.update()
            for e in self.edges_out:
                e.update()
        return True

    def tooltip_text(self) -> str:
        """What the canvas shows on hover (built on demand: setToolTip on thousands of
        nodes would cost more than it is worth)."""
        lines = [f"{self.step_id} — {self.detail}"]
        lines += [b.tip for b in self.badges]
        if self.state:
            lines.append(f"state: {self.state}")
        lines += [f"⚠ {m}" for m in self.problems]
        return "\n".join(lines)

    # --- geometry -------------------------------------------------------------------------

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return _NODE_RECT

    def shape(self) -> QPainterPath:
        p = QPainterPath()
        p.addRoundedRect(QRectF(0, 0, NODE_W, NODE_H), 6, 6)
        return p

    def port_scene_pos(self, output: bool) -> QPointF:
        return QPointF(self.x0 + (NODE_W if output else 0.0), self.y0 + NODE_H / 2)

    def place(self, x: float, y: float) -> None:
        """Move to a scene position (the scene follows the document with this)."""
        self.setPos(x, y)
        self.moved()

    def moved(self) -> None:
        """Record a new position (after `place`, or after the mouse dragged the node)."""
        p = self.pos()
        self.x0, self.y0 = p.x(), p.y()
        self.box = QRectF(self.x0, self.y0, NODE_W, NODE_H)
        for e in self.edges_in:
            e.adjust()
        for e in self.edges_out:
            e.adjust()

    def port_at(self, scene_pos: QPointF) -> PortItem | None:
        """The port under a scene point, with a few units of slack around the circle."""
        p = scene_pos - self.pos()
        for output in (False, True):
            dx = p.x() - (NODE_W if output else 0.0)
            dy = p.y() - NODE_H / 2
            if dx * dx + dy * dy <= _PORT_HIT:
                return PortItem(self, output)
        return None

    def hoverMoveEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        port = self.port_at(event.scenePos())
        hot = port.output if port is not None else None
        if hot != self._hover_port:
            self._hover_port = hot
            if hot is None:
                self.unsetCursor()
            else:
                self.setCursor(Qt.CursorShape.CrossCursor)
            self.update()

    def hoverLeaveEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        if self._hover_port is not None:
            self._hover_port = None
            self.unsetCursor()
            self.update()

    # --- painting -------------------------------------------------------------------------

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
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
        painter.fillPath(style.accent_path(), accent)
        self._paint_ports(painter)
        painter.save()
        painter.translate(14, 10)
        painter.setPen(
            QPen(
                accent,
                1.6,
                Qt.PenStyle.SolidLine,
                Qt.PenCapStyle.RoundCap,
                Qt.PenJoinStyle.RoundJoin,
            )
        )
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(style.kind_path(self.kind))
        painter.restore()
        text_w = NODE_W - 42 - (18 if self.state else 0)
        painter.setFont(style.title_font())
        painter.setPen(style.TEXT)
        fm = painter.fontMetrics()
        painter.drawText(
            QRectF(36, 8, text_w, 20),
            Qt.AlignmentFlag.AlignVCenter,
            fm.elidedText(self.step_id, _ELIDE, int(text_w)),
        )
        painter.setFont(style.detail_font())
        painter.setPen(style.TEXT_DIM)
        fm = painter.fontMetrics()
        painter.drawText(
            QRectF(14, 34, NODE_W - 26, 20),
            Qt.AlignmentFlag.AlignVCenter,
            fm.elidedText(self.detail, _ELIDE, int(NODE_W - 26)),
        )
        if self.badges:
            self._paint_badges(painter)
        if state_color is not None and self.state:
            self._paint_state_badge(painter, state_color, self.state)
        if self.problems:
            self._paint_problem_badge(painter)

    def _paint_badges(self, painter: QPainter) -> None:
        """Pills on the top edge: a glyph and a few characters each, left to right."""
        painter.setFont(style.label_font())
        fm = _label_metrics()
        x = 12.0
        limit = NODE_W - 26  # the problem flag sits in the top-right corner
        for badge in self.badges:
            w = 18 + fm.horizontalAdvance(badge.text)
            if x + w > limit:
                w = 18.0  # no room for the text: the glyph alone (the tooltip says it all)
                if x + w > limit:
                    break
            r = QRectF(x, -8, w, 15)
            painter.setPen(QPen(style.BODY_BORDER, 1.0))
            painter.setBrush(style.BODY)
            painter.drawRoundedRect(r, 7, 7)
            painter.save()
            painter.translate(x + 4, -5.5)
            painter.setPen(
                QPen(style.TEXT_DIM, 1.2, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
            )
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(style.badge_path(badge.icon))
            painter.restore()
            if w > 18:
                painter.setPen(style.TEXT)
                painter.drawText(
                    QRectF(x + 15, -8, w - 17, 15), Qt.AlignmentFlag.AlignVCenter, badge.text
                )
            x += w + 4

    def _paint_ports(self, painter: QPainter) -> None:
        for output in (False, True):
            hot = self._hover_port is output
            painter.setPen(QPen(style.SELECTED if hot else style.BODY_BORDER, 1.5))
            painter.setBrush(style.SELECTED if hot else style.BODY)
            x = NODE_W if output else 0.0
            r = PORT_R + (1.5 if hot else 0.0)
            painter.drawEllipse(QPointF(x, NODE_H / 2), r, r)

    def _paint_state_badge(self, painter: QPainter, color: Any, state: str) -> None:
        ring = style.STATE_BADGE.get(state)
        if ring is None:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(color)
            glyph = style.glyph_color()
        else:  # pending and skipped: a ring on the body, the glyph in the state's colour
            pen = QPen(color, 1.6)
            if ring == "dotted-ring":
                pen.setStyle(Qt.PenStyle.DotLine)
            painter.setPen(pen)
            painter.setBrush(style.BODY)
            glyph = color
        painter.drawEllipse(QRectF(NODE_W - 24, 8, 16, 16))
        painter.save()
        painter.translate(NODE_W - 22, 10)
        pen = QPen(
            glyph,
            1.8,
            Qt.PenStyle.SolidLine,
            Qt.PenCapStyle.RoundCap,
            Qt.PenJoinStyle.RoundJoin,
        )
        painter.setPen(pen)
        painter.setBrush(glyph if state == "running" else Qt.BrushStyle.NoBrush)
        painter.drawPath(style.state_path(state))
        painter.restore()

    def _paint_problem_badge(self, painter: QPainter) -> None:
        # a red corner flag: triangle in the top-right corner with an exclamation mark
        tri = QPolygonF(
            [QPointF(NODE_W - 22, -6), QPointF(NODE_W + 6, -6), QPointF(NODE_W + 6, 22)]
        )
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(style.PROBLEM)
        painter.drawPolygon(tri)
        painter.setPen(QPen(style.BODY, 2.0, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        painter.drawLine(QPointF(NODE_W - 1, -1), QPointF(NODE_W - 1, 5))
        painter.drawPoint(QPointF(NODE_W - 1, 9))


class EdgeItem(QGraphicsItem):
    """`dst` runs after `src`: a curve from src's output port to dst's input port.

    Edges are drawn above the nodes, on a halo of the canvas colour, so an edge passing a node
    reads as passing over it rather than coming out of it. `mark` (from canvas.logic) draws a
    condition, one side of a switch, an error path or a cycle's back edge differently.
    """

    def __init__(self, src: NodeItem, dst: NodeItem) -> None:
        super().__init__()
        self.setFlags(_EDGE_FLAGS)
        self.setZValue(3)
        self.src = src
        self.dst = dst
        self.mark: EdgeMark | None = None
        self._path = QPainterPath()
        self._bounds = QRectF()
        self._label = QRectF()
        self._shape: QPainterPath | None = None
        self.adjust()

    @property
    def key(self) -> tuple[str, str]:
        return (self.src.step_id, self.dst.step_id)

    def set_mark(self, mark: EdgeMark | None) -> None:
        if mark != self.mark:
            self.mark = mark
            self.adjust()
            self.update()

    def tooltip_text(self) -> str:
        src, dst = self.key
        text = f"{dst} runs after {src}"
        mark = self.mark
        if mark is None:
            return text
        if mark.kind == "back":
            return f"{text}: this edge closes a cycle (a problem: the steps wait for each other)"
        if mark.kind == "error":
            return f"{text} when {src} failed (onError: continue)\nif: {mark.full}"
        return f"{text} if {mark.full}"

    def adjust(self) -> None:
        s, d = self.src, self.dst
        ax, ay = s.x0 + NODE_W, s.y0 + NODE_H / 2
        bx, by = d.x0, d.y0 + NODE_H / 2
        self.prepareGeometryChange()
        self.line = QLineF(ax, ay, bx, by)  # the overview draws this
        # start and end just outside the port circles so the arrowhead stays visible
        if self.mark is not None and self.mark.kind == "back":
            top = self._clear_top(min(d.x0, s.x0), max(d.x0, s.x0) + NODE_W, min(s.y0, d.y0))
            self._path = style.back_edge_path(ax + PORT_R, ay, bx - PORT_R - 1, by, top)
        else:
            self._path = style.cubic_edge_path(ax + PORT_R, ay, bx - PORT_R - 1, by)
        self._bounds = self._path.controlPointRect().adjusted(-8, -8, 8, 8)
        self._label = QRectF()
        if self.mark is not None and self.mark.label:
            w = _label_metrics().horizontalAdvance(self.mark.label) + 10
            if self.mark.kind == "back":  # on the arc's top run, clear of every node
                at = self._path.pointAtPercent(0.5)
                self._label = QRectF(at.x() - w / 2, at.y() - 8, w, 16)
            else:
                # a tab over the top-left of the step the edge leads into: the gap between
                # two columns (60 units) has no room for it, above the step there is
                self._label = QRectF(bx - 2, d.y0 - 25, w, 16)
            self._bounds = self._bounds.united(self._label.adjusted(-2, -2, 2, 2))
        self._shape = None
        self._crosses: bool | None = None  # found at the next paint

    def settle_crossing(self) -> None:
        """Find whether the edge passes over a step (outside a paint); repaint if not."""
        if self._crosses is None and self.scene() is not None:
            self._crosses = self._crosses_a_node()
            if not self._crosses:
                self.update()

    def _crosses_a_node(self) -> bool:
        """Whether the edge passes over a step other than its two ends."""
        scene = self.scene()
        if scene is None:
            return False
        stroke = None
        for item in scene.items(self._path.controlPointRect().adjusted(-2, -2, 2, 2)):
            if isinstance(item, NodeItem) and item is not self.src and item is not self.dst:
                # the stroke, not the path: a straight run encloses no area to intersect
                stroke = stroke or self.shape()
                if stroke.intersects(item.box):
                    return True
        return False

    def _clear_top(self, left: float, right: float, top: float) -> float:
        """A height above every node between `left` and `right`, for a back edge to pass."""
        scene = self.scene()
        nodes: dict[str, NodeItem] = getattr(scene, "nodes", {})
        ys = [n.y0 for n in nodes.values() if n.x0 + NODE_W > left and n.x0 < right]
        return min([top, *ys]) - 30.0

    def path(self) -> QPainterPath:
        return self._path

    def label_rect(self) -> QRectF:
        """Where the condition label is drawn (empty without one)."""
        return self._label

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return self._bounds

    def shape(self) -> QPainterPath:
        if self._shape is None:
            stroker = QPainterPathStroker()
            stroker.setWidth(10)
            self._shape = stroker.createStroke(self._path)
            if not self._label.isNull():
                self._shape.addRect(self._label)
        return self._shape

    def mark_color(self) -> QColor:
        """The colour the edge's mark gives it (when no run colours it)."""
        mark = self.mark
        if mark is None or mark.kind == "if":
            return style.EDGE
        if mark.kind in ("back", "error"):
            return style.PROBLEM if mark.kind == "back" else style.STATE_COLORS["failed"]
        return style.branch_color(mark.branch)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        selected = self.isSelected()
        flow = edge_flow(self.src.state, self.dst.state)
        mark = self.mark
        if selected:
            color = style.EDGE_SELECTED
        elif flow == "taken":  # the path the run took, in the colour of where it led
            color = style.STATE_COLORS.get(self.dst.state or "", style.EDGE)
        elif flow == "skipped":
            color = style.STATE_COLORS["skipped"]
        else:
            color = self.mark_color()
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if lod < DETAIL_LOD:
            # zoomed far out a straight hairline reads the same and costs far less
            painter.setPen(QPen(color, 0))
            painter.drawLine(
                self._path.elementAt(0).x,
                self._path.elementAt(0).y,
                self._path.currentPosition().x(),
                self._path.currentPosition().y(),
            )
            return
        width = 3.0 if selected else 2.6 if flow == "taken" else 1.6
        if mark is not None and mark.kind != "if" and flow is None:
            width = max(width, 2.0)
        if self._crosses is None:
            # the scene's index cannot be asked while it paints: assume a crossing (draw the
            # halo) and let the scene find out just after this frame
            ask = getattr(self.scene(), "check_crossing", None)
            if ask is not None:
                ask(self)
        if self._crosses is not False:
            # a halo in the canvas colour: where the edge passes over a node it is seen to
            # pass (only then: a second stroke of every edge made a drag frame 1.5x slower)
            painter.setPen(QPen(style.BACKGROUND, width + 3.0))
            painter.drawPath(self._path)
        pen = QPen(color, width)
        if flow == "skipped" or (mark is not None and mark.kind in ("back", "error")):
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawPath(self._path)
        end = self._path.currentPosition()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(color))
        painter.drawPolygon(QPolygonF([end, end + QPointF(-9, -4.5), end + QPointF(-9, 4.5)]))
        if not self._label.isNull() and mark is not None:
            self._paint_label(painter, mark, color if mark.kind != "if" else style.TEXT_DIM)

    def _paint_label(self, painter: QPainter, mark: EdgeMark, color: QColor) -> None:
        r = self._label
        painter.setPen(QPen(color, 1.2))
        painter.setBrush(style.BODY)
        painter.drawRoundedRect(r, 8, 8)
        painter.setFont(style.label_font())
        painter.setPen(style.TEXT if mark.kind == "if" else color)
        painter.drawText(r, Qt.AlignmentFlag.AlignCenter, mark.label)


@cache
def _label_metrics() -> QFontMetricsF:
    return QFontMetricsF(style.label_font())
