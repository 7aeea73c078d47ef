"""Run history across restarts (SQLite in the server's store format) and two runs compared."""

from __future__ import annotations

from PySide6.QtCore import Qt

from engine import RunStore
from tests.designer.run_support import WORKFLOWS, wait_run
from tests.designer.window_support import make_window

POLICY = WORKFLOWS / "policy_change.yaml"


def _window(qtbot, folder):
    window = make_window(qtbot, folder)
    assert window.open_path(str(POLICY))
    return window, window.run_ui


def _run(qtbot, ui, text: str, scenario: str | None = None):
    ui.input_editor.set_text(text)
    assert ui.toolbar.select_environment("mock")
    assert ui.toolbar.select_scenario(scenario)
    run_id = ui.run()
    assert run_id is not None, ui.last_message
    return wait_run(qtbot, ui, run_id)


def _close(qtbot, window) -> None:
    ui = window.run_ui
    window.close()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=5000)
    ui.controller.shutdown()


def _click_row(qtbot, ui, run_id: str, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    tree = ui.history.tree
    rect = tree.visualItemRect(ui.history.items[run_id])
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())


def test_history_is_there_after_closing_and_reopening_the_window(qtbot, tmp_path):
    window, ui = _window(qtbot, tmp_path)
    passed = _run(qtbot, ui, '{"policyId": "P-7"}')
    rolled_back = _run(qtbot, ui, '{"policyId": "P-8"}', scenario="complianceFails")
    _close(qtbot, window)

    # the file is the server's store: `switchboard serve`'s code reads it
    store = RunStore(tmp_path / "run-history.sqlite3")
    kept = {r["run"]: r for r in store.list_runs(workflow="policyChange")}
    store.close()
    assert set(kept) == {passed.run_id, rolled_back.run_id}
    assert kept[passed.run_id]["result"]["steps"]["check"]["output"]["status"] == "pass"

    again, ui2 = _window(qtbot, tmp_path)
    ui2.history.show()
    assert ui2.history.run_ids() == [rolled_back.run_id, passed.run_id]
    assert ui2.history.items[passed.run_id].text(0) == "succeeded"
    assert ui2.history.items[passed.run_id].text(2) == "mock"
    # picking an old run shows its states on the canvas, as a run of this session does
    ui2.history_dock.show()
    ui2.history_dock.raise_()
    qtbot.waitUntil(ui2.history.tree.isVisible, timeout=2000)
    _click_row(qtbot, ui2, passed.run_id)
    assert ui2.presenter.states()["revertPolicy"] == "skipped"
    assert ui2.presenter.states()["sendUpdate"] == "succeeded"
    # a new run goes on top of the old ones
    third = _run(qtbot, ui2, '{"policyId": "P-9"}')
    assert ui2.history.run_ids() == [third.run_id, rolled_back.run_id, passed.run_id]


def test_two_runs_compared_side_by_side(qtbot, tmp_path):
    window, ui = _window(qtbot, tmp_path)
    passed = _run(qtbot, ui, '{"policyId": "P-7"}')
    rolled_back = _run(qtbot, ui, '{"policyId": "P-7"}', scenario="complianceFails")
    ui.history_dock.show()
    ui.history_dock.raise_()
    qtbot.waitUntil(ui.history.tree.isVisible, timeout=2000)
    assert not ui.history.compare_button.isEnabled()
    _click_row(qtbot, ui, passed.run_id)
    _click_row(qtbot, ui, rolled_back.run_id, Qt.KeyboardModifier.ControlModifier)
    assert ui.history.compare_button.isEnabled()
    qtbot.mouseClick(ui.history.compare_button, Qt.MouseButton.LeftButton)
    dialog = ui.compare_dialog
    assert dialog is not None and dialog.isVisible()
    assert (dialog.a.run_id, dialog.b.run_id) == (passed.run_id, rolled_back.run_id)
    rows = {r[0]: r for r in dialog.rows}
    assert rows["check"][5] and '"status": "pass"' in rows["check"][2]
    assert '"status": "fail"' in rows["check"][4]
    assert rows["sendUpdate"][1:4:2] == ("succeeded", "skipped")
    assert rows["revertPolicy"][1:4:2] == ("skipped", "succeeded")
    assert not rows["updatePolicy"][5]  # the same answer in both runs
    dialog.only_differences.click()
    assert "updatePolicy" not in dialog.shown_steps() and "check" in dialog.shown_steps()
    dialog.reject()


def test_a_second_window_leaves_the_first_ones_running_run_alone(tmp_path):
    """Each window opens the history file; the server's recovery on open (mark what is running
    as interrupted) would end another window's run in flight."""
    from designer.run.history_store import HistoryStore
    from engine import RunRecord

    first = HistoryStore(tmp_path / "h.sqlite3")
    first.started(RunRecord(run_id="r1", workflow="w", input={"a": 1}))
    second = HistoryStore(tmp_path / "h.sqlite3")
    assert second.get("r1").status == "running"  # not 'failed' (interrupted)
    first.close()
    second.close()
