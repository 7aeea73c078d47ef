"""Secrets at run time: where they come from, where they may be used, and that they never show."""

from __future__ import annotations

import asyncio
import json
import random

import pytest

from engine import Engine, Event, MockTransport, Recorder, RunResult, SecretSource, VirtualClock
from engine.runtime.secrets import MASK, redact, register_secret
from tests.engine.test_run_support import START, Spy, arun, mocks_file, workflow

SECRET = "s3cr3t-value-4411"

WF = """
version: 1
name: sec
steps:
  - id: call
    service: Vault
    action: open
    path: /open/${ secrets.PATHKEY }
    query: {k: "${ secrets.TOKEN }"}
    headers: {Authorization: "Bearer ${ secrets.TOKEN }"}
    with: {token: "${ secrets.TOKEN }", who: "${ input.who }"}
    onError: continue
  - notify: {message: "the call said ${ steps.call.error.message || steps.call.output }"}
"""


async def _run(
    wf_text: str,
    mocks_text: str,
    environ: dict[str, str],
    mapping: dict[str, str] | None = None,
    validate: bool = True,
) -> tuple[RunResult, list[Event], Spy, Recorder]:
    clock = VirtualClock(start=START)
    spy = Spy(MockTransport(mocks_file(mocks_text).mocks, clock))
    events: list[Event] = []
    recorder = Recorder()
    engine = Engine(
        transport=spy,
        clock=clock,
        sinks=[events.append, recorder],
        secrets=SecretSource(mapping, environ=environ),
        rng=random.Random(1),
    )
    async with engine:
        result = await engine.run(workflow(wf_text, validate=validate), {"who": "ada"})
    return result, events, spy, recorder


ECHO = """
version: 1
mocks:
  Vault.open:
    status: 500
    body: {echo: "${ request }"}
"""


def test_secrets_reach_the_request_but_never_any_output() -> None:
    environ = {"SWITCHBOARD_SECRET_TOKEN": SECRET, "SWITCHBOARD_SECRET_PATHKEY": "pk-0099"}
    result, events, spy, recorder = arun(_run(WF, ECHO, environ))
    (req,) = spy.requests
    # the request itself carries the real values
    assert req.headers["authorization"] == f"Bearer {SECRET}"
    assert req.url.path == "/open/pk-0099" and req.url.params["k"] == SECRET
    assert json.loads(req.content)["token"] == SECRET
    # …but nothing reported does, although the server echoed every one of them back
    assert result.steps["call"].error is not None
    shown = repr(events) + json.dumps(result.to_json()) + repr(recorder.mocks_file())
    assert SECRET not in shown and "pk-0099" not in shown
    assert MASK in result.steps["call"].error["message"]
    assert result.steps["notify"].output["message"].count(MASK) >= 2


def test_missing_secret_is_type_secret_and_sends_nothing() -> None:
    result, _, spy, _ = arun(_run(WF, ECHO, {"SWITCHBOARD_SECRET_PATHKEY": "pk-0099"}))
    err = result.steps["call"].error
    assert err is not None and err["type"] == "secret"
    assert "SWITCHBOARD_SECRET_TOKEN" in err["message"]
    assert spy.requests == []


def test_an_environment_can_name_the_variable() -> None:
    environ = {"VAULT_TOKEN": "vt-123456", "SWITCHBOARD_SECRET_PATHKEY": "pk-2"}
    result, _, spy, _ = arun(_run(WF, ECHO, environ, {"TOKEN": "VAULT_TOKEN"}))
    assert spy.requests[0].headers["authorization"] == "Bearer vt-123456"


def test_secrets_are_not_in_scope_for_if_output_or_notify() -> None:
    wf = """
        version: 1
        name: noscope
        steps:
          - {id: a, service: V, action: open, if: "${ secrets.TOKEN }"}
          - {id: b, service: V, action: open, after: [], output: "${ secrets.TOKEN }"}
          - {notify: {message: "${ secrets.TOKEN }"}, after: []}
    """
    result, events, _, _ = arun(
        _run(
            wf,
            "version: 1\nmocks: {V.open: {}}\n",
            {"SWITCHBOARD_SECRET_TOKEN": SECRET},
            validate=False,
        )
    )
    assert result.steps["a"].status == "skipped"
    assert result.steps["b"].output is None
    assert result.steps["notify"].output["message"] == ""


def test_redact_masks_nested_values_and_longest_first() -> None:
    register_secret("abc-secret")
    register_secret("abc-secret-longer")
    assert redact({"k abc-secret": ["x abc-secret-longer y", 3, None]}) == {
        "k ***": ["x *** y", 3, None]
    }
    assert redact(("abc-secret",)) == ("***",)


def test_secret_given_directly_is_masked_in_events() -> None:
    async def main() -> list[Event]:
        clock = VirtualClock(start=START)
        events: list[Event] = []
        engine = Engine(
            transport=MockTransport(mocks_file(ECHO).mocks, clock),
            clock=clock,
            sinks=[events.append],
            secrets=SecretSource(values={"TOKEN": "direct-777", "PATHKEY": "pk-direct"}),
        )
        async with engine:
            await engine.run(workflow(WF), {"who": "ada"})
        await asyncio.sleep(0)
        return events

    events = arun(main())
    assert "direct-777" not in repr(events) and "pk-direct" not in repr(events)


def test_run_ids_never_hold_a_known_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """A secret of hex digits masked pieces of run ids (`1f***92…`), which then could not be
    looked up: new ids are drawn again until no secret would mask them."""
    import os

    from engine import new_run_id
    from engine.runtime import ports

    ports._forget_entropy()  # the next id reads os.urandom afresh
    secret = "5ec7e7a11d5ec7e7"  # hex digits, as a run id's are
    register_secret(secret)
    draws = iter([bytes.fromhex(secret), bytes.fromhex("0" * 15 + "1")])
    monkeypatch.setattr(os, "urandom", lambda n: next(draws))
    run_id = new_run_id()
    assert run_id == "0" * 15 + "1"
    assert redact(run_id) == run_id
