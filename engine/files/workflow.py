"""Workflow files' data -> the Workflow model: keys, types and shapes, each problem with its path.

Parsing never stops at the first problem: it records every one it finds (with the path inside the
document; `yamlread.Locator` turns paths into lines and columns) and builds as much of the model
as it can. Rules that need the whole model (ids, graph, expressions) live in `core.validate`.
"""

from __future__ import annotations

import math
from typing import Any

from engine.core.errors import Collector
from engine.core.model import (
    NOTIFY_LEVELS,
    AnyStep,
    CallDefaults,
    CallStep,
    EmitStep,
    Note,
    NotifyStep,
    Retry,
    WaitStep,
    Workflow,
)
from engine.core.names import base_id, default_step_ids, suggest
from engine.files.shapes import (
    as_map,
    check_keys,
    opt_bool,
    opt_duration,
    opt_number,
    opt_size,
    opt_str,
    opt_str_map,
    parse_version,
    type_name,
)

__all__ = [
    "parse_retry",
    "parse_step",
    "parse_workflow_data",
    "WORKFLOW_KEYS",
    "STEP_COMMON_KEYS",
    "CALL_KEYS",
    "WAIT_KEYS",
    "EMIT_KEYS",
    "NOTIFY_KEYS",
    "EMIT_BODY_KEYS",
    "NOTIFY_BODY_KEYS",
    "RETRY_KEYS",
    "DEFAULTS_KEYS",
]

WORKFLOW_KEYS = frozenset(
    {
        "version",
        "name",
        "description",
        "trigger",
        "input",
        "timeout",
        "defaults",
        "steps",
        "output",
        "layout",
        "notes",
    }
)
NOTE_KEYS = frozenset({"text", "at"})
NOTE_TEXT_LIMIT = 10_000  # characters: a note, not a document
STEP_COMMON_KEYS = frozenset({"id", "description", "after", "if", "disabled"})
CALL_KEYS = STEP_COMMON_KEYS | {
    "service",
    "action",
    "method",
    "path",
    "with",
    "query",
    "headers",
    "foreach",
    "maxConcurrency",
    "timeout",
    "retry",
    "onError",
    "output",
    "followRedirects",
    "maxResponseSize",
}
WAIT_KEYS = STEP_COMMON_KEYS | {"wait"}
EMIT_KEYS = STEP_COMMON_KEYS | {"emit"}
NOTIFY_KEYS = STEP_COMMON_KEYS | {"notify"}
EMIT_BODY_KEYS = frozenset({"event", "data"})
NOTIFY_BODY_KEYS = frozenset({"message", "level"})
RETRY_KEYS = frozenset({"attempts", "delay", "backoff", "maxDelay", "jitter", "on"})
DEFAULTS_KEYS = frozenset(
    {"timeout", "retry", "onError", "headers", "followRedirects", "maxResponseSize"}
)
LAYOUT_LIMIT = 100_000_000  # canvas units either way: 400,000 steps in a row, and finite
_ALL_STEP_KEYS = CALL_KEYS | WAIT_KEYS | EMIT_KEYS | NOTIFY_KEYS

Path = tuple[str | int, ...]
_MISSING = object()


def parse_retry(c: Collector, v: Any, path: Path, step: str | None = None) -> Retry | None:
    m = as_map(c, v, path, "'retry'", step)
    if m is None:
        return None
    check_keys(c, m, RETRY_KEYS, path, "retry", step)
    r = Retry(
        attempts=opt_number(c, m, "attempts", path, step, integer=True, minimum=1),
        delay=opt_duration(c, m, "delay", path, step),
        backoff=opt_number(c, m, "backoff", path, step, minimum=1),
        max_delay=opt_duration(c, m, "maxDelay", path, step),
        jitter=opt_str(c, m, "jitter", path, step),
    )
    if r.backoff is not None:
        r.backoff = float(r.backoff) if not isinstance(r.backoff, int) else r.backoff
    if r.jitter is not None and r.jitter not in ("full", "none"):
        c.add(f"'jitter' must be 'full' or 'none', not '{r.jitter}'", path + ("jitter",), step=step)
    on = m.get("on", _MISSING)
    if on is not _MISSING and on is not None:
        items = on if isinstance(on, list) else [on]
        out: list[str | int] = []
        for i, item in enumerate(items):
            p = path + ("on", i) if isinstance(on, list) else path + ("on",)
            is_code = isinstance(item, int) and not isinstance(item, bool) and 100 <= item <= 599
            if is_code or item in ("connection", "timeout", "5xx", "4xx", "429"):
                out.append(item)
            else:
                c.add(
                    f"retry 'on' takes connection, timeout, 5xx, 4xx, 429 or an HTTP status "
                    f"code, not {item!r}",
                    p,
                    step=step,
                )
        r.on = out
    return r


