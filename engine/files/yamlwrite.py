"""Canonical YAML: one diff-friendly form for every file kind (stable key order, block style).

Loading and saving a canonical file gives the same bytes. Strings that any YAML reader could
take for something else (`on`, `1e3`, `2026-11-25`, `null`) are quoted, so the file means the
same to YAML 1.1 and 1.2 tools.
"""

from __future__ import annotations

import math
import re
from typing import Any

import yaml

from engine.core.durations import format_duration
from engine.core.heap import LARGE_RUN_STEPS, paused_gc
from engine.core.model import (
    CallDefaults,
    CallStep,
    Comments,
    EmitStep,
    EnvironmentsFile,
    MockResponse,
    MocksFile,
    NotifyStep,
    Retry,
    TestsFile,
    WaitStep,
    Workflow,
)
from engine.core.names import base_id, default_step_ids
from engine.core.sizes import format_size
from engine.files.comments import Marks, insert_comments, workflow_comments
from engine.files.yamlread import resolve_plain

__all__ = [
    "dump_workflow",
    "dump_mocks",
    "dump_environments",
    "dump_tests",
    "dump_data",
    "data_lines",
    "workflow_to_data",
    "mocks_to_data",
    "environments_to_data",
    "tests_to_data",
]

Path = tuple[str | int, ...]

_PLAIN = re.compile(
    r"^[A-Za-z_$/(][^\x00-\x1f\x7f-\x9f#\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]*$"
)
_FLOW_UNSAFE = re.compile(r"[,\[\]{}]")
_AMBIGUOUS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", "=", "<<"}
_NUMERIC_START = re.compile(r"^[-+.0-9]")
_RESOLVER_11 = yaml.resolver.Resolver()
_NUMBERISH_PLAIN = re.compile(r"^[0-9][0-9.]*[A-Za-z]+$")  # 500ms, 10s, 2m: durations
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")
_FLOW_MAX = 80


class _Flow(list):  # type: ignore[type-arg]
    """A list always written in flow style: `[240, 0]`."""


def _plain_ok(s: str, flow: bool) -> bool:
    if not _PLAIN.match(s) or s != s.strip() or s.endswith(":"):
        return False
    if ": " in s or " #" in s or s.lower() in _AMBIGUOUS:
        return False
    return not (flow and _FLOW_UNSAFE.search(s))


def _scalar(v: Any, flow: bool = False) -> str:
    """One scalar in the canonical spelling; strings are quoted only when they must be."""
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return ".nan"
        if math.isinf(v):
            return ".inf" if v > 0 else "-.inf"
        text = repr(v)
        if "e" in text and "." not in text.split("e")[0]:
            m, e = text.split("e")
            text = f"{m}.0e{e}"
        return text
    s = str(v)
    if _plain_ok(s, flow):
        return s
    if _NUMERIC_START.match(s) and _NUMBERISH_PLAIN.match(s) and _reads_as_text(s):
        return s
    if "\n" not in s and not _CONTROL.search(s):
        return "'" + s.replace("'", "''") + "'"
    return _double_quoted(s)


_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r", "\x00": "\\0"}


def _double_quoted(s: str) -> str:
    """A YAML double-quoted scalar; characters YAML cannot hold raw are escaped."""
    out = []
    for ch in s:
        esc = _ESCAPES.get(ch)
        if esc is not None:
            out.append(esc)
        elif _CONTROL.match(ch):
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _reads_as_text(s: str) -> bool:
    """Whether YAML 1.1 and 1.2 readers both take plain `s` as a string."""
    if not isinstance(resolve_plain(s), str):
        return False
    tag = _RESOLVER_11.resolve(yaml.ScalarNode, s, (True, False))  # type: ignore[no-untyped-call]
    return bool(tag == "tag:yaml.org,2002:str")


def _literal_ok(s: str) -> bool:
    """Whether a multi-line string can be written as a `|` block and read back the same."""
    if "\n" not in s or _CONTROL.search(s) or "\r" in s or "\t" in s:
        return False
    if s.startswith((" ", "\n")):
        return False
    return all(line == line.rstrip() for line in s.split("\n"))


