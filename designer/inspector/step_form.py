"""The inspector's form for one step: every key FORMAT.md allows for its kind, checked as typed."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSignalBlocker, Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from designer.inspector.expression_editor import (
    ExpressionDialog,
    open_over_field,
    with_expression_button,
)
from designer.inspector.expression_scope import (
    RESPONSE_ROOTS,
    ROOTS,
    completions,
    folder_mocks,
    sample_scope,
    with_response,
)
from designer.inspector.fields import (
    ChoiceField,
    FieldEditor,
    LineField,
    RetryEditor,
    YamlField,
    parse_duration_text,
    parse_expression,
    parse_id,
    parse_int_text,
    parse_required_duration,
    parse_required_template,
    parse_required_text,
    parse_size_text,
    parse_str_map,
    parse_template,
    parse_text,
    show_duration,
    show_number,
    show_size,
)
from designer.inspector.yaml_expressions import YAML_HINT, check_yaml_expressions
from engine import (
    NOTIFY_LEVELS,
    AnyStep,
    CallStep,
    EmitStep,
    NotifyStep,
    RunRecord,
    WaitStep,
    step_kind,
)

if TYPE_CHECKING:
    from designer.document import WorkflowDocument

__all__ = ["StepForm"]

_METHODS = [
    ("default (POST)", None),
    ("GET", "GET"),
    ("POST", "POST"),
    ("PUT", "PUT"),
    ("PATCH", "PATCH"),
    ("DELETE", "DELETE"),
]
# left out: the workflow's defaults, the environment's value, else not followed (README
# "Transfer keys")
_REDIRECTS = [("default (not followed)", None), ("follow", True), ("do not follow", False)]
_ON_ERROR = [("default (fail)", None), ("fail", "fail"), ("continue", "continue")]
# one-line `${ }` fields that get the expression editor's button; True: exactly one expression
_EXPRESSION_FIELDS = {"if_": True, "foreach": True, "message": False, "path": False}
# YAML-valued fields whose strings may hold `${ }`: the editor checks each (yaml_expressions.py)
_YAML_EXPRESSION_FIELDS = ("with_", "query", "headers", "output", "data")


def _section(title: str) -> QLabel:
    label = QLabel(title)
    label.setObjectName("sectionTitle")
    return label


class StepForm(QWidget):
    """Edits one step of a document. Rebuilt when the selected step's kind changes."""

    def __init__(
        self, document: WorkflowDocument, step_id: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.document = document
        self.step_id = step_id
        step = document.workflow.step(step_id)
        self.kind = step_kind(step)
        self.editors: dict[str, FieldEditor] = {}
        # the run whose data the expression editor previews against (set by the inspector)
        self.run_record: Callable[[], RunRecord | None] | None = None
        self.expression_dialog: ExpressionDialog | None = None
        self.retry: RetryEditor | None = None
        self._shown_id = ""
        self._after_key: tuple[tuple[str, ...], tuple[str, ...]] | None = None

        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        self.title = QLabel()
        self.title.setObjectName("sectionTitle")
        outer.addWidget(self.title)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        outer.addLayout(form)
        self.form = form

        self.id_edit = LineField(parse_id, placeholder="step id")
        self.id_edit.input.editingFinished.connect(self._rename)
        form.addRow("id", self.id_edit)
        self.after_list = QListWidget()
        self.after_list.setToolTip("Steps that must finish before this one (tick to connect)")
        self.after_list.itemChanged.connect(self._after_toggled)
        self.after_error = QLabel()
        self.after_error.setObjectName("fieldError")
        self.after_error.setWordWrap(True)
        self.after_error.hide()
        after_box = QWidget()
        after_layout = QVBoxLayout(after_box)
        after_layout.setContentsMargins(0, 0, 0, 0)
        after_layout.addWidget(self.after_list)
        after_layout.addWidget(self.after_error)
        form.addRow("after", after_box)
        self._add("if_", "if", LineField(parse_expression, placeholder="${ condition }"))
        self._add("description", "description", LineField(parse_text))

        if isinstance(step, CallStep):
            self._build_call()
        elif isinstance(step, WaitStep):
            form.addRow(_section("Wait"))
            self._add("wait", "wait", LineField(parse_required_duration, show_duration, "5s"))
        elif isinstance(step, EmitStep):
            form.addRow(_section("Emit"))
            self._add("event", "event", LineField(parse_required_text, placeholder="event name"))
            self._add("data", "data", YamlField("data (YAML or JSON, ${ } allowed)"))
        elif isinstance(step, NotifyStep):
            form.addRow(_section("Notify"))
            self._add(
                "message",
                "message",
                LineField(parse_required_template, placeholder="text with ${ }"),
            )
            self._add("level", "level", ChoiceField([(lv, lv) for lv in NOTIFY_LEVELS]))
        outer.addStretch(1)
        self.load()

    def _build_call(self) -> None:
        form = self.form
        form.addRow(_section("Call"))
        self._add("service", "service", LineField(parse_required_text, placeholder="service name"))
        self._add("action", "action", LineField(parse_required_text, placeholder="action name"))
        self._add("method", "method", ChoiceField(_METHODS, editable=True))
        self._add("path", "path", LineField(parse_template, placeholder="/<action>"))
        self._add("with_", "with", YamlField("body (YAML or JSON); empty: the run input", 5))
        self._add("query", "query", YamlField("{name: value}", 2, parse_str_map))
        self._add("headers", "headers", YamlField("{Header-Name: value}", 2, parse_str_map))
        self._add("follow_redirects", "followRedirects", ChoiceField(_REDIRECTS))
        self._add(
            "max_response_size",
            "maxResponseSize",
            LineField(parse_size_text, show_size, "default (10MiB)"),
        )
        for attr in ("follow_redirects", "max_response_size"):
            self.editors[attr].input.setToolTip(
                "Left out: the workflow's defaults, else the environment's value, if they have "
                "one, else the default"
            )
        form.addRow(_section("Flow"))
        self._add("foreach", "foreach", LineField(parse_expression, placeholder="${ input.items }"))
        self._add(
            "max_concurrency",
            "maxConcurrency",
            LineField(lambda t: parse_int_text(t, 1), show_number, "1"),
        )
        self._add(
            "timeout", "timeout", LineField(parse_duration_text, show_duration, "default (30s)")
        )
        self.retry = RetryEditor()
        self.retry.edited.connect(lambda v: self._edit("retry", v))
        form.addRow(self.retry)
        self._add("on_error", "onError", ChoiceField(_ON_ERROR))
        # usually one expression, but a map of expressions is allowed too: YAML covers both
        self._add("output", "output", YamlField("${ body } (default), or a map of expressions", 2))

    def _add(self, attr: str, label: str, editor: FieldEditor) -> None:
        self.editors[attr] = editor
        editor.edited.connect(lambda value, a=attr: self._edit(a, value))
        if attr in _EXPRESSION_FIELDS or attr in _YAML_EXPRESSION_FIELDS:
            opener = lambda a=attr, k=label: self.open_expression(a, k)  # noqa: E731
            self.form.addRow(label, with_expression_button(editor, opener))
        else:
            self.form.addRow(label, editor)

    def open_expression(self, attr: str, key: str) -> ExpressionDialog:
        """The expression editor for one field; OK writes its text back (one undo step)."""
        editor = self.editors[attr]
        record = self.run_record() if self.run_record is not None else None
        mocks = folder_mocks(self.document.path)
        scope = sample_scope(self.document.workflow, self.step_id, record, mocks)
        title = f"{key} of {self.step_id}"
        if attr in _YAML_EXPRESSION_FIELDS:
            step, roots = self.step, ROOTS
            if attr == "output" and isinstance(step, CallStep):  # it sees the response too
                scope, roots = with_response(scope, step, record, mocks), ROOTS + RESPONSE_ROOTS
            dialog = ExpressionDialog(
                editor.text(),
                scope,
                title,
                parent=self,
                check=lambda t, s=scope, r=roots: check_yaml_expressions(t, s, r),
                names=completions(scope, roots),
                hint=YAML_HINT,
            )
        else:
            dialog = ExpressionDialog(editor.text(), scope, title, _EXPRESSION_FIELDS[attr], self)
        self.expression_dialog = dialog
        return open_over_field(dialog, editor, self._expression_closed)

    def _expression_closed(self) -> None:
        self.expression_dialog = None

    # model -> form ---------------------------------------------------------------------------
    @property
    def step(self) -> AnyStep:
        return self.document.workflow.step(self.step_id)

    def load(self) -> None:
        """Show the step's current values (after an undo, a rename or an edit elsewhere)."""
        step = self.step
        self.title.setText(f"{self.kind.capitalize()} step {step.id}")
        # keep a half-typed new id unless the id itself changed (a rename, or its undo)
        if step.id != self._shown_id or not self.id_edit.input.hasFocus():
            with QSignalBlocker(self.id_edit.input):
                self.id_edit.input.setText(step.id)
            self.id_edit.set_error(None)
            self._shown_id = step.id
        for attr, editor in self.editors.items():
            editor.display(getattr(step, attr))
        if self.retry is not None and isinstance(step, CallStep):
            self.retry.display(step.retry)
        self.load_after()

    def load_after(self) -> None:
        """Show this step's `after` as ticks in a list of the other steps.

        The rows are rebuilt only when the step ids change; a changed edge just re-ticks them,
        which keeps typing in a big workflow cheap and never deletes the row whose tick is
        being handled (`_after_toggled` runs inside the item's own change).
        """
        step = self.step
        others = tuple(i for i in self.document.workflow.ids if i != step.id)
        key = (others, tuple(step.after))
        if key == self._after_key:
            return
        rebuild = self._after_key is None or self._after_key[0] != others
        self._after_key = key
        with QSignalBlocker(self.after_list):
            if rebuild:
                self.after_list.clear()
                for other in others:
                    item = QListWidgetItem(other)
                    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
                    self.after_list.addItem(item)
            for row, other in enumerate(others):
                self.after_list.item(row).setCheckState(
                    Qt.CheckState.Checked if other in step.after else Qt.CheckState.Unchecked
                )
        if rebuild:
            rows = max(1, min(len(others), 6))
            self.after_list.setFixedHeight(
                self.after_list.sizeHintForRow(0) * rows + 6 if others else 24
            )

    # form -> model ---------------------------------------------------------------------------
    def _edit(self, attr: str, value: Any) -> None:
        if self.document.workflow.find(self.step_id) is None:
            return
        self.document.set_step_field(self.step_id, attr, value)

    def _rename(self) -> None:
        new = self.id_edit.text().strip()
        if new == self.step_id or self.id_edit.error:
            return
        reason = self.document.rename_step(self.step_id, new)
        if reason:
            self.id_edit.set_error(reason)
            return
        self.step_id = new

    def _after_toggled(self, item: QListWidgetItem) -> None:
        other = item.text()
        if item.checkState() == Qt.CheckState.Checked:
            reason = self.document.connect_steps(other, self.step_id)
        else:
            self.document.disconnect_steps(other, self.step_id)
            reason = None
        self.after_error.setText(reason or "")
        self.after_error.setVisible(bool(reason))
        if reason:
            with QSignalBlocker(self.after_list):
                item.setCheckState(Qt.CheckState.Unchecked)
