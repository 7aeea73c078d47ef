"""The step graph (`after` edges) as pure functions: cycles, order, reachability.

Every function takes `after`, a mapping from step id to the ids it comes after, so the
validator, the scheduler, the designer's edits and the importers share one set of rules.
Ids named in `after` lists that are not keys of `after` are ignored (validation reports them).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence

from engine.core.model import Workflow

__all__ = ["after_map", "find_cycle", "topological_order", "comes_before", "Reach",
           "dependents", "roots"]

After = Mapping[str, Sequence[str]]


def after_map(workflow: Workflow) -> dict[str, list[str]]:
    """Step id -> its `after` list, in step order."""
    return {s.id: s.after for s in workflow.steps}


def dependents(after: After) -> dict[str, list[str]]:
    """Step id -> the steps that come directly after it (in step order, each once)."""
    out: dict[str, list[str]] = {sid: [] for sid in after}
    for sid, deps in after.items():
        for dep in dict.fromkeys(deps):
            if dep in out:
                out[dep].append(sid)
    return out


def find_cycle(after: After) -> list[str] | None:
    """Ids forming a cycle, in the order they run, the first repeated at the end; or None.

    Self-loops are not cycles here (validation reports them on their own).
    """
    state: dict[str, int] = {}  # 1 visiting, 2 done
    for start in after:
        if state.get(start):
            continue
        stack: list[tuple[str, int]] = [(start, 0)]
        path: list[str] = [start]
        state[start] = 1
        while stack:
            node, i = stack[-1]
            deps = after.get(node, ())
            if i < len(deps):
                stack[-1] = (node, i + 1)
                nxt = deps[i]
                if nxt not in after or nxt == node:
                    continue
                st = state.get(nxt, 0)
                if st == 1:
                    cyc = path[path.index(nxt):] + [nxt]
                    return list(reversed(cyc))
                if st == 0:
                    state[nxt] = 1
                    stack.append((nxt, 0))
                    path.append(nxt)
            else:
                state[node] = 2
                stack.pop()
                path.pop()
    return None


def topological_order(after: After) -> tuple[list[str], list[str]]:
    """(ids in an order where each comes after its `after`, ids left over on or behind a cycle).

    Kahn's algorithm, stable: among ready steps the one listed first goes first.
    """
    waiting = {sid: len([d for d in dict.fromkeys(deps) if d in after])
               for sid, deps in after.items()}
    nexts = dependents(after)
    queue = deque(sid for sid, n in waiting.items() if n == 0)
    order: list[str] = []
    while queue:
        sid = queue.popleft()
        order.append(sid)
        for d in nexts[sid]:
            waiting[d] -= 1
            if waiting[d] == 0:
                queue.append(d)
    left = [sid for sid, n in waiting.items() if n > 0]
    return order, left


def comes_before(after: After, a: str, b: str) -> bool:
    """True if `a` is `b` or one of its (transitive) `after` steps."""
    stack, seen = [b], {b}
    while stack:
        v = stack.pop()
        if v == a:
            return True
        for dep in after.get(v, ()):
            if dep not in seen:
                seen.add(dep)
                stack.append(dep)
    return False


class Reach:
    """Answers "does step a come (transitively) before step b?" by a bounded search from b.

    Past `budget` steps visited it answers True: the caller uses it to warn, and a graph too
    large to search is not worth a doubtful warning.
    """

    def __init__(self, after: After, budget: int = 20_000) -> None:
        self.after = after
        self.budget = budget

    def before(self, a: str, b: str) -> bool:
        stack = list(self.after.get(b, ()))
        seen: set[str] = set()
        while stack:
            n = stack.pop()
            if n == a:
                return True
            if n in seen:
                continue
            seen.add(n)
            if len(seen) > self.budget:
                return True
            stack.extend(self.after.get(n, ()))
        return False


def roots(after: After) -> Iterable[str]:
    """Steps that start at once (their `after` is empty)."""
    return (sid for sid, deps in after.items() if not deps)
