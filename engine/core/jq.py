"""JMESPath `${ }` expressions to jq, for a subset, as Serverless Workflow export needs them.

An export keeps every step's output in the workflow context (`$context.<id>`), so the names of
a Switchboard expression map to jq variables: `input` -> `$workflow.input`,
`steps.<id>.output` -> `$context.<id>`, `item` / `index` -> `$item` / `$index`,
`secrets.<NAME>` -> `$secrets.<NAME>`, `run.id` -> `$workflow.id`; a call's `status` and
`error.message` / `error.status` where the export keeps them (`status_jq`). JMESPath's truth (empty
strings, lists and objects are false), `||` and `&&` returning an operand, and projections
dropping nulls are spelt out in jq so the value is the same. Anything else raises
`Untranslatable` with the reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from itertools import count
from typing import Any

from engine.core.expressions import TemplateSyntaxError, compile_expression, split_template

__all__ = ["Untranslatable", "to_jq", "template_to_jq", "TRUTHY", "status_jq", "error_key"]

TRUTHY = '(. != null and . != false and . != "" and . != [] and . != {})'
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_OPS = {"eq": "==", "ne": "!=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
_BOOLEAN = {"comparator", "not_expression", "and_expression", "or_expression"}
_STEP_KEYS = ("output", "status", "error", "attempts")


def error_key(step_id: str) -> str:
    """The context key of a failed call's error (a dot: no step id can take it)."""
    return f"{step_id}.error"


def status_jq(step_id: str) -> str:
    """jq for `steps.<id>.status` of a call whose output (on success) or error (on failure
    with `onError: continue`) the export keeps in the context; neither means skipped."""
    ctx = "($context // {})"
    return (
        f'(if ({ctx} | has({json.dumps(step_id)})) then "succeeded" '
        f'elif ({ctx} | has({json.dumps(error_key(step_id))})) then "failed" '
        'else "skipped" end)'
    )


class Untranslatable(ValueError):
    """The expression uses something the jq subset does not cover; the message says what."""


def _key(name: str) -> str:
    return f".{name}" if _IDENT.match(name) else f".{json.dumps(name)}"


