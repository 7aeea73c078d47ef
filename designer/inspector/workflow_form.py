"""The inspector's form for the workflow itself (shown when no step is selected)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QFormLayout, QLabel, QVBoxLayout, QWidget

from designer.inspector.expression_editor import (
    ExpressionDialog,
    open_over_field,
    with_expression_button,
)
from designer.inspector.expression_scope import completions, folder_mocks, sample_scope
from designer.inspector.fields import (
    ChoiceField,
    FieldEditor,
    LineField,
    RetryEditor,
    YamlField,
    parse_duration_text,
    parse_list,
    parse_name,
    parse_size_text,
    parse_str_map,
    parse_text,
    parse_yaml_text,
    show_duration,
    show_list,
    show_size,
)
from designer.inspector.yaml_expressions import YAML_HINT, check_yaml_expressions

if TYPE_CHECKING:
    from designer.document import WorkflowDocument
    from engine import RunRecord

__all__ = ["WorkflowForm"]


def _parse_schema(text: str) -> tuple[Any, str | None]:
    value, error = parse_yaml_text(text)
    if error is None and value is not None and not isinstance(value, dict):
        return None, "the input schema is a JSON Schema object, e.g. {type: object}"
    return value, error


def _section(title: str) -> QLabel:
    label = QLabel(title)
    label.setObjectName("sectionTitle")
    return label


class WorkflowForm(QWidget):
    """name, description, trigger, input schema, timeout, defaults and output."""

    def __init__(self, document: WorkflowDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.editors: dict[str, FieldEditor] = {}
        self.default_editors: dict[str, FieldEditor] = {}
        # the run whose data the expression editor previews against (set by the inspector)
        self.run_record: Callable[[], RunRecord | None] | None = None
        self.expression_dialog: ExpressionDialog | None = None

        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        title = QLabel("Workflow")
        title.setObjectName("sectionTitle")
        outer.addWidget(title)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        outer.addLayout(form)
        self.form = form

        self._add("name", "name", LineField(parse_name, placeholder="workflowName"))
        self._add("description", "description", LineField(parse_text))
        self._add(
            "trigger", "trigger", LineField(parse_list, show_list, "event names, comma-separated")
        )
        self._add(
            "timeout", "timeout", LineField(parse_duration_text, show_duration, "no deadline")
        )
        self._add(
            "input",
            "input",
            YamlField(
                "JSON Schema for the run input, e.g. {type: object, required: [id]}",
                5,
                _parse_schema,
            ),
        )
        self._add(
            "output",
            "output",
            YamlField("${ steps.<id>.output } or a map; empty: every step's output", 3),
        )

        form.addRow(_section("Defaults for call steps"))
        self._add_default(
            "timeout", "timeout", LineField(parse_duration_text, show_duration, "30s")
        )
        self._add_default(
            "on_error",
            "onError",
            ChoiceField([("default (fail)", None), ("fail", "fail"), ("continue", "continue")]),
        )
        self._add_default("headers", "headers", YamlField("{Header-Name: value}", 2, parse_str_map))
        # the transfer keys: a step's own value wins, these win over the environment's
        self._add_default(
            "follow_redirects",
            "followRedirects",
            ChoiceField(
                [("default (environment's)", None), ("follow", True), ("do not follow", False)]
            ),
        )
        self._add_default(
            "max_response_size",
            "maxResponseSize",
            LineField(parse_size_text, show_size, "default (environment's)"),
        )
        for attr in ("follow_redirects", "max_response_size"):
            self.default_editors[attr].input.setToolTip(
                "For every call step that does not set it; left out: the environment's value, "
                "if it has one, else the default (not followed, 10MiB)"
            )
        self.retry = RetryEditor("Default retry")
        self.retry.edited.connect(lambda v: self._edit_default("retry", v))
        form.addRow(self.retry)
        outer.addStretch(1)
        self.load()

    def _add(self, attr: str, label: str, editor: FieldEditor) -> None:
        self.editors[attr] = editor
        editor.edited.connect(lambda value, a=attr: self._edit(a, value))
        if attr == "output":  # its strings' `${ }` see every step: the expression editor
            self.form.addRow(label, with_expression_button(editor, self.open_output_expression))
        else:
            self.form.addRow(label, editor)

    def open_output_expression(self) -> ExpressionDialog:
        """The expression editor over the workflow's `output`; OK writes it (one undo step)."""
        editor = self.editors["output"]
        record = self.run_record() if self.run_record is not None else None
        wf = self.document.workflow
        scope = sample_scope(wf, None, record, folder_mocks(self.document.path))
        dialog = ExpressionDialog(
            editor.text(),
            scope,
            f"output of {wf.name or 'the workflow'}",
            parent=self,
            check=lambda t: check_yaml_expressions(t, scope),
            names=completions(scope),
            hint=YAML_HINT,
        )
        self.expression_dialog = dialog
        return open_over_field(dialog, editor, self._expression_closed)

    def _expression_closed(self) -> None:
        self.expression_dialog = None

    def _add_default(self, attr: str, label: str, editor: FieldEditor) -> None:
        self.default_editors[attr] = editor
        editor.edited.connect(lambda value, a=attr: self._edit_default(a, value))
        self.form.addRow(label, editor)

    def load(self) -> None:
        wf = self.document.workflow
        for attr, editor in self.editors.items():
            editor.display(getattr(wf, attr))
        for attr, editor in self.default_editors.items():
            editor.display(getattr(wf.defaults, attr))
        self.retry.display(wf.defaults.retry)

    def _edit(self, attr: str, value: Any) -> None:
        if attr == "trigger":
            value = list(value or [])
        self.document.set_workflow_field(attr, value)

    def _edit_default(self, attr: str, value: Any) -> None:
        defaults = replace(self.document.workflow.defaults, **{attr: value})
        self.document.set_workflow_field("defaults", defaults)
