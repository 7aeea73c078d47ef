"""`${ … }` templates and their JMESPath expressions: the one place that knows the syntax.

A string that is exactly one `${ … }` evaluates to the expression's value with its JSON type;
`${ … }` inside longer text is replaced by the value as text (strings as they are, anything else
as compact JSON). Containers are templated value by value (keys stay as written). `$${` stands
for a literal `${` (so recorded bodies that contain `${` replay as they were).
"""

from __future__ import annotations

import difflib
import json
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any

import jmespath
from jmespath import exceptions as jexc
from jmespath import functions as jfunctions
from jmespath import visitor as jvisitor
from jmespath.parser import ParsedResult

__all__ = [
    "TemplateSyntaxError",
    "Segment",
    "split_template",
    "has_expressions",
    "compile_expression",
    "evaluate",
    "render",
    "truthy",
    "iter_expressions",
    "root_references",
    "step_references",
    "check_template",
    "escape_templates",
    "template_table",
    "using_templates",
]


class TemplateSyntaxError(ValueError):
    """A `${ }` that is unclosed or holds an expression that does not parse.

    `offset` is the character offset inside the template string where the problem is.
    """

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


@dataclass(frozen=True)
class Segment:
    """A piece of a template: literal text, or an expression (`expr` set) at `offset`."""

    text: str
    expr: str | None = None
    offset: int = 0


def _scan_close(s: str, start: int) -> int:
    """Index of the `}` closing the `${` whose body starts at `start`, or -1.

    Braces inside JMESPath strings ('…', "…") and JSON literals (`…`) do not count, and the
    expression may itself use braces (multi-select hashes `{a: b}`).
    """
    depth = 0
    i = start
    n = len(s)
    while i < n:
        c = s[i]
        if c in "'\"`":
            j = i + 1
            while j < n and s[j] != c:
                j += 2 if s[j] == "\\" else 1
            i = j + 1
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    return -1


@lru_cache(maxsize=4096)
def _split_cached(s: str) -> tuple[Segment, ...]:
    out: list[Segment] = []
    pos = 0
    literal = ""
    while True:
        k = s.find("${", pos)
        if k < 0:
            if pos < len(s) or literal:
                out.append(Segment(literal + s[pos:]))
            return tuple(out)
        if k > 0 and s[k - 1] == "$":  # `$${` is a literal `${`
            literal += s[pos : k - 1] + "${"
            pos = k + 2
            continue
        if k > pos or literal:
            out.append(Segment(literal + s[pos:k]))
            literal = ""
        end = _scan_close(s, k + 2)
        if end < 0:
            raise TemplateSyntaxError("'${' is never closed: add the closing '}'", k)
        body = s[k + 2 : end]
        if not body.strip():
            raise TemplateSyntaxError("'${ }' is empty: put a JMESPath expression inside", k)
        out.append(Segment(s[k : end + 1], body.strip(), k + 2 + (len(body) - len(body.lstrip()))))
        pos = end + 1


def split_template(s: str) -> tuple[Segment, ...]:
    """Split a string into literal and expression segments. Raises TemplateSyntaxError."""
    return _split_cached(s)


def has_expressions(s: str) -> bool:
    return "${" in s


@lru_cache(maxsize=4096)
def compile_expression(expr: str) -> ParsedResult:
    """Compile a JMESPath expression; raises TemplateSyntaxError (offset inside `expr`)."""
    try:
        parsed = jmespath.compile(expr)
    except RecursionError:
        raise TemplateSyntaxError(
            f"the expression '{_short(expr)}' is nested too deeply; "
            "write it with fewer parentheses or brackets",
            0,
        ) from None
    except jexc.ParseError as e:
        pos = e.lex_position if isinstance(e.lex_position, int) else 0
        token = e.token_value
        if isinstance(e, jexc.IncompleteExpressionError) or e.token_type == "EOF":
            msg = f"the expression '{expr}' ends too early"
        elif isinstance(e, jexc.LexerError):
            msg = f"the expression '{expr}' has an unexpected character at {pos + 1}"
        else:
            msg = f"the expression '{expr}' does not parse near {token!r}"
        hint = ""
        if '"' in expr:
            hint = " (JMESPath strings take single quotes: 'text'; backticks for JSON literals)"
        raise TemplateSyntaxError(msg + hint, pos) from None
    except jexc.JMESPathError as e:  # pragma: no cover - other parse-time failures
        raise TemplateSyntaxError(str(e), 0) from None
    unknown = _unknown_functions(parsed.parsed)
    if unknown:
        name, offset = unknown
        known = ", ".join(sorted(FUNCTIONS))
        raise TemplateSyntaxError(
            f"'{name}' is not a JMESPath function{_suggest(name)} (they are: {known})",
            max(0, expr.find(name + "(", offset)),
        )
    return parsed


