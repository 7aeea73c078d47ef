"""Run → Check Responses Against Contracts: off by default, remembered in the settings; on, a
live run against a real HTTP service on 127.0.0.1 that answers out of its OpenAPI contract gets
each mismatch as a warning in Run Log and in Problems (a row per mismatch, its step selected on
a click); off again, none."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from designer.run.contract_check import CONTRACT
from engine.cli import main
from tests.designer.run_support import LocalService, wait_run, write
from tests.designer.window_support import make_settings, make_window

SPEC = """
openapi: 3.0.3
info: {title: Api, version: "1"}
servers: [{url: "http://127.0.0.1:9"}]
paths:
  /thing:
    post:
      operationId: thing
      responses:
        "200":
          description: the thing
          content:
            application/json:
              schema:
                type: object
                required: [id, name]
                properties:
                  id: {type: string}
                  name: {type: string}
"""

FLOW = """
version: 1
name: contractFlow
steps:
  - id: fetch
    service: Api
    action: thing
    with: {ask: 1}
"""


@pytest.fixture
def service():
    with LocalService() as srv:
        yield srv


def _folder(tmp_path, url):
    folder = tmp_path / "flows"
    write(folder, "flow.yaml", FLOW)
    write(
        folder,
        "environments.yaml",
        f"version: 1\ndefault: local\nenvironments:\n  local:\n    services: {{Api: '{url}'}}\n",
    )
    spec = write(tmp_path, "api.openapi.yaml", SPEC)
    args = ["import-openapi", str(spec), "--service", "Api", "--into", str(folder)]
    assert main(args) == 0
    return folder


def _contract_rows(window):
    tree = window.problems.tree
    return [
        tree.topLevelItem(i)
        for i in range(tree.topLevelItemCount())
        if tree.topLevelItem(i).text(0).startswith(f"{CONTRACT}: ")
    ]


def test_contract_mismatches_show_in_the_log_and_problems(qtbot, tmp_path, service):
    folder = _folder(tmp_path, service.url)
    settings = make_settings(tmp_path)
    window = make_window(qtbot, tmp_path / "w", settings=settings)
    assert window.open_path(str(folder / "flow.yaml"))
    ui = window.run_ui
    action = ui.contracts.action
    assert action in ui.menu.actions() and action.isCheckable()
    assert not action.isChecked()  # off by default, as `run` without --check-contract
    plain = wait_run(qtbot, ui, ui.run())
    assert plain.result.status == "succeeded"
    assert _contract_rows(window) == []

    action.trigger()  # Run → Check Responses Against Contracts
    assert action.isChecked()
    rec = wait_run(qtbot, ui, ui.run())
    assert rec.result.status == "succeeded"  # a check warns; it does not fail the run
    expected = {
        "step fetch: Api.thing answered 200: the body breaks thing's 200 response schema at "
        "$: 'name' is a required property",
        "step fetch: Api.thing answered 200: the body breaks thing's 200 response schema at "
        "$.id: 7 is not of type 'string'",
    }
    warned = [
        ln for ln in ui.log_panel.shown_lines() if ln.level == "warning" and ln.run_id == rec.run_id
    ]
    assert {ln.message for ln in warned} == expected and {ln.step for ln in warned} == {"fetch"}
    rows = _contract_rows(window)
    assert {r.text(1) for r in rows} == expected
    assert {r.text(0) for r in rows} == {f"{CONTRACT}: fetch"}
    window.view.select_steps([])
    tree = window.problems.tree
    rect = tree.visualItemRect(rows[0])
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: window.view.selected_ids() == ["fetch"])

    action.trigger()  # off again: the next run's list (empty) replaces the last one's
    wait_run(qtbot, ui, ui.run())
    assert _contract_rows(window) == []

    action.trigger()
    again = make_window(qtbot, tmp_path / "w2", settings=settings)  # remembered
    assert again.run_ui.contracts.action.isChecked()


def test_an_emitted_events_runs_are_checked_too(qtbot, tmp_path, service):
    """Emit Event with the check on: the runs the event starts are checked, and each Emit Event
    makes a new list."""
    folder = _folder(tmp_path, service.url)
    flow = folder / "flow.yaml"
    flow.write_text(FLOW.replace("name: contractFlow\n", "name: contractFlow\ntrigger: ask\n"))
    window = make_window(qtbot, tmp_path / "w", settings=make_settings(tmp_path))
    assert window.open_path(str(flow))
    ui = window.run_ui
    ui.contracts.action.trigger()
    for _ in range(2):
        assert ui.emit_event("ask", None)
        wait_run(qtbot, ui)
        outcome = ui.controller.last_outcome
        assert outcome.kind == "emit" and len(outcome.run_ids) == 1
        rows = _contract_rows(window)
        assert len(rows) == 2  # the second Emit Event replaced the first one's rows
        assert {r.text(0) for r in rows} == {f"{CONTRACT}: fetch"}
        assert any("$.id: 7 is not of type 'string'" in r.text(1) for r in rows)
