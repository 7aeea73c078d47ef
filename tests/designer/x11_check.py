"""Run under a real X server (QT_QPA_PLATFORM=xcb): the main window's shortcuts as X11's key
bindings give them, and whether Ctrl+D on the canvas duplicates a step. Prints one JSON object.

`python -m tests.designer.x11_check SETTINGS_DIR`; the X11 tests start it (tests/designer/x11.py).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(folder: str) -> None:
    from PySide6.QtCore import QSettings, Qt
    from PySide6.QtGui import QKeySequence
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from designer.shared.shortcuts import key_text, shortcut_clashes
    from designer.window.main_window import MainWindow
    from designer.window.settings import AppSettings
    from tests.designer.conftest import small_workflow

    app = QApplication([])
    settings = AppSettings(
        QSettings(str(Path(folder) / "settings.ini"), QSettings.Format.IniFormat)
    )
    window = MainWindow(settings)
    window.document.replace_workflow(small_workflow(), None)
    window.show()
    QTest.qWaitForWindowExposed(window)
    window.activateWindow()
    window.view.setFocus()
    window.view.select_steps(["check"])
    QTest.qWait(50)
    QTest.keyClick(window.view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    QTest.qWait(50)
    QTest.keyClick(window.view, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    QTest.qWait(50)
    find_bar_shown = window.canvas_act.find_bar.isVisible()
    out = {
        "platform": QApplication.platformName(),
        "delete_bindings": [
            key_text(k) for k in QKeySequence.keyBindings(QKeySequence.StandardKey.Delete)
        ],
        "clashes": [str(c) for c in shortcut_clashes(window)],
        "shortcuts": {
            a.text().replace("&", ""): [key_text(k) for k in a.shortcuts()]
            for a in window.findChildren(type(window.act.delete))
            if a.shortcuts()
        },
        "steps_after_ctrl_d": window.document.workflow.ids,
        "find_bar_after_ctrl_f": find_bar_shown,
    }
    window._close_confirmed = True
    window.close()
    app.processEvents()
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1])
