"""WorkflowDocument: one open workflow's model, undo stack, file and validation problems.

Every edit goes through one public method here that checks it and pushes exactly one undo
command (document/commands.py); the command changes the ObservableWorkflow (`document.model`),
whose signals the views follow. Validation runs a short pause after the last change.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QObject, QSaveFile, QTimer, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from designer.document.commands import (
    AddStepsCommand,
    MoveStepsCommand,
    RemoveCommand,
    RenameStepCommand,
    SetAfterCommand,
    SetStepFieldCommand,
    SetWorkflowFieldCommand,
    describe_move,
    describe_removal,
)
from designer.document.observable import ObservableWorkflow, Pos
from designer.document.text_edit import ReplaceWorkflowCommand, TextResult
from engine import (
    AnyStep,
    Note,
    Problem,
    Workflow,
    base_id,
    can_connect,
    check_step_id,
    dump_workflow,
    layered_layout,
    open_workflow,
    parse_workflow,
    read_text,
    remap_pasted,
    rename_patches,
    unique_id,
    validate_workflow,
)

__all__ = ["WorkflowDocument", "key_name", "read_for_editing"]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


_VALIDATE_DELAY_MS = 150


class WorkflowDocument(QObject):
    """One open workflow: `model` (read `workflow`, follow its signals), undo stack, file path,
    validation problems."""

    problems_changed = Signal()
    modified_changed = Signal(bool)
    path_changed = Signal(str)
    draft_changed = Signal(bool)  # a draft (text that does not parse) is held, or no longer

    def __init__(
        self,
        workflow: Workflow | None = None,
        path: str | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.model = ObservableWorkflow(workflow, self)
        self.path = path
        self.problems: list[Problem] = []
        # the file's text while it does not parse into a model holding all of it: shown and
        # edited in the YAML tab, saved as it is; None once it parses (text_edit.py)
        self.draft: str | None = None
        self._draft_edited = False
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self._validate_timer = QTimer(self)
        self._validate_timer.setSingleShot(True)
        self._validate_timer.setInterval(_VALIDATE_DELAY_MS)
        self._validate_timer.timeout.connect(self.validate_now)
        self.model.changed.connect(self._validate_timer.start)
        # (file name, text) last checked, and its problems: the same check is not made twice
        self._checked: tuple[tuple[str, str], list[Problem]] | None = None
        # the file just opened: (its text, its problems), for the first check after opening
        self._opened: tuple[str, list[Problem]] | None = None
        self._validate_timer.start()

    # --- state ----------------------------------------------------------------------------

    @property
    def workflow(self) -> Workflow:
        return self.model.workflow

    @property
    def modified(self) -> bool:
        return not self.undo_stack.isClean() or (self.draft is not None and self._draft_edited)

    def position(self, step_id: str) -> Pos:
        return self.model.position(step_id)

    def validate_if_pending(self) -> None:
        """Validate now if an edit is still waiting for its check (so `problems` is current)."""
        if self._validate_timer.isActive():
            self.validate_now()

    def validate_now(self) -> None:
        """Re-run validation at once (edits schedule it after a short pause)."""
        self._validate_timer.stop()
        # Checking the text as it will be saved gives every problem a line and column in it.
        key = (self.path or "untitled.yaml", self.yaml_text())
        opened, self._opened = self._opened, None
        if self._checked is not None and self._checked[0] == key:
            self.problems = list(self._checked[1])
        elif opened is not None and (opened[0] == key[1] or not opened[1]):
            # the file just opened was checked as it was read: its problems stand where they
            # were when it reads as it will be saved, and none have a place to find otherwise
            self.problems = list(opened[1])
            self._checked = (key, list(self.problems))
        else:
            loaded = parse_workflow(key[1], key[0], comments=False)  # for its problems only
            if loaded.model is not None or self.draft is not None:
                self.problems = list(loaded.problems)
            else:
                self.problems = list(validate_workflow(self.workflow))
            self._checked = (key, list(self.problems))
        self.problems_changed.emit()

    # --- edits: one undo command each -----------------------------------------------------

    def add_step(self, step: AnyStep, pos: Pos) -> str:
        step = copy.deepcopy(step)
        step.id = unique_id(step.id or base_id(step), set(self.workflow.ids))
        step.after = [a for a in step.after if self.workflow.find(a) is not None]
        self.undo_stack.push(
            AddStepsCommand(self.model, [step], {step.id: _pos(pos)}, f"Add step {step.id}")
        )
        return step.id

    def remove_steps(self, ids: list[str]) -> None:
        self.remove(ids, [])

    def remove(
        self,
        ids: list[str],
        edges: list[tuple[str, str]],
        text: str | None = None,
        notes: Sequence[int] = (),
    ) -> None:
        """Remove steps, edges `(src, dst)` and the notes at the indices `notes`, in one undo
        step."""
        ids = [i for i in dict.fromkeys(ids) if self.workflow.find(i) is not None]
        edges = [(s, d) for s, d in edges if (st := self.workflow.find(d)) and s in st.after]
        gone = {i for i in notes if 0 <= i < len(self.workflow.notes)}
        if not ids and not edges and not gone:
            return
        if not gone:
            self.undo_stack.push(
                RemoveCommand(self.model, ids, edges, text or describe_removal(ids, edges))
            )
            return
        if text is None:
            n = _plural(len(gone), "note")
            if ids or edges:
                text = f"{describe_removal(ids, edges)} and {n}"
            else:
                text = "Delete note" if len(gone) == 1 else f"Delete {n}"
        kept = [n for i, n in enumerate(self.workflow.notes) if i not in gone]
        self._with_notes(
            text, kept, RemoveCommand(self.model, ids, edges, text) if ids or edges else None
        )

    def move_steps(self, moves: dict[str, tuple[Pos, Pos]], text: str | None = None) -> None:
        moves = {
            k: (_pos(o), _pos(n))
            for k, (o, n) in moves.items()
            if self.workflow.find(k) is not None and _pos(o) != _pos(n)
        }
        if not moves:
            return
        if text is None:
            text = describe_move(len(moves)) if len(moves) > 1 else f"Move step {next(iter(moves))}"
        self.undo_stack.push(MoveStepsCommand(self.model, moves, text))

    def can_connect(self, src: str, dst: str) -> str | None:
        """Why `src → dst` cannot be added, or None if it can."""
        return can_connect(self.workflow, src, dst)

    def connect_steps(self, src: str, dst: str) -> str | None:
        """Make `dst` run after `src` (one undo step); why not, or None."""
        reason = self.can_connect(src, dst)
        if reason is not None:
            return reason
        old = self.workflow.step(dst).after
        self.undo_stack.push(
            SetAfterCommand(self.model, dst, old, old + [src], f"Connect {src} → {dst}")
        )
        return None

    def disconnect_steps(self, src: str, dst: str) -> None:
        """Drop the edge `src → dst` (one undo step) if there is one."""
        step = self.workflow.find(dst)
        if step is None or src not in step.after:
            return
        new = [a for a in step.after if a != src]
        self.undo_stack.push(
            SetAfterCommand(self.model, dst, step.after, new, f"Disconnect {src} → {dst}")
        )

    def set_step_field(self, step_id: str, field: str, value: Any) -> None:
        if field == "id":
            raise ValueError("change a step's id with rename_step, which updates references")
        step = self.workflow.step(step_id)
        if not hasattr(step, field):
            raise AttributeError(f"a {type(step).__name__} has no field '{field}'")
        old = getattr(step, field)
        if old == value and type(old) is type(value):
            return
        self.undo_stack.push(
            SetStepFieldCommand(
                self.model, step_id, field, old, value, f"Change {key_name(field)} of {step_id}"
            )
        )

    def set_disabled(self, ids: list[str], disabled: bool) -> None:
        """Disable (or enable) steps in one undo step: runs skip a disabled step."""
        ids = [
            i for i in ids if (s := self.workflow.find(i)) is not None and s.disabled != disabled
        ]
        if not ids:
            return
        verb = "Disable" if disabled else "Enable"
        text = f"{verb} step {ids[0]}" if len(ids) == 1 else f"{verb} {len(ids)} steps"
        self.undo_stack.beginMacro(text)
        for sid in ids:
            self.undo_stack.push(
                SetStepFieldCommand(self.model, sid, "disabled", not disabled, disabled, text)
            )
        self.undo_stack.endMacro()

    def rename_step(self, old: str, new: str) -> str | None:
        """Rename a step and every reference to it in one undo step; why not, or None."""
        reason = check_step_id(self.workflow, old, new)
        if reason is not None or new == old:
            return reason
        patches = rename_patches(self.workflow, old, new)
        self.undo_stack.push(RenameStepCommand(self.model, old, new, patches))
        return None

    def set_workflow_field(self, field: str, value: Any) -> None:
        if field in ("steps", "layout") or not hasattr(self.workflow, field):
            raise AttributeError(f"'{field}' is not a workflow setting")
        old = getattr(self.workflow, field)
        if old == value and type(old) is type(value):
            return
        self.undo_stack.push(
            SetWorkflowFieldCommand(self.model, field, old, value, f"Change {key_name(field)}")
        )

    def paste(
        self,
        steps: list[AnyStep],
        layout: dict[str, Pos],
        offset: Pos,
        text: str | None = None,
        keep_after: bool = False,
        notes: Sequence[Note] = (),
    ) -> list[str]:
        """Add copies of `steps`, and of `notes` shifted by the same offset, in one undo step;
        with `keep_after` (a duplicate) the steps keep their edges to the steps of this workflow
        outside the selection."""
        if not steps and not notes:
            return []
        ids = set(self.workflow.ids)
        new_steps, positions = remap_pasted(
            steps, layout, ids, offset, keep_after=ids if keep_after else frozenset()
        )
        if text is None and new_steps:
            text = (
                f"Paste step {new_steps[0].id}"
                if len(new_steps) == 1
                else f"Paste {len(new_steps)} steps"
            )
            text += f" and {_plural(len(notes), 'note')}" if notes else ""
        elif text is None:
            text = "Paste note" if len(notes) == 1 else f"Paste {len(notes)} notes"
        add = AddStepsCommand(self.model, new_steps, positions, text) if new_steps else None
        if not notes and add is not None:
            self.undo_stack.push(add)
        else:
            moved = [
                Note(n.text, (round(n.at[0] + offset[0]), round(n.at[1] + offset[1])))
                for n in notes
            ]
            self._with_notes(text, [*self.workflow.notes, *moved], add)
        return [s.id for s in new_steps]

    def _with_notes(self, text: str, notes: list[Note], steps: QUndoCommand | None) -> None:
        """A step edit and a new notes list as one undo step (a macro: two edits of the notes
        in a row must not merge as typed edits of one field do)."""
        self.undo_stack.beginMacro(text)
        if steps is not None:
            self.undo_stack.push(steps)
        old = self.workflow.notes
        self.undo_stack.push(SetWorkflowFieldCommand(self.model, "notes", old, notes, text))
        self.undo_stack.endMacro()

    def auto_layout(self) -> None:
        new = layered_layout(self.workflow)
        moves = {k: (self.position(k), v) for k, v in new.items() if self.position(k) != v}
        if moves:
            self.undo_stack.push(MoveStepsCommand(self.model, moves, "Auto-layout"))

    # --- files ----------------------------------------------------------------------------

    def yaml_text(self) -> str:
        """The text that will be saved: the workflow's, or the draft while there is one."""
        return self.draft if self.draft is not None else dump_workflow(self.workflow)

    # --- text edits (the YAML tab) --------------------------------------------------------

    def apply_text(self, text: str) -> TextResult:
        """Make the workflow say what `text` says, as one undo step, if it parses into a model
        holding all of it; else leave the model as it was (a draft keeps the new text)."""
        loaded = parse_workflow(text, self.path or "untitled.yaml")
        if loaded.model is None or not loaded.complete:
            if self.draft is not None and text != self.draft:
                self.draft, self._draft_edited = text, True
                self.modified_changed.emit(True)
                self.validate_now()
            return TextResult(False, list(loaded.problems))
        if self.draft is not None:
            edited = self._draft_edited or text != self.draft
            self.draft, self._draft_edited = None, False
            self.replace_workflow(loaded.model, self.path)
            if edited:
                self.undo_stack.resetClean()  # unsaved until the user saves
            self.draft_changed.emit(False)
            self.modified_changed.emit(self.modified)
        elif dump_workflow(loaded.model) != self.yaml_text():
            self.undo_stack.push(ReplaceWorkflowCommand(self.model, loaded.model))
        return TextResult(True, list(loaded.problems))

    def open_draft(self, text: str, path: str) -> None:
        """Hold a file's text that does not parse (an unknown key, a syntax error) so that it
        can be fixed in the YAML tab; the workflow is empty until it parses."""
        self.replace_workflow(Workflow(), path)
        self.draft, self._draft_edited = text, False
        self.draft_changed.emit(True)
        self.validate_now()

    @classmethod
    def open(cls, path: str, parent: QObject | None = None) -> WorkflowDocument:
        """Read a workflow file; raises the engine's LoadError, whose problems say where."""
        workflow, opened = read_for_editing(path)
        doc = cls(workflow, str(path), parent)
        doc._opened = opened
        return doc

    def replace_workflow(
        self,
        workflow: Workflow,
        path: str | None = None,
        opened: tuple[str, list[Problem]] | None = None,
    ) -> None:
        """Show another workflow (new, open, revert): clears undo history; the model emits
        `reset` (with `path` already the new one), then `path_changed` follows if it changed.
        `opened` is the text of the file it was read from and the problems found in it then,
        so that opening checks the file once."""
        self._opened = opened
        self.undo_stack.clear()
        self.undo_stack.setClean()
        if self.draft is not None:  # another workflow came (new, open): the draft goes
            self.draft, self._draft_edited = None, False
            self.draft_changed.emit(False)
        moved = path != self.path
        self.path = path
        self.model.set_workflow(workflow)
        if moved:
            self.path_changed.emit(path or "")
        self.validate_now()

    def save(self, path: str | None = None) -> None:
        """Write the YAML atomically; on failure the old file is intact and OSError says why."""
        target = str(path) if path is not None else self.path
        if not target:
            raise OSError("This workflow has no file yet: choose where to save it (Save As).")
        data = self.yaml_text().encode("utf-8")  # a draft is saved as the user wrote it
        f = QSaveFile(target)
        if not f.open(QSaveFile.OpenModeFlag.WriteOnly):
            raise OSError(
                f"Cannot save {target}: {f.errorString()}. Check that the folder "
                "exists and that you may write there, or choose another place."
            )
        written = f.write(data)
        if written != len(data):
            reason = f.errorString()
            f.cancelWriting()
            raise OSError(
                f"Cannot save {target}: writing failed ({reason}); the file on disk "
                "was left as it was. Free some disk space or choose another place."
            )
        if not f.commit():
            raise OSError(
                f"Cannot save {target}: {f.errorString()}; the file on disk was left "
                "as it was. Check permissions or choose another place."
            )
        if target != self.path:
            self.path = target
            self.path_changed.emit(target)
        if self._draft_edited:
            self._draft_edited = False
            self.modified_changed.emit(self.modified)
        self.undo_stack.setClean()

    def _on_clean_changed(self, clean: bool) -> None:
        self.modified_changed.emit(not clean)


def read_for_editing(path: str) -> tuple[Workflow, tuple[str, list[Problem]]]:
    """A workflow file's model, and its text with the problems found in it, for
    `replace_workflow(…, opened=)`: the file is read, parsed and checked once. Raises the
    engine's LoadError (whose problems say where) or OSError."""
    data = read_text(path)
    loaded = open_workflow(path, data)
    return loaded.unwrap_model(), (data.decode("utf-8", "replace"), list(loaded.problems))


def _pos(p: Any) -> Pos:
    return (float(p[0]), float(p[1]))


def key_name(field: str) -> str:
    """The file's key for a model field, as undo labels name it: `on_error` → `onError`,
    `max_concurrency` → `maxConcurrency`, `if_` → `if`, `with_` → `with`."""
    head, *rest = field.rstrip("_").split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)
