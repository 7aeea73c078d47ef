"""Inspector field editors: text, template, duration, number, choice and YAML, checked as typed.

Each editor turns its text into a model value (or an error message shown beside the field) and
emits `edited(value)` only for text that makes a valid value, so the model never receives a
half-typed duration. `display(value)` fills it from the model unless its text already means that
value, which keeps the user's spelling ("1" for one second) and cursor while typing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QFontDatabase, QWheelEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from engine import (
    ID_RE,
    NAME_RE,
    DurationError,
    LoadError,
    Retry,
    SizeError,
    TemplateSyntaxError,
    check_template,
    dump_data,
    format_duration,
    format_size,
    iter_expressions,
    parse_duration,
    parse_size,
    read_yaml,
    split_template,
)

__all__ = [
    "Parser",
    "FieldEditor",
    "RetryEditor",
    "LineField",
    "ChoiceField",
    "YamlField",
    "parse_text",
    "parse_template",
    "parse_required_text",
    "parse_required_template",
    "parse_required_duration",
    "parse_expression",
    "parse_duration_text",
    "parse_int_text",
    "parse_number_text",
    "parse_name",
    "parse_id",
    "parse_list",
    "parse_retry_on",
    "parse_yaml_text",
    "parse_size_text",
    "show_duration",
    "show_size",
    "show_number",
    "show_list",
]

# (text) -> (value, None) or (None, error message)
Parser = Callable[[str], tuple[Any, str | None]]

_RETRY_ON_WORDS = ("connection", "timeout", "5xx", "429")


def _template_error(text: str) -> str | None:
    try:
        check_template(text)
    except TemplateSyntaxError as e:
        return f"column {e.offset + 1}: {e.message}"
    return None


def parse_text(text: str) -> tuple[Any, str | None]:
    """Plain text; empty means the key is left out."""
    return (text if text else None), None


def parse_required_text(text: str) -> tuple[Any, str | None]:
    """Text a step cannot leave out (service, action, event): empty stays '' and is flagged."""
    return text, (None if text.strip() else "required")


def parse_required_template(text: str) -> tuple[Any, str | None]:
    """A notify message: always text (maybe empty), `${ }` checked."""
    return text, _template_error(text)


def parse_required_duration(text: str) -> tuple[Any, str | None]:
    if not text.strip():
        return None, "a wait step needs a duration such as 5s"
    return parse_duration_text(text)


def parse_template(text: str) -> tuple[Any, str | None]:
    """Text that may hold `${ }`; a broken expression is reported but still kept in the model."""
    return (text if text else None), _template_error(text)


def parse_expression(text: str) -> tuple[Any, str | None]:
    """A value that must be exactly one `${ … }` (if, foreach)."""
    if not text.strip():
        return None, None
    error = _template_error(text)
    if error:
        return text, error
    segments = split_template(text.strip())
    if len(segments) != 1 or segments[0].expr is None:
        return text, "write it as one expression: ${ … }"
    return text, None


def parse_duration_text(text: str) -> tuple[Any, str | None]:
    if not text.strip():
        return None, None
    raw: Any = text.strip()
    try:
        raw = float(raw) if re.fullmatch(r"\d+(\.\d+)?", raw) else raw
        return parse_duration(raw), None
    except DurationError as e:
        return None, str(e)


def show_duration(value: Any) -> str:
    return "" if value is None else format_duration(int(value))


def parse_size_text(text: str) -> tuple[Any, str | None]:
    """A byte size as `maxResponseSize` takes it (`512KiB`, `10MiB`, `2GB`, bytes); empty: none."""
    if not text.strip():
        return None, None
    try:
        return parse_size(text.strip()), None
    except SizeError as e:
        return None, str(e)


def show_size(value: Any) -> str:
    """The size as the file writes it (`512KiB`), so the field shows the saved spelling."""
    return "" if value is None else str(format_size(int(value)))


def parse_int_text(text: str, minimum: int = 1) -> tuple[Any, str | None]:
    if not text.strip():
        return None, None
    try:
        value = int(text.strip())
    except ValueError:
        return None, f"write a whole number (at least {minimum})"
    if value < minimum:
        return None, f"must be at least {minimum}"
    return value, None


def parse_number_text(text: str) -> tuple[Any, str | None]:
    if not text.strip():
        return None, None
    try:
        value = float(text.strip())
    except ValueError:
        return None, "write a number, e.g. 2 or 1.5"
    if value <= 0:
        return None, "must be greater than 0"
    return value, None


def show_number(value: Any) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value) == int(value) else str(value)


def parse_name(text: str) -> tuple[Any, str | None]:
    if NAME_RE.match(text):
        return text, None
    return None, ("a name starts with a letter and holds up to 64 letters, digits, '_', '.' or '-'")


def parse_id(text: str) -> tuple[Any, str | None]:
    if ID_RE.match(text):
        return text, None
    return None, "an id starts with a letter or '_' and holds only letters, digits and '_'"


def parse_list(text: str) -> tuple[Any, str | None]:
    """Comma-separated names -> list (empty -> [])."""
    return [p.strip() for p in text.split(",") if p.strip()], None


def show_list(value: Any) -> str:
    return ", ".join(str(v) for v in value or [])


def parse_retry_on(text: str) -> tuple[Any, str | None]:
    """`connection, timeout, 5xx, 429, 503` -> list; status codes become numbers."""
    if not text.strip():
        return None, None
    out: list[str | int] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if part in _RETRY_ON_WORDS:
            out.append(part if part != "429" else 429)
        elif part.isdigit() and 100 <= int(part) <= 599:
            out.append(int(part))
        else:
            return None, (
                f"'{part}' is not a retry condition: use connection, timeout, 5xx, "
                "429 or an HTTP status code"
            )
    return out, None


def parse_yaml_text(text: str) -> tuple[Any, str | None]:
    """YAML (or JSON) text -> value, read as strictly as files are; `${ }` inside is checked."""
    if not text.strip():
        return None, None
    try:
        value, _loc = read_yaml(text, "field")
    except LoadError as e:
        p = e.problems[0]
        return None, f"line {p.line}, column {p.col}: {p.message}"
    for path, s in iter_expressions(value):
        error = _template_error(s)
        if error:
            where = ".".join(str(k) for k in path) or "value"
            return value, f"{where}: {error}"
    return value, None


def show_yaml(value: Any) -> str:
    return "" if value is None else dump_data(value).rstrip("\n")


class FieldEditor(QWidget):
    """An editor with its error label below it. Subclasses own the input widget."""

    edited = Signal(object)  # the new model value, emitted for every valid change

    def __init__(
        self,
        parser: Parser,
        shower: Callable[[Any], str] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.parser = parser
        self.shower = shower or (lambda v: "" if v is None else str(v))
        self.error_label = QLabel()
        self.error_label.setObjectName("fieldError")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(2)

    def _finish(self, widget: QWidget) -> None:
        self.input = widget
        self._layout.addWidget(widget)
        self._layout.addWidget(self.error_label)

    def text(self) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    def _set_text(self, text: str) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def error(self) -> str | None:
        return self.error_label.text() if not self.error_label.isHidden() else None

    def set_error(self, message: str | None) -> None:
        self.error_label.setText(message or "")
        self.error_label.setVisible(bool(message))
        self.input.setProperty("invalid", bool(message))
        self.input.style().unpolish(self.input)
        self.input.style().polish(self.input)

    def display(self, value: Any) -> None:
        """Display a model value, unless the text already means it (keeps typing intact)."""
        current, error = self.parser(self.text())
        if current == value and type(current) is type(value):
            return  # the text already says this (maybe with a reported error): leave it
        if error is not None and self.input.hasFocus():
            return  # the user is halfway through typing; the error is already shown
        with QSignalBlocker(self.input):
            self._set_text(self.shower(value))
        self.set_error(self.parser(self.text())[1])

    def _text_changed(self) -> None:
        value, error = self.parser(self.text())
        self.set_error(error)
        if value is not None or not error:
            self.edited.emit(value)


class LineField(FieldEditor):
    def __init__(
        self,
        parser: Parser,
        shower: Callable[[Any], str] | None = None,
        placeholder: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parser, shower, parent)
        edit = QLineEdit()
        edit.setPlaceholderText(placeholder)
        edit.textEdited.connect(lambda _t: self._text_changed())
        self._finish(edit)

    def text(self) -> str:
        return self.input.text()

    def _set_text(self, text: str) -> None:
        self.input.setText(text)
        self.input.setCursorPosition(0)  # long values show their start, not their end


class _Combo(QComboBox):
    """A combo the wheel changes only once it has focus: a wheel over it while scrolling the
    inspector scrolls on (it changed followRedirects of the step under the mouse)."""

    def __init__(self) -> None:
        super().__init__()
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # a wheel does not give it focus

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 - Qt override
        if self.hasFocus():
            super().wheelEvent(event)
        else:
            event.ignore()  # to the scroll area around the form


class ChoiceField(FieldEditor):
    """A fixed choice; the first entry may stand for 'left out' (value None)."""

    def __init__(
        self, choices: list[tuple[str, Any]], editable: bool = False, parent: QWidget | None = None
    ) -> None:
        self.choices = choices
        super().__init__(self._parse, self._show, parent)
        combo = _Combo()
        combo.setEditable(editable)
        for label, value in choices:
            combo.addItem(label, value)
        if editable:
            combo.editTextChanged.connect(lambda _t: self._text_changed())
        else:
            combo.currentIndexChanged.connect(lambda _i: self._text_changed())
        self._finish(combo)

    def _parse(self, text: str) -> tuple[Any, str | None]:
        for label, value in self.choices:
            if text == label:
                return value, None
        if self.input.isEditable():
            return (text.strip() or None), None
        return None, f"choose one of {', '.join(lbl for lbl, _ in self.choices)}"

    def _show(self, value: Any) -> str:
        for label, v in self.choices:
            if v == value:
                return label
        return "" if value is None else str(value)

    def text(self) -> str:
        return self.input.currentText()

    def _set_text(self, text: str) -> None:
        index = self.input.findText(text)
        if index >= 0:
            self.input.setCurrentIndex(index)
        elif self.input.isEditable():
            self.input.setEditText(text)


class YamlField(FieldEditor):
    """A small YAML/JSON editor for `with`, `query`, `headers`, `data`, `input`, `output`."""

    def __init__(
        self,
        placeholder: str = "",
        lines: int = 4,
        parser: Parser = parse_yaml_text,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parser, show_yaml, parent)
        edit = QPlainTextEdit()
        edit.setPlaceholderText(placeholder)
        edit.setTabChangesFocus(True)
        edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        # YAML lines are not wrapped: a long `${ }` broken mid-word looked like two lines
        edit.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        line_height = edit.fontMetrics().lineSpacing()
        # room for the lines and for the scroll bar a long line brings
        bar = edit.horizontalScrollBar().sizeHint().height()
        edit.setFixedHeight(line_height * lines + 12 + bar)
        edit.textChanged.connect(self._text_changed)
        self._finish(edit)

    def text(self) -> str:
        return self.input.toPlainText()

    def _set_text(self, text: str) -> None:
        self.input.setPlainText(text)


def parse_str_map(text: str) -> tuple[Any, str | None]:
    """YAML for `query` and `headers`: a map whose values are text."""
    value, error = parse_yaml_text(text)
    if error or value is None:
        return value, error
    if not isinstance(value, dict):
        return None, "write a map of names to text, e.g. {x-team: ops}"
    for k, v in value.items():
        if not isinstance(v, str):
            return None, f"'{k}': the value must be text; quote it, e.g. \"{v}\""
    return value, None


class RetryEditor(QGroupBox):
    """The `retry:` block: a checkable group (unchecked: no retry key) of its six keys."""

    edited = Signal(object)  # Retry or None

    def __init__(self, title: str = "Retry", parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.setCheckable(True)
        self.setChecked(False)
        self.attempts = LineField(
            lambda t: parse_int_text(t, 1), show_number, "total tries, 1 = no retry"
        )
        self.delay = LineField(parse_duration_text, show_duration, "1s")
        self.backoff = LineField(parse_number_text, show_number, "2")
        self.max_delay = LineField(parse_duration_text, show_duration, "30s")
        self.jitter = ChoiceField([("default (full)", None), ("full", "full"), ("none", "none")])
        self.on = LineField(parse_retry_on, show_list, "connection, timeout, 5xx, 429")
        form = QFormLayout(self)
        form.addRow("attempts", self.attempts)
        form.addRow("delay", self.delay)
        form.addRow("backoff", self.backoff)
        form.addRow("maxDelay", self.max_delay)
        form.addRow("jitter", self.jitter)
        form.addRow("on", self.on)
        for editor in self.editors():
            editor.edited.connect(lambda _v: self._emit())
        self.toggled.connect(lambda _on: self._emit())

    def editors(self) -> list[FieldEditor]:
        return [self.attempts, self.delay, self.backoff, self.max_delay, self.jitter, self.on]

    def value(self) -> Retry | None:
        if not self.isChecked():
            return None
        parts = [e.parser(e.text()) for e in self.editors()]
        values = [v if err is None else None for v, err in parts]
        return Retry(
            attempts=values[0],
            delay=values[1],
            backoff=values[2],
            max_delay=values[3],
            jitter=values[4],
            on=values[5],
        )

    def _emit(self) -> None:
        self.edited.emit(self.value())

    def display(self, retry: Retry | None) -> None:
        with QSignalBlocker(self):
            self.setChecked(retry is not None)
        r = retry or Retry()
        for editor, value in zip(
            self.editors(),
            (r.attempts, r.delay, r.backoff, r.max_delay, r.jitter, r.on),
            strict=True,
        ):
            editor.display(value)
