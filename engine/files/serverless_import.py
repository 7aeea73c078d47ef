"""Serverless Workflow 1.0.x document -> Switchboard workflow (import), with its problems.

`do` sequences, `fork` branches, `call: http`, `wait`, `emit`, `if`, `for` over one call and
`try` with a `retry` become steps with `after` lists; a task exported by Switchboard comes back
from its `metadata.switchboard`. Every other task or key is a problem with its path. Positions
come from `core.layout.layered_layout`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from engine.core.durations import format_duration
from engine.core.errors import LoadError, Problem, format_path
from engine.core.jq import Untranslatable
from engine.core.jq_import import jq_template_to_jmespath
from engine.core.layout import layered_layout
from engine.core.model import Workflow
from engine.core.names import SERVICE_RE
from engine.files.documents import parse_workflow
from engine.files.serverless import NOTIFY_EVENT
from engine.files.yamlread import Locator, read_yaml
from engine.files.yamlwrite import dump_data, dump_workflow

__all__ = ["Imported", "import_serverless", "SUPPORTED_TASKS"]

SUPPORTED_TASKS = (
    "call: http",
    "do",
    "fork",
    "wait",
    "emit",
    "for (one call)",
    "try (one call, retry or ignore)",
)
_ID_BAD = re.compile(r"[^A-Za-z0-9_]")
_TASK_KINDS = (
    "call",
    "do",
    "fork",
    "emit",
    "for",
    "listen",
    "raise",
    "run",
    "set",
    "switch",
    "try",
    "wait",
)
_UNITS = {
    "days": 86_400_000,
    "hours": 3_600_000,
    "minutes": 60_000,
    "seconds": 1000,
    "milliseconds": 1,
}
_ISO = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")
Path = tuple[str | int, ...]


@dataclass
class Imported:
    """The workflow (None when nothing could be imported), its text, the base URL of each
    service found in endpoints, and every problem with its path in the source document."""

    workflow: Workflow | None
    text: str = ""
    services: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def _duration(v: Any) -> int | None:
    if isinstance(v, dict) and v and all(k in _UNITS and isinstance(n, int) for k, n in v.items()):
        return sum(_UNITS[str(k)] * int(n) for k, n in v.items())
    if isinstance(v, str):
        m = _ISO.match(v)
        if m and any(m.groups()):
            d, h, mi, s = m.groups()
            return (
                int(d or 0) * 86_400_000
                + int(h or 0) * 3_600_000
                + int(mi or 0) * 60_000
                + round(float(s or 0) * 1000)
            )
    return None


def _at(value: Any, *keys: str) -> Any:
    """`value[k1][k2]…`, or None where a key is missing or a value is not a mapping."""
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _keeps_output(export: Any) -> bool:
    """Whether an `export` only adds the task's output to the context (`$context + {…}`)."""
    text = export.get("as") if isinstance(export, dict) else None
    return isinstance(text, str) and text.replace(" ", "").startswith("${$context+{")


def _records_error(tasks: Any) -> bool:
    """Whether a catch's tasks only keep the error in the context (what an export writes
    for `onError: continue`)."""
    return (
        isinstance(tasks, list)
        and len(tasks) == 1
        and isinstance(tasks[0], dict)
        and len(tasks[0]) == 1
        and _keeps_output(_at(next(iter(tasks[0].values())), "export"))
    )


def _only_raises(tasks: Any) -> bool:
    """Whether a task list only raises an error again (a catch that lets the failure go on)."""
    return (
        isinstance(tasks, list)
        and bool(tasks)
        and all(
            isinstance(t, dict)
            and len(t) == 1
            and isinstance(next(iter(t.values())), dict)
            and "raise" in next(iter(t.values()))
            for t in tasks
        )
    )


def _service_name(host: str) -> str:
    words = [w for w in re.split(r"[^A-Za-z0-9]+", host) if w and w.lower() != "www"]
    name = "".join(w[:1].upper() + w[1:] for w in words) or "Service"
    return name if name[0].isalpha() else "S" + name


