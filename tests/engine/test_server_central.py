"""The central case end to end: `serve workflows/` live against real HTTP services on
127.0.0.1; POST policyChangeSuggested; the calls in order; the admin notification over the
WebSocket; the run's result over HTTP. Then the same with compliance failing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from tests.engine.serve_support import fake_services, running_server, wait_until

EXAMPLES = Path(__file__).resolve().parents[2] / "workflows"


def _folder(tmp_path: Path, base_url: str) -> Path:
    out = tmp_path / "workflows"
    shutil.copytree(EXAMPLES, out)
    (out / "environments.yaml").write_text(
        "version: 1\ndefault: live\nenvironments:\n  live:\n    services:\n"
        f"      PolicyService: {base_url}\n      ComplianceService: {base_url}\n"
        f"      NotificationService: {base_url}\n", encoding="utf-8")
    return out


@pytest.mark.parametrize(("compliance", "third", "level", "live"), [
    ("pass", "/sendUpdate", "success", True),
    ("fail", "/revertPolicy", "error", False),
])
def test_policy_change_suggested_end_to_end(tmp_path: Path, compliance: str, third: str,
                                            level: str, live: bool) -> None:
    answers = {"/updatePolicy": (200, {"policyId": "P-7", "version": 8}),
               "/runCheck": (200, {"status": compliance}),
               "/sendUpdate": (202, {}), "/revertPolicy": (200, {"reverted": True})}
    with fake_services(answers) as services, \
            running_server(_folder(tmp_path, services.url), env="live") as server, \
            connect(f"{server.ws_url}?kind=notification") as ws:
        wait_until(lambda: server.service.subscribers, what="the WebSocket to subscribe")
        r = httpx.post(f"{server.url}/events/policyChangeSuggested",
                       json={"policyId": "P-7", "change": {"limit": 3}})
        assert r.status_code == 202
        (run_id,) = r.json()["runs"]
        note = json.loads(ws.recv(timeout=10))
        assert note["event"] == "Notification" and note["run_id"] == run_id
        assert note["level"] == level and "P-7" in note["message"]
        run = wait_until(lambda: (got := httpx.get(f"{server.url}/runs/{run_id}").json())
                         ["status"] != "running" and got, what="the run to end")
    assert [path for path, _ in services.calls] == ["/updatePolicy", "/runCheck", third]
    assert services.calls[0][1] == {"policyId": "P-7", "change": {"limit": 3}}
    assert services.calls[1][1] == {"policyId": "P-7", "version": 8}
    assert run["status"] == "succeeded"
    result = run["result"]
    assert result["output"] == {"policyId": "P-7", "version": 8, "compliance": compliance,
                                "live": live}
    assert result["steps"]["updatePolicy"]["status"] == "succeeded"
    assert result["steps"][third.lstrip("/")]["status"] == "succeeded"
