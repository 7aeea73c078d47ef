"""The step graph (`after` edges) as pure functions: cycles, order, reachability, series-parallel.

Every function takes `after`, a mapping from step id to the ids it comes after, so the
validator, the scheduler, the designer's edits and the importers share one set of rules.
Ids named in `after` lists that are not keys of `after` are ignored (validation reports them).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from engine.core.model import Workflow

__all__ = [
    "after_map",
    "find_cycle",
    "topological_order",
    "comes_before",
    "Reach",
    "dependents",
    "roots",
    "Series",
    "Parallel",
    "SPNode",
    "NotSeriesParallel",
    "series_parallel",
]

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
                    cyc = path[path.index(nxt) :] + [nxt]
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
    waiting = {
        sid: len([d for d in dict.fromkeys(deps) if d in after]) for sid, deps in after.items()
    }
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


# --- series-parallel decomposition ----------------------------------------------------------


@dataclass(frozen=True)
class Series:
    """Parts that run one after another, each waiting for the whole of the one before."""

    parts: tuple[SPNode, ...]


@dataclass(frozen=True)
class Parallel:
    """Parts that run at the same time, none waiting for another."""

    parts: tuple[SPNode, ...]


SPNode = str | Series | Parallel


class NotSeriesParallel(ValueError):
    """The steps' order cannot be written as sequences and parallel branches."""

    def __init__(self, steps: list[str]) -> None:
        super().__init__(", ".join(steps))
        self.steps = steps


def series_parallel(after: After) -> SPNode | None:
    """The order of `after` (its reachability, as a partial order) as nested series and
    parallel parts, ids in step order; None for no steps.

    Raises NotSeriesParallel naming the smallest group of steps found whose order has no
    such form (an "N": a before c, b before c and d, but a not before d).
    """
    ids = list(after)
    if not ids:
        return None
    index = {sid: i for i, sid in enumerate(ids)}
    order, left = topological_order(after)
    if left:
        raise NotSeriesParallel(left)
    below = [0] * len(ids)  # bit j set: step j comes (transitively) before step i
    for sid in order:
        i = index[sid]
        for dep in after[sid]:
            j = index.get(dep)
            if j is not None and j != i:
                below[i] |= below[j] | (1 << j)
    return _decompose([index[s] for s in order], below, ids)


def _decompose(nodes: list[int], below: list[int], ids: list[str]) -> SPNode:
    """`nodes` in a topological order."""
    if len(nodes) == 1:
        return ids[nodes[0]]
    groups = _components(nodes, below)
    if len(groups) > 1:
        groups.sort(key=min)
        return Parallel(tuple(_decompose(g, below, ids) for g in groups))
    parts: list[SPNode] = []
    rest = nodes
    while rest:
        cut = _series_cut(rest, below)
        if cut is None:
            if not parts:
                raise NotSeriesParallel(sorted((ids[v] for v in rest), key=ids.index))
            parts.append(_decompose(rest, below, ids))
            break
        parts.append(_decompose(rest[:cut], below, ids))
        rest = rest[cut:]
    return parts[0] if len(parts) == 1 else Series(tuple(parts))


def _series_cut(nodes: list[int], below: list[int]) -> int | None:
    """The smallest k < len(nodes) where every one of nodes[:k] comes before all the rest."""
    mask = 0
    for k in range(1, len(nodes)):
        mask |= 1 << nodes[k - 1]
        if all(below[v] & mask == mask for v in nodes[k:]):
            return k
    return None


def _components(nodes: list[int], below: list[int]) -> list[list[int]]:
    """Groups of `nodes` linked by order (comparable pairs), each in the given order."""
    members = set(nodes)
    parent = {v: v for v in nodes}

    def find(v: int) -> int:
        while parent[v] != v:
            parent[v] = parent[parent[v]]
            v = parent[v]
        return v

    for v in nodes:
        bits = below[v]
        for u in nodes:
            if u in members and bits >> u & 1:
                parent[find(u)] = find(v)
    out: dict[int, list[int]] = {}
    for v in nodes:
        out.setdefault(find(v), []).append(v)
    return list(out.values())