class _Importer:
    def __init__(self, loc: Locator, file: str) -> None:
        self.loc = loc
        self.file = file
        self.steps: list[dict[str, Any]] = []
        self.ids: set[str] = set()
        self.services: dict[str, str] = {}
        self.problems: list[Problem] = []

    def problem(self, message: str, path: Path, severity: str = "error") -> None:
        self.problems.append(self.loc.problem(message, path, key=True, severity=severity))

    def unique(self, name: str) -> str:
        base = _ID_BAD.sub("_", name) or "task"
        if not (base[0].isalpha() or base[0] == "_"):
            base = "t_" + base
        sid, n = base, 2
        while sid in self.ids:
            sid, n = f"{base}_{n}", n + 1
        self.ids.add(sid)
        return sid

    def expr(self, value: Any, path: Path, names: dict[str, str], first: bool) -> Any:
        try:
            out, relative = jq_template_to_jmespath(value, names)
        except Untranslatable as e:
            self.problem(f"{e}: rewrite it as a JMESPath '${{ }}' expression by hand", path)
            return None
        if relative and not first:
            self.problem(
                "'.' (the task's input, the output of the task before) is read as the "
                "run input: check the expression",
                path,
                "warning",
            )
        return out

    def condition(self, text: Any, path: Path, names: dict[str, str], first: bool) -> str | None:
        if not isinstance(text, str):
            return None
        s = text.strip()
        if s.startswith("${") and s.endswith("}"):
            s = s[2:-1]
        out = self.expr("${" + s + "}", path, names, first)
        return out if isinstance(out, str) else None

    def tasks(self, entries: Any, path: Path, preds: list[str], names: dict[str, str]) -> list[str]:
        if not isinstance(entries, list):
            self.problem("a task list must be a list of named tasks", path)
            return preds
        for i, entry in enumerate(entries):
            if not isinstance(entry, dict) or len(entry) != 1:
                self.problem("each entry of a task list is one 'name: task' mapping", path + (i,))
                continue
            ((name, task),) = entry.items()
            preds = self.task(str(name), task, path + (i, name), preds, names)
        return preds

    def task(
        self, name: str, task: Any, path: Path, preds: list[str], names: dict[str, str]
    ) -> list[str]:
        if not isinstance(task, dict):
            self.problem("a task is a mapping", path)
            return preds
        meta = task.get("metadata")
        if _at(meta, "switchboard", "empty") is True:
            return preds  # the stand-in an export writes for a workflow without steps
        step = _at(meta, "switchboard", "step")
        if isinstance(step, dict) and isinstance(step.get("id"), str):
            self.ids.add(step["id"])
            self.steps.append(dict(step))
            return [step["id"]]
        kinds = [k for k in _TASK_KINDS if k in task and not (k == "do" and "for" in task)]
        if len(kinds) != 1:
            self.problem(
                "the task is none of call, do, fork, emit, for, listen, raise, run, "
                "set, switch, try, wait",
                path,
            )
            return preds
        kind = kinds[0]
        then = task.get("then")
        if then not in (None, "continue"):
            self.problem(
                f"'then: {then}' (a jump) has no Switchboard equivalent: steps run in "
                "their 'after' order",
                path + ("then",),
            )
        for key in ("input", "output", "export"):
            if key == "export" and _keeps_output(task.get(key)):
                continue  # what Switchboard does anyway: steps.<id>.output
            if key in task:
                self.problem(
                    f"the task's '{key}' is not imported: use expressions over "
                    "steps.<id>.output instead",
                    path + (key,),
                    "warning",
                )
        if kind == "do":
            if "if" in task:
                self.problem("an 'if' on a 'do' task is not imported", path + ("if",))
            return self.tasks(task["do"], path + ("do",), preds, names)
        if kind == "fork":
            fork = task["fork"] if isinstance(task["fork"], dict) else {}
            if fork.get("compete"):
                self.problem(
                    "'compete: true' (first branch wins) has no Switchboard "
                    "equivalent: every branch runs to its end",
                    path + ("fork", "compete"),
                )
            exits: list[str] = []
            branches = fork.get("branches")
            for i, entry in enumerate(branches if isinstance(branches, list) else []):
                here = path + ("fork", "branches", i)
                if not isinstance(entry, dict) or len(entry) != 1:
                    self.problem("each branch is one 'name: task' mapping", here)
                    continue
                ((bname, branch),) = entry.items()
                # each branch starts after what came before the fork
                exits += self.task(str(bname), branch, here + (bname,), preds, names)
            return list(dict.fromkeys(exits)) or preds
        if kind not in ("call", "wait", "emit", "for", "try"):
            self.problem(
                f"the '{kind}' task has no Switchboard equivalent and is not imported",
                path + (kind,),
            )
            return preds
        head: dict[str, Any] = {"id": self.unique(name), "after": list(preds)}
        if "if" in task:
            cond = self.condition(task["if"], path + ("if",), names, not preds)
            if cond is not None:
                head["if"] = cond
        made = self.body(kind, task, path, head, names, not preds)
        if made is None:
            return preds
        self.steps.append(made)
        return [made["id"]]

    def body(
        self,
        kind: str,
        task: dict[str, Any],
        path: Path,
        step: dict[str, Any],
        names: dict[str, str],
        first: bool,
    ) -> dict[str, Any] | None:
        if kind == "wait":
            ms = _duration(task["wait"])
            if ms is None:
                self.problem("the wait is not a duration this import reads", path + ("wait",))
                return None
            return {**step, "wait": format_duration(ms)}
        if kind == "emit":
            ev = task["emit"].get("event", {}) if isinstance(task["emit"], dict) else {}
            props = ev.get("with", {}) if isinstance(ev, dict) else {}
            if not isinstance(props, dict) or not isinstance(props.get("type"), str):
                self.problem("the emitted event has no 'type'", path + ("emit",))
                return None
            if props["type"] == NOTIFY_EVENT and isinstance(props.get("data"), dict):
                note = self.expr(
                    props["data"], path + ("emit", "event", "with", "data"), names, first
                )
                if isinstance(note, dict) and isinstance(note.get("message"), str):
                    return {
                        **step,
                        "notify": {k: v for k, v in note.items() if k in ("message", "level")},
                    }
            body: dict[str, Any] = {"event": props["type"]}
            if "data" in props:
                body["data"] = self.expr(
                    props["data"], path + ("emit", "event", "with", "data"), names, first
                )
            return {**step, "emit": body}
        if kind == "call":
            return self.call(task, path, step, names, first)
        if kind == "for":
            return self.loop(task, path, step, names, first)
        return self.attempt(task, path, step, names, first)

    def call(
        self,
        task: dict[str, Any],
        path: Path,
        step: dict[str, Any],
        names: dict[str, str],
        first: bool,
    ) -> dict[str, Any] | None:
        if task["call"] != "http":
            self.problem(
                f"'call: {task['call']}' is not imported: only 'call: http' is", path + ("call",)
            )
            return None
        args = task.get("with") if isinstance(task.get("with"), dict) else {}
        assert isinstance(args, dict)
        here = path + ("with",)
        endpoint = args.get("endpoint")
        if isinstance(endpoint, dict):
            for key in endpoint:
                if key != "uri":
                    self.problem(
                        f"the endpoint's '{key}' is not imported: Switchboard sends "
                        "credentials as headers from secrets ('${ secrets.NAME }')",
                        here + ("endpoint", key),
                    )
            endpoint = endpoint.get("uri")
        if not isinstance(endpoint, str) or endpoint.strip().startswith("${"):
            self.problem(
                "the endpoint is an expression or missing: only a URL or URI template is imported",
                here + ("endpoint",),
            )
            return None
        url = urlsplit(endpoint)
        if not url.netloc:
            self.problem(f"the endpoint '{endpoint}' has no host", here + ("endpoint",))
            return None
        # urlsplit's hostname is lower case; the name keeps the case as written
        service = _service_name(url.netloc.rsplit("@", 1)[-1].split(":")[0] or url.netloc)
        self.services.setdefault(service, f"{url.scheme}://{url.netloc}")
        rel = re.sub(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", r"${ input.\1 }", url.path or "/")
        if url.query:
            rel += "?" + url.query
        # the last plain segment of the path names the action (`/v1/notify` -> notify), so
        # mocks keyed `Service.action` still match; else the task's name does
        last = (url.path or "/").rstrip("/").rsplit("/", 1)[-1]
        action = last if SERVICE_RE.match(last) else _ID_BAD.sub("_", str(step["id"]))
        out: dict[str, Any] = {**step, "service": service, "action": action}
        method = str(args.get("method", "get")).upper()
        if method != "POST":
            out["method"] = method
        if rel != f"/{action}":
            out["path"] = rel
        for key, target in (("query", "query"), ("headers", "headers"), ("body", "with")):
            if key in args:
                val = self.expr(args[key], here + (key,), names, first)
                if val is not None:
                    out[target] = val
        if isinstance(args.get("redirect"), bool):
            out["followRedirects"] = args["redirect"]  # 3xx not an error: followed here
        elif "redirect" in args:
            self.problem("the call's 'redirect' must be true or false", here + ("redirect",))
        for key in args:
            if key not in ("method", "endpoint", "query", "headers", "body", "redirect"):
                self.problem(f"the call's '{key}' is not imported", here + (key,))
        if isinstance(task.get("timeout"), dict):
            ms = _duration(task["timeout"].get("after"))
            if ms is not None:
                out["timeout"] = format_duration(ms)
        return out

    def loop(
        self,
        task: dict[str, Any],
        path: Path,
        step: dict[str, Any],
        names: dict[str, str],
        first: bool,
    ) -> dict[str, Any] | None:
        spec = task["for"] if isinstance(task["for"], dict) else {}
        inner = task.get("do")
        if "while" in task:
            self.problem("'while' on a 'for' is not imported", path + ("while",))
        if not (
            isinstance(inner, list)
            and len(inner) == 1
            and isinstance(inner[0], dict)
            and len(inner[0]) == 1
            and isinstance(next(iter(inner[0].values())), dict)
            and "call" in next(iter(inner[0].values()))
        ):
            self.problem("only a 'for' over one call task is imported", path + ("do",))
            return None
        scope = {
            **names,
            str(spec.get("each", "item")): "item",
            str(spec.get("at", "index")): "index",
        }
        over = self.condition(spec.get("in"), path + ("for", "in"), names, first)
        ((name, call_task),) = inner[0].items()
        call = self.call(call_task, path + ("do", 0, name), step, scope, first)
        if call is None or over is None:
            return None
        return {**call, "foreach": over}

    def attempt(
        self,
        task: dict[str, Any],
        path: Path,
        step: dict[str, Any],
        names: dict[str, str],
        first: bool,
    ) -> dict[str, Any] | None:
        inner = task.get("try")
        catch = task.get("catch") if isinstance(task.get("catch"), dict) else {}
        assert isinstance(catch, dict)
        if not (
            isinstance(inner, list)
            and len(inner) == 1
            and isinstance(inner[0], dict)
            and len(inner[0]) == 1
        ):
            self.problem("only a 'try' around one task is imported", path + ("try",))
            return None
        ((name, one),) = inner[0].items()
        kind = (
            "call"
            if isinstance(one, dict) and "call" in one
            else ("for" if isinstance(one, dict) and "for" in one else None)
        )
        if kind is None:
            self.problem("only a 'try' around a call is imported", path + ("try", 0, name))
            return None
        out = self.body(kind, one, path + ("try", 0, name), step, names, first)
        if out is None:
            return None
        for key in catch:
            if key == "do" and (_only_raises(catch["do"]) or _records_error(catch["do"])):
                continue  # raise: the step fails; record: it goes on, as onError: continue
            if key not in ("retry", "as"):
                self.problem(
                    f"the catch's '{key}' is not imported: a caught call fails the "
                    "run after its retries",
                    path + ("catch", key),
                )
        policy = catch.get("retry")
        if isinstance(policy, dict):
            limit = _at(policy, "limit", "attempt", "count")
            retry: dict[str, Any] = {"attempts": (limit + 1) if isinstance(limit, int) else 3}
            delay = _duration(policy.get("delay"))
            if delay is not None:
                retry["delay"] = format_duration(delay)
            backoff = policy.get("backoff")
            retry["backoff"] = 2 if isinstance(backoff, dict) and "exponential" in backoff else 1
            retry["jitter"] = "full" if "jitter" in policy else "none"
            out["retry"] = retry
        elif policy is not None:
            self.problem(
                "a named retry policy (from 'use') is not imported", path + ("catch", "retry")
            )
        if ("retry" not in catch and "do" not in catch) or _records_error(catch.get("do")):
            out["onError"] = "continue"
        elif "do" not in catch and isinstance(policy, dict):
            out["onError"] = "continue"  # retried, then the error is caught and dropped
        return out


def import_serverless(text: str | bytes, file: str = "<text>") -> Imported:
    """The Switchboard workflow for a Serverless Workflow document; never raises."""
    try:
        data, loc = read_yaml(text, file)
    except LoadError as e:
        return Imported(None, problems=e.problems)
    imp = _Importer(loc, file)
    if not isinstance(data, dict) or not isinstance(data.get("document"), dict):
        return Imported(
            None,
            problems=[
                loc.problem("not a Serverless Workflow document: it has no 'document' block", ())
            ],
        )
    doc = data["document"]
    meta = _at(doc, "metadata", "switchboard")
    out: dict[str, Any] = {"version": 1}
    order: list[Any] = []
    if isinstance(meta, dict):
        out.update({k: v for k, v in meta.items() if k not in ("steps", "stepOrder")})
        order = meta["stepOrder"] if isinstance(meta.get("stepOrder"), list) else []
    else:
        out.update(_header(imp, data, doc))
    imp.tasks(data.get("do", []), ("do",), [], {})
    for key in data:
        if key not in ("document", "do", "input", "output", "schedule", "timeout"):
            imp.problem(f"'{key}' is not imported", (key,))
    if not imp.steps and not (isinstance(meta, dict) and not imp.problems):
        imp.problem("nothing in this document could be imported (see the other problems)", ("do",))
        return Imported(None, "", imp.services, imp.problems)
    place = {sid: i for i, sid in enumerate(order)}
    out["steps"] = sorted(imp.steps, key=lambda d: place.get(d.get("id"), len(place)))
    loaded = parse_workflow(dump_data(out), file)
    for p in loaded.problems:
        # the text checked is the one built here: its places mean nothing to the user
        imp.problem(
            f"the imported workflow at {format_path(p.path) or 'its top'}: {p.message}",
            ("do",),
            p.severity,
        )
    wf = loaded.model
    if wf is None or loaded.errors:
        return Imported(None, "", imp.services, imp.problems)
    wf.layout = layered_layout(wf)
    return Imported(wf, dump_workflow(wf), imp.services, imp.problems)


def _header(imp: _Importer, data: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    """Name, description, input schema, trigger, timeout and output of a foreign document."""
    out: dict[str, Any] = {}
    title = doc.get("title")
    name = (
        title if isinstance(title, str) and " " not in title else str(doc.get("name", "imported"))
    )
    out["name"] = name if re.match(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$", name) else "imported"
    if isinstance(doc.get("summary"), str):
        out["description"] = doc["summary"]
    schema = _at(data, "input", "schema")
    if isinstance(schema, dict) and isinstance(schema.get("document"), dict):
        out["input"] = schema["document"]
    elif "input" in data:
        imp.problem("only an inline JSON 'input.schema.document' is imported", ("input",))
    sched = data.get("schedule")
    if isinstance(sched, dict):
        on = sched.get("on")
        one = on.get("one") if isinstance(on, dict) else None
        if isinstance(_at(one, "with", "type"), str):
            out["trigger"] = _at(one, "with", "type")
        elif isinstance(on, dict) and isinstance(on.get("any"), list):
            types = [_at(f, "with", "type") for f in on["any"]]
            out["trigger"] = [t for t in types if isinstance(t, str)]
        else:
            imp.problem(
                "only 'schedule.on' with one or any events is imported: Switchboard "
                "starts on events, not on a clock",
                ("schedule",),
            )
    if isinstance(data.get("timeout"), dict):
        ms = _duration(data["timeout"].get("after"))
        if ms is not None:
            out["timeout"] = format_duration(ms)
    output = data.get("output")
    if isinstance(output, dict) and "as" in output:
        try:
            out["output"] = jq_template_to_jmespath(output["as"])[0]
        except Untranslatable as e:
            imp.problem(f"{e}: the output is not imported", ("output", "as"))
    return out
