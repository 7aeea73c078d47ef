"""The canvas draws the logic: edges over nodes, back edges, conditions, badges, the trigger and
output nodes, and run states that read in both themes (rendered and checked pixel by pixel)."""

from __future__ import annotations

import itertools

import pytest
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QImage, QPainter

from designer.canvas import style
from designer.canvas.items import EdgeItem, NodeItem
from designer.canvas.run_overlay import NotesItem
from designer.canvas.style import NODE_H, NODE_W, STATE_BADGE, STATE_COLORS, STATES, contrast
from designer.canvas.view import CanvasView
from designer.document.workflow_document import WorkflowDocument
from engine import CallStep, Workflow, open_workflow, parse_workflow
from tests.designer.canvas.test_logic import CYCLE
from tests.designer.run_support import wait_run
from tests.designer.window_support import WORKFLOWS, make_window


def show(qtbot, workflow: Workflow) -> CanvasView:
    doc = WorkflowDocument(workflow)
    view = CanvasView(doc)
    view.resize(1200, 700)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    view.fit_to_view()
    return view


def render(view: CanvasView, rect: QRectF) -> QImage:
    """The scene's `rect` at 1:1 (one pixel per scene unit)."""
    img = QImage(int(rect.width()), int(rect.height()), QImage.Format.Format_ARGB32)
    img.fill(QColor("white"))
    p = QPainter(img)
    view.canvas.render(p, QRectF(0, 0, rect.width(), rect.height()), rect)
    p.end()
    return img


def colours_in(img: QImage, box: QRectF) -> set[str]:
    return {
        img.pixelColor(x, y).name()
        for x in range(max(0, int(box.left())), min(img.width(), int(box.right())))
        for y in range(max(0, int(box.top())), min(img.height(), int(box.bottom())))
    }


def test_an_edge_passing_a_node_is_drawn_over_it(qtbot):
    wf = Workflow(
        name="over",
        steps=[
            CallStep(id="a", service="S", action="a"),
            CallStep(id="b", after=["a"], service="S", action="b"),
            CallStep(id="c", after=["a", "b"], service="S", action="c"),
        ],
        layout={"a": (0, 0), "b": (240, 0), "c": (480, 0)},
    )
    view = show(qtbot, wf)
    edge = view.canvas.edges[("a", "c")]
    assert edge.zValue() > view.canvas.nodes["b"].zValue()
    img = render(view, QRectF(0, 0, 700, 80))
    # a -> c runs straight through b at port height: its colour is on b's body, not hidden
    across_b = colours_in(img, QRectF(300, NODE_H / 2 - 1, 60, 3))
    assert style.EDGE.name() in across_b
    # with a halo of the canvas colour either side, so it reads as passing over b
    assert style.BACKGROUND.name() in colours_in(img, QRectF(300, NODE_H / 2 - 2, 60, 1))
    # found just after the first frames: only a -> c passes over a step (only it gets a halo)
    qtbot.waitUntil(lambda: all(e._crosses is not None for e in view.canvas.edges.values()))
    assert {k: e._crosses for k, e in view.canvas.edges.items()} == {
        ("a", "b"): False,
        ("a", "c"): True,
        ("b", "c"): False,
    }
    img = render(view, QRectF(0, 0, 700, 80))
    assert style.BACKGROUND.name() in colours_in(img, QRectF(300, NODE_H / 2 - 2, 60, 1))


def test_the_back_edge_of_a_cycle_is_a_red_arc_over_the_steps(qtbot):
    loaded = parse_workflow(CYCLE, "cycle.yaml")
    wf = loaded.model
    wf.layout = {
        "fetch": (0, 0),
        "charge": (240, 0),
        "refund": (480, 100),
        "ship": (480, -100),
        "pause": (720, -100),
        "notifyOps": (960, 0),
    }
    view = show(qtbot, wf)
    back = view.canvas.edges[("notifyOps", "fetch")]
    assert back.mark is not None and back.mark.kind == "back"
    top = back.path().boundingRect().top()
    assert top < -100  # above every node it spans (ship and pause are the highest)
    origin = QPointF(-100, -200)
    img = render(view, QRectF(origin, QPointF(1300, 200)))
    # the arc's top run is red (dashed) between the two ends, clear of every node
    row = colours_in(img, QRectF(200, top - origin.y() - 1, 700, 3))
    assert style.PROBLEM.name() in row
    assert "cycle" in back.tooltip_text()


