"""Durations are whole milliseconds from parse to write: no float noise, no overflow."""

from __future__ import annotations

import pytest

from engine import DurationError, dump_workflow, format_duration, parse_duration, parse_workflow


def test_every_whole_millisecond_round_trips() -> None:
    # 13ms used to be saved as 0.013000000000000001 (1,307 of the values 1-9,999 drifted)
    for ms in range(1, 10_000):
        text = f"{ms}ms"
        assert parse_duration(text) == ms
        assert parse_duration(format_duration(ms)) == ms


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("250ms", 250),
        ("10s", 10_000),
        ("2m", 120_000),
        ("1h", 3_600_000),
        ("1.5s", 1500),
        ("0.25m", 15_000),
        (" 3 s ", 3000),
        (0.013, 13),
        (2, 2000),
        (1.5, 1500),
        (0, 0),
    ],
)
def test_spellings(text: object, ms: int) -> None:
    assert parse_duration(text) == ms


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (0, "0s"),
        (1500, "1500ms"),
        (90_000, "90s"),
        (120_000, "2m"),
        (3_600_000, "1h"),
    ],
)
def test_canonical_spelling(ms: int, text: str) -> None:
    assert format_duration(ms) == text


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("0.5ms", "whole milliseconds"),
        (0.0005, "whole milliseconds"),
        ("1.0001s", "whole"),
        (-1, "negative"),
        (10**400, "at most ten years"),
        ("9" * 400 + "s", "characters"),
        (1e308, "at most ten years"),
        (float("nan"), "finite"),
        (float("inf"), "finite"),
        ("100000h", "at most ten years"),
        (True, "expected a duration"),
        ("5 minutes", "expected"),
    ],
)
def test_bad_durations_say_why(value: object, says: str) -> None:
    with pytest.raises(DurationError, match=says):
        parse_duration(value)


def test_a_workflow_with_an_absurd_duration_is_a_problem_not_a_crash() -> None:
    text = "version: 1\nname: w\nsteps:\n  - wait: " + "9" * 400 + "\n"
    loaded = parse_workflow(text, "w.yaml")
    assert [str(p) for p in loaded.problems] == [
        "w.yaml:4:11: steps[0].wait: 'wait': a duration must be at most ten years, got a "
        "number of 400 digits"
    ]
    text = (
        "version: 1\nname: w\nsteps:\n  - service: S\n    action: a\n    retry: "
        "{attempts: 2, delay: 1e308}\n"
    )
    loaded = parse_workflow(text, "w.yaml")
    assert "at most ten years" in str(loaded.problems[0])


def test_durations_written_back_are_the_ones_read() -> None:
    text = (
        "version: 1\nname: w\ntimeout: 13ms\nsteps:\n  - service: S\n    action: a\n"
        "    timeout: 1307ms\n    retry:\n      delay: 250ms\n      maxDelay: 90s\n"
        "  - wait: 7ms\n"
    )
    wf = parse_workflow(text).model
    assert wf is not None
    assert dump_workflow(wf) == text


def test_thousands_of_retries_with_a_huge_backoff_do_not_overflow() -> None:
    # attempt 1,025 raised OverflowError: the backoff power was computed before the cap
    import asyncio

    from engine import CallStep, MockResponse, Retry, RetryPolicy, Workflow, run_mocked

    policy = RetryPolicy(attempts=5000, delay=1000, backoff=1e300, max_delay=30_000)
    assert [policy.delay_before(n) for n in (1, 2, 3, 5000)] == [1000, 30_000, 30_000, 30_000]
    step = CallStep(
        id="c",
        service="S",
        action="a",
        retry=Retry(attempts=2000, delay=1, backoff=10, jitter="none", on=["5xx"]),
    )
    result, _ = asyncio.run(
        run_mocked(Workflow(name="w", steps=[step]), {"S.a": MockResponse(status=503)})
    )
    assert result.steps["c"].attempts == 2000 and result.error["type"] == "http"
