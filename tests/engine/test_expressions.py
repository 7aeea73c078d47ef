"""`${ }` templates: splitting, typed and text rendering, escapes, references, syntax errors."""

from __future__ import annotations

from typing import Any

import pytest

from engine import TemplateSyntaxError, check_template, render, split_template
from engine.core.expressions import escape_templates, root_references, step_references, truthy

SCOPE = {
    "input": {"id": "P-7", "n": 3, "items": [1, 2], "obj": {"a": 1}},
    "steps": {"check": {"output": {"status": "pass"}, "status": "succeeded"}},
}


def test_whole_expression_keeps_json_type() -> None:
    assert render("${ input.n }", SCOPE) == 3
    assert render("${ input.items }", SCOPE) == [1, 2]
    assert render("  ${ input.obj }  ".strip(), SCOPE) == {"a": 1}


def test_text_interpolation_uses_compact_json() -> None:
    assert render("id ${ input.id } has ${ input.items }", SCOPE) == "id P-7 has [1,2]"
    assert render("${ input.n }${ input.n }", SCOPE) == "33"


def test_containers_render_values_not_keys() -> None:
    assert render({"${ k }": ["${ input.id }", 1]}, SCOPE) == {"${ k }": ["P-7", 1]}


def test_braces_and_quotes_inside_expressions() -> None:
    assert render("${ {s: steps.check.output.status} }", SCOPE) == {"s": "pass"}
    assert render("${ '}' }", SCOPE) == "}"
    assert render('x ${ `{"a": 1}` } y', SCOPE) == 'x {"a":1} y'


def test_escape_is_a_literal() -> None:
    assert render("cost $${ not evaluated }", SCOPE) == "cost ${ not evaluated }"
    value = {"body": "recorded ${ x } and $${ y }", "n": ["${ z }"]}
    assert render(escape_templates(value), SCOPE) == value
    assert check_template("$${ not an expression") == []


def test_syntax_errors_carry_offsets() -> None:
    with pytest.raises(TemplateSyntaxError) as info:
        split_template("abc ${ input.id")
    assert info.value.offset == 4 and "never closed" in info.value.message
    with pytest.raises(TemplateSyntaxError, match="empty"):
        split_template("${   }")
    with pytest.raises(TemplateSyntaxError) as info:
        check_template("ok ${ input. }")
    assert info.value.offset >= 6
    with pytest.raises(TemplateSyntaxError, match="single quotes"):
        check_template('${ input.id == "x" + }')


def test_references() -> None:
    refs = root_references("steps.check.output.status == 'pass' && length(input.items) > `0`")
    assert refs == [["steps", "check", "output", "status"], ["input", "items"]]
    # names inside a filter are relative to each element, not the scope
    assert root_references("input.items[?id == `1`].name") == [["input", "items"]]
    assert step_references("steps.a.output || steps.b.status") == {"a", "b"}


@pytest.mark.parametrize(
    "value,expected",
    [
        (None, False),
        (False, False),
        ("", False),
        ([], False),
        ({}, False),
        (0, True),
        ("false", True),
        ([0], True),
        (True, True),
    ],
)
def test_truthiness_follows_jmespath(value: object, expected: bool) -> None:
    assert truthy(value) is expected


def test_an_expression_cut_short_says_so() -> None:
    # JMESPath reports a trailing dot as a parse error at an empty token: "near ''" said nothing
    with pytest.raises(TemplateSyntaxError, match="'steps.a.output.' ends too early"):
        check_template("${ steps.a.output. }")


def test_a_path_of_fields_gives_what_jmespath_gives_on_any_value() -> None:
    """`a.b.c` is looked up without JMESPath's tree walk: the answer must be JMESPath's own for
    every shape the values on the way can take."""
    import jmespath

    leaves: list[Any] = [None, 0, 7, "", "text", [], [1, {"c": 2}], {}, {"c": None}, {"c": 3}]
    scopes: list[Any] = [{"a": {"b": leaf}} for leaf in leaves]
    scopes += [{"a": leaf} for leaf in leaves] + [{}, {"b": 1}]
    scopes += [{"a": {"b": {"c": [1, 2]}, "x": 1}}, {"a b": {"c": 1}, "a": {"b": {"c": "found"}}}]
    for expr in ("a", "a.b", "a.b.c", '"a b".c', "a.b.c.d"):
        for scope in scopes:
            want = jmespath.search(expr, scope)
            assert render("${ " + expr + " }", scope) == want, (expr, scope)
            assert render("<${ " + expr + " }>", scope) == render(
                "<${ " + expr + " | @ }>", scope
            ), (expr, scope)
