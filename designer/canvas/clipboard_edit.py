"""The canvas's clipboard edits: copy, cut, paste (in view or at a point) and duplicate, each
placed on free canvas near where the user looks (a mix-in of CanvasView). Notes selected with
the steps travel with them, shifted as the steps are."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QGuiApplication

from designer.canvas.placement import free_offset
from designer.canvas.style import NODE_H, NODE_W, NOTE_ITEM_TYPE
from designer.document.clipboard import copy_steps, notes_from_mime, steps_from_mime

if TYPE_CHECKING:
    from designer.canvas.scene import CanvasScene
    from designer.document import WorkflowDocument
    from engine import AnyStep, Note

Copied = tuple[list["AnyStep"], dict[str, tuple[float, float]], list["Note"]]

__all__ = ["ClipboardEditing"]

_PASTE_STEP = 40.0  # how far each paste of the same steps lands from the last


class ClipboardEditing:
    """Copy, cut, paste and duplicate for CanvasView (which gives the document, the scene,
    its `message` signal, `select_steps` and the viewport mapping)."""

    document: WorkflowDocument
    canvas: CanvasScene
    message: Any  # Signal(str)
    _paste_count: int = 0

    def selected_note_indices(self) -> list[int]:
        """The selected notes, as indices into the workflow's `notes`."""
        # told by type(): the note layer imports the view, which imports this module
        notes = [i for i in self.canvas.selectedItems() if i.type() == NOTE_ITEM_TYPE]
        return sorted(int(getattr(i, "index", -1)) for i in notes)

    def copy_selection(self) -> None:
        ids = self.canvas.selected_step_ids()
        notes = self.selected_note_indices()
        if not ids and not notes:
            return
        wf = self.document.workflow
        steps = [wf.step(i) for i in ids]
        layout = {i: self.document.position(i) for i in ids}
        copy_steps(steps, layout, [wf.notes[i] for i in notes])
        self._paste_count = 0

    def cut_selection(self) -> None:
        ids = self.canvas.selected_step_ids()
        notes = self.selected_note_indices()
        if not ids and not notes:
            return
        self.copy_selection()
        what = [
            f"{n} {word}{'s' if n > 1 else ''}"
            for n, word in ((len(ids), "step"), (len(notes), "note"))
            if n
        ]
        self.document.remove(ids, [], text=f"Cut {' and '.join(what)}", notes=notes)

    def _clipboard_steps(self) -> Copied:
        """The copied steps, their layout and the notes copied with them; empty (and said why)
        when there is nothing to paste."""
        mime = QGuiApplication.clipboard().mimeData()
        steps, layout = steps_from_mime(mime)
        notes = notes_from_mime(mime)
        if not steps and not notes:
            self.message.emit("The clipboard holds no steps to paste.")
        return steps, layout, notes

    def paste(self) -> None:
        steps, layout, notes = self._clipboard_steps()
        if not steps and not notes:
            return
        self._paste_count += 1
        corners = _corners(layout, notes)
        offset = self._paste_offset(corners, _PASTE_STEP * self._paste_count)
        if corners:
            offset = self._free_offset(list(corners.values()), offset)
        self._pasted(len(self.document.workflow.notes), steps, layout, offset, notes)

    def duplicate_selection(self) -> None:
        ids = self.canvas.selected_step_ids()
        indices = self.selected_note_indices()
        if not ids and not indices:
            return
        wf = self.document.workflow
        layout = {i: self.document.position(i) for i in ids}
        notes = [wf.notes[i] for i in indices]
        text = f"Duplicate {ids[0]}" if len(ids) == 1 else f"Duplicate {len(ids)} steps"
        if notes:
            n = len(notes)
            text = (
                f"{text} and {n} note{'s' if n > 1 else ''}"
                if ids
                else f"Duplicate {n} note{'s' if n > 1 else ''}"
            )
        corners = list(_corners(layout, notes).values())
        offset = self._free_offset(corners, (_PASTE_STEP, _PASTE_STEP))
        self._pasted(
            len(wf.notes), [wf.step(i) for i in ids], layout, offset, notes, text, keep_after=True
        )

    def paste_at(self, at: QPointF) -> None:
        """Paste the copied steps with their top-left corner at a scene point (free spot)."""
        steps, layout, notes = self._clipboard_steps()
        if not steps and not notes:
            return
        corners = list(_corners(layout, notes).values()) or [(0.0, 0.0)]
        left = min(p[0] for p in corners)
        top = min(p[1] for p in corners)
        wanted = (round(at.x() - left), round(at.y() - top))
        offset = self._free_offset(corners, wanted)
        self._pasted(len(self.document.workflow.notes), steps, layout, offset, notes)

    def _pasted(
        self,
        before: int,
        steps: list[AnyStep],
        layout: dict[str, tuple[float, float]],
        offset: tuple[float, float],
        notes: list[Note],
        text: str | None = None,
        keep_after: bool = False,
    ) -> None:
        """Paste (one undo step), then select what was added: the steps and the new notes
        (appended after the `before` notes there were)."""
        new = self.document.paste(
            steps, layout, offset, text=text, keep_after=keep_after, notes=notes
        )
        self.select_steps(new)
        for item in self.canvas.items():
            if item.type() == NOTE_ITEM_TYPE and getattr(item, "index", -1) >= before:
                item.setSelected(True)

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


def _corners(
    layout: dict[str, tuple[float, float]], notes: list[Note]
) -> dict[str, tuple[float, float]]:
    """Where the pasted things' corners are: the steps' by id, the notes' after them (keys no
    step id can have: ids are names)."""
    out = dict(layout)
    for k, note in enumerate(notes):
        out[f" note {k}"] = (float(note.at[0]), float(note.at[1]))
    return out
