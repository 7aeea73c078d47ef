"""The two live Callers give the same result, messages included, for every kind of answer: a
broken one (not HTTP, huge or too many headers, cut short, bad gzip), a gzip bomb, a redirect,
nothing at all, a refused connection and a name that does not resolve."""

from __future__ import annotations

import gzip
import socket
from typing import Any

import pytest

from engine import Engine
from engine.runtime import callers
from tests.engine.test_requests import _HEAD, _ok, _RawServer
from tests.engine.test_run_support import arun, workflow

FLOW = """
version: 1
name: parity
steps:
  - {id: call, service: Api, action: go, onError: continue}
"""
ANSWERS = {
    "not-http": b"this is not HTTP at all\r\n\r\n",
    "64k-header": _HEAD + b"X-Big: " + b"a" * 65536 + b"\r\nContent-Length: 2\r\n\r\n{}",
    "2000-headers": _HEAD
    + b"".join(b"X-H%d: v\r\n" % i for i in range(2000))
    + b"Content-Length: 2\r\n\r\n{}",
    "cut-short": _HEAD + b"Content-Length: 100\r\n\r\n{}",
    "bad-gzip": _ok(b"application/json", b"not gzip at all", b"gzip"),
    "gzip-bomb": _ok(b"application/json", gzip.compress(b"0" * (20 * 1024 * 1024)), b"gzip"),
    "redirect": b"HTTP/1.1 302 Found\r\nLocation: /x?y=1\r\nContent-Length: 0\r\n\r\n",
    "text": _ok(b"text/plain; charset=latin-1", "caf\u00e9".encode("latin-1")),
    "nothing": b"",
}


def _step(url: str, caller: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(callers, "LIVE_CALLER", caller)

    async def go() -> Any:
        async with Engine(services={"Api": url}) as engine:
            result = await engine.run(workflow(FLOW))
        step = result.steps["call"]
        return step.status, step.error, step.output

    return arun(go())


@pytest.mark.parametrize("answer", list(ANSWERS), ids=list(ANSWERS))
def test_both_callers_report_an_answer_alike(answer: str, monkeypatch: pytest.MonkeyPatch) -> None:
    srv = _RawServer(ANSWERS[answer])
    try:
        seen = {c: _step(srv.url, c, monkeypatch) for c in ("aiohttp", "httpx")}
    finally:
        srv.close()
    assert seen["aiohttp"] == seen["httpx"]
    status, error, _ = seen["aiohttp"]
    if answer == "text":
        assert status == "succeeded"
    else:
        assert status == "failed" and error["type"] in ("connection", "http")
        assert "Traceback" not in error["message"]


def test_both_callers_report_a_refused_connection_and_an_unknown_name_alike(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    for url in (closed, "http://no-such-host.invalid"):
        seen = {c: _step(url, c, monkeypatch) for c in ("aiohttp", "httpx")}
        assert seen["aiohttp"] == seen["httpx"]
        assert seen["aiohttp"][1]["type"] == "connection"


def test_both_callers_give_repeated_headers_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    answer = (
        b"HTTP/1.1 200 OK\r\nX-Dup: one\r\nx-dup: two\r\nX-Single: s\r\n"
        b"Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
    )
    flow = FLOW.replace("onError: continue}", 'output: "${ headers }"}')
    srv = _RawServer(answer)
    try:
        seen = {}
        for caller in ("aiohttp", "httpx"):
            monkeypatch.setattr(callers, "LIVE_CALLER", caller)

            async def go() -> Any:
                async with Engine(services={"Api": srv.url}) as engine:
                    return (await engine.run(workflow(flow))).steps["call"].output

            seen[caller] = arun(go())
    finally:
        srv.close()
    assert seen["aiohttp"] == seen["httpx"]
    assert seen["aiohttp"]["x-dup"] == "one, two" and seen["aiohttp"]["x-single"] == "s"
