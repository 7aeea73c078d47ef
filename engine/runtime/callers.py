"""Which Caller an engine gets: live calls through aiohttp directly, mocks through httpx, and
hybrid runs split between the two by `Service.action`.

`LIVE_CALLER` names the live Caller (`aiohttp`, or `httpx` for `HttpxCaller` over the
httpx-aiohttp transport); the test suite runs its live tests against both, since they must
behave as one.
"""

from __future__ import annotations

from collections import Counter

from engine.runtime.mock import MockTransport
from engine.runtime.ports import Caller, CallRequest, CallResponse
from engine.runtime.wire import HttpSettings

__all__ = ["LIVE_CALLER", "live_caller", "HybridCaller"]

LIVE_CALLER = "aiohttp"


def live_caller(settings: HttpSettings | None = None) -> Caller:
    """The Caller for live calls, with `settings` (TLS, proxies, redirects, size limit)."""
    if LIVE_CALLER == "httpx":
        from engine.runtime.http import HttpxCaller

        return HttpxCaller(settings=settings)
    from engine.runtime.aiohttp_caller import AiohttpCaller

    return AiohttpCaller(settings)


class HybridCaller:
    """Mocked where the mock table has the request's `Service.action`, live elsewhere."""

    def __init__(self, mock: MockTransport, live: Caller, settings: HttpSettings) -> None:
        from engine.runtime.http import HttpxCaller

        self.mock = mock
        self.mocked = HttpxCaller(mock, settings=settings)
        self.live = live

    @property
    def calls(self) -> Counter[str]:
        return self.mock.calls

    async def call(self, request: CallRequest) -> CallResponse:
        if self.mock.has(request.target):
            return await self.mocked.call(request)
        return await self.live.call(request)

    def run_ended(self, run_id: str) -> None:
        self.mock.run_ended(run_id)

    async def aclose(self) -> None:
        try:
            await self.live.aclose()
        finally:
            await self.mocked.aclose()
