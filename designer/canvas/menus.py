"""Context menus of the canvas: on a step, on an edge, on the trigger, and on empty canvas.

Each lists what applies there, with the keys that do the same. Menus are shown with popup()
(never exec(): a nested loop stalls the run controller's coroutines, STYLE.md) and kept on the
view as `view.menu` until the next one, so tests can read and trigger their actions.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Protocol

from PySide6.QtCore import QPointF, SignalInstance
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QMenu, QWidget

from designer.canvas.items import EdgeItem, NodeItem
from designer.canvas.style import NODE_H, NODE_W, kind_icon
from designer.document import WorkflowDocument
from designer.document.clipboard import STEPS_MIME
from engine import AnyStep, EmitStep, NotifyStep, WaitStep

__all__ = ["MenuHost", "canvas_menu", "edge_menu", "node_menu", "trigger_menu"]


class MenuHost(Protocol):
    """What the menus ask of the canvas view (the view imports this module, not the reverse)."""

    document: WorkflowDocument
    step_activated: SignalInstance
    trigger_activated: SignalInstance
    quick_add_requested: SignalInstance
    note_requested: SignalInstance
    # the window's actions a menu lists where they apply ('run_from', 'run_only'): they act on
    # the selection, which a right-click on a step has just set
    context_actions: dict[str, QAction]

    def selected_ids(self) -> list[str]: ...
    def select_steps(self, ids: list[str]) -> None: ...
    def select_all(self) -> None: ...
    def start_rename(self, step_id: str | None = None) -> object: ...
    def duplicate_selection(self) -> None: ...
    def cut_selection(self) -> None: ...
    def copy_selection(self) -> None: ...
    def delete_selection(self) -> None: ...
    def drop_step(self, step: AnyStep, center: tuple[float, float]) -> str: ...
    def paste_at(self, at: QPointF) -> None: ...
    def fit_to_view(self) -> None: ...
    def auto_layout(self) -> None: ...
    def request_quick_add(self) -> None: ...


def _add(
    menu: QMenu, text: str, slot: Callable[[], object], keys: str = "", enabled: bool = True
) -> QAction:
    action = menu.addAction(text)
    if keys:
        # shown beside the text only: the window's actions own the keys themselves
        action.setShortcut(QKeySequence(keys))
        action.setShortcutVisibleInContextMenu(True)
    action.setEnabled(enabled)
    action.triggered.connect(lambda _c=False: slot())
    return action


def node_menu(view: MenuHost, node: NodeItem) -> QMenu:
    """What can be done to the step(s) under the mouse (the selection, if it holds them)."""
    sid = node.step_id
    ids = view.selected_ids()
    many = len(ids) > 1
    menu = QMenu(_parent(view))
    _add(menu, "Rename…", lambda: view.start_rename(sid), "F2", enabled=not many)
    _add(menu, "Edit in Inspector", lambda: view.step_activated.emit(sid))
    menu.addSeparator()
    _add(menu, "Duplicate", view.duplicate_selection, "Ctrl+D")
    _add(menu, "Cut", view.cut_selection, "Ctrl+X")
    _add(menu, "Copy", view.copy_selection, "Ctrl+C")
    _add(menu, f"Delete {len(ids)} Steps" if many else "Delete", view.delete_selection, "Del")
    menu.addSeparator()
    _add_disable(menu, view, ids)
    _add(menu, "Quick Add After…", view.request_quick_add, "Tab", enabled=not many)
    runs = [a for k in ("run_from", "run_only") if (a := view.context_actions.get(k))]
    if runs:
        menu.addSeparator()
        menu.addActions(runs)  # the window's own: F6 / Shift+F6, enabled for one step
    step = view.document.workflow.step(sid)
    if step.after and not many:
        menu.addSeparator()
        _add(
            menu,
            "Disconnect Inputs",
            lambda: view.document.remove([], [(a, sid) for a in step.after]),
        )
    return menu


def edge_menu(view: MenuHost, edge: EdgeItem) -> QMenu:
    src, dst = edge.key
    menu = QMenu(_parent(view))
    _add(
        menu, f"Delete Edge {src} → {dst}", lambda: view.document.disconnect_steps(src, dst), "Del"
    )
    menu.addSeparator()
    _add(menu, f"Go to {src}", lambda: view.select_steps([src]))
    _add(menu, f"Go to {dst}", lambda: view.select_steps([dst]))
    cond = "Edit Condition" if view.document.workflow.step(dst).if_ else "Add Condition"
    _add(menu, f"{cond} of {dst}…", lambda: _inspect(view, dst))
    return menu


def trigger_menu(view: MenuHost) -> QMenu:
    menu = QMenu(_parent(view))
    _add(menu, "Emit Test Event…", view.trigger_activated.emit)
    _add(menu, "Edit Trigger in Inspector", lambda: _inspect_workflow(view))
    return menu


def canvas_menu(view: MenuHost, at: QPointF) -> QMenu:
    """Empty canvas: add a step here, paste here, select, fit, lay out."""
    menu = QMenu(_parent(view))
    centre = (at.x(), at.y())
    for kind in ("wait", "emit", "notify"):
        action = _add(menu, f"Add {kind.title()} Here", partial(_drop, view, kind, centre))
        action.setIcon(kind_icon(kind))
    mime = QGuiApplication.clipboard().mimeData()
    _add(
        menu,
        "Paste Here",
        lambda: view.paste_at(at),
        "Ctrl+V",
        enabled=mime is not None and mime.hasFormat(STEPS_MIME),
    )
    _add(menu, "Quick Add Here…", lambda: view.quick_add_requested.emit(at, "", True), "Tab")
    _add(menu, "Add Note Here", lambda: view.note_requested.emit(at), "Ctrl+Shift+M")
    menu.addSeparator()
    steps = bool(view.document.workflow.steps)
    _add(menu, "Select All", view.select_all, "Ctrl+A", enabled=steps)
    _add(menu, "Fit to Window", view.fit_to_view, "Ctrl+Shift+F")
    _add(menu, "Auto-Layout", view.auto_layout, "Ctrl+L", enabled=steps)
    return menu


def _add_disable(menu: QMenu, view: MenuHost, ids: list[str]) -> None:
    """Disable the steps, or enable them when all of them are disabled (as Ctrl+Shift+D)."""
    steps = [s for i in ids if (s := view.document.workflow.find(i)) is not None]
    disable = not all(s.disabled for s in steps)
    verb = "Disable" if disable else "Enable"
    text = f"{verb} {len(steps)} Steps" if len(steps) > 1 else f"{verb} Step"
    _add(menu, text, lambda: view.document.set_disabled(ids, disable), "Ctrl+Shift+D")


def _parent(view: MenuHost) -> QWidget | None:
    return view if isinstance(view, QWidget) else None


def _drop(view: MenuHost, kind: str, at: tuple[float, float]) -> None:
    step: AnyStep
    if kind == "wait":
        step = WaitStep(id="wait", wait=1000)
    elif kind == "emit":
        step = EmitStep(id="emit", event="event")
    else:
        step = NotifyStep(id="notify", message="message")
    view.select_steps([view.drop_step(step, at)])


def _inspect_workflow(view: MenuHost) -> None:
    """Nothing selected: the inspector shows the workflow's settings, the trigger among them."""
    view.select_steps([])
    view.step_activated.emit("")


def _inspect(view: MenuHost, sid: str) -> None:
    view.select_steps([sid])
    view.step_activated.emit(sid)


def menu_origin(node: NodeItem) -> QPointF:
    """Where a menu opened from the keyboard appears for a node: its centre."""
    return QPointF(node.x0 + NODE_W / 2, node.y0 + NODE_H / 2)
