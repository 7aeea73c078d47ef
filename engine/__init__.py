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

if TYPE_CHECKING:
    from engine.core.durations import DurationError, format_duration, parse_duration
    from engine.core.edits import (
        PLAIN_FIELDS,
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
        EmitStep,
        Environment,
        EnvironmentsFile,
        MockResponse,
        MocksFile,
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
    from engine.files.folder import (
        ENVIRONMENTS_FILE,
        environments_file,
        find_tests_files,
        kind_from_name,
        mocks_files,
        recording_path,
        tests_files,
        untitled_path,
        workflow_files,
    )
    from engine.files.yamlread import read_yaml
    from engine.files.yamlwrite import dump_data
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
    from engine.runtime.bus import EventBus
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
    from engine.worker import KEY_VARIABLE as WORKER_KEY_VARIABLE

# name -> (module, attribute)
_LAZY: dict[str, tuple[str, str]] = {
    "AnyStep": ("engine.core.model", "AnyStep"),
    "CallDefaults": ("engine.core.model", "CallDefaults"),
    "CallStep": ("engine.core.model", "CallStep"),
    "EmitStep": ("engine.core.model", "EmitStep"),
    "Environment": ("engine.core.model", "Environment"),
    "EnvironmentsFile": ("engine.core.model", "EnvironmentsFile"),
    "MockResponse": ("engine.core.model", "MockResponse"),
    "MocksFile": ("engine.core.model", "MocksFile"),
    "NOTIFY_LEVELS": ("engine.core.model", "NOTIFY_LEVELS"),
    "NotifyStep": ("engine.core.model", "NotifyStep"),
    "resolve_call": ("engine.core.model", "resolve_call"),
    "ResolvedCall": ("engine.core.model", "ResolvedCall"),
    "Retry": ("engine.core.model", "Retry"),
    "RetryPolicy": ("engine.core.model", "RetryPolicy"),
    "Step": ("engine.core.model", "Step"),
    "step_kind": ("engine.core.model", "step_kind"),
    "TestCase": ("engine.core.model", "TestCase"),
    "TestExpect": ("engine.core.model", "TestExpect"),
    "TestsFile": ("engine.core.model", "TestsFile"),
    "WaitStep": ("engine.core.model", "WaitStep"),
    "Workflow": ("engine.core.model", "Workflow"),
    "ERROR_TYPES": ("engine.core.types", "ERROR_TYPES"),
    "ErrorType": ("engine.core.types", "ErrorType"),
    "Level": ("engine.core.types", "Level"),
    "LEVELS": ("engine.core.types", "LEVELS"),
    "Mode": ("engine.core.types", "Mode"),
    "RUN_STATUSES": ("engine.core.types", "RUN_STATUSES"),
    "RunStatus": ("engine.core.types", "RunStatus"),
    "STEP_KINDS": ("engine.core.types", "STEP_KINDS"),
    "STEP_STATUSES": ("engine.core.types", "STEP_STATUSES"),
    "StepKind": ("engine.core.types", "StepKind"),
    "StepStatus": ("engine.core.types", "StepStatus"),
    "base_id": ("engine.core.names", "base_id"),
    "default_step_ids": ("engine.core.names", "default_step_ids"),
    "ID_RE": ("engine.core.names", "ID_RE"),
    "NAME_RE": ("engine.core.names", "NAME_RE"),
    "parse_target": ("engine.core.names", "parse_target"),
    "suggest": ("engine.core.names", "suggest"),
    "unique_id": ("engine.core.names", "unique_id"),
    "after_map": ("engine.core.graph", "after_map"),
    "comes_before": ("engine.core.graph", "comes_before"),
    "find_cycle": ("engine.core.graph", "find_cycle"),
    "topological_order": ("engine.core.graph", "topological_order"),
    "can_connect": ("engine.core.edits", "can_connect"),
    "check_step_id": ("engine.core.edits", "check_step_id"),
    "PLAIN_FIELDS": ("engine.core.edits", "PLAIN_FIELDS"),
    "remap_pasted": ("engine.core.edits", "remap_pasted"),
    "rename_patches": ("engine.core.edits", "rename_patches"),
    "rename_references": ("engine.core.edits", "rename_references"),
    "COLUMN_GAP": ("engine.core.layout", "COLUMN_GAP"),
    "layered_layout": ("engine.core.layout", "layered_layout"),
    "layered_positions": ("engine.core.layout", "layered_positions"),
    "ROW_GAP": ("engine.core.layout", "ROW_GAP"),
    "check_template": ("engine.core.expressions", "check_template"),
    "evaluate": ("engine.core.expressions", "evaluate"),
    "iter_expressions": ("engine.core.expressions", "iter_expressions"),
    "render": ("engine.core.expressions", "render"),
    "split_template": ("engine.core.expressions", "split_template"),
    "TemplateSyntaxError": ("engine.core.expressions", "TemplateSyntaxError"),
    "DurationError": ("engine.core.durations", "DurationError"),
    "format_duration": ("engine.core.durations", "format_duration"),
    "parse_duration": ("engine.core.durations", "parse_duration"),
    "ExpressionError": ("engine.core.errors", "ExpressionError"),
    "format_path": ("engine.core.errors", "format_path"),
    "InputInvalid": ("engine.core.errors", "InputInvalid"),
    "LoadError": ("engine.core.errors", "LoadError"),
    "Problem": ("engine.core.errors", "Problem"),
    "RunError": ("engine.core.errors", "RunError"),
    "SecretMissing": ("engine.core.errors", "SecretMissing"),
    "StepFailed": ("engine.core.errors", "StepFailed"),
    "SwitchboardError": ("engine.core.errors", "SwitchboardError"),
    "ValidationError": ("engine.core.errors", "ValidationError"),
    "validate_workflow": ("engine.core.validate", "validate_workflow"),
    "check_file": ("engine.files.documents", "check_file"),
    "dump_any": ("engine.files.documents", "dump_any"),
    "dump_environments": ("engine.files.documents", "dump_environments"),
    "dump_mocks": ("engine.files.documents", "dump_mocks"),
    "dump_tests": ("engine.files.documents", "dump_tests"),
    "dump_workflow": ("engine.files.documents", "dump_workflow"),
    "folder_problems": ("engine.files.documents", "folder_problems"),
    "load_environments": ("engine.files.documents", "load_environments"),
    "load_mocks": ("engine.files.documents", "load_mocks"),
    "load_tests": ("engine.files.documents", "load_tests"),
    "load_workflow": ("engine.files.documents", "load_workflow"),
    "Loaded": ("engine.files.documents", "Loaded"),
    "open_workflow": ("engine.files.documents", "open_workflow"),
    "parse_any": ("engine.files.documents", "parse_any"),
    "parse_environments": ("engine.files.documents", "parse_environments"),
    "parse_mocks": ("engine.files.documents", "parse_mocks"),
    "parse_tests": ("engine.files.documents", "parse_tests"),
    "parse_workflow": ("engine.files.documents", "parse_workflow"),
    "read_text": ("engine.files.documents", "read_text"),
    "save_text_atomic": ("engine.files.documents", "save_text_atomic"),
    "read_yaml": ("engine.files.yamlread", "read_yaml"),
    "dump_data": ("engine.files.yamlwrite", "dump_data"),
    "ENVIRONMENTS_FILE": ("engine.files.folder", "ENVIRONMENTS_FILE"),
    "environments_file": ("engine.files.folder", "environments_file"),
    "find_tests_files": ("engine.files.folder", "find_tests_files"),
    "kind_from_name": ("engine.files.folder", "kind_from_name"),
    "mocks_files": ("engine.files.folder", "mocks_files"),
    "recording_path": ("engine.files.folder", "recording_path"),
    "tests_files": ("engine.files.folder", "tests_files"),
    "untitled_path": ("engine.files.folder", "untitled_path"),
    "workflow_files": ("engine.files.folder", "workflow_files"),
    "catalog_for": ("engine.files.catalog", "catalog_for"),
    "ServiceCatalog": ("engine.files.catalog", "ServiceCatalog"),
    "Engine": ("engine.runtime.engine", "Engine"),
    "EventBus": ("engine.runtime.bus", "EventBus"),
    "Clock": ("engine.runtime.clock", "Clock"),
    "RealClock": ("engine.runtime.clock", "RealClock"),
    "VirtualClock": ("engine.runtime.clock", "VirtualClock"),
    "CallRecord": ("engine.runtime.events", "CallRecord"),
    "Event": ("engine.runtime.events", "Event"),
    "Notification": ("engine.runtime.events", "Notification"),
    "RunFinished": ("engine.runtime.events", "RunFinished"),
    "RunResult": ("engine.runtime.events", "RunResult"),
    "RunStarted": ("engine.runtime.events", "RunStarted"),
    "Sink": ("engine.runtime.events", "Sink"),
    "StepFinished": ("engine.runtime.events", "StepFinished"),
    "StepResult": ("engine.runtime.events", "StepResult"),
    "StepRetrying": ("engine.runtime.events", "StepRetrying"),
    "StepStarted": ("engine.runtime.events", "StepStarted"),
    "HybridTransport": ("engine.runtime.mock", "HybridTransport"),
    "MockTransport": ("engine.runtime.mock", "MockTransport"),
    "Caller": ("engine.runtime.ports", "Caller"),
    "CallFailed": ("engine.runtime.ports", "CallFailed"),
    "CallRequest": ("engine.runtime.ports", "CallRequest"),
    "CallResponse": ("engine.runtime.ports", "CallResponse"),
    "IdSource": ("engine.runtime.ports", "IdSource"),
    "new_run_id": ("engine.runtime.ports", "new_run_id"),
    "HttpxCaller": ("engine.runtime.http", "HttpxCaller"),
    "SecretSource": ("engine.runtime.secrets", "SecretSource"),
    "Recorder": ("engine.runtime.recorder", "Recorder"),
    "describe": ("engine.runtime.text", "describe"),
    "format_ms": ("engine.runtime.text", "format_ms"),
    "apply_event": ("engine.runtime.state", "apply_event"),
    "clock_text": ("engine.runtime.state", "clock_text"),
    "event_line": ("engine.runtime.state", "event_line"),
    "LOG_LEVELS": ("engine.runtime.state", "LOG_LEVELS"),
    "LogLine": ("engine.runtime.state", "LogLine"),
    "record_from_result": ("engine.runtime.state", "record_from_result"),
    "pretty_json": ("engine.runtime.state", "pretty_json"),
    "RunRecord": ("engine.runtime.state", "RunRecord"),
    "StepView": ("engine.runtime.state", "StepView"),
    "run_mocked": ("engine.runtime.harness", "run_mocked"),
    "JobOutcome": ("engine.jobs.request", "JobOutcome"),
    "JobRequest": ("engine.jobs.request", "JobRequest"),
    "JobShape": ("engine.jobs.request", "JobShape"),
    "outcome_json": ("engine.jobs.run", "outcome_json"),
    "run_job": ("engine.jobs.run", "run_job"),
    "Host": ("engine.jobs.setup", "Host"),
    "prepare": ("engine.jobs.setup", "prepare"),
    "RunSetup": ("engine.jobs.setup", "RunSetup"),
    "SetupError": ("engine.jobs.setup", "SetupError"),
    "EnvironmentInfo": ("engine.jobs.environments", "EnvironmentInfo"),
    "folder_environments": ("engine.jobs.environments", "folder_environments"),
    "FolderEnvironments": ("engine.jobs.environments", "FolderEnvironments"),
    "mode_of": ("engine.jobs.environments", "mode_of"),
    "resolve_environment": ("engine.jobs.environments", "resolve_environment"),
    "CaseResult": ("engine.jobs.testfiles", "CaseResult"),
    "Difference": ("engine.jobs.testfiles", "Difference"),
    "FileResult": ("engine.jobs.testfiles", "FileResult"),
    "run_tests": ("engine.jobs.testfiles", "run_tests"),
    "run_tests_file": ("engine.jobs.testfiles", "run_tests_file"),
    "TestReport": ("engine.jobs.testfiles", "TestReport"),
    "ConsoleSink": ("engine.jobs.sinks", "ConsoleSink"),
    "JsonlSink": ("engine.jobs.sinks", "JsonlSink"),
    "WebhookSink": ("engine.jobs.sinks", "WebhookSink"),
    "WORKER_KEY_VARIABLE": ("engine.worker", "KEY_VARIABLE"),
}

__all__ = [
    "AnyStep", "COLUMN_GAP", "CallDefaults", "CallFailed", "CallRecord", "CallRequest",
    "CallResponse", "CallStep", "Caller", "CaseResult", "Clock", "ConsoleSink", "Difference",
    "DurationError", "ENVIRONMENTS_FILE", "ERROR_TYPES", "EmitStep", "Engine", "Environment",
    "EnvironmentInfo", "EnvironmentsFile", "ErrorType", "Event", "EventBus", "ExpressionError",
    "FileResult", "FolderEnvironments", "Host", "HttpxCaller", "HybridTransport", "ID_RE",
    "IdSource", "InputInvalid", "JobOutcome", "JobRequest", "JobShape", "JsonlSink", "LEVELS",
    "LOG_LEVELS", "Level", "LoadError", "Loaded", "LogLine", "MockResponse", "MockTransport",
    "MocksFile", "Mode", "NAME_RE", "NOTIFY_LEVELS", "Notification", "NotifyStep", "PLAIN_FIELDS",
    "Problem", "ROW_GAP", "RUN_STATUSES", "RealClock", "Recorder", "ResolvedCall", "Retry",
    "RetryPolicy", "RunError", "RunFinished", "RunRecord", "RunResult", "RunSetup", "RunStarted",
    "RunStatus", "STEP_KINDS", "STEP_STATUSES", "SecretMissing", "SecretSource", "ServiceCatalog",
    "SetupError", "Sink", "Step", "StepFailed", "StepFinished", "StepKind", "StepResult",
    "StepRetrying", "StepStarted", "StepStatus", "StepView", "SwitchboardError",
    "TemplateSyntaxError", "TestCase", "TestExpect", "TestReport", "TestsFile", "ValidationError",
    "VirtualClock", "WORKER_KEY_VARIABLE", "WaitStep", "WebhookSink", "Workflow", "after_map",
    "apply_event", "base_id", "can_connect", "catalog_for", "check_file", "check_step_id",
    "check_template", "clock_text", "comes_before", "default_step_ids", "describe", "dump_any",
    "dump_data", "dump_environments", "dump_mocks", "dump_tests", "dump_workflow",
    "environments_file", "evaluate", "event_line", "find_cycle", "find_tests_files",
    "folder_environments", "folder_problems", "format_duration", "format_ms", "format_path",
    "iter_expressions", "kind_from_name", "layered_layout", "layered_positions",
    "load_environments", "load_mocks", "load_tests", "load_workflow", "mocks_files", "mode_of",
    "new_run_id", "open_workflow", "outcome_json", "parse_any", "parse_duration",
    "parse_environments", "parse_mocks", "parse_target", "parse_tests", "parse_workflow",
    "prepare", "pretty_json", "read_text", "read_yaml", "record_from_result", "recording_path",
    "remap_pasted",
    "rename_patches", "rename_references", "render", "resolve_call", "resolve_environment",
    "run_job", "run_mocked", "run_tests", "run_tests_file", "save_text_atomic", "split_template",
    "step_kind", "suggest", "tests_files", "topological_order", "unique_id", "untitled_path",
    "validate_workflow", "workflow_files",
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
