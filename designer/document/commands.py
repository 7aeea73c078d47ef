"""Undo commands: one QUndoCommand per kind of edit, each changing an ObservableWorkflow.

Commands call only the observable's public setters (orange-canvas-core's `AddNodeCommand.redo`
calls `scheme.add_node`), never the document or canvas items; the views follow the observable's
signals. Each `redo`/`undo` is one `model.edit()` block, so `changed` fires once per command.
"""

from __future__ import annotations

import copy
from typing import Any

from PySide6.QtGui import QUndoCommand

from designer.document.observable import ObservableWorkflow, Pos, RemovedStep
from engine import AnyStep

__all__ = [
    "AddStepsCommand",
    "RemoveCommand",
    "MoveStepsCommand",
    "SetAfterCommand",
    "SetStepFieldCommand",
    "SetWorkflowFieldCommand",
    "RenameStepCommand",
    "describe_removal",
    "describe_move",
]

_SET_STEP_FIELD_ID = 1001
_SET_WORKFLOW_FIELD_ID = 1002


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


class AddStepsCommand(QUndoCommand):
    """Append steps (already given unique ids) at the end of the list, with positions."""

    def __init__(
        self, model: ObservableWorkflow, steps: list[AnyStep], positions: dict[str, Pos], text: str
    ) -> None:
        super().__init__(text)
        self.model = model
        self.steps = steps
        self.positions = positions
        # what store_positions wrote into the layout (something only for the first positional
        # edit, so that what is saved is what was seen); undo makes them computed again
        self._stored: dict[str, Pos] = {}

    def redo(self) -> None:
        with self.model.edit():
            self._stored = self.model.store_positions()
            base = len(self.model.workflow.steps)
            for k, step in enumerate(self.steps):
                self.model.insert_step(base + k, step, self.positions.get(step.id))

    def undo(self) -> None:
        with self.model.edit():
            for step in reversed(self.steps):
                self.model.remove_step(step.id)
            self.model.unstore_positions(self._stored)


class RemoveCommand(QUndoCommand):
    """Remove steps and edges; survivors lose the removed ids from their `after` lists."""

    def __init__(
        self, model: ObservableWorkflow, ids: list[str], edges: list[tuple[str, str]], text: str
    ) -> None:
        super().__init__(text)
        self.model = model
        wf = model.workflow
        gone = set(ids)
        # in list order: removed from the back and put back from the front, each index holds
        self.removed_ids = [s.id for s in wf.steps if s.id in gone]
        cut = {(s, d) for s, d in edges if d not in gone}
        self.after_edits: dict[str, tuple[list[str], list[str]]] = {}
        for step in wf.steps:
            if step.id in gone:
                continue
            new = [a for a in step.after if a not in gone and (a, step.id) not in cut]
            if new != step.after:
                self.after_edits[step.id] = (list(step.after), new)
        self._saved: list[RemovedStep] = []

    def redo(self) -> None:
        with self.model.edit():
            for sid, (_, new) in self.after_edits.items():
                self.model.set_step_field(sid, "after", list(new))
            saved = [self.model.remove_step(sid) for sid in reversed(self.removed_ids)]
            self._saved = list(reversed(saved))

    def undo(self) -> None:
        with self.model.edit():
            for r in self._saved:
                self.model.insert_step(r.index, r.step, r.pos, stored=r.stored)
            for sid, (old, _) in self.after_edits.items():
                self.model.set_step_field(sid, "after", list(old))


class MoveStepsCommand(QUndoCommand):
    """New positions for steps (a drag, or an auto-layout): id -> (old, new)."""

    def __init__(
        self, model: ObservableWorkflow, moves: dict[str, tuple[Pos, Pos]], text: str
    ) -> None:
        super().__init__(text)
        self.model = model
        self.moves = moves
        self._stored: dict[str, Pos] = {}  # as in AddStepsCommand

    def redo(self) -> None:
        with self.model.edit():
            self._stored = self.model.store_positions()
            self.model.set_positions({k: new for k, (_, new) in self.moves.items()})

    def undo(self) -> None:
        with self.model.edit():
            self.model.set_positions({k: old for k, (old, _) in self.moves.items()})
            self.model.unstore_positions(self._stored)


