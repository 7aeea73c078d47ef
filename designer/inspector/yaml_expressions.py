"""The expression editor over a YAML-valued field (`with`, `query`, `headers`, an emit's `data`,
a call's `output`): the text is read as files are; each string's `${ }` is checked as a one-line
field's is, its problems marked where they stand in the text and named by their place in the
value (`with.owner: …`); the preview is the whole value rendered against the sample data.
"""

from __future__ import annotations

from typing import Any

from designer.inspector.expression_editor import Checked, check_expression_text
from designer.inspector.expression_scope import ROOTS, SampleScope
from engine import LoadError, iter_expressions, read_yaml, render

__all__ = ["check_yaml_expressions", "YAML_HINT"]

YAML_HINT = "YAML or JSON; every ${ } in its strings is checked and previewed."


def _offset(text: str, line: int, col: int) -> int:
    """The offset of a 1-based line and column (0 when unknown)."""
    if line <= 0:
        return 0
    lines = text.splitlines(keepends=True)
    return sum(len(s) for s in lines[: line - 1]) + max(0, col - 1)


def _in_text(text: str, s: str, at: int, start: int) -> int:
    """Where offset `at` of the string `s` stands in `text` (searched from `start`): the
    expression around it is found as written (a quoted scalar writes it as it is); else the
    first `${` from `start`."""
    anchor = max(0, s.rfind("${", 0, at + 1))
    end = s.find("}", anchor)
    needle = s[anchor : end + 1 if end >= 0 else len(s)].split("\n", 1)[0]
    found = text.find(needle, start) if needle else -1
    if found >= 0:
        return found + (at - anchor)
    found = text.find("${", start)
    return found if found >= 0 else start


def check_yaml_expressions(
    text: str, scope: SampleScope, roots: tuple[str, ...] = ROOTS
) -> Checked:
    """Problems as (offset in `text`, severity, message), the rendered value, and why there is
    no value to show."""
    if not text.strip():
        return [], None, "empty: the field's default applies"
    try:
        value, _loc = read_yaml(text, "field")
    except LoadError as e:
        p = e.problems[0]
        where = f"line {p.line}, column {p.col}: " if p.line else ""
        return (
            [(_offset(text, p.line, p.col), "error", where + p.message)],
            None,
            ("fix the YAML to see its value"),
        )
    problems: list[tuple[int, str, str]] = []
    start = 0
    for path, s in iter_expressions(value):
        where = ".".join(str(k) for k in path) or "value"
        found, _value, _why = check_expression_text(s, scope, single=False, roots=roots)
        first = _in_text(text, s, s.find("${"), start)
        for at, severity, message in found:
            problems.append((_in_text(text, s, at, start), severity, f"{where}: {message}"))
        start = first + 2  # the next string's expressions come after this one's
    if any(severity == "error" for _, severity, _ in problems):
        return problems, None, "fix the expressions to see the value"
    try:
        rendered: Any = render(value, scope.data)
    except Exception as e:  # noqa: BLE001 - any evaluation failure is shown, not raised
        return problems, None, f"cannot evaluate it: {e}"
    return problems, rendered, None
