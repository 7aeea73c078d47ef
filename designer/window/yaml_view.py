"""The read-only YAML tab: the workflow exactly as it will be saved, updated live."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QRegularExpression, QTimer
from PySide6.QtGui import (
    QColor,
    QFontDatabase,
    QShowEvent,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextDocument,
)
from PySide6.QtWidgets import QPlainTextEdit, QWidget

from designer.shared import theme

if TYPE_CHECKING:
    from designer.document import WorkflowDocument

__all__ = ["YamlView", "YamlHighlighter"]

# Rebuilding the text costs a dump of the whole workflow: a burst of edits (a drag, typing) is
# folded into one refresh after this pause, and a hidden tab waits until it is shown.
_REFRESH_DELAY_MS = 60


class YamlHighlighter(QSyntaxHighlighter):
    """Keys, comments, `${ }` expressions and quoted strings, in colours that suit the theme."""

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)
        self._rules: list[tuple[QRegularExpression, QTextCharFormat]] = []
        self.set_dark(theme.is_dark())

    def set_dark(self, dark: bool) -> None:
        colours = (
            {"key": "#7fb0ff", "expr": "#e5b567", "string": "#9ccc8a", "comment": "#7c8692"}
            if dark
            else {"key": "#1f4f9a", "expr": "#9a5b00", "string": "#2e7d32", "comment": "#7a838e"}
        )

        def fmt(colour: str, bold: bool = False) -> QTextCharFormat:
            f = QTextCharFormat()
            f.setForeground(QColor(colour))
            if bold:
                f.setFontWeight(700)
            return f

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

    def highlightBlock(self, text: str) -> None:  # noqa: N802 - Qt override
        for pattern, fmt in self._rules:
            it = pattern.globalMatch(text)
            while it.hasNext():
                m = it.next()
                self.setFormat(m.capturedStart(), m.capturedLength(), fmt)


class YamlView(QPlainTextEdit):
    """Shows `document.yaml_text()`; refreshes shortly after every change, keeping the scroll."""

    def __init__(self, document: WorkflowDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("yamlView")
        self.setReadOnly(True)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.document_model = document
        self.highlighter = YamlHighlighter(self.document())
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(_REFRESH_DELAY_MS)
        self._timer.timeout.connect(self.refresh)
        self._stale = False
        document.model.changed.connect(self.schedule_refresh)
        document.model.reset.connect(self._on_reset)
        self.refresh()

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
        """Show the text now."""
        self._timer.stop()
        self._stale = False
        text = self.document_model.yaml_text()
        if text == self.toPlainText():
            return
        bar = self.verticalScrollBar()
        keep = bar.value()
        self.setPlainText(text)
        bar.setValue(min(keep, bar.maximum()))
