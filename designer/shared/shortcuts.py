"""Shortcut clashes: find the keys two actions claim where both are active, and drop the clashing
alternates a platform's standard key bindings bring.

Qt does not fire either action of a key two active actions hold ("Ambiguous shortcut overload").
Standard keys differ by platform: on X11 `QKeySequence.Delete` also holds Ctrl+D, so Delete took
Duplicate's key there and neither ran, while offscreen (where the tests run) it holds only Del.
So the primary key of every action (the one its menu shows) is kept, and an alternate that another
action holds in an overlapping place is dropped; clashes of primary keys are bugs to fix by hand,
and `shortcut_clashes` lists them for a test.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QWidget

__all__ = ["Clash", "shortcut_clashes", "drop_clashing_alternates", "key_text"]

_Ctx = Qt.ShortcutContext
# (widget, its children too); None as the widget: anywhere in the application
_Place = tuple[QWidget | None, bool]


@dataclass(frozen=True)
class Clash:
    """Two actions active at once that hold the same key."""

    key: str
    first: str
    second: str

    def __str__(self) -> str:
        return f"{self.key}: '{self.first}' and '{self.second}'"


def key_text(key: QKeySequence) -> str:
    return key.toString(QKeySequence.SequenceFormat.PortableText)


def _places(action: QAction) -> list[_Place]:
    """Where the action's shortcut is live, from its context and the widgets it was added to."""
    context = action.shortcutContext()
    if context == _Ctx.ApplicationShortcut:
        return [(None, True)]
    widgets: list[QWidget] = [
        w for w in action.associatedObjects() if isinstance(w, QWidget) and not isinstance(w, QMenu)
    ]
    if context == _Ctx.WindowShortcut:
        return [(w.window(), True) for w in widgets]
    return [(w, context == _Ctx.WidgetWithChildrenShortcut) for w in widgets]


def _contains(outer: QWidget, inner: QWidget) -> bool:
    w: QWidget | None = inner
    while w is not None:
        if w is outer:
            return True
        w = w.parentWidget()
    return False


def _overlap(a: list[_Place], b: list[_Place]) -> bool:
    for wa, ca in a:
        for wb, cb in b:
            if wa is None or wb is None or wa is wb:
                return True
            if (ca and _contains(wa, wb)) or (cb and _contains(wb, wa)):
                return True
    return False


def _name(action: QAction) -> str:
    return action.text().replace("&", "") or action.objectName() or "an action"


def _with_keys(root: QObject) -> list[QAction]:
    return [a for a in root.findChildren(QAction) if a.shortcuts()]


def shortcut_clashes(root: QObject, actions: Iterable[QAction] | None = None) -> list[Clash]:
    """Every key that two of `root`'s actions (or `actions`) hold where both are live."""
    found = list(actions) if actions is not None else _with_keys(root)
    places = {id(a): _places(a) for a in found}
    out: list[Clash] = []
    for i, a in enumerate(found):
        keys_a = {key_text(k) for k in a.shortcuts()}
        for b in found[i + 1 :]:
            for key in sorted(keys_a & {key_text(k) for k in b.shortcuts()}):
                if _overlap(places[id(a)], places[id(b)]):
                    out.append(Clash(key, _name(a), _name(b)))
    return out


def drop_clashing_alternates(root: QObject) -> list[Clash]:
    """Drop each alternate key that another of `root`'s actions holds where both are live.

    Primary keys are claimed first, then alternates in the order the actions were made; what
    was dropped is returned (the first action named holds the key).
    """
    found = _with_keys(root)
    places = {id(a): _places(a) for a in found}
    claimed: dict[str, list[QAction]] = {}
    for a in found:
        claimed.setdefault(key_text(a.shortcuts()[0]), []).append(a)
    dropped: list[Clash] = []
    for a in found:
        keep = [a.shortcuts()[0]]
        for key in a.shortcuts()[1:]:
            text = key_text(key)
            holder = next(
                (
                    h
                    for h in claimed.get(text, [])
                    if h is not a and _overlap(places[id(h)], places[id(a)])
                ),
                None,
            )
            if holder is not None:
                dropped.append(Clash(text, _name(holder), _name(a)))
                continue
            claimed.setdefault(text, []).append(a)
            keep.append(key)
        if len(keep) != len(a.shortcuts()):
            a.setShortcuts(keep)
    return dropped
