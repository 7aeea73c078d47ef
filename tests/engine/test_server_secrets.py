"""A secret never appears in what the server answers, streams or exports: the run's JSON, its
SSE events, the WebSocket, the metrics, even when the service echoes the secret back."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from tests.engine.serve_support import fake_services, running_server, wait_until

SECRET = "s3cr3t-t0ken-value"


def test_secret_stays_out_of_every_answer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWITCHBOARD_SECRET_API_TOKEN", SECRET)
    with fake_services({"/call": (200, {"echo": SECRET})}) as services:
        (tmp_path / "environments.yaml").write_text(
            "version: 1\ndefault: live\nenvironments:\n  live:\n    services:\n"
            f"      Api: {services.url}\n",
            encoding="utf-8",
        )
        (tmp_path / "leak.yaml").write_text(
            "version: 1\nname: leak\nsteps:\n  - service: Api\n    action: call\n"
            "    headers: {Authorization: 'Bearer ${ secrets.API_TOKEN }'}\n"
            "    with: {token: '${ secrets.API_TOKEN }'}\n"
            "  - notify: 'got ${ steps.call.output.echo }'\n",
            encoding="utf-8",
        )
        with running_server(tmp_path) as server, connect(f"{server.ws_url}?since=0") as ws:
            wait_until(lambda: server.service.subscribers, what="the socket")
            result = httpx.post(
                f"{server.url}/workflows/leak/runs?wait=true", json={}, timeout=30
            ).json()
            streamed = []
            while not streamed or streamed[-1].get("event") != "RunFinished":
                streamed.append(json.loads(ws.recv(timeout=10)))
            run = httpx.get(f"{server.url}/runs/{result['run']}").text
            sse = httpx.get(f"{server.url}/runs/{result['run']}/events", timeout=10).text
            metrics = httpx.get(f"{server.url}/metrics").text
            listed = httpx.get(f"{server.url}/runs").text
    assert services.calls[0][1] == {"token": SECRET}  # the service did get it
    assert result["status"] == "succeeded"
    for text in (json.dumps(result), json.dumps(streamed), run, sse, metrics, listed):
        assert SECRET not in text
    assert "***" in json.dumps(streamed)
