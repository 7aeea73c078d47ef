"""Align, distribute and snap: new positions for selected steps, computed from their current
ones (pure functions; the view turns them into one `move_steps` undo step).

Positions are a node's top-left corner, as the layout stores them; every node is NODE_W wide
and NODE_H high, so centres and right edges follow from the corner.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from designer.canvas.style import GRID, NODE_H, NODE_W

if TYPE_CHECKING:
    from designer.document import WorkflowDocument

__all__ = ["ALIGNMENTS", "align", "distribute", "snap", "snap_all", "arrange_selection"]

Pos = tuple[float, float]

ALIGNMENTS = ("left", "hcenter", "right", "top", "vcenter", "bottom")


def align(positions: Mapping[str, Pos], how: str) -> dict[str, Pos]:
    """Line the steps up on the selection's left/right edge, top/bottom edge or centre line
    (`hcenter`: one vertical line through the centres; `vcenter`: one horizontal line)."""
    if how not in ALIGNMENTS:
        raise ValueError(f"align takes one of {', '.join(ALIGNMENTS)}, not {how!r}")
    if len(positions) < 2:
        return dict(positions)
    xs = [p[0] for p in positions.values()]
    ys = [p[1] for p in positions.values()]
    if how == "left":
        return {k: (min(xs), y) for k, (_x, y) in positions.items()}
    if how == "right":
        return {k: (max(xs), y) for k, (_x, y) in positions.items()}
    if how == "hcenter":
        mid = round((min(xs) + max(xs)) / 2)
        return {k: (mid, y) for k, (_x, y) in positions.items()}
    if how == "top":
        return {k: (x, min(ys)) for k, (x, _y) in positions.items()}
    if how == "bottom":
        return {k: (x, max(ys)) for k, (x, _y) in positions.items()}
    mid = round((min(ys) + max(ys)) / 2)
    return {k: (x, mid) for k, (x, _y) in positions.items()}


def distribute(positions: Mapping[str, Pos], axis: str) -> dict[str, Pos]:
    """Equal gaps between the steps along `axis` ('h' or 'v'), the two outermost kept where
    they are; three steps at least (two have one gap, nothing to even out)."""
    if axis not in ("h", "v"):
        raise ValueError(f"distribute takes 'h' or 'v', not {axis!r}")
    if len(positions) < 3:
        return dict(positions)
    i = 0 if axis == "h" else 1
    size = NODE_W if axis == "h" else NODE_H
    order = sorted(positions, key=lambda k: (positions[k][i], k))
    first, last = positions[order[0]][i], positions[order[-1]][i]
    # the space the nodes leave between the first one's start and the last one's end
    gap = (last + size - first - size * len(order)) / (len(order) - 1)
    out = {}
    for n, k in enumerate(order):
        at = round(first + n * (size + gap))
        x, y = positions[k]
        out[k] = (at, y) if axis == "h" else (x, at)
    return out


def snap(pos: Pos, grid: float = GRID) -> Pos:
    """The grid point nearest a corner."""
    return (round(pos[0] / grid) * grid, round(pos[1] / grid) * grid)


def snap_all(positions: Mapping[str, Pos], grid: float = GRID) -> dict[str, Pos]:
    return {k: snap(p, grid) for k, p in positions.items()}


def arrange_selection(
    doc: WorkflowDocument,
    ids: list[str],
    how: Callable[[Mapping[str, Pos]], dict[str, Pos]],
    text: str,
) -> str | None:
    """Move the steps `ids` where `how` puts them, as one undo step named `text`; why not
    when nothing moved (one step selected, or already in place)."""
    before = {sid: doc.position(sid) for sid in ids}
    after = how(before)
    moves = {sid: (before[sid], after[sid]) for sid in ids if after[sid] != before[sid]}
    if not moves:
        return f"{text}: nothing to move (select the steps to arrange first)"
    doc.move_steps(moves, f"{text} ({len(ids)} steps)")
    return None
