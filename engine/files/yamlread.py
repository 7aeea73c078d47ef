"""Strict YAML reading: safe, YAML 1.2 scalars, no duplicate keys, size/depth/alias limits.

The reader consumes libyaml's event stream (PyYAML's C parser where present) and builds plain
Python values directly, recording where every mapping key, value and list item stood. It never
builds a node graph, so the depth limit stops a deeply nested file early and aliases are expanded
under a budget (the "billion laughs" bomb stops at 100,000 nodes).
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterator
from typing import Any

import yaml

from engine.core.errors import LoadError, Problem

__all__ = ["read_yaml", "Locator", "MAX_BYTES", "MAX_DEPTH", "MAX_ALIAS_NODES"]

MAX_BYTES = 10 * 1024 * 1024
MAX_DEPTH = 64
MAX_ALIAS_NODES = 100_000

try:
    from yaml.cyaml import CParser as _Parser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - libyaml missing
    from yaml.parser import Parser as _PyParser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _Parser(Reader, Scanner, _PyParser):  # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            _PyParser.__init__(self)


_NULLS = {"~", "null", "Null", "NULL", ""}
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"[-+]?[0-9]+\Z")
_INT_OCT = re.compile(r"0o[0-7]+\Z")
_INT_HEX = re.compile(r"0x[0-9a-fA-F]+\Z")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
_INF = re.compile(r"[-+]?\.(?:inf|Inf|INF)\Z")
_NAN = re.compile(r"\.(?:nan|NaN|NAN)\Z")
_NUMERIC_START = frozenset("0123456789+-.")

_TAG = "tag:yaml.org,2002:"


def resolve_plain(value: str) -> Any:
    """A plain scalar under the YAML 1.2 core schema (`on`/`yes` stay strings)."""
    if value in _NULLS:
        return None
    b = _BOOLS.get(value)
    if b is not None:
        return b
    if value[0] in _NUMERIC_START:
        if _INT.match(value):
            return int(value)
        if _FLOAT.match(value):
            return float(value)
        if _INF.match(value):
            return float("-inf") if value[0] == "-" else float("inf")
        if _NAN.match(value):
            return float("nan")
        if _INT_OCT.match(value):
            return int(value[2:], 8)
        if _INT_HEX.match(value):
            return int(value[2:], 16)
    return value


def _explicit(tag: str, value: str) -> Any:
    """A scalar with an explicit standard tag (`!!str`, `!!int`, …). Raises ValueError."""
    name = tag[len(_TAG) :] if tag.startswith(_TAG) else None
    if name == "str":
        return value
    if name == "null":
        return None
    if name == "bool":
        if value in _BOOLS:
            return _BOOLS[value]
        raise ValueError(f"'{value}' is not a boolean (use true or false)")
    if name == "int":
        v = resolve_plain(value)
        if isinstance(v, int) and not isinstance(v, bool):
            return v
        raise ValueError(f"'{value}' is not an integer")
    if name == "float":
        v = resolve_plain(value)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return float(v)
        raise ValueError(f"'{value}' is not a number")
    raise ValueError(
        f"the tag '{_show_tag(tag)}' is not allowed: only plain YAML data is read "
        "(remove the tag; safe loading never builds objects)"
    )


def _show_tag(tag: str) -> str:
    return "!!" + tag[len(_TAG) :] if tag.startswith(_TAG) else tag


# A position packed into one integer: line << _COL_BITS | column (a 10 MiB file has fewer
# columns than that on any line).
_COL_BITS = 24
_COL_MASK = (1 << _COL_BITS) - 1
_BIG_MAP = 64  # a mapping with more keys than this gets a key -> index table when looked in


def _pack(mark: Any) -> int:
    return int(((mark.line + 1) << _COL_BITS) | min(mark.column + 1, _COL_MASK))


def _unpack(p: int) -> tuple[int, int]:
    return (p >> _COL_BITS, p & _COL_MASK)


class Locator:
    """Where each value stood in the file, looked up by the path to it.

    Kept light, since it lives as long as a loaded file (it was most of a loaded step's memory
    as tuples in dicts): every container has one region in a flat array of packed positions,
    found by the container's id: [where it starts, how many entries, then for a mapping the
    key's and the value's position of each key in the mapping's order, for a list each
    item's]."""

    __slots__ = ("file", "root", "_at", "_flat", "_key_index")

    def __init__(self, file: str, root: Any = None) -> None:
        self.file = file
        self.root = root
        self._at: dict[int, int] = {}  # id(container) -> offset of its region in _flat
        self._flat = array("q")
        self._key_index: dict[int, dict[str, int]] = {}  # built when a big mapping is looked in

    def _add(self, container: Any, region: list[int]) -> None:
        self._at[id(container)] = len(self._flat)
        self._flat.extend(region)

    def _entry(self, node: Any, index: int) -> int | None:
        """The region offset of entry `index` of `node` (a mapping's key counts as two)."""
        at = self._at.get(id(node))
        if at is None or index >= self._flat[at + 1]:
            return None
        return at + 2 + index

    def _map_index(self, node: dict[str, Any], key: str) -> int:
        if len(node) <= _BIG_MAP:
            for i, k in enumerate(node):
                if k == key:
                    return i
            return -1
        table = self._key_index.get(id(node))
        if table is None:
            table = self._key_index[id(node)] = {k: i for i, k in enumerate(node)}
        return table.get(key, -1)

    def locate(
        self, path: tuple[str | int, ...] | list[str | int], *, key: bool = False
    ) -> tuple[int, int]:
        """Line and column (1-based) of the value at `path`; of the key itself with `key=True`.

        A path that goes further than the file (a missing key) gives the deepest place found.
        """
        node = self.root
        flat = self._flat
        at = self._at.get(id(node))
        where = _unpack(flat[at]) if at is not None else (1, 1)
        for i, part in enumerate(path):
            last = i == len(path) - 1
            if isinstance(node, dict) and isinstance(part, str) and part in node:
                index = self._map_index(node, part)
                e = self._entry(node, 2 * index + (0 if (last and key) else 1))
                if e is not None and index >= 0:
                    where = _unpack(flat[e])
                node = node[part]
            elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
                e = self._entry(node, part)
                if e is not None:
                    where = _unpack(flat[e])
                node = node[part]
            else:
                break
        return where

    def entries(self) -> Iterator[tuple[tuple[str | int, ...], int, int]]:
        """Every mapping key and list item with the line and column (1-based) it starts at
        (a key's own place; an item's value's), parents before their entries."""
        flat = self._flat
        stack: list[tuple[tuple[str | int, ...], Any]] = [((), self.root)]
        while stack:
            path, node = stack.pop()
            at = self._at.get(id(node))
            if at is None:
                continue
            count = flat[at + 1]
            if isinstance(node, dict):
                for i, (k, v) in enumerate(node.items()):
                    if 2 * i >= count:
                        break
                    p = (*path, k)
                    yield (p, *_unpack(flat[at + 2 + 2 * i]))
                    if isinstance(v, (dict, list)):
                        stack.append((p, v))
            elif isinstance(node, list):
                for i, v in enumerate(node):
                    if i >= count:
                        break
                    p = (*path, i)
                    yield (p, *_unpack(flat[at + 2 + i]))
                    if isinstance(v, (dict, list)):
                        stack.append((p, v))

    def problem(
        self,
        message: str,
        path: tuple[str | int, ...],
        *,
        key: bool = False,
        step_id: str | None = None,
        severity: str = "error",
    ) -> Problem:
        line, col = self.locate(path, key=key)
        return Problem(message, tuple(path), self.file, line, col, step_id, severity)


