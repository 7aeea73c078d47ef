"""Call steps: requests, retries, Retry-After, timeouts, deadline, foreach, mocks."""

from __future__ import annotations

import json

import pytest

from engine.runtime.retry import retry_after_seconds, retry_matches
from tests.engine.test_run_support import arun, run_mocked


def test_request_url_method_path_query_headers_and_default_body() -> None:
    out = arun(
        run_mocked(
            """
        version: 1
        name: req
        defaults: {headers: {X-Team: ops, X-Run: "${ run.id }"}}
        steps:
          - {service: PolicyService, action: updatePolicy}
          - id: get
            service: PolicyService
            action: fetch
            method: get
            path: /policies/${ input.policyId }
            query: {full: "${ `true` }", v: "${ steps.updatePolicy.output.version }"}
            headers: {X-Team: legal}
    """,
            """
        version: 1
        mocks:
          PolicyService.updatePolicy: {body: {version: 7}}
          PolicyService.fetch: {body: "${ request.query }"}
    """,
            {"policyId": "P-7"},
            services={"PolicyService": "http://10.9.9.9:8001/api/"},
        )
    )
    assert out.result.status == "succeeded"
    first, second = out.requests
    assert first.method == "POST"
    assert str(first.url) == "http://10.9.9.9:8001/api/updatePolicy"
    assert json.loads(first.content) == {"policyId": "P-7"}  # the run input by default
    assert first.headers["content-type"] == "application/json"
    assert first.headers["x-team"] == "ops"
    assert first.headers["x-run"] == out.result.run_id
    assert second.method == "GET" and second.content == b""  # no default body on GET
    assert second.url.path == "/api/policies/P-7"
    assert second.headers["x-team"] == "legal"  # the step's header wins over defaults
    assert out.result.steps["get"].output == {"full": "true", "v": "7"}


def test_idempotency_key_is_the_same_on_every_attempt() -> None:
    out = arun(
        run_mocked(
            """
        version: 1
        name: idem
        steps:
          - {id: pay, service: Pay, action: charge, retry: {attempts: 3, delay: 1s}}
          - {id: each, service: Pay, action: refund, foreach: "${ input.items }"}
    """,
            """
        version: 1
        mocks:
          Pay.charge: [{status: 503}, {fault: connection}, {status: 200}]
          Pay.refund: {}
    """,
            {"items": ["a", "b"]},
        )
    )
    assert out.result.status == "succeeded"
    rid = out.result.run_id
    keys = [r.headers["idempotency-key"] for r in out.requests]
    assert keys == [f"{rid}:pay"] * 3 + [f"{rid}:each:0", f"{rid}:each:1"]


def test_retry_counts_and_backoff_delays_without_jitter() -> None:
    out = arun(
        run_mocked(
            """
        version: 1
        name: backoff
        steps:
          - id: check
            service: C
            action: run
            retry: {attempts: 5, delay: 1s, backoff: 3, maxDelay: 5s, jitter: none}
    """,
            """
        version: 1
        mocks:
          C.run: [{status: 500}, {status: 502}, {fault: connection}, {status: 503}, {body: ok}]
    """,
        )
    )
    assert out.result.status == "succeeded"
    assert out.result.steps["check"].attempts == 5
    assert out.calls == {"C.run": 5}
    assert [r.delay for r in out.retries("check")] == [1, 3, 5, 5]  # capped by maxDelay
    assert [out.t(s) for s in out.started("check")] == [0, 1, 4, 9, 14]
    assert out.result.duration_ms == 14000
    assert [r.reason.split(":")[0] for r in out.retries("check")][:2] == [
        "C.run answered HTTP 500",
        "C.run answered HTTP 502",
    ]


