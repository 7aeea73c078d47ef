"""What every part of the designer's UI shares: the theme (palettes, style sheets, icons) and
the priming of PySide's enum types. Imports nothing else of the designer."""

from __future__ import annotations
