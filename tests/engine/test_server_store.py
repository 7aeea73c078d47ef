"""The server's SQLite store: retention by age and count keeps running runs and drops the
events of the runs it forgets; in-flight runs are marked interrupted on reopening."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from engine.server.store import Store


def _runs(store: Store, n: int, *, status: str = "succeeded") -> list[str]:
    ids = []
    for i in range(n):
        run_id = f"{status}-{i}"
        store.add_run(run_id, "wf", "v1", {"i": i})
        store.add_event(run_id, "RunStarted", "wf", {"event": "RunStarted", "run_id": run_id})
        if status != "running":
            store.finish_run(run_id, {"run": run_id, "status": status, "error": None})
        ids.append(run_id)
    return ids


def test_retention_by_count_keeps_the_newest_and_running_runs(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite3")
    old = _runs(store, 5)
    running = _runs(store, 2, status="running")
    assert store.prune(max_runs=2) == 3
    kept = {r["run"] for r in store.list_runs(limit=100)}
    assert kept == {old[3], old[4], *running}
    assert {e.run_id for e in store.events()} == kept


def test_retention_by_age(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite3")
    _runs(store, 3)
    assert store.prune(max_age_s=3600) == 0
    assert store.prune(max_age_s=-1) == 3  # a cut-off a second ahead: every run is older
    assert store.count_runs() == 0 and store.events() == []


def test_reopening_marks_running_runs_interrupted(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite3")
    (run_id,) = _runs(store, 1, status="running")
    store.close()
    again = Store(tmp_path / "s.sqlite3")
    assert again.interrupted == [run_id]
    got = again.get_run(run_id)
    assert got is not None and got["status"] == "failed"
    assert got["error"]["type"] == "interrupted"
    assert again.events(run_id=run_id)[-1].level == "error"
    assert Store(tmp_path / "s.sqlite3").interrupted == []  # once only


def test_a_slow_follower_catches_up_from_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.runtime import events as ev
    from engine.server import followers
    from engine.server.service import Filter, Service

    monkeypatch.setattr(followers, "QUEUE_SIZE", 2)
    service = Service(tmp_path, Store(":memory:"))

    def note(i: int) -> ev.Notification:
        return ev.Notification("r", None, "info", f"n{i}", float(i))

    async def go() -> list[str]:
        got: list[str] = []
        stream = service.follow(Filter())
        reader = asyncio.ensure_future(stream.__anext__())
        await asyncio.sleep(0)  # let the follower subscribe (it is waiting on its queue)
        service.sink(note(0))
        got.append((await reader).body["message"])
        for i in range(1, 11):  # the follower is not reading: its queue of 2 overflows
            service.sink(note(i))
        while len(got) < 11:
            got.append((await asyncio.wait_for(stream.__anext__(), 5)).body["message"])
        await stream.aclose()
        return got

    assert asyncio.run(go()) == [f"n{i}" for i in range(11)]
    assert service.overflows > 0


def test_a_claimed_key_and_its_runs_are_written_in_one_transaction(tmp_path: Path) -> None:
    # a process that died between claiming a key and writing its runs left a key answering
    # runs that did not exist (a Redis entry delivered again then started nothing)
    store = Store(tmp_path / "s.sqlite3")
    runs = [("r1", "wf", "v1", {"n": 1}), ("r2", "other", "v2", {"n": 1})]
    assert store.claim_key("k", "ev", ["r1", "r2"], 3600, runs) == (["r1", "r2"], False)
    assert store.pending == 0  # nothing left queued to be lost
    other = Store(tmp_path / "s.sqlite3", recover=False)  # another process's view
    assert other.claim_key("k", "ev", ["x"], 3600, [("x", "wf", "v1", None)]) == (
        ["r1", "r2"],
        True,
    )
    got = other.get_run("r2")
    assert got is not None and (got["workflow"], got["version"], got["status"]) == (
        "other",
        "v2",
        "running",
    )
    assert got["input"] == {"n": 1} and other.get_run("x") is None


def test_a_flush_gives_each_event_the_seq_it_was_stored_with(tmp_path: Path) -> None:
    """Events and run writes queued in any order, by two stores on one file (two workers):
    the seq each flush reports is the one a later read finds, in the order queued."""
    one = Store(tmp_path / "s.sqlite3")
    two = Store(tmp_path / "s.sqlite3", recover=False)
    reported = []
    for round_ in range(3):
        for store, name in ((one, "a"), (two, "b")):
            run_id = f"{name}{round_}"
            store.queue_event(run_id, "Notification", "wf", {"n": 0})
            store.add_run(run_id, "wf", "v1", None)
            for n in (1, 2):
                store.queue_event(run_id, "Notification", "wf", {"n": n})
            store.finish_run(run_id, {"run": run_id, "status": "succeeded", "error": None})
            store.queue_event(run_id, "RunFinished", "wf", {"n": 3})
            written = store.flush()
            assert [e.body["n"] for e in written] == [0, 1, 2, 3]
            reported += [(e.seq, e.run_id, e.body) for e in written]
    stored = [(e.seq, e.run_id, e.body) for e in one.events()]
    assert stored == reported
    assert [seq for seq, _, _ in stored] == list(range(1, 25))
    one.close()
    two.close()
