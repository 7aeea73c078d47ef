"""Undo commands for the workflow document: one QUndoCommand per kind of edit.

Commands change the model only through the document's private primitives (`_insert_step`,
`_remove_step`, `_set_attr`, …), which emit the document's signals; they never touch canvas
items. Each command's `redo`/`undo` ends with `doc._done()` so that `changed` fires once per
command and validation is re-run.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QUndoCommand

from engine import AnyStep

if TYPE_CHECKING:
    from designer.document.workflow_document import WorkflowDocument

__all__ = [
    "AddStepsCommand",
    "RemoveCommand",
    "MoveStepsCommand",
    "SetAfterCommand",
    "SetStepFieldCommand",
    "SetWorkflowFieldCommand",
    "RenameStepCommand",
    "Pos",
]

Pos = tuple[float, float]

_SET_STEP_FIELD_ID = 1001
_SET_WORKFLOW_FIELD_ID = 1002


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


class AddStepsCommand(QUndoCommand):
    """Append steps (already given unique ids) at the end of the list, with positions."""

    def __init__(self, doc: WorkflowDocument, steps: list[AnyStep], positions: dict[str, Pos],
                 text: str) -> None:
        super().__init__(text)
        self.doc = doc
        self.steps = steps
        self.positions = positions
        self._materialized: dict[str, Pos] = {}

    def redo(self) -> None:
        self._materialized = self.doc._materialize_positions()
        base = len(self.doc.workflow.steps)
        for k, step in enumerate(self.steps):
            self.doc._insert_step(base + k, step, self.positions.get(step.id), True)
        self.doc._done()

    def undo(self) -> None:
        for step in reversed(self.steps):
            self.doc._remove_step(step.id)
        self.doc._dematerialize_positions(self._materialized)
        self.doc._done()


class RemoveCommand(QUndoCommand):
    """Remove steps and edges; survivors lose the removed ids from their `after` lists."""

    def __init__(self, doc: WorkflowDocument, ids: list[str], edges: list[tuple[str, str]],
                 text: str) -> None:
        super().__init__(text)
        self.doc = doc
        wf = doc.workflow
        gone = set(ids)
        # removed steps in list order, so re-inserting by ascending index restores the list
        self.removed = sorted((wf.index_of(i) for i in gone), reverse=False)
        self.removed_ids = [wf.steps[i].id for i in self.removed]
        cut = {(s, d) for s, d in edges if d not in gone}
        self.after_edits: dict[str, tuple[list[str], list[str]]] = {}
        for step in wf.steps:
            if step.id in gone:
                continue
            new = [a for a in step.after if a not in gone and (a, step.id) not in cut]
            if new != step.after:
                self.after_edits[step.id] = (list(step.after), new)
        self._saved: list[tuple[int, AnyStep, Pos | None, bool]] = []

    def redo(self) -> None:
        for sid, (_, new) in self.after_edits.items():
            self.doc._set_attr(sid, "after", list(new))
        saved = []
        for sid in reversed(self.removed_ids):
            saved.append(self.doc._remove_step(sid))
        self._saved = list(reversed(saved))
        self.doc._done()

    def undo(self) -> None:
        for index, step, pos, stored in self._saved:
            self.doc._insert_step(index, step, pos, stored)
        for sid, (old, _) in self.after_edits.items():
            self.doc._set_attr(sid, "after", list(old))
        self.doc._done()


class MoveStepsCommand(QUndoCommand):
    """New positions for steps (a drag, or an auto-layout): id -> (old, new)."""

    def __init__(self, doc: WorkflowDocument, moves: dict[str, tuple[Pos, Pos]],
                 text: str) -> None:
        super().__init__(text)
        self.doc = doc
        self.moves = moves
        self._materialized: dict[str, Pos] = {}

    def redo(self) -> None:
        self._materialized = self.doc._materialize_positions()
        self.doc._set_positions({k: new for k, (_, new) in self.moves.items()})
        self.doc._done()

    def undo(self) -> None:
        self.doc._set_positions({k: old for k, (old, _) in self.moves.items()})
        self.doc._dematerialize_positions(self._materialized)
        self.doc._done()


class SetAfterCommand(QUndoCommand):
    """Replace one step's `after` list (connect, disconnect)."""

    def __init__(self, doc: WorkflowDocument, step_id: str, old: list[str], new: list[str],
                 text: str) -> None:
        super().__init__(text)
        self.doc = doc
        self.step_id = step_id
        self.old = list(old)
        self.new = list(new)

    def redo(self) -> None:
        self.doc._set_attr(self.step_id, "after", list(self.new))
        self.doc._done()

    def undo(self) -> None:
        self.doc._set_attr(self.step_id, "after", list(self.old))
        self.doc._done()


