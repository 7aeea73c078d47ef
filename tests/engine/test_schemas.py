"""The JSON Schemas under resources/schema/: valid themselves, matching every example, and in step
with the loader (same keys, and the same verdict on random documents)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from engine import NOTIFY_LEVELS, parse_mocks, parse_workflow, read_yaml
from engine.files import sidecars
from engine.files import workflow as parse

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "resources" / "schema"
KINDS = ("workflow", "mocks", "environments", "tests")


def schema(kind: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / f"{kind}.schema.json").read_text(encoding="utf-8"))


VALIDATORS = {k: Draft202012Validator(schema(k)) for k in KINDS}


def kind_of(path: Path) -> str:
    kind = sidecars.detect_kind(None, path.name)
    return kind or "workflow"


EXAMPLES = sorted(p for p in (ROOT / "workflows").rglob("*.yaml"))


@pytest.mark.parametrize("kind", KINDS)
def test_schema_is_a_valid_draft_2020_12_schema(kind: str) -> None:
    doc = schema(kind)
    Draft202012Validator.check_schema(doc)
    assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert doc["$id"].endswith(f"/{kind}.schema.json")
    assert doc["description"]


def test_there_are_examples_of_every_kind() -> None:
    assert {kind_of(p) for p in EXAMPLES} == set(KINDS)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_validates_against_its_schema(path: Path) -> None:
    data, _ = read_yaml(path.read_text(encoding="utf-8"), str(path))
    errors = [f"{e.json_path}: {e.message}" for e in VALIDATORS[kind_of(path)].iter_errors(data)]
    assert errors == []


# --- the schemas and the loader know the same keys -------------------------------------------


def props(kind: str, *pointer: str) -> set[str]:
    node: Any = schema(kind)
    for part in pointer:
        node = node[part]
    assert node.get("additionalProperties") is False, f"{pointer} is not strict"
    return set(node["properties"])


def step_def(name: str) -> dict[str, Any]:
    return schema("workflow")["$defs"][name]  # type: ignore[no-any-return]


def object_branch(node: dict[str, Any]) -> dict[str, Any]:
    return next(b for b in node["oneOf"] if b.get("type") == "object")


def test_workflow_keys_match_the_parser() -> None:
    assert props("workflow") == parse.WORKFLOW_KEYS
    assert props("workflow", "$defs", "callStep") == parse.CALL_KEYS
    assert props("workflow", "$defs", "waitStep") == parse.WAIT_KEYS
    assert props("workflow", "$defs", "emitStep") == parse.EMIT_KEYS
    assert props("workflow", "$defs", "notifyStep") == parse.NOTIFY_KEYS
    assert props("workflow", "$defs", "retry") == parse.RETRY_KEYS
    assert props("workflow", "properties", "defaults") == parse.DEFAULTS_KEYS
    emit_body = object_branch(step_def("emitStep")["properties"]["emit"])
    notify_body = object_branch(step_def("notifyStep")["properties"]["notify"])
    assert set(emit_body["properties"]) == parse.EMIT_BODY_KEYS
    assert set(notify_body["properties"]) == parse.NOTIFY_BODY_KEYS
    assert notify_body["properties"]["level"]["enum"] == list(NOTIFY_LEVELS)


def test_sidecar_keys_match_the_parser() -> None:
    assert props("mocks") == sidecars.MOCKS_FILE_KEYS
    assert props("mocks", "$defs", "response") == sidecars.MOCK_RESPONSE_KEYS
    assert props("environments") == sidecars.ENVIRONMENTS_FILE_KEYS
    assert props("environments", "$defs", "environment") == sidecars.ENVIRONMENT_KEYS
    assert props("tests") == sidecars.TESTS_FILE_KEYS
    assert props("tests", "$defs", "case") == sidecars.TEST_CASE_KEYS
    assert props("tests", "$defs", "expect") == sidecars.TEST_EXPECT_KEYS
    expect = schema("tests")["$defs"]["expect"]["properties"]
    assert tuple(expect["status"]["enum"]) == sidecars.RUN_STATUSES
    assert tuple(expect["steps"]["additionalProperties"]["enum"]) == sidecars.STEP_STATUSES
    assert tuple(expect["error"]["properties"]["type"]["enum"]) == sidecars.ERROR_TYPES
    sinks = schema("environments")["$defs"]["sink"]["oneOf"]
    assert {k for s in sinks for k in s["required"]} == set(sidecars.SINK_KINDS)
    tls = schema("environments")["$defs"]["environment"]["properties"]["tls"]
    assert set(tls["properties"]) == sidecars.TLS_KEYS


@pytest.mark.parametrize(
    ("size", "ok"),
    [("512KiB", True), ("10 MiB", True), ("5MB", True), (2048, True), ("12 parsecs", False)],
)
def test_schema_and_loader_agree_on_sizes(size: Any, ok: bool) -> None:
    step = {"service": "A", "action": "b", "maxResponseSize": size, "followRedirects": True}
    doc = {"version": 1, "name": "w", "steps": [step]}
    assert VALIDATORS["workflow"].is_valid(doc) is ok
    assert (parse_workflow(json.dumps(doc)).problems == []) is ok
    env = {"version": 1, "environments": {"e": {"maxResponseSize": size, "tls": {"ca": "x"}}}}
    assert VALIDATORS["environments"].is_valid(env) is ok


def test_mock_key_pattern_matches_the_parser() -> None:
    pattern = schema("mocks")["$defs"]["table"]["propertyNames"]["pattern"]
    assert pattern == sidecars.TARGET_RE.pattern


# --- same verdict on random documents ----------------------------------------------------------

ident = st.builds(
    lambda w, n: f"{w}{n}",
    st.sampled_from(["policy", "check", "a", "x_y", "Go"]),
    st.sampled_from(["", "2", "Run", "_b"]),
)
text = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=20)
duration = st.one_of(
    st.integers(1, 120),
    st.builds(lambda n, u: f"{n}{u}", st.integers(1, 900), st.sampled_from(["ms", "s", "m", "h"])),
)
retry = st.fixed_dictionaries(
    {},
    optional={
        "attempts": st.integers(1, 6),
        "delay": duration,
        "backoff": st.sampled_from([1, 1.5, 2, 3]),
        "maxDelay": duration,
        "jitter": st.sampled_from(["full", "none"]),
        "on": st.lists(
            st.sampled_from(["connection", "timeout", "5xx", "429", 503, 409]),
            min_size=1,
            max_size=3,
            unique=True,
        ),
    },
)
call_extra = st.fixed_dictionaries(
    {},
    optional={
        "method": st.sampled_from(["GET", "post", "Put", "DELETE"]),
        "path": st.sampled_from(["/x", "/items/${ input.id }", "${ input.path }"]),
        "with": st.sampled_from([{"id": "${ input.id }"}, [1, 2], "text", None]),
        "query": st.just({"q": "${ input.q }"}),
        "headers": st.just({"X-Trace": "${ run.id }"}),
        "timeout": duration,
        "retry": retry,
        "onError": st.sampled_from(["fail", "continue"]),
        "output": st.sampled_from(["${ body }", {"s": "${ status }"}]),
        "if": st.just("${ input.go }"),
        "description": text,
    },
)


@st.composite
def steps(draw: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i in range(draw(st.integers(1, 5))):
        sid = f"s{i}"
        kind = draw(st.sampled_from(["call", "call", "wait", "emit", "notify"]))
        step: dict[str, Any] = {"id": sid}
        if i and draw(st.booleans()):
            step["after"] = draw(
                st.lists(st.sampled_from([f"s{j}" for j in range(i)]), unique=True, max_size=2)
            )
        if kind == "call":
            step.update(service=draw(ident).capitalize(), action=draw(ident))
            step.update(draw(call_extra))
            if draw(st.booleans()):
                step.update(foreach="${ input.items }", maxConcurrency=draw(st.integers(1, 8)))
        elif kind == "wait":
            step["wait"] = draw(duration)
        elif kind == "emit":
            step["emit"] = draw(
                st.one_of(
                    ident, st.builds(lambda e: {"event": e, "data": {"id": "${ input.id }"}}, ident)
                )
            )
        else:
            step["notify"] = draw(
                st.one_of(
                    st.just("hello ${ input.id }"),
                    st.builds(
                        lambda lv: {"message": "done", "level": lv}, st.sampled_from(NOTIFY_LEVELS)
                    ),
                )
            )
        out.append(step)
    return out


@st.composite
def workflows(draw: Any) -> dict[str, Any]:
    wf: dict[str, Any] = {"version": 1, "name": draw(ident), "steps": draw(steps())}
    wf.update(
        draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "description": text,
                    "trigger": st.one_of(ident, st.lists(ident, min_size=1, max_size=2)),
                    "input": st.just({"type": "object", "required": ["id"]}),
                    "timeout": duration,
                    "defaults": st.fixed_dictionaries(
                        {},
                        optional={
                            "timeout": duration,
                            "retry": retry,
                            "onError": st.sampled_from(["fail", "continue"]),
                            "headers": st.just({"X-Team": "policy"}),
                        },
                    ),
                    "output": st.just("${ steps }"),
                },
            )
        )
    )
    if draw(st.booleans()):
        wf["layout"] = {s["id"]: [draw(st.integers(-500, 500)), 0] for s in wf["steps"]}
    return wf


def _set(path: tuple[Any, ...], value: Any) -> Any:
    def go(doc: dict[str, Any]) -> dict[str, Any]:
        node: Any = doc
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value
        return doc

    return go


# Each breaks a rule that both the schema and the loader state.
BREAKS = [
    _set(("colour",), "red"),
    _set(("version",), 2),
    _set(("name",), "9lives"),
    _set(("trigger",), "bad event"),
    _set(("timeout",), "10 sec"),
    _set(("timeout",), "0s"),
    _set(("steps", 0, "iff"), "${ input.go }"),
    _set(("steps", 0, "id"), "1st"),
    _set(("steps", 0, "if"), "input.go"),
    _set(("layout",), {"s0": [1]}),
    _set(("defaults",), {"retry": {"attempts": 0}}),
    _set(("defaults",), {"retry": {"jitter": "half"}}),
    _set(("defaults",), {"onError": "ignore"}),
    _set(("defaults",), {"retries": 3}),
    _set(("input",), ["not", "a", "schema"]),
    _set(("steps", 0), {"id": "s0", "notify": {"message": "m", "level": "loud"}}),
    _set(("steps", 0), {"id": "s0", "notify": {"level": "info"}}),
    _set(("steps", 0), {"id": "s0", "wait": "5s", "notify": "two kinds"}),
    _set(("steps", 0), {"id": "s0"}),
    _set(("steps", 0), {"id": "s0", "emit": {"event": "bad event"}}),
    _set(("steps", 0), {"id": "s0", "emit": {"data": 1}}),
    _set(("steps", 0), {"id": "s0", "wait": "later"}),
]
CALL_BREAKS = [
    _set(("steps", 0, "method"), "FETCH"),
    _set(("steps", 0, "path"), "no-slash"),
    _set(("steps", 0, "maxConcurrency"), 0),
    _set(("steps", 0, "retry"), {"on": ["sometimes"]}),
    _set(("steps", 0, "retry"), {"backoff": 0.5}),
    _set(("steps", 0, "service"), "Policy Service"),
]


def loader_accepts(doc: dict[str, Any]) -> tuple[bool, list[str]]:
    loaded = parse_workflow(json.dumps(doc, ensure_ascii=False), "<sample>")
    errors = [str(p) for p in loaded.problems if p.severity == "error"]
    return not errors, errors


def schema_accepts(kind: str, doc: dict[str, Any]) -> tuple[bool, list[str]]:
    errors = [f"{e.json_path}: {e.message}" for e in VALIDATORS[kind].iter_errors(doc)]
    return not errors, errors


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workflows())
@example(
    {
        "version": 1,
        "name": "plain",
        "steps": [{"id": "s0", "service": "Svc", "action": "get"}, {"id": "s1", "wait": "1s"}],
    }
)
def test_schema_and_loader_agree_on_random_workflows(doc: dict[str, Any]) -> None:
    assert schema_accepts("workflow", doc) == (True, [])
    assert loader_accepts(doc) == (True, [])
    first = doc["steps"][0]
    breaks = BREAKS + (CALL_BREAKS if "service" in first else [])
    if "service" in first and "foreach" not in first:
        breaks.append(_set(("steps", 0, "maxConcurrency"), 2))
    for i, brk in enumerate(breaks):
        broken = brk(json.loads(json.dumps(doc)))
        assert not VALIDATORS["workflow"].is_valid(broken), f"schema accepts break {i}: {broken}"
        assert not loader_accepts(broken)[0], f"loader accepts break {i}: {broken}"


responses = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "status": st.integers(100, 599),
            "headers": st.just({"Retry-After": "1"}),
            "body": st.sampled_from([{"id": "${ request.body.id }"}, "ok", [1], None]),
            "delay": duration,
        },
    ),
    st.fixed_dictionaries(
        {"fault": st.sampled_from(["timeout", "connection"])}, optional={"delay": duration}
    ),
)
tables = st.dictionaries(
    st.builds(lambda s, a: f"{s.capitalize()}.{a}", ident, ident),
    st.one_of(responses, st.lists(responses, min_size=1, max_size=3)),
    max_size=3,
)
MOCK_BREAKS = [
    {"status": 99},
    {"fault": "slow"},
    {"fault": "timeout", "status": 200},
    {"delay": "soon"},
    {"statuz": 200},
    [],
]


@settings(max_examples=40, deadline=None)
@given(tables, st.dictionaries(ident, tables, max_size=2), st.sampled_from(MOCK_BREAKS))
def test_schema_and_loader_agree_on_random_mocks(
    table: dict[str, Any], scenarios: dict[str, Any], bad: Any
) -> None:
    doc: dict[str, Any] = {"version": 1, "mocks": table}
    if scenarios:
        doc["scenarios"] = scenarios
    assert schema_accepts("mocks", doc)[0]
    assert parse_mocks(json.dumps(doc), "<sample>").ok
    broken = json.loads(json.dumps(doc))
    broken["mocks"]["Broken.call"] = bad
    assert not VALIDATORS["mocks"].is_valid(broken)
    assert not parse_mocks(json.dumps(broken), "<sample>").ok


def test_every_ref_in_the_schemas_resolves_offline() -> None:
    # the workflow schema referred to the online draft 2020-12 metaschema for `input`, so
    # yaml-language-server offline showed only "Problems loading reference…"
    import json

    schema_dir = Path(__file__).resolve().parents[2] / "resources" / "schema"
    for path in sorted(schema_dir.glob("*.json")):
        doc = json.loads(path.read_text())
        stack = [doc]
        refs = []
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                if "$ref" in node:
                    refs.append(node["$ref"])
                stack.extend(node.values())
            elif isinstance(node, list):
                stack.extend(node)
        for ref in refs:
            assert ref.startswith("#/"), (path.name, ref)
            target: object = doc
            for part in ref[2:].split("/"):
                assert isinstance(target, dict) and part in target, (path.name, ref)
                target = target[part]


def test_the_environments_schema_knows_engine_temporal() -> None:
    check = Draft202012Validator(schema("environments"))

    def errors(env: dict[str, Any]) -> int:
        return len(list(check.iter_errors({"version": 1, "environments": {"c": env}})))

    assert errors({"engine": "temporal", "temporal": {"address": "127.0.0.1:7233"}}) == 0
    assert errors({"engine": "local"}) == 0
    assert errors({"engine": "temporal"}) == 1  # the address is needed
    assert errors({"engine": "temporal", "temporal": {"address": "nowhere"}}) == 1
    assert errors({"engine": "ray"}) == 1
