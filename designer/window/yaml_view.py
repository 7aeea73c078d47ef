"""The YAML tab: the workflow as it will be saved, updated live, and editable.

Typing is applied after a pause (or when the editor loses focus): text that parses replaces the
workflow as one undo step; text that does not is left as typed, its problems underlined at
their line and column and listed under the text, and the model stays as it was.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QRegularExpression, Qt, QTimer
from PySide6.QtGui import (
    QColor,
    QFocusEvent,
    QFontDatabase,
    QKeyEvent,
    QKeySequence,
    QResizeEvent,
    QShowEvent,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
)
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QPlainTextEdit, QTextEdit, QWidget

from designer.shared import theme
from designer.shared.highlight import RuleHighlighter

if TYPE_CHECKING:
    from designer.document import WorkflowDocument
    from designer.document.text_edit import TextResult
    from engine import Problem

__all__ = ["YamlView", "YamlHighlighter"]

# Rebuilding the text costs a dump of the whole workflow: a burst of edits (a drag, typing) is
# folded into one refresh after this pause, and a hidden tab waits until it is shown.
_REFRESH_DELAY_MS = 60
# typing is applied after this pause: parsing on every key would flash problems mid-word
APPLY_DELAY_MS = 500
_PROBLEM_ROWS = 4  # the problem list under the text shows this many before it scrolls


class YamlHighlighter(RuleHighlighter):
    """Keys, comments, `${ }` expressions and quoted strings, in colours that suit the theme."""

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)
        self.set_dark(theme.is_dark())

    def set_dark(self, dark: bool) -> None:
        colours = (
            {"key": "#7fb0ff", "expr": "#e5b567", "string": "#9ccc8a", "comment": "#7c8692"}
            if dark
            else {"key": "#1f4f9a", "expr": "#9a5b00", "string": "#2e7d32", "comment": "#7a838e"}
        )

        fmt = theme.text_format

        self._rules = [
            (
                QRegularExpression(r"^\s*(?:- )?[A-Za-z_][\w.\-]*(?=:(\s|$))"),
                fmt(colours["key"], True),
            ),
            (QRegularExpression(r"\"(?:[^\"\\\\]|\\\\.)*\"|'[^']*'"), fmt(colours["string"])),
            (QRegularExpression(r"\$\{[^}]*\}"), fmt(colours["expr"])),
            (QRegularExpression(r"(^|\s)#.*$"), fmt(colours["comment"])),
        ]
        self.rehighlight()


class YamlView(QPlainTextEdit):
    """Shows `document.yaml_text()` and applies what is typed into it (`apply_now`)."""

    def __init__(self, document: WorkflowDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("yamlView")
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        # Ctrl+Z undoes whole edits on the document's stack (one step per applied text), not
        # the keys typed; unapplied typing is taken back first (keyPressEvent)
        self.setUndoRedoEnabled(False)
        self.document_model = document
        self.highlighter = YamlHighlighter(self.document())
        self.problems: list[Problem] = []  # the shown text's problems, as marked
        self.problem_list = QListWidget(self)
        self.problem_list.setObjectName("yamlProblems")
        self.problem_list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.problem_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.problem_list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.problem_list.itemClicked.connect(self._problem_clicked)
        self.problem_list.hide()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(_REFRESH_DELAY_MS)
        self._timer.timeout.connect(self.refresh)
        self._apply_timer = QTimer(self)
        self._apply_timer.setSingleShot(True)
        self._apply_timer.setInterval(APPLY_DELAY_MS)
        self._apply_timer.timeout.connect(self.apply_now)
        self._stale = False
        self._setting = False  # the text is being set from the model, not typed
        self.pending = False  # typed text the model does not say yet
        self._model_text = ""  # the model's text when the shown text last agreed with it
        self.textChanged.connect(self._typed)
        document.model.changed.connect(self.schedule_refresh)
        document.model.reset.connect(self._on_reset)
        document.draft_changed.connect(lambda _on: self.refresh())
        document.problems_changed.connect(self._draft_problems)
        self.refresh()

    # --- following the model ----------------------------------------------------------------

    def schedule_refresh(self) -> None:
        self._stale = True
        if self.isVisible():  # a hidden tab catches up when it is shown (showEvent)
            self._timer.start()

    def _on_reset(self) -> None:
        # another file: shown now if the tab is, else when it is shown (writing the YAML of a
        # file just opened is not free)
        if self.isVisible():
            self.refresh()
        else:
            self._stale = True

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self._stale:
            self.refresh()

    def refresh(self) -> None:
        """Show the model's text now, unless it is what the shown text already says (then the
        typed layout and comments stay) or typing waits to be applied."""
        self._timer.stop()
        self._stale = False
        text = self.document_model.yaml_text()
        draft = self.document_model.draft is not None
        if not self.pending and text != self._model_text:
            self._show_text(text)
            if not draft:
                self._mark([])
        if draft:
            self._mark(self.document_model.problems)

    def _draft_problems(self) -> None:
        # a draft's problems are the document's; a workflow's are marked when text is applied
        if self.document_model.draft is not None and not self.pending:
            self._mark(self.document_model.problems)

    def _show_text(self, text: str) -> None:
        self._model_text = text
        if text == self.toPlainText():
            return
        bar = self.verticalScrollBar()
        keep, line = bar.value(), self.textCursor().blockNumber()
        self._setting = True
        try:
            self.setPlainText(text)
        finally:
            self._setting = False
        block = self.document().findBlockByNumber(min(line, self.blockCount() - 1))
        self.setTextCursor(QTextCursor(block))
        bar.setValue(min(keep, bar.maximum()))

    # --- applying what is typed ---------------------------------------------------------------

    def _typed(self) -> None:
        if self._setting:
            return
        self.pending = True
        self._apply_timer.start()

    def apply_now(self) -> TextResult | None:
        """Apply the typed text now; None when nothing was typed since the last time."""
        self._apply_timer.stop()
        if not self.pending:
            return None
        result = self.document_model.apply_text(self.toPlainText())
        if result.applied:
            self.pending = False
            self._model_text = self.document_model.yaml_text()
        self._mark(result.problems if not result.applied else result.errors)
        return result

    def revert(self) -> None:
        """Drop typing not yet applied: show the model's text again."""
        self._apply_timer.stop()
        self.pending = False
        self._model_text = ""
        self.refresh()

    def focusOutEvent(self, event: QFocusEvent) -> None:  # noqa: N802 - Qt override
        super().focusOutEvent(event)
        result = self.apply_now()
        if result is not None and result.applied and self.document_model.draft is None:
            # what is saved is the writer's text: show it once the typing is done
            self._show_text(self.document_model.yaml_text())

    def event(self, event: QEvent) -> bool:
        # the window's Undo and Redo take Ctrl+Z unless there is typing to take back
        if (
            isinstance(event, QKeyEvent)
            and event.type() == QEvent.Type.ShortcutOverride
            and _is_undo_or_redo(event)
            and not self.pending
        ):
            event.ignore()
            return False
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        if _is_undo_or_redo(event):
            if self.pending and event.matches(QKeySequence.StandardKey.Undo):
                self.revert()
            event.accept()
            return
        super().keyPressEvent(event)

    # --- problems, marked in the text -----------------------------------------------------------

    def _mark(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        marks: list[QTextEdit.ExtraSelection] = []
        self.problem_list.clear()
        for p in problems:
            error = p.severity == "error"
            where = f"{p.line}:{p.col}  " if p.line else ""
            item = QListWidgetItem(f"{where}{p.message}")
            item.setToolTip(p.message)
            item.setData(Qt.ItemDataRole.UserRole, (p.line, p.col))
            item.setForeground(QColor("#c62828" if error else "#a15c00"))
            self.problem_list.addItem(item)
            if p.line:
                marks.append(self._underline(p.line, p.col, error))
        self.setExtraSelections(marks)
        self.problem_list.setVisible(bool(problems))
        self._place_problem_list()

    def _underline(self, line: int, col: int, error: bool) -> QTextEdit.ExtraSelection:
        """A wavy line under the word at `line:col` (to the end of the line if it is blank)."""
        block = self.document().findBlockByNumber(line - 1)
        start = block.position() + max(0, min(col - 1, block.length() - 1))
        cursor = QTextCursor(self.document())
        cursor.setPosition(start)
        cursor.movePosition(QTextCursor.MoveOperation.EndOfWord, QTextCursor.MoveMode.KeepAnchor)
        if len(cursor.selectedText().strip()) < 2:  # a quote, a bracket: mark the rest too
            cursor.movePosition(
                QTextCursor.MoveOperation.EndOfBlock, QTextCursor.MoveMode.KeepAnchor
            )
        if not cursor.hasSelection():  # an empty line: mark the line itself
            cursor.movePosition(QTextCursor.MoveOperation.StartOfBlock)
            cursor.movePosition(
                QTextCursor.MoveOperation.NextCharacter, QTextCursor.MoveMode.KeepAnchor
            )
        mark = QTextEdit.ExtraSelection()
        mark.cursor = cursor  # type: ignore[misc]
        fmt = QTextCharFormat()
        fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
        fmt.setUnderlineColor(QColor("#e53935" if error else "#f29900"))
        fmt.setBackground(QColor(229, 57, 53, 40) if error else QColor(242, 153, 0, 40))
        mark.format = fmt  # type: ignore[misc]
        return mark

    def go_to(self, line: int, col: int) -> None:
        block = self.document().findBlockByNumber(max(0, line - 1))
        cursor = QTextCursor(block)
        cursor.setPosition(block.position() + max(0, min(col - 1, block.length() - 1)))
        self.setTextCursor(cursor)
        self.centerCursor()
        self.setFocus()

    def _problem_clicked(self, item: QListWidgetItem) -> None:
        line, col = item.data(Qt.ItemDataRole.UserRole)
        if line:
            self.go_to(line, col)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._place_problem_list()

    def _place_problem_list(self) -> None:
        """The list sits under the text, inside the editor's frame (a margin keeps the text
        clear of it), so the tab's widget stays this editor."""
        if self.problem_list.isHidden():
            self.setViewportMargins(0, 0, 0, 0)
            return
        rows = min(self.problem_list.count(), _PROBLEM_ROWS)
        row = max(self.problem_list.sizeHintForRow(0), self.fontMetrics().height() + 4)
        height = rows * row + 2 * self.problem_list.frameWidth()
        self.setViewportMargins(0, 0, 0, height)
        # the margin lies between the text and the horizontal scroll bar
        text = self.viewport().geometry()
        self.problem_list.setGeometry(text.left(), text.bottom() + 1, text.width(), height)


def _is_undo_or_redo(event: QKeyEvent) -> bool:
    return event.matches(QKeySequence.StandardKey.Undo) or event.matches(
        QKeySequence.StandardKey.Redo
    )
