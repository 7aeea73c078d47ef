"""Requests as real APIs need them, against a real server: run input never changes which
endpoint is called, lists in `query` repeat, a missing secret fails the run."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import pytest

from engine import Engine, SecretSource, run_mocked
from tests.engine.http_support import Answer, RecordingServer, http_server, live_caller
from tests.engine.test_run_support import arun, workflow

# every live test runs with each live Caller: they must behave as one
pytestmark = pytest.mark.usefixtures("live_caller")

__all__ = ["http_server", "live_caller"]


async def _run(
    srv: RecordingServer, text: str, input: Any = None, secrets: dict[str, str] | None = None
) -> Any:
    environ = {f"SWITCHBOARD_SECRET_{k}": v for k, v in (secrets or {}).items()}
    async with Engine(services={"Api": srv.url}, secrets=SecretSource(environ=environ)) as e:
        return await e.run(workflow(text), input)


PATH_FLOW = """
version: 1
name: photos
steps:
  - service: Api
    action: photos
    method: GET
    path: /pets/${ input.id }/photos
"""


def test_a_value_in_a_path_is_one_segment(http_server: RecordingServer) -> None:
    # `../../status/418?x=` used to send GET /status/418?x=/photos
    for value in ("../../status/418?x=#y", "caf\u00e9 7", "a/b", "..a", "%2E%2E"):
        result = arun(_run(http_server, PATH_FLOW, {"id": value}))
        assert result.status == "succeeded"
        parts = http_server.seen[-1].path.split("/")
        assert len(parts) == 4 and parts[1] == "pets" and parts[3] == "photos"
        assert unquote(parts[2]) == value
    assert http_server.seen[0].path.startswith("/pets/..%2F..%2Fstatus%2F418%3F")
    for dots in (".", ".."):  # removed by any URL normaliser, %2E or not: refused
        result = arun(_run(http_server, PATH_FLOW, {"id": dots}))
        assert result.status == "failed" and result.error["type"] == "expression"
        assert "would change the endpoint" in result.error["message"]
    assert len(http_server.seen) == 5


QUERY_FLOW = """
version: 1
name: search
steps:
  - service: Api
    action: search
    method: GET
    query: {tags: "${ input.tags }", q: "${ input.q }", none: "${ input.missing }"}
"""


def test_a_list_in_query_repeats_the_parameter(http_server: RecordingServer) -> None:
    arun(_run(http_server, QUERY_FLOW, {"tags": ["a", "b c"], "q": "x&y"}))
    assert http_server.seen[0].path == "/search?tags=a&tags=b+c&q=x%26y"


SECRET_FLOW = """
version: 1
name: guarded
steps:
  - id: call
    service: Api
    action: guarded
    headers: {Authorization: "Bearer ${ secrets.TOKEN }"}
    onError: continue
  - notify: "went on"
"""


def test_a_missing_secret_fails_the_run_whatever_on_error_says(
    http_server: RecordingServer,
) -> None:
    result = arun(_run(http_server, SECRET_FLOW))
    assert result.status == "failed"
    assert result.error["type"] == "secret" and result.error["step"] == "call"
    assert result.steps["notify"].status == "cancelled"
    assert http_server.seen == []  # nothing was sent
    ok = arun(_run(http_server, SECRET_FLOW, secrets={"TOKEN": "t-0k3n"}))
    assert ok.status == "succeeded"
    assert http_server.seen[0].headers["authorization"] == "Bearer t-0k3n"


BODY_FLOW = """
version: 1
name: leaky
steps:
  - id: call
    service: Api
    action: leaky
    headers: {X-Key: "${ secrets.KEY }"}
"""


def test_an_error_body_is_masked_before_it_is_cut(http_server: RecordingServer) -> None:
    secret = "sk-" + "9" * 30
    http_server.answers.append(
        Answer(
            500, b'"' + b"x" * 190 + secret.encode() + b'"', {"Content-Type": "application/json"}
        )
    )
    result = arun(_run(http_server, BODY_FLOW, secrets={"KEY": secret}))
    message = result.error["message"]
    assert "sk-" not in message and "999" not in message
    assert "***" in message


def test_run_mocked_is_the_shipped_harness() -> None:
    from engine import MockResponse

    result, events = arun(
        run_mocked(workflow(PATH_FLOW), {"Api.photos": MockResponse(body={"n": 1})}, {"id": "7"})
    )
    assert result.status == "succeeded" and result.output == {"photos": {"n": 1}}
    assert events[0].__class__.__name__ == "RunStarted"


SIX = {
    "QUOTE": 'he said "yes" 1',
    "BACKSLASH": "c:\\dir\\x9",
    "SLASH": "a/b/c/d9",
    "AMP": "k=1&v=2&z",
    "SPACE": "two words here",
    "UNICODE": "pässwörd-ключ",
}

LEAKY_FLOW = """
version: 1
name: sixSecrets
steps:
  - id: send
    service: Api
    action: echo
    path: /echo/${ secrets.SLASH }/${ secrets.SPACE }
    query: {a: "${ secrets.AMP }", u: "${ secrets.UNICODE }"}
    headers: {X-Quote: "${ secrets.QUOTE }", X-Back: "${ secrets.BACKSLASH }"}
    with: {all: ["${ secrets.QUOTE }", "${ secrets.BACKSLASH }", "${ secrets.UNICODE }"]}
  - notify: "sent ${ steps.send.output.path }"
