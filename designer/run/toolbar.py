"""The run tool bar: environment, mocks scenario, input, Run, Stop, Emit Event, Record, Real Time.

It holds the choices and the actions; RunUI connects the actions to the run controller. The
environment box is refilled from the files beside the workflow whenever its path changes or a
recording adds a mocks file.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QColor,
    QIcon,
    QKeySequence,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import QComboBox, QLabel, QToolBar, QWidget

from designer.canvas import style as canvas_style
from designer.run.environments import EnvChoice, environment_choices, scenarios_of
from designer.shared import theme

__all__ = ["RunToolbar", "glyph_icon"]

_NO_SCENARIO = ""


def glyph_icon(kind: str, color: QColor, size: int = 32) -> QIcon:
    """A run glyph (`run`, `stop`, `record`, `clock`, `tests`) filled or stroked in `color`."""
    pm = QPixmap(size, size)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.scale(size / 16.0, size / 16.0)
    path = QPainterPath()
    if kind == "run":
        path.moveTo(4, 2.5)
        path.lineTo(13, 8)
        path.lineTo(4, 13.5)
        path.closeSubpath()
        p.fillPath(path, color)
    elif kind == "stop":
        path.addRoundedRect(QRectF(3, 3, 10, 10), 1.5, 1.5)
        p.fillPath(path, color)
    elif kind == "record":
        path.addEllipse(QPointF(8, 8), 5, 5)
        p.fillPath(path, color)
    else:
        p.setPen(
            QPen(
                color,
                1.6,
                Qt.PenStyle.SolidLine,
                Qt.PenCapStyle.RoundCap,
                Qt.PenJoinStyle.RoundJoin,
            )
        )
        p.drawPath(canvas_style.kind_path("wait") if kind == "clock" else _tests_path())
    p.end()
    return QIcon(pm)


def _tests_path() -> QPainterPath:
    path = QPainterPath()
    path.addRoundedRect(QRectF(2, 2, 12, 12), 2, 2)
    path.moveTo(5, 8.5)
    path.lineTo(7, 10.5)
    path.lineTo(11, 5.5)
    return path


class RunToolbar(QToolBar):
    """Choices for the next run, and the run actions (also put in the Run menu by RunUI)."""

    choice_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Run", parent)
        self.setObjectName("runToolBar")
        self.choices: list[EnvChoice] = []
        self.problems: list[str] = []
        self.workflow_path: str | None = None

        self.env_combo = QComboBox(self)
        self.env_combo.setObjectName("runEnvironment")
        self.env_combo.setToolTip(
            "Where the run's calls go: an environment from the "
            "environments file, or a mocks file to replay"
        )
        self.env_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.env_combo.currentIndexChanged.connect(self._env_changed)
        self.scenario_combo = QComboBox(self)
        self.scenario_combo.setObjectName("runScenario")
        self.scenario_combo.setToolTip("A named set of mock overrides from the mocks files")
        self.scenario_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.scenario_combo.currentIndexChanged.connect(lambda _i: self.choice_changed.emit())

        green = canvas_style.STATE_COLORS["succeeded"]
        red = canvas_style.STATE_COLORS["failed"]
        grey = canvas_style.STATE_COLORS["cancelled"]
        self.run_action = self._action(
            "&Run",
            "Run the workflow in the chosen environment",
            QKeySequence("F5"),
            glyph_icon("run", green),
        )
        self.stop_action = self._action(
            "&Stop",
            "Stop the run now (it ends as cancelled)",
            QKeySequence("Shift+F5"),
            glyph_icon("stop", red),
        )
        self.stop_action.setEnabled(False)
        self.emit_action = self._action(
            "&Emit Event…",
            "Publish an event: every workflow whose trigger names it starts",
            None,
            None,
        )
        self.input_action = self._action(
            "Run &Input", "Edit the input of the next run", QKeySequence("Ctrl+I"), None
        )
        self.record_action = self._action(
            "Re&cord",
            "Record a live or hybrid run as a mocks file beside the workflow",
            None,
            glyph_icon("record", red),
        )
        self.record_action.setCheckable(True)
        self.real_time_action = self._action(
            "Real &Time",
            "Let mocked runs take the time their delays, waits and back-offs say",
            None,
            glyph_icon("clock", grey),
        )
        self.real_time_action.setCheckable(True)
        self.tests_action = self._action(
            "Run &Tests",
            "Run the workflow's tests file",
            QKeySequence("Ctrl+F5"),
            glyph_icon("tests", green),
        )

        self.addWidget(QLabel(" Environment ", self))
        self.addWidget(self.env_combo)
        self.addWidget(QLabel(" Scenario ", self))
        self.addWidget(self.scenario_combo)
        self.addAction(self.input_action)
        self.addSeparator()
        self.addActions([self.run_action, self.stop_action])
        self.addSeparator()
        self.addActions(
            [self.emit_action, self.record_action, self.real_time_action, self.tests_action]
        )
        self.set_workflow_path(None)

    def _action(self, text: str, tip: str, key: QKeySequence | None, icon: QIcon | None) -> QAction:
        action = QAction(text, self)
        if icon is not None:
            action.setIcon(icon)
        if key is not None:
            action.setShortcut(key)
            tip = f"{tip} ({key.toString(QKeySequence.SequenceFormat.NativeText)})"
        action.setToolTip(tip)
        action.setStatusTip(tip)
        return action

    def refresh_icons(self) -> None:
        try:
            self.emit_action.setIcon(theme.icon("emit"))
            self.input_action.setIcon(theme.icon("yaml"))
        except FileNotFoundError:  # icons are the window's; the text still says what it does
            pass

    # --- choices ----------------------------------------------------------------------------

    def set_workflow_path(self, path: str | None) -> None:
        """Refill the environment box for a workflow file (keeping the choice when it exists)."""
        keep = self.env_combo.currentText() if path == self.workflow_path else None
        self.workflow_path = path
        self.choices, default, self.problems = environment_choices(path)
        self.env_combo.blockSignals(True)
        self.env_combo.clear()
        for choice in self.choices:
            self.env_combo.addItem(choice.label)
        index = self.env_combo.findText(keep) if keep else -1
        self.env_combo.setCurrentIndex(index if index >= 0 else default)
        self.env_combo.blockSignals(False)
        tip = "Where the run's calls go"
        if self.problems:
            tip += ":\n" + "\n".join(self.problems)
        self.env_combo.setToolTip(tip)
        self._env_changed()

    def current_choice(self) -> EnvChoice:
        i = self.env_combo.currentIndex()
        return self.choices[i] if 0 <= i < len(self.choices) else self.choices[0]

    def select_environment(self, name_or_label: str) -> bool:
        """Choose by environment name (`mock`), label, or mocks file name; False if unknown."""
        for i, c in enumerate(self.choices):
            if name_or_label in (
                c.label,
                c.env if c.mocks is None else None,
                c.mocks.name if c.mocks is not None else None,
            ):
                self.env_combo.setCurrentIndex(i)
                return True
        return False

    def scenario(self) -> str | None:
        return self.scenario_combo.currentData() or None

    def select_scenario(self, name: str | None) -> bool:
        index = self.scenario_combo.findData(name or _NO_SCENARIO)
        if index < 0:
            return False
        self.scenario_combo.setCurrentIndex(index)
        return True

    def _env_changed(self, *_args: object) -> None:
        choice = self.current_choice()
        names, problems = scenarios_of(choice)
        keep = self.scenario_combo.currentData()
        self.scenario_combo.blockSignals(True)
        self.scenario_combo.clear()
        self.scenario_combo.addItem("no scenario", _NO_SCENARIO)
        for name in names:
            self.scenario_combo.addItem(name, name)
        index = self.scenario_combo.findData(keep)
        self.scenario_combo.setCurrentIndex(max(0, index))
        self.scenario_combo.blockSignals(False)
        self.scenario_combo.setEnabled(bool(names))
        self.scenario_combo.setToolTip(
            "\n".join(problems)
            if problems
            else "A named set of mock overrides from the mocks files"
        )
        self.record_action.setEnabled(choice.can_record)
        self.real_time_action.setEnabled(choice.mode == "mock")
        self.choice_changed.emit()

    def record(self) -> bool:
        return self.record_action.isChecked() and self.current_choice().can_record

    def set_running(self, running: bool) -> None:
        self.run_action.setEnabled(not running)
        self.emit_action.setEnabled(not running)
        self.tests_action.setEnabled(not running)
        self.stop_action.setEnabled(running)
        self.env_combo.setEnabled(not running)
