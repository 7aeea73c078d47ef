"""The palette: services found beside the workflow, filter, new entries, drag, double-click."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QLineF, QPoint, QPointF, Qt
from PySide6.QtGui import QDropEvent

from designer.document.clipboard import STEP_MIME
from designer.palette.dock import PaletteWidget
from engine import CallStep, NotifyStep, WaitStep
from tests.designer.window_support import WORKFLOWS, make_window, sample_workflow


def test_filter_box_and_new_service_action(qtbot):
    palette = PaletteWidget()
    qtbot.addWidget(palette)
    palette.set_sources(str(WORKFLOWS / "policy_change.yaml"), None)
    assert "wait" in palette.visible_entries()
    qtbot.keyClicks(palette.filter_edit, "DISPATCHU")
    assert palette.visible_entries() == [
        "AmbulanceService.dispatchUnit",
        "FireService.dispatchUnit",
        "PoliceService.dispatchUnit",
    ]
    palette.filter_edit.clear()
    qtbot.keyClicks(palette.new_edit, "nodot")
    qtbot.keyClick(palette.new_edit, Qt.Key.Key_Return)
    assert "Service.action" in palette.new_error.text()
    assert not palette.new_error.isHidden()
    palette.new_edit.clear()
    qtbot.keyClicks(palette.new_edit, "Billing.charge")
    qtbot.keyClick(palette.new_edit, Qt.Key.Key_Return)
    assert palette.new_error.isHidden()
    assert palette.services()["Billing"] == ["charge"]
    assert palette.tree.currentItem().text(0) == "charge"
    # a new file keeps what the user added by hand
    palette.set_sources(None, None)
    assert "Billing.charge" in palette.visible_entries()


@pytest.fixture
def window(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path, sample_workflow())
    w.palette_widget.set_sources(str(WORKFLOWS / "policy_change.yaml"), w.document.workflow)
    return w


def _drop(view, mime, at: QPoint) -> QDropEvent:
    event = QDropEvent(
        QPointF(at),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    view.dropEvent(event)
    return event


def test_dragging_a_palette_entry_onto_the_canvas_adds_a_call_step(window):
    doc, view = window.document, window.view
    mime = window.palette_widget.mime_for(
        {"kind": "call", "service": "FireService", "action": "dispatchUnit"}
    )
    assert json.loads(bytes(mime.data(STEP_MIME).data())) == {
        "kind": "call",
        "service": "FireService",
        "action": "dispatchUnit",
    }
    at = QPoint(300, 250)
    event = _drop(view, mime, at)
    assert event.isAccepted()
    step = doc.workflow.steps[-1]
    assert isinstance(step, CallStep)
    assert (step.id, step.service, step.action) == ("dispatchUnit", "FireService", "dispatchUnit")
    scene_at = view.mapToScene(at)
    node = view.canvas.nodes["dispatchUnit"]
    assert node.sceneBoundingRect().contains(scene_at)  # the node lands under the cursor
    assert view.selected_ids() == ["dispatchUnit"]
    assert window.act.undo.text() == "&Undo Add step dispatchUnit"
    window.act.undo.trigger()
    assert "dispatchUnit" not in doc.workflow.ids


def test_dropping_wait_emit_notify(window):
    doc, view = window.document, window.view
    for kind in ("wait", "notify"):
        _drop(view, window.palette_widget.mime_for({"kind": kind}), QPoint(200, 200))
    assert isinstance(doc.workflow.step("wait"), WaitStep)
    assert isinstance(doc.workflow.step("notify"), NotifyStep)


def test_double_click_adds_at_the_view_centre(qtbot, window):
    doc, view, tree = window.document, window.view, window.palette_widget.tree
    item = window.palette_widget.item_for(
        {"kind": "call", "service": "PolicyService", "action": "revertPolicy"}
    )
    tree.scrollToItem(item)
    rect = tree.visualItemRect(item)
    # a real double-click: press and release, then the double-click event
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert "revertPolicy" in doc.workflow.ids
    centre = view.mapToScene(view.viewport().rect().center())
    node = view.canvas.nodes["revertPolicy"].sceneBoundingRect()
    # the centre holds a step: the new one goes in the free spot nearest it, on no other step
    others = [n.sceneBoundingRect() for k, n in view.canvas.nodes.items() if k != "revertPolicy"]
    assert any(r.contains(centre) for r in others)
    assert not any(r.adjusted(10, 10, -10, -10).intersects(node) for r in others)
    assert QLineF(node.center(), centre).length() < 200
    assert view.selected_ids() == ["revertPolicy"]
    assert window.inspector.step_form.step_id == "revertPolicy"


def test_palette_follows_services_added_to_the_workflow(qtbot, window):
    window.document.add_step(CallStep(id="x", service="Audit", action="log"), (0, 500))
    qtbot.waitUntil(lambda: window.palette_widget.services().get("Audit") == ["log"], timeout=3000)
