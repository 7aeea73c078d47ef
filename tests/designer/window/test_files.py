"""Files in the main window: save, reopen, failed saves, bad files, prompts, autosave, recovery."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QMessageBox

from designer.window.problems import LoadProblemsDialog
from designer.window.settings import Autosave, recoverable_autosaves
from engine import load_workflow
from tests.designer.window_support import (
    WORKFLOWS,
    answer,
    make_settings,
    make_window,
    message_box,
    sample_workflow,
)

Button = QMessageBox.StandardButton

EXPECTED_SAVED = """\
version: 1
name: sample
steps:
  - id: fetch
    service: PolicyService
    action: getPolicy
  - id: check
    service: ComplianceService
    action: runCheck
    with:
      v: ${ steps.fetch.output.version }
    timeout: 5s
  - id: report
    notify:
      message: status ${ steps.check.output.status }
  - id: pause
    after: []
    wait: 5s
layout:
  fetch: [0, 0]
  check: [240, 0]
  report: [480, 0]
  pause: [0, 160]
"""


@pytest.fixture
def window(qtbot, tmp_path):
    return make_window(qtbot, tmp_path, sample_workflow())


def _edit_timeout(qtbot, window) -> None:
    window.view.select_steps(["check"])
    edit = window.inspector.step_form.editors["timeout"].input
    edit.setFocus()
    qtbot.keyClicks(edit, "5s")


def test_save_writes_the_expected_yaml_and_reopens_to_the_same_model(qtbot, window, tmp_path):
    _edit_timeout(qtbot, window)
    assert window.isWindowModified()
    target = tmp_path / "sample.yaml"
    assert window.save_to(str(target))
    assert target.read_text(encoding="utf-8") == EXPECTED_SAVED
    assert not window.isWindowModified()
    assert window.windowTitle().startswith("sample.yaml[*]")
    assert window.settings.recent_files()[0] == str(target)
    saved_model = window.document.workflow

    other = make_window(qtbot, tmp_path)
    assert other.open_path(str(target))
    assert other.document.workflow == saved_model
    assert other.document.path == str(target)
    assert not other.isWindowModified()


def test_opening_an_example_and_saving_it_unchanged_keeps_every_byte(qtbot, window, tmp_path):
    copy = tmp_path / "policy_change.yaml"
    shutil.copy(WORKFLOWS / "policy_change.yaml", copy)
    assert window.open_path(str(copy))
    assert window.save()
    assert copy.read_bytes() == (WORKFLOWS / "policy_change.yaml").read_bytes()


def _make_unwritable(directory: Path) -> bool:
    """Make `directory` refuse new files, even for root where chattr works. False if it can't."""
    directory.chmod(0o555)
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", str(directory)], capture_output=True, check=False)
    probe = directory / ".probe"
    try:
        probe.write_text("x")
    except OSError:
        return True
    probe.unlink()
    return False


def _make_writable(directory: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(directory)], capture_output=True, check=False)
    directory.chmod(0o755)