def _is_scalar(v: Any) -> bool:
    return not isinstance(v, (dict, list))


def _flow_list(items: list[Any]) -> str | None:
    if not all(_is_scalar(i) and not (isinstance(i, str) and "\n" in i) for i in items):
        return None
    return "[" + ", ".join(_scalar(i, flow=True) for i in items) + "]"


def _emit(v: Any, indent: int, out: list[str], path: Path = (), marks: Marks | None = None) -> None:
    """Append the block lines of a mapping or list at `indent` spaces; with `marks`, note
    where each key and item (by its `path`) was written."""
    pad = " " * indent
    if isinstance(v, dict):
        for k, item in v.items():
            key = _scalar(str(k))
            if marks is None:
                _emit_entry(f"{pad}{key}:", item, indent, out)
            else:
                p = (*path, k)
                start = len(out)
                _emit_entry(f"{pad}{key}:", item, indent, out, p, marks)
                marks.own[p] = (start, len(out) - 1)
    else:
        for i, item in enumerate(v):
            p = (*path, i) if marks is not None else path
            start = len(out)
            if isinstance(item, dict) and item:
                _emit(item, indent + 2, out, p, marks)
                out[start] = f"{pad}- " + out[start][indent + 2 :]
            else:
                _emit_entry(f"{pad}-", item, indent, out, p, marks)
            if marks is not None:
                marks.own[p] = (start, len(out) - 1)


def _emit_entry(
    head: str, item: Any, indent: int, out: list[str], path: Path = (), marks: Marks | None = None
) -> None:
    if isinstance(item, dict):
        if not item:
            out.append(f"{head} {{}}")
        else:
            out.append(head)
            _emit(item, indent + 2, out, path, marks)
    elif isinstance(item, list):
        flow = _flow_list(item)
        if flow is not None and (isinstance(item, _Flow) or len(head) + len(flow) < _FLOW_MAX):
            out.append(f"{head} {flow}")
            if marks is not None:
                for i in range(len(item)):
                    marks.inline[(*path, i)] = path
        else:
            out.append(head)
            _emit(item, indent + 2, out, path, marks)
    elif isinstance(item, str) and _literal_ok(item):
        body = item[:-1] if item.endswith("\n") else item
        chomp = "" if item.endswith("\n") and not item.endswith("\n\n") else "-"
        if item.endswith("\n\n"):
            body, chomp = item.rstrip("\n"), "+"
        out.append(f"{head} |{chomp}")
        pad = " " * (indent + 2)
        for line in body.split("\n"):
            out.append(pad + line if line else "")
        if chomp == "+":
            out.extend([""] * (len(item) - len(item.rstrip("\n")) - 1))
    else:
        out.append(f"{head} {_scalar(item)}")


def dump_data(data: Any, comments: Comments | None = None) -> str:
    """Plain data (a mapping at the top) in the canonical block style; `comments` by path
    (`files/comments.py`) are written beside the keys and items they belong to."""
    out: list[str] = []
    if not comments:
        _emit(data, 0, out)
        return "\n".join(out) + "\n"
    out, marks = data_lines(data)
    return "\n".join(insert_comments(out, marks, comments)) + "\n"


def data_lines(data: Any) -> tuple[list[str], Marks]:
    """The canonical lines of `data` and where each key and item stands in them."""
    out: list[str] = []
    marks = Marks()
    _emit(data, 0, out, (), marks)
    return out, marks


def _num(v: float) -> int | float:
    return int(v) if isinstance(v, float) and v.is_integer() else v


def _dur(v: int | None) -> Any:
    return None if v is None else format_duration(v)


def _retry(r: Retry) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if r.attempts is not None:
        out["attempts"] = r.attempts
    if r.delay is not None:
        out["delay"] = _dur(r.delay)
    if r.backoff is not None:
        out["backoff"] = _num(r.backoff)
    if r.max_delay is not None:
        out["maxDelay"] = _dur(r.max_delay)
    if r.jitter is not None:
        out["jitter"] = r.jitter
    if r.on is not None:
        out["on"] = list(r.on)
    return out


