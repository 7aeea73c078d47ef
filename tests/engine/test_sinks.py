"""Console, JSON-lines and webhook sinks: the text they write and the requests they make."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from engine import ConsoleSink, JsonlSink, WebhookSink, format_ms
from engine.jobs.sinks import build_sinks, event_to_json, format_event
from engine.runtime import events as ev

UTC = dt.UTC
T0 = dt.datetime(2026, 11, 25, 10, 0, 0, tzinfo=UTC).timestamp()


def finished(step: str = "check", status: str = "succeeded", **kw: Any) -> ev.StepFinished:
    base: dict[str, Any] = dict(
        run_id="r1",
        step=step,
        status=status,
        output={"status": "pass"},
        error=None,
        duration_ms=3,
        attempts=3,
        calls=(),
        time=T0 + 0.012,
    )
    base.update(kw)
    return ev.StepFinished(**base)


def result(status: str = "succeeded", error: dict[str, Any] | None = None) -> ev.RunResult:
    return ev.RunResult(
        run_id="r1",
        workflow="policyChange",
        status=status,
        started="2026-11-25T10:00:00Z",
        duration_ms=1534,
        steps={},
        output=None,
        error=error,
    )


def test_console_line_for_a_succeeded_step_shows_time_icon_step_duration_and_attempts() -> None:
    line = format_event(finished(), tz=UTC)
    assert line == "10:00:00.012    ✔ check succeeded in 3 ms (3 attempts)"


def test_console_single_attempt_is_not_mentioned() -> None:
    assert format_event(finished(attempts=1), tz=UTC).endswith("check succeeded in 3 ms")


def test_console_retry_line_says_attempt_n_of_m_reason_and_delay() -> None:
    e = ev.StepRetrying(
        run_id="r1",
        step="check",
        attempt=2,
        max_attempts=4,
        delay=1.0,
        reason="http 503 Service Unavailable",
        time=T0 + 5.5,
    )
    assert format_event(e, tz=UTC) == (
        "10:00:05.500    ↻ check attempt 2 of 4 failed: http 503 Service Unavailable; "
        "next attempt in 1 s"
    )


def test_console_failed_step_shows_error_type_status_and_message() -> None:
    e = finished(
        status="failed",
        attempts=4,
        duration_ms=16500,
        output=None,
        error={"type": "http", "message": "ComplianceService answered 503", "status": 503},
    )
    assert format_event(e, tz=UTC).endswith(
        "✘ check failed in 16.5 s after 4 attempts: http: ComplianceService answered 503"
    )
    e2 = finished(
        status="failed",
        attempts=1,
        output=None,
        error={"type": "http", "message": "bad gateway", "status": 502},
    )
    assert "failed in 3 ms: http 502: bad gateway" in format_event(e2, tz=UTC)


def test_console_notification_shows_its_level_and_step() -> None:
    e = ev.Notification(
        run_id="r1", step="shortfall", level="warning", message="only 2 units dispatched", time=T0
    )
    assert format_event(e, tz=UTC) == "10:00:00.000    ⚠ WARNING shortfall: only 2 units dispatched"


def test_console_run_lines_frame_the_steps() -> None:
    start = ev.RunStarted(run_id="r1", workflow="policyChange", time=T0, input={})
    end = ev.RunFinished(
        run_id="r1",
        result=result(
            "failed",
            {"type": "http", "message": "PolicyService answered 409", "step": "updatePolicy"},
        ),
        time=T0 + 1.534,
    )
    assert format_event(start, tz=UTC) == "10:00:00.000  ▶ run policyChange started (run r1)"
    assert format_event(end, tz=UTC) == (
        "10:00:01.534  ■ run policyChange failed in 1.53 s: http: PolicyService answered 409 "
        "(step updatePolicy)"
    )


def test_console_skipped_and_foreach_started_lines() -> None:
    assert format_event(finished(status="skipped"), tz=UTC).endswith("– check skipped")
    e = ev.StepStarted(run_id="r1", step="review", attempt=2, time=T0, index=3)
    assert format_event(e, tz=UTC).endswith("· review[3] started (attempt 2)")


def test_console_sink_writes_lines_and_falls_back_to_ascii() -> None:
    out = io.StringIO()
    ConsoleSink(out, tz=UTC, color=False)(finished())
    assert out.getvalue() == "10:00:00.012    ✔ check succeeded in 3 ms (3 attempts)\n"
    raw = io.BytesIO()
    latin = io.TextIOWrapper(raw, encoding="ascii")
    sink = ConsoleSink(latin, tz=UTC, color=False)
    sink(finished())
    latin.flush()
    assert raw.getvalue().decode() == "10:00:00.012    + check succeeded in 3 ms (3 attempts)\n"


def test_console_quiet_mode_keeps_notifications_and_the_end_only() -> None:
    out = io.StringIO()
    sink = ConsoleSink(out, tz=UTC, color=False, steps=False)
    sink(finished())
    sink(ev.Notification(run_id="r1", step=None, level="info", message="hello", time=T0))
    assert out.getvalue() == "10:00:00.000    ℹ INFO hello\n"


def test_format_ms() -> None:
    assert [format_ms(x) for x in (0, 3, 999.4, 1000, 1250, 59_990, 123_000)] == [
        "0 ms",
        "3 ms",
        "999 ms",
        "1 s",
        "1.25 s",
        "59.99 s",
        "2 m 03 s",
    ]


def test_jsonl_sink_writes_one_object_per_event(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "run.jsonl"
    sink = JsonlSink(path)
    rec = ev.CallRecord(
        attempt=1,
        index=None,
        request={
            "method": "POST",
            "url": "http://x/a",
            "headers": {"Authorization": "***"},
            "body": None,
        },
        response={"status": 200, "headers": {}, "body": {"ok": True}},
        error=None,
        duration_ms=2,
    )
    sink(finished(calls=(rec,)))
    sink(ev.RunFinished(run_id="r1", result=result(), time=T0 + 2))
    sink.close()
    lines = path.read_text().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(x) for x in lines)
    assert first["event"] == "StepFinished" and first["step"] == "check"
    assert first["calls"][0]["request"]["headers"] == {"Authorization": "***"}
    assert second["event"] == "RunFinished"
    assert second["result"] == result().to_json()


def test_event_to_json_is_plain_json() -> None:
    data = event_to_json(finished())
    assert json.loads(json.dumps(data)) == data
    assert data["calls"] == []


class _Hook(BaseHTTPRequestHandler):
    disable_nagle_algorithm = True  # STYLE.md: 43 ms per request on loopback without it
    received: list[dict[str, Any]] = []
    status = 204

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        n = int(self.headers.get("Content-Length", 0))
        type(self).received.append(
            {
                "path": self.path,
                "type": self.headers["Content-Type"],
                "json": json.loads(self.rfile.read(n)),
            }
        )
        self.send_response(type(self).status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def hook_server() -> Iterator[tuple[str, type[_Hook]]]:
    handler = type("Hook", (_Hook,), {"received": [], "status": 204})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks/admin", handler
    finally:
        server.shutdown()
        server.server_close()


def note(level: str, message: str, step: str | None = "notify") -> ev.Notification:
    return ev.Notification(run_id="r1", step=step, level=level, message=message, time=T0)


def test_webhook_posts_notifications_in_order_and_flushes_at_close(
    hook_server: tuple[str, type[_Hook]],
) -> None:
    url, handler = hook_server

    async def go() -> WebhookSink:
        sink = WebhookSink(url)
        sink(note("success", "policy P-7 is live"))
        sink(finished())  # not a notification: never posted
        sink(note("error", "policy P-8 rolled back", step=None))
        # The call returned at once; nothing has been awaited yet.
        assert handler.received == []
        await sink.aclose()
        return sink

    sink = asyncio.run(go())
    assert sink.errors == [] and sink.sent == 2
    assert [r["json"]["message"] for r in handler.received] == [
        "policy P-7 is live",
        "policy P-8 rolled back",
    ]
    first = handler.received[0]
    assert first["path"] == "/hooks/admin" and first["type"] == "application/json"
    assert first["json"] == {
        "run": "r1",
        "step": "notify",
        "level": "success",
        "message": "policy P-7 is live",
        "time": "2026-11-25T10:00:00.000Z",
        "text": "[success] policy P-7 is live",
    }


def test_webhook_failures_are_collected_not_raised(hook_server: tuple[str, type[_Hook]]) -> None:
    url, handler = hook_server
    handler.status = 500

    async def go() -> WebhookSink:
        sink = WebhookSink(url)
        sink(note("info", "a"))
        await sink.aclose()
        return sink

    sink = asyncio.run(go())
    assert sink.errors == [f"webhook {url} answered 500"]


def test_webhook_to_a_closed_port_reports_a_connection_failure() -> None:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nobody listens there now

    async def go() -> WebhookSink:
        sink = WebhookSink(f"http://127.0.0.1:{port}/x", timeout=2)
        sink(note("info", "a"))
        await sink.aclose()
        return sink

    sink = asyncio.run(go())
    assert len(sink.errors) == 1 and "ConnectError" in sink.errors[0]


def test_webhook_queued_outside_a_loop_is_sent_by_aclose(
    hook_server: tuple[str, type[_Hook]],
) -> None:
    url, handler = hook_server
    sink = WebhookSink(url)
    sink(note("warning", "queued before any loop"))
    asyncio.run(sink.aclose())
    assert [r["json"]["level"] for r in handler.received] == ["warning"]


def test_build_sinks_from_an_environments_notify_list(
    tmp_path: Path, hook_server: tuple[str, type[_Hook]]
) -> None:
    url, handler = hook_server
    console = io.StringIO()
    sinks = build_sinks(
        [{"webhook": url}, {"file": "out/n.jsonl"}, {"console": True}],
        base_dir=tmp_path,
        console=console,
    )
    kinds = [type(s).__name__ for s in sinks]
    assert kinds == ["WebhookSink", "JsonlSink", "ConsoleSink"]

    async def go() -> list[str]:
        for s in sinks:
            s(note("error", "boom"))
        return await sinks.aclose()

    assert asyncio.run(go()) == []
    assert json.loads((tmp_path / "out" / "n.jsonl").read_text())["message"] == "boom"
    assert "ERROR notify: boom" in console.getvalue()
    assert handler.received[0]["json"]["level"] == "error"
    # The command line prints its own lines: {console: true} then adds nothing.
    assert len(build_sinks([{"console": True}], have_console=True)) == 0


def test_build_sinks_levels_filter(tmp_path: Path) -> None:
    sinks = build_sinks([{"file": "n.jsonl", "levels": ["error"]}], base_dir=tmp_path)
    for s in sinks:
        s(note("info", "quiet"))
        s(note("error", "loud"))
        s(finished())
    asyncio.run(sinks.aclose())
    lines = [json.loads(x) for x in (tmp_path / "n.jsonl").read_text().splitlines()]
    assert [x["message"] for x in lines] == ["loud"]


def test_build_sinks_rejects_unknown_kinds() -> None:
    with pytest.raises(ValueError, match="unknown sink 'slack'"):
        build_sinks([{"slack": "x"}])
