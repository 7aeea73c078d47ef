"""ObservableWorkflow: the engine's workflow model with Qt signals, changed only by its setters.

Undo commands call these setters (as orange-canvas-core's commands call `scheme.add_node`), and
views follow the signals; nothing else writes the model. Each setter emits the signal of what it
changed and then `changed`; setters called inside `with model.edit():` emit `changed` once, when
the block ends, so a command that removes 2,000 steps costs the views one refresh, not 2,000.

Positions of steps the file gives no `layout` for are computed when a workflow is set and kept
beside the model, so that an unedited document saves byte for byte as it was read.
`store_positions` writes them into the model (the first positional edit does, so what is saved
is what was seen) and `unstore_positions` takes them back out (its undo).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal

from engine import AnyStep, Pos, Workflow, layered_layout, layered_positions

__all__ = ["ObservableWorkflow", "RemovedStep", "Pos"]

# how far below the placed steps the steps a file left unplaced go
_UNPLACED_GAP = 160.0


@dataclass(frozen=True)
class RemovedStep:
    """What `remove_step` took out, for `insert_step` to put back as it was."""

    index: int
    step: AnyStep
    pos: Pos | None
    stored: bool  # its position was in the model's layout, not only computed


class ObservableWorkflow(QObject):
    """One workflow model; `workflow` is read freely, changed only through the setters."""

    reset = Signal()  # another workflow was set: rebuild everything
    step_added = Signal(str)
    step_removed = Signal(str)
    step_changed = Signal(str)
    step_renamed = Signal(str, str)  # old id, new id
    step_moved = Signal(str)
    workflow_changed = Signal()  # a workflow-level field (name, trigger, input, …)
    changed = Signal()  # after each setter, or once after an `edit()` block

    def __init__(self, workflow: Workflow | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._workflow = workflow if workflow is not None else Workflow()
        self._auto: dict[str, Pos] = {}
        self._depth = 0
        self._dirty = False
        self._place_unpositioned()

    # --- reading --------------------------------------------------------------------------

    @property
    def workflow(self) -> Workflow:
        return self._workflow

    def position(self, step_id: str) -> Pos:
        """Where a step is: from the model's layout, else where it was placed on opening."""
        pos = self._workflow.layout.get(step_id)
        if pos is None:
            pos = self._auto.get(step_id, (0.0, 0.0))
        return (float(pos[0]), float(pos[1]))

    # --- grouping -------------------------------------------------------------------------

    @contextmanager
    def edit(self) -> Iterator[None]:
        """Setters inside the block emit `changed` once, when the outermost block ends."""
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            if self._depth == 0 and self._dirty:
                self._dirty = False
                self.changed.emit()

    def _touched(self) -> None:
        if self._depth:
            self._dirty = True
        else:
            self.changed.emit()

    # --- setters --------------------------------------------------------------------------

    def set_workflow(self, workflow: Workflow, keep: Mapping[str, Pos] | None = None) -> None:
        """Show another workflow (new, open, revert, a YAML edit); emits `reset`. `keep`: where
        steps the layout does not place were seen, so that an edit of the text does not move
        them (they are laid out afresh otherwise)."""
        self._workflow = workflow
        ids = set(workflow.ids)
        self._auto = {
            k: v for k, v in (keep or {}).items() if k not in workflow.layout and k in ids
        }
        self._place_unpositioned()
        self.reset.emit()
        self._touched()

    def insert_step(
        self, index: int, step: AnyStep, pos: Pos | None = None, *, stored: bool = True
    ) -> None:
        """Put `step` at `index` of the list; `pos` goes into the layout (`stored`) or is kept
        as a computed position."""
        self._workflow.steps.insert(index, step)
        if pos is not None:
            (self._workflow.layout if stored else self._auto)[step.id] = pos
        self.step_added.emit(step.id)
        self._touched()

    def remove_step(self, step_id: str) -> RemovedStep:
        """Take a step out (its edges stay in the others' `after` lists: callers cut them)."""
        index = self._workflow.index_of(step_id)
        step = self._workflow.steps.pop(index)
        stored = step_id in self._workflow.layout
        table = self._workflow.layout if stored else self._auto
        pos = table.pop(step_id, None)
        self.step_removed.emit(step_id)
        self._touched()
        return RemovedStep(index, step, pos, stored)

    def set_step_field(self, step_id: str, field: str, value: Any) -> None:
        """One field of one step (`after` included); the id changes only with `rename_step`."""
        if field == "id":
            raise ValueError("change a step's id with rename_step, which moves its position")
        setattr(self._workflow.step(step_id), field, value)
        self.step_changed.emit(step_id)
        self._touched()

    def set_workflow_field(self, field: str, value: Any) -> None:
        """One workflow-level field; the steps and the layout have setters of their own."""
        if field in ("steps", "layout"):
            raise ValueError(f"'{field}' is changed through the step and position setters")
        setattr(self._workflow, field, value)
        self.workflow_changed.emit()
        self._touched()

    def set_positions(self, positions: Mapping[str, Pos]) -> None:
        """New positions, written into the model's layout."""
        for step_id, pos in positions.items():
            self._workflow.layout[step_id] = pos
            self.step_moved.emit(step_id)
        if positions:
            self._touched()

    def rename_step(self, old: str, new: str) -> None:
        """A new id for one step, its position following; references are the caller's."""
        self._workflow.step(old).id = new
        for table in (self._workflow.layout, self._auto):
            if old in table:
                _rekey(table, old, new)
        self.step_renamed.emit(old, new)
        self._touched()

    def store_positions(self) -> dict[str, Pos]:
        """Write every computed position into the model's layout; returns what was written.

        Emits nothing: no step appears anywhere else.
        """
        moved, self._auto = self._auto, {}
        for step_id in self._workflow.ids:
            if step_id in moved:
                self._workflow.layout[step_id] = moved[step_id]
        return moved

    def unstore_positions(self, positions: Mapping[str, Pos]) -> None:
        """Undo `store_positions`: these positions are computed ones again."""
        for step_id, pos in positions.items():
            self._workflow.layout.pop(step_id, None)
            self._auto[step_id] = pos

    # --- placing --------------------------------------------------------------------------

    def _place_unpositioned(self) -> None:
        """Compute positions for steps without one, leaving the model untouched."""
        wf = self._workflow
        missing = [s.id for s in wf.steps if s.id not in wf.layout and s.id not in self._auto]
        if not missing:
            return
        if len(missing) == len(wf.steps):
            self._auto = layered_layout(wf)
            return
        # lay the newcomers out among themselves, below what is already placed
        placed = layered_positions(missing, {s.id: s.after for s in wf.steps})
        known = [*wf.layout.values(), *self._auto.values()]
        bottom = max(float(p[1]) for p in known) + _UNPLACED_GAP
        left = min(float(p[0]) for p in known)
        top = min(y for _, y in placed.values())
        self._auto.update({k: (left + x, bottom + y - top) for k, (x, y) in placed.items()})


def _rekey(table: dict[str, Pos], old: str, new: str) -> None:
    """Rename a key in place, keeping its place in the dict's order."""
    items = [((new if k == old else k), v) for k, v in table.items()]
    table.clear()
    table.update(items)
