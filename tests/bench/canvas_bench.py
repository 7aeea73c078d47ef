"""Canvas benchmark: open a 2,000-step workflow, drag a node at 1:1, fit 5,000 steps to the view.

Run with `python3 tests/bench/canvas_bench.py` (`--window-open` for the window's open alone).
Each figure is printed beside the same measure for a bare QGraphicsScene holding the same number
of plain rectangles, built in the same run, so the ratio says what the designer's items cost
over Qt's floor on this machine; the window's open is shown alone.
Targets: open ≤ 1.5 s, drag frame ≤ 16 ms, fit-to-view frame ≤ 50 ms.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from PySide6.QtCore import QPointF, QSettings, Qt  # noqa: E402
from PySide6.QtGui import QColor  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import (  # noqa: E402
    QApplication,
    QGraphicsItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsView,
)

from designer.canvas.style import NODE_H, NODE_W  # noqa: E402
from designer.canvas.view import CanvasView  # noqa: E402
from designer.document.workflow_document import WorkflowDocument  # noqa: E402

VIEW_W, VIEW_H = 1280, 800


def workflow_yaml(n: int, seed: int = 7) -> str:
    """A workflow of `n` steps without layout: chains with forks and joins, like real ones."""
    rnd = random.Random(seed)
    kinds = ["call"] * 6 + ["wait", "emit", "notify"]
    lines = ["version: 1", f"name: bench{n}", "steps:"]
    for i in range(n):
        lines.append(f"  - id: s{i}")
        if i:
            preds = sorted({rnd.randrange(max(0, i - 12), i) for _ in range(rnd.choice((1, 1, 2)))})
            lines.append(f"    after: [{', '.join(f's{p}' for p in preds)}]")
        kind = rnd.choice(kinds)
        if kind == "call":
            lines += [
                f"    service: Service{i % 17}",
                f"    action: act{i % 31}",
                f'    with: {{x: "${{ input.x }}", n: {i}}}',
            ]
        elif kind == "wait":
            lines.append("    wait: 5s")
        elif kind == "emit":
            lines += ["    emit:", f"      event: ev{i % 5}"]
        else:
            lines += ["    notify:", f'      message: "step {i} done"']
    return "\n".join(lines) + "\n"


def show(view: QGraphicsView) -> None:
    view.resize(VIEW_W, VIEW_H)
    view.show()
    # offscreen windows paint nothing until exposed
    if not QTest.qWaitForWindowExposed(view):
        raise RuntimeError("the view was never exposed; frame times would be meaningless")


def frame(view: QGraphicsView) -> float:
    """Paint the whole viewport once; seconds."""
    t = time.perf_counter()
    view.viewport().repaint()
    return time.perf_counter() - t


def bare_view(positions: list[tuple[float, float]], movable: bool = False) -> QGraphicsView:
    scene = QGraphicsScene()
    brush = QColor("#ffffff")
    for x, y in positions:
        r = QGraphicsRectItem(0, 0, NODE_W, NODE_H)
        r.setPos(x, y)
        r.setBrush(brush)
        if movable:
            r.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsMovable)
        scene.addItem(r)
    view = QGraphicsView(scene)
    scene.setParent(view)  # keep the scene alive as long as its view
    show(view)
    return view


def bench_open(n: int, folder: Path) -> tuple[float, float, WorkflowDocument, CanvasView]:
    path = folder / f"bench{n}.yaml"
    path.write_text(workflow_yaml(n))
    t = time.perf_counter()
    doc = WorkflowDocument.open(str(path))
    view = CanvasView(doc)
    show(view)
    view.fit_to_view()
    frame(view)
    ours = time.perf_counter() - t
    positions = [doc.position(s) for s in doc.workflow.ids]
    t = time.perf_counter()
    bare = bare_view(positions)
    bare.fitInView(bare.scene().itemsBoundingRect(), Qt.AspectRatioMode.KeepAspectRatio)
    frame(bare)
    base = time.perf_counter() - t
    bare.close()
    return ours, base, doc, view


def window_open(n: int, folder: Path, repeats: int = 5) -> list[float]:
    """CPU seconds to open an `n`-step file in the main window as File → Open does (read,
    parse, validate, the YAML it will be saved as, the canvas), fitted, to its first frame (CPU
    time: this figure is compared across runs, on a machine that may be shared)."""
    from designer.window import AppSettings, MainWindow

    own = folder / f"window{n}"  # alone in its folder: the palette reads a file's neighbours
    own.mkdir(exist_ok=True)
    path = own / "flow.yaml"
    path.write_text(workflow_yaml(n))
    times = []
    for _ in range(repeats):
        settings = AppSettings(QSettings(str(folder / "s.ini"), QSettings.Format.IniFormat))
        window = MainWindow(settings, autosave=None)
        window.run_ui.cancel_warm_up()
        window.resize(VIEW_W, VIEW_H)
        window.show()
        QTest.qWaitForWindowExposed(window)
        t = time.process_time()
        window.open_path(str(path))
        QApplication.processEvents()
        window.view.fit_to_view()
        frame(window.view)
        times.append(time.process_time() - t)
        window.hide()
        window.deleteLater()
        QApplication.processEvents()
    return times


def drag_frames(view: QGraphicsView, item_pos: QPointF, moves: int = 60) -> list[float]:
    """Press on a node at 1:1, move it in small steps, time each move plus the repaint."""
    view.resetTransform()
    view.centerOn(item_pos + QPointF(NODE_W / 2, NODE_H / 2))
    frame(view)
    vp = view.viewport()
    start = view.mapFromScene(item_pos + QPointF(NODE_W / 2, NODE_H / 2 + 8))
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    times = []
    for k in range(1, moves + 1):
        t = time.perf_counter()
        QTest.mouseMove(vp, start + QPointF(3 * k, 2 * k).toPoint())
        vp.repaint()
        times.append(time.perf_counter() - t)
    QTest.mouseRelease(
        vp,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
        start + QPointF(3 * moves, 2 * moves).toPoint(),
    )
    return times


def fit_frames(view: QGraphicsView, fit: object) -> tuple[float, float]:
    """The first frame after fitting (item caches rebuilt) and the median of the next five."""
    fit()  # type: ignore[operator]
    first = frame(view)
    rest = statistics.median(frame(view) for _ in range(5))
    return first, rest


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def main() -> None:
    app = QApplication.instance() or QApplication(sys.argv)
    repeats = 3
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        frame(bare_view([(0, 0)]))  # warm up fonts and the paint engine
        opens = window_open(2000, folder)
        print(
            f"open 2,000 steps in the window (read, parse, validate, YAML, canvas, first frame), "
            f"CPU, median of {len(opens)}: {ms(statistics.median(opens))} "
            f"(best {ms(min(opens))})"
        )
        if "--window-open" in sys.argv:
            return
        runs = [bench_open(2000, folder) for _ in range(repeats)]
        ours = [r[0] for r in runs]
        base = [r[1] for r in runs]
        doc, view = runs[-1][2], runs[-1][3]
        for r in runs[:-1]:
            r[3].close()
        ratio = statistics.median(ours) / statistics.median(base)
        print(
            f"open 2,000 steps (load, auto-layout, items, first frame), median of {repeats}: "
            f"{ms(statistics.median(ours))} (best {ms(min(ours))})   bare rects: "
            f"{ms(statistics.median(base))}   ratio {ratio:5.1f}   target ≤ 1500 ms"
        )

        sid = doc.workflow.ids[1000]
        ours_drag = drag_frames(view, view.canvas.nodes[sid].pos())
        positions = [doc.position(s) for s in doc.workflow.ids]
        bare = bare_view(positions, movable=True)
        base_drag = drag_frames(bare, QPointF(*doc.position(sid)))
        bare.close()
        p95 = sorted(ours_drag)[int(len(ours_drag) * 0.95)]
        print(
            f"drag frame at 1:1 (move + full repaint), median / p95 / max: "
            f"{ms(statistics.median(ours_drag))} / {ms(p95)} / {ms(max(ours_drag))}"
            f"   bare rects median: {ms(statistics.median(base_drag))}   target ≤ 16 ms"
        )
        view.close()

        path = folder / "bench5000.yaml"
        path.write_text(workflow_yaml(5000))
        t = time.perf_counter()
        doc5 = WorkflowDocument.open(str(path))
        view5 = CanvasView(doc5)
        show(view5)
        built = time.perf_counter() - t
        frame(view5)
        t = time.perf_counter()
        view5.fit_to_view()
        fit_action = time.perf_counter() - t
        first = frame(view5)
        rest = statistics.median(frame(view5) for _ in range(7))
        positions = [doc5.position(s) for s in doc5.workflow.ids]
        t = time.perf_counter()
        bare5 = bare_view(positions)
        bare_built = time.perf_counter() - t
        frame(bare5)
        b_first, b_rest = fit_frames(
            bare5,
            lambda: bare5.fitInView(
                bare5.scene().itemsBoundingRect(), Qt.AspectRatioMode.KeepAspectRatio
            ),
        )
        print(
            f"open 5,000 steps (load, layout, items, shown): {ms(built)}"
            f"   bare rects built and shown: {ms(bare_built)}"
        )
        print(
            f"fit-to-view 5,000 steps: the fit itself {ms(fit_action)}, first frame "
            f"{ms(first)}, next frames {ms(rest)}   bare rects: first {ms(b_first)}, "
            f"next {ms(b_rest)}   target ≤ 50 ms"
        )
        print(
            f"(the 5,000-step canvas also draws its {len(view5.canvas.edges)} edges; "
            "the bare scene has none)"
        )
    del app


if __name__ == "__main__":
    main()
