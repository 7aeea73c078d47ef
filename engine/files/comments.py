"""YAML comments kept through load, edit and save: found around the parser's tokens, tied to
the key or list item they stand at, and written back beside the canonical writer's lines.

A full-line comment belongs to the key or item that starts next (`before`), unless it is
indented deeper than that one: then it closes the block above it (`after` the last key at or
left of its column). A comment at the end of a line belongs to the first key or item on that
line (`trailing`). Before the first key is the file's header, after the last the trailer (both
on the root path `()`). Workflow steps keep theirs on the step itself (`Step.comments`), so
they follow a step that is renamed, moved, deleted and restored, or copied.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from engine.core.model import Comment, Comments, Workflow
from engine.files.yamlread import Locator

__all__ = [
    "LAYOUT_LINE",
    "Marks",
    "Anchor",
    "may_have_comments",
    "find_comments",
    "attach_comments",
    "fit_comments",
    "insert_comments",
    "workflow_comments",
    "spread_workflow_comments",
]

Path = tuple[str | int, ...]
ROOT: Path = ()
LAYOUT_LINE = "^layout"  # a step's key for the comments of its `layout:` entry (no step key)

_MAYBE = re.compile(r"(?:^|[ \t])#", re.M)
# a block scalar's header line: `|`, `>-`, `|2+` … and the comment after it
_BLOCK_HEADER = re.compile(r"[|>][-+0-9]*[ \t]+(#.*)$")
_END = 1 << 30  # a column past any line's end

_TokenSource: Any
try:
    from yaml.cyaml import CParser as _TokenSource  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - libyaml missing
    _TokenSource = None


def may_have_comments(text: str) -> bool:
    """Whether `text` has a `#` at a line start or after a blank (cheap; files without one
    are not scanned)."""
    return _MAYBE.search(text) is not None


@dataclass
class _Found:
    line: int  # 0-based
    col: int
    text: str
    full: bool  # alone on its line


class Marks:
    """Where the writer put each key and list item: its own lines (`own`: first and last line
    index) or inside another's flow line (`inline`: the path that owns the line)."""

    __slots__ = ("own", "inline")

    def __init__(self) -> None:
        self.own: dict[Path, tuple[int, int]] = {}
        self.inline: dict[Path, Path] = {}

    def knows(self, path: Path) -> bool:
        return path == ROOT or path in self.own or path in self.inline


@dataclass(frozen=True)
class Anchor:
    """A key or list item of the file read: where it starts (0-based; an item at its `-`)."""

    line: int
    col: int
    path: Path


def _tokens(text: str) -> Iterator[Any]:
    if _TokenSource is None:  # pragma: no cover - libyaml missing
        yield from yaml.scan(text, Loader=yaml.SafeLoader)
        return
    parser = _TokenSource(text)
    try:
        while True:
            token = parser.get_token()
            if token is None or isinstance(token, yaml.StreamEndToken):
                return
            yield token
    finally:
        parser.dispose()


def find_comments(text: str) -> list[_Found]:
    """Every comment of a YAML text that parses, in order. A `#` is a comment where it starts
    a line or follows a blank outside every token: the scanner's marks say where scalars
    (quoted, plain, block), anchors and tags stand, so `"a #b"`, a `|` block's `# line` and
    `http://x/#frag` are text."""
    if not may_have_comments(text):
        return []
    lines = text.split("\n")
    hash_lines = [i for i, line in enumerate(lines) if "#" in line]
    wanted = set(hash_lines)
    blocked: dict[int, list[tuple[int, int]]] = {}
    found: list[_Found] = []

    def block(line: int, start: int, end: int) -> None:
        if line in wanted:
            blocked.setdefault(line, []).append((start, end))

    try:
        for token in _tokens(text):
            s, e = token.start_mark, token.end_mark
            if s.index == e.index:
                continue
            if isinstance(token, yaml.ScalarToken) and token.style in ("|", ">"):
                m = _BLOCK_HEADER.match(lines[s.line], s.column)
                if m:
                    found.append(_Found(s.line, m.start(1), m.group(1).rstrip(), False))
            if s.line == e.line:
                block(s.line, s.column, e.column)
                continue
            block(s.line, s.column, _END)
            lo = bisect.bisect_right(hash_lines, s.line)
            hi = bisect.bisect_left(hash_lines, e.line)
            for k in range(lo, hi):
                block(hash_lines[k], 0, _END)
            block(e.line, 0, e.column)
    except yaml.YAMLError:  # pragma: no cover - only text that parsed comes here
        return []
    for i in hash_lines:
        line = lines[i]
        spans = blocked.get(i, ())
        j = line.find("#")
        while j >= 0:
            if (j == 0 or line[j - 1] in " \t") and not any(a <= j < b for a, b in spans):
                found.append(_Found(i, j, line[j:].rstrip(), not line[:j].strip()))
                break
            j = line.find("#", j + 1)
    found.sort(key=lambda f: (f.line, f.col))
    return found


