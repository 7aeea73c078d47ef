"""The public API is what `engine.__all__` says: every name there resolves, nothing is added or
dropped by accident (as httpx pins its exported members), and the list stays sorted."""

from __future__ import annotations

import engine

EXPECTED = [
    "AnyStep", "COLUMN_GAP", "CallDefaults", "CallFailed", "CallRecord", "CallRequest",
    "CallResponse", "CallStep", "Caller", "CaseResult", "Clock", "ConsoleSink", "Difference",
    "DurationError", "ENVIRONMENTS_FILE", "ERROR_TYPES", "EmitStep", "Engine", "Environment",
    "EnvironmentInfo", "EnvironmentsFile", "ErrorType", "Event", "EventBus", "ExpressionError",
    "FileResult", "FolderEnvironments", "Host", "HttpxCaller", "HybridTransport", "ID_RE",
    "IdSource", "InputInvalid", "JobOutcome", "JobRequest", "JobShape", "JsonlSink", "LEVELS",
    "LOG_LEVELS", "Level", "LoadError", "Loaded", "LogLine", "MockResponse", "MockTransport",
    "MocksFile", "Mode", "NAME_RE", "NOTIFY_LEVELS", "Notification", "NotifyStep", "PLAIN_FIELDS",
    "Pos", "Problem", "ROW_GAP", "RUN_STATUSES", "RealClock", "Recorder", "ResolvedCall", "Retry",
    "RetryPolicy", "RunError", "RunFinished", "RunRecord", "RunResult", "RunSetup", "RunStarted",
    "RunStatus", "STEP_KINDS", "STEP_STATUSES", "SecretMissing", "SecretSource", "ServiceCatalog",
    "SetupError", "Sink", "Step", "StepFailed", "StepFinished", "StepKind", "StepResult",
    "StepRetrying", "StepStarted", "StepStatus", "StepView", "SwitchboardError",
    "TemplateSyntaxError", "TestCase", "TestExpect", "TestReport", "TestsFile", "ValidationError",
    "VirtualClock", "WORKER_KEY_VARIABLE", "WaitStep", "WebhookSink", "Workflow", "YAML_SUFFIXES",
    "after_map", "apply_event", "base_id", "can_connect", "catalog_for", "check_file",
    "check_step_id", "check_template", "clock_text", "comes_before", "default_step_ids",
    "describe", "dump_any", "dump_data", "dump_environments", "dump_mocks", "dump_tests",
    "dump_workflow", "environments_file", "evaluate", "event_line", "find_cycle",
    "find_tests_files", "folder_environments", "folder_problems", "format_duration", "format_ms",
    "format_path", "iter_expressions", "kind_from_name", "layered_layout", "layered_positions",
    "load_environments", "load_mocks", "load_tests", "load_workflow", "mocks_files", "mode_of",
    "new_run_id", "open_workflow", "outcome_json", "parse_any", "parse_duration",
    "parse_environments", "parse_mocks", "parse_target", "parse_tests", "parse_workflow",
    "prepare", "pretty_json", "read_text", "read_yaml", "record_from_result", "recording_path",
    "remap_pasted", "rename_patches", "rename_references", "render", "resolve_call",
    "resolve_environment", "run_job", "run_mocked", "run_tests", "run_tests_file",
    "save_text_atomic", "split_template", "step_kind", "suggest", "tests_files", "tests_path",
    "topological_order", "unique_id", "untitled_path", "validate_workflow", "workflow_files",
]


def test_all_is_pinned() -> None:
    assert sorted(engine.__all__) == EXPECTED


def test_all_is_sorted_and_unique() -> None:
    assert list(engine.__all__) == sorted(set(engine.__all__))


def test_every_name_resolves() -> None:
    for name in engine.__all__:
        assert getattr(engine, name) is not None, name


def test_unknown_name_is_an_attribute_error() -> None:
    try:
        engine.no_such_name  # noqa: B018
    except AttributeError as e:
        assert "no_such_name" in str(e)
    else:
        raise AssertionError("engine.no_such_name resolved")


def test_dir_lists_the_public_names() -> None:
    assert set(engine.__all__) <= set(dir(engine))
