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


def test_emit_steps_publish_to_the_stream_and_its_consumer_starts_their_runs(
    tmp_path: Path, redis_url: str
) -> None:
    from engine.runtime.ports import Cascade
    from engine.server.redisbus import STREAM

    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "ask.yaml").write_text(
        'version: 1\nname: ask\nsteps:\n  - emit: {event: asked, data: {who: "${ input.who }"}}\n',
        encoding="utf-8",
    )
    (flows / "answer.yaml").write_text(
        "version: 1\nname: answer\ntrigger: asked\nsteps:\n  - notify: hello ${ input.who }\n",
        encoding="utf-8",
    )
    (flows / "loop.yaml").write_text(  # triggers itself: the cascade stops it, stream or not
        "version: 1\nname: loop\ntrigger: tick\nsteps:\n  - emit: tick\n", encoding="utf-8"
    )
    sync = redis.from_url(redis_url)
    with running_server(flows, bus=redis_url) as server:
        asked = httpx.post(
            f"{server.url}/workflows/ask/runs?wait=true", json={"who": "ada"}, timeout=10
        ).json()
        assert asked["status"] == "succeeded"
        # started elsewhere, later: the step does not know the runs
        assert asked["steps"]["emit"]["output"] == {"event": "asked", "runs": []}
        answered = wait_until(
            lambda: httpx.get(f"{server.url}/runs?workflow=answer").json()["runs"],
            what="the run the stream's entry started",
        )
        run = httpx.get(f"{server.url}/runs/{answered[0]['run']}").json()
        assert run["input"] == {"who": "ada"} and run["status"] in ("running", "succeeded")
        entries = [
            {k.decode(): v.decode() for k, v in fields.items()} for _, fields in sync.xrange(STREAM)
        ]
        assert {"event": "asked", "data": '{"who": "ada"}', "depth": "1"} in entries

        httpx.post(f"{server.url}/events/tick", json={})
        loops = wait_until(
            lambda: (
                len(r := httpx.get(f"{server.url}/runs?workflow=loop&limit=100").json()["runs"])
                == Cascade.MAX_DEPTH
                and all(x["status"] == "succeeded" for x in r)
                and r
            ),
            what=f"{Cascade.MAX_DEPTH} runs of the self-triggering workflow",
        )
        last = min(loops, key=lambda x: -x["created"])["run"]
        with httpx.stream("GET", f"{server.url}/runs/{last}/events") as sse:
            text = "".join(sse.iter_text())
        assert "not delivered" in text  # the deepest run said why it stopped
        depths = [
            int(f.get(b"depth", b"0")) for _, f in sync.xrange(STREAM) if f[b"event"] == b"tick"
        ]
        assert max(depths) == Cascade.MAX_DEPTH - 1
        assert len(httpx.get(f"{server.url}/runs?workflow=loop&limit=100").json()["runs"]) == (
            Cascade.MAX_DEPTH
        )
    sync.close()