def _anchors(lines: list[str], loc: Locator, found: list[_Found]) -> list[Anchor]:
    cut = {f.line: f.col for f in found}  # where each line's comment starts
    out = []
    for path, line, col in loc.entries():
        ln, c = line - 1, col - 1
        if path and isinstance(path[-1], int) and 0 <= ln < len(lines):
            ln, c = _dash(lines, cut, ln, c)
        out.append(Anchor(ln, c, path))
    out.sort(key=lambda a: (a.line, a.col, len(a.path)))
    return out


def _dash(lines: list[str], cut: dict[int, int], ln: int, c: int) -> tuple[int, int]:
    """Where a block list's item starts: at its `-`, which may stand alone on a line above
    the value (`-` then a nested list or mapping)."""
    text = lines[ln]
    k = c - 1
    while k >= 0 and text[k] == " ":
        k -= 1
    if k >= 0:
        return (ln, k) if text[k] == "-" else (ln, c)
    up = ln - 1
    while up >= 0:
        text = lines[up][: cut.get(up, len(lines[up]))].rstrip()
        if text:
            if text.endswith("-") and (len(text) == 1 or text[-2] == " "):
                return up, len(text) - 1
            return ln, c
        up -= 1
    return ln, c


def attach_comments(text: str, found: list[_Found], loc: Locator) -> tuple[Comments, list[Anchor]]:
    """The comments `found` in `text` by the path of the key or item each belongs to, and the
    file's keys and items in order (for `fit_comments`)."""
    lines = text.split("\n")
    anchors = _anchors(lines, loc, found)
    starts = [(a.line, a.col) for a in anchors]
    table: Comments = {}
    blocks: list[tuple[Path, str, list[str], int]] = []  # path, slot, lines, last line
    for f in found:
        if not f.full:
            i = bisect.bisect_left(starts, (f.line, 0))
            if i < len(anchors) and anchors[i].line == f.line and anchors[i].col < f.col:
                c = table.setdefault(anchors[i].path, Comment())
                c.trailing = f.text if c.trailing is None else f"{c.trailing}  {f.text}"
                c.trailing_col = f.col
                continue
            # the line of a value that began above (a long quoted or flow value)
            j = bisect.bisect_left(starts, (f.line, f.col)) - 1
            path, slot = (anchors[j].path, "after") if j >= 0 else (ROOT, "before")
        else:
            path, slot = _full_line_target(anchors, starts, f)
        blank_above = f.line > 0 and not lines[f.line - 1].strip()
        last = blocks[-1] if blocks else None
        if (
            last is not None
            and last[0] == path
            and last[1] == slot
            and all(not lines[k].strip() for k in range(last[3] + 1, f.line))
        ):
            if blank_above:
                last[2].append("")
            last[2].append(f.text)
            blocks[-1] = (path, slot, last[2], f.line)
        else:
            blocks.append((path, slot, ([""] if blank_above else []) + [f.text], f.line))
    full = {f.line for f in found if f.full}
    for path, slot, block, end in blocks:
        if end + 1 < len(lines) and not lines[end + 1].strip() and (path, slot) != (ROOT, "after"):
            nxt = end + 1
            while nxt < len(lines) and not lines[nxt].strip():
                nxt += 1
            if nxt not in full:  # a blank line between two comments goes with the second
                block.append("")
        c = table.setdefault(path, Comment())
        (c.before if slot == "before" else c.after).extend(block)
    return table, anchors


def _full_line_target(
    anchors: list[Anchor], starts: list[tuple[int, int]], f: _Found
) -> tuple[Path, str]:
    i = bisect.bisect_right(starts, (f.line, f.col))
    if i == 0:
        return ROOT, "before"  # the header
    nxt = anchors[i] if i < len(anchors) else None
    if nxt is not None and f.col <= nxt.col:
        return nxt.path, "before"
    if nxt is None and f.col == 0:
        return ROOT, "after"  # the trailer
    # indented deeper than what follows: the end of the block it is indented into
    for k in range(i - 1, -1, -1):
        if anchors[k].col <= f.col:
            return anchors[k].path, "after"
    return (nxt.path, "before") if nxt is not None else (ROOT, "after")


def fit_comments(table: Comments, anchors: list[Anchor], marks: Marks) -> Comments:
    """Comments tied to what the canonical form does not write (an `id` equal to its default,
    `level: info`, a list written in flow style) moved to the nearest thing it does write: a
    `before` to the next key of the same block, else to the end of the block; a `trailing` to
    the enclosing key's line. Later saves then drop only comments whose key was deleted."""
    order = {a.path: k for k, a in enumerate(anchors)}
    parts: dict[tuple[Path, str], list[tuple[Any, list[str]]]] = {}
    trailing: dict[Path, list[tuple[int, str, int]]] = {}

    def put(path: Path, slot: str, key: Any, block: list[str]) -> None:
        parts.setdefault((path, slot), []).append((key, block))

    def keeper(path: Path) -> Path:
        while not marks.knows(path):
            path = path[:-1]
        return path

    for path, c in table.items():
        k = order.get(path, -1)
        known = marks.knows(path)
        if c.before:
            target = path if known else _next_sibling(anchors, k, path, marks)
            if target is not None:
                put(target, "before", order.get(path, -1), c.before)
            else:
                put(keeper(path), "after", (-len(path), k), c.before)
        if c.trailing is not None:
            trailing.setdefault(keeper(path), []).append((k, c.trailing, c.trailing_col))
        if c.after:
            put(keeper(path), "after", (-len(path), k), c.after)
    out: Comments = {}
    for (path, slot), items in parts.items():
        items.sort(key=lambda kv: kv[0])
        lines = [line for _, block in items for line in block]
        c = out.setdefault(path, Comment())
        (c.before if slot == "before" else c.after).extend(lines)
    for path, texts in trailing.items():
        texts.sort()
        c = out.setdefault(path, Comment())
        c.trailing = "  ".join(t for _, t, _ in texts)
        c.trailing_col = texts[0][2]
    return out


