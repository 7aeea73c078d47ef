"""A run's steps before and as they run: their states, wired from the workflow's skeleton, and
the check of the run's input against the workflow's `input` schema."""

from __future__ import annotations

import asyncio
import copy
import weakref
from collections.abc import Mapping
from typing import Any

from engine.core.model import AnyStep, Workflow
from engine.runtime.calls import CallPlan
from engine.runtime.skeleton import skeleton

__all__ = ["StepState", "step_states", "on_error", "check_input"]


class StepState:
    __slots__ = (
        "step",
        "id",
        "waiting",
        "live",
        "dependents",
        "status",
        "task",
        "started",
        "attempts",
        "calls",
        "plan",
    )

    def __init__(self, step: AnyStep) -> None:
        self.step = step
        self.id = step.id
        self.waiting = 0
        self.live = 0
        self.dependents: list[StepState] = []
        self.status: str | None = None
        self.task: asyncio.Task[None] | None = None
        self.started = 0.0
        self.attempts = 0
        self.calls: list[Any] = []
        self.plan: CallPlan | None = None


def step_states(workflow: Workflow, services: Mapping[str, str]) -> list[StepState]:
    """This run's step states, wired to their dependents, call steps with their plans. Raises
    ValidationError for a broken graph."""
    sk = skeleton(workflow, services)
    states = [StepState(s) for s in sk.steps]
    for st, plan, waiting, dependents in zip(
        states, sk.plans, sk.waiting, sk.dependents, strict=True
    ):
        st.plan = plan
        st.waiting = waiting
        st.dependents = [states[i] for i in dependents]
    return states


def on_error(st: StepState) -> str:
    return st.plan.on_error if st.plan is not None else "fail"


# The input schema's validator per workflow, kept while the schema is as it was (a validator
# built per run cost about as much as the rest of a 3-step run's own work).
_VALIDATORS: dict[int, tuple[Any, Any]] = {}


def _validator(workflow: Workflow) -> Any:
    import jsonschema

    key = id(workflow)
    kept = _VALIDATORS.get(key)
    if kept is not None and kept[0] == workflow.input:
        return kept[1]
    schema = copy.deepcopy(workflow.input)  # what it was built from, as it was then
    validator = jsonschema.Draft202012Validator(schema)
    if kept is None:
        weakref.finalize(workflow, _VALIDATORS.pop, key, None)
    _VALIDATORS[key] = (schema, validator)
    return validator


def check_input(workflow: Workflow, value: Any) -> str | None:
    """A message when the run input breaks the workflow's `input` schema, else None."""
    if not workflow.input:
        return None
    import jsonschema

    error = jsonschema.exceptions.best_match(_validator(workflow).iter_errors(value))
    if error is None:
        return None
    if value is None:
        required = workflow.input.get("required") if isinstance(workflow.input, dict) else None
        fields = ", ".join(str(r) for r in required) if isinstance(required, list) else ""
        example = ", ".join(f'"{r}": …' for r in required) if isinstance(required, list) else ""
        need = f"an object with {fields}" if fields else "an input"
        return (
            f"the run has no input, and the workflow's input schema needs {need}: pass it "
            f"(switchboard run --input '{{{example}}}', or the designer's Run Input)"
        )
    where = "input" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.path)
    return (
        f"the run input does not match the workflow's input schema at {where}: "
        f"{error.message}; pass an input that matches `input:` in the workflow"
    )
