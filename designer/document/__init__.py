"""The open workflow: the observable model, its undo commands, the document and the clipboard."""

from __future__ import annotations

from designer.document.workflow_document import WorkflowDocument

__all__ = ["WorkflowDocument"]
