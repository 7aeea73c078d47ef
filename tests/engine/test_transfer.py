"""Redirects, response-size limits, calls without a body and services an environment does not
name, against real HTTP servers on 127.0.0.1 — with each live Caller (`live_caller`)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from engine import Engine, SecretSource, load_environments, load_workflow, parse_workflow
from engine.files.yamlwrite import dump_environments, dump_workflow
from engine.jobs.setup import prepare
from engine.runtime.wire import MAX_REDIRECTS, HttpSettings
from tests.engine.http_support import Answer, RecordingServer, http_server, live_caller, serving
from tests.engine.test_run_support import arun, workflow

__all__ = ["http_server", "live_caller"]
pytestmark = pytest.mark.usefixtures("live_caller")

TOKEN = "tok-redirect-4417"
KEY = "key-redirect-8812"


async def _run(
    srv: RecordingServer, text: str, input: Any = None, http: HttpSettings | None = None
) -> Any:
    environ = {"SWITCHBOARD_SECRET_TOKEN": TOKEN, "SWITCHBOARD_SECRET_KEY": KEY}
    async with Engine(
        services={"Api": srv.url}, secrets=SecretSource(environ=environ), http=http
    ) as e:
        return await e.run(workflow(text), input)


def _flow(extra: str = "", with_: str = "{name: ada}") -> str:
    return textwrap.dedent(
        """
        version: 1
        name: hop
        steps:
          - id: call
            service: Api
            action: start
            with: WITH
            headers:
              Authorization: "Bearer ${ secrets.TOKEN }"
              X-Api-Key: "${ secrets.KEY }"
              X-Plain: plain
        """
    ).replace("WITH", with_) + "".join(f"    {line}\n" for line in extra.splitlines())


def _redirect(status: int, location: str) -> Answer:
    return Answer(status=status, body=b"", headers={"Location": location})


def test_a_redirect_is_not_followed_by_default_and_the_error_names_the_location(
    http_server: RecordingServer,
) -> None:
    http_server.answers = [_redirect(302, "/elsewhere?x=1")]
    result = arun(_run(http_server, _flow()))
    error = result.steps["call"].error
    assert result.status == "failed" and error["type"] == "http" and error["status"] == 302
    assert "redirecting to /elsewhere?x=1" in error["message"]
    assert "followRedirects" in error["message"]
    assert [s.path for s in http_server.seen] == ["/start"]


def test_a_location_holding_a_secret_is_masked_in_the_error(
    http_server: RecordingServer,
) -> None:
    http_server.answers = [_redirect(307, f"/login?key={KEY}")]
    result = arun(_run(http_server, _flow()))
    assert "redirecting to /login?key=***" in result.steps["call"].error["message"]
    assert KEY not in json.dumps(result.to_json())


def test_a_followed_303_or_302_after_post_becomes_a_get_without_the_body(
    http_server: RecordingServer,
) -> None:
    http_server.answers = [_redirect(302, "/one"), _redirect(303, "two")]
    result = arun(_run(http_server, _flow("followRedirects: true")))
    assert result.status == "succeeded", result.error
    first, second, third = http_server.seen
    assert (first.method, first.body) == ("POST", b'{"name":"ada"}')
    assert (second.method, second.path, second.body) == ("GET", "/one", b"")
    assert third.path == "/two"  # relative to /one
    assert "content-type" not in second.headers
    # the same origin: the credentials go along
    assert third.headers["authorization"] == f"Bearer {TOKEN}"
    assert third.headers["x-api-key"] == KEY
    assert result.output["call"]["method"] == "GET"


def test_a_307_to_another_origin_keeps_the_body_and_drops_every_credential(
    http_server: RecordingServer,
) -> None:
    with serving(RecordingServer()) as other:
        http_server.answers = [_redirect(307, f"{other.url}/landing")]
        result = arun(_run(http_server, _flow("followRedirects: true")))
        assert result.status == "succeeded", result.error
        (seen,) = other.seen
    assert (seen.method, seen.path, seen.body) == ("POST", "/landing", b'{"name":"ada"}')
    assert "authorization" not in seen.headers and "x-api-key" not in seen.headers
    assert TOKEN not in json.dumps(seen.headers) and KEY not in json.dumps(seen.headers)
    assert seen.headers["x-plain"] == "plain"
    assert seen.headers["idempotency-key"].endswith(":call")


def test_a_body_holding_a_secret_is_not_sent_to_another_origin(
    http_server: RecordingServer,
) -> None:
    with serving(RecordingServer()) as other:
        http_server.answers = [_redirect(308, f"{other.url}/landing")]
        flow = _flow("followRedirects: true", with_='{key: "${ secrets.KEY }"}')
        result = arun(_run(http_server, flow))
        assert other.seen == []
    error = result.steps["call"].error
    assert error["type"] == "http" and error["status"] == 308
    assert "holds a secret" in error["message"] and f"{other.url}/landing" in error["message"]
    assert KEY not in json.dumps(result.to_json())


def test_redirect_hops_are_bounded(http_server: RecordingServer) -> None:
    http_server.answers = [_redirect(302, "/again")] * (MAX_REDIRECTS + 5)
    result = arun(_run(http_server, _flow("followRedirects: true")))
    error = result.steps["call"].error
    assert error["type"] == "http" and error["status"] == 302
    assert f"more than {MAX_REDIRECTS} redirects" in error["message"]
    assert len(http_server.seen) == MAX_REDIRECTS + 1


def test_the_environment_follows_redirects_unless_the_step_says_not_to(
    http_server: RecordingServer,
) -> None:
    follow = HttpSettings(follow_redirects=True)
    http_server.answers = [_redirect(301, "/moved")]
    result = arun(_run(http_server, _flow(), http=follow))
    assert result.status == "succeeded" and http_server.seen[-1].path == "/moved"
    http_server.answers = [_redirect(301, "/moved")]
    result = arun(_run(http_server, _flow("followRedirects: false"), http=follow))
    assert result.steps["call"].error["status"] == 301


def _big(n: int) -> Answer:
    return Answer(body=json.dumps({"data": "x" * n}).encode())


def test_the_response_size_limit_is_set_per_step_and_per_environment(
    http_server: RecordingServer,
) -> None:
    http_server.answers = [_big(3000)]
    result = arun(_run(http_server, _flow("maxResponseSize: 2KiB")))
    error = result.steps["call"].error
    assert error["type"] == "http" and error["status"] == 200
    assert "over the 2 KiB limit" in error["message"] and "maxResponseSize" in error["message"]

    small = HttpSettings(max_response_bytes=1024)
    http_server.answers = [_big(3000)]
    result = arun(_run(http_server, _flow(), http=small))
    assert "over the 1 KiB limit" in result.steps["call"].error["message"]
    http_server.answers = [_big(3000)]
    result = arun(_run(http_server, _flow("maxResponseSize: 4KiB"), http=small))
    assert result.status == "succeeded"  # the step's own limit wins


def test_with_null_sends_no_body_and_get_sends_one_only_when_asked(
    http_server: RecordingServer,
) -> None:
    text = textwrap.dedent(
        """
        version: 1
        name: bodies
        steps:
          - {id: none, service: Api, action: none, with: null}
          - {id: input, service: Api, action: input}
          - {id: get, service: Api, action: get, method: GET}
          - {id: asked, service: Api, action: asked, method: GET, with: {q: 1}}
        """
    )
    result = arun(_run(http_server, text, {"from": "input"}))
    assert result.status == "succeeded", result.error
    seen = {s.path: s for s in http_server.seen}
    assert seen["/none"].body == b"" and "content-type" not in seen["/none"].headers
    assert seen["/none"].headers.get("content-length", "0") == "0"
    assert seen["/input"].body == b'{"from":"input"}'
    assert seen["/get"].body == b"" and "content-type" not in seen["/get"].headers
    assert seen["/asked"].body == b'{"q":1}'
    # `with: null` survives the writer
    wf = workflow(text)
    assert wf.steps[0].no_body and not wf.steps[1].no_body
    again = parse_workflow(dump_workflow(wf)).model
    assert again is not None and again.steps[0].no_body
    assert "with: null" in dump_workflow(wf)


def test_the_file_keys_read_write_and_are_checked(tmp_path: Path) -> None:
    text = _flow("followRedirects: true\nmaxResponseSize: 1536")
    wf = workflow(text)
    step = wf.steps[0]
    assert step.follow_redirects is True and step.max_response_size == 1536
    out = dump_workflow(wf)
    assert "followRedirects: true" in out and "maxResponseSize: 1536" in out
    for written in ("2MiB", "5MB", "1GB", "1536", "3KiB"):
        again = dump_workflow(workflow(_flow(f"maxResponseSize: {written}")))
        assert f"maxResponseSize: {written}" in again
    bad = parse_workflow(_flow("followRedirects: sometimes\nmaxResponseSize: 10 parsecs"))
    messages = [p.message for p in bad.problems]
    assert any("'followRedirects' must be true or false" in m for m in messages), messages
    assert any("'maxResponseSize'" in m and "512KiB" in m for m in messages), messages
    lines = {p.line for p in bad.problems}
    assert len(lines) == 2  # each at its own line

    env = tmp_path / "environments.yaml"
    env.write_text(
        "version: 1\nenvironments:\n  live:\n    services: {Api: 'http://127.0.0.1:9'}\n"
        "    followRedirects: true\n    maxResponseSize: 64KiB\n"
        "    tls: {ca: ca.pem, cert: client.pem, key: client.key, verify: false}\n"
    )
    loaded = load_environments(env).environments["live"]
    assert loaded.follow_redirects and loaded.max_response_size == 65536
    assert loaded.tls is not None and (loaded.tls.ca, loaded.tls.verify) == ("ca.pem", False)
    written = dump_environments(load_environments(env))
    assert "maxResponseSize: 64KiB" in written and "verify: false" in written
    env.write_text(written)
    assert load_environments(env) == load_environments(env)


def _folder(tmp: Path, env: str, flow: str) -> Path:
    (tmp / "environments.yaml").write_text(textwrap.dedent(env))
    path = tmp / "flow.yaml"
    path.write_text(textwrap.dedent(flow))
    return path


def test_an_environments_file_sets_redirects_and_size_for_its_runs(
    tmp_path: Path, http_server: RecordingServer
) -> None:
    path = _folder(
        tmp_path,
        f"""
        version: 1
        environments:
          live:
            services: {{Api: '{http_server.url}'}}
            followRedirects: true
            maxResponseSize: 1KiB
        """,
        """
        version: 1
        name: flow
        steps:
          - {id: hop, service: Api, action: hop}
          - {id: big, service: Api, action: big}
        """,
    )
    http_server.answers = [_redirect(302, "/landed"), Answer(), _big(2000)]

    async def go() -> Any:
        setup = prepare(workflow_path=path, env="live")
        try:
            return await setup.run()
        finally:
            await setup.finish()

    result = arun(go())
    assert result.steps["hop"].status == "succeeded"
    assert [s.path for s in http_server.seen] == ["/hop", "/landed", "/big"]
    assert "over the 1 KiB limit" in result.steps["big"].error["message"]


def test_a_service_the_live_environment_does_not_name_is_named_in_the_error(
    tmp_path: Path, http_server: RecordingServer
) -> None:
    path = _folder(
        tmp_path,
        f"""
        version: 1
        environments:
          local:
            services: {{Known: '{http_server.url}'}}
        """,
        """
        version: 1
        name: flow
        steps:
          - {id: known, service: Known, action: ping}
          - {id: missing, service: PaymentService, action: charge}
        """,
    )

    async def go() -> Any:
        setup = prepare(workflow_path=path, env="local")
        try:
            return await setup.run()
        finally:
            await setup.finish()

    result = arun(go())
    assert result.steps["known"].status == "succeeded"
    error = result.steps["missing"].error
    assert error["type"] == "connection"
    assert "environment 'local'" in error["message"]
    assert "service 'PaymentService'" in error["message"]
    assert "environments.local.services" in error["message"]
    assert load_workflow(path).name == "flow"
