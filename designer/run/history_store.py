"""Run history kept across restarts: ended runs in SQLite, in the server's store format.

The file is the one `switchboard serve` keeps (`engine.RunStore`: a `runs` table whose `result`
is the run result JSON), so a designer's history and a server's can be read by the same code.
What the server has no column for (the environment shown in the toolbar, run or emit) rides in
the result JSON under `designer`. It lives beside the autosaves (the application's data
folder); a window without autosaves keeps its history in memory only.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from engine import RunRecord, RunStore, record_from_result

__all__ = ["HistoryStore", "HISTORY_FILE", "KEEP_RUNS"]

HISTORY_FILE = "run-history.sqlite3"
KEEP_RUNS = 500  # the oldest ended runs beyond these are dropped when the store opens


class HistoryStore:
    """Ended runs by workflow name. Failures to read or write cost the history, never a run:
    they are reported through `error` and the store goes on in memory."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.error = ""
        try:
            # recover=False: another window (or designer) may be running a run recorded here;
            # the server's recovery would mark it interrupted
            self._store = RunStore(str(path) if path is not None else ":memory:", recover=False)
            self._store.prune(max_runs=KEEP_RUNS)
        except (sqlite3.Error, OSError) as e:
            self.error = f"Run history is not kept across restarts: cannot open {path}: {e}"
            self._store = RunStore(":memory:", recover=False)

    def started(self, rec: RunRecord) -> None:
        """A run began (one the designer is killed under is kept as interrupted)."""
        try:
            self._store.add_run(rec.run_id, rec.workflow, "", rec.input)
            self._store.flush()  # the store queues writes; a designer's are few: write now
        except sqlite3.Error as e:
            self.error = f"Run history: cannot keep run {rec.run_id}: {e}"

    def save(self, rec: RunRecord) -> None:
        """Keep an ended run (its result with every step's output)."""
        if rec.result is None:
            return
        result: dict[str, Any] = rec.result.to_json()
        result["designer"] = {"env": rec.env, "source": rec.source}
        try:
            self._store.add_run(rec.run_id, rec.workflow, "", rec.input)
            self._store.finish_run(rec.run_id, result)
            self._store.flush()
        except sqlite3.Error as e:
            self.error = f"Run history: cannot keep run {rec.run_id}: {e}"

    def get(self, run_id: str) -> RunRecord | None:
        try:
            row = self._store.get_run(run_id)
        except sqlite3.Error:
            return None
        return _record(row) if row is not None else None

    def runs(self, workflow: str, limit: int = 100) -> list[RunRecord]:
        """The kept runs of `workflow`, newest first, as records the run UI can show."""
        try:
            rows = self._store.list_runs(workflow=workflow, limit=limit)
        except sqlite3.Error as e:
            self.error = f"Run history: cannot read it: {e}"
            return []
        return [rec for row in rows if (rec := _record(row)) is not None]

    def close(self) -> None:
        self._store.close()


def _record(row: dict[str, Any]) -> RunRecord | None:
    """A stored run as a record; runs that never ended (interrupted) have their error only."""
    result = row.get("result")
    if not isinstance(result, dict):
        result = {"status": row.get("status", "failed"), "error": row.get("error"), "steps": {}}
    extra = result.get("designer") or {}
    rec = record_from_result(
        result, env=str(extra.get("env", "")), source=str(extra.get("source", "run"))
    )
    rec.run_id = str(row["run"])
    rec.workflow = str(row["workflow"])
    rec.started_wall = float(row.get("created") or time.time())
    rec.input = row.get("input")
    rec.on_canvas = True
    return rec