def test_failed_save_in_a_read_only_directory_keeps_the_old_file(qtbot, window, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    target = folder / "sample.yaml"
    assert window.save_to(str(target))
    old = target.read_bytes()
    _edit_timeout(qtbot, window)
    if not _make_unwritable(folder):
        _make_writable(folder)
        pytest.skip("cannot make a directory read-only here (root without chattr)")
    try:
        assert not window.save_to(str(target))
        box = message_box(window)
        assert str(target) in box.text() and "Cannot save" in box.text()
        answer(qtbot, window, Button.Ok)
    finally:
        _make_writable(folder)
    assert target.read_bytes() == old
    assert window.isWindowModified()  # the changes are still unsaved, and still in the window
    assert window.document.workflow.step("check").timeout == 5_000


def test_failed_save_when_the_temporary_file_cannot_be_made_keeps_the_old_file(
    qtbot, window, tmp_path
):
    # a name at the file-system limit leaves no room for the temporary file's suffix
    target = tmp_path / ("w" * 250 + ".yaml")
    target.write_text("version: 1\nname: old\n")
    _edit_timeout(qtbot, window)
    assert not window.save_to(str(target))
    assert "Cannot save" in message_box(window).text()
    answer(qtbot, window, Button.Ok)
    assert target.read_text() == "version: 1\nname: old\n"
    assert window.isWindowModified()


def test_a_bad_file_opens_in_the_yaml_editor_with_its_problems(qtbot, window, tmp_path):
    bad = tmp_path / "bad.yaml"
    text = "version: 1\nname: x\nname: y\nsteps:\n  - servce: A\n    action: b\n"
    bad.write_text(text)
    assert window.open_path(str(bad))
    assert window.dialog is None
    assert window.tabs.currentWidget() is window.yaml_view
    assert window.yaml_view.toPlainText() == text
    problems = window.yaml_view.problems
    assert problems and all(p.line and p.col for p in problems)
    assert any("duplicate" in p.message for p in problems)
    assert (3, 1) in {(p.line, p.col) for p in problems}
    assert window.document.draft == text and window.document.path == str(bad)
    assert str(bad) in window.settings.recent_files()


def test_a_file_that_is_not_text_opens_nothing_and_lists_its_problems(qtbot, window, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"version: 1\nname: \xff\xfe\n")
    before = window.document.workflow
    assert not window.open_path(str(bad))
    dialog = window.dialog
    assert isinstance(dialog, LoadProblemsDialog) and dialog.isVisible()
    rows = dialog.rows()
    assert rows and all(line and col for line, col, _, _ in rows)
    assert window.document.workflow is before and window.document.path is None
    assert str(bad) not in window.settings.recent_files()
    dialog.reject()


def test_a_file_with_rule_problems_opens_with_them_listed(qtbot, window, tmp_path):
    """A bad reference loses nothing when saved, so the file opens and the problem is shown."""
    f = tmp_path / "w.yaml"
    text = (
        "version: 1\nname: w\nsteps:\n  - service: S\n    action: a\n"
        "    with:\n      x: ${ steps.nope.output }\n"
    )
    f.write_text(text)
    assert window.open_path(str(f))
    window.document.validate_now()
    [problem] = window.document.problems
    assert "'steps.nope' names no step" in problem.message
    assert (problem.line, problem.col, problem.step_id) == (7, 10, "a")
    window.document.save(str(f))
    assert f.read_text() == text


def test_new_asks_before_losing_changes(qtbot, window):
    window.document.set_step_field("pause", "wait", 9000)
    window.act.new.trigger()
    assert "not saved" in message_box(window).text()
    answer(qtbot, window, Button.Cancel)
    assert window.document.workflow.name == "sample"
    window.act.new.trigger()
    answer(qtbot, window, Button.Discard)
    assert window.document.workflow.steps == []
    assert not window.isWindowModified()


def test_closing_with_changes_asks_and_save_then_closes(qtbot, window, tmp_path):
    target = tmp_path / "c.yaml"
    assert window.save_to(str(target))
    window.document.set_step_field("pause", "wait", 9000)
    assert window.close() is False  # asked instead
    assert window.isVisible()
    answer(qtbot, window, Button.Save)
    assert not window.isVisible()
    assert load_workflow(str(target)).step("pause").wait == 9_000


def test_dropping_a_yaml_file_on_the_window_opens_it(qtbot, window):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(WORKFLOWS / "policy_change.yaml"))])
    event = QDropEvent(
        QPointF(50, 50),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.dropEvent(event)
    assert window.document.workflow.name == "policyChange"
    assert window.windowTitle().startswith("policy_change.yaml[*]")


def test_recent_menu_lists_opened_files(qtbot, window):
    assert window.open_path(str(WORKFLOWS / "policy_change.yaml"))
    window.act.fill_recent_menu()
    entries = [a for a in window.act.recent_menu.actions() if a.data()]
    assert entries[0].data() == str(WORKFLOWS / "policy_change.yaml")
    window.act.clear_recent.trigger()
    assert window.settings.recent_files() == []


def test_autosave_timer_writes_unsaved_work_and_a_clean_save_removes_it(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path, sample_workflow(), autosave_interval_ms=30)
    window.document.set_step_field("pause", "wait", 7000)
    qtbot.waitUntil(lambda: window.autosave.current_path is not None, timeout=3000)
    autosaved = window.autosave.current_path
    assert autosaved.parent == tmp_path / "autosave"
    assert autosaved.read_text() == window.document.yaml_text()
    assert window.save_to(str(tmp_path / "saved.yaml"))
    assert not autosaved.exists()
    assert list((tmp_path / "autosave").glob("*.yaml")) == []


def test_after_a_crash_the_next_start_offers_to_restore(qtbot, tmp_path):
    target = tmp_path / "work.yaml"
    crashed = make_window(qtbot, tmp_path, sample_workflow())
    assert crashed.save_to(str(target))
    crashed.document.set_step_field("pause", "wait", 11000)
    assert crashed.autosave_now() is not None
    # what a crash leaves: the autosave on disk and nobody holding its session
    crashed.autosave.release()
    crashed.autosave = None
    assert len(recoverable_autosaves(tmp_path / "autosave")) == 1

    window = make_window(qtbot, tmp_path, settings=make_settings(tmp_path))
    window.offer_recovery()
    box = message_box(window)
    assert "work.yaml" in box.text()
    qtbot.mouseClick(box.button(Button.Yes), Qt.MouseButton.LeftButton)  # "Restore"
    assert window.document.path == str(target)
    assert window.document.workflow.step("pause").wait == 11_000
    assert window.isWindowModified()
    # the crashed session's copy is gone; this window keeps its own until saved
    assert recoverable_autosaves(tmp_path / "autosave") == []
    assert window.autosave.current_path is not None
    assert load_workflow(str(target)).step("pause").wait == 5_000  # the file itself untouched


def test_discarding_the_offer_deletes_the_autosave(qtbot, tmp_path):
    leftover = Autosave(tmp_path / "autosave")
    leftover.write("version: 1\nname: lost\nsteps: []\n", None)
    leftover.release()
    window = make_window(qtbot, tmp_path)
    window.offer_recovery()
    assert "untitled" in message_box(window).text()
    answer(qtbot, window, Button.Discard)
    assert recoverable_autosaves(tmp_path / "autosave") == []
    assert window.document.workflow.name == "workflow"


def test_saving_an_untitled_workflow_asks_for_a_name_then_goes_on(qtbot, window, tmp_path):
    from PySide6.QtWidgets import QFileDialog

    window.document.set_step_field("pause", "wait", 2000)
    window.act.new.trigger()
    answer(qtbot, window, Button.Save)  # untitled: Save goes through Save As
    dialog = window.dialog
    assert isinstance(dialog, QFileDialog) and dialog.isVisible()
    target = tmp_path / "named.yaml"
    dialog.selectFile(str(target))
    dialog.accept()
    assert load_workflow(str(target)).step("pause").wait == 2_000
    assert window.document.workflow.steps == []
    assert window.document.path is None  # "New" went on after the save


def test_open_action_uses_a_file_dialog(qtbot, window):
    from PySide6.QtWidgets import QFileDialog

    window.act.open.trigger()
    dialog = window.dialog
    assert isinstance(dialog, QFileDialog) and dialog.isVisible()
    dialog.selectFile(str(WORKFLOWS / "policy_change.yaml"))
    dialog.accept()
    assert window.document.workflow.name == "policyChange"
    assert window.document.path == str(WORKFLOWS / "policy_change.yaml")
