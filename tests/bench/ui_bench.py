"""Run UI benchmark: is the window responsive during a 2,000-step mocked run; how fast is the log?

Run with `python3 tests/bench/ui_bench.py`. On qasync's loop (as `switchboard design` runs), a
16 ms QTimer ticks while the designer runs a 2,000-step workflow on mocks three times, with the
canvas (zoomed out to fit), log, history and step results updating; the longest gap between
ticks is the worst stall a user would feel. The engine runs in its worker process
(engine.worker); the GUI thread decodes its event batches within a budget per tick. Measured in
the same run, as the baseline: the same timer on the idle loop (the floor on this machine).
Then 100,000 log lines are appended in 1,000-line batches into the shown log panel (the
controller's batching), beside the model alone (no view) and one line per insert.
Targets: longest gap <= 50 ms; 100,000 lines in well under a second or two.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import qasync  # noqa: E402
from PySide6.QtCore import QSettings, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from designer.run.log_model import LogModel  # noqa: E402
from designer.run.log_panel import LogPanel  # noqa: E402
from designer.run.ui import attach_run_ui  # noqa: E402
from designer.window.main_window import MainWindow  # noqa: E402
from designer.window.settings import AppSettings  # noqa: E402
from engine import LOG_LEVELS, LogLine  # noqa: E402

N_STEPS = 2000
N_LINES = 100_000


def write_files(folder: Path, n: int) -> Path:
    """A workflow of `n` call steps in 4 parallel chains, and a mocks file that answers all."""
    lines = ["version: 1", f"name: bench{n}", "steps:"]
    for i in range(n):
        lines += [
            f"  - id: s{i}",
            f"    after: [{'s' + str(i - 4) if i >= 4 else ''}]",
            f"    service: Service{i % 4}",
            "    action: act",
        ]
        if i % 50 == 49:  # some retries, as real runs have
            lines[-2] = f"    service: Flaky{i % 4}"
            lines += ["    retry: {attempts: 2, delay: 1s, jitter: none}"]
    flow = folder / "bench.yaml"
    flow.write_text("\n".join(lines).replace("after: []", "after: []") + "\n")
    mocks = ["version: 1", "mocks:"]
    for k in range(4):
        mocks += [
            f"  Service{k}.act:",
            "    status: 200",
            "    body: {ok: true}",
            "    delay: 10ms",
            f"  Flaky{k}.act:",
            "    - status: 503",
            "    - status: 200",
        ]
    (folder / "bench.mocks.yaml").write_text("\n".join(mocks) + "\n")
    return flow


class Ticks:
    """A 16 ms timer's ticks; `max_gap` between the first and last tick of a window."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.timer = QTimer()
        self.timer.setInterval(16)
        self.timer.timeout.connect(lambda: self.times.append(time.perf_counter()))

    def start(self) -> None:
        self.times[:] = [time.perf_counter()]  # a stall right at the start counts too
        self.timer.start()

    def stop(self) -> tuple[float, int]:
        self.timer.stop()
        self.times.append(time.perf_counter())
        gaps = [b - a for a, b in zip(self.times, self.times[1:])]
        return (max(gaps) if gaps else float("nan")), len(self.times)


async def idle(ticks: Ticks, seconds: float) -> tuple[float, int]:
    ticks.start()
    await asyncio.sleep(seconds)
    return ticks.stop()


async def threaded_run(ui: object, ticks: Ticks) -> tuple[float, int, float, str]:
    """The designer's way: Run, and wait until every event is on screen."""
    controller = ui.controller  # type: ignore[attr-defined]
    ticks.start()
    t0 = time.perf_counter()
    run_id = ui.run()  # type: ignore[attr-defined]
    assert run_id is not None, ui.last_message  # type: ignore[attr-defined]
    while controller.busy or controller._queue or controller._items:
        await asyncio.sleep(0.005)
    wall = time.perf_counter() - t0
    gap, n = ticks.stop()
    return gap, n, wall, controller.records[run_id].status