def _step_kind(d: dict[str, Any]) -> list[str]:
    kinds = []
    if "service" in d or "action" in d:
        kinds.append("call")
    for k in ("wait", "emit", "notify"):
        if k in d:
            kinds.append(k)
    return kinds


def parse_step(c: Collector, d: Any, path: Path) -> AnyStep | None:
    m = as_map(c, d, path, "a step")
    if m is None:
        return None
    sid = m.get("id") if isinstance(m.get("id"), str) else None
    kinds = _step_kind(m)
    if not kinds:
        unknown = [k for k in m if k not in _ALL_STEP_KEYS]
        hint = ""
        if unknown:
            hint = f" (unknown key '{unknown[0]}'{suggest(unknown[0], _ALL_STEP_KEYS)})"
        c.add(
            "a step needs 'service' and 'action', or 'wait', 'emit' or 'notify'" + hint,
            path,
            step=sid,
        )
        return None
    if len(kinds) > 1:
        c.add(
            f"a step is one kind only, but this one has {' and '.join(kinds)}: split it "
            "into separate steps",
            path,
            step=sid,
        )
        return None
    kind = kinds[0]
    step: AnyStep
    if kind == "call":
        check_keys(c, m, CALL_KEYS, path, "a call step", sid)
        step = CallStep()
        for key in ("service", "action"):
            typo = [k for k in m if k not in CALL_KEYS and suggest(k, (key,))]
            if key not in m and not typo:
                c.add(f"a call step needs '{key}'", path, step=sid)
        step.service = opt_str(c, m, "service", path, sid) or ""
        step.action = opt_str(c, m, "action", path, sid) or ""
        step.method = opt_str(c, m, "method", path, sid)
        step.path = opt_str(c, m, "path", path, sid)
        step.with_ = m.get("with")
        step.no_body = "with" in m and m["with"] is None  # `with: null`: no body at all
        step.query = opt_str_map(c, m, "query", path, sid)
        step.headers = opt_str_map(c, m, "headers", path, sid)
        step.foreach = opt_str(c, m, "foreach", path, sid)
        mc = opt_number(c, m, "maxConcurrency", path, sid, integer=True, minimum=1)
        step.max_concurrency = mc
        step.timeout = opt_duration(c, m, "timeout", path, sid)
        if m.get("retry") is not None:
            step.retry = parse_retry(c, m["retry"], path + ("retry",), sid)
        step.on_error = opt_str(c, m, "onError", path, sid)
        step.output = m.get("output")
        step.follow_redirects = opt_bool(c, m, "followRedirects", path, sid)
        step.max_response_size = opt_size(c, m, "maxResponseSize", path, sid)
    elif kind == "wait":
        check_keys(c, m, WAIT_KEYS, path, "a wait step", sid)
        step = WaitStep(wait=opt_duration(c, m, "wait", path, sid) or 0)
        if m.get("wait") is None:
            c.add("'wait' needs a duration such as 5s", path + ("wait",), step=sid)
    elif kind == "emit":
        check_keys(c, m, EMIT_KEYS, path, "an emit step", sid)
        step = EmitStep()
        body = m.get("emit")
        if isinstance(body, str):
            step.event = body
        else:
            bm = as_map(c, body, path + ("emit",), "'emit'", sid)
            if bm is not None:
                check_keys(c, bm, EMIT_BODY_KEYS, path + ("emit",), "emit", sid)
                step.event = opt_str(c, bm, "event", path + ("emit",), sid) or ""
                if "event" not in bm:
                    c.add("'emit' needs an 'event' name", path + ("emit",), step=sid)
                step.data = bm.get("data")
    else:
        check_keys(c, m, NOTIFY_KEYS, path, "a notify step", sid)
        step = NotifyStep()
        body = m.get("notify")
        if isinstance(body, str):
            step.message = body
        else:
            bm = as_map(c, body, path + ("notify",), "'notify'", sid)
            if bm is not None:
                check_keys(c, bm, NOTIFY_BODY_KEYS, path + ("notify",), "notify", sid)
                step.message = opt_str(c, bm, "message", path + ("notify",), sid) or ""
                if "message" not in bm:
                    c.add("'notify' needs a 'message'", path + ("notify",), step=sid)
                level = opt_str(c, bm, "level", path + ("notify",), sid)
                if level is not None:
                    if level not in NOTIFY_LEVELS:
                        c.add(
                            f"'level' must be one of {', '.join(NOTIFY_LEVELS)}, not '{level}'"
                            f"{suggest(level, NOTIFY_LEVELS)}",
                            path + ("notify", "level"),
                            step=sid,
                        )
                    step.level = level
    raw_id = m.get("id")
    if raw_id is not None and not isinstance(raw_id, str):
        c.add(f"'id' must be text, not {type_name(raw_id)}", path + ("id",))
    step.id = sid or ""
    step.description = opt_str(c, m, "description", path, sid)
    step.if_ = opt_str(c, m, "if", path, sid)
    disabled = m.get("disabled", False)
    if isinstance(disabled, bool):
        step.disabled = disabled
    elif disabled is not None:
        c.add(
            f"'disabled' must be true or false, not {type_name(disabled)}",
            path + ("disabled",),
            step=sid,
        )
    after = m.get("after", _MISSING)
    if after is _MISSING:
        step.after = None  # type: ignore[assignment]  # resolved by parse_workflow_data
    elif isinstance(after, str):
        step.after = [after]
    elif isinstance(after, list):
        ok = [a for a in after if isinstance(a, str)]
        for i, a in enumerate(after):
            if not isinstance(a, str):
                c.add(f"'after' lists step ids, not {type_name(a)}", path + ("after", i), step=sid)
        step.after = ok
    else:
        c.add(
            f"'after' must be a list of step ids, not {type_name(after)}",
            path + ("after",),
            step=sid,
        )
        step.after = []
    return step


