"""The email notification sink (`notify: [{email: {...}}]`): SMTP with STARTTLS and auth via
aiosmtplib, without ever blocking a run.

```yaml
notify:
  - email:
      host: smtp.example.org
      port: 587               # default 587 with starttls, else 25
      starttls: true          # default true
      username: alerts        # optional; the password is a secret:
      password: SMTP_PASSWORD # secret NAME, read from SWITCHBOARD_SECRET_SMTP_PASSWORD
      from: alerts@example.org
      to: [admins@example.org]
      subject: "[switchboard] {level}: {workflow}"   # optional
    levels: [error, success]
```

Calls only queue: one background task sends, in order, from a bounded queue (a full queue drops
the notification and counts it in `dropped`). Failures are kept in `errors`, never raised into
a run; the password never appears in one.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Mapping
from email.message import EmailMessage
from pathlib import Path
from typing import IO, Any

from engine.jobs.sinks import register_sink_kind
from engine.runtime import events as ev
from engine.runtime.secrets import SecretSource

__all__ = ["EmailSink", "EmailSettings", "email_settings"]

QUEUE_SIZE = 1000
_KEYS = {"host", "port", "starttls", "username", "password", "from", "to", "subject", "timeout"}


class EmailSettings:
    """Where and how to send: the `email:` mapping of a notify entry, checked."""

    def __init__(
        self,
        host: str,
        port: int,
        starttls: bool,
        sender: str,
        to: list[str],
        username: str | None = None,
        password: str | None = None,
        subject: str = "[switchboard] {level}: {message}",
        timeout: float = 10.0,
    ) -> None:
        self.host, self.port, self.starttls = host, port, starttls
        self.sender, self.to = sender, to
        self.username, self.password_secret = username, password
        self.subject, self.timeout = subject, timeout


def email_settings(value: Any) -> EmailSettings:
    """Settings from a notify entry's `email:` value; ValueError saying what is missing."""
    if not isinstance(value, dict):
        raise ValueError("email: expected a mapping with host, from and to")
    unknown = sorted(set(value) - _KEYS)
    if unknown:
        raise ValueError(
            f"email: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(_KEYS))}"
        )
    missing = [k for k in ("host", "from", "to") if not value.get(k)]
    if missing:
        raise ValueError(f"email: needs {', '.join(missing)}")
    to = value["to"] if isinstance(value["to"], list) else [value["to"]]
    starttls = bool(value.get("starttls", True))
    return EmailSettings(
        str(value["host"]),
        int(value.get("port") or (587 if starttls else 25)),
        starttls,
        str(value["from"]),
        [str(t) for t in to],
        value.get("username"),
        value.get("password"),
        str(value.get("subject") or "[switchboard] {level}: {message}"),
        float(value.get("timeout") or 10.0),
    )


class EmailSink:
    """Sends each notification as one email, from a background task."""

    def __init__(
        self,
        settings: EmailSettings,
        *,
        environ: Mapping[str, str] | None = None,
        tls_context: Any = None,
        flush_timeout: float = 10.0,
    ) -> None:
        self.settings = settings
        self._secrets = SecretSource(environ=environ if environ is not None else os.environ)
        self._tls = tls_context
        self.flush_timeout = flush_timeout
        self._queue: asyncio.Queue[EmailMessage] | None = None
        self._task: asyncio.Task[None] | None = None
        self.sent = 0
        self.dropped = 0
        self.errors: list[str] = []

    def __call__(self, event: Any) -> None:
        if not isinstance(event, ev.Notification):
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if self._queue is None:
            self._queue = asyncio.Queue(QUEUE_SIZE)
        try:
            self._queue.put_nowait(self._message(event))
        except asyncio.QueueFull:
            self.dropped += 1
            return
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._worker(), name="email sink")

    def _message(self, event: ev.Notification) -> EmailMessage:
        s = self.settings
        msg = EmailMessage()
        msg["From"], msg["To"] = s.sender, ", ".join(s.to)
        fields = {
            "level": event.level,
            "message": event.message.splitlines()[0][:120],
            "run": event.run_id,
            "step": event.step or "",
            "workflow": "",
        }
        try:
            msg["Subject"] = s.subject.format(**fields)
        except (KeyError, IndexError, ValueError):
            msg["Subject"] = f"[switchboard] {event.level}"
        msg.set_content(
            f"{event.message}\n\nlevel: {event.level}\nrun: {event.run_id}\n"
            f"step: {event.step or '-'}\ntime: {ev.iso_utc(event.time)}\n"
        )
        return msg

    async def _worker(self) -> None:
        import aiosmtplib

        assert self._queue is not None
        s = self.settings
        while not self._queue.empty():
            msg = self._queue.get_nowait()
            password = self._secrets.get(s.password_secret) if s.password_secret else None
            if s.password_secret and password is None:
                self.errors.append(
                    f"email via {s.host}: the secret {s.password_secret} is not "
                    f"set (variable {self._secrets.variable(s.password_secret)})"
                )
                continue
            try:
                await aiosmtplib.send(
                    msg,
                    hostname=s.host,
                    port=s.port,
                    start_tls=s.starttls,
                    use_tls=False,
                    username=s.username,
                    password=password,
                    timeout=s.timeout,
                    tls_context=self._tls,
                )
                self.sent += 1
            except (aiosmtplib.SMTPException, OSError) as e:
                text = str(e).replace(password, "***") if password else str(e)
                self.errors.append(
                    f"email via {s.host}:{s.port} failed: {type(e).__name__}: {text}"
                )

    async def aclose(self) -> None:
        """Send what is queued (bounded by `flush_timeout`)."""
        if (
            self._queue is not None
            and not self._queue.empty()
            and (self._task is None or self._task.done())
        ):
            self._task = asyncio.get_running_loop().create_task(self._worker())
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), self.flush_timeout)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
                self.errors.append(
                    f"email via {self.settings.host}: not all notifications "
                    f"were sent within {self.flush_timeout:g} s"
                )


def _email_sink(
    value: Any, base_dir: Path | None, console: IO[str] | None, have_console: bool
) -> Any:
    return EmailSink(email_settings(value))


register_sink_kind("email", _email_sink)
