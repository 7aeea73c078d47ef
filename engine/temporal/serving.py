"""`switchboard serve --engine temporal`: the run starter a server is given, so its runs go to
Temporal while its API, store and WebSocket stay as they are.

`TemporalRuns.run` takes the server's `JobRequest`, resolves the environment here (as for an
in-process run), starts the run on Temporal with the server's run id (REJECT_DUPLICATE: a start
sent twice starts one run, the second attaches to it) and waits for its result, which comes
back from Temporal (so the stored result is Temporal's even if an event batch was lost). The
run's events come back from the workers through an `EventsListener` into the server's sinks,
with no Temporal query. A cancel from the API cancels the run on Temporal (it ends `cancelled`
with its result); a server that stops does not: its runs go on on Temporal, and the next
server on the same store attaches to them again (`resume`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from engine.core.errors import SwitchboardError
from engine.files.folder import untitled_path
from engine.jobs.environments import Resolved
from engine.jobs.request import JobOutcome, JobRequest
from engine.jobs.setup import Host, prepare_job
from engine.runtime.events import Sink
from engine.temporal.host import run_args, start
from engine.temporal.inbound import EventsListener, result_from_json
from engine.temporal.payloads import DEFAULT_TASK_QUEUE, RunOutcome, workflow_id
from engine.temporal.workflow import SwitchboardRun

__all__ = ["TemporalRuns", "from_environment"]

log = logging.getLogger("switchboard.temporal")
connections = 0  # clients connected in this process (the command line leaves with os._exit)


class TemporalRuns:
    """Runs a server starts, on the Temporal frontend at `address`."""

    durable = True  # runs go on when the server stops

    def __init__(
        self,
        address: str,
        *,
        namespace: str = "default",
        task_queue: str = DEFAULT_TASK_QUEUE,
        listen_host: str = "127.0.0.1",
        listen_port: int = 0,
        listen_key: str | None = None,
    ) -> None:
        self.address, self.namespace, self.task_queue = address, namespace, task_queue
        self.listener = EventsListener(self._sinks_for, listen_host, listen_port, listen_key)
        self._client: Client | None = None
        self._lock = asyncio.Lock()
        self._sinks: dict[str, Sequence[Sink]] = {}  # run id -> its job's sinks
        self._default: Sequence[Sink] = ()  # runs an emit started go where their starter's went
        self.stopping = False

    def _sinks_for(self, run_id: str) -> Sequence[Sink]:
        return self._sinks.get(run_id, self._default)

    async def open(self) -> Client:
        """Connect and start the events listener (once). Raises SwitchboardError with what to
        do when Temporal cannot be reached."""
        async with self._lock:
            if self._client is None:
                try:
                    client = await Client.connect(self.address, namespace=self.namespace)
                except Exception as e:
                    raise SwitchboardError(
                        f"cannot reach Temporal at {self.address} (namespace "
                        f"{self.namespace}): {e}; start a server (temporal server start-dev) "
                        "or fix --engine temporal HOST:PORT"
                    ) from None
                await self.listener.start()
                self._client = client
                global connections
                connections += 1
            return self._client

    async def aclose(self) -> None:
        self.stopping = True
        await self.listener.aclose()

    async def __call__(
        self, request: JobRequest, *, sinks: Sequence[Sink] = (), host: Host | None = None
    ) -> JobOutcome | None:
        """As `run_job` is called (a server's runner)."""
        return await self.run(request, sinks, host)

    async def run(
        self, request: JobRequest, sinks: Sequence[Sink], host: Host | None = None
    ) -> JobOutcome | None:
        """One run job on Temporal; None when the server stopped before the run ended (the run
        goes on on Temporal)."""
        if request.record is not None:
            return JobOutcome(
                "error",
                message="a recording needs the calls in this process, not on Temporal's "
                "workers: record in an environment without engine: temporal, then replay it",
            )
        path = Path(request.path) if request.path is not None else untitled_path()
        try:
            setup = prepare_job(request, path, host=host, listeners=False)
        except (SwitchboardError, ValueError, OSError) as e:
            return JobOutcome("error", message=str(e))
        assert setup.workflow is not None
        name = setup.workflow.name
        try:
            client = await self.open()
        except SwitchboardError as e:
            await setup.finish()
            return JobOutcome("error", message=str(e))
        args = run_args(
            setup, request.input, run_id=request.run_id, real_time=request.real_time, notify=True
        )
        await setup.finish()
        args.events = [{"webhook": self.listener.url}]
        self._sinks[args.run_id] = sinks
        self._default = sinks
        try:
            try:
                handle = await start(client, args, task_queue=self.task_queue, name=name)
            except WorkflowAlreadyStartedError:
                # started before (a start sent twice): attach to that run
                handle = client.get_workflow_handle_for(
                    SwitchboardRun.run, workflow_id(name, args.run_id)
                )
            except RPCError as e:
                return JobOutcome(
                    "error",
                    [args.run_id],
                    f"the run could not start on Temporal at {self.address}: "
                    f"{e.status.name}: {e.message}; start it again (a start sent twice "
                    "runs once)",
                )
            return await self._outcome(handle, args.run_id)
        finally:
            self._sinks.pop(args.run_id, None)

    async def resume(self, run_id: str, workflow: str, sinks: Sequence[Sink]) -> JobOutcome | None:
        """Attach to a run a previous server started; an `error` outcome when Temporal does not
        know it."""
        try:
            client = await self.open()
        except SwitchboardError as e:
            return JobOutcome("error", [run_id], str(e))
        handle = client.get_workflow_handle_for(SwitchboardRun.run, workflow_id(workflow, run_id))
        try:
            await handle.describe()
        except RPCError as e:
            if e.status != RPCStatusCode.NOT_FOUND:
                raise
            return JobOutcome(
                "error", [run_id], f"Temporal at {self.address} has no run {run_id} of {workflow}"
            )
        self._sinks[run_id] = sinks
        try:
            return await self._outcome(handle, run_id)
        finally:
            self._sinks.pop(run_id, None)

    async def _outcome(
        self, handle: WorkflowHandle[Any, RunOutcome], run_id: str
    ) -> JobOutcome | None:
        waiting = asyncio.ensure_future(self._wait(handle))
        try:
            outcome = await asyncio.shield(waiting)
            if outcome is None:
                return JobOutcome(
                    "error", [run_id], f"Temporal at {self.address} no longer knows run {run_id}"
                )
        except asyncio.CancelledError:
            if self.stopping:
                waiting.cancel()
                return None
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
            try:
                await handle.cancel()  # the run ends `cancelled` and still returns its result
            except RPCError as e:
                waiting.cancel()
                return JobOutcome(
                    "error",
                    [run_id],
                    f"the run could not be cancelled: Temporal at {self.address} answered "
                    f"{e.status.name}: {e.message}; it goes on there",
                )
            outcome = await waiting
            if outcome is None:
                return JobOutcome("cancelled", [run_id], "the run was stopped")
            return JobOutcome(
                "cancelled", [run_id], "the run was stopped", payload=_result(outcome)
            )
        except WorkflowFailureError as e:
            return JobOutcome("error", [run_id], f"the run failed on Temporal: {e.cause or e}")
        return JobOutcome("run", [run_id], payload=_result(outcome))

    async def _wait(self, handle: WorkflowHandle[Any, RunOutcome]) -> RunOutcome | None:
        """The run's outcome. While Temporal cannot be reached the run goes on there: ask again
        (every 0.5-5 s); None when Temporal no longer knows the run."""
        delay = 0.5
        while True:
            try:
                return await handle.result()
            except RPCError as e:
                if e.status == RPCStatusCode.NOT_FOUND:
                    return None
                if delay == 0.5:
                    log.warning(
                        "run %s: Temporal at %s answered %s (%s); asking again",
                        handle.id,
                        self.address,
                        e.status.name,
                        e.message,
                    )
                await asyncio.sleep(delay)
                delay = min(5.0, delay * 2)


def from_environment(env: Resolved) -> TemporalRuns:
    """The runs of an environment that says `engine: temporal` (`jobs.engines` finds this)."""
    target = env.temporal
    return TemporalRuns(
        target["address"],
        namespace=target.get("namespace", "default"),
        task_queue=target.get("taskQueue", DEFAULT_TASK_QUEUE),
    )


def _result(outcome: RunOutcome | dict[str, Any]) -> Any:
    data = outcome.result if isinstance(outcome, RunOutcome) else outcome["result"]
    return result_from_json(data)
