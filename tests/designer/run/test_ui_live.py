"""Live runs from the designer: a real HTTP service on 127.0.0.1, recording and replay, Stop."""

from __future__ import annotations

import time

import pytest

from tests.designer.run_support import WORKFLOWS, LocalService, ui_factory, wait_run, write

LIVE_FLOW = """
version: 1
name: liveFlow
steps:
  - id: fetch
    service: Api
    action: thing
    headers: {Authorization: "Bearer ${ secrets.TOKEN }"}
    with: {ask: 1}
  - id: flaky
    service: Api
    action: flaky
    retry: {attempts: 3, delay: 10ms, jitter: none}
  - id: done
    notify: {message: "got ${ steps.fetch.output.id }", level: success}
"""
LIVE_STATES = {"fetch": "succeeded", "flaky": "succeeded", "done": "succeeded"}


@pytest.fixture
def open_ui(qtbot, tmp_path):
    yield from ui_factory(qtbot, tmp_path)


@pytest.fixture
def service():
    with LocalService() as srv:
        yield srv


def _live_folder(tmp_path, url):
    folder = tmp_path / "live"
    write(folder, "live.yaml", LIVE_FLOW)
    write(
        folder,
        "environments.yaml",
        f"""
version: 1
default: local
environments:
  local:
    services: {{Api: "{url}"}}
    secrets: {{TOKEN: SB_TEST_UI_TOKEN}}
""",
    )
    return folder


def test_live_run_against_a_local_service(qtbot, open_ui, tmp_path, service, monkeypatch):
    monkeypatch.setenv("SB_TEST_UI_TOKEN", "s3cr3t-value")
    folder = _live_folder(tmp_path, service.url)
    ui = open_ui(folder / "live.yaml")
    choice = ui.toolbar.current_choice()
    assert (choice.env, choice.mode) == ("local", "live")
    assert ui.toolbar.record_action.isEnabled() and not ui.toolbar.real_time_action.isEnabled()
    rec = wait_run(qtbot, ui, ui.run())
    assert rec.result.status == "succeeded", rec.result.error
    assert ui.presenter.states() == LIVE_STATES
    assert service.hits["/thing"] == 1 and service.hits["/flaky"] == 2
    assert service.auth[0] == "Bearer s3cr3t-value"  # the service got the secret …
    ui.view.select_steps(["fetch"])
    text = ui.results.text.toPlainText()
    assert f"POST {service.url}/thing" in text and '"id": 7' in text
    assert "Bearer ***" in text and "s3cr3t" not in text  # … the designer never shows it
    assert all("s3cr3t" not in line.message for line in ui.log_panel.shown_lines())
    ui.view.select_steps(["flaky"])
    assert ui.results.attempts.topLevelItemCount() == 2
    assert ui.presenter.note("flaky").endswith("2 attempts")


def test_recorded_run_replays_with_the_same_states(qtbot, open_ui, tmp_path, service, monkeypatch):
    monkeypatch.setenv("SB_TEST_UI_TOKEN", "t0ken")
    folder = _live_folder(tmp_path, service.url)
    ui = open_ui(folder / "live.yaml")
    ui.toolbar.record_action.setChecked(True)
    live = wait_run(qtbot, ui, ui.run())
    recording = folder / "live.recorded.mocks.yaml"
    assert recording.exists(), ui.last_message
    assert "recorded 3 responses" in ui.last_message
    assert "t0ken" not in recording.read_text()
    hits = dict(service.hits)
    # the recording now appears among the environments; with no mocks-only environment in
    # the file, the replay is hybrid: recorded calls are mocked, any other would go live
    assert ui.toolbar.select_environment("live.recorded.mocks.yaml")
    assert ui.toolbar.current_choice().mode == "hybrid"
    ui.toolbar.record_action.setChecked(False)
    replay = wait_run(qtbot, ui, ui.run())
    assert dict(service.hits) == hits
    assert replay.result.status == live.result.status == "succeeded"
    assert replay.states() == live.states() == LIVE_STATES
    assert {sid: v.attempts for sid, v in replay.steps.items()} == {
        sid: v.attempts for sid, v in live.steps.items()
    }
    assert replay.result.output == live.result.output
    assert ui.presenter.states() == LIVE_STATES
    assert ui.history.run_ids() == [replay.run_id, live.run_id]


