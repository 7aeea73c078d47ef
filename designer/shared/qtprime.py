"""Make PySide6's lazily built Python enum types ahead of need, in small slices while idle.

PySide6 builds a Qt class's Python enum types on first use, and some first uses build dozens
at once: the first item paint made ~90 (30 ms), the first Run History row 5 (6 ms). Met in the
middle of a run or a drag, that is a stall the user feels (tests/bench/ui_bench.py caught both
in the first run). Touching each class's `__dict__` builds its enums (~250 ms for QtWidgets,
QtGui and QtCore); doing it a few classes per event-loop turn after the window opens costs
nobody anything.
"""

from __future__ import annotations

from collections.abc import Iterator

from PySide6 import QtCore, QtGui, QtWidgets
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QGraphicsView, QStyleOptionGraphicsItem

__all__ = ["prime_first_paint", "prime_in_background"]

_SLICE = 12  # classes per turn: ~5 ms
_started = False
_first_paint_primed = False


def prime_first_paint(view: QGraphicsView) -> None:
    """At once, what the first item paint would build: most of it comes the first time C++
    hands Python a widget, the rest with the first style option. For a canvas being built, so
    that its first frame (perhaps a run's, zoomed out, where no item paints until then) does
    not pay it."""
    global _first_paint_primed
    if not _first_paint_primed:
        _first_paint_primed = True
        view.viewport().parentWidget()
        QStyleOptionGraphicsItem()


def _classes() -> Iterator[type]:
    for module in (QtWidgets, QtGui, QtCore):
        for name in dir(module):
            obj = getattr(module, name, None)
            if isinstance(obj, type):
                yield obj


def prime_in_background() -> None:
    """Start building them, a slice per event-loop turn (once per process)."""
    global _started
    if _started:
        return
    _started = True
    classes = iter(list(_classes()))

    def step() -> None:
        for _ in range(_SLICE):
            cls = next(classes, None)
            if cls is None:
                return
            cls.__dict__  # noqa: B018
        QTimer.singleShot(0, step)

    QTimer.singleShot(0, step)
