"""The server's write path: runs and events are queued and written many per transaction, read
back at once by their own process; a keeping Host resolves an environment once per version of
its files."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from engine.jobs.setup import Host
from engine.server.store import Store, StoredEvent


def test_queued_writes_are_read_back_and_written_in_one_flush(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite3")
    told: list[list[StoredEvent]] = []
    store.on_flushed = told.append
    other = sqlite3.connect(tmp_path / "s.sqlite3")  # another process's view of the file
    store.add_run("r1", "wf", "v1", {"a": 1})
    for i in range(3):
        store.queue_event("r1", "Notification", "wf", {"message": f"n{i}"}, level="info")
    store.finish_run("r1", {"run": "r1", "status": "succeeded", "error": None})
    assert store.pending == 5
    assert other.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 0  # not yet written
    got = store.get_run("r1")  # a read writes what is queued first
    assert got is not None and got["status"] == "succeeded"
    assert store.pending == 0
    assert other.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 3
    assert len(told) == 1  # one flush, all three events, in order, with their seq
    assert [e.body["message"] for e in told[0]] == ["n0", "n1", "n2"]
    seqs = [e.seq for e in told[0]]
    assert seqs == sorted(seqs) and seqs == [e.seq for e in store.events(run_id="r1")]


def test_a_keeping_host_resolves_again_only_when_a_file_changed(tmp_path: Path) -> None:
    env = tmp_path / "environments.yaml"
    env.write_text(
        "version: 1\ndefault: live\nenvironments:\n  live:\n    services:\n"
        "      A: http://127.0.0.1:1\n",
        encoding="utf-8",
    )
    host = Host(keep=True)
    first = host.resolve(tmp_path, None)
    assert host.resolve(tmp_path, None) is first
    env.write_text(env.read_text().replace(":1\n", ":22\n"), encoding="utf-8")
    again = host.resolve(tmp_path, None)
    assert again is not first and again.services == {"A": "http://127.0.0.1:22"}
    assert Host().resolve(tmp_path, None) is not Host().resolve(tmp_path, None)  # not kept


def test_a_store_from_before_run_owners_opens_and_records_them(tmp_path: Path) -> None:
    old = sqlite3.connect(tmp_path / "s.sqlite3")
    old.execute(  # the runs table as stores before `owner` made it
        "CREATE TABLE runs (id TEXT PRIMARY KEY, workflow TEXT NOT NULL, version TEXT NOT NULL "
        "DEFAULT '', status TEXT NOT NULL, created REAL NOT NULL, input TEXT, result TEXT, "
        "error TEXT)"
    )
    old.execute("INSERT INTO runs VALUES ('old', 'wf', 'v0', 'running', 1.0, 'null', NULL, NULL)")
    old.commit()
    old.close()
    store = Store(tmp_path / "s.sqlite3")
    assert store.interrupted == ["old"]
    store.add_run("new", "wf", "v1", None)
    assert store.interrupt_owner(os.getpid()) == ["new"]
    got = store.get_run("new")
    assert got is not None and got["error"]["type"] == "interrupted"


def test_runs_start_through_the_services_runner(tmp_path: Path) -> None:
    """The seam another engine (Temporal) plugs into: the runner gets each run's request."""
    import asyncio
    from collections.abc import Sequence
    from typing import Any

    from engine.jobs.request import JobOutcome, JobRequest
    from engine.jobs.run import run_job
    from engine.server.service import Service

    (tmp_path / "hi.yaml").write_text(
        "version: 1\nname: hi\ntrigger: hello\nsteps:\n  - notify: hi ${ input.who }\n",
        encoding="utf-8",
    )
    asked: list[JobRequest] = []

    async def runner(
        request: JobRequest, *, sinks: Sequence[Any] = (), host: Any = None
    ) -> JobOutcome:
        asked.append(request)
        return await run_job(request, sinks=sinks, host=host)

    async def go() -> dict[str, Any] | None:
        service = Service(tmp_path, Store(":memory:"), runner=runner)
        service.open()
        (run_id,), _ = service.emit("hello", {"who": "ada"})
        result = await service.wait_result(run_id, 10)
        await service.aclose()
        return result

    result = asyncio.run(go())
    assert result is not None and result["status"] == "succeeded"
    assert [(r.run_id, r.input, r.workflow.name if r.workflow else None) for r in asked] == [
        (result["run"], {"who": "ada"}, "hi")
    ]