def test_retry_gives_up_after_the_last_attempt() -> None:
    out = arun(
        run_mocked(
            """
        version: 1
        name: giveup
        steps:
          - {id: check, service: C, action: run, retry: {attempts: 3, delay: 100ms, jitter: none}}
    """,
            """
        version: 1
        mocks:
          C.run: {status: 503}
    """,
        )
    )
    assert out.result.status == "failed"
    assert out.result.steps["check"].attempts == 3
    assert out.json["error"] == {
        "type": "http",
        "step": "check",
        "message": out.json["error"]["message"],
    }
    assert out.result.duration_ms == 300  # 100 ms, then 200 ms


def test_full_jitter_stays_within_the_backoff_delay() -> None:
    mocks = """
        version: 1
        mocks:
          C.run: [{status: 500}, {status: 500}, {status: 500}, {body: ok}]
    """
    wf = """
        version: 1
        name: jitter
        steps:
          - {id: check, service: C, action: run, retry: {attempts: 4, delay: 2s, backoff: 2}}
    """
    seen = []
    for seed in range(20):
        out = arun(run_mocked(wf, mocks, seed=seed))
        delays = [r.delay for r in out.retries("check")]
        assert all(0 <= d <= cap for d, cap in zip(delays, [2, 4, 8], strict=True))
        assert out.result.duration_ms == round(sum(delays) * 1000)
        seen.append(tuple(delays))
    assert len(set(seen)) == 20  # really random


def test_retry_on_filters() -> None:
    mocks = """
        version: 1
        mocks:
          C.run: [{status: 404}, {body: ok}]
          C.slow: [{fault: timeout}, {body: ok}]
          C.limited: [{status: 429}, {status: 418}, {body: ok}]
    """
    out = arun(
        run_mocked(
            """
        version: 1
        name: on
        steps:
          - {id: notRetried, service: C, action: run, after: [], onError: continue,
             retry: {attempts: 3, delay: 1s}}
          - {id: on404, service: C, action: run, after: [notRetried],
             retry: {attempts: 3, delay: 1s, on: [404]}}
          - {id: noTimeouts, service: C, action: slow, after: [], onError: continue,
             timeout: 2s, retry: {attempts: 3, on: [5xx]}}
          - {id: codes, service: C, action: limited, after: [],
             retry: {attempts: 3, delay: 1s, jitter: none, on: [429, 418]}}
    """,
            mocks,
        )
    )
    assert out.statuses() == {
        "notRetried": "failed",
        "on404": "succeeded",
        "noTimeouts": "failed",
        "codes": "succeeded",
    }
    assert out.result.steps["notRetried"].attempts == 1  # 404 is not in the default `on`
    assert out.result.steps["noTimeouts"].attempts == 1
    assert out.json["steps"]["noTimeouts"]["error"]["type"] == "timeout"
    assert out.result.steps["codes"].attempts == 3


def test_retry_matching_rules() -> None:
    assert retry_matches(("5xx",), "http", 503)
    assert not retry_matches(("5xx",), "http", 429)
    assert retry_matches(("429",), "http", 429)
    assert retry_matches((409,), "http", 409)
    assert retry_matches(("connection",), "connection", None)
    assert not retry_matches(("5xx", "429"), "timeout", None)


def test_retry_after_sets_the_next_delay_capped_by_max_delay() -> None:
    out = arun(
        run_mocked(
            """
        version: 1
        name: ra
        steps:
          - id: check
            service: C
            action: run
            retry: {attempts: 3, delay: 100ms, maxDelay: 10s}
    """,
            """
        version: 1
        mocks:
          C.run:
            - {status: 503, headers: {Retry-After: "4"}}
            - {status: 429, headers: {Retry-After: "3600"}}
            - {body: ok}
    """,
        )
    )
    assert [r.delay for r in out.retries("check")] == [4, 10]
    assert [out.t(s) for s in out.started("check")] == [0, 4, 14]


def test_retry_after_as_an_http_date() -> None:
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:30 GMT", 1445412500.0) == 10
    assert retry_after_seconds("soon", 0.0) is None
    assert retry_after_seconds(" 2 ", 0.0) == 2