def _next_sibling(anchors: list[Anchor], k: int, path: Path, marks: Marks) -> Path | None:
    if k < 0 or not path:
        return None
    parent = path[:-1]
    for a in anchors[k + 1 :]:
        if a.path[: len(parent)] != parent or len(a.path) <= len(parent):
            return None
        if len(a.path) == len(parent) + 1 and marks.knows(a.path):
            return a.path
    return None


def insert_comments(lines: list[str], marks: Marks, table: Comments) -> list[str]:
    """The writer's `lines` with the comments of `table` put where their paths were written;
    comments of a path that was not written (a deleted key or step) are left out."""
    before: dict[int, list[tuple[int, list[str]]]] = {}
    after: dict[int, list[tuple[int, int, list[str]]]] = {}
    trailing: dict[int, list[tuple[str, int]]] = {}
    last = len(lines) - 1
    for path, c in table.items():
        if path == ROOT:
            if c.before:
                before.setdefault(0, []).append((-1, c.before))
            if c.after:
                after.setdefault(last, []).append((-1, 0, c.after))
            continue
        own = path if path in marks.own else marks.inline.get(path)
        if own is None or (span := marks.own.get(own)) is None:
            continue
        start, end = span
        if c.before:
            before.setdefault(start, []).append((len(path), c.before))
        if c.trailing is not None:
            trailing.setdefault(start, []).append((c.trailing, c.trailing_col))
        if c.after:
            # an item's block ends at its `-`'s column, a key's at the key's
            col = _indent(lines[start]) if isinstance(own[-1], int) else _key_column(lines[start])
            after.setdefault(end, []).append((len(path), col, c.after))
    out: list[str | None] = []  # None: a blank line of a comment block (dropped where doubled)
    for i, line in enumerate(lines):
        for _, block in sorted(before.get(i, ()), key=lambda b: b[0]):
            _put(out, block, _indent(line))
        t = trailing.get(i)
        out.append(_with_trailing(line, t) if t else line)
        for _, col, block in sorted(after.get(i, ()), key=lambda b: -b[0]):
            _put(out, block, col)
    while out and out[-1] is None:
        out.pop()  # a file neither ends nor starts with a blank line of ours (the writer's
        # own, a `|+` block's, stay)
    kept: list[str] = []
    for item in out:
        if item is None:
            # not doubled, and not between a key and the first line of its block
            if kept and kept[-1] != "" and not kept[-1].endswith(":"):
                kept.append("")
        else:
            kept.append(item)
    return kept


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _key_column(line: str) -> int:
    """Where the last thing to start on `line` begins: `- - key: v` -> the key's column (a
    comment after a block is indented as the block's own key)."""
    col = _indent(line)
    while line.startswith("- ", col):
        col += 2
    return col


def _put(out: list[str | None], block: list[str], indent: int) -> None:
    pad = " " * indent
    for text in block:
        out.append(None if not text else pad + text)


def _with_trailing(line: str, items: list[tuple[str, int]]) -> str:
    text = "  ".join(t for t, _ in items)
    col = items[0][1]
    gap = col - len(line) if col > len(line) else 2
    return line + " " * gap + text


# --- workflows: the steps keep their own --------------------------------------------------


def workflow_comments(wf: Workflow) -> Comments:
    """A workflow's comments by path in its data (`("steps", 2, "with")`), steps by index."""
    table: Comments = dict(wf.comments)
    for i, s in enumerate(wf.steps):
        for rel, c in s.comments.items():
            if rel[:1] == (LAYOUT_LINE,):
                table[("layout", s.id, *rel[1:])] = c
            else:
                table[("steps", i, *rel)] = c
    return table


def spread_workflow_comments(wf: Workflow, table: Comments) -> None:
    """Put a table by data path (steps by index in `wf.steps`) onto the workflow and its
    steps."""
    by_id = {s.id: s for s in wf.steps}
    for path, c in table.items():
        if len(path) >= 2 and path[0] == "steps" and isinstance(path[1], int):
            if 0 <= path[1] < len(wf.steps):
                wf.steps[path[1]].comments[path[2:]] = c
        elif len(path) >= 2 and path[0] == "layout" and path[1] in by_id:
            by_id[str(path[1])].comments[(LAYOUT_LINE, *path[2:])] = c
        else:
            wf.comments[path] = c