def test_a_flush_that_cannot_write_keeps_what_it_held(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite3")
    store._db.execute("PRAGMA busy_timeout = 50")  # not 30 s: the test holds the lock
    other = sqlite3.connect(tmp_path / "s.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process is writing
    store.add_run("r1", "wf", "v1", None)
    store.queue_event("r1", "RunStarted", "wf", {"event": "RunStarted"})
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        store.flush()
    assert store.pending == 2
    other.execute("COMMIT")
    assert [e.kind for e in store.flush()] == ["RunStarted"]
    assert store.get_run("r1") is not None


def test_a_worker_without_followers_reads_the_store_on_its_own_clock(tmp_path: Path) -> None:
    # each of a worker's flushes woke its tail for a round of three queries, follower or not
    import asyncio
    import time

    from engine.server import shared
    from engine.server.service import Service

    (tmp_path / "hi.yaml").write_text(
        "version: 1\nname: hi\nsteps:\n  - notify: hi ${ input.n }\n", encoding="utf-8"
    )
    rounds: list[str] = []

    async def go() -> float:
        store = Store(tmp_path / "s.sqlite3")
        service = Service(tmp_path, store, shared=True)
        service.open()
        stop = asyncio.Event()
        tail = asyncio.create_task(shared.tail(service, stop))
        await asyncio.sleep(0)
        store._db.set_trace_callback(  # a round of the tail reads the deploys counter
            lambda sql: rounds.append(sql) if sql.startswith("SELECT value FROM meta") else None
        )
        began = time.monotonic()
        for n in range(60):
            run_id = service.start_run("hi", {"n": n}, flush=False)
            assert (await service.wait_result(run_id, 10) or {}).get("status") == "succeeded"
        took = time.monotonic() - began
        stop.set()
        await tail
        await service.aclose()
        return took

    took = asyncio.run(go())
    assert len(rounds) <= took / shared.TAIL_EVERY_S + 3, (len(rounds), took)  # not one a run


def test_requests_answered_in_one_turn_share_one_transaction(tmp_path: Path) -> None:
    # every accepted event had a commit of its own before it was answered
    import asyncio

    from engine.server.service import Service

    (tmp_path / "hi.yaml").write_text(
        "version: 1\nname: hi\ntrigger: hello\nsteps:\n  - wait: 1h\n", encoding="utf-8"
    )
    commits: list[str] = []

    async def go() -> list[tuple[list[str], int]]:
        store = Store(tmp_path / "s.sqlite3")
        service = Service(tmp_path, store)
        service.open()
        store._db.set_trace_callback(lambda sql: commits.append(sql) if sql == "COMMIT" else None)
        other = Store(tmp_path / "s.sqlite3", recover=False)  # another process's view

        async def accept(n: int) -> tuple[list[str], int]:  # what POST /events does
            ids, _ = service.emit("hello", {"n": n}, flush=False)
            await service.flushed()
            return ids, len(commits)  # (the runs' own events are written later)

        answered = await asyncio.gather(*(accept(n) for n in range(20)))
        assert all(other.get_run(ids[0]) is not None for ids, _ in answered)
        await service.aclose()
        return answered

    answered = asyncio.run(go())
    assert len(answered) == 20 and max(n for _, n in answered) == 1  # one for all twenty


def test_a_write_waits_for_another_process_without_blocking_the_loop(tmp_path: Path) -> None:
    # SQLite's own wait for another worker's transaction blocked the event loop (1 ms and up)
    import asyncio
    import threading

    from engine.server.service import Service

    (tmp_path / "hi.yaml").write_text(
        "version: 1\nname: hi\ntrigger: hello\nsteps:\n  - wait: 1h\n", encoding="utf-8"
    )
    other = sqlite3.connect(tmp_path / "s.sqlite3", check_same_thread=False, isolation_level=None)

    async def go() -> tuple[int, bool]:
        service = Service(tmp_path, Store(tmp_path / "s.sqlite3"))
        service.open()
        other.execute("BEGIN IMMEDIATE")  # another process is writing, for 0.3 s
        threading.Timer(0.3, lambda: other.execute("COMMIT")).start()
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.create_task(tick())
        ids, _ = service.emit("hello", {}, flush=False)
        await service.flushed()  # waits for the lock, the loop going on meanwhile
        ticker.cancel()
        seen = Store(tmp_path / "s.sqlite3", recover=False).get_run(ids[0]) is not None
        await service.aclose()
        return ticks, seen

    ticks, seen = asyncio.run(go())
    other.close()
    assert seen  # written once the other process was done
    assert ticks >= 10, ticks  # the loop ran on while the write waited


def test_a_workers_tail_does_not_wait_for_another_process_to_write(tmp_path: Path) -> None:
    # its reads wrote this process's queued events first, waiting inside SQLite for another
    # worker's transaction with the event loop blocked
    import asyncio
    import threading
    import time

    from engine.server import shared
    from engine.server.service import Service

    other = sqlite3.connect(tmp_path / "s.sqlite3", check_same_thread=False, isolation_level=None)

    async def go() -> float:
        service = Service(tmp_path, Store(tmp_path / "s.sqlite3"), shared=True)
        service.open()
        stop = asyncio.Event()
        tail = asyncio.create_task(shared.tail(service, stop))
        await asyncio.sleep(0.05)  # the tail has started
        service.store.queue_event("r1", "Notification", "wf", {"message": "queued"})
        other.execute("BEGIN IMMEDIATE")  # another process is writing, for 0.4 s
        threading.Timer(0.4, lambda: other.execute("COMMIT")).start()
        gap = 0.0
        for _ in range(20):  # 0.2 s of the tail's rounds (every 20 ms) meanwhile
            began = time.monotonic()
            await asyncio.sleep(0.01)
            gap = max(gap, time.monotonic() - began)
        stop.set()
        await tail
        await asyncio.sleep(0.3)  # the lock is released: the shutdown writes what is queued
        await service.aclose()
        return gap

    gap = asyncio.run(go())
    other.close()
    assert gap < 0.15, gap  # no round of the tail sat in SQLite's wait for the lock


def test_answers_waiting_in_one_loop_turn_share_one_commit(tmp_path: Path) -> None:
    """Twenty runs started at once and waited on: their results are written before they are
    answered, and the answers of one loop turn share a transaction (a group commit)."""
    import asyncio
    from typing import Any

    from engine.server.service import Service

    (tmp_path / "hi.yaml").write_text(
        "version: 1\nname: hi\ntrigger: hello\nsteps:\n  - notify: hi ${ input.who }\n",
        encoding="utf-8",
    )
    store = Store(tmp_path / "s.sqlite3")
    other = sqlite3.connect(tmp_path / "s.sqlite3")  # another worker's view of the file
    flushes = 0
    flush, try_flush = store.flush, store.try_flush

    def counted() -> list[StoredEvent]:
        nonlocal flushes
        flushes += 1
        return flush()

    def try_counted() -> list[StoredEvent] | None:
        nonlocal flushes
        flushes += 1
        return try_flush()

    store.flush = counted  # type: ignore[method-assign]
    store.try_flush = try_counted  # type: ignore[method-assign]

    async def go() -> list[dict[str, Any] | None]:
        service = Service(tmp_path, store)
        service.open()
        ids = [service.start_run("hi", {"who": i}, flush=False) for i in range(20)]

        async def answer(run_id: str) -> dict[str, Any] | None:
            result = await service.wait_result(run_id, 10)
            row = other.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()
            assert row == ("succeeded",)  # stored before answered
            return result

        results = await asyncio.gather(*(answer(i) for i in ids))
        await service.aclose()
        return results

    results = asyncio.run(go())
    assert all(r is not None and r["status"] == "succeeded" for r in results)
    assert flushes <= 5  # not one per run


def test_a_keeping_host_looks_at_the_files_at_most_every_recheck_seconds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.jobs import setup

    env = tmp_path / "environments.yaml"
    env.write_text(
        "version: 1\ndefault: live\nenvironments:\n  live:\n    services:\n"
        "      A: http://127.0.0.1:1\n",
        encoding="utf-8",
    )
    now = [1000.0]
    monkeypatch.setattr(setup.time, "monotonic", lambda: now[0])
    host = Host(keep=True, recheck=1.0)
    first = host.resolve(tmp_path, None)
    env.write_text(env.read_text().replace(":1\n", ":22\n"), encoding="utf-8")
    now[0] += 0.5
    assert host.resolve(tmp_path, None) is first  # not looked at yet
    now[0] += 0.6
    again = host.resolve(tmp_path, None)
    assert again is not first and again.services == {"A": "http://127.0.0.1:22"}
    now[0] += 5
    assert host.resolve(tmp_path, None) is again  # looked at, unchanged: kept
