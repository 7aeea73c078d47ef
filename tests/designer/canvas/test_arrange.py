"""Align, distribute and snap to grid: the selected steps move as one undo step."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from designer.canvas.arrange import align, distribute, snap
from designer.canvas.style import GRID, NODE_H, NODE_W
from tests.designer.window_support import make_window, sample_workflow

LEFT = Qt.MouseButton.LeftButton
CTRL = Qt.KeyboardModifier.ControlModifier


def test_align_and_distribute_arithmetic() -> None:
    pos = {"a": (0.0, 10.0), "b": (300.0, 55.0), "c": (1000.0, 30.0)}
    assert set(align(pos, "top").values()) == {(0.0, 10.0), (300.0, 10.0), (1000.0, 10.0)}
    assert {p[0] for p in align(pos, "hcenter").values()} == {500}
    spread = distribute(pos, "h")
    xs = sorted(p[0] for p in spread.values())
    assert xs[0] == 0 and xs[-1] == 1000 and xs[1] - xs[0] == xs[2] - xs[1] == 500
    assert distribute({"a": (0.0, 0.0), "b": (5.0, 5.0)}, "v") == {"a": (0, 0), "b": (5, 5)}
    assert snap((29.0, -11.0)) == (GRID * round(29 / GRID), GRID * round(-11 / GRID))
    with pytest.raises(ValueError):
        align(pos, "diagonal")


def _body(view, sid: str) -> QPoint:
    return view.mapFromScene(view.canvas.nodes[sid].pos() + QPointF(NODE_W / 2, NODE_H / 2 + 8))


@pytest.fixture
def window(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path, sample_workflow())
    w.view.reset_zoom()
    w.view.centerOn(360, 80)
    return w


def test_align_top_from_the_menu_is_one_undo_step(qtbot, window):
    doc, view = window.document, window.view
    QTest.mouseClick(view.viewport(), LEFT, Qt.KeyboardModifier.NoModifier, _body(view, "fetch"))
    QTest.mouseClick(view.viewport(), LEFT, CTRL, _body(view, "pause"))
    QTest.mouseClick(view.viewport(), LEFT, CTRL, _body(view, "report"))
    assert set(view.selected_ids()) == {"fetch", "pause", "report"}
    top = next(a for a in window.act.arrange_actions if a.text() == "Align &Top")
    assert top.isEnabled()
    top.trigger()
    ys = {doc.position(s)[1] for s in ("fetch", "pause", "report")}
    assert ys == {0.0}  # fetch and report sit at y 0, pause was at 160
    assert doc.undo_stack.undoText() == "Align Top (3 steps)"
    assert doc.undo_stack.count() == 1
    doc.undo_stack.undo()
    assert doc.position("pause") == (0.0, 160.0)


def test_distribute_vertically_evens_the_gaps(qtbot, window):
    doc = window.document
    doc.move_steps({"check": ((240, 0), (240, 40)), "report": ((480, 0), (480, 400))})
    window.view.select_steps(["fetch", "check", "report"])
    dist = next(a for a in window.act.arrange_actions if a.text() == "Distribute V&ertically")
    dist.trigger()
    ys = sorted(doc.position(s)[1] for s in ("fetch", "check", "report"))
    assert ys == [0.0, 200.0, 400.0]


def test_snap_to_grid_puts_a_dragged_step_on_a_grid_point(qtbot, window):
    doc, view = window.document, window.view
    window.act.snap.trigger()
    assert view.snap_to_grid
    a = _body(view, "pause")
    b = a + QPoint(33, 27)
    vp = view.viewport()
    QTest.mousePress(vp, LEFT, Qt.KeyboardModifier.NoModifier, a)
    for k in range(1, 5):
        QTest.mouseMove(vp, a + (b - a) * (k / 4))
    QTest.mouseRelease(vp, LEFT, Qt.KeyboardModifier.NoModifier, b)
    x, y = doc.position("pause")
    assert (x, y) != (0.0, 160.0)
    assert x % GRID == 0 and y % GRID == 0
    assert view.canvas.nodes["pause"].pos() == QPointF(x, y)  # the node follows the model
