"""`switchboard serve` benchmark: a real server process over the 3-step workflow against local
stand-in services (their own process), printed side by side in one run.

    python3 tests/bench/serve_bench.py [--quick] [--runs N] [--workers 1,2]

(a) events accepted per second (POST /events/NAME, 202) with 1, 50 and 500 concurrent clients;
(b) runs completed per second and p50/p99 latency of POST /workflows/NAME/runs?wait=true with
    1, 50 and 500 concurrent clients;
(c) the server's resident memory before and after N runs (default 10,000; --quick 2,000; the
    issue's figure is --runs 100000), with
    retention on (--retain-runs 10000), so it should stay flat (all its processes, summed).

(a) and (b) are printed for each `serve --workers` count (default 1 and 2), then the ratio of
the last to the first: the servers run side by side and take turns, 3 rounds (medians). The
load generator (this process) and the services run on the same machine: on two cores they take
CPU the workers would use, so both are kept light (wire_load.py: raw asyncio protocols, httptools,
uvloop; with httpx and aiohttp.web they took about as much CPU per run as the server). Beside
runs/s, the server's own CPU per run (all its processes, from /proc) and the share of the
machine's CPU the server got are printed: what a second worker can add is bounded by the CPU
the others leave it.

The peer to beat is Node-RED's `http in` flow doing the same three calls: about 500 runs/s at 1
and 780 at 50 in flight, measured on this project's machines (not re-measured here: Node-RED is
not installed by the project); those figures are printed beside ours.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from wire_load import encode_post, hammer, run  # noqa: E402

QUICK = "--quick" in sys.argv
RUNS = (
    int(sys.argv[sys.argv.index("--runs") + 1])
    if "--runs" in sys.argv
    else (2_000 if QUICK else 10_000)
)
SECONDS = 2.0 if QUICK else 3.0
ROUNDS = 2 if QUICK else 3
WORKERS = [
    int(w)
    for w in (
        sys.argv[sys.argv.index("--workers") + 1] if "--workers" in sys.argv else "1,2"
    ).split(",")
]
NODE_RED = {1: 500, 50: 780}

WORKFLOW = """version: 1
name: bench
trigger: benchEvent
steps:
  - service: PolicyService
    action: updatePolicy
  - id: check
    service: ComplianceService
    action: runCheck
    with: {policyId: "${ input.policyId }", version: "${ steps.updatePolicy.output.version }"}
  - service: NotificationService
    action: sendUpdate
    with: {message: "Policy ${ input.policyId }: ${ steps.check.output.status }"}
