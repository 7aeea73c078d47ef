"""The runner's step graph: order, concurrency, if/skip propagation, joins, onError, run result."""

from __future__ import annotations

import asyncio

import pytest

from engine import (
    CallStep,
    Engine,
    MockTransport,
    Notification,
    RunFinished,
    RunStarted,
    StepFinished,
    StepStarted,
    ValidationError,
    VirtualClock,
    Workflow,
)
from tests.engine.test_run_support import START, arun, mocks_file, run_mocked, workflow

DELAYS = """
version: 1
mocks:
  S.a: {body: {n: 1}, delay: 1s}
  S.b: {body: {n: 2}, delay: 2s}
  S.c: {body: {n: 3}, delay: 3s}
  S.d: {body: {n: 4}, delay: 1s}
"""


def test_plain_list_is_a_sequence() -> None:
    out = arun(
        run_mocked(
            """
        version: 1
        name: seq
        steps:
          - {service: S, action: a}
          - {service: S, action: b}
          - {service: S, action: c}
    """,
            DELAYS,
        )
    )
    assert out.result.status == "succeeded"
    starts = [out.t(out.started(s)[0]) for s in ("a", "b", "c")]
    assert starts == [0, 1, 3]  # each waits for the one before
    assert out.result.duration_ms == 6000
    assert out.json["output"] == {"a": {"n": 1}, "b": {"n": 2}, "c": {"n": 3}}


def test_steps_after_the_same_step_run_concurrently() -> None:
    out = arun(
        run_mocked(
            """
        version: 1
        name: fan
        steps:
          - {service: S, action: a}
          - {service: S, action: b, after: [a]}
          - {service: S, action: c, after: [a]}
          - {service: S, action: d, after: [b, c]}
    """,
            DELAYS,
        )
    )
    assert out.result.status == "succeeded"
    assert out.t(out.started("b")[0]) == out.t(out.started("c")[0]) == 1
    # d waits for the slower branch (c: 1 + 3 s)
    assert out.t(out.started("d")[0]) == 4
    assert out.result.duration_ms == 5000
    assert out.result.steps["c"].duration_ms == 3000


def test_empty_after_starts_at_once() -> None:
    out = arun(
        run_mocked(
            """
        version: 1
        name: par
        steps:
          - {service: S, action: c}
          - {service: S, action: a, after: []}
    """,
            DELAYS,
        )
    )
    assert out.t(out.started("a")[0]) == 0
    assert out.result.duration_ms == 3000


SWITCH = """
version: 1
name: switch
steps:
  - {service: S, action: a}
  - {id: yes, service: S, action: b, after: [a], if: "${ steps.a.output.n == `1` }"}
  - {id: no, service: S, action: c, after: [a], if: "${ steps.a.output.n != `1` }"}
  - {id: onlyNo, service: S, action: d, after: [no]}
  - {id: join, service: S, action: d, after: [yes, no]}
"""


def test_switch_skips_one_branch_and_propagates_and_joins() -> None:
    out = arun(run_mocked(SWITCH, DELAYS))
    assert out.statuses() == {
        "a": "succeeded",
        "yes": "succeeded",
        "no": "skipped",
        "onlyNo": "skipped",
        "join": "succeeded",
    }
    assert out.result.status == "succeeded"
    assert out.calls == {"S.a": 1, "S.b": 1, "S.d": 1}
    # the skipped steps were never started, yet each got its StepFinished
    assert out.started("no") == [] and out.finished("no").status == "skipped"
    assert out.finished("onlyNo").duration_ms == 0
    # the join ran once its live branch ended (1 s + 2 s)
    assert out.t(out.started("join")[0]) == 3


def test_step_after_only_skipped_steps_is_skipped_even_if_its_if_is_true() -> None:
    out = arun(
        run_mocked(
            """
        version: 1
        name: allskip
        steps:
          - {service: S, action: a, if: "${ `false` }"}
          - {service: S, action: b, if: "${ `true` }"}
    """,
            DELAYS,
        )
    )
    assert out.statuses() == {"a": "skipped", "b": "skipped"}
    assert out.result.status == "succeeded"
    assert out.calls == {}


