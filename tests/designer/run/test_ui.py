"""Running the examples from the designer: states on the canvas, the log, results, history, emit."""

from __future__ import annotations

import json
import re

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from designer.canvas.flow import edge_flow
from designer.run.ui import RunUI
from tests.designer.run_support import WORKFLOWS, ui_factory, wait_run, write

POLICY = WORKFLOWS / "policy_change.yaml"
EXPECTED_PASS = {
    "updatePolicy": "succeeded",
    "check": "succeeded",
    "sendUpdate": "succeeded",
    "adminSuccess": "succeeded",
    "revertPolicy": "skipped",
    "adminFailure": "skipped",
}


@pytest.fixture
def open_ui(qtbot, tmp_path):
    yield from ui_factory(qtbot, tmp_path)


def _run(qtbot, ui: RunUI, text: str = '{"policyId": "P-7"}', scenario: str | None = None):
    ui.input_editor.set_text(text)
    assert ui.toolbar.select_environment("mock")
    assert ui.toolbar.select_scenario(scenario)
    run_id = ui.run()
    assert run_id is not None, ui.last_message
    return wait_run(qtbot, ui, run_id)


def test_policy_change_on_mocks_every_step_on_canvas_and_log(qtbot, open_ui):
    ui = open_ui(POLICY)
    assert ui.toolbar.current_choice().env == "mock"  # the environments file's default
    rec = _run(qtbot, ui)
    assert rec.result.status == "succeeded"
    # the canvas items carry the states (not only the record)
    nodes = ui.view.canvas.nodes
    assert {sid: n.state for sid, n in nodes.items()} == EXPECTED_PASS
    assert ui.presenter.states() == EXPECTED_PASS
    # virtual time, reported as if real: a 5 s timeout, a jittered back-off, Retry-After 1 s
    assert re.fullmatch(r"6(\.\d+)? s · 3 attempts", ui.presenter.note("check"))
    lines = ui.log_panel.shown_lines()
    for sid in ("updatePolicy", "check", "sendUpdate", "adminSuccess"):
        assert any(
            line.step == sid and line.level == "success" and "succeeded" in line.message
            for line in lines
        ), sid
    assert any(
        line.message == "Policy P-7 passed compliance after 3 attempt(s) and is live."
        for line in lines
    )
    assert lines[-1].message.startswith("run policyChange succeeded")
    assert ui.history.run_ids() == [rec.run_id]
    assert ui.toolbar.run_action.isEnabled() and not ui.toolbar.stop_action.isEnabled()


def test_compliance_fails_scenario_shows_the_failure_path(qtbot, open_ui):
    ui = open_ui(POLICY)
    rec = _run(qtbot, ui, '{"policyId": "P-8"}', scenario="complianceFails")
    states = ui.presenter.states()
    assert states["check"] == "succeeded"
    assert states["revertPolicy"] == "succeeded" and states["adminFailure"] == "succeeded"
    assert states["sendUpdate"] == "skipped" and states["adminSuccess"] == "skipped"
    assert rec.result.output["compliance"] == "fail"
    # the path taken stays drawn on the edges: the rollback branch, not the success branch
    flows = {key: edge_flow(e.src.state, e.dst.state) for key, e in ui.view.canvas.edges.items()}
    assert flows == {
        ("updatePolicy", "check"): "taken",
        ("check", "revertPolicy"): "taken",
        ("revertPolicy", "adminFailure"): "taken",
        ("check", "sendUpdate"): "skipped",
        ("sendUpdate", "adminSuccess"): "skipped",
    }
    assert any(
        line.level == "error" and line.step == "adminFailure" and "rolled back" in line.message
        for line in ui.log_panel.shown_lines()
    )


def test_failing_step_is_marked_failed_on_the_right_step(qtbot, open_ui):
    ui = open_ui(POLICY)
    rec = _run(qtbot, ui, '{"policyId": "P-10"}', scenario="policyLocked")
    assert rec.result.status == "failed"
    assert ui.view.canvas.nodes["updatePolicy"].state == "failed"
    assert {ui.view.canvas.nodes[s].state for s in EXPECTED_PASS if s != "updatePolicy"} == {
        "cancelled"
    }
    assert ui.history.items[rec.run_id].text(0) == "failed"


def test_retrying_step_shows_its_attempts_in_step_results(qtbot, open_ui):
    ui = open_ui(POLICY)
    _run(qtbot, ui)
    ui.view.select_steps(["check"])
    results = ui.results
    labels = [
        results.attempts.topLevelItem(i).text(0)
        for i in range(results.attempts.topLevelItemCount())
    ]
    assert [label.split()[:2] for label in labels] == [
        ["#1", "timeout"],
        ["#2", "503"],
        ["#3", "200"],
    ]
    text = results.text.toPlainText()  # the last attempt is chosen
    assert "post http://complianceservice/runcheck" in text.lower()
    assert '"policyId": "P-7"' in text and "RESPONSE 200" in text
    results.attempts.setCurrentItem(results.attempts.topLevelItem(1))
    text = results.copy()
    assert "RESPONSE 503" in text and "retry-after: 1" in text.lower()