"""


def test_six_secrets_never_show_in_any_output_in_any_encoding(
    http_server: RecordingServer, tmp_path: Any, capsys: Any
) -> None:
    import json
    import os

    from engine.cli import main
    from engine.runtime.secrets import encodings

    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "six.yaml").write_text(LEAKY_FLOW)
    (folder / "environments.yaml").write_text(
        "version: 1\nenvironments:\n  live:\n"
        f"    services: {{Api: '{http_server.url}'}}\n"
        "    notify: [{file: events.jsonl}]\n"
    )
    # the server answers with everything it received, so the secrets come back in the body
    old = dict(os.environ)
    os.environ.update({f"SWITCHBOARD_SECRET_{k}": v for k, v in SIX.items()})
    try:
        code = main(
            ["run", str(folder / "six.yaml"), "--json", "--record", str(folder / "rec.mocks.yaml")]
        )
        out, err = capsys.readouterr()
        assert code == 0, err
        main(["run", str(folder / "six.yaml")])  # the console lines
        out2, err2 = capsys.readouterr()
    finally:
        os.environ.clear()
        os.environ.update(old)
    assert len(http_server.seen) == 2
    sent = http_server.seen[-1]
    assert sent.headers["x-quote"] == SIX["QUOTE"]  # the service did get them
    outputs = {
        "--json": out,
        "stderr": err + err2,
        "console": out2,
        "jsonl": (folder / "events.jsonl").read_text(),
        "recording": (folder / "rec.mocks.yaml").read_text(),
    }
    for name, text in outputs.items():
        for secret in SIX.values():
            for form in encodings(secret):
                assert form not in text, (name, form)
    assert "***" in outputs["--json"] and json.loads(out)["status"] == "succeeded"


class _RawServer:
    """A TCP server on 127.0.0.1 that answers every connection with the same bytes."""

    def __init__(self, answer: bytes) -> None:
        import socket
        import threading

        self.answer = answer
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                try:
                    conn.recv(65536)
                    conn.sendall(self.answer)
                except OSError:
                    pass

    def close(self) -> None:
        self.sock.close()


def _run_answered_by(answer: bytes, flow: str, secrets: dict[str, str] | None = None) -> Any:
    """The result of `flow` run against a server that answers every call with `answer`."""
    srv = _RawServer(answer)
    try:

        async def go() -> Any:
            source = SecretSource(values=secrets or {})
            async with Engine(services={"Api": srv.url}, secrets=source) as e:
                return await e.run(workflow(flow))

        return arun(go())
    finally:
        srv.close()


def _ok(content_type: bytes, body: bytes, encoding: bytes = b"") -> bytes:
    extra = b"Content-Encoding: " + encoding + b"\r\n" if encoding else b""
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: "
        + content_type
        + b"\r\n"
        + extra
        + b"Content-Length: %d\r\n\r\n" % len(body)
        + body
    )


BROKEN_FLOW = """
version: 1
name: broken
steps:
  - id: call
    service: Api
    action: broken
    query: {key: "${ secrets.KEY }"}
