"""Run in the designer with an environment that says `engine: temporal`: the run goes to a dev
server (from the installed wheel, on 127.0.0.1) and a `switchboard worker`, and the canvas shows
its states as for a local run — a long step running while it runs, then every step's end."""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections.abc import Iterator

import pytest

pytest.importorskip("temporalio")

from engine.temporal.testing import DevServer  # noqa: E402
from tests.designer.run_support import LocalService, ui_factory, wait_run, write  # noqa: E402
from tests.temporal.test_cli import start_worker  # noqa: E402
from tests.temporal.test_serve import run_status  # noqa: E402

FLOW = """
version: 1
name: onTemporal
steps:
  - id: fetch
    service: Api
    action: thing
    with: {ask: 1}
  - id: pause
    wait: 1500ms
  - id: done
    notify: {message: "got ${ steps.fetch.output.id }", level: success}
"""
STATES = {"fetch": "succeeded", "pause": "succeeded", "done": "succeeded"}


@pytest.fixture(scope="module")
def server() -> Iterator[DevServer]:
    with DevServer() as srv:
        yield srv


@pytest.fixture
def open_ui(qtbot, tmp_path):  # type: ignore[no-untyped-def]
    yield from ui_factory(qtbot, tmp_path)


def test_run_goes_to_temporal_and_the_canvas_shows_its_states(  # type: ignore[no-untyped-def]
    qtbot, open_ui, tmp_path, server
) -> None:
    tq = f"designer-{uuid.uuid4().hex}"
    with LocalService() as service:
        folder = tmp_path / "flows"
        write(folder, "flow.yaml", FLOW)
        write(
            folder,
            "environments.yaml",
            f"""
version: 1
default: cluster
environments:
  cluster:
    engine: temporal
    temporal: {{address: "{server.address}", taskQueue: {tq}}}
    services: {{Api: "{service.url}"}}
""",
        )
        worker = start_worker(server, folder, tq)
        try:
            ui = open_ui(folder / "flow.yaml")
            choice = ui.toolbar.current_choice()
            assert choice.env == "cluster" and "on Temporal" in choice.label
            assert not ui.toolbar.record_action.isEnabled()  # no recording on Temporal
            ui.toolbar.run_action.trigger()  # Run (F5)
            assert ui.controller.busy
            # the wait's start reaches the canvas while it waits
            qtbot.waitUntil(lambda: ui.presenter.states().get("pause") == "running", timeout=30_000)
            assert ui.presenter.states()["fetch"] == "succeeded"
            wait_run(qtbot, ui, timeout=30_000)
            (rec,) = ui.controller.records.values()
            assert rec.result is not None and rec.result.status == "succeeded", rec.result
            assert ui.presenter.states() == STATES
            assert rec.result.steps["pause"].duration_ms >= 1500
            assert service.hits["/thing"] == 1
            assert any("got 7" in line.message for line in ui.log_panel.shown_lines())
            # it ran there: Temporal has the run, under the id the designer gave it
            assert asyncio.run(run_status(server, "onTemporal", rec.run_id)) == "COMPLETED"
        finally:
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(60) == 0
