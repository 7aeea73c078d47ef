"""WorkflowDocument: the engine model plus its undo stack; the only thing that mutates the model.

Views read `document.workflow` and follow the signals; every edit goes through one public
method that pushes exactly one undo command (document/commands.py). Positions of steps that the
file gives no `layout` for are computed on open and kept aside (`_auto`) so that an unedited
document saves byte for byte as it was read; the first edit that touches positions writes them
all into the model's layout, so what is saved is what was seen.
"""

from __future__ import annotations

import copy
from typing import Any

from PySide6.QtCore import QObject, QSaveFile, QTimer, Signal
from PySide6.QtGui import QUndoStack

from designer.document.commands import (
    AddStepsCommand,
    MoveStepsCommand,
    Pos,
    RemoveCommand,
    RenameStepCommand,
    SetAfterCommand,
    SetStepFieldCommand,
    SetWorkflowFieldCommand,
    describe_move,
    describe_removal,
)
from engine import (
    AnyStep,
    Problem,
    Workflow,
    base_id,
    can_connect,
    check_step_id,
    dump_workflow,
    layered_layout,
    layered_positions,
    open_workflow,
    parse_workflow,
    read_text,
    remap_pasted,
    rename_patches,
    unique_id,
    validate_workflow,
)

__all__ = ["WorkflowDocument"]

_VALIDATE_DELAY_MS = 150


