"""Start-up of the command line beside a bare interpreter importing PyYAML, in one run.

Prints the best of several runs of each (bytecode compiled first), and the ratio of
`switchboard validate` to `python -c 'import yaml'` (target: at most 3x). Run by hand:
`python tests/bench/startup_bench.py`.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNS = 15


def best(cmd: list[str]) -> float:
    times = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, capture_output=True, check=False)
        times.append(time.perf_counter() - t0)
    return min(times)


PLAIN = """\
version: 1
name: plain
steps:
  - service: PolicyService
    action: getPolicy
  - notify: "got ${ steps.getPolicy.output.id }"
"""


def main() -> int:
    import tempfile

    py = sys.executable
    plain = Path(tempfile.mkdtemp()) / "plain.yaml"
    plain.write_text(PLAIN)
    subprocess.run([py, "-m", "compileall", "-q", str(ROOT / "engine")], check=False)
    base = best([py, "-c", "import yaml"])
    rows = [
        ("python -c 'import yaml'", base),
        ("switchboard --help", best([py, "-m", "engine.cli", "--help"])),
        (
            "switchboard validate (no input schema)",
            best([py, "-m", "engine.cli", "validate", str(plain)]),
        ),
        (
            "switchboard validate (an input schema)",
            best([py, "-m", "engine.cli", "validate", "workflows/emergency_dispatch.yaml"]),
        ),
        (
            "switchboard validate workflows/",
            best([py, "-m", "engine.cli", "validate", "workflows"]),
        ),
    ]
    for name, seconds in rows:
        print(f"{name:40s} {seconds * 1000:7.1f} ms   {seconds / base:4.1f}x")
    ratio = rows[2][1] / base
    print(
        f"ratio validate/import-yaml: {ratio:.2f} (target <= 3.0): "
        f"{'met' if ratio <= 3.0 else 'NOT met'}; a workflow with an input schema adds "
        f"jsonschema's import ({(rows[3][1] - rows[2][1]) * 1000:.0f} ms)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
