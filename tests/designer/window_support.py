"""Helpers for the window tests: a MainWindow on temporary settings and autosave folders."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QMessageBox  # noqa: E402

from engine import Workflow  # noqa: E402
from tests.designer.conftest import small_workflow  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO / "workflows"


sample_workflow = small_workflow  # the canvas tests' workflow: fetch -> check -> report, pause


def make_settings(tmp_path: Path):
    from designer.window.settings import AppSettings

    return AppSettings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


def make_window(
    qtbot,
    tmp_path: Path,
    workflow: Workflow | None = None,
    autosave_interval_ms: int = 60_000,
    settings=None,
    size=(1200, 800),
):
    """A shown MainWindow whose settings and autosaves live under `tmp_path`."""
    from designer.window.main_window import MainWindow
    from designer.window.settings import Autosave

    window = MainWindow(
        settings or make_settings(tmp_path),
        Autosave(tmp_path / "autosave"),
        autosave_interval_ms=autosave_interval_ms,
    )
    qtbot.addWidget(window, before_close_func=_forget_changes)
    if workflow is not None:
        window.document.replace_workflow(workflow, None)
    if size is not None:
        window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    return window


def _forget_changes(window) -> None:
    """Teardown closes without the unsaved-changes question."""
    window._close_confirmed = True
    if window.dialog is not None:
        window.dialog.close()


def message_box(window) -> QMessageBox:
    """The question or error box the window has open (shown with open(), not exec())."""
    box = window.dialog
    assert isinstance(box, QMessageBox), f"expected a message box, the window shows {box!r}"
    assert box.isVisible()
    return box


def answer(qtbot, window, button: QMessageBox.StandardButton) -> None:
    box = message_box(window)
    qtbot.mouseClick(box.button(button), _left())


def _left():
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton
