"""Where run events go: readable console lines, a JSON-lines file, and webhook notifications.

A sink is any `Callable[[Event], None]`; the runner calls it synchronously, so every sink here
returns at once. The webhook sink only queues: a background task posts the queue, and
`aclose()` flushes it when the run (or the command) ends. Events arrive already redacted by the
runner; nothing here adds request data back in, so secrets stay `***`.
"""

from __future__ import annotations

import asyncio
import codecs
import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import os
import sys
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

import httpx

from engine.runtime import events as ev
from engine.runtime.text import describe

__all__ = [
    "ConsoleSink",
    "JsonlSink",
    "WebhookSink",
    "SinkSet",
    "LevelFilter",
    "build_sinks",
    "event_to_json",
    "format_event",
    "register_sink_kind",
]

Sink = Callable[[Any], None]

_ICONS = {
    "run": ("▶", ">"),
    "start": ("·", "."),
    "retry": ("↻", "~"),
    "succeeded": ("✔", "+"),
    "failed": ("✘", "x"),
    "skipped": ("–", "-"),
    "cancelled": ("⊘", "/"),
    "info": ("ℹ", "i"),
    "success": ("✔", "+"),
    "warning": ("⚠", "!"),
    "error": ("✘", "x"),
    "end": ("■", "#"),
}
_COLORS = {
    "succeeded": "32",
    "success": "32",
    "failed": "31",
    "error": "31",
    "warning": "33",
    "retry": "33",
    "skipped": "90",
    "cancelled": "35",
    "start": "90",
    "info": "36",
}


