"""Canvas look: sizes, colours, and the kind and state glyphs drawn as QPainterPaths.

Glyphs are vector paths built once and shared, so painting costs no SVG parsing and the palette
can reuse `kind_icon(kind)` for its own buttons.
"""

from __future__ import annotations

import math
from functools import cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPainterPath, QPen, QPixmap

__all__ = [
    "NODE_W",
    "NODE_H",
    "PORT_R",
    "GRID",
    "DETAIL_LOD",
    "OVERVIEW_SCALE",
    "KIND_COLORS",
    "STATE_COLORS",
    "STATES",
    "kind_path",
    "state_path",
    "kind_icon",
    "title_font",
    "detail_font",
    "cubic_edge_path",
]

NODE_W = 180.0
NODE_H = 64.0
PORT_R = 6.0
GRID = 20.0
# Below this many device pixels per scene unit nodes are drawn as plain boxes: text would be
# unreadable anyway and skipping it keeps a fit-to-view frame of thousands of steps cheap.
DETAIL_LOD = 0.5
# Below this scale the scene stops painting items one by one and draws all boxes and edges
# in a few batched calls (items stay in place for hit tests, selection and dragging).
OVERVIEW_SCALE = 0.35

KIND_COLORS = {
    "call": QColor("#2f6fde"),
    "wait": QColor("#d98a0b"),
    "emit": QColor("#8153d6"),
    "notify": QColor("#14936b"),
}
STATES = ("pending", "running", "retrying", "succeeded", "failed", "skipped", "cancelled")
STATE_COLORS = {
    "pending": QColor("#9aa3ad"),
    "running": QColor("#2f86eb"),
    "retrying": QColor("#f08c00"),
    "succeeded": QColor("#2b9a3e"),
    "failed": QColor("#d9342b"),
    "skipped": QColor("#b8bec4"),
    "cancelled": QColor("#5c636a"),
}
_LIGHT = {
    "BODY": "#ffffff",
    "BODY_BORDER": "#8a939c",
    "SELECTED": "#1a73e8",
    "TEXT": "#1d2125",
    "TEXT_DIM": "#5b646d",
    "PROBLEM": "#d9342b",
    "EDGE": "#7b858f",
    "EDGE_SELECTED": "#1a73e8",
    "GRID_MINOR": "#eef0f2",
    "GRID_MAJOR": "#dfe3e7",
    "BACKGROUND": "#f8f9fa",
}
_DARK = {
    "BODY": "#2b3038",
    "BODY_BORDER": "#5d6673",
    "SELECTED": "#5ea1ff",
    "TEXT": "#e6e9ed",
    "TEXT_DIM": "#a3acb7",
    "PROBLEM": "#f0554b",
    "EDGE": "#8c96a3",
    "EDGE_SELECTED": "#5ea1ff",
    "GRID_MINOR": "#22262c",
    "GRID_MAJOR": "#2c3139",
    "BACKGROUND": "#1b1e23",
}
BODY = QColor(_LIGHT["BODY"])
BODY_BORDER = QColor(_LIGHT["BODY_BORDER"])
SELECTED = QColor(_LIGHT["SELECTED"])
TEXT = QColor(_LIGHT["TEXT"])
TEXT_DIM = QColor(_LIGHT["TEXT_DIM"])
PROBLEM = QColor(_LIGHT["PROBLEM"])
EDGE = QColor(_LIGHT["EDGE"])
EDGE_SELECTED = QColor(_LIGHT["EDGE_SELECTED"])
GRID_MINOR = QColor(_LIGHT["GRID_MINOR"])
GRID_MAJOR = QColor(_LIGHT["GRID_MAJOR"])
BACKGROUND = QColor(_LIGHT["BACKGROUND"])


def set_dark(on: bool) -> None:
    """Switch the canvas colours; items read them at paint time (the scene repaints)."""
    for name, value in (_DARK if on else _LIGHT).items():
        globals()[name] = QColor(value)


@cache
def title_font() -> QFont:
    f = QFont()
    f.setPixelSize(13)
    f.setBold(True)
    return f


@cache
def detail_font() -> QFont:
    f = QFont()
    f.setPixelSize(11)
    return f


def _arc(path: QPainterPath, cx: float, cy: float, r: float, start: float, span: float) -> None:
    rect = QRectF(cx - r, cy - r, 2 * r, 2 * r)
    path.arcMoveTo(rect, start)
    path.arcTo(rect, start, span)


