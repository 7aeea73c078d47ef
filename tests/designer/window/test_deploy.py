"""File → Deploy to Server… against a real `switchboard serve` on 127.0.0.1: tokens, the
server's 422 problems in Problems, the URL and token remembered, the token shown nowhere."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PySide6.QtCore import Qt

from designer.window.deploy_dialog import SERVER_KEY, TOKEN_KEY, DeployDialog
from tests.designer.window_support import WORKFLOWS, make_settings, make_window

TOKEN = "s3cret-deploy-token-42"
LEFT = Qt.MouseButton.LeftButton


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    """`switchboard serve` in a process of its own, with a deploy token; (URL, folder, log)."""
    served = tmp_path / "served"
    served.mkdir()
    digest = hashlib.sha256(TOKEN.encode()).hexdigest()
    tokens = tmp_path / "tokens.yaml"
    tokens.write_text(
        f"version: 1\ntokens:\n  ci: {{sha256: {digest}, scopes: [deploy]}}\n", encoding="utf-8"
    )
    port = _free_port()
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "engine.cli",
                "serve",
                str(served),
                "--port",
                str(port),
                "--store",
                ":memory:",
                "--tokens",
                str(tokens),
                "--no-watch",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "switchboard serve did not start"
            time.sleep(0.05)
        yield url, served, log
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _deploy(qtbot, window, dialog: DeployDialog) -> object:
    window.interop.last_deploy = None
    qtbot.mouseClick(dialog.deploy_button, LEFT)
    qtbot.waitUntil(lambda: window.interop.last_deploy is not None, timeout=20_000)
    return window.interop.last_deploy


def test_deploy_to_a_running_server(qtbot, tmp_path, server, capfd):
    url, served, log = server
    for name in ("policy_change.yaml", "environments.yaml", "policy_change.mocks.yaml"):
        shutil.copy(WORKFLOWS / name, tmp_path / name)
    settings = make_settings(tmp_path)
    window = make_window(qtbot, tmp_path / "w", settings=settings)
    assert window.open_path(str(tmp_path / "policy_change.yaml"))

    window.interop.deploy.trigger()
    dialog = window.dialog
    assert isinstance(dialog, DeployDialog)
    assert dialog.token_edit.echoMode() == dialog.token_edit.EchoMode.Password
    dialog.server_edit.selectAll()
    qtbot.keyClicks(dialog.server_edit, url)

    # no token: the server refuses, and says so
    answer = _deploy(qtbot, window, dialog)
    assert answer.status == 401
    assert "Not deployed" in dialog.result.text()
    assert not (served / "policy_change.yaml").exists()

    # the token, not remembered
    qtbot.keyClicks(dialog.token_edit, TOKEN)
    dialog.remember.setChecked(False)
    answer = _deploy(qtbot, window, dialog)
    assert answer.ok, answer.message
    assert answer.created
    assert (served / "policy_change.yaml").read_text() == window.document.yaml_text()
    assert "Deployed" in dialog.result.text()
    assert "Deployed: policyChange: created, version" in window.statusBar().currentMessage()
    assert settings.qsettings.value(SERVER_KEY) == url
    assert settings.qsettings.value(TOKEN_KEY) is None

    # an edit the server refuses: its problems are in Problems, located in the text sent
    window.document.set_step_field("check", "output", "${ steps.nowhere.output }")
    answer = _deploy(qtbot, window, dialog)
    assert answer.status == 422 and answer.problems
    rows = window.problems.tree
    deploy_rows = [
        (rows.topLevelItem(i).text(0), rows.topLevelItem(i).text(1), rows.topLevelItem(i).text(2))
        for i in range(rows.topLevelItemCount())
        if rows.topLevelItem(i).text(0).startswith("Deploy: ")
    ]
    assert any(
        "nowhere" in msg and where.startswith("policy_change.yaml:")
        for _, msg, where in deploy_rows
    ), deploy_rows
    sent = window.document.yaml_text().splitlines()
    first = answer.problems[0]
    assert "nowhere" in sent[first.line - 1]
    assert "Not deployed" in dialog.result.text() and "in Problems" in dialog.result.text()
    assert "nowhere" not in (served / "policy_change.yaml").read_text()

    # remembered for next time, the token too when asked
    dialog.remember.setChecked(True)
    window.document.undo_stack.undo()
    answer = _deploy(qtbot, window, dialog)
    assert answer.ok and not answer.created
    assert window.problems.external.get("Deploy") is None  # a good deploy clears them
    assert settings.qsettings.value(TOKEN_KEY) == TOKEN
    dialog.close()
    again = window.interop.open_deploy_dialog()
    assert again.server_edit.text() == url and again.token_edit.text() == TOKEN
    again.close()

    # the token is shown nowhere: not in the status bar, the dialog's text, our output or the
    # server's log
    out = capfd.readouterr()
    for text in (
        window.statusBar().currentMessage(),
        dialog.result.text(),
        out.out,
        out.err,
        log.read_text(errors="replace"),
    ):
        assert TOKEN not in text


def test_deploy_to_no_server_says_it_cannot_reach_it(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path / "w")
    assert window.open_path(str(WORKFLOWS / "policy_change.yaml"))
    dialog = window.interop.open_deploy_dialog()
    dialog.server_edit.setText(f"http://127.0.0.1:{_free_port()}")
    answer = _deploy(qtbot, window, dialog)
    assert answer.status == 0
    assert "cannot reach" in dialog.result.text()
    dialog.server_edit.setText("localhost:8080")
    qtbot.mouseClick(dialog.deploy_button, LEFT)
    assert "is not a server URL" in dialog.result.text()
    assert os.path.basename(window.document.path or "") == "policy_change.yaml"
