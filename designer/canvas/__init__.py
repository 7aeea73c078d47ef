"""The node canvas: CanvasScene (document -> items), CanvasView (zoom, pan, editing intent)."""

from __future__ import annotations

from designer.canvas.items import EdgeItem, NodeItem, PortItem
from designer.canvas.scene import CanvasScene
from designer.canvas.style import kind_icon
from designer.canvas.view import CanvasView

__all__ = ["CanvasScene", "CanvasView", "EdgeItem", "NodeItem", "PortItem", "kind_icon"]