def test_if_sees_jmespath_truth() -> None:
    out = arun(
        run_mocked(
            """
        version: 1
        name: truth
        steps:
          - {id: emptyList, service: S, action: a, after: [], if: "${ input.list }"}
          - {id: emptyText, service: S, action: a, after: [], if: "${ input.text }"}
          - {id: zero, service: S, action: a, after: [], if: "${ input.zero }"}
    """,
            DELAYS,
            {"list": [], "text": "", "zero": 0},
        )
    )
    assert out.statuses() == {"emptyList": "skipped", "emptyText": "skipped", "zero": "succeeded"}


def test_failed_step_fails_the_run_and_cancels_the_rest() -> None:
    out = arun(
        run_mocked(
            """
        version: 1
        name: boom
        steps:
          - {service: S, action: a}
          - {id: bad, service: S, action: b, after: [a]}
          - {id: slow, service: S, action: c, after: [a]}
          - {id: later, service: S, action: d, after: [bad, slow]}
    """,
            """
        version: 1
        mocks:
          S.a: {delay: 1s}
          S.b: {status: 404, body: {error: nope}, delay: 1s}
          S.c: {delay: 10s}
          S.d: {}
    """,
        )
    )
    assert out.result.status == "failed"
    assert out.statuses() == {
        "a": "succeeded",
        "bad": "failed",
        "slow": "cancelled",
        "later": "cancelled",
    }
    err = out.json["error"]
    assert err["type"] == "http" and err["step"] == "bad"
    assert "404" in err["message"]
    assert out.json["steps"]["bad"]["error"]["status"] == 404
    # the run ended when bad failed, not when slow would have finished
    assert out.result.duration_ms == 2000
    assert out.result.steps["slow"].duration_ms == 1000
    assert out.calls.get("S.d") is None
    assert out.json["output"] is None


def test_on_error_continue_lets_later_steps_test_the_status() -> None:
    out = arun(
        run_mocked(
            """
        version: 1
        name: cont
        steps:
          - {id: flaky, service: S, action: b, onError: continue}
          - id: fallback
            service: S
            action: c
            if: "${ steps.flaky.status == 'failed' }"
            with: {why: "${ steps.flaky.error.type }", code: "${ steps.flaky.error.status }"}
    """,
            """
        version: 1
        mocks:
          S.b: {status: 500}
          S.c: {body: "${ request.body }"}
    """,
        )
    )
    assert out.result.status == "succeeded"
    assert out.statuses() == {"flaky": "failed", "fallback": "succeeded"}
    assert out.result.steps["fallback"].output == {"why": "http", "code": 500}
    assert out.result.error is None


def test_defaults_on_error_continue_applies_to_every_call() -> None:
    out = arun(
        run_mocked(
            """
        version: 1
        name: defcont
        defaults: {onError: continue}
        steps:
          - {service: S, action: b}
          - {service: S, action: a}
    """,
            """
        version: 1
        mocks:
          S.b: {status: 503}
          S.a: {}
    """,
        )
    )
    assert out.result.status == "succeeded"
    assert out.statuses() == {"b": "failed", "a": "succeeded"}


def test_every_step_is_listed_and_each_finishes_once() -> None:
    out = arun(run_mocked(SWITCH, DELAYS))
    finished = [e.step for e in out.events if isinstance(e, StepFinished)]
    assert sorted(finished) == sorted(["a", "yes", "no", "onlyNo", "join"])
    assert isinstance(out.events[0], RunStarted) and isinstance(out.events[-1], RunFinished)
    assert list(out.json["steps"]) == ["a", "yes", "no", "onlyNo", "join"]
    assert set(out.json) == {
        "run",
        "workflow",
        "status",
        "started",
        "duration_ms",
        "steps",
        "output",
        "error",
    }
    assert set(out.json["steps"]["a"]) == {"status", "attempts", "output", "error", "duration_ms"}
    assert out.json["started"] == "2027-01-15T08:00:00Z"


def test_workflow_output_expression() -> None:
    out = arun(
        run_mocked(
            """
        version: 1
        name: outp
        steps:
          - {service: S, action: a}
        output: {n: "${ steps.a.output.n }", who: "${ run.workflow }", id: "${ run.id }"}
    """,
            DELAYS,
        )
    )
    assert out.json["output"] == {"n": 1, "who": "outp", "id": out.result.run_id}