_DEPTH_MESSAGE = f"nesting deeper than {MAX_DEPTH} levels: flatten the document"
# the characters that open, close or hide flow collections
_FLOW_TOKEN = re.compile(r"[\[\]{}\n]|#[^\n]*|'(?:[^']|'')*'|\"(?:[^\"\\]|\\.)*\"")


def _too_deep_before(text: str, mark: Any) -> tuple[int, int] | None:
    """Where flow collections (`[`, `{`) first nest deeper than MAX_DEPTH before `mark`.

    libyaml looks ahead for a possible `key:` inside flow collections, so on `[[[[…` it can stop
    with its own nesting limit (1,000 in libyaml 0.2.6, none in 0.2.5) before it hands over the
    events that our limit counts. A syntax error is then checked against our limit here, so the
    limit and its message are the same whatever PyYAML bundles.
    """
    end = len(text) if mark is None else min(len(text), mark.index + 1)
    if text.count("[", 0, end) + text.count("{", 0, end) <= MAX_DEPTH:
        return None
    depth, line, line_start = 0, 1, 0
    for m in _FLOW_TOKEN.finditer(text, 0, end):
        tok = m.group()
        if tok == "\n":
            line, line_start = line + 1, m.end()
        elif tok in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return line, m.start() - line_start + 1
        elif tok in "]}":
            depth = max(0, depth - 1)
        elif tok[0] in "'\"":
            line_start_at = tok.rfind("\n")
            if line_start_at >= 0:  # a quoted scalar may span lines
                line += tok.count("\n")
                line_start = m.start() + line_start_at + 1
    return None


