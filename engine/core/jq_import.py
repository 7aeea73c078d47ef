"""jq to JMESPath for the small subset an import understands: paths, literals, comparisons.

`.a.b` (the task's input, read as the run input), `$workflow.input.a`, `$context.<id>.a`
(a step's output), `$item` / `$index` (or the names a `for` gives them), `$secret(s).NAME`,
JSON literals, `== != < <= > >=`, `and`, `or`, `not`, and parentheses. Anything else raises
`Untranslatable`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from engine.core.jq import TRUTHY, Untranslatable

__all__ = ["jq_to_jmespath", "jq_template_to_jmespath"]

_TOKEN = re.compile(
    r"""\s*(?:
    (?P<num>-?\d+(?:\.\d+)?)
  | (?P<str>"(?:[^"\\]|\\.)*")
  | (?P<var>\$[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>==|!=|<=|>=|<|>|\||\(|\)|\[|\]|\.)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
)""",
    re.X,
)
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise Untranslatable(f"jq near '{text[pos : pos + 12]}' is not translated")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _field(name: str) -> str:
    return name if _IDENT.match(name) else json.dumps(name)


class _Parser:
    def __init__(self, text: str, names: Mapping[str, str]) -> None:
        self.toks = _tokens(text)
        self.i = 0
        self.names = names
        self.relative = False

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (value is not None and tok[1] != value):
            raise Untranslatable(f"jq: expected {value or 'more'}")
        self.i += 1
        return tok

    def parse(self) -> str:
        out = self.or_()
        if self.peek() is not None:
            raise Untranslatable(f"jq near '{self.peek()[1]}' is not translated")  # type: ignore[index]
        return out

    def or_(self) -> str:
        out = self.and_()
        while self.peek() == ("word", "or"):
            self.take()
            out = f"{out} || {self.and_()}"
        return out

    def and_(self) -> str:
        out = self.cmp()
        while self.peek() == ("word", "and"):
            self.take()
            out = f"{out} && {self.cmp()}"
        return out

    def cmp(self) -> str:
        left = self.post()
        tok = self.peek()
        if tok is not None and tok[0] == "op" and tok[1] in ("==", "!=", "<", "<=", ">", ">="):
            self.take()
            return f"{left} {tok[1]} {self.post()}"
        return left

    def post(self) -> str:
        out = self.primary()
        while self.peek() == ("op", "|"):
            self.take()
            _, word = self.take()
            if word == "not":
                out = f"!({out})"
            elif word == "length":
                out = f"length({out})"
            elif word != "truthy":  # JMESPath's own truth: `x | truthy` is `x` in a condition
                raise Untranslatable(f"jq's '| {word}' is not translated")
        return out

    def primary(self) -> str:
        kind, value = self.take()
        if kind == "op" and value == "(":
            inner = self.or_()
            self.take(")")
            return f"({inner})"
        if kind == "num":
            return f"`{value}`"
        if kind == "str":
            text = str(json.loads(value))
            return "'" + text.replace("'", "\\'") + "'"
        if kind == "word" and value in ("true", "false", "null"):
            return f"`{value}`"
        if kind == "var":
            return self.var(value[1:])
        if kind == "op" and value == ".":
            self.relative = True
            return self.path("input", first_dot=True)
        raise Untranslatable(f"jq's '{value}' is not translated")

    def var(self, name: str) -> str:
        if name in self.names:
            return self.path(self.names[name])
        if name == "workflow":
            self.take(".")
            self.take("input")
            return self.path("input")
        if name in ("secret", "secrets"):
            return self.path("secrets")
        if name == "context":
            self.take(".")
            _, step = self.take()
            return self.path(f"steps.{_field(step)}.output")
        raise Untranslatable(f"the jq variable ${name} has no Switchboard equivalent")

    def path(self, base: str, first_dot: bool = False) -> str:
        out = base
        if first_dot:
            tok = self.peek()
            if tok is not None and tok[0] in ("word", "str"):
                out += "." + _field(self._name(self.take()))
        while True:
            tok = self.peek()
            if tok == ("op", "."):
                self.take()
                out += "." + _field(self._name(self.take()))
            elif tok == ("op", "["):
                self.take()
                kind, value = self.take()
                self.take("]")
                out += f"[{value}]" if kind == "num" else "." + _field(json.loads(value))
            else:
                return out

    @staticmethod
    def _name(tok: tuple[str, str]) -> str:
        kind, value = tok
        if kind == "word":
            return value
        if kind == "str":
            return str(json.loads(value))
        raise Untranslatable(f"jq: a name was expected, not '{value}'")


def jq_to_jmespath(text: str, names: Mapping[str, str] | None = None) -> tuple[str, bool]:
    """(JMESPath, whether it reads the task's input `.`) for jq text; raises Untranslatable.

    The spelt-out truth test an export writes (`core.jq.TRUTHY`) reads back as JMESPath's.
    """
    p = _Parser(text.replace(TRUTHY, "truthy"), names or {})
    return p.parse(), p.relative


def _interpolated(body: str, names: Mapping[str, str] | None) -> tuple[str, bool] | None:
    """A template for a jq string with `\\( )` parts (`"Hi \\(.name)"`), or None if `body` is
    not one string literal."""
    body = body.strip()
    if len(body) < 2 or body[0] != '"' or body[-1] != '"':
        return None
    text = body[1:-1]
    out, literal, rel, i = "", "", False, 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and text[i + 1 : i + 2] == "(":
            depth, j = 1, i + 2
            while j < len(text) and depth:
                depth += {"(": 1, ")": -1}.get(text[j], 0)
                j += 1
            if depth:
                raise Untranslatable("an unclosed '\\(' in a jq string")
            expr, r = jq_to_jmespath(text[i + 2 : j - 1], names)
            out += literal.replace("${", "$${") + "${ " + expr + " }"
            literal, rel, i = "", rel or r, j
        elif ch == "\\":
            size = 6 if text[i + 1 : i + 2] == "u" else 2
            literal += json.loads(f'"{text[i : i + size]}"')
            i += size
        elif ch == '"':
            return None  # two strings joined: not one literal
        else:
            literal += ch
            i += 1
    return out + literal.replace("${", "$${"), rel


def jq_template_to_jmespath(value: Any, names: Mapping[str, str] | None = None) -> tuple[Any, bool]:
    """A value whose `${ jq }` strings become `${ JMESPath }`; (value, reads the task input)."""
    if isinstance(value, dict):
        rel = False
        out: dict[str, Any] = {}
        for k, v in value.items():
            out[k], r = jq_template_to_jmespath(v, names)
            rel = rel or r
        return out, rel
    if isinstance(value, list):
        items = [jq_template_to_jmespath(v, names) for v in value]
        return [v for v, _ in items], any(r for _, r in items)
    if isinstance(value, str):
        s = value.strip()
        if s.startswith("${") and s.endswith("}"):
            text = _interpolated(s[2:-1], names)
            if text is not None:
                return text
            expr, rel = jq_to_jmespath(s[2:-1], names)
            return "${ " + expr + " }", rel
        if "${" in value:
            raise Untranslatable("text mixing '${ }' with other text is not translated")
        return value, False
    return value, False
