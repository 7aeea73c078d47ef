"""Runs whose environment names another engine (`engine: temporal`): the adapter that runs them,
found through the `switchboard.engines` entry point group, so this layer never imports it.

An adapter is a factory taking the resolved environment and giving an object with
`run(request, sinks, host) -> JobOutcome | None` (`engine.temporal.serving.TemporalRuns`); one is
kept per event loop and engine settings, so a long-lived host (the designer's engine process)
connects once.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Sequence
from importlib.metadata import entry_points
from typing import Any, Protocol

from engine.jobs.environments import Resolved, SetupError
from engine.jobs.request import JobOutcome, JobRequest
from engine.runtime.events import Sink

__all__ = ["ENGINES_GROUP", "RemoteEngine", "remote_engine"]

ENGINES_GROUP = "switchboard.engines"


class RemoteEngine(Protocol):
    async def run(
        self, request: JobRequest, sinks: Sequence[Sink], host: Any = None
    ) -> JobOutcome | None: ...


_kept: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Any, RemoteEngine]] = (
    weakref.WeakKeyDictionary()
)


def remote_engine(env: Resolved) -> RemoteEngine:
    """The adapter for `env.engine` (one per loop and settings). Raises SetupError naming what
    to install when no package provides it."""
    loop = asyncio.get_running_loop()
    key = (env.engine, tuple(sorted(env.temporal.items())))
    kept = _kept.setdefault(loop, {})
    if key in kept:
        return kept[key]
    found = [ep for ep in entry_points(group=ENGINES_GROUP) if ep.name == env.engine]
    if not found:
        raise SetupError(
            f"environment '{env.name}' runs on engine '{env.engine}', which is not installed "
            "here: pip install 'switchboard[temporal]'"
        )
    engine: RemoteEngine = found[0].load()(env)
    kept[key] = engine
    return engine
