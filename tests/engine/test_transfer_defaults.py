"""`defaults:` takes the transfer keys `followRedirects` and `maxResponseSize`: read, written
back, checked at line:col, in the schema; and their order at run time, step > defaults >
environment, against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import textwrap
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from engine import Engine, parse_workflow
from engine.files.yamlwrite import dump_workflow
from engine.runtime.wire import HttpSettings
from tests.engine.http_support import Answer, RecordingServer, http_server, live_caller
from tests.engine.test_run_support import arun, workflow
from tests.engine.test_schemas import VALIDATORS

__all__ = ["http_server", "live_caller"]


def _flow(defaults: str, step: str = "") -> str:
    text = textwrap.dedent(
        """
        version: 1
        name: hop
        defaults:
        DEFAULTS
        steps:
          - id: call
            service: Api
            action: start
        """
    )
    text = text.replace("DEFAULTS\n", "".join(f"  {line}\n" for line in defaults.splitlines()))
    return text + "".join(f"    {line}\n" for line in step.splitlines())


def test_defaults_read_write_and_check_the_transfer_keys() -> None:
    wf = workflow(_flow("timeout: 5s\nfollowRedirects: true\nmaxResponseSize: 64KiB"))
    assert wf.defaults.follow_redirects is True
    assert wf.defaults.max_response_size == 64 * 1024
    assert wf.steps[0].follow_redirects is None  # the step itself says nothing
    out = dump_workflow(wf)
    assert "defaults:\n  timeout: 5s\n  followRedirects: true\n  maxResponseSize: 64KiB\n" in out
    assert parse_workflow(out).model == wf
    only = workflow(_flow("followRedirects: false"))
    assert not only.defaults.is_empty()  # false is said, not left out
    assert "defaults:\n  followRedirects: false\n" in dump_workflow(only)

    text = _flow("followRedirects: sometimes\nmaxResponseSize: 10 parsecs")
    bad = parse_workflow(text, "hop.yaml")
    found = {(p.line, p.col): p.message for p in bad.problems}
    lines = text.splitlines()
    at_follow = lines.index("  followRedirects: sometimes") + 1
    at_size = lines.index("  maxResponseSize: 10 parsecs") + 1
    assert "'followRedirects' must be true or false" in found[(at_follow, 20)]
    assert "512KiB" in found[(at_size, 20)]


def test_the_schema_takes_the_defaults_transfer_keys() -> None:
    doc = {
        "version": 1,
        "name": "w",
        "defaults": {"followRedirects": False, "maxResponseSize": "2MiB"},
        "steps": [{"service": "A", "action": "b"}],
    }
    validator: Draft202012Validator = VALIDATORS["workflow"]
    assert validator.is_valid(doc)
    assert parse_workflow(json.dumps(doc)).problems == []
    doc["defaults"] = {"maxResponseSize": "12 parsecs"}
    assert not validator.is_valid(doc)
    doc["defaults"] = {"followRedirects": "yes"}
    assert not validator.is_valid(doc)


async def _run(srv: RecordingServer, text: str, http: HttpSettings) -> Any:
    async with Engine(services={"Api": srv.url}, http=http) as e:
        return await e.run(workflow(text))


def _redirect() -> Answer:
    return Answer(status=302, body=b"", headers={"Location": "/moved"})


@pytest.mark.usefixtures("live_caller")
def test_redirects_step_over_defaults_over_environment(http_server: RecordingServer) -> None:
    follow = HttpSettings(follow_redirects=True)
    http_server.answers = [_redirect()]
    result = arun(_run(http_server, _flow("followRedirects: false"), follow))
    assert result.steps["call"].error["status"] == 302  # the workflow's defaults say no
    http_server.answers = [_redirect()]
    text = _flow("followRedirects: false", "followRedirects: true")
    result = arun(_run(http_server, text, HttpSettings()))
    assert result.status == "succeeded"  # the step's own yes
    http_server.answers = [_redirect()]
    result = arun(_run(http_server, _flow("followRedirects: true"), HttpSettings()))
    assert result.status == "succeeded" and http_server.seen[-1].path == "/moved"


@pytest.mark.usefixtures("live_caller")
def test_response_size_step_over_defaults_over_environment(http_server: RecordingServer) -> None:
    big = Answer(body=json.dumps({"data": "x" * 3000}).encode())
    small = HttpSettings(max_response_bytes=1024)
    http_server.answers = [big]
    result = arun(_run(http_server, _flow("maxResponseSize: 4KiB"), small))
    assert result.status == "succeeded"  # the defaults lift the environment's 1 KiB
    http_server.answers = [big]
    result = arun(_run(http_server, _flow("maxResponseSize: 4KiB", "maxResponseSize: 2KiB"), small))
    assert "over the 2 KiB limit" in result.steps["call"].error["message"]
