"""The run input editor and the Emit Event dialog: JSON or YAML text, checked as typed.

The run input is checked against the workflow's `input` schema. Its text is remembered per
workflow file (per name for an unsaved one) in QSettings, so the next run of the same workflow
starts from the input used last; a new workflow starts from a skeleton of the schema's required
properties. The Emit Event dialog reads its payload the same way (JSON is YAML 1.2).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from PySide6.QtCore import QSettings, QTimer, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from designer.canvas import style as canvas_style
from designer.run.environments import tests_file_for
from engine import LoadError, Workflow, load_tests, read_yaml

__all__ = [
    "InputEditor",
    "EmitDialog",
    "known_events",
    "parse_input",
    "check_input",
    "skeleton",
    "example_input",
    "settings_key",
]


def settings_key(path: str | None, workflow_name: str) -> str:
    """The QSettings key of a workflow's remembered input (hashed: paths hold `/` and `:`)."""
    ident = path or f"untitled:{workflow_name}"
    return "runInput/" + hashlib.sha1(ident.encode("utf-8")).hexdigest()[:20]


def parse_input(text: str) -> tuple[Any, str | None]:
    """(value, None) or (None, what is wrong). Empty text is no input (None)."""
    if not text.strip():
        return None, None
    try:
        value, _loc = read_yaml(text, "run input")
    except LoadError as e:
        first = e.problems[0] if e.problems else e
        return None, f"the run input is not valid JSON or YAML: {first}"
    return value, None


def check_input(schema: dict[str, Any] | None, value: Any) -> str | None:
    """Why `value` breaks the workflow's input schema, or None when it fits (or no schema)."""
    if not schema:
        return None
    import jsonschema

    try:
        validator = jsonschema.Draft202012Validator(schema)
        error = jsonschema.exceptions.best_match(validator.iter_errors(value))
    except jsonschema.exceptions.SchemaError as e:
        return f"the workflow's input schema is not valid: {e.message}; fix `input:`"
    if error is None:
        return None
    where = "input" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.path)
    return f"{where}: {error.message}"


def skeleton(schema: dict[str, Any] | None) -> Any:
    """A starting value for a schema: required properties with empty values of their type."""
    if not isinstance(schema, dict):
        return None
    for key in ("default", "const"):
        if key in schema:
            return schema[key]
    if schema.get("examples"):
        return schema["examples"][0]
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = kind[0] if kind else None
    if kind == "object" or (kind is None and "properties" in schema):
        props = schema.get("properties") or {}
        return {k: skeleton(props.get(k)) for k in schema.get("required") or []}
    if kind == "array":
        n = int(schema.get("minItems") or 0)
        return [skeleton(schema.get("items")) for _ in range(min(n, 3))]
    return {"string": "", "number": 0, "integer": 0, "boolean": False}.get(str(kind))


def example_input(workflow: Workflow, path: str | None) -> Any:
    """A first input for a workflow: the first test case's input that fits the schema (from
    its tests file), else a skeleton of the schema."""
    tests = tests_file_for(path)
    if tests is not None:
        try:
            cases = load_tests(tests).cases
        except (LoadError, OSError):
            cases = []
        for case in cases:
            if case.input is not None and check_input(workflow.input, case.input) is None:
                return case.input
    return skeleton(workflow.input)