def test_timeout_per_attempt_and_the_timeout_fault() -> None:
    out = arun(
        run_mocked(
            """
        version: 1
        name: tmo
        steps:
          - id: slow
            service: C
            action: run
            timeout: 2s
            retry: {attempts: 3, delay: 1s, jitter: none}
    """,
            """
        version: 1
        mocks:
          C.run: [{fault: timeout}, {delay: 5s, body: late}, {delay: 1500ms, body: ok}]
    """,
        )
    )
    assert out.result.status == "succeeded"
    assert out.result.steps["slow"].output == "ok"
    assert [r.reason for r in out.retries("slow")][0] == "C.run gave no answer within 2s"
    # 2 s timeout, 1 s delay, 2 s timeout (the 5 s answer never arrives), 2 s delay, 1.5 s
    assert out.result.duration_ms == 8500
    calls = out.finished("slow").calls
    assert [c.error_type for c in calls] == ["timeout", "timeout", None]
    assert [c.duration_ms for c in calls] == [2000, 2000, 1500]


def test_default_timeout_is_thirty_seconds_and_defaults_merge() -> None:
    out = arun(
        run_mocked(
            """
        version: 1
        name: deft
        defaults: {retry: {attempts: 2, delay: 3s, jitter: none}}
        steps:
          - {id: a, service: C, action: run, onError: continue}
          - {id: b, service: C, action: run, after: [], timeout: 1s, onError: continue,
             retry: {attempts: 3}}
    """,
            """
        version: 1
        mocks:
          C.run: {fault: timeout}
    """,
        )
    )
    a, b = out.result.steps["a"], out.result.steps["b"]
    assert (a.attempts, a.duration_ms) == (2, 63000)
    assert (b.attempts, b.duration_ms) == (3, 1000 + 3000 + 1000 + 6000 + 1000)


def test_whole_run_deadline_is_type_deadline() -> None:
    out = arun(
        run_mocked(
            """
        version: 1
        name: dl
        timeout: 10s
        steps:
          - {service: C, action: run, retry: {attempts: 10, delay: 3s, jitter: none, backoff: 1}}
          - {service: C, action: never}
    """,
            """
        version: 1
        mocks:
          C.run: {status: 500, delay: 1s}
          C.never: {}
    """,
        )
    )
    assert out.result.status == "failed"
    assert out.json["error"]["type"] == "deadline"
    assert out.json["error"]["step"] == "run"
    assert out.result.duration_ms == 10000
    assert out.statuses() == {"run": "cancelled", "never": "cancelled"}
    assert out.calls == {"C.run": 3}  # at 0, 4 and 8 s


def test_foreach_keeps_item_order_and_sees_item_and_index() -> None:
    out = arun(
        run_mocked(
            """
        version: 1
        name: fe
        steps:
          - id: each
            service: C
            action: run
            foreach: "${ input.items }"
            maxConcurrency: 3
            with: {item: "${ item }", index: "${ index }"}
            output: "${ body.echo }"
    """,
            """
        version: 1
        mocks:
          C.run:
            - {delay: 3s, body: {echo: "${ request.body }"}}
            - {delay: 1s, body: {echo: "${ request.body }"}}
            - {delay: 2s, body: {echo: "${ request.body }"}}
            - {delay: 1s, body: {echo: "${ request.body }"}}
    """,
            {"items": ["a", "b", "c", "d"]},
        )
    )
    assert out.result.status == "succeeded"
    assert out.result.steps["each"].output == [
        {"item": "a", "index": 0},
        {"item": "b", "index": 1},
        {"item": "c", "index": 2},
        {"item": "d", "index": 3},
    ]
    assert out.result.steps["each"].attempts == 4


def test_foreach_respects_max_concurrency() -> None:
    out = arun(
        run_mocked(
            """
        version: 1
        name: fecap
        steps:
          - {id: each, service: C, action: run, foreach: "${ input.items }", maxConcurrency: 2}
    """,
            """
        version: 1
        mocks:
          C.run: {delay: 1s}
    """,
            {"items": list(range(5))},
        )
    )
    starts = sorted(out.t(s) for s in out.started("each"))
    assert starts == [0, 0, 1, 1, 2]  # never more than two in flight
    assert out.result.duration_ms == 3000