class _Translator:
    def __init__(self, in_call_output: bool, kept: Collection[str]) -> None:
        self.in_call_output = in_call_output
        self.kept = kept
        self.vars = count(1)

    def chain(self, node: dict[str, Any]) -> list[dict[str, Any]] | None:
        """The field/index nodes of a plain path from the root (`a.b[0].c`), or None."""
        t = node["type"]
        if t == "field":
            return [node]
        if t == "subexpression":
            out: list[dict[str, Any]] = []
            for kid in node["children"]:
                part = self.chain(kid)
                if part is None:
                    return None
                out.extend(part)
            return out
        if t == "index_expression":
            left, right = node["children"]
            head = self.chain(left)
            if head is not None and right["type"] == "index":
                return head + [right]
        return None

    def root_path(self, parts: list[dict[str, Any]]) -> str:
        names = [p.get("value") for p in parts]
        first = names[0]
        rest: list[dict[str, Any]]
        if first == "input":
            base, rest = "$workflow.input", parts[1:]
        elif first == "steps":
            if len(parts) < 3 or parts[1]["type"] != "field":
                raise Untranslatable("'steps' needs a step id and 'output'")
            sid = str(names[1])
            if names[2] == "status" and sid in self.kept and len(parts) == 3:
                return status_jq(sid)
            if (
                names[2] == "error"
                and sid in self.kept
                and len(parts) == 4
                and names[3] in ("message", "status")
            ):
                return f"$context[{json.dumps(error_key(sid))}].{names[3]}"
            if names[2] != "output":
                key = names[2] if names[2] in _STEP_KEYS else "that key"
                raise Untranslatable(
                    f"steps.{names[1]}.{key} has no Serverless Workflow "
                    "equivalent (only a step's output, and a call's status "
                    "and error message and status, are kept)"
                )
            base, rest = f"$context{_key(sid)}", parts[3:]
        elif first in ("item", "index"):
            base, rest = f"${first}", parts[1:]
        elif first == "secrets" and len(parts) > 1:
            base, rest = f"$secrets{_key(str(names[1]))}", parts[2:]
        elif first == "run" and len(parts) == 2 and names[1] == "id":
            base, rest = "$workflow.id", []
        elif first == "body" and self.in_call_output:
            base, rest = ".", parts[1:]
        else:
            raise Untranslatable(f"the name '{first}' has no Serverless Workflow equivalent")
        return base + "".join(self.step(p) for p in rest) if rest else base

    def step(self, p: dict[str, Any]) -> str:
        if p["type"] == "field":
            return _key(p["value"])
        return f"[{p['value']}]"

    def tr(self, node: dict[str, Any], root: bool) -> str:
        t = node["type"]
        kids = node.get("children", [])
        if root:
            parts = self.chain(node)
            if parts is not None and parts[0]["type"] == "field":
                return self.root_path(parts)
        if t == "field":
            return _key(node["value"])
        if t == "subexpression":
            return " | ".join([self.tr(kids[0], root)] + [self.tr(k, False) for k in kids[1:]])
        if t == "index_expression":
            return f"({self.tr(kids[0], root)}) | .[{kids[1]['value']}]"
        if t == "literal":
            return json.dumps(node["value"])
        if t in ("identity", "current"):
            if root:
                raise Untranslatable("'@' at the top of an expression has no equivalent")
            return "."
        if t == "comparator":
            return f"({self.tr(kids[0], root)}) {_OPS[node['value']]} ({self.tr(kids[1], root)})"
        if t in ("and_expression", "or_expression"):
            a, b = self.tr(kids[0], root), self.tr(kids[1], root)
            word = "and" if t == "and_expression" else "or"
            if kids[0]["type"] in _BOOLEAN and kids[1]["type"] in _BOOLEAN:
                return f"({a}) {word} ({b})"
            if word == "or":
                return f"(({a}) | select({TRUTHY})) // ({b})"
            v = f"$v{next(self.vars)}"
            return f"(({a}) as {v} | if ({v} | {TRUTHY}) then ({b}) else {v} end)"
        if t == "not_expression":
            return f"(({self.tr(kids[0], root)}) | {TRUTHY} | not)"
        if t == "function_expression":
            if node["value"] == "length" and len(kids) == 1:
                return f"(({self.tr(kids[0], root)}) | length)"
            raise Untranslatable(f"the function {node['value']}() is not translated to jq")
        if t == "multi_select_list":
            return "[" + ", ".join(f"({self.tr(k, root)})" for k in kids) + "]"
        if t == "multi_select_dict":
            pairs = [f"{json.dumps(k['value'])}: ({self.tr(k['children'][0], root)})" for k in kids]
            return "{" + ", ".join(pairs) + "}"
        if t == "pipe":
            return f"({self.tr(kids[0], root)}) | ({self.tr(kids[1], False)})"
        if t == "flatten":
            return (
                f"({self.tr(kids[0], root)}) | "
                'if type == "array" then [.[] | if type == "array" then .[] else . end] '
                "else null end"
            )
        if t == "projection":
            return self.projection(kids[0], kids[1], None, root)
        if t == "filter_projection":
            return self.projection(kids[0], kids[1], kids[2], root)
        raise Untranslatable(f"JMESPath's {t.replace('_', ' ')} is not translated to jq")

    def projection(
        self, left: dict[str, Any], right: dict[str, Any], cond: dict[str, Any] | None, root: bool
    ) -> str:
        base = self.tr(left, root)
        keep = f" | select(({self.tr(cond, False)}) | {TRUTHY})" if cond is not None else ""
        tail = "" if right["type"] == "identity" else f" | {self.tr(right, False)}"
        return (
            f'({base}) | if type == "array" then [.[]{keep}{tail} | select(. != null)] '
            "else null end"
        )


def to_jq(expr: str, *, in_call_output: bool = False, kept: Collection[str] = ()) -> str:
    """jq for one JMESPath expression (no `${ }`); raises Untranslatable. `kept`: the calls
    whose status and error the export keeps."""
    try:
        tree = compile_expression(expr).parsed
    except TemplateSyntaxError as e:
        raise Untranslatable(e.message) from None
    return _Translator(in_call_output, kept).tr(tree, True)


def template_to_jq(value: Any, *, in_call_output: bool = False, kept: Collection[str] = ()) -> Any:
    """A template value with every `${ JMESPath }` string as a `${ jq }` runtime expression.

    Text around expressions becomes jq string interpolation. Raises Untranslatable.
    """
    if isinstance(value, dict):
        return {
            k: template_to_jq(v, in_call_output=in_call_output, kept=kept) for k, v in value.items()
        }
    if isinstance(value, list):
        return [template_to_jq(v, in_call_output=in_call_output, kept=kept) for v in value]
    if not isinstance(value, str) or "${" not in value:
        return value
    try:
        segs = split_template(value)
    except TemplateSyntaxError as e:
        raise Untranslatable(e.message) from None
    if len(segs) == 1 and segs[0].expr is not None:
        return "${ " + to_jq(segs[0].expr, in_call_output=in_call_output, kept=kept) + " }"
    out = ""
    for seg in segs:
        if seg.expr is None:
            out += json.dumps(seg.text)[1:-1].replace("\\(", "\\\\(")
        else:
            out += "\\(" + to_jq(seg.expr, in_call_output=in_call_output, kept=kept) + ")"
    return '${ "' + out + '" }'
