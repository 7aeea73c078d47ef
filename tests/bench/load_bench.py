"""Loading and validating a generated 5,000-step workflow vs `yaml.load(CSafeLoader)` of the file.

Targets (issue #2): ratio at most 2.0, and at most 2 s. Run: python3 tests/bench/load_bench.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from engine import (  # noqa: E402
    CallStep,
    NotifyStep,
    Retry,
    WaitStep,
    Workflow,
    dump_workflow,
    parse_workflow,
)


def generate(n: int) -> str:
    steps = []
    for i in range(n):
        after = [steps[-1].id] if steps else []
        if i % 10 == 9:
            steps.append(
                NotifyStep(
                    id=f"n{i}",
                    after=after,
                    level="warning",
                    message=f"step {i}: ${{ steps.c{i - 1}.output.status }}",
                )
            )
        elif i % 10 == 4:
            steps.append(WaitStep(id=f"w{i}", after=after, wait=250))
        else:
            steps.append(
                CallStep(
                    id=f"c{i}",
                    after=after,
                    service=f"Service{i % 13}",
                    action=f"act{i % 7}",
                    with_={"policyId": "${ input.policyId }", "n": i, "tags": ["a", "b"]},
                    headers={"X-Trace": "${ run.id }"},
                    if_="${ input.enabled }" if i % 3 == 0 else None,
                    timeout=5000,
                    retry=Retry(attempts=3, delay=500) if i % 2 else None,
                )
            )
    wf = Workflow(
        name="bench",
        trigger=["benchEvent"],
        steps=steps,  # type: ignore[arg-type]
        layout={s.id: (i * 240, (i % 5) * 120) for i, s in enumerate(steps)},
    )
    return dump_workflow(wf)


def best_of(fn, runs: int = 5) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> int:
    text = generate(5000)
    data = text.encode()
    loaded = parse_workflow(data, "bench.yaml")
    assert loaded.ok, loaded.errors[:3]
    assert len(loaded.model.steps) == 5000  # type: ignore[union-attr]
    base = best_of(lambda: yaml.load(data, Loader=yaml.CSafeLoader))
    ours = best_of(lambda: parse_workflow(data, "bench.yaml"))
    ratio = ours / base
    print(f"file: 5,000 steps, {len(data) / 1024:.0f} KiB")
    print(f"yaml.load(CSafeLoader):        {base * 1000:8.1f} ms (baseline)")
    print(f"switchboard load + validate:  {ours * 1000:8.1f} ms")
    print(
        f"ratio: {ratio:.2f} (target <= 2.0); absolute target <= 2000 ms: "
        f"{'met' if ours <= 2.0 else 'MISSED'}"
    )
    return 0 if ratio <= 2.0 and ours <= 2.0 else 1


if __name__ == "__main__":
    sys.exit(main())