def parse_workflow_data(c: Collector, data: Any) -> Workflow | None:
    d = as_map(c, data, (), "a workflow file")
    if d is None:
        return None
    parse_version(c, d, "workflow")
    check_keys(c, d, WORKFLOW_KEYS, (), "a workflow")
    wf = Workflow()
    name = opt_str(c, d, "name", ())
    if name is None:
        if "name" not in d:
            c.add("the workflow has no 'name': add one, e.g. 'name: policyChange'", ())
    else:
        wf.name = name
    wf.description = opt_str(c, d, "description", ())
    trig = d.get("trigger")
    if isinstance(trig, str):
        wf.trigger = [trig]
    elif isinstance(trig, list):
        for i, t in enumerate(trig):
            if isinstance(t, str):
                wf.trigger.append(t)
            else:
                c.add(f"a trigger is an event name, not {type_name(t)}", ("trigger", i))
    elif trig is not None:
        c.add(
            f"'trigger' must be an event name or a list of them, not {type_name(trig)}",
            ("trigger",),
        )
    if d.get("input") is not None:
        wf.input = as_map(c, d["input"], ("input",), "'input' (a JSON Schema)")
    wf.timeout = opt_duration(c, d, "timeout", ())
    if d.get("defaults") is not None:
        dm = as_map(c, d["defaults"], ("defaults",), "'defaults'")
        if dm is not None:
            check_keys(c, dm, DEFAULTS_KEYS, ("defaults",), "defaults")
            wf.defaults = CallDefaults(
                timeout=opt_duration(c, dm, "timeout", ("defaults",)),
                retry=parse_retry(c, dm["retry"], ("defaults", "retry"))
                if dm.get("retry") is not None
                else None,
                on_error=opt_str(c, dm, "onError", ("defaults",)),
                headers=opt_str_map(c, dm, "headers", ("defaults",)),
                follow_redirects=opt_bool(c, dm, "followRedirects", ("defaults",)),
                max_response_size=opt_size(c, dm, "maxResponseSize", ("defaults",)),
            )
    steps_raw = d.get("steps")
    if steps_raw is None:
        c.add("the workflow has no 'steps': add a list of steps", ())
        steps_raw = []
    elif not isinstance(steps_raw, list):
        c.add(f"'steps' must be a list of steps, not {type_name(steps_raw)}", ("steps",))
        steps_raw = []
    parsed: list[AnyStep] = []
    for i, sd in enumerate(steps_raw):
        s = parse_step(c, sd, ("steps", i))
        if s is None:
            s = NotifyStep(message="")  # keeps indices aligned; the problem is already recorded
            s.after = None  # type: ignore[assignment]
        parsed.append(s)
    ids = default_step_ids([base_id(s) for s in parsed], [s.id or None for s in parsed])
    for i, (s, sid) in enumerate(zip(parsed, ids)):
        s.id = sid
        if s.after is None:
            s.after = [ids[i - 1]] if i > 0 else []
    kept = [
        i for i, raw in enumerate(steps_raw) if isinstance(raw, dict) and len(_step_kind(raw)) == 1
    ]
    wf.steps = [parsed[i] for i in kept]
    c.step_index = kept
    wf.output = d.get("output")
    if d.get("layout") is not None:
        lm = as_map(c, d["layout"], ("layout",), "'layout'")
        for sid, pos in (lm or {}).items():
            if (
                isinstance(pos, list)
                and len(pos) == 2
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in pos)
            ):
                if all(math.isfinite(v) and abs(v) <= LAYOUT_LIMIT for v in pos):
                    wf.layout[sid] = (pos[0], pos[1])
                else:
                    c.add(
                        f"a layout position is two numbers from -{LAYOUT_LIMIT:,} to "
                        f"{LAYOUT_LIMIT:,}, not {pos}",
                        ("layout", sid),
                    )
            else:
                c.add(f"a layout entry is [x, y], not {type_name(pos)}", ("layout", sid))
    if d.get("notes") is not None:
        wf.notes = _parse_notes(c, d["notes"])
    return wf


