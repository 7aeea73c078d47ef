"""Clipboard payloads: steps survive the trip, YAML from an editor pastes, bad data is refused."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData
from PySide6.QtGui import QGuiApplication

from designer.document.clipboard import (
    STEPS_MIME,
    step_from_json,
    step_from_palette,
    step_to_json,
    steps_from_mime,
    steps_to_mime,
)
from engine import CallStep, EmitStep, NotifyStep, Retry, WaitStep


def test_steps_round_trip_through_the_clipboard_payload(qapp):
    steps = [
        CallStep(
            id="c",
            after=["x"],
            service="S",
            action="a",
            with_={"k": [1, "${ input.k }"]},
            retry=Retry(attempts=3, on=["5xx", 409]),
            timeout=2500,
            if_="${ input.go }",
        ),
        WaitStep(id="w", after=["c"], wait=250),
        EmitStep(id="e", event="done", data={"a": None}),
        NotifyStep(id="n", message="hi", level="warning"),
    ]
    layout = {"c": (1.0, 2.0), "w": (3.0, 4.0), "e": (5.0, 6.0), "n": (7.0, 8.0)}
    back, back_layout = steps_from_mime(steps_to_mime(steps, layout))
    assert back == steps
    assert back_layout == layout


def test_plain_text_is_yaml_that_pastes_back(qapp):
    steps = [CallStep(id="c", service="S", action="a"), WaitStep(id="w", after=["c"], wait=5000)]
    mime = steps_to_mime(steps, {"c": (0, 0), "w": (240, 0)})
    assert "service: S" in mime.text() and "wait: 5s" in mime.text()
    text_only = QMimeData()
    text_only.setText(mime.text())
    back, layout = steps_from_mime(text_only)
    assert [s.id for s in back] == ["c", "w"] and back[1].after == ["c"]
    assert layout == {"c": (0, 0), "w": (240, 0)}


def test_foreign_or_broken_clipboard_holds_no_steps(qapp):
    plain = QMimeData()
    plain.setText("just some words")
    assert steps_from_mime(plain) == ([], {})
    broken = QMimeData()
    broken.setData(STEPS_MIME, b"{not json")
    assert steps_from_mime(broken) == ([], {})


def test_paste_of_foreign_text_says_so(view, document, qtbot):
    QGuiApplication.clipboard().setText("hello")
    with qtbot.waitSignal(view.message) as msg:
        view.paste()
    assert "no steps" in msg.args[0]
    assert document.undo_stack.count() == 0


def test_step_payloads_are_checked():
    with pytest.raises(ValueError, match="unknown step kind"):
        step_from_json({"kind": "warp"})
    with pytest.raises(ValueError, match="not JSON"):
        step_from_palette(b"\xff")
    assert step_to_json(WaitStep(id="w", wait=1))["kind"] == "wait"
    assert step_from_palette(b'{"kind": "notify"}') == NotifyStep(id="notify", message="message")


_COPY_THEN_QUIT = """
import os
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from designer.document.clipboard import copy_steps
from engine import WaitStep
app = QApplication([])
copy_steps([WaitStep(id="w", wait=1)], {"w": (0, 0)})
QTimer.singleShot(0, app.quit)
app.exec()
print(QApplication.clipboard().text().splitlines()[0])
"""


def test_copied_steps_do_not_crash_the_app_on_exit():
    root = Path(__file__).resolve().parents[3]
    result = subprocess.run(
        [sys.executable, "-c", _COPY_THEN_QUIT],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "version: 1"  # the YAML text stays for other apps