def test_stop_cancels_a_long_run_at_once(qtbot, open_ui, tmp_path):
    folder = tmp_path / "long"
    write(
        folder,
        "long.yaml",
        """
version: 1
name: long
steps:
  - id: first
    notify: {message: starting}
  - id: hold
    wait: 1h
  - id: after
    notify: {message: never}
""",
    )
    ui = open_ui(folder / "long.yaml")  # no environments file: live, real time
    run_id = ui.run()
    qtbot.waitUntil(lambda: ui.presenter.states().get("hold") == "running", timeout=5000)
    assert ui.toolbar.stop_action.isEnabled() and not ui.toolbar.run_action.isEnabled()
    t0 = time.perf_counter()
    ui.toolbar.stop_action.trigger()
    rec = wait_run(qtbot, ui, run_id, timeout=3000)
    assert time.perf_counter() - t0 < 2.0
    assert rec.result.status == "cancelled"
    assert ui.presenter.states() == {
        "first": "succeeded",
        "hold": "cancelled",
        "after": "cancelled",
    }
    assert ui.history.items[run_id].text(0) == "cancelled"
    assert ui.toolbar.run_action.isEnabled()


def test_an_unsaved_workflow_runs(qtbot, open_ui):
    from engine import NotifyStep, Workflow

    ui = open_ui()
    ui.document.replace_workflow(
        Workflow(
            name="scratch", steps=[NotifyStep(id="hello", message="hello from an unsaved workflow")]
        ),
        None,
    )
    assert ui.toolbar.current_choice().label == "live (unsaved workflow)"
    rec = wait_run(qtbot, ui, ui.run())
    assert rec.result.status == "succeeded"
    assert ui.view.canvas.nodes["hello"].state == "succeeded"
    assert any(
        line.message == "hello from an unsaved workflow" for line in ui.log_panel.shown_lines()
    )


LONG_FLOW = """
version: 1
name: long
steps:
  - id: hold
    wait: 1h
"""


def test_an_engine_process_that_dies_mid_run_is_reported_and_replaced(qtbot, open_ui, tmp_path):
    import os
    import signal

    folder = tmp_path / "dies"
    write(folder, "long.yaml", LONG_FLOW)
    ui = open_ui(folder / "long.yaml")
    ui.run()
    qtbot.waitUntil(lambda: ui.presenter.states().get("hold") == "running", timeout=10_000)
    pid = ui.controller.process.pid
    os.kill(pid, signal.SIGKILL)  # out of memory, a crash in a C library, a kill -9
    wait_run(qtbot, ui, timeout=5000)
    assert ui.controller.last_outcome.kind == "error"
    assert "engine process stopped unexpectedly" in ui.last_message
    assert ui.toolbar.run_action.isEnabled()
    # the next run gets a new process
    write(folder, "quick.yaml", "version: 1\nname: quick\nsteps:\n  - notify: {message: hi}\n")
    assert ui.window.open_path(str(folder / "quick.yaml"))
    rec = wait_run(qtbot, ui, ui.run())
    assert rec.result.status == "succeeded"
    assert ui.controller.process.pid != pid


def test_a_closed_windows_idle_engine_process_serves_the_next_window(qtbot, open_ui, tmp_path):
    from designer.run.engine_process import EngineProcess

    first = open_ui(WORKFLOWS / "policy_change.yaml")
    wait_run(qtbot, first, first.run())
    process = first.controller.process
    first.controller.shutdown()  # the window goes away with its engine idle
    assert EngineProcess._spare is process and process.running
    second = open_ui(WORKFLOWS / "policy_change.yaml")
    assert second.controller.process is process and EngineProcess._spare is None
    first.window.close()  # lets its engine go again: the process is no longer its to let go
    process.release(first.controller.receive)
    assert EngineProcess._spare is None and process.running
    rec = wait_run(qtbot, second, second.run())
    assert rec.result.status == "succeeded"


def test_an_engine_process_that_cannot_start_ends_the_run_with_the_reason(
    qtbot, open_ui, monkeypatch
):
    ui = open_ui(WORKFLOWS / "policy_change.yaml")

    def refuse(_message):
        raise OSError("[Errno 24] Too many open files")

    monkeypatch.setattr(ui.controller.process, "send", refuse)
    ui.run()
    assert ui.controller.job_future.done()  # nobody waiting on it (--run --screenshot) hangs
    wait_run(qtbot, ui, timeout=5000)
    assert ui.controller.last_outcome.kind == "error"
    assert "could not start" in ui.last_message and "Too many open files" in ui.last_message
    assert ui.toolbar.run_action.isEnabled()