class _Fail(Exception):
    def __init__(self, message: str, mark: Any) -> None:
        self.message = message
        self.mark = mark


def _pos(mark: Any) -> tuple[int, int]:
    return (mark.line + 1, mark.column + 1)


def _char_at(text: str, line: int, col: int) -> str:
    lines = text.split("\n", line)
    if 0 < line <= len(lines) and 0 < col <= len(lines[line - 1]):
        return lines[line - 1][col - 1]
    return ""


def _unclosed_quote(text: str, mark: Any) -> Any:
    """The start of a quoted scalar that ran over a line end just before a syntax error at
    `mark`: a quote left open swallows the lines after it, and PyYAML stops only where the
    text that follows no longer fits, often far below. None when there is no such scalar.
    The pure-Python scanner runs only here, on text that has already failed."""
    last = None
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if token.start_mark.index >= mark.index:
                break
            if isinstance(token, yaml.ScalarToken):
                last = token
    except yaml.MarkedYAMLError:
        pass
    if last is not None and last.style in ("'", '"') and last.end_mark.line > last.start_mark.line:
        return last.start_mark
    return None


def _syntax_problem(e: yaml.MarkedYAMLError, file: str, text: str) -> Problem:
    mark = e.problem_mark or e.context_mark
    what = (e.problem or "").strip()
    ctx = (e.context or "").strip()
    hint = "fix the YAML syntax at that place"
    if ctx == "while scanning a quoted scalar" and e.context_mark is not None:
        # PyYAML marks the end of the file; the cause is the quote that opened the scalar
        mark = e.context_mark
        what, ctx = "a quote that is not closed", ""
        hint = "close it with the same quote on this line, or remove it"
    elif mark is not None and (opened := _unclosed_quote(text, mark)) is not None:
        where = f"line {mark.line + 1}"
        mark = opened
        what = f"a quoted value runs over several lines and the text stops fitting at {where}"
        ctx, hint = "", "close the quote on this line if it was meant to end here"
    line, col = _pos(mark) if mark is not None else (0, 0)
    if "'\\t'" in what or "tab" in what or _char_at(text, line, col) == "\t":
        what, hint = "a tab character", "indent with spaces; YAML does not allow tabs there"
    elif "mapping values are not allowed" in what:
        hint = "a value holding ': ' must be quoted, or the indentation is off"
    elif "could not find expected ':'" in what:
        hint = "a key needs ': ' after it, or the line above is not closed"
    elif "found undefined alias" in what or "found undefined" in what:
        hint = "define the anchor (&name) before using the alias (*name)"
    message = f"YAML syntax error: {what}" + (f" ({ctx})" if ctx else "") + f"; {hint}"
    return Problem(message, (), file, line, col)


