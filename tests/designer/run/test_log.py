"""The log model and panel: bounded memory, filters that hold for lines arriving later, exports."""

from __future__ import annotations

import json
import time

from designer.run.log_model import LogFilter, LogModel
from designer.run.log_panel import LogPanel
from engine import LOG_LEVELS, LogLine, Notification, StepRetrying, StepStarted, event_line


def _lines(n: int, start: int = 0) -> list[LogLine]:
    return [
        LogLine(
            1_800_000_000 + i / 1000, LOG_LEVELS[i % 5], f"s{i % 7}", f"message {i}", "r1", "wf"
        )
        for i in range(start, start + n)
    ]


def test_cap_drops_the_oldest_lines(qapp):
    model = LogModel(cap=1000)
    for k in range(25):
        model.append(_lines(100, k * 100))
    assert model.total <= 1000 and model.rowCount() == model.total
    assert model.line(model.rowCount() - 1).message == "message 2499"
    first = int(model.line(0).message.split()[1])
    assert [int(line.message.split()[1]) for line in model.lines()] == list(range(first, 2500))


def test_filter_applies_to_old_and_new_lines_and_survives_drops(qapp):
    model = LogModel(cap=500)
    model.append(_lines(300))
    model.set_filter(LogFilter(levels=["error"], step=None))
    assert model.rowCount() == 60
    model.append(_lines(400, 300))  # drops the oldest under the filter too
    shown = model.lines()
    assert all(line.level == "error" for line in shown)
    assert model.rowCount() == len(shown) == sum(1 for x in model._lines if x.level == "error")
    model.set_filter(LogFilter(levels=LOG_LEVELS, step="s3", text="MESSAGE 69"))
    # 690-699 are still held; of them only 696 is on step s3 (696 % 7 == 3)
    assert [line.message for line in model.lines()] == ["message 696"]
    model.set_filter(LogFilter())
    assert model.rowCount() == model.total


def test_step_filter_matches_foreach_items(qapp):
    ev = StepStarted("r1", "review", 1, 1_800_000_000.0, index=3)
    line = event_line(ev, "wf")
    assert line.step == "review[3]" and line.level == "debug"
    model = LogModel()
    model.append([line, *_lines(10)])
    model.set_filter(LogFilter(step="review"))
    assert model.lines() == [line]


def test_event_lines_levels():
    retry = event_line(StepRetrying("r", "check", 1, 4, 0.5, "HTTP 503", 1.0), "wf")
    assert retry.level == "warning" and "next attempt in 500 ms" in retry.message
    note = event_line(Notification("r", "tell", "error", "rolled back", 1.0), "wf")
    assert (note.level, note.step, note.message) == ("error", "tell", "rolled back")


def test_hundred_thousand_lines_stay_fast(qtbot):
    panel = LogPanel()
    qtbot.addWidget(panel)
    panel.resize(900, 400)
    panel.show()
    qtbot.waitExposed(panel)
    lines = _lines(100_000)
    t0 = time.perf_counter()
    for k in range(0, len(lines), 1000):  # as the controller's 50 ms batches would
        panel.append(lines[k : k + 1000])
    elapsed = time.perf_counter() - t0
    assert panel.model.rowCount() == 100_000
    assert elapsed < 5.0, f"appending 100,000 lines took {elapsed:.2f} s"
    t0 = time.perf_counter()
    panel.set_search("message 9999")
    assert panel.model.rowCount() == 11  # 9999 and 99990-99999
    assert time.perf_counter() - t0 < 2.0


def test_export_and_copy_the_shown_lines(qtbot, tmp_path):
    panel = LogPanel()
    qtbot.addWidget(panel)
    panel.append(_lines(20))
    panel.set_levels(["error", "warning"])
    out = tmp_path / "log.jsonl"
    assert panel.export(out) == 8
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert {r["level"] for r in rows} == {"error", "warning"}
    assert rows[0] == {
        "time": "2027-01-15T08:00:00.003Z",
        "level": "warning",
        "step": "s3",
        "message": "message 3",
        "run": "r1",
        "workflow": "wf",
    }
    text = panel.copy_lines()
    assert text.count("\n") == 7 and "\twarning\ts3\tmessage 3" in text.splitlines()[0]
