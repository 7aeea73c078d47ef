"""Serverless Workflow 1.0.3 export and import: schema-valid exports, every official example
imported without a traceback, and exported-then-imported workflows passing their tests."""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jmespath
import jsonschema
import pytest

from engine import JobRequest, run_job, run_mocked
from engine.cli import main
from engine.core.errors import format_path
from engine.core.graph import NotSeriesParallel, Parallel, Series, series_parallel
from engine.core.jq import Untranslatable, to_jq
from engine.core.jq_import import jq_to_jmespath
from engine.core.model import CallStep, MockResponse, WaitStep, Workflow
from engine.files.documents import parse_workflow, read_text
from engine.files.folder import tests_files as _tests_files
from engine.files.serverless import export_serverless
from engine.files.serverless_import import import_serverless
from engine.files.yamlread import read_yaml
from engine.files.yamlwrite import dump_data

ROOT = Path(__file__).resolve().parents[2]
_SHARED = ROOT.parent.parent / "shared" / "interop" / "serverless-workflow-1.0.3"
_SIBLING = ROOT.parent / "shared" / "interop" / "serverless-workflow-1.0.3"
REFERENCE = next(
    (p for p in (_SIBLING, _SHARED) if p.is_dir()),
    ROOT / "tests" / "data" / "serverless-workflow-1.0.3",
)
EXAMPLES = sorted((REFERENCE / "examples").glob("*.yaml"))
WORKFLOWS = sorted(
    p
    for p in (ROOT / "workflows").glob("*.yaml")
    if p.name.count(".") == 1 and p.name != "environments.yaml"
)


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    # our reader keeps `on:` a key (PyYAML would read it as True and break the schema)
    schema, _ = read_yaml((REFERENCE / "schema" / "workflow.yaml").read_text())
    return jsonschema.Draft202012Validator(schema)


def _export(path: Path):  # type: ignore[no-untyped-def]
    loaded = parse_workflow(read_text(path), str(path))
    assert loaded.ok, loaded.problems
    loc = loaded.locator
    assert loc is not None
    return export_serverless(loaded.model, file=str(path), locate=lambda p: loc.locate(p))


def test_series_parallel_decomposition() -> None:
    tree = series_parallel({"a": [], "b": ["a"], "c": ["a"], "d": ["b", "c"], "e": ["d"]})
    assert tree == Series(("a", Parallel(("b", "c")), "d", "e"))
    assert series_parallel({"a": [], "b": ["a"], "c": ["a", "b"]}) == Series(("a", "b", "c"))
    with pytest.raises(NotSeriesParallel) as e:
        series_parallel({"a": [], "b": [], "c": ["a", "b"], "d": ["b"]})
    assert e.value.steps == ["a", "b", "c", "d"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_workflow_exports_to_a_valid_document(path: Path, validator) -> None:  # type: ignore[no-untyped-def]
    out = _export(path)
    assert out.document is not None
    errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(out.document)]
    assert errors == []
    # the text written is the same document
    assert read_yaml(out.text)[0] == out.document
    for p in out.problems:
        assert p.line > 0 and p.path, p


def test_no_equivalent_is_listed_not_dropped() -> None:
    out = _export(ROOT / "workflows" / "policy_review.yaml")
    text = "\n".join(str(p) for p in out.problems)
    for word in ("maxConcurrency", "notify", "Retry-After", "maxDelay"):
        assert word in text
    assert "policy_review.yaml:34:21: steps[0].maxConcurrency" in text


def test_a_graph_that_is_not_series_parallel_is_not_exported() -> None:
    text = """version: 1
name: nGraph
steps:
  - {id: a, service: S, action: a, after: []}
  - {id: b, service: S, action: b, after: []}
  - {id: c, service: S, action: c, after: [a, b]}
  - {id: d, service: S, action: d, after: [b]}
"""
    loaded = parse_workflow(text, "n.yaml")
    assert loaded.model is not None
    out = export_serverless(loaded.model, file="n.yaml")
    assert out.document is None
    assert [p.severity for p in out.problems] == ["error"]
    assert "a, b, c, d" in out.problems[0].message


