"""Large files and runs: a light line index, templates compiled once per workflow, and the garbage
collector kept off what a large load or run builds (and restored after)."""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
from collections.abc import Iterator

import jmespath
import pytest

from engine import (
    CallStep,
    MockResponse,
    NotifyStep,
    Workflow,
    dump_workflow,
    parse_workflow,
    render,
    run_mocked,
)
from engine.core import heap


def chain(n: int, templates: bool = True) -> Workflow:
    """`n` steps in a row, each with its own template (as a large real workflow has)."""
    steps: list = []
    for i in range(n):
        after = [f"s{i - 1}"] if i else []
        if i % 10 == 9:
            steps.append(
                NotifyStep(id=f"s{i}", after=after, message=f"${{ steps.s{i - 1}.status }}")
            )
        else:
            steps.append(
                CallStep(
                    id=f"s{i}",
                    after=after,
                    service="S",
                    action="a",
                    with_={"prev": f"${{ steps.s{i - 1}.status }}" if i and templates else i},
                )
            )
    return Workflow(name=f"chain{n}", steps=steps)


MOCKS = {"S.a": MockResponse(body={"ok": 1})}


@pytest.fixture
def collections() -> Iterator[list[int]]:
    """The generation of every collection the garbage collector makes meanwhile."""
    seen: list[int] = []

    def note(phase: str, info: dict) -> None:
        if phase == "start":
            seen.append(info["generation"])

    gc.callbacks.append(note)
    yield seen
    gc.callbacks.remove(note)


# --- the line index ------------------------------------------------------------------------------


def test_a_loaded_step_keeps_little_memory() -> None:
    # no templates: validating them would fill the shared expression caches, which are not the
    # file's memory
    text = dump_workflow(chain(5000, templates=False))
    gc.collect()
    tracemalloc.start()
    try:
        loaded = parse_workflow(text, "big.yaml")
        kept = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert loaded.ok
    # model, the data read and the line index: 2.8 KiB a step with a dict of tuples per mapping
    assert kept / 5000 < 2.0 * 1024


def test_problems_in_a_large_file_are_located_at_their_key_and_value() -> None:
    lines = ["version: 1", "name: big", "steps:"]
    lines += [f"  - {{id: s{i}, wait: 1s}}" for i in range(300)]
    lines += ["layout:"] + [f"  s{i}: [{i}, 0]" for i in range(300)] + ["  ghost: [1, 2]"]
    lines += ["timeout: soon"]
    loaded = parse_workflow("\n".join(lines) + "\n", "big.yaml")
    where = {(p.line, p.col) for p in loaded.problems}
    ghost = lines.index("  ghost: [1, 2]") + 1
    assert (ghost, 3) in where or (ghost, 10) in where, loaded.problems
    timeout = len(lines)
    assert (timeout, 10) in where, loaded.problems


def test_an_alias_copy_is_located_where_its_anchor_stands() -> None:
    text = (
        "version: 1\nname: a\nsteps:\n"
        "  - id: one\n    service: S\n    action: x\n    retry: &r\n      attempts: 0\n"
        "  - id: two\n    service: S\n    action: x\n    retry: *r\n"
    )
    loaded = parse_workflow(text, "a.yaml")
    places = sorted((p.line, p.col) for p in loaded.problems if "attempts" in p.message)
    # both steps' `attempts: 0` point at the anchored mapping's value (line 8)
    assert places == [(8, 17), (8, 17)], loaded.problems


# --- templates -----------------------------------------------------------------------------------


def test_a_second_run_of_a_workflow_with_many_templates_compiles_nothing(monkeypatch) -> None:
    wf = chain(5000)  # more templates than the shared caches hold (4,096)
    compiled: list[str] = []
    real = jmespath.compile

    def counting(expr: str, *args: object, **kwargs: object) -> object:
        compiled.append(expr)
        return real(expr, *args, **kwargs)

    monkeypatch.setattr(jmespath, "compile", counting)
    first, _ = asyncio.run(run_mocked(wf, MOCKS))
    assert first.status == "succeeded"
    assert len(compiled) > 4000  # the first run compiled them
    compiled.clear()
    second, _ = asyncio.run(run_mocked(wf, MOCKS))
    assert second.status == "succeeded"
    assert compiled == []


