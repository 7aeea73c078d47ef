"""Bearer tokens with scopes: 401 without or with an unknown token, 403 without the scope,
/healthz open, WebSocket tokens in the query, tokens-file problems located, and binding beyond
loopback refused without tokens."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import InvalidStatus, WebSocketException
from websockets.sync.client import connect

from engine.cli import main
from engine.core.errors import LoadError
from engine.server.auth import load_tokens
from tests.engine.serve_support import running_server


def _tokens_file(tmp_path: Path) -> Path:
    digest = hashlib.sha256(b"reader-secret").hexdigest()
    path = tmp_path / "tokens.yaml"
    path.write_text(
        "version: 1\ntokens:\n"
        f"  reader: {{sha256: {digest}, scopes: [read]}}\n"
        "  ops: {env: OPS_TOKEN, scopes: [admin]}\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def server(tmp_path: Path):  # type: ignore[no-untyped-def]
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "hello.yaml").write_text(
        "version: 1\nname: hello\ntrigger: hi\nsteps:\n  - notify: hello\n", encoding="utf-8"
    )
    tokens = load_tokens(_tokens_file(tmp_path), {"OPS_TOKEN": "ops-secret"})
    with running_server(flows, tokens=tokens) as s:
        yield s


def test_tokens_and_scopes(server) -> None:  # type: ignore[no-untyped-def]
    assert httpx.get(f"{server.url}/healthz").status_code == 200
    r = httpx.get(f"{server.url}/runs")
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    r = httpx.get(f"{server.url}/runs", headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401 and "wrong" not in r.text
    reader = {"Authorization": "Bearer reader-secret"}
    assert httpx.get(f"{server.url}/runs", headers=reader).status_code == 200
    r = httpx.post(f"{server.url}/events/hi", json={}, headers=reader)
    assert r.status_code == 403 and "lacks the scope 'emit'" in r.json()["error"]["message"]
    assert "reader-secret" not in r.text
    ops = {"Authorization": "Bearer ops-secret"}
    assert httpx.post(f"{server.url}/events/hi", json={}, headers=ops).status_code == 202


def test_websocket_needs_a_token(server) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises((InvalidStatus, WebSocketException)), connect(server.ws_url) as ws:
        ws.recv(timeout=5)
    with connect(f"{server.ws_url}?token=reader-secret&since=0") as ws:
        httpx.post(
            f"{server.url}/events/hi", json={}, headers={"Authorization": "Bearer ops-secret"}
        )
        assert '"RunStarted"' in ws.recv(timeout=10)


def test_tokens_file_problems_are_located(tmp_path: Path) -> None:
    path = tmp_path / "tokens.yaml"
    path.write_text(
        "version: 1\ntokens:\n  a: {sha256: abc, scopes: [read]}\n"
        "  b: {env: NOPE, scopes: [read]}\n  c: {env: X, scopes: [root]}\n",
        encoding="utf-8",
    )
    with pytest.raises(LoadError) as err:
        load_tokens(path, {})
    text = [str(p) for p in err.value.problems]
    assert any("tokens.yaml:3:" in t and "64 hex digits" in t for t in text)
    assert any("tokens.yaml:4:" in t and "NOPE is not set" in t for t in text)
    assert any("tokens.yaml:5:" in t and "root" in t for t in text)


def test_binding_beyond_loopback_needs_tokens(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", str(tmp_path), "--host", "0.0.0.0", "--port", "0"]) == 2
    assert "--tokens" in capsys.readouterr().err