def test_conditions_label_the_edges_and_the_switch_sides_differ(qtbot):
    view = show(qtbot, open_workflow(str(WORKFLOWS / "policy_change.yaml")).unwrap_model())
    yes = view.canvas.edges[("check", "sendUpdate")]
    no = view.canvas.edges[("check", "revertPolicy")]
    assert yes.mark_color() != no.mark_color()
    assert not yes.label_rect().isNull() and not no.label_rect().isNull()
    assert not yes.label_rect().intersects(no.label_rect())
    for edge in (yes, no):  # a tab above the step it leads into, never over another step
        assert edge.label_rect().bottom() <= edge.dst.y0 - 8
        assert not any(edge.label_rect().intersects(n.box) for n in view.canvas.nodes.values())
    origin = QPointF(-300, -150)
    img = render(view, QRectF(origin, QPointF(1300, 250)))
    for edge in (yes, no):
        label = edge.label_rect().translated(-origin)
        assert edge.mark_color().name() in colours_in(img, label)
    assert "if ${ steps.check.output.status == 'pass' }" in yes.tooltip_text()
    # a hover over the label is a hover over the edge: the scene finds it there
    assert view.canvas.itemAt(yes.label_rect().center(), view.transform()) is yes


def test_badges_are_drawn_on_the_node_and_named_in_its_tooltip(qtbot):
    view = show(qtbot, open_workflow(str(WORKFLOWS / "policy_change.yaml")).unwrap_model())
    check = view.canvas.nodes["check"]
    assert [b.text for b in check.badges] == ["4", "5s", "continue"]
    tip = check.tooltip_text()
    assert "retry: up to 4 attempts" in tip and "timeout 5s" in tip and "onError: continue" in tip
    origin = QPointF(check.x0 - 10, check.y0 - 12)
    img = render(view, QRectF(origin, QPointF(check.x0 + NODE_W, check.y0 + 8)))
    pills = colours_in(img, QRectF(10, 0, NODE_W - 30, 16))
    assert sum(QColor(c).lightness() < 80 for c in pills) >= 5  # the badges' text, dark on white
    # the inspector's edit reaches the badges: retry off, the badge goes
    view.document.set_step_field("check", "retry", None)
    assert [b.text for b in check.badges] == ["5s", "continue"]


def test_trigger_and_output_sit_beside_the_steps_and_are_not_saved(qtbot, tmp_path):
    view = show(qtbot, open_workflow(str(WORKFLOWS / "policy_change.yaml")).unwrap_model())
    scene = view.canvas
    nodes = scene.nodes.values()
    assert scene.trigger.title == "policyChangeSuggested"
    assert scene.trigger.box.right() < min(n.x0 for n in nodes)
    assert scene.output_end.box.left() > max(n.x0 + NODE_W for n in nodes)
    assert [n.step_id for n in scene.trigger.links] == ["updatePolicy"]
    assert [n.step_id for n in scene.output_end.links] == ["adminSuccess", "adminFailure"]
    assert scene.output_end.caption == "policyId, version, compliance, live"
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    assert visible.contains(scene.trigger.box) and visible.contains(scene.output_end.box)
    # they follow the steps: a new first step moves the trigger's link to it
    view.document.add_step(CallStep(id="early", after=[], service="S", action="x"), (-400, 300))
    assert "early" in [n.step_id for n in scene.trigger.links]
    assert scene.trigger.box.right() < -400
    view.document.save(str(tmp_path / "saved.yaml"))
    text = (tmp_path / "saved.yaml").read_text()
    assert "policyChangeSuggested" in text and text.count("trigger") == 1
    layout = text.split("layout:")[1]
    assert "output" not in layout and "trigger" not in layout


def test_double_click_on_the_trigger_emits_a_test_event(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    assert window.open_path(str(WORKFLOWS / "policy_change.yaml"))
    view = window.view
    qtbot.waitUntil(
        lambda: (
            view.mapToScene(view.viewport().rect()).boundingRect().contains(view.canvas.trigger.box)
        )
    )
    at = view.mapFromScene(view.canvas.trigger.box.center())
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=at)
    ui = window.run_ui
    dialog = ui.dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.event_combo.currentText() == "policyChangeSuggested"
    dialog.payload.setPlainText("policyId: P-7\n")
    dialog.buttons.accepted.emit()
    try:
        wait_run(qtbot, ui)
        rec = ui.controller.records[ui.controller.last_outcome.run_ids[0]]
        assert rec.source == "emit" and rec.result.status == "succeeded"
        assert view.canvas.nodes["sendUpdate"].state == "succeeded"
    finally:
        ui.controller.shutdown()


