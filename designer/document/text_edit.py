"""Edits made as YAML text: the undo command that swaps in the workflow the text describes.

The YAML tab is an editor. Text that parses into a model holding all of it replaces the
workflow as one undo step (`ReplaceWorkflowCommand`); text that does not leaves the model as it
was and comes back with its problems. A file that cannot be opened as a model at all is held as
a *draft* (`WorkflowDocument.draft`) until its text parses.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtGui import QUndoCommand

from designer.document.observable import ObservableWorkflow, Pos
from engine import Problem, Workflow

__all__ = ["ReplaceWorkflowCommand", "TextResult", "positions_of"]


def positions_of(model: ObservableWorkflow) -> dict[str, Pos]:
    """Where every step is drawn now, from the layout or as placed on opening."""
    return {sid: model.position(sid) for sid in model.workflow.ids}


class ReplaceWorkflowCommand(QUndoCommand):
    """Swap the whole workflow for the one a YAML edit describes; undo puts the old one back.

    Steps the new text gives no layout for stay where they were drawn (`keep`), so an edit of
    one key does not lay the whole canvas out again."""

    def __init__(self, model: ObservableWorkflow, new: Workflow, text: str = "Edit YAML") -> None:
        super().__init__(text)
        self.model = model
        self.old = model.workflow
        self.old_positions = positions_of(model)
        self.new = new

    def redo(self) -> None:
        self.model.set_workflow(self.new, keep=self.old_positions)

    def undo(self) -> None:
        self.model.set_workflow(self.old, keep=self.old_positions)


@dataclass
class TextResult:
    """What became of a text: `applied` when the model now says what it says (or already did);
    `problems` are the text's, located in it (rule problems too when it applied)."""

    applied: bool
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]