def _short(expr: str) -> str:
    return expr if len(expr) <= 60 else expr[:57] + "..."


def _suggest(name: str) -> str:
    close = difflib.get_close_matches(name, sorted(FUNCTIONS), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _unknown_functions(node: Any) -> tuple[str, int] | None:
    """The first call of a function JMESPath does not have, and where to look for it."""
    stack = [node]
    while stack:
        n = stack.pop()
        if not isinstance(n, dict):
            continue
        if n.get("type") == "function_expression" and n.get("value") not in FUNCTIONS:
            return str(n.get("value")), 0
        stack.extend(n.get("children") or ())
    return None


_OPTIONS = jmespath.Options(dict_cls=dict)
FUNCTIONS = frozenset(jfunctions.Functions().FUNCTION_TABLE)
# One interpreter for every evaluation: `ParsedResult.search` builds a new one each time, whose
# method cache refers back to it (a cycle per expression evaluated, left to the garbage
# collector). It keeps no state between searches but that cache.
_INTERPRETER = jvisitor.TreeInterpreter(_OPTIONS)


def evaluate(expr: str, scope: Mapping[str, Any]) -> Any:
    """Evaluate one expression (without `${ }`) over `scope`."""
    return _INTERPRETER.visit(compile_expression(expr).parsed, scope)


# A template compiled: its literal text and its expressions' evaluators, in order.
_Evaluator = Callable[[Any], Any]
_Compiled = tuple[tuple[str, _Evaluator | None], ...]


def _field_chain(node: dict[str, Any]) -> tuple[str, ...] | None:
    """The keys of an expression that only names fields (`steps.a.output.version`), else None."""
    kind = node.get("type")
    if kind == "field":
        return (node["value"],)
    if kind != "subexpression":
        return None
    keys: tuple[str, ...] = ()
    for child in node["children"]:
        chain = _field_chain(child)
        if chain is None:
            return None
        keys += chain
    return keys


def _evaluator(tree: dict[str, Any]) -> _Evaluator:
    """How to evaluate a parsed expression. Most name a path of fields: those are looked up
    directly, as JMESPath does (`.get` of each key; None once a value has no `.get`), without
    its tree walk (a visit per node, several times the cost)."""
    keys = _field_chain(tree)
    if keys is None:
        return partial(_INTERPRETER.visit, tree)

    def lookup(value: Any) -> Any:
        for key in keys:
            try:
                value = value.get(key)
            except AttributeError:
                return None
        return value

    return lookup


def _compile_template(s: str) -> _Compiled:
    return tuple(
        (seg.text, None if seg.expr is None else _evaluator(compile_expression(seg.expr).parsed))
        for seg in _split_cached(s)
    )


# The shared caches above hold 4,096 entries: a workflow with more templates than that would
# compile every one again on every run. A run renders through its workflow's own table instead
# (`using_templates`), which holds every template that workflow renders and lives as long as it.
_TEMPLATES: ContextVar[dict[str, _Compiled] | None] = ContextVar("templates", default=None)
_TABLES: dict[int, dict[str, _Compiled]] = {}


def template_table(owner: object) -> dict[str, _Compiled]:
    """The compiled-template table that lives as long as `owner` (a workflow)."""
    key = id(owner)
    table = _TABLES.get(key)
    if table is None:
        table = _TABLES[key] = {}
        weakref.finalize(owner, _TABLES.pop, key, None)
    return table


class using_templates:  # noqa: N801 - used as a context manager, like a function
    """Render through `table` (see `template_table`) in this context and the tasks it starts."""

    def __init__(self, table: dict[str, _Compiled]) -> None:
        self.table = table

    def __enter__(self) -> None:
        self._token = _TEMPLATES.set(self.table)

    def __exit__(self, *exc: object) -> None:
        _TEMPLATES.reset(self._token)


def _compiled(s: str) -> _Compiled:
    table = _TEMPLATES.get()
    if table is None:
        return _compile_template(s)
    found = table.get(s)
    if found is None:
        found = table[s] = _compile_template(s)
    return found


MAX_RESULT_SIZE = 10 * 1024 * 1024  # about the JSON size a rendered value may reach


def result_size_over(value: Any, limit: int = MAX_RESULT_SIZE) -> bool:
    """Whether a value would be larger than `limit` as JSON (a string counts its length, any
    other scalar 8, a container 2 plus its items; a list holding one object twice counts it
    twice, as JSON would write it). The walk stops as soon as the limit is passed, so
    `[x, x]` doubled forty times costs no more than the limit."""
    budget = limit
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            budget -= len(v) + 2
        elif isinstance(v, dict):
            budget -= 2 + 4 * len(v)
            for k, item in v.items():
                budget -= len(k) if isinstance(k, str) else 8
                stack.append(item)
        elif isinstance(v, list):
            budget -= 2 + len(v)
            stack.extend(v)
        else:
            budget -= 8
        if budget < 0:
            return True
    return False


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (list, dict)) and result_size_over(value):
        raise ValueError(f"its result is larger than {MAX_RESULT_SIZE // 1048576} MiB as text")
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def render(value: Any, scope: Mapping[str, Any]) -> Any:
    """Template a value: strings with `${ }` are evaluated, containers recursively."""
    if isinstance(value, str):
        if "${" not in value:
            return value
        segs = _compiled(value)
        if len(segs) == 1 and segs[0][1] is not None:
            return segs[0][1](scope)
        return "".join(_as_text(ev(scope)) if ev is not None else text for text, ev in segs)
    if isinstance(value, dict):
        return {k: render(v, scope) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, scope) for v in value]
    return value


