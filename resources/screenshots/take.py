"""Take the README's screenshots: `QT_QPA_PLATFORM=offscreen python resources/screenshots/take.py`.

central-case.png and emergency-dispatch.png are what `switchboard design FILE --screenshot`
writes; run-in-progress.png is taken while a Real Time run of the central case waits to retry
its compliance check (the moment the note says "next in …").
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtTest import QTest

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
WORKFLOWS = ROOT / "workflows"


def run_in_progress(png: Path) -> None:
    from designer.app import SCREENSHOT_SIZE, make_app
    from designer.run.ui import choose
    from designer.shared import theme
    from designer.window.main_window import MainWindow
    from designer.window.settings import AppSettings

    app = make_app()
    theme.apply_theme(app, "light")
    with tempfile.TemporaryDirectory() as scratch_dir:
        settings = AppSettings(
            QSettings(str(Path(scratch_dir) / "s.ini"), QSettings.Format.IniFormat)
        )
        window = MainWindow(settings, autosave=None)
        window.resize(*SCREENSHOT_SIZE)
        window.open_path(str(WORKFLOWS / "policy_change.yaml"))
        window.show()
        QTest.qWaitForWindowExposed(window)
        ui = window.run_ui
        choose(ui, "mock", None)
        ui.toolbar.real_time_action.setChecked(True)
        ui.input_editor.set_text('{"policyId": "P-7"}')
        if ui.run() is None:
            sys.exit(f"the run did not start: {ui.last_message}")
        for _ in range(2000):  # at most ~30 s: the first attempt times out after 5 s
            QTest.qWait(15)
            if "next in" in ui.presenter.note("check"):
                break
        else:
            sys.exit("the check never waited to retry")
        window.view.fit_to_view()
        QTest.qWait(50)
        window.grab().save(str(png), "PNG")
        ui.controller.stop()
        QTest.qWait(300)
        ui.controller.shutdown()
        window.hide()
    print(f"wrote {png}")


def main() -> None:
    from designer.app import take_screenshot

    for name, file in (
        ("central-case", "policy_change.yaml"),
        ("emergency-dispatch", "emergency_dispatch.yaml"),
    ):
        take_screenshot(str(WORKFLOWS / file), str(OUT / f"{name}.png"))
    run_in_progress(OUT / "run-in-progress.png")


if __name__ == "__main__":
    main()
