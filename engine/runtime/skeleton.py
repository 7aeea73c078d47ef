"""What every run of a workflow builds before its first step, built once per workflow.

A run needs the step graph wired (who waits on whom, checked for unknown steps and cycles), a
`CallPlan` per call step (defaults merged, URL, retry policy, where secrets go) and the
validator of the input schema. For a small workflow run often (a server's, a benchmark's)
building them was a fifth of the engine's own CPU per run (the validator alone as much again),
so they are kept per workflow object. A workflow is a plain mutable model (the designer edits
steps in place, scripts may too), so the kept skeleton is only used while the workflow still
equals what it was built from: every run compares each step with a deep copy taken then
(dataclass equality, so a field added to the model is covered without a change here), and the
defaults, the input schema and the services the same way. That check costs a few percent of a
build; a workflow that changed is built again. Workflows larger than CACHE_MAX_STEPS are built
for every run (the build is then a small part of the run, and a copy of every step would be
kept for as long as the workflow lives).
"""

from __future__ import annotations

import copy
import weakref
from collections.abc import Mapping
from typing import Any

from engine.core.errors import Problem, ValidationError
from engine.core.graph import topological_order
from engine.core.model import AnyStep, CallStep, Workflow
from engine.runtime.calls import CallPlan

__all__ = ["Skeleton", "skeleton", "CACHE_MAX_STEPS"]

CACHE_MAX_STEPS = 1_000


class Skeleton:
    """Per step, in the workflow's order: the step, its call plan (None unless a call step),
    how many steps it waits on, and the indices of the steps that wait on it; and the
    validator of the workflow's input schema, made when a run first needs it."""

    __slots__ = ("steps", "plans", "waiting", "dependents", "schema", "_validator", "_seen")

    def __init__(
        self,
        steps: list[AnyStep],
        plans: list[CallPlan | None],
        waiting: list[int],
        dependents: list[list[int]],
        schema: Any,
    ) -> None:
        self.steps = steps
        self.plans = plans
        self.waiting = waiting
        self.dependents = dependents
        self.schema = schema  # the workflow's `input`
        self._validator: Any = None
        self._seen: tuple[Any, ...] = ()  # what it was built from (deep copies), when kept

    def validator(self) -> Any:
        """The input schema's jsonschema validator (a schema is needed)."""
        if self._validator is None:
            import jsonschema

            self._validator = jsonschema.Draft202012Validator(self.schema)
        return self._validator


_KEPT: dict[int, Skeleton] = {}


def skeleton(workflow: Workflow, services: Mapping[str, str]) -> Skeleton:
    """The workflow's skeleton for a run with `services`: the kept one while the workflow, its
    defaults and the services are as they were, else built (and kept, for a small workflow).
    Raises ValidationError for a broken graph."""
    key = id(workflow)
    kept = _KEPT.get(key)
    if kept is not None and _unchanged(kept, workflow, services):
        return kept
    built = _build(workflow, services)
    if len(workflow.steps) <= CACHE_MAX_STEPS:
        built._seen = _seen(workflow, services)
        built.schema = built._seen[-1]  # the copy: an edit in place must not reach it
        if kept is None:
            weakref.finalize(workflow, _KEPT.pop, key, None)
        _KEPT[key] = built
    return built


def _seen(workflow: Workflow, services: Mapping[str, str]) -> tuple[Any, ...]:
    return copy.deepcopy(
        (
            workflow.steps,
            workflow.defaults,
            dict(services),
            getattr(services, "environment", None),
            getattr(services, "mocked", None),
            workflow.input,
        )
    )


def _unchanged(kept: Skeleton, workflow: Workflow, services: Mapping[str, str]) -> bool:
    steps, defaults, urls, environment, mocked, schema = kept._seen
    now = workflow.steps
    if len(now) != len(steps) or workflow.defaults != defaults or services != urls:
        return False
    if workflow.input != schema:
        return False
    if getattr(services, "environment", None) != environment:
        return False
    if getattr(services, "mocked", None) != mocked:
        return False
    for step, was, built_from in zip(now, steps, kept.steps, strict=True):
        # the very object the plans refer to, with the content it had then
        if step is not built_from or step != was:
            return False
    return True


def _build(workflow: Workflow, services: Mapping[str, str]) -> Skeleton:
    steps = list(workflow.steps)
    index: dict[str, int] = {}
    problems: list[Problem] = []
    for i, step in enumerate(steps):
        if step.id in index:
            problems.append(
                Problem(
                    f"step id '{step.id}' is used twice; give each step its own id",
                    ("steps", i, "id"),
                    step_id=step.id,
                )
            )
        index[step.id] = i
    waiting = [0] * len(steps)
    dependents: list[list[int]] = [[] for _ in steps]
    for i, step in enumerate(steps):
        for dep in dict.fromkeys(step.after):
            target = index.get(dep)
            if target is None:
                problems.append(
                    Problem(
                        f"step '{step.id}' comes after '{dep}', which does not exist",
                        ("steps", i, "after"),
                        step_id=step.id,
                    )
                )
                continue
            waiting[i] += 1
            dependents[target].append(i)
    if not problems:
        _, left = topological_order({s.id: s.after for s in steps})
        if left:
            problems.append(
                Problem(
                    f"steps {', '.join(left)} wait on each other in a cycle; "
                    "remove one of their `after` links",
                    ("steps",),
                )
            )
    if problems:
        raise ValidationError(problems)
    plans = [
        CallPlan(s, workflow.defaults, services) if isinstance(s, CallStep) else None for s in steps
    ]
    return Skeleton(steps, plans, waiting, dependents, workflow.input)
