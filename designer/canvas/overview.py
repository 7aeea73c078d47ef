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
from designer.canvas.flow import edge_flow
from designer.canvas.style import NODE_W

if TYPE_CHECKING:
    from designer.canvas.items import EdgeItem, NodeItem

__all__ = ["Overview"]


class Overview:
    """Batched geometry for the nodes and edges of a scene; `invalidate()` after changes,
    `restate(nodes)` after only run states changed (cheap: moves those nodes and their edges
    between colour groups instead of rebuilding 2,000 of each every frame of a run)."""

    def __init__(self) -> None:
        # colour key -> (colour, {id(item): geometry}); a box's key is its state or kind, a
        # line's the state of the step the run reached along it ("" for a plain edge)
        self._boxes: dict[str, tuple[QColor, dict[int, QRectF]]] = {}
        self._lines: dict[str, tuple[QColor, dict[int, QLineF]]] = {}
        self._box_key: dict[int, str] = {}
        self._line_key: dict[int, str] = {}
        self._selected: list[QRectF] = []
        self._flags: list[QRectF] = []
        self._selected_lines: list[QLineF] = []
        self._valid = False

    def invalidate(self) -> None:
        self._valid = False

    @staticmethod
    def _node_key(n: NodeItem) -> str:
        return n.state if n.state in style.STATE_COLORS else n.kind

    @staticmethod
    def _edge_key(e: EdgeItem) -> str:
        flow = edge_flow(e.src.state, e.dst.state)
        if flow == "taken":
            return e.dst.state or ""
        return "skipped" if flow == "skipped" else ""

    def _put_box(self, n: NodeItem, key: str) -> None:
        group = self._boxes.get(key)
        if group is None:
            color = style.STATE_COLORS.get(key) or style.KIND_COLORS.get(key, style.EDGE)
            group = self._boxes[key] = (color, {})
        group[1][id(n)] = n.box
        self._box_key[id(n)] = key

    def _put_line(self, e: EdgeItem, key: str) -> None:
        group = self._lines.get(key)
        if group is None:
            group = self._lines[key] = (style.STATE_COLORS.get(key, style.EDGE), {})
        group[1][id(e)] = e.line
        self._line_key[id(e)] = key

    def _build(
        self, nodes: list[NodeItem], edges: list[EdgeItem], selected_items: list[object]
    ) -> None:
        chosen = {id(i) for i in selected_items}
        self._boxes, self._lines, self._box_key, self._line_key = {}, {}, {}, {}
        selected: list[QRectF] = []
        flags: list[QRectF] = []
        for n in nodes:
            self._put_box(n, self._node_key(n))
            if id(n) in chosen:
                selected.append(n.box)
            if n.problems:
                flags.append(QRectF(n.x0 + NODE_W - 48, n.y0, 48, 32))
        selected_lines: list[QLineF] = []
        for e in edges:
            if id(e) in chosen:
                selected_lines.append(e.line)
            else:
                self._put_line(e, self._edge_key(e))
        self._selected, self._flags, self._selected_lines = selected, flags, selected_lines
        self._valid = True

    def restate(self, nodes: list[NodeItem]) -> None:
        """These nodes' run states changed (nothing else did)."""
        if not self._valid:
            return  # the next paint rebuilds everything anyway
        for n in nodes:
            key = self._node_key(n)
            old = self._box_key.get(id(n))
            if old != key:
                if old is not None:
                    self._boxes[old][1].pop(id(n), None)
                self._put_box(n, key)
            for e in n.edges_in + n.edges_out:
                old = self._line_key.get(id(e))
                if old is None:
                    continue  # selected: drawn apart
                key = self._edge_key(e)
                if old != key:
                    self._lines[old][1].pop(id(e), None)
                    self._put_line(e, key)

    def paint(
        self,
        painter: QPainter,
        nodes: list[NodeItem],
        edges: list[EdgeItem],
        selected_items: list[object],
    ) -> None:
        if not self._valid:
            self._build(nodes, edges, selected_items)
        painter.save()
        # axis-aligned boxes and hairlines: antialiasing would only blur and slow them
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        for color, lines in self._lines.values():
            if lines:
                painter.setPen(QPen(color, 0))
                painter.drawLines(list(lines.values()))
        if self._selected_lines:
            pen = QPen(style.EDGE_SELECTED, 2)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.drawLines(self._selected_lines)
        painter.setPen(Qt.PenStyle.NoPen)
        for color, rects in self._boxes.values():
            if rects:
                painter.setBrush(color)
                painter.drawRects(list(rects.values()))
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
