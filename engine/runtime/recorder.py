"""Recording: a sink that turns what a live run saw into a mocks file that replays it.

Each HTTP attempt becomes one entry in its `Service.action` list, in the order the requests were
sent (CallRecord.seq), so replaying the file hands every attempt the answer it got live: a
response (status, headers, body, delay) or a fault (`timeout`, `connection`). Secrets are
already `***` in call records, and are masked again on the way out for good measure.
"""

from __future__ import annotations

from typing import Any

from engine.core.expressions import escape_templates
from engine.core.model import MockResponse, MocksFile
from engine.runtime.events import CallRecord, Event, StepFinished
from engine.runtime.secrets import redact

__all__ = ["Recorder", "KEEP_HEADERS_EXCEPT"]

# Headers a replay must not copy: they describe the connection or the moment, not the answer.
# content-type is dropped unless the body is text (mocks send JSON bodies as JSON anyway).
KEEP_HEADERS_EXCEPT = frozenset(
    {
        "content-length",
        "date",
        "server",
        "connection",
        "keep-alive",
        "transfer-encoding",
        "content-encoding",
        "idempotency-key",
    }
)


class Recorder:
    """Add as a sink to an engine (`Engine(sinks=[recorder])`), then take its `mocks_file()`."""

    def __init__(self) -> None:
        self._records: list[CallRecord] = []

    def __call__(self, event: Event) -> None:
        if isinstance(event, StepFinished) and event.calls:
            self._records.extend(event.calls)

    @property
    def records(self) -> list[CallRecord]:
        return sorted(self._records, key=lambda r: r.seq)

    def mocks_file(self) -> MocksFile:
        mocks: dict[str, list[MockResponse]] = {}
        for rec in self.records:
            entry = _entry(rec)
            if entry is not None and rec.target:
                mocks.setdefault(rec.target, []).append(entry)
        return MocksFile(mocks=mocks)


def _entry(rec: CallRecord) -> MockResponse | None:
    if rec.error_type == "cancelled" or rec.error_type == "mock":
        # The run ended under it (or it never left a mock): nothing was answered to replay.
        return None
    if rec.error_type == "timeout":
        return MockResponse(fault="timeout")
    if rec.error_type == "connection" or rec.response is None:
        return MockResponse(fault="connection")
    resp: dict[str, Any] = redact(rec.response)
    body = resp.get("body")
    headers = {}
    for k, v in (resp.get("headers") or {}).items():
        low = k.lower()
        if low in KEEP_HEADERS_EXCEPT:
            continue
        if low == "content-type" and not isinstance(body, str):
            continue
        headers[k] = v
    return MockResponse(
        status=int(resp.get("status", 200)),
        headers=escape_templates(headers),
        body=escape_templates(body),
        delay=rec.delay_ms,
    )
