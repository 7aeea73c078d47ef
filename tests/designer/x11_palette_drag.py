"""Run under a real X server (QT_QPA_PLATFORM=xcb): a user's mouse, through xdotool, drags two
Petstore operations from the palette onto the canvas (a real QDrag, with X's drag and drop)
and connects them port to port, then saves with Ctrl+S. Prints one JSON object: the steps,
their `after` and whether the file was saved.

`python -m tests.designer.x11_palette_drag FOLDER`; FOLDER holds pets.yaml beside the imported
Petstore (tests/designer/window/test_interop.py prepares it and starts this on Xvfb).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def main(folder: str) -> None:
    from PySide6.QtCore import QPoint, QSettings
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QAbstractItemView, QApplication

    from designer.window.main_window import MainWindow
    from designer.window.settings import AppSettings

    app = QApplication([])
    settings = AppSettings(
        QSettings(str(Path(folder) / "settings.ini"), QSettings.Format.IniFormat)
    )
    window = MainWindow(settings)
    window.resize(1200, 720)
    window.move(0, 0)
    assert window.open_path(str(Path(folder) / "pets.yaml"))
    window.show()
    QTest.qWaitForWindowExposed(window)
    window.activateWindow()
    QTest.qWait(300)
    palette, view = window.palette_widget, window.view

    def mouse(points: list[QPoint]) -> None:
        """Press at the first point, move through the rest, release: real X pointer events
        from one xdotool process (not a thread: the drag's own event loop holds the GIL),
        while Qt's loop (and the drag's) keeps running."""
        first, *rest = points
        cmd = ["xdotool", "mousemove", str(first.x()), str(first.y()), "mousedown", "1"]
        for p in rest:
            cmd += ["sleep", "0.05", "mousemove", str(p.x()), str(p.y())]
        cmd += ["sleep", "0.1", "mouseup", "1"]
        proc = subprocess.Popen(cmd)
        while proc.poll() is None:
            QTest.qWait(20)
        assert proc.returncode == 0, cmd
        QTest.qWait(300)

    def path(a: QPoint, b: QPoint, steps: int = 12) -> list[QPoint]:
        return [a] + [a + (b - a) * (k / steps) for k in range(1, steps + 1)]

    def drag_operation(action: str, to: QPoint) -> None:
        item = palette.item_for({"kind": "call", "service": "Petstore", "action": action})
        palette.tree.scrollToItem(item)
        start = palette.tree.viewport().mapToGlobal(palette.tree.visualItemRect(item).center())
        before = len(window.document.workflow.steps)
        mouse(path(start, view.viewport().mapToGlobal(to)))
        # the drop is done once the step is there and the palette's QDrag has returned; a new
        # drag started before that (X's drag and drop still closing) was lost under load
        for _ in range(250):
            dragging = palette.tree.state() != QAbstractItemView.State.NoState
            if len(window.document.workflow.steps) > before and not dragging:
                break
            QTest.qWait(20)
        QTest.qWait(500)

    drag_operation("listPets", QPoint(200, 150))
    drag_operation("showPetById", QPoint(560, 320))
    ids = window.document.workflow.ids
    if "listPets" in ids and "showPetById" in ids:
        nodes = view.canvas.nodes

        def port(sid: str, output: bool) -> QPoint:
            local = view.mapFromScene(nodes[sid].port_scene_pos(output))
            return view.viewport().mapToGlobal(local)

        mouse(path(port("listPets", True), port("showPetById", False)))
    # Ctrl+S, typed
    view.setFocus()
    proc = subprocess.Popen(["xdotool", "key", "ctrl+s"])
    while proc.poll() is None:
        QTest.qWait(20)
    QTest.qWait(300)
    wf = window.document.workflow
    out = {
        "platform": QApplication.platformName(),
        "steps": {s.id: {"after": s.after, "path": getattr(s, "path", None)} for s in wf.steps},
        "saved": not window.document.modified,
    }
    window.document.undo_stack.setClean()  # leave without the unsaved-changes question
    window.close()
    app.processEvents()
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
