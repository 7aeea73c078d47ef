"""Helpers for the run UI tests: windows with the run UI, waiting for runs, a local service."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.designer.window_support import WORKFLOWS, make_window

__all__ = ["WORKFLOWS", "ui_factory", "wait_run", "write", "LocalService"]

RUN_TIMEOUT_MS = 20_000


def ui_factory(qtbot: Any, tmp_path: Path) -> Iterator[Any]:
    """For an `open_ui` fixture: yields `open_ui(path=None)`, which shows a window with `path`
    open and the run UI attached, and returns its RunUI; every engine thread started is
    stopped after the test."""
    from designer.run.ui import attach_run_ui

    made: list[Any] = []

    def factory(path: Path | None = None) -> Any:
        window = make_window(qtbot, tmp_path / f"window{len(made)}")
        if path is not None:
            assert window.open_path(str(path))
        ui = attach_run_ui(window)
        made.append(ui)
        return ui

    yield factory
    from shiboken6 import isValid

    for ui in made:
        if not isValid(ui.controller):
            continue  # the test closed and deleted its window (which let its engine go)
        if ui.controller.busy:
            ui.controller.stop()
            qtbot.waitUntil(lambda u=ui: not u.controller.busy, timeout=RUN_TIMEOUT_MS)
        ui.controller.shutdown()


def wait_run(qtbot: Any, ui: Any, run_id: str | None = None, timeout: int = RUN_TIMEOUT_MS) -> Any:
    """Wait until the controller is idle (and `run_id` has a result); returns that record."""
    assert run_id is not None or ui.controller.busy or ui.controller.last_outcome is not None, (
        f"nothing is running: {ui.last_message}"
    )
    qtbot.waitUntil(lambda: not ui.controller.busy, timeout=timeout)
    ui.controller.flush()
    if run_id is None:
        return None
    rec = ui.controller.records[run_id]
    assert rec.result is not None
    return rec


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text.lstrip("\n"), encoding="utf-8")
    return path


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else ~40 ms per request on loopback (STYLE.md)
    server: LocalService

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        return None

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        path = urlsplit(self.path).path
        with self.server.lock:
            self.server.hits[path] += 1
            n = self.server.hits[path]
            self.server.auth.append(self.headers.get("Authorization"))
        if path == "/thing":
            status, body = 200, {"id": 7, "got": json.loads(raw) if raw else None}
        elif path == "/flaky":  # 500 once, then 200
            status, body = (500, {"error": "flaky"}) if n == 1 else (200, {"ok": n})
        else:
            status, body = 404, {"error": f"no route {path}"}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class LocalService(ThreadingHTTPServer):
    """A service on 127.0.0.1 (port 0) for live runs: /thing answers, /flaky fails once."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.hits: Counter[str] = Counter()
        self.auth: list[str | None] = []
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> LocalService:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()
