"""Transfer settings reach Temporal's attempts: a step's followRedirects (credentials dropped
across origins), the environment's size limit and its TLS files, against real servers on
127.0.0.1."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
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
from tests.engine.tls_support import TlsServer, make_pki  # noqa: E402

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


async def _run(url: str, flow: str = FLOW, tls: dict[str, Any] | None = None) -> dict[str, Any]:
    args = RunArgs(
        dump_any(workflow(flow)),
        None,
        uuid.uuid4().hex[:16],
        services={"Api": url},
        secret_vars={"TOKEN": "SWITCHBOARD_SECRET_TOKEN"},
        max_response_bytes=1024,
        tls=tls,
    )
    env = await time_skipping()
    async with env:
        tq = f"transfer-{uuid.uuid4().hex}"
        acts = Activities({"SWITCHBOARD_SECRET_TOKEN": TOKEN})
        try:
            async with make_worker(env.client, task_queue=tq, activities=acts):
                return (await execute(env.client, args, task_queue=tq, name="hops")).result
        finally:
            await acts.aclose()  # its live pools


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


def test_the_environments_tls_files_reach_the_workers(tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    flow = "version: 1\nname: tls\nsteps:\n  - {id: get, service: Api, action: ping, method: GET}\n"
    with serving(TlsServer(pki, client_ca=pki.ca)) as srv:
        refused = asyncio.run(_run(srv.url, flow))
        assert refused["steps"]["get"]["error"]["type"] == "connection"
        tls = {"ca": str(pki.ca), "cert": str(pki.client_cert), "key": str(pki.client_key)}
        result = asyncio.run(_run(srv.url, flow, tls))
    assert result["steps"]["get"]["status"] == "succeeded", result["steps"]["get"]