"""


def rss_kib(pid: int) -> int:
    """Resident memory of `pid` and its children (the workers), summed."""
    total = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            total += int(line.split()[1])
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            total += rss_kib(int(child))
    return total


def _accepted(status: int, body: bytes) -> None:
    assert status == 202, body


def _succeeded(status: int, body: bytes) -> None:
    assert status == 200 and json.loads(body)["status"] == "succeeded", body


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of `pid` and its children (the workers), summed."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            total += cpu_seconds(int(child))
    return total


def measure(url: str, clients: int, pid: int) -> tuple[float, ...]:
    """events/s, runs/s, p50 and p99 ms, the server's CPU ms per run and its share of the
    machine's CPU while the runs went on."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    where = f"{host}:{port}"
    event = encode_post(where, "/events/benchEvent", {"policyId": "P-7"})
    events, _ = run(hammer(host, int(port), event, clients, SECONDS, _accepted))
    wait_idle(url)
    request = encode_post(where, "/workflows/bench/runs?wait=true&timeout=60s", {"policyId": "P-7"})
    cpu, t = cpu_seconds(pid), time.perf_counter()
    runs, lat = run(hammer(host, int(port), request, clients, SECONDS, _succeeded))
    cpu, t = cpu_seconds(pid) - cpu, time.perf_counter() - t
    lat.sort()
    return (
        events,
        runs,
        lat[len(lat) // 2] * 1000,
        lat[int(len(lat) * 0.99)] * 1000,
        cpu / len(lat) * 1000,
        cpu / t / (os.cpu_count() or 1),
    )


def wait_idle(url: str) -> None:
    """Wait until the runs the events started have finished (so they do not skew the next)."""
    deadline = time.monotonic() + 300
    with httpx.Client(base_url=url, timeout=60) as client:
        while time.monotonic() < deadline:
            if not client.get("/runs?status=running&limit=1").json()["runs"]:
                return
            time.sleep(0.05)


def many_runs(url: str, n: int) -> float:
    """Runs `n` runs 50 at a time; returns runs per second."""
    host, port = url.removeprefix("http://").rsplit(":", 1)
    request = encode_post(f"{host}:{port}", "/workflows/bench/runs?wait=true", {"policyId": "P-7"})
    rate, _ = run(hammer(host, int(port), request, 50, 3600, _succeeded, total=n))
    return float(rate)


def start_server(folder: Path, store: Path, workers: int) -> tuple[subprocess.Popen[str], str]:
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "engine.cli",
            "serve",
            str(folder),
            "--port",
            "0",
            "--store",
            str(store),
            "--retain-runs",
            "10000",
            "--no-watch",
            "--workers",
            str(workers),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        cwd=Path(__file__).resolve().parents[2],
    )
    assert server.stdout is not None
    return server, server.stdout.readline().rsplit(" ", 1)[1].strip()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        services = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("wire_load.py")), "serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert services.stdout is not None
        base = f"http://127.0.0.1:{services.stdout.readline().strip()}"
        folder = Path(tmp) / "flows"
        folder.mkdir()
        (folder / "bench.yaml").write_text(WORKFLOW, encoding="utf-8")
        (folder / "environments.yaml").write_text(
            "version: 1\ndefault: live\nenvironments:\n  live:\n    services:\n"
            f"      PolicyService: {base}\n      ComplianceService: {base}\n"
            f"      NotificationService: {base}\n",
            encoding="utf-8",
        )
        servers = {w: start_server(folder, Path(tmp) / f"store{w}.sqlite3", w) for w in WORKERS}
        print(
            f"{'workers':>7} {'clients':>8} {'events/s':>10} {'runs/s':>8} {'p50 ms':>8}"
            f" {'p99 ms':>8} {'Node-RED runs/s':>16} {'server CPU ms/run':>18} "
            f"{'server CPU share':>17}"
        )
        rows: dict[int, dict[int, float]] = {}
        try:
            for clients in (1, 50, 500):
                # the servers take turns, ROUNDS times: on a busy machine the load changes
                # from minute to minute, and turns expose each server to the same; medians
                got: dict[int, list[tuple[float, ...]]] = {w: [] for w in WORKERS}
                for _ in range(ROUNDS):
                    for w in WORKERS:
                        got[w].append(measure(servers[w][1], clients, servers[w][0].pid))
                for w in WORKERS:
                    events, runs, p50, p99, cpu, share = (
                        sorted(col)[len(col) // 2] for col in zip(*got[w], strict=True)
                    )
                    rows.setdefault(w, {})[clients] = runs
                    peer = NODE_RED.get(clients)
                    print(
                        f"{w:>7} {clients:>8} {events:>10.0f} {runs:>8.0f} "
                        f"{p50:>8.1f} {p99:>8.1f} {peer if peer else '-':>16} {cpu:>18.2f} "
                        f"{share:>16.0%}",
                        flush=True,
                    )
            if len(WORKERS) > 1:
                first, last = rows[WORKERS[0]], rows[WORKERS[-1]]
                print(
                    f"ratio runs/s workers {WORKERS[-1]}/{WORKERS[0]}: "
                    + " ".join(f"{last[c] / first[c]:.2f} at {c}" for c in (1, 50, 500)),
                    flush=True,
                )
            workers = WORKERS[0]
            server, url = servers[workers]
            before = rss_kib(server.pid)
            t = time.perf_counter()
            marks = []  # resident memory after each fifth of the runs: flat?
            for _ in range(5):
                many_runs(url, RUNS // 5)
                marks.append(f"{rss_kib(server.pid) / 1024:.0f}")
            took = time.perf_counter() - t
            print(
                f"memory ({workers} worker{'s' if workers != 1 else ''}): "
                f"{before / 1024:.0f} MiB before, {marks[-1]} MiB after "
                f"{RUNS // 5 * 5:,} runs (each fifth: {' '.join(marks)} MiB; "
                f"{RUNS / took:.0f} runs/s; retention 10,000 runs)"
            )
        finally:
            for server, _ in servers.values():
                server.terminate()
                server.wait(60)
            assert services.stdin is not None
            services.stdin.close()
            services.wait(10)


if __name__ == "__main__":
    main()
