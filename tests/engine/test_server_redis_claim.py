"""`--bus`: entries a consumer of the group read and never acknowledged (it died) are claimed
by another server with XAUTOCLAIM and run once: those whose runs the dead one had recorded are
only acknowledged. Redis is Debian's redis-server on a free TCP port, started by the test; a
server whose acknowledgements fail is a real one logged in as a Redis ACL user without XACK."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.engine.serve_support import wait_until
from tests.engine.test_server_restart import serve_process

REDIS = shutil.which("redis-server")
pytestmark = pytest.mark.skipif(
    REDIS is None, reason="needs redis-server (apt-get install redis-server; .ci/run installs it)"
)
redis = pytest.importorskip("redis")

QUICK = "version: 1\nname: quick\ntrigger: go\nsteps:\n  - notify: done ${ input.n }\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def redis_port(tmp_path: Path) -> Iterator[int]:
    assert REDIS is not None
    port = _free_port()
    proc = subprocess.Popen(
        [REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        + ["--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def answers() -> bool:
        try:
            return bool(redis.Redis(port=port, socket_timeout=1).ping())
        except redis.exceptions.ConnectionError:
            assert proc.poll() is None, "redis-server ended (the port was taken?)"
            return False

    try:
        wait_until(answers, what="redis to listen")
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


def _runs(url: str) -> list[dict[str, object]]:
    return list(httpx.get(f"{url}/runs?limit=100", timeout=10).json()["runs"])


def test_entries_a_dead_consumer_left_pending_are_claimed_and_run_once(
    tmp_path: Path, redis_port: int
) -> None:
    from engine.server.redisbus import GROUP, STREAM

    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "quick.yaml").write_text(QUICK, encoding="utf-8")
    store = tmp_path / "store.sqlite3"
    sync = redis.Redis(port=redis_port, decode_responses=True)
    # a server that records runs but whose acknowledgements are refused: it dies with them
    # pending, their runs recorded
    sync.acl_setuser(
        "noack", enabled=True, passwords=["+pw"], keys=["*"], commands=["+@all", "-xack"]
    )
    sync.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    noack = f"redis://noack:pw@127.0.0.1:{redis_port}"
    with serve_process(flows, store, "--bus", noack, "--workers", "1", "--no-watch") as (_, url):
        sync.xadd(STREAM, {"event": "go", "data": '{"n": 0}'})
        sync.xadd(STREAM, {"event": "go", "data": '{"n": 1}', "key": "k1"})
        sync.xadd(STREAM, {"event": "go", "data": '{"n": 2}'})
        wait_until(
            lambda: len(r := _runs(url)) == 3 and all(x["status"] == "succeeded" for x in r),
            what="the first server's three runs",
        )
        wait_until(lambda: sync.xpending(STREAM, GROUP)["pending"] == 3, what="failed acks")
    # (the first server is killed on leaving the block)

    # a consumer that reads three more entries and dies before recording anything
    for n in (3, 4, 5):
        sync.xadd(STREAM, {"event": "go", "data": f'{{"n": {n}}}'})
    read = sync.xreadgroup(GROUP, "gone-1", {STREAM: ">"}, count=10)
    assert len(read[0][1]) == 3
    assert sync.xpending(STREAM, GROUP)["pending"] == 6

    bus = f"redis://127.0.0.1:{redis_port}"
    extra = ("--bus", bus, "--bus-claim-idle", "300ms", "--workers", "2", "--no-watch")
    with serve_process(flows, store, *extra) as (_, url):
        wait_until(
            lambda: sync.xpending(STREAM, GROUP)["pending"] == 0,
            timeout=20,
            what="every pending entry claimed and acknowledged",
        )
        runs = wait_until(
            lambda: len(r := _runs(url)) >= 6 and all(x["status"] == "succeeded" for x in r) and r,
            what="the claimed entries' runs",
        )
        inputs = sorted(httpx.get(f"{url}/runs/{x['run']}").json()["input"]["n"] for x in runs)
        assert inputs == [0, 1, 2, 3, 4, 5]  # each entry ran once: none of the first three again
        consumers = {c["name"]: c for c in sync.xinfo_consumers(STREAM, GROUP)}
        # nothing left with it: it is removed from the group once gone long enough
        assert "gone-1" not in consumers or consumers["gone-1"]["pending"] == 0
    sync.close()


def test_an_entry_delivered_too_often_is_dead_lettered_and_gone_consumers_removed(
    tmp_path: Path, redis_port: int
) -> None:
    """An entry that consumers keep taking and never acknowledge (each died, or failed on it)
    goes to `switchboard:events:dead` once delivered `--bus-max-deliveries` times, instead of
    coming back forever; consumers that are gone, with nothing pending, leave the group."""
    from engine.server.redisbus import DEAD, GROUP, STREAM

    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "quick.yaml").write_text(QUICK, encoding="utf-8")
    sync = redis.Redis(port=redis_port, decode_responses=True)
    sync.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    poison = sync.xadd(STREAM, {"event": "go", "data": '{"n": 9}'})
    assert sync.xreadgroup(GROUP, "flaky-1", {STREAM: ">"}, count=1)[0][1][0][0] == poison
    for consumer in ("flaky-2", "flaky-3"):  # delivered again to consumers that died too
        assert sync.xclaim(STREAM, GROUP, consumer, 0, [poison])[0][0] == poison
    sync.xadd(STREAM, {"event": "go", "data": '{"n": 4}'})
    sync.xreadgroup(GROUP, "gone-4", {STREAM: ">"}, count=1)  # delivered once: runs
    pending = {p["message_id"]: p for p in sync.xpending_range(STREAM, GROUP, "-", "+", 10)}
    assert pending[poison]["times_delivered"] == 3

    bus = f"redis://127.0.0.1:{redis_port}"
    extra = ("--bus", bus, "--bus-claim-idle", "300ms", "--bus-max-deliveries", "3")
    gone = {"flaky-1", "flaky-2", "flaky-3", "gone-4"}
    with serve_process(flows, tmp_path / "s.sqlite3", *extra, "--workers", "1", "--no-watch") as (
        proc,
        url,
    ):
        dead = wait_until(
            lambda: sync.xrange(STREAM + DEAD), timeout=20, what="the entry dead-lettered"
        )
        assert len(dead) == 1
        fields = dead[0][1]
        assert fields == {"event": "go", "data": '{"n": 9}', "entry": poison, "deliveries": "3"}
        wait_until(lambda: sync.xpending(STREAM, GROUP)["pending"] == 0, what="both acknowledged")
        runs = wait_until(
            lambda: (r := _runs(url)) and all(x["status"] == "succeeded" for x in r) and r,
            what="the other entry's run",
        )
        assert [httpx.get(f"{url}/runs/{x['run']}").json()["input"] for x in runs] == [{"n": 4}]

        def consumers() -> set[str]:
            return {c["name"] for c in sync.xinfo_consumers(STREAM, GROUP)}

        wait_until(lambda: not consumers() & gone, timeout=20, what="the gone consumers removed")
        # both handled: the stream keeps only the last entry delivered (trimmed below it)
        wait_until(lambda: sync.xlen(STREAM) == 1, timeout=20, what="the stream trimmed")
        assert len(consumers()) == 1  # the server's own stays
        proc.terminate()
        _, log = proc.communicate(timeout=30)
    assert f"entry {poison} was delivered 3 times and never processed" in log
    assert "switchboard:events:dead" in log and "consumer flaky-1 of the group is gone" in log
    sync.close()


def test_max_deliveries_below_one_is_refused_with_what_it_means(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from engine.cli import main

    assert main(["serve", str(tmp_path), "--port", "0", "--bus-max-deliveries", "0"]) == 2
    err = capsys.readouterr().err
    assert "--bus-max-deliveries 0: give 1 or more" in err and "switchboard:events:dead" in err


def test_the_stream_keeps_what_any_group_has_not_been_given_or_acknowledged(
    tmp_path: Path, redis_port: int
) -> None:
    """Handled entries are trimmed from the stream, but only once every group of it (another
    application's too) has been given them and acknowledged them."""
    from engine.server.redisbus import GROUP, STREAM

    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "quick.yaml").write_text(QUICK, encoding="utf-8")
    sync = redis.Redis(port=redis_port, decode_responses=True)
    sync.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
    sync.xgroup_create(STREAM, "audit", id="0")  # another reader of the stream, slow
    ids = [sync.xadd(STREAM, {"event": "go", "data": f'{{"n": {n}}}'}) for n in range(5)]
    bus = f"redis://127.0.0.1:{redis_port}"
    extra = ("--bus", bus, "--bus-claim-idle", "200ms", "--workers", "1", "--no-watch")
    with serve_process(flows, tmp_path / "s.sqlite3", *extra) as (_, url):
        wait_until(lambda: len(_runs(url)) == 5, what="the five runs")
        wait_until(lambda: sync.xpending(STREAM, GROUP)["pending"] == 0, what="acknowledged")
        time.sleep(1.0)  # a few claim rounds: nothing may go while audit has not read them
        assert sync.xlen(STREAM) == 5
        got = sync.xreadgroup("audit", "auditor", {STREAM: ">"}, count=3)
        assert [e[0] for e in got[0][1]] == ids[:3]
        time.sleep(1.0)  # given but not acknowledged: still kept
        assert sync.xlen(STREAM) == 5
        sync.xack(STREAM, "audit", *ids[:3])
        wait_until(lambda: sync.xlen(STREAM) == 3, what="the three audit has handled trimmed")
        assert [e[0] for e in sync.xrange(STREAM)] == ids[2:]  # from audit's last delivered
    sync.close()
