"""Undo commands redo and undo through an ObservableWorkflow alone, one `changed` each way."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QUndoStack

from designer.document.commands import (
    AddStepsCommand,
    MoveStepsCommand,
    RemoveCommand,
    RenameStepCommand,
    SetAfterCommand,
    SetStepFieldCommand,
    SetWorkflowFieldCommand,
)
from designer.document.observable import ObservableWorkflow
from engine import EmitStep, rename_patches
from tests.designer.conftest import small_workflow
from tests.designer.document.test_observable import unplaced


@pytest.fixture
def model(qapp):  # noqa: ARG001 - a QObject
    m = ObservableWorkflow(small_workflow())
    yield m
    m.deleteLater()


@pytest.fixture
def stack(qapp):  # noqa: ARG001
    s = QUndoStack()
    yield s
    s.deleteLater()


def changes(model: ObservableWorkflow) -> list[int]:
    """A counter of `changed`: `len()` of the returned list."""
    out: list[int] = []
    model.changed.connect(lambda: out.append(1))
    return out


def snapshot(model: ObservableWorkflow) -> tuple:
    wf = model.workflow
    return (
        wf.ids,
        [list(s.after) for s in wf.steps],
        dict(wf.layout),
        wf.output,
        {sid: model.position(sid) for sid in wf.ids},
    )


def round_trip(stack: QUndoStack, model: ObservableWorkflow, command) -> tuple:
    """Push, undo, redo: `changed` once each way, and the undo restores the model exactly."""
    before = snapshot(model)
    changed = changes(model)
    stack.push(command)
    after = snapshot(model)
    assert len(changed) == 1
    stack.undo()
    assert snapshot(model) == before and len(changed) == 2
    stack.redo()
    assert snapshot(model) == after and len(changed) == 3
    return after


def test_add_steps_appends_and_undo_takes_them_out(stack, model):
    steps = [EmitStep(id="a", event="e"), EmitStep(id="b", after=["a"], event="e")]
    ids, _, layout, _, _ = round_trip(
        stack, model, AddStepsCommand(model, steps, {"a": (0.0, 300.0), "b": (240.0, 300.0)}, "Add")
    )
    assert ids[-2:] == ["a", "b"] and layout["b"] == (240.0, 300.0)


def test_adding_to_an_unplaced_workflow_stores_every_shown_position(stack, qapp):
    model = ObservableWorkflow(unplaced())
    shown = {sid: model.position(sid) for sid in model.workflow.ids}
    stack.push(AddStepsCommand(model, [EmitStep(id="e", event="e")], {"e": (0.0, 500.0)}, "Add"))
    assert model.workflow.layout == {**shown, "e": (0.0, 500.0)}
    stack.undo()
    assert model.workflow.layout == {}
    assert {sid: model.position(sid) for sid in model.workflow.ids} == shown


def test_remove_cuts_edges_to_removed_steps_and_edges_asked_for(stack, model):
    model.set_step_field("pause", "after", ["fetch"])
    ids, afters, layout, _, _ = round_trip(
        stack, model, RemoveCommand(model, ["check"], [("fetch", "pause")], "Delete")
    )
    assert ids == ["fetch", "report", "pause"]
    assert afters == [[], [], []] and "check" not in layout


def test_remove_puts_unplaced_steps_back_unplaced(stack, qapp):
    model = ObservableWorkflow(unplaced())
    stack.push(RemoveCommand(model, ["two", "one"], [], "Delete"))
    assert model.workflow.ids == ["three"]
    stack.undo()
    assert model.workflow.ids == ["one", "two", "three"] and model.workflow.layout == {}


def test_move_steps_sets_new_positions_and_undo_the_old(stack, model):
    _, _, layout, _, _ = round_trip(
        stack, model, MoveStepsCommand(model, {"fetch": ((0.0, 0.0), (10.0, 20.0))}, "Move")
    )
    assert layout["fetch"] == (10.0, 20.0)


def test_set_after_replaces_one_list(stack, model):
    _, afters, _, _, _ = round_trip(
        stack, model, SetAfterCommand(model, "report", ["check"], ["check", "pause"], "Connect")
    )
    assert afters[2] == ["check", "pause"]


def test_step_field_edits_merge_and_typing_back_leaves_nothing(stack, model):
    original = model.workflow.step("report").message
    for text in ("a", "ab"):
        stack.push(
            SetStepFieldCommand(
                model, "report", "message", model.workflow.step("report").message, text, "Change"
            )
        )
    assert stack.count() == 1 and model.workflow.step("report").message == "ab"
    stack.push(SetStepFieldCommand(model, "report", "message", "ab", original, "Change"))
    assert stack.count() == 0 and model.workflow.step("report").message == original


def test_step_field_edits_of_another_model_do_not_merge(stack, model, qapp):
    other = ObservableWorkflow(small_workflow())
    stack.push(SetStepFieldCommand(model, "report", "message", "x", "a", "Change"))
    stack.push(SetStepFieldCommand(other, "report", "message", "x", "b", "Change"))
    assert stack.count() == 2


def test_workflow_field_edits_merge(stack, model):
    stack.push(SetWorkflowFieldCommand(model, "name", "sample", "x", "Change"))
    stack.push(SetWorkflowFieldCommand(model, "name", "x", "xy", "Change"))
    assert stack.count() == 1 and model.workflow.name == "xy"
    stack.undo()
    assert model.workflow.name == "sample"


def test_rename_applies_the_engines_patches_both_ways(stack, model):
    model.set_workflow_field("output", {"v": "${ steps.check.output }"})
    patches = rename_patches(model.workflow, "check", "verify")
    renamed = []
    model.step_renamed.connect(lambda old, new: renamed.append((old, new)))
    ids, afters, layout, output, _ = round_trip(
        stack, model, RenameStepCommand(model, "check", "verify", patches)
    )
    assert ids[1] == "verify" and afters[2] == ["verify"] and "verify" in layout
    assert output == {"v": "${ steps.verify.output }"}
    assert model.workflow.step("report").message == "status ${ steps.verify.output.status }"
    assert renamed == [("check", "verify"), ("verify", "check"), ("check", "verify")]
