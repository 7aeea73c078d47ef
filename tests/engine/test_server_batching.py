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
    flush = store.flush

    def counted() -> list[StoredEvent]:
        nonlocal flushes
        flushes += 1
        return flush()

    store.flush = counted  # type: ignore[method-assign]

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