class SetStepFieldCommand(QUndoCommand):
    """One field of one step; consecutive edits of the same field merge (typing)."""

    def __init__(self, doc: WorkflowDocument, step_id: str, field: str, old: Any, new: Any,
                 text: str) -> None:
        super().__init__(text)
        self.doc = doc
        self.step_id = step_id
        self.field = field
        self.old = copy.deepcopy(old)
        self.new = copy.deepcopy(new)

    def id(self) -> int:
        return _SET_STEP_FIELD_ID

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt override
        if not isinstance(other, SetStepFieldCommand) or other.doc is not self.doc:
            return False
        if (other.step_id, other.field) != (self.step_id, self.field):
            return False
        self.new = copy.deepcopy(other.new)
        # typing back to where it started leaves nothing to undo
        self.setObsolete(self.new == self.old)
        return True

    def redo(self) -> None:
        self.doc._set_attr(self.step_id, self.field, copy.deepcopy(self.new))
        self.doc._done()

    def undo(self) -> None:
        self.doc._set_attr(self.step_id, self.field, copy.deepcopy(self.old))
        self.doc._done()


class SetWorkflowFieldCommand(QUndoCommand):
    """One workflow-level field (name, trigger, input, …); consecutive edits merge."""

    def __init__(self, doc: WorkflowDocument, field: str, old: Any, new: Any, text: str) -> None:
        super().__init__(text)
        self.doc = doc
        self.field = field
        self.old = copy.deepcopy(old)
        self.new = copy.deepcopy(new)

    def id(self) -> int:
        return _SET_WORKFLOW_FIELD_ID

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt override
        if not isinstance(other, SetWorkflowFieldCommand) or other.doc is not self.doc:
            return False
        if other.field != self.field:
            return False
        self.new = copy.deepcopy(other.new)
        self.setObsolete(self.new == self.old)
        return True

    def redo(self) -> None:
        self.doc._set_workflow_attr(self.field, copy.deepcopy(self.new))
        self.doc._done()

    def undo(self) -> None:
        self.doc._set_workflow_attr(self.field, copy.deepcopy(self.old))
        self.doc._done()


class RenameStepCommand(QUndoCommand):
    """A new id for a step, with every `after` entry and `steps.<id>` reference following it.

    `patches` are (step id before the rename, field, old value, new value); the workflow's
    `output` is patched as `(None, "output", …)`. Both directions rename first and patch after,
    so the canvas can re-key its items before the `after` lists name the new id.
    """

    def __init__(self, doc: WorkflowDocument, old: str, new: str,
                 patches: list[tuple[str | None, str, Any, Any]]) -> None:
        super().__init__(f"Rename {old} → {new}")
        self.doc = doc
        self.old = old
        self.new = new
        self.patches = patches

    def redo(self) -> None:
        self.doc._rename_step(self.old, self.new)
        for owner, field, _, new in self.patches:
            self._apply(self.new if owner == self.old else owner, field, new)
        self.doc._done()

    def undo(self) -> None:
        self.doc._rename_step(self.new, self.old)
        for owner, field, old, _ in reversed(self.patches):
            self._apply(owner, field, old)
        self.doc._done()

    def _apply(self, owner: str | None, field: str, value: Any) -> None:
        if owner is None:
            self.doc._set_workflow_attr(field, copy.deepcopy(value))
        else:
            self.doc._set_attr(owner, field, copy.deepcopy(value))


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