class WorkflowDocument(QObject):
    """One open workflow: model, undo stack, file path, validation problems."""

    reset = Signal()
    step_added = Signal(str)
    step_removed = Signal(str)
    step_changed = Signal(str)
    step_renamed = Signal(str, str)
    step_moved = Signal(str)
    workflow_changed = Signal()
    changed = Signal()
    problems_changed = Signal()
    modified_changed = Signal(bool)
    path_changed = Signal(str)

    def __init__(self, workflow: Workflow | None = None, path: str | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.workflow = workflow if workflow is not None else Workflow()
        self.path = path
        self.problems: list[Problem] = []
        self._auto: dict[str, Pos] = {}
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self._validate_timer = QTimer(self)
        self._validate_timer.setSingleShot(True)
        self._validate_timer.setInterval(_VALIDATE_DELAY_MS)
        self._validate_timer.timeout.connect(self.validate_now)
        # (file name, text) last checked, and its problems: the same check is not made twice
        self._checked: tuple[tuple[str, str], list[Problem]] | None = None
        self._place_unpositioned()
        self._validate_timer.start()

    # --- state ----------------------------------------------------------------------------

    @property
    def modified(self) -> bool:
        return not self.undo_stack.isClean()

    def position(self, step_id: str) -> Pos:
        pos = self.workflow.layout.get(step_id)
        if pos is None:
            pos = self._auto.get(step_id, (0.0, 0.0))
        return (float(pos[0]), float(pos[1]))

    def problems_for(self, step_id: str) -> list[Problem]:
        return [p for p in self.problems if p.step_id == step_id]

    def validate_if_pending(self) -> None:
        """Validate now if an edit is still waiting for its check (so `problems` is current)."""
        if self._validate_timer.isActive():
            self.validate_now()

    def validate_now(self) -> None:
        """Re-run validation at once (edits schedule it after a short pause)."""
        self._validate_timer.stop()
        # Checking the text as it will be saved gives every problem a line and column in it.
        key = (self.path or "untitled.yaml", self.yaml_text())
        if self._checked is not None and self._checked[0] == key:
            self.problems = list(self._checked[1])  # e.g. a canonical file just opened
        else:
            loaded = parse_workflow(key[1], key[0])
            if loaded.model is not None:
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
        self.undo_stack.push(AddStepsCommand(self, [step], {step.id: _pos(pos)},
                                             f"Add step {step.id}"))
        return step.id

    def remove_steps(self, ids: list[str]) -> None:
        self.remove(ids, [])

    def remove(self, ids: list[str], edges: list[tuple[str, str]],
               text: str | None = None) -> None:
        """Remove steps and edges `(src, dst)` in one undo step."""
        ids = [i for i in dict.fromkeys(ids) if self.workflow.find(i) is not None]
        edges = [(s, d) for s, d in edges if (st := self.workflow.find(d)) and s in st.after]
        if not ids and not edges:
            return
        self.undo_stack.push(RemoveCommand(self, ids, edges, text or describe_removal(ids, edges)))

    def move_steps(self, moves: dict[str, tuple[Pos, Pos]]) -> None:
        moves = {k: (_pos(o), _pos(n)) for k, (o, n) in moves.items()
                 if self.workflow.find(k) is not None and _pos(o) != _pos(n)}
        if not moves:
            return
        text = describe_move(len(moves)) if len(moves) > 1 else f"Move step {next(iter(moves))}"
        self.undo_stack.push(MoveStepsCommand(self, moves, text))

    def can_connect(self, src: str, dst: str) -> str | None:
        """Why `src → dst` cannot be added, or None if it can."""
        return can_connect(self.workflow, src, dst)

    def connect(self, src: str, dst: str) -> str | None:
        reason = self.can_connect(src, dst)
        if reason is not None:
            return reason
        old = self.workflow.step(dst).after
        self.undo_stack.push(SetAfterCommand(self, dst, old, old + [src], f"Connect {src} → {dst}"))
        return None

    def disconnect(self, src: str, dst: str) -> None:
        step = self.workflow.find(dst)
        if step is None or src not in step.after:
            return
        new = [a for a in step.after if a != src]
        self.undo_stack.push(SetAfterCommand(self, dst, step.after, new,
                                             f"Disconnect {src} → {dst}"))

    def set_step_field(self, step_id: str, field: str, value: Any) -> None:
        if field == "id":
            raise ValueError("change a step's id with rename_step, which updates references")
        step = self.workflow.step(step_id)
        if not hasattr(step, field):
            raise AttributeError(f"a {type(step).__name__} has no field '{field}'")
        old = getattr(step, field)
        if old == value and type(old) is type(value):
            return
        label = field.rstrip("_")
        self.undo_stack.push(SetStepFieldCommand(self, step_id, field, old, value,
                                                 f"Change {label} of {step_id}"))

    def rename_step(self, old: str, new: str) -> str | None:
        """Rename a step and every reference to it in one undo step; why not, or None."""
        reason = check_step_id(self.workflow, old, new)
        if reason is not None or new == old:
            return reason
        patches = rename_patches(self.workflow, old, new)
        self.undo_stack.push(RenameStepCommand(self, old, new, patches))
        return None

    def set_workflow_field(self, field: str, value: Any) -> None:
        if field in ("steps", "layout") or not hasattr(self.workflow, field):
            raise AttributeError(f"'{field}' is not a workflow setting")
        old = getattr(self.workflow, field)
        if old == value and type(old) is type(value):
            return
        self.undo_stack.push(SetWorkflowFieldCommand(self, field, old, value, f"Change {field}"))

    def paste(self, steps: list[AnyStep], layout: dict[str, Pos], offset: Pos,
              text: str | None = None) -> list[str]:
        if not steps:
            return []
        new_steps, positions = remap_pasted(steps, layout, set(self.workflow.ids), offset)
        if text is None:
            text = f"Paste step {new_steps[0].id}" if len(new_steps) == 1 \
                else f"Paste {len(new_steps)} steps"
        self.undo_stack.push(AddStepsCommand(self, new_steps, positions, text))
        return [s.id for s in new_steps]

    def auto_layout(self) -> None:
        new = layered_layout(self.workflow)
        moves = {k: (self.position(k), v) for k, v in new.items() if self.position(k) != v}
        if moves:
            self.undo_stack.push(MoveStepsCommand(self, moves, "Auto-layout"))

    # --- files ----------------------------------------------------------------------------

    def yaml_text(self) -> str:
        return dump_workflow(self.workflow)

    @classmethod
    def open(cls, path: str, parent: QObject | None = None) -> WorkflowDocument:
        """Read a workflow file; raises engine.errors.LoadError whose problems say where."""
        data = read_text(path)
        loaded = open_workflow(path, data)
        doc = cls(loaded.unwrap_model(), str(path), parent)
        # a canonical file reads as it will be saved: its problems (with their lines and
        # columns) need not be found again by parsing the same text (half the time of opening
        # a 2,000-step file)
        doc._checked = ((str(path), data.decode("utf-8", "replace")), list(loaded.problems))
        return doc

    def replace_workflow(self, workflow: Workflow, path: str | None = None) -> None:
        """Show another workflow (new, open, revert): clears undo history, emits `reset`."""
        self.workflow = workflow
        self._auto = {}
        self._place_unpositioned()
        self.undo_stack.clear()
        self.undo_stack.setClean()
        self.reset.emit()
        if path != self.path:
            self.path = path
            self.path_changed.emit(path or "")
        self.changed.emit()
        self.validate_now()

    def save(self, path: str | None = None) -> None:
        """Write the YAML atomically; on failure the old file is intact and OSError says why."""
        target = str(path) if path is not None else self.path
        if not target:
            raise OSError("This workflow has no file yet: choose where to save it (Save As).")
        data = self.yaml_text().encode("utf-8")
        f = QSaveFile(target)
        if not f.open(QSaveFile.OpenModeFlag.WriteOnly):
            raise OSError(f"Cannot save {target}: {f.errorString()}. Check that the folder "
                          "exists and that you may write there, or choose another place.")
        written = f.write(data)
        if written != len(data):
            reason = f.errorString()
            f.cancelWriting()
            raise OSError(f"Cannot save {target}: writing failed ({reason}); the file on disk "
                          "was left as it was. Free some disk space or choose another place.")
        if not f.commit():
            raise OSError(f"Cannot save {target}: {f.errorString()}; the file on disk was left "
                          "as it was. Check permissions or choose another place.")
        if target != self.path:
            self.path = target
            self.path_changed.emit(target)
        self.undo_stack.setClean()

    # --- primitives for commands (emit signals; never push) -------------------------------

    def _insert_step(self, index: int, step: AnyStep, pos: Pos | None, stored: bool) -> None:
        self.workflow.steps.insert(index, step)
        if pos is not None:
            (self.workflow.layout if stored else self._auto)[step.id] = pos
        self.step_added.emit(step.id)

    def _remove_step(self, step_id: str) -> tuple[int, AnyStep, Pos | None, bool]:
        index = self.workflow.index_of(step_id)
        step = self.workflow.steps.pop(index)
        stored = step_id in self.workflow.layout
        pos = self.workflow.layout.pop(step_id, None) if stored else self._auto.pop(step_id, None)
        self.step_removed.emit(step_id)
        return index, step, pos, stored

    def _set_attr(self, step_id: str, field: str, value: Any) -> None:
        setattr(self.workflow.step(step_id), field, value)
        self.step_changed.emit(step_id)

    def _set_workflow_attr(self, field: str, value: Any) -> None:
        setattr(self.workflow, field, value)
        self.workflow_changed.emit()

    def _set_positions(self, positions: dict[str, Pos]) -> None:
        for k, v in positions.items():
            self.workflow.layout[k] = v
            self.step_moved.emit(k)

    def _rename_step(self, old: str, new: str) -> None:
        self.workflow.step(old).id = new
        for table in (self.workflow.layout, self._auto):
            if old in table:
                _rekey(table, old, new)
        self.step_renamed.emit(old, new)

    def _materialize_positions(self) -> dict[str, Pos]:
        """Write computed positions into the model (first positional edit); returns them."""
        moved, self._auto = self._auto, {}
        for sid in self.workflow.ids:
            if sid in moved:
                self.workflow.layout[sid] = moved[sid]
        return moved

    def _dematerialize_positions(self, moved: dict[str, Pos]) -> None:
        for k, v in moved.items():
            self.workflow.layout.pop(k, None)
            self._auto[k] = v

    def _on_clean_changed(self, clean: bool) -> None:
        self.modified_changed.emit(not clean)

    def _done(self) -> None:
        self.changed.emit()
        self._validate_timer.start()

    def _place_unpositioned(self) -> None:
        """Compute positions for steps without one, leaving the model untouched."""
        wf = self.workflow
        missing = [s.id for s in wf.steps if s.id not in wf.layout]
        if not missing:
            return
        if len(missing) == len(wf.steps):
            self._auto = layered_layout(wf)
            return
        # lay the newcomers out among themselves, below what the file already places
        placed = layered_positions(missing, {s.id: s.after for s in wf.steps})
        bottom = max(float(p[1]) for p in wf.layout.values()) + 160.0
        left = min(float(p[0]) for p in wf.layout.values())
        top = min(y for _, y in placed.values())
        self._auto = {k: (left + x, bottom + y - top) for k, (x, y) in placed.items()}


def _rekey(table: dict[str, Pos], old: str, new: str) -> None:
    """Rename a key in place, keeping its position in the dict's order."""
    items = [((new if k == old else k), v) for k, v in table.items()]
    table.clear()
    table.update(items)


def _pos(p: Any) -> Pos:
    return (float(p[0]), float(p[1]))
