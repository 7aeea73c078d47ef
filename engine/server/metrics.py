"""Prometheus metrics of one server (`GET /metrics`), in a registry of its own per app.

Labels are workflow names, step ids, statuses and event names: never inputs, outputs or
messages, so no secret can reach a metric.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from engine.runtime import events as ev

__all__ = ["Metrics"]


class Metrics:
    """Counters of runs and events, step durations, and gauges read when scraped."""

    def __init__(
        self,
        in_flight: Callable[[], int],
        queue_depth: Callable[[], int],
        overflows: Callable[[], int],
    ) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
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
        Gauge("switchboard_runs_in_flight", "Runs running now", registry=r).set_function(in_flight)
        Gauge(
            "switchboard_event_queue_depth", "Events waiting in subscriber queues", registry=r
        ).set_function(queue_depth)
        Gauge(
            "switchboard_subscriber_overflows",
            "Live events a slow SSE/WebSocket "
            "subscriber missed in its queue (and read from the store instead)",
            registry=r,
        ).set_function(overflows)

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

    def text(self) -> bytes:
        return generate_latest(self.registry)
