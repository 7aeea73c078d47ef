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
    "STATE_BADGE",
    "contrast",
    "glyph_color",
    "kind_path",
    "state_path",
    "kind_icon",
    "title_font",
    "detail_font",
    "cubic_edge_path",
    "back_edge_path",
    "badge_path",
    "branch_color",
    "label_font",
]

NODE_W = 180.0
NODE_H = 64.0
# QGraphicsItem.type() of a note (UserType + 20): modules the note layer imports tell notes by it
NOTE_ITEM_TYPE = 65536 + 20
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
# State colours per theme, each at least 4.5:1 (WCAG AA for text) against the canvas and the
# node body, so a note written in it reads; badges are filled with it under a glyph in the
# body colour (light) or the background colour (dark), again at 4.5:1 or more. Pending and
# skipped were near-identical greys (1.36:1): they are now rings, not filled discs, one dotted.
_STATE_LIGHT = {
    "pending": "#5f6b7a",
    "running": "#1765c9",
    "retrying": "#a65a00",
    "succeeded": "#1e7d34",
    "failed": "#c4271f",
    "skipped": "#6b7075",
    "cancelled": "#3d4247",
}
_STATE_DARK = {
    "pending": "#a9b4c2",
    "running": "#6cb0ff",
    "retrying": "#ffb454",
    "succeeded": "#5fd07a",
    "failed": "#ff7b72",
    "skipped": "#9aa0a6",
    "cancelled": "#d0d5db",
}
# the sides of a switch (several conditional edges leaving one step), told apart by colour;
# each reads at 4.5:1 on the canvas and the node body of its theme
_BRANCH_LIGHT = ("#0b7285", "#862e9c", "#a61e4d", "#5c6b00")
_BRANCH_DARK = ("#3bc9db", "#da77f2", "#f783ac", "#c0d84a")
# how a state's badge is drawn: a filled disc, or a ring (solid or dotted) on the node body
STATE_BADGE = {"pending": "dotted-ring", "skipped": "ring"}
STATE_COLORS = {state: QColor(c) for state, c in _STATE_LIGHT.items()}
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
    # in place: other modules hold the dict itself
    for state, value in (_STATE_DARK if on else _STATE_LIGHT).items():
        STATE_COLORS[state] = QColor(value)
    globals()["DARK"] = on


def branch_color(n: int) -> QColor:
    """The colour of a switch's `n`th side."""
    palette = _BRANCH_DARK if DARK else _BRANCH_LIGHT
    return QColor(palette[n % len(palette)])


DARK = False


def glyph_color() -> QColor:
    """What a filled state badge draws its glyph in: light on the light theme's dark fills,
    dark on the dark theme's light ones."""
    return BACKGROUND if DARK else BODY


def contrast(a: QColor, b: QColor) -> float:
    """WCAG 2 contrast ratio of two colours (1 to 21)."""

    def lum(c: QColor) -> float:
        def lin(v: float) -> float:
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

        return 0.2126 * lin(c.redF()) + 0.7152 * lin(c.greenF()) + 0.0722 * lin(c.blueF())

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@cache
def title_font() -> QFont:
    f = QFont()
    f.setPixelSize(13)
    f.setBold(True)
    return f


@cache
def label_font() -> QFont:
    """Edge conditions, badges and the trigger and output nodes' captions."""
    f = QFont()
    f.setPixelSize(10)
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


def back_edge_path(x1: float, y1: float, x2: float, y2: float, top: float) -> QPainterPath:
    """An edge that closes a cycle: out to the right, over the top at `top`, back down into
    the input port from the left, so it is never hidden behind the nodes it joins."""
    path = QPainterPath(QPointF(x1, y1))
    if x2 > x1 + 80:  # the cycle's edge goes forwards on the canvas: the usual curve reads
        return cubic_edge_path(x1, y1, x2, y2)
    path.cubicTo(QPointF(x1 + 44, y1), QPointF(x1 + 44, top), QPointF(x1, top))
    path.lineTo(QPointF(x2, top))
    path.cubicTo(QPointF(x2 - 44, top), QPointF(x2 - 44, y2), QPointF(x2, y2))
    return path


@cache
def badge_path(icon: str) -> QPainterPath:
    """A stroke path for a node badge inside a 10×10 box."""
    p = QPainterPath()
    if icon == "retry":  # a circular arrow
        _arc(p, 5, 5, 3.8, 110, 280)
        p.moveTo(3.2, 0.4)
        p.lineTo(4.9, 1.3)
        p.lineTo(3.6, 2.9)
    elif icon == "clock":
        p.addEllipse(QPointF(5, 5), 4.2, 4.2)
        p.moveTo(5, 5)
        p.lineTo(5, 2.4)
        p.moveTo(5, 5)
        p.lineTo(6.9, 6.2)
    elif icon == "foreach":  # a stack of items
        for y in (2.0, 5.0, 8.0):
            p.moveTo(1.5, y)
            p.lineTo(8.5, y)
    else:  # continue: an arrow stepping over a gap
        p.moveTo(0.8, 7.5)
        p.cubicTo(2.5, 1.5, 7, 1.5, 8.6, 6)
        p.moveTo(6.2, 5.8)
        p.lineTo(8.6, 6)
        p.lineTo(9.2, 3.7)
    return p


@cache
def trigger_path() -> QPainterPath:
    """A lightning bolt in a 12×14 box: the event that starts a run."""
    p = QPainterPath(QPointF(7.5, 0.5))
    for x, y in ((1.5, 8), (6, 8), (4.5, 13.5), (10.5, 5.5), (6, 5.5)):
        p.lineTo(QPointF(x, y))
    p.closeSubpath()
    return p
