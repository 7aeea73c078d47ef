"""The canonical writer: stable bytes, defaults left out, and any valid workflow round-trips."""

from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import (
    CallDefaults,
    CallStep,
    EmitStep,
    NotifyStep,
    Retry,
    WaitStep,
    Workflow,
    dump_data,
    dump_mocks,
    dump_workflow,
    parse_mocks,
    parse_workflow,
    read_yaml,
)

CANONICAL = """\
version: 1
name: policyChange
description: Apply an AI-suggested policy change.
trigger: policyChangeSuggested
input:
  type: object
  required: [policyId]
timeout: 2m
defaults:
  timeout: 10s
  retry:
    attempts: 3
    delay: 500ms
    backoff: 2
    maxDelay: 10s
    jitter: full
steps:
  - service: PolicyService
    action: updatePolicy
  - id: check
    service: ComplianceService
    action: runCheck
    with:
      policyId: ${ input.policyId }
  - id: passed
    if: ${ steps.check.output.status == 'pass' }
    notify:
      message: Policy ${ input.policyId } passed
      level: success
  - id: failed
    after: [check]
    if: ${ steps.check.output.status != 'pass' }
    notify:
      message: |
        Policy ${ input.policyId } failed.
        See the compliance report.
      level: error
  - after: [passed, failed]
    wait: 250ms
output: ${ steps.check.output }
layout:
  updatePolicy: [0, 0]
  check: [240, 0]
  passed: [480, -60]
  failed: [480, 60]
"""


def test_canonical_file_gives_the_same_bytes() -> None:
    loaded = parse_workflow(CANONICAL)
    assert loaded.problems == []
    assert dump_workflow(loaded.model) == CANONICAL


def test_non_canonical_file_is_normalised_and_stable() -> None:
    messy = """\
version: 1
name: w
steps:
- {action: a, service: S, id: a, after: []}
- {service: S, action: b, after: [a], timeout: 1.5}
- {wait: 60}
layout: {b: [1.0, 2.5], a: [0, 0], gone: [9, 9]}
"""
    once = dump_workflow(parse_workflow(messy).model)
    assert (
        once
        == """\
version: 1
name: w
steps:
  - service: S
    action: a
  - service: S
    action: b
    timeout: 1500ms
  - wait: 1m
layout:
  a: [0, 0]
  b: [1, 2.5]
"""
    )
    assert dump_workflow(parse_workflow(once).model) == once


def test_ids_written_only_where_they_differ() -> None:
    wf = Workflow(
        name="w",
        steps=[
            CallStep(id="ping", service="S", action="ping"),
            CallStep(id="ping_2", after=["ping"], service="S", action="ping"),
            CallStep(id="custom", after=["ping_2"], service="S", action="ping"),
            WaitStep(id="wait_2", after=["custom"], wait=1),
        ],
    )
    text = dump_workflow(wf)
    assert text.count("id: ") == 2 and "id: custom" in text and "id: wait_2" in text
    assert parse_workflow(text).model == wf


def test_strings_that_look_like_other_types_are_quoted() -> None:
    data = {
        "a": "on",
        "b": "1e3",
        "c": "2026-11-25",
        "d": "null",
        "e": "",
        "f": "yes",
        "g": "0o17",
        "h": "a: b",
        "i": "x #y",
        "j": "multi\nline\n",
        "k": "tab\tx",
        "l": " lead",
        "m": "500ms",
        "n": "${ {a: b} }",
        "o": "\u0001",
    }
    text = dump_data(data)
    back, _ = read_yaml(text)
    assert back == data
    assert "m: 500ms" in text and "a: 'on'" in text


def test_mocks_round_trip() -> None:
    text = """\
version: 1
mocks:
  PolicyService.updatePolicy:
    status: 200
    body:
      policyId: ${ request.body.policyId }
      version: 7
    delay: 20ms
  ComplianceService.runCheck:
    - fault: timeout
    - status: 503
      headers:
        Retry-After: '1'
    - status: 200
      body:
        status: pass
  NotificationService.sendUpdate:
    status: 202
scenarios:
  complianceFails:
    ComplianceService.runCheck:
      status: 200
      body:
        status: fail
"""
    loaded = parse_mocks(text)
    assert loaded.problems == []
    m = loaded.model
    assert m is not None
    assert [r.fault for r in m.mocks["ComplianceService.runCheck"]] == ["timeout", None, None]
    assert m.mocks["PolicyService.updatePolicy"][0].delay == 20
    assert dump_mocks(m) == text


# --- property: any valid workflow round-trips --------------------------------------------------

