"""A run's steps before and as they run: their states, wired from the workflow's skeleton, and
the check of the run's input against the workflow's `input` schema (its validator kept with
the skeleton)."""

from __future__ import annotations

import asyncio
from typing import Any

from engine.core.model import AnyStep
from engine.runtime.calls import CallPlan
from engine.runtime.skeleton import Skeleton

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


def step_states(sk: Skeleton) -> list[StepState]:
    """A run's step states, wired to their dependents, call steps with their plans."""
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


def check_input(sk: Skeleton, value: Any) -> str | None:
    """A message when the run input breaks the workflow's `input` schema, else None."""
    if not sk.schema:
        return None
    import jsonschema

    error = jsonschema.exceptions.best_match(sk.validator().iter_errors(value))
    if error is None:
        return None
    if value is None:
        required = sk.schema.get("required") if isinstance(sk.schema, dict) else None
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
