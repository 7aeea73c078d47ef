"""Loading workflows: defaults (ids, after), every rule of validation, located problems."""

from __future__ import annotations

import textwrap
import time

import pytest

from engine import (
    CallStep,
    LoadError,
    NotifyStep,
    Retry,
    WaitStep,
    Workflow,
    load_workflow,
    parse_workflow,
    resolve_call,
    validate_workflow,
)

SPEC_EXAMPLE = """\
version: 1
name: policyChange
description: Apply an AI-suggested policy change, check compliance, notify admins.
trigger: policyChangeSuggested
input:
  type: object
  required: [policyId]
timeout: 2m
defaults:
  timeout: 10s
  retry: {attempts: 3, delay: 500ms, backoff: 2, maxDelay: 10s, jitter: full}
steps:
  - service: PolicyService
    action: updatePolicy
  - id: check
    service: ComplianceService
    action: runCheck
    with: {policyId: "${ input.policyId }"}
  - id: notify
    service: NotificationService
    action: sendUpdate
    with:
      message: "Policy ${ input.policyId }: compliance ${ steps.check.output.status }"
output: "${ steps.check.output }"
layout:
  updatePolicy: [0, 0]
  check: [240, 0]
"""


def problems(text: str) -> list[str]:
    t0 = time.perf_counter()
    loaded = parse_workflow(textwrap.dedent(text), "wf.yaml")
    assert time.perf_counter() - t0 < 1.0
    return [str(p) for p in loaded.problems]


def test_spec_example_loads_with_defaults_applied() -> None:
    loaded = parse_workflow(SPEC_EXAMPLE, "policy.yaml")
    assert loaded.problems == []
    wf = loaded.model
    assert wf is not None
    assert wf.ids == ["updatePolicy", "check", "notify"]
    assert [s.after for s in wf.steps] == [[], ["updatePolicy"], ["check"]]
    assert wf.trigger == ["policyChangeSuggested"]
    assert wf.timeout == 120_000
    first = wf.steps[0]
    assert isinstance(first, CallStep)
    call = resolve_call(first, wf.defaults)
    assert call.method == "POST" and call.path == "/updatePolicy" and call.timeout == 10_000
    assert call.retry.attempts == 3 and call.retry.delay == 500 and call.retry.max_delay == 10_000
    assert wf.layout == {"updatePolicy": (0, 0), "check": (240, 0)}


def test_retry_merges_key_by_key_over_defaults() -> None:
    wf = parse_workflow(
        SPEC_EXAMPLE.replace(
            "    action: runCheck\n", "    action: runCheck\n    retry: {attempts: 5}\n"
        )
    ).model
    assert wf is not None
    step = wf.step("check")
    assert isinstance(step, CallStep)
    policy = resolve_call(step, wf.defaults).retry
    assert policy.attempts == 5 and policy.delay == 500 and policy.backoff == 2
    assert policy.on == ("connection", "timeout", "5xx", "429")


def test_retry_defaults_when_set_without_defaults() -> None:
    step = CallStep(id="a", service="S", action="a", retry=Retry(attempts=4))
    policy = resolve_call(step).retry
    got = (policy.delay, policy.backoff, policy.max_delay, policy.jitter)
    assert got == (1000, 2, 30_000, "full")
    assert resolve_call(CallStep(id="b", service="S", action="b")).retry.attempts == 1


def test_default_ids_repeat_with_suffixes_and_skip_taken() -> None:
    wf = parse_workflow("""\
version: 1
name: w
steps:
  - {service: S, action: ping}
  - {service: S, action: ping}
  - {wait: 1s}
  - {id: ping_3, service: S, action: other}
  - {service: S, action: ping}
  - {notify: {message: hi}}
""").model
    assert wf is not None
    assert wf.ids == ["ping", "ping_2", "wait", "ping_3", "ping_4", "notify"]


