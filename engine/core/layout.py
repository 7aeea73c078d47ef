"""Layered left-to-right auto-layout for the canvas: pure Python, no Qt.

Sugiyama in three steps: longest-path layering (a step sits one column right of its furthest
`after`), crossing reduction by barycentre sweeps over layers padded with dummy nodes for long
edges (the best ordering seen is kept, measured by counting crossings), then vertical placement
that pulls each node towards the mean height of its neighbours while keeping the order and a
minimum gap. Positions are node top-left corners in scene units.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable

from engine.core.model import Workflow

__all__ = ["layered_layout", "layered_positions", "COLUMN_GAP", "ROW_GAP"]

COLUMN_GAP = 240.0  # x distance between layers: a node is 180 wide, edges need room
ROW_GAP = 100.0  # y distance between nodes of a layer: a node is 64 high
_SWEEPS = 8
# Dummy nodes keep long edges from crossing through layers; a file whose edges jump far back
# could need millions of them, so past this budget long edges are ordered without them.
_DUMMY_BUDGET_FACTOR = 6


def layered_layout(workflow: Workflow) -> dict[str, tuple[float, float]]:
    """Positions for every step of `workflow`, laid out in layers from left to right."""
    ids = workflow.ids
    return layered_positions(ids, {s.id: s.after for s in workflow.steps})


def layered_positions(
    ids: list[str], after: dict[str, Iterable[str]]
) -> dict[str, tuple[float, float]]:
    """Lay out nodes `ids` whose predecessors are `after[id]` (unknown ids are ignored)."""
    if not ids:
        return {}
    index = {v: i for i, v in enumerate(ids)}
    preds: list[list[int]] = [[] for _ in ids]
    for v in ids:
        seen: set[int] = set()
        for p in after.get(v, ()):
            j = index.get(p)
            if j is not None and j != index[v] and j not in seen:
                seen.add(j)
                preds[index[v]].append(j)
    preds = _drop_cycle_edges(preds)
    layer = _longest_path_layers(preds)
    order = _order_layers(len(ids), preds, layer)
    ys = _place_vertically(order, preds)
    return {ids[v]: (layer[v] * COLUMN_GAP, ys[v]) for v in range(len(ids))}


def _drop_cycle_edges(preds: list[list[int]]) -> list[list[int]]:
    """Remove back edges (an invalid file may have a cycle) so the graph is a DAG."""
    n = len(preds)
    state = [0] * n  # 0 new, 1 on stack, 2 done
    out: list[list[int]] = [[] for _ in range(n)]
    for root in range(n):
        if state[root]:
            continue
        stack: list[tuple[int, int]] = [(root, 0)]
        state[root] = 1
        while stack:
            v, k = stack[-1]
            if k < len(preds[v]):
                stack[-1] = (v, k + 1)
                p = preds[v][k]
                if state[p] == 1:
                    continue  # back edge: the cycle is broken here
                out[v].append(p)
                if state[p] == 0:
                    state[p] = 1
                    stack.append((p, 0))
            else:
                state[v] = 2
                stack.pop()
    return out


def _longest_path_layers(preds: list[list[int]]) -> list[int]:
    n = len(preds)
    layer = [-1] * n
    for root in range(n):
        if layer[root] >= 0:
            continue
        stack = [root]
        while stack:
            v = stack[-1]
            pending = [p for p in preds[v] if layer[p] < 0]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            if layer[v] < 0:
                layer[v] = max((layer[p] + 1 for p in preds[v]), default=0)
    return layer


def _order_layers(n: int, preds: list[list[int]], layer: list[int]) -> list[list[int]]:
    """Order each layer's nodes (dummies included) to reduce crossings; returns real ids only."""
    up: list[list[int]] = [list(ps) for ps in preds]  # neighbours one layer to the left
    lay = list(layer)
    budget = _DUMMY_BUDGET_FACTOR * n + 1000
    for v in range(n):
        for k, p in enumerate(preds[v]):
            span = layer[v] - layer[p]
            if span <= 1 or span - 1 > budget:
                continue
            budget -= span - 1
            prev = p
            for lv in range(layer[p] + 1, layer[v]):
                d = len(lay)
                lay.append(lv)
                up.append([prev])
                prev = d
            up[v][k] = prev
    total = len(lay)
    down: list[list[int]] = [[] for _ in range(total)]
    for v in range(total):
        # long edges left without dummies link non-adjacent layers; ordering ignores them
        up[v] = [p for p in up[v] if lay[p] == lay[v] - 1]
        for p in up[v]:
            down[p].append(v)
    layers: list[list[int]] = [[] for _ in range(max(lay) + 1)]
    for v in _first_seen_order(total, up, down):
        layers[lay[v]].append(v)
    pos = [0.0] * total
    for row in layers:
        for i, v in enumerate(row):
            pos[v] = i
    best = [list(r) for r in layers]
    best_cross = _crossings(layers, up, pos)
    for sweep in range(_SWEEPS):
        if best_cross == 0:
            break
        downward = sweep % 2 == 0
        rng = range(1, len(layers)) if downward else range(len(layers) - 2, -1, -1)
        for li in rng:
            nbrs = up if downward else down
            row = layers[li]
            keyed = []
            for i, v in enumerate(row):
                ns = nbrs[v]
                bary = sum(pos[u] for u in ns) / len(ns) if ns else pos[v]
                keyed.append((bary, i, v))
            keyed.sort()
            layers[li] = [v for _, _, v in keyed]
            for i, v in enumerate(layers[li]):
                pos[v] = i
        c = _crossings(layers, up, pos)
        if c < best_cross:
            best_cross = c
            best = [list(r) for r in layers]
    return [[v for v in row if v < n] for row in best] if best else []


