"""The central case end to end: `serve workflows/` live against real HTTP services on
127.0.0.1; POST policyChangeSuggested; the calls in order; the admin notification over the
WebSocket and by email (a real SMTP server on 127.0.0.1); the run's result over HTTP.
Then the same with compliance failing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from tests.engine.serve_support import fake_services, running_server, smtp_server, wait_until

EXAMPLES = Path(__file__).resolve().parents[2] / "workflows"


def _folder(tmp_path: Path, base_url: str, smtp_port: int) -> Path:
    out = tmp_path / "workflows"
    shutil.copytree(EXAMPLES, out)
    (out / "environments.yaml").write_text(
        "version: 1\ndefault: live\nenvironments:\n  live:\n    services:\n"
        f"      PolicyService: {base_url}\n      ComplianceService: {base_url}\n"
        f"      NotificationService: {base_url}\n"
        "    notify:\n      - email:\n          host: 127.0.0.1\n"
        f"          port: {smtp_port}\n          starttls: false\n"
        "          username: alerts\n          password: SMTP_PW\n"
        "          from: switchboard@example.org\n          to: [admins@example.org]\n"
        "        levels: [success, error]\n",
        encoding="utf-8",
    )
    return out


@pytest.mark.parametrize(
    ("compliance", "third", "level", "live"),
    [
        ("pass", "/sendUpdate", "success", True),
        ("fail", "/revertPolicy", "error", False),
    ],
)
def test_policy_change_suggested_end_to_end(
    tmp_path: Path,
    compliance: str,
    third: str,
    level: str,
    live: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SWITCHBOARD_SECRET_SMTP_PW", "smtp-pw-42")
    answers = {
        "/updatePolicy": (200, {"policyId": "P-7", "version": 8}),
        "/runCheck": (200, {"status": compliance}),
        "/sendUpdate": (202, {}),
        "/revertPolicy": (200, {"reverted": True}),
    }
    with (
        fake_services(answers) as services,
        smtp_server(login=("alerts", "smtp-pw-42")) as mailbox,
        running_server(_folder(tmp_path, services.url, mailbox.port), env="live") as server,
        connect(f"{server.ws_url}?kind=notification") as ws,
    ):
        wait_until(lambda: server.service.subscribers, what="the WebSocket to subscribe")
        r = httpx.post(
            f"{server.url}/events/policyChangeSuggested",
            json={"policyId": "P-7", "change": {"limit": 3}},
        )
        assert r.status_code == 202
        (run_id,) = r.json()["runs"]
        note = json.loads(ws.recv(timeout=10))
        assert note["event"] == "Notification" and note["run_id"] == run_id
        assert note["level"] == level and "P-7" in note["message"]
        run = wait_until(
            lambda: (
                (got := httpx.get(f"{server.url}/runs/{run_id}").json())["status"] != "running"
                and got
            ),
            what="the run to end",
        )
        wait_until(lambda: mailbox.messages, what="the admin email")
        events = httpx.get(f"{server.url}/runs/{run_id}/events", timeout=10).text
    assert [path for path, _ in services.calls] == ["/updatePolicy", "/runCheck", third]
    assert services.calls[0][1] == {"policyId": "P-7", "change": {"limit": 3}}
    assert services.calls[1][1] == {"policyId": "P-7", "version": 8}
    assert run["status"] == "succeeded"
    result = run["result"]
    assert result["output"] == {
        "policyId": "P-7",
        "version": 8,
        "compliance": compliance,
        "live": live,
    }
    assert result["steps"]["updatePolicy"]["status"] == "succeeded"
    assert result["steps"][third.lstrip("/")]["status"] == "succeeded"
    ((sender, rcpt, mail),) = mailbox.messages
    assert rcpt == ["admins@example.org"] and mailbox.logins == ["alerts"]
    assert f"Subject: [switchboard] {level}: Policy P-7" in mail
    assert "smtp-pw-42" not in mail + json.dumps(run) + events