def test_after_empty_starts_at_once_and_string_after() -> None:
    wf = parse_workflow("""\
version: 1
name: w
steps:
  - {service: S, action: a}
  - {service: S, action: b, after: []}
  - {service: S, action: c, after: a}
""").model
    assert wf is not None
    assert [s.after for s in wf.steps] == [[], [], ["a"]]


def test_unknown_key_suggests_the_nearest() -> None:
    out = problems("""\
        version: 1
        name: w
        steps:
          - servce: PolicyService
            action: updatePolicy
        """)
    assert out == [
        "wf.yaml:4:5: steps[0].servce: unknown key 'servce' in a call step; did you mean 'service'?"
    ]


def test_top_level_unknown_key() -> None:
    out = problems("version: 1\nname: w\nstep: []\nsteps: []\n")
    assert any("wf.yaml:3:1: step: unknown key 'step'" in p and "'steps'" in p for p in out)


def test_cycle_is_named() -> None:
    out = problems("""\
        version: 1
        name: w
        steps:
          - {id: a, service: S, action: a, after: [c]}
          - {id: b, service: S, action: b}
          - {id: c, service: S, action: c}
        """)
    assert len(out) == 1
    assert out[0].startswith("wf.yaml:4:")
    assert "cycle: a → c → b → a" in out[0] or "cycle" in out[0] and "a" in out[0]


def test_bad_duration() -> None:
    out = problems("""\
        version: 1
        name: w
        steps:
          - {service: S, action: a, timeout: 5 minutes}
        """)
    assert len(out) == 1
    assert out[0].startswith("wf.yaml:4:38: steps[0].timeout:")
    assert "500ms, 10s, 2m or 1h" in out[0]


def test_bad_expression_is_located() -> None:
    out = problems("""\
        version: 1
        name: w
        steps:
          - service: S
            action: a
            if: "${ input.x == }"
        """)
    assert len(out) == 1
    assert out[0].startswith("wf.yaml:6:9: steps[0].if:")
    assert "ends too early" in out[0]


def test_unknown_step_reference_suggests() -> None:
    out = problems("""\
        version: 1
        name: w
        steps:
          - {id: check, service: S, action: a}
          - {service: S, action: b, with: {x: "${ steps.nope.output }"}}
          - {service: S, action: c, with: {x: "${ steps.chek.output }"}}
        """)
    assert len(out) == 2
    assert "wf.yaml:5:" in out[0] and "'steps.nope' names no step" in out[0]
    assert "did you mean 'check'" in out[1]


def test_reference_to_a_step_that_runs_later_warns() -> None:
    loaded = parse_workflow("""\
version: 1
name: w
steps:
  - {id: a, service: S, action: a, with: {x: "${ steps.b.output }"}}
  - {id: b, service: S, action: b, after: []}
""")
    assert [p.severity for p in loaded.problems] == ["warning"]
    assert "read before it has run" in loaded.problems[0].message
    assert loaded.ok  # warnings do not stop a load


def test_scope_rules() -> None:
    out = problems("""\
        version: 1
        name: w
        steps:
          - service: S
            action: a
            with: {x: "${ item }", t: "${ secrets.TOKEN }"}
            output: "${ body.x }"
          - notify: {message: "${ secrets.TOKEN }"}
          - service: S
            action: b
            foreach: "${ input.list }"
            maxConcurrency: 2
            with: {x: "${ item.id }", i: "${ index }"}
          - {service: S, action: c, maxConcurrency: 2}
        """)
    assert len(out) == 3
    assert "'item' is available only in a step with 'foreach'" in out[0]
    assert "'secrets' is available only in path, query, headers and with" in out[1]
    assert "'maxConcurrency' only applies with 'foreach'" in out[2]


