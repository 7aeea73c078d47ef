"""The activities: one HTTP attempt (live or a mock's answer), which secrets are set, and a
notification delivered to the environment's sinks.

Secrets are rendered here and nowhere else: the workflow's requests hold placeholders, the
activity puts the values in just before the attempt and masks them as `***` in what it returns,
so no secret enters Temporal's history. An attempt that gets no answer (timeout, connection, a
mock fault) is an expected failure: it is raised as a benign, non-retryable ApplicationError,
because the retry decision is the engine's own (`runtime.retry`), made in workflow code.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, quote_plus

import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from engine.jobs.sinks import build_sinks
from engine.runtime.callers import live_caller
from engine.runtime.clock import RealClock
from engine.runtime.events import Notification
from engine.runtime.http import BODY, RUN, TARGET, parse_body
from engine.runtime.mock import CALL, MockTransport
from engine.runtime.ports import Caller, CallFailed, CallRequest, CallResponse
from engine.runtime.secrets import SecretSource, redact
from engine.runtime.wire import HttpSettings, TlsError
from engine.temporal.outbound import deliver
from engine.temporal.payloads import (
    ATTEMPT_ACTIVITY,
    CALL_FAILED,
    EVENTS_ACTIVITY,
    MOCK_ACTIVITY,
    NOTIFY_ACTIVITY,
    PLACEHOLDER_RE,
    SECRETS_ACTIVITY,
    Answer,
    Attempt,
    EventBatch,
    Notice,
    SecretQuery,
)

__all__ = ["Activities", "PAYLOAD_LIMIT", "HEARTBEAT_EVERY"]

T = TypeVar("T")

HEARTBEAT_EVERY = 0.5  # seconds; the workflow's heartbeat timeout is a few of these
PAYLOAD_LIMIT = 1_500_000  # bytes of a response body; Temporal fails a task past 2 MB

_KEEP_KEYS = 10_000  # notification keys a worker remembers as delivered


class _Secrets:
    """Placeholders -> values, read from the worker's environment."""

    def __init__(self, variables: Mapping[str, str], environ: Mapping[str, str]) -> None:
        self._source = SecretSource(dict(variables), environ=environ)

    def value(self, name: str) -> str:
        value = self._source.get(name)
        if value is None:
            raise _failed(
                "secret",
                f"secret '{name}' is not set on this worker: set the "
                f"environment variable {self._source.variable(name)} where the "
                "worker runs",
            )
        return value

    def text(self, text: str, encode: Callable[[str], str] | None = None) -> str:
        if "sbsecret-" not in text:
            return text
        return PLACEHOLDER_RE.sub(
            lambda m: encode(self.value(m[1])) if encode else self.value(m[1]), text
        )

    def url(self, url: str) -> str:
        """As the scheduler encodes values: a path segment whole, a query as a form."""
        path, sep, query = url.partition("?")
        return self.text(path, lambda v: quote(v, safe="")) + sep + self.text(query, quote_plus)

    def content(self, content: str | None, headers: Mapping[str, str]) -> bytes | None:
        """The encoded body with the values in, each encoded as its body type needs."""
        if content is None:
            return None
        ctype = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        ctype = ctype.split(";", 1)[0].strip().lower()
        encode: Callable[[str], str] | None = None
        if "json" in ctype:
            encode = _json_text
        elif ctype == "application/x-www-form-urlencoded":
            encode = quote_plus
        return self.text(content, encode).encode("utf-8")

    def value_in(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {
                self.text(k) if isinstance(k, str) else k: self.value_in(v)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [self.value_in(v) for v in value]
        return value


def _failed(kind: str, message: str, status: int | None = None) -> ApplicationError:
    return ApplicationError(
        redact(message),
        kind,
        status,
        type=CALL_FAILED,
        non_retryable=True,
        category=ApplicationErrorCategory.BENIGN,
    )


def _answer(response: CallResponse, target: str, limit: int) -> Answer:
    headers = {k.lower(): v for k, v in response.headers.items()}
    body = redact(response.body)
    size = len(json.dumps(body, ensure_ascii=False, default=str).encode())
    if size > limit:
        raise _failed(
            "http",
            f"{target} answered HTTP {response.status} with a body of {size:,} "
            f"bytes, more than the {limit:,} bytes this engine lets a Temporal payload "
            "carry (Temporal's limit is 2 MB): make the service answer less (a page, "
            "an id to fetch), or run this workflow in-process",
            response.status,
        )
    return Answer(response.status, redact(headers), body)


async def _beating(coro: Coroutine[Any, Any, T]) -> T:
    """Await `coro`, heartbeating meanwhile: a worker that dies mid-call is noticed within the
    heartbeat timeout and the attempt is given to another worker (with the same
    Idempotency-Key), instead of waiting out the step's timeout."""
    task = asyncio.ensure_future(coro)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=HEARTBEAT_EVERY)
            if done:
                return task.result()
            activity.heartbeat()
    finally:
        task.cancel()


def _json_text(value: str) -> str:
    """A value as it stands inside a JSON string."""
    return json.dumps(value, ensure_ascii=False)[1:-1]


class Activities:
    """The worker's activities; one live HTTP pool for every attempt this worker makes."""

    def __init__(
        self, environ: Mapping[str, str] | None = None, *, payload_limit: int = PAYLOAD_LIMIT
    ) -> None:
        self.environ: Mapping[str, str] = environ if environ is not None else os.environ
        self.payload_limit = payload_limit
        self._live: Caller | None = None
        self._tls_live: dict[str, Caller] = {}
        self._delivered: OrderedDict[str, None] = OrderedDict()
        self._events_client: httpx.AsyncClient | None = None

    def _request(self, a: Attempt) -> tuple[CallRequest, _Secrets]:
        secrets = _Secrets(a.secret_vars, self.environ)
        headers = {secrets.text(k): secrets.text(v) for k, v in a.headers.items()}
        body = secrets.value_in(a.body)
        return CallRequest(
            a.method,
            secrets.url(a.url),
            headers,
            secrets.content(a.content, headers),
            body,
            a.target,
            a.timeout,
            a.run_id,
            follow_redirects=a.follow_redirects,
            max_response_bytes=a.max_response_bytes,
            secret_headers=frozenset(a.secret_headers),
            secret_body=a.secret_body,
        ), secrets

    @activity.defn(name=ATTEMPT_ACTIVITY)
    async def attempt(self, a: Attempt) -> Answer:
        """One live HTTP attempt."""
        request, _ = self._request(a)
        try:
            caller = self._live_for(a.tls)
        except TlsError as e:
            raise ApplicationError(
                f"{a.target}: the environment's tls cannot be used on this worker: {e}",
                non_retryable=True,
            ) from None
        try:
            response = await _beating(caller.call(request))
        except CallFailed as e:
            raise _failed(e.kind, e.message, e.status) from None
        return _answer(response, a.target, self.payload_limit)

    def _live_for(self, tls: dict[str, Any] | None) -> Caller:
        """The live Caller (the in-process engine's) for an environment's TLS settings: one
        pool for every environment without any, one more per TLS setting."""
        if tls is None:
            if self._live is None:
                self._live = live_caller()
            return self._live
        key = json.dumps(tls, sort_keys=True)
        caller = self._tls_live.get(key)
        if caller is None:
            settings = HttpSettings(
                ca=tls.get("ca"),
                cert=tls.get("cert"),
                key=tls.get("key"),
                verify=bool(tls.get("verify", True)),
            )
            caller = self._tls_live[key] = live_caller(settings)
        return caller

    @activity.defn(name=MOCK_ACTIVITY)
    async def mock_attempt(self, a: Attempt) -> Answer:
        """A mock's answer to one attempt: its templates rendered over the request (secrets
        in), `call` as the workflow counted it. Delays and faults are the workflow's (timers)."""
        assert a.mock is not None, "a mocked attempt carries its mock"
        request, _ = self._request(a)
        transport = MockTransport({a.target: [replace(a.mock, delay=0, fault=None)]}, RealClock())
        t = a.timeout
        extensions = {
            TARGET: a.target,
            BODY: request.body,
            RUN: a.run_id,
            CALL: a.call,
            "timeout": {"connect": t, "read": t, "write": t, "pool": t},
        }
        req = httpx.Request(
            request.method,
            request.url,
            headers=request.headers,
            content=request.content,
            extensions=extensions,
        )
        response = await transport.handle_async_request(req)
        await response.aread()
        return _answer(
            CallResponse(response.status_code, response.headers, parse_body(response)),
            a.target,
            self.payload_limit,
        )

    @activity.defn(name=NOTIFY_ACTIVITY)
    async def notify(self, n: Notice) -> None:
        """Deliver one notification to the environment's sinks, at least once: a sink that
        fails fails the activity, which Temporal retries; a key delivered before is skipped."""
        if n.key in self._delivered:
            return
        base = Path(n.base_dir) if n.base_dir else None
        try:
            sinks = build_sinks(n.sinks, base_dir=base, have_console=True)
        except ValueError as e:
            raise ApplicationError(
                f"the environment's notify sinks are not understood: {e}", non_retryable=True
            ) from None
        event = Notification(n.run_id, n.step, n.level, n.message, n.time)
        for sink in sinks:
            sink(event)
        errors = await sinks.aclose()
        if errors:
            raise ApplicationError(
                f"notification {n.key} not delivered: {'; '.join(errors)}; Temporal retries it",
                type="NotifyFailed",
            )
        self._delivered[n.key] = None
        while len(self._delivered) > _KEEP_KEYS:
            self._delivered.popitem(last=False)

    @activity.defn(name=EVENTS_ACTIVITY)
    async def events(self, batch: EventBatch) -> None:
        """Send one batch of a run's events to the sinks its starter named."""
        if self._events_client is None:
            self._events_client = httpx.AsyncClient(timeout=10.0, trust_env=False)
        await deliver(batch, self._events_client)

    @activity.defn(name=SECRETS_ACTIVITY)
    async def secrets_set(self, q: SecretQuery) -> dict[str, bool]:
        """Which of the named secrets this worker can read (names only, never values)."""
        source = SecretSource(dict(q.variables), environ=self.environ)
        return {name: source.get(name) is not None for name in q.names}

    async def aclose(self) -> None:
        if self._events_client is not None:
            await self._events_client.aclose()
            self._events_client = None
        if self._live is not None:
            await self._live.aclose()
            self._live = None
        tls_live, self._tls_live = self._tls_live, {}
        for caller in tls_live.values():
            await caller.aclose()
