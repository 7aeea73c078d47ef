"""Transfer settings reach Temporal's attempts: a step's followRedirects (credentials dropped
across origins) and the environment's size limit, against real servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

pytest.importorskip("temporalio")

from engine.files.documents import dump_any  # noqa: E402
from engine.temporal.activities import Activities  # noqa: E402
from engine.temporal.host import execute, make_worker  # noqa: E402
from engine.temporal.payloads import RunArgs  # noqa: E402
from engine.temporal.testing import time_skipping  # noqa: E402
from tests.engine.http_support import Answer, RecordingServer, serving  # noqa: E402
from tests.engine.test_run_support import workflow  # noqa: E402

TOKEN = "tok-temporal-5521"
FLOW = """
version: 1
name: hops
steps:
  - id: hop
    service: Api
    action: hop
    followRedirects: true
    headers: {Authorization: "Bearer ${ secrets.TOKEN }"}
  - {id: big, service: Api, action: big, onError: continue}
"""


async def _run(url: str) -> dict[str, Any]:
    args = RunArgs(
        dump_any(workflow(FLOW)),
        None,
        uuid.uuid4().hex[:16],
        services={"Api": url},
        secret_vars={"TOKEN": "SWITCHBOARD_SECRET_TOKEN"},
        max_response_bytes=1024,
    )
    env = await time_skipping()
    async with env:
        tq = f"transfer-{uuid.uuid4().hex}"
        acts = Activities({"SWITCHBOARD_SECRET_TOKEN": TOKEN})
        async with make_worker(env.client, task_queue=tq, activities=acts):
            return (await execute(env.client, args, task_queue=tq, name="hops")).result


def test_redirects_and_size_limits_hold_on_temporal() -> None:
    with serving(RecordingServer()) as api, serving(RecordingServer()) as other:
        api.answers = [
            Answer(status=307, body=b"", headers={"Location": f"{other.url}/landed"}),
            Answer(body=b'{"x": "' + b"y" * 4000 + b'"}'),  # for `big`, which runs after
        ]
        result = asyncio.run(_run(api.url))
        assert [s.path for s in other.seen] == ["/landed"]
        assert "authorization" not in other.seen[0].headers
        assert api.seen[0].headers["authorization"] == f"Bearer {TOKEN}"
    steps = result["steps"]
    assert steps["hop"]["status"] == "succeeded", steps["hop"]
    assert "over the 1 KiB limit" in steps["big"]["error"]["message"]
