"""CanvasView: zoom, pan, selection, port-to-port connecting and palette drops (clipboard edits
in clipboard_edit.py).

The view turns what the mouse and keyboard mean into document calls (connect_steps, move_steps,
remove, paste, add_step); the scene then follows the model's signals. A node drag moves
items freely and becomes one `move_steps` command on release.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QContextMenuEvent,
    QCursor,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QWheelEvent,
)
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsView, QMenu, QWidget

from designer.canvas import menus, style
from designer.canvas.arrange import snap
from designer.canvas.clipboard_edit import ClipboardEditing
from designer.canvas.items import EdgeItem, NodeItem, PortItem
from designer.canvas.rename import InlineRename
from designer.canvas.scene import CanvasScene
from designer.canvas.style import NODE_H, NODE_W, OVERVIEW_SCALE
from designer.document import WorkflowDocument
from designer.document.clipboard import STEP_MIME, step_from_palette
from designer.shared import qtprime

__all__ = ["CanvasView"]

_MIN_SCALE = 0.02
_MAX_SCALE = 4.0
_KEY_ZOOM = 1.25
_PASTE_STEP = 40.0
_NUDGE = {  # arrow key -> a grid step that way (Shift: one unit)
    Qt.Key.Key_Left: (-1, 0),
    Qt.Key.Key_Right: (1, 0),
    Qt.Key.Key_Up: (0, -1),
    Qt.Key.Key_Down: (0, 1),
}


class CanvasView(ClipboardEditing, QGraphicsView):
    """The node canvas for one document."""

    selection_changed = Signal(list)  # selected step ids, in list order
    message = Signal(str)  # why something the user tried was refused
    step_activated = Signal(str)  # double-clicked step id
    zoom_changed = Signal(float)  # the new scale (1.0 = 100 %)
    # quick add (Tab, or a wire dropped on empty canvas): where, the step to connect ('' for
    # none), and whether the new step runs after it (a wire from an output, or Tab)
    quick_add_requested = Signal(QPointF, str, bool)
    trigger_activated = Signal()  # the trigger node was double-clicked: emit a test event
    note_requested = Signal(QPointF)  # the empty canvas's menu: a note here (the window adds it)

    def __init__(self, document: WorkflowDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.canvas = CanvasScene(document, self)
        self.setScene(self.canvas)
        qtprime.prime_first_paint(self)
        self.canvas.selection_ids_changed.connect(self.selection_changed)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.ItemSelectionMode.IntersectsItemShape)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        # items pad their bounding rects for antialiasing, so the view need not
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.MinimalViewportUpdate)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._connect_from: PortItem | None = None
        self._temp_edge: QGraphicsPathItem | None = None
        self._preview: str | None = None  # the node the connection drag is over
        self._press_positions: dict[str, QPointF] = {}
        self._pan_last: QPointF | None = None
        self._space_down = False
        self._paste_count = 0
        self.rename_editor: InlineRename | None = None
        self.menu: QMenu | None = None  # the last context menu shown
        # the window's actions the step menu lists (menus.py: 'run_from', 'run_only')
        self.context_actions: dict[str, QAction] = {}
        self.snap_to_grid = False  # dragged steps land on the grid (View → Snap to Grid)

    # --- selection ------------------------------------------------------------------------

    def selected_ids(self) -> list[str]:
        return self.canvas.selected_step_ids()

    def select_steps(self, ids: list[str]) -> None:
        wanted = set(ids)
        blocked = self.canvas.blockSignals(True)
        self.canvas.clearSelection()
        for sid in ids:
            node = self.canvas.nodes.get(sid)
            if node is not None:
                node.setSelected(True)
        self.canvas.blockSignals(blocked)
        self.selection_changed.emit([s for s in self.document.workflow.ids if s in wanted])
        first = self.canvas.nodes.get(ids[0]) if ids else None
        if first is not None:
            self.ensureVisible(first, 40, 40)

    def select_all(self) -> None:
        self.select_steps(self.document.workflow.ids)

    # --- zoom -----------------------------------------------------------------------------

    def scale_factor(self) -> float:
        return self.transform().m11()

    def zoom_by(self, factor: float) -> None:
        current = self.scale_factor()
        target = min(_MAX_SCALE, max(_MIN_SCALE, current * factor))
        if target != current:
            self.scale(target / current, target / current)
            self.sync_detail()
            self.zoom_changed.emit(target)

    def sync_detail(self) -> None:
        """Switch the scene between item-by-item painting and the batched overview."""
        self.canvas.set_overview_mode(self.scale_factor() < OVERVIEW_SCALE)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        # zoom changes made through QGraphicsView directly (fitInView, setTransform) land here
        self.sync_detail()
        super().paintEvent(event)

    def zoom_in(self) -> None:
        self._zoom_centered(_KEY_ZOOM)

    def zoom_out(self) -> None:
        self._zoom_centered(1 / _KEY_ZOOM)

    def reset_zoom(self) -> None:
        self._zoom_centered(1.0 / self.scale_factor())

    def _zoom_centered(self, factor: float) -> None:
        anchor = self.transformationAnchor()
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.zoom_by(factor)
        self.setTransformationAnchor(anchor)

    def fit_to_view(self) -> None:
        r = self.canvas.content_bounds()
        if r.isNull():
            self.resetTransform()
            self.zoom_changed.emit(1.0)
            return
        self.fitInView(r.adjusted(-40, -40, 40, 40), Qt.AspectRatioMode.KeepAspectRatio)
        self.sync_detail()
        if self.scale_factor() > 1.0:  # a few steps should not be blown up
            self.reset_zoom()
            self.centerOn(r.center())
        elif self.scale_factor() < _MIN_SCALE:
            self.zoom_by(_MIN_SCALE / self.scale_factor())
            self.centerOn(r.center())
        self.zoom_changed.emit(self.scale_factor())

    def auto_layout(self) -> None:
        """Arrange the steps left to right (one undo step), then show them all."""
        self.document.auto_layout()
        self.fit_to_view()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt override
        delta = event.angleDelta().y()
        if delta == 0:
            super().wheelEvent(event)
            return
        # anchor on the event's position: Qt's AnchorUnderMouse reads the global cursor,
        # which touchpads and synthetic events do not always move
        at = event.position().toPoint()
        fixed = self.mapToScene(at)
        anchor = self.transformationAnchor()
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.zoom_by(1.0015**delta)
        self.setTransformationAnchor(anchor)
        drift = self.mapFromScene(fixed) - at
        h, v = self.horizontalScrollBar(), self.verticalScrollBar()
        h.setValue(h.value() + drift.x())
        v.setValue(v.value() + drift.y())
        event.accept()

    # --- editing --------------------------------------------------------------------------

    def delete_selection(self) -> None:
        self.document.remove(
            self.canvas.selected_step_ids(),
            self.canvas.selected_edges(),
            notes=self.selected_note_indices(),
        )

    def nudge(self, dx: float, dy: float) -> None:
        """Move the selected steps by (dx, dy) scene units: one undo step per press."""
        ids = self.canvas.selected_step_ids()
        doc = self.document
        moves = {}
        for sid in ids:
            x, y = doc.position(sid)
            moves[sid] = ((x, y), (x + dx, y + dy))
        if moves:
            doc.move_steps(moves)

    def start_rename(self, step_id: str | None = None) -> InlineRename | None:
        """Edit the id of `step_id` (default: the one selected step) over its node."""
        if step_id is None:
            ids = self.canvas.selected_step_ids()
            if len(ids) != 1:
                self.message.emit("Select one step to rename it.")
                return None
            step_id = ids[0]
        node = self.canvas.nodes.get(step_id)
        if node is None:
            return None
        if self.rename_editor is not None:
            self.rename_editor.cancel()
        self.ensureVisible(node, 40, 40)
        self.rename_editor = InlineRename(self, step_id, (node.x0, node.y0))
        return self.rename_editor

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:  # noqa: N802 - Qt override
        at = event.pos()
        ids = self.canvas.selected_step_ids()
        if event.reason() == QContextMenuEvent.Reason.Keyboard and ids:
            # the menu key or Shift+F10: the menu of the selected step, shown over it
            at = self.mapFromScene(menus.menu_origin(self.canvas.nodes[ids[0]]))
        node = self.node_at(at)
        edge = next((i for i in self.items(at) if isinstance(i, EdgeItem)), None)
        if node is not None:
            if not node.isSelected():
                self.select_steps([node.step_id])
            menu = menus.node_menu(self, node)
        elif edge is not None:
            self.canvas.clearSelection()
            edge.setSelected(True)
            menu = menus.edge_menu(self, edge)
        elif self.canvas.trigger in self.items(at):
            menu = menus.trigger_menu(self)
        else:
            menu = menus.canvas_menu(self, self.mapToScene(at))
        if self.menu is not None:
            self.menu.deleteLater()
        self.menu = menu
        menu.popup(self.viewport().mapToGlobal(at))
        event.accept()

    def set_dark(self, on: bool) -> None:
        """Follow the application's dark or light theme."""
        self.canvas.set_dark(on)

    # --- run states -----------------------------------------------------------------------

    def set_step_states(self, states: dict[str, str | None]) -> None:
        self.canvas.set_step_states(states)

    def clear_step_states(self) -> None:
        self.canvas.clear_step_states()

    # --- mouse ----------------------------------------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        button = event.button()
        if button == Qt.MouseButton.MiddleButton or (
            button == Qt.MouseButton.LeftButton and self._space_down
        ):
            self._pan_last = event.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        if button == Qt.MouseButton.LeftButton:
            port = self.port_at(event.position().toPoint())
            if port is not None:
                self._start_connect(port)
                event.accept()
                return
        super().mousePressEvent(event)
        if button == Qt.MouseButton.LeftButton:
            self._press_positions = {
                i.step_id: i.pos() for i in self.canvas.selectedItems() if isinstance(i, NodeItem)
            }

    def node_at(self, at: QPoint) -> NodeItem | None:
        """The node under a viewport point (edges and the connection preview are skipped)."""
        for item in self.items(at):
            if isinstance(item, NodeItem):
                return item
        return None

    def port_at(self, at: QPoint) -> PortItem | None:
        node = self.node_at(at)
        if node is None:
            # a port circle pokes out of its node: look a few pixels inwards as well
            for dx in (-8, 8):
                node = self.node_at(at + QPoint(dx, 0))
                if node is not None:
                    break
        return node.port_at(self.mapToScene(at)) if node is not None else None

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if self._pan_last is not None:
            d = event.position() - self._pan_last
            self._pan_last = event.position()
            h, v = self.horizontalScrollBar(), self.verticalScrollBar()
            h.setValue(h.value() - round(d.x()))
            v.setValue(v.value() - round(d.y()))
            event.accept()
            return
        if self._connect_from is not None and self._temp_edge is not None:
            at = event.position().toPoint()
            self._update_temp_edge(self.mapToScene(at))
            self._preview_target(self.node_at(at))
            event.accept()
            return
        super().mouseMoveEvent(event)
        if self._press_positions and event.buttons() & Qt.MouseButton.LeftButton:
            # the scene moved the selected nodes; their edges follow (items never reach the
            # model: the drag becomes one command on release)
            dragged = []
            for sid in self._press_positions:
                node = self.canvas.nodes.get(sid)
                if node is not None:
                    node.moved()
                    dragged.append(node)
            self.canvas.trigger.follow(dragged)
            self.canvas.output_end.follow(dragged)
            self.canvas.invalidate_overview()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        if self._pan_last is not None:
            self._pan_last = None
            self.viewport().setCursor(
                Qt.CursorShape.OpenHandCursor if self._space_down else Qt.CursorShape.ArrowCursor
            )
            event.accept()
            return
        if self._connect_from is not None:
            self._finish_connect(event.position().toPoint())
            event.accept()
            return
        super().mouseReleaseEvent(event)
        if event.button() == Qt.MouseButton.LeftButton and self._press_positions:
            self._commit_drag()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt override
        node = self.node_at(event.position().toPoint())
        if node is not None:
            self.step_activated.emit(node.step_id)
            event.accept()
            return
        if self.canvas.trigger in self.items(event.position().toPoint()):
            self.trigger_activated.emit()
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def _commit_drag(self) -> None:
        moves = {}
        for sid, old in self._press_positions.items():
            node = self.canvas.nodes.get(sid)
            if node is None or node.pos() == old:
                continue
            # whole scene units keep the saved layout readable
            new = (round(node.pos().x()), round(node.pos().y()))
            if self.snap_to_grid:
                new = snap(new)
            moves[sid] = ((old.x(), old.y()), new)
        self._press_positions = {}
        if moves:
            self.document.move_steps(moves)

    def _start_connect(self, port: PortItem) -> None:
        self._connect_from = port
        self._preview = None
        self._temp_edge = QGraphicsPathItem()
        pen = QPen(style.EDGE_SELECTED, 2.0, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        self._temp_edge.setPen(pen)
        self._temp_edge.setZValue(10)
        self.canvas.addItem(self._temp_edge)
        self._update_temp_edge(port.scene_center())

    def _update_temp_edge(self, at: QPointF) -> None:
        assert self._connect_from is not None and self._temp_edge is not None
        p = self._connect_from.scene_center()
        a, b = (p, at) if self._connect_from.output else (at, p)
        self._temp_edge.setPath(style.cubic_edge_path(a.x(), a.y(), b.x(), b.y()))

    def _preview_target(self, node: NodeItem | None) -> None:
        """Colour the dragged edge red over a node it may not connect to, and say why."""
        start = self._connect_from
        target = node.step_id if node is not None and start is not None else None
        if target == self._preview or self._temp_edge is None or start is None:
            return
        self._preview = target
        reason = None
        if target is not None and target != start.node.step_id:
            src, dst = (
                (start.node.step_id, target) if start.output else (target, start.node.step_id)
            )
            reason = self.document.can_connect(src, dst)
        pen = self._temp_edge.pen()
        pen.setColor(style.PROBLEM if reason else style.EDGE_SELECTED)
        self._temp_edge.setPen(pen)
        self._temp_edge.setToolTip(reason or "")

    def _finish_connect(self, at: QPoint) -> None:
        start = self._connect_from
        assert start is not None
        if self._temp_edge is not None:
            self.canvas.removeItem(self._temp_edge)
        self._temp_edge = None
        self._connect_from = None
        target = self.node_at(at)
        if target is None:
            port = self.port_at(at)
            target = port.node if port is not None else None
        if target is None:  # dropped on empty canvas: pick a step to put there
            at_scene = self.mapToScene(at)
            self.quick_add_requested.emit(at_scene, start.node.step_id, start.output)
            return
        if target is start.node:
            return  # dropped back on its own node: nothing meant
        src, dst = (start.node, target) if start.output else (target, start.node)
        reason = self.document.connect_steps(src.step_id, dst.step_id)
        if reason is not None:
            self.message.emit(reason)

    def cancel_connect(self) -> None:
        if self._temp_edge is not None:
            self.canvas.removeItem(self._temp_edge)
        self._temp_edge = None
        self._connect_from = None

    # --- keyboard -------------------------------------------------------------------------

    def editing_text(self) -> bool:
        """Whether an item takes the keys as text (a note being edited): the canvas's own keys
        (Delete, Tab, Ctrl+A…) leave them to it."""
        canvas = getattr(self, "canvas", None)  # events come while __init__ builds the view
        item = canvas.focusItem() if canvas is not None else None
        return (
            item is not None
            and bool(item.flags() & item.GraphicsItemFlag.ItemIsFocusable)
            and bool(getattr(item, "textInteractionFlags", lambda: 0)())
        )

    def event(self, event: QEvent) -> bool:
        # Tab is focus navigation before keyPressEvent sees it: here it opens quick add
        if (
            not self.editing_text()
            and isinstance(event, QKeyEvent)
            and event.type() == QEvent.Type.KeyPress
            and event.key() == Qt.Key.Key_Tab
            and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        ):
            self.request_quick_add()
            return True
        return super().event(event)

    def request_quick_add(self) -> None:
        """Quick add after the one selected step (to its right), or else at the mouse (or the
        view's centre when the mouse is elsewhere)."""
        ids = self.selected_ids()
        node = self.canvas.nodes.get(ids[0]) if len(ids) == 1 else None
        if node is not None:
            at = node.pos() + QPointF(NODE_W * 1.5 + 80, NODE_H / 2)
            self.quick_add_requested.emit(at, node.step_id, True)
            return
        mouse = self.viewport().mapFromGlobal(QCursor.pos())
        if not self.viewport().rect().contains(mouse):
            mouse = self.viewport().rect().center()
        self.quick_add_requested.emit(self.mapToScene(mouse), "", True)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if self.editing_text():
            super().keyPressEvent(event)  # to the note being edited
            return
        key, mods = event.key(), event.modifiers()
        ctrl = bool(mods & Qt.KeyboardModifier.ControlModifier)
        std = QKeySequence.StandardKey
        if key == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_down = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
        elif key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.delete_selection()
        elif key == Qt.Key.Key_Escape:
            if self._connect_from is not None:
                self.cancel_connect()
            else:
                self.canvas.clearSelection()
        elif event.matches(std.ZoomIn) or (ctrl and key in (Qt.Key.Key_Equal, Qt.Key.Key_Plus)):
            self.zoom_in()
        elif event.matches(std.ZoomOut) or (ctrl and key == Qt.Key.Key_Minus):
            self.zoom_out()
        elif ctrl and key == Qt.Key.Key_0:
            self.reset_zoom()
        elif ctrl and key == Qt.Key.Key_D and not mods & Qt.KeyboardModifier.ShiftModifier:
            self.duplicate_selection()  # Ctrl+Shift+D is Disable, not a second Duplicate
        elif key in _NUDGE and not ctrl:
            dx, dy = _NUDGE[key]
            step = 1.0 if mods & Qt.KeyboardModifier.ShiftModifier else style.GRID
            self.nudge(dx * step, dy * step)
        elif key == Qt.Key.Key_F2:
            self.start_rename()
        elif event.matches(std.Copy):
            self.copy_selection()
        elif event.matches(std.Cut):
            self.cut_selection()
        elif event.matches(std.Paste):
            self.paste()
        elif event.matches(std.SelectAll):
            self.select_all()
        elif event.matches(std.Undo):
            # a main window's Undo action takes the shortcut first; this serves a bare canvas
            self.document.undo_stack.undo()
        elif event.matches(std.Redo):
            self.document.undo_stack.redo()
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def keyReleaseEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space_down = False
            if self._pan_last is None:
                self.viewport().setCursor(Qt.CursorShape.ArrowCursor)
            event.accept()
            return
        super().keyReleaseEvent(event)

    # --- palette drops --------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if event.mimeData().hasFormat(STEP_MIME):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # noqa: N802 - Qt override
        if event.mimeData().hasFormat(STEP_MIME):
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        if not event.mimeData().hasFormat(STEP_MIME):
            super().dropEvent(event)
            return
        try:
            step = step_from_palette(bytes(event.mimeData().data(STEP_MIME).data()))
        except ValueError as e:
            self.message.emit(f"Cannot add the dropped step: {e}")
            event.ignore()
            return
        at = self.mapToScene(event.position().toPoint())
        sid = self.drop_step(step, (at.x(), at.y()))
        self.select_steps([sid])
        event.acceptProposedAction()

    def drop_step(self, step: object, center: tuple[float, float]) -> str:
        """Add `step` centred on a scene point (palette drop or click-to-add), or in the free
        spot nearest it when steps are there."""
        pos = self._free_offset(
            [(0.0, 0.0)], (round(center[0] - NODE_W / 2), round(center[1] - NODE_H / 2))
        )
        return self.document.add_step(step, pos)  # type: ignore[arg-type]