ident = st.text(string.ascii_letters, min_size=1, max_size=6)
# plain text: a `${` in it would open a template (a valid file writes a literal one as `$${`)
text_value = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12).filter(
    lambda t: "${" not in t
)
# a header value is printable ASCII on one line (validate refuses anything else)
header_value = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=12).filter(
    lambda t: "${" not in t
)
json_scalar = (
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | text_value
    | st.floats(allow_nan=False, allow_infinity=False, width=32)
)
json_value = st.recursive(
    json_scalar,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.text(string.ascii_letters + "_-", min_size=1, max_size=6), inner, max_size=3
        )
    ),
    max_leaves=8,
)
duration = st.sampled_from([250, 1000, 10_000, 90_000, 120_000, 3_600_000, 1500, 1])
expr = st.sampled_from(
    [
        "${ input.x }",
        "${ input.a == 'b' }",
        "Policy ${ input.id } done",
        "${ length(input.items) > `0` }",
        "${ run.id }",
    ]
)
retry = st.builds(
    Retry,
    attempts=st.none() | st.integers(1, 9),
    delay=st.none() | duration,
    backoff=st.none() | st.sampled_from([1, 2, 1.5]),
    max_delay=st.none() | duration,
    jitter=st.none() | st.sampled_from(["full", "none"]),
    on=st.none()
    | st.lists(
        st.sampled_from(["connection", "timeout", "5xx", 429, 503]), max_size=3, unique=True
    ),
)


@st.composite
def workflows(draw: st.DrawFn) -> Workflow:
    n = draw(st.integers(1, 6))
    steps = []
    for i in range(n):
        kind = draw(st.sampled_from(["call", "call", "wait", "emit", "notify"]))
        after = sorted(set(draw(st.lists(st.integers(0, max(i - 1, 0)), max_size=2)))) if i else []
        common = {"if_": draw(st.none() | st.just("${ input.go }"))}
        if kind == "call":
            foreach = draw(st.none() | st.just("${ input.items }"))
            s = CallStep(
                service=draw(ident),
                action=draw(ident),
                method=draw(st.none() | st.sampled_from(["GET", "PUT"])),
                path=draw(st.none() | st.just("/x/${ input.id }")),
                with_=draw(st.none() | json_value),
                query=draw(st.none() | st.dictionaries(ident, expr, max_size=2)),
                headers=draw(st.none() | st.dictionaries(ident, header_value, max_size=2)),
                foreach=foreach,
                max_concurrency=draw(st.none() | st.integers(1, 5)) if foreach else None,
                timeout=draw(st.none() | duration),
                retry=draw(st.none() | retry),
                on_error=draw(st.none() | st.sampled_from(["fail", "continue"])),
                output=draw(st.none() | st.just("${ body }")),
                **common,
            )
        elif kind == "wait":
            s = WaitStep(wait=draw(duration), **common)
        elif kind == "emit":
            s = EmitStep(event=draw(ident), data=draw(st.none() | json_value), **common)
        else:
            s = NotifyStep(
                message=draw(text_value.filter(bool) | expr),
                level=draw(st.sampled_from(["info", "success", "warning", "error"])),
                **common,
            )
        s.description = draw(st.none() | text_value.filter(bool))
        steps.append((s, after))
    ids: list[str] = []
    from engine import base_id, default_step_ids

    explicit = [draw(st.none() | ident.map(lambda x: "x" + x)) for _ in steps]
    # explicit ids must be unique
    seen: set[str] = set()
    for k, e in enumerate(explicit):
        if e in seen:
            explicit[k] = None
        elif e:
            seen.add(e)
    ids = default_step_ids([base_id(s) for s, _ in steps], explicit)
    out = []
    for i, ((s, after), sid) in enumerate(zip(steps, ids)):
        s.id = sid
        s.after = [ids[a] for a in after] if i else []
        if i and draw(st.booleans()):
            s.after = [ids[i - 1]]
        out.append(s)
    return Workflow(
        name=draw(ident),
        description=draw(st.none() | text_value.filter(bool)),
        trigger=draw(st.lists(ident, max_size=2)),
        input=draw(st.none() | st.just({"type": "object"})),
        timeout=draw(st.none() | duration),
        defaults=CallDefaults(timeout=draw(st.none() | duration), retry=draw(st.none() | retry)),
        steps=out,
        output=draw(st.none() | json_value),
        layout={
            s.id: (draw(st.integers(-500, 500)), draw(st.integers(-500, 500)))
            for s in out
            if draw(st.booleans())
        },
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workflows())
def test_any_valid_workflow_round_trips(wf: Workflow) -> None:
    text = dump_workflow(wf)
    loaded = parse_workflow(text)
    assert loaded.errors == [], (text, loaded.errors)
    assert loaded.model == wf
    assert dump_workflow(loaded.model) == text