def test_evaluating_leaves_no_garbage_cycles() -> None:
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        for i in range(300):
            assert render("${ a.b }", {"a": {"b": i}}) == i
            assert render("at ${ a.b }!", {"a": {"b": i}}) == f"at {i}!"
        assert gc.collect() == 0
    finally:
        if was:
            gc.enable()


# --- the garbage collector -----------------------------------------------------------------------


def test_a_large_file_is_read_without_collections_and_the_collector_is_restored(
    collections: list[int],
) -> None:
    text = dump_workflow(chain(7000))
    assert len(text) >= heap.LARGE_LOAD_BYTES
    gc.collect()  # (what the dump left owing)
    collections.clear()
    loaded = parse_workflow(text, "big.yaml")
    # none while it was read: the one young collection of what it built comes as it ends
    during = tuple(collections)
    assert during in ((), (0,)), during
    assert loaded.ok
    assert gc.isenabled()
    # one that was off stays off
    gc.disable()
    try:
        parse_workflow(text, "big.yaml")
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_small_file_is_read_as_usual() -> None:
    paused: list[bool] = []
    real = heap.paused_gc

    def watch(pause: bool = True):  # type: ignore[no-untyped-def]
        paused.append(pause)
        return real(pause)

    text = dump_workflow(chain(20))
    import engine.files.documents as documents

    original = documents.paused_gc
    documents.paused_gc = watch  # type: ignore[assignment]
    try:
        parse_workflow(text, "small.yaml")
    finally:
        documents.paused_gc = original  # type: ignore[assignment]
    assert paused == [False]


def test_a_large_run_freezes_what_survives_and_unfreezes_it_at_its_end() -> None:
    wf = chain(heap.LARGE_RUN_STEPS)
    gc.collect()
    assert gc.get_freeze_count() == 0
    frozen: list[int] = []
    events = [0]

    def probe(_event: object) -> None:
        events[0] += 1
        if events[0] % 2000 == 0:  # counting the frozen objects walks them all
            frozen.append(gc.get_freeze_count())

    async def run() -> None:
        from engine import Engine, MockTransport, VirtualClock

        clock = VirtualClock()
        engine = Engine(
            transport=MockTransport({k: [v] for k, v in MOCKS.items()}, clock),
            clock=clock,
            sinks=[probe],
        )
        async with engine:
            result = await engine.run(wf, None)
        assert result.status == "succeeded"

    asyncio.run(run())
    assert frozen and max(frozen) > 0  # frozen while it ran
    assert gc.get_freeze_count() == 0  # and given back at its end


def test_a_small_run_and_a_process_that_froze_objects_itself_are_left_alone(
    monkeypatch,
) -> None:
    calls: list[str] = []

    class Spy:
        def __getattr__(self, name: str) -> object:
            return getattr(gc, name)

        def freeze(self) -> None:
            calls.append("freeze")
            gc.freeze()

        def unfreeze(self) -> None:
            calls.append("unfreeze")
            gc.unfreeze()

    monkeypatch.setattr(heap, "gc", Spy())

    def run(wf: Workflow) -> None:
        result, _ = asyncio.run(run_mocked(wf, MOCKS))
        assert result.status == "succeeded"

    gc.collect()
    run(chain(50))
    assert calls == []
    gc.freeze()  # the process's own choice, e.g. before forking workers
    try:
        run(chain(heap.LARGE_RUN_STEPS))
        assert calls == []  # neither frozen further nor unfrozen
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
    run(chain(heap.LARGE_RUN_STEPS))
    assert calls[0] == "freeze" and calls[-1] == "unfreeze" and calls.count("unfreeze") == 1