def read_yaml(data: str | bytes, file: str = "<text>") -> tuple[Any, Locator]:
    """Parse one YAML document strictly. Raises LoadError with one located problem."""
    if isinstance(data, bytes):
        if len(data) > MAX_BYTES:
            raise LoadError(
                [
                    Problem(
                        f"the file is {len(data) / 1048576:.1f} MiB; the limit is 10 MiB "
                        "(split it, or move large bodies out of it)",
                        (),
                        file,
                        1,
                        1,
                    )
                ]
            )
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            line = data[: e.start].count(b"\n") + 1
            col = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
            raise LoadError(
                [Problem("the file is not UTF-8 text: save it as UTF-8", (), file, line, col)]
            ) from None
    else:
        text = data
        if len(text) > MAX_BYTES and len(text.encode("utf-8")) > MAX_BYTES:
            raise LoadError(
                [
                    Problem(
                        "the file is larger than the 10 MiB limit (split it, or move large "
                        "bodies out)",
                        (),
                        file,
                        1,
                        1,
                    )
                ]
            )
    loc = Locator(file)
    try:
        loc.root = _build(text, loc)
    except _Fail as f:
        line, col = _pos(f.mark) if f.mark is not None else (1, 1)
        raise LoadError([Problem(f.message, (), file, line, col)]) from None
    except yaml.MarkedYAMLError as e:
        deep = _too_deep_before(text, e.problem_mark or e.context_mark)
        if deep is not None:
            raise LoadError([Problem(_DEPTH_MESSAGE, (), file, *deep)]) from None
        raise LoadError([_syntax_problem(e, file, text)]) from None
    except yaml.reader.ReaderError as e:
        pos = max(0, min(int(e.position), len(text)))
        line = text.count("\n", 0, pos) + 1
        col = pos - (text.rfind("\n", 0, pos) + 1) + 1
        code = e.character if isinstance(e.character, int) else ord(str(e.character)[:1] or "?")
        raise LoadError(
            [
                Problem(
                    f"a control character (U+{code:04X}) is not allowed in YAML: remove it, or "
                    f"write it as \\x{code:02x} inside double quotes",
                    (),
                    file,
                    line,
                    col,
                )
            ]
        ) from None
    except yaml.YAMLError as e:  # pragma: no cover - unmarked reader errors
        raise LoadError([Problem(f"YAML error: {e}", (), file, 1, 1)]) from None
    return loc.root, loc


def _build(text: str, loc: Locator) -> Any:
    parser = _Parser(text)
    try:
        return _events_to_value(parser, loc)
    finally:
        dispose = getattr(parser, "dispose", None)
        if dispose is not None:
            dispose()


