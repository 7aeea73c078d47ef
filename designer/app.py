"""The designer application: `switchboard design` once its arguments are parsed (see `command`).

Starts the designer on qasync's event loop. `--run` runs FILE once the window is up (with
`--screenshot`, to its end, so the picture shows the run's states on the canvas).
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import ctypes.util
import os
import sys
import tempfile
from pathlib import Path
from typing import NamedTuple

import qasync
from PySide6.QtCore import QCoreApplication, QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication

from designer.document.workflow_document import read_for_editing
from designer.shared import theme
from designer.window import AppSettings, Autosave, MainWindow
from engine import LoadError, Problem, Workflow

__all__ = [
    "run_parsed",
    "make_app",
    "take_screenshot",
    "run_window",
    "RunOptions",
    "display_problem",
    "ORGANIZATION",
    "APPLICATION",
]

ORGANIZATION = "Switchboard"
APPLICATION = "Switchboard Designer"
SCREENSHOT_SIZE = (1600, 1000)


def make_app() -> QApplication:
    """The QApplication (reusing one that exists, as under pytest-qt), named for QSettings."""
    QCoreApplication.setOrganizationName(ORGANIZATION)
    QCoreApplication.setApplicationName(APPLICATION)
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        QApplication.setHighDpiScaleFactorRoundingPolicy(
            Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
        )
        app = QApplication(sys.argv[:1] or ["switchboard"])
    return app


def take_screenshot(
    path: str | None, png: str, theme_name: str = "light", run: RunOptions | None = None
) -> int:
    """Render the window with `path` open (and run, with `run`) to `png`. Returns an exit
    code."""
    app = make_app()
    theme.apply_theme(app, theme_name)
    read = None
    if path is not None:
        try:  # read once here, to say why on stderr: there is nobody to read a dialog
            read = read_for_editing(path)
        except (LoadError, OSError) as e:
            print(f"switchboard design: cannot open {path}:\n{e}", file=sys.stderr)
            return 1
    # a screenshot must look the same on every machine: no remembered geometry or recent files
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = QSettings(str(Path(scratch_dir) / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(AppSettings(scratch), autosave=None)
        return _grab(app, window, path, png, run, read)


def _grab(
    app: QApplication,
    window: MainWindow,
    path: str | None,
    png: str,
    run: RunOptions | None = None,
    read: tuple[Workflow, tuple[str, list[Problem]]] | None = None,
) -> int:
    window.resize(*SCREENSHOT_SIZE)
    if run is None:
        window.run_ui.cancel_warm_up()
    if path is not None:
        window.open_path(path, read)
    window.show()
    app.processEvents()
    window.document.validate_if_pending()  # opening checked the file
    if run is not None:
        from designer.run import run_and_wait

        try:
            result = run_and_wait(window, run.env, run.scenario)
        except (ValueError, RuntimeError) as e:
            print(f"switchboard design: cannot run {path}: {e}", file=sys.stderr)
            window.hide()
            window.deleteLater()
            return 1
        print(f"run {result.status} in {result.duration_ms} ms")
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


class RunOptions(NamedTuple):
    """`--run` with its `--env` and `--scenario`."""

    env: str | None
    scenario: str | None


def _start_run(window: MainWindow, options: RunOptions) -> None:
    from designer.run import start_run

    try:
        start_run(window, options.env, options.scenario)
    except ValueError as e:
        window.statusBar().showMessage(f"Cannot run: {e}", 15000)


def display_problem(screenshot: bool) -> str | None:
    """Why no window could be shown here (before Qt aborts the process saying less), or None.

    A screenshot needs no screen: without one it is taken offscreen."""
    if os.environ.get("QT_QPA_PLATFORM") or not sys.platform.startswith("linux"):
        return None  # the platform was chosen, or Windows/macOS always have one
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        if screenshot:
            os.environ["QT_QPA_PLATFORM"] = "offscreen"
            return None
        return (
            "no display to open a window on (DISPLAY and WAYLAND_DISPLAY are unset). "
            "Run it in a desktop session (or over ssh -X, or under xvfb-run); for a picture "
            "without a screen add --screenshot out.png"
        )
    if os.environ.get("WAYLAND_DISPLAY"):
        return None
    missing = _missing_x11_library()
    if missing is not None:
        return (
            f"Qt cannot open windows on X11 here: {missing}. Install the X11 libraries Qt "
            f"needs (Debian/Ubuntu: sudo apt install {' '.join(X11_PACKAGES)}; Fedora: "
            "sudo dnf install xcb-util-cursor xcb-util-wm xcb-util-keysyms "
            "xcb-util-image xcb-util-renderutil libxkbcommon-x11)"
        )
    if not _x_display_answers():
        return (
            f"cannot connect to the X display {os.environ.get('DISPLAY')!r}: is the X "
            "server running, and may this user use it (xhost, XAUTHORITY)?"
        )
    return None


X11_PACKAGES = (
    "libxcb-cursor0",
    "libxcb-icccm4",
    "libxcb-keysyms1",
    "libxcb-image0",
    "libxcb-render-util0",
    "libxkbcommon-x11-0",
    "libxcb-xinerama0",
)


def _missing_x11_library() -> str | None:
    """What keeps Qt's X11 platform plugin from loading (Qt itself blames libxcb-cursor0
    whatever is missing), or None."""
    if ctypes.util.find_library("xcb-cursor") is None:
        return "libxcb-cursor.so.0 is not installed"
    from PySide6.QtCore import QLibraryInfo

    plugin = (
        Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)) / "platforms" / "libqxcb.so"
    )
    if not plugin.exists():
        return None
    try:
        ctypes.CDLL(str(plugin))  # loads what the plugin links to, as Qt would
    except OSError as e:
        return str(e)  # "libxcb-icccm.so.4: cannot open shared object file: …"
    return None


def _x_display_answers() -> bool:
    """Whether the X server named by DISPLAY accepts a connection (asked through libxcb, which
    Qt's X11 support loads anyway); True when that cannot be asked."""
    name = ctypes.util.find_library("xcb")
    if name is None:
        return True
    try:
        xcb = ctypes.CDLL(name)
        xcb.xcb_connect.restype = ctypes.c_void_p
        xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
        xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
        xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
        conn = xcb.xcb_connect(None, None)
        failed = xcb.xcb_connection_has_error(conn)
        xcb.xcb_disconnect(conn)
    except (OSError, AttributeError):
        return True
    return not failed


def run_parsed(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Open the designer as the parsed arguments say; an exit code."""
    run = RunOptions(args.env, args.scenario) if args.run else None
    if (args.env or args.scenario) and not args.run:
        parser.error("--env and --scenario go with --run")
    if args.run and not args.file:
        parser.error("--run needs a workflow FILE to run")
    problem = display_problem(bool(args.screenshot))
    if problem is not None:
        print(f"switchboard design: {problem}", file=sys.stderr)
        return 2
    if args.screenshot:
        return take_screenshot(args.file, args.screenshot, args.theme or "light", run)

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
    if run is not None:
        QTimer.singleShot(0, lambda: _start_run(window, run))
    return run_window(app)
