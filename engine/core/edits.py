"""Edits of a workflow model as pure functions: renaming a step and every reference to it,
whether an `after` edge may be added, and the ids and positions of pasted steps.

The designer's undo commands apply what these compute; importers and any other editor of a
model use the same rules.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from typing import Any

from engine.core.expressions import TemplateSyntaxError, split_template
from engine.core.graph import after_map, comes_before
from engine.core.model import AnyStep, Workflow
from engine.core.names import ID_RE, base_id, unique_id

__all__ = [
    "rename_references",
    "rename_patches",
    "can_connect",
    "check_step_id",
    "remap_pasted",
    "PLAIN_FIELDS",
    "Patch",
    "Pos",
]

Pos = tuple[float, float]
# (step id, or None for the workflow itself; model field; old value; new value)
Patch = tuple[str | None, str, Any, Any]

# step fields that never hold `${ }` references (or are handled on their own)
PLAIN_FIELDS = frozenset(
    {
        "id",
        "after",
        "description",
        "service",
        "action",
        "method",
        "timeout",
        "retry",
        "on_error",
        "max_concurrency",
        "wait",
        "level",
        "event",
        "comments",  # YAML comments: text, never a reference
    }
)


def _rename_in_expression(text: str, old: str, new: str) -> str:
    """Rewrite `steps.<old>` to `steps.<new>` outside quoted literals of one `${ }`."""
    pattern = re.compile(r"(?<![\w.])(steps\s*\.\s*)" + re.escape(old) + r"(?!\w)")
    out: list[str] = []
    i, n, start = 0, len(text), 0
    while i < n:
        c = text[i]
        if c in "'\"`":
            out.append(pattern.sub(lambda m: m.group(1) + new, text[start:i]))
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(text[i : j + 1])
            i = start = j + 1
            continue
        i += 1
    out.append(pattern.sub(lambda m: m.group(1) + new, text[start:]))
    return "".join(out)


def rename_references(value: Any, old: str, new: str) -> Any:
    """A copy of `value` with `steps.<old>` inside every `${ }` renamed to `steps.<new>`."""
    if isinstance(value, str):
        if "${" not in value or old not in value:
            return value
        try:
            segments = split_template(value)
        except TemplateSyntaxError:
            return value  # leave broken templates as typed; validation reports them
        return "".join(
            _rename_in_expression(s.text, old, new) if s.expr is not None else s.text
            for s in segments
        )
    if isinstance(value, dict):
        return {k: rename_references(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [rename_references(v, old, new) for v in value]
    return value


def check_step_id(workflow: Workflow, old: str, new: str) -> str | None:
    """Why step `old` cannot be renamed to `new`, or None if it can."""
    if workflow.find(old) is None:
        return f"There is no step '{old}'."
    if new == old:
        return None
    if not ID_RE.match(new):
        return (
            f"'{new}' is not a valid step id: use letters, digits and _, not starting with a digit."
        )
    if workflow.find(new) is not None:
        return f"Another step already has the id '{new}'."
    return None


def rename_patches(workflow: Workflow, old: str, new: str) -> list[Patch]:
    """Every change renaming step `old` to `new` makes besides the id itself: `after` lists and
    `${ steps.old… }` references in steps and in the workflow's output."""
    patches: list[Patch] = []
    for step in workflow.steps:
        owner = step.id
        if old in step.after:
            patches.append(
                (owner, "after", list(step.after), [new if a == old else a for a in step.after])
            )
        for field in vars(step):
            if field in PLAIN_FIELDS:
                continue
            value = getattr(step, field)
            renamed = rename_references(value, old, new)
            if renamed != value:
                patches.append((owner, field, value, renamed))
    out = rename_references(workflow.output, old, new)
    if out != workflow.output:
        patches.append((None, "output", workflow.output, out))
    return patches


def can_connect(workflow: Workflow, src: str, dst: str) -> str | None:
    """Why the edge `src → dst` (dst runs after src) cannot be added, or None if it can."""
    if workflow.find(src) is None or workflow.find(dst) is None:
        missing = src if workflow.find(src) is None else dst
        return f"There is no step '{missing}'."
    if src == dst:
        return f"A step cannot run after itself ('{src}')."
    if src in workflow.step(dst).after:
        return f"'{dst}' already runs after '{src}'."
    if comes_before(after_map(workflow), dst, src):
        return (
            f"Connecting {src} → {dst} would make a cycle: '{src}' already runs after "
            f"'{dst}'. Remove an edge on that path first."
        )
    return None


def remap_pasted(
    steps: Sequence[AnyStep],
    layout: Mapping[str, Pos],
    taken: set[str],
    offset: Pos,
    keep_after: set[str] | frozenset[str] = frozenset(),
) -> tuple[list[AnyStep], dict[str, Pos]]:
    """Copies of `steps` with ids unique among `taken`, references and `after` edges inside the
    selection renamed to match, and their positions moved by `offset`. An edge to a step
    outside the selection is kept when that step is in `keep_after` (a duplicate in the same
    workflow runs after what the original runs after), else dropped. `taken` is not changed."""
    taken = set(taken)
    mapping: dict[str, str] = {}
    for s in steps:
        mapping[s.id] = unique_id(s.id or base_id(s), taken)
        taken.add(mapping[s.id])
    new_steps: list[AnyStep] = []
    positions: dict[str, Pos] = {}
    for i, s in enumerate(steps):
        c = copy.deepcopy(s)
        for old, new in mapping.items():
            if old != new:
                for field in vars(c):
                    if field not in PLAIN_FIELDS:
                        setattr(c, field, rename_references(getattr(c, field), old, new))
        c.id = mapping[s.id]
        c.after = [mapping.get(a, a) for a in s.after if a in mapping or a in keep_after]
        x, y = layout.get(s.id, (i * 40.0, i * 40.0))
        positions[c.id] = (float(x) + offset[0], float(y) + offset[1])
        new_steps.append(c)
    return new_steps, positions