@pytest.mark.parametrize("dark", [False, True])
def test_state_colours_read_at_wcag_aa_in_both_themes(qapp, dark):
    style.set_dark(dark)
    try:
        grounds = {"canvas": style.BACKGROUND, "node": style.BODY}
        for state in STATES:
            c = STATE_COLORS[state]
            for where, ground in grounds.items():  # notes and ring badges are drawn on these
                assert contrast(c, ground) >= 4.5, (state, where, c.name())
            if state not in STATE_BADGE:  # a filled disc: its glyph on it
                assert contrast(style.glyph_color(), c) >= 4.5, (state, c.name())
        for n in range(4):
            for ground in grounds.values():
                assert contrast(style.branch_color(n), ground) >= 4.5
        for ground in grounds.values():
            assert contrast(style.TEXT, ground) >= 4.5 and contrast(style.TEXT_DIM, ground) >= 4.5
        # every two states look different: another badge shape, or another hue (coloured
        # states), or grey beside a colour, or greys far apart in lightness
        for a, b in itertools.combinations(STATES, 2):
            if STATE_BADGE.get(a) != STATE_BADGE.get(b):
                continue
            ca, cb = STATE_COLORS[a], STATE_COLORS[b]
            grey_a, grey_b = ca.hslSaturation() < 60, cb.hslSaturation() < 60
            if not grey_a and not grey_b:
                turn = abs(ca.hslHue() - cb.hslHue())
                assert min(turn, 360 - turn) >= 25, (a, b)
            elif grey_a and grey_b:
                assert abs(ca.lightness() - cb.lightness()) >= 60, (a, b)
    finally:
        style.set_dark(False)


def test_theme_switch_changes_the_state_colours_in_place(qapp):
    held = STATE_COLORS  # other modules hold the dict itself
    style.set_dark(True)
    try:
        assert held["pending"].name() == "#a9b4c2"
    finally:
        style.set_dark(False)
    assert held["pending"].name() == "#5f6b7a"


def test_a_retry_note_is_never_cut_short(qtbot, view):
    nodes = view.canvas.nodes
    notes = NotesItem(nodes)
    view.canvas.addItem(notes)
    notes.refit()
    text = "attempt 3 of 4 failed · next in 1.9 s"
    notes.set_notes({"fetch": (text, "retrying")})
    rect = notes.note_rect("fetch")
    fm = QFontMetricsF(notes._font)
    assert rect.width() >= fm.horizontalAdvance(text)
    assert notes.boundingRect().contains(rect)
    node = nodes["fetch"]
    origin = QPointF(node.x0, node.y0 + NODE_H)
    img = render(view, QRectF(origin, QPointF(node.x0 + 240, node.y0 + NODE_H + 20)))
    # the note's colour shows past the node's right edge: the text's tail is drawn
    tail = colours_in(img, QRectF(NODE_W - 2, 0, 60, 20))
    assert STATE_COLORS["retrying"].name() in tail or any(
        contrast(QColor(c), style.BACKGROUND) > 2 for c in tail
    )


def test_every_node_and_edge_stays_a_plain_item_type(view):
    items = view.canvas.items()
    assert sum(isinstance(i, NodeItem) for i in items) == 4
    assert sum(isinstance(i, EdgeItem) for i in items) == 2


def test_a_fan_of_more_than_a_dozen_links_is_not_drawn(qtbot):
    from designer.canvas.ends import MAX_LINKS

    n = MAX_LINKS + 1
    wf = Workflow(
        name="wide",
        steps=[CallStep(id=f"s{i}", after=[], service="S", action="a") for i in range(n)],
        layout={f"s{i}": (0, 100 * i) for i in range(n)},
    )
    view = show(qtbot, wf)
    trigger, output = view.canvas.trigger, view.canvas.output_end
    assert trigger.links == [] and output.links == []
    assert trigger.boundingRect().height() < 100  # no path down the whole column
    # one step fewer: every start and end is linked again
    view.document.remove([f"s{n - 1}"], [])
    assert len(trigger.links) == MAX_LINKS and len(output.links) == MAX_LINKS


def test_an_empty_canvas_shows_neither_end_and_captions_fit(qtbot):
    view = show(qtbot, Workflow(name="empty"))
    assert not view.canvas.trigger.isVisible() and not view.canvas.output_end.isVisible()
    view.document.add_step(CallStep(id="a", service="S", action="a"), (0, 0))
    trigger = view.canvas.trigger
    assert trigger.isVisible() and view.canvas.output_end.isVisible()
    assert trigger.caption == "no trigger: started by Run (F5)"
    fm = QFontMetricsF(style.label_font())
    assert trigger.box.width() - 46 >= fm.horizontalAdvance(trigger.caption)  # not elided


def test_the_trigger_follows_a_dragged_first_step(qtbot, view):
    trigger = view.canvas.trigger
    before = trigger.box
    node = view.canvas.nodes["fetch"]
    vp = view.viewport()
    start = view.mapFromScene(QPointF(node.x0 + NODE_W / 2, node.y0 + 20))
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(vp, start + QPointF(-100, 60).toPoint())
    assert trigger.box.left() < before.left() - 50  # during the drag, not only on release
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=start + QPointF(-100, 60).toPoint())
    assert view.document.position("fetch")[0] < 0
