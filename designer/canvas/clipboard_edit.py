"""The canvas's clipboard edits: copy, cut, paste (in view or at a point) and duplicate, each
placed on free canvas near where the user looks (a mix-in of CanvasView)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QGuiApplication

from designer.canvas.placement import free_offset
from designer.canvas.style import NODE_H, NODE_W
from designer.document.clipboard import copy_steps, steps_from_mime

if TYPE_CHECKING:
    from designer.canvas.scene import CanvasScene
    from designer.document import WorkflowDocument
    from engine import AnyStep

__all__ = ["ClipboardEditing"]

_PASTE_STEP = 40.0  # how far each paste of the same steps lands from the last


class ClipboardEditing:
    """Copy, cut, paste and duplicate for CanvasView (which gives the document, the scene,
    its `message` signal, `select_steps` and the viewport mapping)."""

    document: WorkflowDocument
    canvas: CanvasScene
    message: Any  # Signal(str)
    _paste_count: int = 0

    def copy_selection(self) -> None:
        ids = self.canvas.selected_step_ids()
        if not ids:
            return
        wf = self.document.workflow
        steps = [wf.step(i) for i in ids]
        layout = {i: self.document.position(i) for i in ids}
        copy_steps(steps, layout)
        self._paste_count = 0

    def cut_selection(self) -> None:
        ids = self.canvas.selected_step_ids()
        if not ids:
            return
        self.copy_selection()
        self.document.remove(ids, [], text=f"Cut {len(ids)} step{'s' if len(ids) > 1 else ''}")

    def _clipboard_steps(self) -> tuple[list[AnyStep], dict[str, tuple[float, float]]]:
        """The copied steps and their layout; empty (and said why) when there are none."""
        steps, layout = steps_from_mime(QGuiApplication.clipboard().mimeData())
        if not steps:
            self.message.emit("The clipboard holds no steps to paste.")
        return steps, layout

    def paste(self) -> None:
        steps, layout = self._clipboard_steps()
        if not steps:
            return
        self._paste_count += 1
        offset = self._paste_offset(layout, _PASTE_STEP * self._paste_count)
        if layout:
            offset = self._free_offset(list(layout.values()), offset)
        self.select_steps(self.document.paste(steps, layout, offset))

    def duplicate_selection(self) -> None:
        ids = self.canvas.selected_step_ids()
        if not ids:
            return
        wf = self.document.workflow
        layout = {i: self.document.position(i) for i in ids}
        text = f"Duplicate {ids[0]}" if len(ids) == 1 else f"Duplicate {len(ids)} steps"
        offset = self._free_offset(list(layout.values()), (_PASTE_STEP, _PASTE_STEP))
        new = self.document.paste(
            [wf.step(i) for i in ids], layout, offset, text=text, keep_after=True
        )
        self.select_steps(new)

    def paste_at(self, at: QPointF) -> None:
        """Paste the copied steps with their top-left corner at a scene point (free spot)."""
        steps, layout = self._clipboard_steps()
        if not steps:
            return
        corners = list(layout.values()) or [(0.0, 0.0)]
        left = min(p[0] for p in corners)
        top = min(p[1] for p in corners)
        wanted = (round(at.x() - left), round(at.y() - top))
        offset = self._free_offset(corners, wanted)
        self.select_steps(self.document.paste(steps, layout, offset))

    def _free_offset(
        self, corners: list[tuple[float, float]], wanted: tuple[float, float]
    ) -> tuple[float, float]:
        """The shift nearest `wanted` that puts nodes at `corners` clear of every step."""
        doc = self.document
        return free_offset(corners, [doc.position(i) for i in doc.workflow.ids], wanted)

    def _paste_offset(
        self, layout: dict[str, tuple[float, float]], shift: float
    ) -> tuple[float, float]:
        """Shift pasted steps a little; bring them into view if they would land outside it."""
        if not layout:
            c = self.mapToScene(self.viewport().rect().center())
            return (round(c.x() - NODE_W / 2), round(c.y() - NODE_H / 2))
        xs = [p[0] for p in layout.values()]
        ys = [p[1] for p in layout.values()]
        box = QRectF(
            min(xs) + shift, min(ys) + shift, max(xs) - min(xs) + NODE_W, max(ys) - min(ys) + NODE_H
        )
        visible = self.mapToScene(self.viewport().rect()).boundingRect()
        if visible.intersects(box):
            return (shift, shift)
        c = visible.center()
        return (round(c.x() - box.width() / 2 - min(xs)), round(c.y() - box.height() / 2 - min(ys)))
