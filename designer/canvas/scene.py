"""CanvasScene: a document's ObservableWorkflow as node and edge items, following its signals.

The scene reads the model and never writes it (orange-canvas-core's scene follows its scheme the
same way). Every model signal maps to the smallest item change (add one node, rebuild one step's
incoming edges, …); `reset` rebuilds everything. Problems come from the document's validation.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QLineF, QRectF, QTimer, Signal
from PySide6.QtGui import QPainter, QPen, QTransform
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene, QGraphicsSceneHelpEvent, QToolTip
from shiboken6 import isValid

from designer.canvas import style
from designer.canvas.ends import MAX_LINKS, EndItem
from designer.canvas.items import EdgeItem, NodeItem
from designer.canvas.logic import badges, edge_marks, roots_and_leaves, shorten
from designer.canvas.overview import Overview
from designer.canvas.style import GRID
from designer.document import WorkflowDocument

__all__ = ["CanvasScene"]

_SCENE_MARGIN = 2000.0  # room to scroll past the outermost nodes
_NO_CONTENTS = QGraphicsItem.GraphicsItemFlag.ItemHasNoContents


class CanvasScene(QGraphicsScene):
    """Node and edge items for one document; `nodes` by step id, `edges` by (src, dst)."""

    selection_ids_changed = Signal(list)

    def __init__(self, document: WorkflowDocument, parent: object | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.model = model = document.model
        self.nodes: dict[str, NodeItem] = {}
        self.edges: dict[tuple[str, str], EdgeItem] = {}
        self._states: dict[str, str | None] = {}
        self.trigger = EndItem(output=False)
        self.output_end = EndItem(output=True)
        self._marked: set[tuple[str, str]] = set()  # edges drawn with a mark now
        self._crossing_checks: list[EdgeItem] = []
        # steps whose badges may have changed since the last refresh (None: every step)
        self._badges_stale: set[str] | None = None
        self._overview = Overview()
        self.overview_mode = False
        self.setBackgroundBrush(style.BACKGROUND)
        self.grid_visible = True
        model.reset.connect(self.rebuild)
        model.step_added.connect(self._on_added)
        model.step_removed.connect(self._on_removed)
        model.step_changed.connect(self._on_changed)
        model.step_renamed.connect(self._on_renamed)
        model.step_moved.connect(self._on_moved)
        document.problems_changed.connect(self._on_problems)
        model.step_added.connect(self._stale)
        model.step_changed.connect(self._stale)
        model.step_renamed.connect(lambda _old, new: self._stale(new))
        model.workflow_changed.connect(lambda: self._stale(None))  # the defaults count
        model.changed.connect(self.refresh_logic)
        model.changed.connect(self.update_scene_rect)
        model.changed.connect(self.invalidate_overview)
        self.selectionChanged.connect(self._emit_selection)
        self.rebuild()

    # --- queries --------------------------------------------------------------------------

    def selected_step_ids(self) -> list[str]:
        """Selected steps in the workflow's list order."""
        chosen = {i.step_id for i in self.selectedItems() if isinstance(i, NodeItem)}
        return [sid for sid in self.model.workflow.ids if sid in chosen]

    def selected_edges(self) -> list[tuple[str, str]]:
        return [i.key for i in self.selectedItems() if isinstance(i, EdgeItem)]

    def _emit_selection(self) -> None:
        try:
            ids = self.selected_step_ids()
        except RuntimeError:
            return  # the scene is being destroyed and deselects its items on the way out
        self.invalidate_overview()
        self.selection_ids_changed.emit(ids)

    # --- overview (zoomed far out) --------------------------------------------------------

    def set_overview_mode(self, on: bool) -> None:
        """Draw nodes and edges batched (far out) or item by item (close enough to read)."""
        if on == self.overview_mode:
            return
        self.overview_mode = on
        for n in self.nodes.values():
            n.setFlag(_NO_CONTENTS, on)
            if not on:
                n.update()  # its cached picture may predate states set while far out
        for e in self.edges.values():
            e.setFlag(_NO_CONTENTS, on)
        self.invalidate_overview()

    def invalidate_overview(self) -> None:
        """Forget the batched geometry (something moved, changed or was (de)selected)."""
        if self.overview_mode:
            self._overview.invalidate()
            self.update()

    def step_bounds(self) -> QRectF:
        """The rectangle holding every node (empty when there are none)."""
        if not self.nodes:
            return QRectF()
        # from the recorded corners: asking each item for its scene rect costs microseconds
        xs = [n.x0 for n in self.nodes.values()]
        ys = [n.y0 for n in self.nodes.values()]
        pad = 10.0  # the outline, ports and badges reach past the body
        return QRectF(
            min(xs) - pad,
            min(ys) - pad,
            max(xs) - min(xs) + style.NODE_W + 2 * pad,
            max(ys) - min(ys) + style.NODE_H + 2 * pad,
        )

    def content_bounds(self) -> QRectF:
        """The steps and the trigger and output nodes beside them (what Fit shows)."""
        r = self.step_bounds()
        if r.isNull():
            return r
        return r.united(self.trigger.box).united(self.output_end.box).adjusted(-4, -4, 4, 4)

    # --- following the model ---------------------------------------------------------------

    def rebuild(self) -> None:
        blocked = self.blockSignals(True)
        self.clear()
        self.nodes.clear()
        self.edges.clear()
        model = self.model
        for step in model.workflow.steps:
            node = NodeItem(step)
            node.place(*model.position(step.id))
            node.state = self._states.get(step.id)
            if self.overview_mode:
                node.setFlag(_NO_CONTENTS, True)
            self.addItem(node)
            self.nodes[step.id] = node
        for step in model.workflow.steps:
            for a in step.after:
                self._add_edge(a, step.id)
        # scene.clear() deleted the ends with everything else
        self.trigger = EndItem(output=False)
        self.output_end = EndItem(output=True)
        self.addItem(self.trigger)
        self.addItem(self.output_end)
        self._marked.clear()
        self._badges_stale = None
        self.refresh_logic()
        self.blockSignals(blocked)
        self._overview.invalidate()
        self._on_problems()
        self.update_scene_rect()
        self.selection_ids_changed.emit([])

    def update_scene_rect(self) -> None:
        r = self.step_bounds()
        if r.isNull():
            r = QRectF(-400, -300, 800, 600)
        self.setSceneRect(r.adjusted(-_SCENE_MARGIN, -_SCENE_MARGIN, _SCENE_MARGIN, _SCENE_MARGIN))

    def _add_edge(self, src: str, dst: str) -> None:
        a, b = self.nodes.get(src), self.nodes.get(dst)
        if a is None or b is None or (src, dst) in self.edges:
            return  # an `after` naming a missing step is a problem, not an edge
        e = EdgeItem(a, b)
        if self.overview_mode:
            e.setFlag(_NO_CONTENTS, True)
        a.edges_out.append(e)
        b.edges_in.append(e)
        self.addItem(e)
        self.edges[(src, dst)] = e

    def _remove_edge(self, key: tuple[str, str]) -> None:
        e = self.edges.pop(key, None)
        if e is None:
            return
        if e in e.src.edges_out:
            e.src.edges_out.remove(e)
        if e in e.dst.edges_in:
            e.dst.edges_in.remove(e)
        self.removeItem(e)

    def _on_added(self, sid: str) -> None:
        model = self.model
        step = model.workflow.step(sid)
        node = NodeItem(step)
        node.place(*model.position(sid))
        node.setFlag(_NO_CONTENTS, self.overview_mode)
        self.addItem(node)
        self.nodes[sid] = node
        for a in step.after:
            self._add_edge(a, sid)
        for other in model.workflow.steps:
            if sid in other.after:
                self._add_edge(sid, other.id)

    def _on_removed(self, sid: str) -> None:
        node = self.nodes.pop(sid, None)
        if node is None:
            return
        for e in list(node.edges_in) + list(node.edges_out):
            self._remove_edge(e.key)
        self.removeItem(node)

    def _on_changed(self, sid: str) -> None:
        node = self.nodes.get(sid)
        if node is None:
            return
        step = self.model.workflow.step(sid)
        node.update_from(step)
        want = set(step.after)
        for e in list(node.edges_in):
            if e.src.step_id not in want:
                self._remove_edge(e.key)
        for a in step.after:
            self._add_edge(a, sid)

    def _on_renamed(self, old: str, new: str) -> None:
        node = self.nodes.pop(old, None)
        if node is None:
            return
        self.nodes[new] = node
        node.step_id = new
        for e in node.edges_in + node.edges_out:
            old_key = (
                e.src.step_id if e.src is not node else old,
                e.dst.step_id if e.dst is not node else old,
            )
            self.edges.pop(old_key, None)
            self.edges[e.key] = e
        node.update_from(self.model.workflow.step(new))
        if old in self._states:
            self._states[new] = self._states.pop(old)

    def _on_moved(self, sid: str) -> None:
        node = self.nodes.get(sid)
        if node is not None:
            x, y = self.model.position(sid)
            if (node.x0, node.y0) != (x, y):
                node.place(x, y)

    def check_crossing(self, edge: EdgeItem) -> None:
        """An edge painted without knowing whether it passes over a step: find out after
        this frame, for every such edge at once."""
        if not self._crossing_checks:
            QTimer.singleShot(0, self._settle_crossings)
        self._crossing_checks.append(edge)

    def _settle_crossings(self) -> None:
        edges, self._crossing_checks = self._crossing_checks, []
        for edge in edges:
            if isValid(edge):
                edge.settle_crossing()

    def _stale(self, sid: str | None) -> None:
        if sid is None:
            self._badges_stale = None
        elif self._badges_stale is not None:
            self._badges_stale.add(sid)

    def refresh_logic(self) -> None:
        """Edge marks, node badges and the trigger and output nodes after an edit. Marks come
        from the whole workflow (a step's `if`, its source's onError or the defaults change
        what an edge shows) but only edges with a mark, now or before, are touched; badges
        are redone for the steps the edit changed (all of them after a workflow-level edit):
        typing in a field of a 2,000-step workflow stays a few ms a key."""
        wf = self.model.workflow
        marks = edge_marks(wf)
        for key in self._marked | marks.keys():
            edge = self.edges.get(key)
            if edge is not None:
                edge.set_mark(marks.get(key))
        self._marked = set(marks)
        stale = self._badges_stale
        steps = wf.steps if stale is None else [s for s in wf.steps if s.id in stale]
        for step in steps:
            node = self.nodes.get(step.id)
            if node is not None:
                node.set_badges(badges(step, wf))
        self._badges_stale = set()
        self.refresh_ends()

    def refresh_ends(self) -> None:
        """Place the trigger and output nodes beside the steps (after steps moved)."""
        wf = self.model.workflow
        roots, leaves = roots_and_leaves(wf)
        every = list(self.nodes.values())
        events = list(wf.trigger)
        self.trigger.set_text(
            ", ".join(events) if events else "Run",
            "event · double-click to emit" if events else "no trigger: started by Run (F5)",
            (
                f"Starts when {' or '.join(events)} is emitted.\nDouble-click to emit a test event."
                if events
                else "No trigger: the workflow starts only when run (F5)."
            ),
        )
        if len(roots) > MAX_LINKS:
            self.trigger.tip += f"\n{len(roots)} steps start at once (too many to draw links)."
        self.trigger.refresh([self.nodes[r] for r in roots if r in self.nodes], every)
        out = wf.output
        if out is None:
            caption, tip = (
                "every step's output",
                "No output set: the run returns every step's output by id.",
            )
        elif isinstance(out, dict):
            caption = ", ".join(str(k) for k in out)
            tip = "The run's output:\n" + "\n".join(
                f"{k}: {shorten(str(v), 60)}" for k, v in out.items()
            )
        else:
            caption, tip = shorten(str(out)), f"The run's output: {out}"
        if len(leaves) > MAX_LINKS:
            tip += f"\nIt is handed back after {len(leaves)} last steps (too many to draw links)."
        self.output_end.set_text("output", caption, tip)
        self.output_end.refresh([self.nodes[x] for x in leaves if x in self.nodes], every)

    def _on_problems(self) -> None:
        by_step: dict[str, list[str]] = {}
        for p in self.document.problems:
            if p.step_id:
                by_step.setdefault(p.step_id, []).append(p.message)
        for sid, node in self.nodes.items():
            node.set_problems(by_step.get(sid, []))
        self.invalidate_overview()

    # --- run states -----------------------------------------------------------------------

    def set_step_states(self, states: dict[str, str | None]) -> None:
        self._states.update(states)
        far = self.overview_mode  # items paint nothing far out: the overview draws them
        changed = [
            node
            for sid, state in states.items()
            if (node := self.nodes.get(sid)) is not None and node.set_state(state, repaint=not far)
        ]
        if not far or not changed:
            return
        if len(changed) > len(self.nodes) // 4:
            self.invalidate_overview()  # one rebuild at the next paint costs less
        else:
            self._overview.restate(changed)
            self.update(_around(changed))  # not the whole view: a frame costs 2-3x less

    def clear_step_states(self) -> None:
        self.set_step_states(dict.fromkeys(self.nodes))
        self._states.clear()

    def helpEvent(self, event: QGraphicsSceneHelpEvent) -> None:  # noqa: N802 - Qt override
        view = event.widget().parent() if event.widget() is not None else None
        transform = view.transform() if hasattr(view, "transform") else QTransform()
        item = self.itemAt(event.scenePos(), transform)
        if isinstance(item, (NodeItem, EdgeItem, EndItem)):
            QToolTip.showText(event.screenPos(), item.tooltip_text(), event.widget())
            event.accept()
            return
        super().helpEvent(event)

    # --- background -----------------------------------------------------------------------

    def set_dark(self, on: bool) -> None:
        """Dark or light canvas colours (cached node pictures are redrawn)."""
        style.set_dark(on)
        self.setBackgroundBrush(style.BACKGROUND)
        for n in self.nodes.values():
            n.update()
        for e in self.edges.values():
            e.update()
        self.trigger.update()
        self.output_end.update()
        self.invalidate_overview()

    def set_grid_visible(self, on: bool) -> None:
        """Show or hide the grid (View > Show Grid)."""
        self.grid_visible = on
        self.update()

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802
        super().drawBackground(painter, rect)
        self._draw_grid(painter, rect)
        if self.overview_mode:
            self._overview.paint(
                painter, list(self.nodes.values()), list(self.edges.values()), self.selectedItems()
            )

    def _draw_grid(self, painter: QPainter, rect: QRectF) -> None:
        if not self.grid_visible:
            return
        painter.save()
        # axis-aligned hairlines need no antialiasing, which made the grid cost 9 ms a frame
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        scale = painter.worldTransform().m11() or 1.0
        # keep grid lines at least 10 px apart on screen, doubling the step as we zoom out
        step = GRID * 2 ** max(0, math.ceil(math.log2(max(1e-9, 10.0 / (GRID * scale)))))
        major = step * 5
        for spacing, color in ((step, style.GRID_MINOR), (major, style.GRID_MAJOR)):
            left = math.floor(rect.left() / spacing) * spacing
            top = math.floor(rect.top() / spacing) * spacing
            lines = []
            x = left
            while x < rect.right():
                lines.append(QLineF(x, rect.top(), x, rect.bottom()))
                x += spacing
            y = top
            while y < rect.bottom():
                lines.append(QLineF(rect.left(), y, rect.right(), y))
                y += spacing
            painter.setPen(QPen(color, 0))
            painter.drawLines(lines)
        painter.restore()


def _around(nodes: list[NodeItem]) -> QRectF:
    """The scene area showing these nodes and the edges that end at them."""
    rect = QRectF()
    for n in nodes:
        rect = rect.united(n.box)
        for e in n.edges_in + n.edges_out:
            line = e.line
            rect = rect.united(QRectF(line.p1(), line.p2()).normalized())
    return rect.adjusted(-4, -4, 4, 4)
