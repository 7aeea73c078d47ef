"""The shape holds: the engine is Qt-free, its layers and the designer's import only downwards,
no two modules import each other (directly or round a loop), and the public API is pinned."""

from __future__ import annotations

import importlib.util
import pkgutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _printed(code: str) -> str:
    """What `code` prints, run in a fresh interpreter (which must succeed)."""
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def _engine_modules() -> list[str]:
    import engine

    # engine.temporal needs the optional `temporal` extra; without it there is nothing to load.
    has_temporal = importlib.util.find_spec("temporalio") is not None
    return sorted(
        m.name
        for m in pkgutil.walk_packages(engine.__path__, "engine.")
        if not m.name.endswith("__main__")
        and (has_temporal or not m.name.startswith("engine.temporal"))
    )


def test_importing_every_engine_module_loads_no_qt() -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {_engine_modules()!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('PySide6', 'shiboken6', 'qasync', 'designer'))\n"
        "print(','.join(bad))\n"
    )
    assert _printed(code) == ""


def test_import_linter_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run(
        [str(lint) if lint.exists() else "lint-imports", "--config", str(ROOT / "pyproject.toml")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert " 0 broken" in proc.stdout and "KEPT" in proc.stdout


def _cycles(graph: grimp.ImportGraph, modules: set[str]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[list[str]] = []
    counter = 0
    edges = {m: sorted(graph.find_modules_directly_imported_by(m) & modules) for m in modules}
    for root in sorted(modules):
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            recurse = False
            for j in range(i, len(edges[node])):
                nxt = edges[node][j]
                if nxt not in index:
                    work.append((node, j + 1))
                    work.append((nxt, 0))
                    recurse = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if recurse:
                continue
            if low[node] == index[node]:
                group = []
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    group.append(m)
                    if m == node:
                        break
                if len(group) > 1:
                    out.append(sorted(group))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return out


@pytest.mark.parametrize("package", ["engine"])
def test_no_import_cycles(package: str) -> None:
    # every import counts: at module level, inside functions and under TYPE_CHECKING
    graph = grimp.build_graph(package)
    # the root package re-exporting its modules' names is not a cycle of theirs
    modules = {m for m in graph.modules if m != package}
    assert _cycles(graph, modules) == []


def test_cycle_finder_finds_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for m in ("a", "b", "c", "d"):
        graph.add_module(m)
    graph.add_import(importer="a", imported="b")
    graph.add_import(importer="b", imported="c")
    graph.add_import(importer="c", imported="a")
    graph.add_import(importer="c", imported="d")
    assert _cycles(graph, {"a", "b", "c", "d"}) == [["a", "b", "c"]]


def test_the_code_is_formatted_and_lint_clean() -> None:
    # the project adopted `ruff format` (STYLE.md: ruff for lint and format)
    ruff = Path(sys.executable).with_name("ruff")
    exe = str(ruff) if ruff.exists() else "ruff"
    for args in (
        ["format", "--check", "engine", "designer", "tests"],
        ["check", "engine", "designer", "tests"],
    ):
        proc = subprocess.run([exe, *args], capture_output=True, text=True, cwd=ROOT, timeout=120)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]


def test_help_builds_every_parser_without_the_commands_imports() -> None:
    """`switchboard --help` builds every command's parser (the plug-ins' too) and loads none of
    what the commands themselves use: the file stack, asyncio, httpx, jsonschema, the server."""
    code = (
        "import contextlib, io, sys\n"
        "from engine.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.suppress(SystemExit):\n"
        "    main(['--help'])\n"
        "assert 'validate' in out.getvalue() and 'serve' in out.getvalue(), out.getvalue()\n"
        "heavy = ('asyncio', 'httpx', 'jsonschema', 'aiohttp', 'engine.files.documents', "
        "'engine.files.comments', 'engine.server.service', 'engine.runtime')\n"
        "print(','.join(sorted(m for m in sys.modules if m.startswith(heavy))))\n"
    )
    assert _printed(code) == ""
