"""A file's YAML comments onto the model read from it, fitted to what the canonical writer
writes (`comments.py` finds and places them; the writers put them back)."""

from __future__ import annotations

from typing import Any

from engine.core.model import Comments, EnvironmentsFile, MocksFile, TestsFile, Workflow
from engine.files.comments import (
    Anchor,
    attach_comments,
    find_comments,
    fit_comments,
    may_have_comments,
    spread_workflow_comments,
)
from engine.files.services import ServiceFile, service_to_data
from engine.files.yamlread import Locator
from engine.files.yamlwrite import (
    data_lines,
    environments_to_data,
    mocks_to_data,
    tests_to_data,
    workflow_to_data,
)

__all__ = ["keep_comments"]

_TO_DATA: dict[type, Any] = {
    Workflow: workflow_to_data,
    MocksFile: mocks_to_data,
    EnvironmentsFile: environments_to_data,
    TestsFile: tests_to_data,
    ServiceFile: service_to_data,
}


def keep_comments(
    model: Any, text: str | bytes, loc: Locator, step_index: list[int] | None = None
) -> None:
    """Give `model` (read from `text`, located by `loc`) the comments of `text`. `step_index`:
    which list item of the file each of a workflow's steps was (steps that did not parse are
    left out of the model, and their comments with them)."""
    to_data = _TO_DATA.get(type(model))
    if to_data is None:
        return
    if isinstance(text, bytes):
        if b"#" not in text:
            return
        text = text.decode("utf-8-sig", errors="replace")
    elif text.startswith("\ufeff"):
        text = text[1:]
    if not may_have_comments(text):
        return
    found = find_comments(text)
    if not found:
        return
    table, anchors = attach_comments(text, found, loc)
    if isinstance(model, Workflow) and step_index is not None:
        table, anchors = _renumber(table, anchors, step_index)
    _lines, marks = data_lines(to_data(model))
    table = fit_comments(table, anchors, marks)
    if isinstance(model, Workflow):
        spread_workflow_comments(model, table)
    else:
        model.comments = table


def _renumber(
    table: Comments, anchors: list[Anchor], step_index: list[int]
) -> tuple[Comments, list[Anchor]]:
    """Paths into the file's `steps` list renumbered as the model's steps (those of steps that
    did not parse dropped)."""
    kept = {raw: i for i, raw in enumerate(step_index)}
    if all(raw == i for raw, i in kept.items()):
        return table, anchors

    def move(path: tuple[str | int, ...]) -> tuple[str | int, ...] | None:
        if len(path) >= 2 and path[0] == "steps" and isinstance(path[1], int):
            i = kept.get(path[1])
            return None if i is None else ("steps", i, *path[2:])
        return path

    new_table: Comments = {}
    for path, c in table.items():
        p = move(path)
        if p is not None:
            new_table[p] = c
    new_anchors = []
    for a in anchors:
        p = move(a.path)
        if p is not None:
            new_anchors.append(Anchor(a.line, a.col, p))
    return new_table, new_anchors
