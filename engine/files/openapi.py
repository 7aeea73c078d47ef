"""OpenAPI 3.0 / 3.1 documents -> operations (the catalog's), request and response schemas.

A spec is read with the strict reader (JSON is YAML); `$ref`s to `#/components/...` stay as
they are and are resolved when a schema is checked, by validating against a schema that
carries the spec's `components`. OpenAPI 3.0's `nullable` is turned into JSON Schema's
`type: [..., "null"]` for that check.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.core.errors import LoadError, Problem
from engine.files.yamlread import read_yaml

__all__ = [
    "Parameter",
    "Operation",
    "OpenApiSpec",
    "parse_openapi",
    "load_openapi",
    "schema_errors",
    "mock_body",
    "call_step_data",
]

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_NAME_BAD = re.compile(r"[^A-Za-z0-9_]")


@dataclass(frozen=True)
class Parameter:
    """A path, query or header parameter of an operation."""

    name: str
    where: str
    required: bool = False
    schema: dict[str, Any] | None = None


@dataclass(frozen=True)
class Operation:
    """One operation: what a call step to it must send and what its responses look like."""

    operation_id: str
    method: str  # upper case
    path: str  # the template, `/pets/{petId}`
    summary: str = ""
    parameters: tuple[Parameter, ...] = ()
    body_schema: dict[str, Any] | None = None
    body_required: bool = False
    responses: dict[str, dict[str, Any] | None] = field(default_factory=dict)  # status -> schema
    examples: dict[str, Any] = field(default_factory=dict)  # status -> an example body

    def response_schema(self, status: int) -> tuple[bool, dict[str, Any] | None]:
        """(whether the status is declared, its JSON schema or None) for a response status."""
        for key in (str(status), f"{str(status)[0]}XX", f"{str(status)[0]}xx", "default"):
            if key in self.responses:
                return True, self.responses[key]
        return False, None


@dataclass
class OpenApiSpec:
    """The parts of an OpenAPI document the engine uses."""

    file: str
    version: str
    title: str = ""
    servers: list[str] = field(default_factory=list)
    operations: dict[str, Operation] = field(default_factory=dict)  # by operationId
    components: dict[str, Any] = field(default_factory=dict)


def _deref(spec: dict[str, Any], v: Any, depth: int = 0) -> Any:
    """A `$ref` to `#/...` followed (for parameters, bodies and responses, not schemas)."""
    while isinstance(v, dict) and isinstance(v.get("$ref"), str) and depth < 32:
        ref = v["$ref"]
        if not ref.startswith("#/"):
            return {}
        node: Any = spec
        for part in ref[2:].split("/"):
            node = (
                node.get(part.replace("~1", "/").replace("~0", "~"))
                if isinstance(node, dict)
                else None
            )
        v, depth = node, depth + 1
    return v


def _json_content(spec: dict[str, Any], holder: Any) -> tuple[dict[str, Any] | None, Any]:
    """(schema, example) of the JSON media type of a request body or response."""
    holder = _deref(spec, holder)
    content = holder.get("content") if isinstance(holder, dict) else None
    if not isinstance(content, dict):
        return None, None
    media = next((v for k, v in content.items() if "json" in k), None)
    if not isinstance(media, dict):
        return None, None
    schema = media.get("schema") if isinstance(media.get("schema"), dict) else None
    example = media.get("example")
    if example is None and isinstance(media.get("examples"), dict):
        first = next(iter(media["examples"].values()), None)
        first = _deref(spec, first)
        example = first.get("value") if isinstance(first, dict) else None
    if example is None and schema is not None:
        example = (
            _deref(spec, schema).get("example") if isinstance(_deref(spec, schema), dict) else None
        )
    return schema, example


def _params(spec: dict[str, Any], raw: Any) -> list[Parameter]:
    out = []
    for p in raw if isinstance(raw, list) else []:
        p = _deref(spec, p)
        if (
            isinstance(p, dict)
            and isinstance(p.get("name"), str)
            and p.get("in") in ("path", "query", "header")
        ):
            out.append(
                Parameter(
                    p["name"],
                    p["in"],
                    bool(p.get("required")) or p["in"] == "path",
                    p.get("schema") if isinstance(p.get("schema"), dict) else None,
                )
            )
    return out


def parse_openapi(
    text: str | bytes, file: str = "<text>"
) -> tuple[OpenApiSpec | None, list[Problem]]:
    """The spec's operations, or None and the problems (with line and column); never raises."""
    try:
        data, loc = read_yaml(text, file)
    except LoadError as e:
        return None, e.problems
    version = data.get("openapi") if isinstance(data, dict) else None
    if not isinstance(version, str) or not version.startswith("3."):
        return None, [
            loc.problem("not an OpenAPI 3.0 or 3.1 document: it needs 'openapi: 3.x'", ("openapi",))
        ]
    spec = OpenApiSpec(file, version)
    info = data.get("info")
    spec.title = str(info.get("title", "")) if isinstance(info, dict) else ""
    spec.servers = [
        s["url"]
        for s in data.get("servers") or []
        if isinstance(s, dict) and isinstance(s.get("url"), str)
    ]
    spec.components = data.get("components") if isinstance(data.get("components"), dict) else {}
    problems: list[Problem] = []
    paths = data.get("paths") if isinstance(data.get("paths"), dict) else {}
    for path, item in paths.items():
        if not isinstance(item, dict):
            continue
        shared = _params(data, item.get("parameters"))
        for method in METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            op_id = op.get("operationId")
            if not isinstance(op_id, str) or not op_id:
                op_id = _NAME_BAD.sub("_", f"{method}{path}").strip("_")
            if op_id in spec.operations:
                problems.append(
                    loc.problem(
                        f"the operationId '{op_id}' is used twice: the second is left out",
                        ("paths", path, method),
                        severity="warning",
                    )
                )
                continue
            own = _params(data, op.get("parameters"))
            names = {(p.name, p.where) for p in own}
            params = own + [p for p in shared if (p.name, p.where) not in names]
            body = _deref(data, op.get("requestBody"))
            body_schema, _ = _json_content(data, body)
            responses: dict[str, dict[str, Any] | None] = {}
            examples: dict[str, Any] = {}
            raw = op.get("responses")
            for status, resp in (raw if isinstance(raw, dict) else {}).items():
                schema, example = _json_content(data, resp)
                responses[str(status)] = schema
                if example is not None:
                    examples[str(status)] = example
            spec.operations[op_id] = Operation(
                op_id,
                method.upper(),
                str(path),
                str(op.get("summary") or ""),
                tuple(params),
                body_schema,
                bool(body.get("required")) if isinstance(body, dict) else False,
                responses,
                examples,
            )
    return spec, problems


