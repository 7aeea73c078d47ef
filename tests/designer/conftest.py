"""Designer test fixtures: Qt offscreen, a small document, and a shown canvas view."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

from engine import CallStep, NotifyStep, WaitStep, Workflow  # noqa: E402


def small_workflow() -> Workflow:
    """fetch -> check -> report, plus a pause that starts at once; positions laid out."""
    return Workflow(
        name="sample",
        steps=[
            CallStep(id="fetch", service="PolicyService", action="getPolicy"),
            CallStep(
                id="check",
                after=["fetch"],
                service="ComplianceService",
                action="runCheck",
                with_={"v": "${ steps.fetch.output.version }"},
            ),
            NotifyStep(
                id="report", after=["check"], message="status ${ steps.check.output.status }"
            ),
            WaitStep(id="pause", after=[], wait=5000),
        ],
        layout={"fetch": (0, 0), "check": (240, 0), "report": (480, 0), "pause": (0, 160)},
    )


@pytest.fixture(autouse=True)
def _release_clipboard():
    """Leave no copied steps on the clipboard: Qt 6.11 segfaults at exit if any remain."""
    yield
    from designer.document.clipboard import release_clipboard

    release_clipboard()


@pytest.fixture
def document(qapp):  # noqa: ARG001 - the document is a QObject and needs the app
    from designer.document.workflow_document import WorkflowDocument

    doc = WorkflowDocument(small_workflow())
    yield doc
    doc.deleteLater()


@pytest.fixture
def view(qtbot, document):
    from designer.canvas.view import CanvasView

    v = CanvasView(document)
    v.resize(1000, 600)
    qtbot.addWidget(v)
    v.show()
    qtbot.waitExposed(v)
    v.reset_zoom()
    v.centerOn(360, 80)
    return v