@cache
def kind_path(kind: str) -> QPainterPath:
    """A stroke path for a step kind inside a 16×16 box (drawn with a ~1.6 px pen)."""
    p = QPainterPath()
    if kind == "call":  # an arrow leaving a box: a request going out
        p.addRoundedRect(QRectF(1, 3, 9, 10), 1.5, 1.5)
        p.moveTo(6, 8)
        p.lineTo(15, 8)
        p.moveTo(12, 5)
        p.lineTo(15, 8)
        p.lineTo(12, 11)
    elif kind == "wait":  # a clock
        p.addEllipse(QPointF(8, 8), 6.5, 6.5)
        p.moveTo(8, 8)
        p.lineTo(8, 4)
        p.moveTo(8, 8)
        p.lineTo(11, 10)
    elif kind == "emit":  # a point broadcasting waves
        p.addEllipse(QPointF(4, 8), 1.6, 1.6)
        _arc(p, 4, 8, 5, -45, 90)
        _arc(p, 4, 8, 9, -40, 80)
    else:  # notify: a bell
        p.moveTo(3, 12)
        p.lineTo(13, 12)
        p.moveTo(4.5, 12)
        p.cubicTo(4.5, 6, 4.5, 3, 8, 3)
        p.cubicTo(11.5, 3, 11.5, 6, 11.5, 12)
        p.moveTo(6.5, 14)
        p.lineTo(9.5, 14)
    return p


@cache
def state_path(state: str) -> QPainterPath:
    """A stroke path for a run state inside a 12×12 box, drawn white on the state colour."""
    p = QPainterPath()
    if state == "succeeded":
        p.moveTo(2.5, 6.5)
        p.lineTo(5, 9)
        p.lineTo(9.5, 3.5)
    elif state == "failed":
        p.moveTo(3, 3)
        p.lineTo(9, 9)
        p.moveTo(9, 3)
        p.lineTo(3, 9)
    elif state == "running":
        p.moveTo(4, 2.5)
        p.lineTo(9.5, 6)
        p.lineTo(4, 9.5)
        p.closeSubpath()
    elif state == "retrying":
        _arc(p, 6, 6, 3.8, 90, 270)
        p.moveTo(6, 0.5)
        p.lineTo(7.8, 2.2)
        p.lineTo(6, 3.9)
    elif state == "skipped":
        p.moveTo(2.5, 6)
        p.lineTo(9.5, 6)
    elif state == "cancelled":
        p.addRect(QRectF(3.5, 3.5, 5, 5))
    else:  # pending: three dots
        for x in (3.0, 6.0, 9.0):
            p.addEllipse(QPointF(x, 6), 0.6, 0.6)
    return p


@cache
def accent_path() -> QPainterPath:
    """The coloured strip down a node's left edge, following its rounded corners."""
    body = QPainterPath()
    body.addRoundedRect(QRectF(0, 0, NODE_W, NODE_H), 6, 6)
    strip = QPainterPath()
    strip.addRect(QRectF(0, 0, 6, NODE_H))
    return body.intersected(strip)


def kind_icon(kind: str, size: int = 32) -> QIcon:
    """The kind glyph as a QIcon (for palettes and menus)."""
    pm = QPixmap(size, size)
    pm.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pm)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.scale(size / 16.0, size / 16.0)
    painter.setPen(
        QPen(
            KIND_COLORS.get(kind, EDGE),
            1.6,
            Qt.PenStyle.SolidLine,
            Qt.PenCapStyle.RoundCap,
            Qt.PenJoinStyle.RoundJoin,
        )
    )
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawPath(kind_path(kind))
    painter.end()
    return QIcon(pm)


def cubic_edge_path(x1: float, y1: float, x2: float, y2: float) -> QPainterPath:
    """The S-curve from an output port to an input port; loops round when going backwards."""
    dx = max(40.0, abs(x2 - x1) * 0.5)
    if x2 < x1:
        dx = max(dx, min(160.0, math.hypot(x2 - x1, y2 - y1) * 0.4))
    path = QPainterPath(QPointF(x1, y1))
    path.cubicTo(QPointF(x1 + dx, y1), QPointF(x2 - dx, y2), QPointF(x2, y2))
    return path