def test_retrying_state_and_next_delay_show_live(qtbot, open_ui, tmp_path):
    folder = tmp_path / "flows"
    write(
        folder,
        "flaky.yaml",
        """
version: 1
name: flaky
steps:
  - id: call
    service: Api
    action: flaky
    retry: {attempts: 3, delay: 400ms, backoff: 1, jitter: none}
""",
    )
    write(
        folder,
        "flaky.mocks.yaml",
        """
version: 1
mocks:
  Api.flaky:
    - status: 503
    - status: 503
    - status: 200
      body: {ok: true}
""",
    )
    ui = open_ui(folder / "flaky.yaml")
    assert ui.toolbar.select_environment("flaky.mocks.yaml")
    ui.toolbar.real_time_action.setChecked(True)  # so the retry can be seen while it waits
    run_id = ui.run()
    qtbot.waitUntil(lambda: ui.presenter.states().get("call") == "retrying", timeout=5000)
    assert ui.presenter.note("call").startswith("attempt 1 of 3 failed · next in 400 ms")
    rec = wait_run(qtbot, ui, run_id)
    assert rec.steps["call"].attempts == 3
    assert ui.presenter.states() == {"call": "succeeded"}
    assert ui.presenter.note("call").endswith("3 attempts")


def test_edit_clears_states_and_history_pick_brings_them_back(qtbot, open_ui):
    ui = open_ui(POLICY)
    first = _run(qtbot, ui)
    second = _run(qtbot, ui, '{"policyId": "P-8"}', scenario="complianceFails")
    assert ui.history.run_ids() == [second.run_id, first.run_id]
    ui.document.move_steps({"check": ((240, 0), (260, 20))})
    assert ui.presenter.states() == {}
    assert all(n.state is None for n in ui.view.canvas.nodes.values())
    ui.history.pick(first.run_id)
    assert ui.presenter.states() == EXPECTED_PASS
    assert {line.run_id for line in ui.log_panel.shown_lines()} == {first.run_id}
    ui.log_panel.set_run_filter(None)
    assert {line.run_id for line in ui.log_panel.shown_lines()} >= {first.run_id, second.run_id}


def test_emit_event_starts_the_triggered_workflow(qtbot, open_ui):
    ui = open_ui(POLICY)
    assert ui.emit_event("policyChangeSuggested", {"policyId": "P-7"})
    wait_run(qtbot, ui)
    outcome = ui.controller.last_outcome
    assert outcome.kind == "emit" and len(outcome.run_ids) == 1
    rec = ui.controller.records[outcome.run_ids[0]]
    assert rec.workflow == "policyChange" and rec.source == "emit"
    assert rec.result.status == "succeeded"
    assert ui.presenter.states() == EXPECTED_PASS  # the open workflow's run is on the canvas


def test_emit_event_starts_a_sibling_workflow_not_shown_on_canvas(qtbot, open_ui):
    ui = open_ui(WORKFLOWS / "emergency_dispatch.yaml")
    dialog = ui.open_emit_dialog()
    assert "policyChangeSuggested" in [
        dialog.event_combo.itemText(i) for i in range(dialog.event_combo.count())
    ]
    dialog.event_combo.setCurrentText("policyChangeSuggested")
    dialog.payload.setPlainText("policyId: P-7\n")  # YAML works as well as JSON
    dialog.buttons.accepted.emit()
    wait_run(qtbot, ui)
    rec = ui.controller.records[ui.controller.last_outcome.run_ids[0]]
    assert rec.workflow == "policyChange" and rec.result.status == "succeeded"
    assert not rec.on_canvas and ui.presenter.states() == {}
    assert "policyChange (emit)" in ui.history.items[rec.run_id].text(1)


def test_emit_of_an_event_nobody_listens_for_says_so(qtbot, open_ui):
    ui = open_ui(POLICY)
    ui.emit_event("nobodyListens", None)
    wait_run(qtbot, ui)
    assert "has trigger 'nobodyListens' (events listened for: " in ui.last_message
    assert "policyChangeSuggested" in ui.last_message


def test_input_is_checked_against_the_schema_and_remembered(qtbot, open_ui):
    ui = open_ui(POLICY)
    ui.input_editor.set_text('{"policyId": "X"}')
    assert ui.run() is None
    assert "input.policyId" in ui.last_message and "does not match" in ui.last_message
    assert not ui.controller.busy and ui.history.run_ids() == []
    ui.input_editor.set_text("{policyId: [")
    assert "not valid JSON or YAML" in ui.input_editor.problem
    ui.input_editor.set_text("policyId: P-12\nsuggestedBy: test\n")
    assert ui.input_editor.problem is None
    # a second window on the same settings file gets the same input back
    other = open_ui(POLICY)
    settings = ui.window.settings.qsettings
    other.input_editor.settings = settings
    other.input_editor._key = None
    other.input_editor.set_workflow(other.document.workflow, other.document.path)
    assert other.input_editor.value() == ({"policyId": "P-12", "suggestedBy": "test"}, None)