def _defaults(d: CallDefaults) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if d.timeout is not None:
        out["timeout"] = _dur(d.timeout)
    if d.retry is not None:
        out["retry"] = _retry(d.retry)
    if d.on_error is not None:
        out["onError"] = d.on_error
    if d.headers is not None:
        out["headers"] = dict(d.headers)
    if d.follow_redirects is not None:
        out["followRedirects"] = d.follow_redirects
    if d.max_response_size is not None:
        out["maxResponseSize"] = format_size(d.max_response_size)
    return out


def _explicit_ids(wf: Workflow) -> list[bool]:
    """Which ids must be written: those the loader would not give back by default."""
    bases = [base_id(s) for s in wf.steps]
    ids = [s.id for s in wf.steps]
    explicit = [False] * len(ids)
    while True:
        given: list[str | None] = [i if e else None for i, e in zip(ids, explicit)]
        defaults = default_step_ids(bases, given)
        changed = False
        for k, (want, got) in enumerate(zip(ids, defaults)):
            if want != got and not explicit[k]:
                explicit[k] = True
                changed = True
        if not changed:
            return explicit


def workflow_to_data(wf: Workflow) -> dict[str, Any]:
    """The canonical mapping for a workflow, ready to dump."""
    out: dict[str, Any] = {"version": wf.version, "name": wf.name}
    if wf.description is not None:
        out["description"] = wf.description
    if wf.trigger:
        out["trigger"] = wf.trigger[0] if len(wf.trigger) == 1 else list(wf.trigger)
    if wf.input is not None:
        out["input"] = wf.input
    if wf.timeout is not None:
        out["timeout"] = _dur(wf.timeout)
    if not wf.defaults.is_empty():
        out["defaults"] = _defaults(wf.defaults)
    explicit = _explicit_ids(wf)
    steps = []
    prev: str | None = None
    for s, write_id in zip(wf.steps, explicit):
        d: dict[str, Any] = {}
        if write_id:
            d["id"] = s.id
        if s.description is not None:
            d["description"] = s.description
        default_after = [prev] if prev is not None else []
        if list(s.after) != default_after:
            d["after"] = list(s.after)
        if s.if_ is not None:
            d["if"] = s.if_
        if s.disabled:
            d["disabled"] = True
        if isinstance(s, CallStep):
            d["service"] = s.service
            d["action"] = s.action
            for key, val in (
                ("method", s.method),
                ("path", s.path),
                ("query", s.query),
                ("headers", s.headers),
                ("with", s.with_),
                ("foreach", s.foreach),
                ("maxConcurrency", s.max_concurrency),
            ):
                if val is not None or (key == "with" and s.no_body):
                    d[key] = val
            if s.timeout is not None:
                d["timeout"] = _dur(s.timeout)
            if s.retry is not None:
                d["retry"] = _retry(s.retry)
            if s.on_error is not None:
                d["onError"] = s.on_error
            if s.output is not None:
                d["output"] = s.output
            if s.follow_redirects is not None:
                d["followRedirects"] = s.follow_redirects
            if s.max_response_size is not None:
                d["maxResponseSize"] = format_size(s.max_response_size)
        elif isinstance(s, WaitStep):
            d["wait"] = _dur(s.wait)
        elif isinstance(s, EmitStep):
            body: dict[str, Any] = {"event": s.event}
            if s.data is not None:
                body["data"] = s.data
            d["emit"] = body
        elif isinstance(s, NotifyStep):
            nb: dict[str, Any] = {"message": s.message}
            if s.level != "info":
                nb["level"] = s.level
            d["notify"] = nb
        steps.append(d)
        prev = s.id
    out["steps"] = steps
    if wf.output is not None:
        out["output"] = wf.output
    ids = set(wf.ids)
    layout = {sid: _Flow([_num(x), _num(y)]) for sid, (x, y) in wf.layout.items() if sid in ids}
    if layout:
        # layout follows step order, so moving a node changes one line
        order = {sid: i for i, sid in enumerate(wf.ids)}
        out["layout"] = dict(sorted(layout.items(), key=lambda kv: order[kv[0]]))
    if wf.notes:
        out["notes"] = [
            {"text": n.text, "at": _Flow([_num(n.at[0]), _num(n.at[1])])} for n in wf.notes
        ]
    return out


