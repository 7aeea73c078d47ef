"""Where new steps go: the free spot nearest the one asked for, so that added, dropped, pasted
and duplicated steps never land on top of the steps already there.

Plain Python on node corners (top-left positions, NODE_W × NODE_H each); the view asks, the
document places.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from designer.canvas.style import GRID, NODE_H, NODE_W

__all__ = ["free_offset", "GAP"]

Pos = tuple[float, float]
GAP = GRID  # the least room between two nodes
_STEP_X = NODE_W / 2 + GAP / 2  # candidate spots: half a node apart either way
_STEP_Y = NODE_H / 2 + GAP / 2
_RINGS = 40  # how far to look before giving up and going past everything
_BIG_BLOCK = 200


class _Taken:
    """The corners of the nodes already on the canvas, bucketed by cell for quick look-ups."""

    def __init__(self, corners: Iterable[Pos]) -> None:
        self.cw, self.ch = NODE_W + GAP, NODE_H + GAP
        self.cells: dict[tuple[int, int], list[Pos]] = {}
        self.all: list[Pos] = []
        for x, y in corners:
            self.cells.setdefault((math.floor(x / self.cw), math.floor(y / self.ch)), []).append(
                (x, y)
            )
            self.all.append((x, y))

    def hits(self, x: float, y: float) -> bool:
        cx, cy = math.floor(x / self.cw), math.floor(y / self.ch)
        for i in (cx - 1, cx, cx + 1):
            for j in (cy - 1, cy, cy + 1):
                for ox, oy in self.cells.get((i, j), ()):
                    if abs(ox - x) < self.cw and abs(oy - y) < self.ch:
                        return True
        return False


def free_offset(block: list[Pos], taken: Iterable[Pos], wanted: Pos) -> Pos:
    """The offset nearest `wanted` at which every node of `block` (corners) is at least GAP
    away from every corner of `taken`; whole canvas units, on the grid when `wanted` is."""
    others = _Taken(taken)
    if not block or not others.all:
        return wanted
    if len(block) > _BIG_BLOCK:  # a search would cost seconds: past everything at once
        return _past_everything(block, others, wanted)
    spots = sorted(
        ((i, j) for i in range(-_RINGS, _RINGS + 1) for j in range(-_RINGS, _RINGS + 1)),
        key=lambda ij: (math.hypot(ij[0] * _STEP_X, ij[1] * _STEP_Y), -ij[0], -ij[1]),
    )
    for i, j in spots:
        dx, dy = wanted[0] + i * _STEP_X, wanted[1] + j * _STEP_Y
        if not any(others.hits(x + dx, y + dy) for x, y in block):
            return (round(dx), round(dy))
    return _past_everything(block, others, wanted)  # crowded all around


def _past_everything(block: list[Pos], others: _Taken, wanted: Pos) -> Pos:
    """Right of every node, level with what was asked."""
    right = max(x for x, _y in others.all) + NODE_W + GAP
    return (round(right - min(x for x, _y in block)), round(wanted[1]))
