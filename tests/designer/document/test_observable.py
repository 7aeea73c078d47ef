"""ObservableWorkflow: each setter changes the model and emits what changed, then `changed`."""

from __future__ import annotations

import pytest

from designer.document.observable import ObservableWorkflow, RemovedStep
from engine import EmitStep, Workflow, parse_workflow
from tests.designer.conftest import small_workflow

_SIGNALS = (
    "reset",
    "step_added",
    "step_removed",
    "step_changed",
    "step_renamed",
    "step_moved",
    "workflow_changed",
    "changed",
)


@pytest.fixture
def model(qapp):  # noqa: ARG001 - a QObject
    m = ObservableWorkflow(small_workflow())
    yield m
    m.deleteLater()


@pytest.fixture
def seen(model):
    """Every signal the model emits, in order, with its arguments."""
    out: list[tuple] = []
    for name in _SIGNALS:
        getattr(model, name).connect(lambda *args, n=name: out.append((n, *args)))
    return out


def unplaced() -> Workflow:
    """Three steps and no layout: every position is computed."""
    loaded = parse_workflow(
        "version: 1\nname: plain\nsteps:\n  - service: A\n    action: one\n"
        "  - service: A\n    action: two\n    after: [one]\n"
        "  - service: A\n    action: three\n",
        "plain.yaml",
    )
    assert loaded.model is not None
    return loaded.model


def test_insert_step_adds_it_where_asked_with_its_position(model, seen):
    model.insert_step(1, EmitStep(id="note", event="e"), (7.0, 8.0))
    assert model.workflow.ids == ["fetch", "note", "check", "report", "pause"]
    assert model.workflow.layout["note"] == (7.0, 8.0)
    assert model.position("note") == (7.0, 8.0)
    assert seen == [("step_added", "note"), ("changed",)]


def test_insert_step_with_a_computed_position_leaves_the_layout_alone(model, seen):
    model.insert_step(0, EmitStep(id="note", event="e"), (7.0, 8.0), stored=False)
    assert "note" not in model.workflow.layout
    assert model.position("note") == (7.0, 8.0)


def test_remove_step_hands_back_what_insert_step_puts_back(model, seen):
    removed = model.remove_step("check")
    assert removed == RemovedStep(1, removed.step, (240, 0), True)
    assert removed.step.id == "check" and "check" not in model.workflow.layout
    assert model.workflow.ids == ["fetch", "report", "pause"]
    assert seen == [("step_removed", "check"), ("changed",)]
    model.insert_step(removed.index, removed.step, removed.pos, stored=removed.stored)
    assert model.workflow.ids == ["fetch", "check", "report", "pause"]
    assert model.position("check") == (240.0, 0.0)


def test_set_step_field_changes_one_step(model, seen):
    model.set_step_field("report", "after", ["fetch"])
    assert model.workflow.step("report").after == ["fetch"]
    assert seen == [("step_changed", "report"), ("changed",)]


def test_set_step_field_refuses_the_id(model, seen):
    with pytest.raises(ValueError, match="rename_step"):
        model.set_step_field("report", "id", "x")
    assert model.workflow.find("report") is not None and seen == []


def test_set_workflow_field_changes_the_workflow(model, seen):
    model.set_workflow_field("name", "renamed")
    assert model.workflow.name == "renamed"
    assert seen == [("workflow_changed",), ("changed",)]
    with pytest.raises(ValueError, match="steps"):
        model.set_workflow_field("steps", [])


def test_set_positions_moves_each_step(model, seen):
    model.set_positions({"fetch": (1.0, 2.0), "pause": (3.0, 4.0)})
    assert model.workflow.layout["fetch"] == (1.0, 2.0)
    assert model.position("pause") == (3.0, 4.0)
    assert seen == [("step_moved", "fetch"), ("step_moved", "pause"), ("changed",)]


def test_rename_step_moves_its_position_and_keeps_the_layout_order(model, seen):
    model.rename_step("check", "verify")
    assert model.workflow.ids == ["fetch", "verify", "report", "pause"]
    assert list(model.workflow.layout) == ["fetch", "verify", "report", "pause"]
    assert model.position("verify") == (240.0, 0.0)
    assert seen == [("step_renamed", "check", "verify"), ("changed",)]


def test_edit_block_emits_changed_once(model, seen):
    with model.edit():
        model.set_step_field("report", "after", [])
        with model.edit():
            model.remove_step("check")
        assert ("changed",) not in seen
    assert seen == [("step_changed", "report"), ("step_removed", "check"), ("changed",)]


def test_an_edit_block_that_changes_nothing_emits_nothing(model, seen):
    with model.edit():
        pass
    assert seen == []


def test_set_workflow_resets_and_places_unplaced_steps(model, seen):
    model.set_workflow(unplaced())
    assert seen == [("reset",), ("changed",)]
    assert model.workflow.layout == {}
    assert model.position("one")[0] < model.position("two")[0]


def test_store_and_unstore_positions_keep_where_steps_are(qapp):
    model = ObservableWorkflow(unplaced())
    shown = {sid: model.position(sid) for sid in model.workflow.ids}
    stored = model.store_positions()
    assert model.workflow.layout == stored and set(stored) == {"one", "two", "three"}
    assert {sid: model.position(sid) for sid in model.workflow.ids} == shown
    model.unstore_positions(stored)
    assert model.workflow.layout == {}
    assert {sid: model.position(sid) for sid in model.workflow.ids} == shown
