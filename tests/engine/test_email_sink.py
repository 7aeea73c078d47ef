"""The email sink against a real SMTP server on 127.0.0.1 (aiosmtpd): plain with auth, STARTTLS
with auth, a wrong password kept as an error without the password, levels filtering."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
from pathlib import Path

import pytest

from engine.jobs.email import EmailSink, email_settings
from engine.jobs.sinks import build_sinks
from engine.runtime import events as ev
from tests.engine.serve_support import smtp_server


def _note(level: str = "error", message: str = "Policy P-7 was rolled back") -> ev.Notification:
    return ev.Notification("run-1", "adminFailure", level, message, 1_796_000_000.0)


async def _send(sink: object, *notes: ev.Notification) -> None:
    for n in notes:
        sink(n)  # type: ignore[operator]
    await sink.aclose()  # type: ignore[attr-defined]


def test_plain_smtp_with_auth_through_build_sinks() -> None:
    with smtp_server(login=("alerts", "pw-123")) as box:
        sinks = build_sinks(
            [
                {
                    "email": {
                        "host": "127.0.0.1",
                        "port": box.port,
                        "starttls": False,
                        "username": "alerts",
                        "password": "SMTP_PW",
                        "from": "sb@example.org",
                        "to": ["admins@example.org"],
                    },
                    "levels": ["error"],
                }
            ]
        )
        (sink,) = sinks.sinks
        sink.sink._secrets = type(sink.sink._secrets)(
            environ={"SWITCHBOARD_SECRET_SMTP_PW": "pw-123"}
        )
        asyncio.run(_send(sink, _note("info", "not mailed"), _note()))
        assert sink.errors == []
    assert box.logins == ["alerts"]
    ((sender, rcpt, text),) = box.messages
    assert sender == "sb@example.org" and rcpt == ["admins@example.org"]
    assert "Subject: [switchboard] error: Policy P-7 was rolled back" in text
    assert "run: run-1" in text


def test_wrong_password_is_an_error_without_the_password() -> None:
    with smtp_server(login=("alerts", "right")) as box:
        sink = EmailSink(
            email_settings(
                {
                    "host": "127.0.0.1",
                    "port": box.port,
                    "starttls": False,
                    "username": "alerts",
                    "password": "PW",
                    "from": "a@b",
                    "to": "c@d",
                }
            ),
            environ={"SWITCHBOARD_SECRET_PW": "wrong-pw"},
        )
        asyncio.run(_send(sink, _note()))
    assert box.messages == [] and len(sink.errors) == 1
    assert "failed" in sink.errors[0] and "wrong-pw" not in sink.errors[0]


def test_unset_password_secret_names_its_variable() -> None:
    sink = EmailSink(
        email_settings(
            {
                "host": "127.0.0.1",
                "port": 1,
                "starttls": False,
                "username": "u",
                "password": "PW",
                "from": "a@b",
                "to": "c@d",
            }
        ),
        environ={},
    )
    asyncio.run(_send(sink, _note()))
    assert "SWITCHBOARD_SECRET_PW" in sink.errors[0]


def test_settings_problems() -> None:
    with pytest.raises(ValueError, match="needs host, from, to"):
        email_settings({})
    with pytest.raises(ValueError, match="unknown key"):
        email_settings({"host": "h", "from": "f", "to": "t", "hots": 1})


def test_starttls_with_auth(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    got = subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        capture_output=True,
    )
    if got.returncode != 0:
        pytest.skip(f"openssl could not make a certificate: {got.stderr[:200]!r}")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    client_ctx = ssl.create_default_context(cafile=str(cert))
    with smtp_server(login=("alerts", "pw"), tls_context=server_ctx) as box:
        sink = EmailSink(
            email_settings(
                {
                    "host": "127.0.0.1",
                    "port": box.port,
                    "username": "alerts",
                    "password": "PW",
                    "from": "a@b",
                    "to": "c@d",
                }
            ),
            environ={"SWITCHBOARD_SECRET_PW": "pw"},
            tls_context=client_ctx,
        )
        asyncio.run(_send(sink, _note("success", "live")))
    assert sink.errors == [] and box.logins == ["alerts"] and len(box.messages) == 1
