"""Switchboard's engine: the Qt-free model, files, validation, runtime, jobs and command line.

This is the public API (as httpx re-exports its own from `httpx/__init__.py`); the designer,
the server and scripts import only from here. Names load on first use, so `import engine` is
light and `switchboard validate` never loads the runtime. The layers behind it (`core` <
`files` | `runtime` < `jobs` < `cli` | `worker`) are in ARCHITECTURE.md; the list below is
pinned by a test.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from engine._exports import LAZY as _LAZY

if TYPE_CHECKING:
    from engine.core.durations import DurationError, format_duration, parse_duration
    from engine.core.edits import (
        PLAIN_FIELDS,
        Pos,
        can_connect,
        check_step_id,
        remap_pasted,
        rename_patches,
        rename_references,
    )
    from engine.core.errors import (
        ExpressionError,
        InputInvalid,
        LoadError,
        Problem,
        RunError,
        SecretMissing,
        StepFailed,
        SwitchboardError,
        ValidationError,
        format_path,
    )
    from engine.core.expressions import FUNCTIONS as EXPRESSION_FUNCTIONS
    from engine.core.expressions import (
        TemplateSyntaxError,
        check_template,
        evaluate,
        iter_expressions,
        render,
        split_template,
    )
    from engine.core.graph import after_map, comes_before, find_cycle, topological_order
    from engine.core.layout import COLUMN_GAP, ROW_GAP, layered_layout, layered_positions
    from engine.core.model import (
        NOTIFY_LEVELS,
        AnyStep,
        CallDefaults,
        CallStep,
        Comment,
        EmitStep,
        Environment,
        EnvironmentsFile,
        MockResponse,
        MocksFile,
        Note,
        NotifyStep,
        ResolvedCall,
        Retry,
        RetryPolicy,
        Step,
        TestCase,
        TestExpect,
        TestsFile,
        WaitStep,
        Workflow,
        resolve_call,
        step_kind,
    )
    from engine.core.names import (
        ID_RE,
        NAME_RE,
        base_id,
        default_step_ids,
        parse_target,
        suggest,
        unique_id,
    )
    from engine.core.sizes import SizeError, format_size, parse_size
    from engine.core.types import (
        ERROR_TYPES,
        LEVELS,
        RUN_STATUSES,
        STEP_KINDS,
        STEP_STATUSES,
        ErrorType,
        Level,
        Mode,
        RunStatus,
        StepKind,
        StepStatus,
    )
    from engine.core.validate import validate_workflow
    from engine.files.catalog import ServiceCatalog, catalog_for
    from engine.files.documents import (
        Loaded,
        check_file,
        dump_any,
        dump_environments,
        dump_mocks,
        dump_tests,
        dump_workflow,
        folder_problems,
        load_environments,
        load_mocks,
        load_tests,
        load_workflow,
        open_workflow,
        parse_any,
        parse_environments,
        parse_mocks,
        parse_tests,
        parse_workflow,
        read_text,
        save_text_atomic,
    )
    from engine.files.environment_edit import ServiceUrlEdit, plan_service_url
    from engine.files.folder import (
        ENVIRONMENTS_FILE,
        SERVERLESS_SUFFIX,
        YAML_SUFFIXES,
        environments_file,
        find_tests_files,
        is_serverless_name,
        kind_from_name,
        mocks_files,
        recording_path,
        tests_files,
        tests_path,
        untitled_path,
        workflow_files,
    )
    from engine.files.openapi_import import ServiceImport, check_service_name, plan_service_import
    from engine.files.serverless import export_serverless
    from engine.files.serverless_import import import_serverless
    from engine.files.yamlread import read_yaml
    from engine.files.yamlwrite import dump_data
    from engine.jobs.contract import is_contract_warning
    from engine.jobs.environments import (
        EnvironmentInfo,
        FolderEnvironments,
        folder_environments,
        mode_of,
        resolve_environment,
    )
    from engine.jobs.request import JobOutcome, JobRequest, JobShape
    from engine.jobs.run import outcome_json, run_job
    from engine.jobs.setup import Host, RunSetup, SetupError, prepare
    from engine.jobs.sinks import ConsoleSink, JsonlSink, WebhookSink
    from engine.jobs.testfiles import (
        CaseResult,
        Difference,
        FileResult,
        TestReport,
        run_tests,
        run_tests_file,
    )
    from engine.runtime.aiohttp_caller import AiohttpCaller
    from engine.runtime.bus import EventBus
    from engine.runtime.callers import HybridCaller
    from engine.runtime.clock import Clock, RealClock, VirtualClock
    from engine.runtime.engine import Engine
    from engine.runtime.events import (
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
    from engine.runtime.harness import run_mocked
    from engine.runtime.http import HttpxCaller
    from engine.runtime.mock import HybridTransport, MockTransport
    from engine.runtime.ports import (
        Caller,
        CallFailed,
        CallRequest,
        CallResponse,
        IdSource,
        new_run_id,
    )
    from engine.runtime.recorder import Recorder
    from engine.runtime.secrets import SecretSource
    from engine.runtime.state import (
        LOG_LEVELS,
        LogLine,
        RunRecord,
        StepView,
        apply_event,
        clock_text,
        event_line,
        pretty_json,
        record_from_result,
    )
    from engine.runtime.text import describe, format_ms
    from engine.runtime.wire import HttpSettings
    from engine.server.client import DeployAnswer, deploy_text
    from engine.server.store import Store as RunStore
    from engine.worker import KEY_VARIABLE as WORKER_KEY_VARIABLE

# name -> (module, attribute)

__all__ = [
    "AiohttpCaller",
    "AnyStep",
    "COLUMN_GAP",
    "CallDefaults",
    "CallFailed",
    "CallRecord",
    "CallRequest",
    "CallResponse",
    "CallStep",
    "Caller",
    "CaseResult",
    "Clock",
    "Comment",
    "ConsoleSink",
    "DeployAnswer",
    "Difference",
    "DurationError",
    "ENVIRONMENTS_FILE",
    "ERROR_TYPES",
    "EXPRESSION_FUNCTIONS",
    "EmitStep",
    "Engine",
    "Environment",
    "EnvironmentInfo",
    "EnvironmentsFile",
    "ErrorType",
    "Event",
    "EventBus",
    "ExpressionError",
    "FileResult",
    "FolderEnvironments",
    "Host",
    "HttpSettings",
    "HttpxCaller",
    "HybridCaller",
    "HybridTransport",
    "ID_RE",
    "IdSource",
    "InputInvalid",
    "JobOutcome",
    "JobRequest",
    "JobShape",
    "JsonlSink",
    "LEVELS",
    "LOG_LEVELS",
    "Level",
    "LoadError",
    "Loaded",
    "LogLine",
    "MockResponse",
    "MockTransport",
    "MocksFile",
    "Mode",
    "NAME_RE",
    "NOTIFY_LEVELS",
    "Note",
    "Notification",
    "NotifyStep",
    "PLAIN_FIELDS",
    "Pos",
    "Problem",
    "ROW_GAP",
    "RUN_STATUSES",
    "RealClock",
    "Recorder",
    "ResolvedCall",
    "Retry",
    "RetryPolicy",
    "RunError",
    "RunFinished",
    "RunRecord",
    "RunResult",
    "RunSetup",
    "RunStarted",
    "RunStatus",
    "RunStore",
    "SERVERLESS_SUFFIX",
    "STEP_KINDS",
    "STEP_STATUSES",
    "SecretMissing",
    "SecretSource",
    "ServiceCatalog",
    "ServiceImport",
    "ServiceUrlEdit",
    "SetupError",
    "Sink",
    "SizeError",
    "Step",
    "StepFailed",
    "StepFinished",
    "StepKind",
    "StepResult",
    "StepRetrying",
    "StepStarted",
    "StepStatus",
    "StepView",
    "SwitchboardError",
    "TemplateSyntaxError",
    "TestCase",
    "TestExpect",
    "TestReport",
    "TestsFile",
    "ValidationError",
    "VirtualClock",
    "WORKER_KEY_VARIABLE",
    "WaitStep",
    "WebhookSink",
    "Workflow",
    "YAML_SUFFIXES",
    "after_map",
    "apply_event",
    "base_id",
    "can_connect",
    "catalog_for",
    "check_file",
    "check_service_name",
    "check_step_id",
    "check_template",
    "clock_text",
    "comes_before",
    "default_step_ids",
    "deploy_text",
    "describe",
    "dump_any",
    "dump_data",
    "dump_environments",
    "dump_mocks",
    "dump_tests",
    "dump_workflow",
    "environments_file",
    "evaluate",
    "event_line",
    "export_serverless",
    "find_cycle",
    "find_tests_files",
    "folder_environments",
    "folder_problems",
    "format_duration",
    "format_ms",
    "format_path",
    "format_size",
    "import_serverless",
    "is_contract_warning",
    "is_serverless_name",
    "iter_expressions",
    "kind_from_name",
    "layered_layout",
    "layered_positions",
    "load_environments",
    "load_mocks",
    "load_tests",
    "load_workflow",
    "mocks_files",
    "mode_of",
    "new_run_id",
    "open_workflow",
    "outcome_json",
    "parse_any",
    "parse_duration",
    "parse_environments",
    "parse_mocks",
    "parse_size",
    "parse_target",
    "parse_tests",
    "parse_workflow",
    "plan_service_import",
    "plan_service_url",
    "prepare",
    "pretty_json",
    "read_text",
    "read_yaml",
    "record_from_result",
    "recording_path",
    "remap_pasted",
    "rename_patches",
    "rename_references",
    "render",
    "resolve_call",
    "resolve_environment",
    "run_job",
    "run_mocked",
    "run_tests",
    "run_tests_file",
    "save_text_atomic",
    "split_template",
    "step_kind",
    "suggest",
    "tests_files",
    "tests_path",
    "topological_order",
    "unique_id",
    "untitled_path",
    "validate_workflow",
    "workflow_files",
]


def __getattr__(name: str) -> Any:
    where = _LAZY.get(name)
    if where is None:
        raise AttributeError(f"module 'engine' has no attribute {name!r}")
    value = getattr(importlib.import_module(where[0]), where[1])
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
