"""`switchboard design`: argument parsing, the screenshot mode and the qasync event loop."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
import qasync
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from designer import app as design_app
from designer import command as design_command
from designer.window import settings as design_files
from designer.window.main_window import MainWindow
from engine import cli
from tests.designer.window_support import REPO, WORKFLOWS


def test_parser_is_extendable_and_reads_file_and_screenshot():
    parser = design_command.build_parser()
    parser.add_argument("--later")  # what a later feature does
    args = parser.parse_args(
        [
            "w.yaml",
            "--screenshot",
            "out.png",
            "--run",
            "--env",
            "mock",
            "--scenario",
            "complianceFails",
            "--later",
            "x",
        ]
    )
    assert (args.file, args.screenshot, args.run, args.env, args.scenario, args.later) == (
        "w.yaml",
        "out.png",
        True,
        "mock",
        "complianceFails",
        "x",
    )
    assert parser.parse_args([]).file is None


def test_screenshot_writes_a_png_of_the_whole_window(qapp, tmp_path, capsys):
    out = tmp_path / "shot.png"
    code = cli.main(["design", str(WORKFLOWS / "policy_change.yaml"), "--screenshot", str(out)])
    assert code == 0
    image = QImage(str(out))
    assert not image.isNull()
    assert (image.width(), image.height()) == design_app.SCREENSHOT_SIZE
    assert out.stat().st_size > 20_000  # a real picture, not a blank frame
    # the picture is not one flat colour: count distinct colours in a sample
    colours = {
        image.pixel(x, y) for x in range(0, image.width(), 37) for y in range(0, image.height(), 41)
    }
    assert len(colours) > 20
    assert "wrote" in capsys.readouterr().out


def test_screenshot_of_a_bad_file_fails_and_says_where(qapp, tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nname: x\nname: y\nsteps: []\n")
    out = tmp_path / "shot.png"
    assert design_command.main([str(bad), "--screenshot", str(out)]) == 1
    assert not out.exists()
    err = capsys.readouterr().err
    assert f"{bad}:3:1" in err


@pytest.fixture
def isolated_settings(tmp_path, monkeypatch):
    """Default QSettings and the autosave folder redirected under tmp_path."""
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "cfg"))
    monkeypatch.setattr(design_files, "default_autosave_dir", lambda: tmp_path / "autosave")
    yield tmp_path
    QSettings.setDefaultFormat(QSettings.Format.NativeFormat)


def test_main_runs_the_window_on_qasync_until_it_closes(qapp, isolated_settings):
    seen: dict[str, object] = {}

    def close_when_shown() -> None:
        windows = [
            w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()
        ]
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if not windows or loop is None:
            QTimer.singleShot(10, close_when_shown)
            return
        seen["loop"] = loop
        seen["title"] = windows[0].windowTitle()
        seen["steps"] = len(windows[0].document.workflow.steps)
        windows[0].close()

    QTimer.singleShot(0, close_when_shown)
    assert design_command.main([str(WORKFLOWS / "policy_change.yaml")]) == 0
    assert isinstance(seen["loop"], qasync.QEventLoop)  # qasync's loop drove the window
    assert str(seen["title"]).startswith("policy_change.yaml")
    assert seen["steps"] == 6
    # closing remembered the file and the window layout in the (temporary) settings
    settings = design_files.AppSettings()
    assert settings.recent_files() == [str(WORKFLOWS / "policy_change.yaml")]
    assert settings.window_geometry() is not None
    assert (isolated_settings / "cfg").is_dir()


def _no_display(monkeypatch):
    for name in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(design_app.sys, "platform", "linux")


def test_without_a_display_the_designer_says_so_instead_of_aborting(monkeypatch):
    _no_display(monkeypatch)
    problem = design_app.display_problem(screenshot=False)
    assert problem is not None and "no display" in problem and "--screenshot" in problem


def test_a_screenshot_needs_no_display(monkeypatch):
    _no_display(monkeypatch)
    assert design_app.display_problem(screenshot=True) is None
    assert design_app.os.environ["QT_QPA_PLATFORM"] == "offscreen"


def test_an_x_display_that_does_not_answer_is_named(monkeypatch):
    _no_display(monkeypatch)
    monkeypatch.setenv("DISPLAY", ":4321")  # no X server there
    problem = design_app.display_problem(screenshot=False)
    assert problem is not None
    # with Qt's X11 libraries installed the display is tried; without, the missing one is named
    assert "cannot connect to the X display ':4321'" in problem or ".so" in problem


def test_a_chosen_qt_platform_is_left_alone(monkeypatch):
    _no_display(monkeypatch)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert design_app.display_problem(screenshot=False) is None


def test_switchboard_design_without_a_display_exits_2_with_the_reason(tmp_path):
    import os
    import subprocess
    import sys

    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")
    }
    proc = subprocess.run(
        [sys.executable, "-m", "engine.cli", "design", str(WORKFLOWS / "policy_change.yaml")],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert "no display to open a window on" in proc.stderr


def _big_workflow_file(folder: Path, n: int = 2000) -> Path:
    from engine import CallStep, Workflow, dump_workflow

    steps = [
        CallStep(id=f"s{i}", service="Svc", action="do", after=[f"s{i - 1}"] if i else [])
        for i in range(n)
    ]
    path = folder / "big.yaml"
    path.write_text(dump_workflow(Workflow(name="big", steps=steps)), encoding="utf-8")
    return path


def test_screenshot_without_a_run_starts_no_engine_process(qapp, tmp_path, monkeypatch):
    from designer.run import engine_process, ui

    started = []
    monkeypatch.setattr(ui, "WARM_UP_DELAY_MS", 0)  # as when building outlasts the delay
    monkeypatch.setattr(engine_process.EngineProcess, "start", lambda self: started.append(1))
    out = tmp_path / "shot.png"
    assert (
        cli.main(["design", str(WORKFLOWS / "policy_change.yaml"), "--screenshot", str(out)]) == 0
    )
    assert out.exists() and started == []


def test_screenshot_of_a_2000_step_workflow_exits_quietly(tmp_path):
    big = _big_workflow_file(tmp_path)
    out = tmp_path / "big.png"
    done = subprocess.run(
        [sys.executable, "-m", "engine.cli", "design", str(big), "--screenshot", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
    )
    assert done.returncode == 0, done.stderr
    assert out.exists()
    # Qt's offscreen plugin notes what it cannot do; nothing else may reach stderr
    noise = [
        line
        for line in done.stderr.splitlines()
        if "does not support propagateSizeHints" not in line
    ]
    assert noise == []