def log_figures(app: QApplication) -> None:
    lines = [
        LogLine(
            1_800_000_000 + i / 1000,
            LOG_LEVELS[i % 5],
            f"s{i % 2000}",
            f"s{i % 2000} succeeded in {i % 97} ms",
            "run",
            "bench",
        )
        for i in range(N_LINES)
    ]
    panel = LogPanel()
    panel.resize(1200, 400)
    panel.show()
    app.processEvents()
    t0 = time.perf_counter()
    paints: list[float] = []
    for k in range(0, N_LINES, 1000):
        panel.append(lines[k : k + 1000])
        t1 = time.perf_counter()
        app.processEvents()  # paint, as the window would between batches
        paints.append(time.perf_counter() - t1)
    batched = time.perf_counter() - t0
    painting = sum(paints)
    tenth = max(1, len(paints) // 10)
    early, late = sum(paints[:tenth]) / tenth, sum(paints[-tenth:]) / tenth
    model = LogModel()
    t0 = time.perf_counter()
    for k in range(0, N_LINES, 1000):
        model.append(lines[k : k + 1000])
    model_only = time.perf_counter() - t0
    single = LogPanel()
    single.resize(1200, 400)
    single.show()
    t0 = time.perf_counter()
    for line in lines[:10_000]:
        single.append([line])
    app.processEvents()
    per_line = (time.perf_counter() - t0) * N_LINES / 10_000
    t0 = time.perf_counter()
    panel.set_search("succeeded in 42 ms")
    search = time.perf_counter() - t0
    frames = N_LINES // 1000
    print(
        f"log: {N_LINES:,} lines in 1,000-line batches into the shown panel: "
        f"{batched * 1000:.0f} ms, of which {painting * 1000:.0f} ms painting {frames} frames "
        f"({early * 1000:.1f} ms a frame over the first tenth, {late * 1000:.1f} ms over "
        f"the last) "
        f"and {(batched - painting) * 1000:.0f} ms appending ({model_only * 1000:.0f} ms for "
        f"the model alone); one line per insert would take ~{per_line:.1f} s "
        f"({per_line / batched:.0f}x); search over them: {search * 1000:.0f} ms "
        f"({panel.model.rowCount():,} hits)"
    )
    panel.close()
    single.close()


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with tempfile.TemporaryDirectory() as tmp:
        scratch = AppSettings(QSettings(str(Path(tmp) / "s.ini"), QSettings.Format.IniFormat))
        flow = write_files(Path(tmp), N_STEPS)
        window = MainWindow(scratch, None)
        window.resize(1400, 900)
        window.show()
        t0 = time.perf_counter()
        window.open_path(str(flow))
        app.processEvents()
        window.view.fit_to_view()
        ui = attach_run_ui(window)
        app.processEvents()
        print(f"opened {N_STEPS} steps in {(time.perf_counter() - t0) * 1000:.0f} ms")
        assert ui.toolbar.select_environment("bench.mocks.yaml")
        ticks = Ticks()

        async def all_runs() -> None:
            base_gap, base_n = await idle(ticks, 1.0)
            print(
                f"idle loop: longest gap between 16 ms ticks {base_gap * 1000:.1f} ms "
                f"({base_n} ticks in 1 s)"
            )
            for k in range(3):
                gap, n, wall, status = await threaded_run(ui, ticks)
                print(
                    f"2,000-step mocked run #{k + 1}: {status} in {wall:.2f} s wall; "
                    f"longest gap {gap * 1000:.1f} ms ({gap / base_gap:.1f}x idle), "
                    f"{n} ticks ({n / max(wall / 0.016, 1):.0%} of expected) "
                    f"-> target <= 50 ms: {'OK' if gap <= 0.050 else 'MISSED'}"
                )

        with loop:
            loop.run_until_complete(all_runs())
        states = ui.presenter.states()
        print(
            f"canvas after the run: {sum(1 for s in states.values() if s == 'succeeded')} "
            f"of {N_STEPS} steps succeeded; log holds {ui.log_panel.model.total:,} lines"
        )
        ui.controller.shutdown()
        window.hide()
        log_figures(app)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