class InputEditor(QWidget):
    """A text box for the run input and a line saying whether it fits the schema."""

    validity_changed = Signal(bool)

    def __init__(self, settings: QSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runInputEditor")
        self.settings = settings
        self.workflow: Workflow | None = None
        self.path: str | None = None
        self._key: str | None = None
        self.problem: str | None = None
        self.edit = QPlainTextEdit(self)
        self.edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.edit.setPlaceholderText('The run input, as JSON or YAML, e.g. {"policyId": "P-7"}')
        self.edit.setTabChangesFocus(True)
        self.edit.setMinimumHeight(24)  # a small dock must not hold the window's height up
        self.status = QLabel(self)
        # one line: a wrapped label grows the window's minimum height as docks narrow
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.reset_button = QToolButton(self)
        self.reset_button.setText("From Schema")
        self.reset_button.setToolTip("Start again from the input schema's required properties")
        self.reset_button.clicked.connect(self.reset_to_skeleton)
        # check and remember once typing pauses: a schema check per key would be wasted work
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(200)
        self._timer.timeout.connect(self._changed_now)
        self.edit.textChanged.connect(self._timer.start)
        row = QHBoxLayout()
        row.addWidget(self.status, 1)
        row.addWidget(self.reset_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.edit, 1)
        layout.addLayout(row)

    # --- which workflow -----------------------------------------------------------------------

    def set_workflow(self, workflow: Workflow, path: str | None) -> None:
        """Show the input remembered for this workflow (or a skeleton of its schema)."""
        key = settings_key(path, workflow.name)
        self.workflow, self.path = workflow, path
        if key == self._key:
            self.recheck()
            return
        self._key = key
        text = self.settings.value(key) if self.settings is not None else None
        if not isinstance(text, str):
            value = example_input(workflow, path)
            text = "" if value is None else json.dumps(value, indent=2, ensure_ascii=False)
        self.edit.blockSignals(True)
        self.edit.setPlainText(text)
        self.edit.blockSignals(False)
        self.recheck()

    def reset_to_skeleton(self) -> None:
        value = skeleton(self.workflow.input if self.workflow is not None else None)
        self.set_text("" if value is None else json.dumps(value, indent=2, ensure_ascii=False))

    # --- the text -----------------------------------------------------------------------------

    def text(self) -> str:
        return self.edit.toPlainText()

    def set_text(self, text: str) -> None:
        """Replace the text; checked and remembered at once (not after the typing pause)."""
        self.edit.setPlainText(text)
        self._changed_now()

    def value(self) -> tuple[Any, str | None]:
        """(input, None) when the text parses and fits the schema, else (None, the problem)."""
        self._flush()
        value, problem = parse_input(self.text())
        if problem is None:
            schema = self.workflow.input if self.workflow is not None else None
            problem = check_input(schema, value)
        return (None, problem) if problem else (value, None)

    def recheck(self) -> None:
        _value, problem = self.value()
        self._show(problem)

    def _flush(self) -> None:
        if self._timer.isActive():
            self._timer.stop()
            self._changed_now()

    def _changed_now(self) -> None:
        if self.settings is not None and self._key is not None:
            self.settings.setValue(self._key, self.text())
        _value, problem = self.value()
        self._show(problem)

    def _show(self, problem: str | None) -> None:
        was_ok = self.problem is None
        self.problem = problem
        if problem is None:
            has_schema = bool(self.workflow is not None and self.workflow.input)
            self.status.setText(
                "✔ fits the input schema"
                if has_schema
                else "✔ valid (the workflow has no input schema)"
            )
            self.status.setToolTip("")
            color = canvas_style.STATE_COLORS["succeeded"].name()
        else:
            self.status.setText(f"✘ {problem}")
            self.status.setToolTip(problem)
            color = canvas_style.STATE_COLORS["failed"].name()
        self.status.setStyleSheet(f"color: {color}")
        if was_ok != (problem is None):
            self.validity_changed.emit(problem is None)


def known_events(workflow: Workflow, path: str | None) -> list[str]:
    """Events some workflow listens for: the open one's trigger first (in its order, the Emit
    dialog's default), then its folder's workflows', sorted."""
    events: list[str] = []
    if path:
        from pathlib import Path

        from engine import load_workflow, workflow_files

        for p in workflow_files(Path(path).parent):
            if p.resolve() == Path(path).resolve():
                continue
            try:
                events += load_workflow(p).trigger
            except (LoadError, OSError):
                continue  # the emit itself reports files that do not load
    return list(dict.fromkeys([*workflow.trigger, *sorted(events)]))


class EmitDialog(QDialog):
    """Event name and payload; shown with open() (never exec()), answers through a signal."""

    emit_requested = Signal(str, object)  # event, payload

    def __init__(self, events: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Emit Event")
        self.event_combo = QComboBox(self)
        self.event_combo.setEditable(True)
        self.event_combo.addItems(events)
        self.event_combo.setCurrentIndex(0 if events else -1)
        self.event_combo.setToolTip("Workflows whose `trigger` names this event start")
        self.payload = QPlainTextEdit(self)
        self.payload.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.payload.setPlaceholderText(
            "The event's data (JSON or YAML): the input of every run it starts"
        )
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Emit")
        self.buttons.accepted.connect(self._try_accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Event", self.event_combo)
        form.addRow("Payload", self.payload)
        form.addRow(self.status)
        form.addRow(self.buttons)
        self.resize(460, 320)

    def _try_accept(self) -> None:
        event = self.event_combo.currentText().strip()
        if not event:
            self.status.setText("✘ name the event to emit")
            return
        value, problem = parse_input(self.payload.toPlainText())
        if problem is not None:
            self.status.setText(f"✘ {problem}")
            self.status.setToolTip(problem)
            return
        self.accept()
        self.emit_requested.emit(event, value)
