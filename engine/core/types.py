"""The closed sets of the format as `Literal` types, with their values as tuples for checks.

mypy catches `"sucess"` where one of these is expected; parsers and validation check file
values against the tuples, so the two can never disagree.
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = [
    "StepKind",
    "StepStatus",
    "RunStatus",
    "Level",
    "ErrorType",
    "Mode",
    "Fault",
    "OnError",
    "Jitter",
    "STEP_KINDS",
    "STEP_STATUSES",
    "RUN_STATUSES",
    "LEVELS",
    "ERROR_TYPES",
    "MODES",
    "FAULTS",
    "ON_ERROR",
    "JITTER",
]

StepKind = Literal["call", "wait", "emit", "notify"]
StepStatus = Literal["succeeded", "failed", "skipped", "cancelled"]
RunStatus = Literal["succeeded", "failed", "cancelled"]
Level = Literal["info", "success", "warning", "error"]
# `limit` (a cascade of emits started too many runs) is ours: FORMAT.md lists the others
ErrorType = Literal[
    "http",
    "timeout",
    "connection",
    "mock",
    "expression",
    "input",
    "secret",
    "cancelled",
    "deadline",
    "limit",
]
Mode = Literal["live", "mock", "hybrid"]  # how an environment's calls resolve
Fault = Literal["timeout", "connection"]
OnError = Literal["fail", "continue"]
Jitter = Literal["full", "none"]

STEP_KINDS: tuple[StepKind, ...] = get_args(StepKind)
STEP_STATUSES: tuple[StepStatus, ...] = get_args(StepStatus)
RUN_STATUSES: tuple[RunStatus, ...] = get_args(RunStatus)
LEVELS: tuple[Level, ...] = get_args(Level)
ERROR_TYPES: tuple[ErrorType, ...] = get_args(ErrorType)
MODES: tuple[Mode, ...] = get_args(Mode)
FAULTS: tuple[Fault, ...] = get_args(Fault)
ON_ERROR: tuple[OnError, ...] = get_args(OnError)
JITTER: tuple[Jitter, ...] = get_args(Jitter)
