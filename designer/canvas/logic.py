"""What the canvas shows of a workflow's logic: edge conditions, switches, error paths, back
edges and node badges, read off the model (no Qt: tested and reused without a scene)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine import AnyStep, CallStep, WaitStep, Workflow, format_duration, resolve_call

__all__ = [
    "Badge",
    "EdgeMark",
    "back_edges",
    "badges",
    "edge_marks",
    "roots_and_leaves",
    "shorten",
]

LABEL_CHARS = 28  # a condition on an edge is cut to this many characters (full text on hover)


@dataclass(frozen=True)
class EdgeMark:
    """How an edge is drawn. `kind`: "if" (into a step with a condition), "branch" (one side of
    a switch: several conditional edges leave the source), "error" (taken when the source
    failed and continued), "back" (closes a cycle). `branch` numbers a switch's sides."""

    kind: str
    label: str = ""
    full: str = ""
    branch: int = 0


@dataclass(frozen=True)
class Badge:
    """A small pill on a node: `icon` names a glyph in style.badge_path, `tip` says it in words."""

    icon: str
    text: str
    tip: str


_STEPS_OUTPUT = re.compile(r"\bsteps\.([A-Za-z_][\w-]*)\.output\.")
_STEPS = re.compile(r"\bsteps\.([A-Za-z_][\w-]*)\.")
_SPACE = re.compile(r"\s+")


def _bare(expr: str) -> str:
    text = expr.strip()
    if text.startswith("${") and text.endswith("}"):
        text = text[2:-1]
    return _SPACE.sub(" ", text).strip()


def shorten(expr: str, limit: int = LABEL_CHARS) -> str:
    """`${ steps.check.output.status == 'pass' }` -> `check.status == 'pass'`, cut to `limit`."""
    text = _STEPS.sub(r"\1.", _STEPS_OUTPUT.sub(r"\1.", _bare(expr)))
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _negation_of(a: str, b: str) -> bool:
    """Whether condition `b` is plainly `not a` (`x == y` / `x != y`, or `!(a)`)."""
    a, b = _bare(a), _bare(b)
    if b in (f"!({a})", f"!{a}") or a in (f"!({b})", f"!{b}"):
        return True
    for op, neg in ((" == ", " != "), (" != ", " == ")):
        if a.count(op) == 1 and "&&" not in a and "||" not in a and a.replace(op, neg) == b:
            return True
    return False


def _failure_test(expr: str, src: str) -> bool:
    """Whether `expr` tests that step `src` failed (`status == 'failed'`, `!= 'succeeded'`)."""
    s = re.escape(src)
    return bool(
        re.search(rf"\bsteps\.{s}\.status\s*(==\s*'failed'|!=\s*'succeeded')", expr)
        or re.search(rf"'failed'\s*==\s*steps\.{s}\.status\b", expr)
    )


def _continues_on_error(step: AnyStep, wf: Workflow) -> bool:
    return isinstance(step, CallStep) and resolve_call(step, wf.defaults).on_error == "continue"


def back_edges(wf: Workflow) -> set[tuple[str, str]]:
    """The edges that close a cycle, found depth-first in the file's step order (so the edge
    that points back to an earlier step is the one marked, as the auto-layout breaks it)."""
    ids = wf.ids
    known = set(ids)
    succ: dict[str, list[str]] = {sid: [] for sid in ids}
    for step in wf.steps:
        for a in step.after:
            if a in known and a != step.id:
                succ[a].append(step.id)
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    out: set[tuple[str, str]] = set()
    for root in ids:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(succ[root]))]
        while stack:
            v, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[v] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                out.add((v, nxt))
            elif nxt not in state:
                state[nxt] = 1
                stack.append((nxt, iter(succ[nxt])))
    return out


def edge_marks(wf: Workflow) -> dict[tuple[str, str], EdgeMark]:
    """A mark for every edge drawn differently from a plain `after` (plain edges are absent)."""
    marks: dict[tuple[str, str], EdgeMark] = {}
    by_id = {s.id: s for s in wf.steps}
    conditional: dict[str, list[AnyStep]] = {}  # source -> the steps with `if` after it
    for step in wf.steps:
        if step.if_:
            for a in step.after:
                if a in by_id:
                    conditional.setdefault(a, []).append(step)
    for src, targets in conditional.items():
        source = by_id[src]
        switch = len(targets) > 1
        first = targets[0].if_ or ""
        for n, dst in enumerate(targets):
            cond = dst.if_ or ""
            label = shorten(cond)
            if _continues_on_error(source, wf) and _failure_test(cond, src):
                marks[(src, dst.id)] = EdgeMark("error", f"on failure: {label}", cond)
                continue
            if switch and n > 0 and len(targets) == 2 and _negation_of(first, cond):
                label = "else"
            marks[(src, dst.id)] = EdgeMark("branch" if switch else "if", label, cond, n)
    labelled: set[str] = set()
    for key, mark in list(marks.items()):
        into = key[1]
        if into in labelled:  # a step's condition is shown once
            marks[key] = EdgeMark(mark.kind, "", mark.full, mark.branch)
        labelled.add(into)
    for key in back_edges(wf):
        old = marks.get(key)
        marks[key] = EdgeMark("back", old.label if old else "cycle", old.full if old else "")
    return marks


def roots_and_leaves(wf: Workflow) -> tuple[list[str], list[str]]:
    """Steps that start when the run starts (no `after`), and steps nothing runs after."""
    known = set(wf.ids)
    used: set[str] = set()
    roots = []
    for step in wf.steps:
        after = [a for a in step.after if a in known]
        used.update(after)
        if not after:
            roots.append(step.id)
    return roots, [sid for sid in wf.ids if sid not in used]


def badges(step: AnyStep, wf: Workflow) -> list[Badge]:
    """What changes the step's behaviour before any run: retry, timeout, foreach, onError,
    a wait's duration. Retry and onError count `defaults:`; the timeout only when the step
    sets its own (every call has one)."""
    out: list[Badge] = []
    if isinstance(step, WaitStep):
        d = format_duration(step.wait)
        return [Badge("clock", d, f"waits {d}")]
    if not isinstance(step, CallStep):
        return out
    call = resolve_call(step, wf.defaults)
    if step.foreach:
        limit = step.max_concurrency
        text = f"×{limit}" if limit else "×all"
        tip = f"foreach {_bare(step.foreach)}: " + (
            f"at most {limit} at a time" if limit else "all items at once"
        )
        out.append(Badge("foreach", text, tip))
    if call.retry.attempts > 1:
        n = call.retry.attempts
        out.append(Badge("retry", str(n), f"retry: up to {n} attempts"))
    if step.timeout is not None:
        t = format_duration(step.timeout)
        out.append(Badge("clock", t, f"timeout {t} per attempt"))
    if call.on_error == "continue":
        out.append(Badge("continue", "continue", "onError: continue (the run goes on if it fails)"))
    return out