def _first_seen_order(total: int, up: list[list[int]], down: list[list[int]]) -> list[int]:
    """Depth-first order from the sources, so that chains start out next to each other."""
    seen = [False] * total
    out: list[int] = []
    for root in range(total):
        if seen[root] or up[root]:
            continue
        stack = [root]
        while stack:
            v = stack.pop()
            if seen[v]:
                continue
            seen[v] = True
            out.append(v)
            stack.extend(reversed(down[v]))
    out.extend(v for v in range(total) if not seen[v])
    return out


def _crossings(layers: list[list[int]], up: list[list[int]], pos: list[float]) -> int:
    """Edge crossings between adjacent layers (inversion count of the edge endpoints)."""
    total = 0
    for row in layers[1:]:
        pairs = sorted((pos[p], pos[v]) for v in row for p in up[v])
        seen: list[float] = []
        for _, b in pairs:
            # edges already seen whose lower end is right of b cross this one
            total += len(seen) - bisect_left(seen, b + 0.5)
            insort(seen, b)
    return total


def _place_vertically(order: list[list[int]], preds: list[list[int]]) -> dict[int, float]:
    """y per node: rows centred, then pulled towards their neighbours' mean, order kept."""
    ys: dict[int, float] = {}
    for row in order:
        k = len(row)
        for i, v in enumerate(row):
            ys[v] = (i - (k - 1) / 2) * ROW_GAP
    succs: dict[int, list[int]] = {}
    for v, ps in enumerate(preds):
        for p in ps:
            succs.setdefault(p, []).append(v)
    for sweep in range(4):
        rows = order if sweep % 2 == 0 else list(reversed(order))
        for row in rows:
            want = []
            for v in row:
                ns = preds[v] if sweep % 2 == 0 else succs.get(v, [])
                want.append(sum(ys[u] for u in ns) / len(ns) if ns else ys[v])
            placed = _pack(want)
            for v, y in zip(row, placed, strict=True):
                ys[v] = y
    return ys


def _pack(want: list[float]) -> list[float]:
    """Keep order and ROW_GAP spacing, staying as close as possible to the wanted heights."""
    if not want:
        return []
    out = list(want)
    for i in range(1, len(out)):
        out[i] = max(out[i], out[i - 1] + ROW_GAP)
    # the push went one way only; shift the block back so its mean matches the wish
    shift = (sum(want) - sum(out)) / len(out)
    # snapped to a 10-unit grid; snapping each on its own could bring two closer than ROW_GAP
    # (5.0001 up, 104.9999 down), so the gap is enforced again on the snapped values
    snapped: list[float] = []
    for y in out:
        s = round((y + shift) / 10.0) * 10.0
        snapped.append(max(s, snapped[-1] + ROW_GAP) if snapped else s)
    return snapped
