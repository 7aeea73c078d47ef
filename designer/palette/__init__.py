"""The palette dock: the services and step kinds to drag onto the canvas."""

from __future__ import annotations

from designer.palette.dock import PaletteWidget

__all__ = ["PaletteWidget"]