def _parse_notes(c: Collector, raw: Any) -> list[Note]:
    """`notes:` — a list of `{text, at: [x, y]}`; what is not one is a located problem."""
    if not isinstance(raw, list):
        c.add(f"'notes' is a list of {{text, at: [x, y]}}, not {type_name(raw)}", ("notes",))
        return []
    notes = []
    for i, item in enumerate(raw):
        path: Path = ("notes", i)
        m = as_map(c, item, path, "a note")
        if m is None:
            continue
        check_keys(c, m, NOTE_KEYS, path, "a note")
        text = m.get("text")
        if not isinstance(text, str):
            c.add(f"a note's 'text' must be text, not {type_name(text)}", path + ("text",))
            continue
        if len(text) > NOTE_TEXT_LIMIT:
            c.add(f"a note holds at most {NOTE_TEXT_LIMIT:,} characters", path + ("text",))
            continue
        at = m.get("at")
        if not (
            isinstance(at, list)
            and len(at) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in at)
            and all(math.isfinite(v) and abs(v) <= LAYOUT_LIMIT for v in at)
        ):
            c.add(
                f"a note's 'at' is [x, y], two numbers from -{LAYOUT_LIMIT:,} to {LAYOUT_LIMIT:,}",
                path + ("at",),
            )
            continue
        notes.append(Note(text, (at[0], at[1])))
    return notes
