"""Prometheus metrics of one server (`GET /metrics`), summed over its processes with `--workers`.

One process keeps them in a registry of its own per app. The processes of `serve --workers N`
run in prometheus-client's multiprocess mode: their parent makes a private directory, names it
in `PROMETHEUS_MULTIPROC_DIR` before it forks (`workers.metrics_dir`), marks a worker that exited
dead there and removes the directory when it stops; every metric of every worker is a memory-
mapped file in it, so a scrape of any worker reads them all: counters and histograms are summed,
the in-flight and queue gauges are summed over the live workers, the overflows over every worker
that ever ran. The gauges are set from the worker's state when it is scraped and every second
(`keep_fresh`), so another worker's gauges may be a second old.

Labels are workflow names, step ids, statuses and event names: never inputs, outputs or
messages, so no secret can reach a metric.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from engine.runtime import events as ev

__all__ = ["Metrics", "keep_fresh", "MULTIPROC_ENV", "REFRESH_S"]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # prometheus-client's; set by `workers.metrics_dir`
REFRESH_S = 1.0


class Metrics:
    """Counters of runs and events, step durations, and gauges of this process's state. With
    `multiprocess` (a worker: `MULTIPROC_ENV` names its server's directory), the metrics are
    written to that directory and `text` reads every worker's."""

    def __init__(
        self,
        in_flight: Callable[[], int],
        queue_depth: Callable[[], int],
        overflows: Callable[[], int],
        *,
        multiprocess: bool = False,
    ) -> None:
        path = os.environ.get(MULTIPROC_ENV) if multiprocess else None
        self.registry = CollectorRegistry()  # what a scrape reads
        r: CollectorRegistry | None = self.registry
        if path:
            from prometheus_client import multiprocess as mp
            from prometheus_client import values

            if not getattr(values.ValueClass, "_multiprocess", False):
                # prometheus-client chose its value class at import; imported before the
                # directory was named (a plug-in), it would keep this worker's values private
                values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]
            mp.MultiProcessCollector(self.registry, path=path)  # type: ignore[no-untyped-call]
            r = None  # the metrics live in the files, which the collector reads
        self.started = Counter("switchboard_runs_started", "Runs started", ["workflow"], registry=r)
        self.finished = Counter(
            "switchboard_runs_finished",
            "Runs finished by status",
            ["workflow", "status"],
            registry=r,
        )
        self.steps = Histogram(
            "switchboard_step_duration_seconds",
            "Step durations",
            ["workflow", "step", "status"],
            registry=r,
            buckets=(0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
        )
        self.events = Counter(
            "switchboard_events_received", "Events posted to /events", ["event"], registry=r
        )
        self.notifications = Counter(
            "switchboard_notifications", "Notifications by level", ["level"], registry=r
        )
        # live workers' states add up; a dead worker's runs were marked interrupted
        self._gauges: list[tuple[Gauge, Callable[[], int]]] = [
            (
                Gauge(
                    "switchboard_runs_in_flight",
                    "Runs running now",
                    registry=r,
                    multiprocess_mode="livesum",
                ),
                in_flight,
            ),
            (
                Gauge(
                    "switchboard_event_queue_depth",
                    "Events waiting in subscriber queues",
                    registry=r,
                    multiprocess_mode="livesum",
                ),
                queue_depth,
            ),
            (
                Gauge(
                    "switchboard_subscriber_overflows",
                    "Live events a slow SSE/WebSocket "
                    "subscriber missed in its queue (and read from the store instead)",
                    registry=r,
                    multiprocess_mode="sum",  # a count: what a dead worker counted stays
                ),
                overflows,
            ),
        ]

    def observe(self, event: ev.Event, workflow: str) -> None:
        """Count one run event (`workflow` is the run's workflow name)."""
        if isinstance(event, ev.RunStarted):
            self.started.labels(event.workflow).inc()
        elif isinstance(event, ev.RunFinished):
            self.finished.labels(event.result.workflow, event.result.status).inc()
        elif isinstance(event, ev.StepFinished) and event.status != "skipped":
            self.steps.labels(workflow, event.step, event.status).observe(event.duration_ms / 1000)
        elif isinstance(event, ev.Notification):
            self.notifications.labels(event.level).inc()

    def refresh(self) -> None:
        """Set the gauges from this process's state."""
        for gauge, read in self._gauges:
            gauge.set(read())

    def text(self) -> bytes:
        self.refresh()
        return generate_latest(self.registry)


async def keep_fresh(metrics: Metrics, stop: asyncio.Event, every_s: float = REFRESH_S) -> None:
    """Refresh `metrics`' gauges every `every_s` until `stop` (a worker: a scrape answered by
    another worker reads them from the files)."""
    while not stop.is_set():
        metrics.refresh()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every_s)