def dump_workflow(wf: Workflow, comments: bool = True) -> str:
    """The workflow's canonical text, with its YAML comments unless `comments` is False."""
    # what is built to write a large workflow is let go when it is written: nothing to collect
    with paused_gc(len(wf.steps) >= LARGE_RUN_STEPS):
        return dump_data(workflow_to_data(wf), workflow_comments(wf) if comments else None)


def _response(r: MockResponse) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if r.fault is not None:
        out["fault"] = r.fault
    else:
        out["status"] = r.status
        if r.headers:
            out["headers"] = dict(r.headers)
        if r.body is not None:
            out["body"] = r.body
    if r.delay:
        out["delay"] = _dur(r.delay)
    return out


def _table(t: dict[str, list[MockResponse]]) -> dict[str, Any]:
    return {k: _response(v[0]) if len(v) == 1 else [_response(r) for r in v] for k, v in t.items()}


def mocks_to_data(m: MocksFile) -> dict[str, Any]:
    out: dict[str, Any] = {"version": m.version, "mocks": _table(m.mocks)}
    if m.scenarios:
        out["scenarios"] = {name: _table(t) for name, t in m.scenarios.items()}
    return out


def dump_mocks(m: MocksFile, comments: bool = True) -> str:
    return dump_data(mocks_to_data(m), m.comments if comments else None)


def dump_environments(ef: EnvironmentsFile, comments: bool = True) -> str:
    return dump_data(environments_to_data(ef), ef.comments if comments else None)


def environments_to_data(ef: EnvironmentsFile) -> dict[str, Any]:
    out: dict[str, Any] = {"version": ef.version}
    if ef.default is not None:
        out["default"] = ef.default
    envs: dict[str, Any] = {}
    for name, env in ef.environments.items():
        e: dict[str, Any] = {}
        if env.services:
            e["services"] = dict(env.services)
        if env.mocks:
            e["mocks"] = env.mocks[0] if len(env.mocks) == 1 else list(env.mocks)
        if env.notify:
            e["notify"] = [dict(n) for n in env.notify]
        if env.secrets:
            e["secrets"] = dict(env.secrets)
        if env.engine is not None:
            e["engine"] = env.engine
        if env.temporal:
            e["temporal"] = dict(env.temporal)
        if env.follow_redirects is not None:
            e["followRedirects"] = env.follow_redirects
        if env.max_response_size is not None:
            e["maxResponseSize"] = format_size(env.max_response_size)
        if env.tls is not None:
            t = env.tls
            tls = {k: v for k, v in (("ca", t.ca), ("cert", t.cert), ("key", t.key)) if v}
            e["tls"] = tls if t.verify else {**tls, "verify": False}
        envs[name] = e
    out["environments"] = envs
    return out


def dump_tests(tf: TestsFile, comments: bool = True) -> str:
    return dump_data(tests_to_data(tf), tf.comments if comments else None)


def tests_to_data(tf: TestsFile) -> dict[str, Any]:
    out: dict[str, Any] = {"version": tf.version, "workflow": tf.workflow}
    if tf.mocks is not None:
        out["mocks"] = tf.mocks
    cases = []
    for case in tf.cases:
        c: dict[str, Any] = {"name": case.name}
        if case.scenario is not None:
            c["scenario"] = case.scenario
        if case.env is not None:
            c["env"] = case.env
        if case.input is not None:
            c["input"] = case.input
        ex = case.expect
        e: dict[str, Any] = {}
        if ex.status is not None:
            e["status"] = ex.status
        if ex.steps:
            e["steps"] = dict(ex.steps)
        if ex.has_output:
            e["output"] = ex.output
        if ex.calls:
            e["calls"] = dict(ex.calls)
        if ex.error is not None:
            e["error"] = dict(ex.error)
        c["expect"] = e
        cases.append(c)
    out["cases"] = cases
    return out
