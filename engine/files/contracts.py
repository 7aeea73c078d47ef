"""Contract checks: call steps and mocks of an imported service against its OpenAPI operations.

A folder's `*.service.yaml` files name the services that have a spec. A call step to one must
name an operation (`action` = operationId), use its method, fill its path parameters and its
required query parameters, and send a literal body its request schema accepts. A mock response
must have a status the operation declares and a literal body its response schema accepts.
Every problem is located in the file being checked.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.core.errors import Collector, LoadError, Problem, format_path
from engine.core.expressions import iter_expressions
from engine.core.model import CallStep, MockResponse, MocksFile, Workflow, resolve_call
from engine.files.folder import service_files
from engine.files.openapi import OpenApiSpec, Operation, load_openapi, schema_errors
from engine.files.services import ServiceFile, parse_service_data
from engine.files.yamlread import Locator, read_yaml

__all__ = ["DescribedService", "described_services", "contract_problems", "path_matches"]

_EXPR = re.compile(r"\$\{.*?\}")


@dataclass
class DescribedService:
    """A service description file, read, with its spec (None and `error` when it failed)."""

    file: Path
    description: ServiceFile
    spec: OpenApiSpec | None = None
    error: str | None = None


def read_service(path: Path, unread: list[str] | None = None) -> DescribedService | None:
    """The service description at `path` and its spec; None when the file is not one (why
    is added to `unread`, when given)."""
    try:
        data, _ = read_yaml(path.read_bytes(), str(path))
    except LoadError as e:
        if unread is not None:
            unread.append(str(e.problems[0]) if e.problems else f"{path}: cannot be read")
        return None
    except OSError as e:
        if unread is not None:
            unread.append(f"{path}: cannot be read: {e.strerror or e}")
        return None
    c = Collector()
    sf = parse_service_data(c, data)
    if sf is None or not sf.service or not sf.openapi:
        if unread is not None:
            unread.append(f"{path}: not a service description (it needs `service:` and `openapi:`)")
        return None
    out = DescribedService(path, sf)
    try:
        out.spec = load_openapi(path.parent / sf.openapi)
    except LoadError as e:
        out.error = str(e.problems[0]) if e.problems else "the spec cannot be read"
    return out


def described_services(
    folder: Path, unread: list[str] | None = None
) -> dict[str, DescribedService]:
    """Service name -> its description and spec, for every service file of `folder`; why a
    file is not among them is added to `unread`, when given."""
    out: dict[str, DescribedService] = {}
    for path in service_files(folder):
        found = read_service(path, unread)
        if found is not None:
            out.setdefault(found.description.service, found)
    return out


def path_matches(template: str, path: str) -> bool:
    """Whether a step's path (`/pets/${ input.id }`) fits an operation's (`/pets/{petId}`)."""
    concrete = _EXPR.sub("X", path.split("?", 1)[0])
    pattern = "^" + re.sub(r"\\\{[^/]*?\\\}", "[^/]+", re.escape(template)) + "/?$"
    return re.match(pattern, concrete) is not None


def _literal(value: Any) -> bool:
    return not any(True for _ in iter_expressions(value))


def _unknown(service: DescribedService, action: str) -> str:
    assert service.spec is not None
    names = list(service.spec.operations)
    near = difflib.get_close_matches(action, names, 1)
    hint = f"did you mean '{near[0]}'?" if near else f"it has {', '.join(names[:8]) or 'none'}"
    return (
        f"{service.description.service} has no operation '{action}' in "
        f"{service.description.openapi}: {hint}"
    )


def _check_step(
    s: CallStep,
    wf: Workflow,
    op: Operation,
    spec: OpenApiSpec,
    here: tuple[str | int, ...],
    add: Any,
) -> None:
    rc = resolve_call(s, wf.defaults)
    if rc.method != op.method:
        add(
            f"{op.operation_id} is {op.method} {op.path}, not {rc.method}: set 'method: "
            f"{op.method}'",
            here + (("method",) if s.method else ("action",)),
        )
    if not path_matches(op.path, rc.path):
        names = [p.name for p in op.parameters if p.where == "path"]
        missing = f" (path parameters: {', '.join(names)})" if names else ""
        add(
            f"the path '{rc.path}' does not fit {op.operation_id}'s '{op.path}'{missing}: set "
            f"'path' with a '${{ }}' for each parameter",
            here + (("path",) if s.path else ("action",)),
        )
    query = s.query or {}
    for p in op.parameters:
        if p.where == "query" and p.required and p.name not in query:
            add(
                f"{op.operation_id} needs the query parameter '{p.name}': add it under 'query'",
                here + (("query",) if s.query else ("action",)),
            )
        if (
            p.where == "header"
            and p.required
            and p.name.lower() not in {k.lower() for k in rc.headers}
        ):
            add(
                f"{op.operation_id} needs the header '{p.name}': add it under 'headers'",
                here + ("action",),
            )
    if op.body_schema is not None and s.with_ is not None and _literal(s.with_):
        for where, message in schema_errors(spec, op.body_schema, s.with_):
            add(
                f"the body breaks {op.operation_id}'s request schema: {message}",
                here + ("with",) + where,
            )


def _workflow(wf: Workflow, services: dict[str, DescribedService], loc: Locator) -> list[Problem]:
    out: list[Problem] = []
    raw = loc.root.get("steps") if isinstance(loc.root, dict) else None
    if not isinstance(raw, list) or len(raw) != len(wf.steps):
        return out  # a step that did not parse shifts the places; its problem comes first
    for i, s in enumerate(wf.steps):
        if not isinstance(s, CallStep) or s.service not in services:
            continue
        svc = services[s.service]
        here: tuple[str | int, ...] = ("steps", i)

        def add(message: str, path: tuple[str | int, ...], sid: str = s.id) -> None:
            out.append(loc.problem(message, path, step_id=sid))

        if svc.spec is None:
            add(f"the spec of {s.service} cannot be read ({svc.error})", here + ("service",))
            continue
        op = svc.spec.operations.get(s.action)
        if op is None:
            add(_unknown(svc, s.action), here + ("action",))
            continue
        _check_step(s, wf, op, svc.spec, here, add)
    return out


def _responses(
    key: str,
    answers: list[MockResponse],
    raw: Any,
    base: tuple[str | int, ...],
    op: Operation,
    spec: OpenApiSpec,
    loc: Locator,
) -> list[Problem]:
    out: list[Problem] = []
    single = not isinstance(raw, list)
    for j, r in enumerate(answers):
        if r.fault is not None:
            continue
        here = base if single else base + (j,)
        declared, schema = op.response_schema(r.status)
        if not declared:
            statuses = ", ".join(op.responses) or "none"
            out.append(
                loc.problem(
                    f"{op.operation_id} declares no response {r.status} "
                    f"(it has {statuses}): use one of those",
                    here,
                )
            )
            continue
        if schema is None or r.body is None or not _literal(r.body):
            continue
        for where, message in schema_errors(spec, schema, r.body):
            at = here + ("body",) + where
            out.append(
                loc.problem(
                    f"the body of {key} breaks {op.operation_id}'s {r.status} "
                    f"response schema at {format_path(where) or 'its top'}: "
                    f"{message}",
                    at,
                )
            )
    return out


def _mocks(mf: MocksFile, services: dict[str, DescribedService], loc: Locator) -> list[Problem]:
    out: list[Problem] = []
    root = loc.root if isinstance(loc.root, dict) else {}
    tables: list[tuple[tuple[str | int, ...], dict[str, list[MockResponse]], Any]] = [
        (("mocks",), mf.mocks, root.get("mocks"))
    ]
    for name, table in mf.scenarios.items():
        raw_sc = root.get("scenarios", {})
        tables.append(
            (("scenarios", name), table, raw_sc.get(name) if isinstance(raw_sc, dict) else None)
        )
    for base, table, raw in tables:
        for key, answers in table.items():
            service, _, action = key.partition(".")
            svc = services.get(service)
            if svc is None or svc.spec is None:
                continue
            op = svc.spec.operations.get(action)
            if op is None:
                out.append(loc.problem(_unknown(svc, action), base + (key,), key=True))
                continue
            raw_answers = raw.get(key) if isinstance(raw, dict) else None
            out.extend(_responses(key, answers, raw_answers, base + (key,), op, svc.spec, loc))
    return out


def contract_problems(folder: Path, kind: str, model: Any, loc: Locator) -> list[Problem]:
    """The contract problems of a loaded file of `kind` in `folder`."""
    if kind == "service" and isinstance(model, ServiceFile):
        if not model.openapi:
            return []
        try:
            load_openapi(folder / model.openapi)
        except LoadError as e:
            first = e.problems[0] if e.problems else None
            why = f"{first.message} ({first.file}:{first.line}:{first.col})" if first else ""
            return [
                loc.problem(
                    f"the OpenAPI document '{model.openapi}' cannot be used: {why} "
                    "(paths are relative to this file)",
                    ("openapi",),
                )
            ]
        return []
    if kind not in ("workflow", "mocks"):
        return []
    services = described_services(folder)
    if not services:
        return []
    if isinstance(model, Workflow):
        return _workflow(model, services, loc)
    if isinstance(model, MocksFile):
        return _mocks(model, services, loc)
    return []
