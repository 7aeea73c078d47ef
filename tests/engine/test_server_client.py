"""`switchboard deploy` and `switchboard runs` against a running server."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from engine.cli import main
from engine.server.auth import load_tokens
from tests.engine.serve_support import running_server


@pytest.fixture
def server(tmp_path: Path):  # type: ignore[no-untyped-def]
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "slow.yaml").write_text(
        "version: 1\nname: slow\nsteps:\n  - wait: 1h\n", encoding="utf-8"
    )
    digest = hashlib.sha256(b"t0k").hexdigest()
    tokens = tmp_path / "tokens.yaml"
    tokens.write_text(
        f"version: 1\ntokens:\n  ops: {{sha256: {digest}, scopes: [admin]}}\n", encoding="utf-8"
    )
    with running_server(flows, tokens=load_tokens(tokens, {})) as s:
        yield s


def test_deploy_then_list_get_and_cancel(
    server,
    tmp_path: Path,  # type: ignore[no-untyped-def]
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SWITCHBOARD_TOKEN", "t0k")
    bad = tmp_path / "greet.yaml"
    bad.write_text(
        "version: 1\nname: greet\nsteps:\n  - servce: A\n    action: b\n", encoding="utf-8"
    )
    assert main(["deploy", str(bad), "--server", server.url]) == 1
    assert "greet.yaml:4:5" in capsys.readouterr().err
    good = tmp_path / "greet2.yaml"
    good.write_text("version: 1\nname: greet\nsteps:\n  - notify: hi\n", encoding="utf-8")
    assert main(["deploy", str(good), "--server", server.url]) == 0
    assert "greet: created, version" in capsys.readouterr().out
    assert main(["deploy", str(good), "--server", server.url, "--token", "wrong"]) == 1
    assert "not known" in capsys.readouterr().err

    import httpx

    headers = {"Authorization": "Bearer t0k"}
    run = httpx.post(f"{server.url}/workflows/slow/runs", json={}, headers=headers).json()["run"]
    assert main(["runs", "list", "--server", server.url]) == 0
    assert run in capsys.readouterr().out
    assert main(["runs", "cancel", run, "--server", server.url]) == 0
    assert capsys.readouterr().out.strip() == f"{run}: cancelled"
    assert main(["runs", "get", run, "--server", server.url]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "cancelled"
    assert main(["runs", "cancel", run, "--server", server.url]) == 1
    assert main(["runs", "get", "nope", "--server", server.url]) == 1
    assert main(["runs", "get", "--server", server.url]) == 2


def test_unreachable_server(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    assert main(["runs", "list", "--server", f"http://127.0.0.1:{port}"]) == 2
    assert "cannot reach" in capsys.readouterr().err


@pytest.mark.parametrize("url", ["http://a\x00b", "ftp://x", ""])
def test_deploy_text_to_a_url_it_cannot_use_says_so(url: str) -> None:
    """The designer's File → Deploy uses deploy_text: a URL httpx refuses (InvalidURL is no
    HTTPError) is an answer with status 0, not a traceback in the deploy thread."""
    from engine import deploy_text

    answer = deploy_text(url, "x", "version: 1\nname: x\nsteps: []\n", timeout=2)
    assert answer.status == 0 and not answer.ok
    assert answer.message.startswith("cannot reach")
