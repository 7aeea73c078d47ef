"""`switchboard serve`'s HTTP API on the example workflows (mock environment): runs, events,
bad input, idempotency, SSE and the WebSocket."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from tests.engine.serve_support import running_server, wait_until

EXAMPLES = Path(__file__).resolve().parents[2] / "workflows"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    out = tmp_path / "workflows"
    shutil.copytree(EXAMPLES, out)
    (out / "slow.yaml").write_text(
        "version: 1\nname: slow\ntrigger: slowEvent\nsteps:\n  - wait: 1h\n", encoding="utf-8"
    )
    (out / "broken.yaml").write_text(
        "version: 1\nname: broken\nsteps:\n  - servce: A\n    action: b\n", encoding="utf-8"
    )
    return out


@pytest.fixture
def server(folder: Path):  # type: ignore[no-untyped-def]
    with running_server(folder) as s:
        yield s


def test_run_with_wait_answers_the_run_result(server) -> None:  # type: ignore[no-untyped-def]
    r = httpx.post(
        f"{server.url}/workflows/policyChange/runs?wait=true", json={"policyId": "P-7"}, timeout=30
    )
    assert r.status_code == 200
    result = r.json()
    assert result["status"] == "succeeded"
    assert result["steps"]["check"]["attempts"] == 3
    assert result["output"]["compliance"] == "pass"
    got = httpx.get(f"{server.url}/runs/{result['run']}").json()
    assert got["status"] == "succeeded" and got["result"] == result
    assert len(got["version"]) == 16
    listed = httpx.get(f"{server.url}/runs", params={"workflow": "policyChange"}).json()
    assert [r["run"] for r in listed["runs"]] == [result["run"]]


def test_event_starts_its_workflows_and_unknown_events_start_nothing(server) -> None:  # type: ignore[no-untyped-def]
    r = httpx.post(f"{server.url}/events/policyChangeSuggested", json={"policyId": "P-7"})
    assert r.status_code == 202
    (run_id,) = r.json()["runs"]
    done = wait_until(
        lambda: httpx.get(f"{server.url}/runs/{run_id}").json()["status"] != "running",
        what="the run to end",
    )
    assert done
    r = httpx.post(f"{server.url}/events/nobodyListens", json={})
    assert r.status_code == 202 and r.json() == {"event": "nobodyListens", "runs": []}


def test_bad_input(server, folder: Path) -> None:  # type: ignore[no-untyped-def]
    r = httpx.post(
        f"{server.url}/events/policyChangeSuggested",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 400 and r.json()["error"]["type"] == "bad_json"
    assert "line 1, column 2" in r.json()["error"]["message"]
    r = httpx.post(f"{server.url}/workflows/nope/runs", json={})
    assert r.status_code == 404 and "policyChange" in r.json()["error"]["message"]
    assert httpx.get(f"{server.url}/workflows/nope").status_code == 404
    assert httpx.get(f"{server.url}/runs/nope").status_code == 404
    r = httpx.post(
        f"{server.url}/events/policyChangeSuggested", content=b'"' + b"x" * (2 * 1024 * 1024) + b'"'
    )
    assert r.status_code == 413

    def chunks():  # no Content-Length: the limit holds while the body streams in
        for _ in range(40):
            yield b"x" * 65536

    r = httpx.post(f"{server.url}/events/policyChangeSuggested", content=chunks())
    assert r.status_code == 413 and "over the limit" in r.json()["error"]["message"]
    r = httpx.post(f"{server.url}/workflows/broken/runs", json={})
    assert r.status_code == 409 and "servce" in r.json()["error"]["message"]
    r = httpx.post(f"{server.url}/workflows/policyChange/runs?wait=true&timeout=soon", json={})
    assert r.status_code == 400


def test_workflows_list_versions_problems_and_yaml(server, folder: Path) -> None:  # type: ignore[no-untyped-def]
    got = {w["name"]: w for w in httpx.get(f"{server.url}/workflows").json()["workflows"]}
    assert got["policyChange"]["ok"] and got["policyChange"]["trigger"] == ["policyChangeSuggested"]
    assert not got["broken"]["ok"]
    assert any("broken.yaml:4:5" in p["text"] for p in got["broken"]["problems"])
    text = httpx.get(f"{server.url}/workflows/policyChange").text
    assert text == (folder / "policy_change.yaml").read_text(encoding="utf-8")
    assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{server.url}/readyz").status_code == 200
    spec = httpx.get(f"{server.url}/openapi.json").json()
    assert "/events/{name}" in spec["paths"] and spec["openapi"].startswith("3.")


def test_idempotency_key_starts_nothing_twice(server) -> None:  # type: ignore[no-untyped-def]
    headers = {"Idempotency-Key": "k-1"}
    first = httpx.post(
        f"{server.url}/events/policyChangeSuggested", json={"policyId": "P-1"}, headers=headers
    )
    again = httpx.post(
        f"{server.url}/events/policyChangeSuggested", json={"policyId": "P-1"}, headers=headers
    )
    assert first.status_code == again.status_code == 202
    assert again.json()["runs"] == first.json()["runs"] and len(first.json()["runs"]) == 1
    assert again.headers.get("idempotent-replayed") == "true"
    other = httpx.post(
        f"{server.url}/events/policyChangeSuggested",
        json={"policyId": "P-1"},
        headers={"Idempotency-Key": "k-2"},
    )
    assert other.json()["runs"] != first.json()["runs"]
    wait_until(lambda: len(httpx.get(f"{server.url}/runs").json()["runs"]) == 2, what="2 runs")


def test_cancel_ends_a_run_cancelled_with_its_result(tmp_path: Path) -> None:
    # no environments file: the run is live, in real time, so the 1 h wait is still waiting
    (tmp_path / "slow.yaml").write_text(
        "version: 1\nname: slow\ntrigger: slowEvent\nsteps:\n  - wait: 1h\n", encoding="utf-8"
    )
    with running_server(tmp_path) as server:
        (run_id,) = httpx.post(f"{server.url}/events/slowEvent", json={}).json()["runs"]
        wait_until(
            lambda: httpx.get(f"{server.url}/runs/{run_id}").json().get("steps"),
            what="the wait step to start",
        )
        running = httpx.get(f"{server.url}/runs/{run_id}").json()
        assert running["status"] == "running" and running["steps"]["wait"]["status"] == "running"
        r = httpx.post(f"{server.url}/runs/{run_id}/cancel", timeout=10)
        assert r.status_code == 200
        got = r.json()
        assert got["status"] == "cancelled"
        assert got["result"]["steps"]["wait"]["status"] == "cancelled"
        r = httpx.post(f"{server.url}/runs/{run_id}/cancel")
        assert r.status_code == 409 and r.json()["error"]["type"] == "not_running"


def test_sse_replays_and_resumes_from_last_event_id(server) -> None:  # type: ignore[no-untyped-def]
    result = httpx.post(
        f"{server.url}/workflows/policyChange/runs?wait=true", json={"policyId": "P-7"}, timeout=30
    ).json()
    url = f"{server.url}/runs/{result['run']}/events"

    def read(headers: dict[str, str]) -> list[tuple[int, str, dict]]:  # type: ignore[type-arg]
        out, block = [], {}
        with httpx.stream("GET", url, headers=headers, timeout=10) as r:
            assert r.headers["content-type"].startswith("text/event-stream")
            for line in r.iter_lines():
                if not line:
                    out.append((int(block["id"]), block["event"], json.loads(block["data"])))
                    block = {}
                    continue
                k, _, v = line.partition(": ")
                block[k] = v
        return out

    events = read({})
    kinds = [k for _, k, _ in events]
    assert kinds[0] == "RunStarted" and kinds[-1] == "RunFinished"
    assert "Notification" in kinds
    middle = events[2][0]
    rest = read({"Last-Event-ID": str(middle)})
    assert [e[0] for e in rest] == [e[0] for e in events if e[0] > middle]


def test_websocket_streams_notifications_and_resumes(server) -> None:  # type: ignore[no-untyped-def]
    with connect(f"{server.ws_url}?kind=notification&workflow=policyChange") as ws:
        wait_until(lambda: server.service.subscribers, what="the socket to subscribe")
        httpx.post(f"{server.url}/events/policyChangeSuggested", json={"policyId": "P-9"})
        msg = json.loads(ws.recv(timeout=10))
    assert msg["event"] == "Notification" and msg["level"] == "success"
    assert "P-9" in msg["message"]
    seq = msg["seq"]
    # a client that reconnects with since=<an earlier seq> gets what it missed, in order
    with connect(f"{server.ws_url}?since={seq - 1}&kind=notification") as ws:
        again = json.loads(ws.recv(timeout=10))
    assert again["seq"] == seq


def test_deploy_validates_writes_atomically_and_keeps_history(server, folder: Path) -> None:  # type: ignore[no-untyped-def]
    bad = "version: 1\nname: greet\ntrigger: greetMe\nsteps:\n  - servce: A\n    action: b\n"
    r = httpx.put(f"{server.url}/workflows/greet", content=bad)
    assert r.status_code == 422
    assert any(
        p["text"].startswith("greet.yaml:5:5:") and "did you mean 'service'" in p["text"]
        for p in r.json()["problems"]
    )
    assert not (folder / "greet.yaml").exists()
    good = "version: 1\nname: greet\ntrigger: greetMe\nsteps:\n  - notify: hi\n"
    r = httpx.put(f"{server.url}/workflows/greet", content=good)
    assert r.status_code == 201 and r.json()["ok"]
    first = r.json()["version"]
    assert (folder / "greet.yaml").read_text(encoding="utf-8") == good
    (run_id,) = httpx.post(f"{server.url}/events/greetMe", json={}).json()["runs"]
    wait_until(
        lambda: httpx.get(f"{server.url}/runs/{run_id}").json()["status"] == "succeeded",
        what="the deployed workflow's run",
    )
    r = httpx.put(f"{server.url}/workflows/greet", content=good.replace("hi", "hello"))
    assert r.status_code == 200 and r.json()["version"] != first
    assert (folder / ".switchboard" / "history" / "greet" / f"{first}.yaml").read_text(
        encoding="utf-8"
    ) == good
    r = httpx.put(f"{server.url}/workflows/other", content=good)
    assert r.status_code == 422 and "deployed as 'other'" in r.json()["problems"][0]["message"]


def test_metrics(server) -> None:  # type: ignore[no-untyped-def]
    httpx.post(
        f"{server.url}/workflows/policyChange/runs?wait=true", json={"policyId": "P-7"}, timeout=30
    )
    httpx.post(f"{server.url}/events/nobodyListens", json={"policyId": "P-7"})
    text = httpx.get(f"{server.url}/metrics").text
    assert 'switchboard_runs_started_total{workflow="policyChange"} 1.0' in text
    assert 'switchboard_runs_finished_total{status="succeeded",workflow="policyChange"} 1.0' in text
    assert 'switchboard_step_duration_seconds_count{status="succeeded",step="check"' in text
    assert 'switchboard_events_received_total{event="nobodyListens"} 1.0' in text
    assert "switchboard_runs_in_flight 0.0" in text
    assert "P-7" not in text


def test_watching_swaps_in_changed_files_and_keeps_serving_a_broken_one(folder: Path) -> None:
    with running_server(folder, watch=True) as server:

        def workflows() -> dict[str, dict]:  # type: ignore[type-arg]
            got = httpx.get(f"{server.url}/workflows").json()["workflows"]
            return {w["name"]: w for w in got}

        before = workflows()["policyChange"]["version"]
        (folder / "greet.yaml").write_text(
            "version: 1\nname: greet\ntrigger: greetMe\nsteps:\n  - notify: hi\n", encoding="utf-8"
        )
        wait_until(lambda: "greet" in workflows(), what="the new file to be served")
        assert len(httpx.post(f"{server.url}/events/greetMe", json={}).json()["runs"]) == 1
        path = folder / "policy_change.yaml"
        good = path.read_text(encoding="utf-8")
        path.write_text(good.replace("action: runCheck", "acton: runCheck"), encoding="utf-8")
        stale = wait_until(
            lambda: (w := workflows()["policyChange"])["stale"] and w,
            what="the broken file's problems",
        )
        assert stale["ok"] and stale["version"] == before
        assert any("acton" in p["text"] for p in stale["problems"])
        r = httpx.post(
            f"{server.url}/workflows/policyChange/runs?wait=true",
            json={"policyId": "P-7"},
            timeout=30,
        )
        assert r.json()["status"] == "succeeded"  # the previous version still serves
        path.write_text(good.replace("2m", "3m"), encoding="utf-8")
        fixed = wait_until(
            lambda: not (w := workflows()["policyChange"])["stale"] and w, what="the fixed file"
        )
        assert fixed["version"] != before and fixed["problems"] == []


def test_admin_page_is_served_and_uses_only_the_api(server) -> None:  # type: ignore[no-untyped-def]
    r = httpx.get(f"{server.url}/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    for used in ('"/workflows"', '"/runs?limit=25"', '"/runs/"', '"/ws?"'):
        assert used in page
    assert 'innerHTML = ""' in page and ".innerHTML =" not in page.replace(
        'innerHTML = ""', ""
    )  # values go in as text, never as markup
    assert "default-src 'self'" in r.headers["content-security-policy"]


def test_runs_started_by_emit_steps_are_recorded_with_their_version(tmp_path: Path) -> None:
    (tmp_path / "parent.yaml").write_text(
        "version: 1\nname: parent\nsteps:\n  - emit: {event: childEvent, data: {n: 1}}\n",
        encoding="utf-8",
    )
    (tmp_path / "child.yaml").write_text(
        "version: 1\nname: child\ntrigger: childEvent\nsteps:\n  - notify: child ran\n",
        encoding="utf-8",
    )
    with running_server(tmp_path) as server:
        parent = httpx.post(
            f"{server.url}/workflows/parent/runs?wait=true", json={}, timeout=30
        ).json()
        (child_id,) = parent["steps"]["emit"]["output"]["runs"]
        child = wait_until(
            lambda: (
                (c := httpx.get(f"{server.url}/runs/{child_id}").json())["status"] == "succeeded"
                and c
            ),
            what="the child run",
        )
        versions = {
            w["name"]: w["version"]
            for w in httpx.get(f"{server.url}/workflows").json()["workflows"]
        }
    assert child["workflow"] == "child" and child["version"] == versions["child"]
    assert child["input"] == {"n": 1}


def test_docs_page_and_no_cors(server) -> None:  # type: ignore[no-untyped-def]
    r = httpx.get(f"{server.url}/docs")
    assert r.status_code == 200 and 'fetch("/openapi.json")' in r.text
    r = httpx.options(
        f"{server.url}/events/x",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in r.headers  # CORS is off
    r = httpx.post(f"{server.url}/events/x", json={}, headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers
