"""The inspector dock: the selected step's form, or the workflow's settings when none is."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from designer.inspector.step_form import StepForm
from designer.inspector.workflow_form import WorkflowForm
from engine import RunRecord, step_kind

if TYPE_CHECKING:
    from designer.document import WorkflowDocument

__all__ = ["InspectorWidget"]


class InspectorWidget(QScrollArea):
    """Follows the canvas selection and the model's signals; edits go to the document."""

    def __init__(self, document: WorkflowDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.document = document
        self.form: StepForm | WorkflowForm | QWidget | None = None
        # the run the expression editor previews against (the window sets it)
        self.run_record: Callable[[], RunRecord | None] | None = None
        self._selection: list[str] = []
        model = document.model
        model.reset.connect(lambda: self.show_selection([]))
        model.step_changed.connect(self._step_changed)
        model.step_renamed.connect(self._step_renamed)
        model.step_added.connect(self._steps_changed)
        model.step_removed.connect(self._step_removed)
        model.workflow_changed.connect(self._workflow_changed)
        self.show_selection([])

    @property
    def step_form(self) -> StepForm | None:
        return self.form if isinstance(self.form, StepForm) else None

    @property
    def workflow_form(self) -> WorkflowForm | None:
        return self.form if isinstance(self.form, WorkflowForm) else None

    def show_selection(self, ids: list[str]) -> None:
        """One step: its form; none: the workflow's settings; several: a note."""
        ids = [i for i in ids if self.document.workflow.find(i) is not None]
        self._selection = list(ids)
        if len(ids) == 1:
            form = self.step_form
            if (
                form is not None
                and form.step_id == ids[0]
                and form.kind == _kind_of(self.document, ids[0])
            ):
                form.load()
                return
            self._set_form(StepForm(self.document, ids[0]))
        elif not ids:
            if self.workflow_form is not None:
                self.workflow_form.load()
                return
            self._set_form(WorkflowForm(self.document))
        else:
            note = QWidget()
            layout = QVBoxLayout(note)
            label = QLabel(
                f"{len(ids)} steps selected.\nSelect one step to edit it, or click "
                "the empty canvas to edit the workflow's settings."
            )
            label.setWordWrap(True)
            label.setObjectName("hint")
            layout.addWidget(label)
            layout.addStretch(1)
            self._set_form(note)

    def _set_form(self, widget: QWidget) -> None:
        if isinstance(widget, (StepForm, WorkflowForm)):
            widget.run_record = lambda: self.run_record() if self.run_record else None
        old = self.takeWidget()
        if old is not None:
            old.deleteLater()
        self.form = widget
        self.setWidget(widget)

    # model signals --------------------------------------------------------------------------
    def _step_changed(self, step_id: str) -> None:
        form = self.step_form
        if form is None:
            return
        if form.step_id == step_id:
            form.load()
        else:
            form.load_after()  # another step's edges may name this one

    def _step_renamed(self, old: str, new: str) -> None:
        self._selection = [new if s == old else s for s in self._selection]
        form = self.step_form
        if form is None:
            return
        if form.step_id == old:
            form.step_id = new
        form.load()

    def _steps_changed(self, _step_id: str) -> None:
        form = self.step_form
        if form is not None and self.document.workflow.find(form.step_id) is not None:
            form.load()

    def _step_removed(self, step_id: str) -> None:
        form = self.step_form
        if form is not None and form.step_id == step_id:
            self.show_selection([])
        else:
            self._steps_changed(step_id)

    def _workflow_changed(self) -> None:
        if self.workflow_form is not None:
            self.workflow_form.load()


def _kind_of(document: WorkflowDocument, step_id: str) -> str:
    return step_kind(document.workflow.step(step_id))
