"""Switchboard's engine: the Qt-free model, YAML files, validation, runtime and command line."""

from __future__ import annotations

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

__all__ = [
    "CallDefaults", "CallStep", "EmitStep", "Environment", "EnvironmentsFile", "MockResponse",
    "MocksFile", "NotifyStep", "Retry", "RetryPolicy", "TestCase", "TestExpect", "TestsFile",
    "WaitStep", "Workflow", "resolve_call",
    "ExpressionError", "InputInvalid", "LoadError", "Problem", "RunError", "SecretMissing",
    "StepFailed", "SwitchboardError", "ValidationError",
]