def test_foreach_defaults_to_one_at_a_time_and_fails_on_the_first_failed_item() -> None:
    out = arun(
        run_mocked(
            """
        version: 1
        name: fefail
        steps:
          - {id: each, service: C, action: run, foreach: "${ input.items }"}
    """,
            """
        version: 1
        mocks:
          C.run: [{delay: 1s}, {status: 500}, {delay: 1s}]
    """,
            {"items": [1, 2, 3]},
        )
    )
    assert [out.t(s) for s in out.started("each")] == [0, 1]
    assert out.result.status == "failed"
    assert out.json["error"]["message"].startswith("item 1:")
    assert out.calls == {"C.run": 2}


def test_foreach_over_empty_list_and_non_list() -> None:
    out = arun(
        run_mocked(
            """
        version: 1
        name: fe0
        steps:
          - {id: none, service: C, action: run, foreach: "${ input.items }", onError: continue}
          - {id: bad, service: C, action: run, foreach: "${ input.name }", after: []}
    """,
            """
        version: 1
        mocks:
          C.run: {}
    """,
            {"items": [], "name": "x"},
        )
    )
    assert out.result.steps["none"].output == [] and out.result.steps["none"].status == "succeeded"
    assert out.json["steps"]["bad"]["error"]["type"] == "expression"


def test_call_without_a_mock_is_type_mock_and_not_retried() -> None:
    out = arun(
        run_mocked(
            """
        version: 1
        name: nomock
        steps:
          - {service: Ghost, action: haunt, retry: {attempts: 5}}
    """,
            """
        version: 1
        mocks: {}
    """,
        )
    )
    assert out.json["error"]["type"] == "mock"
    assert "Ghost.haunt" in out.json["error"]["message"]
    assert out.result.steps["haunt"].attempts == 1


def test_response_bodies_status_headers_and_output_expression() -> None:
    out = arun(
        run_mocked(
            """
        version: 1
        name: bodies
        steps:
          - {id: text, service: C, action: text, after: []}
          - {id: json, service: C, action: json, after: []}
          - {id: empty, service: C, action: empty, after: []}
          - id: shaped
            service: C
            action: json
            after: []
            output: {s: "${ status }", tag: "${ headers.etag }", n: "${ body.n }"}
    """,
            """
        version: 1
        mocks:
          C.text: {body: "hello ${ call }"}
          C.json: {status: 201, body: {n: 5}, headers: {ETag: v1}}
          C.empty: {status: 204}
    """,
        )
    )
    steps = out.result.steps
    assert steps["text"].output == "hello 1"
    assert steps["json"].output == {"n": 5}
    assert steps["empty"].output is None
    assert steps["shaped"].output == {"s": 201, "tag": "v1", "n": 5}


def test_sequence_of_mocks_last_one_repeats_and_scenarios_override() -> None:
    mocks = """
        version: 1
        mocks:
          C.run: [{body: 1}, {body: 2}]
        scenarios:
          other:
            C.run: {body: 9}
    """
    wf = """
        version: 1
        name: seqm
        steps:
          - {id: a, service: C, action: run}
          - {id: b, service: C, action: run}
          - {id: c, service: C, action: run}
    """
    out = arun(run_mocked(wf, mocks))
    assert [out.result.steps[s].output for s in "abc"] == [1, 2, 2]
    out = arun(run_mocked(wf, mocks, scenario="other"))
    assert [out.result.steps[s].output for s in "abc"] == [9, 9, 9]


@pytest.mark.parametrize("fault,kind", [("connection", "connection"), ("timeout", "timeout")])
def test_faults_give_their_error_types(fault: str, kind: str) -> None:
    out = arun(
        run_mocked(
            """
        version: 1
        name: faults
        steps:
          - {service: C, action: run, timeout: 1s}
    """,
            f"""
        version: 1
        mocks:
          C.run: {{fault: {fault}}}
    """,
        )
    )
    assert out.json["error"]["type"] == kind
