"""The inspector dock: a form for the selected step, or for the workflow's own settings."""

from __future__ import annotations

from designer.inspector.dock import InspectorWidget
from designer.inspector.step_form import StepForm
from designer.inspector.workflow_form import WorkflowForm

__all__ = ["InspectorWidget", "StepForm", "WorkflowForm"]
