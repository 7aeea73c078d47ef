"""Switchboard's engine: the Qt-free model, YAML files, validation, runtime and command line.

The public API is re-exported here (as httpx does). The runtime names (`Engine`, events, …)
load on first use, so `switchboard validate` and servers that only read files stay light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from engine.errors import (
    ExpressionError,
    InputInvalid,
    LoadError,
    Problem,
    RunError,
    SecretMissing,
    StepFailed,
    SwitchboardError,
    ValidationError,
)
from engine.files import (
    Loaded,
    check_file,
    dump_environments,
    dump_mocks,
    dump_tests,
    dump_workflow,
    load_environments,
    load_mocks,
    load_tests,
    load_workflow,
    parse_any,
    parse_environments,
    parse_mocks,
    parse_tests,
    parse_workflow,
    save_text_atomic,
    validate_workflow,
)
from engine.model import (
    CallDefaults,
    CallStep,
    EmitStep,
    Environment,
    EnvironmentsFile,
    MockResponse,
    MocksFile,
    NotifyStep,
    Retry,
    RetryPolicy,
    TestCase,
    TestExpect,
    TestsFile,
    WaitStep,
    Workflow,
    resolve_call,
)

if TYPE_CHECKING:
    from engine.bus import EventBus
    from engine.clock import Clock, RealClock, VirtualClock
    from engine.events import (
        CallRecord,
        Event,
        Notification,
        RunFinished,
        RunResult,
        RunStarted,
        Sink,
        StepFinished,
        StepResult,
        StepRetrying,
        StepStarted,
    )
    from engine.mocktransport import HybridTransport, MockTransport
    from engine.runner import Engine
    from engine.secrets import SecretSource
    from engine.setup import RunSetup, SetupError, prepare

_LAZY = {
    "Engine": "engine.runner",
    "EventBus": "engine.bus",
    "Clock": "engine.clock", "RealClock": "engine.clock", "VirtualClock": "engine.clock",
    "MockTransport": "engine.mocktransport", "HybridTransport": "engine.mocktransport",
    "SecretSource": "engine.secrets",
    "prepare": "engine.setup", "RunSetup": "engine.setup", "SetupError": "engine.setup",
    **{name: "engine.events" for name in (
        "CallRecord", "Event", "Notification", "RunFinished", "RunResult", "RunStarted", "Sink",
        "StepFinished", "StepResult", "StepRetrying", "StepStarted")},
}

__all__ = [
    # model
    "CallDefaults", "CallStep", "EmitStep", "Environment", "EnvironmentsFile", "MockResponse",
    "MocksFile", "NotifyStep", "Retry", "RetryPolicy", "TestCase", "TestExpect", "TestsFile",
    "WaitStep", "Workflow", "resolve_call",
    # files
    "Loaded", "check_file", "dump_environments", "dump_mocks", "dump_tests", "dump_workflow",
    "load_environments", "load_mocks", "load_tests", "load_workflow", "parse_any",
    "parse_environments", "parse_mocks", "parse_tests", "parse_workflow", "save_text_atomic",
    "validate_workflow",
    # errors
    "ExpressionError", "InputInvalid", "LoadError", "Problem", "RunError", "SecretMissing",
    "StepFailed", "SwitchboardError", "ValidationError",
    # runtime (loaded on first use)
    "Engine", "EventBus", "Clock", "RealClock", "VirtualClock", "MockTransport",
    "HybridTransport", "SecretSource", "prepare", "RunSetup", "SetupError", "CallRecord", "Event",
    "Notification", "RunFinished", "RunResult", "RunStarted", "Sink", "StepFinished", "StepResult",
    "StepRetrying", "StepStarted",
]
assert set(_LAZY) <= set(__all__)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'engine' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
