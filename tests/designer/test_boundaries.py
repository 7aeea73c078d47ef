"""The designer's shape: no two of its modules import each other, directly or round a loop, and
`switchboard design`'s entry point loads no Qt. (Its layers are an import-linter contract.)"""

from __future__ import annotations

import subprocess
import sys
from collections import deque
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]


def _chain(edges: dict[str, set[str]], start: str, goal: str) -> list[str] | None:
    """The shortest import chain from `start` to `goal` (both included), or None."""
    came_from: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            chain = [node]
            while (prev := came_from[chain[-1]]) is not None:
                chain.append(prev)
            return chain[::-1]
        for nxt in sorted(edges[node]):
            if nxt not in came_from:
                came_from[nxt] = node
                queue.append(nxt)
    return None


def _cycles(graph: grimp.ImportGraph, modules: set[str]) -> list[list[str]]:
    """Every import loop among `modules`, once each: from its first module in sorted order
    round to it again."""
    edges = {m: graph.find_modules_directly_imported_by(m) & modules for m in modules}
    found: dict[frozenset[str], list[str]] = {}
    for module in sorted(modules):
        for imported in sorted(edges[module]):
            back = _chain(edges, imported, module)
            if back is not None and frozenset(back) not in found:
                found[frozenset(back)] = [module, *back]
    return sorted(found.values())


def test_no_import_cycles() -> None:
    # every import counts: at module level, inside functions and under TYPE_CHECKING
    graph = grimp.build_graph("designer", include_external_packages=False)
    # the root package re-exporting its modules' names is not a cycle of theirs
    modules = {m for m in graph.modules if m != "designer"}
    assert len(modules) > 30  # the graph was built: a check of nothing passes too
    assert _cycles(graph, modules) == []


def test_cycle_finder_finds_a_loop() -> None:
    graph = grimp.ImportGraph()
    for m in ("a", "b", "c", "d"):
        graph.add_module(m)
    graph.add_import(importer="a", imported="b")
    graph.add_import(importer="b", imported="c")
    graph.add_import(importer="c", imported="a")
    graph.add_import(importer="c", imported="d")
    assert _cycles(graph, {"a", "b", "c", "d"}) == [["a", "b", "c", "a"]]


def test_the_design_command_loads_no_qt() -> None:
    # `switchboard --help` registers `design` by importing designer.command
    code = (
        "import sys, designer.command\n"
        "print(','.join(sorted(m for m in sys.modules\n"
        "                      if m.split('.')[0] in ('PySide6', 'shiboken6', 'qasync'))))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""
