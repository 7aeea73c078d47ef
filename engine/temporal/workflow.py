"""The one Temporal workflow type: the engine's own scheduler, run deterministically.

`SwitchboardRun` parses the workflow it is given and hands it to `runtime.scheduler` with
ports made for workflow code: a `TemporalClock` (durable timers), `workflow.random()` for
jitter, `workflow.uuid4()` for ids, and a Caller whose every attempt is an activity. The retry
loop, jitter, `Retry-After` and the `on` filter stay in `runtime.calls`/`runtime.retry`, so the
step semantics are the in-process engine's. Mock call counts live here, in workflow state, so a
mocked run is the same on any worker and after any crash. A cancel ends the run `cancelled` and
still returns its result.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from engine.core.errors import RunError
    from engine.core.model import CallStep, EmitStep, MockResponse, Workflow
    from engine.files.documents import parse_workflow
    from engine.runtime.bus import EventBus
    from engine.runtime.calls import CallPlan
    from engine.runtime.clock import Clock
    from engine.runtime.events import Event, Notification, RunFinished, RunResult, Sink
    from engine.runtime.mock import NoMock
    from engine.runtime.ports import (
        Caller,
        CallFailed,
        CallRequest,
        CallResponse,
        Cascade,
        SecretReader,
    )
    from engine.runtime.scheduler import execute_run
    from engine.runtime.secrets import ENV_PREFIX
    from engine.temporal.clock import TemporalClock
    from engine.temporal.limits import fit_result
    from engine.temporal.outbound import EventStream, TemporalStarter
    from engine.temporal.payloads import (
        ATTEMPT_ACTIVITY,
        CALL_FAILED,
        MOCK_ACTIVITY,
        NOTIFY_ACTIVITY,
        SECRETS_ACTIVITY,
        WORKFLOW_NAME,
        Answer,
        Attempt,
        Notice,
        RunArgs,
        RunOutcome,
        SecretQuery,
        placeholder,
    )

__all__ = ["SwitchboardRun", "ACTIVITY_MARGIN"]

# An attempt's own limit is the engine's timer; Temporal's start-to-close is only a backstop.
ACTIVITY_MARGIN = 10.0
# The engine makes its own retries; Temporal repeats an attempt only when its worker was lost
# (a heartbeat or start-to-close timeout): every failure of the call itself is non-retryable.
_LOST_WORKER = RetryPolicy(
    maximum_attempts=2,
    initial_interval=timedelta(milliseconds=200),
    non_retryable_error_types=[CALL_FAILED],
)
_HEARTBEAT = timedelta(seconds=2)
_NOTIFY_RETRY = RetryPolicy(maximum_attempts=5, initial_interval=timedelta(seconds=1))


class _Secrets:
    """Secrets as workflow code sees them: placeholders for the set ones, None for the rest."""

    def __init__(self, present: dict[str, bool], variables: dict[str, str]) -> None:
        self._present = present
        self._variables = variables

    def get(self, name: str) -> str | None:
        return placeholder(name) if self._present.get(name) else None

    def variable(self, name: str) -> str:
        return self._variables.get(name, ENV_PREFIX + name)


class _ActivityCaller:
    """The Caller of workflow code: each attempt one activity; mocks counted here."""

    def __init__(self, clock: TemporalClock, args: RunArgs) -> None:
        self.clock = clock
        self.mocks = args.mocks
        self.services = args.services
        self.secret_vars = args.secret_vars
        self.history_limit = args.history_limit
        self.follow_redirects = args.follow_redirects
        self.tls = args.tls
        self.max_response_bytes = args.max_response_bytes
        self.pending = asyncio.Semaphore(max(1, args.max_pending))
        self.calls: Counter[str] = Counter()

    async def call(self, request: CallRequest) -> CallResponse:
        target = request.target
        content = request.content.decode("utf-8") if request.content is not None else None
        attempt = Attempt(
            request.method,
            request.url,
            dict(request.headers),
            request.body,
            content,
            target,
            request.timeout,
            request.run_id,
            self.secret_vars,
            follow_redirects=(
                request.follow_redirects
                if request.follow_redirects is not None
                else self.follow_redirects
            ),
            max_response_bytes=request.max_response_bytes or self.max_response_bytes,
            secret_headers=sorted(request.secret_headers),
            secret_body=request.secret_body,
            tls=self.tls,
        )
        if self.mocks is not None and (target in self.mocks or not self.services):
            return await self._mocked(request, attempt)
        return await self._activity(ATTEMPT_ACTIVITY, attempt)

    async def _mocked(self, request: CallRequest, attempt: Attempt) -> CallResponse:
        target = request.target
        self.calls[target] += 1
        table = (self.mocks or {}).get(target)
        if not table:
            raise CallFailed("mock", f"{target}: {NoMock(target)}")
        n = self.calls[target]
        mock: MockResponse = table[min(n, len(table)) - 1]
        if mock.delay:
            await self.clock.sleep(mock.delay / 1000)
        if mock.fault == "timeout":
            # The step's own timeout (a timer started before this one) fires first.
            await self.clock.sleep(request.timeout + 1.0)
            raise CallFailed("timeout", f"{target}: mock fault: {target} timed out")
        if mock.fault == "connection":
            raise CallFailed("connection", f"{target}: mock fault: {target} dropped the connection")
        attempt.mock = mock
        attempt.call = n
        return await self._activity(MOCK_ACTIVITY, attempt)

    async def _activity(self, name: str, attempt: Attempt) -> CallResponse:
        events = workflow.info().get_current_history_length()
        if events > self.history_limit:
            # A RunError, not a CallFailed: no retry could help, and each would add events.
            raise RunError(
                f"{attempt.target}: not called: the run's Temporal history has {events} "
                f"events, past this engine's limit of {self.history_limit} (Temporal ends a "
                "run at 51,200; each call attempt adds a few): split the workflow into "
                "workflows that emit to each other, or run it in-process",
                type="limit",
            )
        try:
            async with self.pending:  # Temporal refuses a run more than 2,000 at once
                limit = timedelta(seconds=attempt.timeout + ACTIVITY_MARGIN)
                if name == MOCK_ACTIVITY:
                    # A mock's answer is quick CPU work on this worker: a local activity saves
                    # the round trips through the server (its input is not kept in history).
                    answer = await workflow.execute_local_activity(
                        name,
                        attempt,
                        result_type=Answer,
                        retry_policy=_LOST_WORKER,
                        start_to_close_timeout=limit,
                    )
                else:
                    answer = await workflow.execute_activity(
                        name,
                        attempt,
                        result_type=Answer,
                        retry_policy=_LOST_WORKER,
                        heartbeat_timeout=_HEARTBEAT,
                        start_to_close_timeout=limit,
                    )
        except (ActivityError, ApplicationError) as e:
            # A local activity's failure may come as the ApplicationError itself.
            cause = e.cause if isinstance(e, ActivityError) else e
            if isinstance(cause, ApplicationError) and cause.type == CALL_FAILED:
                kind = str(cause.details[0]) if cause.details else "connection"
                status = cause.details[1] if len(cause.details) > 1 else None
                raise CallFailed(
                    kind, cause.message, int(status) if status is not None else None
                ) from None
            raise CallFailed(
                "connection",
                f"{attempt.target}: the attempt's activity failed: "
                f"{cause or e}; see the worker's log",
            ) from None
        return CallResponse(answer.status, answer.headers, answer.body)

    def run_ended(self, run_id: str) -> None:
        return None

    async def aclose(self) -> None:
        return None


class _Ports:
    """What the scheduler takes from the engine, made of workflow-safe parts."""

    def __init__(
        self,
        clock: TemporalClock,
        caller: _ActivityCaller,
        secrets: _Secrets,
        services: dict[str, str],
        bus: EventBus,
    ) -> None:
        self.clock: Clock = clock
        self.caller: Caller = caller
        self.secrets: SecretReader = secrets
        self.rng = workflow.random()
        self.services = services
        self.bus = bus
        self.sinks: Sequence[Sink] = ()
        self._seq = itertools.count(1)

    def next_seq(self) -> int:
        return next(self._seq)


def _secret_names(wf: Workflow, services: dict[str, str]) -> list[str]:
    names: list[str] = []
    for step in wf.steps:
        if isinstance(step, CallStep):
            for name in CallPlan(step, wf.defaults, services).secret_names:
                if name not in names:
                    names.append(name)
    return names


def _parse(text: str) -> Workflow:
    loaded = parse_workflow(text, "<workflow>")
    errors = [p for p in loaded.problems if p.severity == "error"]
    if loaded.model is None or errors:
        raise ApplicationError(
            "the workflow given to switchboard.run does not load: "
            + "; ".join(str(p) for p in errors[:5]),
            non_retryable=True,
        )
    return loaded.model


@workflow.defn(name=WORKFLOW_NAME)
class SwitchboardRun:
    """One run of a Switchboard workflow on Temporal."""

    def __init__(self) -> None:
        self._finished: RunResult | None = None
        self._args: RunArgs | None = None
        self._notices: list[asyncio.Task[Any]] = []

    def _sink(self, event: Event) -> None:
        if isinstance(event, RunFinished):
            self._finished = event.result
        elif isinstance(event, Notification) and self._args is not None and self._args.notify:
            notice = Notice(
                f"{event.run_id}:{event.step}",
                event.run_id,
                event.step or "",
                event.level,
                event.message,
                event.time,
                self._args.notify,
                self._args.notify_base,
            )
            self._notices.append(
                asyncio.get_running_loop().create_task(
                    workflow.execute_activity(
                        NOTIFY_ACTIVITY,
                        notice,
                        start_to_close_timeout=timedelta(seconds=30),
                        retry_policy=_NOTIFY_RETRY,
                    )
                )
            )

    @workflow.run
    async def run(self, args: RunArgs) -> RunOutcome:
        self._args = args
        wf = _parse(args.workflow)
        clock = TemporalClock(virtual=args.virtual_time)
        caller = _ActivityCaller(clock, args)
        names = _secret_names(wf, args.services)
        present: dict[str, bool] = {}
        if names:
            present = await workflow.execute_activity(
                SECRETS_ACTIVITY,
                SecretQuery(names, args.secret_vars),
                result_type=dict,
                start_to_close_timeout=timedelta(seconds=30),
            )
        run_id = args.run_id or workflow.uuid4().hex[:16]
        starter = TemporalStarter(clock, args, run_id)
        bus = EventBus(starter)
        if args.listeners and any(isinstance(s, EmitStep) for s in wf.steps):
            for text in args.listeners:
                bus.register(_parse(text))
        ports = _Ports(clock, caller, _Secrets(present, args.secret_vars), args.services, bus)
        sinks: list[Sink] = [self._sink]
        stream = EventStream(run_id, args.events) if args.events else None
        if stream is not None:
            sinks.append(stream)
        try:
            cascade = Cascade(args.depth, [args.runs_left])
            result = await execute_run(ports, wf, args.input, run_id, sinks, cascade)
        except asyncio.CancelledError:
            if self._finished is None:
                raise
            result = self._finished
        await starter.started()
        if stream is not None:
            await stream.sent()
        if self._notices:
            await asyncio.gather(*self._notices, return_exceptions=True)
        return RunOutcome(fit_result(result.to_json()), dict(caller.calls))
