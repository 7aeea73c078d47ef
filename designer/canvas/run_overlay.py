"""Run states on the canvas: the view's badges plus a note under each node (attempts, delay, time).

The canvas draws the badge and colour of each state (CanvasView.set_step_states); this module
adds what a badge cannot say: "attempt 2 of 4", "… failed · next in 500 ms", "1.2 s · 3
attempts". All notes are painted by one scene item, not one item per step: adding or removing
2,000 items from the scene's BSP index cost 0.4 s a run, painting the few in view costs nothing.
The item has no shape, so clicks, hovers and rubber bands never find it. The scene deletes it
when it rebuilds (the model's `reset`); every access checks that it still lives.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QObject, QRectF, Qt
from PySide6.QtGui import QFont, QFontMetricsF, QPainter, QPainterPath
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget
from shiboken6 import isValid

from designer.canvas import style as canvas_style
from designer.canvas.style import DETAIL_LOD, NODE_H, NODE_W
from designer.canvas.view import CanvasView
from engine import RunRecord

__all__ = ["RunStatesPresenter", "NotesItem"]

_NOTE_H = 15.0
_NOTE_Y = NODE_H + 3.0
_NOTE_OVERHANG = 56.0  # how far a note may reach past its node: most of the column gap


class NotesItem(QGraphicsItem):
    """Paints each step's note under its node; `notes` is step id -> (text, state)."""

    def __init__(self, nodes: dict[str, object]) -> None:
        super().__init__()
        self.nodes = nodes  # the scene's step id -> NodeItem (read for x0, y0)
        self.notes: dict[str, tuple[str, str]] = {}
        self._widths: dict[str, float] = {}  # a note wider than its node is drawn whole
        self._bounds = QRectF()
        self._font = QFont()
        self._font.setPixelSize(11)
        self._metrics = QFontMetricsF(self._font)
        self.setZValue(4)  # over the edges that pass below a node: a note is always read whole
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)

    def note_rect(self, sid: str) -> QRectF | None:
        node = self.nodes.get(sid)
        if node is None:
            return None
        width = max(NODE_W - 4, self._widths.get(sid, 0.0))
        return QRectF(node.x0 + 2, node.y0 + _NOTE_Y, width, _NOTE_H)  # type: ignore[attr-defined]

    def refit(self) -> None:
        """Grow the bounds to hold every node's note (after nodes were added or moved)."""
        xs = [n.x0 for n in self.nodes.values()]  # type: ignore[attr-defined]
        ys = [n.y0 for n in self.nodes.values()]  # type: ignore[attr-defined]
        rect = (
            QRectF()
            if not xs
            else QRectF(
                min(xs),
                min(ys) + _NOTE_Y,
                max(xs) - min(xs) + NODE_W + _NOTE_OVERHANG,
                max(ys) - min(ys) + _NOTE_H,
            )
        )
        if rect != self._bounds:
            self.prepareGeometryChange()
            self._bounds = rect

    def set_notes(self, changes: dict[str, tuple[str, str] | None]) -> None:
        """Set (or with None, drop) notes; repaints only where they are."""
        dirty = QRectF()
        for sid, note in changes.items():
            old = self.note_rect(sid)
            if note is None or not note[0]:
                if self.notes.pop(sid, None) is None:
                    continue
                self._widths.pop(sid, None)
            else:
                self.notes[sid] = note
                # measured once per change, not per paint; capped to the gap before the next
                # column (the longest note, a retry's, is well inside it)
                self._widths[sid] = min(
                    NODE_W + _NOTE_OVERHANG, self._metrics.horizontalAdvance(note[0]) + 8
                )
            r = self.note_rect(sid)
            if old is not None:
                r = old if r is None else r.united(old)
            if r is not None:
                dirty = dirty.united(r) if not dirty.isNull() else r
        if not dirty.isNull():
            self.update(dirty)

    def clear(self) -> None:
        if self.notes:
            self.notes.clear()
            self._widths.clear()
            self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return self._bounds

    def shape(self) -> QPainterPath:
        return QPainterPath()  # never hit: the canvas's clicks are for nodes and edges

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        if not self.notes:
            return
        if option.levelOfDetailFromTransform(painter.worldTransform()) < DETAIL_LOD:
            return  # unreadable when zoomed far out; the badges' colours say enough there
        exposed = option.exposedRect
        painter.setFont(self._font)
        flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        # the theme's state colours, each 4.5:1 on the canvas (read per paint: the theme may
        # have changed; no QColor is made per note)
        colors, dim = canvas_style.STATE_COLORS, canvas_style.TEXT_DIM
        back = canvas_style.BACKGROUND
        for sid, (text, state) in self.notes.items():
            r = self.note_rect(sid)
            if r is not None and r.intersects(exposed):
                painter.fillRect(r.adjusted(-2, 0, 0, 0), back)
                painter.setPen(colors.get(state, dim))
                painter.drawText(r, flags, text)


class RunStatesPresenter(QObject):
    """Shows one run record on a canvas view; `shown` is that record (or None)."""

    def __init__(self, view: CanvasView, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.view = view
        self.shown: RunRecord | None = None
        self._item: NotesItem | None = None

    def _notes_item(self) -> NotesItem:
        item = self._item
        scene = self.view.canvas
        if item is None or not isValid(item) or item.scene() is not scene:
            item = NotesItem(scene.nodes)  # the scene rebuilt (and deleted the old one)
            scene.addItem(item)
            self._item = item
        item.nodes = scene.nodes
        return item

    # --- what is shown ----------------------------------------------------------------------

    def show(self, record: RunRecord) -> None:
        """Show `record`'s states (replacing whatever was shown)."""
        self.shown = record
        # every node gets a state, none where the record has none: nothing is cleared first
        # only to be set again (2,000 nodes repainted twice at the start of a run)
        states: dict[str, str | None] = dict.fromkeys(self.view.canvas.nodes)
        states.update(record.states())
        self.view.set_step_states(states)
        item = self._notes_item()
        item.clear()
        item.refit()
        item.set_notes(
            {sid: (text, view.state) for sid, view in record.steps.items() if (text := view.note())}
        )

    def update(self, record: RunRecord, ids: Iterable[str]) -> None:
        """Steps of `record` changed: refresh their badges and notes if it is the one shown."""
        if record is not self.shown:
            return
        ids = [sid for sid in ids if sid in record.steps]
        self.view.set_step_states({sid: record.steps[sid].state for sid in ids})
        self._set_notes(record, ids)

    def clear(self) -> None:
        if self.shown is None and (
            self._item is None or not isValid(self._item) or not self._item.notes
        ):
            return
        self.shown = None
        self.view.clear_step_states()
        if self._item is not None and isValid(self._item):
            self._item.clear()

    def states(self) -> dict[str, str]:
        """The states the canvas shows now, read from its node items."""
        return {
            sid: node.state
            for sid, node in self.view.canvas.nodes.items()
            if node.state is not None
        }

    def note(self, step_id: str) -> str:
        item = self._item
        if item is None or not isValid(item):
            return ""
        return item.notes.get(step_id, ("", None))[0]

    def _set_notes(self, record: RunRecord, ids: Iterable[str]) -> None:
        changes: dict[str, tuple[str, str] | None] = {}
        for sid in ids:
            view = record.steps[sid]
            text = view.note()
            changes[sid] = (text, view.state) if text else None
        self._notes_item().set_notes(changes)
