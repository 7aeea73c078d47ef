"""Workflow and mocks rules that need the whole model: ids, the after-graph, expressions, values.

Every check adds to a `Collector` and goes on; nothing here raises. Paths name the place in the
file (`steps[2].retry.attempts`), so a located load turns them into lines and columns, and the
designer can validate a model it edited with no file behind it.
"""

from __future__ import annotations

import re
from typing import Any

from engine.core.errors import Collector, Problem
from engine.core.expressions import (
    TemplateSyntaxError,
    check_template,
    iter_expressions,
    split_template,
)
from engine.core.graph import Reach, after_map, find_cycle
from engine.core.model import (
    AnyStep,
    CallStep,
    EmitStep,
    MocksFile,
    NotifyStep,
    WaitStep,
    Workflow,
)
from engine.core.names import EVENT_RE, ID_RE, METHODS, NAME_RE, SERVICE_RE, suggest

__all__ = ["validate_workflow", "check_workflow", "check_mocks"]

Path = tuple[str | int, ...]

_BASE_NAMES = ("input", "steps", "run")
_REQUEST_NAMES = ("request", "call")


def validate_workflow(wf: Workflow) -> list[Problem]:
    """Every problem of a workflow model (no file positions). Never raises."""
    c = Collector()
    check_workflow(c, wf)
    return c.located(None, "")


