"""An environment that says `engine: temporal`: every host's `run_job` (the CLI's `run --env`,
the designer's engine process, a script) sends its runs to that Temporal server, events back to
the job's sinks; the same run gives the same result there as in-process."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("temporalio")

from engine.jobs.request import JobRequest  # noqa: E402
from engine.jobs.run import run_job  # noqa: E402
from engine.runtime.events import Event  # noqa: E402
from engine.temporal.testing import DevServer, comparable  # noqa: E402
from tests.temporal.test_cli import ROOT, start_worker  # noqa: E402
from tests.temporal.test_serve import run_status  # noqa: E402

FLOW = """version: 1
name: priced
input: {type: object, required: [id]}
steps:
  - {id: price, service: Shop, action: price, with: {id: "${ input.id }"}}
  - {id: check, service: Shop, action: check, retry: {attempts: 3, delay: 1s, jitter: none}}
  - notify: "priced ${ steps.price.output.amount }"
output: "${ steps.price.output }"
"""
MOCKS = """version: 1
mocks:
  Shop.price: {body: {id: "${ request.body.id }", amount: 12}}
  Shop.check: [{status: 503}, {status: 200, body: {ok: true}}]
"""


@pytest.fixture(scope="module")
def server() -> Iterator[DevServer]:
    with DevServer() as srv:
        yield srv


def _folder(tmp_path: Path, server: DevServer, tq: str) -> Path:
    folder = tmp_path / "shop"
    folder.mkdir()
    (folder / "priced.yaml").write_text(FLOW)
    (folder / "shop.mocks.yaml").write_text(MOCKS)
    (folder / "environments.yaml").write_text(
        f"""version: 1
default: here
environments:
  here: {{mocks: shop.mocks.yaml}}
  cluster:
    mocks: shop.mocks.yaml
    engine: temporal
    temporal: {{address: "{server.address}", taskQueue: {tq}}}
"""
    )
    return folder


def _job(folder: Path, env: str, events: list[Event]) -> dict[str, Any]:
    request = JobRequest("run", path=folder / "priced.yaml", input={"id": "A"}, env=env)
    outcome = asyncio.run(run_job(request, sinks=[events.append]))
    assert outcome.kind == "run", outcome.message
    result: dict[str, Any] = outcome.payload.to_json()
    return result


def test_a_run_job_in_an_engine_temporal_environment_runs_there(
    server: DevServer, tmp_path: Path
) -> None:
    tq = f"env-{uuid.uuid4().hex}"
    folder = _folder(tmp_path, server, tq)
    worker = start_worker(server, folder, tq)
    try:
        theirs: list[Event] = []
        mine: list[Event] = []
        there = _job(folder, "cluster", theirs)
        here = _job(folder, "here", mine)
        assert there["status"] == "succeeded" and there["output"] == {"id": "A", "amount": 12}
        assert comparable(there) == comparable(here)  # virtual time on both: same durations
        assert [type(e).__name__ for e in theirs] == [type(e).__name__ for e in mine]
        assert asyncio.run(run_status(server, "priced", there["run"])) == "COMPLETED"

        # the command line: `run --env cluster` goes there too, with the exit codes of a run
        for input_, code in (('{"id": "B"}', 0), ("{}", 2)):
            proc = subprocess.run(
                [sys.executable, "-m", "engine.cli", "run", "--env", "cluster", "--json"]
                + ["--input", input_, str(folder / "priced.yaml")],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert proc.returncode == code, proc.stderr
            result = json.loads(proc.stdout)
            assert asyncio.run(run_status(server, "priced", result["run"])) == "COMPLETED"
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(60) == 0


def test_an_unreachable_temporal_is_a_clear_error(tmp_path: Path) -> None:
    from engine.temporal.testing import free_port

    dead = DevServer()
    dead.address = f"127.0.0.1:{free_port()}"
    folder = _folder(tmp_path, dead, "nowhere")
    request = JobRequest("run", path=folder / "priced.yaml", input={"id": "A"}, env="cluster")
    outcome = asyncio.run(run_job(request))
    assert outcome.kind == "error"
    assert f"cannot reach Temporal at {dead.address}" in outcome.message


SHOP_SPEC = """openapi: 3.0.3
info: {title: Shop, version: "1"}
paths:
  /price:
    post:
      operationId: price
      responses:
        "200":
          description: a price
          content:
            application/json:
              schema:
                type: object
                required: [id, amount, currency]
                properties:
                  amount: {type: integer}
"""


def test_check_contract_checks_a_run_made_on_temporal(server: DevServer, tmp_path: Path) -> None:
    """`--check-contract` on an `engine: temporal` environment: the run's events come back
    with their call records, and each response is checked as an in-process run's is."""
    from engine.cli import main
    from engine.runtime.events import Notification

    tq = f"env-{uuid.uuid4().hex}"
    folder = _folder(tmp_path, server, tq)
    spec = tmp_path / "shop.openapi.yaml"
    spec.write_text(SHOP_SPEC)
    assert main(["import-openapi", str(spec), "--service", "Shop", "--into", str(folder)]) == 0
    worker = start_worker(server, folder, tq)
    try:
        warned: dict[str, list[str]] = {}
        for env in ("cluster", "here"):
            events: list[Event] = []
            request = JobRequest(
                "run",
                path=folder / "priced.yaml",
                input={"id": "A"},
                env=env,
                check_contract=True,
            )
            outcome = asyncio.run(run_job(request, sinks=[events.append]))
            assert outcome.kind == "run", outcome.message
            warned[env] = [
                e.message for e in events if isinstance(e, Notification) and e.level == "warning"
            ]
        assert (
            warned["cluster"]
            == warned["here"]
            == [
                "step price: Shop.price answered 200: the body breaks price's 200 response schema "
                "at $: 'currency' is a required property"
            ]
        )
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(60) == 0
