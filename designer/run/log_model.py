"""The run log's model: a table model that stays fast at 200,000 lines, and its filter.

It keeps every line (up to `cap`, dropping the oldest in chunks) and, when a filter is
on, a list of the absolute numbers of the lines that pass it; rows are looked up by index, so
appends, drops and filter changes never walk Qt's per-row machinery. Text is formatted only
for rows that are painted.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase

from engine import LOG_LEVELS, LogLine, clock_text

__all__ = ["LogModel", "LogFilter", "LEVEL_COLORS", "DEFAULT_CAP"]

DEFAULT_CAP = 200_000
LEVEL_COLORS = {
    "debug": QColor("#8a939c"),
    "info": None,  # the palette's text colour (works in both themes)
    "success": QColor("#2b9a3e"),
    "warning": QColor("#c77700"),
    "error": QColor("#d9342b"),
}
COLUMNS = ("Time", "Level", "Step", "Message")
_AnyIndex = QModelIndex | QPersistentModelIndex


class LogFilter:
    """Which lines show: levels, one step (or all), one run (or all), and a search text."""

    __slots__ = ("levels", "step", "run_id", "text")

    def __init__(
        self,
        levels: Iterable[str] = LOG_LEVELS,
        step: str | None = None,
        run_id: str | None = None,
        text: str = "",
    ) -> None:
        self.levels = frozenset(levels)
        self.step = step or None
        self.run_id = run_id or None
        self.text = text.casefold()

    @property
    def passes_all(self) -> bool:
        return (
            self.levels >= frozenset(LOG_LEVELS)
            and self.step is None
            and self.run_id is None
            and not self.text
        )

    def predicate(self) -> Callable[[LogLine], bool]:
        levels, step, run_id, text = self.levels, self.step, self.run_id, self.text

        def ok(line: LogLine) -> bool:
            if line.level not in levels:
                return False
            if (
                step is not None and line.step != step and line.step.split("[", 1)[0] != step
            ):  # foreach items: `step[3]`
                return False
            if run_id is not None and line.run_id != run_id:
                return False
            return not text or text in line.message.casefold() or text in line.step.casefold()

        return ok


class LogModel(QAbstractTableModel):
    """Lines in arrival order; with a filter, only those that pass it."""

    def __init__(self, cap: int = DEFAULT_CAP, parent: object | None = None) -> None:
        super().__init__(parent)
        self.cap = cap
        self._lines: list[LogLine] = []
        self._base = 0  # absolute number of _lines[0]
        self._shown: list[int] | None = None  # absolute numbers passing the filter; None: all
        self._filter = LogFilter()
        self._ok = self._filter.predicate()
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self._mono = QFont(mono)

    # --- contents ---------------------------------------------------------------------------

    @property
    def total(self) -> int:
        """Lines held, shown or not."""
        return len(self._lines)

    def lines(self) -> list[LogLine]:
        """The lines that pass the filter, in order."""
        if self._shown is None:
            return list(self._lines)
        base, lines = self._base, self._lines
        return [lines[i - base] for i in self._shown]

    def line(self, row: int) -> LogLine:
        if self._shown is None:
            return self._lines[row]
        return self._lines[self._shown[row] - self._base]

    def append(self, new: list[LogLine]) -> None:
        """Add lines at the end (one insert for the whole batch); drop the oldest past `cap`."""
        if not new:
            return
        if len(new) > self.cap:
            new = new[-self.cap :]
        overflow = len(self._lines) + len(new) - self.cap
        if overflow > 0:
            # drop a tenth at once: removing rows one batch at a time costs the same either way
            self._drop(max(overflow, self.cap // 10))
        start_abs = self._base + len(self._lines)
        if self._shown is None:
            first = len(self._lines)
            self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
            self._lines.extend(new)
            self.endInsertRows()
            return
        ok = self._ok
        passing = [start_abs + k for k, line in enumerate(new) if ok(line)]
        self._lines.extend(new)
        if passing:
            first = len(self._shown)
            self.beginInsertRows(QModelIndex(), first, first + len(passing) - 1)
            self._shown.extend(passing)
            self.endInsertRows()

    def _drop(self, n: int) -> None:
        n = min(n, len(self._lines))
        if n <= 0:
            return
        if self._shown is None:
            self.beginRemoveRows(QModelIndex(), 0, n - 1)
            del self._lines[:n]
            self._base += n
            self.endRemoveRows()
            return
        limit = self._base + n
        gone = 0
        while gone < len(self._shown) and self._shown[gone] < limit:
            gone += 1
        if gone:
            self.beginRemoveRows(QModelIndex(), 0, gone - 1)
            del self._shown[:gone]
        del self._lines[:n]
        self._base += n
        if gone:
            self.endRemoveRows()

    def clear(self) -> None:
        self.beginResetModel()
        self._base += len(self._lines)
        self._lines = []
        self._shown = None if self._filter.passes_all else []
        self.endResetModel()

    def set_filter(self, flt: LogFilter) -> None:
        self.beginResetModel()
        self._filter = flt
        self._ok = flt.predicate()
        if flt.passes_all:
            self._shown = None
        else:
            ok, base = self._ok, self._base
            self._shown = [base + k for k, line in enumerate(self._lines) if ok(line)]
        self.endResetModel()

    @property
    def filter(self) -> LogFilter:
        return self._filter

    def export_jsonl(self, path: str | Path, rows: Iterable[LogLine] | None = None) -> int:
        """Write lines (the shown ones by default) as JSON lines; returns how many."""
        chosen = self.lines() if rows is None else list(rows)
        with open(path, "w", encoding="utf-8") as f:
            for line in chosen:
                f.write(json.dumps(line.to_json(), ensure_ascii=False, default=str))
                f.write("\n")
        return len(chosen)

    # --- Qt model ---------------------------------------------------------------------------

    def rowCount(self, parent: _AnyIndex = QModelIndex()) -> int:  # noqa: N802, B008
        if parent.isValid():
            return 0
        return len(self._lines) if self._shown is None else len(self._shown)

    def columnCount(self, parent: _AnyIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,  # noqa: N802
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> object:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def data(self, index: _AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        line = self.line(index.row())
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return clock_text(line.time)
            if col == 1:
                return line.level
            if col == 2:
                return line.step
            return line.message
        if role == Qt.ItemDataRole.ForegroundRole:
            return LEVEL_COLORS.get(line.level)
        if role == Qt.ItemDataRole.ToolTipRole and col == 3:
            return line.message if len(line.message) > 80 else None
        if role == Qt.ItemDataRole.FontRole and col == 0:
            return self._mono
        return None
