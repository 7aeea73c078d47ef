"""Mocked HTTP: MockTransport answers from a mocks table; HybridTransport mixes mocked and live.

The table maps `Service.action` to a list of responses: a run's call 1 gets the first, its call 2
the second, and the last repeats. Calls are counted per run (the `RUN` extension), so runs that
share an engine (a server, a cascade of emits) each see the list from the start; `calls` counts
every call of every run. Each request must carry its `Service.action` in the `TARGET` extension
(the runner sets it); a request whose target has no mock fails with `NoMock` and never reaches
the network. Delays and the `timeout` fault wait on the clock, so under a VirtualClock they take
no real time.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping
from typing import Any

import httpx

from engine.core.expressions import render
from engine.core.model import MockResponse
from engine.runtime.clock import Clock, RealClock
from engine.runtime.http import BODY, RUN, TARGET, TransportFailure

__all__ = ["MockTransport", "HybridTransport", "NoMock", "MockFault", "CALL"]

# A host that counts a run's calls itself (a Temporal workflow, where worker memory does not
# last) passes the 1-based count in this request extension.
CALL = "switchboard.call"


class NoMock(TransportFailure):
    """A mocked call whose `Service.action` has no mock."""

    kind = "mock"

    def __init__(self, target: str) -> None:
        self.target = target
        super().__init__(
            f"no mock for {target}: add '{target}' to the mocks file (or to the scenario), "
            "or run against an environment where the service is live"
        )


class MockFault(httpx.ConnectError):
    """The `connection` fault of a mock."""


def _has_template(value: Any) -> bool:
    if isinstance(value, str):
        return "${" in value
    if isinstance(value, dict):
        return any(_has_template(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_template(v) for v in value)
    return False


def _json_like(value: Any) -> Any:
    """The value as it would come back from JSON (string keys, lists); YAML dates as text."""
    return json.loads(json.dumps(value, default=str))


class _Prepared:
    """A MockResponse made ready to serve: static bodies encoded once."""

    __slots__ = ("resp", "templated", "body", "content", "headers", "is_json")

    def __init__(self, resp: MockResponse) -> None:
        self.resp = resp
        self.headers = {str(k): str(v) for k, v in (resp.headers or {}).items()}
        self.body = _json_like(resp.body) if resp.body is not None else None
        self.templated = _has_template(self.body) or _has_template(self.headers)
        ctype = next((v for k, v in self.headers.items() if k.lower() == "content-type"), None)
        # A string body is sent as text unless the headers say JSON; anything else as JSON.
        self.is_json = not isinstance(self.body, str) or (ctype is not None and "json" in ctype)
        if ctype is None and self.body is not None:
            self.headers["content-type"] = (
                "application/json" if self.is_json else "text/plain; charset=utf-8"
            )
        self.content = b"" if self.templated else self.encode(self.body)

    def encode(self, body: Any) -> bytes:
        if body is None:
            return b""
        if self.is_json:
            return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        return str(body).encode()


def _request_view(request: httpx.Request) -> dict[str, Any]:
    """`request.*` as mock templates see it."""
    body = request.extensions.get(BODY, _MISSING)
    if body is _MISSING:
        raw = request.content
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode("utf-8", "replace")
        else:
            body = None
    return {
        "method": request.method,
        "path": request.url.path,
        "query": dict(request.url.params),
        "headers": dict(request.headers),
        "body": body,
    }


_MISSING = object()


class MockTransport(httpx.AsyncBaseTransport):
    """Answers every request from `mocks` (`Service.action` -> responses)."""

    def __init__(self, mocks: Mapping[str, list[MockResponse]], clock: Clock | None = None) -> None:
        self.clock: Clock = clock or RealClock()
        self.calls: Counter[str] = Counter()
        self._per_run: dict[str, Counter[str]] = {}
        self._table: dict[str, list[_Prepared]] = {
            target: [_Prepared(r) for r in responses]
            for target, responses in mocks.items()
            if responses
        }

    def has(self, target: str) -> bool:
        return target in self._table

    def run_ended(self, run_id: str) -> None:
        """Forget a finished run's counts (a long-lived engine must not keep them all)."""
        self._per_run.pop(run_id, None)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        target = request.extensions.get(TARGET)
        if not target:
            raise NoMock(f"<request to {request.url} without a Service.action>")
        self.calls[target] += 1
        table = self._table.get(target)
        if table is None:
            raise NoMock(target)
        run = request.extensions.get(RUN) or ""
        counts = self._per_run.get(run)
        if counts is None:
            counts = self._per_run[run] = Counter()
        counts[target] += 1
        n = request.extensions.get(CALL) or counts[target]
        prepared = table[n - 1] if n <= len(table) else table[-1]
        resp = prepared.resp
        if resp.delay:
            await self.clock.sleep(resp.delay / 1000)
        if resp.fault == "timeout":
            # The attempt times out at the step's timeout: the runner's own deadline fires first;
            # without one, wait out the request's read timeout.
            limits = request.extensions.get("timeout") or {}
            wait = limits.get("read") or math.inf
            await self.clock.sleep(wait if wait != math.inf else 1e9)
            raise httpx.ReadTimeout(f"mock fault: {target} timed out", request=request)
        if resp.fault == "connection":
            raise MockFault(f"mock fault: {target} dropped the connection", request=request)
        if prepared.templated:
            scope = {"request": _request_view(request), "call": n}
            body = render(prepared.body, scope)
            headers = {k: str(v) for k, v in render(prepared.headers, scope).items()}
            content = prepared.encode(body)
        else:
            body, headers, content = prepared.body, prepared.headers, prepared.content
        return httpx.Response(
            resp.status, headers=headers, content=content, request=request, extensions={BODY: body}
        )


class HybridTransport(httpx.AsyncBaseTransport):
    """Mocked where the mock table has the request's `Service.action`, live elsewhere."""

    def __init__(self, mock: MockTransport, live: httpx.AsyncBaseTransport) -> None:
        self.mock = mock
        self.live = live

    @property
    def calls(self) -> Counter[str]:
        return self.mock.calls

    def run_ended(self, run_id: str) -> None:
        self.mock.run_ended(run_id)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.mock.has(request.extensions.get(TARGET, "")):
            return await self.mock.handle_async_request(request)
        return await self.live.handle_async_request(request)

    async def aclose(self) -> None:
        await self.live.aclose()