def _clock_text(t: float, tz: dt.tzinfo | None) -> str:
    stamp = dt.datetime.fromtimestamp(t, tz or dt.datetime.now().astimezone().tzinfo)
    return stamp.strftime("%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}"


def format_event(
    event: Any, *, tz: dt.tzinfo | None = None, ascii_only: bool = False, color: bool = False
) -> str | None:
    """One readable line: time, icon (the level), step, message. None for unknown events."""
    got = describe(event)
    if got is None:
        return None
    kind, text = got
    fancy, plain = _ICONS.get(kind, ("·", "."))
    icon = plain if ascii_only else fancy
    if color and kind in _COLORS:
        icon = f"\x1b[{_COLORS[kind]}m{icon}\x1b[0m"
    # Step lines are indented under the run's start and end lines so a run reads as a block.
    indent = "" if kind in ("run", "end") else "  "
    return f"{_clock_text(event.time, tz)}  {indent}{icon} {text}"


def _can_encode(stream: IO[str], text: str) -> bool:
    enc = getattr(stream, "encoding", None) or "utf-8"
    try:
        codecs.encode(text, enc)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


class ConsoleSink:
    """Writes one readable line per event to a text stream (stdout by default)."""

    def __init__(
        self,
        stream: IO[str] | None = None,
        *,
        tz: dt.tzinfo | None = None,
        color: bool | None = None,
        steps: bool = True,
    ) -> None:
        self.stream = stream if stream is not None else sys.stdout
        self.tz = tz
        if color is None:
            isatty = getattr(self.stream, "isatty", lambda: False)
            color = bool(isatty()) and "NO_COLOR" not in os.environ
        self.color = color
        self.steps = steps  # False: only notifications and the run's end (quiet mode)
        self.ascii_only = not _can_encode(self.stream, "▶✔✘↻⚠ℹ–⊘■·")

    def __call__(self, event: Any) -> None:
        if not self.steps and not isinstance(event, (ev.Notification, ev.RunFinished)):
            return
        line = format_event(event, tz=self.tz, ascii_only=self.ascii_only, color=self.color)
        if line is not None:
            self.stream.write(line + "\n")
            self.stream.flush()

    async def aclose(self) -> None:
        self.stream.flush()


_PLAIN = (str, int, float, bool, type(None))


def _jsonable(value: Any) -> Any:
    # the common values first: every event of a busy server passes through here
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    to_json = getattr(value, "to_json", None)
    if callable(to_json):
        return to_json()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


_FIELDS: dict[type, tuple[str, ...]] = {}  # an event class's field names (fields() is slow)


def event_to_json(event: Any) -> dict[str, Any]:
    """An event as a JSON object: `{"event": "StepFinished", "run_id": …, …}`."""
    kind = type(event)
    names = _FIELDS.get(kind)
    if names is None:
        names = _FIELDS[kind] = tuple(f.name for f in dataclasses.fields(event))
    out: dict[str, Any] = {"event": kind.__name__}
    for name in names:
        out[name] = _jsonable(getattr(event, name))
    return out


class JsonlSink:
    """Appends every event as one JSON object per line to a file (created with its folder)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] | None = self.path.open("a", encoding="utf-8")

    def __call__(self, event: Any) -> None:
        if self._file is None:
            return
        # default=str: an odd value in an output must not cost the whole log line.
        self._file.write(json.dumps(event_to_json(event), ensure_ascii=False, default=str) + "\n")
        self._file.flush()

    async def aclose(self) -> None:
        self.close()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def notification_payload(event: Any) -> dict[str, Any]:
    """The JSON a webhook receives for one notification (`text` suits Slack-style hooks)."""
    when = dt.datetime.fromtimestamp(event.time, dt.UTC)
    return {
        "run": event.run_id,
        "step": event.step,
        "level": event.level,
        "message": event.message,
        "time": when.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "text": f"[{event.level}] {event.message}",
    }


class WebhookSink:
    """POSTs each notification as JSON to a URL without ever blocking the run.

    Calls only queue the payload; one background task posts them in order. `aclose()` waits
    (up to `flush_timeout` seconds) for the queue to drain, then closes the client. Failures are
    kept in `errors` (and said on stderr by the command line), never raised into the run.
    """

    def __init__(
        self,
        url: str,
        *,
        client: httpx.AsyncClient | None = None,
        timeout: float = 5.0,
        flush_timeout: float = 10.0,
        secret: str | None = None,
        attempts: int = 1,
        retry_delay: float = 0.5,
        max_queue: int = 10_000,
    ) -> None:
        self.url = url
        self._secret = secret.encode() if secret else None
        self.attempts = max(1, attempts)
        self.retry_delay = retry_delay
        self.max_queue = max_queue
        self.dropped = 0
        self._client = client
        self._own_client = client is None
        self._timeout = timeout
        self.flush_timeout = flush_timeout
        self._queue: deque[dict[str, Any]] = deque()
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self.sent = 0
        self.errors: list[str] = []

    def __call__(self, event: Any) -> None:
        if not isinstance(event, ev.Notification) or self._closing:
            return
        if len(self._queue) >= self.max_queue:  # a dead hook must not grow without bound
            self.dropped += 1
            return
        self._queue.append(notification_payload(event))
        self._ensure_worker()

    def _ensure_worker(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # called outside a loop: the queue is posted by aclose()
        if self._task is None or self._task.done():
            self._wake = asyncio.Event()
            self._task = loop.create_task(self._worker(), name=f"webhook {self.url}")
        assert self._wake is not None
        self._wake.set()

    async def _worker(self) -> None:
        assert self._wake is not None
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self._timeout, limits=httpx.Limits(max_connections=2)
            )
        while True:
            while self._queue:
                error = await self._post(self._client, self._queue[0])
                if error:
                    self.errors.append(error)
                else:
                    self.sent += 1
                self._queue.popleft()
            if self._closing:
                return
            self._wake.clear()
            await self._wake.wait()

    async def _post(self, client: httpx.AsyncClient, payload: dict[str, Any]) -> str | None:
        """POST one payload (signed with `secret`: `X-Switchboard-Signature-256: sha256=HEX`,
        the HMAC-SHA256 of the body), retrying connection failures, 5xx and 429 up to
        `attempts` times with a doubling delay. The error of the last attempt, or None."""
        body = json.dumps(payload, ensure_ascii=False, default=str).encode()
        headers = {"content-type": "application/json"}
        if self._secret is not None:
            digest = hmac.new(self._secret, body, hashlib.sha256).hexdigest()
            headers["x-switchboard-signature-256"] = f"sha256={digest}"
        error: str | None = None
        for attempt in range(1, self.attempts + 1):
            try:
                r = await client.post(self.url, content=body, headers=headers)
                if r.status_code < 400:
                    return None
                error = f"webhook {self.url} answered {r.status_code}"
                if r.status_code < 500 and r.status_code != 429:
                    return error
            except httpx.HTTPError as e:
                error = f"webhook {self.url} failed: {type(e).__name__}: {e}"
            if attempt < self.attempts:
                await asyncio.sleep(self.retry_delay * 2 ** (attempt - 1))
        if error and self.attempts > 1:
            error += f" ({self.attempts} attempts)"
        return error

    async def aclose(self) -> None:
        """Post what is queued (bounded by `flush_timeout`), then release the connection."""
        self._closing = True
        if self._queue and (self._task is None or self._task.done()):
            self._wake = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._worker())
        if self._task is not None:
            assert self._wake is not None
            self._wake.set()
            try:
                await asyncio.wait_for(asyncio.shield(self._task), self.flush_timeout)
            except TimeoutError:
                self._task.cancel()
                left = len(self._queue)
                self.errors.append(
                    f"webhook {self.url}: {left} notification(s) not sent within "
                    f"{self.flush_timeout:g} s"
                )
                self._queue.clear()
        if self._client is not None and self._own_client:
            await self._client.aclose()
            self._client = None


class SinkSet:
    """The sinks an environment names, closed together at the end of a command."""

    def __init__(self, sinks: Sequence[Any] = ()) -> None:
        self.sinks = list(sinks)

    def __iter__(self) -> Any:
        return iter(self.sinks)

    def __len__(self) -> int:
        return len(self.sinks)

    async def aclose(self) -> list[str]:
        """Close every sink; returns the problems worth telling the user (webhook failures)."""
        problems: list[str] = []
        for sink in self.sinks:
            close = getattr(sink, "aclose", None)
            if close is not None:
                await close()
            problems.extend(getattr(sink, "errors", ()))
        return problems


class LevelFilter:
    """Passes on only the notifications of the given levels (`levels:` on a sink)."""

    def __init__(self, sink: Any, levels: Sequence[str]) -> None:
        self.sink = sink
        self.levels = frozenset(levels)

    def __call__(self, event: Any) -> None:
        if isinstance(event, ev.Notification) and event.level in self.levels:
            self.sink(event)

    @property
    def errors(self) -> list[str]:
        return list(getattr(self.sink, "errors", ()))

    async def aclose(self) -> None:
        close = getattr(self.sink, "aclose", None)
        if close is not None:
            await close()


# `notify:` entry kind -> factory(value, base_dir, console, have_console) -> sink or None
SinkFactory = Callable[[Any, "Path | None", "IO[str] | None", bool], Any]
_KINDS: dict[str, SinkFactory] = {}


def register_sink_kind(kind: str, factory: SinkFactory) -> None:
    """Teach `build_sinks` a kind of `notify:` entry (`{kind: value, levels: [...]}`)."""
    _KINDS[kind] = factory


def _file_sink(
    value: Any, base_dir: Path | None, console: IO[str] | None, have_console: bool
) -> Any:
    path = Path(str(value))
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return JsonlSink(path)


def _console_sink(
    value: Any, base_dir: Path | None, console: IO[str] | None, have_console: bool
) -> Any:
    # with a console of the host's own, {console: true} adds nothing: it prints lines already
    return ConsoleSink(console, steps=False) if value and not have_console else None


def _webhook_sink(
    value: Any, base_dir: Path | None, console: IO[str] | None, have_console: bool
) -> Any:
    """`{webhook: URL}`, or `{webhook: {url, secret: NAME, attempts}}`: the body signed with
    the secret NAME (read from SWITCHBOARD_SECRET_<NAME>), 3 attempts by default."""
    if not isinstance(value, dict):
        return WebhookSink(str(value), attempts=3)
    secret = None
    if value.get("secret"):
        from engine.runtime.secrets import SecretSource

        source = SecretSource(environ=os.environ)
        secret = source.get(str(value["secret"]))
        if secret is None:
            raise ValueError(
                f"the webhook's secret {value['secret']} is not set: set "
                f"{source.variable(str(value['secret']))}"
            )
    return WebhookSink(
        str(value.get("url", "")), secret=secret, attempts=int(value.get("attempts") or 3)
    )


register_sink_kind("webhook", _webhook_sink)
register_sink_kind("file", _file_sink)
register_sink_kind("console", _console_sink)


def build_sinks(
    specs: Sequence[dict[str, Any]],
    *,
    base_dir: Path | None = None,
    console: IO[str] | None = None,
    have_console: bool = False,
) -> SinkSet:
    """Sinks from an environment's `notify:` list (`{webhook: URL}`, `{file: PATH}`,
    `{console: true}`, each optionally with `levels: [warning, error]`, which keeps only the
    notifications of those levels). File paths are relative to `base_dir` (the environments
    file's folder). With `have_console`, `{console: true}` adds nothing: the caller already
    prints lines. Raises ValueError naming the entry that is not understood.
    """
    out: list[Any] = []
    for i, spec in enumerate(specs):
        kinds = [k for k in spec if k != "levels"] if isinstance(spec, dict) else []
        if len(kinds) != 1:
            raise ValueError(
                f"notify[{i}]: expected one of {{webhook: URL}}, {{file: PATH}}, "
                f"{{console: true}}, got {spec!r}"
            )
        kind = kinds[0]
        factory = _KINDS.get(kind)
        if factory is None:
            raise ValueError(f"notify[{i}]: unknown sink '{kind}': use {', '.join(sorted(_KINDS))}")
        sink = factory(spec[kind], base_dir, console, have_console)
        if sink is None:
            continue
        levels = spec.get("levels")
        if levels is not None:
            sink = LevelFilter(sink, [levels] if isinstance(levels, str) else list(levels))
        out.append(sink)
    return SinkSet(out)
