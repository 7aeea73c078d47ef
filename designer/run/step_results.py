"""The step results panel: for the selected step, the shown run's attempts, request and response.

Call records already carry secrets as `***` (the engine redacts before any sink sees them), so
what is shown and copied here never holds a secret. Bodies are pretty-printed JSON.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QSizePolicy,
    QSplitter,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine import CallRecord, RunRecord, StepView, format_ms, pretty_json

__all__ = ["StepResultsWidget", "call_text", "step_text"]


def _headers(headers: dict[str, Any] | None) -> list[str]:
    return [f"{k}: {v}" for k, v in (headers or {}).items()]


def call_text(call: CallRecord) -> str:
    """One attempt as text: the request, then the response (or why there was none)."""
    req = call.request or {}
    out = [
        f"REQUEST (attempt {call.attempt}"
        + (f", item {call.index}" if call.index is not None else "")
        + ")",
        f"{req.get('method', '')} {req.get('url', '')}",
    ]
    out += _headers(req.get("headers"))
    if req.get("body") is not None:
        out += ["", pretty_json(req["body"])]
    out.append("")
    resp = call.response
    if resp is None:
        out.append(f"NO RESPONSE after {format_ms(call.duration_ms)}")
    else:
        out.append(f"RESPONSE {resp.get('status')} in {format_ms(call.duration_ms)}")
        out += _headers(resp.get("headers"))
        if resp.get("body") is not None:
            out += ["", pretty_json(resp["body"])]
    if call.error:
        out += ["", f"ERROR ({call.error_type or 'error'}): {call.error}"]
    return "\n".join(out)


def step_text(step_id: str, view: StepView) -> str:
    """What a step ended with: status, output and error (for steps without calls too)."""
    out = [
        f"{step_id}: {view.state}"
        + (f" in {format_ms(view.duration_ms)}" if view.duration_ms is not None else "")
    ]
    if view.attempts > 1:
        out[0] += f" after {view.attempts} attempts"
    if view.state == "retrying":
        out.append(f"attempt {view.attempt} of {view.max_attempts} failed: {view.reason}")
    if view.error:
        out += ["", "ERROR", pretty_json(view.error)]
    if view.output is not None:
        out += ["", "OUTPUT", pretty_json(view.output)]
    return "\n".join(out)


def _attempt_label(call: CallRecord) -> str:
    item = f"[{call.index}] " if call.index is not None else ""
    if call.response is not None:
        what = str(call.response.get("status"))
    else:
        what = call.error_type or "no response"
    return f"{item}#{call.attempt}  {what}  {format_ms(call.duration_ms)}"


class StepResultsWidget(QWidget):
    """Attempts list above a read-only text of the chosen attempt (or the step's outcome)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("stepResultsPanel")
        self.record: RunRecord | None = None
        self.step_id: str | None = None
        self.header = QLabel("Select a step to see what it did in the last run.", self)
        # one line: a wrapped label grows the window's minimum height as docks narrow
        self.header.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.copy_button = QToolButton(self)
        self.copy_button.setText("Copy")
        self.copy_button.setToolTip("Copy the text below")
        self.copy_button.clicked.connect(self.copy)
        self.attempts = QTreeWidget(self)
        self.attempts.setHeaderLabels(["Attempt"])
        self.attempts.setHeaderHidden(True)
        self.attempts.setRootIsDecorated(False)
        self.attempts.currentItemChanged.connect(self._attempt_chosen)
        self.text = QPlainTextEdit(self)
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        # scroll areas: small minimums, so this dock never props the window up (Qt gives
        # each view ~70 px by default, and the tabified docks add theirs up)
        self.attempts.setMinimumHeight(24)
        self.text.setMinimumHeight(24)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(self.attempts)
        split.addWidget(self.text)
        split.setSizes([80, 240])
        top = QHBoxLayout()
        top.addWidget(self.header, 1)
        top.addWidget(self.copy_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(split, 1)

    def show_step(self, record: RunRecord | None, step_id: str | None) -> None:
        """Show `step_id` of `record` (either may be None: the panel says what is missing)."""
        self.record, self.step_id = record, step_id
        self.attempts.blockSignals(True)
        self.attempts.clear()
        self.attempts.blockSignals(False)
        view = record.steps.get(step_id) if record is not None and step_id else None
        if step_id is None:
            self.header.setText("Select a step to see what it did in the last run.")
            self.text.setPlainText("")
            return
        if view is None:
            self.header.setText(f"{step_id}: no run of this step yet. Run the workflow (F5).")
            self.text.setPlainText("")
            return
        assert record is not None
        where = f"run {record.run_id[:8]}" + (f" · {record.env}" if record.env else "")
        self.header.setText(f"<b>{step_id}</b> — {view.state} ({where})")
        self.header.setToolTip(f"{step_id} — {view.state} ({where})")  # the line may be cut
        self.attempts.setVisible(bool(view.calls))
        self.attempts.blockSignals(True)
        for k, call in enumerate(view.calls):
            item = QTreeWidgetItem([_attempt_label(call)])
            item.setData(0, Qt.ItemDataRole.UserRole, k)
            self.attempts.addTopLevelItem(item)
        self.attempts.blockSignals(False)
        if view.calls:
            self.attempts.setCurrentItem(self.attempts.topLevelItem(len(view.calls) - 1))
            self._attempt_chosen(self.attempts.currentItem(), None)
        else:
            self.text.setPlainText(step_text(step_id, view))

    def refresh(self, record: RunRecord, ids: list[str]) -> None:
        """`record`'s steps changed: redraw if the shown step is one of them."""
        if record is self.record and self.step_id in ids:
            self.show_step(record, self.step_id)

    def _attempt_chosen(self, item: QTreeWidgetItem | None, _prev: object) -> None:
        if item is None or self.record is None or self.step_id is None:
            return
        view = self.record.steps.get(self.step_id)
        if view is None:
            return
        k = item.data(0, Qt.ItemDataRole.UserRole)
        call = view.calls[int(k)]
        self.text.setPlainText(call_text(call) + "\n\n" + step_text(self.step_id, view))

    def copy(self) -> str:
        text = self.text.toPlainText()
        QGuiApplication.clipboard().setText(text)
        return text
