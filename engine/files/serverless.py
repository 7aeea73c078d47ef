"""Switchboard workflow -> Serverless Workflow 1.0.3 document (export), with its problems.

The `after` graph becomes `do` sequences and `fork` branches (`core.graph.series_parallel`);
every call keeps its output in the context (`$context.<id>`) so later expressions reach it as
`steps.<id>.output` did. A step skipped in Switchboard skips the steps after it; the export
spells that out in each task's `if`. Each task carries the step as written under
`metadata.switchboard`, so an import gives back the same workflow (`serverless_import`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.core.errors import Problem
from engine.core.graph import NotSeriesParallel, Series, SPNode, series_parallel
from engine.core.jq import TRUTHY, Untranslatable, error_key, template_to_jq, to_jq
from engine.core.model import (
    RETRY_ON_DEFAULT,
    AnyStep,
    CallStep,
    EmitStep,
    NotifyStep,
    RetryPolicy,
    WaitStep,
    Workflow,
    resolve_call,
)
from engine.files.yamlwrite import dump_data, workflow_to_data

__all__ = ["Exported", "export_serverless", "DSL_VERSION", "NOTIFY_EVENT", "sw_duration"]

DSL_VERSION = "1.0.3"
NOTIFY_EVENT = "io.switchboard.notify"
_NO_BODY = {"GET", "HEAD", "DELETE", "OPTIONS"}
_MAX_IF = 4000  # characters: an `if` grown past this is reported, not written
Locate = Callable[[tuple[str | int, ...]], tuple[int, int]]


@dataclass
class Exported:
    """The document (None when the workflow cannot be exported) and every problem found."""

    document: dict[str, Any] | None
    problems: list[Problem] = field(default_factory=list)

    @property
    def text(self) -> str:
        return dump_data(self.document) if self.document is not None else ""


def sw_duration(ms: int) -> dict[str, int]:
    """Milliseconds as an inline duration: `{minutes: 2}`, `{seconds: 1, milliseconds: 500}`."""
    out: dict[str, int] = {}
    for unit, size in (
        ("days", 86_400_000),
        ("hours", 3_600_000),
        ("minutes", 60_000),
        ("seconds", 1000),
        ("milliseconds", 1),
    ):
        if ms >= size:
            out[unit], ms = divmod(ms, size)
    return out or {"milliseconds": 0}


def _sw_name(name: str) -> str:
    """A Switchboard name as a Serverless Workflow name (lower case words joined by '-')."""
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1-\2", name).lower()
    words = re.sub(r"[^a-z0-9]+", "-", words).strip("-")
    return words[:63].rstrip("-") or "workflow"


class _Exporter:
    def __init__(
        self,
        wf: Workflow,
        file: str,
        locate: Locate | None,
        services: dict[str, str],
        source: str,
        follow_redirects: bool | None = None,
    ) -> None:
        self.wf = wf
        self.file = file
        self.locate = locate
        self.services = services
        self.source = source
        self.follow_redirects = follow_redirects  # the environment's, when exported with one
        self.problems: list[Problem] = []
        self.index = {s.id: i for i, s in enumerate(wf.steps)}
        self.conds: dict[str, str | None] = {}
        self.data_steps = workflow_to_data(wf)["steps"]
        # calls whose status the context shows: output kept on success, error on a failure
        # that goes on (a foreach's items are caught one by one, so not those)
        self.kept = frozenset(
            s.id for s in wf.steps if isinstance(s, CallStep) and s.foreach is None
        )

    def problem(
        self,
        message: str,
        path: tuple[str | int, ...],
        step: str | None = None,
        severity: str = "warning",
    ) -> None:
        line, col = self.locate(path) if self.locate else (0, 0)
        found = Problem(message, path, self.file, line, col, step, severity)
        if found not in self.problems:  # `defaults:` findings would repeat once per step
            self.problems.append(found)

    def value(
        self,
        v: Any,
        path: tuple[str | int, ...],
        step: str | None = None,
        *,
        in_output: bool = False,
    ) -> Any:
        """A template in jq; what cannot be translated is kept as written, with a problem."""
        if isinstance(v, dict):
            return {k: self.value(x, path + (k,), step, in_output=in_output) for k, x in v.items()}
        if isinstance(v, list):
            return [self.value(x, path + (i,), step, in_output=in_output) for i, x in enumerate(v)]
        try:
            return template_to_jq(v, in_call_output=in_output, kept=self.kept)
        except Untranslatable as e:
            self.problem(
                f"'{v}' is not translated to jq: {e}; it is exported as written "
                "and must be rewritten by hand",
                path,
                step,
            )
            return v

    def condition(self, s: AnyStep) -> str | None:
        """jq that is true when `s` runs: its own `if`, and one of its `after` not skipped."""
        if s.id in self.conds:
            return self.conds[s.id]
        path = ("steps", self.index[s.id], "if")
        own: str | None = None
        if s.if_ is not None:
            expr = s.if_.strip()
            try:
                if expr.startswith("${") and expr.endswith("}") and expr.count("${") == 1:
                    own = f"({to_jq(expr[2:-1].strip(), kept=self.kept)}) | {TRUTHY}"
                else:  # text around expressions: a string, true unless empty
                    t = template_to_jq(s.if_, kept=self.kept)
                    inner = (
                        t[2:-1].strip()
                        if isinstance(t, str) and t.startswith("${")
                        else json.dumps(t)
                    )
                    own = f"({inner}) | {TRUTHY}"
            except Untranslatable as e:
                self.problem(
                    f"the condition '{s.if_}' is not translated to jq: {e}; the "
                    "task runs without it",
                    path,
                    s.id,
                    "error",
                )
        if s.disabled:
            own = "false"  # skipped in every run, as ours is; what runs only after it follows
        preds = [self.condition(self.wf.step(p)) for p in s.after if p in self.index]
        upstream = (
            None
            if not preds or any(p is None for p in preds)
            else " or ".join(f"({p})" for p in dict.fromkeys(preds))
        )
        parts = [x for x in (upstream, own) if x is not None]
        cond = " and ".join(f"({x})" for x in parts) if parts else None
        if cond is not None and len(cond) > _MAX_IF:
            self.problem(
                "the condition under which this step runs (its 'if' and those of the "
                "steps before it) is too long to write; the task runs without it",
                path,
                s.id,
                "error",
            )
            cond = None
        self.conds[s.id] = cond
        return cond

    def task(self, s: AnyStep) -> dict[str, Any]:
        i = self.index[s.id]
        base: dict[str, Any] = {}
        cond = self.condition(s)
        if cond is not None:
            base["if"] = "${ " + cond + " }"
        if isinstance(s, CallStep):
            body = self.call(s, i)
        elif isinstance(s, WaitStep):
            body = {"wait": sw_duration(s.wait)}
        elif isinstance(s, EmitStep):
            ev: dict[str, Any] = {"source": self.source, "type": s.event}
            if s.data is not None:
                ev["data"] = self.value(s.data, ("steps", i, "emit", "data"), s.id)
            body = {"emit": {"event": {"with": ev}}}
        else:
            assert isinstance(s, NotifyStep)
            self.problem(
                f"notify has no Serverless Workflow equivalent: it is exported as an "
                f"emitted '{NOTIFY_EVENT}' event",
                ("steps", i, "notify"),
                s.id,
            )
            data = {
                "message": self.value(s.message, ("steps", i, "notify", "message"), s.id),
                "level": s.level,
            }
            body = {
                "emit": {
                    "event": {"with": {"source": self.source, "type": NOTIFY_EVENT, "data": data}}
                }
            }
        step_data = dict(self.data_steps[i])
        step_data = {
            "id": s.id,
            "after": list(s.after),
            **{k: v for k, v in step_data.items() if k not in ("id", "after")},
        }
        return {**base, **body, "metadata": {"switchboard": {"step": step_data}}}

    def call(self, s: CallStep, i: int) -> dict[str, Any]:
        rc = resolve_call(s, self.wf.defaults)
        here = ("steps", i)
        base = self.services.get(s.service, f"http://{s.service}").rstrip("/")
        url = base + rc.path
        endpoint = self.value(url, here + ("path",), s.id) if "${" in url else url
        args: dict[str, Any] = {"method": rc.method.lower(), "endpoint": endpoint}
        if rc.headers:
            args["headers"] = self.value(rc.headers, here + ("headers",), s.id)
        if s.query:
            args["query"] = self.value(s.query, here + ("query",), s.id)
        if s.with_ is not None:
            args["body"] = self.value(s.with_, here + ("with",), s.id)
        elif rc.method not in _NO_BODY:
            args["body"] = "${ $workflow.input }"
        redirect = self.redirect(s)
        if redirect is not None:
            args["redirect"] = redirect
        self.size_limit(s, here)
        call: dict[str, Any] = {"call": "http", "with": args}
        if s.output is not None:
            call["output"] = {"as": self.value(s.output, here + ("output",), s.id, in_output=True)}
        key = json.dumps(s.id)
        call["timeout"] = {"after": sw_duration(rc.timeout)}
        if s.foreach is None:
            call["export"] = {"as": f"${{ $context + {{{key}: .}} }}"}
        else:
            call["export"] = {"as": f"${{ $context + {{{key}: (($context[{key}] // []) + [.])}} }}"}
        inner = self.guarded(s, i, rc.retry, rc.on_error, call)
        if s.foreach is None:
            return inner
        if (s.max_concurrency or 1) > 1:
            self.problem(
                f"maxConcurrency {s.max_concurrency} has no Serverless Workflow "
                "equivalent: 'for' runs one item at a time",
                here + ("maxConcurrency",),
                s.id,
            )
        return {
            "for": {
                "each": "item",
                "in": self.value(s.foreach, here + ("foreach",), s.id),
                "at": "index",
            },
            "do": [{f"{s.id}Item": inner}],
            "export": {"as": f"${{ $context + {{{key}: ($context[{key}] // [])}} }}"},
        }

    def redirect(self, s: CallStep) -> bool | None:
        """`followRedirects` as SW's `redirect` (3xx answers are not errors: the runtime's
        client follows them): the step's, else `defaults:`, else the environment's; None when
        none says (SW's default, false, is Switchboard's too)."""
        for said in (s.follow_redirects, self.wf.defaults.follow_redirects, self.follow_redirects):
            if said is not None:
                return said
        return None

    def size_limit(self, s: CallStep, here: tuple[str | int, ...]) -> None:
        if s.max_response_size is not None:
            where: tuple[str | int, ...] = here + ("maxResponseSize",)
        elif self.wf.defaults.max_response_size is not None:
            where = ("defaults", "maxResponseSize")
        else:
            return
        self.problem(
            "maxResponseSize has no Serverless Workflow equivalent: the runtime's own limit "
            "applies",
            where,
            s.id,
        )

    def guarded(
        self, s: CallStep, i: int, retry: RetryPolicy, on_error: str, call: dict[str, Any]
    ) -> dict[str, Any]:
        """The call inside try/catch when it retries or its failure is ignored."""
        if retry.attempts <= 1 and on_error != "continue":
            return call
        catch: dict[str, Any] = {}
        where = ("steps", i, "retry") if s.retry is not None else ("defaults", "retry")
        if retry.attempts > 1:
            catch["retry"] = self.retry(s, retry, where)
        if on_error == "continue" and s.foreach is None:
            record = (
                f'${{ $context + {{{json.dumps(error_key(s.id))}: {{"message": '
                f'($error.detail // $error.title), "status": $error.status}}}} }}'
            )
            catch["do"] = [{f"{s.id}Failed": {"set": {"failed": True}, "export": {"as": record}}}]
        if on_error != "continue":
            catch["do"] = [
                {
                    f"{s.id}Failed": {
                        "raise": {
                            "error": {
                                "type": "${ $error.type }",
                                "status": 500,
                                "title": '${ $error.title // "the call failed" }',
                            }
                        }
                    }
                }
            ]
        return {"try": [{f"{s.id}Call": call}], "catch": catch}

    def retry(self, s: CallStep, p: RetryPolicy, where: tuple[str | int, ...]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "delay": sw_duration(p.delay),
            "backoff": {"exponential": {}} if p.backoff > 1 else {"constant": {}},
            "limit": {"attempt": {"count": p.attempts - 1}},
        }
        if p.jitter == "full":
            out["jitter"] = {"from": {"milliseconds": 0}, "to": sw_duration(p.delay)}
            self.problem(
                "jitter: full (delay × random 0..1) is exported as a random 0..delay "
                "added to each delay",
                where,
                s.id,
            )
        if p.backoff > 1 and p.backoff != 2:
            self.problem(
                f"backoff {p.backoff:g}: Serverless Workflow's exponential backoff has no factor",
                where,
                s.id,
            )
        if p.backoff > 1:
            self.problem(
                "maxDelay has no Serverless Workflow equivalent: delays are not capped", where, s.id
            )
        self.problem(
            "a Retry-After header has no Serverless Workflow equivalent: it does not "
            "set the next delay",
            where,
            s.id,
        )
        if tuple(p.on) != RETRY_ON_DEFAULT:
            self.problem("retry 'on' is not exported: every error is retried", where, s.id)
        return out

    def tasks(self, node: SPNode) -> list[dict[str, Any]]:
        if isinstance(node, str):
            return [{node: self.task(self.wf.step(node))}]
        if isinstance(node, Series):
            return [t for part in node.parts for t in self.tasks(part)]
        branches = []
        for part in node.parts:
            entries = self.tasks(part)
            branches.append(
                entries[0] if len(entries) == 1 else {f"{_first(part)}Branch": {"do": entries}}
            )
        return [{f"{_first(node)}Parallel": {"fork": {"branches": branches}}}]


def _first(node: SPNode) -> str:
    while not isinstance(node, str):
        node = node.parts[0]
    return node


def export_serverless(
    wf: Workflow,
    *,
    file: str = "",
    locate: Locate | None = None,
    services: dict[str, str] | None = None,
    source: str | None = None,
    namespace: str = "default",
    version: str = "1.0.0",
    follow_redirects: bool | None = None,
) -> Exported:
    """The Serverless Workflow document for `wf`; None with an error naming the steps when
    its order is not series-parallel. Problems are located with `locate(path)`. `services` and
    `follow_redirects` are the environment's, when exported with one."""
    ex = _Exporter(
        wf,
        file,
        locate,
        services or {},
        source or f"https://switchboard.local/{_sw_name(wf.name)}",
        follow_redirects,
    )
    try:
        tree = series_parallel({s.id: s.after for s in wf.steps})
    except NotSeriesParallel as e:
        # the last of the group is the usual culprit: it waits for part of what came before
        last = max(ex.index[sid] for sid in e.steps if sid in ex.index)
        ex.problem(
            f"the steps {', '.join(e.steps)} are ordered in a way Serverless Workflow "
            "cannot write as sequences and parallel branches (one step waits for only "
            "part of a parallel group): make each step wait for the whole group, or "
            "split the group",
            ("steps", last, "after"),
            ex.wf.steps[last].id,
            "error",
        )
        return Exported(None, ex.problems)
    doc: dict[str, Any] = {
        "document": {
            "dsl": DSL_VERSION,
            "namespace": namespace,
            "name": _sw_name(wf.name),
            "version": version,
            "title": wf.name,
        }
    }
    if wf.description:
        doc["document"]["summary"] = wf.description
    if wf.input is not None:
        doc["input"] = {"schema": {"format": "json", "document": wf.input}}
    if wf.trigger:
        strategy = [{"with": {"type": t}} for t in wf.trigger]
        doc["schedule"] = {"on": {"one": strategy[0]} if len(strategy) == 1 else {"any": strategy}}
    if wf.timeout is not None:
        doc["timeout"] = {"after": sw_duration(wf.timeout)}
    # a `do` needs one task: a workflow with no steps waits for nothing
    doc["do"] = (
        ex.tasks(tree)
        if tree is not None
        else [
            {"nothing": {"wait": {"milliseconds": 0}, "metadata": {"switchboard": {"empty": True}}}}
        ]
    )
    if wf.output is not None:
        doc["output"] = {"as": ex.value(wf.output, ("output",))}
    meta = {k: v for k, v in workflow_to_data(wf).items() if k not in ("steps", "layout")}
    meta["stepOrder"] = wf.ids  # `do`/`fork` nest the steps; the file's list order comes back
    doc["document"]["metadata"] = {"switchboard": meta}
    return Exported(doc, ex.problems)
