"""`serve` sends each answer in one write (uvicorn wrote its head and body apart: two sends, two
segments, a client woken twice per answer), counted by the kernel in /proc/PID/io; answers that
close the connection, answers without a body, Server-Sent Events and the WebSocket still arrive
whole through it."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from tests.engine.test_server_restart import serve_process

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="counts write calls in /proc/PID/io"
)
QUICK = "version: 1\nname: quick\nsteps:\n  - notify: done ${ input.n }\n"


def _writes(pid: int) -> int:
    with open(f"/proc/{pid}/io") as f:
        return int(dict(line.split(": ") for line in f.read().splitlines())["syscw"])


def test_each_answer_is_one_write(tmp_path: Path) -> None:
    (tmp_path / "quick.yaml").write_text(QUICK, encoding="utf-8")
    with (
        serve_process(tmp_path, tmp_path / "s.sqlite3", "--workers", "1", "--no-watch") as (
            proc,
            url,
        ),
        httpx.Client(base_url=url) as client,
    ):
        client.get("/healthz")
        before = _writes(proc.pid)
        for _ in range(50):
            assert client.get("/healthz").json() == {"status": "ok"}
            assert client.get("/workflows").json()["workflows"][0]["name"] == "quick"
        assert 100 <= _writes(proc.pid) - before < 120  # it was 200: a head and a body each

        # an answer that closes the connection is sent whole before the close
        host, port = url.rsplit("/", 1)[1].split(":")
        with socket.create_connection((host, int(port)), timeout=10) as raw:
            raw.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            got = b""
            while chunk := raw.recv(65536):
                got += chunk
        assert got.startswith(b"HTTP/1.1 200") and got.endswith(b'{"status":"ok"}')
        # a head with nothing after it (HEAD) is not held back past its turn of the loop
        head = client.head("/healthz", timeout=5)
        assert head.status_code == 200 and head.content == b""

        # streams: SSE to the run's end, the WebSocket live
        ws_url = "ws" + url[4:] + "/ws?kind=notification"
        with connect(ws_url, open_timeout=10) as ws:
            run = client.post("/workflows/quick/runs?wait=true", json={"n": 7}).json()
            assert json.loads(ws.recv(timeout=10))["message"] == "done 7"
        with client.stream("GET", f"/runs/{run['run']}/events") as sse:
            kinds = [line[7:] for line in sse.iter_lines() if line.startswith("event: ")]
        assert kinds[0] == "RunStarted" and kinds[-1] == "RunFinished" and len(kinds) == 5
