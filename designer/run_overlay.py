"""Run states on the canvas: the view's badges plus a note under each node (attempts, delay, time).

The canvas draws the badge and colour of each state (CanvasView.set_step_states); this module
adds what the badge cannot say: "attempt 2 of 4", "next in 500 ms", "1.2 s · 3 attempts". Notes
are child items of the node items, so they follow drags; the scene owns and may delete them
(a rebuild on `document.reset`), which is why every access checks that an item still lives.
Notes are hidden in the zoomed-out overview, where text would be unreadable and costly.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QObject
from PySide6.QtGui import QBrush, QFont
from PySide6.QtWidgets import QGraphicsSimpleTextItem
from shiboken6 import isValid

from designer.canvas import CanvasView
from designer.canvas import style as canvas_style
from designer.run_state import RunRecord

__all__ = ["RunStatesPresenter"]

_NOTE_Y = canvas_style.NODE_H + 4.0


def _note_font() -> QFont:
    f = QFont()
    f.setPixelSize(11)
    return f


class RunStatesPresenter(QObject):
    """Shows one run record on a canvas view; `shown` is that record (or None)."""

    def __init__(self, view: CanvasView, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.view = view
        self.shown: RunRecord | None = None
        self.notes: dict[str, QGraphicsSimpleTextItem] = {}
        self._font = _note_font()
        view.zoom_changed.connect(self._zoom_changed)

    # --- what is shown ----------------------------------------------------------------------

    def show(self, record: RunRecord) -> None:
        """Show `record`'s states (replacing whatever was shown)."""
        self.clear()
        self.shown = record
        self.view.set_step_states(record.states())
        self._set_notes(record, record.steps)

    def update(self, record: RunRecord, ids: Iterable[str]) -> None:
        """Steps of `record` changed: refresh their badges and notes if it is the one shown."""
        if record is not self.shown:
            return
        ids = [sid for sid in ids if sid in record.steps]
        self.view.set_step_states({sid: record.steps[sid].state for sid in ids})
        self._set_notes(record, ids)

    def clear(self) -> None:
        self.shown = None
        self.view.clear_step_states()
        scene = self.view.canvas
        for item in self.notes.values():
            if isValid(item) and item.scene() is scene:
                scene.removeItem(item)
        self.notes.clear()

    def states(self) -> dict[str, str]:
        """The states the canvas shows now, read from its node items."""
        return {sid: node.state for sid, node in self.view.canvas.nodes.items()
                if node.state is not None}

    def note(self, step_id: str) -> str:
        item = self.notes.get(step_id)
        return item.text() if item is not None and isValid(item) else ""

    # --- notes ------------------------------------------------------------------------------

    def _set_notes(self, record: RunRecord, ids: Iterable[str]) -> None:
        nodes = self.view.canvas.nodes
        visible = not self._in_overview()
        for sid in ids:
            node = nodes.get(sid)
            if node is None:
                continue
            view = record.steps[sid]
            text = view.note()
            item = self.notes.get(sid)
            if item is not None and (not isValid(item) or item.parentItem() is not node):
                item = None  # the scene rebuilt the node (and deleted its children)
            if not text:
                if item is not None:
                    item.setText("")
                continue
            if item is None:
                item = QGraphicsSimpleTextItem(node)
                item.setFont(self._font)
                item.setPos(4.0, _NOTE_Y)
                item.setVisible(visible)
                self.notes[sid] = item
            color = canvas_style.STATE_COLORS.get(view.state, canvas_style.TEXT_DIM)
            item.setBrush(QBrush(color.darker(125)))
            item.setText(text)

    def _in_overview(self) -> bool:
        return bool(getattr(self.view.canvas, "overview_mode", False)) or \
            self.view.scale_factor() < canvas_style.DETAIL_LOD

    def _zoom_changed(self, _scale: float) -> None:
        overview = self._in_overview()
        for item in self.notes.values():
            if isValid(item):
                item.setVisible(not overview)
