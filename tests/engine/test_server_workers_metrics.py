"""`serve --workers 2` and /metrics: one scrape, whichever worker answers it, counts the runs of
both (prometheus-client's multiprocess mode in a directory the parent makes and removes); the
in-flight gauge sums the live workers and forgets a dead one; /readyz speaks for its worker."""

from __future__ import annotations

import glob
import os
import re
import signal
import tempfile
from pathlib import Path

import httpx
import pytest

from tests.engine.serve_support import wait_until
from tests.engine.test_server_workers import _folder, two_workers

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="--workers forks")


def _value(text: str, sample: str) -> float:
    """The value of one sample line (`name{labels}`) of a scrape; 0 when absent."""
    m = re.search(rf"^{re.escape(sample)} (\S+)$", text, re.M)
    return float(m.group(1)) if m else 0.0


def test_one_scrape_counts_the_runs_of_every_worker(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    with two_workers(folder, tmp_path / "s.sqlite3", "--no-watch", "--grace", "1s") as (
        proc,
        (a, b),
        _,
    ):
        pid_a, pid_b = (c.get("/readyz").json()["worker"] for c in (a, b))
        where = glob.glob(os.path.join(tempfile.gettempdir(), f"switchboard-metrics-{proc.pid}-*"))  # type: ignore[attr-defined]
        assert len(where) == 1 and os.listdir(where[0])  # the workers' files
        for n in range(3):
            assert a.post("/workflows/quick/runs?wait=true", json={"n": n}).status_code == 200
        for n in range(2):
            assert b.post("/workflows/quick/runs?wait=true", json={"n": n}).status_code == 200
        b.post("/events/quickEvent", json={"n": 9})
        finished = 'switchboard_runs_finished_total{status="succeeded",workflow="quick"}'
        for client in (a, b):  # either worker's scrape has both workers' runs
            text = wait_until(
                lambda c=client: (t := c.get("/metrics").text) and _value(t, finished) == 6 and t,
                what="six finished runs in one scrape",
            )
            assert _value(text, 'switchboard_runs_started_total{workflow="quick"}') == 6
            assert _value(text, 'switchboard_events_received_total{event="quickEvent"}') == 1
            steps = (
                "switchboard_step_duration_seconds_count"
                '{status="succeeded",step="notify",workflow="quick"}'
            )
            assert _value(text, steps) == 6
            assert _value(text, 'switchboard_notifications_total{level="info"}') == 6
            assert text.count("# TYPE switchboard_runs_finished_total counter") <= 1

        # in flight: one slow run on each worker, summed; a worker that dies stops counting
        a.post("/workflows/slow/runs", json={})
        b.post("/workflows/slow/runs", json={})
        wait_until(
            lambda: _value(b.get("/metrics").text, "switchboard_runs_in_flight") == 2,
            what="two runs in flight in one scrape",
        )
        assert a.get("/readyz").json() == {
            "status": "ready",
            "workflows": 2,
            "running": 1,  # its own
            "worker": pid_a,
        }
        os.kill(pid_a, signal.SIGKILL)
        text = wait_until(
            lambda: (
                (t := b.get("/metrics").text) and _value(t, "switchboard_runs_in_flight") == 1 and t
            ),
            what="the dead worker's run no longer in flight",
        )
        assert _value(text, finished) == 6  # what it counted stays counted
        assert b.get("/readyz").json()["worker"] == pid_b
        proc.send_signal(signal.SIGTERM)  # type: ignore[attr-defined]
        proc.wait(30)  # type: ignore[attr-defined]
        assert not os.path.exists(where[0])  # the parent removed the directory


def test_one_process_keeps_its_metrics_in_memory(tmp_path: Path) -> None:
    from tests.engine.test_server_restart import serve_process

    folder = _folder(tmp_path)
    with serve_process(folder, tmp_path / "s.sqlite3", "--workers", "1") as (_, url):
        r = httpx.post(f"{url}/workflows/quick/runs?wait=true", json={"n": 1})
        assert r.status_code == 200
        text = httpx.get(f"{url}/metrics").text
        assert _value(text, 'switchboard_runs_started_total{workflow="quick"}') == 1
        assert "switchboard_runs_started_created" in text  # (multiprocess mode has none)


def test_a_killed_servers_metrics_directory_is_removed_by_the_next(tmp_path: Path) -> None:
    # SIGKILL leaves the parent no chance to remove its directory; the next server does
    import subprocess
    import sys

    dead = subprocess.Popen([sys.executable, "-c", "pass"])  # a pid now dead
    dead.wait()
    stale = tempfile.mkdtemp(prefix=f"switchboard-metrics-{dead.pid}-")
    Path(stale, "counter_1.db").write_bytes(b"")
    folder = _folder(tmp_path)
    with two_workers(folder, tmp_path / "s.sqlite3", "--no-watch"):
        assert not os.path.exists(stale)


def test_a_worker_writes_its_metrics_to_the_directory_even_if_imported_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # prometheus-client picks its value class on first import: this process imported it without
    # the variable (as a plug-in imported before the fork would), yet the worker's metrics
    # must go to the files every worker's scrape reads
    from prometheus_client import values

    from engine.server.metrics import MULTIPROC_ENV, Metrics

    monkeypatch.setattr(values, "ValueClass", values.ValueClass)  # restored after the test
    monkeypatch.setenv(MULTIPROC_ENV, str(tmp_path))
    assert not getattr(values.ValueClass, "_multiprocess", False)
    one = Metrics(lambda: 3, lambda: 0, lambda: 0, multiprocess=True)
    one.events.labels("ping").inc()
    assert sorted(p.name.split("_")[0] for p in tmp_path.iterdir()) == ["counter", "gauge", "gauge"]
    text = one.text().decode()
    assert _value(text, 'switchboard_events_received_total{event="ping"}') == 1
    assert _value(text, "switchboard_runs_in_flight") == 3
