"""How a run used an edge: the path taken stays drawn on the canvas after the run."""

from __future__ import annotations

__all__ = ["edge_flow"]

_RAN = frozenset({"succeeded", "failed"})
_REACHED = frozenset({"running", "retrying", "succeeded", "failed", "cancelled"})


def edge_flow(src_state: str | None, dst_state: str | None) -> str | None:
    """How a run used the edge src -> dst: "taken" (src finished and dst went on to run),
    "skipped" (dst was skipped), or None (no run shown, or the run has not got there)."""
    if dst_state == "skipped" and src_state is not None:
        return "skipped"
    if src_state in _RAN and dst_state in _REACHED:
        return "taken"
    return None
