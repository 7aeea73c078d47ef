"""Run from here / run this step: the steps before the chosen one are pinned to the last run's
results (they finish at once with those outputs, sending nothing), as Step Functions' "test
state" and n8n's pinned data do.

*Run From Here* runs the chosen step and everything after it; *Run This Step* runs it alone
(the steps after it are disabled in the snapshot sent to the engine). Both need a last run of
this workflow in which every step before the chosen one finished.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QAction, QKeySequence

from engine import RunRecord, Workflow, after_map, comes_before

if TYPE_CHECKING:
    from designer.run.ui import RunUI

__all__ = ["add_run_from_actions", "pins_before", "run_from_step"]

_FINISHED = ("succeeded", "failed", "skipped")


def pins_before(
    workflow: Workflow, step_id: str, record: RunRecord | None
) -> tuple[dict[str, dict[str, Any]], str | None]:
    """The pinned results of every step that comes before `step_id`, or why there are none."""
    if record is None:
        return {}, "run the workflow once first: the steps before it replay that run's results"
    after = after_map(workflow)
    pinned: dict[str, dict[str, Any]] = {}
    for s in workflow.steps:
        if s.id == step_id or not comes_before(after, s.id, step_id):
            continue
        view = record.steps.get(s.id)
        if view is None or view.state not in _FINISHED:
            return {}, (
                f"step '{s.id}' has no result in the shown run ({record.run_id}): run the "
                "whole workflow once, then run from here"
            )
        pinned[s.id] = {
            "status": view.state,
            "output": view.output,
            "error": view.error,
            "attempts": view.attempts,
        }
    return pinned, None


def run_from_step(ui: RunUI, step_id: str, only: bool = False) -> str | None:
    """Run from `step_id` (alone with `only`) with the steps before it pinned; the run id, or
    None with the reason in the status bar and the log."""
    workflow = ui.document.workflow
    if workflow.find(step_id) is None:
        return None
    record = ui.shown_record()
    if record is not None and record.workflow != workflow.name:
        record = None
    if record is not None:
        # the session keeps the outputs of its last few runs only; the store keeps them all
        record = ui.history_store.get(record.run_id) or record
    pinned, why = pins_before(workflow, step_id, record)
    if why is not None:
        ui._message("warning", f"Cannot run from '{step_id}': {why}.")
        return None
    if not ui._can_start():
        return None
    value, problem = ui.input_editor.value()
    if problem is not None:
        ui._message("error", f"Cannot run: the run input does not fit: {problem}.")
        return None
    spec = ui._spec(value if record is None or record.input is None else record.input)
    if only:
        snapshot = copy.deepcopy(workflow)
        for s in snapshot.steps:
            if s.id != step_id and s.id not in pinned:
                s.disabled = True
        spec.workflow = snapshot
    spec.pinned = pinned
    return ui.controller.start_run(spec)


def add_run_from_actions(ui: RunUI) -> tuple[QAction, QAction]:
    """Run → Run From Selected Step (F6) and Run Selected Step Only (Shift+F6)."""
    window = ui.window
    from_here = QAction("Run From Selected Step", window)
    from_here.setShortcut(QKeySequence("F6"))
    from_here.setStatusTip(
        "Run the selected step and what follows; the steps before it replay the shown run"
    )
    only = QAction("Run Selected Step Only", window)
    only.setShortcut(QKeySequence("Shift+F6"))
    only.setStatusTip("Run only the selected step, with its inputs from the shown run")

    def chosen() -> str | None:
        ids = ui.view.selected_ids()
        return ids[0] if len(ids) == 1 else None

    def enable(ids: list[str]) -> None:
        for action in (from_here, only):
            action.setEnabled(len(ids) == 1)

    from_here.triggered.connect(lambda _c=False: (sid := chosen()) and run_from_step(ui, sid))
    only.triggered.connect(lambda _c=False: (sid := chosen()) and run_from_step(ui, sid, True))
    ui.view.selection_changed.connect(enable)
    enable(ui.view.selected_ids())
    menu = ui.menu
    first = menu.actions()[2] if len(menu.actions()) > 2 else None
    menu.insertActions(first, [from_here, only])
    for action in (from_here, only):
        window.addAction(action)
    ui.run_from_actions = (from_here, only)  # type: ignore[attr-defined]
    return from_here, only
