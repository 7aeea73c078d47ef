"""The server's store: runs, their events and notifications, idempotency keys, in SQLite (WAL).

One connection, used only from the server's event loop thread (the sinks that write here are
called synchronously by the engine, on that loop). Every event gets a global sequence number
(`seq`), which is what SSE's `Last-Event-ID` and the WebSocket's `since` resume from. A store
opened over a file that holds runs still `running` (the previous process died under them) marks
them `failed` with error type `interrupted` and records a notification saying so (unless
`recover=False`: the workers of one server share a store, and only their parent recovers it).

Writes of runs and events are queued and written by `flush`, many in one transaction: a commit
per event was the server's largest cost. Every read flushes first, so this process always reads
its own writes; `on_flushed` is told the events each flush wrote, with their `seq`. Several
processes may share the file (`serve --workers`): SQLite serialises their transactions, so `seq`
stays in commit order, and idempotency keys are claimed in one transaction (`claim_key`).
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Store", "StoredEvent", "INTERRUPTED"]

INTERRUPTED = "interrupted"
BUSY_TIMEOUT_S = 30  # how long a write waits for another process's transaction

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    workflow TEXT NOT NULL,
    version TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    created REAL NOT NULL,
    input TEXT,
    result TEXT,
    error TEXT,
    owner INTEGER
);
CREATE INDEX IF NOT EXISTS runs_created ON runs (created);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    level TEXT,
    workflow TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_run ON events (run_id, seq);
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY,
    event TEXT NOT NULL,
    run_ids TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS idempotency_created ON idempotency (created);
CREATE TABLE IF NOT EXISTS cancels (
    run_id TEXT PRIMARY KEY,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""
_INSERT_RUN = (
    "INSERT OR IGNORE INTO runs (id, workflow, version, status, created, input, owner) "
    "VALUES (?, ?, ?, 'running', ?, ?, ?)"
)
_INSERT_EVENT = "INSERT INTO events (run_id, kind, level, workflow, body) VALUES (?, ?, ?, ?, ?)"
_LAST_SEQ = "SELECT seq FROM sqlite_sequence WHERE name = 'events'"
# an event's JSON text; one encoder (json.dumps makes a new one whenever it is given options)
_encode = json.JSONEncoder(ensure_ascii=False, default=str).encode


@dataclass(frozen=True)
class StoredEvent:
    """One event as stored: its sequence number, run, kind (`RunStarted`, `Notification`, …),
    notification level (None for other kinds), workflow, and its JSON object."""

    seq: int
    run_id: str
    kind: str
    level: str | None
    workflow: str
    body: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, **self.body}


class Store:
    """Runs and events in SQLite at `path` (`:memory:` keeps them for this process only)."""

    def __init__(self, path: str | Path, *, recover: bool = True) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # timeout: how long a write waits for another process's transaction (serve --workers)
        self._db = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_S
        )
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        columns = {r["name"] for r in self._db.execute("PRAGMA table_info(runs)").fetchall()}
        if "owner" not in columns:  # a store from before `owner` (the process running a run)
            self._db.execute("ALTER TABLE runs ADD COLUMN owner INTEGER")
        self._pending: list[tuple[str, tuple[Any, ...]] | _QueuedEvent] = []
        self._owner = os.getpid()  # recorded with each run: whose runs a dead worker leaves
        self.on_flushed: Callable[[list[StoredEvent]], None] | None = None
        self.interrupted = self._mark_interrupted() if recover else []

    def close(self) -> None:
        self.flush()
        self._db.close()

    @property
    def pending(self) -> int:
        """Writes queued and not yet flushed."""
        return len(self._pending)

    def flush(self) -> list[StoredEvent]:
        """Write what is queued in one transaction; the events it wrote (also to `on_flushed`).
        Waits for another process's transaction (up to `BUSY_TIMEOUT_S`)."""
        written = self._flush(wait=True)
        assert written is not None
        return written

    def try_flush(self) -> list[StoredEvent] | None:
        """`flush`, or None, writing nothing, when another process holds the write lock: the
        caller's event loop goes on and tries again (waiting blocked it for 1 ms or more, as
        SQLite's waits start at 1 ms)."""
        return self._flush(wait=False)

    def _flush(self, *, wait: bool) -> list[StoredEvent] | None:
        if not self._pending:
            return []
        db = self._db
        if not wait:
            db.execute("PRAGMA busy_timeout = 0")
            try:
                db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as e:
                if e.sqlite_errorcode != sqlite3.SQLITE_BUSY:
                    raise
                return None
            finally:
                db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
        ops, self._pending = self._pending, []
        written: list[StoredEvent] = []
        try:
            if wait:
                db.execute("BEGIN IMMEDIATE")
            events: list[_QueuedEvent] = []
            for op in ops:
                if isinstance(op, _QueuedEvent):
                    events.append(op)
                    continue
                self._insert_events(events, written)
                db.execute(*op)
            self._insert_events(events, written)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            self._pending[:0] = ops  # kept, in order, for the next flush (a full disk, a lock)
            raise
        if written and self.on_flushed is not None:
            self.on_flushed(written)
        return written

    def _insert_events(self, events: list[_QueuedEvent], written: list[StoredEvent]) -> None:
        """Insert queued events in one statement (inside flush's transaction, which holds the
        write lock: their `seq`s are consecutive, ending at the table's last one); emptied."""
        if not events:
            return
        db = self._db
        db.executemany(_INSERT_EVENT, [e.row for e in events])
        last = int(db.execute(_LAST_SEQ).fetchone()[0])
        for seq, e in enumerate(events, last - len(events) + 1):
            run_id, kind, level, workflow, _ = e.row
            written.append(StoredEvent(seq, run_id, kind, level, workflow, e.body))
        events.clear()

    # --- runs ------------------------------------------------------------------------------

    def _mark_interrupted(self, owner: int | None = None) -> list[str]:
        sql = "SELECT id, workflow FROM runs WHERE status = 'running'"
        args: tuple[Any, ...] = ()
        if owner is not None:
            sql += " AND owner = ?"
            args = (owner,)
        rows = self._db.execute(sql, args).fetchall()
        for row in rows:
            error = {
                "type": INTERRUPTED,
                "step": None,
                "message": "the server stopped while this run was in flight (it does not "
                "resume); start the run again",
            }
            self._db.execute(
                "UPDATE runs SET status = 'failed', error = ? WHERE id = ?",
                (json.dumps(error), row["id"]),
            )
            self.add_event(
                row["id"],
                "Notification",
                row["workflow"],
                {
                    "event": "Notification",
                    "run_id": row["id"],
                    "step": None,
                    "level": "error",
                    "message": f"run {row['id']} of {row['workflow']} was interrupted: the server "
                    "stopped while it was in flight",
                    "time": time.time(),
                },
                level="error",
            )
        return [r["id"] for r in rows]

    def interrupt_owner(self, pid: int) -> list[str]:
        """Mark the runs the process `pid` was running as interrupted (a worker that died while
        its siblings go on serving); their ids."""
        self.flush()
        return self._mark_interrupted(pid)

    def add_run(self, run_id: str, workflow: str, version: str, input: Any) -> None:
        """Record a run as `running` (nothing happens when it is recorded already); queued."""
        self._pending.append((_INSERT_RUN, self._run_args(run_id, workflow, version, input)))

    def _run_args(self, run_id: str, workflow: str, version: str, input: Any) -> tuple[Any, ...]:
        return (run_id, workflow, version, time.time(), json.dumps(input, default=str), self._owner)

    def finish_run(self, run_id: str, result: dict[str, Any]) -> None:
        """Record a run's result; queued."""
        self._pending.append(
            (
                "UPDATE runs SET status = ?, result = ?, error = ? WHERE id = ?",
                (
                    result.get("status", "failed"),
                    json.dumps(result, default=str),
                    json.dumps(result.get("error")),
                    run_id,
                ),
            )
        )

    def reopen_run(self, run_id: str) -> dict[str, Any] | None:
        """A run marked interrupted at start is `running` again (it went on elsewhere: a durable
        runner attaches to it). Returns the run, or None when it is not one of those."""
        self.flush()
        self._db.execute(
            "UPDATE runs SET status = 'running', error = NULL WHERE id = ? AND result IS NULL",
            (run_id,),
        )
        run = self.get_run(run_id)
        return run if run is not None and run["status"] == "running" else None

    def get_run(self, run_id: str) -> dict[str, Any] | None:
        self.flush()
        row = self._db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        return _run_row(row) if row is not None else None

    def list_runs(
        self,
        *,
        workflow: str | None = None,
        status: str | None = None,
        limit: int = 50,
        cursor: float | None = None,
    ) -> list[dict[str, Any]]:
        """Runs newest first; `cursor` is the `created` of the last run of the previous page."""
        self.flush()
        sql = "SELECT * FROM runs WHERE 1=1"
        args: list[Any] = []
        if workflow:
            sql += " AND workflow = ?"
            args.append(workflow)
        if status:
            sql += " AND status = ?"
            args.append(status)
        if cursor is not None:
            sql += " AND created < ?"
            args.append(cursor)
        sql += " ORDER BY created DESC LIMIT ?"
        args.append(limit)
        return [_run_row(r) for r in self._db.execute(sql, args).fetchall()]

    def prune(self, *, max_age_s: float | None = None, max_runs: int | None = None) -> int:
        """Forget ended runs older than `max_age_s` and beyond the newest `max_runs`, with their
        events; runs still running are kept. Returns how many runs went."""
        self.flush()
        doomed: set[str] = set()
        if max_age_s is not None:
            rows = self._db.execute(
                "SELECT id FROM runs WHERE status != 'running' AND created < ?",
                (time.time() - max_age_s,),
            ).fetchall()
            doomed.update(r["id"] for r in rows)
        if max_runs is not None:
            rows = self._db.execute(
                "SELECT id FROM runs WHERE status != 'running' ORDER BY "
                "created DESC LIMIT -1 OFFSET ?",
                (max_runs,),
            ).fetchall()
            doomed.update(r["id"] for r in rows)
        if not doomed:
            return 0
        ids = list(doomed)
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            self._db.execute("BEGIN")
            self._db.execute(f"DELETE FROM events WHERE run_id IN ({marks})", chunk)
            self._db.execute(f"DELETE FROM runs WHERE id IN ({marks})", chunk)
            self._db.execute("COMMIT")
        return len(ids)

    def count_runs(self) -> int:
        self.flush()
        return int(self._db.execute("SELECT COUNT(*) AS n FROM runs").fetchone()["n"])

    # --- events ----------------------------------------------------------------------------

    def add_event(
        self,
        run_id: str,
        kind: str,
        workflow: str,
        body: dict[str, Any],
        *,
        level: str | None = None,
    ) -> StoredEvent:
        """Write one event now (what is queued first); it as stored."""
        self.queue_event(run_id, kind, workflow, body, level=level)
        return self.flush()[-1]

    def queue_event(
        self,
        run_id: str,
        kind: str,
        workflow: str,
        body: dict[str, Any],
        *,
        level: str | None = None,
    ) -> None:
        """Queue one event for the next `flush`."""
        text = _encode(body)
        self._pending.append(_QueuedEvent((run_id, kind, level, workflow, text), body))

    def events(
        self,
        *,
        after: int = 0,
        run_id: str | None = None,
        limit: int = 10_000,
        flush: bool = True,
    ) -> list[StoredEvent]:
        """Stored events after `after`. Every read of the store writes what this process has
        queued first, except with `flush=False` (`engine.server.shared.tail`, which must not
        wait for another process's transaction: its own writes reach it once written)."""
        if flush:
            self.flush()
        sql = "SELECT * FROM events WHERE seq > ?"
        args: list[Any] = [after]
        if run_id is not None:
            sql += " AND run_id = ?"
            args.append(run_id)
        sql += " ORDER BY seq LIMIT ?"
        args.append(limit)
        return [
            StoredEvent(
                r["seq"], r["run_id"], r["kind"], r["level"], r["workflow"], json.loads(r["body"])
            )
            for r in self._db.execute(sql, args).fetchall()
        ]

    def last_seq(self, *, flush: bool = True) -> int:
        if flush:
            self.flush()
        row = self._db.execute("SELECT MAX(seq) AS m FROM events").fetchone()
        return int(row["m"] or 0)

    # --- idempotency -----------------------------------------------------------------------

    def claim_key(
        self,
        key: str,
        event: str,
        run_ids: list[str],
        window_s: float,
        runs: Sequence[tuple[str, str, str, Any]] = (),
    ) -> tuple[list[str], bool]:
        """Claim an `Idempotency-Key` for `run_ids`, in one transaction that every process
        sharing the store sees in turn: (run_ids, False) when the key was free or had expired,
        (the run ids it was claimed for, True) when it was claimed within the window. `runs`
        (run id, workflow, version, input) are recorded `running` in the same transaction as
        a successful claim, so a claimed key always has its runs (a process that died between
        the two once left a key answering runs that did not exist)."""
        self.flush()
        now = time.time()
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute(
                "SELECT run_ids, created FROM idempotency WHERE key = ?", (key,)
            ).fetchone()
            if row is not None and row["created"] >= now - window_s:
                db.execute("COMMIT")
                return list(json.loads(row["run_ids"])), True
            db.execute("DELETE FROM idempotency WHERE created < ?", (now - window_s,))
            db.execute(
                "INSERT OR REPLACE INTO idempotency VALUES (?, ?, ?, ?)",
                (key, event, json.dumps(run_ids), now),
            )
            for run in runs:
                db.execute(_INSERT_RUN, self._run_args(*run))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return run_ids, False

    def idempotent(self, key: str, window_s: float) -> list[str] | None:
        """The run ids an event with this `Idempotency-Key` started within the window."""
        self.flush()
        row = self._db.execute(
            "SELECT run_ids, created FROM idempotency WHERE key = ?", (key,)
        ).fetchone()
        if row is None or row["created"] < time.time() - window_s:
            return None
        return list(json.loads(row["run_ids"]))

    def remember(self, key: str, event: str, run_ids: list[str]) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO idempotency VALUES (?, ?, ?, ?)",
            (key, event, json.dumps(run_ids), time.time()),
        )

    def prune_keys(self, window_s: float) -> None:
        self.flush()
        self._db.execute("DELETE FROM idempotency WHERE created < ?", (time.time() - window_s,))

    # --- between the processes of one server -----------------------------------------------

    def request_cancel(self, run_id: str) -> None:
        """Ask whichever process runs `run_id` to cancel it (`cancel_requests`)."""
        self.flush()
        self._db.execute("INSERT OR REPLACE INTO cancels VALUES (?, ?)", (run_id, time.time()))

    def cancel_requests(self, max_age_s: float = 60.0, *, flush: bool = True) -> list[str]:
        """Runs some process asked to cancel; requests older than `max_age_s` (nobody ran
        that run) are forgotten."""
        if flush:
            self.flush()
        rows = self._db.execute("SELECT run_id, created FROM cancels").fetchall()
        cut = time.time() - max_age_s
        if any(r["created"] < cut for r in rows):
            self._db.execute("DELETE FROM cancels WHERE created < ?", (cut,))
        return [r["run_id"] for r in rows if r["created"] >= cut]

    def cancel_handled(self, run_id: str) -> None:
        self._db.execute("DELETE FROM cancels WHERE run_id = ?", (run_id,))

    def counter(self, key: str, *, flush: bool = True) -> int:
        """A shared counter (0 when never bumped): how processes tell each other that
        something changed, e.g. a deploy."""
        if flush:
            self.flush()
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return int(row["value"]) if row is not None else 0

    def bump(self, key: str) -> int:
        self.flush()
        self._db.execute(
            "INSERT INTO meta VALUES (?, 1) ON CONFLICT (key) DO UPDATE SET value = value + 1",
            (key,),
        )
        return self.counter(key)


@dataclass(frozen=True)
class _QueuedEvent:
    row: tuple[str, str, str | None, str, str]  # run_id, kind, level, workflow, JSON text
    body: dict[str, Any]


def _run_row(row: sqlite3.Row) -> dict[str, Any]:
    result = json.loads(row["result"]) if row["result"] else None
    return {
        "run": row["id"],
        "workflow": row["workflow"],
        "version": row["version"],
        "status": row["status"],
        "created": row["created"],
        "input": json.loads(row["input"]) if row["input"] else None,
        "result": result,
        "error": json.loads(row["error"]) if row["error"] else None,
    }
