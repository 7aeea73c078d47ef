"""What a `${ }` field can name, with values to preview against: the expression editor's data.

The sample scope is built as a run would see it at the field's step (FORMAT.md "Expressions"):
`input` is the last run's input, or a skeleton of the input schema; `steps.<id>` holds the steps
that run before this one, with the last run's outputs, or else the first mock answer's body;
`item`/`index` inside `foreach` (its first item); `run`; `secrets.<NAME>` for every
`SWITCHBOARD_SECRET_<NAME>` set in the designer's environment (values masked). Completion
offers every path into it and the JMESPath functions.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine import (
    EXPRESSION_FUNCTIONS,
    CallStep,
    LoadError,
    MocksFile,
    RunRecord,
    Workflow,
    after_map,
    comes_before,
    evaluate,
    load_mocks,
    mocks_files,
    split_template,
)

__all__ = [
    "SampleScope",
    "sample_scope",
    "completions",
    "folder_mocks",
    "SECRET_PREFIX",
    "ROOTS",
    "RESPONSE_ROOTS",
    "with_response",
]

SECRET_PREFIX = "SWITCHBOARD_SECRET_"
ROOTS = ("input", "steps", "item", "index", "run", "secrets")
RESPONSE_ROOTS = ("body", "status", "headers")  # what a call step's `output` sees besides
_MAX_DEPTH = 6  # paths deeper than this are not offered (typing on still evaluates them)
_MAX_PATHS = 2_000


@dataclass
class SampleScope:
    """The data an expression is previewed against, and where it came from (for the user)."""

    data: dict[str, Any]
    source: str  # "the last run (…)", "the mocks", "no run yet"
    step_ids: list[str] = field(default_factory=list)  # steps in scope, in step order


def _schema_skeleton(schema: Any, depth: int = 0) -> Any:
    """A value of the schema's shape: properties with their example, default, or a blank."""
    if not isinstance(schema, Mapping) or depth > 8:
        return None
    for key in ("example", "default"):
        if key in schema:
            return schema[key]
    if "examples" in schema and isinstance(schema["examples"], list) and schema["examples"]:
        return schema["examples"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        return {k: _schema_skeleton(v, depth + 1) for k, v in props.items()}
    if kind == "array":
        inner = _schema_skeleton(schema.get("items"), depth + 1)
        return [] if inner is None else [inner]
    return {"string": "", "integer": 0, "number": 0, "boolean": False}.get(str(kind))


def folder_mocks(workflow_path: str | None) -> MocksFile | None:
    """The mocks of the workflow's folder, merged (the first file naming an action wins;
    recordings last), or None when there are none or none reads."""
    if not workflow_path:
        return None
    files = sorted(
        mocks_files(os.path.dirname(workflow_path) or "."),
        key=lambda p: (".recording" in p.name, p.name),
    )
    merged = MocksFile()
    for path in files:
        try:
            mocks = load_mocks(path)
        except (LoadError, OSError):
            continue
        for key, answers in mocks.mocks.items():
            merged.mocks.setdefault(key, answers)
    return merged if merged.mocks else None


def _mock_body(mocks: MocksFile | None, step: CallStep) -> Any:
    if mocks is None:
        return None
    answers = mocks.mocks.get(f"{step.service}.{step.action}") or []
    for answer in answers:
        if answer.fault is None and answer.body is not None:
            return answer.body
    return None


def sample_scope(
    workflow: Workflow,
    step_id: str | None,
    record: RunRecord | None = None,
    mocks: MocksFile | None = None,
    environ: Mapping[str, str] | None = None,
) -> SampleScope:
    """The scope of an expression in step `step_id` (None: the workflow's `output`)."""
    after = after_map(workflow)
    before = [
        s.id
        for s in workflow.steps
        if step_id is None or (s.id != step_id and comes_before(after, s.id, step_id))
    ]
    steps: dict[str, Any] = {}
    used_run = used_mocks = False
    for sid in before:
        view = record.steps.get(sid) if record is not None else None
        entry: dict[str, Any] = {
            "output": None,
            "status": "succeeded",
            "attempts": 1,
            "error": None,
        }
        if view is not None and (view.output is not None or view.state != "pending"):
            entry = {
                "output": view.output,
                "status": view.state,
                "attempts": view.attempts,
                "error": view.error,
            }
            used_run = True
        else:
            step = workflow.find(sid)
            if isinstance(step, CallStep):
                body = _mock_body(mocks, step)
                if body is not None:
                    entry["output"] = body
                    used_mocks = True
        steps[sid] = entry
    run_input = record.input if record is not None and record.input is not None else None
    data: dict[str, Any] = {
        "input": run_input if run_input is not None else _schema_skeleton(workflow.input),
        "steps": steps,
        "run": {
            "id": record.run_id if record is not None else "run-id",
            "workflow": workflow.name,
        },
        "secrets": {
            name[len(SECRET_PREFIX) :]: "***"
            for name in (os.environ if environ is None else environ)
            if name.startswith(SECRET_PREFIX) and len(name) > len(SECRET_PREFIX)
        },
    }
    step = workflow.find(step_id) if step_id is not None else None
    if isinstance(step, CallStep) and step.foreach:
        items = _first_items(step.foreach, data)
        data["item"] = items[0] if items else None
        data["index"] = 0
    if used_run and record is not None:
        source = f"the last run ({record.status}, {record.run_id})"
    elif used_mocks:
        source = "the mocks' answers"
    else:
        source = "no run yet: blanks from the input schema"
    return SampleScope(data, source, before)


def _first_items(template: str, data: dict[str, Any]) -> list[Any]:
    try:
        segs = split_template(template)
        if len(segs) == 1 and segs[0].expr is not None:
            value = evaluate(segs[0].expr, data)
            return value if isinstance(value, list) else []
    except Exception:  # noqa: BLE001 - a foreach that does not evaluate yet has no item
        return []
    return []


def _paths(value: Any, prefix: str, depth: int, out: list[str]) -> None:
    if depth >= _MAX_DEPTH or len(out) >= _MAX_PATHS:
        return
    if isinstance(value, Mapping):
        for key, inner in value.items():
            if not isinstance(key, str):
                continue
            name = key if key.isidentifier() else f'"{key}"'
            path = f"{prefix}.{name}" if prefix else name
            out.append(path)
            _paths(inner, path, depth + 1, out)
    elif isinstance(value, list) and value:
        path = f"{prefix}[0]"
        out.append(path)
        _paths(value[0], path, depth + 1, out)


def with_response(
    scope: SampleScope,
    step: CallStep,
    record: RunRecord | None = None,
    mocks: MocksFile | None = None,
) -> SampleScope:
    """`scope` plus the step's own response (`body`, `status`, `headers`), as its `output`
    sees it: the last run's last answer to it, else its first mock answer, else blanks."""
    view = record.steps.get(step.id) if record is not None else None
    answered = [c.response for c in view.calls if c.response is not None] if view else []
    if answered:
        got = answered[-1]
        body, status, headers = got.get("body"), got.get("status", 200), got.get("headers", {})
    else:
        body, status, headers = _mock_body(mocks, step), 200, {}
    data = {**scope.data, "body": body, "status": status, "headers": dict(headers or {})}
    return SampleScope(data, scope.source, scope.step_ids)


def completions(scope: SampleScope, roots: tuple[str, ...] = ROOTS) -> list[str]:
    """Every name the completer offers: the roots, every path into the sample data, and the
    JMESPath functions (as `name(`)."""
    out: list[str] = []
    for root in roots:
        if root in scope.data or root == "steps":
            out.append(root)
            _paths(scope.data.get(root), root, 1, out)
    out.extend(f"{name}(" for name in sorted(EXPRESSION_FUNCTIONS))
    return list(dict.fromkeys(out))