class SetAfterCommand(QUndoCommand):
    """Replace one step's `after` list (connect, disconnect)."""

    def __init__(
        self, model: ObservableWorkflow, step_id: str, old: list[str], new: list[str], text: str
    ) -> None:
        super().__init__(text)
        self.model = model
        self.step_id = step_id
        self.old = list(old)
        self.new = list(new)

    def redo(self) -> None:
        self.model.set_step_field(self.step_id, "after", list(self.new))

    def undo(self) -> None:
        self.model.set_step_field(self.step_id, "after", list(self.old))


class SetStepFieldCommand(QUndoCommand):
    """One field of one step; consecutive edits of the same field merge (typing)."""

    def __init__(
        self, model: ObservableWorkflow, step_id: str, field: str, old: Any, new: Any, text: str
    ) -> None:
        super().__init__(text)
        self.model = model
        self.step_id = step_id
        self.field = field
        self.old = copy.deepcopy(old)
        self.new = copy.deepcopy(new)

    def id(self) -> int:
        return _SET_STEP_FIELD_ID

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt override
        if not isinstance(other, SetStepFieldCommand) or other.model is not self.model:
            return False
        if (other.step_id, other.field) != (self.step_id, self.field):
            return False
        self.new = copy.deepcopy(other.new)
        # typing back to where it started leaves nothing to undo
        self.setObsolete(self.new == self.old)
        return True

    def redo(self) -> None:
        self.model.set_step_field(self.step_id, self.field, copy.deepcopy(self.new))

    def undo(self) -> None:
        self.model.set_step_field(self.step_id, self.field, copy.deepcopy(self.old))


class SetWorkflowFieldCommand(QUndoCommand):
    """One workflow-level field (name, trigger, input, …); consecutive edits merge."""

    def __init__(
        self, model: ObservableWorkflow, field: str, old: Any, new: Any, text: str
    ) -> None:
        super().__init__(text)
        self.model = model
        self.field = field
        self.old = copy.deepcopy(old)
        self.new = copy.deepcopy(new)

    def id(self) -> int:
        return _SET_WORKFLOW_FIELD_ID

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt override
        if not isinstance(other, SetWorkflowFieldCommand) or other.model is not self.model:
            return False
        if other.field != self.field:
            return False
        self.new = copy.deepcopy(other.new)
        self.setObsolete(self.new == self.old)
        return True

    def redo(self) -> None:
        self.model.set_workflow_field(self.field, copy.deepcopy(self.new))

    def undo(self) -> None:
        self.model.set_workflow_field(self.field, copy.deepcopy(self.old))


class RenameStepCommand(QUndoCommand):
    """A new id for a step, with every `after` entry and `steps.<id>` reference following it.

    `patches` are (step id before the rename, field, old value, new value); the workflow's
    `output` is patched as `(None, "output", …)`. Both directions rename first and patch after,
    so the canvas can re-key its items before the `after` lists name the new id.
    """

    def __init__(
        self,
        model: ObservableWorkflow,
        old: str,
        new: str,
        patches: list[tuple[str | None, str, Any, Any]],
    ) -> None:
        super().__init__(f"Rename {old} → {new}")
        self.model = model
        self.old = old
        self.new = new
        self.patches = patches

    def redo(self) -> None:
        with self.model.edit():
            self.model.rename_step(self.old, self.new)
            for owner, field, _, new in self.patches:
                self._apply(self.new if owner == self.old else owner, field, new)

    def undo(self) -> None:
        with self.model.edit():
            self.model.rename_step(self.new, self.old)
            for owner, field, old, _ in reversed(self.patches):
                self._apply(owner, field, old)

    def _apply(self, owner: str | None, field: str, value: Any) -> None:
        if owner is None:
            self.model.set_workflow_field(field, copy.deepcopy(value))
        else:
            self.model.set_step_field(owner, field, copy.deepcopy(value))


def describe_removal(ids: list[str], edges: list[tuple[str, str]]) -> str:
    """Undo text for a deletion: "Delete step a", "Delete 3 steps", "Delete edge a → b"."""
    if ids and len(ids) == 1 and not edges:
        return f"Delete step {ids[0]}"
    if ids:
        extra = f" and {_plural(len(edges), 'edge')}" if edges else ""
        return f"Delete {_plural(len(ids), 'step')}{extra}"
    if len(edges) == 1:
        return f"Delete edge {edges[0][0]} → {edges[0][1]}"
    return f"Delete {_plural(len(edges), 'edge')}"


def describe_move(n: int) -> str:
    return "Move step" if n == 1 else f"Move {n} steps"