def test_log_filter_by_level_step_and_text_and_export(qtbot, open_ui, tmp_path):
    ui = open_ui(POLICY)
    _run(qtbot, ui)
    panel = ui.log_panel
    total = panel.model.rowCount()
    panel.set_levels(["warning"])
    warnings = panel.shown_lines()
    assert len(warnings) == 2 and all(line.step == "check" for line in warnings)
    panel.set_levels(["debug", "info", "success", "warning", "error"])
    panel.set_step_filter("check")
    assert {line.step for line in panel.shown_lines()} == {"check"}
    panel.set_step_filter(None)
    panel.set_search("http 503")  # not a bare "503": a run id's hex digits may hold it
    assert [line.level for line in panel.shown_lines()] == ["warning"]
    assert panel.count_label.text() == f"1 of {total:,} lines"
    panel.set_search("")
    assert panel.model.rowCount() == total
    out = tmp_path / "log.jsonl"
    assert panel.export(out) == total
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(rows) == total
    assert set(rows[0]) == {"time", "level", "step", "message", "run", "workflow"}
    assert rows[-1]["message"].startswith("run policyChange succeeded")
    assert rows[0]["time"].endswith("Z")


def test_log_click_selects_the_step_and_copy(qtbot, open_ui):
    ui = open_ui(POLICY)
    _run(qtbot, ui)
    panel = ui.log_panel
    row = next(i for i, line in enumerate(panel.shown_lines()) if line.step == "check")
    index = panel.model.index(row, 3)
    panel.table.scrollTo(index)
    rect = panel.table.visualRect(index)
    from PySide6.QtCore import Qt

    ui.log_dock.show()
    ui.log_dock.raise_()
    qtbot.waitUntil(lambda: panel.table.isVisible())
    qtbot.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert ui.view.selected_ids() == ["check"]
    assert ui.results.step_id == "check"
    copied = panel.copy_lines()
    assert copied.count("\n") == 0 and "\tcheck\t" in copied


def test_clear_log(qtbot, open_ui):
    ui = open_ui(POLICY)
    _run(qtbot, ui)
    assert ui.log_panel.model.rowCount() > 0
    ui.log_panel.clear()
    assert ui.log_panel.model.rowCount() == 0 and ui.log_panel.model.total == 0


def test_run_is_refused_while_the_workflow_has_problems(qtbot, open_ui):
    ui = open_ui(POLICY)
    ui.document.set_step_field("check", "if_", "${ steps.check.output. }")
    qtbot.waitUntil(lambda: bool(ui.document.problems))  # validation follows edits shortly
    ui.input_editor.set_text('{"policyId": "P-7"}')
    assert ui.run() is None
    assert "Cannot run: the workflow has 1 problem" in ui.last_message
    assert "(step check)" in ui.last_message
    assert not ui.controller.busy


def test_a_foreach_step_notes_its_items(qtbot, open_ui):
    ui = open_ui(WORKFLOWS / "policy_review.yaml")
    assert ui.toolbar.select_environment("mock")
    rec = wait_run(qtbot, ui, ui.run())
    assert rec.result.status == "succeeded"
    view = rec.steps["review"]
    assert view.items == 6 == len(rec.result.steps["review"].output)
    assert ui.presenter.note("review").endswith("· 6 items")


def test_run_right_after_an_edit_checks_that_edit_first(qtbot, open_ui):
    ui = open_ui(POLICY)
    ui.document.validate_now()
    ui.document.set_step_field("check", "if_", "${ steps.check.output. }")
    assert not ui.document.problems  # the edit's check is still waiting on its timer
    ui.input_editor.set_text('{"policyId": "P-7"}')
    assert ui.run() is None
    assert "Cannot run: the workflow has 1 problem" in ui.last_message
    assert not ui.controller.busy


def test_problems_show_on_opening_and_the_log_once_a_run_starts(qtbot, open_ui):
    ui = open_ui(POLICY)
    problems_dock = ui.window.problems_dock

    def on_top(dock):
        return not dock.visibleRegion().isEmpty()

    qtbot.waitUntil(lambda: on_top(problems_dock))
    assert not on_top(ui.log_dock)
    _run(qtbot, ui)
    qtbot.waitUntil(lambda: on_top(ui.log_dock))
    assert not on_top(problems_dock)


def test_emit_dialog_defaults_to_the_open_workflows_trigger(qtbot, open_ui):
    ui = open_ui(POLICY)  # its folder's workflows listen for emergencyReported, sorted first
    ui.toolbar.emit_action.trigger()
    dialog = ui.dialog
    assert dialog is not None and dialog.isVisible()
    events = [dialog.event_combo.itemText(i) for i in range(dialog.event_combo.count())]
    assert "emergencyReported" in events
    assert dialog.event_combo.currentText() == "policyChangeSuggested"
    dialog.payload.setFocus()
    qtbot.keyClicks(dialog.payload, "policyId: P-7")
    qtbot.mouseClick(
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton
    )
    wait_run(qtbot, ui)
    rec = ui.controller.records[ui.controller.last_outcome.run_ids[0]]
    assert rec.workflow == "policyChange" and rec.result.status == "succeeded"
