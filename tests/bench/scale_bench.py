"""Linear at any size: load, validate, fmt, `fmt --check` of a file that would change, and a
mocked run, at 1,000, 10,000 and 100,000 steps, in µs per step (target: within 1.5x from the
smallest size to the largest, for each). Run by hand: `python tests/bench/scale_bench.py`
(`--max 10000` for a quick look). Figures are CPU time, so a busy machine slows them less."""

from __future__ import annotations

import argparse
import asyncio
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from engine import (  # noqa: E402
    CallStep,
    MockResponse,
    NotifyStep,
    Retry,
    WaitStep,
    Workflow,
    dump_workflow,
    parse_workflow,
    run_mocked,
)
from engine.core.expressions import compile_expression  # noqa: E402


def workflow(n: int) -> Workflow:
    """`n` steps in a chain, each reading the one before (so every expression is distinct), laid
    out every tenth step: about 90 bytes a step, so 100,000 steps stay under the 10 MiB limit."""
    steps: list = []
    for i in range(n):
        after = [f"s{i - 1}"] if i else []
        if i % 10 == 9:
            steps.append(
                NotifyStep(id=f"s{i}", after=after, message=f"at ${{ steps.s{i - 1}.status }}")
            )
        elif i % 10 == 5:
            steps.append(WaitStep(id=f"s{i}", after=after, wait=10))
        else:
            steps.append(
                CallStep(
                    id=f"s{i}",
                    after=after,
                    service="S",
                    action="a",
                    with_={"prev": f"${{ steps.s{i - 1}.status }}" if i else 0},
                    retry=Retry(attempts=2) if i % 10 == 3 else None,
                )
            )
    return Workflow(
        name=f"scale{n}",
        steps=steps,
        layout={f"s{i}": (float(i * 24), 0.0) for i in range(0, n, 10)},
    )


def per_step(seconds: float, n: int) -> float:
    return seconds / n * 1e6


def cpu() -> float:
    """CPU seconds of this process (figures are CPU time: the machine may be shared)."""
    return time.process_time()


def cli(*args: str) -> float:
    """CPU seconds the command took in its own process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [sys.executable, "-m", "engine.cli", *args], cwd=ROOT, capture_output=True, check=False
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def startup(tmp: Path) -> float:
    """The least CPU time of `validate` on a ten-step file: taken off the CLI rows, so they show
    the cost per step rather than the interpreter's start-up spread over the steps."""
    path = tmp / "one.yaml"
    path.write_text(dump_workflow(workflow(10)))
    return min(cli("validate", str(path)) for _ in range(5))


_PEAK = """
import sys, tracemalloc
from pathlib import Path
from engine import parse_workflow
data = Path(sys.argv[1]).read_bytes()
tracemalloc.start()
loaded = parse_workflow(data, sys.argv[1])
assert loaded.ok
print(tracemalloc.get_traced_memory()[1] / 1024)
"""


def peak_load_kib(path: Path) -> float:
    """The peak of the memory Python allocated while loading (and validating) the file, in KiB,
    measured with tracemalloc in a fresh process (the file's bytes were read before)."""
    done = subprocess.run(
        [sys.executable, "-c", _PEAK, str(path)], cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    return float(done.stdout)


def best(action: Callable[[], object], times: int) -> float:
    """The least CPU seconds of `times` goes (small sizes are repeated: one go is too short to
    time on a busy machine)."""
    spent = []
    for _ in range(times):
        t0 = cpu()
        action()
        spent.append(cpu() - t0)
    return min(spent)


def measure(n: int, tmp: Path, base: float) -> dict[str, float]:
    text = dump_workflow(workflow(n))
    path = tmp / f"scale{n}.yaml"
    path.write_text(text)
    changed = tmp / f"changed{n}.yaml"
    changed.write_text(
        text.replace("  - id: s0\n", "  - id:   s0\n", 1).replace("layout:", "layout:   ", 1)
    )
    reps = max(1, 20_000 // n)
    cli_reps = max(1, 3_000 // n)
    out: dict[str, float] = {}
    loaded = parse_workflow(text, str(path))
    assert loaded.ok, loaded.problems[:3]

    def load() -> None:
        # a file loaded the first time: its expressions are not in the shared caches yet (a
        # repeated go would find up to 4,096 there, which only the small sizes hold)
        compile_expression.cache_clear()
        parse_workflow(text, str(path))

    out["load + validate"] = per_step(best(load, reps), n)
    validate = min(cli("validate", str(path)) for _ in range(cli_reps))
    out["validate (CLI)"] = per_step(validate - base, n)
    check = min(cli("fmt", "--check", str(changed)) for _ in range(cli_reps))
    out["fmt --check, changed (CLI)"] = per_step(check - base, n)
    wf = loaded.model
    assert wf is not None
    out["write"] = per_step(best(lambda: dump_workflow(wf), reps), n)
    mocks = {"S.a": MockResponse(body={"ok": 1})}

    def run() -> None:
        result, _ = asyncio.run(run_mocked(wf, mocks))
        assert result.status == "succeeded", result.error

    # the first run of a workflow compiles its templates; the runs after it reuse them
    out["mocked run, first"] = per_step(best(run, 1), n)
    out["mocked run, again"] = per_step(best(run, max(1, reps - 1)), n)
    out[_PEAK_ROW] = peak_load_kib(path) / n * 1e6  # shown per step below
    return out


_PEAK_ROW = "peak memory, load (KiB)"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--max", type=int, default=100_000)
    args = ap.parse_args()
    sizes = [n for n in (1000, 10_000, 100_000) if n <= args.max]
    with tempfile.TemporaryDirectory() as d:
        base = startup(Path(d))
        rows = {n: measure(n, Path(d), base) for n in sizes}
    print(f"CPU time; the CLI rows less {base * 1000:.0f} ms of start-up (validate of 10 steps)")
    names = [name for name in rows[sizes[0]] if name != _PEAK_ROW]
    print(f"{'µs per step':28s}" + "".join(f"{n:>12,}" for n in sizes) + "   ratio  (<= 1.5)")
    worst = 0.0
    for name in names:
        values = [rows[n][name] for n in sizes]
        ratio = values[-1] / values[0]
        worst = max(worst, ratio)
        print(f"{name:28s}" + "".join(f"{v:12.1f}" for v in values) + f"   {ratio:5.2f}")
    peaks = [rows[n][_PEAK_ROW] / 1e6 for n in sizes]
    print(f"{'peak memory, load: KiB/step':28s}" + "".join(f"{v:12.2f}" for v in peaks))
    print(
        f"{'  and MiB in all':28s}" + "".join(f"{v * n / 1024:12.1f}" for v, n in zip(peaks, sizes))
    )
    print(f"worst ratio: {worst:.2f} ({'met' if worst <= 1.5 else 'NOT met'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