def test_input_schema_mismatch_runs_no_step() -> None:
    out = arun(
        run_mocked(
            """
        version: 1
        name: schema
        input:
          type: object
          required: [policyId]
          properties: {policyId: {type: string, pattern: '^P-[0-9]+$'}}
        steps:
          - {service: S, action: a}
    """,
            DELAYS,
            {"policyId": "X-1"},
        )
    )
    assert out.result.status == "failed"
    assert out.json["error"]["type"] == "input"
    assert "input.policyId" in out.json["error"]["message"]
    assert out.calls == {}
    assert out.statuses() == {"a": "cancelled"}


def test_expression_failure_at_run_time_is_type_expression() -> None:
    out = arun(
        run_mocked(
            """
        version: 1
        name: expr
        steps:
          - {service: S, action: a, with: {n: "${ length(input.missing) }"}}
    """,
            DELAYS,
            {},
        )
    )
    assert out.result.status == "failed"
    assert out.json["error"]["type"] == "expression"
    assert out.json["steps"]["a"]["error"]["type"] == "expression"
    assert "with" in out.json["error"]["message"]
    assert out.calls == {}


def test_wait_and_notify_steps() -> None:
    out = arun(
        run_mocked(
            """
        version: 1
        name: waits
        steps:
          - {service: S, action: a}
          - {wait: 90s}
          - notify: {message: "got ${ steps.a.output.n }", level: warning}
    """,
            DELAYS,
        )
    )
    assert out.result.status == "succeeded"
    (note,) = [e for e in out.events if isinstance(e, Notification)]
    assert (note.level, note.message, note.step) == ("warning", "got 1", "notify")
    assert out.t(note) == 91
    assert out.result.steps["wait"].duration_ms == 90000


def test_cancelling_the_run_task_cancels_every_step_and_leaves_no_task() -> None:
    wf = workflow("""
        version: 1
        name: cancel
        steps:
          - {service: S, action: a}
          - {service: S, action: b, after: [a]}
          - {service: S, action: c, after: [a], foreach: "${ [`1`,`2`,`3`] }", maxConcurrency: 3}
          - {service: S, action: d, after: [b, c]}
    """)
    mocks = mocks_file("""
        version: 1
        mocks:
          S.a: {delay: 1s}
          S.b: {delay: 100s}
          S.c: {delay: 100s}
          S.d: {}
    """)

    async def main() -> None:
        clock = VirtualClock(start=START)
        events: list[object] = []
        task: asyncio.Task[object] | None = None

        def sink(event: object) -> None:
            events.append(event)
            # Cancel the moment the last foreach item of c is sent (b is in flight too).
            if isinstance(event, StepStarted) and event.step == "c" and event.index == 2:
                assert task is not None
                task.cancel()

        engine = Engine(transport=MockTransport(mocks.mocks, clock), clock=clock, sinks=[sink])
        task = asyncio.get_running_loop().create_task(engine.run(wf))
        with pytest.raises(asyncio.CancelledError):
            await task
        (fin,) = [e for e in events if isinstance(e, RunFinished)]
        result = fin.result
        assert result.status == "cancelled"
        assert result.error is not None and result.error["type"] == "cancelled"
        assert {k: v.status for k, v in result.steps.items()} == {
            "a": "succeeded",
            "b": "cancelled",
            "c": "cancelled",
            "d": "cancelled",
        }
        # cancelled at 1 s, before any 100 s mock delay passed
        assert fin.time == START + 1 and result.duration_ms == 1000
        c = [e for e in events if isinstance(e, StepFinished) and e.step == "c"][0]
        assert [r.error_type for r in c.calls] == ["cancelled"] * 3
        await engine.aclose()

    arun(main())


def test_broken_graph_is_refused_before_running() -> None:
    wf = Workflow(
        name="cyc",
        steps=[
            CallStep(id="a", service="S", action="a", after=["b"]),
            CallStep(id="b", service="S", action="b", after=["a"]),
        ],
    )

    async def main() -> None:
        async with Engine(transport=MockTransport({})) as engine:
            with pytest.raises(ValidationError, match="cycle"):
                await engine.run(wf)

    arun(main())


def test_ten_thousand_skips_cascade_without_recursion() -> None:
    steps = [CallStep(id="s0", service="S", action="a", if_="${ `false` }")]
    steps += [
        CallStep(id=f"s{i}", service="S", action="a", after=[f"s{i - 1}"]) for i in range(1, 10_000)
    ]
    out = arun(run_mocked(Workflow(name="deep", steps=steps), DELAYS))
    assert out.result.status == "succeeded"
    assert set(out.statuses().values()) == {"skipped"}