def _events_to_value(parser: Any, loc: Locator) -> Any:
    get_event = parser.get_event
    add_region = loc._add
    anchors: dict[str, Any] = {}
    alias_budget = [MAX_ALIAS_NODES]

    ScalarEvent = yaml.ScalarEvent
    MappingStartEvent = yaml.MappingStartEvent
    SequenceStartEvent = yaml.SequenceStartEvent
    MappingEndEvent = yaml.MappingEndEvent
    SequenceEndEvent = yaml.SequenceEndEvent
    AliasEvent = yaml.AliasEvent
    DocumentStartEvent = yaml.DocumentStartEvent
    StreamEndEvent = yaml.StreamEndEvent

    # stack frames: [container, is_map, pending_key, key_mark, anchor, positions]; the positions
    # (start, count, entries) go to the locator when the container ends
    stack: list[list[Any]] = []
    root: Any = None
    have_root = False
    documents = 0

    while True:
        ev = get_event()
        cls = ev.__class__
        if cls is ScalarEvent:
            tag = ev.tag
            if tag is None or tag == "!":
                value = resolve_plain(ev.value) if (tag is None and ev.implicit[0]) else ev.value
            else:
                try:
                    value = _explicit(tag, ev.value)
                except ValueError as e:
                    raise _Fail(str(e), ev.start_mark) from None
            if ev.anchor is not None:
                anchors[ev.anchor] = value
            is_container = False
        elif cls is MappingStartEvent or cls is SequenceStartEvent:
            tag = ev.tag
            if tag is not None and tag != "!" and tag not in (_TAG + "map", _TAG + "seq"):
                raise _Fail(
                    f"the tag '{_show_tag(tag)}' is not allowed: only plain YAML data "
                    "is read (remove the tag; safe loading never builds objects)",
                    ev.start_mark,
                )
            if len(stack) >= MAX_DEPTH:
                raise _Fail(_DEPTH_MESSAGE, ev.start_mark)
            is_map = cls is MappingStartEvent
            container: Any = {} if is_map else []
            frame = [container, is_map, None, None, ev.anchor, [_pack(ev.start_mark), 0]]
            value = container
            is_container = True
        elif cls is MappingEndEvent or cls is SequenceEndEvent:
            frame = stack.pop()
            region = frame[5]
            region[1] = len(region) - 2
            add_region(frame[0], region)
            if frame[4] is not None:
                anchors[frame[4]] = frame[0]
            if not stack:
                root, have_root = frame[0], True
            continue
        elif cls is AliasEvent:
            if ev.anchor not in anchors:
                raise _Fail(
                    f"the alias *{ev.anchor} names no complete anchor above it "
                    "(define &" + ev.anchor + " first; an anchor cannot contain itself)",
                    ev.start_mark,
                )
            value = _copy_alias(anchors[ev.anchor], loc, alias_budget, ev.start_mark)
            is_container = False
        elif cls is DocumentStartEvent:
            documents += 1
            if documents > 1:
                raise _Fail(
                    "the file holds more than one YAML document ('---'): "
                    "keep one document per file",
                    ev.start_mark,
                )
            continue
        elif cls is StreamEndEvent:
            break
        else:
            continue

        # place `value` into its parent
        if stack:
            parent = stack[-1]
            if parent[1]:
                if parent[2] is None:
                    # a key
                    if is_container:
                        raise _Fail(
                            "a key must be plain text, not a list or mapping", ev.start_mark
                        )
                    if isinstance(value, (dict, list)):
                        raise _Fail(
                            "a key must be plain text, not an alias of a list or mapping",
                            ev.start_mark,
                        )
                    key = ev.value if cls is ScalarEvent else _key_text(value)
                    pmap = parent[0]
                    if key in pmap:
                        first = _unpack(parent[5][2 + 2 * list(pmap).index(key)])
                        raise _Fail(
                            f"duplicate key '{key}' (first at line {first[0]}, "
                            f"column {first[1]}): keep one of them",
                            ev.start_mark,
                        )
                    parent[2] = key
                    parent[3] = ev.start_mark
                else:
                    parent[0][parent[2]] = value
                    parent[5] += (_pack(parent[3]), _pack(ev.start_mark))
                    parent[2] = None
            else:
                parent[0].append(value)
                parent[5].append(_pack(ev.start_mark))
        elif not is_container:
            root, have_root = value, True
        if is_container:
            stack.append(frame)
    return root if have_root else None


def _key_text(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def _copy_alias(value: Any, loc: Locator, budget: list[int], mark: Any) -> Any:
    """Expand an alias into a fresh copy, charging every node to the alias budget."""
    budget[0] -= 1
    if budget[0] < 0:
        raise _Fail(
            f"aliases expand to more than {MAX_ALIAS_NODES:,} nodes "
            "(an alias bomb?): write the data out or use fewer aliases",
            mark,
        )
    if isinstance(value, dict):
        out: Any = {k: _copy_alias(v, loc, budget, mark) for k, v in value.items()}
    elif isinstance(value, list):
        out = [_copy_alias(v, loc, budget, mark) for v in value]
    else:
        return value
    # the copy's entries stand where the anchored original's do; the copy starts at the alias
    at = loc._at.get(id(value))
    region = [_pack(mark), 0]
    if at is not None:
        count = loc._flat[at + 1]
        region[1] = count
        region += loc._flat[at + 2 : at + 2 + count]
    loc._add(out, region)
    return out