"""
PLAIN_FLOW = BROKEN_FLOW.replace('    query: {key: "${ secrets.KEY }"}\n', "")

_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"


@pytest.mark.parametrize(
    "answer",
    [
        b"this is not HTTP at all\r\n\r\n",
        _HEAD + b"X-Big: " + b"a" * 65536 + b"\r\nContent-Length: 2\r\n\r\n{}",
        _HEAD + b"".join(b"X-H%d: v\r\n" % i for i in range(2000)) + b"Content-Length: 2\r\n\r\n{}",
    ],
    ids=["not-http", "64k-header", "2000-headers"],
)
def test_a_broken_answer_is_a_connection_failure_not_a_traceback(
    answer: bytes, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "k-broken-7731"
    result = _run_answered_by(answer, BROKEN_FLOW, {"KEY": secret})
    assert result.status == "failed"
    assert result.steps["call"].error["type"] == "connection"
    out, err = capsys.readouterr()
    logged = caplog.text + out + err
    assert "Traceback" not in logged and secret not in logged
    assert secret not in result.error["message"]


def test_a_response_over_the_size_limit_fails_the_step_and_memory_stays_small() -> None:
    import gzip
    import tracemalloc

    bomb = gzip.compress(b"0" * (64 * 1024 * 1024))  # 64 MiB of zeros in ~65 KB
    answer = _ok(b"application/json", bomb, b"gzip")
    tracemalloc.start()
    result = _run_answered_by(answer, PLAIN_FLOW)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    error = result.steps["call"].error
    assert result.status == "failed" and error["type"] == "http" and error["status"] == 200
    assert "over the 10 MiB limit" in error["message"]
    assert peak < 40 * 1024 * 1024  # the 64 MiB never all came into memory


def test_a_gzip_answer_under_the_limit_is_read() -> None:
    import gzip

    body = gzip.compress(b'{"a": [1, 2]}')
    result = _run_answered_by(_ok(b"application/json", body, b"gzip"), PLAIN_FLOW)
    assert result.status == "succeeded" and result.output == {"call": {"a": [1, 2]}}


def test_header_values_are_checked_in_validate_and_at_run_time(
    http_server: RecordingServer,
) -> None:
    from engine import parse_workflow

    text = (
        "version: 1\nname: h\nsteps:\n  - service: Api\n    action: h\n    headers:\n"
        '      X-Ok: "${ input.v }"\n      X-Bad: "caf\u00e9"\n'
        '      X-Crlf: "a\\r\\nB: c"\n'
        "      'Bad Name': x\n"
    )
    got = [str(p) for p in parse_workflow(text, "h.yaml").problems]
    assert any(
        "h.yaml:8:14: steps[0].headers.X-Bad: header 'X-Bad' holds the character 'é'" in g
        for g in got
    ), got
    assert any("headers.X-Crlf: header 'X-Crlf' holds a line break" in g for g in got)
    assert any("'Bad Name' is not a valid header name" in g for g in got)
    flow = (
        "version: 1\nname: h\nsteps:\n  - service: Api\n    action: h\n    headers:\n"
        '      X-Ok: "${ input.v }"\n'
    )
    for value in ("a\r\nInjected: yes", "caf\u00e9"):
        result = arun(_run(http_server, flow, {"v": value}))
        assert result.status == "failed" and result.error["type"] == "expression"
        assert (
            "headers.X-Ok: the value holds a line break or a character" in result.error["message"]
        )
    assert http_server.seen == []


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://[::1", "is not a valid URL"),
        ("http://h:port", "is not a valid URL"),
        ("http://h/api?key=1", "has no query or fragment"),
        ("ftp://h", "http:// or https://"),
    ],
)
def test_a_base_url_that_would_build_broken_urls_is_refused(url: str, says: str) -> None:
    from engine import parse_environments

    loaded = parse_environments(
        f"version: 1\nenvironments:\n  live:\n    services:\n      Api: '{url}'\n",
        "environments.yaml",
    )
    assert len(loaded.errors) == 1 and says in loaded.errors[0].message
    assert str(loaded.errors[0]).startswith("environments.yaml:5:12: environments.live.services")


FORM_FLOW = """
version: 1
name: token
steps:
  - id: form
    service: Api
    action: token
    headers: {content-type: application/x-www-form-urlencoded}
    with: {grant_type: client_credentials, scope: [read, write]}
  - id: text
    service: Api
    action: note
    headers: {Content-Type: text/plain; charset=utf-8}
    with: "hello, world"
  - id: json
    service: Api
    action: doc
    headers: {Content-Type: application/merge-patch+json}
    with: {a: 1}
"""


def test_the_body_is_encoded_as_the_content_type_says(http_server: RecordingServer) -> None:
    result = arun(_run(http_server, FORM_FLOW))
    assert result.status == "succeeded"
    form, text, js = http_server.seen
    assert form.body == b"grant_type=client_credentials&scope=read&scope=write"
    assert form.headers["content-type"] == "application/x-www-form-urlencoded"  # not replaced
    assert text.body == b"hello, world"
    assert text.headers["content-type"] == "text/plain; charset=utf-8"  # not doubled
    assert js.body == b'{"a":1}' and js.headers["content-type"] == "application/merge-patch+json"


def test_a_binary_answer_is_kept_exactly() -> None:
    import base64 as b64

    png = bytes(range(256)) * 4
    result = _run_answered_by(_ok(b"image/png", png), PLAIN_FLOW)
    body = result.output["call"]
    assert body["contentType"] == "image/png" and b64.b64decode(body["base64"]) == png


def test_every_caller_names_itself_the_same_unless_the_step_does(
    http_server: RecordingServer,
) -> None:
    flow = """
        version: 1
        name: ua
        steps:
          - {id: plain, service: Api, action: a}
          - {id: own, service: Api, action: b, headers: {User-Agent: portal/2}}
    """
    assert arun(_run(http_server, flow)).status == "succeeded"
    agents = [seen.headers.get("user-agent") for seen in http_server.seen]
    assert agents == ["switchboard", "portal/2"]