def test_every_problem_is_collected() -> None:
    out = problems("""\
        version: 1
        name: 9bad
        steps:
          - {id: a, service: S, action: a, onError: ignore, method: FETCH}
          - {id: a, service: S, action: b, retry: {attempts: 0, jitter: some}}
          - {wait: soon}
          - {notify: {message: hi, level: loud}}
        """)
    joined = "\n".join(out)
    for needle in (
        "not a valid workflow name",
        "onError",
        "not an HTTP method",
        "used by two steps",
        "'attempts' must be at least 1",
        "'jitter'",
        "'wait'",
        "'level' must be one of",
    ):
        assert needle in joined, needle


def test_missing_version_and_wrong_version() -> None:
    assert any("add 'version: 1'" in p for p in problems("name: w\nsteps: []\n"))
    assert any("'version' must be 1" in p for p in problems("version: 2\nname: w\nsteps: []\n"))


def test_step_of_two_kinds() -> None:
    out = problems("""\
        version: 1
        name: w
        steps:
          - {service: S, action: a, wait: 5s}
        """)
    assert "one kind only" in out[0]


def test_input_schema_must_be_valid() -> None:
    out = problems("version: 1\nname: w\ninput: {type: objekt}\nsteps: []\n")
    assert any("wf.yaml:3:" in p and "not a valid JSON Schema" in p for p in out)


def test_load_workflow_raises_with_every_error(tmp_path) -> None:
    f = tmp_path / "w.yaml"
    f.write_text("version: 1\nname: w\nsteps:\n  - {servce: S, action: a}\n  - {wait: x}\n")
    with pytest.raises(LoadError) as info:
        load_workflow(f)
    assert len(info.value.problems) == 2
    assert str(info.value).count(str(f)) == 2


def test_load_missing_file(tmp_path) -> None:
    with pytest.raises(LoadError, match="no such file"):
        load_workflow(tmp_path / "nope.yaml")


def test_validate_model_without_file() -> None:
    wf = Workflow(
        name="w",
        steps=[
            CallStep(id="a", service="S", action="a"),
            WaitStep(id="a", after=["a"], wait=1),
            NotifyStep(id="n", after=["zz"], message="${ steps.a.output }"),
            CallStep(id="empty", after=["n"], service="", action="x"),
        ],
    )
    msgs = [p.message for p in validate_workflow(wf)]
    assert "a call step needs 'service': name the service" in msgs
    assert any("used by two steps" in m for m in msgs)
    assert any("'zz'" in m for m in msgs)


def test_open_for_editing_keeps_rule_problems_but_refuses_shape_problems(tmp_path) -> None:
    from engine import open_workflow

    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "version: 1\nname: w\nsteps:\n  - {id: a, service: S, action: a, after: [zz]}\n"
    )
    loaded = open_workflow(rules)
    assert loaded.model is not None and loaded.complete and not loaded.ok
    assert "'zz'" in loaded.errors[0].message
    shape = tmp_path / "shape.yaml"
    shape.write_text("version: 1\nname: w\nsteps:\n  - {servce: S, action: a}\n")
    with pytest.raises(LoadError, match="servce"):
        open_workflow(shape)


@pytest.mark.parametrize("pos", ["[.nan, 0]", "[0, .inf]", "[1e308, 1e308]", "[-200000000, 0]"])
def test_layout_positions_are_finite_and_in_range(pos: str) -> None:
    # .nan/.inf segfaulted the designer; 1e308 spun it to 6.6 GB
    loaded = parse_workflow(
        f"version: 1\nname: w\nsteps:\n  - notify: hi\nlayout:\n  notify: {pos}\n", "w.yaml"
    )
    assert [str(p) for p in loaded.errors] == [
        f"w.yaml:6:11: layout.notify: a layout position is two numbers from -100,000,000 to "
        f"100,000,000, not {loaded.errors[0].message.rsplit('not ', 1)[1]}"
    ]
    assert loaded.model is not None and loaded.model.layout == {}
    assert not loaded.complete  # the designer will not open it and drop the entry silently