def load_openapi(path: str | os.PathLike[str]) -> OpenApiSpec:
    """The spec at `path`; raises LoadError saying where it is wrong."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise LoadError(
            [
                Problem(
                    f"cannot read the OpenAPI document: {e.strerror}: check the path", (), str(path)
                )
            ]
        ) from None
    spec, problems = parse_openapi(data, str(path))
    if spec is None:
        raise LoadError(problems)
    return spec


def _nullable(v: Any) -> Any:
    """OpenAPI 3.0's `nullable: true` as JSON Schema (`type` also allows null)."""
    if isinstance(v, list):
        return [_nullable(x) for x in v]
    if not isinstance(v, dict):
        return v
    out = {k: _nullable(x) for k, x in v.items() if k != "nullable"}
    if v.get("nullable") is True and isinstance(v.get("type"), str):
        out["type"] = [v["type"], "null"]
    return out


def schema_errors(
    spec: OpenApiSpec, schema: dict[str, Any], value: Any
) -> list[tuple[tuple[str | int, ...], str]]:
    """(path inside the value, message) for each way `value` breaks `schema`."""
    import jsonschema  # loads in ~40 ms: only when a spec is checked

    full = _nullable({**schema, "components": spec.components})
    cls = (
        jsonschema.Draft202012Validator
        if spec.version.startswith("3.1")
        else jsonschema.Draft7Validator
    )
    try:
        cls.check_schema(full)
        errors = sorted(cls(full).iter_errors(value), key=lambda e: list(e.absolute_path))
        return [(tuple(e.absolute_path), e.message) for e in errors]
    except Exception as e:  # noqa: BLE001 - a broken schema in someone's spec (a bad regex, a
        # type that is a number) fails inside jsonschema in many ways; it is reported, not raised
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        return [((), f"the spec's schema cannot be used ({first}): fix it in the spec")]


def mock_body(op: Operation) -> tuple[int, Any] | None:
    """(status, body) of the first 2xx response that has an example, for a generated mock."""
    for status in sorted(op.responses):
        if status.startswith("2") and status.isdigit() and status in op.examples:
            return int(status), op.examples[status]
    for status in sorted(op.responses):
        if status.startswith("2") and status.isdigit():
            return int(status), None
    return None


def _skeleton(spec: OpenApiSpec, schema: Any, depth: int = 0) -> Any:
    """A value of the schema's shape: required properties of objects, empty text and zeros."""
    if depth > 8 or not isinstance(schema, dict):
        return None
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/"):
        node: Any = spec.components
        for part in ref[len("#/components/") :].split("/"):
            node = node.get(part) if isinstance(node, dict) else None
        return _skeleton(spec, node, depth + 1)
    if "example" in schema:
        return schema["example"]
    kind = schema.get("type")
    kind = next((k for k in kind if k != "null"), None) if isinstance(kind, list) else kind
    if kind == "object" or "properties" in schema:
        props: dict[str, Any] = (
            schema["properties"] if isinstance(schema.get("properties"), dict) else {}
        )
        required: list[Any] = schema["required"] if isinstance(schema.get("required"), list) else []
        return {str(k): _skeleton(spec, props.get(str(k)), depth + 1) for k in required}
    return {"array": [], "string": "", "integer": 0, "number": 0, "boolean": False}.get(str(kind))


def call_step_data(service: str, op: Operation, spec: OpenApiSpec) -> dict[str, Any]:
    """The step a palette drop of `op` makes (as a workflow file's step mapping): its method,
    its path with `${ input.<name> }` for each path parameter, its required query parameters
    and a `with` skeleton of the request body."""
    out: dict[str, Any] = {"service": service, "action": op.operation_id}
    if op.method != "POST":
        out["method"] = op.method
    out["path"] = re.sub(r"\{([^}/]+)\}", lambda m: "${ input." + m.group(1) + " }", op.path)
    query = {
        p.name: "${ input." + p.name + " }"
        for p in op.parameters
        if p.where == "query" and p.required
    }
    if query:
        out["query"] = query
    if op.body_schema is not None:
        out["with"] = _skeleton(spec, op.body_schema)
    return out
