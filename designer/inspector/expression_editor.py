"""The expression editor for `${ }` fields: multi-line, completion of the names in scope,
highlighting, problems marked where they are, and a live preview against the last run's data.

Completion follows Qt's custom-completer pattern (a QCompleter set on the text edit, the popup
driven from `keyPressEvent`): the word before the cursor inside a `${ }` is the prefix, and the
list holds full paths (`steps.check.output.status`), so typing any part of a path narrows it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtCore import QRegularExpression, QStringListModel, Qt
from PySide6.QtGui import (
    QColor,
    QFontDatabase,
    QKeyEvent,
    QKeySequence,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
)
from PySide6.QtWidgets import (
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from designer.inspector.expression_scope import ROOTS, SampleScope, completions
from designer.shared import theme
from designer.shared.highlight import RuleHighlighter
from engine import TemplateSyntaxError, check_template, pretty_json, render, split_template

__all__ = [
    "ExpressionEdit",
    "ExpressionDialog",
    "check_expression_text",
    "with_expression_button",
]

# the path being typed: names, dots, quoted keys and [0]s back to a delimiter
_WORD_BEFORE = re.compile(r"[A-Za-z_][\w.\[\]\"]*$|[A-Za-z_]?$")
_MAX_PREVIEW = 20_000


def _inside_expression(text: str) -> bool:
    """Whether the end of `text` is inside an open `${ }` (not in a quoted string)."""
    start = text.rfind("${")
    return start >= 0 and text.find("}", start) < 0


class ExpressionHighlighter(RuleHighlighter):
    """`${ }` delimiters, the names in scope, functions, strings and JSON literals."""

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)
        dark = theme.is_dark()
        colours = (
            {"delim": "#e5b567", "root": "#7fb0ff", "fn": "#c792ea", "str": "#9ccc8a"}
            if dark
            else {"delim": "#9a5b00", "root": "#1f4f9a", "fn": "#7b1fa2", "str": "#2e7d32"}
        )

        fmt = theme.text_format

        roots = "|".join(ROOTS)
        self._rules = [
            (QRegularExpression(rf"\b(?:{roots})\b"), fmt(colours["root"], True)),
            (QRegularExpression(r"\b[a-z_]+(?=\()"), fmt(colours["fn"])),
            (QRegularExpression(r"'(?:[^'\\]|\\.)*'|`[^`]*`"), fmt(colours["str"])),
            (QRegularExpression(r"\$\{|\}"), fmt(colours["delim"], True)),
        ]


class ExpressionEdit(QPlainTextEdit):
    """A text edit that completes the names in scope as they are typed (Ctrl+Space asks)."""

    def __init__(self, names: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("expressionEdit")
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setTabChangesFocus(True)
        self.highlighter = ExpressionHighlighter(self.document())
        self.completer = QCompleter(QStringListModel(names, self), self)
        self.completer.setWidget(self)
        self.completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseSensitive)
        self.completer.setFilterMode(Qt.MatchFlag.MatchStartsWith)
        self.completer.activated.connect(self.insert_completion)

    def offered(self) -> list[str]:
        """What the popup lists now."""
        model = self.completer.completionModel()
        return [model.index(i, 0).data() for i in range(model.rowCount())]

    def prefix(self) -> str | None:
        """The path typed before the cursor inside a `${ }`, or None outside one."""
        cursor = self.textCursor()
        block = cursor.block().text()[: cursor.positionInBlock()]
        before = self.toPlainText()[: cursor.position()]
        if not _inside_expression(before):
            return None
        m = _WORD_BEFORE.search(block)
        return m.group() if m else ""

    def insert_completion(self, completion: str) -> None:
        prefix = self.completer.completionPrefix()
        cursor = self.textCursor()
        cursor.movePosition(
            QTextCursor.MoveOperation.Left, QTextCursor.MoveMode.KeepAnchor, len(prefix)
        )
        cursor.insertText(completion)
        self.setTextCursor(cursor)
        self.completer.popup().hide()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        popup = self.completer.popup()
        if popup.isVisible() and event.key() in (
            Qt.Key.Key_Enter,
            Qt.Key.Key_Return,
            Qt.Key.Key_Escape,
            Qt.Key.Key_Tab,
            Qt.Key.Key_Backtab,
        ):
            # the completer's popup sends these here first and acts on them (choose, close)
            # only when they are ignored; sent directly, they do not reach the dialog
            event.ignore()
            return
        asked = event.key() == Qt.Key.Key_Space and bool(
            event.modifiers() & Qt.KeyboardModifier.ControlModifier
        )
        if not asked:
            super().keyPressEvent(event)
        self.update_popup(asked or bool(event.text()) or event.key() == Qt.Key.Key_Backspace)

    def update_popup(self, typed: bool = True) -> None:
        """Show the names that start with the word before the cursor (after a key)."""
        prefix = self.prefix()
        if prefix is None or not typed or (prefix == "" and not self._just_opened()):
            self.completer.popup().hide()
            return
        self.completer.setCompletionPrefix(prefix)
        if self.completer.completionCount() == 0 or (
            self.completer.completionCount() == 1 and self.completer.currentCompletion() == prefix
        ):
            self.completer.popup().hide()
            return
        popup = self.completer.popup()
        rect = self.cursorRect()
        rect.setWidth(popup.sizeHintForColumn(0) + popup.verticalScrollBar().sizeHint().width() + 8)
        self.completer.complete(rect)
        # the first name is highlighted, so Enter takes it (complete() clears the current row)
        popup.setCurrentIndex(self.completer.completionModel().index(0, 0))

    def _just_opened(self) -> bool:
        """`${ ` just typed: offer every name."""
        before = self.toPlainText()[: self.textCursor().position()]
        return before.rstrip().endswith("${") or before.endswith("(")


Checked = tuple[list[tuple[int, str, str]], Any, str | None]


def check_expression_text(
    text: str, scope: SampleScope, single: bool, roots: tuple[str, ...] = ROOTS
) -> Checked:
    """Problems as (offset, severity, message), the preview value, and why there is none."""
    problems: list[tuple[int, str, str]] = []
    try:
        found = check_template(text)
    except TemplateSyntaxError as e:
        return [(e.offset, "error", e.message)], None, "fix the expression to see its value"
    if single:
        segs = split_template(text) if text.strip() else ()
        if text.strip() and (len(segs) != 1 or segs[0].expr is None):
            problems.append((0, "error", "write it as one expression: ${ … }"))
    for expr, offset, refs in found:
        for ref in refs:
            if not ref or ref[0] not in roots:
                name = ref[0] if ref else expr
                problems.append(
                    (
                        offset + max(0, expr.find(name)),
                        "error",
                        f"'{name}' is not in scope: use one of {', '.join(roots)}",
                    )
                )
            elif ref[0] == "steps" and len(ref) > 1 and ref[1] not in scope.step_ids:
                problems.append(
                    (
                        offset + max(0, expr.find(ref[1])),
                        "warning",
                        f"step '{ref[1]}' does not run before this one: its value is not set",
                    )
                )
            elif ref[0] in ("item", "index") and ref[0] not in scope.data:
                problems.append(
                    (
                        offset + max(0, expr.find(ref[0])),
                        "warning",
                        f"'{ref[0]}' is set only inside a foreach step",
                    )
                )
    if any(sev == "error" for _, sev, _ in problems):
        return problems, None, "fix the expression to see its value"
    try:
        return problems, render(text, scope.data), None
    except Exception as e:  # noqa: BLE001 - any evaluation failure is shown, not raised
        return problems, None, f"cannot evaluate it: {e}"


class ExpressionDialog(QDialog):
    """Edit one `${ }` field: the editor, its problems, and its value against sample data.

    `check` replaces the one-template check (a YAML-valued field checks each of its strings:
    yaml_expressions.py); `names` the completions, `hint` the line above the editor."""

    def __init__(
        self,
        text: str,
        scope: SampleScope,
        title: str,
        single: bool = False,
        parent: QWidget | None = None,
        *,
        check: Callable[[str], Checked] | None = None,
        names: list[str] | None = None,
        hint: str = "",
    ) -> None:
        super().__init__(parent)
        self.setObjectName("expressionDialog")
        self.setWindowTitle(title)
        self.resize(640, 420)
        self.scope = scope
        self.single = single
        self.check: Callable[[str], Checked] = check or (
            lambda t: check_expression_text(t, scope, single)
        )
        self.problems: list[tuple[int, str, str]] = []
        self.preview_value: Any = None
        self.edit = ExpressionEdit(names if names is not None else completions(scope), self)
        self.edit.setPlainText(text)
        self.edit.moveCursor(QTextCursor.MoveOperation.End)
        self.edit.textChanged.connect(self.refresh)
        self.problem_label = QLabel()
        self.problem_label.setObjectName("fieldError")
        self.problem_label.setWordWrap(True)
        self.source_label = QLabel()
        self.source_label.setObjectName("hint")
        self.preview = QPlainTextEdit()
        self.preview.setObjectName("expressionPreview")
        self.preview.setReadOnly(True)
        self.preview.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        hint = QLabel(
            (hint + " " if hint else "")
            + "Names complete as you type (Ctrl+Space lists them): input, steps.<id>.output, "
            "item, index, run, secrets, and JMESPath functions."
        )
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(hint)
        layout.addWidget(self.edit, 3)
        layout.addWidget(self.problem_label)
        layout.addWidget(self.source_label)
        layout.addWidget(self.preview, 2)
        layout.addWidget(self.buttons)
        self.edit.setFocus()
        self.refresh()

    def text(self) -> str:
        return self.edit.toPlainText()

    def refresh(self) -> None:
        """Check the text and show its value now (it is short: no pause needed)."""
        text = self.text()
        self.problems, value, why = self.check(text)
        self.preview_value = value
        marks = [self._mark(offset, sev) for offset, sev, _ in self.problems]
        self.edit.setExtraSelections(marks)
        self.problem_label.setText("\n".join(msg for _, _, msg in self.problems))
        self.problem_label.setVisible(bool(self.problems))
        self.source_label.setText(f"Value with {self.scope.source}:")
        if why is not None:
            self.preview.setPlainText(f"({why})")
        else:
            shown = pretty_json(value) if not isinstance(value, str) else value
            self.preview.setPlainText(shown[:_MAX_PREVIEW])
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(not any(sev == "error" for _, sev, _ in self.problems))

    def _mark(self, offset: int, severity: str) -> QTextEdit.ExtraSelection:
        cursor = QTextCursor(self.edit.document())
        cursor.setPosition(max(0, min(offset, len(self.text()))))
        cursor.movePosition(QTextCursor.MoveOperation.EndOfWord, QTextCursor.MoveMode.KeepAnchor)
        if not cursor.hasSelection():
            cursor.movePosition(
                QTextCursor.MoveOperation.NextCharacter, QTextCursor.MoveMode.KeepAnchor
            )
        mark = QTextEdit.ExtraSelection()
        mark.cursor = cursor  # type: ignore[misc]
        fmt = QTextCharFormat()
        fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
        fmt.setUnderlineColor(QColor("#e53935" if severity == "error" else "#f29900"))
        mark.format = fmt  # type: ignore[misc]
        return mark

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        # Ctrl+Enter accepts from inside the editor (Enter is a new line there)
        if event.matches(QKeySequence.StandardKey.InsertLineSeparator) or (
            event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            and event.modifiers() & Qt.KeyboardModifier.ControlModifier
        ):
            if self.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled():
                self.accept()
            return
        super().keyPressEvent(event)


def with_expression_button(editor: QWidget, open_editor: Callable[[], None]) -> QWidget:
    """`editor` with an ƒx button beside it that opens the expression editor."""
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    row.setSpacing(2)
    row.addWidget(editor, 1)
    button = QToolButton()
    button.setObjectName("expressionButton")
    button.setText("ƒx")
    button.setToolTip("Open the expression editor: completion, problems and a preview")
    button.clicked.connect(lambda _c=False: open_editor())
    row.addWidget(button, 0, Qt.AlignmentFlag.AlignTop)
    editor.setProperty("expressionButton", button)
    return box


class _TextField(Protocol):
    def text(self) -> str: ...

    def _set_text(self, text: str) -> None: ...

    def _text_changed(self) -> None: ...


def open_over_field(
    dialog: ExpressionDialog, field: _TextField, closed: Callable[[], None]
) -> ExpressionDialog:
    """Open `dialog` (made over `field`'s text): OK writes its text back through the field, so
    the field's own check and edit run (one undo step); `closed` is told when it closes."""
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    def done(result: int) -> None:
        closed()
        if result == ExpressionDialog.DialogCode.Accepted and dialog.text() != field.text():
            field._set_text(dialog.text())
            field._text_changed()

    dialog.finished.connect(done)
    dialog.open()
    return dialog
