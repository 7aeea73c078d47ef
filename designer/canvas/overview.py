"""The zoomed-out canvas: every node and edge drawn in a handful of batched painter calls.

Far out, text is unreadable and a Python `paint` per item costs more than the drawing itself
(5,000 nodes and 6,500 edges took ~145 ms a frame). In overview mode the items keep their
places, selection and hit tests but are flagged `ItemHasNoContents`, and the scene draws this
summary instead: boxes grouped by colour, edges as straight lines, selection outlines and
problem flags. The geometry is rebuilt lazily after anything changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QLineF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen

from designer.canvas import style
from designer.canvas.style import NODE_W

if TYPE_CHECKING:
    from designer.canvas.items import EdgeItem, NodeItem

__all__ = ["Overview"]


class Overview:
    """Batched geometry for the nodes and edges of a scene; `invalidate()` after changes."""

    def __init__(self) -> None:
        self._boxes: dict[str, tuple[QColor, list[QRectF]]] = {}
        self._selected: list[QRectF] = []
        self._flags: list[QRectF] = []
        self._lines: list[QLineF] = []
        self._selected_lines: list[QLineF] = []
        self._valid = False

    def invalidate(self) -> None:
        self._valid = False

    def _build(self, nodes: list[NodeItem], edges: list[EdgeItem],
               selected_items: list[object]) -> None:
        chosen = {id(i) for i in selected_items}
        boxes: dict[str, tuple[QColor, list[QRectF]]] = {}
        selected: list[QRectF] = []
        flags: list[QRectF] = []
        for n in nodes:
            key = n.state if n.state in style.STATE_COLORS else n.kind
            group = boxes.get(key)
            if group is None:
                color = style.STATE_COLORS.get(key) or style.KIND_COLORS.get(key, style.EDGE)
                group = boxes[key] = (color, [])
            group[1].append(n.box)
            if id(n) in chosen:
                selected.append(n.box)
            if n.problems:
                flags.append(QRectF(n.x0 + NODE_W - 48, n.y0, 48, 32))
        lines: list[QLineF] = []
        selected_lines: list[QLineF] = []
        for e in edges:
            (selected_lines if id(e) in chosen else lines).append(e.line)
        self._boxes, self._selected, self._flags = boxes, selected, flags
        self._lines, self._selected_lines = lines, selected_lines
        self._valid = True

    def paint(self, painter: QPainter, nodes: list[NodeItem], edges: list[EdgeItem],
              selected_items: list[object]) -> None:
        if not self._valid:
            self._build(nodes, edges, selected_items)
        painter.save()
        # axis-aligned boxes and hairlines: antialiasing would only blur and slow them
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        if self._lines:
            painter.setPen(QPen(style.EDGE, 0))
            painter.drawLines(self._lines)
        if self._selected_lines:
            pen = QPen(style.EDGE_SELECTED, 2)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.drawLines(self._selected_lines)
        painter.setPen(Qt.PenStyle.NoPen)
        for color, rects in self._boxes.values():
            painter.setBrush(color)
            painter.drawRects(rects)
        if self._flags:
            painter.setBrush(style.PROBLEM)
            painter.drawRects(self._flags)
        if self._selected:
            pen = QPen(style.SELECTED, 3)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRects(self._selected)
        painter.restore()
