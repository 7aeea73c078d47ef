"""Run from the selected step / run it alone: the steps before it replay the last run."""

from __future__ import annotations

from PySide6.QtCore import Qt

from designer.run.run_from import run_from_step
from tests.designer.run_support import WORKFLOWS, wait_run
from tests.designer.window_support import make_window

POLICY = WORKFLOWS / "policy_change.yaml"


def _window(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path)
    assert w.open_path(str(POLICY))
    ui = w.run_ui
    ui.input_editor.set_text('{"policyId": "P-7"}')
    assert ui.toolbar.select_environment("mock")
    return w, ui


def test_run_from_here_needs_a_run_first_then_replays_the_steps_before(qtbot, tmp_path):
    w, ui = _window(qtbot, tmp_path)
    from_here, only = ui.run_from_actions
    w.select_step("sendUpdate")
    assert from_here.isEnabled()
    from_here.trigger()
    assert not ui.controller.busy and "run the workflow once first" in ui.last_message
    first = wait_run(qtbot, ui, ui.run())
    check_first = first.steps["check"]

    w.select_step("sendUpdate")
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=2000)
    w.view.setFocus()
    qtbot.keyClick(w.view, Qt.Key.Key_F6)
    assert ui.controller.busy, ui.last_message
    wait_run(qtbot, ui)
    rec = list(ui.controller.records.values())[-1]
    assert rec.run_id != first.run_id
    steps = rec.result.steps
    # replayed: no attempt made, the first run's output and attempt count
    assert steps["updatePolicy"].output == first.steps["updatePolicy"].output
    assert steps["check"].output == check_first.output
    assert steps["check"].attempts == check_first.attempts == 3
    assert rec.steps["check"].calls == ()  # nothing was sent
    assert steps["sendUpdate"].status == "succeeded" and steps["adminSuccess"].status == "succeeded"
    # it ran in virtual time from the pins: no 6 s of retries this time
    assert rec.result.duration_ms < first.result.duration_ms


def test_run_this_step_runs_it_alone(qtbot, tmp_path):
    w, ui = _window(qtbot, tmp_path)
    wait_run(qtbot, ui, ui.run())
    w.select_step("sendUpdate")
    run_id = run_from_step(ui, "sendUpdate", only=True)
    assert run_id is not None, ui.last_message
    rec = wait_run(qtbot, ui, run_id)
    states = {sid: r.status for sid, r in rec.result.steps.items()}
    assert states["sendUpdate"] == "succeeded"
    assert states["adminSuccess"] == "skipped"  # after it: not run
    assert states["revertPolicy"] == "skipped"
    assert not w.document.workflow.step("adminSuccess").disabled  # only the snapshot
