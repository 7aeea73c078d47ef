"""`--bus redis://`: events consumed from a Redis Stream with a consumer group, acknowledged
after their runs are recorded; the idempotency key dedupes redeliveries. Redis is Debian's
redis-server, started by the test on a unix socket of its own."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.engine.serve_support import running_server, wait_until

REDIS = shutil.which("redis-server")
pytestmark = pytest.mark.skipif(
    REDIS is None, reason="needs redis-server (apt-get install redis-server; .ci/run installs it)"
)
redis = pytest.importorskip("redis")


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    sock = tmp_path / "redis.sock"
    assert REDIS is not None
    proc = subprocess.Popen(
        [
            REDIS,
            "--port",
            "0",
            "--unixsocket",
            str(sock),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(sock.exists, what="redis to listen")
        yield f"unix://{sock}"
    finally:
        proc.terminate()
        proc.wait(10)


def test_events_from_the_stream_start_runs_once(tmp_path: Path, redis_url: str) -> None:
    from engine.server.redisbus import GROUP, STREAM, publish

    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "hello.yaml").write_text(
        "version: 1\nname: hello\ntrigger: hi\nsteps:\n  - notify: hello ${ input.who }\n",
        encoding="utf-8",
    )

    async def put(*entries: tuple[str, object, str | None]) -> None:
        client = redis.asyncio.from_url(redis_url)
        for event, data, key in entries:
            await publish(client, event, data, key=key)
        await client.aclose()

    with running_server(flows, bus=redis_url) as server:
        asyncio.run(
            put(
                ("hi", {"who": "stream"}, "k1"),
                ("hi", {"who": "again"}, "k1"),
                ("nobody", {}, None),
            )
        )
        runs = wait_until(
            lambda: (
                (r := httpx.get(f"{server.url}/runs").json()["runs"])
                and all(x["status"] == "succeeded" for x in r)
                and r
            ),
            what="the stream's run",
        )
        detail = httpx.get(f"{server.url}/runs/{runs[0]['run']}").json()
        assert detail["input"] == {"who": "stream"}
        sync = redis.from_url(redis_url)
        wait_until(
            lambda: sync.xpending(STREAM, GROUP)["pending"] == 0, what="every entry acknowledged"
        )
        groups = sync.xinfo_groups(STREAM)
        sync.close()
    assert len(runs) == 1  # the second entry had the same key: nothing started twice
    assert runs[0]["workflow"] == "hello"
    assert groups[0]["name"] in (GROUP, GROUP.encode())