def escape_templates(value: Any) -> Any:
    """A value whose strings read back literally through `render` (`${` becomes `$${`)."""
    if isinstance(value, str):
        return value.replace("${", "$${") if "${" in value else value
    if isinstance(value, dict):
        return {k: escape_templates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [escape_templates(v) for v in value]
    return value


def truthy(value: Any) -> bool:
    """JMESPath's truth: false, null, and empty strings, lists and objects are false."""
    if value is None or value is False:
        return False
    return not (isinstance(value, (str, list, dict)) and len(value) == 0)


def iter_expressions(
    value: Any, path: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Yield (path, string) for every string holding `${` inside a value."""
    if isinstance(value, str):
        if "${" in value:
            yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from iter_expressions(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from iter_expressions(v, path + (i,))


# Node types whose first child is evaluated against the current scope and whose other children
# are evaluated against each element of its result.
_LEFT_ONLY = {
    "projection",
    "filter_projection",
    "value_projection",
    "index_expression",
    "flatten",
    "pipe",
}


def _chain(node: dict[str, Any]) -> list[str]:
    """Field names along a plain dotted chain (`steps.check.output`), stopping at anything else."""
    if node["type"] == "field":
        return [node["value"]]
    if node["type"] == "subexpression":
        out: list[str] = []
        for child in node["children"]:
            if child["type"] != "field":
                if not out:
                    out.extend(_chain(child))
                break
            out.append(child["value"])
        return out
    if node["type"] in _LEFT_ONLY and node["children"]:
        return _chain(node["children"][0])
    return []


def _roots(node: dict[str, Any], out: list[list[str]]) -> None:
    t = node["type"]
    if t in ("field", "subexpression"):
        chain = _chain(node)
        if chain:
            out.append(chain)
        if t == "subexpression" and node["children"] and node["children"][0]["type"] != "field":
            _roots(node["children"][0], out)
        return
    if t in _LEFT_ONLY:
        if node["children"]:
            _roots(node["children"][0], out)
        return
    for child in node.get("children", ()):
        if isinstance(child, dict):
            _roots(child, out)


def root_references(expr: str) -> list[list[str]]:
    """The dotted name chains an expression reads from its scope (`[['steps','check',…]]`)."""
    parsed = compile_expression(expr).parsed
    out: list[list[str]] = []
    _roots(parsed, out)
    return out


def step_references(expr: str) -> set[str]:
    """Ids named as `steps.<id>` in an expression."""
    return {c[1] for c in root_references(expr) if len(c) >= 2 and c[0] == "steps"}


def check_template(s: str) -> list[tuple[str, int, list[list[str]]]]:
    """Parse every expression in a template: (expression, offset, root references).

    Raises TemplateSyntaxError with the offset inside `s`.
    """
    out = []
    for seg in split_template(s):
        if seg.expr is None:
            continue
        try:
            refs = root_references(seg.expr)
        except TemplateSyntaxError as e:
            raise TemplateSyntaxError(e.message, seg.offset + e.offset) from None
        out.append((seg.expr, seg.offset, refs))
    return out
