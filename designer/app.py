"""`switchboard design [FILE] [--screenshot PNG]`: start the designer on qasync's event loop.

`build_parser()` returns the argparse parser; later features add their options to it
(`--run`, `--env`, `--scenario`) and read them from the namespace `main` passes on.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import qasync
from PySide6.QtCore import QCoreApplication, QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication

from designer import theme
from designer.files import AppSettings, Autosave
from designer.main_window import MainWindow
from engine.errors import LoadError
from engine.files import open_workflow

__all__ = ["build_parser", "main", "make_app", "take_screenshot", "run_window",
           "ORGANIZATION", "APPLICATION"]

ORGANIZATION = "Switchboard"
APPLICATION = "Switchboard Designer"
SCREENSHOT_SIZE = (1600, 1000)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="switchboard design",
        description="Open the Switchboard designer on a workflow file (a new workflow when none "
                    "is given).")
    parser.add_argument("file", nargs="?", help="workflow YAML file to open")
    parser.add_argument("--screenshot", metavar="PNG",
                        help="open FILE, lay it out, save a picture of the whole window to PNG "
                             "and exit (works with QT_QPA_PLATFORM=offscreen)")
    parser.add_argument("--theme", choices=("light", "dark"),
                        help="colour theme for this start (default: the one chosen last)")
    return parser


def make_app() -> QApplication:
    """The QApplication (reusing one that exists, as under pytest-qt), named for QSettings."""
    QCoreApplication.setOrganizationName(ORGANIZATION)
    QCoreApplication.setApplicationName(APPLICATION)
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        QApplication.setHighDpiScaleFactorRoundingPolicy(
            Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(sys.argv[:1] or ["switchboard"])
    return app


def take_screenshot(path: str | None, png: str, theme_name: str = "light") -> int:
    """Render the window with `path` open to `png`. Returns a process exit code."""
    app = make_app()
    theme.apply_theme(app, theme_name)
    if path is not None:
        try:
            open_workflow(path)  # say why on stderr: there is nobody to read a dialog
        except (LoadError, OSError) as e:
            print(f"switchboard design: cannot open {path}:\n{e}", file=sys.stderr)
            return 1
    # a screenshot must look the same on every machine: no remembered geometry or recent files
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = QSettings(str(Path(scratch_dir) / "settings.ini"), QSettings.Format.IniFormat)
        return _grab(app, MainWindow(AppSettings(scratch), autosave=None), path, png)


def _grab(app: QApplication, window: MainWindow, path: str | None, png: str) -> int:
    window.resize(*SCREENSHOT_SIZE)
    if path is not None:
        window.open_path(path)
    window.show()
    app.processEvents()
    window.document.validate_now()
    window.view.fit_to_view()
    app.processEvents()
    pixmap = window.grab()
    Path(png).parent.mkdir(parents=True, exist_ok=True)
    ok = pixmap.save(png, "PNG")
    window.hide()  # not close(): nothing to save, no settings to write
    window.deleteLater()
    if not ok:
        print(f"switchboard design: could not write {png}", file=sys.stderr)
        return 1
    print(f"wrote {png} ({pixmap.width()}x{pixmap.height()})")
    return 0


async def _until_closed(app: QApplication) -> None:
    closed = asyncio.get_running_loop().create_future()

    def done() -> None:
        if not closed.done():
            closed.set_result(None)

    app.lastWindowClosed.connect(done)
    # the windows may have closed before the loop started (a timer that ran early)
    if not any(w.isVisible() for w in app.topLevelWidgets() if w.isWindow()):
        return
    await closed


def run_window(app: QApplication) -> int:
    """Run qasync's event loop until the last window closes."""
    app.setQuitOnLastWindowClosed(False)  # the coroutine ends the loop, not app.quit()
    qasync.run(_until_closed(app))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(list(argv) if argv is not None else None)
    if args.screenshot:
        return take_screenshot(args.file, args.screenshot, args.theme or "light")

    app = make_app()
    settings = AppSettings()
    theme_name = args.theme or settings.theme()
    theme.apply_theme(app, theme_name)
    app.setWindowIcon(theme.icon("app"))
    window = MainWindow(settings, Autosave())
    window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    if args.file:
        window.open_path(args.file)  # on failure its problems dialog shows over an empty window
    window.show()
    QTimer.singleShot(0, window.offer_recovery)
    return run_window(app)
