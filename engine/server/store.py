"""The server's store: runs, their events and notifications, idempotency keys, in SQLite (WAL).

One connection, used only from the server's event loop thread (the sinks that write here are
called synchronously by the engine, on that loop). Every event gets a global sequence number
(`seq`), which is what SSE's `Last-Event-ID` and the WebSocket's `since` resume from. A store
opened over a file that holds runs still `running` (the previous process died under them) marks
them `failed` with error type `interrupted` and records a notification saying so.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Store", "StoredEvent", "INTERRUPTED"]

INTERRUPTED = "interrupted"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    workflow TEXT NOT NULL,
    version TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    created REAL NOT NULL,
    input TEXT,
    result TEXT,
    error TEXT
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
"""


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

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self.interrupted = self._mark_interrupted()

    def close(self) -> None:
        self._db.close()

    # --- runs ------------------------------------------------------------------------------

    def _mark_interrupted(self) -> list[str]:
        rows = self._db.execute("SELECT id, workflow FROM runs WHERE status = 'running'").fetchall()
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

    def add_run(self, run_id: str, workflow: str, version: str, input: Any) -> None:
        """Record a run as `running` (nothing happens when it is recorded already)."""
        self._db.execute(
            "INSERT OR IGNORE INTO runs (id, workflow, version, status, created, input) "
            "VALUES (?, ?, ?, 'running', ?, ?)",
            (run_id, workflow, version, time.time(), json.dumps(input, default=str)),
        )

    def finish_run(self, run_id: str, result: dict[str, Any]) -> None:
        self._db.execute(
            "UPDATE runs SET status = ?, result = ?, error = ? WHERE id = ?",
            (
                result.get("status", "failed"),
                json.dumps(result, default=str),
                json.dumps(result.get("error")),
                run_id,
            ),
        )

    def reopen_run(self, run_id: str) -> dict[str, Any] | None:
        """A run marked interrupted at start is `running` again (it went on elsewhere: a durable
        runner attaches to it). Returns the run, or None when it is not one of those."""
        self._db.execute(
            "UPDATE runs SET status = 'running', error = NULL WHERE id = ? AND result IS NULL",
            (run_id,),
        )
        run = self.get_run(run_id)
        return run if run is not None and run["status"] == "running" else None

    def get_run(self, run_id: str) -> dict[str, Any] | None:
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
        text = json.dumps(body, ensure_ascii=False, default=str)
        cur = self._db.execute(
            "INSERT INTO events (run_id, kind, level, workflow, body) VALUES (?, ?, ?, ?, ?)",
            (run_id, kind, level, workflow, text),
        )
        return StoredEvent(int(cur.lastrowid or 0), run_id, kind, level, workflow, body)

    def events(
        self, *, after: int = 0, run_id: str | None = None, limit: int = 10_000
    ) -> list[StoredEvent]:
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

    def last_seq(self) -> int:
        row = self._db.execute("SELECT MAX(seq) AS m FROM events").fetchone()
        return int(row["m"] or 0)

    # --- idempotency -----------------------------------------------------------------------

    def idempotent(self, key: str, window_s: float) -> list[str] | None:
        """The run ids an event with this `Idempotency-Key` started within the window."""
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
        self._db.execute("DELETE FROM idempotency WHERE created < ?", (time.time() - window_s,))


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
