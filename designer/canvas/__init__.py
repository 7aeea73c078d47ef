"""The node canvas: CanvasScene (model -> items), CanvasView (zoom, pan, editing intent), run
states drawn over it."""

from __future__ import annotations

from designer.canvas.items import EdgeItem, NodeItem, PortItem
from designer.canvas.run_overlay import RunStatesPresenter
from designer.canvas.scene import CanvasScene
from designer.canvas.style import kind_icon
from designer.canvas.view import CanvasView

__all__ = [
    "CanvasScene",
    "CanvasView",
    "EdgeItem",
    "NodeItem",
    "PortItem",
    "RunStatesPresenter",
    "kind_icon",
]
