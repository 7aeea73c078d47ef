"""The ports between the scheduler and the world: protocols, and the plain records they pass.

- `Caller`: one HTTP attempt (`CallRequest` in, `CallResponse` out, `CallFailed` for a failure
  that is the call's, not the engine's). The retry loop, timeouts and `Retry-After` stay in the
  engine (`calls`, `retry`), so every Caller (httpx, a Temporal activity) gets the same step
  semantics.
- `Clock` (see `clock`): time, timers and tasks, so mocked runs can take no real time.
- `Starter`: starts a run of a workflow (the event bus uses it for `emit`).
- `IdSource`: new run ids (random by default; deterministic where a host needs it).
- `SecretReader`: where `secrets.NAME` values come from.
- `StepContext`: what a step sees of the run it is in.
- `Sink` (see `events`): where events go.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from engine.runtime import secrets as _secrets

if TYPE_CHECKING:
    from engine.core.model import Workflow
    from engine.runtime.clock import Clock
    from engine.runtime.events import Event, RunResult, Sink

__all__ = [
    "Cascade",
    "CallRequest",
    "CallResponse",
    "CallFailed",
    "Services",
    "Caller",
    "Starter",
    "IdSource",
    "RandomIds",
    "SecretReader",
    "StepContext",
    "Tally",
    "new_run_id",
]


class CallRequest:
    """One attempt's request. `body` is the value `content` encodes (mocks read it as is);
    `target` is `Service.action`; `timeout` the attempt's limit in seconds.

    The step's own transfer settings: `follow_redirects` and `max_response_bytes` (None: the
    Caller's, from the environment); `secret_headers` (lower-case names) and `secret_body` say
    where a secret went, so that a redirect to another origin does not carry it there."""

    __slots__ = (
        "method",
        "url",
        "headers",
        "content",
        "body",
        "target",
        "timeout",
        "run_id",
        "follow_redirects",
        "max_response_bytes",
        "secret_headers",
        "secret_body",
    )

    def __init__(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        content: bytes | None,
        body: Any,
        target: str,
        timeout: float,
        run_id: str = "",
        *,
        follow_redirects: bool | None = None,
        max_response_bytes: int | None = None,
        secret_headers: frozenset[str] = frozenset(),
        secret_body: bool = False,
    ) -> None:
        self.method = method
        self.url = url
        self.headers = headers
        self.content = content
        self.body = body
        self.target = target
        self.timeout = timeout
        self.run_id = run_id
        self.follow_redirects = follow_redirects
        self.max_response_bytes = max_response_bytes
        self.secret_headers = secret_headers
        self.secret_body = secret_body


class Services(dict[str, str]):
    """Service name -> base URL, and the name of the environment they come from: a call to a
    service it does not name goes to `http://<service>`, and its failure says so."""

    def __init__(
        self, urls: Mapping[str, str], environment: str, mocked: frozenset[str] = frozenset()
    ) -> None:
        super().__init__(urls)
        self.environment = environment
        self.mocked = mocked  # `Service.action`s a hybrid environment mocks


class CallResponse:
    """One attempt's answer. `headers` have lower-case names; `body` is parsed JSON, else text,
    None when empty."""

    __slots__ = ("status", "headers", "body")

    def __init__(self, status: int, headers: Mapping[str, str], body: Any) -> None:
        self.status = status
        self.headers = headers
        self.body = body


class CallFailed(Exception):
    """An attempt that got no usable answer: `kind` is `timeout`, `connection` or `mock`, or
    `http` with the `status` of an answer that could not be taken (too large)."""

    def __init__(self, kind: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status


class Caller(Protocol):
    async def call(self, request: CallRequest) -> CallResponse:
        """Make one attempt. Raises CallFailed when no response came."""
        ...

    def run_ended(self, run_id: str) -> None:
        """A run is over: forget what was kept for it (a mock's per-run call counts)."""
        ...

    async def aclose(self) -> None: ...


class Cascade:
    """Where a run stands in a cascade of emits: how deep it is, and how many more runs the
    whole cascade (every run the first one's emits start, and theirs) may start."""

    __slots__ = ("depth", "_left")

    MAX_DEPTH = 16  # emit -> triggered run -> emit …
    MAX_RUNS = 1000  # runs one cascade may start in all (two emits of a self-trigger double)

    def __init__(self, depth: int = 0, left: list[int] | None = None) -> None:
        self.depth = depth
        self._left = left if left is not None else [self.MAX_RUNS]

    def child(self) -> Cascade:
        """The cascade as the runs this one starts see it: one level deeper, the same budget."""
        return Cascade(self.depth + 1, self._left)

    def take(self, runs: int) -> bool:
        """Spend `runs` of the budget; False (and nothing spent) when it would run out."""
        if runs > self._left[0]:
            return False
        self._left[0] -= runs
        return True


class Starter(Protocol):
    clock: Clock

    def start_run(
        self, workflow: Workflow, input: Any, *, cascade: Cascade, sinks: Sequence[Sink] = ()
    ) -> tuple[str, asyncio.Task[RunResult]]:
        """Start a run as a task of its own; its run id and the task."""
        ...


class IdSource(Protocol):
    def new_run_id(self) -> str: ...


# Random bytes for run ids, read from os.urandom 4 KiB at a time (512 ids): a read per id was
# a system call per run. A forked child (a server's worker) starts with none of its parent's.
_ENTROPY_BYTES = 4096
_entropy = b""
_entropy_at = 0
_entropy_lock = threading.Lock()


def _forget_entropy() -> None:
    global _entropy, _entropy_at, _entropy_lock
    _entropy, _entropy_at, _entropy_lock = b"", 0, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_entropy)


def _random_hex8() -> str:
    """16 hex digits of os.urandom's randomness; thread-safe."""
    global _entropy, _entropy_at
    with _entropy_lock:
        at = _entropy_at
        if at + 8 > len(_entropy):
            _entropy, at = os.urandom(_ENTROPY_BYTES), 0
        _entropy_at = at + 8
        return _entropy[at : at + 8].hex()


def new_run_id() -> str:
    """A random run id: 16 hex digits, never one that a known secret would mask: a short secret
    of hex digits ("abc") showed a run id as `1f***92…` in every output, so it could not be looked
    up (1 in about 300 runs for a 3-digit secret)."""
    while True:
        run_id = _random_hex8()  # 64 random bits (a uuid4 object made per run cost more)
        if not _secrets.has_secrets() or _secrets.redact(run_id) == run_id:
            return run_id


class RandomIds:
    """Random run ids (os.urandom): unique without coordination."""

    def new_run_id(self) -> str:
        return new_run_id()


class SecretReader(Protocol):
    def get(self, name: str) -> str | None:
        """The secret's value, or None when it is not set."""
        ...

    def variable(self, name: str) -> str:
        """Where the secret is read from, for the message when it is missing."""
        ...


class Rng(Protocol):
    def random(self) -> float: ...


class Tally(Protocol):
    """What a step counts while it runs: attempts made, and their records for sinks."""

    attempts: int
    calls: list[Any]


class StepContext(Protocol):
    """What a step sees of its run."""

    run_id: str
    input: Any
    scope: dict[str, Any]
    listening: bool  # whether any sink wants events beyond notifications and the run's end
    clock: Clock
    caller: Caller
    secrets: SecretReader

    @property
    def rng(self) -> Rng: ...

    def emit(self, event: Event) -> None: ...

    def next_seq(self) -> int: ...