def test_untranslatable_expressions_name_the_expression_and_path() -> None:
    out = _export(ROOT / "workflows" / "emergency_dispatch.yaml")
    bad = [p for p in out.problems if "[steps.fire, steps.ambulance" in p.message]
    assert (
        bad
        and bad[0].path == ("steps", 4, "with", "missing")
        and (bad[0].line, bad[0].col) == (61, 16)
    )


_SCOPE_CONTEXT = {
    "review": [{"policyId": "a", "status": "fail"}, {"policyId": "b", "status": "pass"}],
    "fire": {"unit": "e1"},
    "ambulance": None,
    "check": {"status": "pass"},
}
_INPUT = {"policyId": "P-7", "severity": "", "n": 2}


@pytest.mark.skipif(shutil.which("jq") is None, reason="the jq program is not installed")
@pytest.mark.parametrize(
    "expr",
    [
        "input.policyId",
        "steps.check.output.status == 'pass'",
        "input.severity || 'high'",
        "[steps.fire.output.unit, steps.ambulance.output.unit][]",
        "length(steps.review.output[?status == 'fail']) > `0`",
        "steps.review.output[].{policy: policyId, status: status}",
        "steps.review.output[?status == 'fail'].policyId",
        "input.policyId && steps.check.output",
        "!(input.severity)",
        "input.n >= `2`",
    ],
)
def test_jq_gives_what_jmespath_gives(expr: str) -> None:
    jq = to_jq(expr)
    run = subprocess.run(
        [
            "jq",
            "-c",
            "-n",
            "--argjson",
            "context",
            json.dumps(_SCOPE_CONTEXT),
            "--argjson",
            "workflow",
            json.dumps({"input": _INPUT}),
            jq,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=10,
    )
    scope = {"input": _INPUT, "steps": {k: {"output": v} for k, v in _SCOPE_CONTEXT.items()}}
    assert json.loads(run.stdout) == jmespath.search(expr, scope)


def test_jq_outside_the_subset_says_why() -> None:
    with pytest.raises(Untranslatable, match="steps.check.status"):
        to_jq("steps.check.status")
    with pytest.raises(Untranslatable, match="sort_by"):
        to_jq("sort_by(input.items, &n)")
    assert jq_to_jmespath('$workflow.input.a.b == "x" and .c') == (
        "input.a.b == 'x' && input.c",
        True,
    )


def test_the_reference_examples_are_there() -> None:
    assert len(EXAMPLES) >= 60


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_official_example_imports_or_says_where_not(path: Path, tmp_path: Path) -> None:
    result = import_serverless(path.read_bytes(), path.name)
    errors = [p for p in result.problems if p.severity == "error"]
    for p in result.problems:
        assert p.path and p.line > 0 and p.message, p
    if not errors:
        assert result.workflow is not None and result.workflow.steps
        again = parse_workflow(result.text, "imported.yaml")
        assert again.ok, again.problems
        assert set(result.workflow.layout) == set(result.workflow.ids)
        # and it runs on mocks: every call answered 200
        mocks = {
            s.target: MockResponse(status=200, body={})
            for s in result.workflow.steps
            if isinstance(s, CallStep)
        }
        run, _ = asyncio.run(run_mocked(result.workflow, mocks, _sample(result.workflow.input)))
        assert run.status == "succeeded", run.error


def _sample(schema: Any) -> Any:
    """A run input with every required property of an input schema (text "x", numbers 1)."""
    if not isinstance(schema, dict):
        return {}
    props = schema.get("properties", {})
    return {
        k: "x" if props.get(k, {}).get("type", "string") == "string" else 1
        for k in schema.get("required", [])
    }


def _tests_passed(folder: Path) -> list[tuple[str, bool]]:
    outcome = asyncio.run(run_job(JobRequest("tests", tests=[folder])))
    return [(c.name, c.passed) for f in outcome.payload.files for c in f.cases]


@pytest.mark.parametrize("tests_file", _tests_files(ROOT / "workflows"), ids=lambda p: p.name)
def test_export_then_import_runs_the_same_tests(tests_file: Path, tmp_path: Path) -> None:
    name = tests_file.name.removesuffix(".tests.yaml")
    folder = tmp_path / "roundtrip"
    folder.mkdir()
    shutil.copy(tests_file, folder)
    shutil.copy(ROOT / "workflows" / f"{name}.mocks.yaml", folder)
    out = _export(ROOT / "workflows" / f"{name}.yaml")
    result = import_serverless(out.text, f"{name}.sw.yaml")
    assert [p for p in result.problems if p.severity == "error"] == []
    (folder / f"{name}.yaml").write_text(result.text)
    original = tmp_path / "original"
    original.mkdir()
    for suffix in (".yaml", ".mocks.yaml", ".tests.yaml"):
        shutil.copy(ROOT / "workflows" / f"{name}{suffix}", original)
    expected = _tests_passed(original)
    assert expected and all(ok for _, ok in expected)
    assert _tests_passed(folder) == expected


def test_import_counts_match_the_readme() -> None:
    counts = [0, 0, 0]
    for path in EXAMPLES:
        result = import_serverless(path.read_bytes(), path.name)
        errors = [p for p in result.problems if p.severity == "error"]
        counts[0 if not errors else 1 if result.workflow else 2] += 1
    readme = (ROOT / "README.md").read_text()
    assert (
        f"{counts[0]} import whole, {counts[1]} in part, {counts[2]} give only problems" in readme
    )


def test_export_and_import_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "p.sw.yaml"
    src = ROOT / "workflows" / "policy_change.yaml"
    assert (
        main(
            [
                "export",
                "--to",
                "serverless",
                str(src),
                "-o",
                str(out),
                "--env",
                "local",
                "--source",
                "https://example.org/policy",
            ]
        )
        == 0
    )
    doc, _ = read_yaml(out.read_bytes())
    first = doc["do"][0]["updatePolicy"]
    assert first["with"]["endpoint"] == "http://127.0.0.1:8001/updatePolicy"
    err = capsys.readouterr().err
    assert "policy_change.yaml:46:7: warning: steps[3].notify: notify has no" in err
    assert main(["export", "--to", "serverless", str(src), "-o", str(out), "--strict"]) == 1
    assert main(["export", "--to", "serverless", str(src), "--env", "nope", "-o", str(out)]) == 2
    back = tmp_path / "back.yaml"
    assert main(["import", str(out), "-o", str(back)]) == 0
    assert parse_workflow(read_text(back), str(back)).ok
    nsp = tmp_path / "n.yaml"
    nsp.write_text(
        "version: 1\nname: n\nsteps:\n  - {id: a, service: S, action: a, after: []}\n"
        "  - {id: b, service: S, action: b, after: []}\n"
        "  - {id: c, service: S, action: c, after: [a, b]}\n"
        "  - {id: d, service: S, action: d, after: [b]}\n"
    )
    assert main(["export", "--to", "serverless", str(nsp)]) == 1
    assert not (tmp_path / "n.sw.yaml").exists()
    assert "n.yaml:7:43: error: steps[3].after: the steps a, b, c, d" in capsys.readouterr().err
    example = REFERENCE / "examples" / "switch-then-string.yaml"
    assert main(["import", str(example), "-o", str(tmp_path / "s.yaml")]) == 1
    assert "do[0].processOrder.switch: the 'switch' task" in capsys.readouterr().err
    assert main(["import", str(tmp_path / "missing.sw.yaml"), "-o", str(back)]) == 2


def _without_metadata(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_metadata(v) for k, v in value.items() if k != "metadata"}
    if isinstance(value, list):
        return [_without_metadata(v) for v in value]
    return value


def test_a_workflow_in_the_jq_subset_round_trips_without_metadata(tmp_path: Path) -> None:
    """The import reads what the export writes, not only its metadata: a workflow whose
    expressions lie in both subsets passes its tests file after the trip."""
    data = ROOT / "tests" / "data" / "roundtrip"
    out = _export(data / "plain_flow.yaml")
    bare = _without_metadata(out.document)
    assert '"metadata":' not in json.dumps(bare)
    result = import_serverless(dump_data(bare), "plain_flow.sw.yaml")
    assert [str(p) for p in result.problems] == []
    assert result.workflow is not None
    assert result.workflow.ids == ["fetch", "left", "right", "done", "tell"]
    folder = tmp_path / "bare"
    folder.mkdir()
    for suffix in (".mocks.yaml", ".tests.yaml"):
        shutil.copy(data / f"plain_flow{suffix}", folder)
    (folder / "plain_flow.yaml").write_text(result.text)
    expected = _tests_passed(data)
    assert len(expected) == 3 and all(ok for _, ok in expected)
    assert _tests_passed(folder) == expected


@pytest.mark.parametrize(
    "do",
    [
        [{"t": {"try": [{"a": {"call": "http"}, "b": {}}], "catch": {}}}],
        [{"t": {"for": {"in": "${ .x }"}, "do": [{}]}}],
        [{"t": {"for": {"in": "${ .x }"}, "do": [{"a": {"call": "http"}, "b": {}}]}}],
        [{"t": {"wait": {"seconds": 1}, "metadata": {"switchboard": "x"}}}],
        [
            {
                "t": {
                    "try": [{"a": {"call": "http", "with": {"endpoint": "http://h/p"}}}],
                    "catch": {"retry": {"limit": {"attempt": 3}}},
                }
            }
        ],
        [{"t": {"fork": {"branches": [1, {"a": {"wait": "PT1S"}}]}}}],
    ],
)
def test_malformed_documents_give_problems_not_tracebacks(do: list[Any]) -> None:
    doc = {
        "document": {"dsl": "1.0.3", "name": "x"},
        "do": do,
        "schedule": {"on": {"one": {"with": "x"}}},
    }
    result = import_serverless(json.dumps(doc), "bad.sw.yaml")
    assert result.problems or result.workflow is not None


def _reach(after: dict[str, list[str]]) -> set[tuple[str, str]]:
    """(a, b) for every a that comes (transitively) before b."""
    out: set[tuple[str, str]] = set()
    for b in after:
        stack, seen = list(after[b]), set()
        while stack:
            a = stack.pop()
            if a not in seen:
                seen.add(a)
                out.add((a, b))
                stack.extend(after[a])
    return out


def _tree_order(tasks: list[dict[str, Any]]) -> tuple[list[str], set[tuple[str, str]]]:
    """(step ids, (a, b) pairs where a runs before b) of an exported `do` list."""
    ids: list[str] = []
    order: set[tuple[str, str]] = set()
    for entry in tasks:
        ((_, task),) = entry.items()
        if "fork" in task:
            mine: list[str] = []
            for branch in task["fork"]["branches"]:
                ((_, b),) = branch.items()
                sub, pairs = _tree_order(b["do"] if "do" in b and "metadata" not in b else [branch])
                mine += sub
                order |= pairs
        else:
            mine = [task["metadata"]["switchboard"]["step"]["id"]]
        order |= {(a, b) for a in ids for b in mine}
        ids += mine
    return ids, order


def _has_n(pairs: set[tuple[str, str]], ids: list[str]) -> bool:
    """Whether the order holds an "N" (a<c, b<c, b<d, the rest incomparable): not SP."""

    def free(x: str, y: str) -> bool:
        return (x, y) not in pairs and (y, x) not in pairs

    return any(
        (a, c) in pairs
        and (b, c) in pairs
        and (b, d) in pairs
        and free(a, d)
        and free(a, b)
        and free(c, d)
        for a in ids
        for b in ids
        for c in ids
        for d in ids
        if len({a, b, c, d}) == 4
    )


def test_the_export_keeps_exactly_the_order_of_every_small_graph() -> None:
    """Random graphs of up to 7 steps: an export's do/fork order is the graph's order, and a
    graph is refused only when its order has an "N" (the one shape do/fork cannot write)."""
    rng = random.Random(13)
    for _ in range(400):
        n = rng.randint(1, 7)
        ids = [f"s{i}" for i in range(n)]
        after = {sid: [p for p in ids[:i] if rng.random() < 0.35] for i, sid in enumerate(ids)}
        wf = Workflow(name="g", steps=[WaitStep(id=sid, after=after[sid], wait=1) for sid in ids])
        out = export_serverless(wf)
        want = _reach(after)
        if out.document is None:
            assert _has_n(want, ids), after
            continue
        got_ids, got = _tree_order(out.document["do"])
        assert sorted(got_ids) == ids and got == want, after


@pytest.mark.skipif(shutil.which("jq") is None, reason="the jq program is not installed")
@pytest.mark.parametrize(
    ("context", "status", "message"),
    [
        ({"check": {"status": "pass"}}, "succeeded", None),
        (
            {"check.error": {"message": "503 from the checker", "status": 503}},
            "failed",
            "503 from the checker",
        ),
        ({}, "skipped", None),
        (None, "skipped", None),
    ],
)
def test_a_kept_calls_status_and_error_in_jq(context: Any, status: str, message: Any) -> None:
    expr = to_jq("[steps.check.status, steps.check.error.message]", kept={"check"})
    run = subprocess.run(
        ["jq", "-c", "-n", "--argjson", "context", json.dumps(context), expr],
        capture_output=True,
        text=True,
        check=True,
        timeout=10,
    )
    assert json.loads(run.stdout) == [status, message]
    with pytest.raises(Untranslatable):
        to_jq("steps.check.status")  # not kept: a foreach, or not a call


def test_on_error_continue_keeps_the_error_and_imports_back(validator) -> None:  # type: ignore[no-untyped-def]
    out = _export(ROOT / "workflows" / "emergency_dispatch.yaml")
    assert not [p for p in out.problems if "steps.fire.status" in p.message]
    assert out.document is not None
    fork = out.document["do"][1]["fireParallel"]["fork"]["branches"]
    fire = fork[0]["fire"]
    assert fire["catch"]["do"][0]["fireFailed"]["export"]["as"].startswith(
        '${ $context + {"fire.error"'
    )
    bare = _without_metadata(out.document)
    result = import_serverless(dump_data(bare), "e.sw.yaml")
    assert result.workflow is not None
    assert result.workflow.step("fire").on_error == "continue"
    assert not [p for p in result.problems if "catch" in format_path(p.path)]


def test_no_steps_and_interleaved_branches_come_back_as_they_were(validator) -> None:  # type: ignore[no-untyped-def]
    empty = export_serverless(Workflow(name="empty"))
    assert empty.document is not None and list(validator.iter_errors(empty.document)) == []
    back = import_serverless(empty.text, "e.sw.yaml")
    assert back.workflow is not None and back.workflow.steps == []
    assert [p.severity for p in back.problems] == ["warning"]  # as for the original: no steps
    # the list order s0, s1, s2, s3 nests as s0 ; (s1 ; s3 | s2): the import keeps the list
    steps = [
        WaitStep(id="s0", wait=1),
        WaitStep(id="s1", after=["s0"], wait=1),
        WaitStep(id="s2", after=["s0"], wait=1),
        WaitStep(id="s3", after=["s1"], wait=1),
    ]
    out = export_serverless(Workflow(name="mixed", steps=steps))
    again = import_serverless(out.text, "m.sw.yaml")
    assert again.workflow is not None and again.workflow.ids == ["s0", "s1", "s2", "s3"]