def _schema_problem(schema: Any) -> tuple[str, tuple[str | int, ...]] | None:
    """(message, path) when `schema` is not a valid JSON Schema, else None. jsonschema loads
    in ~40 ms: only for a workflow that has an input schema."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as e:
        return e.message, tuple(e.absolute_path)
    return None


def check_workflow(c: Collector, wf: Workflow, step_index: list[int] | None = None) -> None:
    if not NAME_RE.match(wf.name or ""):
        c.add(
            f"'{wf.name}' is not a valid workflow name: start with a letter, then letters, "
            "digits, '_', '.' or '-' (64 at most)",
            ("name",),
        )
    for i, t in enumerate(wf.trigger):
        if not EVENT_RE.match(t):
            c.add(
                f"'{t}' is not a valid event name: start with a letter, then letters, digits, "
                "'_', '.', ':' or '-'",
                ("trigger", i) if len(wf.trigger) > 1 else ("trigger",),
            )
    if wf.input is not None:
        bad = _schema_problem(wf.input)
        if bad is not None:
            c.add(f"'input' is not a valid JSON Schema: {bad[0]}", ("input",) + bad[1])
    if wf.timeout is not None and wf.timeout <= 0:
        c.add("'timeout' must be longer than 0", ("timeout",))
    d = wf.defaults
    if d.timeout is not None and d.timeout <= 0:
        c.add("'timeout' must be longer than 0", ("defaults", "timeout"))
    if d.on_error is not None and d.on_error not in ("fail", "continue"):
        c.add(
            f"'onError' must be 'fail' or 'continue', not '{d.on_error}'", ("defaults", "onError")
        )
    if d.headers:
        _check_headers(c, d.headers, ("defaults", "headers"), None)
    if d.retry is not None:
        _check_retry(c, d.retry, ("defaults", "retry"), None)
    if not wf.steps and not c.problems:
        c.add(
            "the workflow has no steps yet: add one from the palette",
            ("steps",),
            severity="warning",
        )

    def sp(i: int) -> Path:
        return ("steps", step_index[i] if step_index is not None else i)

    ids: dict[str, int] = {}
    for i, s in enumerate(wf.steps):
        if not ID_RE.match(s.id):
            c.add(
                f"'{s.id}' is not a valid step id: use letters, digits and '_', not starting "
                "with a digit",
                sp(i) + ("id",),
                step=s.id,
            )
        if s.id in ids:
            c.add(
                f"the id '{s.id}' is used by two steps (also step {ids[s.id] + 1}): "
                "give this one its own 'id'",
                sp(i) + ("id",),
                step=s.id,
            )
        else:
            ids[s.id] = i
    for i, s in enumerate(wf.steps):
        if s.disabled:
            c.add(
                f"step '{s.id}' is disabled: every run skips it, and the steps that run only "
                "after it; remove 'disabled: true' to run it again",
                sp(i) + ("disabled",),
                step=s.id,
                severity="warning",
            )
        seen: set[str] = set()
        for j, a in enumerate(s.after):
            p = sp(i) + ("after", j)
            if a == s.id:
                c.add(f"step '{s.id}' cannot come after itself", p, step=s.id)
            elif a not in ids:
                c.add(
                    f"'after' names '{a}', which is not a step of this workflow{suggest(a, ids)}",
                    p,
                    step=s.id,
                )
            elif a in seen:
                c.add(f"'after' names '{a}' twice", p, step=s.id)
            seen.add(a)
    after = after_map(wf)
    cycle = find_cycle(after)
    if cycle:
        first = cycle[0]
        c.add(
            "steps form a cycle: "
            + " → ".join(cycle)
            + ": remove one of these from an 'after' list",
            sp(ids[first]) + ("after",),
            step=first,
        )
    reach = Reach(after) if not cycle else None
    for i, s in enumerate(wf.steps):
        _check_step(c, wf, s, sp(i), ids, reach)
    if wf.output is not None:
        _check_templates(c, wf.output, ("output",), None, ids, None, _BASE_NAMES)
    for sid in wf.layout:
        if sid not in ids:
            c.add(
                f"'layout' places '{sid}', which is not a step: it will be dropped on save",
                ("layout", sid),
                key=True,
                severity="warning",
            )


def _check_retry(c: Collector, r: Any, path: Path, sid: str | None) -> None:
    if r.max_delay is not None and r.delay is not None and r.max_delay < r.delay:
        c.add(
            "'maxDelay' is shorter than 'delay', so every delay is cut to maxDelay",
            path + ("maxDelay",),
            step=sid,
            severity="warning",
        )


def _check_step(
    c: Collector, wf: Workflow, s: AnyStep, p: Path, ids: dict[str, int], reach: Reach | None
) -> None:
    sid = s.id
    names = _BASE_NAMES
    if s.if_ is not None:
        _check_single(c, s.if_, p + ("if",), "'if'", sid)
        _check_templates(c, s.if_, p + ("if",), sid, ids, reach, names)
    if isinstance(s, CallStep):
        # the parser already explains a missing key (with any typo); an edited model has no file
        reported = any(prob[1][:2] == p[:2] for prob in c.problems)
        for key in ("service", "action"):
            if not getattr(s, key) and not reported:
                c.add(f"a call step needs '{key}': name the {key}", p + (key,), step=sid)
        if s.service and not SERVICE_RE.match(s.service):
            c.add(
                f"'{s.service}' is not a valid service name: letters, digits, '_' and '-'",
                p + ("service",),
                step=sid,
            )
        if s.action and not SERVICE_RE.match(s.action):
            c.add(
                f"'{s.action}' is not a valid action name: letters, digits, '_' and '-'",
                p + ("action",),
                step=sid,
            )
        if s.method is not None and s.method.upper() not in METHODS:
            c.add(
                f"'{s.method}' is not an HTTP method: use one of {', '.join(METHODS)}",
                p + ("method",),
                step=sid,
            )
        if s.path is not None and not s.path.startswith(("/", "${")):
            c.add(f"'path' must start with '/', e.g. '/{s.path}'", p + ("path",), step=sid)
        if s.on_error is not None and s.on_error not in ("fail", "continue"):
            c.add(
                f"'onError' must be 'fail' or 'continue', not '{s.on_error}'"
                f"{suggest(s.on_error, ('fail', 'continue'))}",
                p + ("onError",),
                step=sid,
            )
        if s.timeout is not None and s.timeout <= 0:
            c.add("'timeout' must be longer than 0", p + ("timeout",), step=sid)
        if s.retry is not None:
            _check_retry(c, s.retry, p + ("retry",), sid)
        if s.max_concurrency is not None and s.foreach is None:
            c.add(
                "'maxConcurrency' only applies with 'foreach': add 'foreach' or remove it",
                p + ("maxConcurrency",),
                step=sid,
            )
        inner = names + (("item", "index") if s.foreach is not None else ())
        if s.foreach is not None:
            _check_single(c, s.foreach, p + ("foreach",), "'foreach'", sid)
            _check_templates(c, s.foreach, p + ("foreach",), sid, ids, reach, names)
        with_secrets = inner + ("secrets",)
        if s.headers:
            _check_headers(c, s.headers, p + ("headers",), sid)
        for key, value in (
            ("path", s.path),
            ("query", s.query),
            ("headers", s.headers),
            ("with", s.with_),
        ):
            if value is not None:
                _check_templates(c, value, p + (key,), sid, ids, reach, with_secrets)
        if s.output is not None:
            _check_templates(
                c, s.output, p + ("output",), sid, ids, reach, inner + ("body", "status", "headers")
            )
    elif isinstance(s, EmitStep):
        if not s.event:
            c.add("'emit' needs an event name", p + ("emit", "event"), step=sid)
        elif not EVENT_RE.match(s.event):
            c.add(f"'{s.event}' is not a valid event name", p + ("emit", "event"), step=sid)
        elif s.event in wf.trigger:
            c.add(
                f"this workflow emits '{s.event}', its own trigger: every run starts another "
                "(a cascade stops 16 runs deep, or after 1,000 runs); emit another event, or "
                "guard the step with an 'if'",
                p + ("emit", "event"),
                step=sid,
                severity="warning",
            )
        if s.data is not None:
            _check_templates(c, s.data, p + ("emit", "data"), sid, ids, reach, names)
    elif isinstance(s, NotifyStep):
        if not s.message:
            c.add("'notify' needs a message", p + ("notify", "message"), step=sid)
        else:
            _check_templates(c, s.message, p + ("notify", "message"), sid, ids, reach, names)
    elif isinstance(s, WaitStep) and s.wait < 0:
        c.add("'wait' must not be negative", p + ("wait",), step=sid)


_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # an HTTP header name (RFC 9110 token)
_BAD_VALUE = re.compile(r"[^\t\x20-\x7e]")  # a header value is printable ASCII


def _check_headers(c: Collector, headers: dict[str, Any], p: Path, sid: str | None) -> None:
    for name, value in headers.items():
        if not _TOKEN.match(name):
            c.add(
                f"'{name}' is not a valid header name: letters, digits and !#$%&'*+.^_`|~-",
                p + (name,),
                key=True,
                step=sid,
            )
        text = value if isinstance(value, str) else str(value)
        try:
            literal = "".join(seg.text for seg in split_template(text) if seg.expr is None)
        except TemplateSyntaxError:
            continue  # reported with the templates
        bad = _BAD_VALUE.search(literal)
        if bad:
            what = "a line break" if bad.group() in "\r\n" else f"the character {bad.group()!r}"
            c.add(
                f"header '{name}' holds {what}: a header value is printable ASCII on one line "
                "(percent-encode or base64 other text)",
                p + (name,),
                step=sid,
            )


def _check_single(c: Collector, text: str, p: Path, what: str, sid: str) -> None:
    try:
        segments = split_template(text.strip())
    except TemplateSyntaxError:
        return  # reported with the template's other problems
    if len(segments) == 1 and segments[0].expr is not None:
        return
    if sum(1 for s in segments if s.expr is not None) > 1:
        c.add(
            f"{what} takes one expression, but this text holds several (so it is text, and "
            'always true): write them as one, e.g. "${ a && b }"',
            p,
            step=sid,
        )
    else:
        c.add(
            f'{what} takes one expression such as "${{ input.ready }}", not plain text', p, step=sid
        )


def _check_templates(
    c: Collector,
    value: Any,
    p: Path,
    sid: str | None,
    ids: dict[str, int],
    reach: Reach | None,
    names: tuple[str, ...],
) -> None:
    for sub, text in iter_expressions(value):
        path = p + sub
        try:
            found = check_template(text)
        except TemplateSyntaxError as e:
            c.add(f"{e.message} (at character {e.offset + 1})", path, step=sid)
            continue
        for _expr, _offset, refs in found:
            for chain in refs:
                root = chain[0]
                if root not in names:
                    if root in ("secrets", "item", "index", "body", "status", "headers"):
                        where = {
                            "secrets": "only in path, query, headers and with",
                            "item": "only in a step with 'foreach'",
                            "index": "only in a step with 'foreach'",
                        }.get(root, "only in a call step's 'output'")
                        c.add(f"'{root}' is available {where}", path, step=sid)
                    else:
                        c.add(
                            f"'{root}' is not a name expressions can use (they see "
                            f"{', '.join(names)}){suggest(root, names)}",
                            path,
                            step=sid,
                        )
                    continue
                if root == "steps" and len(chain) >= 2:
                    ref = chain[1]
                    if ref not in ids:
                        c.add(
                            f"'steps.{ref}' names no step of this workflow{suggest(ref, ids)}",
                            path,
                            step=sid,
                        )
                    elif len(chain) >= 3 and chain[2] not in (
                        "output",
                        "status",
                        "error",
                        "attempts",
                    ):
                        c.add(
                            f"'steps.{ref}.{chain[2]}' is not known: a step has output, "
                            f"status, error and attempts"
                            f"{suggest(chain[2], ('output', 'status', 'error', 'attempts'))}",
                            path,
                            step=sid,
                        )
                    elif sid is not None and reach is not None and not reach.before(ref, sid):
                        c.add(
                            f"'steps.{ref}' is read before it has run: add '{ref}' to this "
                            "step's 'after' (directly or through another step)",
                            path,
                            step=sid,
                            severity="warning",
                        )


def check_mocks(c: Collector, mf: MocksFile) -> None:
    tables: list[tuple[Path, dict[str, Any]]] = [(("mocks",), mf.mocks)]
    tables += [(("scenarios", name), t) for name, t in mf.scenarios.items()]
    for base, table in tables:
        for key, responses in table.items():
            single = len(responses) == 1
            for i, r in enumerate(responses):
                p: Path = base + (key,) if single else base + (key, i)
                if r.body is not None:
                    _check_templates(c, r.body, p + ("body",), None, {}, None, _REQUEST_NAMES)
